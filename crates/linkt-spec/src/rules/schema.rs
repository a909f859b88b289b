//! Schema rules: a JSON Schema 2020-12 Schema Object (OpenAPI 3.1) into an
//! OpenAPI 3.0 Schema Object.
//!
//! Only schema keywords belong here; where a schema sits in the document is
//! the walker's business (see the parent module). Rules run in this order
//! on every schema, before its subschemas are walked:
//!
//! 1. [`boolean_schema`]: `true` → `{}`, `false` → `{"not": {}}`;
//! 2. [`strip_metadata`]: removes `$schema`, `$id`, `$comment`;
//! 3. [`check_schema_keywords`]: any keyword that is neither 3.0 nor
//!    converted below is [`Error::Unsupported`];
//! 4. [`drop_trivial_property_names`];
//! 5. [`ref_siblings_to_all_of`];
//! 6. [`type_array`];
//! 7. [`const_to_enum`];
//! 8. [`examples_to_example`];
//! 9. [`exclusive_bounds`];
//! 10. [`content_to_format`];
//!
//! then the subschemas in `properties`, `items`, `additionalProperties`,
//! `allOf` and `not` are walked, then [`lift_null_branches`] walks the
//! `anyOf` and `oneOf` branches and lifts their `{type: null}` ones, and
//! last [`check_discriminator`] collects `discriminator.mapping` for the
//! final reference check.
//!
//! Every rule leaves a 3.0 schema unchanged, so the rules are idempotent.

use std::cmp::Ordering;

use serde_json::{Map, Number, Value, json};

use super::{Walker, malformed, object_mut, unsupported};
use crate::Error;
use crate::pointer::child;

/// The keywords of the OpenAPI 3.0 Schema Object.
pub const SCHEMA_30_KEYWORDS: &[&str] = &[
    "$ref",
    "title",
    "multipleOf",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "maxProperties",
    "minProperties",
    "required",
    "enum",
    "type",
    "allOf",
    "oneOf",
    "anyOf",
    "not",
    "items",
    "properties",
    "additionalProperties",
    "description",
    "format",
    "default",
    "nullable",
    "discriminator",
    "readOnly",
    "writeOnly",
    "xml",
    "externalDocs",
    "example",
    "deprecated",
];

/// The 3.1 keywords that the rules convert (or, for a trivial
/// `propertyNames`, remove as saying nothing).
pub const CONVERTED_KEYWORDS: &[&str] = &[
    "const",
    "examples",
    "contentMediaType",
    "contentEncoding",
    "propertyNames",
];

/// Keywords that only describe the schema document itself; removed.
pub const METADATA_KEYWORDS: &[&str] = &["$schema", "$id", "$comment"];

/// The JSON Schema type names.
const TYPE_NAMES: &[&str] = &[
    "string", "number", "integer", "boolean", "array", "object", "null",
];

impl Walker {
    /// Normalizes the schema at `at` and, recursively, its subschemas.
    pub(crate) fn schema(&mut self, value: &mut Value, at: &str) -> Result<(), Error> {
        boolean_schema(value, at)?;
        let object = object_mut(value, at, "a schema object or boolean")?;
        strip_metadata(object);
        check_schema_keywords(object, at)?;
        drop_trivial_property_names(object, at)?;
        ref_siblings_to_all_of(object, at)?;
        if object.len() == 1
            && let Some(reference) = object.get("$ref").and_then(Value::as_str)
        {
            self.record(&child(at, "$ref"), reference, false);
            return Ok(());
        }
        type_array(object, at)?;
        const_to_enum(object, at)?;
        examples_to_example(object, at)?;
        exclusive_bounds(object, at)?;
        content_to_format(object, at)?;
        self.subschemas(object, at)?;
        lift_null_branches(object, at, |branch, branch_at| {
            self.schema(branch, branch_at)
        })?;
        for (mapping_at, reference) in check_discriminator(object, at)? {
            self.record(&mapping_at, &reference, true);
        }
        Ok(())
    }

