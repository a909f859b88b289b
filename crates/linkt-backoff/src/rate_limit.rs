//! Reading the server's rate-limit headers into a [`RateLimit`].
//!
//! The Linkt docs say responses carry rate-limit headers but do not name
//! them, so every common form is read, whichever the server sends:
//!
//! | form | example |
//! |---|---|
//! | IETF draft, structured fields (draft 08 and later) | `RateLimit: "default";r=50;t=30` with `RateLimit-Policy: "default";q=100;w=60` |
//! | IETF draft, dictionary (draft 07) | `RateLimit: limit=100, remaining=50, reset=30` with `RateLimit-Policy: 100;w=60` |
//! | IETF draft, separate headers (drafts up to 06) | `RateLimit-Limit: 100`, `RateLimit-Remaining: 50`, `RateLimit-Reset: 30` |
//! | de-facto `X-` headers | `X-RateLimit-Limit: 100`, `X-RateLimit-Remaining: 50`, `X-RateLimit-Reset: 30` |
//!
//! Each field is taken from the first form, in that order, that yields it.
//! A reset value is seconds from now unless it is at least 10^9, which no
//! delay is: then it is a Unix timestamp in seconds, or in milliseconds from
//! 10^12 on (a timestamp in the past means a reset of zero). A value that
//! does not parse leaves its field `None`; parsing never panics.
//!
//! Pacing on these numbers is [`RateLimiter`](crate::RateLimiter)'s job, not
//! this module's.

use std::time::{Duration, SystemTime};

use http::HeaderMap;

use crate::classify::parse_finite;

/// Rate-limit status reported by the server in one response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// Requests allowed per window (the quota).
    pub limit: Option<u64>,
    /// Requests left in the current window.
    pub remaining: Option<u64>,
    /// Time until the window resets (or the quota frees up).
    pub reset: Option<Duration>,
    /// The window length, when the server names its policy
    /// (`RateLimit-Policy: …;w=60`).
    pub window: Option<Duration>,
    /// The policy name from the structured-field form (`"default"`).
    pub policy: Option<String>,
}

impl RateLimit {
    /// An empty report; fill it with the `with_*` methods.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`limit`](Self::limit).
    pub fn with_limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Sets [`remaining`](Self::remaining).
    pub fn with_remaining(mut self, remaining: u64) -> Self {
        self.remaining = Some(remaining);
        self
    }

    /// Sets [`reset`](Self::reset).
    pub fn with_reset(mut self, reset: Duration) -> Self {
        self.reset = Some(reset);
        self
    }

    /// Sets [`window`](Self::window).
    pub fn with_window(mut self, window: Duration) -> Self {
        self.window = Some(window);
        self
    }

    /// Whether the server said no requests are left (`remaining` is 0).
    pub fn is_exhausted(&self) -> bool {
        self.remaining == Some(0)
    }

    /// Reads the rate-limit headers (see the [module docs](self)); `now`
    /// turns a reset given as a timestamp into a duration. `None` when no
    /// field could be read.
    pub fn from_headers(headers: &HeaderMap, now: SystemTime) -> Option<Self> {
        // Most responses carry none of these headers: skip every lookup then.
        if !carries_rate_limit(headers) {
            return None;
        }
        Self::parse_all(headers, now)
    }

    /// [`Self::from_headers`] without the scan that skips it.
    fn parse_all(headers: &HeaderMap, now: SystemTime) -> Option<Self> {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let mut found = Self::default();
        if let Some(value) = text("ratelimit") {
            found.fill(parse_draft(value, text("ratelimit-policy"), now));
        }
        found.fill(parse_split(
            text("ratelimit-limit"),
            text("ratelimit-remaining"),
            text("ratelimit-reset"),
            now,
        ));
        if found.window.is_none() {
            // Drafts up to 06 paired the separate headers with a bare policy.
            if let Some(policy) = text("ratelimit-policy") {
                let policies = parse_policies(policy);
                found.window = pick_policy(&policies, None, found.limit).and_then(|p| p.window);
            }
        }
        found.fill(parse_split(
            text("x-ratelimit-limit"),
            text("x-ratelimit-remaining"),
            text("x-ratelimit-reset"),
            now,
        ));
        (found != Self::default()).then_some(found)
    }

    /// Fills every field still `None` from `other`.
    fn fill(&mut self, other: Self) {
        self.limit = self.limit.or(other.limit);
        self.remaining = self.remaining.or(other.remaining);
        self.reset = self.reset.or(other.reset);
        self.window = self.window.or(other.window);
        if self.policy.is_none() {
            self.policy = other.policy;
        }
    }
}

