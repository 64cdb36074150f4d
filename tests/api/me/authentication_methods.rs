//! Every method type through enroll → verify → list → get → update → delete.

use reqwest::Method;
use serde_json::json;

use super::{EMAIL, Me, error_type, signed_in};

fn code_for(secret: &str) -> String {
    accountd_core::authn::totp::current_code(secret).unwrap()
}

#[tokio::test]
async fn totp_enrolls_with_a_real_code_and_is_managed() {
    let me = signed_in("127.0.0.1").await;
    let (r, location) = me.enroll(json!({"type": "totp"})).await;
    let id = r.body["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("totp|dev_"), "{id}");
    assert!(location.ends_with(&id.replace('|', "%7C")), "{location} vs {id}");
    let uri = r.body["barcode_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains("issuer=") && uri.contains("secret=") && uri.contains(&EMAIL.replace('@', "%40")), "{uri}");
    let secret = r.body["manual_input_code"].as_str().unwrap().to_string();
    let session = r.body["auth_session"].as_str().unwrap().to_string();

    // Wrong code: refused, nothing enrolled.
    let wrong = me.post(&format!("{location}/verify"), json!({"auth_session": session, "otp_code": "000000"})).await;
    if code_for(&secret) != "000000" {
        assert_eq!(wrong.status, 400, "{}", wrong.text);
        assert_eq!(error_type(&wrong), "A0E-400-0004");
    }
    assert!(!me.method_ids().await.contains(&id));

    // The real code (computed as an authenticator app would), posted to Location + /verify as spa-js does.
    let ok =
        me.post(&format!("{location}/verify"), json!({"auth_session": session, "otp_code": code_for(&secret)})).await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    assert_eq!(ok.header("location"), Some(location.as_str()));
    assert_eq!(ok.body["id"], id);
    assert_eq!(ok.body["type"], "totp");
    assert_eq!(ok.body["confirmed"], true);
    assert_eq!(ok.body["usage"], json!(["secondary"]));

    // The session is single-use.
    let again =
        me.post(&format!("{location}/verify"), json!({"auth_session": session, "otp_code": code_for(&secret)})).await;
    assert_eq!(again.status, 400, "{}", again.text);

    // Listed, filterable, readable by raw and encoded id.
    assert!(me.method_ids().await.contains(&id));
    let only = me.get("/authentication-methods?type=totp").await;
    assert_eq!(only.body["authentication_methods"].as_array().unwrap().len(), 1);
    let none = me.get("/authentication-methods?type=email").await;
    assert_eq!(none.body["authentication_methods"], json!([]));
    for path in [format!("/authentication-methods/{id}"), format!("/authentication-methods/{}", id.replace('|', "%7C"))]
    {
        let one = me.get(&path).await;
        assert_eq!(one.status, 200, "{path}: {}", one.text);
        assert_eq!(one.body["id"], id);
    }

    // Renamed.
    let renamed =
        me.call(Method::PATCH, &format!("/authentication-methods/{id}"), Some(json!({"name": "Phone app"}))).await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    assert_eq!(renamed.body["name"], "Phone app");
    assert_eq!(me.get(&format!("/authentication-methods/{id}")).await.body["name"], "Phone app");
    // Phones only for the delivery preference.
    let bad = me
        .call(
            Method::PATCH,
            &format!("/authentication-methods/{id}"),
            Some(json!({"preferred_authentication_method": "voice"})),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text);

    // Deleted.
    let gone = me.call(Method::DELETE, &format!("/authentication-methods/{}", id.replace('|', "%7C")), None).await;
    assert_eq!(gone.status, 204, "{}", gone.text);
    assert!(gone.text.is_empty());
    assert_eq!(me.get(&format!("/authentication-methods/{id}")).await.status, 404);
    me.app.stop().await;
}

#[tokio::test]
async fn a_recovery_code_is_shown_once_and_enrolling_again_replaces_it() {
    let me = signed_in("127.0.0.1").await;
    let mut ids = vec![];
    for _ in 0..2 {
        let (r, location) = me.enroll(json!({"type": "recovery-code"})).await;
        let code = r.body["recovery_code"].as_str().unwrap();
        assert_eq!(code.len(), 24);
        let ok = me.post(&format!("{location}/verify"), json!({"auth_session": r.body["auth_session"]})).await;
        assert_eq!(ok.status, 201, "{}", ok.text);
        assert!(ok.body.get("recovery_code").is_none(), "never shown again");
        ids.push(ok.body["id"].as_str().unwrap().to_string());
    }
    let listed: Vec<String> = me.method_ids().await.into_iter().filter(|i| i.starts_with("recovery-code|")).collect();
    assert_eq!(listed, vec![ids[1].clone()], "the second enrollment replaced the first");
    me.app.stop().await;
}

#[tokio::test]
async fn password_changes_follow_the_policy_and_history() {
    let me = signed_in("127.0.0.1").await;
    let (r, location) = me.enroll(json!({"type": "password"})).await;
    assert_eq!(r.body["id"], "password|new");
    assert!(location.ends_with("/password%7Cnew"), "{location}");
    assert_eq!(r.body["policy"]["complexity"]["min_length"], 8);
    assert_eq!(r.body["policy"]["dictionary"]["default"], "en_10k");
    let session = r.body["auth_session"].as_str().unwrap();
    let verify = format!("{location}/verify");

    for (weak, why) in
        [("Sh0rt!", "at least 8"), ("password1", "common"), ("Ada Lovelace1!", "name"), ("aaaBBB111!!!", "identical")]
    {
        let bad = me.post(&verify, json!({"auth_session": session, "new_password": weak})).await;
        assert_eq!(bad.status, 400, "{weak}: {}", bad.text);
        assert_eq!(bad.body["validation_errors"][0]["pointer"], "/new_password", "{}", bad.text);
        let details = bad.text.to_lowercase();
        assert!(details.contains(why), "{weak} should be refused for '{why}': {}", bad.text);
    }
    // The current password is in the history.
    let same = me.post(&verify, json!({"auth_session": session, "new_password": super::PASSWORD})).await;
    assert_eq!(same.status, 400, "{}", same.text);

    let ok = me.post(&verify, json!({"auth_session": session, "new_password": "Tr0ub4dor&3-horse"})).await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    assert_eq!(ok.body["id"], format!("password|{}", me.user_id));
    assert_eq!(ok.body["identity_user_id"], me.user_id);
    assert!(ok.body["last_password_reset"].is_string());
    assert!(ok.body.get("confirmed").is_none(), "passwords have no confirmed flag");
    me.app.stop().await;
}

#[tokio::test]
async fn renaming_the_password_leaves_its_last_reset_alone() {
    let me = signed_in("127.0.0.1").await;
    let id = format!("password|{}", me.user_id);
    let path = format!("/authentication-methods/{}", id.replace('|', "%7C"));
    let rename = |name: &'static str| me.call(Method::PATCH, &path, Some(json!({ "name": name })));
    // Never reset: no last_password_reset, before or after a rename.
    assert!(me.get(&path).await.body.get("last_password_reset").is_none());
    let r = rename("Main password").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body.get("last_password_reset").is_none(), "{}", r.text);
    assert!(me.get(&path).await.body.get("last_password_reset").is_none());

    // Reset: a rename afterwards reports the same reset.
    let (r, location) = me.enroll(json!({"type": "password"})).await;
    let ok = me
        .post(
            &format!("{location}/verify"),
            json!({"auth_session": r.body["auth_session"], "new_password": "Tr0ub4dor&3-horse"}),
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    let reset = ok.body["last_password_reset"].as_str().unwrap().to_string();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let r = rename("Still my password").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["last_password_reset"], reset.as_str());
    assert_eq!(me.get(&path).await.body["last_password_reset"], reset.as_str());
    me.app.stop().await;
}

#[tokio::test]
async fn factors_list_what_the_tenant_enables() {
    let me = signed_in("127.0.0.1").await;
    let all = me.get("/factors").await;
    assert_eq!(all.status, 200, "{}", all.text);
    let types: Vec<&str> =
        all.body["factors"].as_array().unwrap().iter().map(|f| f["type"].as_str().unwrap()).collect();
    assert!(types.contains(&"totp") && types.contains(&"passkey") && types.contains(&"recovery-code"), "{types:?}");
    assert!(
        all.body["factors"].as_array().unwrap().iter().any(|f| f == &json!({"type": "passkey", "usage": ["primary"]}))
    );

    me.set_policy(json!({"factors": ["password", "totp"]})).await;
    let some = me.get("/factors").await;
    assert_eq!(
        some.body,
        json!({"factors": [{"type": "password", "usage": ["primary"]}, {"type": "totp", "usage": ["secondary"]}]})
    );
    let refused = me.post("/authentication-methods", json!({"type": "recovery-code"})).await;
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert_eq!(refused.body["validation_errors"][0]["pointer"], "/type");
    me.app.stop().await;
}

#[tokio::test]
async fn the_last_way_to_sign_in_cannot_be_removed() {
    let me: Me = signed_in("127.0.0.1").await;
    let id = format!("password|{}", me.user_id);
    let r = me.call(Method::DELETE, &format!("/authentication-methods/{id}"), None).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.body["detail"].as_str().unwrap().contains("last way"), "{}", r.text);
    assert!(me.method_ids().await.contains(&id));
    me.app.stop().await;
}

