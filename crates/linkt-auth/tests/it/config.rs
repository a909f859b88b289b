//! `Environment`, `Config` and its builder, from code and from (fake)
//! environment variables.

use linkt_auth::{ApiKey, AuthError, Config, Environment};

fn key() -> ApiKey {
    ApiKey::new("sk-test-key").unwrap()
}

/// Builds a lookup over a fixed table instead of the process environment.
fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl FnMut(&str) -> Option<String> + 'a {
    move |name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

#[test]
fn environment_urls_and_names() {
    assert_eq!(Environment::Production.base_url(), "https://api.linkt.ai");
    assert_eq!(
        Environment::Staging.base_url(),
        "https://api-staging.linkt.ai"
    );
    assert_eq!(Environment::default(), Environment::Production);
    for (input, want) in [
        ("production", Environment::Production),
        ("PRODUCTION", Environment::Production),
        ("Staging", Environment::Staging),
        (" staging ", Environment::Staging),
    ] {
        assert_eq!(input.parse::<Environment>().unwrap(), want, "{input:?}");
    }
    let err = "dev".parse::<Environment>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown environment `dev`: expected one of `production`, `staging`"
    );
    assert_eq!(err.name(), "dev");
    for env in Environment::ALL {
        assert_eq!(env.to_string().parse::<Environment>().unwrap(), env);
    }
}

#[test]
fn builder_from_code() {
    let config = Config::builder().api_key(key()).build().unwrap();
    assert_eq!(config.base_url(), "https://api.linkt.ai");
    assert_eq!(config.environment(), Some(Environment::Production));
    assert_eq!(config.api_key().expose_secret(), "sk-test-key");

    let config = Config::new(key());
    assert_eq!(config.base_url(), "https://api.linkt.ai");

    let config = Config::builder()
        .api_key(key())
        .environment(Environment::Staging)
        .build()
        .unwrap();
    assert_eq!(config.base_url(), "https://api-staging.linkt.ai");

    let config = Config::builder()
        .api_key(key())
        .base_url("https://proxy.example.com/linkt/")
        .build()
        .unwrap();
    assert_eq!(config.base_url(), "https://proxy.example.com/linkt");
    assert_eq!(config.environment(), None);

    // `build` never reads the process environment.
    assert!(matches!(
        Config::builder().build(),
        Err(AuthError::MissingApiKey)
    ));
}

#[test]
fn builder_rejects_environment_and_base_url() {
    let err = Config::builder()
        .api_key(key())
        .environment(Environment::Staging)
        .base_url("https://example.com")
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "ambiguous base url: both environment `staging` and base url `https://example.com` given; \
         set only one of them (LINKT_ENVIRONMENT / LINKT_BASE_URL)"
    );
}

/// One row of the environment table: variables, expected base URL or the
/// expected error message.
#[track_caller]
fn check_env(vars: &[(&str, &str)], want: Result<&str, &str>) {
    let got = Config::from_env_with(env(vars));
    match (got, want) {
        (Ok(config), Ok(url)) => {
            assert_eq!(config.base_url(), url, "{vars:?}");
            assert!(config.api_key().expose_secret().starts_with("sk-"));
        }
        (Err(err), Err(msg)) => assert_eq!(err.to_string(), msg, "{vars:?}"),
        (got, want) => panic!("{vars:?}: got {got:?}, want {want:?}"),
    }
}

