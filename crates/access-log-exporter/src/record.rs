//! One access-log record: the `gateway_metrics` JSON object, validated and reduced to
//! bounded labels.
//!
//! Nginx writes the format with `escape=json`, so values are usually strings (`"status":"200"`);
//! numbers are accepted too so that the log format may drop the quotes without breaking us.
//! Unknown fields are ignored (forward compatible), but a known field with a malformed value
//! rejects the whole line: a half-understood line would silently skew the metrics.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;
use thiserror::Error;

use crate::syslog::{self, SyslogError};

/// Why a datagram did not become a record. Each variant is one reason counted as `rejected`.
#[derive(Debug, Error)]
pub enum RecordError {
    /// The syslog framing is malformed.
    #[error("syslog framing: {0}")]
    Syslog(#[from] SyslogError),
    /// The message is not a JSON object of the expected shape.
    #[error("message is not a gateway_metrics JSON object: {0}")]
    Json(#[from] serde_json::Error),
    /// `status` is missing or not an HTTP status code (100..=599).
    #[error("status is missing or not an HTTP status code")]
    BadStatus,
    /// `request_time` is missing or not a non-negative number of seconds.
    #[error("request_time is missing or not a non-negative number")]
    BadRequestTime,
    /// `upstream_response_time` is neither `-` nor a list of non-negative numbers.
    #[error("upstream_response_time is malformed")]
    BadUpstreamTime,
}

/// The A/B variant that served the request; `None` when no upstream was chosen (e.g. a 404 at
/// the gateway or a rate-limited request logged before routing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The production variant.
    V1,
    /// The debug variant (`debug` is accepted as an alias, as in the API's configuration).
    V2,
    /// Anything else, including empty and `-`.
    None,
}

impl Variant {
    /// Normalises Nginx's `$api_variant`.
    pub fn parse(raw: &str) -> Self {
        match raw.trim() {
            "v1" => Self::V1,
            "v2" | "debug" => Self::V2,
            _ => Self::None,
        }
    }

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
            Self::None => "none",
        }
    }
}

/// The API route, reduced to a fixed set so that random URIs cannot create new series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `POST /predict`.
    Predict,
    /// `POST /predict/batch`.
    PredictBatch,
    /// `/health`, `/health/live`, `/health/ready`.
    Health,
    /// Every other URI.
    Other,
}

impl Route {
    /// Normalises a URI (`$uri` or `$request_uri`: a query string is ignored).
    pub fn parse(uri: &str) -> Self {
        let path = uri.split(['?', '#']).next().unwrap_or_default();
        // One trailing slash is tolerated; `/predict//` is not the API's route.
        let path = match path.strip_suffix('/') {
            Some(p) if !p.is_empty() => p,
            _ => path,
        };
        match path {
            "/predict" => Self::Predict,
            "/predict/batch" => Self::PredictBatch,
            "/health" | "/health/live" | "/health/ready" => Self::Health,
            _ => Self::Other,
        }
    }

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Predict => "/predict",
            Self::PredictBatch => "/predict/batch",
            Self::Health => "/health",
            Self::Other => "other",
        }
    }
}

/// A validated access-log record.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessRecord {
    /// HTTP status sent to the client, 100..=599.
    pub status: u16,
    /// Which variant served it.
    pub variant: Variant,
    /// Which route it hit.
    pub route: Route,
    /// Nginx's `$request_time`, seconds.
    pub request_time: f64,
    /// Sum of all upstream attempts (`$upstream_response_time` lists one per attempt after a
    /// retry), seconds; `None` when no upstream was contacted.
    pub upstream_time: Option<f64>,
}

/// The fields we read; the others (`upstream_status`, `bytes_sent`, future ones) are ignored.
#[derive(Deserialize)]
struct RawRecord {
    status: Option<Value>,
    variant: Option<Value>,
    uri: Option<Value>,
    request_time: Option<Value>,
    upstream_response_time: Option<Value>,
}

/// Parses one UDP datagram: syslog framing, then the JSON record.
///
/// The datagram need not be UTF-8: Nginx percent-decodes `$uri`, and `escape=json` passes bytes
/// from 0x80 up through unchanged, so a request for `/predict%FF` yields a raw 0xFF in the line.
/// Such bytes become U+FFFD; they can only sit inside the URI string, whose route is then
/// `other`. Rejecting the line instead would let any client undercount the gateway's traffic.
pub fn parse_line(datagram: &[u8]) -> Result<AccessRecord, RecordError> {
    let line = String::from_utf8_lossy(datagram);
    parse_json(syslog::message(&line)?)
}

