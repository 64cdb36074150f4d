//! `/api/v2/connections`: upstream identity providers in Auth0's shape; the client secret is
//! write-only and sealed at rest.

use serde_json::json;

use crate::util::TestApp;

fn oidc(name: &str) -> serde_json::Value {
    json!({"name": name, "strategy": "oidc", "display_name": "Upstream",
           "options": {"client_id": "accountd", "client_secret": "s3cret-never-shown",
                       "discovery_url": "http://127.0.0.1:9/.well-known/openid-configuration", "scope": "openid email"},
           "connected_accounts": {"active": true}, "show_as_button": true})
}

#[tokio::test]
async fn connections_round_trip_without_ever_showing_their_secret() {
    let app = TestApp::start().await;
    let t = app.mgmt_token().await;
    let r = app.post("/api/v2/connections", &t, oidc("upstream")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("con_"), "{id}");
    assert_eq!(r.body["options"]["issuer"], json!("http://127.0.0.1:9"), "the issuer comes from discovery_url");
    assert_eq!(r.body["options"]["scope"], json!("openid email"));
    assert_eq!(r.body["connected_accounts"], json!({"active": true}));
    assert!(!r.text.contains("s3cret"), "the secret was returned: {}", r.text);
    assert_eq!(app.get(&format!("/api/v2/connections/{id}"), &t).await.body, r.body);
    assert_eq!(app.get("/api/v2/connections/upstream", &t).await.body["id"], json!(id), "found by name");
    let list = app.get("/api/v2/connections", &t).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    assert!(!app.database_holds("s3cret-never-shown").await, "the client secret is stored readable");

    let r = app
        .patch(
            &format!("/api/v2/connections/{id}"),
            &t,
            json!({"connected_accounts": {"active": false}, "options": {"scope": ["email", "profile"]}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (r.body["connected_accounts"].clone(), r.body["options"]["scope"].clone()),
        (json!({"active": false}), json!("email profile"))
    );
    assert_eq!(r.body["options"]["client_id"], json!("accountd"), "a PATCH keeps what it does not name");
    let r = app.patch(&format!("/api/v2/connections/{id}"), &t, json!({"name": "renamed"})).await;
    assert_eq!(r.status, 400, "{}", r.text);

    let r = app.request(reqwest::Method::DELETE, &format!("/api/v2/connections/{id}"), Some(&t), None).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let r = app.get(&format!("/api/v2/connections/{id}"), &t).await;
    assert_eq!((r.status.as_u16(), r.body["errorCode"].clone()), (404, json!("inexistent_connection")), "{}", r.text);
}

#[tokio::test]
async fn bad_connections_are_refused_in_auth0s_format_and_not_stored() {
    let app = TestApp::start().await;
    let t = app.mgmt_token().await;
    assert_eq!(app.post("/api/v2/connections", &t, oidc("upstream")).await.status, 201);
    let r = app.post("/api/v2/connections", &t, oidc("upstream")).await;
    assert_eq!(r.status, 409, "{}", r.text);
    for (body, says) in [
        (
            json!({"strategy": "oidc", "options": {"client_id": "c", "client_secret": "s", "issuer": "http://127.0.0.1:9"}}),
            "name",
        ),
        (json!({"name": "x", "strategy": "saml", "options": {}}), "strategy"),
        (json!({"name": "x", "strategy": "oidc", "options": {"client_id": "c", "client_secret": "s"}}), "issuer"),
        (
            json!({"name": "x", "strategy": "oidc", "options": {"client_id": "c", "client_secret": "s", "issuer": "javascript:alert(1)"}}),
            "issuer",
        ),
        (
            json!({"name": "x", "strategy": "oauth2", "options": {"client_id": "c", "client_secret": "s"}}),
            "authorization_endpoint",
        ),
        (
            json!({"name": "-x", "strategy": "oidc", "options": {"client_id": "c", "client_secret": "s", "issuer": "http://127.0.0.1:9"}}),
            "name",
        ),
        (
            json!({"name": "x", "strategy": "oidc", "options": {"client_id": "c", "issuer": "http://127.0.0.1:9"}}),
            "client_secret",
        ),
        (json!({"name": "x", "strategy": "oidc", "unknown": 1}), "unknown"),
    ] {
        let r = app.post("/api/v2/connections", &t, body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert!(r.body["message"].as_str().unwrap_or("").contains(says), "{body}: {}", r.text);
    }
    assert_eq!(
        app.get("/api/v2/connections", &t).await.body.as_array().unwrap().len(),
        1,
        "a refusal stored something"
    );
    let reader = app.mgmt_token_with(&["read:connections"]).await;
    assert_eq!(app.get("/api/v2/connections", &reader).await.status, 200);
    let r = app.post("/api/v2/connections", &reader, oidc("other")).await;
    assert_eq!(r.status, 403, "{}", r.text);
}
