//! Ending the session: Auth0's `GET /v2/logout?client_id=…&returnTo=…` and OIDC RP-initiated
//! logout at `GET /oidc/logout?client_id=…&post_logout_redirect_uri=…&state=…`. Redirects only to
//! a URL in the client's `allowed_logout_urls` (no open redirect).

use accountd_core::origin::Scheme;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::authorize::SESSION_COOKIE;
use super::pages;
use crate::AppState;
use crate::common::client_info::ClientInfo;
use crate::common::cookies;
use crate::common::tenant::RequestTenant;

/// Parameters of both logout endpoints.
#[derive(Debug, Default, Deserialize)]
pub struct LogoutParams {
    client_id: Option<String>,
    #[serde(rename = "returnTo")]
    return_to: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
}

/// Ends the session (and its refresh tokens) and redirects to an allowed URL.
pub async fn logout(
    State(state): State<AppState>,
    rt: RequestTenant,
    info: ClientInfo,
    headers: HeaderMap,
    Query(p): Query<LogoutParams>,
) -> Response {
    if let Some(secret) = cookies::get(&headers, SESSION_COOKIE, rt.origin.scheme() == Scheme::Https)
        && let Ok(Some(session)) = state.core.session_from_cookie(&rt.tenant.id, &secret).await
    {
        let ctx = accountd_core::audit::Context {
            actor: accountd_core::audit::Actor::User(session.user_id.clone()),
            ip: info.ip,
            user_agent: info.user_agent,
        };
        if let Err(e) = state.core.end_session(&ctx, &rt.tenant.id, &session).await {
            tracing::error!(error = %e, "ending the session failed");
            return pages::error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "Try again later.");
        }
    }
    let target = p.return_to.or(p.post_logout_redirect_uri);
    let client = match &p.client_id {
        Some(id) => state.core.get_application(&rt.tenant.id, id).await.ok(),
        None => None,
    };
    let mut r = match (target, client) {
        (Some(url), Some(c)) if c.allowed_logout_urls.contains(&url) => {
            let location = match &p.state {
                Some(s) => format!(
                    "{url}{}state={}",
                    if url.contains('?') { '&' } else { '?' },
                    serde_urlencoded::to_string([("", s)]).unwrap_or_default().trim_start_matches('=')
                ),
                None => url,
            };
            let mut r = StatusCode::FOUND.into_response();
            if let Ok(v) = HeaderValue::from_str(&location) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
        _ => pages::message("Signed out", "You are signed out. You can close this window."),
    };
    let secure = rt.origin.scheme() == Scheme::Https;
    r.headers_mut().append(header::SET_COOKIE, cookies::set(SESSION_COOKIE, "", "/", 0, secure));
    r
}