    /// Walks `properties`, `items`, `additionalProperties`, `allOf`, `not`.
    fn subschemas(&mut self, object: &mut Map<String, Value>, at: &str) -> Result<(), Error> {
        if let Some(properties) = object.get_mut("properties") {
            let at = child(at, "properties");
            let properties = object_mut(properties, &at, "a map of schemas")?;
            for (name, schema) in properties.iter_mut() {
                self.schema(schema, &child(&at, name))?;
            }
        }
        if let Some(items) = object.get_mut("items") {
            if items.is_array() {
                return Err(unsupported(at, "items"));
            }
            self.schema(items, &child(at, "items"))?;
        }
        if let Some(additional) = object.get_mut("additionalProperties")
            && !additional.is_boolean()
        {
            self.schema(additional, &child(at, "additionalProperties"))?;
        }
        if let Some(all_of) = object.get_mut("allOf") {
            let at = child(at, "allOf");
            let branches = schema_list(all_of, &at)?;
            for (i, branch) in branches.iter_mut().enumerate() {
                self.schema(branch, &child(&at, &i.to_string()))?;
            }
        }
        if let Some(not) = object.get_mut("not") {
            self.schema(not, &child(at, "not"))?;
        }
        Ok(())
    }
}

/// Replaces a boolean schema by its object form: `true` → `{}` (anything),
/// `false` → `{"not": {}}` (nothing). `additionalProperties` keeps its
/// boolean, which 3.0 allows there.
pub fn boolean_schema(value: &mut Value, at: &str) -> Result<(), Error> {
    match value {
        Value::Bool(true) => *value = json!({}),
        Value::Bool(false) => *value = json!({"not": {}}),
        Value::Object(_) => {}
        _ => return Err(malformed(at, "a schema object or boolean")),
    }
    Ok(())
}

/// Removes `$schema`, `$id` and `$comment`, which describe the schema
/// document rather than the data.
pub fn strip_metadata(object: &mut Map<String, Value>) {
    for keyword in METADATA_KEYWORDS {
        object.shift_remove(*keyword);
    }
}

/// Rejects every keyword that is neither an OpenAPI 3.0 keyword
/// ([`SCHEMA_30_KEYWORDS`]), nor one the rules convert
/// ([`CONVERTED_KEYWORDS`]), nor an `x-` extension.
///
/// This is where `if`/`then`/`else`, `dependentSchemas`,
/// `dependentRequired`, `prefixItems`, `contains`, `unevaluatedItems`,
/// `unevaluatedProperties`, `patternProperties`, `$defs`, `$anchor`,
/// `$dynamicRef` and the rest fail, with the schema's pointer.
pub fn check_schema_keywords(object: &Map<String, Value>, at: &str) -> Result<(), Error> {
    match object.keys().find(|key| {
        !key.starts_with("x-")
            && !SCHEMA_30_KEYWORDS.contains(&key.as_str())
            && !CONVERTED_KEYWORDS.contains(&key.as_str())
    }) {
        Some(key) => Err(unsupported(at, key)),
        None => Ok(()),
    }
}

/// Removes a `propertyNames` that every object key satisfies (`true`, `{}`
/// or `{"type": "string"}`, annotations allowed); any other is
/// [`Error::Unsupported`], since 3.0 cannot constrain keys.
pub fn drop_trivial_property_names(object: &mut Map<String, Value>, at: &str) -> Result<(), Error> {
    let Some(names) = object.get("propertyNames") else {
        return Ok(());
    };
    let trivial = match names {
        Value::Bool(true) => true,
        Value::Object(names) => names.iter().all(|(key, value)| match key.as_str() {
            "type" => value == "string",
            "title" | "description" | "$comment" => true,
            _ => false,
        }),
        _ => false,
    };
    if !trivial {
        return Err(unsupported(at, "propertyNames"));
    }
    object.shift_remove("propertyNames");
    Ok(())
}

