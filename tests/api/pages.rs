//! The hosted pages' security headers as a browser receives them: a CSP whose `form-action` lets
//! each page's forms go to this origin and on to the callback of the request it serves (browsers
//! apply it to the redirect after the post too), no framing, a strict CSP on the `form_post` page,
//! and HSTS on every answer over https and never over plain http.

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::json;

use crate::me::{CALLBACK, EMAIL, PASSWORD, signed_in_with};
use crate::util::browser::{Browser, Page};

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// A third-party app's callback, on another origin than the first-party SPA's.
const PARTNER_CALLBACK: &str = "https://partner.example/cb";

/// The sources of one CSP directive.
fn directive(csp: &str, name: &str) -> Option<Vec<String>> {
    csp.split(';').map(str::trim).find_map(|d| {
        let mut words = d.split_whitespace();
        (words.next() == Some(name)).then(|| words.map(str::to_string).collect())
    })
}

fn csp(page: &Page) -> String {
    page.header("content-security-policy").unwrap_or_else(|| panic!("no CSP on {}", page.html)).to_string()
}

/// A hosted page that cannot be framed, runs and styles only this origin's files (no
/// `unsafe-inline`), sends no referrer, is never sniffed, and whose forms may go to `form_action`.
fn assert_page(page: &Page, form_action: &[&str]) {
    let csp = csp(page);
    assert_eq!(directive(&csp, "form-action").unwrap(), form_action, "{csp}");
    assert_eq!(directive(&csp, "frame-ancestors").unwrap(), ["'none'"], "{csp}");
    assert_eq!(directive(&csp, "script-src").unwrap(), ["'self'"], "{csp}");
    assert_eq!(directive(&csp, "style-src").unwrap(), ["'self'"], "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !page.html.contains(" style=\"") && !page.html.contains("<style"),
        "inline styles: {csp}"
    );
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert_common(&page.headers);
}

/// What every answer carries.
fn assert_common(headers: &HeaderMap) {
    assert_eq!(headers.get("x-content-type-options").map(|v| v.to_str().unwrap()), Some("nosniff"));
    assert_eq!(headers.get("referrer-policy").map(|v| v.to_str().unwrap()), Some("no-referrer"));
}

/// Every cookie set: HttpOnly and SameSite=Lax; over https a `__Host-` cookie, Secure, `Path=/`.
fn assert_cookies(what: &str, headers: &HeaderMap, https: bool) {
    for c in headers.get_all("set-cookie") {
        let c = c.to_str().unwrap();
        assert!(c.contains("; HttpOnly") && c.contains("; SameSite=Lax"), "{what}: {c}");
        if https {
            assert!(c.starts_with("__Host-") && c.contains("; Secure") && c.contains("; Path=/;"), "{what}: {c}");
            assert!(!c.contains("Domain="), "{what}: {c}");
        } else {
            assert!(!c.starts_with("__Host-") && !c.contains("; Secure"), "{what}: {c}");
        }
    }
}

/// HSTS exactly when the tenant is served over https.
fn assert_hsts(what: &str, headers: &HeaderMap, https: bool) {
    let hsts = headers.get("strict-transport-security").map(|v| v.to_str().unwrap());
    assert_eq!(hsts, https.then_some("max-age=31536000"), "{what}");
}

/// `sha256-…` of `script`, as CSP writes it.
fn csp_hash(script: &str) -> String {
    use base64::Engine as _;
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, script.as_bytes());
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(d.as_ref()))
}

