//! A minimal blocking client for Prometheus' instant-query API, `GET /api/v1/query`.
//!
//! Reading an answer ([`parse_answer`]) is separate from fetching it ([`Client`]), so the
//! parsing is tested on recorded answers and everything above it on a [`Source`] that replays
//! them, without an HTTP server. Every query of one readout is evaluated at one instant,
//! Prometheus' own clock read once ([`Client::pin_time`]): otherwise a request arriving between
//! two queries could be in the error rate's numerator but not its denominator.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use thiserror::Error;

/// Why a query has no answer. The one error type of the Prometheus boundary.
#[derive(Debug, Error)]
pub enum PrometheusError {
    /// No HTTP answer at all: connection refused, unknown host, timeout.
    #[error("Prometheus at {url} is unreachable: {reason}")]
    Unreachable {
        /// The base URL queried.
        url: String,
        /// What the HTTP client said.
        reason: String,
    },
    /// An HTTP answer that is not Prometheus' JSON (a proxy's error page, a wrong path).
    #[error("Prometheus at {url} answered HTTP {status}, not the query API's JSON: {body}")]
    NotPrometheus {
        /// The base URL queried.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The beginning of the body.
        body: String,
    },
    /// Prometheus refused the query (`"status": "error"`).
    #[error("Prometheus refused the query {query:?}: {error_type}: {error}")]
    Refused {
        /// The PromQL sent.
        query: String,
        /// Prometheus' `errorType`, such as `bad_data`.
        error_type: String,
        /// Prometheus' message.
        error: String,
    },
    /// A JSON answer of an unexpected shape.
    #[error("Prometheus' answer to {query:?} cannot be read: {reason}")]
    Malformed {
        /// The PromQL sent.
        query: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// One series of an instant vector: its labels and its value at the query's instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Label names to values (after aggregation, only the `by` labels).
    pub labels: BTreeMap<String, String>,
    /// The value; `NaN` where Prometheus says so (a quantile of an empty histogram).
    pub value: f64,
}

impl Sample {
    /// The value of label `name`, or `""` as PromQL treats a missing label.
    pub fn label(&self, name: &str) -> &str {
        self.labels.get(name).map_or("", String::as_str)
    }
}

/// The result of an instant query.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Zero or more series; zero when the metric does not exist or nothing matched.
    Vector(Vec<Sample>),
    /// A single number, such as the answer to `time()`.
    Scalar(f64),
}

/// Something that answers PromQL instant queries: the [`Client`], or recorded answers in tests.
pub trait Source {
    /// Evaluates `promql` at the source's instant.
    fn query(&self, promql: &str) -> Result<Answer, PrometheusError>;
}

/// The wire format: `{"status", "data": {"resultType", "result"}}` or
/// `{"status": "error", "errorType", "error"}`.
#[derive(Deserialize)]
struct Envelope {
    status: String,
    data: Option<Data>,
    #[serde(rename = "errorType")]
    error_type: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum Data {
    Vector(Vec<RawSample>),
    Scalar(RawPoint),
    Matrix(serde::de::IgnoredAny),
    String(serde::de::IgnoredAny),
}

#[derive(Deserialize)]
struct RawSample {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    /// Absent for a native-histogram sample (`"histogram"` instead), which no query here asks for.
    value: Option<RawPoint>,
}

/// `[unix_time, "value"]`: the value is a string so that `NaN` and `+Inf` survive JSON.
type RawPoint = (f64, String);

fn parse_value(query: &str, text: &str) -> Result<f64, PrometheusError> {
    // Rust's parser accepts Prometheus' spellings "NaN", "+Inf" and "-Inf".
    text.parse().map_err(|_| PrometheusError::Malformed {
        query: query.to_owned(),
        reason: format!("{text:?} is not a number"),
    })
}

/// Reads the JSON body Prometheus sent for `query` (the query only names it in errors).
pub fn parse_answer(query: &str, body: &str) -> Result<Answer, PrometheusError> {
    let malformed = |reason: String| PrometheusError::Malformed {
        query: query.to_owned(),
        reason,
    };
    let envelope: Envelope =
        serde_json::from_str(body).map_err(|error| malformed(error.to_string()))?;
    if envelope.status != "success" {
        return Err(PrometheusError::Refused {
            query: query.to_owned(),
            error_type: envelope
                .error_type
                .unwrap_or_else(|| envelope.status.clone()),
            error: envelope.error.unwrap_or_default(),
        });
    }
    match envelope.data {
        None => Err(malformed("no \"data\"".to_owned())),
        Some(Data::Scalar((_, value))) => Ok(Answer::Scalar(parse_value(query, &value)?)),
        Some(Data::Vector(samples)) => samples
            .into_iter()
            .filter_map(|sample| {
                let (_, value) = sample.value?;
                Some(parse_value(query, &value).map(|value| Sample {
                    labels: sample.metric,
                    value,
                }))
            })
            .collect::<Result<_, _>>()
            .map(Answer::Vector),
        Some(Data::Matrix(_) | Data::String(_)) => Err(malformed(
            "a range vector or string, where an instant vector or scalar was expected".to_owned(),
        )),
    }
}

/// How much of an unexpected body goes into an error message.
const BODY_EXCERPT: usize = 200;

/// A blocking client of one Prometheus server.
pub struct Client {
    base_url: String,
    agent: ureq::Agent,
    /// The evaluation instant (Unix seconds) sent with every query; Prometheus' "now" if unset.
    time: Option<f64>,
}

impl Client {
    /// A client of the Prometheus at `base_url` (such as `http://127.0.0.1:9090`, or with a path
    /// prefix when Prometheus runs behind one), each request bounded by `timeout`.
    pub fn new(base_url: &str, timeout: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            // Prometheus explains a refused query in a JSON body sent with 400 or 422: read it.
            .http_status_as_error(false)
            .build()
            .into();
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            agent,
            time: None,
        }
    }

