//! The scenario matrix: three operations at several numbers of calls in
//! flight ([`SCENARIOS`]), each on both tokio runtimes ([`Runtime`]).
//!
//! Every row of the matrix gets a fresh runtime and, on it, a fresh client
//! and a fresh floor (see [`Sides`]), so that no row inherits another's pool
//! or connection tasks, and the connections a row opens are its own.
//!
//! The numbers of the first four scenarios are those of the bench before the
//! matrix (1: `icp_retrieve` one at a time, 2: 32 in flight, 3: `entity_list`,
//! 4: `icp_create`), so that `--only N` means what it meant.

use std::fmt;

use linkt::ApiKey;

use crate::fixtures::{Fixtures, ICP_ID, PAGE_SIZE};
use crate::floor::{self, Floor};
use crate::measure::{self, Comparison, Plan};
use crate::server::{Caller, Server};
use crate::{BenchResult, KEY};

/// The tokio runtime a row's calls run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Runtime {
    /// `Builder::new_current_thread()`: the calls and the connection tasks
    /// share the main thread; the server has the other core.
    CurrentThread,
    /// `Builder::new_multi_thread()`, as `#[tokio::main]` builds it: one
    /// worker per core. The calls run in `block_on` on the main thread, as
    /// `main`'s body does; the connection tasks run on the workers.
    MultiThread,
}

impl Runtime {
    /// Both, in the order they run.
    pub(crate) const ALL: [Self; 2] = [Self::CurrentThread, Self::MultiThread];

    /// A new runtime of this kind, with I/O and timers enabled.
    pub(crate) fn build(self) -> std::io::Result<tokio::runtime::Runtime> {
        match self {
            Self::CurrentThread => tokio::runtime::Builder::new_current_thread(),
            Self::MultiThread => tokio::runtime::Builder::new_multi_thread(),
        }
        .enable_all()
        .build()
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::CurrentThread => "current-thread",
            Self::MultiThread => "multi-thread",
        })
    }
}

/// The API call a scenario makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Operation {
    /// `GET /v1/icp/{id}`: a small response (about 800 B).
    IcpRetrieve,
    /// `GET /v1/entity?page_size=100`: decode-heavy (about 175 KiB).
    EntityList,
    /// `POST /v1/icp`: a JSON body out, a small response back.
    IcpCreate,
}

/// One scenario: an operation at a number of calls in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Scenario {
    /// Its number, for `--only`.
    pub(crate) number: usize,
    /// What each call does.
    pub(crate) operation: Operation,
    /// Calls in flight at once (1: one after the other).
    pub(crate) in_flight: usize,
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let operation = match self.operation {
            Operation::IcpRetrieve => "icp_retrieve",
            Operation::EntityList => "entity_list, page_size=100",
            Operation::IcpCreate => "icp_create",
        };
        write!(
            f,
            "{}. {operation}, {} in flight",
            self.number, self.in_flight
        )
    }
}

const fn scenario(number: usize, operation: Operation, in_flight: usize) -> Scenario {
    Scenario {
        number,
        operation,
        in_flight,
    }
}

/// Every scenario, in the order they run (and are numbered).
pub(crate) const SCENARIOS: [Scenario; 7] = [
    scenario(1, Operation::IcpRetrieve, 1),
    scenario(2, Operation::IcpRetrieve, 32),
    scenario(3, Operation::EntityList, 1),
    scenario(4, Operation::IcpCreate, 1),
    scenario(5, Operation::IcpRetrieve, 128),
    scenario(6, Operation::EntityList, 32),
    scenario(7, Operation::IcpCreate, 32),
];

/// The client and the floor of one row, each pointed at its own listener.
#[derive(Debug)]
struct Sides<'a> {
    client: linkt::Client,
    floor: Floor,
    fixtures: &'a Fixtures,
}

impl<'a> Sides<'a> {
    /// The client as users build it (`Client::builder().api_key(..)
    /// .base_url(..).build()`: its own timeouts, pool and retries, tracing
    /// compiled in with no subscriber) and the floor with reqwest's defaults.
    fn new(server: &Server, fixtures: &'a Fixtures) -> BenchResult<Self> {
        let client = linkt::Client::builder()
            .api_key(ApiKey::new(KEY)?)
            .base_url(server.base_url(Caller::Client))
            .build()?;
        let floor = Floor::new(server.base_url(Caller::Floor), KEY)?;
        Ok(Self {
            client,
            floor,
            fixtures,
        })
    }
}

// The calls of the timed loops: each side checks one field of what it
// decoded, and builds a request body per call from a prepared value.

async fn icp_client(sides: &Sides<'_>) -> BenchResult<()> {
    let icp = sides.client.icp_retrieve().icp_id(ICP_ID).send().await?;
    check(std::hint::black_box(icp).id == ICP_ID)
}

async fn icp_floor(sides: &Sides<'_>) -> BenchResult<()> {
    let icp = sides.floor.icp_retrieve(ICP_ID).await?;
    check(std::hint::black_box(icp).id == ICP_ID)
}

async fn list_client(sides: &Sides<'_>) -> BenchResult<()> {
    let page = sides
        .client
        .entity_list()
        .page_size(PAGE_SIZE)
        .send()
        .await?;
    check(std::hint::black_box(page).entities.len() == PAGE_SIZE as usize)
}

