//! The `linkt-mock` program: prints where it listens and a key, serves, puts
//! read-only keys in the first key's organization, prints its help, and
//! rejects bad arguments by name with exit code 2.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use linkt::{ApiKey, Client, ErrorKind, RetryPolicy};

/// A running `linkt-mock` with `args`, killed when dropped.
struct Program {
    child: Child,
    base_url: String,
    key: String,
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Program {
    /// Starts the program on a free port and reads the three lines it
    /// prints: where it listens, `LINKT_BASE_URL=` and `LINKT_API_KEY=`.
    fn start(args: &[&str]) -> Program {
        let mut child = Command::new(env!("CARGO_BIN_EXE_linkt-mock"))
            .args(["--port", "0", "--speed", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn linkt-mock");
        let stdout = child.stdout.take().expect("stdout");
        let (lines, received) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok).take(3) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let mut printed = Vec::new();
        for _ in 0..3 {
            match received.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => printed.push(line),
                Err(err) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("a line within 30 s: {err}; printed so far: {printed:?}");
                }
            }
        }
        let mut program = Program {
            child,
            base_url: String::new(),
            key: String::new(),
        };
        program.base_url = printed[1]
            .strip_prefix("LINKT_BASE_URL=")
            .expect("base url line")
            .to_owned();
        program.key = printed[2]
            .strip_prefix("LINKT_API_KEY=")
            .expect("key line")
            .to_owned();
        program
    }

    fn client(&self, key: &str) -> Client {
        Client::builder()
            .api_key(ApiKey::new(key).expect("key"))
            .base_url(self.base_url.clone())
            .retry_policy(RetryPolicy::none())
            .build()
            .expect("client")
    }
}

/// Runs the program to completion with `args`.
fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_linkt-mock"))
        .args(args)
        .output()
        .expect("run linkt-mock")
}

#[tokio::test]
async fn the_program_serves_on_the_port_it_prints() {
    let program = Program::start(&["--key", "lk-program-key"]);
    assert!(
        program.base_url.starts_with("http://127.0.0.1:"),
        "{}",
        program.base_url
    );
    assert_eq!(program.key, "lk-program-key");
    let defaults = program
        .client(&program.key)
        .sheet_schema_get_default()
        .send()
        .await
        .expect("the program answers");
    assert!(defaults.schemas.contains_key("company"));
}

#[tokio::test]
async fn read_only_keys_read_the_first_keys_organization_and_cannot_write() {
    // The read-only key comes first on the command line; it still joins the
    // first `--key`, which is the key printed.
    let program = Program::start(&[
        "--read-only-key",
        "lk-program-ro",
        "--key",
        "lk-program-rw",
        "--key",
        "lk-program-other",
    ]);
    assert_eq!(program.key, "lk-program-rw");
    let rw = program.client("lk-program-rw");
    let ro = program.client("lk-program-ro");
    let other = program.client("lk-program-other");
    let icp = crate::create_icp(&rw, "Shared").await;

    let seen = ro.icp_list().send().await.expect("read-only list");
    assert_eq!(seen.total, 1);
    assert_eq!(seen.icps[0].id, icp.id);
    let err = crate::error(ro.icp_delete().icp_id(icp.id.as_str()).send().await);
    assert_eq!(err.kind(), ErrorKind::Forbidden, "{err}");
    let elsewhere = other.icp_list().send().await.expect("other list");
    assert_eq!(elsewhere.total, 0, "another --key is its own organization");
}

#[test]
fn help_describes_every_option_and_exits_0() {
    let output = run(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("Usage: linkt-mock"), "{help}");
    for flag in [
        "--port <N>",
        "--key <KEY>",
        "--read-only-key <KEY>",
        "--speed <X>",
        "--drift <KINDS>",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
    assert!(help.contains("[default: 8080]"), "{help}");
}

#[test]
fn an_unknown_flag_is_named_and_exits_2() {
    let output = run(&["--prot", "8080"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--prot"), "{stderr}");
    assert!(stderr.contains("Usage: linkt-mock"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn a_negative_speed_is_refused_with_exit_2() {
    let output = run(&["--speed", "-1"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--speed"), "{stderr}");
    assert!(stderr.contains("not a non-negative number"), "{stderr}");
}

#[test]
fn an_empty_key_fails_to_start_with_exit_1() {
    let output = run(&["--port", "0", "--key", ""]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("API key #1 is empty"), "{stderr}");
}

#[test]
fn a_bad_value_names_its_flag_and_exits_2() {
    let output = run(&["--port", "eighty"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--port"), "{stderr}");
}

#[tokio::test]
async fn the_drift_option_makes_answers_drift() {
    let program = Program::start(&["--drift", "unknown-field,created-status"]);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("reqwest client");
    let icp = serde_json::json!({
        "name": "Drifting",
        "description": "d",
        "entity_targets": [{"entity_type": "company", "root": true, "description": "c"}]
    });
    let response = http
        .post(format!("{}/v1/icp", program.base_url))
        .header("x-api-key", &program.key)
        .json(&icp)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 201);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(
        body["drift_unknown_field"],
        "added by linkt-mock drift mode"
    );
    assert_eq!(body["name"], "Drifting", "null-required-field is off");
}

#[test]
fn a_bad_drift_kind_is_named_and_exits_2() {
    let output = run(&["--drift", "unknown-field,missing-field"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--drift"), "{stderr}");
    assert!(stderr.contains("`missing-field`"), "{stderr}");
}
