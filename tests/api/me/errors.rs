//! Bad input to /me/v1 gets the spec's status and body, and changes nothing.

use reqwest::Method;
use serde_json::json;

use super::{Me, error_type, signed_in, signed_in_with};

async fn assert_nothing_enrolled(me: &Me) {
    let ids = me.method_ids().await;
    assert_eq!(ids, vec![format!("password|{}", me.user_id)], "only the password remains");
}

#[tokio::test]
async fn bodies_are_validated_against_the_schemas() {
    let me = signed_in("127.0.0.1").await;
    let cases = [
        (json!({"type": "sms"}), "/type", "must be equal to one of the allowed values"),
        (json!({}), "/type", "must have required property 'type'"),
        (json!({"type": "totp", "extra": 1}), "/extra", "must NOT have additional properties"),
        (json!({"type": "email"}), "/email", "must have required property 'email'"),
        (json!({"type": "email", "email": 5}), "/email", "data/email must be string"),
        (json!({"type": "phone", "phone_number": "5551234"}), "/phone_number", "must match pattern"),
        (
            json!({"type": "phone", "phone_number": "+15551234567", "preferred_authentication_method": "fax"}),
            "/preferred_authentication_method",
            "data/preferred_authentication_method must be equal to one of the allowed values",
        ),
        (json!({"type": "passkey", "connection": "bad connection!"}), "/connection", "must match pattern"),
        (json!({"type": "passkey", "connection": ""}), "/connection", "must NOT have fewer than 1 characters"),
    ];
    for (body, pointer, detail) in cases {
        let r = me.post("/authentication-methods", body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert_eq!(error_type(&r), "A0E-400-0003", "{}", r.text);
        assert_eq!(r.body["title"], "Validation Error");
        assert_eq!(r.body["status"], 400);
        let e = &r.body["validation_errors"][0];
        assert_eq!(e["pointer"], pointer, "{body}: {}", r.text);
        assert!(e["detail"].as_str().unwrap().contains(detail), "{body}: {}", r.text);
    }
    // Not JSON at all.
    let r = me.app.post_raw(&me.url("/authentication-methods"), Some(&me.token), "text/plain", "type=totp").await;
    assert_eq!(r.status, 415, "{}", r.text);
    assert_eq!(r.body["status"], 415);
    assert_nothing_enrolled(&me).await;
    me.app.stop().await;
}

#[tokio::test]
async fn verification_refuses_wrong_reused_and_foreign_sessions() {
    let me = signed_in("127.0.0.1").await;
    let (r, location) = me.enroll(json!({"type": "totp"})).await;
    let session = r.body["auth_session"].as_str().unwrap().to_string();
    let secret = r.body["manual_input_code"].as_str().unwrap().to_string();
    let (other, other_location) = me.enroll(json!({"type": "recovery-code"})).await;
    // A session for another method.
    let r = me.post(&format!("{other_location}/verify"), json!({"auth_session": session})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    // Made-up session.
    let r = me.post(&format!("{location}/verify"), json!({"auth_session": "nope", "otp_code": "123456"})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(error_type(&r), "A0E-400-0004");
    // Missing code for a TOTP, and a field of another variant.
    let r = me.post(&format!("{location}/verify"), json!({"auth_session": session})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["validation_errors"][0]["pointer"], "/otp_code");
    let r = me
        .post(&format!("{location}/verify"), json!({"auth_session": session, "otp_code": "1", "new_password": "x"}))
        .await;
    assert_eq!(r.body["validation_errors"][0]["pointer"], "/new_password", "{}", r.text);
    // Five wrong codes end the enrollment: even the right code is refused after that.
    for _ in 0..5 {
        let r = me.post(&format!("{location}/verify"), json!({"auth_session": session, "otp_code": "99999x"})).await;
        assert_eq!(r.status, 400);
    }
    let code = accountd_core::authn::totp::current_code(&secret).unwrap();
    let r = me.post(&format!("{location}/verify"), json!({"auth_session": session, "otp_code": code})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(!me.method_ids().await.iter().any(|i| i.starts_with("totp|")));
    // Another user's session: a second user cannot finish the first user's enrollment.
    let mgmt = &me.mgmt;
    me.app.post("/api/v2/users", mgmt, json!({"email": "bob@example.com", "password": "another horse battery"})).await;
    let bob = bob_token(&me).await;
    let r = me
        .app
        .request(
            Method::POST,
            &format!("{other_location}/verify"),
            Some(&bob),
            Some(json!({"auth_session": other.body["auth_session"]})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    // The first user still can.
    let r = me.post(&format!("{other_location}/verify"), json!({"auth_session": other.body["auth_session"]})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    me.app.stop().await;
}

#[tokio::test]
async fn an_expired_auth_session_is_refused_and_enrolls_nothing() {
    let me = signed_in("127.0.0.1").await;
    let (r, location) = me.enroll(json!({"type": "totp"})).await;
    let session = r.body["auth_session"].as_str().unwrap().to_string();
    let secret = r.body["manual_input_code"].as_str().unwrap().to_string();
    // Its five minutes are over (moved into the past rather than waited for).
    let expired = me.app.sql("UPDATE pending_verifications SET expires_at = created_at - 1").await;
    assert_eq!(expired, 1);
    let code = accountd_core::authn::totp::current_code(&secret).unwrap();
    let r = me.post(&format!("{location}/verify"), json!({"auth_session": session, "otp_code": code})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(error_type(&r), "A0E-400-0004");
    assert!(r.body["detail"].as_str().unwrap().contains("expired"), "{}", r.text);
    assert!(!me.method_ids().await.iter().any(|i| i.starts_with("totp|")), "an expired session enrolled");
    me.app.stop().await;
}

async fn bob_token(me: &Me) -> String {
    let scope = "create:me:authentication_methods read:me:authentication_methods delete:me:authentication_methods";
    me.sign_in_as("bob@example.com", "another horse battery", scope).await
}

#[tokio::test]
async fn another_users_method_is_not_found_and_not_deleted() {
    let me = signed_in("127.0.0.1").await;
    me.app
        .post("/api/v2/users", &me.mgmt, json!({"email": "bob@example.com", "password": "another horse battery"}))
        .await;
    let bob = bob_token(&me).await;
    let (r, location) = me.enroll(json!({"type": "recovery-code"})).await;
    let id = me.post(&format!("{location}/verify"), json!({"auth_session": r.body["auth_session"]})).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let url = me.url(&format!("/authentication-methods/{id}"));
    assert_eq!(me.app.request(Method::GET, &url, Some(&bob), None).await.status, 404);
    assert_eq!(me.app.request(Method::DELETE, &url, Some(&bob), None).await.status, 404);
    assert!(me.method_ids().await.contains(&id));
    me.app.stop().await;
}

#[tokio::test]
async fn tokens_need_the_endpoint_scope_this_host_and_their_own_scheme() {
    let me = signed_in("127.0.0.1").await;
    // No token.
    let r = me.app.request(Method::GET, &me.url("/authentication-methods"), None, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(error_type(&r), "A0E-401-0001");
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
    // Missing scope.
    let read_only = Me { token: me.sign_in("read:me:authentication_methods").await, ..me };
    let r = read_only.post("/authentication-methods", json!({"type": "totp"})).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.body["title"], "insufficient_scope");
    assert_eq!(error_type(&r), "A0E-403-0002");
    let r = read_only.get("/factors").await;
    assert_eq!(r.status, 403, "{}", r.text);
    // Another host (its audience differs): the token is refused.
    let other = format!("{}/me/v1/authentication-methods", read_only.app.base_for("localhost"));
    let r = read_only.app.request(Method::GET, &other, Some(&read_only.token), None).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(error_type(&r), "A0E-401-0003");
    // Unknown path under /me speaks this API's error format.
    let r = read_only.get("/sessions").await;
    assert_eq!(r.status, 404);
    assert_eq!(error_type(&r), "A0E-404-0001");
    read_only.app.stop().await;
}

#[tokio::test]
async fn every_answer_reports_the_rate_limit_and_excess_is_refused() {
    let me = signed_in("127.0.0.1").await;
    me.set_policy(json!({"rate_limits": {"tenant_reads_per_second": 100, "tenant_writes_per_second": 100,
                                         "user_reads_per_minute": 3, "user_writes_per_minute": 10}}))
        .await;
    let mut remaining = vec![];
    for _ in 0..3 {
        let r = me.get("/authentication-methods").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-ratelimit-limit"), Some("3"));
        remaining.push(r.header("x-ratelimit-remaining").unwrap().parse::<u32>().unwrap());
        let reset: u64 = r.header("x-ratelimit-reset").unwrap().parse().unwrap();
        assert!(reset >= std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs());
    }
    assert_eq!(remaining, vec![2, 1, 0]);
    let r = me.get("/authentication-methods").await;
    assert_eq!(r.status, 429, "{}", r.text);
    assert_eq!(error_type(&r), "A0E-429-0001");
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    // Writes are counted apart.
    assert_eq!(me.post("/authentication-methods", json!({"type": "totp"})).await.status, 202);
    me.app.stop().await;
}

/// With `redis.url` set, two nodes count one user's requests together (the limit is not per
/// node), and a DPoP proof spent on one node is refused on the other.
#[tokio::test]
async fn with_redis_nodes_share_limits_and_proof_ids() {
    use crate::util::dpop::DpopKey;
    let me = signed_in_with("127.0.0.1", |cfg| {
        cfg.redis.url = crate::util::redis_url();
        // Every test's default tenant has the same id: keep this run's counters apart.
        cfg.redis.key_prefix = format!("accountd-test-{}", accountd_core::secret::random_alnum(8));
    })
    .await;
    me.set_policy(json!({"rate_limits": {"tenant_reads_per_second": 100, "tenant_writes_per_second": 100,
                                         "user_reads_per_minute": 4, "user_writes_per_minute": 10}}))
        .await;
    let other = me.app.another_node().await;
    // Behind a balancer both nodes see the same Host (the token's issuer and audience name it).
    let host = me.base.trim_start_matches("http://").to_string();
    let other_url = format!("{}/me/v1/authentication-methods", other.base);
    let on_other = || async {
        let r =
            reqwest::Client::new().get(&other_url).header("host", &host).bearer_auth(&me.token).send().await.unwrap();
        let (status, headers) = (r.status(), r.headers().clone());
        let text = r.text().await.unwrap();
        crate::util::Resp { status, headers, body: serde_json::from_str(&text).unwrap_or_default(), text }
    };
    let mut remaining = vec![];
    for i in 0..4 {
        let r = if i % 2 == 0 { me.get("/authentication-methods").await } else { on_other().await };
        assert_eq!(r.status, 200, "{}", r.text);
        remaining.push(r.header("x-ratelimit-remaining").unwrap().to_string());
    }
    assert_eq!(remaining, ["3", "2", "1", "0"], "the nodes counted apart");
    let r = on_other().await;
    assert_eq!(r.status, 429, "{}", r.text);
    assert_eq!(error_type(&r), "A0E-429-0001");
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(me.get("/authentication-methods").await.status, 429);

    // A DPoP proof checked on one node is a replay on the other (another user: this one is out
    // of reads).
    me.app
        .post("/api/v2/users", &me.mgmt, json!({"email": "bob@example.com", "password": "another horse battery"}))
        .await;
    let key = DpopKey::new();
    let code =
        me.authorization_code_for("bob@example.com", "another horse battery", "read:me:authentication_methods").await;
    let token = dpop_token(&me, &key, &code).await;
    let url = format!("{}/me/v1/authentication-methods", me.base);
    let proof = key.proof("GET", &url, Some(&token), None);
    let send = |base: &str| {
        reqwest::Client::new()
            .get(format!("{base}/me/v1/authentication-methods"))
            .header("host", &host)
            .header("authorization", format!("DPoP {token}"))
            .header("dpop", &proof)
            .send()
    };
    assert_eq!(send(&me.base).await.unwrap().status(), 200);
    let replay = send(&other.base).await.unwrap();
    assert_eq!(replay.status(), 401);
    assert!(replay.headers()["www-authenticate"].to_str().unwrap().contains("replayed"));
    other.stop().await;
    me.app.stop().await;
}

/// Exchanges `code` for a token bound to `key`.
async fn dpop_token(me: &Me, key: &crate::util::dpop::DpopKey, code: &str) -> String {
    let token_url = format!("{}/oauth/token", me.base);
    let t = reqwest::Client::new()
        .post(&token_url)
        .header("dpop", key.proof("POST", &token_url, None, None))
        .json(&json!({"grant_type": "authorization_code", "client_id": me.client_id, "code": code,
                      "redirect_uri": super::CALLBACK, "code_verifier": Me::VERIFIER}))
        .send()
        .await
        .unwrap();
    assert_eq!(t.status(), 200);
    let body: serde_json::Value = t.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP");
    body["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_dpop_bound_token_needs_its_proof() {
    use crate::util::dpop::DpopKey;
    let me = signed_in("127.0.0.1").await;
    let key = DpopKey::new();
    let code = me.authorization_code("read:me:authentication_methods").await;
    let token = dpop_token(&me, &key, &code).await;
    let url = me.url("/authentication-methods");
    // As a Bearer token: refused, in the DPoP scheme.
    let r = me.app.request(Method::GET, &url, Some(&token), None).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(error_type(&r), "A0E-401-0003");
    assert!(r.header("www-authenticate").unwrap().starts_with("DPoP"), "{:?}", r.header("www-authenticate"));
    // With its proof: fine; a replayed proof: refused.
    let proof = key.proof("GET", &url, Some(&token), None);
    let call = |proof: String| {
        let (url, token) = (url.clone(), token.clone());
        async move {
            reqwest::Client::new()
                .get(url)
                .header("authorization", format!("DPoP {token}"))
                .header("dpop", proof)
                .send()
                .await
                .unwrap()
        }
    };
    let ok = call(proof.clone()).await;
    assert_eq!(ok.status(), 200);
    assert!(ok.headers().contains_key("x-ratelimit-remaining"));
    assert_eq!(call(proof).await.status(), 401);
    me.app.stop().await;
}

/// One GET of `url` as the host `host`, with `token` as a Bearer token if any.
async fn get_as(client: &reqwest::Client, url: &str, host: &str, token: Option<&str>) -> crate::util::Resp {
    let mut req = client.get(url).header("host", host);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    let (status, headers) = (r.status(), r.headers().clone());
    let text = r.text().await.unwrap();
    crate::util::Resp { status, headers, body: serde_json::from_str(&text).unwrap_or_default(), text }
}

/// What a parallel burst of requests without a valid token did, while a signed-in user read
/// alongside: the burst's answers (with whether each sent a made-up token or none), the user's
/// answers, and how long it all took.
struct Burst {
    anonymous: Vec<(bool, crate::util::Resp)>,
    user: Vec<crate::util::Resp>,
    elapsed: std::time::Duration,
}

/// `n` requests at once spread over `urls` (nodes), half with the made-up token `x` and half with
/// none, and meanwhile `reads` reads of the user's, a few milliseconds apart.
async fn burst_with_reads(me: &Me, urls: &[String], n: usize, reads: usize) -> Burst {
    let host = me.base.trim_start_matches("http://").to_string();
    let client = reqwest::Client::new();
    let started = std::time::Instant::now();
    let mut anonymous = tokio::task::JoinSet::new();
    for i in 0..n {
        let (client, url, host) = (client.clone(), urls[i % urls.len()].clone(), host.clone());
        let garbage = i % 4 < 2;
        anonymous.spawn(async move { (garbage, get_as(&client, &url, &host, garbage.then_some("x")).await) });
    }
    let mut user = tokio::task::JoinSet::new();
    for i in 0..reads {
        let (client, url, host, token) = (client.clone(), urls[i % urls.len()].clone(), host.clone(), me.token.clone());
        user.spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(25 * i as u64)).await;
            get_as(&client, &url, &host, Some(&token)).await
        });
    }
    let (anonymous, user) = tokio::join!(anonymous.join_all(), user.join_all());
    Burst { anonymous, user, elapsed: started.elapsed() }
}

impl Burst {
    /// Checks the user's reads all answered, reporting the tenant's limit (`tenant_limit`) as
    /// spent by nothing but themselves; and that the burst got 401 from the IP's budget
    /// (`burst`, refilled `per_second`) and 429 in this API's format after it. Returns how many
    /// got 401.
    fn check(&self, tenant_limit: u32, burst: u32, per_second: u32) -> u32 {
        for (i, r) in self.user.iter().enumerate() {
            assert_eq!(r.status, 200, "the user's read {i} during the burst: {}", r.text);
            assert_eq!(r.header("x-ratelimit-limit"), Some(tenant_limit.to_string().as_str()));
            let remaining: u32 = r.header("x-ratelimit-remaining").unwrap().parse().unwrap();
            let own = self.user.len() as u32;
            assert!(
                remaining + own >= tenant_limit,
                "read {i}: {remaining} left of {tenant_limit} after {own} own reads"
            );
        }
        let statuses: Vec<u16> = self.anonymous.iter().map(|(_, r)| r.status.as_u16()).collect();
        assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
        let unauthorized = statuses.iter().filter(|s| **s == 401).count() as u32;
        let most = burst + per_second * self.elapsed.as_secs_f64().ceil() as u32 + 1;
        assert!(
            (burst..=most).contains(&unauthorized),
            "{unauthorized} answered 401 in {:?}: the IP's budget is {burst} and {per_second}/s",
            self.elapsed
        );
        for garbage in [true, false] {
            let limited = self.anonymous.iter().find(|(g, r)| *g == garbage && r.status == 429);
            let (_, r) = limited.unwrap_or_else(|| panic!("no 429 for requests with garbage token = {garbage}"));
            assert_eq!(error_type(r), "A0E-429-0001", "{}", r.text);
            assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
            assert_eq!(r.header("x-ratelimit-limit"), Some(burst.to_string().as_str()));
            assert_eq!(r.header("x-auth0-error-kind"), None, "the IP's limit is not the tenant's");
        }
        unauthorized
    }
}

/// Requests with a made-up token or none count against their IP's own budget (default 20 at once,
/// 10 a second): a parallel burst of 200 of them gets 401 and then 429, and neither spends the
/// tenant's budget nor stops a signed-in user's reads.
#[tokio::test]
async fn a_burst_without_valid_tokens_is_limited_per_ip_and_leaves_the_tenants_budget_alone() {
    let me = signed_in("127.0.0.1").await;
    // The tenant's limit is the one the user's answers report (their own is far from running out).
    me.set_policy(json!({"rate_limits": {"tenant_reads_per_second": 10, "tenant_writes_per_second": 10,
                                         "user_reads_per_minute": 1000, "user_writes_per_minute": 1000}}))
        .await;
    let b = burst_with_reads(&me, &[me.url("/authentication-methods")], 200, 5).await;
    b.check(10, 20, 10);
    // Right after it, the tenant's budget still lacks only the user's own reads.
    let r = me.get("/authentication-methods").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.header("x-ratelimit-remaining").unwrap().parse::<u32>().unwrap() >= 10 - 6);
    me.app.stop().await;
}

/// With `redis.url` set, the anonymous per-IP budget is counted once for all nodes: a burst spread
/// over two nodes gets no more 401s than one node allows, and the user's reads on both go on.
#[tokio::test]
async fn with_redis_the_per_ip_limit_of_requests_without_a_token_holds_across_nodes() {
    let me = signed_in_with("127.0.0.1", |cfg| {
        cfg.redis.url = crate::util::redis_url();
        cfg.redis.key_prefix = format!("accountd-test-{}", accountd_core::secret::random_alnum(8));
    })
    .await;
    me.set_policy(json!({"rate_limits": {"tenant_reads_per_second": 10, "tenant_writes_per_second": 10,
                                         "user_reads_per_minute": 1000, "user_writes_per_minute": 1000,
                                         "anonymous_ip_burst": 10, "anonymous_ip_per_second": 1}}))
        .await;
    let other = me.app.another_node().await;
    let urls = [me.url("/authentication-methods"), format!("{}/me/v1/authentication-methods", other.base)];
    let b = burst_with_reads(&me, &urls, 200, 6).await;
    let unauthorized = b.check(10, 10, 1);
    assert!(unauthorized < 20, "{unauthorized} answered 401: the nodes counted apart");
    other.stop().await;
    me.app.stop().await;
}
