//! `/me/v1/authentication-methods` (spec §1.3): list, enroll (start → verify), read, rename,
//! remove.

use accountd_core::error::Entity;
use axum::Json;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::error::{MeError, MeResult, ValidationError};
use super::extract::{MeAuth, MeJson};
use super::wire::{
    self, AuthenticationMethodListResponse, AuthenticationMethodResponse, CreateAuthenticationMethodRequest,
    EnrollmentChallengeResponse, UpdateAuthenticationMethodRequest, VerifyAuthenticationMethodRequest,
};

fn with_location(status: StatusCode, location: &str, body: impl Serialize) -> Response {
    let mut res = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// `?sign_out_other_sessions=true|false` on a password's verify (accountd's own flag).
fn sign_out_flag(q: Option<&str>) -> MeResult<bool> {
    let mut flag = false;
    let bad = || MeError::validation(vec![ValidationError::at("", "sign_out_other_sessions must be true or false")]);
    for (k, v) in serde_urlencoded::from_str::<Vec<(String, String)>>(q.unwrap_or("")).map_err(|_| bad())? {
        if k == "sign_out_other_sessions" {
            flag = match v.as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(bad()),
            };
        }
    }
    Ok(flag)
}

/// `?type=…`: the one filter the list takes.
fn type_filter(q: Option<&str>) -> MeResult<Option<accountd_core::authn::method::MethodType>> {
    let mut filter = None;
    for (k, v) in serde_urlencoded::from_str::<Vec<(String, String)>>(q.unwrap_or(""))
        .map_err(|_| MeError::validation(vec![ValidationError::at("", "the query string is malformed")]))?
    {
        match k.as_str() {
            "type" => match wire::parse_method_type(&v) {
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
    Ok(filter)
}

/// List the user's authentication methods, optionally of one type.
#[utoipa::path(get, path = "/me/v1/authentication-methods", tag = "authentication-methods",
    operation_id = "getAuthenticationMethods",
    params(("type" = Option<String>, Query, description = "Only methods of this type")),
    responses((status = 200, body = AuthenticationMethodListResponse)),
    security(("bearer" = ["read:me:authentication_methods"])))]
pub async fn list_authentication_methods(auth: MeAuth, RawQuery(q): RawQuery) -> MeResult<Response> {
    let caller = auth.require("read:me:authentication_methods")?;
    let filter = type_filter(q.as_deref())?;
    let methods = auth.state().core.list_authentication_methods(&caller.tenant, &caller.user, filter).await?;
    Ok(Json(AuthenticationMethodListResponse::new(&methods)).into_response())
}

/// Get one of the user's authentication methods.
#[utoipa::path(get, path = "/me/v1/authentication-methods/{id}", tag = "authentication-methods",
    operation_id = "getAuthenticationMethod",
    responses((status = 200, body = AuthenticationMethodResponse)),
    security(("bearer" = ["read:me:authentication_methods"])))]
pub async fn get_authentication_method(auth: MeAuth, Path(id): Path<String>) -> MeResult<Response> {
    let caller = auth.require("read:me:authentication_methods")?;
    let m = auth.state().core.get_authentication_method(&caller.tenant, &caller.user, &id).await?;
    Ok(Json(AuthenticationMethodResponse::from(&m)).into_response())
}

/// Start enrolling a method: 202 with the challenge, `Location` naming the method to verify.
#[utoipa::path(post, path = "/me/v1/authentication-methods", tag = "authentication-methods",
    operation_id = "createAuthenticationMethod", request_body = CreateAuthenticationMethodRequest,
    responses((status = 202, body = EnrollmentChallengeResponse, headers(("Location" = String)))),
    security(("bearer" = ["create:me:authentication_methods"])))]
pub async fn create_authentication_method(auth: MeAuth, MeJson(body): MeJson) -> MeResult<Response> {
    let caller = auth.require("create:me:authentication_methods")?;
    let request = CreateAuthenticationMethodRequest::from_body(&body)?;
    let started = auth.state().core.start_enrollment(&caller, request.into()).await?;
    let body = EnrollmentChallengeResponse::new(
        &started.method_id,
        started.method_type,
        &started.auth_session,
        &started.challenge,
    );
    Ok(with_location(StatusCode::ACCEPTED, &wire::location(&auth.base_url(), &started.method_id), body))
}

/// Finish an enrollment: 201 with the method and its `Location`.
#[utoipa::path(post, path = "/me/v1/authentication-methods/{id}/verify", tag = "authentication-methods",
    operation_id = "confirmAuthenticationMethod", request_body = VerifyAuthenticationMethodRequest,
    params(("sign_out_other_sessions" = Option<bool>, Query,
        description = "Password only: also end the user's other sessions and every token issued under them")),
    responses((status = 201, body = AuthenticationMethodResponse, headers(("Location" = String)))),
    security(("bearer" = ["create:me:authentication_methods"])))]
pub async fn verify_authentication_method(
    auth: MeAuth,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    MeJson(body): MeJson,
) -> MeResult<Response> {
    let caller = auth.require("create:me:authentication_methods")?;
    let Some(t) = wire::type_of_id(&id) else {
        return Err(accountd_core::Error::NotFound(Entity::AuthenticationMethod).into());
    };
    let sign_out = sign_out_flag(query.as_deref())?;
    let (auth_session, proof) = VerifyAuthenticationMethodRequest::from_body(t, &body)?.into_parts();
    let m = auth.state().core.verify_enrollment(&caller, &id, &auth_session, proof).await?;
    // A new password may come with "sign out everywhere else" (accountd's own query flag).
    if t == accountd_core::authn::method::MethodType::Password && sign_out {
        auth.state().core.sign_out_other_sessions(&caller).await?;
    }
    let location = wire::location(&auth.base_url(), &m.id);
    Ok(with_location(StatusCode::CREATED, &location, AuthenticationMethodResponse::from(&m)))
}

/// Rename a method, or change how a phone method's codes are delivered.
#[utoipa::path(patch, path = "/me/v1/authentication-methods/{id}", tag = "authentication-methods",
    operation_id = "updateAuthenticationMethod", request_body = UpdateAuthenticationMethodRequest,
    responses((status = 200, body = AuthenticationMethodResponse)),
    security(("bearer" = ["update:me:authentication_methods"])))]
pub async fn update_authentication_method(
    auth: MeAuth,
    Path(id): Path<String>,
    MeJson(body): MeJson,
) -> MeResult<Response> {
    let caller = auth.require("update:me:authentication_methods")?;
    let request = UpdateAuthenticationMethodRequest::from_body(&body)?;
    let preferred = request.preferred_authentication_method.map(Into::into);
    let m = auth.state().core.update_authentication_method(&caller, &id, request.name, preferred).await?;
    Ok(Json(AuthenticationMethodResponse::from(&m)).into_response())
}

/// Remove a method: 204.
#[utoipa::path(delete, path = "/me/v1/authentication-methods/{id}", tag = "authentication-methods",
    operation_id = "deleteAuthenticationMethod", responses((status = 204)),
    security(("bearer" = ["delete:me:authentication_methods"])))]
pub async fn delete_authentication_method(auth: MeAuth, Path(id): Path<String>) -> MeResult<StatusCode> {
    let caller = auth.require("delete:me:authentication_methods")?;
    auth.state().core.delete_authentication_method(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
