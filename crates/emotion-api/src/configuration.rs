//! Typed configuration read from `EMOTION_*` environment variables, validated once at start-up.
//!
//! Every variable has a default (see ARCHITECTURE.md); a value that does not parse stops the process
//! with an error naming the variable, so a typo in a compose file fails loudly instead of silently
//! falling back to a default.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::net::Cidr;
use crate::receipt::ReceiptKey;

/// Which flavour of the API this process serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The production variant: label, confidence and model version.
    V1,
    /// The debug variant: adds probabilities, tokens, top features and timings.
    V2,
}

impl Variant {
    /// The label value used in headers and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Variant::V1 => "v1",
            Variant::V2 => "v2",
        }
    }

    /// The variant a name stands for: `v1`, `v2`, or `debug` (an alias of `v2`). One table for
    /// `EMOTION_VARIANT` and the gateway's `X-Expected-Variant`, so the alias means the same in
    /// both places.
    pub fn from_name(name: &str) -> Option<Variant> {
        match name {
            "v1" => Some(Variant::V1),
            "v2" | "debug" => Some(Variant::V2),
            _ => None,
        }
    }
}

impl std::fmt::Display for Variant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Per-client rate limit (defence in depth behind the gateway's own limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained requests per second per client.
    pub per_second: u32,
    /// Requests a client may send at once before the sustained rate applies.
    pub burst: u32,
}

/// The whole service configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `EMOTION_VARIANT`.
    pub variant: Variant,
    /// `EMOTION_HTTP_ADDR`.
    pub http_addr: SocketAddr,
    /// `EMOTION_METRICS_ADDR`.
    pub metrics_addr: SocketAddr,
    /// `EMOTION_MODEL_PATH`.
    pub model_path: PathBuf,
    /// `EMOTION_INSTANCE_ID` (defaults to the hostname).
    pub instance_id: String,
    /// `EMOTION_MAX_TEXT_CHARS`, counted in Unicode scalar values like JSON Schema's `maxLength`.
    pub max_text_chars: usize,
    /// `EMOTION_MAX_BATCH`.
    pub max_batch: usize,
    /// `EMOTION_MAX_BODY_BYTES`.
    pub max_body_bytes: usize,
    /// `EMOTION_REQUEST_TIMEOUT_MS`.
    pub request_timeout: Duration,
    /// `EMOTION_SHUTDOWN_TIMEOUT_MS`.
    pub shutdown_timeout: Duration,
    /// `EMOTION_RATE_LIMIT_RPS` / `EMOTION_RATE_LIMIT_BURST`; `None` when either is 0.
    pub rate_limit: Option<RateLimit>,
    /// `EMOTION_TRUSTED_PROXIES`: peers whose `X-Real-IP` is believed.
    pub trusted_proxies: Vec<Cidr>,
    /// `EMOTION_FEEDBACK_KEY` (hex) or the file named by `EMOTION_FEEDBACK_KEY_FILE`: signs the
    /// feedback receipts; `None` disables feedback (no receipts, `POST /feedback` answers 501).
    pub feedback_key: Option<ReceiptKey>,
    /// `EMOTION_FEEDBACK_MAX_AGE_SECS`: how long after the prediction a receipt is accepted.
    pub feedback_max_age: Duration,
}

