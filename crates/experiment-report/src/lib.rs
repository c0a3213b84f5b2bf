//! The readout of the A/B experiment: v2 (candidate) against v1 (control).
//!
//! ```text
//! Prometheus --prometheus::Client (HTTP, JSON)--> samples --collect::gather--> Observations
//!     --analysis::analyse (stats)--> Report --render::text | serde_json--> stdout
//! ```
//!
//! Only [`prometheus`] does I/O; everything after it is a pure function of the counts, so the
//! statistics and the verdict are tested on fixed numbers, and the PromQL and parsing on recorded
//! Prometheus answers, without a server.

pub mod analysis;
pub mod args;
pub mod collect;
pub mod prometheus;
pub mod render;
pub mod report;
pub mod stats;
