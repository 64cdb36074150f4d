//! A real upstream OpenID provider for the tests: node `oidc-provider` (`e2e/lib/upstream.mjs`),
//! started per test on its own port with one client registered for accountd. Its login is not
//! interactive: the account is the authorization request's `login_hint` (else `alice`), so a test
//! walks the whole authorization by following redirects with a cookie jar.

use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

/// accountd's client at the upstream.
pub const CLIENT_ID: &str = "accountd";
/// Its secret.
pub const CLIENT_SECRET: &str = "upstream-secret-for-tests";

/// A running upstream provider, stopped when dropped.
pub struct Upstream {
    /// Its issuer (`http://127.0.0.1:{port}`).
    pub issuer: String,
    child: Child,
}

impl Upstream {
    /// Starts one whose access tokens live `access_token_ttl` seconds.
    pub async fn start(access_token_ttl: u64) -> Self {
        let root = env!("CARGO_MANIFEST_DIR");
        let script = format!("{root}/e2e/lib/upstream.mjs");
        assert!(
            std::path::Path::new(&format!("{root}/e2e/node_modules/oidc-provider")).exists(),
            "the upstream provider needs e2e's npm packages: run `npm ci` in e2e/ (scripts/test does)"
        );
        let config = json!({
            "port": 0,
            "access_token_ttl": access_token_ttl,
            "clients": [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": ["*"]}],
        });
        let mut child = Command::new("node")
            .arg(&script)
            .env("UPSTREAM_CONFIG", config.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs e2e/lib/upstream.mjs");
        let stdout = child.stdout.take().expect("stdout");
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            std::io::BufReader::new(stdout).read_line(&mut line).map(|_| line)
        })
        .await
        .expect("reader")
        .expect("the upstream prints its address");
        let started: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("upstream said {line:?}"));
        let issuer = started["issuer"].as_str().expect("issuer").to_string();
        Self { issuer, child }
    }

    /// The Management API body that registers it as connection `name`.
    pub fn connection(&self, name: &str, token_vault: bool) -> Value {
        json!({
            "name": name,
            "strategy": "oidc",
            "options": {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "issuer": self.issuer,
                        "scope": "openid email profile"},
            "connected_accounts": {"active": token_vault},
            "show_as_button": true,
        })
    }

    /// Calls the upstream's own API with one of its access tokens: the status, and the subject
    /// when it accepted the token.
    pub async fn call_api(&self, access_token: &str) -> (u16, Option<String>) {
        let r = reqwest::Client::new()
            .get(format!("{}/api/profile", self.issuer))
            .bearer_auth(access_token)
            .send()
            .await
            .expect("upstream API");
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        (status, body["sub"].as_str().map(str::to_string))
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Follows redirects from `url` (with a cookie jar, as a browser) until one leads to a URL that
/// starts with `until`: that URL. Every hop must be a redirect.
pub async fn follow(url: &str, until: &str) -> String {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let mut jar: Vec<(String, String)> = Vec::new();
    let mut current = url.to_string();
    for _ in 0..15 {
        if current.starts_with(until) {
            return current;
        }
        let cookie = jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let mut req = client.get(&current);
        if !cookie.is_empty() {
            req = req.header("cookie", cookie);
        }
        let res = req.send().await.expect("hop");
        for c in res.headers().get_all("set-cookie") {
            let pair = c.to_str().unwrap_or("").split(';').next().unwrap_or("");
            if let Some((k, v)) = pair.split_once('=') {
                jar.retain(|(n, _)| n != k);
                jar.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        let status = res.status();
        let location = res.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
        let Some(location) = location.filter(|_| status.is_redirection()) else {
            let text = res.text().await.unwrap_or_default();
            panic!("{current} answered {status} without a redirect: {text}");
        };
        current = reqwest::Url::parse(&current).expect("url").join(&location).expect("location").to_string();
    }
    panic!("too many redirects from {url}");
}

/// The query parameters of `url`.
pub fn query(url: &str) -> std::collections::HashMap<String, String> {
    reqwest::Url::parse(url).expect("url").query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// `url` with `login_hint` added (which upstream account signs in).
pub fn as_account(url: &str, account: &str) -> String {
    let mut u = reqwest::Url::parse(url).expect("url");
    u.query_pairs_mut().append_pair("login_hint", account);
    u.to_string()
}
