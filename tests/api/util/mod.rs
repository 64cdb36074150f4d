//! The test harness: `TestApp` starts the real server (same wiring as `accountd serve`) on an
//! ephemeral port over a fresh database — SQLite by default, PostgreSQL with
//! `ACCOUNTD_TEST_BACKEND=postgres` — and talks to it over HTTP with reqwest.

#![allow(dead_code)]

use std::net::SocketAddr;

use accountd::Config;
use accountd_core::service::Bootstrap;
use accountd_store::testdb::{Backend, TestDb};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub mod authenticator;
pub mod browser;
pub mod dpop;
pub mod proxy;
pub mod upstream;

/// A running accountd for one test.
pub struct TestApp {
    running: Option<accountd::Running>,
    /// Base URL on the default tenant (`http://127.0.0.1:{port}`).
    pub base: String,
    /// The port.
    pub port: u16,
    /// The default tenant's bootstrap credentials.
    pub bootstrap: Bootstrap,
    client: reqwest::Client,
    cfg: Config,
    /// The database and data dir, owned by the first node (dropped with it).
    _db: Option<TestDb>,
    _data: Option<tempfile::TempDir>,
}

/// A response: status, headers and body.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The Redis server tests use (`ACCOUNTD_TEST_REDIS_URL`, default the machine's on 6379).
pub fn redis_url() -> String {
    std::env::var("ACCOUNTD_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into())
}

/// A configuration for tests: a fresh data dir, the test database, cheap Argon2.
pub fn test_config(db: &TestDb, data: &std::path::Path) -> Config {
    let mut cfg = Config::default();
    cfg.server.listen = "127.0.0.1:0".into();
    cfg.storage.data_dir = data.to_path_buf();
    cfg.storage.database_url = db.url.clone();
    cfg.storage.max_connections = 4;
    // Tests reach other tenants' host names over plain HTTP.
    cfg.server.public_scheme = "http".into();
    // The hashing code path is the same; tests just do not need OWASP cost.
    cfg.passwords.argon2_memory_kib = 1024;
    cfg.passwords.argon2_iterations = 1;
    cfg
}

impl TestApp {
    /// Starts accountd on a fresh database.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts accountd with a configuration tweak.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Self {
        // reqwest's rustls has no built-in provider (crate accountd-connectors): install ring first.
        accountd_connectors::install_crypto_provider();
        let db = TestDb::new(Backend::from_env()).await;
        let data = tempfile::tempdir().expect("tempdir");
        let mut cfg = test_config(&db, data.path());
        tweak(&mut cfg);
        let running = accountd::start(&cfg).await.expect("server starts");
        let bootstrap = running.bootstrap.clone().expect("a fresh database bootstraps");
        Self::serving(running, bootstrap, cfg, Some(db), Some(data))
    }

    fn serving(
        running: accountd::Running,
        bootstrap: Bootstrap,
        cfg: Config,
        db: Option<TestDb>,
        data: Option<tempfile::TempDir>,
    ) -> Self {
        let port = running.addr.port();
        let client = reqwest::Client::builder()
            .resolve("tenant2.test", SocketAddr::from(([127, 0, 0, 1], port)))
            .resolve("unknown.test", SocketAddr::from(([127, 0, 0, 1], port)))
            .build()
            .expect("client");
        Self {
            running: Some(running),
            base: format!("http://127.0.0.1:{port}"),
            port,
            bootstrap,
            client,
            cfg,
            _db: db,
            _data: data,
        }
    }

    /// Where its `/metrics` listener is, if configured.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.running.as_ref().and_then(|r| r.metrics_addr)
    }

    /// The configuration it runs with (its database and data dir, for the `accountd` binary).
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// A second server on the same database and configuration (another node behind a balancer).
    pub async fn another_node(&self) -> TestApp {
        let running = accountd::start(&self.cfg).await.expect("second node starts");
        Self::serving(running, self.bootstrap.clone(), self.cfg.clone(), None, None)
    }

    /// Another node on the same database with a configuration tweak (its own database address,
    /// say, through a proxy that a test can cut).
    pub async fn another_node_with(&self, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let mut cfg = self.cfg.clone();
        tweak(&mut cfg);
        let running = accountd::start(&cfg).await.expect("another node starts");
        Self::serving(running, self.bootstrap.clone(), cfg, None, None)
    }

    /// The server's state, for calling what no route exposes yet (shared entry points).
    pub fn state(&self) -> &accountd_http::AppState {
        &self.running.as_ref().expect("running").state
    }

    /// The core, for setting up what the API cannot (another tenant).
    pub fn core(&self) -> &accountd_core::Core {
        &self.running.as_ref().expect("running").state.core
    }

    /// `http://{host}:{port}` for another host name routed to this server.
    pub fn base_for(&self, host: &str) -> String {
        format!("http://{host}:{}", self.port)
    }

    /// Sends a request to `url` (absolute, or a path on the default tenant).
    pub async fn request(&self, method: Method, url: &str, token: Option<&str>, body: Option<Value>) -> Resp {
        let url = if url.starts_with("http") { url.to_string() } else { format!("{}{url}", self.base) };
        let mut req = self.client.request(method, url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, headers, body, text }
    }

    pub async fn get(&self, url: &str, token: &str) -> Resp {
        self.request(Method::GET, url, Some(token), None).await
    }
    pub async fn post(&self, url: &str, token: &str, body: Value) -> Resp {
        self.request(Method::POST, url, Some(token), Some(body)).await
    }
    pub async fn patch(&self, url: &str, token: &str, body: Value) -> Resp {
        self.request(Method::PATCH, url, Some(token), Some(body)).await
    }
    pub async fn delete(&self, url: &str, token: &str) -> Resp {
        self.request(Method::DELETE, url, Some(token), None).await
    }
    pub async fn delete_with(&self, url: &str, token: &str, body: Value) -> Resp {
        self.request(Method::DELETE, url, Some(token), Some(body)).await
    }

    /// Sends a raw body with a content type.
    pub async fn post_raw(&self, url: &str, token: Option<&str>, content_type: &str, body: &str) -> Resp {
        let url = if url.starts_with("http") { url.to_string() } else { format!("{}{url}", self.base) };
        let mut req = self.client.post(url).header("content-type", content_type).body(body.to_string());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        Resp { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::Null), text }
    }

    /// A client-credentials token at `base` (a tenant's URL) for its Management API.
    pub async fn token_at(&self, base: &str, client_id: &str, secret: &str) -> Resp {
        self.request(
            Method::POST,
            &format!("{base}/oauth/token"),
            None,
            Some(json!({
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
                "audience": format!("{base}/api/v2/"),
            })),
        )
        .await
    }

    /// A Management API token for the default tenant with every scope.
    pub async fn mgmt_token(&self) -> String {
        let r = self.token_at(&self.base, &self.bootstrap.client_id, &self.bootstrap.client_secret).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["access_token"].as_str().expect("access_token").to_string()
    }

    /// Creates a machine-to-machine client with `scopes` of the Management API; returns its token.
    pub async fn mgmt_token_with(&self, scopes: &[&str]) -> String {
        let admin = self.mgmt_token().await;
        let c = self.post("/api/v2/clients", &admin, json!({"name": "narrow", "app_type": "non_interactive"})).await;
        let (id, secret) = (c.body["client_id"].as_str().unwrap(), c.body["client_secret"].as_str().unwrap());
        let g = self
            .post(
                "/api/v2/client-grants",
                &admin,
                json!({"client_id": id, "audience": format!("{}/api/v2/", self.base), "scope": scopes}),
            )
            .await;
        assert_eq!(g.status, 201, "{}", g.text);
        let t = self.token_at(&self.base, id, secret).await;
        t.body["access_token"].as_str().expect("token").to_string()
    }

    /// Runs one SQL statement on the test database behind the server's back, for what no API
    /// can do (making a row expire without waiting for it). Returns the rows it changed.
    pub async fn sql(&self, statement: &str) -> u64 {
        use sqlx::Connection as _;
        let statement = sqlx::AssertSqlSafe(statement.to_string());
        let url = &self.cfg.storage.database_url;
        if url.starts_with("sqlite:") {
            let mut c = sqlx::SqliteConnection::connect(url).await.expect("open the test database");
            sqlx::query(statement).execute(&mut c).await.expect("statement").rows_affected()
        } else {
            let mut c = sqlx::PgConnection::connect(url).await.expect("open the test database");
            sqlx::query(statement).execute(&mut c).await.expect("statement").rows_affected()
        }
    }

    /// The number one SQL query (`SELECT count(*) …`) returns, read behind the server's back.
    pub async fn sql_count(&self, query: &str) -> i64 {
        self.sql_scalar(query).await
    }

    /// The one value one SQL query returns (the first row's first column), read behind the
    /// server's back.
    pub async fn sql_scalar<T>(&self, query: &str) -> T
    where
        T: Send + Unpin + for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
        T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    {
        use sqlx::Connection as _;
        let query = sqlx::AssertSqlSafe(query.to_string());
        let url = &self.cfg.storage.database_url;
        if url.starts_with("sqlite:") {
            let mut c = sqlx::SqliteConnection::connect(url).await.expect("open the test database");
            sqlx::query_scalar(query).fetch_one(&mut c).await.expect("a value")
        } else {
            let mut c = sqlx::PgConnection::connect(url).await.expect("open the test database");
            sqlx::query_scalar(query).fetch_one(&mut c).await.expect("a value")
        }
    }

    /// Whether `needle` appears anywhere in the database: the SQLite file and its write-ahead log,
    /// or every row of the test's PostgreSQL schema.
    pub async fn database_holds(&self, needle: &str) -> bool {
        let url = &self.cfg.storage.database_url;
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//").split('?').next().unwrap_or(rest);
            let mut found = false;
            for file in [path.to_string(), format!("{path}-wal")] {
                if let Ok(bytes) = std::fs::read(&file) {
                    found |= bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
                }
            }
            found
        } else {
            let q = format!(
                "SELECT count(*) FROM (SELECT schema_to_xml(current_schema(), true, true, '')::text AS x) s \
                 WHERE strpos(x, '{}') > 0",
                needle.replace('\'', "''")
            );
            self.sql_count(&q).await > 0
        }
    }

    /// Stops the server cleanly.
    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }
}

