//! Separate OS processes share one budget: the test binary runs itself as
//! the workers, each with its own client and limiter, against one mock
//! server and one Redis.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use linkt::Plan;
use linkt_ratelimit_redis::RedisLimiter;

use crate::support::{self, REDIS_URL_VAR, Redis};

const PLAN: Plan = Plan::Custom {
    per_minute: 20,
    per_day: 0,
};
const WORKERS: usize = 3;
const TEST: &str = "processes::separate_processes_share_one_budget";
const MOCK_VAR: &str = "LINKT_TEST_WORKER_MOCK_URL";
const PREFIX_VAR: &str = "LINKT_TEST_WORKER_PREFIX";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn separate_processes_share_one_budget() {
    if let (Ok(mock_url), Ok(prefix), Ok(redis_url)) = (
        std::env::var(MOCK_VAR),
        std::env::var(PREFIX_VAR),
        std::env::var(REDIS_URL_VAR),
    ) {
        return worker(&mock_url, &prefix, &redis_url).await;
    }
    let Some(redis) = Redis::shared() else { return };
    let prefix = support::unique_prefix("processes");
    let server = support::mock(PLAN).await;
    let exe = std::env::current_exe().expect("the test binary");
    let children: Vec<_> = (0..WORKERS)
        .map(|_| {
            Command::new(&exe)
                .args([TEST, "--exact", "--test-threads", "1", "--quiet"])
                .env(MOCK_VAR, server.base_url())
                .env(PREFIX_VAR, &prefix)
                .env(REDIS_URL_VAR, &redis.url)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("a worker process")
        })
        .collect();

    let mut ok = 0;
    for mut child in children {
        let deadline = Instant::now() + Duration::from_secs(60);
        // The mock server runs on this runtime: wait without blocking it.
        while child.try_wait().expect("the worker's status").is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("a worker process did not end within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let output = child.wait_with_output().expect("the worker's output");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "worker failed: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let line = stdout
            .lines()
            .find_map(|line| line.strip_prefix("worker ok="))
            .unwrap_or_else(|| panic!("no result line in {stdout}"));
        ok += line.trim().parse::<u32>().expect("a count");
    }
    assert_eq!(ok, 20, "exactly the per-minute quota got through");
    let journal = server.journal();
    assert_eq!(journal.len(), 20, "the server saw the quota, no more");
    assert!(
        journal.iter().all(|exchange| exchange.status == Some(200)),
        "no 429"
    );
}

/// One worker process: two tasks with a client each, until the limiter
/// refuses; prints how many calls succeeded.
async fn worker(mock_url: &str, prefix: &str, redis_url: &str) {
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let limiter = RedisLimiter::builder(redis_url, PLAN)
                .organization("acme")
                .key_prefix(prefix)
                .build()
                .expect("a limiter");
            let client = support::client(mock_url, limiter);
            tokio::spawn(async move { support::work(&client).await })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        let tally = tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .expect("the task ends")
            .expect("the task does not panic");
        assert_eq!(
            tally.other,
            Vec::<String>::new(),
            "no call failed otherwise"
        );
        assert_eq!(tally.refused, 1, "the task ended on the limiter's refusal");
        ok += tally.ok;
    }
    // Straight to stdout, past the harness's capture, for the parent.
    writeln!(std::io::stdout(), "worker ok={ok}").expect("stdout");
}