/// A configuration value that could not be used; the message names the variable.
#[derive(Debug, thiserror::Error)]
#[error("invalid {var}={value:?}: {reason}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub var: &'static str,
    /// The offending value.
    pub value: String,
    /// Why it was refused.
    pub reason: String,
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests need not mutate the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |var: &'static str| lookup(var).filter(|v| !v.trim().is_empty());
        let variant = match get("EMOTION_VARIANT").as_deref().map(str::trim) {
            None => Variant::V1,
            Some(name) => Variant::from_name(name)
                .ok_or_else(|| invalid("EMOTION_VARIANT", name, "expected v1, v2 or debug"))?,
        };
        let rps: u32 = parse_or(&get, "EMOTION_RATE_LIMIT_RPS", 100)?;
        let burst: u32 = parse_or(&get, "EMOTION_RATE_LIMIT_BURST", 200)?;
        let trusted_proxies = match get("EMOTION_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse::<Cidr>()
                        .map_err(|reason| invalid("EMOTION_TRUSTED_PROXIES", s, &reason))
                })
                .collect::<Result<_, _>>()?,
        };
        let feedback_key = feedback_key(&get)?;
        let settings = Settings {
            variant,
            http_addr: parse_or(&get, "EMOTION_HTTP_ADDR", ([0, 0, 0, 0], 8000).into())?,
            metrics_addr: parse_or(&get, "EMOTION_METRICS_ADDR", ([0, 0, 0, 0], 9100).into())?,
            model_path: get("EMOTION_MODEL_PATH")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("model/emotion-model.bin")),
            instance_id: get("EMOTION_INSTANCE_ID")
                .map(|s| s.trim().to_owned())
                .unwrap_or_else(hostname),
            max_text_chars: positive(&get, "EMOTION_MAX_TEXT_CHARS", 5000)?,
            max_batch: positive(&get, "EMOTION_MAX_BATCH", 64)?,
            max_body_bytes: positive(&get, "EMOTION_MAX_BODY_BYTES", 65536)?,
            request_timeout: Duration::from_millis(positive(
                &get,
                "EMOTION_REQUEST_TIMEOUT_MS",
                5000,
            )?),
            shutdown_timeout: Duration::from_millis(parse_or(
                &get,
                "EMOTION_SHUTDOWN_TIMEOUT_MS",
                10_000,
            )?),
            rate_limit: (rps > 0 && burst > 0).then_some(RateLimit {
                per_second: rps,
                burst,
            }),
            trusted_proxies,
            feedback_key,
            feedback_max_age: Duration::from_secs(positive(
                &get,
                "EMOTION_FEEDBACK_MAX_AGE_SECS",
                86_400,
            )?),
        };
        if settings.instance_id.is_empty()
            || !settings.instance_id.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(invalid(
                "EMOTION_INSTANCE_ID",
                &settings.instance_id,
                "must be printable ASCII without spaces (it is sent as a header)",
            ));
        }
        Ok(settings)
    }

    /// Whether `ip` is a trusted proxy whose `X-Real-IP` header is believed.
    pub fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|c| c.contains(ip))
    }
}

