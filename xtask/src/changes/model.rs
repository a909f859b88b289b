//! The report's vocabulary: rules, verdicts, locations and changes.
//!
//! Only data and ordering live here; deciding which rule applies is
//! `operations.rs` and `schema.rs`, and presenting it is `render.rs`.

use std::cmp::Ordering;
use std::fmt;

/// Whether a change breaks a downstream user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Verdict {
    /// Existing code and existing clients keep working.
    NotBreaking,
    /// Existing code stops compiling, or existing clients fail at run time.
    Breaking,
}

impl Verdict {
    /// `breaking` or `not breaking`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Verdict::NotBreaking => "not breaking",
            Verdict::Breaking => "breaking",
        }
    }

    /// [`Verdict::Breaking`] when `breaking` holds.
    pub(crate) fn when(breaking: bool) -> Verdict {
        if breaking {
            Verdict::Breaking
        } else {
            Verdict::NotBreaking
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! rules {
    ($( $(#[doc = $doc:literal])+ $variant:ident => $id:literal, )+) => {
        /// A named kind of change. The names follow oasdiff's vocabulary; each
        /// rule's documentation says what it detects and how it is judged.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub(crate) enum Rule {
            $( $(#[doc = $doc])+ $variant, )+
        }

        impl Rule {
            /// Every rule, in declaration order.
            #[cfg(test)]
            pub(crate) const ALL: &'static [Rule] = &[ $( Rule::$variant, )+ ];

            /// The rule's kebab-case name, as printed in reports.
            pub(crate) fn id(self) -> &'static str {
                match self { $( Rule::$variant => $id, )+ }
            }
        }
    };
}

rules! {
    /// A new operation: a new client method. Not breaking.
    OperationAdded => "operation-added",
    /// An operation is gone: its client method disappears and old clients get 404/405. Breaking.
    OperationRemoved => "operation-removed",
    /// The same client method (overlay name) moved to another path: old clients call the
    /// old path (wire: breaking); the method keeps its name (Rust: not breaking).
    OperationPathChanged => "operation-path-changed",
    /// The same client method moved to another HTTP method: like a path change.
    OperationMethodChanged => "operation-method-changed",
    /// The overlay names the operation differently: the client method is renamed (Rust:
    /// breaking); nothing changes on the wire.
    OperationRenamed => "operation-renamed",
    /// The vendor's `operationId` changed; the client method keeps its overlay name. Not
    /// breaking (the overlay targets operations by path).
    OperationIdChanged => "operation-id-changed",
    /// A new required parameter: old clients do not send it, and a builder that does not
    /// set it fails in `send()`. Breaking.
    ParameterAddedRequired => "parameter-added-required",
    /// A new optional parameter: a new builder method. Not breaking.
    ParameterAddedOptional => "parameter-added-optional",
    /// A parameter is gone: its builder method disappears (Rust: breaking); the server
    /// ignores a query parameter it does not know (wire: not breaking).
    ParameterRemoved => "parameter-removed",
    /// An optional parameter became required. Breaking.
    ParameterBecameRequired => "parameter-became-required",
    /// A required parameter became optional. Not breaking.
    ParameterBecameOptional => "parameter-became-optional",
    /// A parameter's type or format changed: the builder method takes another Rust type.
    ParameterTypeChanged => "parameter-type-changed",
    /// A request body appeared where there was none. Breaking when it is required.
    RequestBodyAdded => "request-body-added",
    /// The request body is gone: the builder's `body` method disappears. Breaking.
    RequestBodyRemoved => "request-body-removed",
    /// An optional request body became required. Breaking.
    RequestBodyBecameRequired => "request-body-became-required",
    /// A required request body became optional. Not breaking.
    RequestBodyBecameOptional => "request-body-became-optional",
    /// The request body's schema is another type (at its root). Breaking for Rust; on the
    /// wire, the structural changes below it decide.
    RequestBodyTypeChanged => "request-body-type-changed",
    /// A request media type was added. Not breaking (old clients keep sending the old one).
    RequestMediaTypeAdded => "request-media-type-added",
    /// A request media type was removed: old clients send what the server no longer
    /// accepts. Breaking.
    RequestMediaTypeRemoved => "request-media-type-removed",
    /// A new 2xx status. Not breaking: any 2xx is success.
    ResponseSuccessStatusAdded => "response-success-status-added",
    /// A 2xx status is gone. Not breaking by itself: any 2xx is success; the body
    /// comparison reports what the remaining success status carries.
    ResponseSuccessStatusRemoved => "response-success-status-removed",
    /// The success response now has a body where it had none: the method returns a typed
    /// value instead of `()` (Rust: breaking).
    ResponseBodyAdded => "response-body-added",
    /// The success response no longer has a body: old clients fail to decode it. Breaking.
    ResponseBodyRemoved => "response-body-removed",
    /// The response body's schema is another type (at its root). Breaking for Rust; on the
    /// wire, the structural changes below it decide.
    ResponseBodyTypeChanged => "response-body-type-changed",
    /// A response media type was added. Not breaking when the old one stays.
    ResponseMediaTypeAdded => "response-media-type-added",
    /// A response media type was removed: old clients cannot decode what is sent instead.
    /// Breaking.
    ResponseMediaTypeRemoved => "response-media-type-removed",
    /// A new component schema: a new type in `linkt::types`. Not breaking.
    ComponentAdded => "component-added",
    /// A component schema is gone: its type disappears from `linkt::types` (Rust:
    /// breaking); operations that used it report their own changes.
    ComponentRemoved => "component-removed",
    /// A new required property in a request: old clients do not send it, and a builder
    /// that does not set it fails. Breaking.
    RequestPropertyAddedRequired => "request-property-added-required",
    /// A new optional property in a request: a new builder method. Not breaking.
    RequestPropertyAddedOptional => "request-property-added-optional",
    /// A new property in a response: old clients ignore it; the struct is
    /// `#[non_exhaustive]`. Not breaking.
    ResponsePropertyAdded => "response-property-added",
    /// A request property is gone: the field and builder method disappear (Rust:
    /// breaking); the server ignores what old clients still send (wire: not breaking).
    RequestPropertyRemoved => "request-property-removed",
    /// A response property is gone: the field disappears (Rust: breaking); old clients
    /// fail when it was required (wire).
    ResponsePropertyRemoved => "response-property-removed",
    /// An optional request property became required: old clients may leave it out.
    /// Breaking.
    RequestPropertyBecameRequired => "request-property-became-required",
    /// A required request property became optional: fine on the wire; the Rust field
    /// becomes `Option<T>` unless it has a default or is a list or map.
    RequestPropertyBecameOptional => "request-property-became-optional",
    /// An optional response property became required: fine on the wire; the Rust field
    /// changes from `Option<T>` to `T` unless it was a list, a map or had a default.
    ResponsePropertyBecameRequired => "response-property-became-required",
    /// A required response property became optional: old clients fail when it is absent,
    /// and the Rust field becomes `Option<T>`. Breaking.
    ResponsePropertyBecameOptional => "response-property-became-optional",
    /// A request value may now be `null`: fine on the wire; the Rust type becomes
    /// `Option<T>`.
    RequestPropertyBecameNullable => "request-property-became-nullable",
    /// A request value may no longer be `null`: old clients may send `null`. Breaking.
    RequestPropertyBecameNotNullable => "request-property-became-not-nullable",
    /// A response value may now be `null`: old clients fail on `null`, and the Rust type
    /// becomes `Option<T>`. Breaking.
    ResponsePropertyBecameNullable => "response-property-became-nullable",
    /// A response value is no longer `null`: fine on the wire; the Rust type loses its
    /// `Option`.
    ResponsePropertyBecameNotNullable => "response-property-became-not-nullable",
    /// A value inside a request changed type or format (or refers to another schema).
    RequestPropertyTypeChanged => "request-property-type-changed",
    /// A value inside a response changed type or format (or refers to another schema).
    ResponsePropertyTypeChanged => "response-property-type-changed",
    /// A string enum gained a value. Not breaking: enums are open (`Unknown(..)` keeps
    /// values a client does not know).
    EnumValueAdded => "enum-value-added",
    /// A string enum lost a value: its Rust variant disappears; in requests the server
    /// rejects it. Breaking.
    EnumValueRemoved => "enum-value-removed",
    /// A free value became an enum: the Rust type changes to an enum; in requests the
    /// server rejects other values. Breaking.
    EnumConstraintAdded => "enum-constraint-added",
    /// An enum became a free value: the Rust enum becomes a plain type. Breaking for Rust.
    EnumConstraintRemoved => "enum-constraint-removed",
    /// A new variant of a union. Not breaking for a discriminated union (open: unknown
    /// tags decode to `Unknown`); breaking for an untagged one in responses.
    UnionVariantAdded => "union-variant-added",
    /// A union variant is gone: its Rust variant disappears; in requests the server
    /// rejects it. Breaking.
    UnionVariantRemoved => "union-variant-removed",
    /// A discriminator tag now selects another schema: the variant's Rust payload type
    /// changes; the structural changes below it decide the wire verdict.
    UnionVariantTypeChanged => "union-variant-type-changed",
    /// The discriminator property changed or appeared/disappeared. Breaking.
    DiscriminatorChanged => "discriminator-changed",
    /// `additionalProperties` changed kind (absent/`true`, `false`, or a schema): the Rust
    /// type changes between a struct and a map, or unknown keys are refused.
    AdditionalPropertiesChanged => "additional-properties-changed",
    /// A bound, length or pattern became stricter. Breaking in requests (old clients may
    /// send what is now refused); for Rust when the generated type changes (a constrained
    /// string becomes a validating newtype, an integer bound picks `u64`/`NonZeroU64`).
    ConstraintTightened => "constraint-tightened",
    /// A bound, length or pattern became looser. Breaking in responses where the client
    /// validates it (string newtypes, unsigned integers); for Rust when the generated type
    /// changes.
    ConstraintRelaxed => "constraint-relaxed",
    /// A default value changed, appeared or disappeared: what the server assumes for an
    /// omitted value. Breaking for Rust only when an optional field moves between `T` (with
    /// a default) and `Option<T>`.
    DefaultChanged => "default-changed",
}

impl Rule {
    /// For a rule with request and response forms, the form for `direction`.
    pub(crate) fn directed(request: Rule, response: Rule, direction: Direction) -> Rule {
        match direction {
            Direction::Request => request,
            Direction::Response => response,
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// Which way a value travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Direction {
    /// Sent by the client (parameters, request bodies).
    Request,
    /// Sent by the server (success response bodies).
    Response,
}

/// The directions a schema is used in; neither for a component no operation
/// reaches, which is judged as if used in both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Usage {
    /// Reached from a parameter or request body.
    pub(crate) request: bool,
    /// Reached from a response body.
    pub(crate) response: bool,
}

impl Usage {
    /// Requests only.
    pub(crate) const REQUEST: Usage = Usage {
        request: true,
        response: false,
    };
    /// Responses only.
    pub(crate) const RESPONSE: Usage = Usage {
        request: false,
        response: true,
    };
    /// Reached from no operation.
    pub(crate) const UNUSED: Usage = Usage {
        request: false,
        response: false,
    };

    /// The directions to judge a change in, requests first; both for an
    /// unused schema.
    pub(crate) fn directions(self) -> impl Iterator<Item = Direction> {
        let unused = self == Usage::UNUSED;
        [
            (self.request || unused, Direction::Request),
            (self.response || unused, Direction::Response),
        ]
        .into_iter()
        .filter_map(|(on, d)| on.then_some(d))
    }

    /// `requests`, `responses`, `requests and responses` or `no operation`.
    pub(crate) fn describe(self) -> &'static str {
        match (self.request, self.response) {
            (true, false) => "requests",
            (false, true) => "responses",
            (true, true) => "requests and responses",
            (false, false) => "no operation",
        }
    }
}

/// What a group of changes belongs to: an operation or a component schema.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Group {
    /// An operation, by path and method.
    Operation {
        /// Upper-case HTTP method.
        method: String,
        /// Path template.
        path: String,
        /// The client method (`x-linkt-name`), if the operation has one.
        name: Option<String>,
    },
    /// A component schema.
    Component {
        /// The schema's name under `components/schemas`.
        name: String,
        /// Where the schema is used.
        usage: Usage,
    },
}

impl Group {
    fn sort_key(&self) -> (u8, &str, u8, &str) {
        match self {
            Group::Operation { method, path, .. } => (0, path, method_rank(method), ""),
            Group::Component { name, .. } => (1, name, 0, ""),
        }
    }

    /// `GET /v1/icp` or `IcpResponse`.
    pub(crate) fn title(&self) -> String {
        match self {
            Group::Operation { method, path, .. } => format!("{method} {path}"),
            Group::Component { name, .. } => name.clone(),
        }
    }
}

fn method_rank(method: &str) -> u8 {
    match method {
        "GET" => 0,
        "PUT" => 1,
        "POST" => 2,
        "PATCH" => 3,
        "DELETE" => 4,
        _ => 5,
    }
}

/// Where a change is: its group and a place inside it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Location {
    /// The operation or component.
    pub(crate) group: Group,
    /// Inside an operation: `query parameter page`, `request body`, `response body
    /// .items[].name`. Inside a component: the property path (`entity_targets[].root`),
    /// empty for the schema itself.
    pub(crate) detail: String,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.group {
            Group::Operation { name, .. } => {
                write!(f, "{}", self.group.title())?;
                if let Some(name) = name {
                    write!(f, " ({name})")?;
                }
                if !self.detail.is_empty() {
                    write!(f, " {}", self.detail)?;
                }
                Ok(())
            }
            Group::Component { name, .. } if self.detail.is_empty() => f.write_str(name),
            Group::Component { name, .. } if self.detail.starts_with('[') => {
                write!(f, "{name}{}", self.detail)
            }
            Group::Component { name, .. } => write!(f, "{name}.{}", self.detail),
        }
    }
}

/// One change between two documents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Change {
    /// The rule that detected it.
    pub(crate) rule: Rule,
    /// Where it is.
    pub(crate) location: Location,
    /// What changed, in a few words (`removed (was required string)`).
    pub(crate) message: String,
    /// For clients already deployed, talking to the new server.
    pub(crate) wire: Verdict,
    /// For code that compiled against the old generated client.
    pub(crate) rust: Verdict,
    /// What happens to the generated Rust code, when that is more than the rule says.
    pub(crate) rust_note: Option<String>,
}

