//! Swagger UI at `/docs`: served from the files compiled into the binary, on this instance's
//! `/openapi.json`, with unknown files and wrong methods in the JSON error shape.

use crate::helpers::{assert_error, assert_identity_headers, spawn_app};

#[tokio::test]
async fn the_page_and_every_file_it_names_are_served() {
    let app = spawn_app().await;
    let response = app.get("/docs").await;
    assert_eq!(response.status().as_u16(), 200);
    assert_identity_headers(&response);
    assert_eq!(content_type(&response), "text/html; charset=utf-8");
    let page = response.text().await.unwrap();
    assert!(page.contains(r#"<div id="swagger-ui">"#), "{page}");
    for path in ["/docs/", "/docs/index.html"] {
        assert_eq!(app.get(path).await.text().await.unwrap(), page, "{path}");
    }

    // Every `href` and `src` of the page: under /docs/ (so that the page works at /docs and
    // /docs/ alike), from this origin, and there.
    let files: Vec<&str> = ["href=\"", "src=\""]
        .iter()
        .flat_map(|attribute| page.split(attribute).skip(1))
        .filter_map(|rest| rest.split('"').next())
        .collect();
    for expected in [
        "/docs/swagger-ui.css",
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-initializer.js",
    ] {
        assert!(files.contains(&expected), "{expected} not in {files:?}");
    }
    for file in files {
        assert!(file.starts_with("/docs/"), "{file}");
        let response = app.get(file).await;
        assert_eq!(response.status().as_u16(), 200, "{file}");
        let expected = match file.rsplit('.').next() {
            Some("css") => "text/css",
            Some("js") => "javascript",
            Some("png") => "image/png",
            other => panic!("{file}: unexpected kind {other:?}"),
        };
        assert!(
            content_type(&response).contains(expected),
            "{file}: {}",
            content_type(&response)
        );
    }
}

#[tokio::test]
async fn the_page_shows_this_instances_document_and_nothing_else() {
    let app = spawn_app().await;
    let script = app
        .get("/docs/swagger-initializer.js")
        .await
        .text()
        .await
        .unwrap();
    assert!(script.contains(r#""url": "/openapi.json""#), "{script}");
    // No badge that sends the document's address to validator.swagger.io.
    assert!(script.contains(r#""validatorUrl": "none""#), "{script}");
    assert!(!script.contains("petstore"), "{script}");
    assert!(!script.contains("queryConfigEnabled\": true"), "{script}");
}

#[tokio::test]
async fn unknown_files_and_other_methods_are_json_errors() {
    let app = spawn_app().await;
    for path in [
        "/docs/nope.js",
        "/docs/index.html/",
        "/docs/..%2Fopenapi.json",
        "/docs//swagger-ui.css",
    ] {
        let message = assert_error(app.get(path).await, 404, "not_found").await;
        assert!(message.contains(path), "{message}");
    }
    for path in ["/docs", "/docs/", "/docs/swagger-ui.css"] {
        let response = app
            .client
            .post(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        let allow = response.headers().get("allow").cloned();
        assert!(
            allow.is_some_and(|allow| allow.to_str().unwrap().contains("GET")),
            "{path}"
        );
        assert_error(response, 405, "method_not_allowed").await;
    }
}

fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
