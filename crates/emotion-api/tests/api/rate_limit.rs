//! The per-client rate limit (defence in depth): 429 in the JSON shape, keyed on an address a
//! client cannot forge.

use serde_json::json;

use crate::helpers::{assert_error, spawn_app_with, TestApp};

/// One request per second sustained, bursts of two.
const STRICT: [(&str, &str); 2] = [
    ("EMOTION_RATE_LIMIT_RPS", "1"),
    ("EMOTION_RATE_LIMIT_BURST", "2"),
];

async fn predict_as(app: &TestApp, real_ip: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .post(format!("{}/predict", app.address))
        .json(&json!({"sentence": "hello"}));
    if let Some(ip) = real_ip {
        request = request.header("x-real-ip", ip);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn the_burst_passes_then_429_with_retry_after() {
    let app = spawn_app_with(&STRICT).await;

    assert_eq!(predict_as(&app, None).await.status().as_u16(), 200);
    assert_eq!(predict_as(&app, None).await.status().as_u16(), 200);
    let limited = predict_as(&app, None).await;

    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1, "{retry_after}");
    assert_error(limited, 429, "rate_limited").await;
    // The limit guards predictions only: probes still answer.
    assert_eq!(app.get("/health/ready").await.status().as_u16(), 200);
    assert!(app.metrics().await.contains(r#"status="429""#));
}

#[tokio::test]
async fn a_forged_real_ip_from_an_untrusted_peer_does_not_change_the_key() {
    // Loopback is not a trusted proxy here, so X-Real-IP must be ignored.
    let app = spawn_app_with(&STRICT).await;

    assert_eq!(
        predict_as(&app, Some("203.0.113.1"))
            .await
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        predict_as(&app, Some("203.0.113.2"))
            .await
            .status()
            .as_u16(),
        200
    );
    let third = predict_as(&app, Some("203.0.113.3")).await;

    assert_eq!(
        third.status().as_u16(),
        429,
        "a fresh X-Real-IP must not buy a fresh bucket"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_real_ip_has_its_own_bucket() {
    let mut env = STRICT.to_vec();
    env.push(("EMOTION_TRUSTED_PROXIES", "127.0.0.0/8"));
    let app = spawn_app_with(&env).await;

    for _ in 0..2 {
        assert_eq!(
            predict_as(&app, Some("198.51.100.7"))
                .await
                .status()
                .as_u16(),
            200
        );
    }
    assert_eq!(
        predict_as(&app, Some("198.51.100.7"))
            .await
            .status()
            .as_u16(),
        429
    );

    // Another client behind the same gateway is unaffected; X-Forwarded-For is never a key.
    assert_eq!(
        predict_as(&app, Some("198.51.100.8"))
            .await
            .status()
            .as_u16(),
        200
    );
    let forwarded = app
        .client
        .post(format!("{}/predict", app.address))
        .header("x-real-ip", "198.51.100.7")
        .header("x-forwarded-for", "192.0.2.99")
        .json(&json!({"sentence": "hello"}))
        .send()
        .await
        .unwrap();
    assert_eq!(forwarded.status().as_u16(), 429);
}

#[tokio::test]
async fn a_zero_rate_disables_the_limit() {
    let app = spawn_app_with(&[
        ("EMOTION_RATE_LIMIT_RPS", "0"),
        ("EMOTION_RATE_LIMIT_BURST", "1"),
    ])
    .await;
    for _ in 0..20 {
        assert_eq!(predict_as(&app, None).await.status().as_u16(), 200);
    }
}
