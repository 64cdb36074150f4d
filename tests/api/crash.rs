//! Crash safety (issue 16, item 5): the `accountd` binary under a storm of writes through its
//! public APIs — user creation, method enrolments and removals, profile edits, refresh-token
//! rotations — is killed with SIGKILL
//! mid-storm, three times, and restarted on the same data each time. Every write that was answered
//! 2xx must be there and intact after the restart, no rotated refresh token may work again, and the
//! database must pass its integrity check (SQLite `PRAGMA integrity_check`; on PostgreSQL the
//! rows' invariants).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use accountd_store::testdb::{Backend, TestDb};
use serde_json::{Value, json};

use crate::cli::{free_port, serve};
use crate::me::{CALLBACK, CHALLENGE, EMAIL, Me, PASSWORD};
use crate::util::browser::Browser;

/// The user whose methods the storm enrols and removes.
const ENROLLER: &str = "enroller@example.com";

/// What the storm was told succeeded.
#[derive(Default)]
struct Acknowledged {
    users: Vec<String>,
    /// The last profile value acknowledged (values only grow).
    profile: i64,
    /// Refresh tokens exchanged successfully: each must never work again.
    spent: Vec<String>,
    /// The TOTP method whose enrolment was acknowledged and whose removal was not (if any).
    enrolled: Option<String>,
    /// Methods whose removal was acknowledged: each must stay gone.
    removed: Vec<String>,
    /// The enrolled method whose removal was sent when the server died, unanswered: it may be
    /// gone or still there.
    removal_unanswered: Option<String>,
}

/// A server's base URL with a management token, an SPA and a signed-in user.
pub(crate) struct Target {
    pub(crate) base: String,
    pub(crate) client: reqwest::Client,
    pub(crate) mgmt: String,
    pub(crate) spa: String,
}

/// A management token from the first start's printed credentials (they survive restarts).
async fn mgmt_token(base: &str, out: &str, client: &reqwest::Client) -> String {
    let id = out.lines().find_map(|l| l.trim().strip_prefix("client_id:")).unwrap().trim().to_string();
    let secret = out.lines().find_map(|l| l.trim().strip_prefix("client_secret:")).unwrap().trim().to_string();
    let t: Value = client
        .post(format!("{base}/oauth/token"))
        .json(&json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret,
                      "audience": format!("{base}/api/v2/")}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    t["access_token"].as_str().unwrap().to_string()
}

impl Target {
    /// A first-started server's management token (from its printed credentials `out`), an SPA
    /// allowed refresh tokens, and the user `EMAIL` with `PASSWORD`, whose sign-ins may ask for
    /// the My Account API.
    pub(crate) async fn provision(base: &str, out: &str, client: &reqwest::Client) -> Target {
        let mgmt = mgmt_token(base, out, client).await;
        let mut t = Target { base: base.to_string(), client: client.clone(), mgmt: mgmt.clone(), spa: String::new() };
        let (status, spa) = t
            .post(
                "/api/v2/clients",
                &mgmt,
                json!({"name": "SPA", "app_type": "spa", "callbacks": [CALLBACK],
                       "grant_types": ["authorization_code", "refresh_token"]}),
            )
            .await;
        assert_eq!(status, 201, "{spa}");
        t.spa = spa["client_id"].as_str().unwrap().to_string();
        let (status, user) = t.post("/api/v2/users", &mgmt, json!({"email": EMAIL, "password": PASSWORD})).await;
        assert_eq!(status, 201, "{user}");
        let (status, grant) = t
            .post(
                "/api/v2/client-grants",
                &mgmt,
                json!({"client_id": t.spa, "audience": format!("{base}/me/"), "subject_type": "user",
                       "scope": crate::me::ME_SCOPES}),
            )
            .await;
        assert_eq!(status, 201, "{grant}");
        t
    }

