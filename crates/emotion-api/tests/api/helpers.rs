//! `spawn_app`: the real `Application` on port 0 with a small model trained in-process.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use emotion_api::configuration::Settings;
use emotion_api::startup::{Application, StartupError};
use emotion_api::state::SharedState;
use emotion_model::data::{Dataset, Example};
use emotion_model::{Hyperparameters, LogisticParams, Model};
use service_kit::shutdown::Shutdown;
use tokio::task::JoinHandle;

/// The 13 labels of data/tweet_emotions.csv, sorted.
pub const LABELS: [&str; 13] = [
    "anger",
    "boredom",
    "empty",
    "enthusiasm",
    "fun",
    "happiness",
    "hate",
    "love",
    "neutral",
    "relief",
    "sadness",
    "surprise",
    "worry",
];

/// A tiny data set: a few distinctive phrases per label, enough for every label to be learnt and
/// for both the training and the held-out split (`tweet_id % 5 == 0`) to be non-empty.
fn tiny_dataset() -> Dataset {
    let words: [(&str, &str); 13] = [
        ("anger", "furious angry rage"),
        ("boredom", "bored dull nothing"),
        ("empty", "blank void whatever"),
        ("enthusiasm", "excited cant wait"),
        ("fun", "party fun laugh"),
        ("happiness", "happy smile great"),
        ("hate", "hate awful despise"),
        ("love", "love adore heart"),
        ("neutral", "meeting today office"),
        ("relief", "relieved finally done"),
        ("sadness", "sad cry miss"),
        ("surprise", "wow surprised unexpected"),
        ("worry", "worried nervous exam"),
    ];
    let mut examples = Vec::new();
    let mut id = 1000;
    for round in 0..6 {
        for (label, text) in words {
            examples.push(Example {
                tweet_id: id,
                label: label.to_owned(),
                text: format!("{text} {round}"),
            });
            id += 1;
        }
    }
    Dataset {
        examples,
        sha256: "0".repeat(64),
    }
}

/// Trains the default (logistic) model with L2 penalty `l2`: another penalty gives other weights,
/// so two artifacts differ in what they predict, not only in their metadata.
fn train(l2: f64) -> Vec<u8> {
    let params = Hyperparameters::Logistic(LogisticParams {
        l2,
        ..LogisticParams::default()
    });
    emotion_model::train(&tiny_dataset(), &params)
        .expect("the tiny data set trains")
        .model
        .to_bytes()
}

/// The artifact every test app serves, trained once per test binary.
pub fn model_bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| train(LogisticParams::default().l2))
}

/// A second artifact with other weights (a 1,000 times stronger L2 penalty, so flatter
/// probabilities), for reload tests.
pub fn other_model_bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| train(LogisticParams::default().l2 * 1_000.0))
}

/// The version of an artifact.
pub fn version_of(bytes: &[u8]) -> String {
    Model::from_bytes(bytes)
        .expect("valid artifact")
        .version()
        .to_owned()
}

/// A fresh directory under Cargo's per-test-target scratch directory.
pub fn scratch_dir() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "emotion-api-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// A running application.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// `http://127.0.0.1:<metrics port>`.
    pub metrics_address: String,
    /// The artifact path the app reloads from.
    pub model_path: PathBuf,
    /// Its state (reload without signals).
    pub state: SharedState,
    /// Starts the graceful shutdown.
    pub shutdown: Shutdown,
    /// Resolves when `run_until_stopped` returns.
    pub server: JoinHandle<Result<(), StartupError>>,
    /// A client that does not follow redirects or retry.
    pub client: reqwest::Client,
}

/// The app with test defaults: v1, rate limit off, ready.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// The app with some `EMOTION_*` variables overridden; waits until ready when a model exists.
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    let dir = scratch_dir();
    let model_path = dir.join("emotion-model.bin");
    std::fs::write(&model_path, model_bytes()).expect("write model");
    let mut env: HashMap<String, String> = [
        ("EMOTION_HTTP_ADDR", "127.0.0.1:0"),
        ("EMOTION_METRICS_ADDR", "127.0.0.1:0"),
        ("EMOTION_INSTANCE_ID", "test-instance"),
        ("EMOTION_RATE_LIMIT_RPS", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    env.insert(
        "EMOTION_MODEL_PATH".to_owned(),
        model_path.display().to_string(),
    );
    for (k, v) in overrides {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    let settings = Settings::from_lookup(|k| env.get(k).cloned()).expect("valid test settings");
    let model_path = settings.model_path.clone();
    let application = Application::build(settings).await.expect("build");
    let app = TestApp {
        address: format!("http://{}", application.http_addr()),
        metrics_address: format!("http://{}", application.metrics_addr()),
        model_path,
        state: application.state(),
        shutdown: application.shutdown_handle(),
        server: tokio::spawn(application.run_until_stopped()),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
    };
    if app.model_path.exists() {
        app.wait_until_ready().await;
    }
    app
}

impl TestApp {
    /// Polls the state until the model is loaded (bounded).
    pub async fn wait_until_ready(&self) {
        for _ in 0..500 {
            if self.state.is_ready() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("app not ready within 5 s");
    }

    /// `POST /predict` with a JSON body.
    pub async fn predict(&self, body: serde_json::Value) -> reqwest::Response {
        self.post_json("/predict", body).await
    }

    /// `POST <path>` with a JSON body.
    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.address))
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    /// `POST <path>` with a raw body and content type.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}{path}", self.address))
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        request.send().await.expect("request")
    }

    /// `GET <path>` on the API listener.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request")
    }

    /// The Prometheus exposition from the metrics listener.
    pub async fn metrics(&self) -> String {
        self.client
            .get(format!("{}/metrics", self.metrics_address))
            .send()
            .await
            .expect("request")
            .text()
            .await
            .expect("body")
    }
}

/// Asserts the JSON error shape, status, error code and identity headers; returns the message.
pub async fn assert_error(response: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(response.status().as_u16(), status, "status");
    assert_identity_headers(&response);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "content type"
    );
    let body: serde_json::Value = response.json().await.expect("JSON error body");
    let error = body["error"].as_object().expect("error object");
    assert_eq!(error.len(), 2, "exactly code and message: {body}");
    assert_eq!(error["code"], code, "{body}");
    let message = error["message"].as_str().expect("message string");
    assert!(!message.is_empty());
    message.to_owned()
}

/// Asserts `X-Model-Variant` and `X-Instance` are present (test apps are v1 unless overridden).
pub fn assert_identity_headers(response: &reqwest::Response) {
    let variant = response
        .headers()
        .get("x-model-variant")
        .expect("X-Model-Variant");
    assert!(variant == "v1" || variant == "v2");
    assert_eq!(
        response.headers().get("x-instance").expect("X-Instance"),
        "test-instance"
    );
}