#[tokio::test]
async fn sensitive_changes_ask_for_a_recent_sign_in() {
    let me = signed_in("127.0.0.1").await;
    me.set_policy(json!({"step_up": {"active": true, "max_age": 1, "require_mfa": false}})).await;
    // set_policy waited past max_age: the token's sign-in is now too old.
    let r = me.post("/authentication-methods", json!({"type": "totp"})).await;
    assert_eq!(r.status, 401, "{}", r.text);
    let www = r.header("www-authenticate").unwrap();
    assert!(www.starts_with("Bearer error=\"insufficient_user_authentication\""), "{www}");
    assert!(www.contains("max_age=1"), "{www}");
    assert_eq!(r.body["title"], "insufficient_user_authentication");
    assert!(r.body["detail"].as_str().unwrap().contains("max_age=1"));
    // Reading is not sensitive.
    assert_eq!(me.get("/authentication-methods").await.status, 200);
    // A fresh sign-in satisfies it.
    let fresh = Me { token: me.sign_in(&super::ME_SCOPES.join(" ")).await, ..me };
    assert_eq!(fresh.post("/authentication-methods", json!({"type": "totp"})).await.status, 202);

    // With "2FA required", a user who has a second factor needs one in the sign-in.
    fresh.set_policy(json!({"step_up": {"active": true, "max_age": 900, "require_mfa": true}})).await;
    let (r, location) = fresh.enroll(json!({"type": "recovery-code"})).await;
    assert_eq!(
        fresh.post(&format!("{location}/verify"), json!({"auth_session": r.body["auth_session"]})).await.status,
        201
    );
    let r = fresh.post("/authentication-methods", json!({"type": "totp"})).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert!(
        r.header("www-authenticate")
            .unwrap()
            .contains("acr_values=\"http://schemas.openid.net/pape/policies/2007/06/multi-factor\"")
    );
    fresh.app.stop().await;
}

