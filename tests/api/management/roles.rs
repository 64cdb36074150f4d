use serde_json::json;

use crate::util::{TestApp, redact};

#[tokio::test]
async fn roles_permissions_and_user_roles_round_trip() {
    let app = TestApp::start().await;
    let t = app.mgmt_token().await;
    let me = format!("{}/me/", app.base);
    let role = app.post("/api/v2/roles", &t, json!({"name": "support", "description": "Support staff"})).await;
    assert_eq!(role.status, 200, "{}", role.text);
    let rid = role.body["id"].as_str().unwrap();
    assert!(rid.starts_with("rol_"));
    let dup = app.post("/api/v2/roles", &t, json!({"name": "support"})).await;
    assert_eq!(dup.status, 409);

    let perms = json!({"permissions": [{"resource_server_identifier": me, "permission_name": "read:me:factors"}]});
    assert_eq!(app.post(&format!("/api/v2/roles/{rid}/permissions"), &t, perms.clone()).await.status, 201);
    let list = app.get(&format!("/api/v2/roles/{rid}/permissions"), &t).await;
    insta::assert_json_snapshot!("role_permissions", redact(list.body.clone()));

    let user = app.post("/api/v2/users", &t, json!({"email": "ada@example.com"})).await;
    let uid = user.body["user_id"].as_str().unwrap();
    assert_eq!(app.post(&format!("/api/v2/users/{uid}/roles"), &t, json!({"roles": [rid]})).await.status, 204);
    let roles = app.get(&format!("/api/v2/users/{uid}/roles"), &t).await;
    assert_eq!(roles.body, json!([{"id": rid, "name": "support", "description": "Support staff"}]));
    let users = app.get(&format!("/api/v2/roles/{rid}/users"), &t).await;
    assert_eq!(users.body, json!([{"user_id": uid}]));
    // The role's permissions are the user's RBAC permissions on the API.
    let tenant = app.core().find_tenant("default").await.unwrap();
    let api = app.core().resolve_audience(&tenant.id, &me).await.unwrap().unwrap();
    let held = app
        .core()
        .store()
        .list_user_permissions(&tenant.id, &accountd_core::user::UserId(uid.into()), &api.id)
        .await
        .unwrap();
    assert_eq!(held, ["read:me:factors"]);

    assert_eq!(app.delete_with(&format!("/api/v2/roles/{rid}/permissions"), &t, perms).await.status, 204);
    assert_eq!(app.get(&format!("/api/v2/roles/{rid}/permissions"), &t).await.body, json!([]));
    assert_eq!(app.delete_with(&format!("/api/v2/users/{uid}/roles"), &t, json!({"roles": [rid]})).await.status, 204);
    assert_eq!(app.get(&format!("/api/v2/users/{uid}/roles"), &t).await.body, json!([]));
    let renamed = app.patch(&format!("/api/v2/roles/{rid}"), &t, json!({"name": "helpdesk"})).await;
    assert_eq!(renamed.body["name"], "helpdesk");
    assert_eq!(app.delete(&format!("/api/v2/roles/{rid}"), &t).await.status, 204);
    assert_eq!(app.get(&format!("/api/v2/roles/{rid}"), &t).await.status, 404);
    app.stop().await;
}

#[tokio::test]
async fn bad_permissions_and_assignments_change_nothing() {
    let app = TestApp::start().await;
    let t = app.mgmt_token().await;
    let me = format!("{}/me/", app.base);
    let rid = app.post("/api/v2/roles", &t, json!({"name": "r"})).await.body["id"].as_str().unwrap().to_string();
    // One bad permission in the list: none is added.
    let r = app
        .post(
            &format!("/api/v2/roles/{rid}/permissions"),
            &t,
            json!({"permissions": [
                {"resource_server_identifier": me, "permission_name": "read:me:factors"},
                {"resource_server_identifier": me, "permission_name": "launch:rockets"}]}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(app.get(&format!("/api/v2/roles/{rid}/permissions"), &t).await.body, json!([]));
    let r = app
        .post(
            &format!("/api/v2/roles/{rid}/permissions"),
            &t,
            json!({"permissions": [{"resource_server_identifier": "urn:none", "permission_name": "x"}]}),
        )
        .await;
    assert_eq!(r.status, 404);
    let uid = app.post("/api/v2/users", &t, json!({"email": "a@example.com"})).await.body["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app.post(&format!("/api/v2/users/{uid}/roles"), &t, json!({"roles": [rid, "rol_missing"]})).await;
    assert_eq!((r.status.as_u16(), r.body["errorCode"].as_str().unwrap()), (404, "inexistent_role"));
    assert_eq!(app.get(&format!("/api/v2/users/{uid}/roles"), &t).await.body, json!([]));
    let r = app.post(&format!("/api/v2/roles/{rid}/users"), &t, json!({"users": [uid, "auth0|missing"]})).await;
    assert_eq!(r.status, 404);
    assert_eq!(app.get(&format!("/api/v2/roles/{rid}/users"), &t).await.body, json!([]));
    let r = app.post("/api/v2/roles", &t, json!({"description": "no name"})).await;
    assert_eq!(r.status, 400);
    app.stop().await;
}
