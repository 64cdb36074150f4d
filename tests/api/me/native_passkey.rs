//! Native passkey sign-up and sign-in without a browser (spec auth0 §5): `/passkey/register`,
//! `/passkey/challenge` and the webauthn grant, ending in a My Account token.

use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};

use crate::util::TestApp;
use crate::util::authenticator::SoftAuthenticator;

const GRANT: &str = "urn:okta:params:oauth:grant-type:webauthn";

#[tokio::test]
async fn a_native_app_signs_up_and_in_with_a_passkey() {
    let app = TestApp::start().await;
    let base = app.base_for("localhost");
    let mgmt = app.mgmt_token().await;
    let native = app
        .post(
            "/api/v2/clients",
            &mgmt,
            json!({"name": "Phone app", "app_type": "native", "grant_types": [GRANT, "refresh_token"]}),
        )
        .await;
    assert_eq!(native.status, 201, "{}", native.text);
    let client_id = native.body["client_id"].as_str().unwrap().to_string();
    let me = format!("{base}/me/");
    app.post("/api/v2/client-grants", &mgmt, json!({"client_id": client_id, "audience": me, "subject_type": "user",
                                                    "scope": ["read:me:authentication_methods", "create:me:authentication_methods"]}))
        .await;
    let call = |path: &str, body: Value| {
        let url = format!("{base}{path}");
        let app = &app;
        async move { app.request(Method::POST, &url, None, Some(body)).await }
    };

    // Sign up: creation options for a new account.
    let reg = call(
        "/passkey/register",
        json!({"client_id": client_id, "realm": "Username-Password-Authentication",
                                               "user_profile": {"email": "grace@example.com", "name": "Grace"}}),
    )
    .await;
    assert_eq!(reg.status, 200, "{}", reg.text);
    let options = &reg.body["authn_params_public_key"];
    assert_eq!(options["rp"]["id"], "localhost");
    assert_eq!(options["rp"]["name"], "localhost");
    assert_eq!(options["authenticatorSelection"]["residentKey"], "required");
    let mut phone = SoftAuthenticator::new();
    let created = phone.create(&base, options).await;
    // auth-js sends the response as a JSON string in a form body.
    let form = serde_urlencoded::to_string([
        ("grant_type", GRANT),
        ("client_id", &client_id),
        ("auth_session", reg.body["auth_session"].as_str().unwrap()),
        ("authn_response", &created.to_string()),
        ("audience", &me),
        ("scope", "openid offline_access read:me:authentication_methods"),
    ])
    .unwrap();
    let t = app.post_raw(&format!("{base}/oauth/token"), None, "application/x-www-form-urlencoded", &form).await;
    assert_eq!(t.status, 200, "{}", t.text);
    assert!(t.body["refresh_token"].is_string() && t.body["id_token"].is_string());
    let token = t.body["access_token"].as_str().unwrap().to_string();
    let list = app.get(&format!("{base}/me/v1/authentication-methods"), &token).await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.body["authentication_methods"][0]["type"], "passkey");
    // The same email again is refused.
    let again =
        call("/passkey/register", json!({"client_id": client_id, "user_profile": {"email": "grace@example.com"}}))
            .await;
    assert_eq!(again.status, 400, "{}", again.text);
    assert_eq!(again.body["error"], "invalid_request");

    // Sign in: a challenge, the assertion as a JSON object in a JSON body.
    let ch = call("/passkey/challenge", json!({"client_id": client_id})).await;
    assert_eq!(ch.status, 200, "{}", ch.text);
    assert_eq!(ch.body["authn_params_public_key"]["rpId"], "localhost");
    let assertion = phone.get(&base, &ch.body["authn_params_public_key"]).await;
    let body = json!({"grant_type": GRANT, "client_id": client_id, "auth_session": ch.body["auth_session"],
                      "authn_response": assertion, "audience": me, "scope": "read:me:authentication_methods"});
    let t = call("/oauth/token", body.clone()).await;
    assert_eq!(t.status, 200, "{}", t.text);
    let at = t.body["access_token"].as_str().unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(at.split('.').nth(1).unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(claims["amr"], json!(["hwk", "user", "mfa"]));
    assert_eq!(claims["scope"], "read:me:authentication_methods");
    // The auth_session is single-use.
    let replay = call("/oauth/token", body).await;
    assert_eq!(replay.status, 400, "{}", replay.text);
    assert_eq!(replay.body["error"], "invalid_grant");

    // Apps without the grant are refused.
    let spa = app
        .post(
            "/api/v2/clients",
            &mgmt,
            json!({"name": "SPA", "app_type": "spa", "callbacks": ["http://localhost:3000/cb"]}),
        )
        .await;
    let r = call("/passkey/challenge", json!({"client_id": spa.body["client_id"]})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    app.stop().await;
}
