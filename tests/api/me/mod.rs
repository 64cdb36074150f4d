//! The My Account API `/me/v1`: a signed-in user's own authentication methods, as Auth0's SDKs
//! call them.

mod authentication_methods;
mod brute_force;
mod codes;
mod connected_accounts;
mod errors;
mod native_passkey;
mod openapi;
mod passkeys;
mod profile;
mod push;
mod sign_in;

use serde_json::{Value, json};

use crate::util::browser::Browser;
use crate::util::{Resp, TestApp};

pub const CALLBACK: &str = "http://localhost:3000/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
pub const PASSWORD: &str = "correct horse battery";
pub const EMAIL: &str = "ada@example.com";

/// Every My Account scope an app can ask for.
pub const ME_SCOPES: [&str; 10] = [
    "read:me:factors",
    "read:me:authentication_methods",
    "create:me:authentication_methods",
    "update:me:authentication_methods",
    "delete:me:authentication_methods",
    "read:me:profile",
    "update:me:profile",
    "read:me:security_events",
    "read:me:export",
    "create:me:security_reports",
];

/// An SPA granted the My Account scopes, a user with a password, and that user's token.
pub struct Me {
    pub app: TestApp,
    /// `http://{host}:{port}` the user signed in on (the token's audience follows it).
    pub base: String,
    pub client_id: String,
    pub user_id: String,
    pub token: String,
    pub mgmt: String,
}

/// Signs a new user in on `host` (the default tenant answers on 127.0.0.1 and localhost).
pub async fn signed_in(host: &str) -> Me {
    signed_in_with(host, |_| {}).await
}

pub async fn signed_in_with(host: &str, tweak: impl FnOnce(&mut accountd::Config)) -> Me {
    let app = TestApp::start_with(tweak).await;
    let base = app.base_for(host);
    let mgmt = app.mgmt_token().await;
    let spa = app
        .post(
            "/api/v2/clients",
            &mgmt,
            json!({"name": "Demo SPA", "app_type": "spa", "callbacks": [CALLBACK],
                   "web_origins": ["http://localhost:3000"], "grant_types": ["authorization_code", "refresh_token"]}),
        )
        .await;
    let client_id = spa.body["client_id"].as_str().unwrap().to_string();
    let g = app
        .post(
            "/api/v2/client-grants",
            &mgmt,
            json!({"client_id": client_id, "audience": format!("{base}/me/"), "subject_type": "user", "scope": ME_SCOPES}),
        )
        .await;
    assert_eq!(g.status, 201, "{}", g.text);
    let u =
        app.post("/api/v2/users", &mgmt, json!({"email": EMAIL, "password": PASSWORD, "name": "Ada Lovelace"})).await;
    assert_eq!(u.status, 201, "{}", u.text);
    let user_id = u.body["user_id"].as_str().unwrap().to_string();
    let mut me = Me { app, base, client_id, user_id, token: String::new(), mgmt };
    me.token = me.sign_in(&ME_SCOPES.join(" ")).await;
    me
}

impl Me {
    /// A fresh My Account token for `scope` through the hosted sign-in form.
    pub async fn sign_in(&self, scope: &str) -> String {
        self.sign_in_as(EMAIL, PASSWORD, scope).await
    }

    /// A fresh My Account token for another user of the tenant.
    pub async fn sign_in_as(&self, identifier: &str, password: &str, scope: &str) -> String {
        let code = self.authorization_code_for(identifier, password, scope).await;
        let t = self.exchange(&code).await;
        t["access_token"].as_str().unwrap().to_string()
    }

    /// Exchanges an authorization code (with the PKCE verifier of the sign-in) for tokens.
    pub async fn exchange(&self, code: &str) -> Value {
        let t = self
            .app
            .request(
                reqwest::Method::POST,
                &format!("{}/oauth/token", self.base),
                None,
                Some(json!({"grant_type": "authorization_code", "client_id": self.client_id, "code": code,
                            "redirect_uri": CALLBACK, "code_verifier": VERIFIER})),
            )
            .await;
        assert_eq!(t.status, 200, "{}", t.text);
        t.body
    }

