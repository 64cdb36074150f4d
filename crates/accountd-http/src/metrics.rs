//! Prometheus metrics (`prometheus-client`), served at `/metrics` on their own listener
//! (`metrics.listen`, off by default), never on the public one. Labels are bounded: route
//! templates (never raw paths), methods, status codes, grant types, sign-in methods.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SignInLabels {
    method: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GrantLabels {
    grant_type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms … ~1 s: where accountd's answers fall (a password sign-in is the slow end).
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(0.0005, 2.0, 12))
}

/// The process's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    rate_limited: Family<RouteLabels, Counter>,
    sign_ins: Family<SignInLabels, Counter>,
    lockouts: Counter,
    tokens: Family<GrantLabels, Counter>,
    db_connections: Family<StateLabels, Gauge>,
    hashes: Family<StateLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("accountd");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests by route template, method and status", requests.clone());
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        registry.register("http_request_duration_seconds", "HTTP request latency by route template", latency.clone());
        let rate_limited = Family::<RouteLabels, Counter>::default();
        registry.register("rate_limited", "Requests refused by a rate limit (429)", rate_limited.clone());
        let sign_ins = Family::<SignInLabels, Counter>::default();
        registry.register("sign_ins", "Hosted-page sign-ins by method and result", sign_ins.clone());
        let lockouts = Counter::default();
        registry.register(
            "lockouts",
            "Sign-ins refused because the identifier and IP are locked out",
            lockouts.clone(),
        );
        let tokens = Family::<GrantLabels, Counter>::default();
        registry.register("tokens_issued", "Token responses by grant type", tokens.clone());
        let db_connections = Family::<StateLabels, Gauge>::default();
        registry.register("db_pool_connections", "Database pool connections (in use, idle)", db_connections.clone());
        let hashes = Family::<StateLabels, Gauge>::default();
        registry.register("password_hashes", "Password hashes running and waiting for a worker", hashes.clone());
        let build = Family::<BuildLabels, Gauge>::default();
        build.get_or_create(&BuildLabels { version: env!("CARGO_PKG_VERSION") }).set(1);
        registry.register("build_info", "The running build", build);
        Self { registry, requests, latency, rate_limited, sign_ins, lockouts, tokens, db_connections, hashes }
    }
}

impl Metrics {
    /// A token response of `grant_type` (one of the grant types the endpoint accepts).
    pub fn token_issued(&self, grant_type: &str) {
        self.tokens.get_or_create(&GrantLabels { grant_type: grant_type.to_string() }).inc();
    }

    /// A hosted-page sign-in with `method` (`password`, `passkey`) that succeeded or not.
    pub fn sign_in(&self, method: &'static str, ok: bool) {
        self.sign_ins.get_or_create(&SignInLabels { method, result: if ok { "success" } else { "failure" } }).inc();
    }

    /// A sign-in refused by a lockout.
    pub fn lockout(&self) {
        self.lockouts.inc();
    }

    /// The text exposition, with the gauges read now.
    fn render(&self, state: &AppState) -> String {
        if let Some((size, idle)) = state.core.store().pool_state() {
            let used = (size as usize).saturating_sub(idle);
            self.db_connections.get_or_create(&StateLabels { state: "used" }).set(used as i64);
            self.db_connections.get_or_create(&StateLabels { state: "idle" }).set(idle as i64);
        }
        let (running, waiting) = state.core.hashing_load();
        self.hashes.get_or_create(&StateLabels { state: "running" }).set(running as i64);
        self.hashes.get_or_create(&StateLabels { state: "waiting" }).set(waiting as i64);
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// Middleware counting every request by its route template (`unmatched` for no route).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_string();
    let method = req.method().as_str().to_string();
    // The request's log line names its route template too; an exported span is named after it.
    let span = tracing::Span::current();
    span.record("route", route.as_str());
    #[cfg(feature = "otel")]
    crate::trace_context::name_span(&span, format!("{method} {route}"));
    let start = Instant::now();
    let res = next.run(req).await;
    let m = &state.metrics;
    let status = res.status();
    #[cfg(feature = "otel")]
    {
        span.record("http.response.status_code", status.as_u16());
        if status.is_server_error() {
            span.record("otel.status_code", "ERROR");
        }
    }
    let labels = RouteLabels { route, method };
    m.latency.get_or_create(&labels).observe(start.elapsed().as_secs_f64());
    if status == StatusCode::TOO_MANY_REQUESTS {
        m.rate_limited.get_or_create(&labels).inc();
    }
    m.requests
        .get_or_create(&RequestLabels { route: labels.route, method: labels.method, status: status.as_u16() })
        .inc();
    res
}

/// The metrics listener's routes: `GET /metrics` only.
pub fn router(state: AppState) -> axum::Router {
    axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(|State(state): State<AppState>| async move {
                let body = state.metrics.render(&state);
                let mut r = body.into_response();
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
                );
                r
            }),
        )
        .with_state(state)
}