    pub(crate) async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let r = self.client.post(format!("{}{path}", self.base)).bearer_auth(token).json(&body).send().await;
        match r {
            Ok(r) => (r.status().as_u16(), r.json().await.unwrap_or(Value::Null)),
            Err(_) => (0, Value::Null),
        }
    }

    /// The refresh grant with `refresh_token`.
    pub(crate) async fn refresh(&self, refresh_token: &str) -> (u16, Value) {
        let body = json!({"grant_type": "refresh_token", "client_id": self.spa, "refresh_token": refresh_token});
        self.post("/oauth/token", "", body).await
    }

    /// Signs the user in for an opaque Logto token and a refresh token.
    async fn sign_in(&self, port: u16) -> (String, String) {
        self.sign_in_as(port, EMAIL, "openid offline_access profile custom_data", None).await
    }

    /// Signs `email` in for `scope` (and `audience`): its access and refresh tokens.
    pub(crate) async fn sign_in_as(
        &self,
        port: u16,
        email: &str,
        scope: &str,
        audience: Option<&str>,
    ) -> (String, String) {
        let (access, refresh, _) = self.sign_in_with_code(port, email, scope, audience).await;
        (access, refresh)
    }

    /// [`Self::sign_in_as`], also giving the authorization code it exchanged.
    pub(crate) async fn sign_in_with_code(
        &self,
        port: u16,
        email: &str,
        scope: &str,
        audience: Option<&str>,
    ) -> (String, String, String) {
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", self.spa.as_str()),
            ("redirect_uri", CALLBACK),
            ("scope", scope),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        if let Some(audience) = audience {
            params.push(("audience", audience));
        }
        let mut browser = Browser::new(port);
        let page =
            browser.get(&format!("{}/authorize?{}", self.base, serde_urlencoded::to_string(params).unwrap())).await;
        let flow = page.hidden("flow").expect("sign-in form");
        let done = browser
            .post_form(
                &format!("{}/u/login", self.base),
                &[("flow", &flow), ("identifier", email), ("password", PASSWORD)],
            )
            .await;
        let code = done.param("code").unwrap_or_else(|| panic!("no code: {}", done.html));
        let (_, t) = self
            .post(
                "/oauth/token",
                "",
                json!({"grant_type": "authorization_code", "client_id": self.spa, "code": code,
                                             "redirect_uri": CALLBACK, "code_verifier": Me::VERIFIER}),
            )
            .await;
        let access = t["access_token"].as_str().unwrap_or_else(|| panic!("no access token: {t}")).to_string();
        (access, t["refresh_token"].as_str().unwrap_or_default().to_string(), code)
    }

    /// `method` on `/me/v1{path}` with the enrolling user's My Account token.
    pub(crate) async fn me(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut r = self.client.request(method, format!("{}/me/v1{path}", self.base)).bearer_auth(token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        match r.send().await {
            Ok(r) => (r.status().as_u16(), r.json().await.unwrap_or(Value::Null)),
            Err(_) => (0, Value::Null),
        }
    }

    /// The ids of the enrolling user's methods.
    async fn method_ids(&self, token: &str) -> Vec<String> {
        let (status, body) = self.me(reqwest::Method::GET, "/authentication-methods", token, None).await;
        assert_eq!(status, 200, "{body}");
        body["authentication_methods"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect()
    }
}

/// Enrols a TOTP app and removes it, over and over, recording what was acknowledged.
async fn enroller(t: Arc<Target>, token: String, acked: Arc<Mutex<Acknowledged>>) {
    use reqwest::Method;
    // Removes `id`, recording an acknowledged removal; false when the server is gone.
    let remove = |id: String| {
        let (t, token, acked) = (t.clone(), token.clone(), acked.clone());
        async move {
            let answer = t
                .me(Method::DELETE, &format!("/authentication-methods/{}", id.replace('|', "%7C")), &token, None)
                .await;
            let mut a = acked.lock().unwrap();
            match answer {
                (204, _) => {
                    a.enrolled = None;
                    a.removed.push(id);
                    true
                }
                // Removed by the request the last kill left unanswered.
                (404, _) if a.removal_unanswered.as_ref() == Some(&id) => {
                    a.enrolled = None;
                    a.removal_unanswered = None;
                    true
                }
                (0, _) => {
                    a.removal_unanswered = Some(id);
                    false
                }
                (s, b) => panic!("removing {id} answered {s}: {b}"),
            }
        }
    };
    // A TOTP acknowledged before the last kill is removed first (one TOTP app per user).
    let left = acked.lock().unwrap().enrolled.clone();
    if let Some(id) = left
        && !remove(id).await
    {
        return;
    }
    loop {
        let (status, r) = t.me(Method::POST, "/authentication-methods", &token, Some(json!({"type": "totp"}))).await;
        match status {
            202 => {}
            0 => return,
            s => panic!("enrolment answered {s}: {r}"),
        }
        let id = r["id"].as_str().unwrap().to_string();
        let path = format!("/authentication-methods/{}", id.replace('|', "%7C"));
        let code = accountd_core::authn::totp::current_code(r["manual_input_code"].as_str().unwrap()).unwrap();
        let body = json!({"auth_session": r["auth_session"], "otp_code": code});
        match t.me(Method::POST, &format!("{path}/verify"), &token, Some(body)).await {
            (201, _) => acked.lock().unwrap().enrolled = Some(id.clone()),
            (0, _) => return,
            (s, b) => panic!("verifying {id} answered {s}: {b}"),
        }
        if !remove(id).await {
            return;
        }
    }
}

/// The storm: creators, a profile editor and a refresher, until the server dies.
async fn storm(
    t: Arc<Target>,
    round: usize,
    token: String,
    mut refresh: String,
    me_token: String,
    acked: Arc<Mutex<Acknowledged>>,
) {
    let mut tasks = vec![tokio::spawn(enroller(t.clone(), me_token, acked.clone()))];
    for w in 0..3 {
        let (t, acked) = (t.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                let email = format!("storm-{round}-{w}-{i}@example.com");
                match t
                    .post("/api/v2/users", &t.mgmt, json!({"email": email, "password": "a long enough password"}))
                    .await
                {
                    (201, body) => acked.lock().unwrap().users.push(body["user_id"].as_str().unwrap().to_string()),
                    (0, _) => return,
                    _ => {}
                }
            }
        }));
    }
    let (t2, acked2) = (t.clone(), acked.clone());
    tasks.push(tokio::spawn(async move {
        let start = acked2.lock().unwrap().profile;
        for n in start + 1.. {
            let r = t2
                .client
                .patch(format!("{}/api/my-account", t2.base))
                .bearer_auth(&token)
                .json(&json!({"customData": {"n": n}}))
                .send()
                .await;
            match r {
                Ok(r) if r.status() == 200 => acked2.lock().unwrap().profile = n,
                Ok(r) => panic!("profile edit answered {}: {}", r.status(), r.text().await.unwrap_or_default()),
                Err(_) => return,
            }
        }
    }));
    tasks.push(tokio::spawn(async move {
        loop {
            let (status, body) = t.refresh(&refresh).await;
            match status {
                200 => {
                    let next = body["refresh_token"].as_str().unwrap().to_string();
                    acked.lock().unwrap().spent.push(std::mem::replace(&mut refresh, next));
                }
                0 => return,
                other => panic!("refresh answered {other}: {body}"),
            }
        }
    }));
    for task in tasks {
        task.await.unwrap();
    }
}

