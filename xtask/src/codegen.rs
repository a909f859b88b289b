//! `cargo xtask generate`: spec → overlay → 3.0 → generator view → progenitor → files.
//!
//! The vendor document and the overlay are turned into a normalized OpenAPI 3.0
//! document by `linkt-spec` (shared with the conformance suite). This module
//! owns only what is specific to code generation:
//!
//! * the *generator view* ([`generator_view`]): the few rewrites that adapt the
//!   normalized document to progenitor's reach, each documented below and in
//!   `ARCHITECTURE.md`;
//! * progenitor's settings ([`settings`]);
//! * the rewrites of the client's request path ([`request_path`]) and of its
//!   `send` methods ([`send_call`]);
//! * rendering, the do-not-edit header, and the freshness check;
//! * the copies of the vendor document and the overlay that `linkt-mock`
//!   embeds (`crates/linkt-mock/spec/`), so its package holds the document it
//!   serves; `spec/` stays the one source, and `--check` fails on a stale copy.

use std::fmt::Write as _;
use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value, json};

use crate::{open_types, request_path, send_call};

/// Whether `generate` writes files or only compares them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Write the generated files.
    Write,
    /// Write nothing; fail when a committed file differs from what would be generated.
    Check,
}

/// What a generation run produced.
#[derive(Debug)]
pub(crate) struct Report {
    /// Files that differ from what is committed (written in `Write` mode).
    pub(crate) changed: Vec<PathBuf>,
    /// Operations in the generated client.
    pub(crate) operations: usize,
    /// Wall time of the whole pipeline.
    pub(crate) elapsed: Duration,
}

const SPEC: &str = "spec/linkt-v1.openapi.json";
const OVERLAY: &str = "spec/overlay.yaml";
const CLIENT_OUT: &str = "crates/linkt/src/generated.rs";
const HTTPMOCK_OUT: &str = "crates/linkt-httpmock/src/generated.rs";
const CLI_OUT: &str = "crates/linkt-cli/src/generated.rs";
/// The vendor document as `linkt-mock` embeds and serves it, byte for byte.
const MOCK_SPEC_OUT: &str = "crates/linkt-mock/spec/linkt-v1.openapi.json";
/// The overlay `linkt-mock` applies to it.
const MOCK_OVERLAY_OUT: &str = "crates/linkt-mock/spec/overlay.yaml";

/// The workspace root (the parent of this crate's directory).
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Where the pipeline reads from and writes to.
#[derive(Debug, Clone)]
pub(crate) struct Inputs {
    /// The vendor document.
    pub(crate) spec: PathBuf,
    /// The overlay applied to it.
    pub(crate) overlay: PathBuf,
    /// The directory the generated files' paths are relative to.
    pub(crate) out_root: PathBuf,
}

impl Inputs {
    /// `spec/` and the crates of this workspace.
    pub(crate) fn workspace() -> Self {
        let root = workspace_root();
        Self {
            spec: root.join(SPEC),
            overlay: root.join(OVERLAY),
            out_root: root,
        }
    }
}

/// Runs the whole pipeline on this workspace and writes or checks the generated files.
pub(crate) fn generate(mode: Mode) -> Result<Report> {
    generate_with(&Inputs::workspace(), mode)
}

/// Runs the whole pipeline and writes or checks the generated files.
pub(crate) fn generate_with(inputs: &Inputs, mode: Mode) -> Result<Report> {
    let root = &inputs.out_root;
    let started = Instant::now();
    let outputs = render_all(inputs)?;

    let mut changed = Vec::new();
    for (rel, contents) in &outputs.files {
        let path = root.join(rel);
        let current = fs::read_to_string(&path).unwrap_or_default();
        if current == *contents {
            continue;
        }
        changed.push(PathBuf::from(rel));
        match mode {
            Mode::Write => {
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent)
                        .with_context(|| format!("creating {rel}'s directory"))?;
                }
                fs::write(&path, contents).with_context(|| format!("writing {rel}"))?;
            }
            Mode::Check => eprint!("{}", short_diff(rel, &current, contents)),
        }
    }
    let report = Report {
        changed,
        operations: outputs.operations,
        elapsed: started.elapsed(),
    };

    match mode {
        Mode::Write => eprintln!(
            "generated {} operations in {:.2?}; {} file(s) updated{}",
            report.operations,
            report.elapsed,
            report.changed.len(),
            list(&report.changed),
        ),
        Mode::Check if report.changed.is_empty() => eprintln!(
            "generated code is fresh ({} operations, checked in {:.2?})",
            report.operations, report.elapsed
        ),
        Mode::Check => bail!(
            "generated code is stale:{}\nrun `cargo xtask generate` locally and commit the updated files",
            list(&report.changed)
        ),
    }
    Ok(report)
}

