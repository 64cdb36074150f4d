//! accountd's connect page for Auth0's connected accounts (spec auth0 §1.5): the browser opens
//! `connect_uri?ticket=…`, goes on to the upstream provider, and comes back to
//! `/connected-accounts/callback`, which sends it to the app's `redirect_uri` with a one-time
//! `connect_code` and the app's `state`. The ticket and the callback's `state` are the only
//! capabilities: neither needs an accountd session cookie.

use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::pages;
use crate::AppState;
use crate::common::tenant::RequestTenant;

/// `?ticket=…`.
#[derive(Debug, Deserialize)]
pub struct TicketQuery {
    ticket: Option<String>,
}

/// The provider's answer.
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// A redirect that is not cached and leaks no referrer.
fn redirect(location: &str) -> Response {
    let Ok(value) = HeaderValue::from_str(location) else {
        return pages::error(StatusCode::BAD_GATEWAY, "server_error", "The provider's address is not valid.");
    };
    let mut r = StatusCode::FOUND.into_response();
    r.headers_mut().insert(header::LOCATION, value);
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut().insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    r
}

fn refused(e: accountd_core::Error) -> Response {
    match e {
        accountd_core::Error::BadProof(d) => pages::error(StatusCode::BAD_REQUEST, "invalid_request", &d),
        accountd_core::Error::Upstream(_) => pages::error(
            StatusCode::BAD_GATEWAY,
            "temporarily_unavailable",
            "The identity provider could not be reached; try again later.",
        ),
        accountd_core::Error::NotFound(_) => {
            pages::error(StatusCode::BAD_REQUEST, "invalid_request", "The connection no longer exists.")
        }
        other => {
            tracing::error!(error = %other, "connect page");
            pages::error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "Try again later.")
        }
    }
}

/// Opens the provider for a connect ticket.
pub async fn connect(State(state): State<AppState>, rt: RequestTenant, Query(q): Query<TicketQuery>) -> Response {
    let Some(ticket) = q.ticket.filter(|t| !t.is_empty() && t.len() <= 256) else {
        return pages::error(StatusCode::BAD_REQUEST, "invalid_request", "The ticket is missing.");
    };
    match state.core.open_connect_ticket(&rt.tenant.id, &ticket).await {
        Ok(url) => redirect(&url),
        Err(e) => refused(e),
    }
}

/// Takes the provider's answer and sends the user back to the app.
pub async fn callback(State(state): State<AppState>, rt: RequestTenant, Query(q): Query<CallbackQuery>) -> Response {
    let callback = accountd_core::service::UpstreamCallback { code: q.code, state: q.state, error: q.error };
    match state.core.finish_connect_callback(&rt.tenant.id, &callback).await {
        Ok(url) => redirect(&url),
        Err(e) => refused(e),
    }
}
