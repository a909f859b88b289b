//! The Redis limiter against a real Redis and the mock server: one plan
//! budget shared by tasks and by processes, its parity with the
//! in-process limiter, and what happens when Redis goes away.

mod budget;
mod outage;
mod processes;
mod support;
