//! Integration tests: the real application on port 0, spoken to over HTTP.

mod batch;
mod docs;
mod errors;
mod feedback;
mod health;
mod helpers;
mod metrics;
mod openapi;
mod predict;
mod rate_limit;
mod reload;
mod shadow;
mod shutdown;
mod variant;
