//! `/api/verifications`: records by password and by code — what proves identity and what does
//! not (missing, expired, foreign, unverified, wrong kind), reuse until expiry, and the limits on
//! guesses and sends, held under parallel bursts.

use reqwest::Method;
use serde_json::{Value, json};

use super::{account, assert_error};
use crate::me::PASSWORD;

#[tokio::test]
async fn a_password_record_proves_identity_many_times_until_it_expires() {
    let a = account().await;
    let wrong = a.call(Method::POST, "/api/verifications/password", Some(json!({"password": "nope"})), None).await;
    assert_error(&wrong, 422, "session.invalid_credentials");
    let empty = a.call(Method::POST, "/api/verifications/password", Some(json!({"password": ""})), None).await;
    assert_error(&empty, 400, "guard.invalid_input");
    let r = a.call(Method::POST, "/api/verifications/password", Some(json!({"password": PASSWORD})), None).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let record = r.body["verificationRecordId"].as_str().unwrap().to_string();
    let expires = r.body["expiresAt"].as_str().unwrap();
    assert!(expires.ends_with('Z') && expires.contains('T'), "{expires}");
    // Reused: nothing consumes it.
    for name in ["ada1", "ada2"] {
        let r = a.call(Method::PATCH, "/api/my-account", Some(json!({"username": name})), Some(&record)).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    // Expired: no proof, and nothing changes.
    a.me.app.sql(&format!("UPDATE verification_records SET expires_at = 1 WHERE id = '{record}'")).await;
    let r = a.call(Method::PATCH, "/api/my-account", Some(json!({"username": "ada3"})), Some(&record)).await;
    assert_error(&r, 401, "verification_record.permission_denied");
    assert_eq!(a.profile().await["username"], "ada2");
    a.me.app.stop().await;
}

#[tokio::test]
async fn only_a_code_to_the_users_own_address_proves_identity() {
    let a = account().await;
    // To the user's own email: UserPermissionValidation, a proof once verified.
    let (own, code) = a.send_code("email", "ada@example.com").await;
    let owned = a;
    let a = &owned;
    let patch = |record: String| async move {
        a.call(Method::PATCH, "/api/my-account", Some(json!({"username": "ada_x"})), Some(&record)).await
    };
    assert_error(&patch(own.clone()).await, 401, "verification_record.permission_denied");
    let verify = |id: &str, value: &str, code: &str| {
        let body = json!({"identifier": {"type": "email", "value": value}, "verificationId": id, "code": code});
        a.call(Method::PATCH, "/api/verifications/verification-code/verify", Some(body), None)
    };
    assert_error(&verify(&own, "other@example.com", &code).await, 400, "verification_code.email_mismatch");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_error(&verify(&own, "ada@example.com", wrong).await, 400, "verification_code.code_mismatch");
    let r = verify(&own, "ada@example.com", &code).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"verificationRecordId": own}));
    // A code is used once.
    assert_error(&verify(&own, "ada@example.com", &code).await, 400, "verification_code.not_found");
    assert_eq!(patch(own.clone()).await.status, 200);
    // To a new address: it proves that address, not the user.
    let new = a.verified_code_record("email", "new@example.com").await;
    let r = a.call(Method::PATCH, "/api/my-account", Some(json!({"username": "ada_y"})), Some(&new)).await;
    assert_error(&r, 401, "verification_record.permission_denied");
    // A record of another kind or an unknown id is not found.
    let phone = json!({"identifier": {"type": "phone", "value": "14155550100"}, "verificationId": own, "code": code});
    let r = a.call(Method::POST, "/api/verifications/verification-code/verify", Some(phone), None).await;
    assert_error(&r, 400, "verification_record.not_found");
    assert_eq!(a.profile().await["username"], "ada_x");
    owned.me.app.stop().await;
}

