//! Signing in with the methods /me/v1 enrolls: a second factor on the hosted page (TOTP, recovery
//! code, security key), passkeys without a password, and step-up through `acr_values`.

use base64::Engine;
use serde_json::{Value, json};

use super::{CALLBACK, EMAIL, Me, PASSWORD, signed_in};
use crate::util::authenticator::SoftAuthenticator;
use crate::util::browser::{Browser, Page};

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn claims(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

impl Me {
    pub(super) fn authorize_url(&self, extra: &[(&str, &str)]) -> String {
        let audience = format!("{}/me/", self.base);
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", CALLBACK),
            ("scope", "openid read:me:authentication_methods create:me:authentication_methods"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("audience", audience.as_str()),
        ];
        params.extend_from_slice(extra);
        format!("{}/authorize?{}", self.base, serde_urlencoded::to_string(&params).unwrap())
    }

    /// Opens the sign-in form and posts the password; returns the page that follows.
    pub(super) async fn password_step(&self, browser: &mut Browser, extra: &[(&str, &str)]) -> Page {
        let page = browser.get(&self.authorize_url(extra)).await;
        assert_eq!(page.status, 200, "{}", page.html);
        let flow = page.hidden("flow").unwrap();
        browser
            .post_form(
                &format!("{}/u/login", self.base),
                &[("flow", &flow), ("identifier", EMAIL), ("password", PASSWORD)],
            )
            .await
    }

    async fn tokens_for(&self, done: &Page) -> Value {
        let code = done.param("code").unwrap_or_else(|| panic!("no code: {:?} {}", done.location, done.html));
        self.exchange(&code).await
    }

    pub(super) async fn enroll_totp(&self) -> String {
        let (r, location) = self.enroll(json!({"type": "totp"})).await;
        let secret = r.body["manual_input_code"].as_str().unwrap().to_string();
        let code = accountd_core::authn::totp::current_code(&secret).unwrap();
        let ok = self
            .post(&format!("{location}/verify"), json!({"auth_session": r.body["auth_session"], "otp_code": code}))
            .await;
        assert_eq!(ok.status, 201, "{}", ok.text);
        secret
    }
}

#[tokio::test]
async fn an_enrolled_totp_is_asked_for_and_recorded_in_amr() {
    let me = signed_in("127.0.0.1").await;
    let secret = me.enroll_totp().await;
    let mut browser = Browser::new(me.app.port);
    let page = me.password_step(&mut browser, &[]).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("Enter the code"), "{}", page.html);
    let flow = page.hidden("flow").unwrap();
    let mfa = format!("{}/u/mfa", me.base);

    let wrong = browser.post_form(&mfa, &[("flow", &flow), ("code", "12345x")]).await;
    assert_eq!(wrong.status, 401, "{}", wrong.html);
    assert!(wrong.location.is_none());

    // The same page from another browser is refused (bound to this one).
    let mut other = Browser::new(me.app.port);
    let code = accountd_core::authn::totp::current_code(&secret).unwrap();
    assert_eq!(other.post_form(&mfa, &[("flow", &flow), ("code", &code)]).await.status, 403);

    // The code that enrolled the app was already used in this time step; wait for the next one.
    let mut accepted = code.clone();
    let mut done = browser.post_form(&mfa, &[("flow", &flow), ("code", &code)]).await;
    if done.status == 401 {
        tokio::time::sleep(std::time::Duration::from_secs(31)).await;
        accepted = accountd_core::authn::totp::current_code(&secret).unwrap();
        done = browser.post_form(&mfa, &[("flow", &flow), ("code", &accepted)]).await;
    }
    assert_eq!(done.status, 302, "{}", done.html);
    let tokens = me.tokens_for(&done).await;
    let at = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(at["amr"], json!(["pwd", "otp", "mfa"]), "{at}");
    assert_eq!(claims(tokens["id_token"].as_str().unwrap())["amr"], json!(["pwd", "otp", "mfa"]));

    // A code is accepted once: the same code in another sign-in is refused (the very code that
    // was accepted, which stays inside the ±1 step window even if a step boundary passed since).
    let mut again = Browser::new(me.app.port);
    let page = me.password_step(&mut again, &[]).await;
    let flow = page.hidden("flow").unwrap();
    let r = again.post_form(&mfa, &[("flow", &flow), ("code", &accepted)]).await;
    assert_eq!(r.status, 401, "a TOTP code is not accepted twice");
    me.app.stop().await;
}

#[tokio::test]
async fn a_recovery_code_works_once() {
    let me = signed_in("127.0.0.1").await;
    let (r, location) = me.enroll(json!({"type": "recovery-code"})).await;
    let code = r.body["recovery_code"].as_str().unwrap().to_string();
    assert_eq!(
        me.post(&format!("{location}/verify"), json!({"auth_session": r.body["auth_session"]})).await.status,
        201
    );
    for attempt in 0..2 {
        let mut browser = Browser::new(me.app.port);
        let page = me.password_step(&mut browser, &[]).await;
        if attempt == 1 {
            // The code was the only second factor; once used, there is none left to ask for.
            assert_eq!(page.status, 302, "{}", page.html);
            break;
        }
        assert!(page.html.contains("recovery code"), "{}", page.html);
        let flow = page.hidden("flow").unwrap();
        let done =
            browser.post_form(&format!("{}/u/mfa", me.base), &[("flow", &flow), ("code", &code.to_lowercase())]).await;
        assert_eq!(done.status, 302, "{}", done.html);
        let at = claims(me.tokens_for(&done).await["access_token"].as_str().unwrap());
        assert_eq!(at["amr"], json!(["pwd", "kba", "mfa"]));
    }
    assert!(!me.method_ids().await.iter().any(|i| i.starts_with("recovery-code|")), "used up");
    me.app.stop().await;
}

