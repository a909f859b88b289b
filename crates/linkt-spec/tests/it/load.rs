//! Files, formats, hashes and `prepare`.

use std::path::{Path, PathBuf};

use linkt_spec::{Error, Format, load, parse, prepare, sha256_hex};

use crate::common::fixture;

fn scratch(name: &str, contents: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("linkt-spec-load");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("scratch file");
    path
}

#[test]
fn json_and_yaml_load_to_the_same_value() {
    let json = scratch("same.json", r#"{"a": {"200": [1, "x", null, true]}}"#);
    let yaml = scratch("same.yml", "a:\n  200: [1, x, null, true]\n");
    assert_eq!(load(&json).expect("json"), load(&yaml).expect("yaml"));
}

#[test]
fn errors_name_the_file() {
    let broken = scratch("broken.json", "{\"a\": ");
    let err = load(&broken).expect_err("broken json");
    assert!(
        matches!(&err, Error::Parse { format: Format::Json, file: Some(f), .. } if *f == broken)
    );
    assert_eq!(
        err.to_string(),
        format!("invalid json in `{}`", broken.display())
    );

    let missing = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-such-spec.json");
    let err = load(&missing).expect_err("missing file");
    assert!(matches!(&err, Error::Read { path, .. } if *path == missing));
    assert!(err.to_string().contains("no-such-spec.json"));

    let err = load(Path::new("spec.txt")).expect_err("unknown format");
    assert_eq!(
        err.to_string(),
        "unknown format for `spec.txt`: expected a .json, .yaml or .yml file"
    );

    let err = parse("a: [", Format::Yaml).expect_err("broken yaml");
    assert_eq!(err.to_string(), "invalid yaml");
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn prepare_applies_the_overlay_and_hashes_the_files() {
    let spec = fixture("fastapi.json");
    let overlay = fixture("fastapi.overlay.yaml");
    let prepared = prepare(&spec, Some(&overlay)).expect("prepares");
    assert_eq!(
        prepared.spec_sha256,
        sha256_hex(&std::fs::read(&spec).expect("spec bytes"))
    );
    assert_eq!(
        prepared.overlay_sha256,
        Some(sha256_hex(&std::fs::read(&overlay).expect("overlay bytes")))
    );
    let report = prepared.overlay_report.expect("report");
    let matched: Vec<usize> = report.actions.iter().map(|a| a.matched).collect();
    assert_eq!(matched, [1, 1]);
    let list = prepared
        .openapi
        .operations()
        .find(|(_, method, _)| *method == "get")
        .map(|(_, _, op)| op.clone())
        .expect("list operation");
    assert_eq!(
        list.extensions.get("x-linkt-name"),
        Some(&serde_json::json!("pets_list"))
    );
    assert_eq!(list.parameters.len(), 3);
    assert_eq!(prepared.document["openapi"], "3.0.3");

    let plain = prepare(&spec, None).expect("prepares without overlay");
    assert_eq!(plain.overlay_sha256, None);
    assert_eq!(plain.spec_sha256, prepared.spec_sha256);
}

#[test]
fn sha256_of_known_input() {
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}
