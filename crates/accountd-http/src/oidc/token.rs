//! `POST /oauth/token`: form-encoded or JSON bodies (Auth0's SDKs send JSON), client
//! authentication by `client_secret_post`, `client_secret_basic` or none (public clients).

use accountd_core::service::{CodeExchange, ExchangeError, GrantError, RefreshExchange};
use accountd_core::text::Chars;
use accountd_oauth::OAuthError;
use accountd_oauth::dpop::DpopError;
use accountd_oauth::grants;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;

use super::error::render;
use crate::AppState;
use crate::common::input::{BodyKind, EdgeError as _, RawBody, refused_in_body};
use crate::common::principal;
use crate::common::tenant::RequestTenant;

/// Auth0's Token Vault exchange: an accountd refresh or access token for the provider's access
/// token of the user's connected account.
pub const FEDERATED_GRANT: &str = "urn:auth0:params:oauth:grant-type:token-exchange:federated-connection-access-token";

/// The token type the Token Vault exchange issues.
pub const FEDERATED_TOKEN_TYPE: &str = "http://auth0.com/oauth/token-type/federated-connection-access-token";

/// The grant types `/oauth/token` accepts, as discovery lists them (RFC 8414 `grant_types_supported`).
pub const GRANT_TYPES: [&str; 5] = [
    "authorization_code",
    "refresh_token",
    "client_credentials",
    accountd_core::service::WEBAUTHN_GRANT,
    FEDERATED_GRANT,
];

/// The parameters the token endpoint reads; others (SDK telemetry) are ignored.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    audience: Option<String>,
    /// RFC 8707 name for the audience (Logto's SDKs).
    resource: Option<String>,
    scope: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    /// `/oauth/revoke`: the token to revoke.
    token: Option<String>,
    /// The webauthn grant: the ceremony from `/passkey/challenge` or `/passkey/register`.
    auth_session: Option<String>,
    /// The webauthn grant: the authenticator's answer, an object in JSON bodies or a JSON string
    /// in forms (auth-js sends the latter).
    #[schema(value_type = Option<Object>)]
    authn_response: Option<serde_json::Value>,
    /// Token Vault: the accountd token the exchange is made for.
    subject_token: Option<String>,
    /// Token Vault: `urn:ietf:params:oauth:token-type:refresh_token` (default) or `…:access_token`.
    subject_token_type: Option<String>,
    /// Token Vault: must be the federated connection access token type when given.
    requested_token_type: Option<String>,
    /// Token Vault: the connection's name.
    connection: Option<String>,
    /// Token Vault: the provider's id of the user, when given.
    login_hint: Option<String>,
}

/// The body of a token, revocation or introspection request: form or JSON by `Content-Type`,
/// screened for control characters.
pub fn parse(headers: &HeaderMap, body: &[u8]) -> Result<TokenRequest, OAuthError> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let ct = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let (req, kind) = match ct.as_str() {
        "application/json" => (
            serde_json::from_slice(body)
                .map_err(|_| OAuthError::invalid_request("The body is not a JSON object of string parameters."))?,
            BodyKind::Json,
        ),
        "application/x-www-form-urlencoded" => (
            serde_urlencoded::from_bytes(body)
                .map_err(|_| OAuthError::invalid_request("The body is not a valid form."))?,
            BodyKind::Form,
        ),
        _ => {
            return Err(OAuthError::invalid_request(
                "Use Content-Type application/x-www-form-urlencoded or application/json.",
            ));
        }
    };
    match refused_in_body(kind, body) {
        Some(r) => Err(OAuthError::refused(&r)),
        None => Ok(req),
    }
}

