//! Turns Nginx's access log into Prometheus metrics that `stub_status` cannot give: requests by
//! variant, route and status code, request/upstream latency histograms per variant, and
//! responses answered by another variant than the one the gateway routed to, the live answers'
//! predicted labels, and the agreement between the live and the shadow model on mirrored
//! requests ([`shadow`]).
//!
//! Nginx sends one JSON object per request (`log_format gateway_metrics escape=json`) as an
//! RFC 3164 syslog datagram, over UDP or a unix datagram socket. The pipeline is:
//!
//! ```text
//! datagram --input::SyslogSocket--> bytes --syslog::message--> JSON text
//!     --record::parse_line--> AccessRecord --gateway_metrics::Metrics::record-->
//!     Prometheus registry --routes--> GET /metrics
//! ```
//!
//! Every label is normalised to a fixed set (see [`record`]) so a hostile client cannot blow up
//! the series count by requesting random URIs.
//!
//! Configuration reading, signals and the drain, the `healthcheck` subcommand and logging are the
//! workspace's shared skeleton, `service_kit`.

pub mod config;
pub mod gateway_metrics;
pub mod input;
pub mod record;
pub mod routes;
pub mod shadow;
#[cfg(unix)]
pub mod socket_file;
pub mod startup;
pub mod syslog;