/// Writes the normalized OpenAPI 3.0 document (spec + overlay + normalization).
pub(crate) fn normalize(out: Option<PathBuf>) -> Result<()> {
    let root = workspace_root();
    let prepared = linkt_spec::prepare(&root.join(SPEC), Some(&root.join(OVERLAY)))
        .context("preparing the spec")?;
    let mut text = serde_json::to_string_pretty(&prepared.document)?;
    text.push('\n');
    match out {
        Some(path) => {
            fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        None => {
            use std::io::Write as _;
            std::io::stdout().write_all(text.as_bytes())?;
        }
    }
    Ok(())
}

struct Outputs {
    files: Vec<(&'static str, String)>,
    operations: usize,
}

fn render_all(inputs: &Inputs) -> Result<Outputs> {
    let prepared =
        linkt_spec::prepare(&inputs.spec, Some(&inputs.overlay)).context("preparing the spec")?;
    let view = generator_view(prepared.document)?;
    let unions = open_types::discriminated_unions(&view.document)?;
    let openapi = linkt_spec::to_openapiv3(&any_success(view.document.clone())?)
        .context("reading the generator view as OpenAPI 3.0")?;

    let header = format!(
        "// @generated by `cargo xtask generate`; do not edit by hand.\n\
         // spec:    {SPEC} sha256:{}\n\
         // overlay: {OVERLAY} sha256:{}\n\n",
        prepared.spec_sha256,
        prepared.overlay_sha256.as_deref().unwrap_or("none"),
    );

    let client = run_progenitor("client", || {
        progenitor::Generator::new(&settings()).generate_tokens(&openapi)
    })?;
    let httpmock_openapi = linkt_spec::to_openapiv3(&httpmock_view(view.document.clone()))
        .context("reading the httpmock view as OpenAPI 3.0")?;
    let httpmock = run_progenitor("httpmock", || {
        progenitor::Generator::new(&settings()).httpmock(&httpmock_openapi, "linkt")
    })?;

    let cli = run_progenitor("cli", || {
        progenitor::Generator::new(&settings()).cli(&openapi, "linkt")
    })?;

    let mut client = parse(client)?;
    let rewrites =
        request_path::rewrite(&mut client).context("rewriting the client's request path")?;
    let path_parameters: usize = view
        .operations
        .iter()
        .map(|op| op.path.matches('{').count())
        .sum();
    let calls = send_call::rewrite(&mut client).context("rewriting the client's `send` methods")?;
    open_types::rewrite(&mut client, &unions).context("opening the generated types")?;
    if calls.sends != view.operations.len() {
        bail!(
            "the `send` rewrite saw {} `send` methods; the spec has {} operations",
            calls.sends,
            view.operations.len()
        );
    }
    if rewrites.sends != view.operations.len() || rewrites.path_segments != path_parameters {
        bail!(
            "the request-path rewrite saw {} `send` methods and {} path parameters; \
             the spec has {} operations and {path_parameters} path parameters",
            rewrites.sends,
            rewrites.path_segments,
            view.operations.len()
        );
    }
    let client_src = format!(
        "{header}{}\n{}",
        unparse(&client),
        operations_table(&view.operations)
    );
    let httpmock_src = format!("{header}{}", unparse(&parse(httpmock)?));
    let cli_src = format!("{header}{}", cli_fixups(&unparse(&parse(cli)?))?);
    let read = |path: &Path| {
        fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
    };
    Ok(Outputs {
        files: vec![
            (CLIENT_OUT, client_src),
            (HTTPMOCK_OUT, httpmock_src),
            (CLI_OUT, cli_src),
            (MOCK_SPEC_OUT, read(&inputs.spec)?),
            (MOCK_OVERLAY_OUT, read(&inputs.overlay)?),
        ],
        operations: view.operations.len(),
    })
}

/// progenitor's settings for this workspace.
///
/// * Builder interface (`client.icp_list().page(2).send()`), one flat `Client`.
/// * An inner type, `crate::ClientState`, holding the configuration the hooks need.
/// * Hooks are *expected*: `crates/linkt` must implement `ClientHooks` (retries,
///   rate limiting, tracing, error capture); forgetting it is a compile error.
/// * `PartialEq` on every type, so decoded values can be compared in tests, and
///   `schemars::JsonSchema`, so the conformance suite can compare every type's
///   schema with the spec (and progenitor's CLI can describe bodies).
/// * Maps are `BTreeMap`s: serialized bodies have a stable key order.
fn settings() -> progenitor::GenerationSettings {
    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        .with_inner_type("crate::ClientState".parse().expect("valid tokens"))
        .with_hooks(progenitor::HooksMode::Expected)
        .with_derive("PartialEq")
        .with_derive("schemars::JsonSchema")
        .with_map_type("::std::collections::BTreeMap");
    settings
}

/// Runs a progenitor entry point, turning its errors *and panics* (progenitor
/// uses `todo!` for constructs it does not support) into errors.
fn run_progenitor<F>(what: &str, f: F) -> Result<proc_macro2::TokenStream>
where
    F: FnOnce() -> Result<proc_macro2::TokenStream, progenitor::Error>,
{
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(previous);
    match result {
        Ok(Ok(tokens)) => Ok(tokens),
        Ok(Err(err)) => Err(anyhow::Error::new(err).context(format!("progenitor ({what})"))),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("unknown panic");
            bail!("progenitor ({what}) cannot handle the document: {msg}")
        }
    }
}

fn parse(tokens: proc_macro2::TokenStream) -> Result<syn::File> {
    syn::parse2(tokens).context("progenitor produced tokens that do not parse")
}

/// Formats generated code with prettyplease (stable, deterministic).
///
/// progenitor documents each builder with an `ignore` code block sketching its
/// use; those sketches are not compilable, so they are rendered as `text`
/// blocks rather than counted as ignored doctests.
fn unparse(file: &syn::File) -> String {
    prettyplease::unparse(file).replace("```ignore\n", "```text\n")
}

/// Makes progenitor's CLI compile against this client; fails if progenitor's
/// output no longer has the shape these fixes expect.
///
/// * `linkt::Error` (one error type for every call) shadows the generic
///   `progenitor_client::Error<T>` that the `CliConfig` trait names, so the
///   CLI imports the latter explicitly (an explicit import beats the glob).
/// * progenitor's CLI has no parser for array query parameters
///   (`value_parser!(Vec<String>)` does not compile); they take a
///   comma-separated list instead.
/// * Enum arguments are open, like the enums: progenitor's
///   `PossibleValuesParser` becomes `crate::values::OpenValuesParser`, which
///   lists the known values in help but takes any value.
fn cli_fixups(src: &str) -> Result<String> {
    const POSSIBLE_VALUES: &str = "::clap::builder::PossibleValuesParser::new(";
    const OPEN_VALUES: &str = "crate::values::OpenValuesParser::new(";
    const GLOB: &str = "use linkt::*;\n";
    const ARRAY_PARSER: &str = "::clap::value_parser!(::std::vec::Vec < ::std::string::String >)";
    const COMMA_LIST: &str = "|s: &str| -> ::std::result::Result<::std::vec::Vec<::std::string::String>, ::std::convert::Infallible> { \
         Ok(s.split(',').map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned).collect()) }";
    if src.matches(GLOB).count() != 1 {
        bail!("progenitor's CLI no longer starts with `{}`", GLOB.trim());
    }
    if !src.contains(POSSIBLE_VALUES) {
        bail!("progenitor's CLI no longer parses enum arguments with `{POSSIBLE_VALUES}..)`");
    }
    // The client's `send` returns `linkt::Error`: the config's error hooks
    // take it, and `error` needs no type parameter to name progenitor's.
    const ERROR_HOOK: &str = "fn error<T>(&self, value: &Error<T>)\n    where\n        \
         T: schemars::JsonSchema + serde::Serialize + std::fmt::Debug;";
    const LIST_ERROR_HOOK: &str = "fn list_end_error<T>(&self, value: &Error<T>)";
    for hook in [ERROR_HOOK, LIST_ERROR_HOOK] {
        if src.matches(hook).count() != 1 {
            bail!("progenitor's CLI no longer declares `{hook}` once");
        }
    }
    Ok(src
        .replace(ARRAY_PARSER, COMMA_LIST)
        .replace(POSSIBLE_VALUES, OPEN_VALUES)
        .replace(ERROR_HOOK, "fn error(&self, value: &linkt::Error);")
        .replace(
            LIST_ERROR_HOOK,
            "fn list_end_error<T>(&self, value: &linkt::Error)",
        ))
}

/// One operation as the generated client names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OperationEntry {
    /// Method name in the client (`icp_create`); the overlay's `x-linkt-name`.
    pub(crate) name: String,
    /// The vendor's operationId (`create_icp_v1_icp_post`).
    pub(crate) vendor_id: String,
    /// Upper-case HTTP method.
    pub(crate) method: String,
    /// Path template (`/v1/icp/{icp_id}`).
    pub(crate) path: String,
    /// For multipart uploads: the name of the single file part.
    pub(crate) multipart_field: Option<String>,
}

