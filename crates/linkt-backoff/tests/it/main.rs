//! Integration tests for `linkt-backoff`: one binary, a module per area.
//!
//! No test sleeps on the wall clock: the retry loop runs on a fake clock and
//! a recording sleeper (or tokio's paused time), and the limiter on made-up
//! instants.

mod decision;
mod jitter;
mod limiter;
mod props;
mod rate_limit;
mod run_loop;
mod support;
