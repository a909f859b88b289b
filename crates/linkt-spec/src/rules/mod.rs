//! The normalizer's rules: OpenAPI 3.1 → 3.0.3, for a generator that reads
//! only 3.0.
//!
//! This module owns the document-level rules and the walk over every
//! object of the OpenAPI graph (paths, operations, parameters, bodies,
//! responses, headers, media types, callbacks, components); the schema rules
//! live in [`schema`]. Each rule is a named function with its own doc
//! comment, and each either converts a 3.1 construct faithfully or returns
//! an [`Error`] that names the pointer: nothing that carries meaning is
//! dropped silently. Pure metadata (`jsonSchemaDialect`, `$schema`, `$id`,
//! `$comment`) is removed.
//!
//! What does not belong here: loading, overlays, and deciding what the
//! generator does with a 3.0 construct.
//!
//! # Invariants
//!
//! - A 3.0.x document is returned unchanged.
//! - The output of a 3.1 document is a fixed point of the rules: relabel it
//!   `3.1.0`, normalize it again, and nothing changes but the label.
//! - Every local `$ref` and discriminator mapping in the output resolves.

pub mod schema;

use serde_json::{Map, Value};

use crate::Error;
use crate::pointer::{child, resolve};

/// The OpenAPI version written by [`normalize`].
pub const OPENAPI_30: &str = "3.0.3";

/// Converts an OpenAPI 3.1.x document to 3.0.3; a 3.0.x document is
/// returned unchanged.
///
/// Document-level rules, in order: [`check_root_keywords`],
/// [`set_version`], [`drop_json_schema_dialect`], [`reject_webhooks`],
/// [`convert_info`], [`ensure_paths`]; then the walk, which applies
/// [`inline_path_item_ref`] and [`reference_object_siblings`] where they
/// occur and the schema rules (see [`schema`]) to every schema; then
/// [`drop_component_path_items`] and a check that every local reference
/// resolves.
///
/// # Errors
///
/// [`Error::Version`] unless `openapi` is 3.0.x or 3.1.x; otherwise the
/// first construct that cannot be converted, with its pointer (see
/// [`Error`]).
pub fn normalize(mut doc: Value) -> Result<Value, Error> {
    match version(&doc)? {
        Version::V30 => return Ok(doc),
        Version::V31 => {}
    }
    let original = doc.clone();
    let Some(root) = doc.as_object_mut() else {
        return Err(malformed("", "an openapi object"));
    };
    check_root_keywords(root)?;
    set_version(root);
    drop_json_schema_dialect(root);
    reject_webhooks(root)?;
    convert_info(root)?;
    ensure_paths(root);
    let mut walker = Walker {
        original,
        refs: Vec::new(),
    };
    walker.document(root)?;
    drop_component_path_items(root);
    walker.check_refs(&doc)?;
    Ok(doc)
}

enum Version {
    V30,
    V31,
}

fn version(doc: &Value) -> Result<Version, Error> {
    let found = doc.get("openapi").and_then(Value::as_str).unwrap_or("");
    if found.starts_with("3.0.") {
        Ok(Version::V30)
    } else if found.starts_with("3.1.") {
        Ok(Version::V31)
    } else {
        Err(Error::Version {
            found: found.to_owned(),
            expected: "3.0.x or 3.1.x",
        })
    }
}

/// The keys an OpenAPI 3.1 root may have.
const ROOT_KEYWORDS: &[&str] = &[
    "openapi",
    "info",
    "jsonSchemaDialect",
    "servers",
    "paths",
    "webhooks",
    "components",
    "security",
    "tags",
    "externalDocs",
];

/// Rejects root keys that are neither OpenAPI 3.1 fields nor `x-`
/// extensions, so that nothing unknown passes through unexamined.
pub fn check_root_keywords(root: &Map<String, Value>) -> Result<(), Error> {
    check_keys(root, "", ROOT_KEYWORDS)
}

