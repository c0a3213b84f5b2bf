//! Graceful shutdown: readiness drops at once, in-flight requests finish, the drain is bounded.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{spawn_app, spawn_app_with};

const HEAD: &[u8] = b"POST /predict HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
                      Content-Length: 25\r\n\r\n";
const BODY: &[u8] = br#"{"sentence": "happy day"}"#;

#[tokio::test]
async fn an_in_flight_request_completes_after_shutdown_starts() {
    let app = spawn_app().await;
    // Arrange: a request whose body is still being uploaded when the shutdown starts.
    let mut stream = tokio::net::TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap();
    stream.write_all(HEAD).await.unwrap();
    stream.write_all(&BODY[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Act
    app.shutdown.trigger();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !app.state.is_ready(),
        "readiness turns false at the start of the drain"
    );
    stream.write_all(&BODY[10..]).await.unwrap();

    // Assert: the request is answered, then the server stops cleanly and refuses new work.
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""emotion""#), "{answer}");
    let stopped = tokio::time::timeout(Duration::from_secs(5), app.server).await;
    stopped
        .expect("stops after the drain")
        .unwrap()
        .expect("clean exit");
    assert!(app
        .client
        .get(format!("{}/health/live", app.address))
        .send()
        .await
        .is_err());
}

#[tokio::test]
async fn the_drain_is_bounded_by_the_shutdown_timeout() {
    let app = spawn_app_with(&[
        ("EMOTION_SHUTDOWN_TIMEOUT_MS", "300"),
        ("EMOTION_REQUEST_TIMEOUT_MS", "60000"),
    ])
    .await;
    // A client that never finishes its body would hold the drain forever.
    let mut stream = tokio::net::TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap();
    stream.write_all(HEAD).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;

    let started = std::time::Instant::now();
    app.shutdown.trigger();
    let stopped = tokio::time::timeout(Duration::from_secs(5), app.server).await;

    stopped
        .expect("the drain gives up")
        .unwrap()
        .expect("clean exit");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(300), "{took:?}");
}
