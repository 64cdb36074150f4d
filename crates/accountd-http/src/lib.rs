//! accountd's HTTP adapters over one core: tenant resolution from `Host`, the management API
//! (`/api/v2`, Auth0's Management API dialect), the token endpoint and JWKS, and health checks.
//! Each dialect maps the one `accountd_core::Error` to its own wire format in its `error.rs`.

pub mod account;
pub mod common;
pub mod health;
pub mod management;
pub mod me_v1;
pub mod metrics;
pub mod oidc;
pub mod push;
#[cfg(feature = "otel")]
mod trace_context;

use std::sync::Arc;
use std::time::Duration;

use accountd_core::Core;
use accountd_core::tenant::TenantId;
use accountd_oauth::KeyCache;
use axum::Router;
use axum::http::{HeaderName, Request};
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

pub use common::tenant::{PublicScheme, RequestTenant, TenantCache};

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Which scheme issuers and API identifiers use.
    pub public_scheme: PublicScheme,
    /// Whether `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Forwarded-For` are believed (only
    /// behind a proxy that sets them).
    pub trust_forwarded_headers: bool,
    /// How long a resolved host → tenant mapping is reused.
    pub tenant_cache_ttl: Duration,
    /// How long a tenant's signing keys are reused before reloading.
    pub key_cache_ttl: Duration,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Require a server nonce in every DPoP proof (`use_dpop_nonce` until one is sent).
    pub dpop_require_nonce: bool,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            public_scheme: PublicScheme::Auto,
            trust_forwarded_headers: false,
            tenant_cache_ttl: Duration::from_secs(30),
            key_cache_ttl: Duration::from_secs(300),
            max_body_bytes: 1024 * 1024,
            dpop_require_nonce: false,
        }
    }
}

/// Everything a handler can reach.
pub struct App {
    /// The domain core.
    pub core: Arc<Core>,
    /// Signing keys per tenant.
    pub keys: KeyCache,
    /// Host → tenant.
    pub tenants: TenantCache,
    /// Opaque access tokens (resource-less user tokens), cached in front of the store.
    pub opaque: accountd_oauth::OpaqueTokens,
    /// DPoP proof headers already checked.
    pub proof_keys: accountd_oauth::dpop::ProofKeys,
    /// (tenant, origin) → CORS allowed.
    pub origins: common::cors::OriginCache,
    /// Account API request limits counted in this process (without Redis).
    pub rate_limits: common::rate_limit::AccountRateLimiter,
    /// Redis, when several nodes share limits and one-time values.
    pub shared: Option<common::shared::SharedState>,
    /// HTTP settings.
    pub config: HttpConfig,
    /// Prometheus metrics (served on their own listener, if any).
    pub metrics: metrics::Metrics,
}

/// Shared application state (cheap to clone).
pub type AppState = Arc<App>;

impl App {
    /// Builds the state over a core.
    pub fn new(core: Arc<Core>, config: HttpConfig) -> AppState {
        Self::with_shared(core, config, None)
    }

    /// Builds the state over a core, with the nodes' shared state in Redis if given.
    pub fn with_shared(core: Arc<Core>, config: HttpConfig, shared: Option<common::shared::SharedState>) -> AppState {
        Arc::new(App {
            shared,
            keys: KeyCache::new(core.clone(), config.key_cache_ttl),
            tenants: TenantCache::new(config.tenant_cache_ttl),
            opaque: accountd_oauth::OpaqueTokens::new(core.clone()),
            proof_keys: Default::default(),
            origins: Default::default(),
            rate_limits: Default::default(),
            metrics: Default::default(),
            core,
            config,
        })
    }
}

impl App {
    /// Records a one-time value (a proof id) of `tenant` until `until` (ms); false for a replay.
    /// In Redis when configured (every node sees it at once), else in the database.
    pub async fn remember_once(&self, tenant: &TenantId, key: &str, now: i64, until: i64) -> Result<bool, String> {
        match &self.shared {
            Some(s) => s.remember_once(tenant, key, until).await.map_err(|e| e.to_string()),
            None => self.core.store().remember_once(tenant, key, now, until).await.map_err(|e| e.to_string()),
        }
    }

    /// When a one-time value made at `issued_at` (seconds, from the client) could have been spent
    /// before this process started without being saved (SQLite saves them behind the requests,
    /// so a crash can lose the last 100 ms): the start (ms). `None` when it is safe to check.
    pub fn spent_unsaved_since(&self, issued_at: i64) -> Option<i64> {
        if self.shared.is_some() {
            return None;
        }
        self.core.store().unsaved_before().filter(|since| issued_at.saturating_mul(1000) < *since)
    }

    /// Counts one account API request of the authenticated `user` against the tenant's and the
    /// user's limits.
    pub async fn check_rate(
        &self,
        tenant: &TenantId,
        limits: &accountd_core::authn::policy::RateLimits,
        user: &str,
        write: bool,
    ) -> common::rate_limit::RateVerdict {
        match &self.shared {
            Some(s) => s.check(tenant, limits, user, write).await,
            None => self.rate_limits.check(tenant, limits, user, write),
        }
    }

