//! WebAuthn through the Verification API: registration options exactly as Logto lists them, a
//! record of the caller verified once, stored by `POST mfa-verifications` as the passkey
//! `/me/v1` lists — which then signs in on the hosted page without a password.

use reqwest::Method;
use serde_json::{Value, json};

use super::{Account, account_at, all_fields_edit, assert_error};
use crate::me::CALLBACK;
use crate::util::authenticator::SoftAuthenticator;
use crate::util::browser::Browser;

const MFA: &str = "/api/my-account/mfa-verifications";
const REGISTRATION: &str = "/api/verifications/web-authn/registration";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

impl Account {
    /// Starts a registration: the record and the options.
    async fn start_registration(&self) -> (String, Value) {
        let r = self.call(Method::POST, REGISTRATION, None, None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        (r.body["verificationRecordId"].as_str().unwrap().to_string(), r.body["registrationOptions"].clone())
    }

    async fn verify_registration(&self, record: &str, payload: Value) -> crate::util::Resp {
        let body = json!({"verificationRecordId": record, "payload": payload});
        self.call(Method::POST, &format!("{REGISTRATION}/verify"), Some(body), None).await
    }
}

/// The browser's credential as Logto's client sends it (`type: "WebAuthn"`).
fn logto_payload(mut cred: Value) -> Value {
    cred["type"] = json!("WebAuthn");
    if cred.get("clientExtensionResults").is_none_or(Value::is_null) {
        cred["clientExtensionResults"] = json!({});
    }
    cred
}

#[tokio::test]
async fn a_passkey_registered_through_the_verification_api_signs_in_on_the_hosted_page() {
    let a = account_at("localhost", all_fields_edit()).await;
    let mut authenticator = SoftAuthenticator::new();
    let (record, options) = a.start_registration().await;
    assert_eq!(options["rp"], json!({"name": "localhost", "id": "localhost"}), "{options}");
    assert_eq!(
        options["authenticatorSelection"],
        json!({"residentKey": "required", "requireResidentKey": true, "userVerification": "required"})
    );
    assert_eq!(options["timeout"], 60000);
    assert_eq!(options["attestation"], "none");
    let algs: Vec<i64> =
        options["pubKeyCredParams"].as_array().unwrap().iter().map(|p| p["alg"].as_i64().unwrap()).collect();
    assert_eq!(algs, vec![-7, -257]);
    assert_eq!(options["excludeCredentials"], json!([]));
    assert!(options["challenge"].is_string() && options["user"]["id"].is_string());

    let cred = authenticator.create(&a.me.base, &options).await;
    // Unknown records, bad payloads and Logto's body guard.
    assert_error(
        &a.verify_registration("nope", logto_payload(cred.clone())).await,
        400,
        "verification_record.not_found",
    );
    assert_error(&a.verify_registration(&record, cred.clone()).await, 400, "guard.invalid_input");
    let mut forged = logto_payload(cred.clone());
    forged["response"]["clientDataJSON"] = json!("e30");
    assert_error(&a.verify_registration(&record, forged).await, 400, "session.mfa.webauthn_verification_failed");
    // The record proves no identity.
    let r = a.call(Method::PATCH, "/api/my-account", Some(json!({"username": "ada_x"})), Some(&record)).await;
    assert_error(&r, 401, "verification_record.permission_denied");
    // Not verified yet: not a new credential.
    let proof = a.password_record().await;
    let add = json!({"type": "WebAuthn", "newIdentifierVerificationRecordId": record, "name": "Laptop"});
    assert_error(
        &a.call(Method::POST, MFA, Some(add.clone()), Some(&proof)).await,
        400,
        "verification_record.not_found",
    );

    let r = a.verify_registration(&record, logto_payload(cred.clone())).await;
    assert_eq!((r.status.as_u16(), r.body.clone()), (200, json!({"verificationRecordId": record})), "{}", r.text);
    // A ceremony is answered once.
    assert_error(&a.verify_registration(&record, logto_payload(cred)).await, 400, "session.mfa.pending_info_not_found");
    assert_eq!(a.mfa_items().await, json!([]), "verifying stored a method");

    // Stored with proof; the same record adds the credential once.
    assert_error(
        &a.call(Method::POST, MFA, Some(add.clone()), None).await,
        401,
        "verification_record.permission_denied",
    );
    let r = a.call(Method::POST, MFA, Some(add.clone()), Some(&proof)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_error(&a.call(Method::POST, MFA, Some(add), Some(&proof)).await, 400, "verification_record.not_found");
    let items = a.mfa_items().await;
    assert_eq!(items.as_array().unwrap().len(), 1, "{items}");
    assert_eq!((items[0]["type"].clone(), items[0]["name"].clone()), (json!("WebAuthn"), json!("Laptop")));
    let id = items[0]["id"].as_str().unwrap().to_string();
    assert!(a.me_methods().await.contains(&("passkey".to_string(), id.clone())), "not a passkey for /me/v1");

    // Renamed: 200 with no JSON body; only WebAuthn items have names.
    let path = format!("{MFA}/{id}/name");
    assert_error(
        &a.call(Method::PATCH, &path, Some(json!({"name": "Work"})), None).await,
        401,
        "verification_record.permission_denied",
    );
    let r = a.call(Method::PATCH, &path, Some(json!({"name": "Work"})), Some(&proof)).await;
    assert_eq!((r.status.as_u16(), r.text.as_str()), (200, "OK"));
    assert_eq!(a.mfa_items().await[0]["name"], "Work");
    let secret = a.add_totp().await;
    let _ = secret;
    let totp_id = a.mfa_items().await.as_array().unwrap().iter().find(|i| i["type"] == "Totp").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = a.call(Method::PATCH, &format!("{MFA}/{totp_id}/name"), Some(json!({"name": "x"})), Some(&proof)).await;
    assert_error(&r, 400, "verification_record.not_found");

    // The next registration excludes it.
    let (_, next) = a.start_registration().await;
    assert_eq!(next["excludeCredentials"].as_array().unwrap().len(), 1, "{next}");

    // The hosted page signs the user in with it, no password.
    let mut browser = Browser::new(a.me.app.port);
    let params = [
        ("response_type", "code"),
        ("client_id", a.me.client_id.as_str()),
        ("redirect_uri", CALLBACK),
        ("scope", "openid profile"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let page = browser.get(&format!("{}/authorize?{}", a.me.base, serde_urlencoded::to_string(params).unwrap())).await;
    let flow = page.hidden("flow").unwrap();
    let options = browser.post_form_json(&format!("{}/u/passkey/options", a.me.base), &[("flow", &flow)]).await;
    let assertion = authenticator.get(&a.me.base, &options["options"]).await;
    let done = browser
        .post_form(
            &format!("{}/u/passkey/login", a.me.base),
            &[("flow", &flow), ("token", options["token"].as_str().unwrap()), ("assertion", &assertion.to_string())],
        )
        .await;
    assert_eq!(done.status, 302, "{}", done.html);
    let tokens = a.me.exchange(&done.param("code").unwrap()).await;
    assert!(tokens["access_token"].is_string());
    // Its use shows as lastUsedAt.
    assert!(
        a.mfa_items().await.as_array().unwrap().iter().any(|i| i["type"] == "WebAuthn" && i["lastUsedAt"].is_string())
    );

    // Deleted through /me/v1: gone from Logto's list.
    let r = a.me.call(Method::DELETE, &format!("/authentication-methods/{id}"), None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(!a.mfa_items().await.as_array().unwrap().iter().any(|i| i["type"] == "WebAuthn"));
    a.me.app.stop().await;
}

#[tokio::test]
async fn webauthn_items_follow_the_passkey_field_and_the_tenants_factors() {
    let mut fields = all_fields_edit();
    fields["passkey"] = json!("Off");
    let a = account_at("localhost", fields.clone()).await;
    let proof = a.password_record().await;
    let add = json!({"type": "WebAuthn", "newIdentifierVerificationRecordId": "nope"});
    // `passkey` set to Off wins over `mfa: Edit`.
    assert_error(
        &a.call(Method::POST, MFA, Some(add.clone()), Some(&proof)).await,
        400,
        "account_center.field_not_editable",
    );
    assert_error(
        &a.call(Method::PATCH, &format!("{MFA}/x/name"), Some(json!({"name": "n"})), Some(&proof)).await,
        400,
        "account_center.field_not_editable",
    );
    // Unset, it follows `mfa`.
    a.set_center(json!({"fields": all_fields_edit()})).await;
    assert_error(
        &a.call(Method::POST, MFA, Some(add.clone()), Some(&proof)).await,
        400,
        "verification_record.not_found",
    );
    // Another user's record is no record for this one (stricter than Logto, spec §10.8).
    let u =
        a.me.app
            .post("/api/v2/users", &a.me.mgmt, json!({"email": "grace@example.com", "password": crate::me::PASSWORD}))
            .await;
    assert_eq!(u.status, 201, "{}", u.text);
    let grace = a.token_as("grace@example.com", crate::me::PASSWORD, super::ALL_SCOPES).await;
    let r = a.call_with(&grace, Method::POST, REGISTRATION, None, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let theirs = r.body["verificationRecordId"].as_str().unwrap().to_string();
    let cred = SoftAuthenticator::new().create(&a.me.base, &r.body["registrationOptions"]).await;
    assert_error(
        &a.verify_registration(&theirs, logto_payload(cred.clone())).await,
        400,
        "verification_record.not_found",
    );
    let body = json!({"verificationRecordId": theirs, "payload": logto_payload(cred)});
    let r = a.call_with(&grace, Method::POST, &format!("{REGISTRATION}/verify"), Some(body), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let steal = json!({"type": "WebAuthn", "newIdentifierVerificationRecordId": theirs});
    assert_error(&a.call(Method::POST, MFA, Some(steal), Some(&proof)).await, 400, "verification_record.not_found");
    assert_eq!(a.mfa_items().await, json!([]));
    // Neither passkeys nor security keys offered: the factor is not enabled.
    a.me.set_policy(json!({"factors": ["password", "totp"]})).await;
    assert_error(&a.call(Method::POST, MFA, Some(add), Some(&proof)).await, 400, "session.mfa.mfa_factor_not_enabled");
    a.me.app.stop().await;
}

impl Account {
    /// Registers a passkey of `authenticator` through the Verification API and stores it; its id.
    async fn register_passkey(&self, authenticator: &mut SoftAuthenticator) -> String {
        let (record, options) = self.start_registration().await;
        let cred = authenticator.create(&self.me.base, &options).await;
        let r = self.verify_registration(&record, logto_payload(cred)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let proof = self.password_record().await;
        let add = json!({"type": "WebAuthn", "newIdentifierVerificationRecordId": record});
        let r = self.call(Method::POST, MFA, Some(add), Some(&proof)).await;
        assert_eq!(r.status, 204, "{}", r.text);
        self.mfa_items().await.as_array().unwrap().iter().find(|i| i["type"] == "WebAuthn").unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

#[tokio::test]
async fn a_passkey_registered_through_logto_signs_in_through_the_auth0_passkey_grant() {
    let a = account_at("localhost", all_fields_edit()).await;
    let mut authenticator = SoftAuthenticator::new();
    a.register_passkey(&mut authenticator).await;
    let (app, base) = (&a.me.app, &a.me.base);
    let grant = accountd_core::service::WEBAUTHN_GRANT;
    let native = app
        .post("/api/v2/clients", &a.me.mgmt, json!({"name": "Phone app", "app_type": "native", "grant_types": [grant]}))
        .await;
    assert_eq!(native.status, 201, "{}", native.text);
    let client_id = native.body["client_id"].as_str().unwrap().to_string();
    let audience = format!("{base}/me/");
    let g = app
        .post(
            "/api/v2/client-grants",
            &a.me.mgmt,
            json!({"client_id": client_id, "audience": audience, "subject_type": "user",
                   "scope": ["read:me:authentication_methods"]}),
        )
        .await;
    assert_eq!(g.status, 201, "{}", g.text);
    let ch = app
        .request(Method::POST, &format!("{base}/passkey/challenge"), None, Some(json!({"client_id": client_id})))
        .await;
    assert_eq!(ch.status, 200, "{}", ch.text);
    let assertion = authenticator.get(base, &ch.body["authn_params_public_key"]).await;
    let body = json!({"grant_type": grant, "client_id": client_id, "auth_session": ch.body["auth_session"],
                      "authn_response": assertion, "audience": audience, "scope": "read:me:authentication_methods"});
    let t = app.request(Method::POST, &format!("{base}/oauth/token"), None, Some(body)).await;
    assert_eq!(t.status, 200, "{}", t.text);
    let list = app.get(&format!("{base}/me/v1/authentication-methods"), t.body["access_token"].as_str().unwrap()).await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert!(list.body["authentication_methods"].as_array().unwrap().iter().any(|m| m["type"] == "passkey"));

    // A security key enrolled through /me/v1 is a WebAuthn item for Logto too.
    let mut key = SoftAuthenticator::new();
    let (r, location) = a.me.enroll(json!({"type": "webauthn-roaming"})).await;
    let cred = key.create(&a.me.base, &r.body["authn_params_public_key"]).await;
    let ok = a
        .me
        .post(&format!("{location}/verify"), json!({"auth_session": r.body["auth_session"], "authn_response": cred}))
        .await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    let items = a.mfa_items().await;
    assert_eq!(items.as_array().unwrap().iter().filter(|i| i["type"] == "WebAuthn").count(), 2, "{items}");
    a.me.app.stop().await;
}

#[tokio::test]
async fn the_openapi_document_describes_the_mfa_routes() {
    let a = account_at("localhost", all_fields_edit()).await;
    let r = a.me.app.request(Method::GET, "/api/.well-known/user.openapi.json", None, None).await;
    assert_eq!(r.status, 200);
    let paths = &r.body["paths"];
    for (path, method, op) in [
        ("/api/my-account/mfa-verifications", "get", "GetMfaVerifications"),
        ("/api/my-account/mfa-verifications", "post", "AddMfaVerification"),
        ("/api/my-account/mfa-verifications/totp", "put", "CreateOrReplaceTotpMfaVerification"),
        ("/api/my-account/mfa-verifications/totp-secret/generate", "post", "GenerateTotpSecret"),
        ("/api/my-account/mfa-verifications/backup-codes/generate", "post", "GenerateMyAccountBackupCodes"),
        ("/api/my-account/mfa-verifications/backup-codes", "get", "GetBackupCodes"),
        ("/api/my-account/mfa-verifications/{verificationId}/name", "patch", "UpdateMfaVerificationName"),
        ("/api/my-account/mfa-verifications/{verificationId}", "delete", "DeleteMfaVerification"),
        ("/api/my-account/mfa-settings", "get", "GetMfaSettings"),
        ("/api/my-account/mfa-settings", "patch", "UpdateMfaSettings"),
        ("/api/my-account/logto-configs", "get", "GetLogtoConfig"),
        ("/api/my-account/logto-configs", "patch", "UpdateLogtoConfig"),
        ("/api/verifications/web-authn/registration", "post", "GenerateWebAuthnRegistrationOptions"),
        ("/api/verifications/web-authn/registration/verify", "post", "VerifyWebAuthnRegistration"),
    ] {
        assert_eq!(paths[path][method]["operationId"], op, "{method} {path}");
    }
    let schemas = &r.body["components"]["schemas"];
    for s in ["AddMfaVerificationBody", "MfaVerificationResponse", "LogtoConfigsBody", "VerifyWebAuthnBody"] {
        assert!(schemas[s].is_object(), "{s} missing");
    }
    a.me.app.stop().await;
}
