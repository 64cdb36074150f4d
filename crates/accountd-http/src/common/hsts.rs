//! The headers every answer carries: `X-Content-Type-Options: nosniff` (no answer is ever read as
//! another type than it says), `Referrer-Policy: no-referrer` (no URL of ours, with its codes or
//! tickets, leaks to the next site), unless a handler chose its own; and
//! `Strict-Transport-Security` on every answer to a request whose public scheme is https (as
//! [`super::tenant::request_origin`] decides it: `server.public_scheme`, or `X-Forwarded-Proto`
//! from a trusted proxy), so a browser that reached accountd over https once never falls back to
//! plain http, where a network attacker could read or steer the hosted pages. Never on plain http
//! (development on localhost, or a deployment that says it is served over http).
//!
//! One year, without `includeSubDomains`: a tenant's domain is often a customer's subdomain or
//! apex (`auth.example.com`, `example.com`) whose other subdomains accountd does not serve and
//! cannot vouch for; and without `preload`, which only a domain's owner may ask for.

use accountd_core::origin::Scheme;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::header::{REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

/// The header's value.
pub const HSTS: &str = "max-age=31536000";

/// Middleware in front of every route.
pub async fn hsts(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let origin = super::tenant::request_origin(&state, &parts);
    let https = origin.as_ref().is_ok_and(|o| o.scheme() == Scheme::Https);
    // Worked out once per request: tenant resolution takes it from here.
    if let Ok(o) = origin {
        parts.extensions.insert(o);
    }
    let mut res = next.run(Request::from_parts(parts, body)).await;
    let h = res.headers_mut();
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if !h.contains_key(REFERRER_POLICY) {
        h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    }
    if https {
        res.headers_mut().insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    res
}
