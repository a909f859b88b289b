//! [`AuthError`], the error of every fallible function in this crate.
//!
//! No variant carries the API key or any part of it: key problems are
//! reported by position and character kind only.

use crate::{Environment, InvalidCharKind};

/// Why a key or a configuration was rejected.
///
/// Every message is short, lower-case and names what to fix (for example the
/// environment variable involved). No message contains the API key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No API key was given in code and `LINKT_API_KEY` is unset or empty.
    #[error(
        "missing api key: pass one to `ConfigBuilder::api_key` or set the LINKT_API_KEY environment variable"
    )]
    MissingApiKey,

    /// The API key is empty or consists only of whitespace.
    #[error("invalid api key: the key is empty or only whitespace")]
    EmptyApiKey,

    /// The API key contains a character that an HTTP header value cannot
    /// carry unambiguously. The character itself is not reported.
    #[error(
        "invalid api key: character {position} is {kind} (an api key may contain only visible ascii characters)"
    )]
    InvalidApiKeyChar {
        /// 1-based position of the offending character (in characters, not
        /// bytes).
        position: usize,
        /// What kind of character it is.
        kind: InvalidCharKind,
    },

    /// The base URL could not be parsed as an absolute URL.
    #[error("invalid base url `{url}`: {source}")]
    InvalidBaseUrl {
        /// The base URL as given (with surrounding whitespace removed).
        url: String,
        /// The parse failure.
        #[source]
        source: url::ParseError,
    },

    /// The base URL uses a scheme other than `http` or `https`.
    #[error(
        "unsupported base url scheme `{scheme}` in `{url}`: use https (or http for local servers)"
    )]
    UnsupportedScheme {
        /// The base URL as given.
        url: String,
        /// The rejected scheme.
        scheme: String,
    },

    /// The base URL is well-formed but cannot serve as a base URL (it has no
    /// host, embeds credentials, or carries a query or fragment).
    #[error("unsupported base url `{url}`: {reason}")]
    UnsupportedBaseUrl {
        /// The base URL with any embedded credentials removed.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// Both an environment and a base URL were given, so it is unclear which
    /// server to talk to.
    #[error(
        "ambiguous base url: both environment `{environment}` and base url `{base_url}` given; set only one of them (LINKT_ENVIRONMENT / LINKT_BASE_URL)"
    )]
    AmbiguousBaseUrl {
        /// The environment that was given.
        environment: Environment,
        /// The base URL that was given.
        base_url: String,
    },

    /// An environment name was not recognised.
    #[error(transparent)]
    UnknownEnvironment(#[from] ParseEnvironmentError),

    /// Sending the key over plain `http://` to a host that is not a loopback
    /// address was refused. Use `https`, a loopback host, or
    /// `ConfigBuilder::allow_insecure_http(true)`.
    #[error(
        "refusing to send the api key over plain http to `{host}`: use https, a loopback host, or allow_insecure_http(true)"
    )]
    InsecureTransport {
        /// The non-loopback host the key would have been sent to.
        host: String,
    },

    /// An environment variable is set but not valid unicode.
    #[error("environment variable {name} is not valid unicode")]
    EnvNotUnicode {
        /// Name of the variable.
        name: &'static str,
    },

    /// An environment variable holds an invalid value.
    #[error("invalid {name} environment variable: {source}")]
    InvalidEnvVar {
        /// Name of the variable.
        name: &'static str,
        /// What is wrong with its value.
        #[source]
        source: Box<AuthError>,
    },
}

/// An environment name other than `production` or `staging`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown environment `{name}`: expected one of `production`, `staging`")]
pub struct ParseEnvironmentError {
    name: String,
}

impl ParseEnvironmentError {
    pub(crate) fn new(name: &str) -> Self {
        // Bound what we echo back: the input may be arbitrary text.
        let name = name.chars().take(64).collect();
        ParseEnvironmentError { name }
    }

    /// The rejected name (at most 64 characters of it).
    pub fn name(&self) -> &str {
        &self.name
    }
}
