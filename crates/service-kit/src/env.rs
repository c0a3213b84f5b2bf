//! Typed settings from environment variables, read once at start-up.
//!
//! A service describes each variable once (its name, its type, what a good value looks like) and
//! gets either the value or an [`EnvError`] naming the variable and the value it was set to, so a
//! typo in compose or a NixOS unit stops the process loudly instead of falling back to a default.
//! An unset variable is `None`, and the service applies its own default; a set one is parsed,
//! surrounding whitespace ignored. Reading goes through a lookup function ([`Env::new`]) so that
//! tests pass a table instead of mutating the process environment.

use std::ops::RangeInclusive;
use std::str::FromStr;

use thiserror::Error;

/// A variable that cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum EnvError {
    /// The variable is set but cannot be parsed or is out of range.
    #[error("{var}={value:?} is invalid: expected {expected}")]
    Invalid {
        /// The environment variable.
        var: &'static str,
        /// What it was set to, as read (before trimming).
        value: String,
        /// What it should look like.
        expected: &'static str,
    },
    /// The variable is set but not valid Unicode.
    #[error("{var} is not valid Unicode")]
    NotUnicode {
        /// The environment variable.
        var: &'static str,
    },
}

impl EnvError {
    /// The variable at fault.
    pub fn var(&self) -> &'static str {
        match self {
            Self::Invalid { var, .. } | Self::NotUnicode { var } => var,
        }
    }
}

/// Reads `var` from the process environment: `None` when unset.
pub fn var(var: &'static str) -> Result<Option<String>, EnvError> {
    match std::env::var(var) {
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(EnvError::NotUnicode { var }),
    }
}

/// Where variables are read from: the process environment ([`var`]) or, in tests, a table.
pub struct Env<F> {
    lookup: F,
}

