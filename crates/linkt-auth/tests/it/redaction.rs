//! Property: the key never appears in `Debug`/`Display` output.

use linkt_auth::{ApiKey, AuthError, Config, Environment};
use proptest::prelude::*;

/// Keys made of visible ASCII, long enough that an accidental substring
/// match with fixed text (`"ApiKey"`, URLs, field names) is impossible.
fn valid_key() -> impl Strategy<Value = String> {
    "sk-[!-~]{12,64}"
}

fn assert_hidden(key: &str, text: &str) {
    assert!(!text.contains(key), "key leaked into {text:?}");
}

proptest! {
    #[test]
    fn key_never_in_debug_or_display(secret in valid_key()) {
        let key = ApiKey::new(secret.clone()).unwrap();
        assert_hidden(&secret, &format!("{key:?}"));
        assert_hidden(&secret, &format!("{key}"));
        assert_hidden(&secret, &format!("{:?}", key.header_value()));

        let config = Config::builder().api_key(key.clone()).build().unwrap();
        assert_hidden(&secret, &format!("{config:?}"));
        assert_hidden(&secret, &format!("{config:#?}"));
        assert_hidden(&secret, &format!("{:?}", config.default_headers()));
        assert_hidden(&secret, &format!("{:?}", Config::builder().api_key(key)));
    }

    #[test]
    fn key_never_in_auth_errors(secret in valid_key(), bad in prop::sample::select(vec!['\n', ' ', '\u{7f}', 'é', '\0'])) {
        // Invalid keys: the error never repeats the key (or its valid part).
        let invalid = format!("{secret}{bad}");
        let err = ApiKey::new(invalid.clone()).unwrap_err();
        assert_hidden(&secret, &err.to_string());
        assert_hidden(&secret, &format!("{err:?}"));

        // Invalid keys from the environment.
        let err = Config::from_env_with(|name| (name == "LINKT_API_KEY").then(|| invalid.clone())).unwrap_err();
        assert_hidden(&secret, &err.to_string());
        assert_hidden(&secret, &format!("{err:?}"));

        // Configuration errors with a valid key.
        let errors: Vec<AuthError> = vec![
            Config::from_env_with(|name| match name {
                "LINKT_API_KEY" => Some(secret.clone()),
                "LINKT_BASE_URL" => Some("http://example.com".to_owned()),
                _ => None,
            }).unwrap_err(),
            Config::builder()
                .api_key(ApiKey::new(secret.clone()).unwrap())
                .environment(Environment::Staging)
                .base_url("https://example.com")
                .build()
                .unwrap_err(),
        ];
        for err in errors {
            assert_hidden(&secret, &err.to_string());
            assert_hidden(&secret, &format!("{err:?}"));
        }
    }

    #[test]
    fn valid_keys_round_trip(secret in "[!-~]{1,200}") {
        let key = ApiKey::new(secret.clone()).unwrap();
        prop_assert_eq!(key.expose_secret(), secret.as_str());
        let value = key.header_value();
        prop_assert_eq!(value.as_bytes(), secret.as_bytes());
    }

    #[test]
    fn arbitrary_strings_never_panic(input in any::<String>()) {
        if let Ok(key) = ApiKey::new(input.clone()) {
            prop_assert!(key.expose_secret().bytes().all(|b| (0x21..=0x7e).contains(&b)));
        }
    }
}
