//! The command line and environment, read once into a typed [`Command`].
//!
//! A bad value stops the command with a message naming the flag or variable (exit status 2),
//! before any query is sent.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// Prometheus' base URL, when `--prometheus` is not given.
pub const PROMETHEUS_URL_VAR: &str = "PROMETHEUS_URL";
/// The host port compose publishes Prometheus on; the default URL follows it, as compose does.
pub const PROMETHEUS_PORT_VAR: &str = "PROMETHEUS_PORT";
/// Where compose publishes Prometheus when `PROMETHEUS_PORT` is unset.
pub const DEFAULT_PROMETHEUS_PORT: u16 = 9090;

/// The help text (`--help`).
pub const USAGE: &str = "\
usage: experiment-report [--prometheus URL] [--window DURATION] [--json]

Reads the A/B experiment's metrics from Prometheus and prints, per arm (v1 control, v2
candidate): requests, error rate, latency, prediction distribution, feedback accuracy; then the
chi-square test of the distributions, the z-test of the accuracies, the shadow agreement, the
observations needed at 80% power, and a verdict.

  --prometheus URL   Prometheus' base URL (default: $PROMETHEUS_URL, else
                     http://127.0.0.1:${PROMETHEUS_PORT:-9090}); plain http only
  --window DURATION  how far back to count, a Prometheus duration such as 30m, 1h, 7d, 1h30m,
                     or `all` (the default): every count since the counters started, exact
                     (increase() over a window estimates, and misses what a series counted
                     before its first scrape)
  --json             print the report as JSON instead of text
  -h, --help         print this help

