//! Building and running the service: [`Application::build`] binds both listeners (so tests can ask
//! for port 0 and read the real port back), [`Application::run_until_stopped`] loads the model,
//! serves, reloads on SIGHUP and drains on SIGTERM/Ctrl-C.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use service_kit::shutdown::{Shutdown, Termination};
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::configuration::Settings;
use crate::middleware;
use crate::rate_limit;
use crate::request_id;
use crate::routes;
use crate::state::{AppState, SharedState};

/// How often histogram samples are folded into buckets. The Prometheus recorder keeps every
/// sample until then, so this period bounds that memory: a replica under batch load records
/// about 300,000 samples a second (confidence and inference time per sentence), and folding
/// them every 5 s left it at 74 MiB resident where every 500 ms leaves 17 MiB
/// (`BATCH=64 CONNECTIONS=32 scripts/bench/replica.sh`, BENCHMARKS.md).
const UPKEEP_PERIOD: Duration = Duration::from_millis(500);
/// Idle rate-limit keys are dropped every this many upkeeps (5 s): that walk grows with the
/// number of client addresses, not with the request rate.
const LIMITER_UPKEEPS: u32 = 10;

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A listener could not be bound.
    #[error("cannot listen on {var}={addr}: {source}")]
    Bind {
        /// The variable naming the address.
        var: &'static str,
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// `EMOTION_INSTANCE_ID` cannot be sent as a header.
    #[error("invalid EMOTION_INSTANCE_ID: {0}")]
    InstanceHeader(#[from] axum::http::header::InvalidHeaderValue),
    /// Signal handlers could not be installed.
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
    /// A listener failed while serving.
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

/// A bound, not yet running, service instance.
pub struct Application {
    http: TcpListener,
    metrics: TcpListener,
    state: SharedState,
    shutdown: Shutdown,
    limiter: Option<Arc<rate_limit::Config>>,
}

impl Application {
    /// Binds `EMOTION_HTTP_ADDR` and `EMOTION_METRICS_ADDR`. The model is loaded by
    /// [`Application::run_until_stopped`], so the process is live (but not ready) at once.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let bind = |var: &'static str, addr: SocketAddr| async move {
            TcpListener::bind(addr)
                .await
                .map_err(|source| StartupError::Bind { var, addr, source })
        };
        let http = bind("EMOTION_HTTP_ADDR", settings.http_addr).await?;
        let metrics = bind("EMOTION_METRICS_ADDR", settings.metrics_addr).await?;
        let limiter = settings
            .rate_limit
            .map(|limit| rate_limit::config(limit, &settings.trusted_proxies));
        let state = Arc::new(AppState::new(settings)?);
        Ok(Application {
            http,
            metrics,
            state,
            shutdown: Shutdown::new(),
            limiter,
        })
    }

    /// The bound API address (the real port when configured with port 0).
    pub fn http_addr(&self) -> SocketAddr {
        self.http
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The bound metrics address.
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The shared state (tests use it to reload without signals).
    pub fn state(&self) -> SharedState {
        self.state.clone()
    }

    /// A handle that starts the graceful shutdown, like SIGTERM does.
    pub fn shutdown_handle(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// Serves until SIGTERM, Ctrl-C or the shutdown handle, then drains in-flight requests for at
    /// most `EMOTION_SHUTDOWN_TIMEOUT_MS`.
    pub async fn run_until_stopped(self) -> Result<(), StartupError> {
        let Application {
            http,
            metrics,
            state,
            shutdown,
            limiter,
        } = self;
        // Registered before anything is spawned, so that none is missed between start-up and
        // the moment a task starts waiting (an unregistered SIGTERM or SIGHUP would kill the
        // process instead). SIGHUP is this service's own: reload the model.
        let mut termination = Termination::register().map_err(StartupError::Signals)?;
        let mut hangup = signal(SignalKind::hangup()).map_err(StartupError::Signals)?;
        let mut tasks = tokio::task::JoinSet::new();

        // The first load: the listeners already answer /health/live meanwhile.
        tasks.spawn({
            let state = state.clone();
            async move {
                // Failure is logged by `load`; the instance stays live but not ready until a
                // SIGHUP brings a loadable artifact.
                let _ = state.load().await;
            }
        });
        tasks.spawn({
            let state = state.clone();
            async move {
                while hangup.recv().await.is_some() {
                    tracing::info!("SIGHUP received: reloading the model");
                    let _ = state.reload().await;
                }
            }
        });
        tasks.spawn({
            let state = state.clone();
            let limiter = limiter.clone();
            async move {
                let mut tick = tokio::time::interval(UPKEEP_PERIOD);
                let mut n: u32 = 0;
                loop {
                    tick.tick().await;
                    n = n.wrapping_add(1);
                    state.metrics.run_upkeep();
                    if let Some(limiter) = limiter
                        .as_ref()
                        .filter(|_| n.is_multiple_of(LIMITER_UPKEEPS))
                    {
                        limiter.limiter().retain_recent();
                        limiter.limiter().shrink_to_fit();
                    }
                }
            }
        });
        tasks.spawn({
            let shutdown = shutdown.clone();
            async move {
                let signal = termination.recv().await;
                tracing::info!(signal, "shutdown requested");
                shutdown.trigger();
            }
        });

        let router = api_router(state.clone(), limiter);
        let drain = {
            let state = state.clone();
            let shutdown = shutdown.clone();
            async move {
                shutdown.triggered().await;
                state.start_draining();
                tracing::info!("draining: not ready, finishing in-flight requests");
            }
        };
        let http_server = axum::serve(
            http,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(drain);
        let metrics_server = axum::serve(metrics, metrics_router(state.clone()))
            .with_graceful_shutdown({
                let shutdown = shutdown.clone();
                async move { shutdown.triggered().await }
            });
        tracing::info!(
            variant = state.settings.variant.as_str(),
            instance = %state.settings.instance_id,
            http = %state.settings.http_addr,
            metrics = %state.settings.metrics_addr,
            "listening"
        );

        let serve = async {
            tokio::try_join!(
                std::future::IntoFuture::into_future(http_server),
                std::future::IntoFuture::into_future(metrics_server)
            )
        };
        // Both servers drain together, for at most EMOTION_SHUTDOWN_TIMEOUT_MS after the trigger.
        let bounded =
            service_kit::shutdown::drain(serve, &shutdown, state.settings.shutdown_timeout);
        let result = match bounded.await {
            Some(served) => served.map(|_| ()).map_err(StartupError::Serve),
            None => {
                tracing::warn!(
                    timeout_ms = state.settings.shutdown_timeout.as_millis() as u64,
                    "drain timed out; dropping the remaining connections"
                );
                Ok(())
            }
        };
        tasks.shutdown().await;
        tracing::info!("stopped");
        result
    }
}

/// The API routes with their middleware. Layers listed last run first: request id, identity
/// headers, metrics, variant guard, panic catcher, trace span, timeout, body limit, then
/// (prediction and feedback routes only) the rate limit. The guard sits inside the identity headers and the metrics (its 503 is stamped and
/// counted) and ahead of everything else: a request meant for the other variant reads no body and
/// spends no rate-limit token here.
pub fn api_router(state: SharedState, limiter: Option<Arc<rate_limit::Config>>) -> Router {
    let mut predictions = Router::new()
        .route("/predict", post(routes::predict::predict))
        .route("/predict/batch", post(routes::predict::predict_batch))
        .route("/feedback", post(routes::feedback::feedback));
    if let Some(limiter) = limiter {
        // `route_layer`: only requests that matched a prediction route spend tokens.
        predictions = predictions.route_layer(rate_limit::layer(limiter));
    }
    Router::new()
        .merge(predictions)
        .route("/health/live", get(routes::health::live))
        .route("/health/ready", get(routes::health::ready))
        .route("/openapi.json", get(routes::openapi::openapi))
        .route(routes::docs::PATH, get(routes::docs::page))
        .route("/docs/", get(routes::docs::page))
        .route("/docs/{*file}", get(routes::docs::file))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(DefaultBodyLimit::max(state.settings.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::timeout,
        ))
        .layer(
            // Request spans at DEBUG: free when RUST_LOG=info, and they record method, path,
            // status and latency only: never bodies or headers (no Authorization in logs).
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::DEBUG))
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::DEBUG))
                .on_failure(()),
        )
        // A panic in a handler is a bug, but it still answers in the JSON shape (a 500) and is
        // counted, instead of dropping the connection.
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::variant_guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::track,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::identity_headers,
        ))
        .layer(axum::middleware::from_fn(request_id::layer))
        .with_state(state)
}

/// `GET /metrics`, alone on its own listener.
pub fn metrics_router(state: SharedState) -> Router {
    Router::new()
        .route("/metrics", get(routes::metrics::metrics))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .with_state(state)
}
