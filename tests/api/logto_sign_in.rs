//! Signing in the Logto way: an SPA registered as Logto's SDKs use it (a redirect URI, nothing
//! else), a resource-less sign-in with Logto's scopes and `prompt=consent`, and the opaque access
//! token it gets — its shape, `/userinfo` with it, scopes granted and filtered, refresh, tenants,
//! revocation, the cache in front of the store, and the CORS rules a browser SDK meets first.

use accountd_core::origin::{Origin, Scheme};
use accountd_http::RequestTenant;
use accountd_http::common::principal::{UserTokenError, authenticate_user_token};
use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use serde_json::{Value, json};

use crate::util::TestApp;
use crate::util::browser::Browser;

const CALLBACK: &str = "http://localhost:3000/callback";
const APP_ORIGIN: &str = "http://localhost:3000";
// RFC 7636 appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const PASSWORD: &str = "correct horse battery";
const EMAIL: &str = "ada@example.com";
/// What Logto's SDKs ask for: their default scopes and every Account API scope.
const LOGTO_SCOPES: &str =
    "openid offline_access profile email phone address custom_data identities urn:logto:scope:sessions";

struct Logto {
    app: TestApp,
    client_id: String,
    user_id: String,
}

/// A Logto-style SPA (no web origins, no Auth0 switch) and a user with a username.
async fn setup() -> Logto {
    let app = TestApp::start().await;
    let t = app.mgmt_token().await;
    let spa = app
        .post(
            "/api/v2/clients",
            &t,
            json!({"name": "Logto SPA", "app_type": "spa", "callbacks": [CALLBACK],
                   "allowed_logout_urls": [APP_ORIGIN], "grant_types": ["authorization_code", "refresh_token"]}),
        )
        .await;
    assert_eq!(spa.status, 201, "{}", spa.text);
    let u = app
        .post("/api/v2/users", &t, json!({"email": EMAIL, "username": "ada", "password": PASSWORD, "name": "Ada"}))
        .await;
    assert_eq!(u.status, 201, "{}", u.text);
    Logto {
        client_id: spa.body["client_id"].as_str().unwrap().to_string(),
        user_id: u.body["user_id"].as_str().unwrap().to_string(),
        app,
    }
}

impl Logto {
    /// Signs in through the hosted page as Logto's SDKs start it; the token answer.
    async fn sign_in(&self, base: &str, scope: &str, extra: &[(&str, &str)]) -> Value {
        let mut browser = Browser::new(self.app.port);
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", CALLBACK),
            ("scope", scope),
            ("state", "st4te"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("prompt", "consent"),
        ];
        params.extend_from_slice(extra);
        let page = browser.get(&format!("{base}/authorize?{}", serde_urlencoded::to_string(&params).unwrap())).await;
        assert_eq!(page.status, 200, "{}", page.html);
        let flow = page.hidden("flow").expect("the sign-in form, not a dead end");
        let done = browser
            .post_form(&format!("{base}/u/login"), &[("flow", &flow), ("identifier", EMAIL), ("password", PASSWORD)])
            .await;
        let code = done.param("code").unwrap_or_else(|| panic!("no code: {:?} {}", done.location, done.html));
        let t = self
            .app
            .request(
                reqwest::Method::POST,
                &format!("{base}/oauth/token"),
                None,
                Some(json!({"grant_type": "authorization_code", "client_id": self.client_id, "code": code,
                            "redirect_uri": CALLBACK, "code_verifier": VERIFIER})),
            )
            .await;
        assert_eq!(t.status, 200, "{}", t.text);
        t.body
    }

    async fn refresh(&self, refresh_token: &str, extra: Value) -> crate::util::Resp {
        let mut body =
            json!({"grant_type": "refresh_token", "client_id": self.client_id, "refresh_token": refresh_token});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        self.app.request(reqwest::Method::POST, "/oauth/token", None, Some(body)).await
    }

    /// The shared entry point of the Logto Account API, as its gate calls it, on `host`.
    async fn user_token(&self, host: &str, authorization: Option<&str>) -> Result<Value, UserTokenError> {
        let state = self.app.state();
        let tenant = state.tenants.get(&state.core, host).await.unwrap().expect("a tenant on this host");
        let origin = Origin::new(Scheme::Http, &format!("{host}:{}", self.app.port)).unwrap();
        let rt = RequestTenant { tenant, origin };
        let mut headers = HeaderMap::new();
        if let Some(a) = authorization {
            headers.insert(header::AUTHORIZATION, HeaderValue::from_str(a).unwrap());
        }
        authenticate_user_token(state, &rt, &headers).await.map(|c| serde_json::to_value(c).unwrap())
    }
}