async fn check_integrity(db: &str) {
    use sqlx::Connection as _;
    // Every refresh token and session belongs to a user that exists, every refresh token to a
    // token family of its user and client, and a family has at most one live refresh token (the
    // head of its rotation). A rotation whose successor was never written (the kill fell between)
    // is allowed: its answer never left, and the old token stays spent.
    let invariants = [
        "SELECT count(*) FROM refresh_tokens r LEFT JOIN users u ON u.tenant_id = r.tenant_id AND u.id = r.user_id WHERE u.id IS NULL",
        "SELECT count(*) FROM sessions s LEFT JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id WHERE u.id IS NULL",
        "SELECT count(*) FROM refresh_tokens r WHERE NOT EXISTS (SELECT 1 FROM token_families f \
         WHERE f.tenant_id = r.tenant_id AND f.id = r.family_id AND f.user_id = r.user_id AND f.client_id = r.client_id)",
        "SELECT count(*) FROM (SELECT family_id FROM refresh_tokens WHERE rotated_at IS NULL AND revoked_at IS NULL \
         GROUP BY tenant_id, family_id HAVING count(*) > 1) heads",
    ];
    if db.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(db).await.unwrap();
        let ok: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut c).await.unwrap();
        assert_eq!(ok, "ok", "SQLite integrity check");
        for q in invariants {
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(q)).fetch_one(&mut c).await.unwrap();
            assert_eq!(n, 0, "invariant broken: {q}");
        }
    } else {
        let mut c = sqlx::PgConnection::connect(db).await.unwrap();
        for q in invariants {
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(q)).fetch_one(&mut c).await.unwrap();
            assert_eq!(n, 0, "invariant broken: {q}");
        }
    }
}

