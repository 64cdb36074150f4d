use serde_json::json;

use crate::util::TestApp;

#[tokio::test]
async fn missing_bad_and_foreign_tokens_get_401() {
    let app = TestApp::start().await;
    let r = app.request(reqwest::Method::GET, "/api/v2/clients", None, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body, json!({"statusCode": 401, "error": "Unauthorized", "message": "Missing authentication"}));
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    let r = app.get("/api/v2/clients", "not.a.jwt").await;
    assert_eq!((r.status.as_u16(), r.body["message"].as_str().unwrap()), (401, "Invalid token"));
    // A valid token for another API of the tenant is not a management token.
    let admin = app.mgmt_token().await;
    app.post("/api/v2/resource-servers", &admin, json!({"identifier": "urn:other", "scopes": [{"value": "x"}]})).await;
    let m2m = app.post("/api/v2/clients", &admin, json!({"name": "svc", "app_type": "non_interactive"})).await;
    let cid = m2m.body["client_id"].as_str().unwrap();
    app.post("/api/v2/client-grants", &admin, json!({"client_id": cid, "audience": "urn:other", "scope": ["x"]})).await;
    let t = app
        .request(
            reqwest::Method::POST,
            "/oauth/token",
            None,
            Some(json!({"grant_type": "client_credentials", "client_id": cid,
                        "client_secret": m2m.body["client_secret"], "audience": "urn:other"})),
        )
        .await;
    let other = t.body["access_token"].as_str().unwrap();
    let r = app.get("/api/v2/clients", other).await;
    assert_eq!((r.status.as_u16(), r.body["message"].as_str().unwrap()), (401, "Bad audience"));
    // A tampered signature is refused.
    let mut forged = admin.clone();
    forged.pop();
    forged.push(if admin.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(app.get("/api/v2/clients", &forged).await.status, 401);
    app.stop().await;
}

#[tokio::test]
async fn a_token_without_the_scope_gets_403_and_changes_nothing() {
    let app = TestApp::start().await;
    let reader = app.mgmt_token_with(&["read:clients"]).await;
    assert_eq!(app.get("/api/v2/clients", &reader).await.status, 200);
    let r = app.post("/api/v2/clients", &reader, json!({"name": "nope"})).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.body,
        json!({"statusCode": 403, "error": "Forbidden", "message": "Insufficient scope, expected any of: create:clients",
               "errorCode": "insufficient_scope"})
    );
    let admin = app.mgmt_token().await;
    let list = app.get("/api/v2/clients", &admin).await;
    assert!(list.body.as_array().unwrap().iter().all(|c| c["name"] != "nope"));
    app.stop().await;
}