#[test]
fn env_table() {
    let missing = "missing api key: pass one to `ConfigBuilder::api_key` or set the LINKT_API_KEY environment variable";
    check_env(&[], Err(missing));
    check_env(&[("LINKT_API_KEY", "")], Err(missing));
    check_env(&[("LINKT_BASE_URL", "https://example.com")], Err(missing));
    check_env(
        &[("LINKT_API_KEY", "sk-a\n")],
        Err(
            "invalid LINKT_API_KEY environment variable: invalid api key: character 5 is a control character (an api key may contain only visible ascii characters)",
        ),
    );
    check_env(
        &[("LINKT_API_KEY", "   ")],
        Err(
            "invalid LINKT_API_KEY environment variable: invalid api key: the key is empty or only whitespace",
        ),
    );
    check_env(&[("LINKT_API_KEY", "sk-a")], Ok("https://api.linkt.ai"));
    check_env(
        &[("LINKT_API_KEY", "sk-a"), ("LINKT_ENVIRONMENT", "staging")],
        Ok("https://api-staging.linkt.ai"),
    );
    check_env(
        &[
            ("LINKT_API_KEY", "sk-a"),
            ("LINKT_ENVIRONMENT", "Production"),
        ],
        Ok("https://api.linkt.ai"),
    );
    check_env(
        &[("LINKT_API_KEY", "sk-a"), ("LINKT_ENVIRONMENT", "dev")],
        Err(
            "invalid LINKT_ENVIRONMENT environment variable: unknown environment `dev`: expected one of `production`, `staging`",
        ),
    );
    check_env(
        &[
            ("LINKT_API_KEY", "sk-a"),
            ("LINKT_BASE_URL", "https://example.com/"),
        ],
        Ok("https://example.com"),
    );
    check_env(
        &[
            ("LINKT_API_KEY", "sk-a"),
            ("LINKT_BASE_URL", "https://example.com/api//"),
        ],
        Ok("https://example.com/api"),
    );
    check_env(
        &[
            ("LINKT_API_KEY", "sk-a"),
            ("LINKT_BASE_URL", "http://127.0.0.1:8080/"),
        ],
        Ok("http://127.0.0.1:8080"),
    );
    check_env(
        &[("LINKT_API_KEY", "sk-a"), ("LINKT_BASE_URL", "")],
        Ok("https://api.linkt.ai"),
    );
    check_env(
        &[
            ("LINKT_API_KEY", "sk-a"),
            ("LINKT_ENVIRONMENT", "staging"),
            ("LINKT_BASE_URL", "https://example.com"),
        ],
        Err(
            "ambiguous base url: both environment `staging` and base url `https://example.com` given; set only one of them (LINKT_ENVIRONMENT / LINKT_BASE_URL)",
        ),
    );
    check_env(
        &[
            ("LINKT_API_KEY", "sk-a"),
            ("LINKT_BASE_URL", "http://example.com"),
        ],
        Err(
            "invalid LINKT_BASE_URL environment variable: refusing to send the api key over plain http to `example.com`: use https, a loopback host, or allow_insecure_http(true)",
        ),
    );
    check_env(
        &[
            ("LINKT_API_KEY", "sk-a"),
            ("LINKT_BASE_URL", "ftp://example.com"),
        ],
        Err(
            "invalid LINKT_BASE_URL environment variable: unsupported base url scheme `ftp` in `ftp://example.com/`: use https (or http for local servers)",
        ),
    );
    check_env(
        &[
            ("LINKT_API_KEY", "sk-a"),
            ("LINKT_BASE_URL", "api.linkt.ai"),
        ],
        Err(
            "invalid LINKT_BASE_URL environment variable: invalid base url `api.linkt.ai`: relative URL without a base",
        ),
    );
}

#[test]
fn code_values_take_precedence_over_env() {
    let vars = [("LINKT_API_KEY", "sk-from-env")];
    let config = Config::builder()
        .api_key(ApiKey::new("sk-from-code").unwrap())
        .build_with_env_lookup(env(&vars))
        .unwrap();
    assert_eq!(config.api_key().expose_secret(), "sk-from-code");

    let vars = [
        ("LINKT_API_KEY", "sk-a"),
        ("LINKT_ENVIRONMENT", "production"),
    ];
    let config = Config::builder()
        .environment(Environment::Staging)
        .build_with_env_lookup(env(&vars))
        .unwrap();
    assert_eq!(config.base_url(), "https://api-staging.linkt.ai");
    assert_eq!(config.api_key().expose_secret(), "sk-a");

    let vars = [
        ("LINKT_API_KEY", "sk-a"),
        ("LINKT_BASE_URL", "https://env.example.com"),
    ];
    let config = Config::builder()
        .base_url("https://code.example.com")
        .build_with_env_lookup(env(&vars))
        .unwrap();
    assert_eq!(config.base_url(), "https://code.example.com");
}

