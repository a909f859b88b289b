//! Property tests: every component schema round-trips arbitrary valid
//! values; invalid values fail to decode with an error naming the field
//! path; error mapping never panics and keeps the status.
//!
//! Decode errors are read through `linkt_error::Error::decode_as` (and its
//! `decode_path()`): it is exactly what the client does with a body that
//! does not decode (`support::json`), so the path asserted is the path a
//! user sees in the error.
//!
//! Case counts are fixed (see [`ROUND_TRIP_CASES`] and the others) so the
//! whole suite stays well under five minutes on two cores in a debug build.
//! Failure seeds are persisted in `tests/proptest-regressions/`, which is
//! committed.

use std::collections::BTreeMap;

use http::{HeaderMap, StatusCode};
use linkt_conformance::spec;
use linkt_error::{CallContext, Error, ErrorKind};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestError, TestRunner};
use serde_json::{Value, json};

use crate::document;
use crate::equivalence::canonical;
use crate::strategy::{self, Breakage};
use crate::types::{Component, component};

/// Valid values per component schema.
const ROUND_TRIP_CASES: u32 = 48;
/// Broken values per component schema.
const VIOLATION_CASES: u32 = 32;
/// Arbitrary error responses.
const ERROR_MAPPING_CASES: u32 = 512;

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel(
            "proptest-regressions",
        ))),
        source_file: Some(file!()),
        ..Config::default()
    }
}

fn component_schema(spec_name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{spec_name}") })
}

/// Runs `test` on every component with its own runner; reports every
/// failing component at once, with its minimal failing value.
fn for_every_component<S, F>(cases: u32, strategy_for: S, test: F)
where
    S: Fn(&Value) -> BoxedStrategy<Value>,
    F: Fn(&str, &Component, &Value, Value) -> Result<(), TestCaseError>,
{
    let document = document();
    let mut failures = BTreeMap::new();
    for (spec_name, _) in spec::component_schemas(document) {
        let component = component(spec_name)
            .unwrap_or_else(|| panic!("component schema `{spec_name}` has no type in the table"));
        let schema = component_schema(spec_name);
        let mut runner = TestRunner::new(config(cases));
        let result = runner.run(&strategy_for(&schema), |value| {
            test(spec_name, component, &schema, value)
        });
        match result {
            Ok(()) => {}
            Err(TestError::Fail(why, value)) => {
                failures.insert(
                    spec_name.to_owned(),
                    format!("{why}\n  minimal value: {value}"),
                );
            }
            Err(TestError::Abort(why)) => {
                failures.insert(spec_name.to_owned(), format!("aborted: {why}"));
            }
        }
    }
    let report: Vec<String> = failures
        .iter()
        .map(|(name, why)| format!("{name}: {why}"))
        .collect();
    assert!(
        failures.is_empty(),
        "{} component schema(s) failed:\n{}",
        failures.len(),
        report.join("\n\n")
    );
}

#[test]
fn every_component_round_trips_arbitrary_valid_values() {
    let document = document();
    for_every_component(
        ROUND_TRIP_CASES,
        |schema| strategy::for_schema(document, schema),
        |spec_name, component, schema, value| {
            let body = serde_json::to_vec(&value).expect("JSON encodes");
            let decoded = (component.round_trip)(&body).map_err(|err| {
                TestCaseError::fail(format!(
                    "a valid {spec_name} does not decode into {}: {err}",
                    component.rust_name
                ))
            })?;
            prop_assert_eq!(
                canonical(document, schema, &decoded),
                canonical(document, schema, &value),
                "{} re-encodes differently: {}",
                component.rust_name,
                decoded
            );
            Ok(())
        },
    );
}

/// A valid value plus one way to break it.
fn broken(schema: &Value) -> BoxedStrategy<Value> {
    let document = document();
    (
        strategy::for_schema(document, schema),
        any::<prop::sample::Index>(),
        any::<bool>(),
    )
        .prop_map(|(value, index, pretty)| json!({ "value": value, "index": index.index(usize::MAX), "pretty": pretty }))
        .boxed()
}

