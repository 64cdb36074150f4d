//! "Continue with …" on the hosted sign-in page: the browser goes to an upstream connection's
//! provider and comes back to `/u/upstream/callback`, which signs in the user that provider
//! account is linked to (or links, or creates one; core decides) and completes the authorization
//! request. Both steps check that the sign-in form was served to this browser.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::authorize::{finish_sign_in, open_login_flow};
use super::pages;
use crate::AppState;
use crate::common::client_info::ClientInfo;
use crate::common::tenant::RequestTenant;

/// `?connection=…&flow=…`.
#[derive(Debug, Deserialize)]
pub struct StartQuery {
    connection: String,
    flow: String,
}

/// The provider's answer.
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

fn unavailable(e: accountd_core::Error) -> Response {
    match e {
        accountd_core::Error::BadProof(d) => pages::error(StatusCode::BAD_REQUEST, "invalid_request", &d),
        accountd_core::Error::NotFound(_) => {
            pages::error(StatusCode::BAD_REQUEST, "invalid_request", "This sign-in option is not available.")
        }
        accountd_core::Error::Upstream(_) => pages::error(
            StatusCode::BAD_GATEWAY,
            "access_denied",
            "The identity provider did not sign you in. Go back to the application and try again.",
        ),
        accountd_core::Error::Unauthenticated(_) => {
            pages::error(StatusCode::FORBIDDEN, "access_denied", "This account cannot sign in.")
        }
        other => {
            tracing::error!(error = %other, "upstream sign-in");
            pages::error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "Try again later.")
        }
    }
}

/// Sends the browser to the connection's provider.
pub async fn start(
    State(state): State<AppState>,
    rt: RequestTenant,
    headers: HeaderMap,
    Query(q): Query<StartQuery>,
) -> Response {
    if let Err(r) = open_login_flow(&state, &rt, &headers, &q.flow) {
        return *r;
    }
    let base = format!("{}/", rt.origin.base_url());
    match state.core.start_upstream_sign_in(&rt.tenant.id, &base, &q.connection, &q.flow).await {
        Ok(url) => match HeaderValue::from_str(&url) {
            Ok(v) => {
                let mut r = StatusCode::FOUND.into_response();
                r.headers_mut().insert(header::LOCATION, v);
                r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                r
            }
            Err(_) => pages::error(StatusCode::BAD_GATEWAY, "server_error", "The provider's address is not valid."),
        },
        Err(e) => unavailable(e),
    }
}

/// Signs in the user the provider vouched for, then asks for a second factor or completes the
/// authorization request.
pub async fn callback(
    State(state): State<AppState>,
    rt: RequestTenant,
    info: ClientInfo,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let Some(st) = q.state.clone() else {
        return pages::error(StatusCode::BAD_REQUEST, "invalid_request", "The provider's answer has no state.");
    };
    // The browser first: a callback carried into another browser signs nobody in there.
    let sealed = match state.core.upstream_sign_in_flow(&rt.tenant.id, &st).await {
        Ok(f) => f,
        Err(e) => return unavailable(e),
    };
    let flow = match open_login_flow(&state, &rt, &headers, &sealed) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let ctx = info.context(accountd_core::audit::Actor::System);
    let callback = accountd_core::service::UpstreamCallback { code: q.code, state: q.state, error: q.error };
    let user = match state.core.finish_upstream_sign_in(&rt.tenant.id, &ctx, &callback).await {
        Ok((user, _)) => {
            state.metrics.sign_in("upstream", true);
            user
        }
        Err(e) => {
            state.metrics.sign_in("upstream", false);
            return unavailable(e);
        }
    };
    match state.core.second_factor_needed(&rt.tenant.id, &user, flow.req.require_mfa).await {
        Ok(None) => finish_sign_in(&state, &rt, ctx, &user, &flow.req, vec!["fed".into()]).await,
        Ok(Some(methods)) => super::second_factor::ask(&state, &rt, flow, &user, &methods).await,
        Err(e) => {
            tracing::error!(error = %e, "second-factor check failed");
            pages::error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "Try again later.")
        }
    }
}
