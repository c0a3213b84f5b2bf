//! `experiment-report [--prometheus URL] [--window 1h] [--json]`: the A/B experiment's readout.
//!
//! Exit status: 0 when a report was printed, whatever its verdict ("no data yet" included: an
//! experiment without traffic is news, not a failure); 1 when Prometheus answered but not as
//! expected (a refused query, a body that is not its JSON); 2 for bad arguments or environment,
//! and when Prometheus cannot be reached. Errors are one line on stderr.

use std::process::ExitCode;
use std::time::Duration;

use experiment_report::analysis::{analyse, Provenance};
use experiment_report::args::{self, Command, Format, Options};
use experiment_report::collect::gather;
use experiment_report::prometheus::{Client, PrometheusError};
use experiment_report::render;

/// Bound on each query, so a hung Prometheus cannot hang the command.
const QUERY_TIMEOUT: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    match args::from_env(std::env::args().skip(1)) {
        Ok(Command::Help) => {
            println!("{}", args::USAGE);
            ExitCode::SUCCESS
        }
        Ok(Command::Report(options)) => report(&options),
        Err(error) => {
            eprintln!("experiment-report: {error}");
            ExitCode::from(2)
        }
    }
}

fn report(options: &Options) -> ExitCode {
    match run(options) {
        Ok(output) => {
            print!("{output}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("experiment-report: {error}");
            match error {
                PrometheusError::Unreachable { .. } => ExitCode::from(2),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

fn run(options: &Options) -> Result<String, PrometheusError> {
    let mut client = Client::new(&options.prometheus_url, QUERY_TIMEOUT);
    let evaluated_at = client.pin_time()?;
    let observations = gather(&client, &options.window)?;
    let report = analyse(
        &observations,
        Provenance {
            prometheus_url: options.prometheus_url.clone(),
            window: options.window.to_string(),
            evaluated_at,
        },
    );
    Ok(match options.format {
        Format::Text => render::text(&report),
        Format::Json => {
            // A tree of plain structs, maps with string keys and finite or null numbers:
            // serialisation cannot fail.
            let json = serde_json::to_string_pretty(&report).unwrap_or_default();
            format!("{json}\n")
        }
    })
}