#[test]
fn broken_values_fail_to_decode_naming_the_field_path() {
    let document = document();
    for_every_component(
        VIOLATION_CASES,
        broken,
        |spec_name, component, schema, input| {
            let value = &input["value"];
            let sites = strategy::violation_sites(document, schema, value);
            if sites.is_empty() {
                return Ok(());
            }
            let index = input["index"].as_u64().unwrap_or(0) as usize;
            let site = &sites[index % sites.len()];
            let bad = strategy::violate(value, site);
            let body = if input["pretty"].as_bool() == Some(true) {
                serde_json::to_vec_pretty(&bad)
            } else {
                serde_json::to_vec(&bad)
            }
            .expect("JSON encodes");

            let Err(err) = (component.round_trip)(&body) else {
                return Err(TestCaseError::fail(format!(
                    "{spec_name} accepted a value with {:?} at {:?}: {}",
                    site.breakage,
                    site.path,
                    String::from_utf8_lossy(&body)
                )));
            };
            prop_assert_eq!(err.kind(), ErrorKind::Decode);
            let named = err.decode_path().unwrap_or_default().to_owned();
            let prefix = strategy::render_path(&site.expected_prefix());
            if site.is_precise() {
                prop_assert_eq!(
                    &named,
                    &prefix,
                    "{:?} at {:?} of {}: {}",
                    site.breakage,
                    site.path,
                    spec_name,
                    err
                );
            } else {
                prop_assert!(
                    prefix == "."
                        || named == prefix
                        || named.starts_with(&format!("{prefix}."))
                        || named.starts_with(&format!("{prefix}[")),
                    "{:?} at {:?} of {} (reported late): the error names `{}`, not within `{}`: {}",
                    site.breakage,
                    site.path,
                    spec_name,
                    named,
                    prefix,
                    err
                );
            }
            if named != "." {
                prop_assert!(
                    err.to_string().contains(&named),
                    "the message names the path: {}",
                    err
                );
            }
            if site.breakage == Breakage::MissingRequired && site.is_precise() {
                let field = site.field.as_deref().unwrap_or_default();
                prop_assert!(
                    err.message().contains(&format!("`{field}`")),
                    "the message names the missing field `{}`: {}",
                    field,
                    err
                );
            }
            Ok(())
        },
    );
}

/// Growths applied to one valid value.
const GROWTH_CASES: u32 = 48;

/// A valid value, the growth sites to apply (by index) and a value to put
/// into what is added.
fn grown(schema: &Value) -> BoxedStrategy<Value> {
    let document = document();
    (
        strategy::for_schema(document, schema),
        proptest::collection::vec(any::<prop::sample::Index>(), 1..5),
        strategy::any_json(),
    )
        .prop_map(|(value, picks, extra)| {
            let picks: Vec<usize> = picks.iter().map(|i| i.index(usize::MAX)).collect();
            json!({ "value": value, "picks": picks, "extra": extra })
        })
        .boxed()
}

/// What a newer server sends (a field, an enum value, a union member the
/// spec does not list yet) decodes into every type, and re-encodes as it
/// came: unknown enum values and union members unchanged, unknown fields
/// left out.
#[test]
fn values_a_newer_server_sends_decode_and_round_trip() {
    let document = document();
    for_every_component(
        GROWTH_CASES,
        grown,
        |spec_name, component, schema, input| {
            let mut value = input["value"].clone();
            let mut sites = strategy::growth_sites(document, schema, &value);
            if sites.is_empty() {
                return Ok(());
            }
            // Members last: replacing one drops whatever grew inside it.
            let picked: Vec<strategy::GrowthSite> = input["picks"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_u64)
                .map(|i| sites[i as usize % sites.len()].clone())
                .collect();
            sites = picked;
            sites.sort_by_key(|site| site.growth == strategy::Growth::UnionMember);
            let mut applied = Vec::new();
            for (n, site) in sites.iter().enumerate() {
                if strategy::grow(&mut value, site, n, &input["extra"]).is_some() {
                    applied.push(site.growth);
                }
            }
            let body = serde_json::to_vec(&value).expect("JSON encodes");
            let decoded = (component.round_trip)(&body).map_err(|err| {
                TestCaseError::fail(format!(
                    "{spec_name} grown with {applied:?} does not decode into {}: {err}\n  {}",
                    component.rust_name,
                    String::from_utf8_lossy(&body)
                ))
            })?;
            let expected = strategy::without_added_fields(&value);
            prop_assert_eq!(
                canonical(document, schema, &decoded),
                canonical(document, schema, &expected),
                "{} grown with {:?} re-encodes differently: {}",
                component.rust_name,
                applied,
                decoded
            );
            Ok(())
        },
    );
}

