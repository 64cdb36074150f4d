//! `GET`/`PATCH /api/my-account` and `PATCH /api/my-account/profile`: what scopes and fields
//! show, and every refusal in Logto's order, each leaving the account as it was.

use reqwest::Method;
use serde_json::json;

use super::{account, account_with, assert_error};

#[tokio::test]
async fn the_account_shows_what_scopes_and_fields_allow() {
    let a = account().await;
    let p = a.profile().await;
    assert_eq!(p["id"], a.me.user_id.as_str());
    assert_eq!(p["name"], "Ada Lovelace");
    assert_eq!(p["primaryEmail"], "ada@example.com");
    assert_eq!(p["primaryPhone"], json!(null));
    assert_eq!(p["username"], json!(null));
    assert_eq!(p["hasPassword"], true);
    assert_eq!(p["hasSecurityVerificationMethod"], true);
    assert_eq!(p["customData"], json!({}));
    assert_eq!(p["identities"], json!({}));
    assert!(p["createdAt"].is_i64() && p["updatedAt"].is_i64());
    // Only `openid`: the id and the one fact always shown.
    let bare = a.token_for("openid").await;
    let r = a.call_with(&bare, Method::GET, "/api/my-account", None, None).await;
    assert_eq!(r.body, json!({"id": a.me.user_id, "hasSecurityVerificationMethod": true}));
    // Logto's own example: only `name` readable, the `email` scope: id and name.
    a.set_center(json!({"fields": {"name": "ReadOnly"}})).await;
    let t = a.token_for("openid profile email").await;
    let r = a.call_with(&t, Method::GET, "/api/my-account", None, None).await;
    assert_eq!(r.status, 200);
    for hidden in ["avatar", "username", "primaryEmail", "primaryPhone", "identities", "profile", "hasPassword"] {
        assert!(r.body.get(hidden).is_none(), "{hidden} shown: {}", r.text);
    }
    assert_eq!(r.body["name"], "Ada Lovelace");
    a.me.app.stop().await;
}

#[tokio::test]
async fn name_avatar_and_custom_data_change_and_custom_data_is_replaced() {
    let a = account().await;
    let r = a
        .call(Method::PATCH, "/api/my-account", Some(json!({"customData": {"theme": "dark", "lang": "fr"}})), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = a
        .call(
            Method::PATCH,
            "/api/my-account",
            Some(
                json!({"name": "Ada King", "avatar": "https://img.example/ada.png", "customData": {"theme": "light"}}),
            ),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], "Ada King");
    assert_eq!(r.body["avatar"], "https://img.example/ada.png");
    assert_eq!(r.body["customData"], json!({"theme": "light"}), "custom data was merged, not replaced");
    // null clears.
    let r = a.call(Method::PATCH, "/api/my-account", Some(json!({"name": null})), None).await;
    assert_eq!(r.body["name"], json!(null));
    assert_eq!(a.profile().await["avatar"], "https://img.example/ada.png");
    a.me.app.stop().await;
}

#[tokio::test]
async fn refused_profile_changes_follow_logtos_order_and_change_nothing() {
    let a = account_with(json!({"name": "ReadOnly", "avatar": "Edit", "customData": "Edit", "username": "Edit",
                                "email": "Edit"}))
    .await;
    let before = a.profile().await;
    let patch = |body| a.call(Method::PATCH, "/api/my-account", Some(body), None);
    // Field first, even without the scope.
    let no_profile = a.token_for("openid email custom_data").await;
    let r = a.call_with(&no_profile, Method::PATCH, "/api/my-account", Some(json!({"name": "X"})), None).await;
    assert_error(&r, 400, "account_center.field_not_editable");
    assert_eq!(r.body["data"]["field"], "name");
    // Then the scope: 400, not 401.
    let r = a
        .call_with(
            &no_profile,
            Method::PATCH,
            "/api/my-account",
            Some(json!({"avatar": "https://x.example/a.png"})),
            None,
        )
        .await;
    assert_error(&r, 400, "auth.unauthorized");
    let no_custom = a.token_for("openid profile").await;
    let r =
        a.call_with(&no_custom, Method::PATCH, "/api/my-account", Some(json!({"customData": {"a": 1}})), None).await;
    assert_error(&r, 400, "auth.unauthorized");
    // A username needs proof of identity.
    assert_error(&patch(json!({"username": "ada"})).await, 401, "verification_record.permission_denied");
    // Bad bodies: Logto's guard, with where.
    let r = patch(json!({"username": "1ada"})).await;
    assert_error(&r, 400, "guard.invalid_input");
    assert!(r.body["details"].as_str().unwrap().contains("username"), "{}", r.text);
    assert_error(&patch(json!({"avatar": "javascript:alert(1)"})).await, 400, "guard.invalid_input");
    assert_error(&patch(json!({"customData": [1]})).await, 400, "guard.invalid_input");
    let mut after = a.profile().await;
    // Signing in again moved lastSignInAt; nothing else may differ.
    after["lastSignInAt"] = before["lastSignInAt"].clone();
    assert_eq!(after, before);
    a.me.app.stop().await;
}