/// `(client_id, secret)` from HTTP Basic, if present (RFC 6749 §2.3.1: both parts form-encoded).
pub fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let Some((scheme, b64)) = value.split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let bad = || OAuthError::invalid_client("Malformed Basic authorization header.");
    let raw = base64::engine::general_purpose::STANDARD.decode(b64.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (id, secret) = text.split_once(':').ok_or_else(bad)?;
    // Each part is form-encoded on its own: `+` is a space, `%XX` a byte; `&` and `=` are
    // ordinary characters of the id or secret.
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .map(|v| v.into_owned())
            .map_err(|_| bad())
    };
    let (id, secret) = (decode(id)?, decode(secret)?);
    // The client id is looked up in the database, which refuses control characters.
    if !Chars::Identifier.allow_all(&id) || !Chars::Identifier.allow_all(&secret) {
        return Err(OAuthError::invalid_request("The Basic authorization header contains a control character."));
    }
    Ok(Some((id, secret)))
}

/// The token endpoint.
#[utoipa::path(post, path = "/oauth/token", tag = "oauth", operation_id = "token",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Tokens", body = super::openapi::TokenResponse),
        (status = "4XX", description = "RFC 6749 error", body = super::openapi::OAuthErrorBody),
        (status = 503, description = "Busy or the database is away; retry", body = super::openapi::OAuthErrorBody)
    ),
    security((), ("client_secret_basic" = [])))]
pub async fn token(
    State(state): State<AppState>,
    rt: RequestTenant,
    info: crate::common::client_info::ClientInfo,
    headers: HeaderMap,
    RawBody { bytes: body, .. }: RawBody<OAuthError>,
) -> Response {
    let mut r = match issue(&state, &rt, &headers, &body, info).await {
        Ok(resp) => {
            let mut r = axum::Json(resp).into_response();
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            r
        }
        Err(e) => render(e),
    };
    // Clients using DPoP (or asked for a nonce) get a fresh nonce with every answer.
    if (headers.contains_key("dpop") || state.config.dpop_require_nonce)
        && let Ok(v) = HeaderValue::from_str(&principal::fresh_nonce(&state, &rt))
    {
        r.headers_mut().insert("dpop-nonce", v);
    }
    r
}

