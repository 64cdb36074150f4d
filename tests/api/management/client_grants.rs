use serde_json::json;

use crate::util::{TestApp, redact};

#[tokio::test]
async fn a_first_party_app_is_granted_my_account_scopes() {
    let app = TestApp::start().await;
    let t = app.mgmt_token().await;
    let spa = app.post("/api/v2/clients", &t, json!({"name": "SPA", "app_type": "spa"})).await;
    let cid = spa.body["client_id"].as_str().unwrap();
    let me = format!("{}/me/", app.base);
    let g = app
        .post(
            "/api/v2/client-grants",
            &t,
            json!({"client_id": cid, "audience": me, "scope": ["read:me:authentication_methods", "read:me:factors"],
                   "subject_type": "user"}),
        )
        .await;
    assert_eq!(g.status, 201, "{}", g.text);
    insta::assert_json_snapshot!("client_grant_created", redact(g.body.clone()));
    let id = g.body["id"].as_str().unwrap();

    let list = app.get(&format!("/api/v2/client-grants?client_id={cid}"), &t).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    let by_audience =
        app.get(&format!("/api/v2/client-grants?audience={}", me.replace(':', "%3A").replace('/', "%2F")), &t).await;
    assert_eq!(by_audience.body.as_array().unwrap().len(), 1);

    let r = app.patch(&format!("/api/v2/client-grants/{id}"), &t, json!({"scope": ["read:me:factors"]})).await;
    assert_eq!(r.body["scope"], json!(["read:me:factors"]));
    let r = app.patch(&format!("/api/v2/client-grants/{id}"), &t, json!({"scope": ["read:me:nope"]})).await;
    assert_eq!(r.status, 400);
    assert_eq!(app.get(&format!("/api/v2/client-grants/{id}"), &t).await.body["scope"], json!(["read:me:factors"]));
    assert_eq!(app.delete(&format!("/api/v2/client-grants/{id}"), &t).await.status, 204);
    assert_eq!(app.get(&format!("/api/v2/client-grants/{id}"), &t).await.status, 404);
    app.stop().await;
}

#[tokio::test]
async fn bad_grants_are_refused_and_create_nothing() {
    let app = TestApp::start().await;
    let t = app.mgmt_token().await;
    let me = format!("{}/me/", app.base);
    let spa = app.post("/api/v2/clients", &t, json!({"name": "SPA", "app_type": "spa"})).await;
    let cid = spa.body["client_id"].as_str().unwrap();
    let third = app.post("/api/v2/clients", &t, json!({"name": "Partner", "is_first_party": false})).await;
    let third_id = third.body["client_id"].as_str().unwrap();
    let cases = [
        (json!({"client_id": "nope", "audience": me, "scope": []}), 404, "inexistent_client"),
        (json!({"client_id": cid, "audience": "urn:nothing", "scope": []}), 404, "inexistent_resource_server"),
        (
            json!({"client_id": cid, "audience": me, "scope": ["read:me:nope"], "subject_type": "user"}),
            400,
            "invalid_body",
        ),
        (json!({"client_id": cid, "audience": me, "scope": [], "subject_type": "robot"}), 400, "invalid_body"),
        (json!({"client_id": cid, "audience": me, "scope": "read:me:factors"}), 400, "invalid_body"),
        (
            json!({"client_id": third_id, "audience": me, "scope": ["read:me:factors"], "subject_type": "user"}),
            403,
            "operation_not_supported",
        ),
    ];
    for (body, status, code) in cases {
        let r = app.post("/api/v2/client-grants", &t, body.clone()).await;
        assert_eq!(
            (r.status.as_u16(), r.body["errorCode"].as_str().unwrap_or("")),
            (status, code),
            "{body}: {}",
            r.text
        );
    }
    let ok = json!({"client_id": cid, "audience": me, "scope": ["read:me:factors"], "subject_type": "user"});
    assert_eq!(app.post("/api/v2/client-grants", &t, ok.clone()).await.status, 201);
    let dup = app.post("/api/v2/client-grants", &t, ok).await;
    assert_eq!((dup.status.as_u16(), dup.body["errorCode"].as_str().unwrap()), (409, "client_grant_conflict"));
    // Only the bootstrap grant and the one good grant exist.
    assert_eq!(app.get("/api/v2/client-grants?include_totals=true", &t).await.body["total"], 2);
    // A third-party app cannot become one after being granted a built-in API.
    let r = app.patch(&format!("/api/v2/clients/{cid}"), &t, json!({"is_first_party": false})).await;
    assert_eq!(r.status, 403);
    app.stop().await;
}
