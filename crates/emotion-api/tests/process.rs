//! The real `emotion-api` binary as a child process: configuration errors, the `healthcheck`
//! subcommand, SIGHUP hot reload and SIGTERM shutdown, with real signals.

#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use helpers::{model_bytes, other_model_bytes, scratch_dir, version_of};

const BIN: &str = env!("CARGO_BIN_EXE_emotion-api");

/// A loopback port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn command(http_port: u16, metrics_port: u16, model: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("EMOTION_HTTP_ADDR", format!("127.0.0.1:{http_port}"))
        .env("EMOTION_METRICS_ADDR", format!("127.0.0.1:{metrics_port}"))
        .env("EMOTION_MODEL_PATH", model)
        .env("EMOTION_INSTANCE_ID", "process-test")
        .env("RUST_LOG", "info");
    command
}

fn healthcheck(http_port: u16) -> ExitStatus {
    Command::new(BIN)
        .arg("healthcheck")
        .env_clear()
        .env("EMOTION_HTTP_ADDR", format!("0.0.0.0:{http_port}"))
        .stderr(Stdio::null())
        .status()
        .unwrap()
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name}");
}

fn wait_exit(child: &mut Child, within: Duration) -> ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("process did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kills the child if a test fails half-way, so no server outlives the test run.
struct Guard(Child);

/// Spawns the configured replica and waits (at most 10 s) until its healthcheck passes.
fn spawn_ready(command: &mut Command, http_port: u16) -> Guard {
    let child = Guard(command.spawn().unwrap());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !healthcheck(http_port).success() {
        assert!(Instant::now() < deadline, "never became ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_bad_variable_stops_start_up_and_is_named() {
    let output = Command::new(BIN)
        .env_clear()
        .env("EMOTION_MAX_BATCH", "lots")
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(1));
    let log = String::from_utf8_lossy(&output.stdout);
    assert!(log.contains("EMOTION_MAX_BATCH"), "{log}");
    assert!(log.contains(r#""level":"ERROR""#), "JSON log line: {log}");
}

#[test]
fn a_short_feedback_key_stops_start_up_without_being_logged() {
    let short = "c0ffee".repeat(5); // 15 bytes
    let output = Command::new(BIN)
        .env_clear()
        .env("EMOTION_FEEDBACK_KEY", &short)
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(1));
    let log = String::from_utf8_lossy(&output.stdout);
    assert!(log.contains("EMOTION_FEEDBACK_KEY"), "{log}");
    assert!(log.contains("at least 32"), "{log}");
    assert!(!log.contains(&short), "the key was logged: {log}");
}

#[test]
fn healthcheck_fails_when_nothing_listens() {
    assert_eq!(healthcheck(free_port()).code(), Some(1));
}

#[tokio::test]
async fn sighup_reloads_and_sigterm_stops_cleanly() {
    // Arrange: a replica serving model A.
    let dir = scratch_dir();
    let model = dir.join("emotion-model.bin");
    std::fs::write(&model, model_bytes()).unwrap();
    let (http_port, metrics_port) = (free_port(), free_port());
    let mut child = spawn_ready(
        command(http_port, metrics_port, &model).stdout(Stdio::null()),
        http_port,
    );
    let client = reqwest::Client::new();
    let served = || async {
        let body: serde_json::Value = client
            .post(format!("http://127.0.0.1:{http_port}/predict"))
            .json(&serde_json::json!({"sentence": "hello"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["model_version"].as_str().unwrap().to_owned()
    };
    assert_eq!(served().await, version_of(model_bytes()));

    // Act 1: a broken artifact and SIGHUP: the old model keeps serving, the failure is counted.
    std::fs::write(&model, b"garbage").unwrap();
    signal(&child.0, "HUP");
    let metrics = || async {
        client
            .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while !metrics()
        .await
        .contains(r#"emotion_api_model_reloads_total{variant="v1",result="error"} 1"#)
    {
        assert!(Instant::now() < deadline, "failed reload not counted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(served().await, version_of(model_bytes()));

    // Act 2: a good new artifact and SIGHUP: responses report the new version.
    std::fs::write(&model, other_model_bytes()).unwrap();
    signal(&child.0, "HUP");
    let deadline = Instant::now() + Duration::from_secs(5);
    while served().await != version_of(other_model_bytes()) {
        assert!(Instant::now() < deadline, "reload not applied");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Act 3: SIGTERM: exit 0, and the healthcheck now fails.
    signal(&child.0, "TERM");
    let status = wait_exit(&mut child.0, Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    assert_eq!(healthcheck(http_port).code(), Some(1));
}

#[tokio::test]
async fn logs_are_json_and_never_contain_bodies_or_credentials() {
    // Arrange: the most verbose level this service logs at.
    let dir = scratch_dir();
    let model = dir.join("emotion-model.bin");
    std::fs::write(&model, model_bytes()).unwrap();
    let (http_port, metrics_port) = (free_port(), free_port());
    let mut child = spawn_ready(
        command(http_port, metrics_port, &model)
            .env("RUST_LOG", "trace")
            .stdout(Stdio::piped()),
        http_port,
    );

    // Act: requests carrying a credential and a recognisable text, good and bad.
    let client = reqwest::Client::new();
    for body in [
        r#"{"sentence": "SECRET-TEXT-1234"}"#,
        r#"{"sentence": "SECRET-TEXT-1234""#,
    ] {
        let response = client
            .post(format!("http://127.0.0.1:{http_port}/predict"))
            .header("authorization", "Basic U0VDUkVULUNSRURFTlRJQUw=")
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(response.status().as_u16() < 500);
    }
    // Ctrl-C (SIGINT) stops it as cleanly as SIGTERM.
    signal(&child.0, "INT");
    assert!(wait_exit(&mut child.0, Duration::from_secs(10)).success());

    // Assert
    let mut log = String::new();
    std::io::Read::read_to_string(child.0.stdout.as_mut().unwrap(), &mut log).unwrap();
    assert!(log.lines().count() >= 3, "{log}");
    for line in log.lines() {
        let parsed: serde_json::Value = serde_json::from_str(line).expect("JSON log line");
        assert!(parsed["level"].is_string(), "{line}");
    }
    for secret in [
        "SECRET-TEXT",
        "U0VDUkVULUNSRURFTlRJQUw",
        "authorization",
        "Authorization",
    ] {
        assert!(
            !log.contains(secret),
            "{secret} leaked into the log:\n{log}"
        );
    }
}
