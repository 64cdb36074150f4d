//! CORS on the token, revocation and userinfo endpoints.

use serde_json::json;

use crate::util::TestApp;

async fn preflight(app: &TestApp, path: &str, origin: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("{}{path}", app.base))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type, dpop")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn registered_origins_get_cors_others_get_nothing() {
    let app = TestApp::start().await;
    let t = app.mgmt_token().await;
    app.post(
        "/api/v2/clients",
        &t,
        json!({"name": "SPA", "app_type": "spa", "web_origins": ["http://localhost:3000"], "cross_origin_authentication": true}),
    )
    .await;
    app.post(
        "/api/v2/clients",
        &t,
        json!({"name": "Closed", "app_type": "spa", "web_origins": ["http://closed.example"], "cross_origin_authentication": false}),
    )
    .await;
    for path in ["/oauth/token", "/oauth/revoke", "/userinfo"] {
        let r = preflight(&app, path, "http://localhost:3000").await;
        assert_eq!(r.status(), 204, "{path}");
        assert_eq!(r.headers()["access-control-allow-origin"], "http://localhost:3000");
        assert!(r.headers()["access-control-allow-headers"].to_str().unwrap().contains("DPoP"));
        for origin in ["https://evil.example", "http://closed.example"] {
            let r = preflight(&app, path, origin).await;
            assert!(r.headers().get("access-control-allow-origin").is_none(), "{path} allowed {origin}");
        }
    }
    // The actual request carries the header too, error answers included.
    let r = reqwest::Client::new()
        .post(format!("{}/oauth/token", app.base))
        .header("origin", "http://localhost:3000")
        .json(&json!({"grant_type": "client_credentials", "client_id": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["access-control-allow-origin"], "http://localhost:3000");
    assert!(r.headers()["access-control-expose-headers"].to_str().unwrap().contains("WWW-Authenticate"));
    // The management API is not for browsers.
    let r = preflight(&app, "/api/v2/clients", "http://localhost:3000").await;
    assert!(r.headers().get("access-control-allow-origin").is_none());
    app.stop().await;
}