/// The normalized document as handed to progenitor, plus what was learnt on the way.
#[derive(Debug)]
pub(crate) struct GeneratorView {
    pub(crate) document: Value,
    pub(crate) operations: Vec<OperationEntry>,
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Adapts the normalized document to progenitor. Three rewrites, all per operation:
///
/// 1. **Names.** `operationId` becomes the overlay's `x-linkt-name` (the
///    resource-style method name); the vendor's id is kept in the operations
///    table. An operation without a name keeps the vendor id and is reported.
/// 2. **Error responses are left to `linkt-error`.** Non-2xx responses are
///    removed from the view so that every failure reaches the client's one
///    error type through the same path (status, FastAPI body, request id,
///    attempts), instead of a typed body for 422 only.
/// 3. **Discriminators are required in their variants** (see
///    `linkt_spec::require_discriminators`), so a tag is never left out of a
///    request.
/// 4. **One-value enums lose a `default` equal to their value.** A 3.1 `const`
///    with a `default` (how pydantic writes a discriminator's tag) normalizes to
///    `enum: [v]` + `default: v`, which typify rejects; the default says nothing
///    the enum does not.
/// 5. **Titles below component level are removed.** typify names inline types
///    after their `title`, and pydantic titles every property after its field
///    name, so unrelated inline enums with one title (`Status`, `Type`) would
///    collapse into one Rust type. Without titles, inline types are named after
///    their parent and field (`UpdateScheduleRequestStatus`).
/// 6. **Multipart uploads.** progenitor cannot emit `multipart/form-data`. A
///    body with exactly one binary property becomes an `application/octet-stream`
///    body and the property name is recorded; the client's `pre` hook wraps the
///    bytes into the multipart part of that name. Any other multipart shape is an
///    error.
pub(crate) fn generator_view(mut document: Value) -> Result<GeneratorView> {
    linkt_spec::require_discriminators(&mut document)?;
    drop_redundant_enum_defaults(&mut document);
    drop_nested_titles(&mut document);
    let mut operations = Vec::new();
    let mut unnamed = Vec::new();
    let schemas = document
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or(Value::Null);

    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        bail!("the document has no `paths`");
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for method in METHODS {
            let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) else {
                continue;
            };
            let pointer = format!("/paths/{}/{method}", escape_pointer(path));
            let vendor_id = op
                .get("operationId")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .with_context(|| format!("operation at {pointer} has no operationId"))?;
            let name = match op.get("x-linkt-name").and_then(Value::as_str) {
                Some(name) => name.to_owned(),
                None => {
                    unnamed.push(vendor_id.clone());
                    vendor_id.clone()
                }
            };
            op.insert("operationId".into(), Value::String(name.clone()));

            if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
                responses.retain(|status, _| status.starts_with('2'));
            }
            let multipart_field = rewrite_multipart(op, &schemas, &pointer)?;
            operations.push(OperationEntry {
                name,
                vendor_id,
                method: method.to_uppercase(),
                path: path.clone(),
                multipart_field,
            });
        }
    }

    let mut seen = std::collections::BTreeSet::new();
    for op in &operations {
        if !seen.insert(op.name.as_str()) {
            bail!(
                "two operations are named `{}` (check x-linkt-name in {OVERLAY})",
                op.name
            );
        }
    }
    if !unnamed.is_empty() {
        eprintln!(
            "warning: {} operation(s) have no x-linkt-name in {OVERLAY} and keep the vendor id: {}",
            unnamed.len(),
            unnamed.join(", ")
        );
    }
    operations.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(GeneratorView {
        document,
        operations,
    })
}

