//! `/me/v1/profile` (Auth0's beta, spec §1.6): the signed-in user's profile with its per-field
//! policy, and changes to the fields the user owns. Fields without a value are left out, as
//! Auth0 does; the SDKs decode every field as optional.

use accountd_core::account_center::{AccountCenter, Field};
use accountd_core::clock::to_rfc3339;
use accountd_core::service::{FieldAccess, FieldPolicy, FieldSource, PROFILE_POLICY, ProfileChanges, is_picture_url};
use accountd_core::user::User;
use axum::Json;
use axum::extract::RawQuery;
use serde_json::{Map, Value, json};

use super::error::{MeError, ValidationError};
use super::extract::{MeAuth, MeJson};
use super::wire::Checker;

/// Every key of the profile object, in its order.
const PROFILE_KEYS: [&str; 15] = [
    "user_id",
    "given_name",
    "family_name",
    "name",
    "nickname",
    "picture",
    "email",
    "email_verified",
    "phone_number",
    "phone_verified",
    "username",
    "created_at",
    "updated_at",
    "user_metadata",
    "profile_policy",
];

/// The keys a `PATCH` may carry.
const WRITABLE: [&str; 6] = ["given_name", "family_name", "name", "nickname", "picture", "user_metadata"];

/// Why the account center makes a user field read-only (accountd's reason; Auth0 has none).
const ACCOUNT_CENTER_REASON: &str = "managed_via_account_center";

/// The account-center field that governs a user-owned profile key.
fn center_field(key: &str) -> Option<Field> {
    match key {
        "given_name" | "family_name" | "nickname" => Some(Field::Profile),
        "name" => Some(Field::Name),
        "picture" => Some(Field::Avatar),
        "user_metadata" => Some(Field::CustomData),
        _ => None,
    }
}

/// Whether the user may change the profile key `key`: its fixed policy, then the account center.
fn writable(center: &AccountCenter, p: &FieldPolicy) -> bool {
    p.access == FieldAccess::ReadWrite && center_field(p.field).is_none_or(|f| center.profile_editable(f))
}

/// `profile_policy`: each field's JSON Pointer to `{label, access, source, reason?}`, the user's
/// fields projected from the tenant's account center.
fn policy_view(center: &AccountCenter) -> Value {
    let mut m = Map::new();
    for p in &PROFILE_POLICY {
        let (access, source, reason) = if p.access == FieldAccess::ReadWrite && !writable(center, p) {
            (FieldAccess::ReadOnly, FieldSource::System, Some(ACCOUNT_CENTER_REASON))
        } else {
            (p.access, p.source, p.reason)
        };
        let mut entry = json!({ "label": p.label, "access": access.as_str(), "source": source.as_str() });
        if let Some(reason) = reason {
            entry["reason"] = json!(reason);
        }
        m.insert(format!("/{}", p.field), entry);
    }
    Value::Object(m)
}

/// The whole profile object of `u`, its policy following `center`.
pub fn profile_view(u: &User, center: &AccountCenter) -> Map<String, Value> {
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    };
    let text = |s: &Option<String>| s.as_ref().map(|s| json!(s));
    put("user_id", Some(json!(u.id.0)));
    put("given_name", text(&u.given_name));
    put("family_name", text(&u.family_name));
    put("name", text(&u.name));
    put("nickname", text(&u.nickname));
    put("picture", text(&u.picture));
    put("email", text(&u.email));
    put("email_verified", Some(json!(u.email_verified)));
    put("phone_number", text(&u.phone_number));
    put("phone_verified", u.phone_number.as_ref().map(|_| json!(u.phone_verified)));
    put("username", text(&u.username));
    put("created_at", Some(json!(to_rfc3339(u.created_at))));
    put("updated_at", Some(json!(to_rfc3339(u.updated_at))));
    let metadata = if u.user_metadata.is_object() { u.user_metadata.clone() } else { json!({}) };
    put("user_metadata", Some(metadata));
    put("profile_policy", Some(policy_view(center)));
    m
}

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
fn selection(query: Option<&str>) -> Result<Selection, MeError> {
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

/// A `PATCH` body: read-only fields are refused with `read_only_field` (each with its reason as
/// `source`, in the profile's field order), anything else that is not a writable field as an
/// additional property.
fn changes(body: &Map<String, Value>, center: &AccountCenter) -> Result<ProfileChanges, MeError> {
    let read_only: Vec<ValidationError> = PROFILE_POLICY
        .iter()
        .filter(|p| !writable(center, p) && body.contains_key(p.field))
        .map(|p| {
            let by_center = p.access == FieldAccess::ReadWrite;
            ValidationError {
                detail: if by_center {
                    "Field is read-only in the tenant's account settings.".to_string()
                } else {
                    p.explanation().to_string()
                },
                field: None,
                pointer: Some(format!("/{}", p.field)),
                source: if by_center { Some(ACCOUNT_CENTER_REASON.into()) } else { p.reason.map(str::to_string) },
            }
        })
        .collect();
    if !read_only.is_empty() {
        return Err(MeError::read_only(read_only));
    }
    let mut c = Checker::new(body, "");
    c.only(&WRITABLE);
    let given_name = c.string("given_name", false, 1, 150);
    let family_name = c.string("family_name", false, 1, 150);
    let name = c.string("name", false, 1, 300);
    let nickname = c.string("nickname", false, 1, 300);
    let picture = c.string("picture", false, 1, 2048);
    if picture.as_deref().is_some_and(|p| !is_picture_url(p)) {
        c.errors.push(ValidationError::at("/picture", "data/picture must match format \"uri\""));
    }
    let user_metadata = c.object("user_metadata", false).cloned();
    c.finish().map_err(MeError::validation)?;
    Ok(ProfileChanges { given_name, family_name, name, nickname, picture, user_metadata })
}

/// `GET /me/v1/profile[?fields=…&include_fields=…]`.
pub async fn get(auth: MeAuth, RawQuery(q): RawQuery) -> Result<Json<Value>, MeError> {
    let caller = auth.require("read:me:profile")?;
    let sel = selection(q.as_deref())?;
    let core = &auth.state().core;
    let user = core.get_profile(&caller.tenant, &caller.user).await.map_err(|e| auth.err(e))?;
    let center = core.account_center(&caller.tenant).await.map_err(|e| auth.err(e))?;
    let mut view = profile_view(&user, &center);
    view.retain(|k, _| sel.keeps(k));
    Ok(Json(Value::Object(view)))
}

/// `PATCH /me/v1/profile`: all or nothing; answers with the whole profile.
pub async fn update(auth: MeAuth, body: Result<MeJson, MeError>) -> Result<Json<Value>, MeError> {
    let caller = auth.require("update:me:profile")?;
    let MeJson(body) = body?;
    let core = &auth.state().core;
    let center = core.account_center(&caller.tenant).await.map_err(|e| auth.err(e))?;
    let changes = changes(&body, &center)?;
    let user = core.update_profile(&caller, changes).await.map_err(|e| auth.err(e))?;
    Ok(Json(Value::Object(profile_view(&user, &center))))
}

#[cfg(test)]
mod tests {
    use accountd_core::service::field_policy;

    use super::*;

    #[test]
    fn every_profile_field_but_the_policy_has_a_policy() {
        let with_policy: Vec<_> = PROFILE_POLICY.iter().map(|p| p.field).collect();
        assert_eq!(with_policy, PROFILE_KEYS[..14]);
        assert!(WRITABLE.iter().all(|w| field_policy(w).is_some_and(|p| p.access == FieldAccess::ReadWrite)));
    }

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