/// Redacts values that change every run, after checking their shape.
pub fn redact(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, val) in m.iter_mut() {
                    match (k.as_str(), val.as_str()) {
                        ("client_id", Some(s)) => {
                            assert_eq!(s.len(), 32, "client_id shape");
                            *val = json!("[client_id]");
                        }
                        ("client_secret", Some(s)) => {
                            assert!(s.len() >= 64, "client_secret shape");
                            *val = json!("[secret]");
                        }
                        ("id", Some(s)) if s.starts_with("cgr_") || s.starts_with("rol_") => {
                            *val = json!(format!("{}[id]", &s[..4]));
                        }
                        ("id", Some(s)) if s.len() == 24 => *val = json!("[hex id]"),
                        ("user_id", Some(s)) if s.starts_with("auth0|") => *val = json!("auth0|[id]"),
                        ("user_id", Some(s)) if s.len() == 24 => *val = json!("[id]"),
                        ("created_at" | "updated_at" | "date", Some(s)) => {
                            assert!(s.ends_with('Z') && s.len() == 24, "timestamp shape: {s}");
                            *val = json!("[datetime]");
                        }
                        ("tenant", Some(_)) => *val = json!("[tenant]"),
                        (_, Some(s)) if s.starts_with("http://127.0.0.1:") => {
                            let rest = s.splitn(4, '/').nth(3).unwrap_or("");
                            *val = json!(format!("http://127.0.0.1:[port]/{rest}"));
                        }
                        _ => walk(val),
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}