/// Parses the `gateway_metrics` JSON object.
pub fn parse_json(message: &str) -> Result<AccessRecord, RecordError> {
    let raw: RawRecord = serde_json::from_str(message.trim())?;
    let status = raw
        .status
        .as_ref()
        .and_then(text)
        .and_then(|s| s.trim().parse::<u16>().ok())
        .filter(|s| (100..=599).contains(s))
        .ok_or(RecordError::BadStatus)?;
    let request_time = raw
        .request_time
        .as_ref()
        .and_then(text)
        .and_then(|s| seconds(&s))
        .ok_or(RecordError::BadRequestTime)?;
    let upstream_time = match raw.upstream_response_time.as_ref() {
        None | Some(Value::Null) => None,
        Some(v) => upstream_seconds(&text(v).ok_or(RecordError::BadUpstreamTime)?)?,
    };
    let variant = raw.variant.as_ref().and_then(text);
    let uri = raw.uri.as_ref().and_then(text);
    Ok(AccessRecord {
        status,
        variant: Variant::parse(variant.as_deref().unwrap_or_default()),
        route: Route::parse(uri.as_deref().unwrap_or_default()),
        request_time,
        upstream_time,
    })
}

/// A JSON string or number as text; anything else (object, array, bool) is not a log value.
fn text(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

/// A finite, non-negative number of seconds.
fn seconds(raw: &str) -> Option<f64> {
    raw.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
}

/// `$upstream_response_time`: `-`/empty (no upstream), one value, or values separated by `, `
/// (retries) and ` : ` (internal redirects). `-` entries are attempts that never got a response
/// time and are skipped. The total is what the request spent upstream.
fn upstream_seconds(raw: &str) -> Result<Option<f64>, RecordError> {
    let mut total = None;
    for part in raw.split([',', ':']).map(str::trim) {
        if part.is_empty() || part == "-" {
            continue;
        }
        let value = seconds(part).ok_or(RecordError::BadUpstreamTime)?;
        total = Some(total.unwrap_or(0.0) + value);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"<190>Nov 26 03:00:00 gateway nginx: {"status":"200","variant":"v1","uri":"/predict","request_time":"0.004","upstream_response_time":"0.003","upstream_status":"200","bytes_sent":"312"}"#;

    #[test]
    fn a_complete_nginx_line_parses() {
        let r = parse_line(LINE.as_bytes()).expect("valid line");
        assert_eq!(
            r,
            AccessRecord {
                status: 200,
                variant: Variant::V1,
                route: Route::Predict,
                request_time: 0.004,
                upstream_time: Some(0.003),
            }
        );
    }

    #[test]
    fn unquoted_numbers_are_accepted() {
        let r = parse_json(
            r#"{"status":429,"variant":"v2","uri":"/predict/batch","request_time":0.0}"#,
        )
        .expect("valid");
        assert_eq!(
            (r.status, r.variant, r.route),
            (429, Variant::V2, Route::PredictBatch)
        );
        assert_eq!(r.upstream_time, None);
    }

    #[test]
    fn retried_upstream_times_are_summed() {
        let r = parse_json(
            r#"{"status":"200","request_time":"0.010","upstream_response_time":"0.002, 0.001 : 0.004"}"#,
        )
        .expect("valid");
        let total = r.upstream_time.expect("some upstream time");
        assert!((total - 0.007).abs() < 1e-9, "got {total}");
    }

    #[test]
    fn dash_means_no_upstream() {
        for raw in ["-", "", " - ", "-, -"] {
            let json = format!(
                r#"{{"status":"404","request_time":"0.000","upstream_response_time":"{raw}"}}"#
            );
            assert_eq!(
                parse_json(&json).expect("valid").upstream_time,
                None,
                "{raw:?}"
            );
        }
        let r =
            parse_json(r#"{"status":"502","request_time":"1","upstream_response_time":"-, 0.5"}"#)
                .expect("valid");
        assert_eq!(r.upstream_time, Some(0.5));
    }

    #[test]
    fn variant_and_route_are_bounded() {
        assert_eq!(Variant::parse("v3"), Variant::None);
        assert_eq!(Variant::parse(""), Variant::None);
        assert_eq!(Variant::parse("debug"), Variant::V2);
        assert_eq!(Route::parse("/predict?x=1"), Route::Predict);
        assert_eq!(Route::parse("/predict/"), Route::Predict);
        assert_eq!(Route::parse("/predict//"), Route::Other);
        assert_eq!(Route::parse("/health/ready"), Route::Health);
        assert_eq!(Route::parse("/health/../etc/passwd"), Route::Other);
        assert_eq!(Route::parse("/"), Route::Other);
        assert_eq!(Route::parse(""), Route::Other);
        assert_eq!(Route::parse("/PREDICT"), Route::Other);
    }

    #[test]
    fn missing_fields_default_to_none_and_other() {
        let r = parse_json(r#"{"status":"301","request_time":"0"}"#).expect("valid");
        assert_eq!((r.variant, r.route), (Variant::None, Route::Other));
    }

    #[test]
    fn malformed_records_are_rejected() {
        let bad_status = [
            r#"{"request_time":"0"}"#,
            r#"{"status":"","request_time":"0"}"#,
            r#"{"status":"99","request_time":"0"}"#,
            r#"{"status":"600","request_time":"0"}"#,
            r#"{"status":"2OO","request_time":"0"}"#,
            r#"{"status":true,"request_time":"0"}"#,
            r#"{"status":["200"],"request_time":"0"}"#,
            r#"{"status":200.5,"request_time":"0"}"#,
        ];
        for json in bad_status {
            assert!(
                matches!(parse_json(json), Err(RecordError::BadStatus)),
                "{json}"
            );
        }
        let bad_time = [
            r#"{"status":"200"}"#,
            r#"{"status":"200","request_time":"-1"}"#,
            r#"{"status":"200","request_time":"NaN"}"#,
            r#"{"status":"200","request_time":"inf"}"#,
            r#"{"status":"200","request_time":"fast"}"#,
        ];
        for json in bad_time {
            assert!(
                matches!(parse_json(json), Err(RecordError::BadRequestTime)),
                "{json}"
            );
        }
        let bad_upstream = [
            r#"{"status":"200","request_time":"0","upstream_response_time":"abc"}"#,
            r#"{"status":"200","request_time":"0","upstream_response_time":"0.1, -2"}"#,
            r#"{"status":"200","request_time":"0","upstream_response_time":{}}"#,
        ];
        for json in bad_upstream {
            assert!(
                matches!(parse_json(json), Err(RecordError::BadUpstreamTime)),
                "{json}"
            );
        }
    }

    #[test]
    fn truncated_and_non_json_messages_are_rejected() {
        let truncated = &LINE[..LINE.len() - 20];
        assert!(matches!(
            parse_line(truncated.as_bytes()),
            Err(RecordError::Json(_))
        ));
        assert!(matches!(parse_json("[1,2,3]"), Err(RecordError::Json(_))));
        assert!(matches!(parse_json("null"), Err(RecordError::Json(_))));
        assert!(matches!(
            parse_json(r#"{"status":"200","status":"500","request_time":"0"}"#),
            Err(RecordError::Json(_))
        ));
        assert!(matches!(
            parse_line(b"<190>{\xff}"),
            Err(RecordError::Json(_))
        ));
        assert!(matches!(
            parse_line(b"GET / HTTP/1.1"),
            Err(RecordError::Syslog(_))
        ));
    }

    #[test]
    fn raw_non_utf8_bytes_in_the_uri_still_count_the_request() {
        // What Nginx logs for GET /predict%FF with escape=json: the decoded byte, unescaped.
        let mut line =
            br#"<190>Nov 26 03:00:00 gw gateway: {"status":"404","variant":"v1","uri":"/predict"#
                .to_vec();
        line.extend_from_slice(b"\xff\xc3(");
        line.extend_from_slice(br#"","request_time":"0.001","upstream_response_time":"0.001"}"#);
        let r = parse_line(&line).expect("counted, not rejected");
        assert_eq!(
            (r.status, r.variant, r.route),
            (404, Variant::V1, Route::Other)
        );
    }

    #[test]
    fn deeply_nested_json_neither_overflows_the_stack_nor_is_counted_wrongly() {
        let depth = 100_000;
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        // In a field we read, serde_json's recursion limit rejects it.
        let json = format!(r#"{{"status":{nested},"request_time":"0"}}"#);
        assert!(matches!(parse_json(&json), Err(RecordError::Json(_))));
        // In an ignored field, serde_json skips it without recursing; the record stays valid.
        let json = format!(r#"{{"status":"200","request_time":"0","x":{nested}}}"#);
        assert_eq!(parse_json(&json).expect("valid").status, 200);
    }
}
