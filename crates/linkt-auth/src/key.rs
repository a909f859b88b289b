//! The [`ApiKey`] secret and the `x-api-key` header it is sent in.
//!
//! This module owns the only type that holds the key and the rules a key must
//! satisfy. It knows nothing about environments, base URLs or environment
//! variables; those live in `config`.

use std::fmt;
use std::str::FromStr;

use http::{HeaderName, HeaderValue};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::AuthError;

/// Name of the HTTP header that carries the API key on every request.
///
/// Lower-case as the official SDKs send it (header names are case-insensitive).
pub const API_KEY_HEADER: &str = "x-api-key";

/// [`API_KEY_HEADER`] as a typed [`http::HeaderName`].
pub const API_KEY_HEADER_NAME: HeaderName = HeaderName::from_static(API_KEY_HEADER);

/// A Linkt API key (organization-scoped secret).
///
/// # Invariants
///
/// * The key is non-empty and consists only of visible ASCII characters
///   (`!` through `~`), so it is always a valid HTTP header value.
/// * The key never leaves this type by accident: [`Debug`] and [`Display`](fmt::Display)
///   print `ApiKey(<redacted>)`, there is no `Serialize` implementation, and
///   the memory holding the key is overwritten with zeros when the value is
///   dropped.
/// * Equality ([`PartialEq`]) compares in constant time for keys of equal
///   length, so it does not reveal how long a common prefix is.
///
/// [`ApiKey::expose_secret`] is the only way to read the key.
///
/// # Example
///
/// ```
/// use linkt_auth::ApiKey;
///
/// let key = ApiKey::new("sk-test-123")?;
/// assert_eq!(format!("{key:?}"), "ApiKey(<redacted>)");
/// assert!(key.header_value().is_sensitive());
/// # Ok::<(), linkt_auth::AuthError>(())
/// ```
#[derive(Clone)]
pub struct ApiKey {
    secret: String,
}

/// What is wrong with a character of a rejected API key.
///
/// Reported instead of the character itself so that error messages never
/// contain any part of the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InvalidCharKind {
    /// An ASCII control character such as a newline, tab, NUL or DEL.
    Control,
    /// A space.
    Space,
    /// A character outside ASCII (for example a typographic quote or a
    /// non-breaking space picked up by copy and paste).
    NonAscii,
}

impl fmt::Display for InvalidCharKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InvalidCharKind::Control => "a control character",
            InvalidCharKind::Space => "a space",
            InvalidCharKind::NonAscii => "a non-ascii character",
        })
    }
}

impl ApiKey {
    /// Validates and wraps an API key.
    ///
    /// # Errors
    ///
    /// * [`AuthError::EmptyApiKey`] if the key is empty or only whitespace.
    /// * [`AuthError::InvalidApiKeyChar`] if the key contains a character an
    ///   HTTP header value cannot carry unambiguously (control characters,
    ///   spaces, non-ASCII). The error gives the 1-based character position
    ///   and the kind of character, never the character or the key.
    ///
    /// A rejected key is zeroized before this function returns.
    pub fn new(key: impl Into<String>) -> Result<ApiKey, AuthError> {
        let mut secret = key.into();
        match validate(&secret) {
            Ok(()) => Ok(ApiKey { secret }),
            Err(err) => {
                secret.zeroize();
                Err(err)
            }
        }
    }

    /// Returns the key in clear text.
    ///
    /// This is the only way to read the key. Do not log, print or persist
    /// the returned string.
    pub fn expose_secret(&self) -> &str {
        &self.secret
    }

    /// Returns the key as an HTTP header value marked sensitive
    /// ([`HeaderValue::set_sensitive`]), so HTTP libraries and their `Debug`
    /// output treat it as a secret. Send it under [`API_KEY_HEADER`].
    pub fn header_value(&self) -> HeaderValue {
        // `validate` admits only bytes 0x21..=0x7E, all of which are valid in
        // a header value, so the fallback is unreachable; it exists only to
        // keep library code free of panics.
        let mut value =
            HeaderValue::from_str(&self.secret).unwrap_or_else(|_| HeaderValue::from_static(""));
        value.set_sensitive(true);
        value
    }
}

fn validate(key: &str) -> Result<(), AuthError> {
    if key.trim().is_empty() {
        return Err(AuthError::EmptyApiKey);
    }
    for (index, ch) in key.chars().enumerate() {
        let kind = match ch {
            '!'..='~' => continue,
            ' ' => InvalidCharKind::Space,
            c if c.is_ascii_control() => InvalidCharKind::Control,
            _ => InvalidCharKind::NonAscii,
        };
        return Err(AuthError::InvalidApiKeyChar {
            position: index + 1,
            kind,
        });
    }
    Ok(())
}

impl Drop for ApiKey {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

impl PartialEq for ApiKey {
    /// Constant-time comparison (the length of the keys is not hidden).
    fn eq(&self, other: &Self) -> bool {
        self.secret.as_bytes().ct_eq(other.secret.as_bytes()).into()
    }
}

impl Eq for ApiKey {}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl FromStr for ApiKey {
    type Err = AuthError;

    /// Same as [`ApiKey::new`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ApiKey::new(s)
    }
}

impl TryFrom<String> for ApiKey {
    type Error = AuthError;

    /// Same as [`ApiKey::new`].
    fn try_from(value: String) -> Result<Self, Self::Error> {
        ApiKey::new(value)
    }
}