/// A reset value: delta seconds, or a Unix timestamp (seconds from 10^9,
/// milliseconds from 10^12).
fn parse_reset(text: &str, now: SystemTime) -> Option<Duration> {
    let value = parse_finite(text)?;
    if value < 0.0 {
        return None;
    }
    let seconds = if value >= 1e12 {
        value / 1000.0
    } else if value >= 1e9 {
        value
    } else {
        return Duration::try_from_secs_f64(value).ok();
    };
    let at = SystemTime::UNIX_EPOCH.checked_add(Duration::try_from_secs_f64(seconds).ok()?)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A non-negative integer, ignoring surrounding whitespace.
fn parse_count(text: &str) -> Option<u64> {
    text.trim().parse().ok()
}

/// A window length in seconds.
fn parse_window(text: &str) -> Option<Duration> {
    let value = parse_finite(text)?;
    if value <= 0.0 {
        return None;
    }
    Duration::try_from_secs_f64(value).ok()
}

/// The separate-header forms (`RateLimit-*`, `X-RateLimit-*`). The limit may
/// carry a policy in the old draft style, `100, 100;w=60`.
fn parse_split(
    limit: Option<&str>,
    remaining: Option<&str>,
    reset: Option<&str>,
    now: SystemTime,
) -> RateLimit {
    let mut found = RateLimit::default();
    if let Some(limit) = limit {
        let members = split_outside_quotes(limit, ',');
        found.limit = members.first().and_then(|m| {
            let (bare, _) = split_member(m);
            parse_count(bare)
        });
        found.window = members.iter().find_map(|m| {
            let (_, params) = split_member(m);
            param(&params, "w").and_then(parse_window)
        });
    }
    found.remaining = remaining.and_then(parse_count);
    found.reset = reset.and_then(|r| parse_reset(r, now));
    found
}

/// One policy from `RateLimit-Policy`.
#[derive(Debug)]
struct Policy {
    name: Option<String>,
    quota: Option<u64>,
    window: Option<Duration>,
}

fn parse_policies(value: &str) -> Vec<Policy> {
    split_outside_quotes(value, ',')
        .into_iter()
        .map(|member| {
            let (bare, params) = split_member(member);
            match unquote(bare) {
                // Draft 08 and later: `"name";q=100;w=60`.
                Some(name) => Policy {
                    name: Some(name),
                    quota: param(&params, "q").and_then(parse_count),
                    window: param(&params, "w").and_then(parse_window),
                },
                // Drafts up to 07: `100;w=60`.
                None => Policy {
                    name: None,
                    quota: parse_count(bare),
                    window: param(&params, "w").and_then(parse_window),
                },
            }
        })
        .collect()
}

/// The policy named `name`, else the one whose quota is `limit`, else the
/// only or first one.
fn pick_policy<'p>(
    policies: &'p [Policy],
    name: Option<&str>,
    limit: Option<u64>,
) -> Option<&'p Policy> {
    if let Some(name) = name
        && let Some(p) = policies.iter().find(|p| p.name.as_deref() == Some(name))
    {
        return Some(p);
    }
    if let Some(limit) = limit
        && let Some(p) = policies.iter().find(|p| p.quota == Some(limit))
    {
        return Some(p);
    }
    policies.first()
}

/// The `RateLimit` header in either draft form, with `RateLimit-Policy`.
fn parse_draft(value: &str, policy: Option<&str>, now: SystemTime) -> RateLimit {
    let policies = policy.map(parse_policies).unwrap_or_default();
    let mut found = RateLimit::default();
    // Structured-field items, one per policy: `"name";r=50;t=30`.
    let mut items: Vec<(Option<String>, Option<u64>, Option<Duration>)> = Vec::new();
    for member in split_outside_quotes(value, ',') {
        let (bare, params) = split_member(member);
        let dictionary = if bare.starts_with('"') {
            None
        } else {
            bare.split_once('=')
        };
        if let Some((key, val)) = dictionary {
            // Draft 07 dictionary: `limit=100, remaining=50, reset=30`.
            let val = val.trim();
            match key.trim().to_ascii_lowercase().as_str() {
                "limit" => found.limit = found.limit.or(parse_count(val)),
                "remaining" => found.remaining = found.remaining.or(parse_count(val)),
                "reset" => found.reset = found.reset.or(parse_reset(val, now)),
                _ => {}
            }
        } else {
            let name = unquote(bare).or_else(|| (!bare.is_empty()).then(|| bare.to_owned()));
            let remaining = param(&params, "r").and_then(parse_count);
            let reset = param(&params, "t").and_then(|t| parse_reset(t, now));
            items.push((name, remaining, reset));
        }
    }
    // With several policies, the most constrained one matters: fewest
    // requests left, then the longest wait.
    let chosen = items.into_iter().min_by(|a, b| {
        let left = |x: &Option<u64>| x.unwrap_or(u64::MAX);
        left(&a.1)
            .cmp(&left(&b.1))
            .then_with(|| b.2.unwrap_or_default().cmp(&a.2.unwrap_or_default()))
    });
    let mut chosen_name = None;
    if let Some((name, remaining, reset)) = chosen {
        found.remaining = found.remaining.or(remaining);
        found.reset = found.reset.or(reset);
        chosen_name = name;
    }
    if let Some(p) = pick_policy(&policies, chosen_name.as_deref(), found.limit) {
        found.limit = found.limit.or(p.quota);
        found.window = p.window;
    }
    found.policy = chosen_name;
    found
}

