//! The companion-device API of push approval (`/push/v1`, our own open flow: Auth0 has a vendor
//! app here). A device redeems the ticket of an enrollment's `barcode_uri` with its public key
//! (`POST /push/v1/enroll`, the ticket is the credential); after that every request carries a
//! device proof (`Authorization: Device <JWS>`, see `accountd_oauth::device_proof`) signed by
//! that key, to list the open sign-in challenges and approve or deny them. `accountd device …`
//! is a client of this API.

pub mod error;

use accountd_core::audit::{Actor, Context};
use accountd_core::clock::{now_millis, to_rfc3339};
use accountd_oauth::device_proof;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use self::error::PushError;
use crate::AppState;
use crate::common::client_info::ClientInfo;
use crate::common::input::{self, EdgeError as _, RawBody};
use crate::common::tenant::RequestTenant;

/// The device API's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/push/v1/enroll", post(enroll))
        .route("/push/v1/challenges", get(list_challenges))
        .route("/push/v1/challenges/{id}", post(answer_challenge))
        .layer(axum::middleware::from_fn(input::screen_uri::<PushError>))
}

/// A JSON body of `T`, without control characters.
pub fn json_body<T: serde::de::DeserializeOwned>(body: &Bytes, shape: &str) -> Result<T, PushError> {
    let v = serde_json::from_slice(body)
        .map_err(|e| PushError::invalid_request(format!("The body must be JSON {shape}: {e}")))?;
    match input::refused_in_body(input::BodyKind::Json, body) {
        Some(r) => Err(PushError::refused(&r)),
        None => Ok(v),
    }
}

/// A request authenticated by a device proof: the device (its push method id) and the tenant.
pub struct Device {
    /// The push method id, which is the device's id.
    pub method_id: String,
    /// The tenant of the request.
    pub rt: RequestTenant,
}

impl FromRequestParts<AppState> for Device {
    type Rejection = PushError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let rt = RequestTenant::from_request_parts(parts, state)
            .await
            .map_err(|_| PushError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "Internal error."))?;
        let mut values = parts.headers.get_all(header::AUTHORIZATION).iter();
        let proof = match (values.next().and_then(|v| v.to_str().ok()), values.next()) {
            (Some(v), None) => {
                v.split_once(' ').filter(|(s, p)| s.eq_ignore_ascii_case("device") && !p.trim().is_empty())
            }
            _ => None,
        }
        .map(|(_, p)| p.trim())
        .ok_or_else(|| PushError::invalid_token("Missing device proof (Authorization: Device <JWS>)."))?;
        let unknown = || PushError::invalid_token("Unknown device.");
        let sub = device_proof::unverified_subject(proof).ok_or_else(unknown)?;
        let jwk = state.core.push_device_key(&rt.tenant.id, &sub).await?.ok_or_else(unknown)?;
        let url = format!("{}{}", rt.origin.base_url(), parts.uri.path());
        let now_ms = now_millis();
        let checked = device_proof::verify(proof, &jwk, parts.method.as_str(), &url, now_ms / 1000)
            .map_err(PushError::invalid_token)?;
        if state.spent_unsaved_since(checked.iat).is_some() {
            // Possibly spent just before a crash and not saved; a new proof is accepted.
            return Err(PushError::invalid_token("device proof made before the server started; sign a new one"));
        }
        let until = now_ms + 2 * device_proof::MAX_SKEW_SECS * 1000;
        match state.remember_once(&rt.tenant.id, &checked.replay_key(), now_ms, until).await {
            Ok(true) => Ok(Device { method_id: checked.sub, rt }),
            Ok(false) => Err(PushError::invalid_token("device proof replayed")),
            Err(e) => {
                tracing::error!(error = %e, "replay store unavailable");
                Err(accountd_core::Error::Unavailable.into())
            }
        }
    }
}

/// `POST /push/v1/enroll`.
#[derive(Deserialize)]
pub struct EnrollBody {
    ticket: String,
    public_key: Value,
    #[serde(default)]
    name: Option<String>,
}

/// Redeems an enrollment ticket with the device's public key: 201 `{device_id}`.
async fn enroll(
    State(state): State<AppState>,
    rt: RequestTenant,
    body: RawBody<PushError>,
) -> Result<Response, PushError> {
    let body: EnrollBody = json_body(&body.bytes, "{ticket, public_key, name?}")?;
    let device_id = state.core.redeem_push_ticket(&rt.tenant.id, &body.ticket, body.public_key, body.name).await?;
    Ok((StatusCode::CREATED, axum::Json(json!({ "device_id": device_id }))).into_response())
}

/// The device's open challenges, oldest first.
async fn list_challenges(State(state): State<AppState>, device: Device) -> Result<Response, PushError> {
    let open = state.core.open_push_challenges(&device.rt.tenant.id, &device.method_id).await?;
    let challenges: Vec<Value> = open
        .into_iter()
        .map(|c| json!({ "id": c.id, "binding_message": c.binding_message, "expires_at": to_rfc3339(c.expires_at) }))
        .collect();
    Ok(axum::Json(json!({ "challenges": challenges })).into_response())
}

/// `POST /push/v1/challenges/{id}`.
#[derive(Deserialize)]
pub struct AnswerBody {
    approve: bool,
}

/// Approves or denies one open challenge: 204.
async fn answer_challenge(
    State(state): State<AppState>,
    device: Device,
    info: ClientInfo,
    Path(id): Path<String>,
    body: RawBody<PushError>,
) -> Result<Response, PushError> {
    let body: AnswerBody = json_body(&body.bytes, "{\"approve\": true|false}")?;
    // Core records the method's user as the actor; the context gives where the answer came from.
    let ctx = Context { actor: Actor::System, ip: info.ip, user_agent: info.user_agent };
    state.core.answer_push_challenge(&ctx, &device.rt.tenant.id, &device.method_id, &id, body.approve).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
