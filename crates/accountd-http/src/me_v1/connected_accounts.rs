//! `/me/v1/connected-accounts` (spec auth0 §1.5): connecting an account at an upstream connection
//! (a ticket for accountd's connect page, then a one-time `connect_code` completed with PKCE),
//! listing and removing connected accounts, and the connections that allow them. The accounts
//! are the identities Logto's `/api/my-account/identities` shows, and their kept tokens the ones
//! the Token Vault exchange at `/oauth/token` hands out.

use axum::Json;
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;

use super::error::{MeError, MeResult, ValidationError};
use super::extract::{MeAuth, MeJson};
use super::wire::{
    CompleteRequest, ConnectParams, ConnectRequest, ConnectResponse, ConnectedAccountListResponse,
    ConnectedAccountResponse, ConnectionListResponse, ConnectionResponse,
};

/// Start connecting an account: a ticket for accountd's connect page.
#[utoipa::path(post, path = "/me/v1/connected-accounts/connect", tag = "connected-accounts",
    operation_id = "createConnectedAccountRequest", request_body = ConnectRequest,
    responses((status = 201, body = ConnectResponse)), security(("bearer" = ["create:me:connected_accounts"])))]
pub async fn create_connected_account_request(
    auth: MeAuth,
    MeJson(body): MeJson,
) -> MeResult<(StatusCode, Json<ConnectResponse>)> {
    let caller = auth.require("create:me:connected_accounts")?;
    let request = ConnectRequest::from_body(&body)?;
    let started = auth.state().core.start_connect(&caller, request.into()).await?;
    Ok((
        StatusCode::CREATED,
        Json(ConnectResponse {
            connect_uri: format!("{}connected-accounts/connect", caller.base_url),
            auth_session: started.auth_session,
            connect_params: ConnectParams { ticket: started.ticket },
            expires_in: started.expires_in,
        }),
    ))
}

/// Complete connecting an account with the one-time code and the PKCE verifier.
#[utoipa::path(post, path = "/me/v1/connected-accounts/complete", tag = "connected-accounts",
    operation_id = "completeConnectedAccountRequest", request_body = CompleteRequest,
    responses((status = 201, body = ConnectedAccountResponse)), security(("bearer" = ["create:me:connected_accounts"])))]
pub async fn complete_connected_account_request(
    auth: MeAuth,
    MeJson(body): MeJson,
) -> MeResult<(StatusCode, Json<ConnectedAccountResponse>)> {
    let caller = auth.require("create:me:connected_accounts")?;
    let r = CompleteRequest::from_body(&body)?;
    let identity = auth
        .state()
        .core
        .complete_connect(&caller, &r.auth_session, &r.connect_code, &r.redirect_uri, r.code_verifier.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(ConnectedAccountResponse::from(&identity))))
}

/// `from` and `take` (1 to 20, default 10), and any `connection` filters, of a list's query.
pub(super) struct ListQuery {
    pub(super) connections: Vec<String>,
    pub(super) from: Option<String>,
    pub(super) take: usize,
}

pub(super) fn list_query(raw: Option<&str>, with_connection: bool) -> Result<ListQuery, MeError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or(""))
        .map_err(|_| MeError::validation(vec![ValidationError::at("", "querystring is malformed")]))?;
    let mut q = ListQuery { connections: vec![], from: None, take: 10 };
    let mut errors = vec![];
    for (k, v) in pairs {
        match k.as_str() {
            "connection" if with_connection && (1..=128).contains(&v.chars().count()) => q.connections.push(v),
            "connection" if with_connection => errors.push(ValidationError::at(
                "/connection",
                "querystring/connection must NOT have fewer than 1 or more than 128 characters",
            )),
            "from" if !v.is_empty() && v.len() <= 128 => q.from = Some(v),
            "take" => match v.parse::<usize>() {
                Ok(n) if (1..=20).contains(&n) => q.take = n,
                _ => errors.push(ValidationError::at("/take", "querystring/take must be an integer from 1 to 20")),
            },
            other => errors.push(ValidationError::at(
                &format!("/{other}"),
                "querystring must NOT have additional properties".to_string(),
            )),
        }
    }
    if q.connections.len() > 20 {
        errors.push(ValidationError::at("/connection", "querystring/connection must NOT have more than 20 items"));
    }
    if errors.is_empty() { Ok(q) } else { Err(MeError::validation(errors)) }
}

