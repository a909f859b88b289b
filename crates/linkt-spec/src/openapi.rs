//! Parsing a normalized document into [`openapiv3::OpenAPI`], the model
//! progenitor reads.
//!
//! Serde's errors for this model rarely say where they are (most of it is
//! untagged enums and flattened maps), so on failure this module searches
//! for the innermost object that fails on its own and reports its pointer.
//! Only the parsing and that search belong here; conversions belong to
//! [`crate::rules`].

use openapiv3::{
    Callback, Components, Example, ExternalDocumentation, Header, Info, Link, MediaType, OpenAPI,
    Operation, Parameter, PathItem, ReferenceOr, RequestBody, Response, Schema,
    SecurityRequirement, SecurityScheme, Server, Tag,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::Error;
use crate::pointer::child;

/// Deserializes a normalized (OpenAPI 3.0.x) document.
///
/// # Errors
///
/// [`Error::Version`] unless `openapi` is 3.0.x (run [`crate::normalize`]
/// first); [`Error::Deserialize`] with the pointer of the innermost object
/// that does not deserialize on its own, and serde's message for it.
pub fn to_openapiv3(doc: &Value) -> Result<OpenAPI, Error> {
    let found = doc.get("openapi").and_then(Value::as_str).unwrap_or("");
    if !found.starts_with("3.0.") {
        return Err(Error::Version {
            found: found.to_owned(),
            expected: "3.0.x",
        });
    }
    match OpenAPI::deserialize_from(doc) {
        Ok(api) => Ok(api),
        Err(whole) => {
            let (pointer, source) = match locate_root(doc) {
                Some((pointer, kind, part)) => (pointer, check(kind, part).err().unwrap_or(whole)),
                None => (String::new(), whole),
            };
            Err(Error::Deserialize { pointer, source })
        }
    }
}

/// Deserializing from a borrowed value, for brevity.
trait DeserializeFrom: Sized {
    fn deserialize_from(value: &Value) -> Result<Self, serde_json::Error>;
}

impl<T: DeserializeOwned> DeserializeFrom for T {
    fn deserialize_from(value: &Value) -> Result<Self, serde_json::Error> {
        T::deserialize(value)
    }
}

/// What kind of OpenAPI object sits at a pointer, for the search.
#[derive(Clone, Copy)]
enum Kind {
    Info,
    Servers,
    Paths,
    PathItem,
    Operation,
    Parameter,
    RequestBody,
    Response,
    Header,
    MediaType,
    Schema,
    Components,
    Example,
    Link,
    Callback,
    SecurityScheme,
    Security,
    Tags,
    ExternalDocs,
}

/// Parses `value` as `kind`, for its error.
fn check(kind: Kind, value: &Value) -> Result<(), serde_json::Error> {
    fn run<T: DeserializeOwned>(value: &Value) -> Result<(), serde_json::Error> {
        T::deserialize_from(value).map(drop)
    }
    match kind {
        Kind::Info => run::<Info>(value),
        Kind::Servers => run::<Vec<Server>>(value),
        Kind::Paths => run::<openapiv3::Paths>(value),
        Kind::PathItem => run::<ReferenceOr<PathItem>>(value),
        Kind::Operation => run::<Operation>(value),
        Kind::Parameter => run::<ReferenceOr<Parameter>>(value),
        Kind::RequestBody => run::<ReferenceOr<RequestBody>>(value),
        Kind::Response => run::<ReferenceOr<Response>>(value),
        Kind::Header => run::<ReferenceOr<Header>>(value),
        Kind::MediaType => run::<MediaType>(value),
        Kind::Schema => run::<ReferenceOr<Schema>>(value),
        Kind::Components => run::<Components>(value),
        Kind::Example => run::<ReferenceOr<Example>>(value),
        Kind::Link => run::<ReferenceOr<Link>>(value),
        Kind::Callback => run::<ReferenceOr<Callback>>(value),
        Kind::SecurityScheme => run::<ReferenceOr<SecurityScheme>>(value),
        Kind::Security => run::<Vec<SecurityRequirement>>(value),
        Kind::Tags => run::<Vec<Tag>>(value),
        Kind::ExternalDocs => run::<ExternalDocumentation>(value),
    }
}

/// A located object: its pointer, its kind and its value.
type Located<'v> = (String, Kind, &'v Value);

/// The innermost failing object under the root, if one fails on its own.
fn locate_root(doc: &Value) -> Option<Located<'_>> {
    let root = doc.as_object()?;
    for (key, value) in root {
        let kind = match key.as_str() {
            "info" => Kind::Info,
            "servers" => Kind::Servers,
            "paths" => Kind::Paths,
            "components" => Kind::Components,
            "security" => Kind::Security,
            "tags" => Kind::Tags,
            "externalDocs" => Kind::ExternalDocs,
            _ => continue,
        };
        let at = child("", key);
        if check(kind, value).is_err() {
            return Some(locate(kind, value, &at).unwrap_or((at, kind, value)));
        }
    }
    None
}

/// Within `value` (known to fail as `kind`), the innermost child that
/// fails on its own; `None` if no child does.
fn locate<'v>(kind: Kind, value: &'v Value, at: &str) -> Option<Located<'v>> {
    for (child_at, child_kind, child_value) in children(kind, value, at) {
        if check(child_kind, child_value).is_err() {
            let here = locate(child_kind, child_value, &child_at);
            return Some(here.unwrap_or((child_at, child_kind, child_value)));
        }
    }
    None
}

