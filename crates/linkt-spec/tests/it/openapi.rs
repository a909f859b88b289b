//! A FastAPI-shaped 3.1 document through the whole pipeline: normalized
//! (snapshot), parsed by `openapiv3`, and checked where progenitor looks.

use linkt_spec::{load, normalize, to_openapiv3};
use openapiv3::{ReferenceOr, SchemaKind, StringFormat, Type, VariantOrUnknownOrEmpty};
use serde_json::json;

use crate::common::{fixture, objects, pretty};

fn normalized() -> serde_json::Value {
    normalize(load(&fixture("fastapi.json")).expect("fixture loads")).expect("normalizes")
}

#[test]
fn fastapi_document_snapshot() {
    insta::with_settings!({
        description => "tests/it/fixtures/fastapi.json, normalized",
        omit_expression => true,
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_snapshot!("fastapi_normalized", pretty(&normalized()));
    });
}

#[test]
fn fastapi_document_parses_as_openapi_3_0() {
    let doc = normalized();
    let api = to_openapiv3(&doc).expect("parses as 3.0");
    assert_eq!(api.openapi, "3.0.3");
    assert_eq!(api.operations().count(), 3);
    for object in objects(&doc) {
        assert_ne!(object.get("type"), Some(&json!("null")), "{object:?}");
        assert!(!object.contains_key("const"), "{object:?}");
    }

    let components = api.components.as_ref().expect("components");
    let schema = |name: &str| match components.schemas.get(name) {
        Some(ReferenceOr::Item(schema)) => schema.clone(),
        other => panic!("{name}: {other:?}"),
    };

    // anyOf-null query parameter → nullable string.
    let (_, _, list) = api
        .operations()
        .find(|(_, method, _)| *method == "get")
        .expect("list operation");
    let cursor = list
        .parameters
        .iter()
        .find_map(|p| match p {
            ReferenceOr::Item(p) if p.parameter_data_ref().name == "cursor" => Some(p.clone()),
            _ => None,
        })
        .expect("cursor parameter");
    let openapiv3::ParameterSchemaOrContent::Schema(ReferenceOr::Item(cursor)) =
        &cursor.parameter_data_ref().format
    else {
        panic!("cursor schema is inline");
    };
    assert!(cursor.schema_data.nullable);
    assert!(matches!(
        cursor.schema_kind,
        SchemaKind::Type(Type::String(_))
    ));

    // Discriminated union with const tags.
    let page = schema("PetPage");
    let SchemaKind::Type(Type::Object(page)) = page.schema_kind else {
        panic!("PetPage is an object");
    };
    let Some(ReferenceOr::Item(items)) = page.properties.get("items") else {
        panic!("items is inline");
    };
    let SchemaKind::Type(Type::Array(items)) = &items.schema_kind else {
        panic!("items is an array");
    };
    let Some(ReferenceOr::Item(union)) = &items.items else {
        panic!("union is inline");
    };
    let discriminator = union
        .schema_data
        .discriminator
        .as_ref()
        .expect("discriminator");
    assert_eq!(discriminator.property_name, "pet_type");
    assert!(matches!(&union.schema_kind, SchemaKind::OneOf { one_of } if one_of.len() == 2));
    let SchemaKind::Type(Type::Object(cat)) = schema("Cat").schema_kind else {
        panic!("Cat is an object");
    };
    let Some(ReferenceOr::Item(tag)) = cat.properties.get("pet_type") else {
        panic!("pet_type is inline");
    };
    assert!(
        matches!(&tag.schema_kind, SchemaKind::Type(Type::String(s)) if s.enumeration == [Some("cat".to_owned())])
    );

    // Multipart upload: binary strings.
    let SchemaKind::Type(Type::Object(body)) =
        schema("Body_upload_photo_pets__pet_id__photo_post").schema_kind
    else {
        panic!("upload body is an object");
    };
    for name in ["file", "thumbnail"] {
        let Some(ReferenceOr::Item(file)) = body.properties.get(name) else {
            panic!("{name} is inline");
        };
        assert!(
            matches!(
                &file.schema_kind,
                SchemaKind::Type(Type::String(s)) if s.format == VariantOrUnknownOrEmpty::Item(StringFormat::Binary)
            ),
            "{name}: {file:?}"
        );
    }

    // HTTPValidationError and its items.
    assert!(components.schemas.contains_key("HTTPValidationError"));
    assert!(components.schemas.contains_key("ValidationError"));
}

#[test]
fn normalizing_the_output_again_changes_nothing() {
    let once = normalized();
    let mut relabeled = once.clone();
    relabeled["openapi"] = json!("3.1.0");
    assert_eq!(normalize(relabeled).expect("normalizes again"), once);
    assert_eq!(normalize(once.clone()).expect("3.0 passes"), once);
}
