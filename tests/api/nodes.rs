//! Two accountd nodes on one PostgreSQL (issue 16, item 6): a sign-in started on one node finishes
//! on the other, and a signing key rotated on one is honoured by the other at once.
//! (Shared limits, proof ids, one-time codes and revocations across nodes are tested where those
//! features are: `me/brute_force.rs`, `me/errors.rs`, `tests/replay.rs`, `account/sessions.rs`.)

use serde_json::json;

use crate::me::{CALLBACK, CHALLENGE, EMAIL, Me, PASSWORD, signed_in};
use crate::util::browser::Browser;

/// A request to node B for the public host both nodes serve (node A's address stands for it: the
/// tenant, issuer and audiences follow the Host header, as behind a load balancer).
async fn on_b(me: &Me, b: &crate::util::TestApp, path: &str, token: &str) -> crate::util::Resp {
    let host = me.app.base.trim_start_matches("http://").to_string();
    let r = reqwest::Client::new()
        .get(format!("{}{path}", b.base))
        .header("host", host)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    crate::util::Resp { status, headers, body: serde_json::from_str(&text).unwrap_or_default(), text }
}

fn base64_header(v: &serde_json::Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

fn on_postgres() -> bool {
    matches!(accountd_store::testdb::Backend::from_env(), accountd_store::testdb::Backend::Postgres)
}

#[tokio::test]
async fn a_sign_in_started_on_one_node_finishes_on_the_other() {
    if !on_postgres() {
        return; // A SQLite file has one server; nodes share PostgreSQL.
    }
    let me = signed_in("127.0.0.1").await;
    let b = me.app.another_node().await;
    let params = [
        ("response_type", "code"),
        ("client_id", me.client_id.as_str()),
        ("redirect_uri", CALLBACK),
        ("scope", "openid"),
        ("state", "s"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    // The page from node A, the form posted to node B (one browser, one public host).
    let mut host = reqwest::header::HeaderMap::new();
    host.insert("host", me.app.base.trim_start_matches("http://").parse().unwrap());
    let mut browser = Browser::with_headers(me.app.port, host);
    let page =
        browser.get(&format!("{}/authorize?{}", me.app.base, serde_urlencoded::to_string(params).unwrap())).await;
    let flow = page.hidden("flow").expect("sign-in form");
    let done = browser
        .post_form(&format!("{}/u/login", b.base), &[("flow", &flow), ("identifier", EMAIL), ("password", PASSWORD)])
        .await;
    let code = done.param("code").unwrap_or_else(|| panic!("node B did not finish A's sign-in: {}", done.html));
    // The code from node B is exchanged on node A.
    let t = me.exchange(&code).await;
    assert!(t["id_token"].is_string(), "{t}");
}

#[tokio::test]
async fn a_key_rotated_on_one_node_is_honoured_on_the_other() {
    if !on_postgres() {
        return;
    }
    let me: Me = signed_in("127.0.0.1").await;
    let b = me.app.another_node().await;
    // Node B has served a token, so it holds the old key set.
    assert_eq!(on_b(&me, &b, "/me/v1/factors", &me.token).await.status, 200);
    let r = me.app.post("/api/v2/keys/signing/rotate", &me.mgmt, json!({})).await;
    assert!(r.status.is_success(), "{}", r.text);
    let kid = r.body["kid"].as_str().unwrap_or_default().to_string();
    // A token signed on node A with the new key.
    let token = me.sign_in(&crate::me::ME_SCOPES.join(" ")).await;
    let header: serde_json::Value = {
        use base64::Engine;
        let h = token.split('.').next().unwrap();
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(h).unwrap()).unwrap()
    };
    if !kid.is_empty() {
        assert_eq!(header["kid"], json!(kid), "the new token is not signed with the new key");
    }
    // Node B has never seen the new kid: it reloads its keys for it at once.
    let r = on_b(&me, &b, "/me/v1/factors", &token).await;
    assert_eq!(r.status, 200, "node B refused a token of the key rotated on node A: {}", r.text);
    // A made-up kid costs at most one reload every few seconds, and is refused.
    let forged = format!(
        "{}.{}",
        base64_header(&json!({"alg": "RS256", "typ": "at+jwt", "kid": "made-up"})),
        token.split_once('.').unwrap().1
    );
    for _ in 0..3 {
        assert_eq!(on_b(&me, &b, "/me/v1/factors", &forged).await.status, 401);
    }
    // And node B's JWKS publishes it.
    let jwks = on_b(&me, &b, "/.well-known/jwks.json", "").await;
    assert!(jwks.text.contains(header["kid"].as_str().unwrap()), "{}", jwks.text);
}
