//! `spec pull` against linkt-mock (the real document, byte for byte) and
//! against a one-shot server on 127.0.0.1 for each way it must refuse.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::Duration;

use super::*;

const KEY: &str = "lk-test-secret-0123456789";

/// A file path under `target/xtask-tests/spec-pull`, removed first.
fn scratch_file(name: &str) -> PathBuf {
    let dir = workspace_root().join("target/xtask-tests/spec-pull");
    fs::create_dir_all(&dir).expect("scratch dir");
    let path = dir.join(name);
    let _ = fs::remove_file(&path);
    path
}

fn pull(url: String, out: PathBuf) -> Pull {
    Pull {
        url,
        key: None,
        out,
        overlay: Some(workspace_root().join(OVERLAY)),
        report: None,
        limit: MAX_BYTES,
        timeout: Duration::from_secs(30),
    }
}

/// Serves one connection with `response` (head and body as given) and returns
/// the request head it received.
fn one_shot(response: Vec<u8>) -> (String, JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://{}/openapi.json",
        listener.local_addr().expect("addr")
    );
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).expect("read");
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        let _ = stream.write_all(&response);
        let _ = stream.flush();
        String::from_utf8_lossy(&head).into_owned()
    });
    (url, handle)
}

fn http(status: &str, headers: &[(&str, String)], body: &[u8], length: bool) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\nconnection: close\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    if length {
        out.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

#[test]
fn pulling_from_linkt_mock_writes_the_served_bytes_and_reports_no_changes() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime
        .block_on(linkt_mock::MockServer::start())
        .expect("mock starts");
    let committed = fs::read(workspace_root().join(SPEC)).expect("spec");

    // Over a copy of the committed document: the same bytes, no changes.
    let out = scratch_file("from-mock.json");
    fs::write(&out, &committed).expect("previous copy");
    let report_path = scratch_file("from-mock.md");
    let mut options = pull(format!("{}/openapi.json", server.base_url()), out.clone());
    options.report = Some(report_path.clone());
    let report = options.run().expect("pull").expect("a report");
    assert!(report.is_empty(), "{}", changes::text(&report));
    assert!(
        fs::read(&out).expect("written") == committed,
        "byte for byte"
    );
    assert_eq!(
        fs::read_to_string(&report_path).expect("markdown"),
        "## API changes\n\nNo API changes.\n"
    );

    // Over a document with one field fewer: that field is reported added.
    let mut older: Value = serde_json::from_slice(&committed).expect("JSON");
    older["components"]["schemas"]["EntityResponse"]["properties"]
        .as_object_mut()
        .expect("properties")
        .remove("external_id")
        .expect("EntityResponse.external_id");
    fs::write(&out, serde_json::to_vec(&older).expect("JSON")).expect("older copy");
    let report = pull(format!("{}/openapi.json", server.base_url()), out.clone())
        .run()
        .expect("pull")
        .expect("a report");
    assert_eq!(report.changes.len(), 1, "{}", changes::text(&report));
    assert_eq!(
        report.changes[0].to_string(),
        "response-property-added EntityResponse.external_id: added (optional, nullable `string`) \
         [not breaking]"
    );
    assert!(fs::read(&out).expect("written") == committed);

    // No previous file: written, no report.
    let fresh = scratch_file("fresh.json");
    let report = pull(format!("{}/openapi.json", server.base_url()), fresh.clone())
        .run()
        .expect("pull");
    assert!(report.is_none());
    assert!(fs::read(&fresh).expect("written") == committed);
}

#[test]
fn a_redirect_is_refused_naming_the_location_and_writes_nothing() {
    let location = "https://elsewhere.example/openapi.json".to_owned();
    let (url, server) = one_shot(http(
        "302 Found",
        &[("location", location.clone())],
        b"",
        true,
    ));
    let out = scratch_file("redirect.json");
    fs::write(&out, b"previous").expect("previous");
    let mut options = pull(url, out.clone());
    options.key = Some(KEY.to_owned());
    let err = options.run().expect_err("a redirect").to_string();
    server.join().expect("server");
    assert!(err.contains("302"), "{err}");
    assert!(err.contains(&location), "{err}");
    assert!(err.contains("not followed"), "{err}");
    assert_eq!(fs::read(&out).expect("kept"), b"previous");
}

#[test]
fn a_body_that_is_not_an_openapi_document_is_refused() {
    for (body, expected) in [
        (&b"<html>maintenance</html>"[..], "not JSON"),
        (&b"{\"swagger\": \"2.0\"}"[..], "no `openapi` version field"),
    ] {
        let (url, server) = one_shot(http("200 OK", &[], body, true));
        let out = scratch_file("not-openapi.json");
        let err = format!("{:#}", pull(url, out.clone()).run().expect_err("refused"));
        server.join().expect("server");
        assert!(err.contains(expected), "{err}");
        assert!(!out.exists(), "nothing is written");
    }
}

