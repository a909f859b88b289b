//! Entities: read, review (with propagation), bulk status, filters, search,
//! counts, duplicates across ICPs, export and delete.

use futures::TryStreamExt as _;
use linkt::ErrorKind;
use linkt::types::{self, EntityResponseStatus};

use crate::{
    KEY_A, advance, client, create_search_task, error, execute, finish, searchable_icp, server,
};

/// An ICP with `companies` companies, one person each, fully researched.
async fn populated(
    server: &linkt_mock::MockServer,
    client: &linkt::Client,
    name: &str,
    companies: u64,
) -> (types::IcpResponse, types::Sheet, types::Sheet) {
    let (icp, company_sheet, people) = searchable_icp(client, name).await;
    let task = create_search_task(client, &icp.id, 1).await;
    execute(client, &task.id, companies).await;
    advance(server, 600);
    (icp, company_sheet, people)
}

async fn export_text(request: linkt::builder::EntityExport<'_>) -> Result<String, linkt::Error> {
    let body = request.send().await?.into_inner();
    let bytes: Vec<u8> = body
        .into_inner()
        .map_ok(|chunk| chunk.to_vec())
        .try_concat()
        .await
        .map_err(|e| linkt::Error::configuration(e.to_string()))?;
    Ok(String::from_utf8(bytes).expect("utf-8"))
}

#[tokio::test]
async fn review_updates_propagate_to_family_unless_told_not_to() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let (_, companies, people) = populated(&server, &a, "Review", 2).await;
    let company = a
        .entity_list()
        .sheet_id(companies.id.clone())
        .send()
        .await
        .expect("list")
        .entities[0]
        .clone();
    let person = a
        .entity_list()
        .sheet_id(people.id.clone())
        .send()
        .await
        .expect("list")
        .into_inner()
        .entities
        .into_iter()
        .find(|p| p.parent_id.as_deref() == Some(company.id.as_str()))
        .expect("a contact of the company");

    let updated = a
        .entity_update()
        .entity_id(company.id.as_str())
        .body(
            types::UpdateEntityRequest::builder()
                .status(Some(types::UpdateEntityRequestStatus::Reviewed))
                .comments(Some("warm intro via partner".into())),
        )
        .send()
        .await
        .expect("update");
    assert_eq!(updated.status, Some(EntityResponseStatus::Reviewed));
    assert_eq!(updated.comments.as_deref(), Some("warm intro via partner"));
    let child = a
        .entity_retrieve()
        .entity_id(person.id.as_str())
        .send()
        .await
        .expect("person");
    assert_eq!(
        child.status,
        Some(EntityResponseStatus::Reviewed),
        "propagated to the family"
    );

    a.entity_update()
        .entity_id(person.id.as_str())
        .body(
            types::UpdateEntityRequest::builder()
                .status(Some(types::UpdateEntityRequestStatus::Contacted))
                .propagate_to_family(false),
        )
        .send()
        .await
        .expect("update");
    let parent = a
        .entity_retrieve()
        .entity_id(company.id.as_str())
        .send()
        .await
        .expect("company");
    assert_eq!(
        parent.status,
        Some(EntityResponseStatus::Reviewed),
        "not propagated"
    );
    finish(&server);
}

#[tokio::test]
async fn bulk_status_reports_failures_and_filters_see_it() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let (icp, companies, _) = populated(&server, &a, "Bulk", 3).await;
    let ids: Vec<String> = a
        .entity_list()
        .sheet_id(companies.id.clone())
        .send()
        .await
        .expect("list")
        .entities
        .iter()
        .map(|e| e.id.clone())
        .collect();
    let response = a
        .entity_bulk_update_status()
        .body(
            types::BulkUpdateStatusRequest::builder()
                .entity_ids(vec![
                    ids[0].clone(),
                    ids[1].clone(),
                    "bogus".into(),
                    "ffffffffffffffffffffffff".into(),
                ])
                .status(Some("passed".into()))
                .propagate_to_family(false),
        )
        .send()
        .await
        .expect("bulk");
    assert_eq!(response.updated_count, 2);
    assert_eq!(response.failed_ids, ["bogus", "ffffffffffffffffffffffff"]);

    let passed = a
        .entity_list()
        .status(vec!["passed".into()])
        .send()
        .await
        .expect("filter");
    assert_eq!(passed.total, 2);
    let new_or_passed = a
        .entity_list()
        .icp_id(vec![icp.id.clone()])
        .status(vec!["new".into(), "passed".into()])
        .entity_type(types::EntityType::Company)
        .send()
        .await
        .expect("filter");
    assert_eq!(new_or_passed.total, 3);
    let err = error(a.entity_list().status(vec!["maybe".into()]).send().await);
    assert_eq!(err.kind(), ErrorKind::BadRequest);

    // Clearing a status (null) is possible in bulk; `null` filters for it.
    a.entity_bulk_update_status()
        .body(
            types::BulkUpdateStatusRequest::builder()
                .entity_ids(vec![ids[2].clone()])
                .status(None)
                .propagate_to_family(false),
        )
        .send()
        .await
        .expect("clear");
    let cleared = a
        .entity_list()
        .status(vec!["null".into()])
        .send()
        .await
        .expect("null filter");
    assert_eq!(
        cleared
            .entities
            .iter()
            .map(|e| e.id.as_str())
            .collect::<Vec<_>>(),
        [ids[2].as_str()]
    );
    assert_eq!(cleared.entities[0].status, None);
    let err = error(
        a.entity_bulk_update_status()
            .body(
                types::BulkUpdateStatusRequest::builder()
                    .entity_ids(vec![ids[0].clone()])
                    .status(Some("won".into())),
            )
            .send()
            .await,
    );
    assert_eq!(err.kind(), ErrorKind::BadRequest);

    let counts = a
        .entity_get_counts()
        .icp_id(vec![icp.id.clone()])
        .send()
        .await
        .expect("counts");
    assert_eq!(counts.total, 6);
    assert_eq!((counts.counts["company"], counts.counts["person"]), (3, 3));
    let passed_counts = a
        .entity_get_counts()
        .status(vec!["passed".into()])
        .send()
        .await
        .expect("counts");
    assert_eq!(passed_counts.total, 2);
    finish(&server);
}

