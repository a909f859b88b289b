//! The generated client has exactly the operations of the spec.

use std::collections::BTreeSet;
use std::path::Path;

use linkt::{Client, OPERATIONS, Operation};

fn spec_operations() -> BTreeSet<(String, String, String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let prepared = linkt_spec::prepare(
        &root.join("spec/linkt-v1.openapi.json"),
        Some(&root.join("spec/overlay.yaml")),
    )
    .expect("spec prepares");
    let mut out = BTreeSet::new();
    let paths = prepared.document["paths"].as_object().expect("paths");
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("path item") {
            let Some(vendor_id) = op.get("operationId").and_then(|v| v.as_str()) else {
                continue;
            };
            let name = op["x-linkt-name"]
                .as_str()
                .expect("every operation is named");
            out.insert((
                name.to_owned(),
                vendor_id.to_owned(),
                method.to_uppercase(),
                path.clone(),
            ));
        }
    }
    out
}

/// Calls every generated builder, so a missing method is a compile error, and
/// returns the names it called.
fn callable(client: &Client) -> BTreeSet<&'static str> {
    macro_rules! names {
        ($($name:ident),* $(,)?) => {{
            $( let _ = client.$name(); )*
            BTreeSet::from([$(stringify!($name)),*])
        }};
    }
    names![
        icp_create,
        icp_retrieve,
        icp_update,
        icp_list,
        icp_delete,
        icp_get_active_runs,
        sheet_create,
        sheet_retrieve,
        sheet_update,
        sheet_list,
        sheet_delete,
        sheet_schema_add_fields,
        sheet_schema_delete_fields,
        sheet_schema_get,
        sheet_schema_get_default,
        sheet_schema_get_field_definitions,
        entity_retrieve,
        entity_update,
        entity_list,
        entity_delete,
        entity_bulk_update_status,
        entity_export,
        entity_get_counts,
        entity_search,
        task_create,
        task_retrieve,
        task_update,
        task_list,
        task_delete,
        task_execute,
        signal_retrieve,
        signal_list,
        run_create,
        run_retrieve,
        run_list,
        run_delete,
        run_cancel,
        run_get_queue,
        schedule_create,
        schedule_retrieve,
        schedule_update,
        schedule_list,
        schedule_delete,
        files_retrieve,
        files_list,
        files_upload,
    ]
}

#[test]
fn client_and_spec_have_the_same_46_operations() {
    let spec = spec_operations();
    let generated: BTreeSet<_> = OPERATIONS
        .iter()
        .map(|op| {
            (
                op.name.to_owned(),
                op.vendor_id.to_owned(),
                op.method.to_owned(),
                op.path.to_owned(),
            )
        })
        .collect();
    assert_eq!(generated, spec);
    assert_eq!(spec.len(), 46);

    let (client, _) = crate::client("http://127.0.0.1:9");
    let called = callable(&client);
    let listed: BTreeSet<_> = OPERATIONS.iter().map(|op| op.name).collect();
    assert_eq!(called, listed);
}

#[test]
fn operations_are_sorted_and_findable() {
    assert!(OPERATIONS.windows(2).all(|w| w[0].name < w[1].name));
    let upload = Operation::find("files_upload").expect("files_upload");
    assert_eq!(upload.multipart_field, Some("file"));
    assert_eq!(upload.vendor_id, "upload_file_v1_files_upload_post");
    assert!(Operation::find("no_such_operation").is_none());
    assert_eq!(
        OPERATIONS
            .iter()
            .filter(|op| op.multipart_field.is_some())
            .count(),
        1
    );
}
