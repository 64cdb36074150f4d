//! OpenTelemetry trace export (issue 17, item 6), as an operator turns it on: a binary built with
//! `--features otel` and the standard `OTEL_EXPORTER_OTLP_*` variables, sending OTLP over HTTP to a
//! collector — here a receiver the test starts. Without the feature (the default build) the same
//! variables export nothing and the log says why.

use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::cli::free_port;

/// An OTLP/HTTP receiver on a free port: the bodies POSTed to `/v1/traces`, as JSON.
struct Collector {
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl Collector {
    async fn start() -> Self {
        let bodies: Arc<Mutex<Vec<Value>>> = Arc::default();
        let kept = bodies.clone();
        let app = axum::Router::new().route(
            "/v1/traces",
            axum::routing::post(move |body: axum::body::Bytes| {
                let kept = kept.clone();
                async move {
                    let json = serde_json::from_slice(&body).expect("an OTLP/JSON export");
                    kept.lock().unwrap().push(json);
                    axum::Json(serde_json::json!({}))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, bodies }
    }

    /// The variables that send a server's spans here, in batches a tenth of a second apart.
    fn env(&self) -> [(&str, &str); 4] {
        [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", self.url.as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("OTEL_SERVICE_NAME", "accountd-under-test"),
        ]
    }

    fn exported(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }
}

#[cfg(feature = "otel")]
mod export {
    use std::process::Stdio;

    use accountd_store::testdb::{Backend, TestDb};
    use serde_json::{Value, json};

    use super::{Collector, free_port};
    use crate::cli::{serve_with, stop};
    use crate::crash::Target;
    use crate::me::{EMAIL, PASSWORD};

    /// The caller's trace context: its trace id and the id of its span.
    const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const CALLER_SPAN: &str = "00f067aa0ba902b7";

    /// One exported span, flattened with its service name.
    #[derive(Debug)]
    struct Span {
        service: String,
        trace: String,
        id: String,
        parent: String,
        name: String,
        kind: i64,
        attributes: Value,
    }

    impl Span {
        fn attribute(&self, key: &str) -> Option<String> {
            let kv = self.attributes.as_array()?.iter().find(|a| a["key"] == key)?;
            let v = kv["value"].as_object()?.values().next()?;
            Some(v.as_str().map_or_else(|| v.to_string(), str::to_string))
        }
    }

    fn spans(bodies: &[Value]) -> Vec<Span> {
        let mut out = Vec::new();
        for body in bodies {
            for rs in body["resourceSpans"].as_array().into_iter().flatten() {
                let service = rs["resource"]["attributes"]
                    .as_array()
                    .and_then(|a| a.iter().find(|kv| kv["key"] == "service.name"))
                    .and_then(|kv| kv["value"]["stringValue"].as_str())
                    .unwrap_or_default()
                    .to_string();
                for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                    for s in ss["spans"].as_array().into_iter().flatten() {
                        let text = |k: &str| s[k].as_str().unwrap_or_default().to_string();
                        out.push(Span {
                            service: service.clone(),
                            trace: text("traceId"),
                            id: text("spanId"),
                            parent: text("parentSpanId"),
                            name: text("name"),
                            kind: s["kind"].as_i64().unwrap_or_default(),
                            attributes: s["attributes"].clone(),
                        });
                    }
                }
            }
        }
        out
    }

    // Several threads: the collector must answer while the test blocks in `stop`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_export_server_spans_that_continue_the_callers_trace() {
        accountd_connectors::install_crypto_provider();
        let collector = Collector::start().await;
        let db = TestDb::new(Backend::from_env()).await;
        let dir = tempfile::tempdir().unwrap();
        let url = if db.url.starts_with("sqlite") { String::new() } else { db.url.clone() };
        let port = free_port();
        let (mut child, out) = serve_with(&dir.path().join("data"), &url, port, &[], &collector.env(), Stdio::null());
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let t = Target::provision(&base, &out, &client).await;

        // A password sign-in (hashing on the pool's threads), then a refresh with a trace context.
        let (access, refresh, code) = t.sign_in_with_code(port, EMAIL, "openid offline_access", None).await;
        let r = client
            .post(format!("{base}/oauth/token"))
            .header("traceparent", TRACEPARENT)
            .json(&json!({"grant_type": "refresh_token", "client_id": t.spa, "refresh_token": refresh}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let refreshed: Value = r.json().await.unwrap();
        // The last batch is flushed when the server stops.
        assert!(stop(&mut child), "Ctrl-C exits cleanly");

        let bodies = collector.exported();
        let spans = spans(&bodies);
        assert!(!spans.is_empty(), "nothing was exported");
        assert!(spans.iter().all(|s| s.service == "accountd-under-test"), "OTEL_SERVICE_NAME names the service");

        // The refresh is a server span in the caller's trace, under the caller's span, named
        // after its route, with its status.
        let refresh_span = spans
            .iter()
            .find(|s| s.trace == TRACE_ID)
            .unwrap_or_else(|| panic!("no span in the caller's trace: {spans:#?}"));
        assert_eq!(refresh_span.parent, CALLER_SPAN);
        assert_eq!(refresh_span.name, "POST /oauth/token");
        assert_eq!(refresh_span.kind, 2, "SPAN_KIND_SERVER");
        assert_eq!(refresh_span.attribute("http.response.status_code").as_deref(), Some("200"));
        assert_eq!(refresh_span.attribute("request.id").as_deref(), Some(TRACE_ID));

        // Password hashing shows as its own spans under its request: the wait for a hashing
        // thread and, inside it, the hash. The user's creation hashes too; the sign-in verifies.
        let hashed_in: Vec<&str> = spans
            .iter()
            .filter(|s| s.name == "argon2id")
            .map(|hash| {
                let pooled = spans.iter().find(|s| s.id == hash.parent).expect("argon2id's parent span");
                assert_eq!(pooled.name, "password_hashing");
                let request = spans.iter().find(|s| s.id == pooled.parent).expect("password_hashing's parent");
                assert_eq!((request.kind, request.trace.as_str()), (2, hash.trace.as_str()), "{request:?}");
                request.name.as_str()
            })
            .collect();
        assert!(hashed_in.contains(&"POST /api/v2/users"), "{hashed_in:?}");
        assert!(hashed_in.iter().any(|r| r.starts_with("POST /u/")), "the sign-in form's request: {hashed_in:?}");
        // Requests without a trace context start traces of their own.
        assert!(spans.iter().any(|s| s.kind == 2 && s.trace != TRACE_ID && s.parent.is_empty()));

        // Nothing secret leaves in a span.
        let exported = serde_json::to_string(&bodies).unwrap();
        for (what, secret) in [
            ("the password", PASSWORD),
            ("the email address", EMAIL),
            ("the authorization code", code.as_str()),
            ("the access token", access.as_str()),
            ("the refresh token", refresh.as_str()),
            ("the new refresh token", refreshed["refresh_token"].as_str().unwrap()),
            ("the management token", t.mgmt.as_str()),
        ] {
            assert!(!exported.contains(secret), "a span holds {what}");
        }
    }
}

/// The default build has no exporter: the variables are ignored, and the log says so.
#[cfg(not(feature = "otel"))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_feature_nothing_is_exported_and_the_log_says_why() {
    use std::io::Read as _;
    accountd_connectors::install_crypto_provider();
    let collector = Collector::start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (mut child, _) =
        crate::cli::serve_with(dir.path(), "", port, &[], &collector.env(), std::process::Stdio::piped());
    let r = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await.unwrap();
    assert_eq!(r.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(crate::cli::stop(&mut child), "Ctrl-C exits cleanly");
    let mut log = String::new();
    child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    assert!(log.contains("built without the `otel` feature"), "{log}");
    assert!(collector.exported().is_empty(), "a default build exported spans");
}
