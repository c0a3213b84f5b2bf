//! The stack's in-house alert delivery: Alertmanager's `webhook` receiver posts every
//! notification here, and this service
//!
//! - checks it is an Alertmanager webhook notification ([`webhook`]; JSON errors otherwise,
//!   [`error`]),
//! - writes each alert as one JSON line on stdout ([`delivery`]): the operator's record,
//!   `docker compose logs alert-receiver`,
//! - keeps the last notifications in memory for `GET /alerts` ([`history`]), which the
//!   resilience suite polls to see an alert arrive and resolve,
//! - counts them for Prometheus ([`metrics`]).
//!
//! It stands where a mail or chat receiver would: `monitoring/alertmanager/alertmanager.yml`
//! says how to add one next to it. It sends nothing onwards itself.
//!
//! Configuration reading, signals and the drain, the `healthcheck` subcommand and logging are the
//! workspace's shared skeleton, `service_kit`.

pub mod clock;
pub mod config;
pub mod delivery;
pub mod error;
pub mod history;
pub mod metrics;
pub mod routes;
pub mod startup;
pub mod webhook;
