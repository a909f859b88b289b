//! Reading a schema of a normalized document: following `$ref`s, the
//! wrappers the normalizer leaves around a reference, and the members of a
//! union.
//!
//! The mock's response validator and the conformance suite's value
//! strategies both walk schemas with these functions; what each does at a
//! schema (checking a value, generating one) stays with it. Everything
//! here is bounded: a cyclic or dangling reference ends the walk, nothing
//! panics.

use serde_json::{Map, Value};

/// Most `$ref`s or wrappers followed in a row before giving up (a cycle).
const MAX_HOPS: usize = 32;

/// The value a local reference (`#/components/schemas/Name`, any JSON
/// pointer after `#`) points to in `document`.
pub fn resolve_ref<'a>(document: &'a Value, reference: &str) -> Option<&'a Value> {
    document.pointer(reference.strip_prefix('#')?)
}

/// Follows `$ref`s from `value` until a value without one; a dangling or
/// cyclic reference yields the last value reached.
pub fn resolve<'a>(document: &'a Value, mut value: &'a Value) -> &'a Value {
    for _ in 0..MAX_HOPS {
        let Some(target) = value
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| resolve_ref(document, r))
        else {
            return value;
        };
        value = target;
    }
    value
}

/// Unwraps the ways the normalized document wraps a schema: `$ref` and a
/// single-element `allOf` (used to attach a description or `nullable` to a
/// reference). Returns the schema and whether any layer was `nullable`.
pub fn unwrap<'a>(document: &'a Value, mut schema: &'a Value) -> (&'a Value, bool) {
    let mut nullable = false;
    for _ in 0..MAX_HOPS {
        nullable |= is_nullable(schema);
        if schema.get("$ref").is_some() {
            let next = resolve(document, schema);
            if std::ptr::eq(next, schema) {
                break;
            }
            schema = next;
            continue;
        }
        match schema
            .get("allOf")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            Some([only]) => schema = only,
            _ => break,
        }
    }
    (schema, nullable)
}

/// Whether a schema layer says `nullable: true`.
pub fn is_nullable(schema: &Value) -> bool {
    schema.get("nullable").and_then(Value::as_bool) == Some(true)
}

/// The members of a union: its `oneOf`, or else its `anyOf`.
pub fn alternatives(schema: &Value) -> Option<&[Value]> {
    schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
}

/// A union's `discriminator`: the tag property and the tag → `$ref`
/// mapping.
#[derive(Debug, Clone, Copy)]
pub struct Discriminator<'a> {
    /// The property holding the tag (`propertyName`).
    pub property: &'a str,
    /// Each tag's member, as a `$ref` string.
    pub mapping: &'a Map<String, Value>,
}

impl<'a> Discriminator<'a> {
    /// The discriminator of `schema`, when it has a `propertyName` and a
    /// `mapping`.
    pub fn of(schema: &'a Value) -> Option<Discriminator<'a>> {
        let discriminator = schema.get("discriminator")?;
        Some(Discriminator {
            property: discriminator.get("propertyName")?.as_str()?,
            mapping: discriminator.get("mapping")?.as_object()?,
        })
    }

    /// The `$ref` of the member `tag` names.
    pub fn target(&self, tag: &str) -> Option<&'a str> {
        self.mapping.get(tag)?.as_str()
    }

    /// The tag whose member is `reference`.
    pub fn tag_of(&self, reference: &str) -> Option<&'a str> {
        self.mapping
            .iter()
            .find(|(_, target)| target.as_str() == Some(reference))
            .map(|(tag, _)| tag.as_str())
    }

    /// Each tag with its member schema, `$ref`s and wrappers unwrapped
    /// ([`unwrap`]); a tag whose reference does not resolve is left out.
    pub fn members(
        &self,
        document: &'a Value,
    ) -> impl Iterator<Item = (&'a str, &'a Value)> + use<'a> {
        let mapping = self.mapping;
        mapping.iter().filter_map(move |(tag, reference)| {
            let member = resolve_ref(document, reference.as_str()?)?;
            Some((tag.as_str(), unwrap(document, member).0))
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn document() -> Value {
        json!({"components": {"schemas": {
            "A": {"type": "object", "properties": {"type": {"enum": ["a"]}}},
            "B": {"$ref": "#/components/schemas/A"},
            "Loop": {"$ref": "#/components/schemas/Loop"},
            "U": {
                "oneOf": [{"$ref": "#/components/schemas/A"}, {"$ref": "#/components/schemas/Gone"}],
                "discriminator": {"propertyName": "type", "mapping": {
                    "a": "#/components/schemas/A", "gone": "#/components/schemas/Gone"
                }}
            }
        }}})
    }

    #[test]
    fn references_are_followed_and_a_cycle_ends() {
        let doc = document();
        let a = &doc["components"]["schemas"]["A"];
        assert!(std::ptr::eq(
            resolve(&doc, &json!({"$ref": "#/components/schemas/B"})),
            a
        ));
        let cycle = json!({"$ref": "#/components/schemas/Loop"});
        assert_eq!(resolve(&doc, &cycle)["$ref"], "#/components/schemas/Loop");
        assert_eq!(resolve_ref(&doc, "components/schemas/A"), None);
        assert_eq!(resolve_ref(&doc, "#/components/schemas/Gone"), None);
    }

    #[test]
    fn wrappers_are_unwrapped_and_nullable_collected() {
        let doc = document();
        let wrapped = json!({"allOf": [{"$ref": "#/components/schemas/B"}], "nullable": true});
        let (schema, nullable) = unwrap(&doc, &wrapped);
        assert!(std::ptr::eq(schema, &doc["components"]["schemas"]["A"]));
        assert!(nullable);
        let two = json!({"allOf": [{"type": "string"}, {"minLength": 1}]});
        assert_eq!(unwrap(&doc, &two), (&two, false));
        let cycle = json!({"$ref": "#/components/schemas/Loop"});
        assert_eq!(unwrap(&doc, &cycle).0["$ref"], "#/components/schemas/Loop");
    }

    #[test]
    fn a_union_has_alternatives_and_a_discriminator() {
        let doc = document();
        let union = &doc["components"]["schemas"]["U"];
        assert_eq!(alternatives(union).map(<[Value]>::len), Some(2));
        assert_eq!(
            alternatives(&json!({"anyOf": []})).map(<[Value]>::len),
            Some(0)
        );
        assert!(alternatives(&json!({"type": "string"})).is_none());
        let tags = Discriminator::of(union).expect("a discriminator");
        assert_eq!(tags.property, "type");
        assert_eq!(tags.target("a"), Some("#/components/schemas/A"));
        assert_eq!(tags.tag_of("#/components/schemas/A"), Some("a"));
        assert_eq!(tags.tag_of("#/components/schemas/B"), None);
        let members: Vec<&str> = tags.members(&doc).map(|(tag, _)| tag).collect();
        assert_eq!(members, ["a"]);
        assert!(Discriminator::of(&json!({"discriminator": {"propertyName": "t"}})).is_none());
    }
}