async fn issue(
    state: &AppState,
    rt: &RequestTenant,
    headers: &HeaderMap,
    body: &[u8],
    info: crate::common::client_info::ClientInfo,
) -> Result<serde_json::Value, OAuthError> {
    let req = parse(headers, body)?;
    if req.grant_type.as_deref() == Some(FEDERATED_GRANT) {
        let answer = federated(state, rt, headers, &req, info).await;
        if answer.is_ok() {
            state.metrics.token_issued(FEDERATED_GRANT);
        }
        return answer;
    }
    let (client_id, secret) = match basic_credentials(headers)? {
        Some((id, secret)) => {
            if req.client_id.as_deref().is_some_and(|b| b != id) || req.client_secret.is_some() {
                return Err(OAuthError::invalid_request("Use one client authentication method."));
            }
            (id, Some(secret))
        }
        None => (
            req.client_id
                .clone()
                .ok_or_else(|| OAuthError::invalid_request("Missing required parameter: client_id"))?,
            req.client_secret.clone(),
        ),
    };
    let grant_type = req
        .grant_type
        .as_deref()
        .ok_or_else(|| OAuthError::invalid_request("Missing required parameter: grant_type"))?;
    let app = state.core.authenticate_client(&rt.tenant.id, &client_id, secret.as_deref()).await?;
    if !app.allows_grant(grant_type) && ["authorization_code", "refresh_token"].contains(&grant_type) {
        return Err(OAuthError::unauthorized_client(format!("Grant type '{grant_type}' not allowed for the client.")));
    }
    let (core, keys, tenant, origin) = (&state.core, &state.keys, &rt.tenant.id, &rt.origin);
    // A DPoP proof binds what is issued to the proof's key (RFC 9449 §5).
    let proof = dpop_proof(state, rt, headers).await?;
    let jkt = proof.as_ref().map(|p| p.jkt.as_str());
    let issuer = grants::Issuer { core, keys, tenant, origin, opaque: &state.opaque };
    let issued = match grant_type {
        "authorization_code" => {
            let code =
                req.code.as_deref().ok_or_else(|| OAuthError::invalid_request("Missing required parameter: code"))?;
            let grant = core
                .exchange_code(
                    tenant,
                    origin,
                    &app,
                    CodeExchange {
                        code,
                        redirect_uri: req.redirect_uri.as_deref(),
                        code_verifier: req.code_verifier.as_deref(),
                        dpop_jkt: jkt,
                    },
                )
                .await
                .map_err(exchange_error)?;
            grants::user_tokens(issuer, grant, "authorization_code", jkt).await
        }
        "refresh_token" => {
            let token = req
                .refresh_token
                .as_deref()
                .ok_or_else(|| OAuthError::invalid_request("Missing required parameter: refresh_token"))?;
            let audience = req.audience.as_deref().or(req.resource.as_deref());
            let grant = core
                .refresh(
                    tenant,
                    origin,
                    &app,
                    RefreshExchange { token, audience, scope: req.scope.as_deref(), dpop_jkt: jkt },
                )
                .await
                .map_err(exchange_error)?;
            grants::user_tokens(issuer, grant, "refresh_token", jkt).await
        }
        "client_credentials" => {
            let audience = req.audience.as_deref().or(req.resource.as_deref());
            grants::client_credentials(issuer, &app, audience, req.scope.as_deref(), jkt).await
        }
        accountd_core::service::WEBAUTHN_GRANT => {
            let session = req
                .auth_session
                .as_deref()
                .ok_or_else(|| OAuthError::invalid_request("Missing required parameter: auth_session"))?;
            let response = match req.authn_response.clone() {
                Some(serde_json::Value::String(s)) => serde_json::from_str(&s)
                    .map_err(|_| OAuthError::invalid_request("authn_response is not a JSON object."))?,
                Some(v @ serde_json::Value::Object(_)) => v,
                _ => return Err(OAuthError::invalid_request("Missing required parameter: authn_response")),
            };
            let ctx = accountd_core::audit::Context {
                actor: accountd_core::audit::Actor::System,
                ip: info.ip,
                user_agent: info.user_agent,
            };
            let audience = req.audience.as_deref().or(req.resource.as_deref());
            let rp = super::passkey::relying_party(rt);
            let grant = core
                .passkey_grant(&ctx, tenant, origin, &rp, &app, session, &response, req.scope.as_deref(), audience, jkt)
                .await
                .map_err(exchange_error)?;
            grants::user_tokens(issuer, grant, "webauthn", jkt).await
        }
        // Every grant handled above is in GRANT_TYPES, which discovery advertises.
        other => Err(OAuthError::unsupported_grant_type(format!("Unsupported grant type: {other}"))),
    };
    // Only the grant types above get here with tokens: the label set stays bounded.
    if issued.is_ok() {
        state.metrics.token_issued(grant_type);
    }
    issued.and_then(|t| serde_json::to_value(t).map_err(|_| OAuthError::server_error()))
}

