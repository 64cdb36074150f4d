//! Prometheus metrics: on their own listener when `metrics.listen` is set, never on the public
//! one, with every family after traffic and only route templates as labels.

use serde_json::json;

use crate::me::{EMAIL, signed_in_with};

#[tokio::test]
async fn metrics_are_served_on_their_own_listener_with_every_family_after_traffic() {
    let me = signed_in_with("127.0.0.1", |c| c.metrics.listen = "127.0.0.1:0".into()).await;
    // Traffic: a sign-in, tokens, a read of a user's methods, an unknown path.
    let _ = me.authorization_code_for(EMAIL, crate::me::PASSWORD, "openid").await;
    let r = me.get("/authentication-methods").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let users = format!("/api/v2/users/{}", me.user_id);
    assert_eq!(me.app.get(&users, &me.mgmt).await.status, 200);
    assert_eq!(me.app.get("/no/such/route/auth0|secret-id", &me.mgmt).await.status, 404);
    let _ = me.app.post("/api/v2/users", &me.mgmt, json!({"email": "x"})).await;
    // Wrong passwords: four failures, then the identifier is locked out (answered 429).
    let mut browser = crate::util::browser::Browser::new(me.app.port);
    let params = [
        ("response_type", "code"),
        ("client_id", me.client_id.as_str()),
        ("redirect_uri", crate::me::CALLBACK),
        ("scope", "openid"),
        ("state", "s"),
        ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
        ("code_challenge_method", "S256"),
    ];
    let page = browser.get(&format!("{}/authorize?{}", me.base, serde_urlencoded::to_string(params).unwrap())).await;
    let flow = page.hidden("flow").expect("sign-in form");
    let mut last = 0;
    for _ in 0..6 {
        let form = [("flow", flow.as_str()), ("identifier", EMAIL), ("password", "not-the-password")];
        last = browser.post_form(&format!("{}/u/login", me.base), &form).await.status;
    }
    assert_eq!(last, 429, "no lockout");

    let addr = me.app.metrics_addr().expect("metrics listener");
    let res = reqwest::get(format!("http://{addr}/metrics")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = res.text().await.unwrap();
    // Every family is declared; those with traffic have samples.
    for family in [
        "http_requests counter",
        "http_request_duration_seconds histogram",
        "rate_limited counter",
        "sign_ins counter",
        "lockouts counter",
        "tokens_issued counter",
        "db_pool_connections gauge",
        "password_hashes gauge",
        "build_info gauge",
    ] {
        assert!(text.contains(&format!("# TYPE accountd_{family}")), "{family} missing from:\n{text}");
    }
    for sample in [
        "accountd_http_request_duration_seconds_bucket{",
        r#"accountd_db_pool_connections{state="idle"}"#,
        r#"accountd_password_hashes{state="waiting"} 0"#,
        "accountd_build_info{version=",
        "accountd_lockouts_total 2",
        r#"accountd_sign_ins_total{method="password",result="failure"} 4"#,
        r#"accountd_rate_limited_total{route="/u/login",method="POST"} 2"#,
    ] {
        assert!(text.contains(sample), "{sample} missing from:\n{text}");
    }
    assert!(text.contains(r#"route="/api/v2/users/{id}""#), "no route template:\n{text}");
    assert!(text.contains(r#"grant_type="authorization_code""#), "{text}");
    assert!(text.contains(r#"accountd_sign_ins_total{method="password",result="success"}"#), "{text}");
    // Raw paths and ids never become labels.
    assert!(!text.contains(&me.user_id) && !text.contains("secret-id"), "an id leaked into a label:\n{text}");
    assert!(text.contains(r#"route="unmatched""#));
    // The public listener does not serve them.
    assert_eq!(me.app.get("/metrics", &me.mgmt).await.status, 404);
    me.app.stop().await;
}

#[tokio::test]
async fn no_metrics_listener_by_default() {
    let me = signed_in_with("127.0.0.1", |_| {}).await;
    assert!(me.app.metrics_addr().is_none());
    assert_eq!(me.app.get("/metrics", &me.mgmt).await.status, 404);
    me.app.stop().await;
}