fn jwt_claims(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn scopes(v: &Value) -> Vec<String> {
    let mut s: Vec<String> = v.as_str().unwrap().split(' ').map(str::to_string).collect();
    s.sort();
    s
}

fn assert_opaque(token: &str) {
    assert_eq!(token.len(), 43, "{token}");
    assert!(!token.contains('.'), "a JWT: {token}");
    assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{token}");
}

#[tokio::test]
async fn a_resource_less_sign_in_gets_an_opaque_token_that_userinfo_accepts() {
    let l = setup().await;
    let t = l.sign_in(&l.app.base, LOGTO_SCOPES, &[]).await;
    let access = t["access_token"].as_str().unwrap();
    assert_opaque(access);
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 86_400);
    assert_eq!(scopes(&t["scope"]), scopes(&json!(LOGTO_SCOPES)), "every Logto scope granted");
    assert!(t["refresh_token"].is_string());

    // The ID token is what Logto's SDKs read: sub, username, numeric updated_at.
    let id = jwt_claims(t["id_token"].as_str().unwrap());
    assert_eq!(id["sub"], l.user_id.as_str());
    assert_eq!(id["aud"], l.client_id.as_str());
    assert_eq!(id["username"], "ada");
    assert!(id["updated_at"].is_i64(), "updated_at is seconds: {}", id["updated_at"]);
    let now = accountd_core::clock::now_millis() / 1000;
    assert!((now - 60..=now).contains(&id["updated_at"].as_i64().unwrap()));

    let ui = l.app.get("/userinfo", access).await;
    assert_eq!(ui.status, 200, "{}", ui.text);
    assert_eq!(ui.body["sub"], l.user_id.as_str());
    assert_eq!(ui.body["username"], "ada");
    assert_eq!(ui.body["updated_at"], id["updated_at"]);
    assert_eq!(ui.body["email"], EMAIL);
    assert_eq!(ui.header("cache-control"), Some("no-store"));
    assert_eq!(l.app.post("/userinfo", access, json!({})).await.body["sub"], l.user_id.as_str());

    // The Account API's entry point reads the same token.
    let claims = l.user_token("127.0.0.1", Some(&format!("Bearer {access}"))).await.unwrap();
    assert_eq!(claims["sub"], l.user_id.as_str());
    assert_eq!(claims["client_id"], l.client_id.as_str());
    assert_eq!(claims["azp"], l.client_id.as_str());
    assert_eq!(claims["iss"], format!("{}/", l.app.base));
    assert_eq!(claims["aud"], format!("{}/userinfo", l.app.base));
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert!(claims["sid"].is_string() && claims["auth_time"].is_i64());
    assert_eq!(scopes(&claims["scope"]), scopes(&json!(LOGTO_SCOPES)));
    assert!(claims["exp"].as_i64().unwrap() > now + 86_000);

    // Only the hash is stored.
    let hash = accountd_core::secret::hash_high_entropy_secret(access);
    assert_eq!(l.app.sql_count(&format!("SELECT count(*) FROM access_tokens WHERE token_hash = '{hash}'")).await, 1);
    assert_eq!(l.app.sql_count(&format!("SELECT count(*) FROM access_tokens WHERE token_hash = '{access}'")).await, 0);

    // It is no token for an API: the My Account API refuses it.
    assert_eq!(l.app.get("/me/v1/authentication-methods", access).await.status, 401);
    l.app.stop().await;
}

#[tokio::test]
async fn the_token_carries_the_scopes_granted_and_userinfo_filters_by_them() {
    let l = setup().await;
    // Just `openid`: the subject and nothing else.
    let t = l.sign_in(&l.app.base, "openid", &[]).await;
    assert_eq!(t["scope"], "openid");
    assert!(t.get("refresh_token").is_none());
    let ui = l.app.get("/userinfo", t["access_token"].as_str().unwrap()).await;
    assert_eq!(ui.body, json!({"sub": l.user_id}));

    // Profile without email; an API scope asked for without an API is dropped.
    let t = l.sign_in(&l.app.base, "openid profile custom_data read:photos", &[]).await;
    assert_eq!(scopes(&t["scope"]), ["custom_data", "openid", "profile"]);
    let access = t["access_token"].as_str().unwrap();
    let ui = l.app.get("/userinfo", access).await;
    assert_eq!(ui.body["username"], "ada");
    assert!(ui.body.get("email").is_none(), "{}", ui.body);
    let claims = l.user_token("127.0.0.1", Some(&format!("Bearer {access}"))).await.unwrap();
    assert_eq!(scopes(&claims["scope"]), ["custom_data", "openid", "profile"]);

    // Without `openid`, /userinfo answers 403 (and there is no ID token).
    let t = l.sign_in(&l.app.base, "profile urn:logto:scope:sessions", &[]).await;
    assert_eq!(scopes(&t["scope"]), ["profile", "urn:logto:scope:sessions"]);
    assert!(t.get("id_token").is_none());
    assert_eq!(l.app.get("/userinfo", t["access_token"].as_str().unwrap()).await.status, 403);

    // Discovery lists them.
    let d = l.app.request(reqwest::Method::GET, "/oidc/.well-known/openid-configuration", None, None).await;
    for s in LOGTO_SCOPES.split(' ') {
        assert!(d.body["scopes_supported"].as_array().unwrap().contains(&json!(s)), "{s}");
    }
    l.app.stop().await;
}