#[tokio::test]
async fn a_burst_of_guesses_at_one_code_gets_ten_checks() {
    let a = account().await;
    let (id, code) = a.send_code("email", "ada@example.com").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let body =
        json!({"identifier": {"type": "email", "value": "ada@example.com"}, "verificationId": id, "code": wrong});
    let answers = a.burst(40, Method::POST, "/api/verifications/verification-code/verify", body).await;
    let codes: Vec<String> = answers.iter().map(|r| r.body["code"].as_str().unwrap_or("").to_string()).collect();
    assert_eq!(codes.iter().filter(|c| *c == "verification_code.code_mismatch").count(), 10, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| *c == "verification_code.exceed_max_try").count(), 30, "{codes:?}");
    // The right code, after the burst, is refused too.
    let right =
        json!({"identifier": {"type": "email", "value": "ada@example.com"}, "verificationId": id, "code": code});
    let r = a.call(Method::POST, "/api/verifications/verification-code/verify", Some(right), None).await;
    assert_error(&r, 400, "verification_code.exceed_max_try");
    a.me.app.stop().await;
}

#[tokio::test]
async fn a_burst_of_sends_to_one_recipient_sends_ten() {
    let a = account().await;
    let body = json!({"identifier": {"type": "email", "value": "friend@example.com"}});
    let answers = a.burst(25, Method::POST, "/api/verifications/verification-code", body).await;
    let sent = answers.iter().filter(|r| r.status == 201).count();
    let limited: Vec<&crate::util::Resp> = answers.iter().filter(|r| r.status == 429).collect();
    assert_eq!((sent, limited.len()), (10, 15));
    assert_eq!(limited[0].body["code"], "request.message_rate_limited");
    assert!(limited[0].header("retry-after").is_some());
    let outbox = a.me.app.get("/api/v2/connectors/outbox?to=friend%40example.com&limit=100", &a.me.mgmt).await;
    assert_eq!(outbox.body.as_array().unwrap().len(), 10, "more codes left than the limit");
    a.me.app.stop().await;
}

#[tokio::test]
async fn blocked_and_unlisted_emails_get_no_code() {
    let a = account().await;
    let policy = json!({"email_policy": {"blocklist": ["*@evil.test"], "allowlist": []}});
    a.me.set_policy(policy).await;
    let r = a
        .call(
            Method::POST,
            "/api/verifications/verification-code",
            Some(json!({"identifier": {"type": "email", "value": "Mallory@EVIL.test"}})),
            None,
        )
        .await;
    assert_error(&r, 422, "session.email_blocklist.email_not_allowed");
    let outbox = a.me.app.get("/api/v2/connectors/outbox?to=mallory%40evil.test", &a.me.mgmt).await;
    assert_eq!(outbox.body, Value::Array(vec![]));
    // Bad identifiers are the guard's.
    for bad in [
        json!({"type": "email", "value": "nope"}),
        json!({"type": "phone", "value": "+1415"}),
        json!({"type": "fax", "value": "1"}),
    ] {
        let r =
            a.call(Method::POST, "/api/verifications/verification-code", Some(json!({"identifier": bad})), None).await;
        assert_error(&r, 400, "guard.invalid_input");
    }
    a.me.app.stop().await;
}

#[tokio::test]
async fn a_burst_of_wrong_passwords_gets_five_checks_then_the_lockout() {
    let a = account().await;
    let answers = a.burst(30, Method::POST, "/api/verifications/password", json!({"password": "wrong guess"})).await;
    let codes: Vec<&str> = answers.iter().map(|r| r.body["code"].as_str().unwrap_or("")).collect();
    let checked = codes.iter().filter(|c| **c == "session.invalid_credentials").count();
    let blocked = codes.iter().filter(|c| **c == "session.verification_blocked_too_many_attempts").count();
    // The fifth wrong guess locks; every answer after it is the lockout.
    assert_eq!((checked + blocked, checked), (30, 4), "{codes:?}");
    assert!(answers.iter().all(|r| r.status == 422 || r.status == 400));
    // The right password, after the burst, is refused too: nothing was checked.
    let r = a.call(Method::POST, "/api/verifications/password", Some(json!({"password": PASSWORD})), None).await;
    assert_error(&r, 400, "session.verification_blocked_too_many_attempts");
    let failures = a
        .me
        .app
        .sql_count(
            "SELECT count(*) FROM audit_events WHERE action = 'account.verification.password' AND result = 'failure'",
        )
        .await;
    assert_eq!(failures, 5, "more passwords were checked than the limit");
    a.me.app.stop().await;
}
