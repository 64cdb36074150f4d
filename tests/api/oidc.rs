//! The authorization code flow as a browser and an SPA drive it: discovery, `/authorize` with
//! PKCE, the hosted sign-in form, code exchange, ID token, `/userinfo`, refresh rotation,
//! revocation and logout — and the ways each must refuse.

use base64::Engine;
use serde_json::{Value, json};

use crate::util::TestApp;
use crate::util::browser::{Browser, Page};

const CALLBACK: &str = "http://localhost:3000/callback";
// RFC 7636 appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const PASSWORD: &str = "correct horse battery";

/// An SPA granted My Account scopes, and a user with a password.
struct Setup {
    app: TestApp,
    client_id: String,
    user_id: String,
}

async fn setup() -> Setup {
    setup_with(|_| {}).await
}

async fn setup_with(tweak: impl FnOnce(&mut accountd::Config)) -> Setup {
    let app = TestApp::start_with(tweak).await;
    let t = app.mgmt_token().await;
    let spa = app
        .post(
            "/api/v2/clients",
            &t,
            json!({"name": "Demo SPA", "app_type": "spa", "callbacks": [CALLBACK],
                   "allowed_logout_urls": ["http://localhost:3000/"], "web_origins": ["http://localhost:3000"]}),
        )
        .await;
    let client_id = spa.body["client_id"].as_str().unwrap().to_string();
    let g = app
        .post(
            "/api/v2/client-grants",
            &t,
            json!({"client_id": client_id, "audience": format!("{}/me/", app.base), "subject_type": "user",
                   "scope": ["read:me:authentication_methods", "read:me:factors"]}),
        )
        .await;
    assert_eq!(g.status, 201);
    let u =
        app.post("/api/v2/users", &t, json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada"})).await;
    Setup { user_id: u.body["user_id"].as_str().unwrap().to_string(), app, client_id }
}

impl Setup {
    fn authorize_url(&self, extra: &[(&str, &str)]) -> String {
        let me = format!("{}/me/", self.app.base);
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", CALLBACK),
            ("scope", "openid profile email offline_access read:me:authentication_methods"),
            ("state", "st4te"),
            ("nonce", "n0nce"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("audience", me.as_str()),
            ("auth0Client", "eyJuYW1lIjoiYXV0aDAtc3BhLWpzIn0="),
        ];
        for (k, v) in extra {
            params.retain(|(pk, _)| pk != k);
            if !v.is_empty() {
                params.push((k, v));
            }
        }
        format!("{}/authorize?{}", self.app.base, serde_urlencoded::to_string(&params).unwrap())
    }

    /// Signs in through the form; returns the redirect page.
    async fn sign_in(&self, browser: &mut Browser, extra: &[(&str, &str)], password: &str) -> Page {
        let page = browser.get(&self.authorize_url(extra)).await;
        assert_eq!(page.status, 200, "{}", page.html);
        assert!(page.html.contains("Demo SPA"));
        let flow = page.hidden("flow").expect("sealed flow field");
        browser
            .post_form(
                &format!("{}/u/login", self.app.base),
                &[("flow", &flow), ("identifier", "ada@example.com"), ("password", password)],
            )
            .await
    }

    async fn token(&self, body: Value) -> crate::util::Resp {
        self.app.request(reqwest::Method::POST, "/oauth/token", None, Some(body)).await
    }

    async fn exchange(&self, code: &str) -> crate::util::Resp {
        self.token(json!({"grant_type": "authorization_code", "client_id": self.client_id, "code": code,
                          "redirect_uri": CALLBACK, "code_verifier": VERIFIER}))
            .await
    }

    async fn refresh(&self, rt: &str, extra: Value) -> crate::util::Resp {
        let mut body = json!({"grant_type": "refresh_token", "client_id": self.client_id, "refresh_token": rt});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        self.token(body).await
    }
}

fn jwt_part(token: &str, i: usize) -> Value {
    let part = token.split('.').nth(i).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[tokio::test]
async fn discovery_documents_name_this_host() {
    let s = setup().await;
    for path in ["/.well-known/openid-configuration", "/oidc/.well-known/openid-configuration"] {
        let d = s.app.request(reqwest::Method::GET, path, None, None).await;
        assert_eq!(d.status, 200);
        assert_eq!(d.body["issuer"], format!("{}/", s.app.base));
        assert_eq!(d.body["authorization_endpoint"], format!("{}/authorize", s.app.base));
        assert_eq!(d.body["jwks_uri"], format!("{}/.well-known/jwks.json", s.app.base));
        assert_eq!(d.body["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(d.body["id_token_signing_alg_values_supported"], json!(["RS256"]));
        // RFC 9449 §5.1: DPoP is accepted, so its algorithms are named.
        assert_eq!(d.body["dpop_signing_alg_values_supported"], json!(["ES256", "EdDSA", "RS256", "PS256"]));
    }
    s.app.stop().await;
}

/// Every grant type discovery names is one `/oauth/token` knows (it may refuse the request, never
/// with `unsupported_grant_type`), and one it does not know is not named.
#[tokio::test]
async fn discovery_names_exactly_the_grant_types_the_token_endpoint_accepts() {
    let s = setup().await;
    let d = s.app.request(reqwest::Method::GET, "/.well-known/openid-configuration", None, None).await;
    let named: Vec<String> =
        d.body["grant_types_supported"].as_array().unwrap().iter().map(|g| g.as_str().unwrap().to_string()).collect();
    assert!(named.contains(&"urn:okta:params:oauth:grant-type:webauthn".to_string()), "{named:?}");
    let ask = |grant: String| {
        let (app, client) = (&s.app, s.client_id.clone());
        async move {
            // A real (public) client: the grant type is judged, not the client.
            let form =
                serde_urlencoded::to_string([("grant_type", grant.as_str()), ("client_id", client.as_str())]).unwrap();
            app.post_raw("/oauth/token", None, "application/x-www-form-urlencoded", &form).await
        }
    };
    for g in &named {
        let r = ask(g.clone()).await;
        assert_ne!(r.body["error"], "unsupported_grant_type", "{g} is advertised but not accepted");
    }
    for g in ["password", "urn:ietf:params:oauth:grant-type:device_code", "implicit"] {
        assert!(!named.iter().any(|n| n == g), "{g} is advertised");
        // The check above can fail: a grant the endpoint does not know is answered as such.
        assert_eq!(ask(g.to_string()).await.body["error"], "unsupported_grant_type", "{g}");
    }
    s.app.stop().await;
}

#[tokio::test]
async fn sign_in_exchange_userinfo_and_refresh() {
    let s = setup().await;
    let mut browser = Browser::new(s.app.port);
    let done = s.sign_in(&mut browser, &[], PASSWORD).await;
    assert_eq!(done.status, 302, "{}", done.html);
    assert!(done.location.as_deref().unwrap().starts_with(&format!("{CALLBACK}?")));
    assert_eq!(done.param("state").as_deref(), Some("st4te"), "state echoed");
    assert!(browser.cookie("accountd_session").is_some(), "session cookie set");
    let code = done.param("code").unwrap();

    let t = s.exchange(&code).await;
    assert_eq!(t.status, 200, "{}", t.text);
    assert_eq!(t.body["token_type"], "Bearer");
    assert_eq!(t.header("cache-control"), Some("no-store"));
    let scope = t.body["scope"].as_str().unwrap();
    assert_eq!(scope, "openid profile email offline_access read:me:authentication_methods");

    let id = jwt_part(t.body["id_token"].as_str().unwrap(), 1);
    assert_eq!(jwt_part(t.body["id_token"].as_str().unwrap(), 0)["alg"], "RS256");
    assert_eq!(id["iss"], format!("{}/", s.app.base));
    assert_eq!(id["aud"], s.client_id.as_str());
    assert_eq!(id["sub"], s.user_id.as_str());
    assert_eq!(id["nonce"], "n0nce");
    assert_eq!(id["email"], "ada@example.com");
    assert_eq!(id["name"], "Ada");
    assert_eq!(id["amr"], json!(["pwd"]));
    let access = t.body["access_token"].as_str().unwrap();
    assert_eq!(id["at_hash"], accountd_oauth::id_token::at_hash(access).as_str());

    let at = jwt_part(access, 1);
    assert_eq!(at["aud"], json!([format!("{}/me/", s.app.base), format!("{}/userinfo", s.app.base)]));
    assert_eq!(at["sid"], id["sid"]);
    assert!(at["auth_time"].is_i64());

    let ui = s.app.get("/userinfo", access).await;
    assert_eq!(ui.status, 200, "{}", ui.text);
    assert_eq!(ui.body["sub"], s.user_id.as_str());
    assert_eq!(ui.body["email"], "ada@example.com");
    assert_eq!(s.app.post("/userinfo", access, json!({})).await.body["sub"], s.user_id.as_str());
    // A management token is not a userinfo token.
    assert_eq!(s.app.get("/userinfo", &s.app.mgmt_token().await).await.status, 401);

    // Refresh rotates; the new pair works, and the My Account token can be narrowed.
    let rt1 = t.body["refresh_token"].as_str().unwrap().to_string();
    let r = s
        .refresh(&rt1, json!({"scope": "read:me:authentication_methods", "audience": format!("{}/me/", s.app.base)}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["scope"], "read:me:authentication_methods");
    assert!(r.body.get("id_token").is_none());
    let rt2 = r.body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt1, rt2);
    assert_eq!(s.refresh(&rt2, json!({})).await.status, 200);

    // Single sign-on: the next /authorize answers at once from the session.
    let again = browser.get(&s.authorize_url(&[])).await;
    assert_eq!(again.status, 302);
    assert!(again.param("code").is_some());
    s.app.stop().await;
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_family() {
    let s = setup().await;
    let mut browser = Browser::new(s.app.port);
    let code = s.sign_in(&mut browser, &[], PASSWORD).await.param("code").unwrap();
    let t = s.exchange(&code).await;
    let rt1 = t.body["refresh_token"].as_str().unwrap().to_string();
    let rt2 = s.refresh(&rt1, json!({})).await.body["refresh_token"].as_str().unwrap().to_string();
    // An attacker replays the old token: refused, and the legitimate new one dies with it.
    let replay = s.refresh(&rt1, json!({})).await;
    assert_eq!((replay.status.as_u16(), replay.body["error"].as_str().unwrap()), (400, "invalid_grant"));
    assert_eq!(s.refresh(&rt2, json!({})).await.body["error"], "invalid_grant");
    s.app.stop().await;
}

#[tokio::test]
async fn a_reused_code_is_refused_and_revokes_what_it_issued() {
    let s = setup().await;
    let mut browser = Browser::new(s.app.port);
    let code = s.sign_in(&mut browser, &[], PASSWORD).await.param("code").unwrap();
    let first = s.exchange(&code).await;
    assert_eq!(first.status, 200);
    let second = s.exchange(&code).await;
    assert_eq!((second.status.as_u16(), second.body["error"].as_str().unwrap()), (400, "invalid_grant"));
    let rt = first.body["refresh_token"].as_str().unwrap();
    assert_eq!(s.refresh(rt, json!({})).await.body["error"], "invalid_grant", "tokens of a replayed code live on");
    s.app.stop().await;
}

#[tokio::test]
async fn pkce_is_required_and_checked() {
    let s = setup().await;
    let mut browser = Browser::new(s.app.port);
    // A public client without PKCE: error sent back to the registered redirect URI.
    let p = browser.get(&s.authorize_url(&[("code_challenge", ""), ("code_challenge_method", "")])).await;
    assert_eq!(p.status, 302);
    assert_eq!(p.param("error").as_deref(), Some("invalid_request"));
    assert_eq!(p.param("state").as_deref(), Some("st4te"));
    let p = browser.get(&s.authorize_url(&[("code_challenge_method", "plain")])).await;
    assert_eq!(p.param("error").as_deref(), Some("invalid_request"));

    let code = s.sign_in(&mut browser, &[], PASSWORD).await.param("code").unwrap();
    let wrong = s
        .token(json!({"grant_type": "authorization_code", "client_id": s.client_id, "code": code,
                      "redirect_uri": CALLBACK, "code_verifier": "x".repeat(43)}))
        .await;
    assert_eq!(wrong.body["error"], "invalid_grant");
    let code = browser.get(&s.authorize_url(&[])).await.param("code").unwrap();
    let missing = s.token(json!({"grant_type": "authorization_code", "client_id": s.client_id, "code": code, "redirect_uri": CALLBACK})).await;
    assert_eq!(missing.body["error"], "invalid_request");
    let code = browser.get(&s.authorize_url(&[])).await.param("code").unwrap();
    let other_uri = s
        .token(json!({"grant_type": "authorization_code", "client_id": s.client_id, "code": code,
                      "redirect_uri": "http://localhost:3000/other", "code_verifier": VERIFIER}))
        .await;
    assert_eq!(other_uri.body["error"], "invalid_grant");
    s.app.stop().await;
}

#[tokio::test]
async fn unregistered_redirect_uris_get_a_page_not_a_redirect() {
    let s = setup().await;
    let mut browser = Browser::new(s.app.port);
    for uri in
        ["https://evil.example/callback", "http://localhost:3000/callback/../evil", "http://localhost:3000/callbackx"]
    {
        let p = browser.get(&s.authorize_url(&[("redirect_uri", uri)])).await;
        assert_eq!(p.status, 400, "{uri}");
        assert!(p.location.is_none(), "redirected to {uri}");
        assert!(p.html.contains("redirect_uri is not registered"));
    }
    let p = browser.get(&s.authorize_url(&[("client_id", "nope")])).await;
    assert_eq!((p.status, p.location.is_none()), (400, true));
    s.app.stop().await;
}

#[tokio::test]
async fn the_sign_in_form_resists_csrf_and_enumeration() {
    let s = setup().await;
    let mut browser = Browser::new(s.app.port);
    let page = browser.get(&s.authorize_url(&[])).await;
    let flow = page.hidden("flow").unwrap();
    let login = format!("{}/u/login", s.app.base);

    // The same form posted from another browser (no binding cookie) is refused.
    let mut attacker = Browser::new(s.app.port);
    let p =
        attacker.post_form(&login, &[("flow", &flow), ("identifier", "ada@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(p.status, 403);
    assert!(attacker.cookie("accountd_session").is_none());
    // A tampered or missing flow is refused.
    let mut bad = flow.clone();
    bad.replace_range(10..11, if &bad[10..11] == "A" { "B" } else { "A" });
    let p =
        browser.post_form(&login, &[("flow", &bad), ("identifier", "ada@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(p.status, 400);

    // Wrong password and unknown user: the same answer.
    let wrong = browser
        .post_form(&login, &[("flow", &flow), ("identifier", "ada@example.com"), ("password", "nope nope")])
        .await;
    let unknown = browser
        .post_form(&login, &[("flow", &flow), ("identifier", "bob@example.com"), ("password", "nope nope")])
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, wrong.status);
    let strip = |h: &str| h.replace("bob@example.com", "ada@example.com");
    assert_eq!(strip(&unknown.html), wrong.html);
    assert!(wrong.html.contains("Wrong email or password."));
    assert!(browser.cookie("accountd_session").is_none());
    // The form still works after a mistake.
    let ok =
        browser.post_form(&login, &[("flow", &flow), ("identifier", "ada@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(ok.status, 302);
    s.app.stop().await;
}

#[tokio::test]
async fn any_spelling_of_the_email_signs_in() {
    let s = setup().await;
    let t = s.app.mgmt_token().await;
    let u = s.app.post("/api/v2/users", &t, json!({"email": "Grace@Bücher.example", "password": PASSWORD})).await;
    assert_eq!(u.status, 201, "{}", u.text);
    let grace = u.body["user_id"].as_str().unwrap();
    for spelling in ["grace@xn--bcher-kva.example", "GRACE@bu\u{308}cher.example", "grace@BÜCHER.example"] {
        let mut browser = Browser::new(s.app.port);
        let page = browser.get(&s.authorize_url(&[])).await;
        let flow = page.hidden("flow").unwrap();
        let done = browser
            .post_form(
                &format!("{}/u/login", s.app.base),
                &[("flow", &flow), ("identifier", spelling), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(done.status, 302, "{spelling}: {}", done.html);
        let tokens = s.exchange(&done.param("code").unwrap()).await;
        let id_token = tokens.body["id_token"].as_str().unwrap();
        assert_eq!(jwt_part(id_token, 1)["sub"], grace, "{spelling}");
    }
    s.app.stop().await;
}

#[tokio::test]
async fn prompt_none_and_prompt_login() {
    let s = setup().await;
    let mut browser = Browser::new(s.app.port);
    let p = browser.get(&s.authorize_url(&[("prompt", "none")])).await;
    assert_eq!(p.param("error").as_deref(), Some("login_required"));
    s.sign_in(&mut browser, &[], PASSWORD).await;
    let p = browser.get(&s.authorize_url(&[("prompt", "none")])).await;
    assert!(p.param("code").is_some(), "silent sign-in with a session");
    let p = browser.get(&s.authorize_url(&[("prompt", "login")])).await;
    assert_eq!(p.status, 200, "prompt=login shows the form");
    // A sign-in older than max_age is not good enough for a silent answer.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let p = browser.get(&s.authorize_url(&[("prompt", "none"), ("max_age", "0")])).await;
    assert_eq!(p.param("error").as_deref(), Some("login_required"));
    let p = browser.get(&s.authorize_url(&[("prompt", "none"), ("max_age", "3600")])).await;
    assert!(p.param("code").is_some());
    // web_message answers with a page posting to the redirect URI's origin.
    let p = browser.get(&s.authorize_url(&[("prompt", "none"), ("response_mode", "web_message")])).await;
    assert_eq!(p.status, 200);
    assert!(p.html.contains("\"type\":\"authorization_response\""));
    assert!(p.html.contains("\"http://localhost:3000\""));
    s.app.stop().await;
}

#[tokio::test]
async fn logout_and_revocation_end_access() {
    let s = setup().await;
    let mut browser = Browser::new(s.app.port);
    let code = s.sign_in(&mut browser, &[], PASSWORD).await.param("code").unwrap();
    let t = s.exchange(&code).await;
    let rt = t.body["refresh_token"].as_str().unwrap().to_string();
    // Revocation (RFC 7009): 200, and the refresh token is dead.
    let r = s
        .app
        .post_raw(
            "/oauth/revoke",
            None,
            "application/x-www-form-urlencoded",
            &format!("client_id={}&token={rt}", s.client_id),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(s.refresh(&rt, json!({})).await.body["error"], "invalid_grant");
    let r = s
        .app
        .post_raw(
            "/oauth/revoke",
            None,
            "application/x-www-form-urlencoded",
            &format!("client_id={}&token=unknown", s.client_id),
        )
        .await;
    assert_eq!(r.status, 200, "unknown tokens are not an error");

    // Logout ends the session and its refresh tokens, and redirects only to an allowed URL.
    let code = browser.get(&s.authorize_url(&[])).await.param("code").unwrap();
    let rt = s.exchange(&code).await.body["refresh_token"].as_str().unwrap().to_string();
    let out = browser
        .get(&format!("{}/v2/logout?client_id={}&returnTo=http%3A%2F%2Flocalhost%3A3000%2F", s.app.base, s.client_id))
        .await;
    assert_eq!((out.status, out.location.as_deref()), (302, Some("http://localhost:3000/")));
    assert!(browser.cookie("accountd_session").is_none());
    assert_eq!(s.refresh(&rt, json!({})).await.body["error"], "invalid_grant");
    let p = browser.get(&s.authorize_url(&[("prompt", "none")])).await;
    assert_eq!(p.param("error").as_deref(), Some("login_required"));
    let evil = browser
        .get(&format!("{}/v2/logout?client_id={}&returnTo=https%3A%2F%2Fevil.example%2F", s.app.base, s.client_id))
        .await;
    assert_eq!((evil.status, evil.location.is_none()), (200, true), "open redirect on logout");
    s.app.stop().await;
}

#[tokio::test]
async fn my_account_scopes_follow_the_grant_and_rbac() {
    let s = setup().await;
    let t = s.app.mgmt_token().await;
    let mut browser = Browser::new(s.app.port);
    // Not in the grant: not in the token.
    let scope = "openid read:me:authentication_methods delete:me:authentication_methods";
    let code = s.sign_in(&mut browser, &[("scope", scope)], PASSWORD).await.param("code").unwrap();
    assert_eq!(s.exchange(&code).await.body["scope"], "openid read:me:authentication_methods");
    // With RBAC on and no role, the API scopes go; with a role holding one, it comes back.
    let me_id = s
        .app
        .get(
            &format!(
                "/api/v2/resource-servers/{}",
                format!("{}/me/", s.app.base).replace(':', "%3A").replace('/', "%2F")
            ),
            &t,
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.app.patch(&format!("/api/v2/resource-servers/{me_id}"), &t, json!({"enforce_policies": true})).await;
    let code = browser.get(&s.authorize_url(&[("scope", scope)])).await.param("code").unwrap();
    assert_eq!(s.exchange(&code).await.body["scope"], "openid");
    let role =
        s.app.post("/api/v2/roles", &t, json!({"name": "self-service"})).await.body["id"].as_str().unwrap().to_string();
    s.app
        .post(&format!("/api/v2/roles/{role}/permissions"), &t,
              json!({"permissions": [{"resource_server_identifier": format!("{}/me/", s.app.base), "permission_name": "read:me:authentication_methods"}]}))
        .await;
    s.app.post(&format!("/api/v2/users/{}/roles", s.user_id), &t, json!({"roles": [role]})).await;
    let code = browser.get(&s.authorize_url(&[("scope", scope)])).await.param("code").unwrap();
    assert_eq!(s.exchange(&code).await.body["scope"], "openid read:me:authentication_methods");
    // Without a client grant the My Account API (require_client_grant) is refused.
    let grants = s.app.get(&format!("/api/v2/client-grants?client_id={}", s.client_id), &t).await;
    s.app.delete(&format!("/api/v2/client-grants/{}", grants.body[0]["id"].as_str().unwrap()), &t).await;
    let p = browser.get(&s.authorize_url(&[("scope", scope)])).await;
    assert_eq!(p.param("error").as_deref(), Some("access_denied"));
    s.app.stop().await;
}

#[tokio::test]
async fn a_code_from_one_tenant_is_useless_on_another() {
    let s = setup().await;
    let second =
        s.app.core().create_tenant(&accountd_core::audit::Context::cli(), "Second", "tenant2.test").await.unwrap();
    let _ = second;
    let mut browser = Browser::new(s.app.port);
    let code = s.sign_in(&mut browser, &[], PASSWORD).await.param("code").unwrap();
    let r = s
        .app
        .request(
            reqwest::Method::POST,
            &format!("{}/oauth/token", s.app.base_for("tenant2.test")),
            None,
            Some(json!({"grant_type": "authorization_code", "client_id": s.client_id, "code": code,
                        "redirect_uri": CALLBACK, "code_verifier": VERIFIER})),
        )
        .await;
    assert_eq!(r.status, 401, "the client does not exist there: {}", r.text);
    // And the code still works where it was issued (nothing was consumed by the attempt).
    assert_eq!(s.exchange(&code).await.status, 200);
    s.app.stop().await;
}

#[tokio::test]
async fn repeated_failures_lock_the_account_out_and_say_until_when() {
    let s = setup_with(|c| {
        c.sign_in.max_failures = 3;
        c.sign_in.max_failures_per_ip = 5;
    })
    .await;
    let mut browser = Browser::new(s.app.port);
    let page = browser.get(&s.authorize_url(&[])).await;
    let flow = page.hidden("flow").unwrap();
    let login = format!("{}/u/login", s.app.base);
    let attempt = |who: &'static str, pw: &'static str| (who, pw);
    let mut last = None;
    // Failures count per address however it is spelled (here in full-width letters the third time).
    for (who, pw) in [
        attempt("ada@example.com", "bad1"),
        attempt("ADA@example.com", "bad2"),
        attempt("ada@ｅｘａｍｐｌｅ.com", "bad3"),
    ] {
        last = Some(browser.post_form(&login, &[("flow", &flow), ("identifier", who), ("password", pw)]).await);
    }
    let locked = last.unwrap();
    assert_eq!(locked.status, 429, "{}", locked.html);
    assert!(locked.html.contains("Too many failed attempts. Try again after"));
    // Even the right password is refused while locked.
    let p =
        browser.post_form(&login, &[("flow", &flow), ("identifier", "ada@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(p.status, 429);
    assert!(browser.cookie("accountd_session").is_none());
    // Unknown identifiers lock the same way (no enumeration through lockouts).
    let p1 =
        browser.post_form(&login, &[("flow", &flow), ("identifier", "ghost@example.com"), ("password", "x1")]).await;
    assert_eq!(p1.status, 401);
    // The IP's budget (5 failures; refused attempts give theirs back) is spent with the next one:
    // then every identifier from this IP is slowed down.
    let p2 =
        browser.post_form(&login, &[("flow", &flow), ("identifier", "other@example.com"), ("password", "x2")]).await;
    assert_eq!(p2.status, 401);
    let p3 =
        browser.post_form(&login, &[("flow", &flow), ("identifier", "third@example.com"), ("password", "x3")]).await;
    assert_eq!(p3.status, 429);
    // The audit log records the failures.
    let logs = s.app.get("/api/v2/logs", &s.app.mgmt_token().await).await;
    assert!(logs.body.as_array().unwrap().iter().any(|e| e["description"] == "user.sign_in" && e["type"] == "fapi"));
    s.app.stop().await;
}

#[tokio::test]
async fn dpop_binds_the_user_tokens_and_the_public_clients_refresh_token() {
    use crate::util::dpop::DpopKey;
    let s = setup().await;
    let mut browser = Browser::new(s.app.port);
    let code = s.sign_in(&mut browser, &[], PASSWORD).await.param("code").unwrap();
    let key = DpopKey::new();
    let token_url = format!("{}/oauth/token", s.app.base);
    let send = |body: Value, proof: Option<String>| {
        let mut req = reqwest::Client::new().post(token_url.clone()).json(&body);
        if let Some(p) = proof {
            req = req.header("dpop", p);
        }
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, t) = send(
        json!({"grant_type": "authorization_code", "client_id": s.client_id, "code": code,
               "redirect_uri": CALLBACK, "code_verifier": VERIFIER}),
        Some(key.proof("POST", &token_url, None, None)),
    )
    .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["token_type"], "DPoP");
    let access = t["access_token"].as_str().unwrap().to_string();
    assert_eq!(jwt_part(&access, 1)["cnf"]["jkt"], key.jkt.as_str());

    // /userinfo with the DPoP scheme and a proof for it.
    let ui = reqwest::Client::new()
        .get(format!("{}/userinfo", s.app.base))
        .header("authorization", format!("DPoP {access}"))
        .header("dpop", key.proof("GET", &format!("{}/userinfo", s.app.base), Some(&access), None))
        .send()
        .await
        .unwrap();
    assert_eq!(ui.status(), 200);
    let as_bearer = s.app.get("/userinfo", &access).await;
    assert_eq!(as_bearer.status, 401);
    assert!(as_bearer.header("www-authenticate").unwrap().starts_with("DPoP error=\"invalid_token\""));

    // The public client's refresh token only works with the same key.
    let rt = t["refresh_token"].as_str().unwrap().to_string();
    let refresh = json!({"grant_type": "refresh_token", "client_id": s.client_id, "refresh_token": rt});
    let (status, e) = send(refresh.clone(), None).await;
    assert_eq!((status, e["error"].as_str()), (400, Some("invalid_grant")));
    let thief = DpopKey::new();
    let (status, _) = send(refresh.clone(), Some(thief.proof("POST", &token_url, None, None))).await;
    assert_eq!(status, 400);
    let (status, r) = send(refresh, Some(key.proof("POST", &token_url, None, None))).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["token_type"], "DPoP");
    s.app.stop().await;
}

#[tokio::test]
async fn confidential_clients_introspect_tokens() {
    let s = setup().await;
    let t = s.app.mgmt_token().await;
    let web = s
        .app
        .post("/api/v2/clients", &t, json!({"name": "Backend", "app_type": "regular_web", "callbacks": [CALLBACK]}))
        .await;
    let (web_id, web_secret) = (web.body["client_id"].as_str().unwrap(), web.body["client_secret"].as_str().unwrap());
    let introspect = |token: String, id: String, secret: Option<String>| {
        let mut form = vec![("token".to_string(), token), ("client_id".to_string(), id)];
        if let Some(sec) = secret {
            form.push(("client_secret".to_string(), sec));
        }
        let body = serde_urlencoded::to_string(&form).unwrap();
        let app = &s.app;
        async move { app.post_raw("/oauth/introspect", None, "application/x-www-form-urlencoded", &body).await }
    };
    let mut browser = Browser::new(s.app.port);
    let code = s.sign_in(&mut browser, &[], PASSWORD).await.param("code").unwrap();
    let tokens = s.exchange(&code).await;
    let access = tokens.body["access_token"].as_str().unwrap().to_string();
    let rt = tokens.body["refresh_token"].as_str().unwrap().to_string();

    let r = introspect(access.clone(), web_id.into(), Some(web_secret.into())).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["sub"], s.user_id.as_str());
    assert_eq!(r.body["client_id"], s.client_id.as_str());
    assert_eq!(r.body["token_type"], "Bearer");
    let r = introspect("eyJ.garbage.x".into(), web_id.into(), Some(web_secret.into())).await;
    assert_eq!(r.body, json!({"active": false}));
    // Another client's refresh token is not revealed.
    let r = introspect(rt.clone(), web_id.into(), Some(web_secret.into())).await;
    assert_eq!(r.body, json!({"active": false}));
    // Public clients may not introspect.
    let r = introspect(access, s.client_id.clone(), None).await;
    assert_eq!((r.status.as_u16(), r.body["error"].as_str()), (401, Some("invalid_client")));
    let r = introspect(rt, web_id.into(), Some("wrong".into())).await;
    assert_eq!(r.status, 401);
    s.app.stop().await;
}

#[tokio::test]
async fn third_party_applications_need_the_users_consent() {
    let s = setup().await;
    let t = s.app.mgmt_token().await;
    s.app
        .post(
            "/api/v2/resource-servers",
            &t,
            json!({"identifier": "urn:photos", "name": "Photos", "scopes": [{"value": "read:photos", "description": "See your photos"}],
                   "subject_type_authorization": {"user": {"policy": "allow_all"}}}),
        )
        .await;
    let partner = s
        .app
        .post(
            "/api/v2/clients",
            &t,
            json!({"name": "Partner App", "app_type": "spa", "is_first_party": false, "callbacks": [CALLBACK]}),
        )
        .await;
    let pid = partner.body["client_id"].as_str().unwrap().to_string();
    let url = |extra: &[(&str, &str)]| {
        let mut p = vec![
            ("response_type", "code"),
            ("client_id", pid.as_str()),
            ("redirect_uri", CALLBACK),
            ("scope", "openid email read:photos"),
            ("state", "s1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("audience", "urn:photos"),
        ];
        p.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
        p.extend_from_slice(extra);
        format!("{}/authorize?{}", s.app.base, serde_urlencoded::to_string(&p).unwrap())
    };
    let mut browser = Browser::new(s.app.port);
    s.sign_in(&mut browser, &[], PASSWORD).await; // signed in through the first-party app
    // Silent sign-in cannot ask: consent_required.
    let silent = browser.get(&url(&[("prompt", "none")])).await;
    assert_eq!(silent.param("error").as_deref(), Some("consent_required"));

    let page = browser.get(&url(&[])).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("Authorize Partner App"));
    assert!(page.html.contains("See your photos") && page.html.contains("Read your email address"));
    let flow = page.hidden("flow").unwrap();
    let consent = format!("{}/u/consent", s.app.base);

    // Posted from another browser: refused.
    let mut other = Browser::new(s.app.port);
    assert_eq!(other.post_form(&consent, &[("flow", &flow), ("decision", "allow")]).await.status, 403);
    // Deny: the app hears access_denied and gets nothing.
    let denied = browser.post_form(&consent, &[("flow", &flow), ("decision", "deny")]).await;
    assert_eq!(denied.param("error").as_deref(), Some("access_denied"));
    assert_eq!(denied.param("state").as_deref(), Some("s1"));

    // Allow: a code, and the decision is remembered.
    let page = browser.get(&url(&[])).await;
    let flow = page.hidden("flow").unwrap();
    let allowed = browser.post_form(&consent, &[("flow", &flow), ("decision", "allow")]).await;
    let code = allowed.param("code").expect("a code after consent");
    let tokens = s
        .token(json!({"grant_type": "authorization_code", "client_id": pid, "code": code, "redirect_uri": CALLBACK, "code_verifier": VERIFIER}))
        .await;
    assert_eq!(tokens.body["scope"], "openid email read:photos");
    let again = browser.get(&url(&[])).await;
    assert!(again.param("code").is_some(), "consent asked twice");
    // prompt=consent asks again.
    assert_eq!(browser.get(&url(&[("prompt", "consent")])).await.status, 200);
    // Asking for more than was consented asks again.
    let more = browser.get(&url(&[("scope", "openid email profile read:photos")])).await;
    assert_eq!(more.status, 200);

    // A third-party app never reaches the My Account API, consent or not.
    let me = format!("{}/me/", s.app.base);
    let p = browser.get(&url(&[("audience", me.as_str()), ("scope", "openid read:me:factors")])).await;
    assert_eq!(p.param("error").as_deref(), Some("access_denied"));
    s.app.stop().await;
}

#[tokio::test]
async fn sign_up_only_when_the_tenant_allows_it() {
    let s = setup().await;
    let t = s.app.mgmt_token().await;
    let mut browser = Browser::new(s.app.port);
    let signup_url = format!("{}/u/signup", s.app.base);
    let page = browser.get(&s.authorize_url(&[])).await;
    assert!(!page.html.contains("Create an account"), "sign-up offered while off");
    let flow = page.hidden("flow").unwrap();
    let p = browser
        .post_form(
            &signup_url,
            &[("flow", &flow), ("identifier", "new@example.com"), ("password", "a new long password")],
        )
        .await;
    assert_eq!(p.status, 403);
    assert_eq!(s.app.get("/api/v2/users-by-email?email=new%40example.com", &t).await.body, json!([]));

    let r = s.app.patch("/api/v2/tenants/settings", &t, json!({"allow_signup": true})).await;
    assert_eq!(r.body["allow_signup"], json!(true));
    let page = browser.get(&s.authorize_url(&[])).await;
    assert!(page.html.contains("formaction=\"/u/signup\""));
    let flow = page.hidden("flow").unwrap();
    // A weak password and an existing email are explained, and create nothing.
    let weak = browser
        .post_form(&signup_url, &[("flow", &flow), ("identifier", "new@example.com"), ("password", "short")])
        .await;
    assert_eq!(weak.status, 401);
    assert!(weak.html.contains("at least 8 characters"));
    let taken = browser
        .post_form(&signup_url, &[("flow", &flow), ("identifier", "ada@example.com"), ("password", "whatever long")])
        .await;
    assert!(taken.html.contains("already exists"));
    assert!(browser.cookie("accountd_session").is_none());
    // A good one creates the user, signs them in and completes the authorization.
    let done = browser
        .post_form(
            &signup_url,
            &[("flow", &flow), ("identifier", "new@example.com"), ("password", "a new long password")],
        )
        .await;
    assert_eq!(done.status, 302, "{}", done.html);
    let code = done.param("code").unwrap();
    let tokens = s.exchange(&code).await;
    assert_eq!(jwt_part(tokens.body["id_token"].as_str().unwrap(), 1)["email"], "new@example.com");
    assert_eq!(s.app.get("/api/v2/users-by-email?email=new%40example.com", &t).await.body.as_array().unwrap().len(), 1);
    s.app.stop().await;
}
