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
    /// `labels` is not a short comma-separated list of label names.
    #[error("labels is not a list of label names")]
    BadLabels,
}

/// An A/B variant as logged by Nginx: the variant of the replica that answered (`variant`,
/// from its `X-Model-Variant` header) or the one the gateway routed to (`requested`). `None`
/// when there is none: Nginx answered itself (401, 429, 404), no replica answered, or the
/// experiment header was rejected (`requested` is then `invalid`).
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
    /// Normalises a logged variant to the three label values.
    pub fn parse(raw: &str) -> Self {
        match raw.trim() {
            "v1" => Self::V1,
            "v2" | "debug" => Self::V2,
            _ => Self::None,
        }
    }

    /// A real variant (`v1`, `v2`), not the absence of one.
    pub fn is_real(self) -> bool {
        self != Self::None
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
    /// `POST /feedback`.
    Feedback,
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
            "/feedback" => Self::Feedback,
            "/health" | "/health/live" | "/health/ready" => Self::Health,
            _ => Self::Other,
        }
    }

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Predict => "/predict",
            Self::PredictBatch => "/predict/batch",
            Self::Feedback => "/feedback",
            Self::Health => "/health",
            Self::Other => "other",
        }
    }
}

/// Whether a line is a client's request or the gateway's mirror of one (shadow traffic).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Traffic {
    /// A client request; `shadowed` says whether it was also mirrored.
    Live {
        /// The gateway mirrored it to v2 (`shadowed` = `1` in the log).
        shadowed: bool,
    },
    /// The mirror subrequest of a live request (`traffic` = `shadow` in the log).
    Shadow,
}

/// At most this many labels per line: the API's batch limit is 64.
pub const MAX_LABELS: usize = 256;

/// A validated access-log record.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessRecord {
    /// HTTP status sent to the client, 100..=599.
    pub status: u16,
    /// Which variant answered it (`variant` in the log).
    pub variant: Variant,
    /// Which variant the gateway routed it to (`requested` in the log; the answering variant
    /// when the field is absent, as in logs from before it existed).
    pub requested: Variant,
    /// Which route it hit.
    pub route: Route,
    /// Nginx's `$request_time`, seconds.
    pub request_time: f64,
    /// Sum of all upstream attempts (`$upstream_response_time` lists one per attempt after a
    /// retry), seconds; `None` when no upstream was contacted.
    pub upstream_time: Option<f64>,
    /// Nginx's `$request_id` (hex), shared by a request and its mirror; `None` when absent or
    /// not a plain token.
    pub request_id: Option<String>,
    /// The predicted labels the replica named (`X-Predicted-Labels`), in order; empty when none.
    pub labels: Vec<String>,
    /// Live or shadow.
    pub traffic: Traffic,
}

impl AccessRecord {
    /// `(requested, answered)` when a replica of one variant answered a request routed to the
    /// other: a routing or deployment fault (a replica started with the wrong variant, an
    /// upstream list pointing at the other pool). Absent variants never count: they mean Nginx
    /// answered itself, not that the wrong model did.
    pub fn variant_mismatch(&self) -> Option<(Variant, Variant)> {
        let (requested, answered) = (self.requested, self.variant);
        (requested.is_real() && answered.is_real() && requested != answered)
            .then_some((requested, answered))
    }
}

/// The fields we read; the others (`upstream_status`, `bytes_sent`, future ones) are ignored.
#[derive(Deserialize)]
struct RawRecord {
    status: Option<Value>,
    variant: Option<Value>,
    requested: Option<Value>,
    uri: Option<Value>,
    request_time: Option<Value>,
    upstream_response_time: Option<Value>,
    request_id: Option<Value>,
    labels: Option<Value>,
    traffic: Option<Value>,
    shadowed: Option<Value>,
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
    let variant = logged_variant(raw.variant.as_ref());
    let requested = match raw.requested.as_ref() {
        None => variant,
        Some(requested) => logged_variant(Some(requested)),
    };
    let uri = raw.uri.as_ref().and_then(text);
    let field = |v: &Option<Value>| v.as_ref().and_then(text).unwrap_or_default().into_owned();
    let traffic = match field(&raw.traffic).as_str() {
        "shadow" => Traffic::Shadow,
        _ => Traffic::Live {
            shadowed: field(&raw.shadowed) == "1",
        },
    };
    Ok(AccessRecord {
        status,
        variant,
        requested,
        route: Route::parse(uri.as_deref().unwrap_or_default()),
        request_time,
        upstream_time,
        request_id: Some(field(&raw.request_id)).filter(|id| is_request_id(id)),
        labels: labels(&field(&raw.labels))?,
        traffic,
    })
}

/// Nginx's `$request_id` is 32 hex digits; accept plain tokens up to 64 characters.
fn is_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// `X-Predicted-Labels`: comma-separated label names, each a short lower-case token. The header
/// comes from a replica, not a client (the gateway forwards no client header of that name), but
/// labels become metric labels, so their shape and number are bounded anyway.
fn labels(raw: &str) -> Result<Vec<String>, RecordError> {
    let raw = raw.trim();
    if raw.is_empty() || raw == "-" {
        return Ok(Vec::new());
    }
    let labels: Vec<String> = raw.split(',').map(|l| l.trim().to_owned()).collect();
    let valid = |l: &String| {
        (1..=32).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    };
    if labels.len() > MAX_LABELS || !labels.iter().all(valid) {
        return Err(RecordError::BadLabels);
    }
    Ok(labels)
}