#[test]
fn explicit_environment_with_env_base_url_is_ambiguous() {
    // Parity with the official SDKs: `environment` argument + LINKT_BASE_URL.
    let vars = [
        ("LINKT_API_KEY", "sk-a"),
        ("LINKT_BASE_URL", "https://example.com"),
    ];
    let err = Config::builder()
        .environment(Environment::Staging)
        .build_with_env_lookup(env(&vars))
        .unwrap_err();
    assert!(matches!(
        &err,
        AuthError::AmbiguousBaseUrl { environment: Environment::Staging, base_url }
            if base_url == "https://example.com"
    ));
}

#[test]
fn env_lookup_sees_only_known_names() {
    let mut seen = Vec::new();
    let _ = Config::from_env_with(|name| {
        seen.push(name.to_owned());
        None
    });
    assert_eq!(seen, ["LINKT_API_KEY"]);

    let mut seen = Vec::new();
    let _ = Config::from_env_with(|name| {
        seen.push(name.to_owned());
        (name == "LINKT_API_KEY").then(|| "sk-a".to_owned())
    });
    assert_eq!(
        seen,
        ["LINKT_API_KEY", "LINKT_ENVIRONMENT", "LINKT_BASE_URL"]
    );
}

#[track_caller]
fn build_url(url: &str, allow_insecure: bool) -> Result<Config, AuthError> {
    Config::builder()
        .api_key(key())
        .base_url(url)
        .allow_insecure_http(allow_insecure)
        .build()
}

#[test]
fn insecure_http_is_refused_for_remote_hosts() {
    for (url, host) in [
        ("http://example.com", "example.com"),
        ("http://api.linkt.ai/", "api.linkt.ai"),
        ("http://10.0.0.1:8080", "10.0.0.1"),
        ("http://[2001:db8::1]", "[2001:db8::1]"),
        ("http://localhost.example.com", "localhost.example.com"),
        ("http://128.0.0.1", "128.0.0.1"),
    ] {
        match build_url(url, false) {
            Err(AuthError::InsecureTransport { host: got }) => assert_eq!(got, host, "{url}"),
            other => panic!("{url}: {other:?}"),
        }
        let config = build_url(url, true).unwrap();
        assert!(config.allows_insecure_http());
        assert!(config.base_url().starts_with("http://"));
    }
}

#[test]
fn insecure_http_is_accepted_for_loopback() {
    for (url, want) in [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.1.2.3/", "http://127.1.2.3"),
        ("http://localhost", "http://localhost"),
        ("http://LOCALHOST:8080/", "http://localhost:8080"),
        ("http://[::1]", "http://[::1]"),
        ("http://[::1]:9000/base/", "http://[::1]:9000/base"),
        ("http://[::ffff:127.0.0.1]", "http://[::ffff:7f00:1]"),
        ("https://example.com", "https://example.com"),
    ] {
        let config = build_url(url, false).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(config.base_url(), want);
    }
}

#[test]
fn unsupported_base_urls() {
    for (url, reason) in [
        (
            "https://user:pw@example.com",
            "credentials in the url are not supported",
        ),
        (
            "https://example.com/?a=b",
            "a base url cannot have a query string",
        ),
        (
            "https://example.com/#top",
            "a base url cannot have a fragment",
        ),
    ] {
        match build_url(url, false) {
            Err(AuthError::UnsupportedBaseUrl {
                url: shown,
                reason: got,
            }) => {
                assert_eq!(got, reason, "{url}");
                assert!(!shown.contains("pw"), "{shown}");
            }
            other => panic!("{url}: {other:?}"),
        }
    }
    assert!(matches!(
        build_url("file:///tmp/x", false),
        Err(AuthError::UnsupportedScheme { scheme, .. }) if scheme == "file"
    ));
    assert!(matches!(
        build_url("not a url", false),
        Err(AuthError::InvalidBaseUrl { .. })
    ));
}

