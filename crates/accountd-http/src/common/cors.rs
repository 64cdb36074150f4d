//! CORS for browser calls to the token, revocation and userinfo endpoints and the account APIs:
//! allowed for an origin one of the tenant's applications registered (`Core::is_cors_origin`:
//! its CORS origins, its redirect URIs' origins, or its web origins with Auth0's
//! `cross_origin_authentication` on; spec auth0 §4.6); other origins get no CORS headers at all.
//! Logto's account paths, the discovery documents and the JWKS allow every origin, as Logto's do
//! (spec logto §1.1): they are public, and an SPA's first fetch is the discovery document.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::common::tenant::RequestTenant;

/// Which CORS rule a path follows.
fn rule_for(path: &str) -> Option<Rule> {
    if path.starts_with("/api/my-account")
        || path.starts_with("/api/verifications")
        || matches!(
            path,
            "/.well-known/openid-configuration" | "/oidc/.well-known/openid-configuration" | "/.well-known/jwks.json"
        )
    {
        Some(Rule::AnyOrigin)
    } else if matches!(path, "/oauth/token" | "/oauth/revoke" | "/userinfo") || path.starts_with("/me/") {
        Some(Rule::ApplicationOrigins)
    } else {
        None
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Rule {
    AnyOrigin,
    ApplicationOrigins,
}

/// (tenant, origin) → allowed, remembered briefly: preflights repeat often.
pub struct OriginCache {
    entries: RwLock<HashMap<(String, String), (Instant, bool)>>,
}

const ORIGIN_TTL: Duration = Duration::from_secs(30);

impl Default for OriginCache {
    fn default() -> Self {
        Self { entries: RwLock::new(HashMap::new()) }
    }
}

impl OriginCache {
    async fn allowed(&self, state: &AppState, rt: &RequestTenant, origin: &str) -> bool {
        let key = (rt.tenant.id.as_str().to_string(), origin.to_string());
        if let Some((at, ok)) = self.entries.read().ok().and_then(|m| m.get(&key).copied())
            && at.elapsed() < ORIGIN_TTL
        {
            return ok;
        }
        let ok = state.core.is_cors_origin(&rt.tenant.id, origin).await.unwrap_or(false);
        if let Ok(mut m) = self.entries.write() {
            // Bounded: an attacker choosing Origin values must not grow memory without end.
            if m.len() > 10_000 {
                m.clear();
            }
            m.insert(key, (Instant::now(), ok));
        }
        ok
    }
}

const EXPOSED: &str = "WWW-Authenticate, DPoP-Nonce, Location, x-request-id, x-ratelimit-limit, \
                       x-ratelimit-remaining, x-ratelimit-reset, retry-after, logto-verification-id";

/// The middleware.
pub async fn cors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(rule) = rule_for(req.uri().path()) else { return next.run(req).await };
    let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_string);
    let Some(origin) = origin else { return next.run(req).await };
    let allowed = match rule {
        Rule::AnyOrigin => true,
        Rule::ApplicationOrigins => match req.extensions().get::<RequestTenant>() {
            Some(rt) => state.origins.allowed(&state, &rt.clone(), &origin).await,
            None => false,
        },
    };
    let preflight =
        req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
        if allowed {
            if let Ok(v) = HeaderValue::from_str(&origin) {
                h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
            }
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE, OPTIONS"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(
                    "Authorization, Content-Type, DPoP, Auth0-Client, logto-verification-id, x-request-id",
                ),
            );
            h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        }
        return r;
    }
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if allowed {
        if let Ok(v) = HeaderValue::from_str(&origin) {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        }
        // Logto's account paths expose every header (spec logto §1.1); the others name theirs.
        let exposed = if rule == Rule::AnyOrigin { "*" } else { EXPOSED };
        h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(exposed));
    }
    r
}
