//! The hosted pages' security headers as a browser receives them, and HSTS on every answer over
//! https and never over plain http.

use reqwest::header::HeaderMap;

/// HSTS exactly when the tenant is served over https.
fn assert_hsts(what: &str, headers: &HeaderMap, https: bool) {
    let hsts = headers.get("strict-transport-security").map(|v| v.to_str().unwrap());
    assert_eq!(hsts, https.then_some("max-age=31536000"), "{what}");
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