#[tokio::test]
async fn every_change_is_in_the_audit_log() {
    let me = signed_in("127.0.0.1").await;
    let (r, location) = me.enroll(json!({"type": "recovery-code"})).await;
    let ok = me.post(&format!("{location}/verify"), json!({"auth_session": r.body["auth_session"]})).await;
    let id = ok.body["id"].as_str().unwrap().to_string();
    me.call(Method::DELETE, &format!("/authentication-methods/{id}"), None).await;
    me.call(Method::DELETE, &format!("/authentication-methods/password|{}", me.user_id), None).await; // refused: 409
    let logs = me.app.get("/api/v2/logs?per_page=100", &me.mgmt).await;
    let events: Vec<(String, String, String)> = logs
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["description"].as_str().unwrap_or_default().starts_with("me.authentication_method"))
        .map(|e| {
            (
                e["description"].as_str().unwrap().to_string(),
                e["details"]["target_id"].as_str().unwrap_or_default().to_string(),
                e["type"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let has = |action: &str, target: &str| events.iter().any(|(a, t, _)| a == action && t == target);
    assert!(has("me.authentication_method.enroll_start", &id), "{events:?}");
    assert!(has("me.authentication_method.enroll", &id), "{events:?}");
    assert!(has("me.authentication_method.delete", &id), "{events:?}");
    assert!(
        events.iter().any(|(a, _, result)| a == "me.authentication_method.delete" && result == "fapi"),
        "{events:?}\n{}",
        logs.text
    );
    me.app.stop().await;
}

#[tokio::test]
async fn a_user_at_the_method_cap_is_refused_another_and_nothing_is_stored() {
    let me = signed_in("127.0.0.1").await;
    let cap = accountd_core::authn::MAX_METHODS_PER_USER;
    // The password is one of the user's methods; security keys fill the rest.
    for n in 0..cap - 1 {
        me.app
            .sql(&format!(
                "INSERT INTO authentication_methods (tenant_id, id, user_id, method_type, secret, created_at, \
                 updated_at, confirmed, details) SELECT tenant_id, 'webauthn-roaming|dev_{n}', id, \
                 'webauthn-roaming', 's', 1, 1, true, '{{}}' FROM users WHERE id = '{}'",
                me.user_id
            ))
            .await;
    }
    let (r, location) = me.enroll(json!({"type": "totp"})).await;
    let code = code_for(r.body["manual_input_code"].as_str().unwrap());
    let refused =
        me.post(&format!("{location}/verify"), json!({"auth_session": r.body["auth_session"], "otp_code": code})).await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert!(refused.text.contains("most authentication methods allowed"), "{}", refused.text);
    let held = me
        .app
        .sql_count(&format!("SELECT count(*) FROM authentication_methods WHERE user_id = '{}'", me.user_id))
        .await;
    assert_eq!(held, cap as i64, "a method past the cap was stored");
}