/// Every page kind, as a browser reaching the tenant over `https` (through a proxy that says so)
/// or over plain http sees it.
async fn pages_carry_their_headers(https: bool) {
    let me = signed_in_with("127.0.0.1", |cfg| cfg.server.trust_forwarded_headers = true).await;
    let mut headers = HeaderMap::new();
    if https {
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
    }
    let base = me.base.clone();
    let authorize = |client_id: &str, redirect_uri: &str, extra: &[(&str, &str)]| {
        let mut p = vec![
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("scope", "openid"),
            ("state", "s"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        p.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
        p.extend_from_slice(extra);
        format!("{base}/authorize?{}", serde_urlencoded::to_string(&p).unwrap())
    };
    let login = format!("{base}/u/login");
    let mut browser = Browser::with_headers(me.app.port, headers.clone());

    // An error page has no form: its forms could go nowhere but here.
    let error = browser.get(&authorize(&me.client_id, "https://evil.example/cb", &[])).await;
    assert_eq!(error.status, 400, "{}", error.html);
    assert_page(&error, &["'self'"]);
    assert_hsts("error page", &error.headers, https);

    // The sign-in form posts here and is answered with a redirect to the SPA's callback.
    let sign_in = browser.get(&authorize(&me.client_id, CALLBACK, &[])).await;
    assert_eq!(sign_in.status, 200, "{}", sign_in.html);
    assert_page(&sign_in, &["'self'", "http://localhost:3000"]);
    assert_hsts("sign-in page", &sign_in.headers, https);
    assert!(sign_in.headers.get("set-cookie").is_some(), "the sign-in form binds this browser with a cookie");
    assert_cookies("sign-in page", &sign_in.headers, https);
    let css = reqwest::get(format!("{base}/u/assets/accountd.css")).await.unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    let flow = sign_in.hidden("flow").unwrap();
    let wrong = browser.post_form(&login, &[("flow", &flow), ("identifier", EMAIL), ("password", "wrong!")]).await;
    assert_eq!(wrong.status, 401, "{}", wrong.html);
    assert_page(&wrong, &["'self'", "http://localhost:3000"]);
    let done = browser.post_form(&login, &[("flow", &flow), ("identifier", EMAIL), ("password", PASSWORD)]).await;
    assert_eq!(done.status, 302, "{}", done.html);
    assert!(done.location.as_deref().unwrap().starts_with(CALLBACK));
    assert_hsts("redirect to the callback", &done.headers, https);
    assert_cookies("signed in", &done.headers, https);
    assert!(done.header("set-cookie").is_some(), "a session cookie");

    // A third-party app's consent page: its own callback's origin, not the SPA's.
    let mgmt = &me.mgmt;
    me.app
        .post(
            "/api/v2/resource-servers",
            mgmt,
            json!({"identifier": "urn:photos", "name": "Photos", "scopes": [{"value": "read:photos", "description": "See your photos"}],
                   "subject_type_authorization": {"user": {"policy": "allow_all"}}}),
        )
        .await;
    let partner = me
        .app
        .post(
            "/api/v2/clients",
            mgmt,
            json!({"name": "Partner", "app_type": "spa", "is_first_party": false, "callbacks": [PARTNER_CALLBACK]}),
        )
        .await;
    let partner_id = partner.body["client_id"].as_str().unwrap();
    let consent = browser
        .get(&authorize(partner_id, PARTNER_CALLBACK, &[("audience", "urn:photos"), ("scope", "openid read:photos")]))
        .await;
    assert_eq!(consent.status, 200, "{}", consent.html);
    assert!(consent.html.contains("Authorize Partner"), "{}", consent.html);
    assert_page(&consent, &["'self'", "https://partner.example"]);
    assert_hsts("consent page", &consent.headers, https);

    // response_mode=form_post: the one script is allowed by its hash, the form only to the callback.
    let form_post = browser.get(&authorize(&me.client_id, CALLBACK, &[("response_mode", "form_post")])).await;
    assert_eq!(form_post.status, 200, "{}", form_post.html);
    assert!(form_post.html.contains(&format!("action=\"{CALLBACK}\"")), "{}", form_post.html);
    let policy = csp(&form_post);
    assert_eq!(directive(&policy, "default-src").unwrap(), ["'none'"], "{policy}");
    assert_eq!(directive(&policy, "form-action").unwrap(), ["http://localhost:3000"], "{policy}");
    assert_eq!(directive(&policy, "frame-ancestors").unwrap(), ["'none'"], "{policy}");
    assert_eq!(form_post.header("x-frame-options"), Some("DENY"));
    let scripts: Vec<&str> =
        form_post.html.split("<script>").skip(1).map(|s| s.split("</script>").next().unwrap()).collect();
    assert_eq!(scripts.len(), 1, "one inline script: {}", form_post.html);
    assert_eq!(directive(&policy, "script-src").unwrap(), [csp_hash(scripts[0])], "the auto-submit script runs");
    assert!(!form_post.html.contains("onload="), "inline handlers do not run under this CSP: {}", form_post.html);
    assert_hsts("form_post page", &form_post.headers, https);

    // The second-factor page posts here and is answered with a redirect to the callback.
    let (r, location) = me.enroll(json!({"type": "recovery-code"})).await;
    assert_eq!(
        me.post(&format!("{location}/verify"), json!({"auth_session": r.body["auth_session"]})).await.status,
        201
    );
    let mut fresh = Browser::with_headers(me.app.port, headers.clone());
    let sign_in = fresh.get(&authorize(&me.client_id, CALLBACK, &[])).await;
    let flow = sign_in.hidden("flow").unwrap();
    let mfa = fresh.post_form(&login, &[("flow", &flow), ("identifier", EMAIL), ("password", PASSWORD)]).await;
    assert_eq!(mfa.status, 200, "{}", mfa.html);
    assert!(mfa.html.contains("recovery code"), "{}", mfa.html);
    assert_page(&mfa, &["'self'", "http://localhost:3000"]);
    assert_hsts("second-factor page", &mfa.headers, https);

    // Every other answer, too: discovery, the account API's 401, health, an unknown host.
    let client = reqwest::Client::builder().default_headers(headers).build().unwrap();
    for url in [
        format!("{base}/.well-known/openid-configuration"),
        format!("{base}/me/v1/authentication-methods"),
        format!("{base}/healthz"),
    ] {
        let r = client.get(&url).send().await.unwrap();
        assert_hsts(&url, r.headers(), https);
        assert_common(r.headers());
    }
    let unknown = client.get(&base).header("host", "unknown.example").send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    assert_hsts("unknown host", unknown.headers(), https);
    me.app.stop().await;
}

#[tokio::test]
async fn over_https_every_answer_has_hsts_and_the_pages_restrict_forms_and_framing() {
    pages_carry_their_headers(true).await;
}

#[tokio::test]
async fn over_http_no_answer_has_hsts_and_the_pages_restrict_forms_and_framing() {
    pages_carry_their_headers(false).await;
}

/// `server.public_scheme = "auto"` calls a non-loopback host https (TLS ends at the proxy) and a
/// loopback one http: HSTS follows it.
#[tokio::test]
async fn hsts_follows_the_public_scheme_of_the_host() {
    let app = crate::util::TestApp::start_with(|cfg| cfg.server.public_scheme = "auto".into()).await;
    let client = reqwest::Client::new();
    let url = format!("{}/healthz", app.base);
    let local = client.get(&url).send().await.unwrap();
    assert_hsts("127.0.0.1", local.headers(), false);
    let public = client.get(&url).header("host", "auth.example.com").send().await.unwrap();
    assert_hsts("auth.example.com", public.headers(), true);
    app.stop().await;
}