/// Sets `openapi` to `3.0.3`.
pub fn set_version(root: &mut Map<String, Value>) {
    root.insert("openapi".to_owned(), Value::String(OPENAPI_30.to_owned()));
}

/// Removes `jsonSchemaDialect`: it names the schema dialect, which after
/// conversion is always the 3.0 one, and carries nothing else.
pub fn drop_json_schema_dialect(root: &mut Map<String, Value>) {
    root.shift_remove("jsonSchemaDialect");
}

/// Removes an empty `webhooks` map; webhooks cannot be expressed in 3.0, so
/// a non-empty one is an error.
pub fn reject_webhooks(root: &mut Map<String, Value>) -> Result<(), Error> {
    match root.get("webhooks") {
        None => Ok(()),
        Some(Value::Object(hooks)) if hooks.is_empty() => {
            root.shift_remove("webhooks");
            Ok(())
        }
        Some(Value::Object(_)) => Err(unsupported("", "webhooks")),
        Some(_) => Err(malformed("/webhooks", "a map of webhooks")),
    }
}

/// Converts the 3.1-only `info` fields.
///
/// - `info.summary` is folded into `info.description` as its first
///   paragraph (3.0 has no summary).
/// - `info.license.identifier` (an SPDX expression) becomes
///   `url: https://spdx.org/licenses/<identifier>.html`; 3.1 forbids both
///   `identifier` and `url`, so having both is an error.
pub fn convert_info(root: &mut Map<String, Value>) -> Result<(), Error> {
    let Some(info) = root.get_mut("info") else {
        return Err(malformed("/info", "an info object"));
    };
    let Some(info) = info.as_object_mut() else {
        return Err(malformed("/info", "an info object"));
    };
    if let Some(summary) = info.shift_remove("summary") {
        let Value::String(summary) = summary else {
            return Err(malformed("/info/summary", "a string"));
        };
        let description = match info.get("description") {
            None => summary,
            Some(Value::String(description)) => format!("{summary}\n\n{description}"),
            Some(_) => return Err(malformed("/info/description", "a string")),
        };
        info.insert("description".to_owned(), Value::String(description));
    }
    if let Some(Value::Object(license)) = info.get_mut("license")
        && let Some(identifier) = license.shift_remove("identifier")
    {
        let Value::String(identifier) = identifier else {
            return Err(malformed("/info/license/identifier", "a string"));
        };
        if license.contains_key("url") {
            return Err(Error::Inexpressible {
                pointer: "/info/license".to_owned(),
                what: "a license with both `identifier` and `url`",
            });
        }
        license.insert(
            "url".to_owned(),
            Value::String(format!("https://spdx.org/licenses/{identifier}.html")),
        );
    }
    Ok(())
}

/// Inserts an empty `paths` map if there is none (optional in 3.1,
/// required in 3.0).
pub fn ensure_paths(root: &mut Map<String, Value>) {
    if !root.contains_key("paths") {
        root.insert("paths".to_owned(), Value::Object(Map::new()));
    }
}

/// Removes `components.pathItems` once every reference to it has been
/// inlined by [`inline_path_item_ref`]; 3.0 has no such component, and an
/// entry nothing refers to describes no operation of the API. A
/// `components` object left empty by this is removed too.
pub fn drop_component_path_items(root: &mut Map<String, Value>) {
    let Some(Value::Object(components)) = root.get_mut("components") else {
        return;
    };
    if components.shift_remove("pathItems").is_some() && components.is_empty() {
        root.shift_remove("components");
    }
}