#[tokio::test]
async fn list_pages_with_fields_and_repeated_icp_ids() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let (first, _, _) = populated(&server, &a, "First", 3).await;
    let (second, _, _) = populated(&server, &a, "Second", 2).await;
    let (third, _, _) = populated(&server, &a, "Third", 1).await;
    let two = a
        .entity_list()
        .icp_id(vec![first.id.clone(), second.id.clone()])
        .send()
        .await
        .expect("two icps");
    assert_eq!(two.total, 10);
    assert!(two.entities.iter().all(|e| e.icp_id != third.id));

    let mut seen = Vec::new();
    for page in 1..=4_u64 {
        let response = a
            .entity_list()
            .page(page)
            .page_size(3_u64)
            .send()
            .await
            .expect("page");
        assert_eq!(
            (response.total, response.page, response.page_size),
            (12, page as i64, 3)
        );
        seen.extend(response.entities.iter().map(|e| e.id.clone()));
    }
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(
        (seen.len(), unique.len()),
        (12, 12),
        "every entity exactly once"
    );

    let slim = a
        .entity_list()
        .fields("name,website")
        .page_size(1_u64)
        .send()
        .await
        .expect("fields");
    let keys: Vec<&String> = slim.entities[0].data.keys().collect();
    assert_eq!(keys, ["name", "website"]);
    finish(&server);
}

#[tokio::test]
async fn duplicates_across_icps_are_flagged_and_can_be_hidden() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let (first, first_companies, _) = populated(&server, &a, "Primary", 2).await;
    let (second, second_companies, _) = populated(&server, &a, "Copy", 1).await;
    let primary = a
        .entity_list()
        .sheet_id(first_companies.id.clone())
        .send()
        .await
        .expect("list")
        .entities[0]
        .clone();
    let copy = a
        .entity_list()
        .sheet_id(second_companies.id.clone())
        .send()
        .await
        .expect("list")
        .entities[0]
        .clone();
    assert_eq!(
        primary.data["name"]["value"], copy.data["name"]["value"],
        "the same company was found twice"
    );

    let info = primary.duplicate_info.expect("primary has duplicate info");
    assert!(info.is_primary && !info.is_duplicate);
    assert_eq!(info.duplicate_entity_ids, Some(vec![copy.id.clone()]));
    assert_eq!(info.duplicate_icps.expect("icps")[0].icp_name, "Copy");
    let info = copy.duplicate_info.expect("copy has duplicate info");
    assert!(info.is_duplicate);
    assert_eq!(info.primary_entity_id.as_deref(), Some(primary.id.as_str()));
    assert_eq!(info.primary_icp_name.as_deref(), Some("Primary"));
    let other = a
        .entity_list()
        .sheet_id(first_companies.id.clone())
        .send()
        .await
        .expect("list")
        .entities[1]
        .clone();
    assert!(other.duplicate_info.is_none(), "no duplicates, no info");

    let all = a
        .entity_list()
        .entity_type(types::EntityType::Company)
        .send()
        .await
        .expect("all");
    let unique = a
        .entity_list()
        .entity_type(types::EntityType::Company)
        .hide_duplicates(true)
        .send()
        .await
        .expect("hidden");
    assert_eq!((all.total, unique.total), (3, 2));
    assert!(unique.entities.iter().all(|e| e.id != copy.id));

    // A review propagates to duplicates by default.
    a.entity_update()
        .entity_id(primary.id.as_str())
        .body(
            types::UpdateEntityRequest::builder()
                .status(Some(types::UpdateEntityRequestStatus::Passed))
                .propagate_to_family(false),
        )
        .send()
        .await
        .expect("update");
    let copy = a
        .entity_retrieve()
        .entity_id(copy.id.as_str())
        .send()
        .await
        .expect("copy");
    assert_eq!(copy.status, Some(EntityResponseStatus::Passed));
    let _ = (first, second);
    finish(&server);
}