/// Turns a `$ref` with sibling keywords (which 3.1 applies and 3.0
/// ignores) into `allOf: [{$ref}]` beside the siblings, so that
/// `description`, `title`, `default`, `nullable` and constraints survive.
///
/// The `allOf` takes the `$ref`'s place; if the schema already has an
/// `allOf`, the reference is appended to it.
pub fn ref_siblings_to_all_of(object: &mut Map<String, Value>, at: &str) -> Result<(), Error> {
    let Some(reference) = object.get("$ref") else {
        return Ok(());
    };
    if !reference.is_string() {
        return Err(malformed(&child(at, "$ref"), "a reference string"));
    }
    if object.len() == 1 {
        return Ok(());
    }
    let wrapped = json!({ "$ref": reference });
    match object.get_mut("allOf") {
        Some(Value::Array(all_of)) => {
            all_of.push(wrapped);
            object.shift_remove("$ref");
        }
        Some(_) => return Err(malformed(&child(at, "allOf"), "an array of schemas")),
        None => splice(object, "$ref", vec![("allOf".to_owned(), json!([wrapped]))]),
    }
    Ok(())
}

/// Converts a `type` array (and rejects `type: "null"` alone).
///
/// - `"null"` in the array becomes `nullable: true`;
/// - one other type: `type: T`;
/// - several: `anyOf` with one `{type: T}` branch per type, each carrying
///   the keywords that apply to its type (string: `minLength`, `maxLength`,
///   `pattern`, `contentMediaType`, `contentEncoding`; number and integer:
///   `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`,
///   `multipleOf`; array: `items`, `minItems`, `maxItems`, `uniqueItems`;
///   object: `properties`, `required`, `additionalProperties`,
///   `minProperties`, `maxProperties`; `format` to the type it describes);
///   annotations stay on the parent.
///
/// # Errors
///
/// [`Error::NullOnly`] for `"null"` alone; [`Error::Inexpressible`] for
/// several types beside `anyOf`, `oneOf`, `allOf`, `not`, `enum` or
/// `const`, or a `format` that fits none of the types.
pub fn type_array(object: &mut Map<String, Value>, at: &str) -> Result<(), Error> {
    let types = match object.get("type") {
        None => return Ok(()),
        Some(Value::String(name)) if name == "null" => return Err(null_only(at)),
        Some(Value::String(_)) => return Ok(()),
        Some(Value::Array(types)) => types,
        Some(_) => {
            return Err(malformed(
                &child(at, "type"),
                "a type name or array of them",
            ));
        }
    };
    let mut names: Vec<String> = Vec::with_capacity(types.len());
    for name in types {
        match name.as_str() {
            Some(name) if TYPE_NAMES.contains(&name) => {
                if !names.iter().any(|n| n == name) {
                    names.push(name.to_owned());
                }
            }
            _ => return Err(malformed(&child(at, "type"), "json schema type names")),
        }
    }
    let nullable = names.iter().any(|n| n == "null");
    names.retain(|n| n != "null");
    match names.len() {
        0 => return Err(null_only(at)),
        1 => {
            let name = names.pop().unwrap_or_default();
            object.insert("type".to_owned(), Value::String(name));
        }
        _ => split_types(object, at, &names)?,
    }
    if nullable {
        object.insert("nullable".to_owned(), Value::Bool(true));
    }
    Ok(())
}