async fn list_floor(sides: &Sides<'_>) -> BenchResult<()> {
    let page = sides.floor.entity_list(PAGE_SIZE).await?;
    check(std::hint::black_box(page).entities.len() == PAGE_SIZE as usize)
}

async fn create_client(sides: &Sides<'_>) -> BenchResult<()> {
    let body = sides.fixtures.create_request.clone();
    let icp = sides.client.icp_create().body(body).send().await?;
    check(std::hint::black_box(icp).id == sides.fixtures.created.id)
}

async fn create_floor(sides: &Sides<'_>) -> BenchResult<()> {
    let body = sides.fixtures.create_request_plain.clone();
    let icp = sides.floor.icp_create(&body).await?;
    check(std::hint::black_box(icp).id == sides.fixtures.created.id)
}

fn check(ok: bool) -> BenchResult<()> {
    if ok {
        Ok(())
    } else {
        Err("a response decoded to an unexpected value".into())
    }
}

fn mismatch(what: &str) -> Box<dyn std::error::Error> {
    format!("the {what} decoded a different value than the server sent").into()
}

/// Once, in full, before anything is measured: both sides decode exactly
/// what the server sends, for every operation. Uses clients of its own.
pub(crate) async fn verify(server: &Server, fixtures: &Fixtures) -> BenchResult<()> {
    let sides = Sides::new(server, fixtures)?;
    let (client, floor) = (&sides.client, &sides.floor);
    let icp = client.icp_retrieve().icp_id(ICP_ID).send().await?;
    if *icp != fixtures.icp {
        return Err(mismatch("client"));
    }
    floor::check_icp(&floor.icp_retrieve(ICP_ID).await?, &fixtures.icp)?;
    let page = client.entity_list().page_size(PAGE_SIZE).send().await?;
    if *page != fixtures.entity_page {
        return Err(mismatch("client"));
    }
    floor::check_entity_page(&floor.entity_list(PAGE_SIZE).await?, &fixtures.entity_page)?;
    let created = client
        .icp_create()
        .body(fixtures.create_request.clone())
        .send()
        .await?;
    if *created != fixtures.created {
        return Err(mismatch("client"));
    }
    floor::check_icp(
        &floor.icp_create(&fixtures.create_request_plain).await?,
        &fixtures.created,
    )?;
    Ok(())
}

/// Measures one row: `scenario` on the current runtime, with a fresh client
/// and floor.
pub(crate) async fn measure(
    plan: &Plan,
    server: &Server,
    fixtures: &Fixtures,
    scenario: Scenario,
) -> BenchResult<Comparison> {
    let sides = Sides::new(server, fixtures)?;
    let n = scenario.in_flight;
    match scenario.operation {
        Operation::IcpRetrieve => {
            let (client, floor) = (|| icp_client(&sides), || icp_floor(&sides));
            measure::compare(plan, server, n, client, floor).await
        }
        Operation::EntityList => {
            let (client, floor) = (|| list_client(&sides), || list_floor(&sides));
            measure::compare(plan, server, n, client, floor).await
        }
        Operation::IcpCreate => {
            let (client, floor) = (|| create_client(&sides), || create_floor(&sides));
            measure::compare(plan, server, n, client, floor).await
        }
    }
}

/// No measurement: `calls` calls of one side of `scenario`, at its number of
/// calls in flight, with a fresh client or floor; for a profiler.
pub(crate) async fn profile(
    server: &Server,
    fixtures: &Fixtures,
    scenario: Scenario,
    caller: Caller,
    calls: usize,
) -> BenchResult<()> {
    let sides = Sides::new(server, fixtures)?;
    let n = scenario.in_flight;
    match (scenario.operation, caller) {
        (Operation::IcpRetrieve, Caller::Client) => {
            measure::calls(calls, n, &|| icp_client(&sides)).await
        }
        (Operation::IcpRetrieve, Caller::Floor) => {
            measure::calls(calls, n, &|| icp_floor(&sides)).await
        }
        (Operation::EntityList, Caller::Client) => {
            measure::calls(calls, n, &|| list_client(&sides)).await
        }
        (Operation::EntityList, Caller::Floor) => {
            measure::calls(calls, n, &|| list_floor(&sides)).await
        }
        (Operation::IcpCreate, Caller::Client) => {
            measure::calls(calls, n, &|| create_client(&sides)).await
        }
        (Operation::IcpCreate, Caller::Floor) => {
            measure::calls(calls, n, &|| create_floor(&sides)).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_is_numbered_in_order_and_covers_the_issue() {
        for (i, scenario) in SCENARIOS.iter().enumerate() {
            assert_eq!(scenario.number, i + 1);
        }
        let has = |operation, in_flight| {
            SCENARIOS
                .iter()
                .any(|s| s.operation == operation && s.in_flight == in_flight)
        };
        for in_flight in [1, 32, 128] {
            assert!(has(Operation::IcpRetrieve, in_flight));
        }
        assert!(has(Operation::EntityList, 1) && has(Operation::IcpCreate, 1));
        // The numbers of the bench before the matrix keep their meaning.
        assert_eq!(SCENARIOS[0], scenario(1, Operation::IcpRetrieve, 1));
        assert_eq!(SCENARIOS[1], scenario(2, Operation::IcpRetrieve, 32));
        assert_eq!(SCENARIOS[2], scenario(3, Operation::EntityList, 1));
        assert_eq!(SCENARIOS[3], scenario(4, Operation::IcpCreate, 1));
    }
}