/// The typed children of an object, for the search.
fn children<'v>(kind: Kind, value: &'v Value, at: &str) -> Vec<Located<'v>> {
    let mut out = Vec::new();
    let Some(object) = value.as_object() else {
        return out;
    };
    match kind {
        Kind::Paths => {
            for (path, item) in object {
                if !path.starts_with("x-") {
                    out.push((child(at, path), Kind::PathItem, item));
                }
            }
        }
        Kind::Components => {
            push_map(&mut out, object, at, "schemas", Kind::Schema);
            push_map(&mut out, object, at, "responses", Kind::Response);
            push_map(&mut out, object, at, "parameters", Kind::Parameter);
            push_map(&mut out, object, at, "examples", Kind::Example);
            push_map(&mut out, object, at, "requestBodies", Kind::RequestBody);
            push_map(&mut out, object, at, "headers", Kind::Header);
            push_map(
                &mut out,
                object,
                at,
                "securitySchemes",
                Kind::SecurityScheme,
            );
            push_map(&mut out, object, at, "links", Kind::Link);
            push_map(&mut out, object, at, "callbacks", Kind::Callback);
        }
        Kind::PathItem | Kind::Operation => {
            if matches!(kind, Kind::Operation) {
                push_map(&mut out, object, at, "responses", Kind::Response);
                push_map(&mut out, object, at, "callbacks", Kind::Callback);
            }
            push_list(
                &mut out,
                object.get("parameters"),
                &child(at, "parameters"),
                Kind::Parameter,
            );
            if let Some(body) = object.get("requestBody") {
                out.push((child(at, "requestBody"), Kind::RequestBody, body));
            }
            for method in [
                "get", "put", "post", "delete", "options", "head", "patch", "trace",
            ] {
                if let Some(operation) = object.get(method) {
                    out.push((child(at, method), Kind::Operation, operation));
                }
            }
        }
        Kind::Parameter | Kind::Header => {
            if let Some(schema) = object.get("schema") {
                out.push((child(at, "schema"), Kind::Schema, schema));
            }
            push_map(&mut out, object, at, "content", Kind::MediaType);
            push_map(&mut out, object, at, "examples", Kind::Example);
        }
        Kind::RequestBody => push_map(&mut out, object, at, "content", Kind::MediaType),
        Kind::Response => {
            push_map(&mut out, object, at, "headers", Kind::Header);
            push_map(&mut out, object, at, "content", Kind::MediaType);
            push_map(&mut out, object, at, "links", Kind::Link);
        }
        Kind::MediaType => {
            if let Some(schema) = object.get("schema") {
                out.push((child(at, "schema"), Kind::Schema, schema));
            }
            push_map(&mut out, object, at, "examples", Kind::Example);
        }
        Kind::Callback => {
            for (expression, item) in object {
                if !expression.starts_with("x-") {
                    out.push((child(at, expression), Kind::PathItem, item));
                }
            }
        }
        Kind::Schema => {
            push_map(&mut out, object, at, "properties", Kind::Schema);
            for key in ["items", "not"] {
                if let Some(schema) = object.get(key) {
                    out.push((child(at, key), Kind::Schema, schema));
                }
            }
            if let Some(schema @ Value::Object(_)) = object.get("additionalProperties") {
                out.push((child(at, "additionalProperties"), Kind::Schema, schema));
            }
            for key in ["allOf", "anyOf", "oneOf"] {
                push_list(&mut out, object.get(key), &child(at, key), Kind::Schema);
            }
        }
        Kind::Info
        | Kind::Servers
        | Kind::Example
        | Kind::Link
        | Kind::SecurityScheme
        | Kind::Security
        | Kind::Tags
        | Kind::ExternalDocs => {}
    }
    out
}

fn push_map<'v>(
    out: &mut Vec<Located<'v>>,
    object: &'v serde_json::Map<String, Value>,
    at: &str,
    key: &str,
    kind: Kind,
) {
    if let Some(Value::Object(map)) = object.get(key) {
        let at = child(at, key);
        for (name, v) in map {
            if !name.starts_with("x-") {
                out.push((child(&at, name), kind, v));
            }
        }
    }
}

fn push_list<'v>(out: &mut Vec<Located<'v>>, list: Option<&'v Value>, at: &str, kind: Kind) {
    if let Some(Value::Array(items)) = list {
        for (i, item) in items.iter().enumerate() {
            out.push((child(at, &i.to_string()), kind, item));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn locates_a_bad_schema() {
        let doc = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {},
            "components": {"schemas": {
                "Ok": {"type": "string"},
                "Bad": {"type": "object", "properties": {"x": {"type": "array", "items": 3}}}
            }}
        });
        let err = to_openapiv3(&doc).err();
        assert_eq!(
            err.as_ref().and_then(Error::pointer),
            Some("/components/schemas/Bad/properties/x/items")
        );
    }

    #[test]
    fn locates_a_missing_response_description() {
        let doc = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {"/a": {"get": {"responses": {"200": {}}}}}
        });
        let err = to_openapiv3(&doc).err();
        assert_eq!(
            err.as_ref().and_then(Error::pointer),
            Some("/paths/~1a/get/responses/200")
        );
        assert!(
            err.and_then(|e| std::error::Error::source(&e).map(ToString::to_string))
                .is_some_and(|s| s.contains("description"))
        );
    }
}
