//! The component table: for every generated type of
//! `linkt_conformance::for_each_component!`, functions that decode a body
//! into it and encode it again, and its `schemars` schema.

use linkt_conformance::rust_type_name;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// One generated type, by name.
#[derive(Clone, Copy)]
pub(crate) struct Component {
    /// The Rust type name, e.g. `HttpValidationError`.
    pub(crate) rust_name: &'static str,
    /// Decodes a JSON body into the type and encodes the value again; a
    /// body that does not decode is the client's error for it
    /// ([`linkt_error::Error::decode_as`], as `support::json` makes it).
    pub(crate) round_trip: fn(&[u8]) -> Result<Value, linkt_error::Error>,
    /// The type's JSON schema as `schemars` derives it; `None` when the
    /// type does not implement `schemars::JsonSchema`.
    pub(crate) schema: fn() -> Option<schemars::schema::RootSchema>,
}

impl std::fmt::Debug for Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.rust_name)
    }
}

fn round_trip<T: DeserializeOwned + Serialize>(body: &[u8]) -> Result<Value, linkt_error::Error> {
    let value: T = serde_json::from_slice(body).map_err(|err| {
        linkt_error::Error::decode_as::<T>(err, body, &linkt_error::CallContext::new())
    })?;
    Ok(serde_json::to_value(&value).expect("a decoded value encodes"))
}

/// Picks `schemars::schema_for!` when the type implements `JsonSchema`
/// and `None` otherwise (method resolution on a concrete type tries
/// `&&Probe<T>` before `&Probe<T>`), so that a generator that stops
/// deriving `JsonSchema` fails the drift test, naming the types, instead of
/// breaking the build of the whole suite.
struct Probe<T>(std::marker::PhantomData<T>);

trait Derived {
    fn schema(&self) -> Option<schemars::schema::RootSchema>;
}

impl<T: schemars::JsonSchema> Derived for &Probe<T> {
    fn schema(&self) -> Option<schemars::schema::RootSchema> {
        Some(schemars::schema_for!(T))
    }
}

trait NotDerived {
    fn schema(&self) -> Option<schemars::schema::RootSchema>;
}

impl<T> NotDerived for Probe<T> {
    fn schema(&self) -> Option<schemars::schema::RootSchema> {
        None
    }
}

macro_rules! component_table {
    ($($t:ident)*) => {
        /// Every generated type of a component schema.
        #[allow(
            clippy::needless_borrow,
            reason = "the probe needs both references to pick the impl"
        )]
        pub(crate) const COMPONENTS: &[Component] = &[$(
            Component {
                rust_name: stringify!($t),
                round_trip: round_trip::<linkt::types::$t>,
                schema: || (&&Probe::<linkt::types::$t>(std::marker::PhantomData)).schema(),
            }
        ),*];
    };
}

linkt_conformance::for_each_component!(component_table);

/// The table entry of a spec component name (`HTTPValidationError`).
pub(crate) fn component(spec_name: &str) -> Option<&'static Component> {
    let rust_name = rust_type_name(spec_name);
    COMPONENTS.iter().find(|c| c.rust_name == rust_name)
}

/// The table covers every component schema of the spec, and only those.
#[test]
fn the_table_covers_every_component_schema_of_the_spec() {
    let document = crate::document();
    let spec: std::collections::BTreeSet<String> =
        linkt_conformance::spec::component_schemas(document)
            .iter()
            .map(|(name, _)| rust_type_name(name))
            .collect();
    let table: std::collections::BTreeSet<String> =
        COMPONENTS.iter().map(|c| c.rust_name.to_owned()).collect();
    let missing: Vec<_> = spec.difference(&table).collect();
    let extra: Vec<_> = table.difference(&spec).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "not in the table: {missing:?}; not in the spec: {extra:?}"
    );
    assert!(component("HTTPValidationError").is_some());
    assert!(component("Body_upload_file_v1_files_upload_post").is_some());
}

#[test]
#[allow(
    clippy::needless_borrow,
    reason = "the probe needs both references to pick the impl"
)]
fn the_probe_finds_json_schema_where_it_is_implemented() {
    struct NoSchema;
    let derived = (&&Probe::<String>(std::marker::PhantomData)).schema();
    let underived = (&&Probe::<NoSchema>(std::marker::PhantomData)).schema();
    assert!(derived.is_some());
    assert!(underived.is_none());
}