#[tokio::test]
async fn refreshing_without_a_resource_gives_a_new_opaque_token_and_with_one_a_jwt() {
    let l = setup().await;
    let t = l.sign_in(&l.app.base, LOGTO_SCOPES, &[]).await;
    let first = t["access_token"].as_str().unwrap().to_string();
    let r = l.refresh(t["refresh_token"].as_str().unwrap(), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let second = r.body["access_token"].as_str().unwrap();
    assert_opaque(second);
    assert_ne!(second, first);
    assert_eq!(scopes(&r.body["scope"]), scopes(&json!(LOGTO_SCOPES)));
    assert_eq!(jwt_claims(r.body["id_token"].as_str().unwrap())["sub"], l.user_id.as_str());
    assert_eq!(l.app.get("/userinfo", second).await.body["sub"], l.user_id.as_str());

    // A narrower scope is a narrower token; scopes the sign-in did not grant are not added.
    let r = l.refresh(r.body["refresh_token"].as_str().unwrap(), json!({"scope": "openid profile"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let narrow = r.body["access_token"].as_str().unwrap();
    assert_opaque(narrow);
    let claims = l.user_token("127.0.0.1", Some(&format!("Bearer {narrow}"))).await.unwrap();
    assert_eq!(scopes(&claims["scope"]), ["openid", "profile"]);
    assert!(l.app.get("/userinfo", narrow).await.body.get("email").is_none());

    // With the My Account API as the resource, the token is a JWT for it, as before.
    let mgmt = l.app.mgmt_token().await;
    let me = format!("{}/me/", l.app.base);
    let g = l
        .app
        .post(
            "/api/v2/client-grants",
            &mgmt,
            json!({"client_id": l.client_id, "audience": me, "subject_type": "user", "scope": ["read:me:factors"]}),
        )
        .await;
    assert_eq!(g.status, 201, "{}", g.text);
    let r = l
        .refresh(r.body["refresh_token"].as_str().unwrap(), json!({"resource": me, "scope": "openid read:me:factors"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let jwt = r.body["access_token"].as_str().unwrap();
    assert_eq!(jwt_claims(jwt)["aud"], json!([me, format!("{}/userinfo", l.app.base)]));
    assert_eq!(l.user_token("127.0.0.1", Some(&format!("Bearer {jwt}"))).await, Err(UserTokenError::Invalid));
    l.app.stop().await;
}

#[tokio::test]
async fn the_entry_point_refuses_what_logto_refuses() {
    let l = setup().await;
    let t = l.sign_in(&l.app.base, LOGTO_SCOPES, &[]).await;
    let access = t["access_token"].as_str().unwrap();
    assert_eq!(l.user_token("127.0.0.1", None).await, Err(UserTokenError::MissingHeader));
    for a in [format!("Basic {access}"), format!("DPoP {access}"), access.to_string()] {
        assert_eq!(l.user_token("127.0.0.1", Some(&a)).await, Err(UserTokenError::NotBearer), "{a}");
    }
    let made_up = accountd_core::secret::random_token::<32>();
    for a in ["Bearer ".to_string(), format!("Bearer {made_up}"), format!("Bearer {}x", &access[1..])] {
        assert_eq!(l.user_token("127.0.0.1", Some(&a)).await, Err(UserTokenError::Invalid), "{a}");
    }
    // A management token is a JWT, for an API.
    let mgmt = l.app.mgmt_token().await;
    assert_eq!(l.user_token("127.0.0.1", Some(&format!("Bearer {mgmt}"))).await, Err(UserTokenError::Invalid));
    // Expired (the row says so; a node that reads it refuses it).
    let other = l.sign_in(&l.app.base, "openid", &[]).await;
    let other = other["access_token"].as_str().unwrap();
    let other_hash = accountd_core::secret::hash_high_entropy_secret(other);
    assert_eq!(
        l.app.sql(&format!("UPDATE access_tokens SET expires_at = 1 WHERE token_hash = '{other_hash}'")).await,
        1
    );
    let fresh_node = l.app.another_node().await;
    assert_eq!(fresh_node.get("/userinfo", other).await.status, 401, "an expired token was accepted");
    fresh_node.stop().await;
    l.app.stop().await;
}

#[tokio::test]
async fn opaque_tokens_stay_in_their_tenant() {
    let l = setup().await;
    let t = l.sign_in(&l.app.base, LOGTO_SCOPES, &[]).await;
    let access = t["access_token"].as_str().unwrap();
    l.app.core().create_tenant(&accountd_core::audit::Context::cli(), "Second", "tenant2.test").await.unwrap();
    let base2 = l.app.base_for("tenant2.test");
    let r = l.app.get(&format!("{base2}/userinfo"), access).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(l.user_token("tenant2.test", Some(&format!("Bearer {access}"))).await, Err(UserTokenError::Invalid));
    // Still good at home.
    assert_eq!(l.app.get("/userinfo", access).await.status, 200);
    l.app.stop().await;
}

#[tokio::test]
async fn a_cache_hit_reads_nothing_a_miss_reads_once_and_revocation_and_logout_end_the_token() {
    let l = setup().await;
    let t = l.sign_in(&l.app.base, LOGTO_SCOPES, &[]).await;
    let access = t["access_token"].as_str().unwrap().to_string();
    let hash = accountd_core::secret::hash_high_entropy_secret(&access);
    let node_b = l.app.another_node().await;
    // Node B has never seen the token: one read finds it, and after that it is in memory.
    assert_eq!(node_b.get("/userinfo", &access).await.status, 200);
    let row = format!("FROM access_tokens WHERE token_hash = '{hash}'");
    let saved = l.app.sql_count(&format!("SELECT count(*) {row}")).await;
    assert_eq!(saved, 1);
    // Behind both nodes' backs the row goes: both still serve it from memory (no read) ...
    assert_eq!(l.app.sql(&format!("DELETE {row}")).await, 1);
    assert_eq!(l.app.get("/userinfo", &access).await.status, 200);
    assert_eq!(node_b.get("/userinfo", &access).await.status, 200);
    // ... while a node that never saw it reads, and finds nothing.
    let node_c = l.app.another_node().await;
    assert_eq!(node_c.get("/userinfo", &access).await.status, 401);

    // Revocation takes effect at once on the node that revokes.
    let t = l.sign_in(&l.app.base, LOGTO_SCOPES, &[]).await;
    let access = t["access_token"].as_str().unwrap();
    assert_eq!(l.app.get("/userinfo", access).await.status, 200);
    let r = l
        .app
        .request(
            reqwest::Method::POST,
            "/oauth/revoke",
            None,
            Some(json!({"client_id": "someone-else", "token": access})),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.text);
    let r = l
        .app
        .request(reqwest::Method::POST, "/oauth/revoke", None, Some(json!({"client_id": l.client_id, "token": access})))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(l.app.get("/userinfo", access).await.status, 401);
    // The refresh token of that sign-in was not touched by revoking the access token.
    let r = l.refresh(t["refresh_token"].as_str().unwrap(), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Ending the session deletes its tokens from the store.
    let mut browser = Browser::new(l.app.port);
    let page = browser
        .get(&format!(
            "{}/authorize?{}",
            l.app.base,
            serde_urlencoded::to_string([
                ("response_type", "code"),
                ("client_id", l.client_id.as_str()),
                ("redirect_uri", CALLBACK),
                ("scope", "openid"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ])
            .unwrap()
        ))
        .await;
    let flow = page.hidden("flow").unwrap();
    let done = browser
        .post_form(
            &format!("{}/u/login", l.app.base),
            &[("flow", &flow), ("identifier", EMAIL), ("password", PASSWORD)],
        )
        .await;
    let code = done.param("code").unwrap();
    let t = l
        .app
        .request(
            reqwest::Method::POST,
            "/oauth/token",
            None,
            Some(json!({"grant_type": "authorization_code", "client_id": l.client_id, "code": code,
                        "redirect_uri": CALLBACK, "code_verifier": VERIFIER})),
        )
        .await;
    let access = t.body["access_token"].as_str().unwrap();
    let hash = accountd_core::secret::hash_high_entropy_secret(access);
    let out = browser
        .get(&format!("{}/oidc/logout?client_id={}&post_logout_redirect_uri={APP_ORIGIN}", l.app.base, l.client_id))
        .await;
    assert_eq!((out.status, out.location.as_deref()), (302, Some(APP_ORIGIN)));
    assert_eq!(l.app.sql_count(&format!("SELECT count(*) FROM access_tokens WHERE token_hash = '{hash}'")).await, 0);
    let node_d = l.app.another_node().await;
    assert_eq!(node_d.get("/userinfo", access).await.status, 401);
    for n in [node_b, node_c, node_d] {
        n.stop().await;
    }
    l.app.stop().await;
}

async fn cors(app: &TestApp, method: reqwest::Method, path: &str, origin: &str) -> reqwest::Response {
    let mut req =
        reqwest::Client::new().request(method.clone(), format!("{}{path}", app.base)).header("origin", origin);
    if method == reqwest::Method::OPTIONS {
        req = req
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type");
    }
    req.send().await.unwrap()
}

fn allow_origin(r: &reqwest::Response) -> Option<&str> {
    r.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn discovery_and_keys_answer_every_origin_and_tokens_a_logto_spas_own() {
    let l = setup().await;
    let t = l.app.mgmt_token().await;
    // Registered origins without Auth0's switch: CORS origins count, web origins need the switch.
    for body in [
        json!({"name": "CORS origins", "app_type": "spa", "allowed_origins": ["http://allowed.example"]}),
        json!({"name": "Web origins", "app_type": "spa", "web_origins": ["http://closed.example"]}),
    ] {
        assert_eq!(l.app.post("/api/v2/clients", &t, body).await.status, 201);
    }
    for path in
        ["/oidc/.well-known/openid-configuration", "/.well-known/openid-configuration", "/.well-known/jwks.json"]
    {
        for origin in ["https://anyone.example", APP_ORIGIN] {
            let r = cors(&l.app, reqwest::Method::GET, path, origin).await;
            assert_eq!(r.status(), 200, "{path}");
            assert_eq!(allow_origin(&r), Some(origin), "{path}");
            let r = cors(&l.app, reqwest::Method::OPTIONS, path, origin).await;
            assert_eq!(allow_origin(&r), Some(origin), "{path} preflight");
        }
    }
    for path in ["/oauth/token", "/oauth/revoke", "/userinfo"] {
        for origin in [APP_ORIGIN, "http://allowed.example"] {
            let r = cors(&l.app, reqwest::Method::OPTIONS, path, origin).await;
            assert_eq!(r.status(), 204);
            assert_eq!(allow_origin(&r), Some(origin), "{path} refused {origin}");
        }
        for origin in ["https://evil.example", "http://closed.example", "http://localhost:3001"] {
            let r = cors(&l.app, reqwest::Method::OPTIONS, path, origin).await;
            assert_eq!(allow_origin(&r), None, "{path} allowed {origin}");
        }
    }
    // The SPA's own token request, cross-origin, as @logto/browser sends it.
    let r = reqwest::Client::new()
        .post(format!("{}/oauth/token", l.app.base))
        .header("origin", APP_ORIGIN)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            serde_urlencoded::to_string([
                ("grant_type", "refresh_token"),
                ("client_id", l.client_id.as_str()),
                ("refresh_token", "nope"),
            ])
            .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(allow_origin(&r), Some(APP_ORIGIN));
    l.app.stop().await;
}

#[tokio::test]
async fn everything_the_logto_discovery_document_names_answers() {
    let l = setup().await;
    let d = l.app.request(reqwest::Method::GET, "/oidc/.well-known/openid-configuration", None, None).await;
    assert_eq!(d.body["issuer"], format!("{}/", l.app.base));
    let jwks = l.app.request(reqwest::Method::GET, d.body["jwks_uri"].as_str().unwrap(), None, None).await;
    assert_eq!(jwks.status, 200);
    assert!(!jwks.body["keys"].as_array().unwrap().is_empty());
    // Sign-in with a resource-less request, the endpoints named by the document.
    let t = l.sign_in(&l.app.base, LOGTO_SCOPES, &[]).await;
    let access = t["access_token"].as_str().unwrap();
    let ui = l.app.get(d.body["userinfo_endpoint"].as_str().unwrap(), access).await;
    assert_eq!(ui.status, 200);
    let out = l.app.request(reqwest::Method::GET, d.body["end_session_endpoint"].as_str().unwrap(), None, None).await;
    assert_eq!(out.status, 200, "{}", out.text);
    // Introspection knows opaque tokens.
    assert!(d.body["introspection_endpoint"].is_string());
    l.app.stop().await;
}
