//! The account export (issue 15, point 3): everything accountd holds about the user as one
//! document, through Logto's dialect (`GET /api/my-account/export`, with a verification record)
//! and Auth0's (`GET /me/v1/export`, after a recent sign-in) — and no secret in it: the test
//! looks for the password, its hash, the TOTP secret, the backup codes and the token kept from
//! the linked provider, and finds none.

use reqwest::Method;
use serde_json::Value;

use super::social::{access_token, link, social_record, with_upstream};
use super::{ALL_SCOPES, assert_error};
use crate::me::{EMAIL, PASSWORD};

const EXPORT_SCOPE: &str = "urn:accountd:scope:export";

fn kinds<'a>(list: &'a Value, key: &str) -> Vec<&'a str> {
    list.as_array().unwrap().iter().filter_map(|e| e[key].as_str()).collect()
}

#[tokio::test]
async fn the_export_holds_every_item_and_no_secret_in_both_dialects() {
    let (a, _up) = with_upstream(60).await;
    let record = social_record(&a, "bob").await;
    assert_eq!(link(&a, &record).await.status, 204);
    let r = access_token(&a).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let vault_token = r.body["access_token"].as_str().unwrap().to_string();
    // Tokens first: once a second factor is on, the test's sign-in helper cannot sign in.
    let token = a.token_for(&format!("{ALL_SCOPES} {EXPORT_SCOPE}")).await;
    let narrow = a.me.sign_in("read:me:profile").await;
    let totp_secret = a.add_totp().await;
    let backup_codes = a.add_backup_codes().await;

    // Logto's dialect: a verification record is the proof, as for its sensitive changes.
    let r = a.send(&token, Method::GET, "/api/my-account/export", None, &[]).await;
    assert_error(&r, 401, "verification_record.permission_denied");
    let r = a.get("/api/my-account/export").await;
    assert_eq!(r.status, 401, "without {EXPORT_SCOPE}: {}", r.text);
    let proof = a.password_record().await;
    let r = a.send(&token, Method::GET, "/api/my-account/export", None, &[("logto-verification-id", &proof)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.header("content-disposition").unwrap().starts_with("attachment"), "a file to keep");
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let doc = r.body.clone();
    assert_eq!(doc["format"], "accountd.account-export/1");
    assert_eq!(doc["profile"]["email"], EMAIL);
    assert_eq!(doc["profile"]["user_id"], a.me.user_id.as_str());
    assert!(doc["profile"]["custom_data"].is_object(), "{doc:#}");
    let methods = kinds(&doc["authentication_methods"], "type");
    for t in ["password", "totp", "recovery-code"] {
        assert!(methods.contains(&t), "no {t} method: {methods:?}");
    }
    let identity = &doc["linked_identities"][0];
    assert_eq!((identity["connection"].as_str(), identity["subject"].as_str()), (Some("upstream"), Some("bob")));
    assert_eq!(identity["holds_tokens"], true);
    assert!(doc["sessions"].as_array().unwrap().iter().any(|s| s["current"] == true), "{doc:#}");
    assert!(!doc["grants"].as_array().unwrap().is_empty(), "{doc:#}");
    assert!(doc["consents"].is_array());
    let events = kinds(&doc["security_events"], "type");
    for t in ["identity_linked", "linked_token_read", "method_added", "signed_in", "account_created"] {
        assert!(events.contains(&t), "no {t} in the timeline: {events:?}");
    }

    // No secret anywhere in it.
    let text = doc.to_string();
    let hash: String =
        a.me.app.sql_scalar("SELECT secret FROM authentication_methods WHERE method_type = 'password'").await;
    assert!(hash.starts_with("$argon2id$"), "the test reads the stored hash: {hash}");
    let mut secrets = vec![
        ("the password", PASSWORD.to_string()),
        ("the password hash", hash),
        ("the TOTP secret", totp_secret),
        ("the upstream access token", vault_token),
    ];
    secrets.extend(backup_codes.into_iter().map(|c| ("a backup code", c)));
    for (what, secret) in &secrets {
        assert!(!text.contains(secret.as_str()), "the export holds {what}");
    }

    // Auth0's dialect: the same document, after a recent sign-in; the first export is in it.
    let r = a.me.get("/export").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["format"], "accountd.account-export/1");
    assert_eq!(r.body["profile"], doc["profile"]);
    assert_eq!(r.body["authentication_methods"], doc["authentication_methods"]);
    assert_eq!(kinds(&r.body["security_events"], "type")[0], "account_exported");
    let r = crate::account::send_to(&a.me.base, &narrow, Method::GET, "/me/v1/export", None, &[]).await;
    assert_eq!(r.status, 403, "{}", r.text);
    a.me.app.stop().await;
}