#[tokio::test]
async fn acknowledged_writes_survive_three_kills() {
    accountd_connectors::install_crypto_provider();
    let db = TestDb::new(Backend::from_env()).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let url = if db.url.starts_with("sqlite") { String::new() } else { db.url.clone() };
    let db_url = if url.is_empty() { format!("sqlite://{}", data.join("accountd.db").display()) } else { url.clone() };
    let port = free_port();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let (mut child, out) = serve(&data, &url, port);
    let base = format!("http://127.0.0.1:{port}");
    let target = Target::provision(&base, &out, &client).await;
    let mgmt = target.mgmt.clone();
    target.post("/api/v2/users", &mgmt, json!({"email": ENROLLER, "password": PASSWORD})).await;
    // Generous request limits: the storm measures durability, not the limiter.
    let limits = json!({"account_policy": {"rate_limits": {"user_reads_per_minute": 100000,
        "user_writes_per_minute": 100000, "tenant_reads_per_second": 100000, "tenant_writes_per_second": 100000}}});
    let r =
        client.patch(format!("{base}/api/v2/tenants/settings")).bearer_auth(&mgmt).json(&limits).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = client
        .patch(format!("{base}/api/account-center"))
        .bearer_auth(&mgmt)
        .json(&json!({"enabled": true, "fields": {"customData": "Edit"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let target = Arc::new(target);
    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    // The enrolling user signs in once, before any TOTP of theirs exists (a sign-in after would
    // ask for it); the token outlives the restarts.
    let me_scopes = format!("openid {}", crate::me::ME_SCOPES.join(" "));
    let (me_token, _) = target.sign_in_as(port, ENROLLER, &me_scopes, Some(&format!("{base}/me/"))).await;
    let mut report = Vec::new();

    for round in 0..3 {
        let (token, refresh) = target.sign_in(port).await;
        let storming = tokio::spawn(storm(target.clone(), round, token, refresh, me_token.clone(), acked.clone()));
        tokio::time::sleep(Duration::from_millis(1500 + 300 * round as u64)).await;
        child.kill().unwrap(); // SIGKILL: no clean shutdown, nothing flushed on purpose.
        child.wait().unwrap();
        storming.await.unwrap();

        (child, _) = serve(&data, &url, port);
        let mgmt = mgmt_token(&base, &out, &client).await;
        let a = acked.lock().unwrap().users.clone();
        for id in &a {
            let r = client.get(format!("{base}/api/v2/users/{id}")).bearer_auth(&mgmt).send().await.unwrap();
            assert_eq!(r.status(), 200, "user {id} was acknowledged, then lost");
        }
        let (token, _) = target.sign_in(port).await;
        let profile: Value = client
            .get(format!("{base}/api/my-account"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let stored = profile["customData"]["n"].as_i64().unwrap_or(0);
        let promised = acked.lock().unwrap().profile;
        assert!(stored >= promised, "profile edit {promised} was acknowledged, the data says {stored}");
        let methods = target.method_ids(&me_token).await;
        let (enrolled, removed, unanswered) = {
            let a = acked.lock().unwrap();
            (a.enrolled.clone(), a.removed.clone(), a.removal_unanswered.clone())
        };
        // A removal sent as the server died may have been done without an answer.
        if let Some(id) = enrolled.as_ref().filter(|id| unanswered.as_ref() != Some(*id)) {
            assert!(methods.contains(id), "enrolment of {id} was acknowledged, then lost: {methods:?}");
        }
        for id in &removed {
            assert!(!methods.contains(id), "removal of {id} was acknowledged, yet it is back");
        }
        report.push(format!("round {round}: {} users, {} enrolments, profile {promised}", a.len(), removed.len()));
        check_integrity(&db_url).await;
    }
    // No rotated refresh token works again (checked last: a reuse revokes the family).
    let spent = acked.lock().unwrap().spent.clone();
    assert!(spent.len() > 10, "the storm rotated too few tokens: {}", spent.len());
    assert!(acked.lock().unwrap().removed.len() > 3, "the storm enrolled too few methods");
    for rt in spent.iter().rev().take(40) {
        let (status, body) = target.refresh(rt).await;
        assert_eq!(status, 400, "a rotated refresh token worked again: {body}");
    }
    let a = acked.lock().unwrap();
    eprintln!(
        "crash safety ({}): {} acknowledged users, {} rotations; {}",
        db_url.split(':').next().unwrap(),
        a.users.len(),
        a.spent.len(),
        report.join("; ")
    );
    assert!(crate::cli::stop(&mut child));
}
