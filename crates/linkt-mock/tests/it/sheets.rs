//! Sheets and their schemas: one sheet per targeted entity type, custom
//! fields added and removed, defaults and field definitions.

use linkt::ErrorKind;
use linkt::types::{self, CustomFieldDefinitionFieldType as FieldType, EntityType};

use crate::{
    KEY_A, advance, client, create_icp, create_search_task, create_sheet, error, execute, finish,
    searchable_icp, server,
};

fn field(name: &str, ty: FieldType) -> types::builder::CustomFieldDefinition {
    types::CustomFieldDefinition::builder()
        .name(name)
        .field_type(ty)
        .description(format!("{name} guidance"))
}

#[tokio::test]
async fn create_retrieve_update_list_delete() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let icp = create_icp(&a, "Sheets").await;
    let sheet = create_sheet(&a, &icp.id, EntityType::Company).await;
    assert_eq!(sheet.entity_type.as_deref(), Some("company"));
    assert_eq!(sheet.entity_schema["title"], "Company");
    assert!(sheet.entity_schema["properties"]["headquarters"].is_object());

    let listed = a
        .sheet_list()
        .icp_id(icp.id.clone())
        .send()
        .await
        .expect("list");
    assert_eq!(listed.total, 1);
    assert_eq!(listed.sheets[0]["id"], sheet.id.as_str());
    assert_eq!(listed.sheets[0]["entity_count"], 0);

    advance(&server, 5);
    a.sheet_update()
        .sheet_id(sheet.id.as_str())
        .body(types::UpdateSheetRequest::builder().name(Some("Q2 targets".parse().expect("name"))))
        .send()
        .await
        .expect("update");
    let fetched = a
        .sheet_retrieve()
        .sheet_id(sheet.id.as_str())
        .send()
        .await
        .expect("retrieve");
    assert_eq!(fetched.name, "Q2 targets");
    assert_eq!(fetched.description, sheet.description);
    assert!(fetched.updated_at > sheet.updated_at);

    let other = create_icp(&a, "Other").await;
    let err = error(
        a.sheet_update()
            .sheet_id(sheet.id.as_str())
            .body(types::UpdateSheetRequest::builder().icp_id(Some(other.id.parse().expect("id"))))
            .send()
            .await,
    );
    assert_eq!(err.kind(), ErrorKind::BadRequest);

    create_sheet(&a, &icp.id, EntityType::Person).await;
    create_sheet(&a, &other.id, EntityType::Company).await;
    let people = a
        .sheet_list()
        .entity_type("person")
        .send()
        .await
        .expect("list");
    assert_eq!(people.total, 1);
    let paged = a
        .sheet_list()
        .page(2_i64)
        .page_size(2_i64)
        .send()
        .await
        .expect("page 2");
    assert_eq!((paged.total, paged.sheets.len()), (3, 1));

    a.sheet_delete()
        .sheet_id(sheet.id.as_str())
        .send()
        .await
        .expect("delete");
    let err = error(a.sheet_retrieve().sheet_id(sheet.id.as_str()).send().await);
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(a.sheet_list().send().await.expect("list").total, 2);
    finish(&server);
}

#[tokio::test]
async fn a_sheet_needs_a_targeted_type_and_is_unique_per_type() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let icp = create_icp(&a, "Two targets").await;
    let body = |ty| {
        types::CreateSheetRequest::builder()
            .name("s")
            .description("d")
            .icp_id(icp.id.clone())
            .entity_type(ty)
    };
    let err = error(
        a.sheet_create()
            .body(body(EntityType::SchoolDistrict))
            .send()
            .await,
    );
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert!(
        err.message().contains("school_district"),
        "{}",
        err.message()
    );
    a.sheet_create()
        .body(body(EntityType::Company))
        .send()
        .await
        .expect("first");
    let err = error(
        a.sheet_create()
            .body(body(EntityType::Company))
            .send()
            .await,
    );
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    finish(&server);
}

#[tokio::test]
async fn deleting_a_sheet_deletes_its_entities() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let (icp, companies, people) = searchable_icp(&a, "Cascade").await;
    let task = create_search_task(&a, &icp.id, 1).await;
    execute(&a, &task.id, 3).await;
    advance(&server, 300);
    assert_eq!(
        a.entity_list()
            .sheet_id(people.id.clone())
            .send()
            .await
            .expect("list")
            .total,
        3
    );
    let listed = a
        .sheet_list()
        .icp_id(icp.id.clone())
        .sort_by("created_at")
        .send()
        .await
        .expect("list");
    assert_eq!(listed.sheets[0]["entity_count"], 3);
    a.sheet_delete()
        .sheet_id(people.id.as_str())
        .send()
        .await
        .expect("delete");
    let remaining = a
        .entity_list()
        .icp_id(vec![icp.id.clone()])
        .send()
        .await
        .expect("list");
    assert_eq!(remaining.total, 3);
    assert!(
        remaining
            .entities
            .iter()
            .all(|e| e.sheet_id == companies.id)
    );
    finish(&server);
}