/// Splits `type: [A, B, …]` (no `"null"`) into `anyOf` branches.
fn split_types(object: &mut Map<String, Value>, at: &str, names: &[String]) -> Result<(), Error> {
    const BLOCKERS: &[&str] = &["anyOf", "oneOf", "allOf", "not", "enum", "const"];
    if BLOCKERS.iter().any(|k| object.contains_key(*k)) {
        return Err(Error::Inexpressible {
            pointer: at.to_owned(),
            what: "a type array with several types beside `anyOf`, `oneOf`, `allOf`, `not`, `enum` or `const`",
        });
    }
    let applies = |keyword: &str, name: &str| -> bool {
        match keyword {
            "minLength" | "maxLength" | "pattern" | "contentMediaType" | "contentEncoding" => {
                name == "string"
            }
            "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" | "multipleOf" => {
                name == "number" || name == "integer"
            }
            "items" | "minItems" | "maxItems" | "uniqueItems" => name == "array",
            "properties"
            | "required"
            | "additionalProperties"
            | "minProperties"
            | "maxProperties" => name == "object",
            _ => false,
        }
    };
    let format_type = match object.get("format").and_then(Value::as_str) {
        None => None,
        Some(format) => {
            let candidates: &[&str] = match format {
                "int32" | "int64" => &["integer", "number"],
                "float" | "double" => &["number"],
                _ => &["string"],
            };
            let found = candidates
                .iter()
                .find(|c| names.iter().any(|n| n == *c))
                .copied();
            if found.is_none() {
                return Err(Error::Inexpressible {
                    pointer: at.to_owned(),
                    what: "a `format` that fits none of the types in `type`",
                });
            }
            found
        }
    };
    let mut branches = Vec::with_capacity(names.len());
    for name in names {
        let mut branch = Map::new();
        branch.insert("type".to_owned(), Value::String(name.clone()));
        for (keyword, value) in object.iter() {
            let goes_here = if keyword == "format" {
                format_type == Some(name.as_str())
            } else {
                applies(keyword, name)
            };
            if goes_here {
                branch.insert(keyword.clone(), value.clone());
            }
        }
        branches.push(Value::Object(branch));
    }
    // Keywords for a type that is listed have moved to its branch; those
    // for unlisted types (no-ops in 3.1 too) stay where they were.
    object.retain(|keyword, _| {
        let moved = if keyword == "format" {
            format_type.is_some()
        } else {
            names.iter().any(|name| applies(keyword, name))
        };
        !moved
    });
    splice(
        object,
        "type",
        vec![("anyOf".to_owned(), Value::Array(branches))],
    );
    Ok(())
}

/// Converts `const: v` to `enum: [v]`, adding the `type` that `v` implies
/// when the schema has none.
///
/// # Errors
///
/// [`Error::NullOnly`] for `const: null`; [`Error::Unsupported`] for an
/// object or array `const`; [`Error::Inexpressible`] if an `enum` beside
/// it does not contain `v`.
pub fn const_to_enum(object: &mut Map<String, Value>, at: &str) -> Result<(), Error> {
    let Some(value) = object.get("const").cloned() else {
        return Ok(());
    };
    let implied = match &value {
        Value::Null => return Err(null_only(at)),
        Value::Object(_) | Value::Array(_) => return Err(unsupported(at, "const")),
        Value::String(_) => "string",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
    };
    match object.get("enum") {
        None => splice(object, "const", vec![("enum".to_owned(), json!([value]))]),
        Some(Value::Array(values)) if values.contains(&value) => {
            object.insert("enum".to_owned(), json!([value]));
            object.shift_remove("const");
        }
        Some(_) => {
            return Err(Error::Inexpressible {
                pointer: at.to_owned(),
                what: "`const` beside an `enum` that does not contain it",
            });
        }
    }
    if !object.contains_key("type") {
        object.insert("type".to_owned(), Value::String(implied.to_owned()));
    }
    Ok(())
}

/// Converts the JSON Schema `examples` array to the 3.0 `example`: its
/// first item, unless the schema already has an `example`. An empty array
/// is removed. (Media-type and parameter `examples` maps are 3.0 and are
/// not schemas; the walker never brings them here.)
pub fn examples_to_example(object: &mut Map<String, Value>, at: &str) -> Result<(), Error> {
    let Some(examples) = object.get("examples") else {
        return Ok(());
    };
    let Value::Array(examples) = examples else {
        return Err(malformed(&child(at, "examples"), "an array of examples"));
    };
    match examples.first() {
        Some(first) if !object.contains_key("example") => {
            let first = first.clone();
            splice(object, "examples", vec![("example".to_owned(), first)]);
        }
        _ => {
            object.shift_remove("examples");
        }
    }
    Ok(())
}