    /// The base URL, as used in error messages.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Reads Prometheus' clock (`time()`) and evaluates every later query at that instant.
    /// Returns the instant, in Unix seconds.
    pub fn pin_time(&mut self) -> Result<f64, PrometheusError> {
        self.time = None;
        match self.query("time()")? {
            Answer::Scalar(now) if now.is_finite() => {
                self.time = Some(now);
                Ok(now)
            }
            _ => Err(PrometheusError::Malformed {
                query: "time()".to_owned(),
                reason: "not a finite scalar".to_owned(),
            }),
        }
    }

    fn get(&self, promql: &str) -> Result<(u16, String), ureq::Error> {
        let mut request = self
            .agent
            .get(format!("{}/api/v1/query", self.base_url))
            .query("query", promql);
        if let Some(time) = self.time {
            request = request.query("time", format!("{time:.3}"));
        }
        let mut response = request.call()?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string()?;
        Ok((status, body))
    }
}

impl Source for Client {
    fn query(&self, promql: &str) -> Result<Answer, PrometheusError> {
        // Every transport failure reads the same to the user: this URL gave no answer.
        let (status, body) = self
            .get(promql)
            .map_err(|error| PrometheusError::Unreachable {
                url: self.base_url.clone(),
                reason: error.to_string(),
            })?;
        match parse_answer(promql, &body) {
            // Prometheus' own JSON, success or refusal, whatever the status code.
            Ok(answer) => Ok(answer),
            Err(refused @ PrometheusError::Refused { .. }) => Err(refused),
            Err(_) if !(200..300).contains(&status) => Err(PrometheusError::NotPrometheus {
                url: self.base_url.clone(),
                status,
                body: body.chars().take(BODY_EXCERPT).collect(),
            }),
            Err(malformed) => Err(malformed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Answers recorded from the project's Prometheus (v3, offline image), trimmed.

    #[test]
    fn a_vector_is_read_with_its_labels() {
        let body = r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"variant":"v2"},"value":[1796590636.946,"916.8575388359789"]},
            {"metric":{"variant":"v1"},"value":[1796590636.946,"1499.7106351508166"]}]}}"#;
        let Answer::Vector(samples) = parse_answer("q", body).expect("valid") else {
            panic!("not a vector");
        };
        assert_eq!(samples.len(), 2);
        assert_eq!(samples[0].label("variant"), "v2");
        assert_eq!(samples[0].label("route"), "");
        assert_eq!(samples[0].value, 916.8575388359789);
        assert_eq!(samples[1].value, 1499.7106351508166);
    }

    #[test]
    fn an_empty_vector_is_no_series() {
        let body = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert_eq!(
            parse_answer("q", body).expect("valid"),
            Answer::Vector(vec![])
        );
    }

    #[test]
    fn nan_and_infinities_are_numbers() {
        // histogram_quantile over a window without observations.
        let body = r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"variant":"v2"},"value":[1796590636.959,"NaN"]},
            {"metric":{},"value":[1796590636.959,"+Inf"]},
            {"metric":{},"value":[1796590636.959,"-Inf"]}]}}"#;
        let Answer::Vector(samples) = parse_answer("q", body).expect("valid") else {
            panic!("not a vector");
        };
        assert!(samples[0].value.is_nan());
        assert_eq!(samples[1].value, f64::INFINITY);
        assert_eq!(samples[2].value, f64::NEG_INFINITY);
    }

    #[test]
    fn a_scalar_is_read() {
        let body = r#"{"status":"success","data":{"resultType":"scalar","result":[1796590636.925,"1796590636.925"]}}"#;
        assert_eq!(
            parse_answer("time()", body).expect("valid"),
            Answer::Scalar(1796590636.925)
        );
    }

    #[test]
    fn a_refusal_carries_prometheus_message() {
        let body = r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:12: parse error: bad number or duration syntax: \"1\""}"#;
        let error = parse_answer("sum(rate(x[1q]))", body).expect_err("refused");
        let message = error.to_string();
        assert!(
            matches!(error, PrometheusError::Refused { .. }),
            "{error:?}"
        );
        assert!(message.contains("bad_data"), "{message}");
        assert!(message.contains("sum(rate(x[1q]))"), "{message}");
    }

    #[test]
    fn other_shapes_are_malformed() {
        let cases = [
            "<html>502 Bad Gateway</html>",
            r#"{"status":"success"}"#,
            r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#,
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"many"]}]}}"#,
        ];
        for body in cases {
            let error = parse_answer("q", body).expect_err(body);
            assert!(
                matches!(error, PrometheusError::Malformed { .. }),
                "{body}: {error:?}"
            );
        }
    }

    #[test]
    fn a_native_histogram_sample_is_skipped() {
        let body = r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{},"histogram":[1,{"count":"3","sum":"1","buckets":[]}]}]}}"#;
        assert_eq!(
            parse_answer("q", body).expect("valid"),
            Answer::Vector(vec![])
        );
    }

    #[test]
    fn an_unreachable_server_is_named() {
        // Port 9 (discard) on loopback: nothing listens there in a test environment, and the
        // refusal is immediate, so this needs no server and no network.
        let client = Client::new("http://127.0.0.1:9/", Duration::from_secs(2));
        assert_eq!(client.base_url(), "http://127.0.0.1:9");
        let error = client.query("up").expect_err("nothing listens");
        assert!(
            matches!(error, PrometheusError::Unreachable { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("http://127.0.0.1:9 "), "{error}");
    }
}