/// List the user's connected accounts.
#[utoipa::path(get, path = "/me/v1/connected-accounts/accounts", tag = "connected-accounts",
    operation_id = "getConnectedAccounts",
    params(("connection" = Option<Vec<String>>, Query, explode, description = "Only accounts of these connections"),
        ("from" = Option<String>, Query, description = "Cursor"),
        ("take" = Option<u32>, Query, description = "Page size, 1 to 20")),
    responses((status = 200, body = ConnectedAccountListResponse)), security(("bearer" = ["read:me:connected_accounts"])))]
pub async fn get_connected_accounts(
    auth: MeAuth,
    RawQuery(query): RawQuery,
) -> MeResult<Json<ConnectedAccountListResponse>> {
    let caller = auth.require("read:me:connected_accounts")?;
    let q = list_query(query.as_deref(), true)?;
    let page = auth.state().core.list_connected_accounts(&caller, &q.connections, q.from.as_deref(), q.take).await?;
    Ok(Json(ConnectedAccountListResponse {
        accounts: page.accounts.iter().map(ConnectedAccountResponse::from).collect(),
        next: page.next,
    }))
}

/// List the connections the user can connect an account at.
#[utoipa::path(get, path = "/me/v1/connected-accounts/connections", tag = "connected-accounts",
    operation_id = "getConnectedAccountsConnections",
    params(("from" = Option<String>, Query, description = "Cursor"),
        ("take" = Option<u32>, Query, description = "Page size, 1 to 20")),
    responses((status = 200, body = ConnectionListResponse)), security(("bearer" = ["read:me:connected_accounts"])))]
pub async fn get_connected_accounts_connections(
    auth: MeAuth,
    RawQuery(query): RawQuery,
) -> MeResult<Json<ConnectionListResponse>> {
    let caller = auth.require("read:me:connected_accounts")?;
    let q = list_query(query.as_deref(), false)?;
    let all: Vec<_> = auth.state().core.connected_account_connections(&caller.tenant).await?;
    let start = q.from.as_deref().and_then(|f| all.iter().position(|c| c.name == f).map(|p| p + 1)).unwrap_or(0);
    let rest = &all[start.min(all.len())..];
    let page = &rest[..q.take.min(rest.len())];
    let next = if rest.len() > q.take { page.last().map(|c| c.name.clone()) } else { None };
    Ok(Json(ConnectionListResponse {
        connections: page
            .iter()
            .map(|c| ConnectionResponse {
                name: c.name.clone(),
                strategy: c.strategy.as_str(),
                scopes: c.scopes.clone(),
            })
            .collect(),
        next,
    }))
}

/// Remove a connected account and the tokens kept for it.
#[utoipa::path(delete, path = "/me/v1/connected-accounts/accounts/{id}", tag = "connected-accounts",
    operation_id = "deleteConnectedAccount", params(("id" = String, Path, description = "`cac_…`")),
    responses((status = 204, description = "Removed")), security(("bearer" = ["delete:me:connected_accounts"])))]
pub async fn delete_connected_account(auth: MeAuth, Path(id): Path<String>) -> MeResult<StatusCode> {
    let caller = auth.require("delete:me:connected_accounts")?;
    let well_formed =
        id.strip_prefix("cac_").is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_alphanumeric()));
    if !well_formed {
        return Err(MeError::validation(vec![ValidationError::at(
            "/id",
            "params/id must match pattern \"^cac_[A-Za-z0-9]+$\"",
        )]));
    }
    auth.state().core.delete_connected_account(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
