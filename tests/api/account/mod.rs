//! Logto's Account API, Verification API and account-center settings, called as Logto's guide
//! and SDKs call them: an opaque token from a resource-less sign-in, `logto-verification-id` for
//! proof, Logto's error bodies.

mod dialects;
mod errors;
mod export;
mod identifiers;
mod mfa;
mod mfa_settings;
mod profile;
mod revoked;
mod security_events;
mod sessions;
mod settings;
mod social;
mod verifications;
mod webauthn;

use reqwest::Method;
use serde_json::{Value, json};

use crate::me::{EMAIL, Me, PASSWORD, signed_in_with};
use crate::util::Resp;

/// Every scope a Logto app can ask for (the SDK defaults plus the Account API's).
pub const ALL_SCOPES: &str =
    "openid offline_access profile email phone address custom_data identities urn:logto:scope:sessions";

/// Every account-center field, editable.
pub fn all_fields_edit() -> Value {
    json!({"name": "Edit", "avatar": "Edit", "profile": "Edit", "email": "Edit", "phone": "Edit",
           "password": "Edit", "username": "Edit", "social": "Edit", "customData": "Edit", "mfa": "Edit"})
}

/// A tenant with the account center on, a first-party SPA, a user (email + password) and a Logto
/// token with every scope; `me` also holds a `/me/v1` token for the same user.
pub struct Account {
    pub me: Me,
    pub token: String,
}

/// The account center on with every field editable and generous request limits.
pub async fn account() -> Account {
    account_with(all_fields_edit()).await
}

/// Like [`account`], with these account-center fields.
pub async fn account_with(fields: Value) -> Account {
    account_at("127.0.0.1", fields).await
}

/// Like [`account_with`], on `host` (WebAuthn needs a domain: `localhost`).
pub async fn account_at(host: &str, fields: Value) -> Account {
    let me = signed_in_with(host, |_| {}).await;
    let limits = json!({"rate_limits": {"user_reads_per_minute": 10000, "user_writes_per_minute": 10000,
                        "tenant_reads_per_second": 10000, "tenant_writes_per_second": 10000}});
    let r = me.app.patch("/api/v2/tenants/settings", &me.mgmt, json!({"account_policy": limits})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = me.app.patch("/api/account-center", &me.mgmt, json!({"enabled": true, "fields": fields})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut a = Account { me, token: String::new() };
    a.token = a.token_for(ALL_SCOPES).await;
    a
}

impl Account {
    /// A fresh opaque token for `scope` from a resource-less sign-in of the test user.
    pub async fn token_for(&self, scope: &str) -> String {
        self.token_as(EMAIL, PASSWORD, scope).await
    }

    /// A fresh opaque token for another user.
    pub async fn token_as(&self, identifier: &str, password: &str, scope: &str) -> String {
        let code = self.me.authorization_code_with(identifier, password, scope, None).await;
        let t = self.me.exchange(&code).await;
        t["access_token"].as_str().unwrap().to_string()
    }

    /// Sends `method path` with the test user's token, a JSON body and a verification record.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>, record: Option<&str>) -> Resp {
        self.call_with(&self.token, method, path, body, record).await
    }

    /// Same, with another token.
    pub async fn call_with(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
        record: Option<&str>,
    ) -> Resp {
        self.send(token, method, path, body, &[("logto-verification-id", record.unwrap_or(""))]).await
    }

    /// Sends with extra headers (an empty value is left out).
    pub async fn send(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        send_to(&self.me.base, token, method, path, body, headers).await
    }

    /// `n` copies of one request with the test user's token, all in flight at once.
    pub async fn burst(&self, n: usize, method: Method, path: &str, body: Value) -> Vec<Resp> {
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let (base, token, method, path, body) =
                    (self.me.base.clone(), self.token.clone(), method.clone(), path.to_string(), body.clone());
                tokio::spawn(async move { send_to(&base, &token, method, &path, Some(body), &[]).await })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.expect("request task"));
        }
        out
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call(Method::GET, path, None, None).await
    }

    /// `GET /api/my-account`.
    pub async fn profile(&self) -> Value {
        let r = self.get("/api/my-account").await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body
    }

    /// A verification record by password.
    pub async fn password_record(&self) -> String {
        let r = self.call(Method::POST, "/api/verifications/password", Some(json!({"password": PASSWORD})), None).await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.body["verificationRecordId"].as_str().unwrap().to_string()
    }

    /// Sends a code to `value` (`email` or `phone`); the record id and the code from the outbox.
    pub async fn send_code(&self, kind: &str, value: &str) -> (String, String) {
        let r = self
            .call(
                Method::POST,
                "/api/verifications/verification-code",
                Some(json!({"identifier": {"type": kind, "value": value}})),
                None,
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let id = r.body["verificationRecordId"].as_str().unwrap().to_string();
        (id, self.last_code(value).await)
    }

    /// The last code the development outbox holds for `to` (phones are stored with `+`).
    pub async fn last_code(&self, to: &str) -> String {
        let to = if to.bytes().all(|b| b.is_ascii_digit()) { format!("+{to}") } else { to.to_string() };
        let q = serde_urlencoded::to_string([("to", to.as_str())]).unwrap();
        let r = self.me.app.get(&format!("/api/v2/connectors/outbox?{q}"), &self.me.mgmt).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body[0]["code"].as_str().unwrap_or_else(|| panic!("no code for {to}: {}", r.text)).to_string()
    }

    /// Sends a code to `value` and verifies it; the verified record.
    pub async fn verified_code_record(&self, kind: &str, value: &str) -> String {
        let (id, code) = self.send_code(kind, value).await;
        let r = self
            .call(
                Method::POST,
                "/api/verifications/verification-code/verify",
                Some(json!({"identifier": {"type": kind, "value": value}, "verificationId": id, "code": code})),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        id
    }

    /// A third-party SPA of the tenant (consent asked); its client id.
    pub async fn partner_app(&self) -> String {
        let partner =
            self.me
                .app
                .post(
                    "/api/v2/clients",
                    &self.me.mgmt,
                    json!({"name": "Partner", "app_type": "spa", "callbacks": [crate::me::CALLBACK], "is_first_party": false,
                       "grant_types": ["authorization_code", "refresh_token"]}),
                )
                .await;
        assert_eq!(partner.status, 201, "{}", partner.text);
        partner.body["client_id"].as_str().unwrap().to_string()
    }

    /// Changes the account center and waits out the settings cache.
    pub async fn set_center(&self, settings: Value) {
        let r = self.me.app.patch("/api/account-center", &self.me.mgmt, settings).await;
        assert_eq!(r.status, 200, "{}", r.text);
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    }
}

/// Sends one request to `{base}{path}` with a Bearer token and extra headers.
pub async fn send_to(
    base: &str,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Resp {
    let client = reqwest::Client::new();
    let mut req = client.request(method, format!("{base}{path}")).bearer_auth(token);
    for (k, v) in headers {
        if !v.is_empty() {
            req = req.header(*k, *v);
        }
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp { status, headers, body, text }
}

/// `GET {base}{path}` with `token` (another node's base); the body of a 200.
pub async fn send_to_base(base: &str, token: &str, path: &str) -> Value {
    let r = send_to(base, token, Method::GET, path, None, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

/// Asserts a Logto error: status and code.
#[track_caller]
pub fn assert_error(r: &Resp, status: u16, code: &str) {
    assert_eq!((r.status.as_u16(), r.body["code"].as_str()), (status, Some(code)), "{}", r.text);
    assert!(r.body["message"].as_str().is_some_and(|m| !m.is_empty()), "no message: {}", r.text);
}
