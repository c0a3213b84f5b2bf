//! State shared by every request: configuration, the serving model (swappable), readiness, metrics,
//! feedback receipts.
//!
//! The model sits behind an [`ArcSwapOption`]: a request loads the current `Arc<Model>` once (a
//! lock-free pointer read) and keeps using it even if a reload swaps in a new one meanwhile, so a
//! reload never drops or mixes up a request.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwapOption;
use axum::http::HeaderValue;
use emotion_model::Model;

use crate::configuration::Settings;
use crate::feedback::Feedback;
use crate::metrics::ApiMetrics;

/// Cheap to clone: everything is behind one `Arc`.
pub type SharedState = Arc<AppState>;

/// See the module documentation.
pub struct AppState {
    /// The validated configuration.
    pub settings: Settings,
    /// This instance's metrics.
    pub metrics: ApiMetrics,
    /// `X-Model-Variant` value, built once.
    pub variant_header: HeaderValue,
    /// `X-Instance` value, built once.
    pub instance_header: HeaderValue,
    /// Receipts and their redemption; `None` without a key (feedback disabled).
    pub feedback: Option<Feedback>,
    model: ArcSwapOption<Model>,
    draining: AtomicBool,
    /// Serialises reloads so two SIGHUPs in a row cannot race each other's metric updates.
    reload_lock: tokio::sync::Mutex<()>,
}

/// Why the model could not be (re)loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The artifact is missing, unreadable or invalid.
    #[error("cannot load model from {path}: {source}")]
    Artifact {
        /// The configured path.
        path: String,
        /// What the model crate reported.
        source: emotion_model::ArtifactError,
    },
    /// The blocking load task panicked or was cancelled.
    #[error("model load task failed: {0}")]
    Task(String),
}

impl AppState {
    /// State with no model loaded yet (not ready).
    pub fn new(settings: Settings) -> Result<Self, axum::http::header::InvalidHeaderValue> {
        let metrics = ApiMetrics::new(settings.variant.as_str());
        let feedback = settings
            .feedback_key
            .clone()
            .map(|key| Feedback::new(key, settings.feedback_max_age));
        Ok(AppState {
            variant_header: HeaderValue::from_static(settings.variant.as_str()),
            instance_header: HeaderValue::from_str(&settings.instance_id)?,
            feedback,
            settings,
            metrics,
            model: ArcSwapOption::empty(),
            draining: AtomicBool::new(false),
            reload_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// The serving model, if one is loaded.
    pub fn model(&self) -> Option<Arc<Model>> {
        self.model.load_full()
    }

    /// Ready = a model is loaded and the process is not draining.
    pub fn is_ready(&self) -> bool {
        !self.draining.load(Ordering::Acquire) && self.model.load().is_some()
    }

    /// Marks the start of the drain: readiness turns false at once.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Release);
        self.metrics.set_ready(false);
    }

    /// Makes `model` the serving model.
    pub fn install(&self, model: Model) {
        let version = model.version().to_owned();
        let previous = self.model.swap(Some(Arc::new(model)));
        self.metrics
            .set_model(&version, previous.as_deref().map(Model::version));
        self.metrics.set_ready(self.is_ready());
    }

    /// Reloads on SIGHUP: [`AppState::load`], counted in `emotion_api_model_reloads_total{result}`.
    pub async fn reload(&self) -> Result<String, LoadError> {
        let result = self.load().await;
        self.metrics.record_reload(result.is_ok());
        result
    }

    /// Loads the artifact at `EMOTION_MODEL_PATH` and swaps it in. On failure the current model (if
    /// any) keeps serving. Logs either way.
    pub async fn load(&self) -> Result<String, LoadError> {
        let _guard = self.reload_lock.lock().await;
        let path = self.settings.model_path.clone();
        // Reading and checking an artifact is blocking file I/O plus hashing: keep it off the
        // async workers that are serving requests.
        let loaded = tokio::task::spawn_blocking(move || Model::load(&path))
            .await
            .map_err(|e| LoadError::Task(e.to_string()))
            .and_then(|r| {
                r.map_err(|source| LoadError::Artifact {
                    path: self.settings.model_path.display().to_string(),
                    source,
                })
            });
        match loaded {
            Ok(model) => {
                let version = model.version().to_owned();
                self.install(model);
                tracing::info!(model_version = %version, "model loaded");
                Ok(version)
            }
            Err(error) => {
                let serving = self.model().map(|m| m.version().to_owned());
                tracing::error!(
                    %error,
                    serving_model_version = serving.as_deref().unwrap_or("none"),
                    "model load failed; keeping the current model"
                );
                Err(error)
            }
        }
    }
}
