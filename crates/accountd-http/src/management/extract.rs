//! Extractors for the management API: the caller's token, JSON bodies and list queries, each
//! rejecting bad input in Auth0's error shape.

use accountd_core::audit::{Actor, Context};
use accountd_oauth::access_token::AccessTokenClaims;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::MgmtError;
use crate::AppState;
use crate::common::client_info::ClientInfo;
use crate::common::input::{self, EdgeError as _};
use crate::common::tenant::RequestTenant;

/// A caller holding a valid Management API access token for this tenant and host.
pub struct ManagementAuth {
    claims: AccessTokenClaims,
    info: ClientInfo,
}

impl ManagementAuth {
    /// Checks the token carries `scope` and returns the audit context of the caller.
    pub fn require(&self, scope: &str) -> Result<Context, MgmtError> {
        if !self.claims.has_scope(scope) {
            return Err(accountd_core::Error::MissingScope(scope.into()).into());
        }
        Ok(self.info.context(Actor::Client(self.claims.client_id.clone())))
    }
}

impl FromRequestParts<AppState> for ManagementAuth {
    type Rejection = MgmtError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let rt = RequestTenant::from_request_parts(parts, state)
            .await
            .map_err(|_| MgmtError::unauthorized("Missing authentication"))?;
        let claims = crate::common::principal::authenticate(
            state,
            &rt,
            &parts.headers,
            parts.method.as_str(),
            parts.uri.path(),
            &rt.origin.management_audience(),
        )
        .await
        .map_err(|e| match e.error {
            // Auth0's Management API says this when there is no token at all.
            None => MgmtError::unauthorized("Missing authentication"),
            Some(_) => MgmtError::from_auth(e),
        })?;
        let info = ClientInfo::from_request_parts(parts, state).await.unwrap_or_default();
        Ok(ManagementAuth { claims, info })
    }
}

/// A JSON body, validated against `T` (which denies unknown fields); errors name the property.
pub struct MgmtJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for MgmtJson<T> {
    type Rejection = MgmtError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(MgmtError::invalid_body("Invalid request payload: the body must be JSON (application/json)."));
        }
        let bytes = input::read_body::<MgmtError>(req, state).await?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(de).map_err(|e| MgmtError::invalid_body(describe(&e)))?;
        match input::refused_in_body(input::BodyKind::Json, &bytes) {
            Some(r) => Err(MgmtError::refused(&r)),
            None => Ok(MgmtJson(value)),
        }
    }
}

/// Auth0-style description of a body that does not fit the schema.
fn describe(e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = e.path().to_string();
    let inner = e.inner().to_string();
    let inner = inner.split(" at line ").next().unwrap_or(&inner);
    if let Some(rest) = inner.strip_prefix("unknown field `") {
        let field = rest.split('`').next().unwrap_or(rest);
        return format!("Payload validation error: 'Additional properties not allowed: {field}'.");
    }
    if let Some(rest) = inner.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or(rest);
        return format!("Payload validation error: 'Missing required property: {field}'.");
    }
    if e.inner().is_syntax() || e.inner().is_eof() {
        return "Invalid request payload JSON format.".into();
    }
    if let Some(rest) = inner.strip_prefix("invalid type: ") {
        // serde: "invalid type: integer `5`, expected a string" → Auth0's wording.
        let found = json_type(rest.split([' ', ',']).next().unwrap_or(""));
        let expected =
            json_type(rest.rsplit("expected ").next().unwrap_or("").trim_start_matches("a ").trim_start_matches("an "));
        return format!(
            "Payload validation error: 'Expected type {expected} but found type {found}' on property {path}."
        );
    }
    if path == "." {
        format!("Payload validation error: '{inner}'.")
    } else {
        format!("Payload validation error: '{inner}' on property {path}.")
    }
}

/// JSON Schema's name for what serde calls a type.
fn json_type(serde: &str) -> &'static str {
    match serde.split_whitespace().next().unwrap_or("") {
        "string" | "str" | "char" => "string",
        "boolean" | "bool" => "boolean",
        "integer" | "u8" | "u16" | "u32" | "u64" | "i8" | "i16" | "i32" | "i64" => "integer",
        "floating" | "f32" | "f64" => "number",
        "sequence" | "seq" => "array",
        "map" | "struct" => "object",
        "unit" | "null" => "null",
        _ => "value",
    }
}

/// Paging of list endpoints, as Auth0: `page` from 0, `per_page` up to 100, `include_totals`.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Page index, from 0.
    pub page: Option<u32>,
    /// Items per page (default 50, at most 100).
    pub per_page: Option<u32>,
    /// Wrap the list in `{start, limit, length, total, <items>}`.
    pub include_totals: Option<bool>,
}

impl ListParams {
    /// The store page, after checking the bounds.
    pub fn page(&self) -> Result<accountd_core::store::Page, MgmtError> {
        let per_page = self.per_page.unwrap_or(50);
        if !(1..=100).contains(&per_page) {
            return Err(MgmtError::invalid_query(
                "Query validation error: 'Invalid value' on property per_page (must be between 1 and 100).",
            ));
        }
        Ok(accountd_core::store::Page::new(self.page.unwrap_or(0), per_page))
    }

    /// Renders a list: a bare array, or wrapped with totals under `key`.
    pub fn render<T: serde::Serialize>(&self, key: &str, items: Vec<T>, total: u64) -> axum::Json<serde_json::Value> {
        let items = serde_json::to_value(items).unwrap_or_default();
        if self.include_totals.unwrap_or(false) {
            let per_page = self.per_page.unwrap_or(50);
            let length = items.as_array().map(|a| a.len()).unwrap_or(0);
            let mut v = serde_json::json!({
                "start": self.page.unwrap_or(0) * per_page,
                "limit": per_page,
                "length": length,
                "total": total,
            });
            v[key] = items;
            axum::Json(v)
        } else {
            axum::Json(items)
        }
    }
}

/// A query string, rejected in Auth0's shape when it does not fit `T`.
pub struct MgmtQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for MgmtQuery<T> {
    type Rejection = MgmtError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        serde_urlencoded_from(q).map(MgmtQuery)
    }
}

fn serde_urlencoded_from<T: DeserializeOwned>(q: &str) -> Result<T, MgmtError> {
    axum::extract::Query::<T>::try_from_uri(
        &format!("/?{q}").parse().map_err(|_| MgmtError::invalid_query("Invalid query string."))?,
    )
    .map(|axum::extract::Query(v)| v)
    .map_err(|e| MgmtError::invalid_query(format!("Query validation error: {}.", e.body_text())))
}
