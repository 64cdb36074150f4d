//! `/api/account-center` with a management token, `/api/.well-known/account-center`, and the
//! switch in front of the whole Account and Verification APIs.

use reqwest::Method;
use serde_json::json;

use super::{account, assert_error};
use crate::me::signed_in;

#[tokio::test]
async fn the_guides_example_turns_the_center_on_and_fields_replace_as_a_whole() {
    let me = signed_in("127.0.0.1").await;
    // Off by default, every field Off, as Logto ships.
    let r = me.app.get("/api/account-center", &me.mgmt).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["enabled"], false);
    assert_eq!(r.body["fields"], json!({}));
    assert_eq!(r.body["id"], "default");
    // The seed document's request, as written.
    let r = me
        .app
        .request(
            Method::PATCH,
            "/api/account-center",
            Some(&me.mgmt),
            Some(json!({"enabled":true,"fields":{"username":"Edit"}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["enabled"], true);
    assert_eq!(r.body["fields"], json!({"username": "Edit"}));
    assert_eq!(r.body["webauthnRelatedOrigins"], json!([]));
    // A new `fields` replaces every field; omitted keys stay.
    let r = me
        .app
        .patch(
            "/api/account-center",
            &me.mgmt,
            json!({"fields": {"mfa": "Off", "name": "ReadOnly", "unknownField": "Edit"},
                   "webauthnRelatedOrigins": ["https://a.example", "https://a.example"], "deleteAccountUrl": ""}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["enabled"], true);
    assert_eq!(r.body["fields"], json!({"name": "ReadOnly", "mfa": "Off"}));
    assert_eq!(r.body["webauthnRelatedOrigins"], json!(["https://a.example"]));
    assert_eq!(r.body["deleteAccountUrl"], json!(null));
    let public = me.app.request(Method::GET, "/api/.well-known/account-center", None, None).await;
    assert_eq!(public.status, 200);
    assert_eq!(public.body["fields"], r.body["fields"]);
    me.app.stop().await;
}

#[tokio::test]
async fn bad_settings_and_callers_without_the_right_token_change_nothing() {
    let me = signed_in("127.0.0.1").await;
    let before = me.app.get("/api/account-center", &me.mgmt).await.body;
    for body in [
        json!({"fields": {"name": "Writable"}}),
        json!({"enabled": "yes"}),
        json!({"deleteAccountUrl": "ftp://x.example"}),
        json!({"profileFields": [{"name": "a"}, {"name": "a"}]}),
    ] {
        let r = me.app.patch("/api/account-center", &me.mgmt, body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert_eq!(r.body["code"], "guard.invalid_input", "{body}");
    }
    let anonymous = me.app.request(Method::PATCH, "/api/account-center", None, Some(json!({"enabled": true}))).await;
    assert_error(&anonymous, 401, "auth.authorization_header_missing");
    // A user's token is not a management token.
    let r = me.app.request(Method::PATCH, "/api/account-center", Some(&me.token), Some(json!({"enabled": true}))).await;
    assert_error(&r, 401, "auth.unauthorized");
    let reader = me.app.mgmt_token_with(&["read:tenant_settings"]).await;
    assert_eq!(me.app.get("/api/account-center", &reader).await.status, 200);
    let r = me.app.patch("/api/account-center", &reader, json!({"enabled": true})).await;
    assert_error(&r, 403, "auth.forbidden");
    assert_eq!(me.app.get("/api/account-center", &me.mgmt).await.body, before);
    me.app.stop().await;
}

#[tokio::test]
async fn a_disabled_center_closes_the_account_and_verification_apis_after_authentication() {
    let a = account().await;
    a.set_center(json!({"enabled": false})).await;
    assert_error(&a.get("/api/my-account").await, 400, "account_center.not_enabled");
    let r = a.call(Method::POST, "/api/verifications/password", Some(json!({"password": "x"})), None).await;
    assert_error(&r, 400, "account_center.not_enabled");
    // Authentication comes first.
    let r = a.call_with("nope", Method::GET, "/api/my-account", None, None).await;
    assert_error(&r, 401, "auth.unauthorized");
    a.me.app.stop().await;
}

#[tokio::test]
async fn tokens_are_checked_as_logto_checks_them() {
    let a = account().await;
    let anonymous = a.me.app.request(Method::GET, "/api/my-account", None, None).await;
    assert_error(&anonymous, 401, "auth.authorization_header_missing");
    let basic = a.send("", Method::GET, "/api/my-account", None, &[("authorization", "Basic eDp5")]).await;
    assert_error(&basic, 401, "auth.authorization_token_type_not_supported");
    // The /me/ audience's JWT is for Auth0's API, not this one.
    assert_error(&a.call_with(&a.me.token, Method::GET, "/api/my-account", None, None).await, 401, "auth.unauthorized");
    let no_openid = a.token_for("profile").await;
    assert_error(&a.call_with(&no_openid, Method::GET, "/api/my-account", None, None).await, 403, "auth.forbidden");
    // CORS: any origin, echoed.
    let r = a.send(&a.token, Method::GET, "/api/my-account", None, &[("origin", "https://any.example")]).await;
    assert_eq!(r.header("access-control-allow-origin"), Some("https://any.example"));
    assert_eq!(r.header("access-control-expose-headers"), Some("*"));
    a.me.app.stop().await;
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let me = signed_in("127.0.0.1").await;
    let r = me.app.request(Method::GET, "/api/.well-known/user.openapi.json", None, None).await;
    assert_eq!(r.status, 200);
    let paths = r.body["paths"].as_object().unwrap();
    for p in [
        "/api/my-account",
        "/api/my-account/profile",
        "/api/my-account/password",
        "/api/my-account/primary-email",
        "/api/my-account/primary-phone",
        "/api/my-account/identities",
        "/api/my-account/identities/{target}",
        "/api/verifications/password",
        "/api/verifications/verification-code",
        "/api/verifications/verification-code/verify",
    ] {
        assert!(paths.contains_key(p), "{p} missing");
    }
    assert_eq!(r.body["paths"]["/api/my-account"]["patch"]["operationId"], "UpdateProfile");
    assert!(r.body["components"]["schemas"]["UpdateAccountBody"].is_object());
    me.app.stop().await;
}

#[tokio::test]
async fn a_token_for_a_logto_style_management_resource_changes_the_settings_as_logto_api_gets_it() {
    let me = signed_in("127.0.0.1").await;
    let (app, admin) = (&me.app, &me.mgmt);
    let resource = format!("{}/api", me.base);
    let api = app
        .post(
            "/api/v2/resource-servers",
            admin,
            json!({"name": "Logto Management API", "identifier": resource,
                                                         "scopes": [{"value": "all", "description": "everything"}]}),
        )
        .await;
    assert_eq!(api.status, 201, "{}", api.text);
    let m2m = app.post("/api/v2/clients", admin, json!({"name": "ops", "app_type": "non_interactive"})).await;
    let (id, secret) = (m2m.body["client_id"].as_str().unwrap(), m2m.body["client_secret"].as_str().unwrap());
    let g = app
        .post("/api/v2/client-grants", admin, json!({"client_id": id, "audience": resource, "scope": ["all"]}))
        .await;
    assert_eq!(g.status, 201, "{}", g.text);
    // As @logto/api asks: a form to {baseUrl}/oidc/token with `resource` and `scope=all`.
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", secret),
        ("resource", resource.as_str()),
        ("scope", "all"),
    ];
    let form = serde_urlencoded::to_string(form).unwrap();
    let t = app.post_raw(&format!("{}/oidc/token", me.base), None, "application/x-www-form-urlencoded", &form).await;
    assert_eq!(t.status, 200, "{}", t.text);
    let token = t.body["access_token"].as_str().unwrap().to_string();
    let r = app
        .request(
            Method::PATCH,
            "/api/account-center",
            Some(&token),
            Some(json!({"enabled":true,"fields":{"username":"Edit"}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["fields"], json!({"username": "Edit"}));
    me.app.stop().await;
}

/// Made-up tokens cost a lookup each: a parallel burst of them from one IP gets Logto's 401 up to
/// the IP's budget (20 at once, then 10 a second), then 429, while the user's own reads go on.
#[tokio::test]
async fn a_burst_of_made_up_tokens_is_limited_per_ip() {
    let a = account().await;
    let started = std::time::Instant::now();
    let tasks: Vec<_> = (0..120)
        .map(|i| {
            let base = a.me.base.clone();
            // Shaped like a handle (43 characters), so each one is looked up.
            let token = format!("{:0>43}", i);
            tokio::spawn(async move { super::send_to(&base, &token, Method::GET, "/api/my-account", None, &[]).await })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64().ceil() as usize;
    let unauthorized = answers.iter().filter(|r| r.status == 401).count();
    let limited: Vec<_> = answers.iter().filter(|r| r.status == 429).collect();
    assert_eq!(unauthorized + limited.len(), 120);
    assert!((20..=20 + 10 * elapsed + 1).contains(&unauthorized), "{unauthorized} answered 401 in {elapsed} s");
    assert_error(limited[0], 429, "request.rate_limited");
    assert!(limited[0].header("retry-after").is_some());
    // The user's own token is not the IP's budget.
    assert_eq!(a.get("/api/my-account").await.status, 200);
    a.me.app.stop().await;
}