#[tokio::test]
async fn a_username_changes_with_proof_is_unique_and_is_not_the_last_identifier_to_go() {
    let a = account().await;
    let record = a.password_record().await;
    let r = a.call(Method::PATCH, "/api/my-account", Some(json!({"username": "ada_l"})), Some(&record)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["username"], "ada_l");
    // Another user cannot take it.
    let bob =
        a.me.app
            .post("/api/v2/users", &a.me.mgmt, json!({"email": "bob@example.com", "password": "another good password"}))
            .await;
    assert_eq!(bob.status, 201);
    let bob_token = a.token_as("bob@example.com", "another good password", super::ALL_SCOPES).await;
    let r = a
        .call_with(
            &bob_token,
            Method::POST,
            "/api/verifications/password",
            Some(json!({"password": "another good password"})),
            None,
        )
        .await;
    let bob_record = r.body["verificationRecordId"].as_str().unwrap().to_string();
    let r = a
        .call_with(&bob_token, Method::PATCH, "/api/my-account", Some(json!({"username": "ada_l"})), Some(&bob_record))
        .await;
    assert_error(&r, 422, "user.username_already_in_use");
    // Bob's record is no proof for Ada.
    let r = a.call(Method::PATCH, "/api/my-account", Some(json!({"username": "x"})), Some(&bob_record)).await;
    assert_error(&r, 401, "verification_record.permission_denied");
    // With email and username, the username can go; then the email is the last identifier.
    let r = a.call(Method::PATCH, "/api/my-account", Some(json!({"username": null})), Some(&record)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["username"], json!(null));
    let r = a.call(Method::DELETE, "/api/my-account/primary-email", None, Some(&record)).await;
    assert_error(&r, 400, "user.last_sign_in_method_required");
    assert_eq!(a.profile().await["primaryEmail"], "ada@example.com");
    a.me.app.stop().await;
}

#[tokio::test]
async fn standard_claims_merge_shallowly_and_the_address_needs_its_scope() {
    let a = account().await;
    let r = a
        .call(Method::PATCH, "/api/my-account/profile", Some(json!({"familyName": "King", "givenName": "Ada"})), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"familyName": "King", "givenName": "Ada"}));
    let r = a
        .call(
            Method::PATCH,
            "/api/my-account/profile",
            Some(json!({"website": "https://ada.example", "address": {"locality": "London", "country": "UK"},
                        "notAClaim": 1})),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["familyName"], "King");
    assert_eq!(r.body["address"], json!({"locality": "London", "country": "UK"}));
    let no_address = a.token_for("openid profile").await;
    let r = a
        .call_with(
            &no_address,
            Method::PATCH,
            "/api/my-account/profile",
            Some(json!({"address": {"country": "FR"}})),
            None,
        )
        .await;
    assert_error(&r, 400, "auth.unauthorized");
    let seen = a.call_with(&no_address, Method::GET, "/api/my-account", None, None).await;
    assert!(seen.body["profile"].get("address").is_none(), "address shown without its scope");
    assert_eq!(a.profile().await["profile"]["address"]["country"], "UK");
    a.set_center(json!({"fields": {"profile": "ReadOnly"}})).await;
    let r = a.call(Method::PATCH, "/api/my-account/profile", Some(json!({"gender": "f"})), None).await;
    assert_error(&r, 400, "account_center.field_not_editable");
    a.me.app.stop().await;
}

#[tokio::test]
async fn third_party_apps_may_read_but_not_change_and_errors_speak_french() {
    let mut a = account().await;
    let partner = a.partner_app().await;
    let first_party = std::mem::replace(&mut a.me.client_id, partner.clone());
    let third = a.token_for(super::ALL_SCOPES).await;
    a.me.client_id = first_party;
    let before = a.profile().await;
    let read = a.call_with(&third, Method::GET, "/api/my-account", None, None).await;
    assert_eq!(read.status, 200, "{}", read.text);
    let r = a.call_with(&third, Method::PATCH, "/api/my-account", Some(json!({"name": "Mallory"})), None).await;
    assert_error(&r, 403, "auth.third_party_application_forbidden");
    let body = json!({"password": crate::me::PASSWORD});
    let r = a.call_with(&third, Method::POST, "/api/verifications/password", Some(body), None).await;
    assert_error(&r, 403, "auth.third_party_application_forbidden");
    assert_eq!(a.profile().await, before);
    let fr = a
        .send(
            &third,
            Method::PATCH,
            "/api/my-account",
            Some(json!({"name": "M"})),
            &[("accept-language", "fr-CA,fr;q=0.9")],
        )
        .await;
    assert_error(&fr, 403, "auth.third_party_application_forbidden");
    assert!(fr.body["message"].as_str().unwrap().contains("applications tierces"), "{}", fr.text);
    a.me.app.stop().await;
}
