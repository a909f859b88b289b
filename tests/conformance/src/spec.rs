//! Reading the normalized OpenAPI document: operations, parameters, bodies,
//! examples and schemas, plus a deterministic example synthesizer.
//!
//! The document is the output of `linkt_spec::prepare` (OpenAPI 3.0.3, one
//! `x-linkt-name` per operation). Nothing here loads files or knows the
//! generated client; functions take the document as a [`serde_json::Value`]
//! so tests can hand in modified copies.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

/// The HTTP methods an OpenAPI path item may hold.
pub const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The sample ObjectId used for strings constrained to 24 hex digits.
pub const OBJECT_ID_SAMPLE: &str = "507f1f77bcf86cd799439011";

/// One operation of the document.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecOperation {
    /// The client method name (`x-linkt-name`), else the `operationId`.
    pub name: String,
    /// Upper-case HTTP method.
    pub method: String,
    /// The path template, e.g. `/v1/icp/{icp_id}`.
    pub path: String,
    /// The parameters, `$ref`s resolved.
    pub parameters: Vec<Value>,
    /// The request body, if any (its first media type).
    pub request_body: Option<Content>,
    /// The lowest 2xx response.
    pub success: Response,
    /// Every response, by status (`"200"`, `"422"`, `"default"`).
    pub responses: Vec<(String, Response)>,
}

impl SpecOperation {
    /// Names of the parameters that are `in` `location` (`path`, `query`).
    pub fn parameter_names(&self, location: &str) -> Vec<&str> {
        self.parameters
            .iter()
            .filter(|p| p.get("in").and_then(Value::as_str) == Some(location))
            .filter_map(|p| p.get("name").and_then(Value::as_str))
            .collect()
    }
}

/// A response of an operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The status code (0 for `default`).
    pub status: u16,
    /// Its content, if it has any.
    pub content: Option<Content>,
}

/// One media type of a request or response body.
#[derive(Debug, Clone, PartialEq)]
pub struct Content {
    /// The media type, e.g. `application/json`.
    pub media_type: String,
    /// Its schema (`{}` when absent).
    pub schema: Value,
    /// Its examples, in document order: the entries of `examples` (by name,
    /// their `value`), else `example` (named `example`).
    pub examples: Vec<(String, Value)>,
}

impl Content {
    fn from_media(media_type: &str, media: &Value) -> Content {
        let mut examples = Vec::new();
        if let Some(map) = media.get("examples").and_then(Value::as_object) {
            for (name, example) in map {
                if let Some(value) = example.get("value") {
                    examples.push((name.clone(), value.clone()));
                }
            }
        } else if let Some(value) = media.get("example") {
            examples.push(("example".to_owned(), value.clone()));
        }
        Content {
            media_type: media_type.to_owned(),
            schema: media.get("schema").cloned().unwrap_or_else(|| json!({})),
            examples,
        }
    }

    fn from_object(object: &Value) -> Option<Content> {
        let (media_type, media) = object.get("content")?.as_object()?.iter().next()?;
        Some(Content::from_media(media_type, media))
    }
}

/// Every operation of `document`, in document order (paths, then methods
/// within a path as the document lists them).
///
/// # Errors
///
/// A message naming the path and method of an operation that has neither
/// `x-linkt-name` nor `operationId`, or no 2xx response.
pub fn operations(document: &Value) -> Result<Vec<SpecOperation>, String> {
    let mut out = Vec::new();
    let Some(paths) = document.get("paths").and_then(Value::as_object) else {
        return Ok(out);
    };
    for (path, item) in paths {
        let shared: Vec<Value> = item
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let methods = item
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(method, _)| METHODS.contains(&method.as_str()));
        for (method, op) in methods {
            let name = op
                .get("x-linkt-name")
                .or_else(|| op.get("operationId"))
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{} {path} has no x-linkt-name", method.to_uppercase()))?;
            let mut parameters: Vec<Value> = shared
                .iter()
                .chain(
                    op.get("parameters")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten(),
                )
                .map(|p| resolve(document, p).clone())
                .collect();
            // An operation-level parameter overrides a path-level one.
            let mut seen = BTreeSet::new();
            parameters.reverse();
            parameters.retain(|p| {
                let key = |field: &str| p.get(field).and_then(Value::as_str).map(str::to_owned);
                seen.insert((key("name"), key("in")))
            });
            parameters.reverse();

            let request_body = op
                .get("requestBody")
                .map(|body| resolve(document, body))
                .and_then(Content::from_object);
            let mut responses = Vec::new();
            for (status, response) in op
                .get("responses")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let response = resolve(document, response);
                responses.push((
                    status.clone(),
                    Response {
                        status: status.parse().unwrap_or(0),
                        content: Content::from_object(response),
                    },
                ));
            }
            let success = responses
                .iter()
                .filter(|(_, r)| (200..300).contains(&r.status))
                .min_by_key(|(_, r)| r.status)
                .map(|(_, r)| r.clone())
                .ok_or_else(|| {
                    format!(
                        "{name} ({} {path}) has no 2xx response",
                        method.to_uppercase()
                    )
                })?;
            out.push(SpecOperation {
                name: name.to_owned(),
                method: method.to_uppercase(),
                path: path.clone(),
                parameters,
                request_body,
                success,
                responses,
            });
        }
    }
    Ok(out)
}

/// The component schemas of `document`, by their spec names, in document
/// order.
pub fn component_schemas(document: &Value) -> Vec<(&str, &Value)> {
    document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(name, schema)| (name.as_str(), schema))
        .collect()
}