/// The generator view for the httpmock helpers: array-valued query parameters
/// match one value (progenitor's httpmock generator cannot render a list as
/// one query value). `icp_id("a")` matches `?icp_id=a&icp_id=b`; match the full
/// list through `into_inner()`.
pub(crate) fn httpmock_view(mut document: Value) -> Value {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return document;
    };
    let operations = paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut());
    for op in operations {
        let Some(parameters) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
            continue;
        };
        for parameter in parameters {
            if parameter.get("in").and_then(Value::as_str) != Some("query") {
                continue;
            }
            if let Some(schema) = parameter.get_mut("schema")
                && schema.get("type").and_then(Value::as_str) == Some("array")
            {
                let items = schema.get("items").cloned().unwrap_or(json!({}));
                let nullable = schema.get("nullable").cloned();
                *schema = items;
                if let (Some(nullable), Some(map)) = (nullable, schema.as_object_mut()) {
                    map.insert("nullable".into(), nullable);
                }
            }
        }
    }
    document
}

/// The client's view of success: any 2xx.
///
/// FastAPI documents one success status per operation (`200`, or `204` for
/// a route without a body), but servers answer a create with `201` or a
/// delete with `200` and a body as they evolve, and the vendor's SDKs accept
/// any 2xx. Each operation's one success response is keyed `2XX`, so the
/// generated `send` decodes the documented body (or ignores the body, where
/// none is documented) for every 2xx status. Only the client and the CLI
/// are generated from this view; the httpmock helpers keep the documented
/// codes. An operation with more than one success response is an error.
fn any_success(mut document: Value) -> Result<Value> {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        bail!("the document has no `paths`");
    };
    for (path, item) in paths.iter_mut() {
        for method in METHODS {
            let Some(responses) = item
                .get_mut(method)
                .and_then(|op| op.get_mut("responses"))
                .and_then(Value::as_object_mut)
            else {
                continue;
            };
            let success: Vec<String> = responses
                .keys()
                .filter(|code| code.starts_with('2'))
                .cloned()
                .collect();
            let [code] = success.as_slice() else {
                bail!(
                    "/paths/{}/{method}: expected one success response, found {success:?}",
                    escape_pointer(path)
                );
            };
            if let Some(response) = responses.remove(code) {
                responses.insert("2XX".to_owned(), response);
            }
        }
    }
    Ok(document)
}

