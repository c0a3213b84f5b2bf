//! Configuration from environment variables, validated once at start-up.
//!
//! A bad value stops the process with a message naming the variable, so a typo in compose or a
//! NixOS unit fails loudly instead of falling back to a default. Reading and the error are
//! `service_kit::env`'s; the variables and their defaults are this file's.

use std::net::SocketAddr;
use std::time::Duration;

use service_kit::env::Env;

/// A configuration value that cannot be used: names the variable and the value.
pub use service_kit::env::EnvError as ConfigError;

/// HTTP address serving `POST /alerts`, `GET /alerts`, `/metrics` and the health routes.
pub const ADDR_VAR: &str = "ALERT_RECEIVER_ADDR";
/// How many notifications `GET /alerts` keeps (the oldest is dropped first).
pub const HISTORY_VAR: &str = "ALERT_RECEIVER_HISTORY";
/// Largest accepted request body.
pub const MAX_BODY_VAR: &str = "ALERT_RECEIVER_MAX_BODY_BYTES";
/// Upper bound on draining HTTP connections after SIGTERM.
pub const SHUTDOWN_TIMEOUT_VAR: &str = "ALERT_RECEIVER_SHUTDOWN_TIMEOUT_MS";

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
        Self::from_lookup(service_kit::env::var)
    }

    /// Reads settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup<F>(lookup: F) -> Result<Self, ConfigError>
    where
        F: Fn(&'static str) -> Result<Option<String>, ConfigError>,
    {
        let env = Env::new(lookup);
        let defaults = Self::default();
        Ok(Self {
            addr: env
                .parse(ADDR_VAR, "an IP:port socket address such as 0.0.0.0:9095")?
                .unwrap_or(defaults.addr),
            history: env
                .parse_in(
                    HISTORY_VAR,
                    1..=100_000,
                    "a number of notifications between 1 and 100000",
                )?
                .unwrap_or(defaults.history),
            max_body_bytes: env
                .parse_in(
                    MAX_BODY_VAR,
                    1024..=64 * 1024 * 1024,
                    "bytes between 1024 and 67108864",
                )?
                .unwrap_or(defaults.max_body_bytes),
            shutdown_timeout: env
                .parse_in(
                    SHUTDOWN_TIMEOUT_VAR,
                    1..=600_000,
                    "milliseconds between 1 and 600000",
                )?
                .map_or(defaults.shutdown_timeout, Duration::from_millis),
        })
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