/// Converts numeric `exclusiveMinimum: n` / `exclusiveMaximum: n` to
/// `minimum: n, exclusiveMinimum: true` (resp. maximum). Beside an
/// inclusive bound the stricter one is kept: `minimum: 0,
/// exclusiveMinimum: 5` becomes `minimum: 5, exclusiveMinimum: true`, and
/// `minimum: 5, exclusiveMinimum: 0` becomes `minimum: 5`. Boolean (3.0)
/// forms are left alone.
pub fn exclusive_bounds(object: &mut Map<String, Value>, at: &str) -> Result<(), Error> {
    exclusive_bound(object, at, "exclusiveMinimum", "minimum", Ordering::Greater)?;
    exclusive_bound(object, at, "exclusiveMaximum", "maximum", Ordering::Less)
}

/// One side of [`exclusive_bounds`]; `stricter` is how an exclusive bound
/// compares to an inclusive one when it is the stricter of the two.
fn exclusive_bound(
    object: &mut Map<String, Value>,
    at: &str,
    exclusive: &str,
    inclusive: &str,
    stricter: Ordering,
) -> Result<(), Error> {
    let bound = match object.get(exclusive) {
        None | Some(Value::Bool(_)) => return Ok(()),
        Some(Value::Number(n)) => n.clone(),
        Some(_) => return Err(malformed(&child(at, exclusive), "a number or boolean")),
    };
    match object.get(inclusive) {
        None => splice(
            object,
            exclusive,
            vec![
                (inclusive.to_owned(), Value::Number(bound)),
                (exclusive.to_owned(), Value::Bool(true)),
            ],
        ),
        Some(Value::Number(existing)) => {
            if compare(&bound, existing) == stricter || compare(&bound, existing) == Ordering::Equal
            {
                object.insert(inclusive.to_owned(), Value::Number(bound));
                object.insert(exclusive.to_owned(), Value::Bool(true));
            } else {
                object.shift_remove(exclusive);
            }
        }
        Some(_) => return Err(malformed(&child(at, inclusive), "a number")),
    }
    Ok(())
}

/// Compares two JSON numbers, exactly where both are integers.
fn compare(a: &Number, b: &Number) -> Ordering {
    if let (Some(a), Some(b)) = (a.as_i64(), b.as_i64()) {
        return a.cmp(&b);
    }
    if let (Some(a), Some(b)) = (a.as_u64(), b.as_u64()) {
        return a.cmp(&b);
    }
    let (a, b) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
    a.partial_cmp(&b).unwrap_or(Ordering::Equal)
}

