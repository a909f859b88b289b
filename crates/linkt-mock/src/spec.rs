//! The Linkt OpenAPI document as the server sees it: operations, routing,
//! and a small JSON Schema validator that speaks pydantic.
//!
//! The vendor spec and the overlay are compiled into the crate and
//! normalized once per process with `linkt-spec` (the same pipeline the
//! client generator uses), so the server validates against exactly the
//! document the client was generated from. They are embedded from
//! `spec/` inside this crate, the copies of the workspace's `spec/` that
//! `cargo xtask generate` writes (and `--check` compares), so the package
//! builds from its own files.
//!
//! The validator covers what the document uses: `$ref`, `allOf`, `oneOf` /
//! `anyOf` (with discriminator mappings), `nullable`, `type`, `enum`,
//! `required`, `properties`, `additionalProperties`, `items`, `minLength`,
//! `maxLength`, `pattern`, `minimum`, `maximum`, `minItems`, `maxItems` and
//! the `date-time` and `uuid` formats. Requests are validated in pydantic's
//! lax mode (query strings are parsed into integers and booleans, and so
//! are numeric strings in bodies), responses strictly. Issues carry
//! pydantic's `loc`, `msg`, `type`, `input` and `ctx`, so a 422 built from
//! them looks like FastAPI's. References and unions are read with
//! `linkt_spec::schema` (the conformance suite's value strategies walk the
//! same schemas with it); the checks at each schema, pydantic's choice of a
//! union member and its `nullable` (which also counts `null` listed in an
//! `enum`) are the validator's own.
//!
//! What does not belong here: what an operation *does* (see the handlers).

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use linkt_spec::schema::{self, Discriminator};
use serde_json::{Map, Value, json};

/// The vendor document as published, served at `GET /openapi.json`.
pub(crate) const SPEC_TEXT: &str = include_str!("../spec/linkt-v1.openapi.json");
const OVERLAY_TEXT: &str = include_str!("../spec/overlay.yaml");

/// Why the embedded spec could not be prepared (a bug in the build, not in
/// the caller's input).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError(String);

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "preparing the embedded Linkt spec: {}", self.0)
    }
}

impl std::error::Error for SpecError {}

/// One segment of an [`Issue`]'s location.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Loc {
    /// An object key or a location name (`body`, `query`, `path`).
    Key(String),
    /// An array index.
    Index(usize),
}

impl From<&str> for Loc {
    fn from(key: &str) -> Loc {
        Loc::Key(key.to_owned())
    }
}

/// One validation problem, shaped like a pydantic error.
#[derive(Clone, Debug, PartialEq)]
pub struct Issue {
    /// Where, e.g. `["body", "entity_targets", 0, "description"]`.
    pub loc: Vec<Loc>,
    /// Human-readable message, e.g. `Field required`.
    pub msg: String,
    /// pydantic's error type, e.g. `missing`.
    pub kind: String,
    /// The offending input.
    pub input: Value,
    /// Extra context such as a limit.
    pub ctx: Option<Value>,
}

impl Issue {
    pub(crate) fn new(
        loc: &[Loc],
        kind: &str,
        msg: impl Into<String>,
        input: &Value,
        ctx: Option<Value>,
    ) -> Issue {
        Issue {
            loc: loc.to_vec(),
            msg: msg.into(),
            kind: kind.to_owned(),
            input: input.clone(),
            ctx,
        }
    }

    /// The FastAPI JSON form: `{"type", "loc", "msg", "input"[, "ctx"]}`.
    pub fn to_json(&self) -> Value {
        let loc: Vec<Value> = self
            .loc
            .iter()
            .map(|l| match l {
                Loc::Key(k) => Value::String(k.clone()),
                Loc::Index(i) => json!(i),
            })
            .collect();
        let mut out = json!({
            "type": self.kind,
            "loc": loc,
            "msg": self.msg,
            "input": self.input,
        });
        if let (Some(ctx), Some(obj)) = (&self.ctx, out.as_object_mut()) {
            obj.insert("ctx".into(), ctx.clone());
        }
        out
    }

