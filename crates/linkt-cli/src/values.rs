//! Enum arguments that take values this release does not know.
//!
//! The API's enums are open (a value added by the vendor after this release
//! is kept as `Unknown`), and so are the CLI's enum arguments: progenitor's
//! `PossibleValuesParser` is replaced by [`OpenValuesParser`] when the CLI is
//! generated, which lists the known values in `--help` and in error hints but
//! accepts any non-empty value, so a user is not blocked on a release.

use std::ffi::OsStr;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::error::{ContextKind, ContextValue, ErrorKind};

/// Accepts any non-empty UTF-8 value; knows the listed ones for help.
#[derive(Clone, Debug)]
pub(crate) struct OpenValuesParser(Vec<PossibleValue>);

impl OpenValuesParser {
    pub(crate) fn new(values: impl IntoIterator<Item = impl Into<PossibleValue>>) -> Self {
        Self(values.into_iter().map(Into::into).collect())
    }
}

impl TypedValueParser for OpenValuesParser {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        let invalid = |kind| {
            let mut err = clap::Error::new(kind).with_cmd(cmd);
            if let Some(arg) = arg {
                err.insert(
                    ContextKind::InvalidArg,
                    ContextValue::String(arg.to_string()),
                );
            }
            err.insert(
                ContextKind::InvalidValue,
                ContextValue::String(value.to_string_lossy().into_owned()),
            );
            err
        };
        let Some(text) = value.to_str() else {
            return Err(invalid(ErrorKind::InvalidUtf8));
        };
        if text.is_empty() {
            return Err(invalid(ErrorKind::InvalidValue));
        }
        Ok(text.to_owned())
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.0.iter().cloned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, Command};

    fn command() -> Command {
        Command::new("t").arg(
            Arg::new("mode")
                .long("mode")
                .value_parser(OpenValuesParser::new(["discovery", "monitoring"])),
        )
    }

    #[test]
    fn known_and_unknown_values_are_taken() {
        for value in ["discovery", "archived-later"] {
            let matches = command()
                .try_get_matches_from(["t", "--mode", value])
                .expect("taken");
            assert_eq!(
                matches.get_one::<String>("mode").map(String::as_str),
                Some(value)
            );
        }
    }

    #[test]
    fn help_lists_the_known_values_and_an_empty_value_is_refused() {
        let help = command().render_help().to_string();
        assert!(help.contains("discovery"), "{help}");
        assert!(help.contains("monitoring"), "{help}");
        let err = command()
            .try_get_matches_from(["t", "--mode", ""])
            .expect_err("empty");
        assert_eq!(err.kind(), ErrorKind::InvalidValue);
    }
}
