//! `/me/v1/profile` (Auth0's beta, spec §1.6): the signed-in user's profile with its per-field
//! policy, and changes to the fields the user owns. Fields without a value are left out, as
//! Auth0 does; the SDKs decode every field as optional.

use axum::Json;
use axum::extract::RawQuery;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::{MeError, MeResult, ValidationError};
use super::extract::{MeAuth, MeJson};
use super::wire::{PROFILE_KEYS, ProfileResponse, UpdateProfileRequest};

/// What `fields` / `include_fields` select.
#[derive(Debug, Default, PartialEq)]
struct Selection {
    fields: Vec<String>,
    include: bool,
}

impl Selection {
    fn keeps(&self, key: &str) -> bool {
        self.fields.is_empty() || self.fields.iter().any(|f| f == key) == self.include
    }
}

fn query_error(pointer: &str, detail: impl Into<String>) -> MeError {
    MeError::validation(vec![ValidationError::at(pointer, detail)])
}

/// `?fields=a,b&include_fields=true|false` (`include_fields` defaults to true).
fn selection(query: Option<&str>) -> MeResult<Selection> {
    let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(query.unwrap_or(""))
        .map_err(|_| query_error("", "the query string is malformed"))?;
    let mut sel = Selection { fields: vec![], include: true };
    let mut unknown = vec![];
    for (k, v) in pairs {
        match k.as_str() {
            "fields" => {
                for f in v.split(',').map(str::trim).filter(|f| !f.is_empty()) {
                    if PROFILE_KEYS.contains(&f) {
                        sel.fields.push(f.to_string());
                    } else {
                        unknown.push(ValidationError::at(
                            "/fields",
                            format!("querystring/fields must only name profile fields ('{f}' is not one)"),
                        ));
                    }
                }
            }
            "include_fields" => match v.as_str() {
                "true" => sel.include = true,
                "false" => sel.include = false,
                _ => return Err(query_error("/include_fields", "querystring/include_fields must be boolean")),
            },
            _ => return Err(query_error(&format!("/{k}"), "querystring must NOT have additional properties")),
        }
    }
    if unknown.is_empty() { Ok(sel) } else { Err(MeError::validation(unknown)) }
}

/// Get the user's profile, or the fields `fields` selects.
#[utoipa::path(get, path = "/me/v1/profile", tag = "profile", operation_id = "getProfile",
    params(
        ("fields" = Option<String>, Query, description = "Comma-separated profile fields"),
        ("include_fields" = Option<bool>, Query, description = "Whether `fields` are kept (true) or left out")
    ),
    responses((status = 200, body = ProfileResponse)), security(("bearer" = ["read:me:profile"])))]
pub async fn get_profile(auth: MeAuth, RawQuery(q): RawQuery) -> MeResult<Json<Value>> {
    let caller = auth.require("read:me:profile")?;
    let sel = selection(q.as_deref())?;
    let core = &auth.state().core;
    let user = core.get_profile(&caller.tenant, &caller.user).await?;
    let center = core.account_center(&caller.tenant).await?;
    let mut view = serde_json::to_value(ProfileResponse::new(&user, &center))
        .map_err(|e| accountd_core::Error::Internal(e.into()))?;
    if let Some(m) = view.as_object_mut() {
        m.retain(|k, _| sel.keeps(k));
    }
    Ok(Json(view))
}

/// Change the fields the user owns, all or nothing; answers with the whole profile.
#[utoipa::path(patch, path = "/me/v1/profile", tag = "profile", operation_id = "updateProfile",
    request_body = UpdateProfileRequest,
    responses((status = 200, body = ProfileResponse)), security(("bearer" = ["update:me:profile"])))]
pub async fn update_profile(auth: MeAuth, body: Result<MeJson, MeError>) -> MeResult<Response> {
    let caller = auth.require("update:me:profile")?;
    let MeJson(body) = body?;
    let core = &auth.state().core;
    let center = core.account_center(&caller.tenant).await?;
    let changes = UpdateProfileRequest::from_body(&body, &center)?;
    let user = core.update_profile(&caller, changes.into()).await?;
    Ok(Json(ProfileResponse::new(&user, &center)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selections() {
        let s = selection(Some("fields=email,%20name&include_fields=false")).unwrap();
        assert_eq!(s, Selection { fields: vec!["email".into(), "name".into()], include: false });
        assert!(!s.keeps("email") && s.keeps("user_id"));
        assert!(selection(None).unwrap().keeps("profile_policy"));
        assert!(selection(Some("fields=")).unwrap().keeps("email"));
        assert!(selection(Some("fields=nope")).is_err());
        assert!(selection(Some("include_fields=yes")).is_err());
        assert!(selection(Some("other=1")).is_err());
    }
}