#[tokio::test]
async fn custom_fields_are_added_read_and_removed() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let (icp, companies, _) = searchable_icp(&a, "Fields").await;
    let stage = types::CustomFieldDefinition::try_from(
        field("company_stage", FieldType::Enum)
            .enum_values(Some(vec!["seed".into(), "series_a".into()])),
    )
    .expect("enum");
    let hq = types::CustomFieldDefinition::try_from(
        field("hq_location", FieldType::Reference).reference_model(Some("Location".into())),
    )
    .expect("reference");
    let tech = types::CustomFieldDefinition::try_from(field("tech_stack", FieldType::Array))
        .expect("array");
    a.sheet_schema_add_fields()
        .sheet_id(companies.id.as_str())
        .body(
            linkt::build!(types::AddCustomFieldsRequest {
                fields: vec![stage, hq, tech],
            })
            .expect("every field is set"),
        )
        .send()
        .await
        .expect("add");
    let schema = a
        .sheet_schema_get()
        .sheet_id(companies.id.as_str())
        .send()
        .await
        .expect("schema");
    assert_eq!(
        schema.properties["company_stage"]["enum"],
        serde_json::json!(["seed", "series_a"])
    );
    assert_eq!(schema.properties["hq_location"]["$ref"], "#/$defs/Location");
    assert_eq!(schema.properties["tech_stack"]["type"], "array");
    assert!(schema.defs.contains_key("Location"));
    let sheet = a
        .sheet_retrieve()
        .sheet_id(companies.id.as_str())
        .send()
        .await
        .expect("sheet");
    assert!(sheet.entity_schema["properties"]["company_stage"].is_object());

    // Adding an existing field or a default one is refused.
    let again =
        types::CustomFieldDefinition::try_from(field("website", FieldType::String)).expect("field");
    let err = error(
        a.sheet_schema_add_fields()
            .sheet_id(companies.id.as_str())
            .body(
                linkt::build!(types::AddCustomFieldsRequest {
                    fields: vec![again],
                })
                .expect("every field is set"),
            )
            .send()
            .await,
    );
    assert_eq!(err.kind(), ErrorKind::BadRequest);

    // Entities found afterwards carry the fields; removing one hides it.
    let task = create_search_task(&a, &icp.id, 1).await;
    execute(&a, &task.id, 1).await;
    advance(&server, 60);
    let entity = a
        .entity_list()
        .sheet_id(companies.id.clone())
        .send()
        .await
        .expect("list")
        .entities[0]
        .clone();
    let stage_value = &entity.data["company_stage"]["value"];
    assert!(
        stage_value == "seed" || stage_value == "series_a",
        "{stage_value}"
    );
    a.sheet_schema_delete_fields()
        .sheet_id(companies.id.as_str())
        .body(
            linkt::build!(types::DeleteCustomFieldsRequest {
                fields: vec!["company_stage".to_owned()],
            })
            .expect("every field is set"),
        )
        .send()
        .await
        .expect("delete field");
    let hidden = a
        .entity_retrieve()
        .entity_id(entity.id.as_str())
        .send()
        .await
        .expect("entity");
    assert!(!hidden.data.contains_key("company_stage"));
    assert!(hidden.data.contains_key("tech_stack"));
    let schema = a
        .sheet_schema_get()
        .sheet_id(companies.id.as_str())
        .send()
        .await
        .expect("schema");
    assert!(!schema.properties.contains_key("company_stage"));

    // Default fields and unknown names cannot be removed.
    for name in ["name", "no_such_field"] {
        let err = error(
            a.sheet_schema_delete_fields()
                .sheet_id(companies.id.as_str())
                .body(
                    linkt::build!(types::DeleteCustomFieldsRequest {
                        fields: vec![name.into()],
                    })
                    .expect("every field is set"),
                )
                .send()
                .await,
        );
        assert_eq!(err.kind(), ErrorKind::BadRequest, "{name}");
    }
    finish(&server);
}

#[tokio::test]
async fn default_schemas_and_field_definitions() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let defaults = a.sheet_schema_get_default().send().await.expect("defaults");
    let mut types_: Vec<&String> = defaults.schemas.keys().collect();
    types_.sort();
    assert_eq!(
        types_,
        ["company", "job_board", "person", "school_district"]
    );
    let person = &defaults.schemas["person"];
    for name in [
        "name",
        "email",
        "linkedin",
        "title",
        "company",
        "location",
        "mobile_phone",
    ] {
        assert!(person.properties.contains_key(name), "{name}");
    }
    assert_eq!(person.required, ["name"]);
    let fields = a
        .sheet_schema_get_field_definitions()
        .send()
        .await
        .expect("definitions");
    for name in [
        "string",
        "integer",
        "enum",
        "reference",
        "Location",
        "SocialMediaProfile",
    ] {
        assert!(fields.fields.contains_key(name), "{name}");
    }
    assert_eq!(fields.fields["Location"].type_, "object");
    finish(&server);
}