    /// The location as a path: `body.entity_targets[0].description`.
    pub fn path(&self) -> String {
        let mut out = String::new();
        for l in &self.loc {
            match l {
                Loc::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Loc::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path();
        if path.is_empty() {
            write!(f, "{} ({})", self.msg, self.kind)
        } else {
            write!(f, "{path}: {} ({})", self.msg, self.kind)
        }
    }
}

/// Where a parameter is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ParamIn {
    Path,
    Query,
}

/// A parameter of an operation.
#[derive(Clone, Debug)]
pub(crate) struct Param {
    pub(crate) name: String,
    pub(crate) location: ParamIn,
    pub(crate) required: bool,
    pub(crate) schema: Value,
}

/// The request body of an operation.
#[derive(Clone, Debug)]
pub(crate) struct Body {
    pub(crate) required: bool,
    pub(crate) multipart: bool,
    pub(crate) schema: Value,
}

/// One operation of the document.
#[derive(Clone, Debug)]
pub(crate) struct Operation {
    /// Client method name (`x-linkt-name`).
    pub(crate) name: String,
    pub(crate) method: String,
    segments: Vec<Segment>,
    pub(crate) params: Vec<Param>,
    pub(crate) body: Option<Body>,
    /// status → (content type, schema); no content type for an empty body.
    responses: Vec<(u16, Option<String>, Value)>,
}

#[derive(Clone, Debug)]
enum Segment {
    Literal(String),
    Param(String),
}

/// Path parameters by name, as matched.
pub(crate) type PathParams = Vec<(String, String)>;

/// What [`Spec::route`] found for a method and path.
#[derive(Debug)]
pub(crate) enum Route<'a> {
    Found(&'a Operation, PathParams),
    MethodNotAllowed(Vec<String>),
    NotFound,
}

/// The normalized Linkt document and its operations.
pub struct Spec {
    document: Value,
    operations: Vec<Operation>,
    patterns: HashMap<String, regress::Regex>,
}

impl fmt::Debug for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spec")
            .field("operations", &self.operations.len())
            .finish_non_exhaustive()
    }
}

impl Spec {
    /// The embedded document, prepared once per process.
    ///
    /// # Errors
    ///
    /// [`SpecError`] if the embedded spec or overlay does not prepare,
    /// which would be a build defect.
    pub fn load() -> Result<&'static Spec, SpecError> {
        static SPEC: OnceLock<Result<Spec, SpecError>> = OnceLock::new();
        SPEC.get_or_init(Spec::prepare)
            .as_ref()
            .map_err(Clone::clone)
    }

    fn prepare() -> Result<Spec, SpecError> {
        let err = |e: linkt_spec::Error| SpecError(e.to_string());
        let mut document = linkt_spec::parse(SPEC_TEXT, linkt_spec::Format::Json).map_err(err)?;
        let overlay = linkt_spec::parse(OVERLAY_TEXT, linkt_spec::Format::Yaml).map_err(err)?;
        linkt_spec::apply_overlay(&mut document, &overlay).map_err(err)?;
        let document = linkt_spec::normalize(document).map_err(err)?;
        Spec::from_document(document)
    }

    fn from_document(document: Value) -> Result<Spec, SpecError> {
        let mut operations = Vec::new();
        let paths = document
            .get("paths")
            .and_then(Value::as_object)
            .ok_or_else(|| SpecError("no paths".into()))?;
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                let Some(name) = op.get("x-linkt-name").and_then(Value::as_str) else {
                    continue;
                };
                operations.push(Operation::parse(&document, name, method, path, op)?);
            }
        }
        let mut patterns = HashMap::new();
        collect_patterns(&document, &mut patterns)?;
        Ok(Spec {
            document,
            operations,
            patterns,
        })
    }

    /// The normalized OpenAPI 3.0.3 document.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// Client method names of every operation, in document order.
    pub fn operation_names(&self) -> Vec<&str> {
        self.operations.iter().map(|op| op.name.as_str()).collect()
    }

    pub(crate) fn route(&self, method: &str, path: &str) -> Route<'_> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut best: Option<(usize, &Operation, PathParams)> = None;
        let mut allowed = Vec::new();
        for op in &self.operations {
            let Some((literals, params)) = op.matches(&parts) else {
                continue;
            };
            if !op.method.eq_ignore_ascii_case(method) {
                allowed.push(op.method.to_ascii_uppercase());
                continue;
            }
            if best.as_ref().is_none_or(|(l, _, _)| literals > *l) {
                best = Some((literals, op, params));
            }
        }
        match best {
            Some((_, op, params)) => Route::Found(op, params),
            None if !allowed.is_empty() => {
                allowed.sort();
                allowed.dedup();
                Route::MethodNotAllowed(allowed)
            }
            None => Route::NotFound,
        }
    }

    /// Checks a response the server sent for `operation` against the
    /// document: the status must be declared (or be an error status with
    /// FastAPI's `{"detail": ...}` body), an empty-body status must have no
    /// body, a CSV body must be UTF-8 and a JSON body must match its schema.
    ///
    /// # Errors
    ///
    /// Every problem found, with the location in the body.
    pub fn check_response(
        &self,
        operation: &str,
        status: u16,
        body: &[u8],
    ) -> Result<(), Vec<Issue>> {
        let fail = |msg: String| Err(vec![Issue::new(&[], "response", msg, &Value::Null, None)]);
        let Some(op) = self.operations.iter().find(|op| op.name == operation) else {
            return fail(format!("unknown operation `{operation}`"));
        };
        let declared = op.responses.iter().find(|(s, _, _)| *s == status);
        let (content_type, schema) = match declared {
            Some((_, content_type, schema)) => (content_type.as_deref(), schema.clone()),
            None if status >= 400 => (
                Some("application/json"),
                json!({"type": "object", "required": ["detail"], "properties": {"detail": {"type": "string"}}}),
            ),
            None => return fail(format!("status {status} is not declared for `{operation}`")),
        };
        match content_type {
            None if body.is_empty() => Ok(()),
            None => fail(format!(
                "status {status} of `{operation}` must have an empty body"
            )),
            Some(ct) if ct.starts_with("text/") => match std::str::from_utf8(body) {
                Ok(_) => Ok(()),
                Err(_) => fail("text body is not UTF-8".into()),
            },
            Some(_) => {
                let mut value: Value = match serde_json::from_slice(body) {
                    Ok(v) => v,
                    Err(e) => return fail(format!("body is not JSON: {e}")),
                };
                let issues = self.check(&schema, &mut value, Mode::Response, &[]);
                if issues.is_empty() {
                    Ok(())
                } else {
                    Err(issues)
                }
            }
        }
    }

    /// The schema of `operation`'s JSON body at `status`; `None` for an
    /// undeclared status, an empty body or a text body.
    pub(crate) fn response_schema(&self, operation: &str, status: u16) -> Option<&Value> {
        let op = self.operations.iter().find(|op| op.name == operation)?;
        let (_, content_type, schema) = op.responses.iter().find(|(s, _, _)| *s == status)?;
        content_type
            .as_deref()
            .filter(|ct| !ct.starts_with("text/"))
            .map(|_| schema)
    }

    /// Checks `value` strictly against `schema` (which may `$ref` the
    /// document's components), as for a response body.
    pub fn check_value(&self, schema: &Value, value: &Value) -> Vec<Issue> {
        let mut value = value.clone();
        self.check(schema, &mut value, Mode::Response, &[])
    }

    /// Validates (and in request mode, coerces) `value` against `schema`.
    pub(crate) fn check(
        &self,
        schema: &Value,
        value: &mut Value,
        mode: Mode,
        loc: &[Loc],
    ) -> Vec<Issue> {
        let mut out = Vec::new();
        let mut loc = loc.to_vec();
        Validator { spec: self, mode }.validate(schema, value, &mut loc, &mut out, false);
        out
    }

    pub(crate) fn resolve<'a>(&'a self, reference: &str) -> Option<&'a Value> {
        schema::resolve_ref(&self.document, reference)
    }
}

