//! The native passkey API (spec auth0 §5): `POST /passkey/challenge` (sign in) and
//! `POST /passkey/register` (sign up) answer WebAuthn options and an `auth_session`; the
//! `urn:okta:params:oauth:grant-type:webauthn` grant at `/oauth/token` finishes either.
//! Errors are OAuth-style `{error, error_description}`, as auth-js reads them.

use accountd_core::authn::credential::RelyingParty;
use accountd_core::user::UserFields;
use accountd_oauth::OAuthError;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::error::render;
use crate::AppState;
use crate::common::input::{BodyKind, EdgeError as _, RawBody, refused_in_body};
use crate::common::tenant::RequestTenant;

/// The relying party of the request's domain.
pub fn relying_party(rt: &RequestTenant) -> RelyingParty {
    RelyingParty { id: rt.origin.host().to_string(), origin: rt.origin.base_url(), name: rt.tenant.name.clone() }
}

/// `user_profile` of `/passkey/register` (spec §5.2).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserProfile {
    email: Option<String>,
    phone_number: Option<String>,
    username: Option<String>,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    nickname: Option<String>,
    picture: Option<String>,
}

impl From<UserProfile> for UserFields {
    fn from(p: UserProfile) -> Self {
        UserFields {
            email: p.email,
            phone_number: p.phone_number,
            username: p.username,
            name: p.name,
            given_name: p.given_name,
            family_name: p.family_name,
            nickname: p.nickname,
            picture: p.picture,
            ..Default::default()
        }
    }
}

#[derive(Deserialize)]
struct PasskeyRequest {
    client_id: Option<String>,
    client_secret: Option<String>,
    /// The database connection (accountd has one; accepted and ignored).
    #[serde(rename = "realm")]
    _realm: Option<String>,
    /// Organizations are not supported; accepted and ignored when absent.
    organization: Option<String>,
    user_profile: Option<UserProfile>,
    #[serde(rename = "user_metadata")]
    _user_metadata: Option<serde_json::Value>,
}

fn parse(headers: &HeaderMap, body: &[u8]) -> Result<PasskeyRequest, OAuthError> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let ct = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let (req, kind) = match ct.as_str() {
        "application/json" => (
            serde_json::from_slice(body).map_err(|e| OAuthError::invalid_request(format!("Invalid body: {e}")))?,
            BodyKind::Json,
        ),
        "application/x-www-form-urlencoded" => (
            serde_urlencoded::from_bytes(body)
                .map_err(|e| OAuthError::invalid_request(format!("Invalid body: {e}")))?,
            BodyKind::Form,
        ),
        _ => return Err(OAuthError::invalid_request("Use Content-Type application/json.")),
    };
    match refused_in_body(kind, body) {
        Some(r) => Err(OAuthError::refused(&r)),
        None => Ok(req),
    }
}

fn answer(result: Result<(serde_json::Value, String), OAuthError>) -> Response {
    match result {
        Ok((options, session)) => {
            let mut r =
                axum::Json(json!({ "authn_params_public_key": options, "auth_session": session })).into_response();
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => render(e),
    }
}

async fn client(
    state: &AppState,
    rt: &RequestTenant,
    req: &PasskeyRequest,
) -> Result<accountd_core::application::Application, OAuthError> {
    let id =
        req.client_id.as_deref().ok_or_else(|| OAuthError::invalid_request("Missing required parameter: client_id"))?;
    let app = state.core.authenticate_client(&rt.tenant.id, id, req.client_secret.as_deref()).await?;
    if req.organization.is_some() {
        return Err(OAuthError::invalid_request("Organizations are not supported."));
    }
    state.core.check_passkey_client(&app)?;
    Ok(app)
}

/// `POST /passkey/challenge`.
pub async fn challenge(
    State(state): State<AppState>,
    rt: RequestTenant,
    headers: HeaderMap,
    RawBody { bytes: body, .. }: RawBody<OAuthError>,
) -> Response {
    answer(
        async {
            let req = parse(&headers, &body)?;
            client(&state, &rt, &req).await?;
            Ok(state.core.start_passkey_sign_in(&rt.tenant.id, &relying_party(&rt)).await?)
        }
        .await,
    )
}

/// `POST /passkey/register`.
pub async fn register(
    State(state): State<AppState>,
    rt: RequestTenant,
    headers: HeaderMap,
    RawBody { bytes: body, .. }: RawBody<OAuthError>,
) -> Response {
    answer(
        async {
            let req = parse(&headers, &body)?;
            client(&state, &rt, &req).await?;
            let profile = req
                .user_profile
                .ok_or_else(|| OAuthError::invalid_request("Missing required parameter: user_profile"))?;
            Ok(state.core.start_passkey_sign_up(&rt.tenant.id, &relying_party(&rt), profile.into()).await?)
        }
        .await,
    )
}