exit status: 0 report printed (whatever the verdict, including \"no data yet\"),
             1 Prometheus answered, but not as expected (a refused query, not Prometheus' JSON),
             2 bad arguments or environment, or Prometheus unreachable";

/// A command line that cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ArgsError {
    /// An argument this command does not know.
    #[error("unknown argument {0:?} (see --help)")]
    Unknown(String),
    /// A flag given without its value.
    #[error("{0} needs a value (see --help)")]
    MissingValue(&'static str),
    /// A flag or variable with a value that cannot be used.
    #[error("{name}={value:?} is invalid: expected {expected}")]
    Invalid {
        /// The flag or environment variable.
        name: &'static str,
        /// What it was set to.
        value: String,
        /// What it should look like.
        expected: &'static str,
    },
    /// An environment variable that is not valid Unicode.
    #[error("{0} is not valid Unicode")]
    NotUnicode(&'static str),
}

/// How the report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned tables and sentences, for a person.
    Text,
    /// The report structure as one JSON document, for a program.
    Json,
}

/// A Prometheus range duration such as `1h` or `1h30m`, checked before it goes into PromQL, or
/// `all`: the counters' totals since they started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window(String);

impl Window {
    /// The whole life of the counters (`--window all`, the default).
    pub fn all() -> Self {
        Self("all".to_owned())
    }

    /// No range: totals since the counters started.
    pub fn is_all(&self) -> bool {
        self.0 == "all"
    }

    /// `metric` counted over the window: `increase(metric[w])`, or the counter itself for `all`.
    pub fn count(&self, metric: &str) -> String {
        if self.is_all() {
            metric.to_owned()
        } else {
            format!("increase({metric}[{}])", self.0)
        }
    }
}

/// Prometheus' duration units, largest first; each may appear once, in this order.
const UNITS: [&str; 7] = ["y", "w", "d", "h", "m", "s", "ms"];

impl FromStr for Window {
    type Err = ArgsError;

    fn from_str(value: &str) -> Result<Self, ArgsError> {
        if value == "all" {
            return Ok(Self::all());
        }
        let invalid = || ArgsError::Invalid {
            name: "--window",
            value: value.to_owned(),
            expected: "a Prometheus duration such as 30m, 1h, 7d or 1h30m, or all",
        };
        let mut rest = value;
        let mut next_unit = 0;
        let mut any_nonzero = false;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(invalid());
            }
            any_nonzero |= rest[..digits].bytes().any(|b| b != b'0');
            rest = &rest[digits..];
            // "ms" before "m", so that "5ms" is not read as 5m followed by junk.
            let (index, unit) = UNITS
                .iter()
                .enumerate()
                .skip(next_unit)
                .filter(|(_, unit)| rest.starts_with(**unit))
                .max_by_key(|(_, unit)| unit.len())
                .ok_or_else(invalid)?;
            rest = &rest[unit.len()..];
            next_unit = index + 1;
        }
        if !any_nonzero {
            return Err(invalid());
        }
        Ok(Self(value.to_owned()))
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What to read and how to print it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Prometheus' base URL, without a trailing slash.
    pub prometheus_url: String,
    /// The range of every `increase()`.
    pub window: Window,
    /// Text or JSON.
    pub format: Format,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Print the report.
    Report(Options),
    /// Print [`USAGE`].
    Help,
}

fn parse_url(name: &'static str, value: &str) -> Result<String, ArgsError> {
    let invalid = |expected| ArgsError::Invalid {
        name,
        value: value.to_owned(),
        expected,
    };
    if value.starts_with("https://") {
        // Keeping TLS out keeps the command small; Prometheus listens on loopback here.
        return Err(invalid(
            "an http:// URL: this command has no TLS (Prometheus is published on 127.0.0.1)",
        ));
    }
    let Some(rest) = value.strip_prefix("http://") else {
        return Err(invalid("an http:// URL such as http://127.0.0.1:9090"));
    };
    if rest.is_empty() || rest.starts_with('/') || value.chars().any(char::is_whitespace) {
        return Err(invalid("an http:// URL such as http://127.0.0.1:9090"));
    }
    Ok(value.trim_end_matches('/').to_owned())
}

fn default_url<F>(lookup: &F) -> Result<String, ArgsError>
where
    F: Fn(&'static str) -> Result<Option<String>, ArgsError>,
{
    if let Some(url) = lookup(PROMETHEUS_URL_VAR)? {
        return parse_url(PROMETHEUS_URL_VAR, url.trim());
    }
    let port = match lookup(PROMETHEUS_PORT_VAR)? {
        None => DEFAULT_PROMETHEUS_PORT,
        Some(port) => match port.trim().parse::<u16>() {
            Ok(port) if port > 0 => port,
            _ => {
                return Err(ArgsError::Invalid {
                    name: PROMETHEUS_PORT_VAR,
                    value: port,
                    expected: "a port number between 1 and 65535",
                })
            }
        },
    };
    Ok(format!("http://127.0.0.1:{port}"))
}

/// Reads the arguments (without the program name) and the process environment.
pub fn from_env<I>(args: I) -> Result<Command, ArgsError>
where
    I: IntoIterator<Item = String>,
{
    parse(args, |var| match std::env::var(var) {
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(ArgsError::NotUnicode(var)),
    })
}

/// Reads `args` (without the program name), and the environment through `lookup`, so that tests
/// need not touch the process environment.
pub fn parse<I, F>(args: I, lookup: F) -> Result<Command, ArgsError>
where
    I: IntoIterator<Item = String>,
    F: Fn(&'static str) -> Result<Option<String>, ArgsError>,
{
    let mut url = None;
    let mut window = None;
    let mut format = Format::Text;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        // Both "--flag value" and "--flag=value".
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_owned(), Some(value)),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &'static str| match inline {
            Some(value) => Ok(value.to_owned()),
            None => args.next().ok_or(ArgsError::MissingValue(name)),
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--json" if inline.is_none() => format = Format::Json,
            "--prometheus" => url = Some(parse_url("--prometheus", &value("--prometheus")?)?),
            "--window" => window = Some(value("--window")?.parse()?),
            _ => return Err(ArgsError::Unknown(arg)),
        }
    }
    let prometheus_url = match url {
        Some(url) => url,
        None => default_url(&lookup)?,
    };
    Ok(Command::Report(Options {
        prometheus_url,
        window: window.unwrap_or_else(Window::all),
        format,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        args: &[&str],
        env: &'static [(&'static str, &'static str)],
    ) -> Result<Command, ArgsError> {
        parse(args.iter().map(|a| (*a).to_owned()), |var| {
            Ok(env
                .iter()
                .find(|(k, _)| *k == var)
                .map(|(_, v)| (*v).to_owned()))
        })
    }

    fn options(args: &[&str], env: &'static [(&'static str, &'static str)]) -> Options {
        match run(args, env).expect("valid") {
            Command::Report(options) => options,
            Command::Help => panic!("help"),
        }
    }

    #[test]
    fn defaults() {
        let options = options(&[], &[]);
        assert_eq!(options.prometheus_url, "http://127.0.0.1:9090");
        assert_eq!(options.window.to_string(), "all");
        assert_eq!(options.format, Format::Text);
    }

    #[test]
    fn flags_win_over_the_environment() {
        let env = &[
            (PROMETHEUS_URL_VAR, "http://prometheus:9090"),
            (PROMETHEUS_PORT_VAR, "1"),
        ];
        assert_eq!(options(&[], env).prometheus_url, "http://prometheus:9090");
        let options = options(
            &[
                "--prometheus=http://h:1/prefix/",
                "--window",
                "7d",
                "--json",
            ],
            env,
        );
        assert_eq!(options.prometheus_url, "http://h:1/prefix");
        assert_eq!(options.window.to_string(), "7d");
        assert_eq!(options.format, Format::Json);
    }

    #[test]
    fn the_default_url_follows_compose_s_port() {
        let options = options(&[], &[(PROMETHEUS_PORT_VAR, "19090")]);
        assert_eq!(options.prometheus_url, "http://127.0.0.1:19090");
        let error = run(&[], &[(PROMETHEUS_PORT_VAR, "0")]).expect_err("bad port");
        assert!(error.to_string().contains(PROMETHEUS_PORT_VAR), "{error}");
    }

    #[test]
    fn help_wins() {
        assert_eq!(run(&["--json", "-h"], &[]), Ok(Command::Help));
        assert_eq!(run(&["--help", "--bogus"], &[]), Ok(Command::Help));
    }

    #[test]
    fn bad_arguments_are_named() {
        let cases: [(&[&str], &str); 6] = [
            (&["--bogus"], "--bogus"),
            (&["--window"], "--window needs a value"),
            (&["--window", "1q"], "--window"),
            (&["--prometheus", "127.0.0.1:9090"], "--prometheus"),
            (&["--prometheus", "https://p:9090"], "no TLS"),
            (&["--json=yes"], "--json=yes"),
        ];
        for (args, expected) in cases {
            let error = run(args, &[]).expect_err(expected);
            assert!(error.to_string().contains(expected), "{args:?}: {error}");
        }
        let error = run(&[], &[(PROMETHEUS_URL_VAR, "ftp://x")]).expect_err("bad url");
        assert!(error.to_string().contains(PROMETHEUS_URL_VAR), "{error}");
    }

    #[test]
    fn windows_are_prometheus_durations() {
        for good in [
            "1h",
            "30m",
            "7d",
            "1h30m",
            "90s",
            "500ms",
            "1y2w3d4h5m6s7ms",
            "01h",
        ] {
            assert_eq!(
                good.parse::<Window>().map(|w| w.to_string()),
                Ok(good.to_owned())
            );
        }
        for bad in [
            "", "h", "1", "1H", "0h", "0m0s", "30m1h", "1h1h", "1.5h", "-1h", "1h ", "1h)",
        ] {
            assert!(bad.parse::<Window>().is_err(), "{bad:?} accepted");
        }
    }
}
