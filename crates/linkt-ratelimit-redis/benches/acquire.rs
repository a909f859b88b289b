//! The cost of one shared-limiter acquisition on loopback Redis, next to the
//! cost of one call, measured in the same run.
//!
//! `cargo bench -p linkt-ratelimit-redis --bench acquire [-- --iterations N]`
//! (release build); `-- --smoke` makes a few of each, untimed, as CI does.
//! Redis is `LINKT_TEST_REDIS_URL`, or a `redis-server` on the `PATH`
//! started on a free 127.0.0.1 port for the run.

use std::io::Write as _;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use linkt::{ApiKey, Client, LimiterBackend, Plan, RetryPolicy};
use linkt_mock::{KeyConfig, MockServer};
use linkt_ratelimit_redis::RedisLimiter;

const KEY: &str = "lk_bench_0001";
/// Never waits: the script runs in full, both windows counted.
const PLAN: Plan = Plan::Custom {
    per_minute: u32::MAX,
    per_day: u32::MAX,
};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let smoke = args.iter().any(|a| a == "--smoke");
    let iterations = args
        .iter()
        .position(|a| a == "--iterations")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(if smoke { 20 } else { 5_000 });

    let (url, mut own) = match std::env::var("LINKT_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => (url, None),
        _ => match start_redis() {
            Some((url, child)) => (url, Some(child)),
            None => {
                let _ = writeln!(
                    std::io::stderr(),
                    "no redis: set LINKT_TEST_REDIS_URL or put redis-server on the PATH"
                );
                if std::env::var_os("CI").is_some() {
                    std::process::exit(1);
                }
                return;
            }
        },
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let lines = runtime.block_on(measure(&url, iterations));
    if let Some(child) = &mut own {
        let _ = child.kill();
        let _ = child.wait();
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{iterations} iterations each, one at a time, current-thread runtime"
    );
    for (name, stats) in lines {
        if smoke {
            let _ = writeln!(out, "{name:<38} ok");
        } else {
            let _ = writeln!(out, "{name:<38} {stats}");
        }
    }
}

async fn measure(url: &str, iterations: usize) -> Vec<(&'static str, Stats)> {
    let server = MockServer::builder()
        .key_config(KeyConfig::new(KEY).plan(Plan::Custom {
            per_minute: 0,
            per_day: 0,
        }))
        .start()
        .await
        .expect("the mock starts");
    let prefix = format!("linkt-bench:{}", std::process::id());
    let limiter = RedisLimiter::builder(url, PLAN)
        .organization("bench")
        .key_prefix(prefix.as_str())
        .build()
        .expect("a limiter");
    let client = |builder: linkt::ClientBuilder| {
        builder
            .api_key(ApiKey::new(KEY).expect("a key"))
            .base_url(server.base_url())
            .retry_policy(RetryPolicy::none())
            .build()
            .expect("a client")
    };
    let plain = client(Client::builder());
    let local = client(Client::builder().rate_limit(PLAN));
    let shared = client(Client::builder().rate_limiter(limiter.clone()));

    let acquire = time(iterations, || async {
        let wait = limiter.reserve(None).await.expect("a slot");
        assert!(wait.is_zero(), "the bench plan never waits");
    })
    .await;
    let call = time(iterations, || async {
        plain.icp_list().send().await.expect("a call");
    })
    .await;
    let call_local = time(iterations, || async {
        local.icp_list().send().await.expect("a call");
    })
    .await;
    let call_shared = time(iterations, || async {
        shared.icp_list().send().await.expect("a call");
    })
    .await;
    assert!(!limiter.is_redis_lost(), "redis answered throughout");
    vec![
        ("redis acquisition (reserve)", acquire),
        ("call, no limiter", call),
        ("call, in-process limiter", call_local),
        ("call, redis limiter", call_shared),
    ]
}

/// Per-operation times of `iterations` runs, after a tenth as many to warm up.
async fn time<F, Fut>(iterations: usize, op: F) -> Stats
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..iterations / 10 + 1 {
        op().await;
    }
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let started = Instant::now();
        op().await;
        samples.push(started.elapsed());
    }
    samples.sort();
    let total: Duration = samples.iter().sum();
    let at = |q: f64| {
        let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples.get(index).copied().unwrap_or_default()
    };
    Stats {
        mean: total / u32::try_from(samples.len().max(1)).unwrap_or(u32::MAX),
        p50: at(0.5),
        p99: at(0.99),
    }
}

struct Stats {
    mean: Duration,
    p50: Duration,
    p99: Duration,
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        write!(
            f,
            "mean {:>7.1} µs   p50 {:>7.1} µs   p99 {:>7.1} µs",
            us(self.mean),
            us(self.p50),
            us(self.p99)
        )
    }
}

fn start_redis() -> Option<(String, Child)> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .ok()?
        .port();
    let port_arg = port.to_string();
    let mut child = Command::new("redis-server")
        .args([
            "--port",
            &port_arg,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some((format!("redis://127.0.0.1:{port}/"), child));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}