/// The Token Vault exchange (Auth0's `federated-connection-access-token` grant): the subject
/// token names the user and the client; the client proves itself with its secret (the `auth0`
/// SDK sends no `client_id`); the answer is the provider's access token of the user's account at
/// `connection`, refreshed at the provider when it expired. A user without one gets 401.
async fn federated(
    state: &AppState,
    rt: &RequestTenant,
    headers: &HeaderMap,
    req: &TokenRequest,
    info: crate::common::client_info::ClientInfo,
) -> Result<serde_json::Value, OAuthError> {
    let missing = |p: &str| OAuthError::invalid_request(format!("Missing required parameter: {p}"));
    let subject = req.subject_token.as_deref().filter(|s| !s.is_empty()).ok_or_else(|| missing("subject_token"))?;
    let connection = req.connection.as_deref().filter(|s| !s.is_empty()).ok_or_else(|| missing("connection"))?;
    if req.requested_token_type.as_deref().is_some_and(|t| t != FEDERATED_TOKEN_TYPE) {
        return Err(OAuthError::invalid_request(format!("requested_token_type must be {FEDERATED_TOKEN_TYPE}")));
    }
    let tenant = &rt.tenant.id;
    let invalid_subject =
        || OAuthError { status: 400, error: "invalid_grant", description: "Invalid subject_token.".into() };
    // A DPoP-bound subject token is worth nothing without its key: the proof must come with it.
    let proof_jkt = dpop_proof(state, rt, headers).await?.map(|p| p.jkt);
    let (user, token_client, bound_to) = match req.subject_token_type.as_deref() {
        None | Some("urn:ietf:params:oauth:token-type:refresh_token") => {
            state.core.refresh_token_holder(tenant, subject).await?.ok_or_else(invalid_subject)?
        }
        Some("urn:ietf:params:oauth:token-type:access_token") => {
            let claims = if accountd_oauth::opaque::is_handle(subject) {
                match state.opaque.find(tenant, subject).await {
                    Ok(Some(t)) => accountd_oauth::opaque::claims(&t, &rt.origin.issuer()),
                    Ok(None) => return Err(invalid_subject()),
                    Err(e) => {
                        tracing::error!(error = %e, "opaque token lookup failed");
                        return Err(OAuthError::unavailable());
                    }
                }
            } else {
                accountd_oauth::access_token::inspect(&state.keys, tenant, subject, &rt.origin.issuer())
                    .await
                    .map_err(|_| invalid_subject())?
            };
            if claims.gty.is_some() || !principal::token_stands(state, tenant, &claims).await? {
                return Err(invalid_subject());
            }
            let bound = claims.cnf.as_ref().map(|c| c.jkt.clone());
            (accountd_core::user::UserId(claims.sub.clone()), claims.client_id.clone(), bound)
        }
        Some(_) => return Err(OAuthError::invalid_request("Unsupported subject_token_type.")),
    };
    if bound_to.is_some() && bound_to != proof_jkt {
        return Err(OAuthError {
            status: 400,
            error: "invalid_grant",
            description: "The subject_token is bound to a DPoP key: send its proof.".into(),
        });
    }
    // The client is the token's; any client_id given must be it, and its secret must match.
    let (given_id, secret) = match basic_credentials(headers)? {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (req.client_id.clone(), req.client_secret.clone()),
    };
    if given_id.as_deref().is_some_and(|id| id != token_client) {
        return Err(invalid_subject());
    }
    let Some(secret) = secret.filter(|s| !s.is_empty()) else {
        return Err(OAuthError::invalid_client("Client authentication (client_secret) is required."));
    };
    state.core.authenticate_client(tenant, &token_client, Some(&secret)).await?;
    let ctx = accountd_core::audit::Context {
        actor: accountd_core::audit::Actor::User(user.0.clone()),
        ip: info.ip,
        user_agent: info.user_agent,
    };
    let not_connected = || OAuthError {
        status: 401,
        error: "federated_connection_refresh_token_not_found",
        description: "Federated connection Refresh Token not found.".into(),
    };
    let tokens = match state.core.read_upstream_token(tenant, &user, &ctx, connection).await {
        Ok(t) => t,
        Err(accountd_core::Error::NotFound(_))
        | Err(accountd_core::Error::Refused(accountd_core::error::Refusal::UpstreamTokenExpired)) => {
            return Err(not_connected());
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(hint) = &req.login_hint {
        let holds = state
            .core
            .identity_subject(tenant, &user, connection)
            .await?
            .is_some_and(|s| accountd_core::secret::constant_time_eq(s.as_bytes(), hint.as_bytes()));
        if !holds {
            return Err(not_connected());
        }
    }
    let now = accountd_core::clock::now_millis();
    let mut answer = serde_json::json!({
        "access_token": tokens.access_token,
        "issued_token_type": FEDERATED_TOKEN_TYPE,
        "token_type": "Bearer",
    });
    if let Some(scope) = &tokens.scope {
        answer["scope"] = serde_json::json!(scope);
    }
    if let Some(at) = tokens.expires_at {
        answer["expires_in"] = serde_json::json!(((at - now) / 1000).max(0));
        answer["expires_at"] = serde_json::json!(at / 1000);
    }
    Ok(answer)
}

/// The request's DPoP proof for `POST /oauth/token`, if any, or the refusal RFC 9449 asks for.
async fn dpop_proof(
    state: &AppState,
    rt: &RequestTenant,
    headers: &HeaderMap,
) -> Result<Option<accountd_oauth::dpop::Proof>, OAuthError> {
    let url = format!("{}/oauth/token", rt.origin.base_url());
    match principal::check_dpop(state, rt, headers, "POST", &url, None).await {
        Ok(p) => Ok(p),
        Err(DpopError::UseNonce) => Err(OAuthError {
            status: 400,
            error: "use_dpop_nonce",
            description: "Authorization server requires nonce in DPoP proof".into(),
        }),
        Err(DpopError::Invalid(d)) => {
            Err(OAuthError { status: 400, error: "invalid_dpop_proof", description: d.into() })
        }
    }
}

fn exchange_error(e: ExchangeError) -> OAuthError {
    match e {
        ExchangeError::Grant(GrantError::InvalidGrant(d)) => {
            OAuthError { status: 400, error: "invalid_grant", description: d.to_string() }
        }
        ExchangeError::Grant(GrantError::AccessDenied(d)) => OAuthError::access_denied(d),
        ExchangeError::Grant(GrantError::InvalidRequest(d)) => OAuthError::invalid_request(d),
        ExchangeError::Grant(GrantError::ConsentRequired(_)) => OAuthError::access_denied("Consent required."),
        ExchangeError::Core(e) => e.into(),
    }
}

/// `POST /oauth/revoke` (RFC 7009): revokes a refresh token and every token rotated from the same
/// grant, or an opaque access token. Unknown tokens get 200 too. JWT access tokens stay valid until
/// they expire.
#[utoipa::path(post, path = "/oauth/revoke", tag = "oauth", operation_id = "revoke",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked, or not a token of this client"),
        (status = "4XX", description = "RFC 6749 error", body = super::openapi::OAuthErrorBody),
        (status = 503, description = "Busy or the database is away; retry", body = super::openapi::OAuthErrorBody)
    ),
    security((), ("client_secret_basic" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    rt: RequestTenant,
    headers: HeaderMap,
    RawBody { bytes: body, .. }: RawBody<OAuthError>,
) -> Response {
    let result = async {
        let req = parse(&headers, &body)?;
        let (client_id, secret) = match basic_credentials(&headers)? {
            Some((id, secret)) => (id, Some(secret)),
            None => (
                req.client_id
                    .clone()
                    .ok_or_else(|| OAuthError::invalid_request("Missing required parameter: client_id"))?,
                req.client_secret.clone(),
            ),
        };
        let token =
            req.token.as_deref().ok_or_else(|| OAuthError::invalid_request("Missing required parameter: token"))?;
        let app = state.core.authenticate_client(&rt.tenant.id, &client_id, secret.as_deref()).await?;
        // Handles of both kinds look alike; each store knows only its own.
        if !state.opaque.revoke(&rt.tenant.id, &app.client_id, token).await? {
            state.core.revoke_refresh_token(&rt.tenant.id, &app, token).await?;
        }
        Ok::<_, OAuthError>(())
    }
    .await;
    match result {
        Ok(()) => axum::http::StatusCode::OK.into_response(),
        Err(e) => render(e),
    }
}

/// `POST /oauth/introspect` (RFC 7662), for confidential clients: `{"active": false}` for anything
/// not currently valid; for access tokens their claims, for refresh tokens (the caller's own) their
/// scope and subject.
#[utoipa::path(post, path = "/oauth/introspect", tag = "oauth", operation_id = "introspect",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "RFC 7662 introspection", body = super::openapi::Introspection),
        (status = "4XX", description = "RFC 6749 error", body = super::openapi::OAuthErrorBody),
        (status = 503, description = "Busy or the database is away; retry", body = super::openapi::OAuthErrorBody)
    ),
    security(("client_secret_basic" = [])))]