/// Converts `contentEncoding` / `contentMediaType` on a string schema to a
/// 3.0 `format`, then removes them:
///
/// - `contentEncoding: base64` → `format: byte`;
/// - otherwise a non-text `contentMediaType` (`application/octet-stream`,
///   `image/png`, …) → `format: binary`;
/// - a text media type (`text/*`, JSON, XML, YAML, form data) adds
///   nothing: the string already is that text, and in 2020-12 these
///   keywords are annotations, so removing them changes no validation.
///
/// # Errors
///
/// [`Error::Unsupported`] for another `contentEncoding` or a
/// `contentSchema`; [`Error::Inexpressible`] if the schema is not
/// `type: string` or already has a different `format`.
pub fn content_to_format(object: &mut Map<String, Value>, at: &str) -> Result<(), Error> {
    let media = object.get("contentMediaType");
    let encoding = object.get("contentEncoding");
    if media.is_none() && encoding.is_none() {
        return Ok(());
    }
    if object.get("type").and_then(Value::as_str) != Some("string") {
        return Err(Error::Inexpressible {
            pointer: at.to_owned(),
            what: "`contentMediaType` or `contentEncoding` without `type: string`",
        });
    }
    let format = match encoding {
        Some(Value::String(e)) if e.eq_ignore_ascii_case("base64") => Some("byte"),
        Some(Value::String(_)) => return Err(unsupported(at, "contentEncoding")),
        Some(_) => return Err(malformed(&child(at, "contentEncoding"), "a string")),
        None => match media {
            Some(Value::String(m)) if is_text_media_type(m) => None,
            Some(Value::String(_)) => Some("binary"),
            _ => {
                return Err(malformed(
                    &child(at, "contentMediaType"),
                    "a media type string",
                ));
            }
        },
    };
    if let (Some(wanted), Some(existing)) = (format, object.get("format"))
        && existing != wanted
    {
        return Err(Error::Inexpressible {
            pointer: at.to_owned(),
            what: "a `format` that contradicts `contentMediaType` or `contentEncoding`",
        });
    }
    let first = if object.contains_key("contentMediaType") {
        "contentMediaType"
    } else {
        "contentEncoding"
    };
    match format {
        Some(format) if !object.contains_key("format") => splice(
            object,
            first,
            vec![("format".to_owned(), Value::String(format.to_owned()))],
        ),
        _ => {
            object.shift_remove(first);
        }
    }
    object.shift_remove("contentMediaType");
    object.shift_remove("contentEncoding");
    Ok(())
}

/// Whether a string of this media type is text a client can hold as a
/// `String`: `text/*`, JSON, XML, YAML, form data and their `+json`/`+xml`
/// relatives.
fn is_text_media_type(media: &str) -> bool {
    let essence = media
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || essence.ends_with("+yaml")
        || matches!(
            essence.as_str(),
            "application/json"
                | "application/xml"
                | "application/yaml"
                | "application/x-yaml"
                | "application/x-www-form-urlencoded"
                | "application/javascript"
        )
}

/// Lifts `{type: null}` branches out of `anyOf` and `oneOf`.
///
/// A branch is a null branch if it is `{type: "null"}`, `{type: ["null"]}`,
/// `{const: null}` or `{enum: [null, …]}` and nothing else (see
/// [`is_null_branch`]). The other branches are normalized with `walk`,
/// each at its original pointer; then, with the null branches gone:
///
/// - no branch left: [`Error::NullOnly`];
/// - one branch that is a bare `$ref`, or whose keywords clash with the
///   parent's: the branch moves into the parent's `allOf` (created where
///   the `anyOf` was) and the parent gets `nullable: true`;
/// - one other branch: its keywords are merged into the parent (the
///   parent's `title`, `description`, `default` stay) with `nullable:
///   true`, and `null` is added to an `enum` the branch brought (3.0.3:
///   `nullable` does not extend `enum`);
/// - several branches, or a parent with a `discriminator` (which must stay
///   beside its `oneOf`/`anyOf`): the list is kept, without the null
///   branches, and the parent gets `nullable: true`.
///
/// If the parent itself excludes null (a non-nullable `type`, or an `enum`
/// without null) the null branch could never match: it is removed without
/// adding `nullable`.
pub fn lift_null_branches(
    object: &mut Map<String, Value>,
    at: &str,
    mut walk: impl FnMut(&mut Value, &str) -> Result<(), Error>,
) -> Result<(), Error> {
    let has_discriminator = object.contains_key("discriminator");
    let parent_admits_null = admits_null(object);
    let mut nullable = false;
    let mut lifted = Vec::new();
    for key in ["anyOf", "oneOf"] {
        let Some(list) = object.get_mut(key) else {
            continue;
        };
        let list_at = child(at, key);
        let branches = schema_list(list, &list_at)?;
        let mut kept = Vec::with_capacity(branches.len());
        let mut had_null = false;
        for (i, mut branch) in std::mem::take(branches).into_iter().enumerate() {
            if is_null_branch(&branch) {
                had_null = true;
                continue;
            }
            walk(&mut branch, &child(&list_at, &i.to_string()))?;
            kept.push(branch);
        }
        if !had_null {
            *branches = kept;
            continue;
        }
        if kept.is_empty() {
            return Err(null_only(at));
        }
        nullable |= parent_admits_null;
        if kept.len() == 1 && !has_discriminator {
            lifted.push((key, kept.pop().unwrap_or_default()));
        } else {
            *branches = kept;
        }
    }
    for (key, branch) in lifted {
        let Value::Object(branch) = branch else {
            continue;
        };
        let bare_ref = branch.len() == 1 && branch.contains_key("$ref");
        let clashes = branch
            .iter()
            .any(|(k, v)| k != key && object.get(k).is_some_and(|p| p != v));
        if bare_ref || clashes {
            match object.get_mut("allOf") {
                Some(Value::Array(all_of)) => {
                    all_of.push(Value::Object(branch));
                    object.shift_remove(key);
                }
                _ => splice(
                    object,
                    key,
                    vec![("allOf".to_owned(), json!([Value::Object(branch)]))],
                ),
            }
        } else {
            let brings_enum = !object.contains_key("enum") && branch.contains_key("enum");
            let entries = branch
                .into_iter()
                .filter(|(k, _)| k == key || !object.contains_key(k))
                .collect();
            splice(object, key, entries);
            if brings_enum
                && parent_admits_null
                && let Some(Value::Array(values)) = object.get_mut("enum")
                && !values.contains(&Value::Null)
            {
                values.push(Value::Null);
            }
        }
    }
    if nullable {
        object.insert("nullable".to_owned(), Value::Bool(true));
    }
    Ok(())
}