/// Splits on `sep` outside double-quoted strings (which may hold `\"`).
fn split_outside_quotes(value: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        if in_quotes {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quotes = false;
            }
        } else if c == '"' {
            in_quotes = true;
        } else if c == sep {
            parts.push(value.get(start..i).unwrap_or_default());
            start = i + c.len_utf8();
        }
    }
    parts.push(value.get(start..).unwrap_or_default());
    parts
}

/// Splits a list member into its bare item and its `key=value` parameters.
fn split_member(member: &str) -> (&str, Vec<(&str, &str)>) {
    let mut pieces = split_outside_quotes(member, ';').into_iter();
    let bare = pieces.next().unwrap_or_default().trim();
    let params = pieces
        .map(|p| {
            let p = p.trim();
            match p.split_once('=') {
                Some((k, v)) => (k.trim(), v.trim()),
                None => (p, "?1"),
            }
        })
        .collect();
    (bare, params)
}

/// The value of parameter `key` (case-insensitive).
fn param<'a>(params: &[(&str, &'a str)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| *v)
}

/// The content of a structured-field string (`"a\"b"` → `a"b`), or `None`
/// if `item` is not one.
fn unquote(item: &str) -> Option<String> {
    let inner = item.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.extend(chars.next());
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Whether any header is one [`RateLimit::from_headers`] reads (all start with
/// `ratelimit` or `x-ratelimit`); a cheap scan of the names.
fn carries_rate_limit(headers: &HeaderMap) -> bool {
    headers.keys().any(|name| {
        let name = name.as_str();
        name.starts_with("ratelimit") || name.starts_with("x-ratelimit")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn single(name: &'static str, value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::HeaderName::from_static(name),
            http::HeaderValue::from_static(value),
        );
        headers
    }

    #[test]
    fn the_rate_limit_prefilter_lets_through_every_header_the_parser_reads() {
        let now = SystemTime::now();
        let cases = [
            ("ratelimit", "limit=100, remaining=50, reset=30"),
            ("ratelimit-policy", "100;w=60"),
            ("ratelimit-limit", "100"),
            ("ratelimit-remaining", "5"),
            ("ratelimit-reset", "30"),
            ("x-ratelimit-limit", "100"),
            ("x-ratelimit-remaining", "5"),
            ("x-ratelimit-reset", "30"),
            ("retry-after", "5"),
            ("retry-after-ms", "500"),
            ("x-request-id", "req_123"),
            ("content-type", "application/json"),
        ];
        for (name, value) in cases {
            let headers = single(name, value);
            if RateLimit::parse_all(&headers, now).is_some() {
                assert!(carries_rate_limit(&headers), "{name} was filtered out");
            }
        }
        for (name, value) in &cases[..8] {
            assert!(carries_rate_limit(&single(name, value)), "{name}");
        }
        for (name, value) in &cases[8..] {
            assert!(!carries_rate_limit(&single(name, value)), "{name}");
        }
    }

    #[test]
    fn split_respects_quotes_and_escapes() {
        assert_eq!(
            split_outside_quotes(r#""a,b";r=1, "c\",d";r=2"#, ','),
            [r#""a,b";r=1"#, r#" "c\",d";r=2"#]
        );
        assert_eq!(unquote(r#""c\",d""#).as_deref(), Some("c\",d"));
        assert_eq!(unquote("token"), None);
        assert_eq!(unquote("\""), None);
    }

    #[test]
    fn reset_disambiguates_delta_and_timestamps() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_reset("30", now), Some(Duration::from_secs(30)));
        assert_eq!(parse_reset("1.5", now), Some(Duration::from_millis(1500)));
        assert_eq!(
            parse_reset("1700000042", now),
            Some(Duration::from_secs(42))
        );
        assert_eq!(
            parse_reset("1700000042500", now),
            Some(Duration::from_millis(42_500))
        );
        assert_eq!(parse_reset("1600000000", now), Some(Duration::ZERO));
        assert_eq!(parse_reset("-1", now), None);
        assert_eq!(parse_reset("1e308", now), None);
        assert_eq!(parse_reset("soon", now), None);
    }
}