    /// Signs the test user in through the hosted form; returns the authorization code.
    pub async fn authorization_code(&self, scope: &str) -> String {
        self.authorization_code_for(EMAIL, PASSWORD, scope).await
    }

    /// Signs `identifier` in through the hosted form; returns the authorization code.
    pub async fn authorization_code_for(&self, identifier: &str, password: &str, scope: &str) -> String {
        let audience = format!("{}/me/", self.base);
        self.authorization_code_with(identifier, password, &format!("openid {scope}"), Some(&audience)).await
    }

    /// Signs `identifier` in through the hosted form for `scope` (as given) and `audience` (none:
    /// a resource-less sign-in, as Logto's SDKs make); returns the authorization code.
    pub async fn authorization_code_with(
        &self,
        identifier: &str,
        password: &str,
        scope: &str,
        audience: Option<&str>,
    ) -> String {
        self.authorization_code_of(&self.client_id, identifier, password, scope, audience).await
    }

    /// An authorization code for `client_id` (any of the tenant's apps with [`CALLBACK`]).
    pub async fn authorization_code_of(
        &self,
        client_id: &str,
        identifier: &str,
        password: &str,
        scope: &str,
        audience: Option<&str>,
    ) -> String {
        let mut browser = Browser::new(self.app.port);
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", CALLBACK),
            ("scope", scope),
            ("state", "s"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        if let Some(a) = audience {
            params.push(("audience", a));
        }
        let authorize = format!("{}/authorize?{}", self.base, serde_urlencoded::to_string(params).unwrap());
        let page = browser.get(&authorize).await;
        assert_eq!(page.status, 200, "{}", page.html);
        let flow = page.hidden("flow").expect("sign-in form");
        let done = browser
            .post_form(
                &format!("{}/u/login", self.base),
                &[("flow", &flow), ("identifier", identifier), ("password", password)],
            )
            .await;
        // A third-party app asks for consent first (on a fresh consent page): the user allows.
        let done = match done.param("code") {
            None if done.html.contains("/u/consent") => {
                let page = browser.get(&authorize).await;
                let flow = page.hidden("flow").expect("the consent form");
                browser.post_form(&format!("{}/u/consent", self.base), &[("flow", &flow), ("decision", "allow")]).await
            }
            _ => done,
        };
        done.param("code").unwrap_or_else(|| panic!("no code: {:?} {}", done.location, done.html))
    }

    /// The PKCE verifier of [`Me::authorization_code`].
    pub const VERIFIER: &str = VERIFIER;

    /// `{base}/me/v1{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}/me/v1{path}", self.base)
    }

    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Resp {
        let url = if path.starts_with("http") { path.to_string() } else { self.url(path) };
        self.app.request(method, &url, Some(&self.token), body).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    /// Sets part of the tenant's account policy through the management API.
    pub async fn set_policy(&self, policy: Value) {
        let r = self.app.patch("/api/v2/tenants/settings", &self.mgmt, json!({"account_policy": policy})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        // The policy is cached for up to two seconds per process.
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    }

    /// Starts enrolling and checks the 202 answer's shape.
    pub async fn enroll(&self, body: Value) -> (Resp, String) {
        let r = self.post("/authentication-methods", body).await;
        assert_eq!(r.status, 202, "{}", r.text);
        let location = r.header("location").expect("Location on 202").to_string();
        assert!(location.starts_with(&self.url("/authentication-methods/")), "{location}");
        (r, location)
    }

    /// The ids of the user's methods.
    pub async fn method_ids(&self) -> Vec<String> {
        let r = self.get("/authentication-methods").await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["authentication_methods"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect()
    }
}

/// The `type` URI of an error body.
pub fn error_type(r: &Resp) -> String {
    r.body["type"].as_str().unwrap_or_default().rsplit('/').next().unwrap_or_default().to_string()
}