/// Whether a schema's own `type` and `enum` let `null` through.
fn admits_null(object: &Map<String, Value>) -> bool {
    let nullable = object.get("nullable") == Some(&Value::Bool(true));
    let type_ok = !object.contains_key("type") || nullable;
    let enum_ok = match object.get("enum") {
        Some(Value::Array(values)) => values.contains(&Value::Null),
        _ => true,
    };
    type_ok && enum_ok
}

/// Whether a raw `anyOf`/`oneOf` branch admits exactly `null`.
pub fn is_null_branch(branch: &Value) -> bool {
    let Some(branch) = branch.as_object() else {
        return false;
    };
    let mut says_null = false;
    for (key, value) in branch {
        let ok = match key.as_str() {
            "type" => value == "null" || *value == json!(["null"]),
            "const" => value.is_null(),
            "enum" => value
                .as_array()
                .is_some_and(|v| !v.is_empty() && v.iter().all(Value::is_null)),
            k if METADATA_KEYWORDS.contains(&k) => continue,
            _ => false,
        };
        if !ok {
            return false;
        }
        says_null = true;
    }
    says_null
}

/// Checks a `discriminator` and returns its `mapping` values as (pointer,
/// reference) pairs; each must name an existing component once the
/// document is converted, which the walker checks at the end.
///
/// A mapping value that is not a reference (has no `#` or `/`) names a
/// schema in `#/components/schemas`. The discriminator itself stays where
/// it is: [`lift_null_branches`] keeps a `oneOf`/`anyOf` list beside it.
pub fn check_discriminator(
    object: &Map<String, Value>,
    at: &str,
) -> Result<Vec<(String, String)>, Error> {
    let mut references = Vec::new();
    let Some(discriminator) = object.get("discriminator") else {
        return Ok(references);
    };
    let at = child(at, "discriminator");
    let Some(discriminator) = discriminator.as_object() else {
        return Err(malformed(&at, "a discriminator object"));
    };
    if !discriminator
        .get("propertyName")
        .is_some_and(Value::is_string)
    {
        return Err(malformed(
            &child(&at, "propertyName"),
            "a property name string",
        ));
    }
    let Some(mapping) = discriminator.get("mapping") else {
        return Ok(references);
    };
    let at = child(&at, "mapping");
    let Some(mapping) = mapping.as_object() else {
        return Err(malformed(&at, "a map of references"));
    };
    for (value, target) in mapping {
        let Some(target) = target.as_str() else {
            return Err(malformed(&child(&at, value), "a reference or schema name"));
        };
        let reference = if target.contains(['#', '/']) {
            target.to_owned()
        } else {
            format!("#/components/schemas/{target}")
        };
        references.push((child(&at, value), reference));
    }
    Ok(references)
}

