//! Configuration from environment variables, validated once at start-up.
//!
//! A bad value stops the process with a message naming the variable, so a typo in compose or a
//! NixOS module fails loudly instead of falling back to a default.

use std::net::SocketAddr;
use std::time::Duration;

use thiserror::Error;

/// UDP address Nginx sends syslog datagrams to.
pub const SYSLOG_ADDR_VAR: &str = "EXPORTER_SYSLOG_ADDR";
/// HTTP address serving `/metrics` and `/health/ready`.
pub const METRICS_ADDR_VAR: &str = "EXPORTER_METRICS_ADDR";
/// Upper bound on draining HTTP connections after SIGTERM.
pub const SHUTDOWN_TIMEOUT_VAR: &str = "EXPORTER_SHUTDOWN_TIMEOUT_MS";

/// A configuration value that cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    /// The variable is set but cannot be parsed.
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

/// The exporter's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where syslog datagrams arrive (default `0.0.0.0:5514`).
    pub syslog_addr: SocketAddr,
    /// Where `/metrics` is served (default `0.0.0.0:9114`).
    pub metrics_addr: SocketAddr,
    /// Drain bound after a stop signal (default 5 s).
    pub shutdown_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            syslog_addr: SocketAddr::from(([0, 0, 0, 0], 5514)),
            metrics_addr: SocketAddr::from(([0, 0, 0, 0], 9114)),
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
        let addr = |var, default| -> Result<SocketAddr, ConfigError> {
            match lookup(var)? {
                None => Ok(default),
                Some(value) => value.trim().parse().map_err(|_| ConfigError::Invalid {
                    var,
                    value,
                    expected: "an IP:port socket address such as 0.0.0.0:9114",
                }),
            }
        };
        let syslog_addr = addr(SYSLOG_ADDR_VAR, defaults.syslog_addr)?;
        let metrics_addr = addr(METRICS_ADDR_VAR, defaults.metrics_addr)?;
        let shutdown_timeout = match lookup(SHUTDOWN_TIMEOUT_VAR)? {
            None => defaults.shutdown_timeout,
            Some(value) => match value.trim().parse::<u64>() {
                Ok(ms) if (1..=600_000).contains(&ms) => Duration::from_millis(ms),
                _ => {
                    return Err(ConfigError::Invalid {
                        var: SHUTDOWN_TIMEOUT_VAR,
                        value,
                        expected: "milliseconds between 1 and 600000",
                    })
                }
            },
        };
        Ok(Self {
            syslog_addr,
            metrics_addr,
            shutdown_timeout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(
        pairs: &'static [(&'static str, &'static str)],
    ) -> impl Fn(&'static str) -> Result<Option<String>, ConfigError> {
        move |var| {
            Ok(pairs
                .iter()
                .find(|(k, _)| *k == var)
                .map(|(_, v)| (*v).to_owned()))
        }
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        assert_eq!(Config::from_lookup(lookup(&[])), Ok(Config::default()));
    }

    #[test]
    fn values_are_read() {
        let config = Config::from_lookup(lookup(&[
            (SYSLOG_ADDR_VAR, "127.0.0.1:0"),
            (METRICS_ADDR_VAR, "[::1]:9999"),
            (SHUTDOWN_TIMEOUT_VAR, "250"),
        ]))
        .expect("valid");
        assert_eq!(config.syslog_addr, "127.0.0.1:0".parse().expect("addr"));
        assert_eq!(config.metrics_addr, "[::1]:9999".parse().expect("addr"));
        assert_eq!(config.shutdown_timeout, Duration::from_millis(250));
    }

    #[test]
    fn a_bad_value_names_the_variable() {
        let err =
            Config::from_lookup(lookup(&[(METRICS_ADDR_VAR, "localhost")])).expect_err("invalid");
        assert!(err.to_string().contains(METRICS_ADDR_VAR), "{err}");
        let err = Config::from_lookup(lookup(&[(SHUTDOWN_TIMEOUT_VAR, "0")])).expect_err("invalid");
        assert!(err.to_string().contains(SHUTDOWN_TIMEOUT_VAR), "{err}");
        let err = Config::from_lookup(lookup(&[(SYSLOG_ADDR_VAR, "0.0.0.0:99999")]))
            .expect_err("invalid");
        assert!(err.to_string().contains(SYSLOG_ADDR_VAR), "{err}");
    }
}