fn any_status() -> impl Strategy<Value = StatusCode> {
    prop_oneof![
        3 => 400u16..600,
        1 => 100u16..1000,
    ]
    .prop_map(|code| StatusCode::from_u16(code).expect("100..1000 is a status"))
}

fn any_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        strategy::any_json().prop_map(|value| json!({ "detail": value }).to_string().into_bytes()),
        strategy::any_json().prop_map(|value| value.to_string().into_bytes()),
        "\\PC{0,64}".prop_map(String::into_bytes),
        "<html><head><title>\\PC{0,20}</title></head></html>".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..256),
    ]
}

fn any_headers() -> impl Strategy<Value = HeaderMap> {
    proptest::collection::vec(
        (
            prop_oneof![
                Just("x-request-id"),
                Just("retry-after"),
                Just("retry-after-ms"),
                Just("x-should-retry"),
                Just("x-ratelimit-remaining"),
                Just("content-type"),
            ],
            "[ -~]{0,24}",
        ),
        0..4,
    )
    .prop_map(|pairs| {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            if let Ok(value) = value.parse() {
                headers.append(name, value);
            }
        }
        headers
    })
}

#[test]
fn error_mapping_never_panics_and_keeps_the_status() {
    let mut runner = TestRunner::new(config(ERROR_MAPPING_CASES));
    let result = runner.run(
        &(any_status(), any_headers(), any_body()),
        |(status, headers, body)| {
            let ctx = CallContext::new().with_operation_id("icp_list");
            let err = Error::from_response(status, &headers, &body, &ctx);
            prop_assert_eq!(err.status(), Some(status));
            prop_assert_eq!(err.kind(), ErrorKind::from_status(status));
            prop_assert_eq!(err.operation_id(), Some("icp_list"));
            let display = err.to_string();
            prop_assert!(
                display.contains(&status.as_u16().to_string()),
                "the status is shown: {}",
                display
            );
            prop_assert!(err.message().len() <= linkt_error::MESSAGE_LIMIT);
            let _ = format!("{err:?}");
            Ok(())
        },
    );
    if let Err(err) = result {
        panic!("{err}");
    }
}

/// Arbitrary responses through the real client.
const CLIENT_ERROR_CASES: u32 = 48;

#[test]
fn the_client_maps_any_unexpected_response_keeping_its_status() {
    let server = httpmock::MockServer::start();
    let rt = crate::runtime();
    let op = crate::spec_operations()
        .iter()
        .find(|op| op.name == "icp_retrieve")
        .expect("icp_retrieve");
    let call = crate::dispatch::Call::from_spec(document(), op, None);
    let (client, sleeps) = crate::client(&server.base_url());
    // Every 2xx is success (the documented body is decoded for any of them).
    let statuses = 300u16..600;
    let mut runner = TestRunner::new(config(CLIENT_ERROR_CASES));
    let result = runner.run(&(statuses, any_body()), |(status, body)| {
        let reply = crate::dispatch::Reply {
            status,
            headers: vec![("x-request-id".to_owned(), "req-prop".to_owned())],
            body: if matches!(status, 204 | 304) {
                Vec::new()
            } else {
                body
            },
        };
        let recorder = crate::wire::Recorder::default();
        let mut mock = crate::dispatch::mock(&server, "icp_retrieve", &reply, &recorder);
        let result = rt.block_on(crate::dispatch::perform(&client, "icp_retrieve", &call));
        mock.delete();
        let err = match result {
            Ok(outcome) => {
                return Err(TestCaseError::fail(format!(
                    "status {status} was taken for success: {outcome:?}"
                )));
            }
            Err(err) => err,
        };
        prop_assert_eq!(err.status().map(|s| s.as_u16()), Some(status), "{:?}", err);
        let expected = ErrorKind::from_status(StatusCode::from_u16(status).expect("a status"));
        prop_assert_eq!(err.kind(), expected, "{:?}", err);
        prop_assert_eq!(err.request_id(), Some("req-prop"));
        prop_assert!(sleeps.recorded().is_empty());
        Ok(())
    });
    if let Err(err) = result {
        panic!("{err}");
    }
}
