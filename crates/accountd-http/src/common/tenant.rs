//! Resolves the tenant from the request's host, and the origin (scheme and host) that issuers
//! and built-in API identifiers follow. Every per-tenant route runs behind `resolve`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use accountd_core::Core;
use accountd_core::origin::{Origin, Scheme, is_loopback_host};
use accountd_core::tenant::Tenant;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::AppState;

/// Which scheme public URLs use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicScheme {
    /// `http` for loopback hosts (development), `https` for every other host.
    Auto,
    /// Always `http` (plain-HTTP test setups).
    Http,
    /// Always `https`.
    Https,
}

/// The tenant and origin of the current request.
#[derive(Debug, Clone)]
pub struct RequestTenant {
    /// The tenant the host selects.
    pub tenant: Arc<Tenant>,
    /// Scheme and host as the client sees them.
    pub origin: Origin,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestTenant {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<RequestTenant>().cloned().ok_or_else(|| {
            tracing::error!("route without tenant resolution");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        })
    }
}

/// Host → tenant, remembered for a short while. Only hits are cached, so arbitrary `Host`
/// values cannot grow the map, and a newly bound domain works at once.
pub struct TenantCache {
    ttl: Duration,
    entries: RwLock<HashMap<String, (Instant, Arc<Tenant>)>>,
}

impl TenantCache {
    /// An empty cache.
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: RwLock::new(HashMap::new()) }
    }

    /// The tenant bound to `host` (lowercase, no port).
    pub async fn get(&self, core: &Core, host: &str) -> accountd_core::Result<Option<Arc<Tenant>>> {
        if let Some((at, t)) = self.entries.read().ok().and_then(|m| m.get(host).cloned())
            && at.elapsed() < self.ttl
        {
            return Ok(Some(t));
        }
        let found = core.tenant_for_host(host).await?.map(Arc::new);
        if let Ok(mut m) = self.entries.write() {
            match &found {
                Some(t) => m.insert(host.to_string(), (Instant::now(), t.clone())),
                None => m.remove(host),
            };
        }
        Ok(found)
    }
}

fn error(status: StatusCode, code: &str, message: String) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    (status, axum::Json(json!({"statusCode": status.as_u16(), "error": reason, "message": message, "errorCode": code})))
        .into_response()
}

/// The origin a request came in on.
pub fn request_origin(state: &AppState, parts: &axum::http::request::Parts) -> Result<Origin, Box<Response>> {
    let forwarded = |name: &str| {
        state
            .config
            .trust_forwarded_headers
            .then(|| parts.headers.get(name).and_then(|v| v.to_str().ok()))
            .flatten()
            .map(|v| v.split(',').next().unwrap_or("").trim().to_string())
    };
    let authority = forwarded("x-forwarded-host")
        .or_else(|| parts.headers.get(header::HOST).and_then(|v| v.to_str().ok()).map(str::to_string))
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .ok_or_else(|| {
            Box::new(error(StatusCode::BAD_REQUEST, "missing_host", "The request has no Host header.".into()))
        })?;
    let invalid =
        || Box::new(error(StatusCode::BAD_REQUEST, "invalid_host", "The Host header is not a valid host name.".into()));
    let probe = Origin::new(Scheme::Http, &authority).map_err(|_| invalid())?;
    let scheme = match (forwarded("x-forwarded-proto").as_deref(), state.config.public_scheme) {
        (Some("https"), _) => Scheme::Https,
        (Some("http"), _) => Scheme::Http,
        (_, PublicScheme::Http) => Scheme::Http,
        (_, PublicScheme::Https) => Scheme::Https,
        (_, PublicScheme::Auto) if is_loopback_host(probe.host()) => Scheme::Http,
        (_, PublicScheme::Auto) => Scheme::Https,
    };
    Origin::new(scheme, probe.authority()).map_err(|_| invalid())
}

/// Middleware: attaches `RequestTenant`, or answers 404 for a host no tenant is bound to.
pub async fn resolve(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    // The HSTS layer in front has worked it out already.
    let origin = match parts.extensions.remove::<Origin>().map_or_else(|| request_origin(&state, &parts), Ok) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    match state.tenants.get(&state.core, origin.host()).await {
        Ok(Some(tenant)) => {
            tracing::Span::current().record("tenant", tenant.id.as_str());
            parts.extensions.insert(RequestTenant { tenant, origin });
            next.run(Request::from_parts(parts, body)).await
        }
        Ok(None) => {
            error(StatusCode::NOT_FOUND, "unknown_host", format!("No tenant is served at host '{}'.", origin.host()))
        }
        Err(e) => {
            tracing::error!(error = %e, "tenant lookup failed");
            error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "The service is temporarily unavailable.".into())
        }
    }
}
