//! `/oauth/token` with `client_credentials`, and `/.well-known/jwks.json`.

use reqwest::Method;
use serde_json::json;

use crate::util::TestApp;

#[tokio::test]
async fn client_credentials_issues_a_management_token_for_this_host() {
    let app = TestApp::start().await;
    let r = app.token_at(&app.base, &app.bootstrap.client_id, &app.bootstrap.client_secret).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 86400);
    assert!(r.body["scope"].as_str().unwrap().split(' ').any(|s| s == "create:clients"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    // The same over a form body, with HTTP Basic client authentication.
    let form = format!(
        "grant_type=client_credentials&audience={}%2Fapi%2Fv2%2F&scope=read%3Ausers",
        app.base.replace(':', "%3A").replace('/', "%2F")
    );
    let resp = reqwest::Client::new()
        .post(format!("{}/oauth/token", app.base))
        .basic_auth(&app.bootstrap.client_id, Some(&app.bootstrap.client_secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["scope"], "read:users", "requested scopes narrow the grant");
    app.stop().await;
}

#[tokio::test]
async fn wrong_secret_and_unknown_client_get_the_same_answer() {
    let app = TestApp::start().await;
    let wrong = app.token_at(&app.base, &app.bootstrap.client_id, "not-the-secret").await;
    let unknown = app.token_at(&app.base, "no-such-client", "not-the-secret").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.body, json!({"error": "invalid_client", "error_description": "Client authentication failed."}));
    assert_eq!(unknown.status, wrong.status);
    assert_eq!(unknown.body, wrong.body);
    app.stop().await;
}

#[tokio::test]
async fn client_credentials_is_always_refused_for_the_my_account_api() {
    let app = TestApp::start().await;
    let r = app
        .request(
            Method::POST,
            "/oauth/token",
            None,
            Some(json!({
                "grant_type": "client_credentials",
                "client_id": app.bootstrap.client_id,
                "client_secret": app.bootstrap.client_secret,
                "audience": format!("{}/me/", app.base),
            })),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.body["error"], "access_denied");
    // Nor can a client-subject grant for it be created (its client policy is fixed to deny_all).
    let admin = app.mgmt_token().await;
    let g = app
        .post(
            "/api/v2/client-grants",
            &admin,
            json!({"client_id": app.bootstrap.client_id, "audience": format!("{}/me/", app.base),
                   "scope": ["read:me:factors"], "subject_type": "client"}),
        )
        .await;
    assert_eq!(g.status, 403, "{}", g.text);
    app.stop().await;
}

#[tokio::test]
async fn token_requests_that_do_not_fit_are_refused() {
    let app = TestApp::start().await;
    let (id, secret) = (&app.bootstrap.client_id, &app.bootstrap.client_secret);
    let cases = [
        (json!({"client_id": id, "client_secret": secret}), 400, "invalid_request"),
        (json!({"grant_type": "password", "client_id": id, "client_secret": secret}), 400, "unsupported_grant_type"),
        (json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret}), 403, "access_denied"),
        (
            json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret,
                   "audience": "https://elsewhere.example/api/v2/"}),
            403,
            "access_denied",
        ),
        (
            json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret,
                   "audience": format!("{}/api/v2/", app.base), "scope": "read:nothing"}),
            403,
            "access_denied",
        ),
    ];
    for (body, status, error) in cases {
        let r = app.request(Method::POST, "/oauth/token", None, Some(body.clone())).await;
        assert_eq!((r.status.as_u16(), r.body["error"].as_str().unwrap()), (status, error), "{body}");
    }
    let r = app.post_raw("/oauth/token", None, "text/plain", "grant_type=client_credentials").await;
    assert_eq!(r.status, 400);
    app.stop().await;
}

#[tokio::test]
async fn an_api_signed_with_es256_gets_es256_tokens_published_in_the_jwks() {
    let app = TestApp::start().await;
    let admin = app.mgmt_token().await;
    let api = app
        .post(
            "/api/v2/resource-servers",
            &admin,
            json!({"identifier": "urn:orders", "signing_alg": "ES256", "scopes": [{"value": "read:orders"}]}),
        )
        .await;
    assert_eq!(api.status, 201, "{}", api.text);
    let m2m = app.post("/api/v2/clients", &admin, json!({"name": "svc", "app_type": "non_interactive"})).await;
    let cid = m2m.body["client_id"].as_str().unwrap();
    app.post(
        "/api/v2/client-grants",
        &admin,
        json!({"client_id": cid, "audience": "urn:orders", "scope": ["read:orders"]}),
    )
    .await;
    let t = app
        .request(
            Method::POST,
            "/oauth/token",
            None,
            Some(json!({"grant_type": "client_credentials", "client_id": cid,
                        "client_secret": m2m.body["client_secret"], "audience": "urn:orders"})),
        )
        .await;
    assert_eq!(t.status, 200, "{}", t.text);
    let token = t.body["access_token"].as_str().unwrap();
    let header: serde_json::Value =
        serde_json::from_slice(&base64_url_decode(token.split('.').next().unwrap())).unwrap();
    assert_eq!(header["alg"], "ES256");
    let jwks = app.request(Method::GET, "/.well-known/jwks.json", None, None).await;
    let kids: Vec<_> = jwks.body["keys"].as_array().unwrap().iter().map(|k| k["kid"].clone()).collect();
    assert!(kids.contains(&header["kid"]), "the signing key is published");
    assert!(jwks.body["keys"].as_array().unwrap().iter().all(|k| k.get("d").is_none()), "private key published");
    app.stop().await;
}

pub fn base64_url_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).unwrap()
}
