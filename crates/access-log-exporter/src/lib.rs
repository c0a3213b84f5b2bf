//! Turns Nginx's access log into Prometheus metrics that `stub_status` cannot give: requests by
//! variant, route and status code, and request/upstream latency histograms per variant.
//!
//! Nginx sends one JSON object per request (`log_format gateway_metrics escape=json`) as an
//! RFC 3164 syslog datagram over UDP. The pipeline is:
//!
//! ```text
//! UDP datagram --syslog::message--> JSON text --record::parse_line--> AccessRecord
//!     --gateway_metrics::Metrics::record--> Prometheus registry --routes--> GET /metrics
//! ```
//!
//! Every label is normalised to a fixed set (see [`record`]) so a hostile client cannot blow up
//! the series count by requesting random URIs.

pub mod config;
pub mod gateway_metrics;
pub mod healthcheck;
pub mod record;
pub mod routes;
pub mod startup;
pub mod syslog;
pub mod telemetry;