/// The receipt key, from the variable or from the file it names (one of them, not both). A key in
/// an error message is never shown: only its variable, or the file's path.
fn feedback_key(
    get: &impl Fn(&'static str) -> Option<String>,
) -> Result<Option<ReceiptKey>, ConfigError> {
    const VAR: &str = "EMOTION_FEEDBACK_KEY";
    const FILE_VAR: &str = "EMOTION_FEEDBACK_KEY_FILE";
    const HIDDEN: &str = "<hidden>";
    match (get(VAR), get(FILE_VAR)) {
        (None, None) => Ok(None),
        (Some(_), Some(_)) => Err(invalid(
            VAR,
            HIDDEN,
            &format!("set {VAR} or {FILE_VAR}, not both"),
        )),
        (Some(hex), None) => ReceiptKey::from_hex(&hex)
            .map(Some)
            .map_err(|reason| invalid(VAR, HIDDEN, &reason)),
        (None, Some(path)) => {
            let path = path.trim();
            let hex = std::fs::read_to_string(path)
                .map_err(|e| invalid(FILE_VAR, path, &format!("cannot read the key: {e}")))?;
            ReceiptKey::from_hex(&hex)
                .map(Some)
                .map_err(|reason| invalid(FILE_VAR, path, &format!("the key {reason}")))
        }
    }
}

fn invalid(var: &'static str, value: &str, reason: &str) -> ConfigError {
    ConfigError {
        var,
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}

fn parse_or<T>(
    get: &impl Fn(&'static str) -> Option<String>,
    var: &'static str,
    default: T,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    match get(var) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|e: T::Err| invalid(var, &raw, &e.to_string())),
    }
}

fn positive<T>(
    get: &impl Fn(&'static str) -> Option<String>,
    var: &'static str,
    default: T,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + Default + ToString,
    T::Err: std::fmt::Display,
{
    let value = parse_or(get, var, default)?;
    if value <= T::default() {
        return Err(invalid(var, &value.to_string(), "must be greater than 0"));
    }
    Ok(value)
}

/// The kernel's hostname (a container's id under Docker), without pulling in libc.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_match_the_architecture_table() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.variant, Variant::V1);
        assert_eq!(s.http_addr, "0.0.0.0:8000".parse().unwrap());
        assert_eq!(s.metrics_addr, "0.0.0.0:9100".parse().unwrap());
        assert_eq!(s.model_path, PathBuf::from("model/emotion-model.bin"));
        assert_eq!(s.max_text_chars, 5000);
        assert_eq!(s.max_batch, 64);
        assert_eq!(s.max_body_bytes, 65536);
        assert_eq!(s.request_timeout, Duration::from_millis(5000));
        assert_eq!(s.shutdown_timeout, Duration::from_millis(10_000));
        assert_eq!(
            s.rate_limit,
            Some(RateLimit {
                per_second: 100,
                burst: 200
            })
        );
        assert!(s.trusted_proxies.is_empty());
        assert!(!s.instance_id.is_empty());
        assert!(s.feedback_key.is_none());
        assert_eq!(s.feedback_max_age, Duration::from_secs(86_400));
    }

    #[test]
    fn debug_is_an_alias_of_v2() {
        assert_eq!(
            settings(&[("EMOTION_VARIANT", "debug")]).unwrap().variant,
            Variant::V2
        );
        assert_eq!(
            settings(&[("EMOTION_VARIANT", "v2")]).unwrap().variant,
            Variant::V2
        );
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        for (var, value) in [
            ("EMOTION_VARIANT", "v3"),
            ("EMOTION_HTTP_ADDR", "localhost"),
            ("EMOTION_METRICS_ADDR", "9100"),
            ("EMOTION_MAX_TEXT_CHARS", "0"),
            ("EMOTION_MAX_BATCH", "-1"),
            ("EMOTION_MAX_BODY_BYTES", "lots"),
            ("EMOTION_REQUEST_TIMEOUT_MS", "0"),
            ("EMOTION_SHUTDOWN_TIMEOUT_MS", "soon"),
            ("EMOTION_RATE_LIMIT_RPS", "1.5"),
            ("EMOTION_RATE_LIMIT_BURST", "x"),
            ("EMOTION_TRUSTED_PROXIES", "10.0.0.0/33"),
            ("EMOTION_INSTANCE_ID", "a b"),
            ("EMOTION_FEEDBACK_KEY", "not hex"),
            ("EMOTION_FEEDBACK_KEY_FILE", "/no/such/key/file"),
            ("EMOTION_FEEDBACK_MAX_AGE_SECS", "0"),
        ] {
            let err = settings(&[(var, value)]).expect_err(var);
            assert_eq!(err.var, var);
            assert!(err.to_string().contains(var), "{err}");
        }
    }

    #[test]
    fn zero_rate_disables_the_limit() {
        let s = settings(&[("EMOTION_RATE_LIMIT_RPS", "0")]).unwrap();
        assert_eq!(s.rate_limit, None);
    }

    #[test]
    fn trusted_proxies_are_a_comma_separated_cidr_list() {
        let s = settings(&[("EMOTION_TRUSTED_PROXIES", "172.16.0.0/12, ::1")]).unwrap();
        assert!(s.is_trusted_proxy("172.20.0.5".parse().unwrap()));
        assert!(s.is_trusted_proxy("::1".parse().unwrap()));
        assert!(!s.is_trusted_proxy("10.0.0.1".parse().unwrap()));
    }

    const KEY: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn the_feedback_key_comes_from_the_variable_or_a_file() {
        let s = settings(&[("EMOTION_FEEDBACK_KEY", KEY)]).unwrap();
        assert!(s.feedback_key.is_some());

        let file = std::env::temp_dir().join(format!("emotion-key-{}", std::process::id()));
        std::fs::write(&file, format!("{KEY}\n")).unwrap();
        let path = file.display().to_string();
        let s = settings(&[("EMOTION_FEEDBACK_KEY_FILE", &path)]).unwrap();
        assert!(s.feedback_key.is_some());

        let both = settings(&[
            ("EMOTION_FEEDBACK_KEY", KEY),
            ("EMOTION_FEEDBACK_KEY_FILE", &path),
        ]);
        assert!(both.unwrap_err().to_string().contains("not both"));
        std::fs::remove_file(&file).unwrap();
    }

    #[test]
    fn a_short_feedback_key_is_refused_without_showing_it() {
        let short = &KEY[..62];
        let err = settings(&[("EMOTION_FEEDBACK_KEY", short)]).unwrap_err();
        let text = err.to_string();
        assert_eq!(err.var, "EMOTION_FEEDBACK_KEY");
        assert!(text.contains("at least 32"), "{text}");
        assert!(!text.contains(short), "{text}");
        assert!(!format!("{err:?}").contains(short));
        let s = settings(&[("EMOTION_FEEDBACK_KEY", KEY)]).unwrap();
        assert!(
            !format!("{s:?}").contains(&KEY[..16]),
            "Debug shows the key"
        );
    }
}