impl<F> Env<F>
where
    F: Fn(&'static str) -> Result<Option<String>, EnvError>,
{
    /// Reads variables through `lookup`.
    pub fn new(lookup: F) -> Self {
        Self { lookup }
    }

    /// The raw value of `var`, for values with a parser of the service's own that reports its
    /// own [`EnvError`]s.
    pub fn get(&self, var: &'static str) -> Result<Option<String>, EnvError> {
        (self.lookup)(var)
    }

    /// `var` parsed as a `T`; `None` when unset. `expected` says what a good value looks like,
    /// for the error (`"an IP:port socket address such as 0.0.0.0:9114"`).
    pub fn parse<T: FromStr>(
        &self,
        var: &'static str,
        expected: &'static str,
    ) -> Result<Option<T>, EnvError> {
        self.parse_if(var, expected, |_| true)
    }

    /// `var` parsed as a `T` within `range`; `None` when unset. `expected` should state the range
    /// (`"milliseconds between 1 and 600000"`), since a value outside it gets the same error as
    /// one that does not parse.
    pub fn parse_in<T: FromStr + PartialOrd>(
        &self,
        var: &'static str,
        range: RangeInclusive<T>,
        expected: &'static str,
    ) -> Result<Option<T>, EnvError> {
        self.parse_if(var, expected, |value| range.contains(value))
    }

    fn parse_if<T: FromStr>(
        &self,
        var: &'static str,
        expected: &'static str,
        accept: impl Fn(&T) -> bool,
    ) -> Result<Option<T>, EnvError> {
        let Some(value) = self.get(var)? else {
            return Ok(None);
        };
        match value.trim().parse::<T>() {
            Ok(parsed) if accept(&parsed) => Ok(Some(parsed)),
            // The parser's own error is dropped: `expected` says the same for every type, and
            // the value is quoted as it was set, whitespace included.
            _ => Err(EnvError::Invalid {
                var,
                value,
                expected,
            }),
        }
    }
}

impl Env<fn(&'static str) -> Result<Option<String>, EnvError>> {
    /// The process environment.
    pub fn process() -> Self {
        Self::new(var)
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;

    const PORT: &str = "KIT_TEST_PORT";
    const ADDR: &str = "KIT_TEST_ADDR";
    const EXPECTED: &str = "a port between 1 and 65535";

    fn table(
        pairs: &[(&'static str, &str)],
    ) -> Env<impl Fn(&'static str) -> Result<Option<String>, EnvError>> {
        let pairs: Vec<(&'static str, String)> =
            pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        Env::new(move |var| {
            Ok(pairs
                .iter()
                .find(|(k, _)| *k == var)
                .map(|(_, v)| v.clone()))
        })
    }

    #[test]
    fn an_unset_variable_leaves_the_default_to_the_caller() {
        let env = table(&[]);
        assert_eq!(env.parse::<u16>(PORT, EXPECTED), Ok(None));
        assert_eq!(env.parse_in::<u16>(PORT, 1..=65535, EXPECTED), Ok(None));
        assert_eq!(
            env.parse_in(PORT, 1..=65535, EXPECTED)
                .map(|v| v.unwrap_or(9114)),
            Ok(9114)
        );
        assert_eq!(env.get(PORT), Ok(None));
    }

    #[test]
    fn a_set_variable_is_parsed_as_its_type_whitespace_ignored() {
        let env = table(&[(PORT, " 9100 "), (ADDR, "[::1]:0")]);
        assert_eq!(
            env.parse_in::<u16>(PORT, 1..=65535, EXPECTED),
            Ok(Some(9100))
        );
        assert_eq!(
            env.parse::<SocketAddr>(ADDR, "an IP:port socket address"),
            Ok(Some("[::1]:0".parse().expect("addr")))
        );
        // The bounds are inclusive.
        let env = table(&[(PORT, "65535")]);
        assert_eq!(
            env.parse_in::<u16>(PORT, 1..=65535, EXPECTED),
            Ok(Some(65535))
        );
    }

    #[test]
    fn a_bad_value_is_refused_naming_the_variable_and_the_value() {
        for value in ["nine", "", " ", "-1", "1.5", "70000"] {
            let env = table(&[(PORT, value)]);
            let err = env.parse::<u16>(PORT, EXPECTED).expect_err(value);
            assert_eq!(
                err,
                EnvError::Invalid {
                    var: PORT,
                    value: value.to_owned(),
                    expected: EXPECTED
                }
            );
            assert_eq!(err.var(), PORT);
            assert_eq!(
                err.to_string(),
                format!("{PORT}={value:?} is invalid: expected {EXPECTED}")
            );
        }
    }

    #[test]
    fn a_value_outside_the_range_is_refused_like_a_malformed_one() {
        for value in ["0", "65536"] {
            let env = table(&[(PORT, value)]);
            let parsed = env.parse_in::<u32>(PORT, 1..=65535, EXPECTED);
            let message = parsed.expect_err(value).to_string();
            assert!(message.contains(PORT), "{message}");
            assert!(message.contains(&format!("{value:?}")), "{message}");
            assert!(message.contains(EXPECTED), "{message}");
        }
    }

    #[test]
    fn a_failing_lookup_is_passed_on() {
        let env = Env::new(|var| Err(EnvError::NotUnicode { var }));
        let err = env.parse::<u16>(PORT, EXPECTED).expect_err("not unicode");
        assert_eq!(err, EnvError::NotUnicode { var: PORT });
        assert_eq!(err.to_string(), format!("{PORT} is not valid Unicode"));
    }

    #[test]
    fn the_process_environment_is_read() {
        // A name no other test or process sets; only read, never written, so tests stay parallel.
        let env = Env::process();
        assert_eq!(
            env.parse::<u16>("SERVICE_KIT_TEST_SURELY_UNSET", EXPECTED),
            Ok(None)
        );
        let path = env.get("PATH").expect("unicode");
        assert_eq!(path, std::env::var("PATH").ok());
    }
}
