//! Discriminator properties made required in the variants they select.
//!
//! Not a normalization rule: the vendor document is valid without it, and
//! [`normalize`](crate::normalize) leaves it alone. OpenAPI 3.0 says the
//! discriminator property must be present in every variant, pydantic needs the
//! tag to pick a variant, and the server always sends it; pydantic only leaves
//! it out of `required` because the tag has a default. Code generation applies
//! this so that a request never goes out without its tag, and the tests that
//! mirror the generated types apply it too.

use serde_json::Value;

use crate::Error;

/// Adds each discriminator's `propertyName` to the `required` list of every
/// component its `mapping` names.
///
/// # Errors
///
/// [`Error::Unresolved`] when a mapping names no component, and
/// [`Error::Malformed`] when the variant has no such property.
pub fn require_discriminators(document: &mut Value) -> Result<(), Error> {
    let mut wanted = Vec::new();
    collect(document, "", &mut wanted);
    for (at, property, target) in wanted {
        let pointer = target.strip_prefix('#').unwrap_or(&target).to_owned();
        let schema = document
            .pointer_mut(&pointer)
            .and_then(Value::as_object_mut)
            .ok_or_else(|| Error::Unresolved {
                pointer: format!("{at}/discriminator/mapping"),
                reference: target.clone(),
            })?;
        let has_property = schema
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|props| props.contains_key(&property));
        if !has_property {
            return Err(Error::Malformed {
                pointer: format!("{pointer}/properties"),
                expected: "the discriminator property among the variant's properties",
            });
        }
        if let Value::Array(required) = schema
            .entry("required")
            .or_insert_with(|| Value::Array(Vec::new()))
            && !required
                .iter()
                .any(|r| r.as_str() == Some(property.as_str()))
        {
            required.push(Value::String(property));
        }
    }
    Ok(())
}

/// `(pointer of the schema, property, mapping target)` for every discriminator.
fn collect(value: &Value, at: &str, out: &mut Vec<(String, String, String)>) {
    match value {
        Value::Object(map) => {
            if let Some(discriminator) = map.get("discriminator")
                && let Some(property) = discriminator.get("propertyName").and_then(Value::as_str)
                && let Some(mapping) = discriminator.get("mapping").and_then(Value::as_object)
            {
                for target in mapping.values().filter_map(Value::as_str) {
                    out.push((at.to_owned(), property.to_owned(), target.to_owned()));
                }
            }
            for (key, child) in map {
                let key = key.replace('~', "~0").replace('/', "~1");
                collect(child, &format!("{at}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                collect(child, &format!("{at}/{index}"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn discriminator_properties_become_required_in_mapped_variants() {
        let mut doc = json!({ "components": { "schemas": {
            "Holder": { "properties": { "config": {
                "oneOf": [ { "$ref": "#/components/schemas/A" } ],
                "discriminator": { "propertyName": "type",
                                   "mapping": { "a": "#/components/schemas/A" } } } } },
            "A": { "type": "object", "required": ["x"],
                   "properties": { "x": {}, "type": { "enum": ["a"], "default": "a" } } }
        } } });
        require_discriminators(&mut doc).expect("required");
        assert_eq!(
            doc["components"]["schemas"]["A"]["required"],
            json!(["x", "type"])
        );
        // Idempotent.
        require_discriminators(&mut doc).expect("again");
        assert_eq!(
            doc["components"]["schemas"]["A"]["required"],
            json!(["x", "type"])
        );
    }

    #[test]
    fn a_variant_without_the_property_is_an_error_naming_it() {
        let mut doc = json!({ "components": { "schemas": {
            "Holder": { "discriminator": { "propertyName": "kind",
                                           "mapping": { "a": "#/components/schemas/A" } } },
            "A": { "properties": { "x": {} } }
        } } });
        let err = require_discriminators(&mut doc).expect_err("no such property");
        assert_eq!(err.pointer(), Some("/components/schemas/A/properties"));
    }

    #[test]
    fn a_mapping_to_nothing_is_an_error() {
        let mut doc = json!({ "components": { "schemas": {
            "Holder": { "discriminator": { "propertyName": "kind",
                                           "mapping": { "a": "#/components/schemas/Gone" } } }
        } } });
        let err = require_discriminators(&mut doc).expect_err("unresolved");
        assert_eq!(
            err.pointer(),
            Some("/components/schemas/Holder/discriminator/mapping")
        );
    }
}