fn collect_patterns(
    value: &Value,
    out: &mut HashMap<String, regress::Regex>,
) -> Result<(), SpecError> {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(p)) = map.get("pattern")
                && !out.contains_key(p)
            {
                let re =
                    regress::Regex::new(p).map_err(|e| SpecError(format!("pattern `{p}`: {e}")))?;
                out.insert(p.clone(), re);
            }
            for v in map.values() {
                collect_patterns(v, out)?;
            }
        }
        Value::Array(items) => {
            for v in items {
                collect_patterns(v, out)?;
            }
        }
        _ => {}
    }
    Ok(())
}

impl Operation {
    fn parse(
        doc: &Value,
        name: &str,
        method: &str,
        path: &str,
        op: &Value,
    ) -> Result<Operation, SpecError> {
        let deref = |v: &Value| -> Value {
            match v.get("$ref").and_then(Value::as_str) {
                Some(r) => r
                    .strip_prefix('#')
                    .and_then(|p| doc.pointer(p))
                    .cloned()
                    .unwrap_or(Value::Null),
                None => v.clone(),
            }
        };
        let mut params = Vec::new();
        for p in op
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let p = deref(p);
            let location = match p.get("in").and_then(Value::as_str) {
                Some("path") => ParamIn::Path,
                Some("query") => ParamIn::Query,
                _ => continue,
            };
            params.push(Param {
                name: p
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                location,
                required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
                schema: p.get("schema").cloned().unwrap_or(json!({})),
            });
        }
        let body = op.get("requestBody").map(deref).map(|rb| {
            let content = rb.get("content").and_then(Value::as_object);
            let (multipart, schema) = match content {
                Some(c) => match c.get("multipart/form-data") {
                    Some(m) => (true, m.get("schema").cloned().unwrap_or(json!({}))),
                    None => (
                        false,
                        c.values()
                            .next()
                            .and_then(|m| m.get("schema").cloned())
                            .unwrap_or(json!({})),
                    ),
                },
                None => (false, json!({})),
            };
            Body {
                required: rb.get("required").and_then(Value::as_bool).unwrap_or(false),
                multipart,
                schema,
            }
        });
        let mut responses = Vec::new();
        for (status, resp) in op
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let Ok(code) = status.parse::<u16>() else {
                continue;
            };
            let resp = deref(resp);
            let content = resp
                .get("content")
                .and_then(Value::as_object)
                .and_then(|c| c.iter().next());
            match content {
                Some((ct, media)) => responses.push((
                    code,
                    Some(ct.clone()),
                    media.get("schema").cloned().unwrap_or(json!({})),
                )),
                None => responses.push((code, None, Value::Null)),
            }
        }
        let segments = path
            .trim_start_matches('/')
            .split('/')
            .map(
                |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(p) => Segment::Param(p.to_owned()),
                    None => Segment::Literal(s.to_owned()),
                },
            )
            .collect();
        if name.is_empty() {
            return Err(SpecError(format!(
                "{method} {path} has an empty x-linkt-name"
            )));
        }
        Ok(Operation {
            name: name.to_owned(),
            method: method.to_ascii_uppercase(),
            segments,
            params,
            body,
            responses,
        })
    }

    /// Number of literal segments matched and the path parameters, if the
    /// path matches.
    fn matches(&self, parts: &[&str]) -> Option<(usize, Vec<(String, String)>)> {
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut literals = 0;
        let mut params = Vec::new();
        for (seg, part) in self.segments.iter().zip(parts) {
            match seg {
                Segment::Literal(l) if l == part => literals += 1,
                Segment::Literal(_) => return None,
                Segment::Param(_) if part.is_empty() => return None,
                Segment::Param(name) => params.push((name.clone(), percent_decode(part))),
            }
        }
        Some((literals, params))
    }
}