pub async fn introspect(
    State(state): State<AppState>,
    rt: RequestTenant,
    headers: HeaderMap,
    RawBody { bytes: body, .. }: RawBody<OAuthError>,
) -> Response {
    let result = async {
        let req = parse(&headers, &body)?;
        let (client_id, secret) = match basic_credentials(&headers)? {
            Some((id, secret)) => (id, Some(secret)),
            None => (
                req.client_id.clone().ok_or_else(|| OAuthError::invalid_client("Client authentication failed."))?,
                req.client_secret.clone(),
            ),
        };
        if secret.is_none() {
            return Err(OAuthError::invalid_client("Introspection is for confidential clients."));
        }
        let app = state.core.authenticate_client(&rt.tenant.id, &client_id, secret.as_deref()).await?;
        let token =
            req.token.as_deref().ok_or_else(|| OAuthError::invalid_request("Missing required parameter: token"))?;
        // A user's token is inactive once the user is deleted or blocked, or its session or token
        // family revoked.
        let user_gone = |c: &accountd_oauth::access_token::AccessTokenClaims| {
            let (state, tenant, c) = (&state, &rt.tenant.id, c.clone());
            async move {
                c.gty.as_deref() != Some("client-credentials")
                    && !crate::common::principal::token_stands(state, tenant, &c).await.unwrap_or(false)
            }
        };
        if let Ok(c) =
            accountd_oauth::access_token::inspect(&state.keys, &rt.tenant.id, token, &rt.origin.issuer()).await
        {
            if user_gone(&c).await {
                return Ok(serde_json::json!({ "active": false }));
            }
            let mut v = serde_json::to_value(&c).unwrap_or_default();
            v["active"] = serde_json::json!(true);
            v["token_type"] = serde_json::json!(if c.cnf.is_some() { "DPoP" } else { "Bearer" });
            return Ok(v);
        }
        if let Some(t) = state.opaque.find(&rt.tenant.id, token).await? {
            let c = accountd_oauth::opaque::claims(&t, &rt.origin.issuer());
            if user_gone(&c).await {
                return Ok(serde_json::json!({ "active": false }));
            }
            let mut v = serde_json::to_value(&c).unwrap_or_default();
            v["active"] = serde_json::json!(true);
            v["token_type"] = serde_json::json!(if c.cnf.is_some() { "DPoP" } else { "Bearer" });
            return Ok(v);
        }
        match state.core.live_refresh_token(&rt.tenant.id, &app, token).await? {
            Some(r) => Ok(serde_json::json!({
                "active": true, "token_type": "refresh_token", "scope": r.scope, "client_id": r.client_id,
                "sub": r.user_id, "exp": r.expires_at / 1000, "iat": r.created_at / 1000, "iss": rt.origin.issuer(),
            })),
            None => Ok(serde_json::json!({"active": false})),
        }
    }
    .await;
    match result {
        Ok(v) => {
            let mut r = axum::Json(v).into_response();
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => render(e),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};
    use base64::Engine;

    fn basic(raw: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let v = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw));
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(&v).unwrap());
        h
    }

    #[test]
    fn basic_credentials_decode_each_part_as_a_whole() {
        let got = |raw: &str| super::basic_credentials(&basic(raw)).map(|c| c.unwrap());
        assert_eq!(got("app:s%3Acret+x").unwrap(), ("app".into(), "s:cret x".into()));
        // `&` and `=` belong to the value: `x&y=z` is not `z`.
        assert_eq!(got("x&y=z:a=b&c").unwrap(), ("x&y=z".into(), "a=b&c".into()));
        assert!(got("app:%ZZ%ff").is_err(), "bytes that are not UTF-8 are refused");
        assert!(got("no-colon").is_err());
    }
}
