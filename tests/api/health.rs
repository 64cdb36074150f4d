use crate::util::TestApp;

#[tokio::test]
async fn healthz_and_readyz_answer_on_any_host() {
    let app = TestApp::start().await;
    let r = app.request(reqwest::Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "ok");
    // Health checks do not depend on tenant resolution: probes often use an IP or a pod name.
    let r = app.request(reqwest::Method::GET, &format!("{}/readyz", app.base_for("unknown.test")), None, None).await;
    assert_eq!(r.status, 200);
    assert!(["sqlite", "postgres"].contains(&r.body["store"].as_str().unwrap()));
    app.stop().await;
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::start().await;
    let r = app.request(reqwest::Method::GET, "/healthz", None, None).await;
    let id = r.header("x-request-id").expect("request id");
    assert_eq!(id.len(), 16);
    let r2 = app.request(reqwest::Method::GET, "/nope", None, None).await;
    assert_eq!(r2.status, 404);
    assert_ne!(r2.header("x-request-id").unwrap(), id);
    // A caller's trace names the request; a malformed or all-zero one does not.
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    for (parent, want) in [
        (format!("00-{trace}-00f067aa0ba902b7-01"), Some(trace)),
        (format!("00-{}-00f067aa0ba902b7-01", "0".repeat(32)), None),
        ("00-not-a-trace-01".to_string(), None),
    ] {
        let r = reqwest::Client::new()
            .get(format!("{}/healthz", app.base))
            .header("traceparent", &parent)
            .send()
            .await
            .unwrap();
        let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
        match want {
            Some(t) => assert_eq!(id, t, "{parent}"),
            None => assert_eq!(id.len(), 16, "{parent}: {id}"),
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn readyz_reports_a_store_that_is_gone() {
    let app = TestApp::start().await;
    app.core().store().close().await;
    let r = app.request(reqwest::Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.body["status"], "unavailable");
    let r = app.request(reqwest::Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, 200, "the process itself is still up");
}
