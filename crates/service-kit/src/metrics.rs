//! What the services' `GET /metrics` routes share. Each service builds its own Prometheus
//! recorder (its buckets and labels; owned by the application rather than installed globally, so
//! tests can run several instances in one process) and renders it from its own route: only the
//! format's content type is common.

/// `Content-Type` of the Prometheus text exposition format 0.0.4, the format
/// `metrics_exporter_prometheus::PrometheusHandle::render` writes.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
