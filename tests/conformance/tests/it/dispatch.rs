//! The typed half of the case table: for each case of
//! `linkt_conformance::for_each_case!`, the builder call on `linkt::Client`
//! and the typed mock of `linkt_httpmock::MockServerExt`.
//!
//! Values come in as JSON ([`Call`]) and are decoded into the types the
//! table names, so a type in the table that the generated builder does not
//! take is a compile error, and a spec example that does not fit it is a
//! test failure naming the parameter.

use std::num::NonZeroU64;

use chrono::{DateTime, Utc};
use futures::TryStreamExt as _;
use httpmock::{Mock, MockServer};
use linkt::types::*;
use linkt::{Client, FilePart};
use linkt_conformance::spec::{self, SpecOperation};
use linkt_httpmock::MockServerExt as _;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::wire::Recorder;

/// The file every `files_upload` case sends.
pub(crate) const UPLOAD_NAME: &str = "companies.csv";
/// Its contents.
pub(crate) const UPLOAD_CSV: &str =
    "company_name,website,industry\nAcme,acme.example,Software\nGlobex,globex.example,Energy\n";

/// The arguments of one call, as JSON values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    pub(crate) path: Vec<(String, Value)>,
    pub(crate) query: Vec<(String, Value)>,
    /// A JSON body; multipart cases send [`UPLOAD_CSV`] instead.
    pub(crate) body: Option<Value>,
}

impl Call {
    /// Every parameter of the operation with its spec-derived value
    /// ([`spec::parameter_value`]) and the given body.
    pub(crate) fn from_spec(document: &Value, op: &SpecOperation, body: Option<Value>) -> Call {
        let mut call = Call {
            path: Vec::new(),
            query: Vec::new(),
            body,
        };
        for parameter in &op.parameters {
            let name = parameter["name"]
                .as_str()
                .expect("a named parameter")
                .to_owned();
            let value = spec::parameter_value(document, parameter);
            match parameter["in"].as_str() {
                Some("path") => call.path.push((name, value)),
                Some("query") => call.query.push((name, value)),
                other => panic!("{}: parameter `{name}` in {other:?}", op.name),
            }
        }
        call
    }

    fn path_value(&self, operation: &str, name: &str) -> &Value {
        self.path
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("{operation}: no value for path parameter `{name}`"))
    }

    fn query_value(&self, name: &str) -> Option<&Value> {
        self.query.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    fn body_value(&self, operation: &str) -> &Value {
        self.body
            .as_ref()
            .unwrap_or_else(|| panic!("{operation}: no body"))
    }
}

/// What a successful call returned.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// The decoded body, encoded again.
    Json(Value),
    /// No content.
    Empty,
    /// The raw bytes of a streamed body.
    Bytes(Vec<u8>),
}

/// The response a mock sends.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    fn apply(&self, then: httpmock::Then) {
        let mut then = then.status(self.status);
        for (name, value) in &self.headers {
            then = then.header(name, value);
        }
        if !self.body.is_empty() {
            let _ = then.body(self.body.clone());
        }
    }
}

fn arg<T: DeserializeOwned>(operation: &str, name: &str, value: &Value) -> T {
    serde_json::from_value(value.clone()).unwrap_or_else(|err| {
        panic!(
            "{operation}: `{name}` = {value} does not fit {}: {err}",
            std::any::type_name::<T>()
        )
    })
}

macro_rules! set_body {
    ($builder:ident, $op:ident, $call:ident, none()) => {
        $builder
    };
    ($builder:ident, $op:ident, $call:ident, json($t:ident)) => {
        $builder.body(arg::<$t>($op, "body", $call.body_value($op)))
    };
    ($builder:ident, $op:ident, $call:ident, multipart($part:ident)) => {
        $builder.body(FilePart::csv(UPLOAD_NAME, UPLOAD_CSV))
    };
}

macro_rules! outcome {
    ($response:ident, json($t:ident)) => {{
        let value: $t = $response.into_inner();
        Outcome::Json(serde_json::to_value(&value).expect("a decoded value encodes"))
    }};
    ($response:ident, empty()) => {{
        let () = $response.into_inner();
        Outcome::Empty
    }};
    ($response:ident, bytes()) => {{
        let stream: linkt::ByteStream = $response.into_inner();
        let chunks: Vec<_> = stream.into_inner().try_collect().await.map_err(|err| {
            linkt_error::Error::from_transport(err, &linkt_error::CallContext::new())
        })?;
        Outcome::Bytes(chunks.concat())
    }};
}

macro_rules! dispatch {
    ($(
        $op:ident {
            path { $($p:ident: $pt:ty),* $(,)? }
            query { $($q:ident: $qt:ty),* $(,)? }
            body $body:ident ( $($bt:ident)? )
            response $resp:ident ( $($rt:ident)? )
        }
    )*) => {
        /// The operations this table can call and mock.
        pub(crate) const DISPATCHED: &[&str] = &[$(stringify!($op)),*];

        /// Performs `operation` with the arguments of `call`.
        pub(crate) async fn perform(
            client: &Client,
            operation: &str,
            call: &Call,
        ) -> Result<Outcome, linkt::Error> {
            match operation {
                $(stringify!($op) => {
                    #[allow(unused_mut)]
                    let mut builder = client.$op();
                    $(
                        builder = builder.$p(arg::<$pt>(
                            operation,
                            stringify!($p),
                            call.path_value(operation, stringify!($p)),
                        ));
                    )*
                    $(
                        if let Some(value) = call.query_value(stringify!($q)) {
                            builder = builder.$q(arg::<$qt>(operation, stringify!($q), value));
                        }
                    )*
                    let builder = set_body!(builder, operation, call, $body($($bt)?));
                    let response = builder.send().await?;
                    Ok(outcome!(response, $resp($($rt)?)))
                })*
                other => panic!("no typed call for `{other}`"),
            }
        }

        /// Mocks `operation` with linkt-httpmock's typed matcher (method and
        /// path), recording each request and answering with `reply`.
        pub(crate) fn mock<'a>(
            server: &'a MockServer,
            operation: &str,
            reply: &Reply,
            recorder: &Recorder,
        ) -> Mock<'a> {
            match operation {
                $(stringify!($op) => server.$op(|when, then| {
                    let _ = when.into_inner().is_true(recorder.matcher());
                    reply.apply(then.into_inner());
                }),)*
                other => panic!("no typed mock for `{other}`"),
            }
        }
    };
}

linkt_conformance::for_each_case!(dispatch);
