//! `/me/v1/authentication-methods`: list, enroll (start → verify), read, rename, remove.

use accountd_core::authn::method::MethodType;
use axum::Json;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::error::{MeError, ValidationError};
use super::extract::{MeAuth, MeJson};
use super::wire;

fn with_location(status: StatusCode, location: &str, body: serde_json::Value) -> Response {
    let mut res = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// `GET /me/v1/authentication-methods[?type=…]`.
pub async fn list(auth: MeAuth, RawQuery(q): RawQuery) -> Result<Response, MeError> {
    let caller = auth.require("read:me:authentication_methods")?;
    let mut filter = None;
    for (k, v) in serde_urlencoded::from_str::<Vec<(String, String)>>(q.as_deref().unwrap_or(""))
        .map_err(|_| MeError::validation(vec![ValidationError::at("", "the query string is malformed")]))?
    {
        match k.as_str() {
            "type" => match MethodType::parse(&v) {
                Some(t) => filter = Some(t),
                None => {
                    return Err(MeError::validation(vec![ValidationError::at(
                        "/type",
                        "querystring/type must be equal to one of the allowed values",
                    )]));
                }
            },
            _ => {
                return Err(MeError::validation(vec![ValidationError::at(
                    &format!("/{k}"),
                    "querystring must NOT have additional properties",
                )]));
            }
        }
    }
    let methods = auth
        .state()
        .core
        .list_authentication_methods(&caller.tenant, &caller.user, filter)
        .await
        .map_err(|e| auth.err(e))?;
    // The schema allows at most 20 items.
    let authentication_methods = methods.iter().take(20).map(wire::MethodView::from).collect();
    Ok(Json(wire::MethodList { authentication_methods }).into_response())
}

/// `GET /me/v1/authentication-methods/{id}`.
pub async fn get(auth: MeAuth, Path(id): Path<String>) -> Result<Json<serde_json::Value>, MeError> {
    let caller = auth.require("read:me:authentication_methods")?;
    let m = auth
        .state()
        .core
        .get_authentication_method(&caller.tenant, &caller.user, &id)
        .await
        .map_err(|e| auth.err(e))?;
    Ok(Json(wire::method_view(&m)))
}

/// `POST /me/v1/authentication-methods`: 202 with the challenge and `Location`.
pub async fn create(auth: MeAuth, MeJson(body): MeJson) -> Result<Response, MeError> {
    let caller = auth.require("create:me:authentication_methods")?;
    let request = wire::enroll_request(&body).map_err(MeError::validation)?;
    let started = auth.state().core.start_enrollment(&caller, request).await.map_err(|e| auth.err(e))?;
    let body = wire::challenge_view(&started.method_id, started.method_type, &started.auth_session, &started.challenge);
    Ok(with_location(StatusCode::ACCEPTED, &wire::location(&auth.base_url(), &started.method_id), body))
}

/// `POST /me/v1/authentication-methods/{id}/verify`: 201 with the method and its `Location`.
pub async fn verify(auth: MeAuth, Path(id): Path<String>, MeJson(body): MeJson) -> Result<Response, MeError> {
    let caller = auth.require("create:me:authentication_methods")?;
    let Some(t) = wire::type_of_id(&id) else {
        return Err(auth.err(accountd_core::Error::NotFound(accountd_core::error::Entity::AuthenticationMethod)));
    };
    let (auth_session, proof) = wire::verify_request(t, &body).map_err(MeError::validation)?;
    let m = auth.state().core.verify_enrollment(&caller, &id, &auth_session, proof).await.map_err(|e| auth.err(e))?;
    Ok(with_location(StatusCode::CREATED, &wire::location(&auth.base_url(), &m.id), wire::method_view(&m)))
}

/// `PATCH /me/v1/authentication-methods/{id}`.
pub async fn update(
    auth: MeAuth,
    Path(id): Path<String>,
    MeJson(body): MeJson,
) -> Result<Json<serde_json::Value>, MeError> {
    let caller = auth.require("update:me:authentication_methods")?;
    let (name, preferred) = wire::update_request(&body).map_err(MeError::validation)?;
    let m =
        auth.state().core.update_authentication_method(&caller, &id, name, preferred).await.map_err(|e| auth.err(e))?;
    Ok(Json(wire::method_view(&m)))
}

/// `DELETE /me/v1/authentication-methods/{id}`: 204.
pub async fn delete(auth: MeAuth, Path(id): Path<String>) -> Result<StatusCode, MeError> {
    let caller = auth.require("delete:me:authentication_methods")?;
    auth.state().core.delete_authentication_method(&caller, &id).await.map_err(|e| auth.err(e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /me/v1/factors`: what the tenant lets users enroll.
pub async fn factors(auth: MeAuth) -> Result<Json<serde_json::Value>, MeError> {
    let caller = auth.require("read:me:factors")?;
    let enabled = auth.state().core.enabled_factors(&caller.tenant).await.map_err(|e| auth.err(e))?;
    let factors: Vec<_> = enabled
        .iter()
        .map(|t| json!({ "type": t.as_str(), "usage": [if t.is_primary() { "primary" } else { "secondary" }] }))
        .collect();
    Ok(Json(json!({ "factors": factors })))
}