/// The branches of `allOf`/`anyOf`/`oneOf`, which must be a non-empty array.
fn schema_list<'v>(list: &'v mut Value, at: &str) -> Result<&'v mut Vec<Value>, Error> {
    match list {
        Value::Array(branches) if !branches.is_empty() => Ok(branches),
        _ => Err(malformed(at, "a non-empty array of schemas")),
    }
}

fn null_only(at: &str) -> Error {
    Error::NullOnly {
        pointer: at.to_owned(),
    }
}

/// Replaces the entry `key` by `entries`, in its place; an entry whose key
/// appears elsewhere in the map moves here. If `key` is absent the entries
/// are appended.
fn splice(object: &mut Map<String, Value>, key: &str, entries: Vec<(String, Value)>) {
    let mut entries = Some(entries);
    let new_keys: Vec<String> = entries.iter().flatten().map(|(k, _)| k.clone()).collect();
    let old = std::mem::take(object);
    for (k, v) in old {
        if k == key {
            for (nk, nv) in entries.take().into_iter().flatten() {
                object.insert(nk, nv);
            }
        } else if !new_keys.contains(&k) {
            object.insert(k, v);
        }
    }
    for (nk, nv) in entries.into_iter().flatten() {
        object.insert(nk, nv);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn splice_keeps_position() {
        let mut map = obj(json!({"a": 1, "b": 2, "c": 3}));
        splice(
            &mut map,
            "b",
            vec![("x".into(), json!(9)), ("c".into(), json!(8))],
        );
        assert_eq!(
            serde_json::to_string(&map).ok().as_deref(),
            Some(r#"{"a":1,"x":9,"c":8}"#)
        );
    }

    #[test]
    fn null_branches() {
        assert!(is_null_branch(&json!({"type": "null"})));
        assert!(is_null_branch(&json!({"type": ["null"]})));
        assert!(is_null_branch(&json!({"const": null})));
        assert!(is_null_branch(&json!({"enum": [null]})));
        assert!(!is_null_branch(
            &json!({"type": "null", "title": "Nothing"})
        ));
        assert!(!is_null_branch(&json!({})));
        assert!(!is_null_branch(&json!({"type": ["string", "null"]})));
    }

    #[test]
    fn text_media_types() {
        assert!(is_text_media_type("text/plain; charset=utf-8"));
        assert!(is_text_media_type("application/problem+json"));
        assert!(!is_text_media_type("application/octet-stream"));
        assert!(!is_text_media_type("image/png"));
    }

    #[test]
    fn exclusive_bounds_keep_the_stricter() {
        let mut map = obj(json!({"minimum": 0, "exclusiveMinimum": 5}));
        assert!(exclusive_bounds(&mut map, "").is_ok());
        assert_eq!(
            Value::Object(map),
            json!({"minimum": 5, "exclusiveMinimum": true})
        );
        let mut map = obj(json!({"maximum": 10, "exclusiveMaximum": 10.5}));
        assert!(exclusive_bounds(&mut map, "").is_ok());
        assert_eq!(Value::Object(map), json!({"maximum": 10}));
        let mut map = obj(json!({"minimum": 5, "exclusiveMinimum": 5}));
        assert!(exclusive_bounds(&mut map, "").is_ok());
        assert_eq!(
            Value::Object(map),
            json!({"minimum": 5, "exclusiveMinimum": true})
        );
    }
}