/// A variant field; a missing or non-text value is no variant, like Nginx's `-` or `none`.
fn logged_variant(value: Option<&Value>) -> Variant {
    Variant::parse(value.and_then(text).as_deref().unwrap_or_default())
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

    const LINE: &str = r#"<190>Nov 26 03:00:00 gateway nginx: {"status":"200","variant":"v1","requested":"v2","uri":"/predict","request_time":"0.004","upstream_response_time":"0.003","upstream_status":"200","bytes_sent":"312"}"#;

    #[test]
    fn a_complete_nginx_line_parses() {
        let r = parse_line(LINE.as_bytes()).expect("valid line");
        assert_eq!(
            r,
            AccessRecord {
                status: 200,
                variant: Variant::V1,
                requested: Variant::V2,
                route: Route::Predict,
                request_time: 0.004,
                upstream_time: Some(0.003),
                request_id: None,
                labels: Vec::new(),
                traffic: Traffic::Live { shadowed: false },
            }
        );
    }

    #[test]
    fn request_id_labels_and_traffic_are_read() {
        let live = parse_json(
            r#"{"status":"200","request_time":"0","request_id":"0123abcd","labels":"joy,worry","shadowed":"1"}"#,
        )
        .expect("valid");
        assert_eq!(live.request_id.as_deref(), Some("0123abcd"));
        assert_eq!(live.labels, ["joy", "worry"]);
        assert_eq!(live.traffic, Traffic::Live { shadowed: true });
        let shadow = parse_json(
            r#"{"status":"204","request_time":"0","request_id":"0123abcd","labels":"joy","traffic":"shadow"}"#,
        )
        .expect("valid");
        assert_eq!(shadow.traffic, Traffic::Shadow);
        let odd_id =
            parse_json(r#"{"status":"200","request_time":"0","request_id":"a b"}"#).expect("valid");
        assert_eq!(odd_id.request_id, None);
        for bad in [
            "Joy",
            "joy,,worry",
            "joy;drop",
            &"a,".repeat(MAX_LABELS + 1),
        ] {
            let json = format!(r#"{{"status":"200","request_time":"0","labels":"{bad}"}}"#);
            assert!(
                matches!(parse_json(&json), Err(RecordError::BadLabels)),
                "{bad:?}"
            );
        }
        for none in ["", "-"] {
            let json = format!(r#"{{"status":"200","request_time":"0","labels":"{none}"}}"#);
            assert!(parse_json(&json).expect("valid").labels.is_empty());
        }
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
        assert_eq!(Route::parse("/feedback"), Route::Feedback);
        assert_eq!(Route::parse("/health/../etc/passwd"), Route::Other);
        assert_eq!(Route::parse("/"), Route::Other);
        assert_eq!(Route::parse(""), Route::Other);
        assert_eq!(Route::parse("/PREDICT"), Route::Other);
    }

    #[test]
    fn missing_fields_default_to_none_and_other() {
        let r = parse_json(r#"{"status":"301","request_time":"0"}"#).expect("valid");
        assert_eq!(
            (r.variant, r.requested, r.route),
            (Variant::None, Variant::None, Route::Other)
        );
    }

    #[test]
    fn requested_is_bounded_and_defaults_to_the_answering_variant() {
        let requested = |fields: &str| {
            let json = format!(r#"{{"status":"200","request_time":"0",{fields}}}"#);
            let r = parse_json(&json).expect("valid");
            (r.requested, r.variant)
        };
        // Logs from before the field existed: routed where it was answered.
        assert_eq!(requested(r#""variant":"v2""#), (Variant::V2, Variant::V2));
        assert_eq!(
            requested(r#""variant":"v2","requested":null"#),
            (Variant::V2, Variant::V2)
        );
        assert_eq!(
            requested(r#""variant":"v1","requested":"v2""#),
            (Variant::V2, Variant::V1)
        );
        // Nginx answered itself (rate limit) after routing.
        assert_eq!(
            requested(r#""variant":"none","requested":"v1""#),
            (Variant::V1, Variant::None)
        );
        // A rejected experiment header, anything unknown or malformed: no variant.
        for raw in [
            r#""invalid""#,
            r#""none""#,
            r#""-""#,
            r#""v3""#,
            r#""""#,
            "[1]",
        ] {
            assert_eq!(
                requested(&format!(r#""variant":"v1","requested":{raw}"#)),
                (Variant::None, Variant::V1),
                "{raw}"
            );
        }
    }

    #[test]
    fn only_two_real_variants_that_differ_are_a_mismatch() {
        let record = |requested, variant| AccessRecord {
            status: 200,
            variant,
            requested,
            route: Route::Predict,
            request_time: 0.0,
            upstream_time: None,
            request_id: None,
            labels: Vec::new(),
            traffic: Traffic::Live { shadowed: false },
        };
        use Variant::{None as N, V1, V2};
        assert_eq!(record(V1, V2).variant_mismatch(), Some((V1, V2)));
        assert_eq!(record(V2, V1).variant_mismatch(), Some((V2, V1)));
        for (requested, answered) in [(V1, V1), (V2, V2), (V1, N), (N, V2), (N, N)] {
            assert_eq!(
                record(requested, answered).variant_mismatch(),
                None,
                "{requested:?} -> {answered:?}"
            );
        }
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
