use serde_json::json;

use crate::util::{TestApp, redact};

#[tokio::test]
async fn built_in_apis_follow_the_domain_and_guard_their_policies() {
    let app = TestApp::start().await;
    let t = app.mgmt_token().await;
    let list = app.get("/api/v2/resource-servers", &t).await;
    let me = list.body.as_array().unwrap().iter().find(|a| a["name"] == "My Account API").unwrap().clone();
    assert_eq!(me["identifier"], format!("{}/me/", app.base));
    insta::assert_json_snapshot!("my_account_api", redact(me.clone()));

    // Seen through `localhost` instead of `127.0.0.1`, the identifier follows the host.
    let via_localhost = app
        .get(&format!("http://localhost:{}/api/v2/resource-servers", app.port), &{
            let r = app
                .token_at(
                    &format!("http://localhost:{}", app.port),
                    &app.bootstrap.client_id,
                    &app.bootstrap.client_secret,
                )
                .await;
            r.body["access_token"].as_str().unwrap().to_string()
        })
        .await;
    assert!(
        via_localhost
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["identifier"] == format!("http://localhost:{}/me/", app.port))
    );

    // Get by (URL-encoded) identifier.
    let enc = format!("{}/me/", app.base).replace(':', "%3A").replace('/', "%2F");
    assert_eq!(app.get(&format!("/api/v2/resource-servers/{enc}"), &t).await.body["id"], me["id"]);

    let id = me["id"].as_str().unwrap();
    let r = app
        .patch(
            &format!("/api/v2/resource-servers/{id}"),
            &t,
            json!({"subject_type_authorization": {"client": {"policy": "require_client_grant"}}}),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.body["message"],
        "The client-flow policy of the My Account API is fixed to deny_all and cannot be changed."
    );
    assert_eq!(
        app.get(&format!("/api/v2/resource-servers/{id}"), &t).await.body["subject_type_authorization"]["client"]["policy"],
        "deny_all"
    );
    // Its user-flow policy may change.
    let r = app
        .patch(
            &format!("/api/v2/resource-servers/{id}"),
            &t,
            json!({"subject_type_authorization": {"user": {"policy": "allow_all"}}}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["subject_type_authorization"]["user"]["policy"], "allow_all");
    assert_eq!(app.delete(&format!("/api/v2/resource-servers/{id}"), &t).await.status, 403);
    app.stop().await;
}

#[tokio::test]
async fn resource_servers_round_trip() {
    let app = TestApp::start().await;
    let t = app.mgmt_token().await;
    let created = app
        .post(
            "/api/v2/resource-servers",
            &t,
            json!({"identifier": "https://orders.example", "name": "Orders", "enforce_policies": true,
                   "scopes": [{"value": "read:orders", "description": "Read"}, {"value": "write:orders"}],
                   "token_lifetime": 3600, "subject_type_authorization": {"user": {"policy": "require_client_grant"}}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    insta::assert_json_snapshot!("resource_server_created", redact(created.body.clone()));
    let id = created.body["id"].as_str().unwrap();

    let dup = app.post("/api/v2/resource-servers", &t, json!({"identifier": "https://orders.example"})).await;
    assert_eq!((dup.status.as_u16(), dup.body["errorCode"].as_str().unwrap()), (409, "resource_server_conflict"));
    let builtin = app.post("/api/v2/resource-servers", &t, json!({"identifier": format!("{}/me/", app.base)})).await;
    assert_eq!(builtin.status, 409, "cannot shadow the My Account API");

    let r =
        app.patch(&format!("/api/v2/resource-servers/{id}"), &t, json!({"scopes": [{"value": "read:orders"}]})).await;
    assert_eq!(r.body["scopes"], json!([{"value": "read:orders", "description": ""}]));
    let r = app.patch(&format!("/api/v2/resource-servers/{id}"), &t, json!({"identifier": "https://x"})).await;
    assert_eq!(r.status, 400);
    let r = app.patch(&format!("/api/v2/resource-servers/{id}"), &t, json!({"token_lifetime": 5})).await;
    assert_eq!(r.status, 400);
    let r = app
        .patch(
            &format!("/api/v2/resource-servers/{id}"),
            &t,
            json!({"subject_type_authorization": {"client": {"policy": "allow_all"}}}),
        )
        .await;
    assert_eq!(r.status, 400, "allow_all is for user flows only");
    assert_eq!(app.get(&format!("/api/v2/resource-servers/{id}"), &t).await.body["token_lifetime"], 3600, "unchanged");

    assert_eq!(app.delete(&format!("/api/v2/resource-servers/{id}"), &t).await.status, 204);
    let r = app.get(&format!("/api/v2/resource-servers/{id}"), &t).await;
    assert_eq!((r.status.as_u16(), r.body["errorCode"].as_str().unwrap()), (404, "inexistent_resource_server"));
    app.stop().await;
}
