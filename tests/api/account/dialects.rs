//! One core, two dialects: a change through Logto's Account API reads the same through Auth0's
//! `/me/v1` at once, and the other way round, on one node and across two sharing one database.

use reqwest::Method;
use serde_json::json;

use super::account;

#[tokio::test]
async fn a_change_in_either_dialect_reads_the_same_in_the_other_on_every_node() {
    let a = account().await;
    // Two nodes share a PostgreSQL database (each told of the other's writes); a SQLite file has
    // one server, so there the second "node" is the first again.
    let postgres = matches!(accountd_store::testdb::Backend::from_env(), accountd_store::testdb::Backend::Postgres);
    let other = a.me.app.another_node().await;
    let other_base = if postgres { other.base.clone() } else { a.me.base.clone() };
    // Both nodes answer for one public host (the token's issuer), as behind a balancer.
    let host = a.me.base.trim_start_matches("http://").to_string();
    let record = a.password_record().await;
    let r = a
        .call(Method::PATCH, "/api/my-account", Some(json!({"name": "Ada King", "username": "ada_k"})), Some(&record))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let new = a.verified_code_record("email", "ada.king@example.com").await;
    let body = json!({"email": "ada.king@example.com", "newIdentifierVerificationRecordId": new});
    assert_eq!(a.call(Method::POST, "/api/my-account/primary-email", Some(body), Some(&record)).await.status, 204);
    let phone = a.verified_code_record("phone", "14155550100").await;
    let body = json!({"phone": "14155550100", "newIdentifierVerificationRecordId": phone});
    assert_eq!(a.call(Method::POST, "/api/my-account/primary-phone", Some(body), Some(&record)).await.status, 204);
    // Auth0's dialect, on this node and on the other.
    for base in [a.me.base.clone(), other_base.clone()] {
        let r = super::send_to(&base, &a.me.token, Method::GET, "/me/v1/profile", None, &[("host", &host)]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["name"], "Ada King");
        assert_eq!(r.body["username"], "ada_k");
        assert_eq!(r.body["email"], "ada.king@example.com");
        assert_eq!(r.body["phone_number"], "+14155550100");
    }
    // And back: Auth0's PATCH, read through Logto's.
    let r =
        a.me.app
            .request(Method::PATCH, &a.me.url("/profile"), Some(&a.me.token), Some(json!({"name": "Countess"})))
            .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(a.profile().await["name"], "Countess");
    let on_other = super::send_to_base(&other_base, &a.token, "/api/my-account").await;
    assert_eq!(on_other["name"], "Countess");
    assert_eq!(on_other["username"], "ada_k");
    // A password changed through Logto signs in everywhere.
    let r = a
        .call(
            Method::POST,
            "/api/my-account/password",
            Some(json!({"password": "A brand new passphrase 1"})),
            Some(&record),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    a.token_as("ada.king@example.com", "A brand new passphrase 1", "openid").await;
    other.stop().await;
    a.me.app.stop().await;
}

#[tokio::test]
async fn the_account_center_governs_auth0s_profile_too() {
    let a = account().await;
    a.set_center(json!({"fields": {"name": "ReadOnly", "profile": "Edit"}})).await;
    let r = a.me.get("/profile").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let policy = &r.body["profile_policy"];
    assert_eq!(policy["/name"]["access"], "read_only");
    assert_eq!(policy["/name"]["reason"], "managed_via_account_center");
    assert_eq!(policy["/given_name"]["access"], "read_write");
    assert_eq!(policy["/user_metadata"]["access"], "read_only");
    assert_eq!(policy["/email"]["reason"], "managed_via_me_identifiers");
    let r = a.me.app.request(Method::PATCH, &a.me.url("/profile"), Some(&a.me.token), Some(json!({"name": "X"}))).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["title"], "read_only_field");
    assert_eq!(r.body["validation_errors"][0]["source"], "managed_via_account_center");
    let r =
        a.me.app
            .request(Method::PATCH, &a.me.url("/profile"), Some(&a.me.token), Some(json!({"given_name": "Augusta"})))
            .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(a.profile().await["name"], "Ada Lovelace");
    assert_eq!(a.profile().await["profile"]["givenName"], "Augusta");
    a.me.app.stop().await;
}
