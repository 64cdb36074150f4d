//! `/api/v2/keys/signing`: the tenant's token signing keys, and their rotation.

use accountd_core::clock::to_rfc3339;
use accountd_core::signing_key::KeyStatus;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{MgmtError, MgmtResult};
use super::extract::ManagementAuth;
use crate::AppState;
use crate::common::input::{BodyKind, EdgeError as _, RawBody, refused_in_body};
use crate::common::tenant::RequestTenant;

/// A signing key (public facts only).
#[derive(Debug, Serialize, ToSchema)]
pub struct SigningKeyResponse {
    /// Key id.
    pub kid: String,
    /// Algorithm.
    pub alg: String,
    /// Signs new tokens.
    pub current: bool,
    /// Retired: still published so tokens it signed verify until they expire.
    pub previous: bool,
    /// When it became current.
    pub current_since: String,
    /// When it was retired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_until: Option<String>,
    /// The public key as a JWK.
    pub jwk: serde_json::Value,
}

/// The tenant's published signing keys.
#[utoipa::path(get, path = "/api/v2/keys/signing", tag = "keys",
    responses((status = 200, body = [SigningKeyResponse])), security(("bearer" = ["read:signing_keys"])))]
pub async fn list_signing_keys(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
) -> MgmtResult<Json<Vec<SigningKeyResponse>>> {
    auth.require("read:signing_keys")?;
    let keys = state.core.signing_keys(&rt.tenant.id).await?;
    Ok(Json(
        keys.into_iter()
            .map(|k| SigningKeyResponse {
                current: k.status == KeyStatus::Active,
                previous: k.status == KeyStatus::Retired,
                current_since: to_rfc3339(k.created_at),
                current_until: k.retired_at.map(to_rfc3339),
                jwk: serde_json::from_str(&k.public_jwk).unwrap_or_default(),
                kid: k.kid,
                alg: k.alg,
            })
            .collect(),
    ))
}

/// Body of `POST /api/v2/keys/signing/rotate`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateRequest {
    /// Algorithm of the key to rotate (default `RS256`).
    pub alg: Option<String>,
}

/// Makes a new signing key current; the old one stays published until its tokens expire.
#[utoipa::path(post, path = "/api/v2/keys/signing/rotate", tag = "keys", request_body = RotateRequest,
    responses((status = 201)), security(("bearer" = ["create:signing_keys"])))]
pub async fn rotate_signing_key(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    body: RawBody<MgmtError>,
) -> MgmtResult<impl IntoResponse> {
    let ctx = auth.require("create:signing_keys")?;
    // The body is optional: an empty one rotates the RS256 key.
    let body = body.bytes;
    let req: RotateRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RotateRequest::default()
    } else {
        let req = serde_json::from_slice(&body)
            .map_err(|e| MgmtError::invalid_body(format!("Payload validation error: '{e}'.")))?;
        if let Some(r) = refused_in_body(BodyKind::Json, &body) {
            return Err(MgmtError::refused(&r));
        }
        req
    };
    let alg = req.alg.unwrap_or_else(|| "RS256".into());
    let key = state.core.rotate_signing_key(&ctx, &rt.tenant.id, &alg).await?;
    state.keys.invalidate(&rt.tenant.id);
    Ok((StatusCode::CREATED, Json(serde_json::json!({"kid": key.kid}))))
}