#[tokio::test]
async fn a_passkey_signs_in_without_a_password_and_a_security_key_is_a_second_factor() {
    let me = signed_in("localhost").await;
    let mut authenticator = SoftAuthenticator::new();
    let (r, location) = me.enroll(json!({"type": "passkey"})).await;
    let cred = authenticator.create(&me.base, &r.body["authn_params_public_key"]).await;
    let ok = me
        .post(&format!("{location}/verify"), json!({"auth_session": r.body["auth_session"], "authn_response": cred}))
        .await;
    assert_eq!(ok.status, 201, "{}", ok.text);

    // The hosted page: ask for options (as its script does), sign with the passkey, post the assertion.
    let mut browser = Browser::new(me.app.port);
    let page = browser.get(&me.authorize_url(&[])).await;
    assert!(page.html.contains("Sign in with a passkey"));
    assert!(page.html.contains("autocomplete=\"username webauthn\""), "conditional UI autofill");
    let flow = page.hidden("flow").unwrap();
    let options = browser.post_form_json(&format!("{}/u/passkey/options", me.base), &[("flow", &flow)]).await;
    assert!(options["options"]["challenge"].is_string(), "{options}");
    assert_eq!(options["options"]["rpId"], "localhost");
    let assertion = authenticator.get(&me.base, &options["options"]).await;
    let done = browser
        .post_form(
            &format!("{}/u/passkey/login", me.base),
            &[("flow", &flow), ("token", options["token"].as_str().unwrap()), ("assertion", &assertion.to_string())],
        )
        .await;
    assert_eq!(done.status, 302, "{}", done.html);
    let at = claims(me.tokens_for(&done).await["access_token"].as_str().unwrap());
    assert_eq!(at["sub"], me.user_id);
    assert_eq!(at["amr"], json!(["hwk", "user", "mfa"]));
    // The ceremony is single-use.
    let replay = browser
        .post_form(
            &format!("{}/u/passkey/login", me.base),
            &[("flow", &flow), ("token", options["token"].as_str().unwrap()), ("assertion", &assertion.to_string())],
        )
        .await;
    assert_ne!(replay.status, 302);

    // A security key enrolled as a second factor is asked for after the password.
    let mut key = SoftAuthenticator::new();
    let (r, location) = me.enroll(json!({"type": "webauthn-roaming"})).await;
    let cred = key.create(&me.base, &r.body["authn_params_public_key"]).await;
    assert_eq!(
        me.post(&format!("{location}/verify"), json!({"auth_session": r.body["auth_session"], "authn_response": cred}))
            .await
            .status,
        201
    );
    let mut browser = Browser::new(me.app.port);
    let page = me.password_step(&mut browser, &[]).await;
    assert!(page.html.contains("webauthn-form"), "{}", page.html);
    let flow = page.hidden("flow").unwrap();
    let raw = page.attr("webauthn-form", "data-options").unwrap();
    let options: Value = serde_json::from_str(&raw).unwrap();
    let assertion = key.get(&me.base, &options).await;
    let done = browser
        .post_form(&format!("{}/u/mfa", me.base), &[("flow", &flow), ("assertion", &assertion.to_string())])
        .await;
    assert_eq!(done.status, 302, "{}", done.html);
    let at = claims(me.tokens_for(&done).await["access_token"].as_str().unwrap());
    assert_eq!(at["amr"], json!(["pwd", "hwk", "mfa"]));
    me.app.stop().await;
}

#[tokio::test]
async fn acr_values_step_up_an_existing_session() {
    let me = signed_in("127.0.0.1").await;
    me.set_policy(json!({"mfa": "never"})).await;
    let secret = me.enroll_totp().await;
    let mut browser = Browser::new(me.app.port);
    // Policy "never": the password is enough…
    let done = me.password_step(&mut browser, &[]).await;
    assert_eq!(done.status, 302, "{}", done.html);
    // …and single sign-on answers at once, unless the client asks for multi-factor.
    let sso = browser.get(&me.authorize_url(&[])).await;
    assert_eq!(sso.status, 302);
    let acr = ("acr_values", "http://schemas.openid.net/pape/policies/2007/06/multi-factor");
    let page = me.password_step(&mut browser, &[acr]).await;
    assert!(page.html.contains("Enter the code"), "{}", page.html);
    tokio::time::sleep(std::time::Duration::from_secs(31)).await;
    let flow = page.hidden("flow").unwrap();
    let code = accountd_core::authn::totp::current_code(&secret).unwrap();
    let done = browser.post_form(&format!("{}/u/mfa", me.base), &[("flow", &flow), ("code", &code)]).await;
    assert_eq!(done.status, 302, "{}", done.html);
    let at = claims(me.tokens_for(&done).await["access_token"].as_str().unwrap());
    assert!(at["amr"].as_array().unwrap().contains(&json!("mfa")));
    assert_eq!(at["acr"], "http://schemas.openid.net/pape/policies/2007/06/multi-factor", "{at}");
    me.app.stop().await;
}
