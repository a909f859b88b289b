//! The checked-in vendor document (`spec/linkt-v1.openapi.json`) and the
//! workspace overlay (`spec/overlay.yaml`) go through the whole pipeline.

use std::path::PathBuf;

use linkt_spec::{prepare, to_openapiv3};

fn spec_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../spec")
}

#[test]
fn vendor_spec_prepares() {
    let prepared = prepare(&spec_dir().join("linkt-v1.openapi.json"), None)
        .unwrap_or_else(|err| panic!("vendor spec: {err}"));
    let api = to_openapiv3(&prepared.document).expect("parses as 3.0");
    assert!(api.operations().count() > 0);
}

#[test]
fn vendor_spec_prepares_with_the_overlay() {
    let dir = spec_dir();
    let prepared = prepare(
        &dir.join("linkt-v1.openapi.json"),
        Some(&dir.join("overlay.yaml")),
    )
    .unwrap_or_else(|err| panic!("vendor spec with overlay: {err}"));
    assert!(
        prepared
            .overlay_report
            .is_some_and(|r| !r.actions.is_empty())
    );
}
