use serde_json::json;

use crate::util::{TestApp, redact};

#[tokio::test]
async fn clients_round_trip() {
    let app = TestApp::start().await;
    let t = app.mgmt_token().await;
    let created = app
        .post(
            "/api/v2/clients",
            &t,
            json!({"name": "My SPA", "app_type": "spa", "callbacks": ["http://localhost:3000/callback"],
                   "web_origins": ["http://localhost:3000"], "allowed_origins": ["http://localhost:3000"],
                   "cross_origin_authentication": true}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    insta::assert_json_snapshot!("client_created_spa", redact(created.body.clone()));
    let id = created.body["client_id"].as_str().unwrap();
    assert!(created.body.get("client_secret").is_none(), "a public client has no secret");

    let m2m = app.post("/api/v2/clients", &t, json!({"name": "Worker", "app_type": "non_interactive"})).await;
    assert_eq!(m2m.status, 201);
    assert!(m2m.body["client_secret"].as_str().unwrap().len() >= 64, "secret shown on create");
    let got = app.get(&format!("/api/v2/clients/{}", m2m.body["client_id"].as_str().unwrap()), &t).await;
    assert!(got.body.get("client_secret").is_none(), "the secret is shown only once");

    let list = app.get("/api/v2/clients?include_totals=true&per_page=2&page=0", &t).await;
    assert_eq!(list.body["total"], 3, "bootstrap client + 2");
    assert_eq!(list.body["clients"].as_array().unwrap().len(), 2);
    assert_eq!((list.body["start"].as_u64(), list.body["limit"].as_u64()), (Some(0), Some(2)));

    let patched = app
        .patch(&format!("/api/v2/clients/{id}"), &t, json!({"name": "Renamed", "callbacks": [], "description": "d"}))
        .await;
    assert_eq!(patched.status, 200);
    assert_eq!((patched.body["name"].as_str(), patched.body["description"].as_str()), (Some("Renamed"), Some("d")));
    assert_eq!(patched.body["callbacks"], json!([]));
    assert_eq!(patched.body["web_origins"], json!(["http://localhost:3000"]), "untouched fields stay");

    assert_eq!(app.delete(&format!("/api/v2/clients/{id}"), &t).await.status, 204);
    let gone = app.get(&format!("/api/v2/clients/{id}"), &t).await;
    assert_eq!(gone.status, 404);
    assert_eq!(
        gone.body,
        json!({"statusCode": 404, "error": "Not Found", "message": "The client does not exist", "errorCode": "inexistent_client"})
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_client_bodies_get_400_and_create_nothing() {
    let app = TestApp::start().await;
    let t = app.mgmt_token().await;
    let cases = [
        (json!({"name": "x", "foo": 1}), "Payload validation error: 'Additional properties not allowed: foo'."),
        (
            json!({"name": 5}),
            "Payload validation error: 'Expected type string but found type integer' on property name.",
        ),
        (json!({"app_type": "spa"}), "Payload validation error: 'Missing required property: name'."),
        (
            json!({"name": "x", "app_type": "tv"}),
            "Payload validation error: 'must be one of spa, native, regular_web, non_interactive' on property app_type.",
        ),
        (
            json!({"name": "x", "callbacks": ["javascript:alert(1)"]}),
            "Payload validation error: ''javascript:alert(1)' must be an absolute http(s) URL' on property callbacks[0].",
        ),
        (
            json!({"name": "x", "web_origins": ["https://a.example/path"]}),
            "Payload validation error: ''https://a.example/path' must be an origin (scheme, host and port only)' on property web_origins[0].",
        ),
        (
            json!({"name": "x", "grant_types": ["password"]}),
            "Payload validation error: 'unknown grant type 'password'' on property grant_types[0].",
        ),
    ];
    for (body, message) in cases {
        let r = app.post("/api/v2/clients", &t, body.clone()).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.body["errorCode"], "invalid_body", "{body}");
        assert_eq!(r.body["message"], message, "{body}");
    }
    let r = app.post_raw("/api/v2/clients", Some(&t), "application/json", "{\"name\": ").await;
    assert_eq!((r.status.as_u16(), r.body["message"].as_str().unwrap()), (400, "Invalid request payload JSON format."));
    let r = app.post_raw("/api/v2/clients", Some(&t), "text/plain", "name=x").await;
    assert_eq!(r.status, 400);
    let list = app.get("/api/v2/clients", &t).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1, "only the bootstrap client exists");
    let r = app.get("/api/v2/clients?per_page=1000", &t).await;
    assert_eq!((r.status.as_u16(), r.body["errorCode"].as_str().unwrap()), (400, "invalid_query_string"));
    app.stop().await;
}

#[tokio::test]
async fn the_bootstrap_client_cannot_be_deleted() {
    let app = TestApp::start().await;
    let t = app.mgmt_token().await;
    let r = app.delete(&format!("/api/v2/clients/{}", app.bootstrap.client_id), &t).await;
    assert_eq!(r.status, 403);
    assert_eq!(app.get(&format!("/api/v2/clients/{}", app.bootstrap.client_id), &t).await.status, 200);
    app.stop().await;
}
