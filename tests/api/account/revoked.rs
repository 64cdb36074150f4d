//! A token outlives neither its user nor a block: once a user is blocked or deleted through the
//! Management API, every token issued before is refused — by `/me/v1`, `/api/my-account`,
//! `/userinfo` and introspection — at once on this node and, on PostgreSQL, on every node.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use super::{Account, account, assert_error};

/// What each API answers the user's tokens: (/me/v1 methods, /api/my-account, /userinfo,
/// introspection's `active` for the Logto token and for the /me/ token).
pub(super) async fn answers(a: &Account, base: &str, host: &str, web: (&str, &str)) -> (u16, u16, u16, bool, bool) {
    let h = [("host", host)];
    let me = super::send_to(base, &a.me.token, Method::GET, "/me/v1/authentication-methods", None, &h).await;
    let account = super::send_to(base, &a.token, Method::GET, "/api/my-account", None, &h).await;
    let userinfo = super::send_to(base, &a.token, Method::GET, "/userinfo", None, &h).await;
    let introspect = |token: String| async move {
        let form = [("token", token.as_str()), ("client_id", web.0), ("client_secret", web.1)];
        let r = reqwest::Client::new()
            .post(format!("{base}/oauth/introspect"))
            .header("host", host)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).unwrap())
            .send()
            .await
            .unwrap();
        let body: serde_json::Value = r.json().await.unwrap();
        body["active"].as_bool().unwrap_or_else(|| panic!("{body}"))
    };
    if account.status == 401 {
        assert_error(&account, 401, "auth.unauthorized");
    }
    if me.status == 401 {
        assert!(me.header("www-authenticate").is_some_and(|w| w.contains("invalid_token")), "{:?}", me.headers);
    }
    (
        me.status.as_u16(),
        account.status.as_u16(),
        userinfo.status.as_u16(),
        introspect(a.token.clone()).await,
        introspect(a.me.token.clone()).await,
    )
}

pub(super) async fn backend_client(a: &Account) -> (String, String) {
    let web =
        a.me.app
            .post(
                "/api/v2/clients",
                &a.me.mgmt,
                json!({"name": "Backend", "app_type": "regular_web", "callbacks": [crate::me::CALLBACK]}),
            )
            .await;
    (web.body["client_id"].as_str().unwrap().into(), web.body["client_secret"].as_str().unwrap().into())
}

#[tokio::test]
async fn a_blocked_or_deleted_users_tokens_are_refused_everywhere_at_once() {
    let a = account().await;
    let (id, secret) = backend_client(&a).await;
    let web = (id.as_str(), secret.as_str());
    let (base, host) = (a.me.base.clone(), a.me.base.trim_start_matches("http://").to_string());
    assert_eq!(answers(&a, &base, &host, web).await, (200, 200, 200, true, true));
    let user = format!("/api/v2/users/{}", a.me.user_id);
    assert_eq!(a.me.app.patch(&user, &a.me.mgmt, json!({"blocked": true})).await.status, 200);
    assert_eq!(
        answers(&a, &base, &host, web).await,
        (401, 401, 401, false, false),
        "a blocked user's token still works"
    );
    assert_eq!(a.me.app.patch(&user, &a.me.mgmt, json!({"blocked": false})).await.status, 200);
    assert_eq!(
        answers(&a, &base, &host, web).await,
        (200, 200, 200, true, true),
        "unblocking did not restore the user"
    );
    assert_eq!(a.me.app.delete(&user, &a.me.mgmt).await.status, 204);
    let (me, account, userinfo, _, active) = answers(&a, &base, &host, web).await;
    assert_eq!((me, account, userinfo, active), (401, 401, 401, false), "a deleted user's token still works");
    a.me.app.stop().await;
}

#[tokio::test]
async fn a_block_on_one_node_is_honoured_on_the_other_within_a_second() {
    if !matches!(accountd_store::testdb::Backend::from_env(), accountd_store::testdb::Backend::Postgres) {
        return; // A SQLite file has one server; nodes share PostgreSQL.
    }
    let a = account().await;
    let other = a.me.app.another_node().await;
    let (id, secret) = backend_client(&a).await;
    let web = (id.as_str(), secret.as_str());
    let host = a.me.base.trim_start_matches("http://").to_string();
    // The other node has served (and cached) the user before the block.
    assert_eq!(answers(&a, &other.base, &host, web).await, (200, 200, 200, true, true));
    let user = format!("/api/v2/users/{}", a.me.user_id);
    assert_eq!(a.me.app.patch(&user, &a.me.mgmt, json!({"blocked": true})).await.status, 200);
    let start = Instant::now();
    loop {
        let seen = answers(&a, &other.base, &host, web).await;
        if seen == (401, 401, 401, false, false) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(1), "the other node still serves a blocked user: {seen:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    other.stop().await;
    a.me.app.stop().await;
}
