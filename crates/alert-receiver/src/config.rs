//! Configuration from environment variables, validated once at start-up.
//!
//! A bad value stops the process with a message naming the variable, so a typo in compose or a
//! NixOS unit fails loudly instead of falling back to a default.

use std::net::SocketAddr;
use std::time::Duration;

use thiserror::Error;

/// HTTP address serving `POST /alerts`, `GET /alerts`, `/metrics` and the health routes.
pub const ADDR_VAR: &str = "ALERT_RECEIVER_ADDR";
/// How many notifications `GET /alerts` keeps (the oldest is dropped first).
pub const HISTORY_VAR: &str = "ALERT_RECEIVER_HISTORY";
/// Largest accepted request body.
pub const MAX_BODY_VAR: &str = "ALERT_RECEIVER_MAX_BODY_BYTES";
/// Upper bound on draining HTTP connections after SIGTERM.
pub const SHUTDOWN_TIMEOUT_VAR: &str = "ALERT_RECEIVER_SHUTDOWN_TIMEOUT_MS";

/// A configuration value that cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    /// The variable is set but cannot be parsed or is out of range.
    #[error("{var}={value:?} is invalid: expected {expected}")]
    Invalid {
        /// The environment variable.
        var: &'static str,
        /// What it was set to.
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

/// The receiver's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where the HTTP server listens (default `0.0.0.0:9095`).
    pub addr: SocketAddr,
    /// Notifications kept for `GET /alerts` (default 1000).
    pub history: usize,
    /// Largest accepted `POST /alerts` body (default 1 MiB: Alertmanager sends every alert of a
    /// group in one notification, a few hundred bytes each).
    pub max_body_bytes: usize,
    /// Drain bound after a stop signal (default 5 s).
    pub shutdown_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([0, 0, 0, 0], 9095)),
            history: 1000,
            max_body_bytes: 1024 * 1024,
            shutdown_timeout: Duration::from_millis(5000),
        }
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|var| match std::env::var(var) {
            Ok(value) => Ok(Some(value)),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(ConfigError::NotUnicode { var }),
        })
    }

    /// Reads settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup<F>(lookup: F) -> Result<Self, ConfigError>
    where
        F: Fn(&'static str) -> Result<Option<String>, ConfigError>,
    {
        let defaults = Self::default();
        let addr = match lookup(ADDR_VAR)? {
            None => defaults.addr,
            Some(value) => value.trim().parse().map_err(|_| ConfigError::Invalid {
                var: ADDR_VAR,
                value,
                expected: "an IP:port socket address such as 0.0.0.0:9095",
            })?,
        };
        let history = bounded(
            lookup(HISTORY_VAR)?,
            HISTORY_VAR,
            1..=100_000,
            "a number of notifications between 1 and 100000",
        )?
        .unwrap_or(defaults.history as u64);
        let max_body_bytes = bounded(
            lookup(MAX_BODY_VAR)?,
            MAX_BODY_VAR,
            1024..=64 * 1024 * 1024,
            "bytes between 1024 and 67108864",
        )?
        .unwrap_or(defaults.max_body_bytes as u64);
        let shutdown_timeout = bounded(
            lookup(SHUTDOWN_TIMEOUT_VAR)?,
            SHUTDOWN_TIMEOUT_VAR,
            1..=600_000,
            "milliseconds between 1 and 600000",
        )?
        .map_or(defaults.shutdown_timeout, Duration::from_millis);
        Ok(Self {
            addr,
            // Both ranges fit in usize on every platform Rust supports (at least 32 bits).
            history: history as usize,
            max_body_bytes: max_body_bytes as usize,
            shutdown_timeout,
        })
    }
}

/// An optional whole number within `range`; `None` when the variable is unset.
fn bounded(
    value: Option<String>,
    var: &'static str,
    range: std::ops::RangeInclusive<u64>,
    expected: &'static str,
) -> Result<Option<u64>, ConfigError> {
    let Some(value) = value else {
        return Ok(None);
    };
    match value.trim().parse::<u64>() {
        Ok(n) if range.contains(&n) => Ok(Some(n)),
        _ => Err(ConfigError::Invalid {
            var,
            value,
            expected,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(
        pairs: &[(&'static str, &str)],
    ) -> impl Fn(&'static str) -> Result<Option<String>, ConfigError> {
        let pairs: Vec<(&'static str, String)> =
            pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        move |var| {
            Ok(pairs
                .iter()
                .find(|(k, _)| *k == var)
                .map(|(_, v)| v.clone()))
        }
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        assert_eq!(Config::from_lookup(lookup(&[])), Ok(Config::default()));
    }

    #[test]
    fn values_are_read() {
        let config = Config::from_lookup(lookup(&[
            (ADDR_VAR, " 127.0.0.1:0 "),
            (HISTORY_VAR, "5"),
            (MAX_BODY_VAR, "2048"),
            (SHUTDOWN_TIMEOUT_VAR, "250"),
        ]))
        .expect("valid");
        assert_eq!(config.addr, "127.0.0.1:0".parse().expect("addr"));
        assert_eq!(config.history, 5);
        assert_eq!(config.max_body_bytes, 2048);
        assert_eq!(config.shutdown_timeout, Duration::from_millis(250));
    }

    #[test]
    fn a_bad_value_names_the_variable() {
        for (var, value) in [
            (ADDR_VAR, "localhost"),
            (HISTORY_VAR, "0"),
            (HISTORY_VAR, "many"),
            (MAX_BODY_VAR, "10"),
            (SHUTDOWN_TIMEOUT_VAR, "0"),
        ] {
            let err = Config::from_lookup(lookup(&[(var, value)])).expect_err(value);
            assert!(err.to_string().contains(var), "{err}");
        }
    }
}