fn drop_redundant_enum_defaults(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let redundant = match (map.get("enum"), map.get("default")) {
                (Some(Value::Array(values)), Some(default)) => {
                    values.len() == 1 && values[0] == *default
                }
                _ => false,
            };
            if redundant {
                map.remove("default");
            }
            map.values_mut().for_each(drop_redundant_enum_defaults);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_redundant_enum_defaults),
        _ => {}
    }
}

fn drop_nested_titles(document: &mut Value) {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                // A `title` *property* of an object schema is data, not a keyword.
                if map.get("title").is_some_and(|t| !t.is_object()) {
                    map.remove("title");
                }
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    if let Some(paths) = document.get_mut("paths") {
        strip(paths);
    }
    if let Some(Value::Object(schemas)) = document.pointer_mut("/components/schemas") {
        for schema in schemas.values_mut() {
            if let Value::Object(map) = schema {
                map.iter_mut()
                    .filter(|(key, _)| key.as_str() != "title")
                    .for_each(|(_, value)| strip(value));
            }
        }
    }
}

fn rewrite_multipart(
    op: &mut Map<String, Value>,
    schemas: &Value,
    pointer: &str,
) -> Result<Option<String>> {
    let Some(content) = op
        .get_mut("requestBody")
        .and_then(|b| b.get_mut("content"))
        .and_then(Value::as_object_mut)
    else {
        return Ok(None);
    };
    let Some(media) = content.get("multipart/form-data") else {
        return Ok(None);
    };
    let pointer = format!("{pointer}/requestBody/content/multipart~1form-data");
    if content.len() != 1 {
        bail!("{pointer}: multipart bodies must be the only media type of the request");
    }
    let mut schema = media.get("schema").cloned().unwrap_or(Value::Null);
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        let name = target.trim_start_matches("#/components/schemas/");
        schema = schemas.get(name).cloned().unwrap_or(Value::Null);
    }
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .with_context(|| format!("{pointer}: multipart schema has no properties"))?;
    let [(field, part)] = properties.iter().collect::<Vec<_>>()[..] else {
        bail!(
            "{pointer}: only single-part multipart bodies are supported, found {} parts",
            properties.len()
        );
    };
    if part.get("format").and_then(Value::as_str) != Some("binary") {
        bail!("{pointer}: the multipart part `{field}` is not a binary string");
    }
    let field = field.clone();
    content.clear();
    content.insert(
        "application/octet-stream".into(),
        json!({ "schema": { "type": "string", "format": "binary" } }),
    );
    Ok(Some(field))
}

fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Renders the operations table appended to the generated client.
fn operations_table(operations: &[OperationEntry]) -> String {
    let mut out = String::from(
        "/// Every operation of the client, sorted by method name: the generated\n\
         /// counterpart of `spec/` that the hooks and tests look operations up in.\n\
         pub const OPERATIONS: &[crate::Operation] = &[\n",
    );
    for op in operations {
        let multipart = match &op.multipart_field {
            Some(field) => format!("Some({field:?})"),
            None => "None".to_owned(),
        };
        let _ = writeln!(
            out,
            "    crate::Operation {{\n        name: {:?},\n        vendor_id: {:?},\n        method: {:?},\n        path: {:?},\n        multipart_field: {multipart},\n    }},",
            op.name, op.vendor_id, op.method, op.path
        );
    }
    out.push_str("];\n");
    out
}

fn list(paths: &[PathBuf]) -> String {
    paths.iter().fold(String::new(), |mut s, p| {
        let _ = write!(s, "\n  {}", p.display());
        s
    })
}

/// A unified diff of at most a few hunks, enough to see what drifted.
fn short_diff(name: &str, old: &str, new: &str) -> String {
    const MAX_LINES: usize = 40;
    let diff = similar::TextDiff::from_lines(old, new);
    let text = diff
        .unified_diff()
        .context_radius(2)
        .header(
            &format!("{name} (committed)"),
            &format!("{name} (generated)"),
        )
        .to_string();
    let mut lines: Vec<&str> = text.lines().collect();
    let total = lines.len();
    lines.truncate(MAX_LINES);
    let mut out = format!("stale: {name}\n{}\n", lines.join("\n"));
    if total > MAX_LINES {
        let _ = writeln!(out, "... ({} more diff lines)", total - MAX_LINES);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo test` catches drift between spec/ and the committed client.
    #[test]
    fn generated_code_is_fresh() {
        let report = generate(Mode::Check).expect("run `cargo xtask generate` and commit");
        assert!(report.changed.is_empty());
    }

    /// A scratch directory under the target directory, emptied first.
    fn scratch(name: &str) -> PathBuf {
        let dir = workspace_root().join("target/xtask-tests").join(name);
        let _ = fs::remove_dir_all(&dir);
        for out in [CLIENT_OUT, HTTPMOCK_OUT, CLI_OUT] {
            let parent = dir.join(out);
            fs::create_dir_all(parent.parent().expect("parent")).expect("scratch dir");
        }
        dir
    }

    /// Changing one field in the spec makes `--check` fail naming the client
    /// and the mock's copy of the document;
    /// regenerating makes it pass again.
    #[test]
    fn a_changed_spec_field_is_reported_stale_until_regenerated() {
        let scratch = scratch("drift");
        let mut spec: Value =
            serde_json::from_str(&fs::read_to_string(workspace_root().join(SPEC)).expect("spec"))
                .expect("json");
        let props = spec
            .pointer_mut("/components/schemas/IcpResponse/properties")
            .and_then(Value::as_object_mut)
            .expect("IcpResponse properties");
        let name = props.remove("name").expect("name");
        props.insert("display_name".into(), name);
        let spec_path = scratch.join("spec.json");
        fs::write(&spec_path, serde_json::to_vec(&spec).expect("json")).expect("write");

        let inputs = Inputs {
            spec: spec_path,
            overlay: workspace_root().join(OVERLAY),
            out_root: workspace_root(),
        };
        let err = generate_with(&inputs, Mode::Check)
            .expect_err("stale")
            .to_string();
        assert!(err.contains(CLIENT_OUT), "{err}");
        assert!(err.contains(MOCK_SPEC_OUT), "{err}");
        assert!(!err.contains(MOCK_OVERLAY_OUT), "{err}");
        assert!(err.contains("run `cargo xtask generate`"), "{err}");

        let regenerated = Inputs {
            out_root: scratch.clone(),
            ..inputs
        };
        let written = generate_with(&regenerated, Mode::Write).expect("write");
        assert!(written.changed.contains(&PathBuf::from(CLIENT_OUT)));
        let client = fs::read_to_string(scratch.join(CLIENT_OUT)).expect("client");
        assert!(
            client.contains("pub display_name:"),
            "the renamed field is generated"
        );
        let copy = fs::read(scratch.join(MOCK_SPEC_OUT)).expect("the mock's copy");
        assert_eq!(copy, fs::read(&regenerated.spec).expect("spec"));
        let checked = generate_with(&regenerated, Mode::Check).expect("fresh after regenerating");
        assert!(checked.changed.is_empty());
    }

    #[test]
    fn generated_files_start_with_the_do_not_edit_line_and_hashes() {
        let spec_hash =
            linkt_spec::sha256_hex(&fs::read(workspace_root().join(SPEC)).expect("spec"));
        for out in [CLIENT_OUT, HTTPMOCK_OUT, CLI_OUT] {
            let text = fs::read_to_string(workspace_root().join(out)).expect("generated");
            let mut lines = text.lines();
            assert_eq!(
                lines.next(),
                Some("// @generated by `cargo xtask generate`; do not edit by hand."),
                "{out}"
            );
            assert_eq!(
                lines.next().map(str::to_owned),
                Some(format!("// spec:    {SPEC} sha256:{spec_hash}")),
                "{out}"
            );
        }
    }

    #[test]
    fn multipart_with_one_binary_part_becomes_octet_stream() {
        let doc = json!({
            "openapi": "3.0.3",
            "paths": { "/v1/files/upload": { "post": {
                "operationId": "upload_file_v1_files_upload_post",
                "x-linkt-name": "files_upload",
                "requestBody": { "content": { "multipart/form-data": {
                    "schema": { "$ref": "#/components/schemas/Body" } } } },
                "responses": { "200": { "description": "ok" }, "422": { "description": "bad" } }
            } } },
            "components": { "schemas": { "Body": {
                "type": "object", "required": ["file"],
                "properties": { "file": { "type": "string", "format": "binary" } } } } }
        });
        let view = generator_view(doc).expect("view");
        let op = &view.document["paths"]["/v1/files/upload"]["post"];
        assert_eq!(op["operationId"], "files_upload");
        assert_eq!(
            op["requestBody"]["content"]["application/octet-stream"]["schema"]["format"],
            "binary"
        );
        assert!(op["responses"].get("422").is_none());
        assert_eq!(view.operations[0].multipart_field.as_deref(), Some("file"));
        assert_eq!(
            view.operations[0].vendor_id,
            "upload_file_v1_files_upload_post"
        );
    }

    #[test]
    fn multipart_with_two_parts_is_an_error_naming_the_pointer() {
        let doc = json!({
            "paths": { "/up": { "post": {
                "operationId": "up",
                "requestBody": { "content": { "multipart/form-data": { "schema": {
                    "type": "object",
                    "properties": {
                        "a": { "type": "string", "format": "binary" },
                        "b": { "type": "string" } } } } } },
                "responses": {}
            } } }
        });
        let err = generator_view(doc).expect_err("two parts").to_string();
        assert!(
            err.contains("/paths/~1up/post/requestBody/content/multipart~1form-data"),
            "{err}"
        );
        assert!(err.contains("found 2 parts"), "{err}");
    }

    #[test]
    fn one_value_enums_lose_only_a_default_equal_to_their_value() {
        let mut doc = json!({
            "tag": { "type": "string", "enum": ["search"], "default": "search" },
            "mode": { "type": "string", "enum": ["a", "b"], "default": "a" },
            "odd": { "type": "string", "enum": ["x"], "default": "y" }
        });
        drop_redundant_enum_defaults(&mut doc);
        assert!(doc["tag"].get("default").is_none());
        assert_eq!(doc["mode"]["default"], "a");
        assert_eq!(doc["odd"]["default"], "y");
    }

    #[test]
    fn titles_are_kept_on_components_and_removed_below() {
        let mut doc = json!({
            "paths": { "/a": { "get": { "parameters": [
                { "name": "status", "schema": { "title": "Status", "type": "string" } } ] } } },
            "components": { "schemas": { "Thing": {
                "title": "Thing",
                "type": "object",
                "properties": {
                    "status": { "title": "Status", "type": "string", "enum": ["a"] },
                    "title": { "title": "Title", "type": "string" } } } } }
        });
        drop_nested_titles(&mut doc);
        assert_eq!(doc["components"]["schemas"]["Thing"]["title"], "Thing");
        let props = &doc["components"]["schemas"]["Thing"]["properties"];
        assert!(props["status"].get("title").is_none());
        assert!(props["title"].get("title").is_none());
        assert_eq!(
            props["title"]["type"], "string",
            "a property named title stays"
        );
        assert!(
            doc["paths"]["/a"]["get"]["parameters"][0]["schema"]
                .get("title")
                .is_none()
        );
    }

    #[test]
    fn httpmock_view_turns_query_arrays_into_their_items() {
        let doc = json!({ "paths": { "/v1/entity": { "get": { "parameters": [
            { "name": "icp_id", "in": "query",
              "schema": { "type": "array", "items": { "type": "string" }, "nullable": true } },
            { "name": "ids", "in": "path",
              "schema": { "type": "array", "items": { "type": "string" } } }
        ] } } } });
        let view = httpmock_view(doc);
        let parameters = &view["paths"]["/v1/entity"]["get"]["parameters"];
        assert_eq!(
            parameters[0]["schema"],
            json!({ "type": "string", "nullable": true })
        );
        assert_eq!(
            parameters[1]["schema"]["type"], "array",
            "only query parameters"
        );
    }

    #[test]
    fn duplicate_names_are_an_error() {
        let doc = json!({ "paths": {
            "/a": { "get": { "operationId": "a", "x-linkt-name": "same", "responses": {} } },
            "/b": { "get": { "operationId": "b", "x-linkt-name": "same", "responses": {} } }
        } });
        let err = generator_view(doc).expect_err("duplicate").to_string();
        assert!(err.contains("two operations are named `same`"), "{err}");
    }

    #[test]
    fn short_diff_names_the_file_and_is_bounded() {
        let old: String = (0..200).map(|i| format!("line {i}\n")).collect();
        let new: String = (0..200).map(|i| format!("line {}\n", i * 2)).collect();
        let diff = short_diff(CLIENT_OUT, &old, &new);
        assert!(diff.starts_with("stale: crates/linkt/src/generated.rs"));
        assert!(diff.lines().count() <= 43, "{diff}");
        assert!(diff.contains("more diff lines"));
    }
}
