//! Tenants are selected by `Host`; nothing crosses from one to another.

use accountd_core::audit::Context;
use serde_json::json;

use crate::util::TestApp;

#[tokio::test]
async fn an_unknown_host_gets_404() {
    let app = TestApp::start().await;
    let r = app
        .request(reqwest::Method::GET, &format!("{}/api/v2/clients", app.base_for("unknown.test")), None, None)
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        json!({"statusCode": 404, "error": "Not Found", "message": "No tenant is served at host 'unknown.test'.",
               "errorCode": "unknown_host"})
    );
    app.stop().await;
}

#[tokio::test]
async fn tenants_are_isolated_by_host() {
    let app = TestApp::start().await;
    let second = app.core().create_tenant(&Context::cli(), "Second", "tenant2.test").await.unwrap();
    let base2 = app.base_for("tenant2.test");
    let t1 = app.mgmt_token().await;
    let r = app.token_at(&base2, &second.client_id, &second.client_secret).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t2 = r.body["access_token"].as_str().unwrap().to_string();

    // The default tenant's bootstrap client does not exist on tenant2's host.
    let r = app.token_at(&base2, &app.bootstrap.client_id, &app.bootstrap.client_secret).await;
    assert_eq!(r.status, 401);

    let c = app.post("/api/v2/clients", &t1, json!({"name": "only in default"})).await;
    let cid = c.body["client_id"].as_str().unwrap();
    let u = app.post("/api/v2/users", &t1, json!({"email": "ada@example.com"})).await;
    let uid = u.body["user_id"].as_str().unwrap();
    let role = app.post("/api/v2/roles", &t1, json!({"name": "admin"})).await;
    let rid = role.body["id"].as_str().unwrap();
    // The same ids through tenant2's host: 404, and no change is possible.
    for path in [format!("/api/v2/clients/{cid}"), format!("/api/v2/users/{uid}"), format!("/api/v2/roles/{rid}")] {
        let r = app.get(&format!("{base2}{path}"), &t2).await;
        assert_eq!(r.status, 404, "{path} leaked across tenants");
        assert_eq!(app.delete(&format!("{base2}{path}"), &t2).await.status, 404);
        assert_eq!(app.get(&path, &t1).await.status, 200, "{path} was touched from another tenant");
    }
    let r = app.patch(&format!("{base2}/api/v2/clients/{cid}"), &t2, json!({"name": "hijacked"})).await;
    assert_eq!(r.status, 404);
    // The same email is a different user in tenant2.
    assert_eq!(app.post(&format!("{base2}/api/v2/users"), &t2, json!({"email": "ada@example.com"})).await.status, 201);
    // A grant in tenant2 cannot name tenant1's client.
    let r = app
        .post(
            &format!("{base2}/api/v2/client-grants"),
            &t2,
            json!({"client_id": cid, "audience": format!("{base2}/me/"), "scope": [], "subject_type": "user"}),
        )
        .await;
    assert_eq!(r.status, 404);

    // A token from one tenant is refused on the other's host, both ways.
    assert_eq!(app.get(&format!("{base2}/api/v2/clients"), &t1).await.status, 401);
    assert_eq!(app.get("/api/v2/clients", &t2).await.status, 401);
    // Each tenant lists only its own.
    let l2 = app.get(&format!("{base2}/api/v2/users"), &t2).await;
    assert_eq!(l2.body.as_array().unwrap().len(), 1);
    assert_ne!(l2.body[0]["user_id"], uid);
    // tenant2's built-in APIs have tenant2's identifiers.
    let apis = app.get(&format!("{base2}/api/v2/resource-servers"), &t2).await;
    assert!(apis.body.as_array().unwrap().iter().any(|a| a["identifier"] == format!("{base2}/me/")));
    app.stop().await;
}

#[tokio::test]
async fn production_hosts_get_https_identifiers() {
    let app = TestApp::start_with(|c| c.server.public_scheme = "auto".into()).await;
    let second = app.core().create_tenant(&Context::cli(), "Prod", "tenant2.test").await.unwrap();
    let base2 = app.base_for("tenant2.test");
    // In `auto`, a non-loopback host is assumed to be served over HTTPS (TLS ends at a proxy).
    let r = app
        .request(
            reqwest::Method::POST,
            &format!("{base2}/oauth/token"),
            None,
            Some(json!({"grant_type": "client_credentials", "client_id": second.client_id,
                        "client_secret": second.client_secret, "audience": format!("https://tenant2.test:{}/api/v2/", app.port)})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t = r.body["access_token"].as_str().unwrap();
    let apis = app.get(&format!("{base2}/api/v2/resource-servers"), t).await;
    assert!(
        apis.body
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["identifier"] == format!("https://tenant2.test:{}/me/", app.port))
    );
    // Loopback stays on plain HTTP for development.
    let me = app.get("/api/v2/resource-servers", &app.mgmt_token().await).await;
    assert!(me.body.as_array().unwrap().iter().any(|a| a["identifier"] == format!("{}/me/", app.base)));
    app.stop().await;
}
