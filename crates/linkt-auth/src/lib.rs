//! API-key credentials and endpoint configuration for the Linkt API.
//!
//! This crate holds what a client needs before it sends its first byte:
//!
//! * [`ApiKey`], the secret sent in the [`x-api-key`](API_KEY_HEADER) header:
//!   validated, redacted in `Debug`/`Display`, zeroized on drop, never
//!   serialized;
//! * [`Environment`] and [`Config`] / [`ConfigBuilder`], which choose the base
//!   URL from code or from the `LINKT_API_KEY`, `LINKT_BASE_URL` and
//!   `LINKT_ENVIRONMENT` environment variables, and refuse to send the key
//!   over plain `http` to anything but a loopback host;
//! * [`AuthError`], whose messages name what to fix and never contain the key.
//!
//! It does not build HTTP clients or send requests; the `linkt` crate does,
//! using [`Config::base_url`] and [`Config::default_headers`].
//!
//! ```
//! use linkt_auth::{ApiKey, Config, Environment};
//!
//! let config = Config::builder()
//!     .api_key(ApiKey::new("sk-test-123")?)
//!     .environment(Environment::Staging)
//!     .build()?;
//! assert_eq!(config.base_url(), "https://api-staging.linkt.ai");
//! assert!(!format!("{config:?}").contains("sk-test-123"));
//! # Ok::<(), linkt_auth::AuthError>(())
//! ```
#![deny(missing_docs)]

mod config;
mod error;
mod key;

pub use config::{Config, ConfigBuilder, ENV_API_KEY, ENV_BASE_URL, ENV_ENVIRONMENT, Environment};
pub use error::{AuthError, ParseEnvironmentError};
pub use key::{API_KEY_HEADER, API_KEY_HEADER_NAME, ApiKey, InvalidCharKind};
