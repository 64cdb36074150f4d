//! Passkeys and security keys: enrolled through /me/v1 with a software authenticator that speaks
//! WebAuthn JSON like a browser.

use serde_json::json;

use super::signed_in;
use crate::util::authenticator::SoftAuthenticator;

#[tokio::test]
async fn a_passkey_is_registered_for_the_domain_used() {
    // WebAuthn refuses IP addresses as RP IDs: passkeys live on a host name.
    let me = signed_in("localhost").await;
    let (r, location) = me.enroll(json!({"type": "passkey"})).await;
    assert!(location.ends_with("/authentication-methods/passkey%7Cnew"), "{location}");
    assert!(r.body.get("id").is_none(), "passkeys get their id only through Location");
    let options = &r.body["authn_params_public_key"];
    assert_eq!(options["rp"]["id"], "localhost");
    assert_eq!(options["authenticatorSelection"]["residentKey"], "required");
    assert!(options["user"]["id"].is_string() && options["challenge"].is_string());
    let algs: Vec<i64> =
        options["pubKeyCredParams"].as_array().unwrap().iter().map(|p| p["alg"].as_i64().unwrap()).collect();
    assert!(algs.contains(&-7), "{algs:?}");

    let mut authenticator = SoftAuthenticator::new();
    // An app page on the same host (another port) runs the ceremony.
    let credential = authenticator.create("http://localhost:3000", options).await;
    let ok = me
        .post(
            &format!("{location}/verify"),
            json!({"auth_session": r.body["auth_session"], "authn_response": credential}),
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    let id = ok.body["id"].as_str().unwrap();
    assert!(id.starts_with("passkey|dev_"), "{id}");
    assert!(ok.header("location").unwrap().ends_with(&id.replace('|', "%7C")));
    assert_eq!(ok.body["type"], "passkey");
    assert_eq!(ok.body["usage"], json!(["primary"]));
    assert_eq!(ok.body["relying_party_id"], "localhost");
    assert_eq!(ok.body["identity_user_id"], me.user_id);
    assert_eq!(ok.body["key_id"], credential["id"]);
    assert!(ok.body["public_key"].as_str().is_some_and(|k| !k.is_empty()), "{}", ok.text);
    assert!(ok.body["user_handle"].as_str().is_some_and(|h| !h.is_empty()));
    assert!(ok.body["credential_device_type"].is_string() && ok.body["credential_backed_up"].is_boolean());
    assert!(ok.body.get("confirmed").is_none());

    // The same authenticator again is excluded when asked, and refused at verify anyway.
    let (again, again_location) = me.enroll(json!({"type": "passkey", "use_exclude_credentials": true})).await;
    let excluded = again.body["authn_params_public_key"]["excludeCredentials"].as_array().unwrap();
    assert_eq!(excluded[0]["id"], credential["id"]);
    let _ = again_location;

    // A made-up attestation is refused and changes nothing.
    let (r2, location2) = me.enroll(json!({"type": "passkey"})).await;
    let mut forged = credential.clone();
    forged["response"]["clientDataJSON"] = json!("eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIn0");
    let bad = me
        .post(
            &format!("{location2}/verify"),
            json!({"auth_session": r2.body["auth_session"], "authn_response": forged}),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    let passkeys = me.get("/authentication-methods?type=passkey").await;
    assert_eq!(passkeys.body["authentication_methods"].as_array().unwrap().len(), 1);
    me.app.stop().await;
}

#[tokio::test]
async fn security_keys_enroll_as_second_factors() {
    let me = signed_in("localhost").await;
    let (r, location) = me.enroll(json!({"type": "webauthn-roaming"})).await;
    let id = r.body["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("webauthn-roaming|"), "{id}");
    let mut key = SoftAuthenticator::new();
    let credential = key.create("http://localhost:3000", &r.body["authn_params_public_key"]).await;
    let ok = me
        .post(
            &format!("{location}/verify"),
            json!({"auth_session": r.body["auth_session"], "authn_response": credential}),
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    assert_eq!(ok.body["usage"], json!(["secondary"]));
    assert_eq!(ok.body["confirmed"], true);
    assert_eq!(ok.body["key_id"], credential["id"]);
    me.app.stop().await;
}