    /// Counts one account API request without a valid token against the limit of its client IP
    /// (a [`common::rate_limit::ip_key`]), never against the tenant's or a user's budget.
    pub async fn check_anonymous_rate(
        &self,
        tenant: &TenantId,
        limits: &accountd_core::authn::policy::RateLimits,
        ip: &str,
    ) -> common::rate_limit::RateVerdict {
        match &self.shared {
            Some(s) => s.check_anonymous(tenant, limits, ip).await,
            None => self.rate_limits.check_anonymous(tenant, limits, ip),
        }
    }
}

/// Request ids: the client's `x-request-id` if it sent one (kept by the layer), else the trace id
/// of a W3C `traceparent` (so a request is found by the id its caller's tracing knows), else 16
/// random alphanumerics.
#[derive(Clone, Copy, Default)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, req: &Request<B>) -> Option<RequestId> {
        let traced = req.headers().get("traceparent").and_then(|v| v.to_str().ok()).and_then(trace_id);
        let id = traced.map_or_else(|| accountd_core::secret::random_alnum(16), str::to_string);
        axum::http::HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// The trace id of a `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`), if well formed and not zero.
fn trace_id(traceparent: &str) -> Option<&str> {
    let mut parts = traceparent.trim().split('-');
    let (version, trace, parent, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let well_formed = hex(version, 2) && version != "ff" && hex(trace, 32) && hex(parent, 16) && hex(flags, 2);
    (well_formed && trace.bytes().any(|b| b != b'0')).then_some(trace)
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    let x_request_id = HeaderName::from_static("x-request-id");
    let (management, mut openapi) = management::routes().split_for_parts();
    common::openapi::declare_path_params(&mut openapi);
    let management =
        management.layer(axum::middleware::from_fn(common::input::screen_uri::<management::error::MgmtError>));
    let openapi = Arc::new(openapi);
    let per_tenant = Router::new()
        .merge(management)
        .route(
            "/api/v2/openapi.json",
            axum::routing::get(move || {
                let doc = openapi.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .route("/api/docs", axum::routing::get(api_docs))
        .merge(oidc::routes())
        .merge(push::routes())
        .merge(me_v1::routes(state.clone()))
        .merge(account::routes(state.clone()))
        .fallback(common::not_found)
        // Layers run bottom-up: the tenant is resolved before CORS looks at the origin.
        .layer(axum::middleware::from_fn_with_state(state.clone(), common::cors::cors))
        .layer(axum::middleware::from_fn_with_state(state.clone(), common::tenant::resolve));
    Router::new()
        .merge(health::routes())
        .merge(per_tenant)
        .with_state(state.clone())
        // The limit every body extractor reads within (`common::input::read_body`), so that an
        // oversized body gets the 413 of the API it was sent to, not a bare text answer.
        .layer(axum::extract::DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(state.clone(), common::hsts::hsts))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
                // Not an ERROR per 5xx: a 503 (busy, a limit) is an answer an outsider can cause at
                // will. The response line above has the status; real failures log where they happen.
                .on_failure(()),
        )
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(SetRequestIdLayer::new(x_request_id, RandomRequestId))
}

/// The span of one request: its log lines carry these fields; `route` and `tenant` are recorded
/// once known. With the `otel` feature it is also the server span exported for the request,
/// continuing the caller's `traceparent` and named after the route template.
fn request_span(req: &Request<axum::body::Body>) -> tracing::Span {
    use tracing::field::Empty;
    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
    #[cfg(not(feature = "otel"))]
    let span = tracing::info_span!("request", request.id = %id, method = %req.method(), path = %req.uri().path(),
        route = Empty, tenant = Empty);
    #[cfg(feature = "otel")]
    let span = {
        let span = tracing::info_span!("request", request.id = %id, method = %req.method(), path = %req.uri().path(),
            route = Empty, tenant = Empty, otel.kind = "server",
            http.response.status_code = Empty, otel.status_code = Empty);
        trace_context::continue_trace(&span, req.headers());
        span
    };
    span
}

/// `GET /api/docs`: a page a person can open, linking every OpenAPI document and the discovery
/// metadata this server publishes.
async fn api_docs() -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let links = [
        ("/me/v1/openapi.json", "My Account API (Auth0 dialect, /me/v1)"),
        ("/api/.well-known/user.openapi.json", "Account and Verification APIs (Logto dialect)"),
        ("/api/v2/openapi.json", "Management API (/api/v2)"),
        ("/oauth/openapi.json", "OAuth 2.0 and OpenID Connect endpoints (/authorize, /oauth/token, /userinfo…)"),
        ("/.well-known/openid-configuration", "OpenID Connect discovery"),
        ("/.well-known/oauth-authorization-server", "OAuth 2.0 authorization server metadata (RFC 8414)"),
    ];
    let items: String = links
        .iter()
        .map(|(href, what)| format!("<li><a href=\"{href}\">{what}</a> <code>{href}</code></li>"))
        .collect();
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>accountd API documents</title></head>\
         <body><h1>accountd API documents</h1><ul>{items}</ul></body></html>"
    );
    let mut r = axum::response::Html(html).into_response();
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'; form-action 'none'"),
    );
    r
}