#[test]
fn default_headers_carry_the_sensitive_key() {
    let config = Config::new(key());
    let headers = config.default_headers();
    let value = headers.get("x-api-key").unwrap();
    assert!(value.is_sensitive());
    assert_eq!(value, "sk-test-key");
}

#[test]
fn config_debug_shows_base_url_and_redacts_key() {
    let config = Config::new(key());
    let debug = format!("{config:?}");
    assert!(
        debug.contains("base_url: \"https://api.linkt.ai\""),
        "{debug}"
    );
    assert!(debug.contains("api_key: <redacted>"), "{debug}");
    assert!(!debug.contains("sk-test-key"));
    let builder = Config::builder().api_key(key());
    assert!(!format!("{builder:?}").contains("sk-test-key"));
}

#[test]
fn a_user_name_or_a_password_alone_in_the_url_is_refused() {
    for url in [
        "https://user@example.com",
        "https://:pw@example.com",
        "https://user:@example.com",
    ] {
        match build_url(url, false) {
            Err(AuthError::UnsupportedBaseUrl { url: shown, reason }) => {
                assert_eq!(reason, "credentials in the url are not supported", "{url}");
                assert_eq!(shown, "https://example.com/", "{url}");
            }
            other => panic!("{url}: {other:?}"),
        }
    }
}

#[test]
fn credentials_in_a_base_url_that_does_not_parse_are_redacted() {
    // A space in the host: the URL does not parse, but the error still names it.
    let err = build_url("https://user:hunter2@exa mple.com", false).unwrap_err();
    match &err {
        AuthError::InvalidBaseUrl { url, .. } => {
            assert_eq!(url, "https://<redacted>@exa mple.com");
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");

    // The same from the environment, and in the ambiguity error.
    let err = Config::from_env_with(env(&[
        ("LINKT_API_KEY", "sk-a"),
        ("LINKT_BASE_URL", "https://user:hunter2@exa mple.com"),
    ]))
    .unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
    let err = Config::builder()
        .api_key(key())
        .environment(Environment::Staging)
        .base_url("https://user:hunter2@exa mple.com")
        .build()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("base url `https://<redacted>@exa mple.com`"),
        "{err}"
    );
}

#[test]
fn an_at_sign_before_the_scheme_separator_is_shown_as_given() {
    // Not `user@host` after `scheme://`: nothing to redact, nothing lost.
    let err = build_url("me@host ://api", false).unwrap_err();
    match err {
        AuthError::InvalidBaseUrl { url, .. } => assert_eq!(url, "me@host ://api"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn insecure_http_is_off_unless_allowed() {
    assert!(!Config::new(key()).allows_insecure_http());
    assert!(
        !build_url("https://example.com", false)
            .unwrap()
            .allows_insecure_http()
    );
    assert!(
        build_url("https://example.com", true)
            .unwrap()
            .allows_insecure_http()
    );
}

#[test]
fn builder_debug_shows_its_settings_and_only_whether_a_key_is_set() {
    let unset = format!(
        "{:?}",
        Config::builder()
            .base_url("http://127.0.0.1:9")
            .allow_insecure_http(true)
    );
    assert_eq!(
        unset,
        "ConfigBuilder { base_url: Some(\"http://127.0.0.1:9\"), environment: None, \
         api_key: <unset>, allow_insecure_http: true }"
    );
    let set = format!(
        "{:?}",
        Config::builder()
            .api_key(key())
            .environment(Environment::Staging)
    );
    assert_eq!(
        set,
        "ConfigBuilder { base_url: None, environment: Some(Staging), \
         api_key: <redacted>, allow_insecure_http: false }"
    );
}