fn percent_decode(segment: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", segment.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| segment.to_owned())
}

/// Request (lax, coercing) or response (strict) validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Request,
    Response,
}

struct Validator<'a> {
    spec: &'a Spec,
    mode: Mode,
}

fn is_nullable(schema: &Map<String, Value>) -> bool {
    schema.get("nullable").and_then(Value::as_bool) == Some(true)
        || schema
            .get("enum")
            .and_then(Value::as_array)
            .is_some_and(|e| e.contains(&Value::Null))
}

fn is_unconstrained(schema: &Map<String, Value>) -> bool {
    [
        "type",
        "enum",
        "allOf",
        "oneOf",
        "anyOf",
        "properties",
        "$ref",
        "items",
    ]
    .iter()
    .all(|k| !schema.contains_key(*k))
}

fn number_ctx(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        json!(n as i64)
    } else {
        json!(n)
    }
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn expected_list(values: &[&Value]) -> String {
    let items: Vec<String> = values
        .iter()
        .map(|v| match v {
            Value::String(s) => format!("'{s}'"),
            other => other.to_string(),
        })
        .collect();
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

impl Validator<'_> {
    fn validate(
        &self,
        schema: &Value,
        value: &mut Value,
        loc: &mut Vec<Loc>,
        out: &mut Vec<Issue>,
        via_ref: bool,
    ) {
        let whole = schema;
        let Some(schema) = schema.as_object() else {
            return;
        };
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            match self.spec.resolve(reference) {
                Some(target) => {
                    if value.is_null() && is_nullable(schema) {
                        return;
                    }
                    self.validate(target, value, loc, out, true);
                }
                None => out.push(Issue::new(
                    loc,
                    "schema_error",
                    format!("unresolvable reference {reference}"),
                    value,
                    None,
                )),
            }
            return;
        }
        if value.is_null() && (is_nullable(schema) || is_unconstrained(schema)) {
            return;
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for sub in all {
                self.validate(sub, value, loc, out, via_ref);
            }
        }
        if let Some(variants) = schema::alternatives(whole) {
            self.union(Discriminator::of(whole), variants, value, loc, out);
            return;
        }
        let ty = schema
            .get("type")
            .and_then(Value::as_str)
            .or_else(|| schema.contains_key("properties").then_some("object"));
        let ok = match ty {
            Some("string") => self.string(schema, value, loc, out),
            Some("integer") => self.number(schema, value, loc, out, true),
            Some("number") => self.number(schema, value, loc, out, false),
            Some("boolean") => self.boolean(value, loc, out),
            Some("array") => self.array(schema, value, loc, out),
            Some("object") => self.object(schema, value, loc, out),
            _ => true,
        };
        if !ok {
            return;
        }
        if let Some(options) = schema.get("enum").and_then(Value::as_array)
            && !options.contains(value)
        {
            let shown: Vec<&Value> = options.iter().filter(|v| !v.is_null()).collect();
            let expected = expected_list(&shown);
            let kind = if via_ref { "enum" } else { "literal_error" };
            out.push(Issue::new(
                loc,
                kind,
                format!("Input should be {expected}"),
                value,
                Some(json!({"expected": expected})),
            ));
        }
    }

    fn union(
        &self,
        discriminator: Option<Discriminator<'_>>,
        variants: &[Value],
        value: &mut Value,
        loc: &mut Vec<Loc>,
        out: &mut Vec<Issue>,
    ) {
        let tag_of = |variant: &Value| -> Option<String> {
            discriminator?
                .tag_of(variant.get("$ref")?.as_str()?)
                .map(str::to_owned)
        };
        if let (Some(Discriminator { property, mapping }), Some(object)) =
            (discriminator, value.as_object())
            && let Some(tag) = object.get(property)
        {
            let target = tag
                .as_str()
                .and_then(|t| mapping.get(t).map(|m| (t.to_owned(), m.clone())));
            match target {
                Some((tag, target)) => {
                    loc.push(Loc::Key(tag));
                    self.validate(&json!({"$ref": target}), value, loc, out, false);
                    loc.pop();
                }
                None => {
                    let tags: Vec<Value> =
                        mapping.keys().map(|k| Value::String(k.clone())).collect();
                    let expected = expected_list(&tags.iter().collect::<Vec<_>>());
                    out.push(Issue::new(
                            loc,
                            "union_tag_invalid",
                            format!(
                                "Input tag '{}' found using '{property}' does not match any of the expected tags: {expected}",
                                tag.as_str().map_or_else(|| tag.to_string(), str::to_owned)
                            ),
                            value,
                            Some(json!({"discriminator": format!("'{property}'"), "tag": tag, "expected_tags": expected})),
                        ));
                }
            }
            return;
        }
        // No tag: pydantic's smart mode. Among the variants that accept the
        // value, pick the one that knows the most of its keys (first wins).
        let mut best_ok: Option<(usize, Value)> = None;
        let mut best_err: Option<(usize, Vec<Issue>, Option<String>)> = None;
        let keys: Vec<String> = value
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        for variant in variants {
            let mut candidate = value.clone();
            let mut issues = Vec::new();
            let tag = tag_of(variant);
            if let Some(tag) = &tag {
                loc.push(Loc::Key(tag.clone()));
            }
            self.validate(variant, &mut candidate, loc, &mut issues, false);
            if tag.is_some() {
                loc.pop();
            }
            if issues.is_empty() {
                let target = variant
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| self.spec.resolve(r))
                    .unwrap_or(variant);
                let known = target
                    .get("properties")
                    .and_then(Value::as_object)
                    .map_or(0, |p| keys.iter().filter(|k| p.contains_key(*k)).count());
                if best_ok.as_ref().is_none_or(|(score, _)| known > *score) {
                    best_ok = Some((known, candidate));
                }
            } else if best_err.as_ref().is_none_or(|(n, _, _)| issues.len() < *n) {
                best_err = Some((issues.len(), issues, tag));
            }
        }
        match (best_ok, best_err) {
            (Some((_, candidate)), _) => *value = candidate,
            (None, Some((_, issues, _))) => out.extend(issues),
            (None, None) => {}
        }
    }

    fn string(
        &self,
        schema: &Map<String, Value>,
        value: &mut Value,
        loc: &[Loc],
        out: &mut Vec<Issue>,
    ) -> bool {
        let Value::String(s) = value else {
            out.push(Issue::new(
                loc,
                "string_type",
                "Input should be a valid string",
                value,
                None,
            ));
            return false;
        };
        let len = s.chars().count() as u64;
        if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
            && len < min
        {
            out.push(Issue::new(
                loc,
                "string_too_short",
                format!("String should have at least {}", plural(min, "character")),
                value,
                Some(json!({"min_length": min})),
            ));
            return false;
        }
        if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
            && len > max
        {
            out.push(Issue::new(
                loc,
                "string_too_long",
                format!("String should have at most {}", plural(max, "character")),
                value,
                Some(json!({"max_length": max})),
            ));
            return false;
        }
        if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
            let matched = self
                .spec
                .patterns
                .get(pattern)
                .is_none_or(|re| re.find(s).is_some());
            if !matched {
                out.push(Issue::new(
                    loc,
                    "string_pattern_mismatch",
                    format!("String should match pattern '{pattern}'"),
                    value,
                    Some(json!({"pattern": pattern})),
                ));
                return false;
            }
        }
        match schema.get("format").and_then(Value::as_str) {
            Some("date-time") if chrono::DateTime::parse_from_rfc3339(s).is_err() => {
                out.push(Issue::new(
                    loc,
                    "datetime_parsing",
                    "Input should be a valid datetime, invalid format",
                    value,
                    None,
                ));
                false
            }
            Some("uuid") if self.mode == Mode::Response && !is_uuid(s) => {
                out.push(Issue::new(
                    loc,
                    "uuid_parsing",
                    "Input should be a valid UUID",
                    value,
                    None,
                ));
                false
            }
            _ => true,
        }
    }

    fn number(
        &self,
        schema: &Map<String, Value>,
        value: &mut Value,
        loc: &[Loc],
        out: &mut Vec<Issue>,
        integer: bool,
    ) -> bool {
        let original = value.clone();
        let (type_kind, type_msg, parse_kind, parse_msg) = if integer {
            (
                "int_type",
                "Input should be a valid integer",
                "int_parsing",
                "Input should be a valid integer, unable to parse string as an integer",
            )
        } else {
            (
                "float_type",
                "Input should be a valid number",
                "float_parsing",
                "Input should be a valid number, unable to parse string as a number",
            )
        };
        let lax = self.mode == Mode::Request;
        let n: f64 = match &*value {
            Value::Number(n) => {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if integer && !(n.is_i64() || n.is_u64()) {
                    if lax && f.fract() == 0.0 && f.is_finite() {
                        *value = json!(f as i64);
                    } else if f.fract() != 0.0 {
                        out.push(Issue::new(
                            loc,
                            "int_from_float",
                            "Input should be a valid integer, got a number with a fractional part",
                            value,
                            None,
                        ));
                        return false;
                    } else {
                        out.push(Issue::new(loc, type_kind, type_msg, value, None));
                        return false;
                    }
                }
                f
            }
            Value::String(s) if lax => {
                let t = s.trim();
                let parsed = if integer {
                    t.parse::<i64>().ok().map(|i| (json!(i), i as f64))
                } else {
                    t.parse::<f64>()
                        .ok()
                        .filter(|f| f.is_finite())
                        .map(|f| (json!(f), f))
                };
                match parsed {
                    Some((v, f)) => {
                        *value = v;
                        f
                    }
                    None => {
                        out.push(Issue::new(loc, parse_kind, parse_msg, value, None));
                        return false;
                    }
                }
            }
            _ => {
                out.push(Issue::new(loc, type_kind, type_msg, value, None));
                return false;
            }
        };
        let bound = |key: &str| schema.get(key).and_then(Value::as_f64);
        let exclusive = |key: &str| schema.get(key).and_then(Value::as_bool) == Some(true);
        if let Some(min) = bound("minimum") {
            let (bad, kind, word, key) = if exclusive("exclusiveMinimum") {
                (n <= min, "greater_than", "greater than", "gt")
            } else {
                (
                    n < min,
                    "greater_than_equal",
                    "greater than or equal to",
                    "ge",
                )
            };
            if bad {
                let shown = number_ctx(min);
                out.push(Issue::new(
                    loc,
                    kind,
                    format!("Input should be {word} {shown}"),
                    &original,
                    Some(json!({key: shown})),
                ));
                return false;
            }
        }
        if let Some(max) = bound("maximum") {
            let (bad, kind, word, key) = if exclusive("exclusiveMaximum") {
                (n >= max, "less_than", "less than", "lt")
            } else {
                (n > max, "less_than_equal", "less than or equal to", "le")
            };
            if bad {
                let shown = number_ctx(max);
                out.push(Issue::new(
                    loc,
                    kind,
                    format!("Input should be {word} {shown}"),
                    &original,
                    Some(json!({key: shown})),
                ));
                return false;
            }
        }
        true
    }

    fn boolean(&self, value: &mut Value, loc: &[Loc], out: &mut Vec<Issue>) -> bool {
        if value.is_boolean() {
            return true;
        }
        if self.mode == Mode::Request {
            let parsed = match &*value {
                Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" | "on" | "t" | "y" => Some(true),
                    "false" | "0" | "no" | "off" | "f" | "n" => Some(false),
                    _ => None,
                },
                Value::Number(n) if n.as_i64() == Some(1) => Some(true),
                Value::Number(n) if n.as_i64() == Some(0) => Some(false),
                _ => None,
            };
            if let Some(b) = parsed {
                *value = Value::Bool(b);
                return true;
            }
            if value.is_string() {
                out.push(Issue::new(
                    loc,
                    "bool_parsing",
                    "Input should be a valid boolean, unable to interpret input",
                    value,
                    None,
                ));
                return false;
            }
        }
        out.push(Issue::new(
            loc,
            "bool_type",
            "Input should be a valid boolean",
            value,
            None,
        ));
        false
    }

    fn array(
        &self,
        schema: &Map<String, Value>,
        value: &mut Value,
        loc: &mut Vec<Loc>,
        out: &mut Vec<Issue>,
    ) -> bool {
        let Value::Array(items) = value else {
            out.push(Issue::new(
                loc,
                "list_type",
                "Input should be a valid list",
                value,
                None,
            ));
            return false;
        };
        let len = items.len() as u64;
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
            && len < min
        {
            let msg = format!(
                "List should have at least {} after validation, not {len}",
                plural(min, "item")
            );
            out.push(Issue::new(
                loc,
                "too_short",
                msg,
                value,
                Some(json!({"field_type": "List", "min_length": min, "actual_length": len})),
            ));
            return false;
        }
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
            && len > max
        {
            let msg = format!(
                "List should have at most {} after validation, not {len}",
                plural(max, "item")
            );
            out.push(Issue::new(
                loc,
                "too_long",
                msg,
                value,
                Some(json!({"field_type": "List", "max_length": max, "actual_length": len})),
            ));
            return false;
        }
        if let Some(item_schema) = schema.get("items") {
            for (i, item) in items.iter_mut().enumerate() {
                loc.push(Loc::Index(i));
                self.validate(item_schema, item, loc, out, false);
                loc.pop();
            }
        }
        true
    }

    fn object(
        &self,
        schema: &Map<String, Value>,
        value: &mut Value,
        loc: &mut Vec<Loc>,
        out: &mut Vec<Issue>,
    ) -> bool {
        let properties = schema.get("properties").and_then(Value::as_object);
        let snapshot = value.clone();
        let Value::Object(object) = value else {
            if properties.is_some() {
                out.push(Issue::new(
                    loc,
                    "model_attributes_type",
                    "Input should be a valid dictionary or object to extract fields from",
                    value,
                    None,
                ));
            } else {
                out.push(Issue::new(
                    loc,
                    "dict_type",
                    "Input should be a valid dictionary",
                    value,
                    None,
                ));
            }
            return false;
        };
        // pydantic reports fields in declaration order: each declared
        // property, missing or invalid, then the extra keys.
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let declared: Vec<&String> = properties.map(|p| p.keys().collect()).unwrap_or_default();
        let undeclared_required = required
            .iter()
            .filter(|r| !declared.iter().any(|d| d == *r))
            .map(|r| (*r).to_owned());
        let order: Vec<String> = declared
            .iter()
            .map(|d| (*d).clone())
            .chain(undeclared_required)
            .collect();
        for name in &order {
            loc.push(Loc::Key(name.clone()));
            match object.get_mut(name) {
                Some(item) => {
                    if let Some(property) = properties.and_then(|p| p.get(name)) {
                        self.validate(property, item, loc, out, false);
                    }
                }
                None if required.contains(&name.as_str()) => {
                    out.push(Issue::new(
                        loc,
                        "missing",
                        "Field required",
                        &snapshot,
                        None,
                    ));
                }
                None => {}
            }
            loc.pop();
        }
        let additional = schema.get("additionalProperties");
        for (key, item) in object.iter_mut() {
            if order.contains(key) {
                continue;
            }
            loc.push(Loc::Key(key.clone()));
            match additional {
                Some(Value::Bool(false)) => {
                    out.push(Issue::new(
                        loc,
                        "extra_forbidden",
                        "Extra inputs are not permitted",
                        item,
                        None,
                    ));
                }
                Some(extra @ Value::Object(_)) => self.validate(extra, item, loc, out, false),
                _ => {}
            }
            loc.pop();
        }
        true
    }
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> &'static Spec {
        Spec::load().expect("embedded spec prepares")
    }

    fn request(schema: Value, mut value: Value) -> (Value, Vec<Issue>) {
        let issues = spec().check(&schema, &mut value, Mode::Request, &[Loc::from("body")]);
        (value, issues)
    }

    #[test]
    fn the_document_has_46_named_operations() {
        assert_eq!(spec().operation_names().len(), 46);
        for op in linkt::OPERATIONS {
            assert!(spec().operation_names().contains(&op.name), "{}", op.name);
        }
    }

    #[test]
    fn literal_paths_win_over_templates() {
        match spec().route("GET", "/v1/sheet/schema/default") {
            Route::Found(op, params) => {
                assert_eq!(op.name, "sheet_schema_get_default");
                assert!(params.is_empty());
            }
            other => panic!("{other:?}"),
        }
        match spec().route("GET", "/v1/entity/abc") {
            Route::Found(op, params) => {
                assert_eq!(op.name, "entity_retrieve");
                assert_eq!(params, vec![("entity_id".to_owned(), "abc".to_owned())]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            spec().route("PATCH", "/v1/icp"),
            Route::MethodNotAllowed(_)
        ));
        assert!(matches!(spec().route("GET", "/v2/icp"), Route::NotFound));
    }

    #[test]
    fn missing_fields_are_reported_like_pydantic() {
        let (_, issues) = request(
            json!({"$ref": "#/components/schemas/CreateIcpRequest"}),
            json!({"name": "x", "entity_targets": [{"entity_type": "company"}]}),
        );
        let paths: Vec<String> = issues.iter().map(Issue::path).collect();
        assert_eq!(
            paths,
            ["body.description", "body.entity_targets[0].description"]
        );
        assert!(
            issues
                .iter()
                .all(|i| i.kind == "missing" && i.msg == "Field required")
        );
        assert_eq!(issues[1].input, json!({"entity_type": "company"}));
    }

    #[test]
    fn lax_mode_parses_query_strings_and_checks_bounds() {
        let schema = json!({"type": "integer", "minimum": 1, "maximum": 100});
        let (value, issues) = request(schema.clone(), json!("7"));
        assert_eq!((value, issues.len()), (json!(7), 0));
        let (_, issues) = request(schema.clone(), json!("0"));
        assert_eq!(issues[0].kind, "greater_than_equal");
        assert_eq!(issues[0].ctx, Some(json!({"ge": 1})));
        assert_eq!(issues[0].input, json!("0"));
        let (_, issues) = request(schema.clone(), json!("500"));
        assert_eq!(issues[0].msg, "Input should be less than or equal to 100");
        let (_, issues) = request(schema, json!("seven"));
        assert_eq!(issues[0].kind, "int_parsing");
        let (value, issues) = request(json!({"type": "boolean"}), json!("true"));
        assert_eq!((value, issues.len()), (json!(true), 0));
    }

    #[test]
    fn enums_patterns_and_lengths() {
        let (_, issues) = request(
            json!({"$ref": "#/components/schemas/EntityType"}),
            json!("robot"),
        );
        assert_eq!(issues[0].kind, "enum");
        assert_eq!(
            issues[0].msg,
            "Input should be 'company', 'person', 'job_board', 'school_district' or 'product'"
        );
        let (_, issues) = request(
            json!({"type": "string", "pattern": "^[0-9a-fA-F]{24}$"}),
            json!("nope"),
        );
        assert_eq!(issues[0].kind, "string_pattern_mismatch");
        let (_, issues) = request(json!({"type": "string", "minLength": 1}), json!(""));
        assert_eq!(issues[0].msg, "String should have at least 1 character");
        let (_, issues) = request(json!({"type": "string", "nullable": true}), Value::Null);
        assert!(issues.is_empty());
        let (_, issues) = request(json!({"type": "string"}), Value::Null);
        assert_eq!(issues[0].kind, "string_type");
    }

    #[test]
    fn discriminated_unions_use_the_tag_and_fall_back_to_structure() {
        let schema = json!({"$ref": "#/components/schemas/CreateTaskRequest"});
        let base = json!({"name": "t", "description": "d", "flow_name": "search", "deployment_name": "main"});
        let mut bad_tag = base.clone();
        bad_tag["task_config"] = json!({"type": "dance"});
        let (_, issues) = request(schema.clone(), bad_tag);
        assert_eq!(issues[0].kind, "union_tag_invalid");
        let mut nested = base.clone();
        nested["task_config"] = json!({"type": "search", "desired_contact_count": 0});
        let (_, issues) = request(schema.clone(), nested);
        assert_eq!(
            issues[0].path(),
            "body.task_config.search.desired_contact_count"
        );
        let mut untagged = base;
        untagged["task_config"] =
            json!({"file_id": "f", "primary_column": "name", "csv_entity_type": "company"});
        let (_, issues) = request(schema, untagged);
        assert!(issues.is_empty(), "{issues:?}");
    }

    #[test]
    fn responses_are_checked_strictly() {
        let ok = br#"{"icps": [], "page": 1, "page_size": 20, "total": 0}"#;
        assert_eq!(spec().check_response("icp_list", 200, ok), Ok(()));
        let bad = br#"{"icps": [], "page": "1", "page_size": 20}"#;
        let issues = spec()
            .check_response("icp_list", 200, bad)
            .expect_err("invalid");
        let paths: Vec<String> = issues.iter().map(Issue::path).collect();
        assert_eq!(paths, ["page", "total"]);
        assert!(spec().check_response("icp_delete", 204, b"").is_ok());
        assert!(spec().check_response("icp_delete", 204, b"{}").is_err());
        assert!(
            spec()
                .check_response("icp_delete", 404, br#"{"detail": "ICP not found"}"#)
                .is_ok()
        );
        assert!(spec().check_response("icp_delete", 200, b"").is_err());
        assert!(
            spec()
                .check_response("entity_export", 200, b"a,b\n")
                .is_ok()
        );
    }
}