/// The component name of a `#/components/schemas/Name` reference.
pub fn ref_name(schema: &Value) -> Option<&str> {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
}

pub use linkt_spec::schema::{is_nullable, resolve, unwrap};

/// Every component a schema refers to, directly or through other
/// components, by spec name.
pub fn referenced_components(document: &Value, schema: &Value) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut stack = vec![schema.clone()];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                if let Some(name) = map
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                    && found.insert(name.to_owned())
                    && let Some(target) = document.pointer(&format!("/components/schemas/{name}"))
                {
                    stack.push(target.clone());
                }
                for (key, child) in map {
                    if !matches!(key.as_str(), "example" | "examples" | "default" | "enum") {
                        stack.push(child);
                    }
                }
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    found
}

/// The value a case sends for a parameter: its `example`, else the first of
/// its `examples`, else [`example_value`] of its schema (named after the
/// parameter).
pub fn parameter_value(document: &Value, parameter: &Value) -> Value {
    if let Some(example) = parameter.get("example") {
        return example.clone();
    }
    if let Some(first) = parameter
        .get("examples")
        .and_then(Value::as_object)
        .and_then(|m| m.values().next())
        .and_then(|e| e.get("value"))
    {
        return first.clone();
    }
    let name = parameter
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("value");
    let schema = parameter
        .get("schema")
        .cloned()
        .unwrap_or_else(|| json!({}));
    example_value(document, &schema, name)
}

/// A deterministic example of a schema, the way API SDK generators write
/// test fixtures:
///
/// * the schema's `example`, else its `default` (unless null);
/// * references and single-element `allOf` are followed; `oneOf`/`anyOf`
///   take their first alternative;
/// * an enum takes its first non-null value;
/// * strings: `date-time` → `2025-01-05T12:00:00Z`, `uuid` → a fixed UUID,
///   the 24-hex ObjectId pattern → [`OBJECT_ID_SAMPLE`], otherwise `name`
///   (padded to `minLength`);
/// * integers: `minimum`, else 1; numbers: 0.5; booleans: `true`;
/// * arrays: two items (exploded query arrays then show as repeated keys),
///   the second varied; objects: every property.
///
/// `name` is the parameter or property the value is for.
pub fn example_value(document: &Value, schema: &Value, name: &str) -> Value {
    example_at(document, schema, name, 0, 0)
}

fn example_at(document: &Value, schema: &Value, name: &str, variant: usize, depth: usize) -> Value {
    if depth > 16 {
        return Value::Null;
    }
    if let Some(example) = schema.get("example") {
        return vary(example.clone(), variant);
    }
    if let Some(default) = schema.get("default").filter(|d| !d.is_null()) {
        return default.clone();
    }
    if schema.get("$ref").is_some() {
        return example_at(
            document,
            resolve(document, schema),
            name,
            variant,
            depth + 1,
        );
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(first) = schema
            .get(key)
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        {
            return example_at(document, first, name, variant, depth + 1);
        }
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|values| values.iter().find(|v| !v.is_null()))
    {
        return first.clone();
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("string") => {
            let text = match schema.get("format").and_then(Value::as_str) {
                Some("date-time") => "2025-01-05T12:00:00Z".to_owned(),
                Some("date") => "2025-01-05".to_owned(),
                Some("uuid") => "550e8400-e29b-41d4-a716-446655440000".to_owned(),
                _ if is_object_id_pattern(schema) => OBJECT_ID_SAMPLE.to_owned(),
                _ => {
                    let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0);
                    let mut text = name.to_owned();
                    while (text.chars().count() as u64) < min {
                        text.push('x');
                    }
                    text
                }
            };
            vary(Value::String(text), variant)
        }
        Some("integer") => json!(
            schema
                .get("minimum")
                .and_then(Value::as_f64)
                .map_or(1, |m| m as i64)
        ),
        Some("number") => json!(0.5),
        Some("boolean") => json!(true),
        Some("array") => {
            let items = schema.get("items").cloned().unwrap_or_else(|| json!({}));
            Value::Array(
                (0..2)
                    .map(|i| example_at(document, &items, name, i, depth + 1))
                    .collect(),
            )
        }
        Some("object") | None if schema.get("properties").is_some() => {
            let mut object = Map::new();
            for (key, property) in schema
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                object.insert(
                    key.clone(),
                    example_at(document, property, key, 0, depth + 1),
                );
            }
            Value::Object(object)
        }
        Some("object") => json!({}),
        _ => json!(name),
    }
}

/// Whether a string schema is constrained to a 24-hex-digit ObjectId.
pub fn is_object_id_pattern(schema: &Value) -> bool {
    schema.get("pattern").and_then(Value::as_str) == Some("^[0-9a-fA-F]{24}$")
}

/// The `variant`-th variation of an example string: the string itself for
/// 0; otherwise its last hex digit advanced (ObjectIds stay valid) or a
/// `-{variant}` suffix.
fn vary(value: Value, variant: usize) -> Value {
    let Value::String(text) = value else {
        return value;
    };
    if variant == 0 {
        return Value::String(text);
    }
    let mut chars: Vec<char> = text.chars().collect();
    if chars.len() == 24 && chars.iter().all(char::is_ascii_hexdigit) {
        if let Some(last) = chars.last_mut() {
            let digit = last.to_digit(16).unwrap_or(0) as usize;
            *last = char::from_digit(((digit + variant) % 16) as u32, 16).unwrap_or('0');
        }
        return Value::String(chars.into_iter().collect());
    }
    Value::String(format!("{text}-{variant}"))
}
