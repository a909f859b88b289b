//! The `linkt-mock` program: prints where it listens and a key, serves, and
//! rejects bad arguments.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use linkt::{ApiKey, Client};

#[tokio::test]
async fn the_program_serves_on_the_port_it_prints() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_linkt-mock"))
        .args(["--port", "0", "--key", "lk-program-key", "--speed", "0"])
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
        printed.push(
            received
                .recv_timeout(Duration::from_secs(30))
                .expect("a line within 30 s"),
        );
    }
    let base_url = printed[1]
        .strip_prefix("LINKT_BASE_URL=")
        .expect("base url line")
        .to_owned();
    assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");
    assert_eq!(printed[2], "LINKT_API_KEY=lk-program-key");

    let client = Client::builder()
        .api_key(ApiKey::new("lk-program-key").expect("key"))
        .base_url(base_url)
        .build()
        .expect("client");
    let result = client.sheet_schema_get_default().send().await;
    let _ = child.kill();
    let _ = child.wait();
    let defaults = result.expect("the program answers");
    assert!(defaults.schemas.contains_key("company"));
}

#[test]
fn bad_arguments_exit_with_usage() {
    let output = Command::new(env!("CARGO_BIN_EXE_linkt-mock"))
        .args(["--port", "eighty"])
        .output()
        .expect("run linkt-mock");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--port"), "{stderr}");
}
