//! `GET`/`POST /userinfo`: the signed-in user's claims, by the scopes of the access token.

use accountd_oauth::access_token::{self, TokenError};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::common::tenant::RequestTenant;

fn unauthorized(error: &str, description: &str) -> Response {
    let mut r =
        (StatusCode::UNAUTHORIZED, axum::Json(serde_json::json!({"error": error, "error_description": description})))
            .into_response();
    let challenge = format!("Bearer error=\"{error}\", error_description=\"{description}\"");
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r
}

/// The user's claims.
pub async fn userinfo(State(state): State<AppState>, rt: RequestTenant, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_string());
    let Some(token) = token else {
        let mut r = StatusCode::UNAUTHORIZED.into_response();
        r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return r;
    };
    let audience = format!("{}userinfo", rt.origin.issuer());
    let claims = match access_token::verify(&state.keys, &rt.tenant.id, &token, &rt.origin.issuer(), &audience).await {
        Ok(c) => c,
        Err(TokenError::Expired) => return unauthorized("invalid_token", "The access token expired"),
        Err(_) => return unauthorized("invalid_token", "The access token is not valid"),
    };
    if !claims.has_scope("openid") {
        return (StatusCode::FORBIDDEN, axum::Json(serde_json::json!({"error": "insufficient_scope"}))).into_response();
    }
    match state.core.find_user(&rt.tenant.id, &claims.sub).await {
        Ok(Some(user)) => {
            let scopes: Vec<String> = claims.scope.split(' ').map(str::to_string).collect();
            let mut r = axum::Json(accountd_oauth::id_token::user_claims(&user, &scopes)).into_response();
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Ok(None) => unauthorized("invalid_token", "The user no longer exists"),
        Err(e) => super::error::render(e.into()),
    }
}