impl Change {
    /// Breaking when either the wire or the Rust verdict is.
    pub(crate) fn verdict(&self) -> Verdict {
        self.wire.max(self.rust)
    }

    fn sort_key(&self) -> impl Ord + '_ {
        (
            std::cmp::Reverse(self.verdict()),
            self.location.group.sort_key(),
            self.location.detail.as_str(),
            self.rule,
            self.message.as_str(),
        )
    }
}

/// `rule location: message [verdict]`, with both verdicts when they differ.
impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {} ", self.rule, self.location, self.message)?;
        if self.wire == self.rust {
            write!(f, "[{}]", self.wire)
        } else {
            write!(f, "[wire: {}, Rust: {}]", self.wire, self.rust)
        }
    }
}

impl PartialOrd for Change {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Change {
    fn cmp(&self, other: &Self) -> Ordering {
        self.sort_key()
            .cmp(&other.sort_key())
            .then_with(|| format!("{:?}", self.location).cmp(&format!("{:?}", other.location)))
            .then_with(|| self.wire.cmp(&other.wire))
            .then_with(|| self.rust.cmp(&other.rust))
            .then_with(|| self.rust_note.cmp(&other.rust_note))
    }
}

/// Every change between two documents, breaking ones first, then by location.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ChangeReport {
    /// The changes, sorted.
    pub(crate) changes: Vec<Change>,
}

impl ChangeReport {
    /// Sorts and removes duplicates (a change reached twice through different paths).
    pub(crate) fn new(mut changes: Vec<Change>) -> ChangeReport {
        changes.sort();
        changes.dedup();
        ChangeReport { changes }
    }

    /// No changes at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The breaking changes, in report order.
    pub(crate) fn breaking_changes(&self) -> impl Iterator<Item = &Change> {
        self.changes
            .iter()
            .filter(|c| c.verdict() == Verdict::Breaking)
    }

    /// The changes that break nothing, in report order.
    pub(crate) fn compatible_changes(&self) -> impl Iterator<Item = &Change> {
        self.changes
            .iter()
            .filter(|c| c.verdict() == Verdict::NotBreaking)
    }

    /// How many changes are breaking.
    pub(crate) fn breaking(&self) -> usize {
        self.breaking_changes().count()
    }

    /// How many changes are not breaking.
    pub(crate) fn not_breaking(&self) -> usize {
        self.changes.len() - self.breaking()
    }
}
