//! Two accountd nodes on one PostgreSQL (issue 16, item 6): a sign-in started on one node finishes
//! on the other, a signing key rotated on one is honoured by the other at once, and a node whose
//! database goes away answers 503 (and `/readyz` says so) until it returns.
//! (Shared limits, proof ids, one-time codes and revocations across nodes are tested where those
//! features are: `me/brute_force.rs`, `me/errors.rs`, `tests/replay.rs`, `account/sessions.rs`.)

use serde_json::json;

use crate::me::{CALLBACK, CHALLENGE, EMAIL, Me, PASSWORD, signed_in};
use crate::util::browser::Browser;

/// A request to node B for the public host both nodes serve (node A's address stands for it: the
/// tenant, issuer and audiences follow the Host header, as behind a load balancer).
async fn to_b(
    me: &Me,
    b: &crate::util::TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<serde_json::Value>,
) -> crate::util::Resp {
    let host = me.app.base.trim_start_matches("http://").to_string();
    let mut r =
        reqwest::Client::new().request(method, format!("{}{path}", b.base)).header("host", host).bearer_auth(token);
    if let Some(body) = body {
        r = r.json(&body);
    }
    let r = r.send().await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    crate::util::Resp { status, headers, body: serde_json::from_str(&text).unwrap_or_default(), text }
}

/// `GET {path}` on node B (see [`to_b`]).
async fn on_b(me: &Me, b: &crate::util::TestApp, path: &str, token: &str) -> crate::util::Resp {
    to_b(me, b, reqwest::Method::GET, path, token, None).await
}

/// `POST {path}` on node B (see [`to_b`]).
async fn post_on_b(
    me: &Me,
    b: &crate::util::TestApp,
    path: &str,
    token: &str,
    body: serde_json::Value,
) -> crate::util::Resp {
    to_b(me, b, reqwest::Method::POST, path, token, Some(body)).await
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

/// `GET {path}` on node B, polled until it answers `want` (at most `secs` seconds).
async fn b_answers(me: &Me, b: &crate::util::TestApp, path: &str, want: u16, secs: u64) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if on_b(me, b, path, "").await.status.as_u16() == want {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_node_whose_database_goes_away_answers_503_and_recovers() {
    if !on_postgres() {
        return; // SQLite is a file of the node itself: it cannot go away on its own.
    }
    let me: Me = signed_in("127.0.0.1").await;
    let url = reqwest::Url::parse(&me.app.config().storage.database_url).unwrap();
    let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let proxy = crate::util::proxy::TcpProxy::start(upstream.clone()).await;
    let b = me
        .app
        .another_node_with(|c| {
            c.storage.database_url = c.storage.database_url.replacen(&upstream, &proxy.addr.to_string(), 1)
        })
        .await;
    assert_eq!(on_b(&me, &b, "/readyz", "").await.status, 200);
    let create = |n: u32| json!({"email": format!("away{n}@example.com"), "password": "a long enough password 7"});
    assert_eq!(post_on_b(&me, &b, "/api/v2/users", &me.mgmt, create(0)).await.status, 201);

    proxy.cut();
    assert!(b_answers(&me, &b, "/readyz", 503, 20).await, "node B is still ready without its database");
    // Work that needs the database is refused as unavailable (503, retry later), not as a fault.
    let r = post_on_b(&me, &b, "/api/v2/users", &me.mgmt, create(1)).await;
    assert_eq!(r.status, 503, "{}", r.text);
    let r = on_b(&me, &b, "/me/v1/factors", &me.token).await;
    assert!(matches!(r.status.as_u16(), 200 | 503), "{} {}", r.status, r.text);
    // Node A, on its own connection, works throughout.
    assert_eq!(me.app.post("/api/v2/users", &me.mgmt, create(2)).await.status, 201);

    proxy.restore();
    assert!(b_answers(&me, &b, "/readyz", 200, 30).await, "node B did not recover when its database came back");
    assert_eq!(post_on_b(&me, &b, "/api/v2/users", &me.mgmt, create(3)).await.status, 201);
    // The refused write wrote nothing.
    assert_eq!(me.app.sql_count("SELECT count(*) FROM users WHERE email = 'away1@example.com'").await, 0);
}

/// Signs the user in on the node at `base` through the hosted form: the code.
async fn sign_in_at(b: &mut Browser, base: &str, query: &str) -> String {
    let page = b.get(&format!("{base}/authorize?{query}")).await;
    let flow = page.hidden("flow").unwrap_or_else(|| panic!("the sign-in form: {}", page.html));
    let done = b
        .post_form(&format!("{base}/u/login"), &[("flow", &flow), ("identifier", EMAIL), ("password", PASSWORD)])
        .await;
    done.param("code").unwrap_or_else(|| panic!("no sign-in: {}", done.html))
}

#[tokio::test]
async fn a_node_killed_mid_flow_loses_nothing_the_other_node_needs() {
    if !on_postgres() {
        return;
    }
    let me: Me = signed_in("127.0.0.1").await;
    // Node A is the binary, on the same database and data directory, so it can be SIGKILLed.
    let cfg = me.app.config();
    let port_a = crate::cli::free_port();
    let (mut node_a, _) = crate::cli::serve(&cfg.storage.data_dir, &cfg.storage.database_url, port_a);
    let a = format!("http://127.0.0.1:{port_a}");
    let params = [
        ("response_type", "code"),
        ("client_id", me.client_id.as_str()),
        ("redirect_uri", CALLBACK),
        ("scope", "openid offline_access"),
        ("state", "s"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let query = serde_urlencoded::to_string(params).unwrap();
    // Browsers of the public host (node B's address stands for it), sent to node A.
    let browser = || {
        let mut host = reqwest::header::HeaderMap::new();
        host.insert("host", me.app.base.trim_start_matches("http://").parse().unwrap());
        Browser::with_headers(me.app.port, host)
    };
    // On node A: one sign-in finished (its code not yet exchanged), one begun, and tokens issued.
    let code = sign_in_at(&mut browser(), &a, &query).await;
    let issued = me.exchange(&sign_in_at(&mut browser(), &a, &query).await).await;
    let mut begun_browser = browser();
    let page = begun_browser.get(&format!("{a}/authorize?{query}")).await;
    let begun = page.hidden("flow").expect("a second sign-in form");

    node_a.kill().unwrap(); // SIGKILL
    node_a.wait().unwrap();

    // Node B exchanges A's code, finishes A's begun sign-in, and refreshes A's tokens.
    let t = me.exchange(&code).await;
    assert!(t["id_token"].is_string(), "{t}");
    let finished = begun_browser
        .post_form(
            &format!("{}/u/login", me.app.base),
            &[("flow", &begun), ("identifier", EMAIL), ("password", PASSWORD)],
        )
        .await;
    let code =
        finished.param("code").unwrap_or_else(|| panic!("node B could not finish A's sign-in: {}", finished.html));
    assert!(me.exchange(&code).await["access_token"].is_string());
    let r = me
        .app
        .request(
            reqwest::Method::POST,
            "/oauth/token",
            None,
            Some(json!({"grant_type": "refresh_token", "client_id": me.client_id,
                        "refresh_token": issued["refresh_token"]})),
        )
        .await;
    assert_eq!(r.status, 200, "node A's refresh token does not work on node B: {}", r.text);
    assert_eq!(me.app.get("/userinfo", r.body["access_token"].as_str().unwrap()).await.status, 200);
}
