//! Who is calling, for audit events: client IP and user agent.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;

/// The caller's IP and user agent.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// Peer address, or the first `X-Forwarded-For` hop when forwarded headers are trusted.
    pub ip: Option<String>,
    /// `User-Agent`, truncated.
    pub user_agent: Option<String>,
}

impl ClientInfo {
    /// The audit context of a request by `actor` from this caller.
    pub fn context(&self, actor: accountd_core::audit::Actor) -> accountd_core::audit::Context {
        accountd_core::audit::Context { actor, ip: self.ip.clone(), user_agent: self.user_agent.clone() }
    }
}

impl FromRequestParts<crate::AppState> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &crate::AppState) -> Result<Self, Self::Rejection> {
        let forwarded = state
            .config
            .trust_forwarded_headers
            .then(|| parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()))
            .flatten()
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_string());
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
        let user_agent =
            parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|s| s.chars().take(512).collect());
        Ok(ClientInfo { ip: forwarded.or(peer), user_agent })
    }
}
