//! Primary email and phone, password and identities: Logto's order of checks, the PATCH the
//! guide writes beside the POST the code uses, and nothing changed by a refusal.

use reqwest::Method;
use serde_json::json;

use super::{account, account_with, all_fields_edit, assert_error};
use crate::me::PASSWORD;

#[tokio::test]
async fn the_primary_email_changes_as_the_guide_writes_it() {
    let a = account().await;
    let record = a.password_record().await;
    let new = a.verified_code_record("email", "ada.king@example.com").await;
    // PATCH, as in the guide.
    let body = json!({"email": "ada.king@example.com", "newIdentifierVerificationRecordId": new});
    let r = a.call(Method::PATCH, "/api/my-account/primary-email", Some(body), Some(&record)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(a.profile().await["primaryEmail"], "ada.king@example.com");
    // POST, as the code has it, with the same kind of proof.
    let other = a.verified_code_record("email", "ada@example.org").await;
    let body = json!({"email": "ada@example.org", "newIdentifierVerificationRecordId": other});
    let r = a.call(Method::POST, "/api/my-account/primary-email", Some(body), Some(&record)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(a.profile().await["primaryEmail"], "ada@example.org");
    // The old address can sign in no more; the new one can.
    a.token_as("ada@example.org", PASSWORD, "openid").await;
    a.me.app.stop().await;
}

#[tokio::test]
async fn refused_email_changes_follow_logtos_order_and_change_nothing() {
    let a = account().await;
    let record = a.password_record().await;
    let new = a.verified_code_record("email", "new@example.com").await;
    let body = |email: &str, rec: &str| json!({"email": email, "newIdentifierVerificationRecordId": rec});
    let owned = a;
    let a = &owned;
    let post = |b, r: Option<String>| async move {
        a.call(Method::POST, "/api/my-account/primary-email", Some(b), r.as_deref()).await
    };
    // Proof first.
    assert_error(&post(body("new@example.com", &new), None).await, 401, "verification_record.permission_denied");
    // A record for another address, or of the wrong kind, is not found.
    assert_error(
        &post(body("other@example.com", &new), Some(record.clone())).await,
        400,
        "verification_record.not_found",
    );
    assert_error(
        &post(body("new@example.com", &record), Some(record.clone())).await,
        400,
        "verification_record.not_found",
    );
    let unverified = a.send_code("email", "fresh@example.com").await.0;
    assert_error(
        &post(body("fresh@example.com", &unverified), Some(record.clone())).await,
        400,
        "verification_record.not_found",
    );
    // Taken by another user.
    let bob =
        a.me.app
            .post("/api/v2/users", &a.me.mgmt, json!({"email": "bob@example.com", "password": "another good password"}))
            .await;
    assert_eq!(bob.status, 201);
    let taken = a.verified_code_record("email", "bob@example.com").await;
    assert_error(&post(body("bob@example.com", &taken), Some(record.clone())).await, 422, "user.email_already_in_use");
    // The scope (400), after the proof.
    let no_email = a.token_for("openid profile").await;
    let r = a
        .call_with(
            &no_email,
            Method::POST,
            "/api/my-account/primary-email",
            Some(body("new@example.com", &new)),
            Some(&record),
        )
        .await;
    assert_error(&r, 400, "auth.unauthorized");
    // The field.
    let mut fields = all_fields_edit();
    fields["email"] = json!("ReadOnly");
    a.set_center(json!({"fields": fields})).await;
    assert_error(
        &post(body("new@example.com", &new), Some(record.clone())).await,
        400,
        "account_center.field_not_editable",
    );
    assert_error(&post(json!({"email": "nope"}), Some(record.clone())).await, 400, "guard.invalid_input");
    assert_eq!(a.profile().await["primaryEmail"], "ada@example.com");
    owned.me.app.stop().await;
}

#[tokio::test]
async fn the_primary_phone_is_added_and_removed_in_digits() {
    let a = account().await;
    let record = a.password_record().await;
    let new = a.verified_code_record("phone", "14155550100").await;
    let body = json!({"phone": "14155550100", "newIdentifierVerificationRecordId": new});
    let r = a.call(Method::POST, "/api/my-account/primary-phone", Some(body), Some(&record)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(a.profile().await["primaryPhone"], "14155550100");
    let r = a
        .call(
            Method::POST,
            "/api/my-account/primary-phone",
            Some(json!({"phone": "+1415", "newIdentifierVerificationRecordId": "x"})),
            Some(&record),
        )
        .await;
    assert_error(&r, 400, "guard.invalid_input");
    // With email and phone, either can go; the last cannot.
    let r = a.call(Method::DELETE, "/api/my-account/primary-phone", None, Some(&record)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(a.profile().await["primaryPhone"], json!(null));
    let r = a.call(Method::DELETE, "/api/my-account/primary-email", None, Some(&record)).await;
    assert_error(&r, 400, "user.last_sign_in_method_required");
    let r = a.call(Method::DELETE, "/api/my-account/primary-phone", None, None).await;
    assert_error(&r, 401, "verification_record.permission_denied");
    a.me.app.stop().await;
}

#[tokio::test]
async fn the_password_changes_with_proof_and_the_tenants_policy() {
    let a = account().await;
    let new = json!({"password": "A brand new passphrase 1"});
    // The user has an email and a password: proof is required.
    let r = a.call(Method::POST, "/api/my-account/password", Some(new.clone()), None).await;
    assert_error(&r, 401, "verification_record.permission_denied");
    let record = a.password_record().await;
    let r = a.call(Method::POST, "/api/my-account/password", Some(json!({"password": PASSWORD})), Some(&record)).await;
    assert_error(&r, 422, "user.same_password");
    let r = a.call(Method::POST, "/api/my-account/password", Some(json!({"password": "short"})), Some(&record)).await;
    assert_error(&r, 422, "password.rejected");
    assert!(r.body["data"].as_array().is_some_and(|d| !d.is_empty()), "{}", r.text);
    let r = a.call(Method::POST, "/api/my-account/password", Some(new), Some(&record)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    a.token_as(crate::me::EMAIL, "A brand new passphrase 1", "openid").await;
    let old = a.call(Method::POST, "/api/verifications/password", Some(json!({"password": PASSWORD})), None).await;
    assert_error(&old, 422, "session.invalid_credentials");
    a.set_center(json!({"fields": {"password": "ReadOnly"}})).await;
    let body = json!({"password": "A brand new passphrase 1"});
    let r = a.call(Method::POST, "/api/verifications/password", Some(body), None).await;
    let record = r.body["verificationRecordId"].as_str().unwrap().to_string();
    let r = a
        .call(
            Method::POST,
            "/api/my-account/password",
            Some(json!({"password": "Yet another passphrase 2"})),
            Some(&record),
        )
        .await;
    assert_error(&r, 400, "account_center.field_not_editable");
    a.me.app.stop().await;
}

#[tokio::test]
async fn identities_answer_in_logtos_order_without_a_social_upstream() {
    let a = account_with(json!({"social": "Edit"})).await;
    let record = a.password_record().await;
    let link = json!({"newIdentifierVerificationRecordId": record});
    for method in [Method::POST, Method::PUT, Method::PATCH] {
        let r = a.call(method.clone(), "/api/my-account/identities", Some(link.clone()), Some(&record)).await;
        assert_error(&r, 400, "verification_record.not_found");
    }
    let r = a.call(Method::POST, "/api/my-account/identities", Some(link.clone()), None).await;
    assert_error(&r, 401, "verification_record.permission_denied");
    let r = a.call(Method::DELETE, "/api/my-account/identities/github", None, Some(&record)).await;
    assert_error(&r, 404, "user.identity_not_exist");
    let no_identities = a.token_for("openid profile").await;
    let r = a
        .call_with(&no_identities, Method::POST, "/api/my-account/identities", Some(link.clone()), Some(&record))
        .await;
    assert_error(&r, 401, "auth.unauthorized");
    let r = a.call_with(&no_identities, Method::DELETE, "/api/my-account/identities/github", None, Some(&record)).await;
    assert_error(&r, 400, "auth.unauthorized");
    a.set_center(json!({"fields": {"social": "ReadOnly"}})).await;
    let r = a.call_with(&no_identities, Method::DELETE, "/api/my-account/identities/github", None, None).await;
    assert_error(&r, 400, "account_center.field_not_editable");
    a.me.app.stop().await;
}