#[test]
fn an_oversized_body_is_refused_whether_announced_or_streamed() {
    let body = format!(
        "{{\"openapi\": \"3.1.0\", \"pad\": \"{}\"}}",
        "x".repeat(4096)
    );
    for (announced, expected) in [(true, "announced"), (false, "over the limit")] {
        let (url, server) = one_shot(http("200 OK", &[], body.as_bytes(), announced));
        let out = scratch_file("oversized.json");
        let mut options = pull(url, out.clone());
        options.limit = 1024;
        let err = options.run().expect_err("too large").to_string();
        server.join().expect("server");
        assert!(err.contains(expected), "{err}");
        assert!(err.contains("1024"), "{err}");
        assert!(!out.exists(), "nothing is written");
    }
}

#[test]
fn the_key_is_sent_but_never_in_an_error() {
    // A server that echoes the request, key included, in its error body.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://{}/openapi.json",
        listener.local_addr().expect("addr")
    );
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).expect("read");
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        let _ = stream.write_all(&http("401 Unauthorized", &[], &head, true));
        String::from_utf8_lossy(&head).into_owned()
    });
    let out = scratch_file("unauthorized.json");
    let mut options = pull(url, out.clone());
    options.key = Some(KEY.to_owned());
    let err = options.run().expect_err("401");
    let head = server.join().expect("server");
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("x-api-key: {KEY}")),
        "the key is sent: {head}"
    );
    let message = format!("{err:#} {err:?}");
    assert!(message.contains("401"), "{message}");
    assert!(
        message.contains("[redacted]"),
        "the echoed key is scrubbed: {message}"
    );
    assert!(!message.contains(KEY), "{message}");
    assert!(!format!("{options:?}").contains(KEY), "{options:?}");
    assert!(!out.exists());
}

#[test]
fn a_document_the_overlay_no_longer_fits_is_written_and_fails_with_the_overlay_error() {
    let body = br#"{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}"#;
    let (url, server) = one_shot(http(
        "200 OK",
        &[("content-type", "application/json".into())],
        body,
        true,
    ));
    let out = scratch_file("overlay-mismatch.json");
    let err = format!("{:#}", pull(url, out.clone()).run().expect_err("overlay"));
    server.join().expect("server");
    assert!(err.contains("spec/overlay.yaml"), "{err}");
    assert!(
        err.contains("$.paths['/v1/icp'].post"),
        "names the action: {err}"
    );
    assert_eq!(fs::read(&out).expect("written"), body, "written as served");
}

#[test]
fn spec_diff_prints_and_writes_the_report() {
    let committed = workspace_root().join(SPEC);
    let mut raw: Value =
        serde_json::from_slice(&fs::read(&committed).expect("spec")).expect("JSON");
    raw["components"]["schemas"]["IcpResponse"]["properties"]
        .as_object_mut()
        .expect("properties")
        .remove("schema_version")
        .expect("IcpResponse.schema_version");
    let edited = scratch_file("diff-new.json");
    fs::write(&edited, serde_json::to_vec(&raw).expect("JSON")).expect("write");
    let markdown = scratch_file("diff.md");
    let (old, new, out) = (
        committed.to_str().expect("utf-8"),
        edited.to_str().expect("utf-8"),
        markdown.to_str().expect("utf-8"),
    );
    run(&["diff", old, new, "--report", out]).expect("spec diff");
    let text = fs::read_to_string(&markdown).expect("markdown");
    assert!(
        text.starts_with("## API changes\n\n**1 breaking**, 0 not breaking."),
        "{text}"
    );
    assert!(
        text.contains(
            "| `IcpResponse.schema_version` (used in responses) | `response-property-removed` |"
        ),
        "{text}"
    );
}

#[test]
fn unknown_options_and_missing_operands_are_refused() {
    let err = run(&["diff", "a.json", "b.json", "--colour", "x"]).expect_err("unknown");
    assert!(err.to_string().contains("unknown option --colour"), "{err}");
    let err = run(&["diff", "a.json"]).expect_err("one operand");
    assert!(
        err.to_string().contains("usage: cargo xtask spec diff"),
        "{err}"
    );
    let err = run(&["pull", "--from"]).expect_err("no value");
    assert!(err.to_string().contains("--from needs a value"), "{err}");
}

#[test]
fn a_file_missing_at_head_is_an_error_naming_it() {
    let err = git_show(&workspace_root(), "spec/no-such-file.json").expect_err("missing");
    assert!(err.to_string().contains("spec/no-such-file.json"), "{err}");
}
