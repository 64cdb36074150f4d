use serde_json::json;

use crate::util::TestApp;

#[tokio::test]
async fn rotating_the_signing_key_keeps_old_tokens_valid() {
    let app = TestApp::start().await;
    let old_token = app.mgmt_token().await;
    let before = app.get("/api/v2/keys/signing", &old_token).await;
    assert_eq!(before.body.as_array().unwrap().len(), 1);
    let old_kid = before.body[0]["kid"].as_str().unwrap().to_string();
    let r = app.post("/api/v2/keys/signing/rotate", &old_token, json!({})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let new_kid = r.body["kid"].as_str().unwrap().to_string();
    assert_ne!(new_kid, old_kid);
    // The retired key is still published, so the token it signed still works.
    let after = app.get("/api/v2/keys/signing", &old_token).await;
    assert_eq!(after.status, 200);
    let keys = after.body.as_array().unwrap();
    assert!(keys.iter().any(|k| k["kid"] == new_kid.as_str() && k["current"] == true));
    assert!(keys.iter().any(|k| k["kid"] == old_kid.as_str() && k["previous"] == true));
    let jwks = app.request(reqwest::Method::GET, "/.well-known/jwks.json", None, None).await;
    assert_eq!(jwks.body["keys"].as_array().unwrap().len(), 2);
    // New tokens are signed with the new key.
    let fresh = app.mgmt_token().await;
    let header = crate::oauth::base64_url_decode(fresh.split('.').next().unwrap());
    assert!(String::from_utf8(header).unwrap().contains(&new_kid));
    app.stop().await;
}

#[tokio::test]
async fn every_change_is_in_the_audit_log() {
    let app = TestApp::start().await;
    let t = app.mgmt_token().await;
    let c = app.post("/api/v2/clients", &t, json!({"name": "audited"})).await;
    let cid = c.body["client_id"].as_str().unwrap();
    app.delete(&format!("/api/v2/clients/{cid}"), &t).await;
    let logs = app.get("/api/v2/logs", &t).await;
    let events = logs.body.as_array().unwrap();
    assert_eq!(events[0]["description"], "client.delete", "newest first");
    assert_eq!(events[0]["details"]["target_id"], cid);
    assert_eq!(events[0]["client_id"], app.bootstrap.client_id.as_str(), "the acting client");
    assert_eq!(events[0]["ip"], "127.0.0.1");
    assert_eq!(events[1]["description"], "client.create");
    assert!(events.iter().any(|e| e["description"] == "tenant.create"));
    app.stop().await;
}
