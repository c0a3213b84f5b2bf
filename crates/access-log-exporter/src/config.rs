//! Configuration from environment variables, validated once at start-up.
//!
//! A bad value stops the process with a message naming the variable, so a typo in compose or a
//! NixOS module fails loudly instead of falling back to a default. Reading and the error are
//! `service_kit::env`'s; the variables, their defaults and the syslog address are this file's.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use service_kit::env::Env;

/// A configuration value that cannot be used: names the variable and the value.
pub use service_kit::env::EnvError as ConfigError;

/// Where Nginx sends syslog datagrams: a UDP `IP:port` or `unix:/absolute/path`.
pub const SYSLOG_ADDR_VAR: &str = "EXPORTER_SYSLOG_ADDR";
/// HTTP address serving `/metrics` and `/health/ready`.
pub const METRICS_ADDR_VAR: &str = "EXPORTER_METRICS_ADDR";
/// Upper bound on draining HTTP connections after SIGTERM.
pub const SHUTDOWN_TIMEOUT_VAR: &str = "EXPORTER_SHUTDOWN_TIMEOUT_MS";

/// Prefix of a unix datagram socket path, the same spelling as Nginx's `syslog:server=unix:...`.
const UNIX_PREFIX: &str = "unix:";
/// Longest socket path the kernel accepts: `sun_path` is 108 bytes on Linux, one of them the NUL.
/// Checked here so the mistake is reported as a configuration error naming the variable.
const UNIX_PATH_MAX: usize = 107;

/// Where syslog datagrams arrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyslogAddr {
    /// A UDP socket (port 0 picks a free port).
    Udp(SocketAddr),
    /// A unix datagram socket at this absolute path, for an Nginx sharing a volume with the
    /// exporter: no port to expose, and nothing else on the network can send to it.
    Unix(PathBuf),
}

impl FromStr for SyslogAddr {
    type Err = ConfigError;

    fn from_str(value: &str) -> Result<Self, ConfigError> {
        let invalid = |expected| ConfigError::Invalid {
            var: SYSLOG_ADDR_VAR,
            value: value.to_owned(),
            expected,
        };
        let trimmed = value.trim();
        let Some(path) = trimmed.strip_prefix(UNIX_PREFIX) else {
            return trimmed.parse().map(Self::Udp).map_err(|_| {
                invalid("an IP:port socket address such as 0.0.0.0:5514, or unix:/absolute/path")
            });
        };
        if path.is_empty() {
            return Err(invalid(
                "a socket path after unix:, such as unix:/run/gateway-log/access.sock",
            ));
        }
        let path = PathBuf::from(path);
        // A relative path would depend on the working directory, which differs between compose,
        // systemd and a shell; Nginx would then write to a different file than we read.
        if !path.is_absolute() {
            return Err(invalid(
                "an absolute socket path after unix:, such as unix:/run/gateway-log/access.sock",
            ));
        }
        if path.as_os_str().len() > UNIX_PATH_MAX {
            return Err(invalid(
                "a socket path of at most 107 bytes (the kernel's sun_path limit)",
            ));
        }
        Ok(Self::Unix(path))
    }
}

impl fmt::Display for SyslogAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Udp(addr) => write!(f, "{addr}"),
            Self::Unix(path) => write!(f, "{UNIX_PREFIX}{}", path.display()),
        }
    }
}

/// The exporter's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where syslog datagrams arrive (default UDP `0.0.0.0:5514`).
    pub syslog_addr: SyslogAddr,
    /// Where `/metrics` is served (default `0.0.0.0:9114`).
    pub metrics_addr: SocketAddr,
    /// Drain bound after a stop signal (default 5 s).
    pub shutdown_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            syslog_addr: SyslogAddr::Udp(SocketAddr::from(([0, 0, 0, 0], 5514))),
            metrics_addr: SocketAddr::from(([0, 0, 0, 0], 9114)),
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
        // The syslog address has its own parser, whose errors say which form was meant.
        let syslog_addr = match env.get(SYSLOG_ADDR_VAR)? {
            None => defaults.syslog_addr,
            Some(value) => value.parse()?,
        };
        let metrics_addr = env
            .parse(
                METRICS_ADDR_VAR,
                "an IP:port socket address such as 0.0.0.0:9114",
            )?
            .unwrap_or(defaults.metrics_addr);
        let shutdown_timeout = env
            .parse_in(
                SHUTDOWN_TIMEOUT_VAR,
                1..=600_000,
                "milliseconds between 1 and 600000",
            )?
            .map_or(defaults.shutdown_timeout, Duration::from_millis);
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
        assert_eq!(
            config.syslog_addr,
            SyslogAddr::Udp("127.0.0.1:0".parse().expect("addr"))
        );
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

    #[test]
    fn a_unix_socket_path_is_read() {
        let config = Config::from_lookup(lookup(&[(
            SYSLOG_ADDR_VAR,
            " unix:/run/gateway-log/access.sock ",
        )]))
        .expect("valid");
        assert_eq!(
            config.syslog_addr,
            SyslogAddr::Unix(PathBuf::from("/run/gateway-log/access.sock"))
        );
        assert_eq!(
            config.syslog_addr.to_string(),
            "unix:/run/gateway-log/access.sock"
        );
    }

    #[test]
    fn a_unix_socket_path_must_be_absolute_non_empty_and_short() {
        let too_long = format!("unix:/{}", "s".repeat(UNIX_PATH_MAX));
        let cases = [
            ("unix:", "a socket path after unix:"),
            ("unix:   ", "a socket path after unix:"),
            ("unix:run/syslog.sock", "an absolute socket path"),
            ("unix:./syslog.sock", "an absolute socket path"),
            (too_long.as_str(), "at most 107 bytes"),
            ("unix/run/syslog.sock", "or unix:/absolute/path"),
            ("/run/syslog.sock", "or unix:/absolute/path"),
        ];
        for (value, expected) in cases {
            let err = value.parse::<SyslogAddr>().expect_err(value);
            let message = err.to_string();
            assert!(message.contains(SYSLOG_ADDR_VAR), "{value}: {message}");
            assert!(message.contains(expected), "{value}: {message}");
        }
        // The longest path the kernel accepts is fine.
        let longest = format!("unix:/{}", "s".repeat(UNIX_PATH_MAX - 1));
        assert!(longest.parse::<SyslogAddr>().is_ok());
    }
}