/// Replaces a path item `$ref` to `#/components/pathItems/…` by a copy of
/// the referenced item, with the `$ref`'s sibling fields merged over it;
/// repeated while the result is itself such a reference, so that the
/// fields of every hop of a chain are kept.
///
/// Returns `Ok(false)` and leaves `item` alone if its `$ref` points
/// elsewhere (a 3.0 path item may reference an external one).
///
/// # Errors
///
/// [`Error::Unresolved`] if the component does not exist or the chain
/// loops; [`Error::Inexpressible`] if a sibling field differs from the
/// referenced item's (3.1 leaves that case undefined).
pub fn inline_path_item_ref(
    original: &Value,
    item: &mut Map<String, Value>,
    pointer: &str,
) -> Result<bool, Error> {
    let mut hops = 0;
    loop {
        let Some(reference) = item.get("$ref") else {
            return Ok(hops > 0);
        };
        let Some(reference) = reference.as_str().map(str::to_owned) else {
            return Err(malformed(&child(pointer, "$ref"), "a reference string"));
        };
        if !reference.starts_with("#/components/pathItems/") {
            return Ok(hops > 0);
        }
        hops += 1;
        let target = resolve(original, &reference).and_then(Value::as_object);
        let Some(target) = target.filter(|_| hops <= MAX_REF_HOPS) else {
            return Err(Error::Unresolved {
                pointer: child(pointer, "$ref"),
                reference,
            });
        };
        let mut inlined = target.clone();
        for (key, value) in item.iter().filter(|(key, _)| *key != "$ref") {
            match inlined.get(key) {
                Some(existing) if existing != value => {
                    return Err(Error::Inexpressible {
                        pointer: pointer.to_owned(),
                        what: "a path item reference whose fields differ from the referenced item",
                    });
                }
                Some(_) => {}
                None => {
                    inlined.insert(key.clone(), value.clone());
                }
            }
        }
        *item = inlined;
    }
}

/// The kinds of object a (non-schema) Reference Object can stand for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    /// A Parameter Object.
    Parameter,
    /// A Request Body Object.
    RequestBody,
    /// A Response Object.
    Response,
    /// A Header Object.
    Header,
    /// An Example Object.
    Example,
    /// A Link Object.
    Link,
    /// A Callback Object.
    Callback,
    /// A Security Scheme Object.
    SecurityScheme,
}

impl RefKind {
    /// Whether the object has a field that a Reference Object's `key`
    /// (`summary` or `description`) would override.
    fn has_field(self, key: &str) -> bool {
        match key {
            "description" => self != RefKind::Callback,
            "summary" => self == RefKind::Example,
            _ => false,
        }
    }
}

/// Handles a 3.1 Reference Object's `summary` and `description`, which
/// override the referenced object's fields; 3.0 ignores siblings of `$ref`.
///
/// A sibling that the referenced kind has no field for has no effect and
/// is removed, as is one equal to the referenced value. If any sibling
/// remains, the reference is replaced by a copy of the referenced object
/// with the siblings applied, and `Ok(false)` says it is no longer a
/// reference. Otherwise `value` is left as `{"$ref": …}` and `Ok(true)` is
/// returned.
///
/// # Errors
///
/// [`Error::Unsupported`] for any other sibling; [`Error::Unresolved`] if
/// an override is needed but the target cannot be found in `original`.
pub fn reference_object_siblings(
    original: &Value,
    kind: RefKind,
    value: &mut Map<String, Value>,
    pointer: &str,
) -> Result<bool, Error> {
    let Some(reference) = value.get("$ref") else {
        return Ok(false);
    };
    let Some(reference) = reference.as_str().map(str::to_owned) else {
        return Err(malformed(&child(pointer, "$ref"), "a reference string"));
    };
    if value.len() == 1 {
        return Ok(true);
    }
    for key in value.keys() {
        if !matches!(key.as_str(), "$ref" | "summary" | "description") {
            return Err(unsupported(pointer, key));
        }
    }
    let unresolved = || Error::Unresolved {
        pointer: child(pointer, "$ref"),
        reference: reference.clone(),
    };
    // Follow the chain; the nearest override of a field along it wins.
    let mut chain_overrides = Map::new();
    let mut target = resolve(original, &reference).ok_or_else(unresolved)?;
    let mut hops = 0;
    while let Some(next) = target.get("$ref").and_then(Value::as_str) {
        hops += 1;
        if hops > MAX_REF_HOPS {
            return Err(unresolved());
        }
        for key in ["summary", "description"] {
            if let Some(v) = target.get(key) {
                chain_overrides
                    .entry(key.to_owned())
                    .or_insert_with(|| v.clone());
            }
        }
        target = resolve(original, next).ok_or_else(unresolved)?;
    }
    let Some(target) = target.as_object() else {
        return Err(unresolved());
    };
    let effective = |key: &str| chain_overrides.get(key).or_else(|| target.get(key));
    let overrides: Vec<(String, Value)> = value
        .iter()
        .filter(|(key, v)| *key != "$ref" && kind.has_field(key) && effective(key) != Some(*v))
        .map(|(key, v)| (key.clone(), v.clone()))
        .collect();
    if overrides.is_empty() {
        value.retain(|key, _| key == "$ref");
        return Ok(true);
    }
    let mut inlined = target.clone();
    for (key, v) in chain_overrides {
        if kind.has_field(&key) {
            inlined.insert(key, v);
        }
    }
    for (key, v) in overrides {
        inlined.insert(key, v);
    }
    *value = inlined;
    Ok(false)
}