#[tokio::test]
async fn search_ranks_name_matches_first() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let (icp, _, _) = populated(&server, &a, "Search", 4).await;
    let results = a.entity_search().q("acme").send().await.expect("search");
    assert_eq!(results.query, "acme");
    assert!(results.total >= 1);
    assert!(
        results.entities[0].data["name"]["value"]
            .as_str()
            .expect("name")
            .contains("Acme")
    );
    // People of Acme match through their email and company, ranked after it.
    assert!(
        results
            .entities
            .iter()
            .skip(1)
            .all(|e| e.entity_type == "person")
    );
    let companies_only = a
        .entity_search()
        .q("acme")
        .entity_type(types::EntityType::Company)
        .icp_id(vec![icp.id.clone()])
        .send()
        .await
        .expect("search");
    assert_eq!(companies_only.total, 1);
    let nothing = a.entity_search().q("zzzz").send().await.expect("search");
    assert_eq!((nothing.total, nothing.entities.len()), (0, 0));
    finish(&server);
}

#[tokio::test]
async fn export_writes_csv_in_both_formats() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let (icp, companies, _) = populated(&server, &a, "Export", 2).await;
    let separate = export_text(
        a.entity_export()
            .icp_id(vec![icp.id.clone()])
            .entity_type(types::EntityType::Company),
    )
    .await
    .expect("separate");
    let lines: Vec<&str> = separate.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("name,website,"), "{}", lines[0]);
    assert!(lines[0].ends_with(",status,created_at,updated_at"));
    assert!(!lines[0].contains("sheet_id") && !lines[0].contains("parent_id"));
    assert!(lines[1].contains("Acme Analytics"));
    assert!(
        lines[1].contains("Austin, TX, United States"),
        "{}",
        lines[1]
    );

    let combined = export_text(
        a.entity_export()
            .icp_id(vec![icp.id.clone()])
            .format(types::EntityExportFormat::Combined),
    )
    .await
    .expect("combined");
    let lines: Vec<&str> = combined.lines().collect();
    assert_eq!(lines.len(), 3, "one row per person");
    assert!(lines[0].starts_with("Person Name,Person Email,"));
    assert!(lines[0].contains(",Company Name,Company Website,"));

    let err = export_text(
        a.entity_export()
            .format(types::EntityExportFormat::Combined),
    )
    .await
    .expect_err("no icp");
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert!(
        err.message().contains("exactly one icp_id"),
        "{}",
        err.message()
    );
    let err = export_text(
        a.entity_export()
            .icp_id(vec![icp.id.clone(), icp.id.clone()])
            .format(types::EntityExportFormat::Combined),
    )
    .await
    .expect_err("two icps");
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    let err = export_text(
        a.entity_export()
            .icp_id(vec!["ffffffffffffffffffffffff".into()]),
    )
    .await
    .expect_err("unknown");
    assert_eq!(err.kind(), ErrorKind::NotFound);

    let one = a
        .entity_list()
        .sheet_id(companies.id.clone())
        .send()
        .await
        .expect("list")
        .entities[0]
        .id
        .clone();
    let only = export_text(a.entity_export().entity_ids(vec![one]))
        .await
        .expect("by id");
    assert_eq!(only.lines().count(), 2);
    finish(&server);
}

#[tokio::test]
async fn delete_is_a_hard_delete() {
    let server = server().await;
    let a = client(&server, KEY_A);
    let (icp, companies, _) = populated(&server, &a, "Delete", 2).await;
    let entity = a
        .entity_list()
        .sheet_id(companies.id.clone())
        .send()
        .await
        .expect("list")
        .entities[0]
        .id
        .clone();
    a.entity_delete()
        .entity_id(entity.as_str())
        .send()
        .await
        .expect("delete");
    let err = error(a.entity_retrieve().entity_id(entity.as_str()).send().await);
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let left = a
        .entity_list()
        .icp_id(vec![icp.id.clone()])
        .send()
        .await
        .expect("list");
    assert_eq!(left.total, 3);
    let err = error(a.entity_delete().entity_id(entity.as_str()).send().await);
    assert_eq!(err.kind(), ErrorKind::NotFound);
    finish(&server);
}
