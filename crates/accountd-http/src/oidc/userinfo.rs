//! `GET`/`POST /userinfo`: the signed-in user's claims, by the scopes of the access token.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::common::tenant::RequestTenant;

fn unauthorized(e: crate::common::principal::AuthError) -> Response {
    let body = match e.error {
        Some(err) => serde_json::json!({"error": err, "error_description": e.description}),
        None => serde_json::json!({"error": "invalid_request", "error_description": e.description}),
    };
    let mut r = (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    for (k, v) in e.headers() {
        r.headers_mut().insert(k, v);
    }
    r
}

/// The user's claims.
#[utoipa::path(method(get, post), path = "/userinfo", tag = "oidc", operation_id = "userinfo",
    responses(
        (status = 200, description = "The user's claims, by the token's scopes", body = Object),
        (status = 401, description = "No valid token", body = super::openapi::OAuthErrorBody),
        (status = 403, description = "The token lacks the openid scope", body = super::openapi::OAuthErrorBody),
        (status = 503, description = "Busy or the database is away; retry", body = super::openapi::OAuthErrorBody)
    ),
    security(("bearer" = ["openid"])))]
pub async fn userinfo(
    State(state): State<AppState>,
    rt: RequestTenant,
    method: axum::http::Method,
    headers: HeaderMap,
) -> Response {
    let audience = format!("{}userinfo", rt.origin.issuer());
    let claims =
        match crate::common::principal::authenticate(&state, &rt, &headers, method.as_str(), "/userinfo", &audience)
            .await
        {
            Ok(c) => c,
            Err(e) => return unauthorized(e),
        };
    if !claims.has_scope("openid") {
        return (StatusCode::FORBIDDEN, axum::Json(serde_json::json!({"error": "insufficient_scope"}))).into_response();
    }
    let revoked = || {
        unauthorized(crate::common::principal::AuthError {
            scheme: "Bearer",
            error: Some("invalid_token"),
            description: "The token was revoked, or its user no longer exists or is blocked".into(),
            nonce: None,
        })
    };
    // The user is read once, here: its block is checked with it, the session and family after.
    match state.core.find_user_to_show(&rt.tenant.id, &claims.sub).await {
        Ok(Some(user)) if !user.blocked => {
            let (sid, family) = (claims.sid.as_deref(), claims.family_id.as_deref());
            match state.core.session_stands(&rt.tenant.id, &claims.sub, sid, family).await {
                Ok(true) => {}
                Ok(false) => return revoked(),
                Err(e) => return super::error::render(e.into()),
            }
            let scopes: Vec<String> = claims.scope.split(' ').map(str::to_string).collect();
            let mut r = axum::Json(accountd_oauth::id_token::user_claims(&user, &scopes)).into_response();
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        // A token outlives neither its user nor a block.
        Ok(_) => revoked(),
        Err(e) => super::error::render(e.into()),
    }
}