/// How many `$ref` hops a chain may take before it counts as a loop.
const MAX_REF_HOPS: usize = 32;

/// The HTTP methods a path item may hold.
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The keys a 3.1 `components` object may have.
const COMPONENT_KEYWORDS: &[&str] = &[
    "schemas",
    "responses",
    "parameters",
    "examples",
    "requestBodies",
    "headers",
    "securitySchemes",
    "links",
    "callbacks",
    "pathItems",
];

/// Walks the OpenAPI object graph, applying the rules in place.
pub(crate) struct Walker {
    /// The input document, for resolving references to content that the
    /// walk may already have rewritten.
    original: Value,
    /// Every reference seen: pointer of the reference, the reference, and
    /// whether it must be local (discriminator mappings must).
    refs: Vec<(String, String, bool)>,
}

impl Walker {
    fn document(&mut self, root: &mut Map<String, Value>) -> Result<(), Error> {
        if let Some(paths) = root.get_mut("paths") {
            let paths = object_mut(paths, "/paths", "a map of path items")?;
            for (path, item) in paths.iter_mut() {
                self.path_item(item, &child("/paths", path))?;
            }
        }
        if let Some(components) = root.get_mut("components") {
            self.components(components)?;
        }
        Ok(())
    }

    fn components(&mut self, components: &mut Value) -> Result<(), Error> {
        let components = object_mut(components, "/components", "a components object")?;
        check_keys(components, "/components", COMPONENT_KEYWORDS)?;
        for (section, entries) in components.iter_mut() {
            if section.starts_with("x-") || section == "pathItems" {
                continue;
            }
            let at = child("/components", section);
            let entries = object_mut(entries, &at, "a map of components")?;
            for (name, entry) in entries.iter_mut() {
                let at = child(&at, name);
                match section.as_str() {
                    "schemas" => self.schema(entry, &at)?,
                    "responses" => self.response(entry, &at)?,
                    "parameters" => self.parameter(entry, &at)?,
                    "examples" => self.example(entry, &at)?,
                    "requestBodies" => self.request_body(entry, &at)?,
                    "headers" => self.header(entry, &at)?,
                    "securitySchemes" => self.security_scheme(entry, &at)?,
                    "links" => self.link(entry, &at)?,
                    "callbacks" => self.callback(entry, &at)?,
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn path_item(&mut self, item: &mut Value, at: &str) -> Result<(), Error> {
        let item = object_mut(item, at, "a path item object")?;
        inline_path_item_ref(&self.original, item, at)?;
        if let Some(reference) = item.get("$ref").and_then(Value::as_str) {
            self.record(&child(at, "$ref"), reference, false);
        }
        if let Some(parameters) = item.get_mut("parameters") {
            self.parameters(parameters, &child(at, "parameters"))?;
        }
        for method in METHODS {
            if let Some(operation) = item.get_mut(*method) {
                self.operation(operation, &child(at, method))?;
            }
        }
        Ok(())
    }

    fn operation(&mut self, operation: &mut Value, at: &str) -> Result<(), Error> {
        let operation = object_mut(operation, at, "an operation object")?;
        if let Some(parameters) = operation.get_mut("parameters") {
            self.parameters(parameters, &child(at, "parameters"))?;
        }
        if let Some(body) = operation.get_mut("requestBody") {
            self.request_body(body, &child(at, "requestBody"))?;
        }
        let Some(responses) = operation.get_mut("responses") else {
            return Err(malformed(at, "`responses` (required in openapi 3.0)"));
        };
        let responses_at = child(at, "responses");
        let responses = object_mut(responses, &responses_at, "a responses object")?;
        for (code, response) in responses.iter_mut() {
            if !code.starts_with("x-") {
                self.response(response, &child(&responses_at, code))?;
            }
        }
        self.map(operation, at, "callbacks", Self::callback)
    }

    fn parameters(&mut self, parameters: &mut Value, at: &str) -> Result<(), Error> {
        let Value::Array(parameters) = parameters else {
            return Err(malformed(at, "an array of parameters"));
        };
        for (i, parameter) in parameters.iter_mut().enumerate() {
            self.parameter(parameter, &child(at, &i.to_string()))?;
        }
        Ok(())
    }

    fn parameter(&mut self, parameter: &mut Value, at: &str) -> Result<(), Error> {
        let Some(parameter) = self.reference(RefKind::Parameter, parameter, at)? else {
            return Ok(());
        };
        self.schema_and_content(parameter, at)
    }

    fn header(&mut self, header: &mut Value, at: &str) -> Result<(), Error> {
        let Some(header) = self.reference(RefKind::Header, header, at)? else {
            return Ok(());
        };
        self.schema_and_content(header, at)
    }

    /// The parts parameters and headers share.
    fn schema_and_content(
        &mut self,
        object: &mut Map<String, Value>,
        at: &str,
    ) -> Result<(), Error> {
        if let Some(schema) = object.get_mut("schema") {
            self.schema(schema, &child(at, "schema"))?;
        }
        self.map(object, at, "content", Self::media_type)?;
        self.map(object, at, "examples", Self::example)
    }

    fn request_body(&mut self, body: &mut Value, at: &str) -> Result<(), Error> {
        let Some(body) = self.reference(RefKind::RequestBody, body, at)? else {
            return Ok(());
        };
        self.map(body, at, "content", Self::media_type)
    }

    fn response(&mut self, response: &mut Value, at: &str) -> Result<(), Error> {
        let Some(response) = self.reference(RefKind::Response, response, at)? else {
            return Ok(());
        };
        self.map(response, at, "headers", Self::header)?;
        self.map(response, at, "content", Self::media_type)?;
        self.map(response, at, "links", Self::link)
    }

    fn media_type(&mut self, media: &mut Value, at: &str) -> Result<(), Error> {
        let media = object_mut(media, at, "a media type object")?;
        if let Some(schema) = media.get_mut("schema") {
            self.schema(schema, &child(at, "schema"))?;
        }
        self.map(media, at, "examples", Self::example)?;
        if let Some(encodings) = media.get_mut("encoding") {
            let encodings_at = child(at, "encoding");
            let encodings = object_mut(encodings, &encodings_at, "a map of encodings")?;
            for (property, encoding) in encodings.iter_mut() {
                let encoding_at = child(&encodings_at, property);
                let encoding = object_mut(encoding, &encoding_at, "an encoding object")?;
                self.map(encoding, &encoding_at, "headers", Self::header)?;
            }
        }
        Ok(())
    }

    fn example(&mut self, example: &mut Value, at: &str) -> Result<(), Error> {
        self.reference(RefKind::Example, example, at).map(drop)
    }

    fn link(&mut self, link: &mut Value, at: &str) -> Result<(), Error> {
        self.reference(RefKind::Link, link, at).map(drop)
    }

    fn callback(&mut self, callback: &mut Value, at: &str) -> Result<(), Error> {
        let Some(callback) = self.reference(RefKind::Callback, callback, at)? else {
            return Ok(());
        };
        for (expression, item) in callback.iter_mut() {
            if !expression.starts_with("x-") {
                self.path_item(item, &child(at, expression))?;
            }
        }
        Ok(())
    }

    fn security_scheme(&mut self, scheme: &mut Value, at: &str) -> Result<(), Error> {
        let Some(scheme) = self.reference(RefKind::SecurityScheme, scheme, at)? else {
            return Ok(());
        };
        if scheme.get("type").and_then(Value::as_str) == Some("mutualTLS") {
            return Err(unsupported(at, "mutualTLS"));
        }
        Ok(())
    }

    /// Applies `f` to every non-extension entry of the map at `object[key]`.
    fn map(
        &mut self,
        object: &mut Map<String, Value>,
        at: &str,
        key: &str,
        mut f: impl FnMut(&mut Self, &mut Value, &str) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let Some(entries) = object.get_mut(key) else {
            return Ok(());
        };
        let at = child(at, key);
        let entries = object_mut(entries, &at, "a map")?;
        for (name, entry) in entries.iter_mut() {
            if !name.starts_with("x-") {
                f(self, entry, &child(&at, name))?;
            }
        }
        Ok(())
    }

    /// Handles a place that holds either an object of `kind` or a Reference
    /// Object; returns the object to walk, or `None` for a reference.
    fn reference<'v>(
        &mut self,
        kind: RefKind,
        value: &'v mut Value,
        at: &str,
    ) -> Result<Option<&'v mut Map<String, Value>>, Error> {
        let object = object_mut(value, at, "an object or a reference")?;
        if reference_object_siblings(&self.original, kind, object, at)? {
            if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
                self.record(&child(at, "$ref"), reference, false);
            }
            return Ok(None);
        }
        Ok(Some(object))
    }

    /// Remembers a reference, to check once the walk is done.
    pub(crate) fn record(&mut self, at: &str, reference: &str, must_be_local: bool) {
        self.refs
            .push((at.to_owned(), reference.to_owned(), must_be_local));
    }

    /// Checks that every recorded local reference resolves in the output.
    fn check_refs(&self, doc: &Value) -> Result<(), Error> {
        for (at, reference, must_be_local) in &self.refs {
            let local = reference.starts_with('#');
            if (local || *must_be_local) && resolve(doc, reference).is_none() {
                return Err(Error::Unresolved {
                    pointer: at.clone(),
                    reference: reference.clone(),
                });
            }
        }
        Ok(())
    }
}

/// Rejects keys of `object` outside `allowed` that are not `x-` extensions.
pub(crate) fn check_keys(
    object: &Map<String, Value>,
    at: &str,
    allowed: &[&str],
) -> Result<(), Error> {
    match object
        .keys()
        .find(|key| !key.starts_with("x-") && !allowed.contains(&key.as_str()))
    {
        Some(key) => Err(unsupported(at, key)),
        None => Ok(()),
    }
}

pub(crate) fn object_mut<'v>(
    value: &'v mut Value,
    at: &str,
    expected: &'static str,
) -> Result<&'v mut Map<String, Value>, Error> {
    value.as_object_mut().ok_or_else(|| malformed(at, expected))
}

pub(crate) fn malformed(at: &str, expected: &'static str) -> Error {
    Error::Malformed {
        pointer: at.to_owned(),
        expected,
    }
}

pub(crate) fn unsupported(at: &str, keyword: &str) -> Error {
    Error::Unsupported {
        pointer: at.to_owned(),
        keyword: keyword.to_owned(),
    }
}
