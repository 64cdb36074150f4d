//! `GET /authorize` and the hosted sign-in form (`POST /u/login`).
//!
//! While the user signs in, the validated authorization request travels in the form itself,
//! sealed under the master key (so any node can continue it) together with the hash of a random
//! value held in an HttpOnly cookie: a form posted from another site, or for another browser, is
//! refused (CSRF and login-CSRF protection).

use accountd_core::authorization::{
    AuthorizationRequest, AuthorizeError, AuthorizeParams, Prompt, ResponseMode, validate,
};
use accountd_core::origin::Scheme;
use accountd_core::secret::{Zeroizing, constant_time_eq, hash_high_entropy_secret, random_token};
use accountd_core::service::{ExchangeError, GrantError};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::pages::{self, PageForm, PageFormRejection};
use crate::AppState;
use crate::common::client_info::ClientInfo;
use crate::common::cookies;
use crate::common::tenant::RequestTenant;

/// The session cookie (single sign-on across the tenant's applications).
pub const SESSION_COOKIE: &str = "accountd_session";
/// The cookie binding a sign-in form to this browser.
pub(super) const LOGIN_COOKIE: &str = "accountd_login";
/// How long a sign-in form stays valid.
pub(super) const FLOW_TTL_SECS: i64 = 15 * 60;

/// What the sealed `flow` field carries.
#[derive(Serialize, Deserialize)]
pub(super) struct LoginFlow {
    pub(super) req: AuthorizationRequest,
    pub(super) binding_hash: String,
    pub(super) exp: i64,
}

pub(super) fn flow_context(rt: &RequestTenant) -> String {
    format!("login_flow:{}", rt.tenant.id)
}

pub(super) fn now_secs() -> i64 {
    accountd_core::clock::now_millis() / 1000
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    format!("{scheme}://{authority}")
}

/// Sends an authorization response (success or error) the way the request asked.
fn respond(redirect_uri: &str, mode: ResponseMode, params: Vec<(&str, String)>) -> Response {
    match mode {
        ResponseMode::Query | ResponseMode::Fragment => {
            let sep = match mode {
                ResponseMode::Fragment => '#',
                _ if redirect_uri.contains('?') => '&',
                _ => '?',
            };
            let query = serde_urlencoded::to_string(&params).unwrap_or_default();
            let location = format!("{redirect_uri}{sep}{query}");
            let mut r = StatusCode::FOUND.into_response();
            if let Ok(v) = HeaderValue::from_str(&location) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        ResponseMode::FormPost => pages::form_post(redirect_uri, &params),
        ResponseMode::WebMessage => {
            let obj: serde_json::Map<String, serde_json::Value> =
                params.into_iter().map(|(k, v)| (k.to_string(), serde_json::Value::String(v))).collect();
            pages::web_message(&origin_of(redirect_uri), &serde_json::Value::Object(obj))
        }
    }
}

fn error_response(redirect_uri: &str, mode: ResponseMode, state: &Option<String>, error: &str, d: &str) -> Response {
    let mut params = vec![("error", error.to_string()), ("error_description", d.to_string())];
    if let Some(s) = state {
        params.push(("state", s.clone()));
    }
    respond(redirect_uri, mode, params)
}

fn authorize_error(e: AuthorizeError) -> Response {
    match e {
        AuthorizeError::Page { error, description } => pages::error(StatusCode::BAD_REQUEST, error, &description),
        AuthorizeError::Redirect { redirect_uri, response_mode, state, error, description } => {
            error_response(&redirect_uri, response_mode, &state, error, &description)
        }
    }
}

/// What the sealed `flow` field of the consent form carries.
#[derive(Serialize, Deserialize)]
struct ConsentFlow {
    req: AuthorizationRequest,
    session_id: String,
    binding_hash: String,
    exp: i64,
}

fn scope_description(scope: &str, api: Option<&accountd_core::api_resource::ApiResource>) -> String {
    match scope {
        "openid" => "Sign you in".into(),
        "profile" => "Read your name and profile picture".into(),
        "email" => "Read your email address".into(),
        "phone" => "Read your phone number".into(),
        "offline_access" => "Stay signed in (refresh tokens)".into(),
        other => api
            .and_then(|a| a.scopes.iter().find(|s| s.value == other))
            .map(|s| if s.description.is_empty() { s.value.clone() } else { s.description.clone() })
            .unwrap_or_else(|| other.to_string()),
    }
}

fn consent_context(rt: &RequestTenant) -> String {
    format!("consent_flow:{}", rt.tenant.id)
}

/// The consent page for `scopes`, with a fresh browser binding.
async fn consent_page(
    state: &AppState,
    rt: &RequestTenant,
    req: &AuthorizationRequest,
    session: &accountd_core::session::Session,
    scopes: &[String],
) -> Response {
    let binding = random_token::<24>();
    let flow = ConsentFlow {
        req: req.clone(),
        session_id: session.id.clone(),
        binding_hash: hash_high_entropy_secret(&binding),
        exp: now_secs() + FLOW_TTL_SECS,
    };
    let sealed = serde_json::to_vec(&flow)
        .map_err(|e| accountd_core::Error::Internal(e.into()))
        .and_then(|json| state.core.master_key().seal(&consent_context(rt), &json));
    let Ok(sealed) = sealed else {
        return pages::error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "Try again later.");
    };
    let api = match &req.audience {
        Some(a) => state.core.api_for_audience(&rt.tenant.id, &rt.origin, a).await.ok().flatten(),
        None => None,
    };
    let name = state.core.get_application(&rt.tenant.id, &req.client_id).await.map(|c| c.name).unwrap_or_default();
    let listed: Vec<(String, String)> =
        scopes.iter().map(|s| (s.clone(), scope_description(s, api.as_ref()))).collect();
    let mut r = pages::consent(&name, &sealed, &listed, &req.redirect_uri);
    let secure = rt.origin.scheme() == Scheme::Https;
    r.headers_mut().append(header::SET_COOKIE, cookies::set(LOGIN_COOKIE, &binding, "/u/", FLOW_TTL_SECS, secure));
    r
}

/// Issues a code for the session and sends it to the client (or asks for consent first).
async fn complete(
    state: &AppState,
    rt: &RequestTenant,
    req: &AuthorizationRequest,
    session: &accountd_core::session::Session,
    consent_given: bool,
) -> Response {
    match state.core.issue_code(&rt.tenant.id, &rt.origin, req, session, consent_given).await {
        Ok(code) => {
            let mut params = vec![("code", code)];
            if let Some(s) = &req.state {
                params.push(("state", s.clone()));
            }
            respond(&req.redirect_uri, req.response_mode, params)
        }
        Err(ExchangeError::Grant(GrantError::AccessDenied(d))) => {
            error_response(&req.redirect_uri, req.response_mode, &req.state, "access_denied", &d)
        }
        Err(ExchangeError::Grant(GrantError::ConsentRequired(scopes))) => {
            if req.prompt == Some(Prompt::None) {
                return error_response(
                    &req.redirect_uri,
                    req.response_mode,
                    &req.state,
                    "consent_required",
                    "Consent required",
                );
            }
            consent_page(state, rt, req, session, &scopes).await
        }
        Err(ExchangeError::Grant(_)) => {
            error_response(&req.redirect_uri, req.response_mode, &req.state, "invalid_request", "Invalid request.")
        }
        Err(ExchangeError::Core(e)) => {
            tracing::error!(error = %e, "issuing an authorization code failed");
            error_response(&req.redirect_uri, req.response_mode, &req.state, "server_error", "Try again later.")
        }
    }
}

/// The sign-in page for `req`, with a fresh browser binding.
async fn sign_in_page(
    state: &AppState,
    rt: &RequestTenant,
    req: AuthorizationRequest,
    app_name: &str,
    signup: bool,
) -> Response {
    let binding = random_token::<24>();
    let identifier = req.login_hint.clone().unwrap_or_default();
    let flow_redirect = req.redirect_uri.clone();
    let flow = LoginFlow { req, binding_hash: hash_high_entropy_secret(&binding), exp: now_secs() + FLOW_TTL_SECS };
    let sealed = serde_json::to_vec(&flow)
        .map_err(|e| accountd_core::Error::Internal(e.into()))
        .and_then(|json| state.core.master_key().seal(&flow_context(rt), &json));
    let Ok(sealed) = sealed else {
        return pages::error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "Try again later.");
    };
    let upstreams: Vec<(String, String)> = state
        .core
        .list_connections(&rt.tenant.id)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.sign_in)
        .map(|c| (c.name.clone(), c.display_name.unwrap_or(c.name)))
        .collect();
    let mut r = pages::sign_in(app_name, &sealed, &identifier, None, signup, &flow_redirect, &upstreams);
    let secure = rt.origin.scheme() == Scheme::Https;
    r.headers_mut().append(header::SET_COOKIE, cookies::set(LOGIN_COOKIE, &binding, "/u/", FLOW_TTL_SECS, secure));
    r
}

/// `GET /authorize`: the authorization code flow (with PKCE), single sign-on from the session.
#[utoipa::path(get, path = "/authorize", tag = "oauth", operation_id = "authorize",
    params(accountd_core::authorization::AuthorizeParams),
    responses(
        (status = 200, description = "The sign-in or consent page", content_type = "text/html", body = String),
        (status = 302, description = "Back to the client's redirect URI with a code or an error"),
        (status = 400, description = "An error page (the client or its redirect URI is unknown)", content_type = "text/html", body = String),
        (status = 503, description = "Busy or the database is away", content_type = "text/html", body = String)
    ))]
pub async fn authorize(
    State(state): State<AppState>,
    rt: RequestTenant,
    headers: HeaderMap,
    Query(params): Query<AuthorizeParams>,
) -> Response {
    let client = match params.client_id.as_deref() {
        Some(id) if !id.is_empty() => state.core.get_application(&rt.tenant.id, id).await.ok(),
        _ => None,
    };
    let req = match validate(&params, client.as_ref()) {
        Ok(r) => r,
        Err(e) => return authorize_error(e),
    };
    if let Some(aud) = &req.audience {
        match state.core.api_for_audience(&rt.tenant.id, &rt.origin, aud).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                return error_response(
                    &req.redirect_uri,
                    req.response_mode,
                    &req.state,
                    "access_denied",
                    &format!("Service not found: {aud}"),
                );
            }
            Err(_) => {
                return pages::error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "Try again later.");
            }
        }
    }
    let session = match cookies::get(&headers, SESSION_COOKIE, rt.origin.scheme() == Scheme::Https) {
        Some(secret) => state.core.session_from_cookie(&rt.tenant.id, &secret).await.ok().flatten(),
        None => None,
    };
    let fresh_enough = |s: &accountd_core::session::Session| {
        req.max_age.is_none_or(|m| now_secs() - s.auth_time <= m)
            && (!req.require_mfa || s.amr.iter().any(|a| a == "mfa"))
    };
    match session {
        Some(s) if req.prompt != Some(Prompt::Login) && fresh_enough(&s) => {
            complete(&state, &rt, &req, &s, false).await
        }
        _ if req.prompt == Some(Prompt::None) => {
            error_response(&req.redirect_uri, req.response_mode, &req.state, "login_required", "Login required")
        }
        _ => {
            let name = client.map(|c| c.name).unwrap_or_default();
            let signup = state.core.signup_allowed(&rt.tenant.id).await.unwrap_or(false);
            sign_in_page(&state, &rt, req, &name, signup).await
        }
    }
}

/// Opens a sealed sign-in form and checks it was served to this browser and has not expired.
pub(super) fn open_login_flow(
    state: &AppState,
    rt: &RequestTenant,
    headers: &HeaderMap,
    sealed: &str,
) -> Result<LoginFlow, Box<Response>> {
    let expired = || {
        pages::error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "This sign-in form has expired or is not valid. Go back to the application and sign in again.",
        )
    };
    let json = state.core.master_key().open(&flow_context(rt), sealed).map_err(|_| Box::new(expired()))?;
    let flow = serde_json::from_slice::<LoginFlow>(&json).map_err(|_| Box::new(expired()))?;
    let bound = cookies::get(headers, LOGIN_COOKIE, rt.origin.scheme() == Scheme::Https)
        .is_some_and(|b| constant_time_eq(hash_high_entropy_secret(&b).as_bytes(), flow.binding_hash.as_bytes()));
    if !bound {
        return Err(Box::new(pages::error(
            StatusCode::FORBIDDEN,
            "invalid_request",
            "The sign-in form was not sent from this browser's sign-in page.",
        )));
    }
    if flow.exp <= now_secs() {
        return Err(Box::new(expired()));
    }
    Ok(flow)
}

/// Starts a session for a user who just proved who they are, and completes the request.
pub(super) async fn finish_sign_in(
    state: &AppState,
    rt: &RequestTenant,
    ctx: accountd_core::audit::Context,
    user: &accountd_core::user::User,
    req: &AuthorizationRequest,
    amr: Vec<String>,
) -> Response {
    let ctx = accountd_core::audit::Context { actor: accountd_core::audit::Actor::User(user.id.0.clone()), ..ctx };
    let (session, secret) = match state.core.start_session(&ctx, &rt.tenant.id, user, amr).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "starting a session failed");
            return pages::error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "Try again later.");
        }
    };
    let mut r = complete(state, rt, req, &session, false).await;
    let secure = rt.origin.scheme() == Scheme::Https;
    let ttl = accountd_core::service::SESSION_TTL_MILLIS / 1000;
    r.headers_mut().append(header::SET_COOKIE, cookies::set(SESSION_COOKIE, &secret, "/", ttl, secure));
    r.headers_mut().append(header::SET_COOKIE, cookies::set(LOGIN_COOKIE, "", "/u/", 0, secure));
    r
}

/// The sign-in form's fields.
#[derive(Deserialize)]
pub struct LoginForm {
    flow: String,
    identifier: String,
    password: String,
}

/// The sign-in form, and whether a field carries a control character.
fn login_form(
    form: Result<PageForm<LoginForm>, PageFormRejection<LoginForm>>,
) -> Result<(LoginForm, bool), Box<Response>> {
    match form {
        Ok(PageForm(f)) => Ok((f, false)),
        Err(PageFormRejection::Refused(f)) => Ok((f, true)),
        Err(PageFormRejection::Page(r)) => Err(Box::new(r)),
    }
}

/// The sign-in page again (400) for a form whose email or password carries a control character:
/// no account has one, and none is looked up.
async fn refused_sign_in(state: &AppState, rt: &RequestTenant, flow: &LoginFlow, form: &LoginForm) -> Response {
    let name = state.core.get_application(&rt.tenant.id, &flow.req.client_id).await.map(|c| c.name).unwrap_or_default();
    let signup = state.core.signup_allowed(&rt.tenant.id).await.unwrap_or(false);
    let shown: String = form.identifier.chars().filter(|c| !c.is_control()).collect();
    let msg = "The email or password contains characters that cannot be used.";
    let mut r = pages::sign_in(&name, &form.flow, &shown, Some(msg), signup, &flow.req.redirect_uri, &[]);
    *r.status_mut() = StatusCode::BAD_REQUEST;
    r
}

/// `POST /u/login`: checks the browser binding, then the credentials; on success starts a session
/// and completes the authorization request.
pub async fn login(
    State(state): State<AppState>,
    rt: RequestTenant,
    info: ClientInfo,
    headers: HeaderMap,
    form: Result<PageForm<LoginForm>, PageFormRejection<LoginForm>>,
) -> Response {
    let (form, refused) = match login_form(form) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let flow = match open_login_flow(&state, &rt, &headers, &form.flow) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    if refused {
        return refused_sign_in(&state, &rt, &flow, &form).await;
    }
    let ctx = info.context(accountd_core::audit::Actor::System);
    let password = Zeroizing::new(form.password);
    let signed_in = state.core.sign_in_with_password(&ctx, &rt.tenant.id, &form.identifier, password).await;
    match &signed_in {
        Ok(_) => state.metrics.sign_in("password", true),
        Err(accountd_core::Error::LockedOut { .. }) => state.metrics.lockout(),
        Err(_) => state.metrics.sign_in("password", false),
    }
    let user = match signed_in {
        Ok(u) => u,
        Err(accountd_core::Error::Unauthenticated(msg)) => {
            let name = state
                .core
                .get_application(&rt.tenant.id, &flow.req.client_id)
                .await
                .map(|c| c.name)
                .unwrap_or_default();
            // Same page, same form: the binding cookie stays valid.
            let signup = state.core.signup_allowed(&rt.tenant.id).await.unwrap_or(false);
            return pages::sign_in(
                &name,
                &form.flow,
                &form.identifier,
                Some(&msg),
                signup,
                &flow.req.redirect_uri,
                &[],
            );
        }
        Err(accountd_core::Error::LockedOut { until }) => {
            let name = state
                .core
                .get_application(&rt.tenant.id, &flow.req.client_id)
                .await
                .map(|c| c.name)
                .unwrap_or_default();
            let msg = format!(
                "Too many failed attempts. Try again after {} UTC.",
                accountd_core::clock::to_rfc3339(until).get(..16).unwrap_or_default().replace('T', " ")
            );
            let mut r =
                pages::sign_in(&name, &form.flow, &form.identifier, Some(&msg), false, &flow.req.redirect_uri, &[]);
            *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            let retry = ((until - accountd_core::clock::now_millis()) / 1000).max(1);
            if let Ok(v) = HeaderValue::from_str(&retry.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return r;
        }
        Err(accountd_core::Error::Busy { retry_after_secs }) => {
            // The hashing pool is full: say so and when to retry; nothing was counted.
            let msg = "The server is busy. Try again in a moment.";
            let mut r = pages::sign_in("", &form.flow, &form.identifier, Some(msg), false, &flow.req.redirect_uri, &[]);
            *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)));
            return r;
        }
        Err(e) => {
            tracing::error!(error = %e, "sign-in failed");
            return pages::error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "Try again later.");
        }
    };
    // A second factor, when the tenant's policy or the client asks for one.
    match state.core.second_factor_needed(&rt.tenant.id, &user, flow.req.require_mfa).await {
        Ok(None) => finish_sign_in(&state, &rt, ctx, &user, &flow.req, vec!["pwd".into()]).await,
        Ok(Some(methods)) => super::second_factor::ask(&state, &rt, flow, &user, &methods).await,
        Err(e) => {
            tracing::error!(error = %e, "second-factor check failed");
            pages::error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "Try again later.")
        }
    }
}

/// The consent form's fields.
#[derive(Deserialize)]
pub struct ConsentForm {
    flow: String,
    decision: String,
}

/// `POST /u/consent`: the user allows or denies a third-party application. The form must come
/// from this browser's consent page, and the session it was shown for must still be signed in.
pub async fn consent(
    State(state): State<AppState>,
    rt: RequestTenant,
    headers: HeaderMap,
    PageForm(form): PageForm<ConsentForm>,
) -> Response {
    let expired = || {
        pages::error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "This page has expired. Go back to the application and try again.",
        )
    };
    let Ok(json) = state.core.master_key().open(&consent_context(&rt), &form.flow) else { return expired() };
    let Ok(flow) = serde_json::from_slice::<ConsentFlow>(&json) else { return expired() };
    let bound = cookies::get(&headers, LOGIN_COOKIE, rt.origin.scheme() == Scheme::Https)
        .is_some_and(|b| constant_time_eq(hash_high_entropy_secret(&b).as_bytes(), flow.binding_hash.as_bytes()));
    if !bound {
        return pages::error(
            StatusCode::FORBIDDEN,
            "invalid_request",
            "The form was not sent from this browser's consent page.",
        );
    }
    if flow.exp <= now_secs() {
        return expired();
    }
    let session = match cookies::get(&headers, SESSION_COOKIE, rt.origin.scheme() == Scheme::Https) {
        Some(secret) => state.core.session_from_cookie(&rt.tenant.id, &secret).await.ok().flatten(),
        None => None,
    };
    let Some(session) = session.filter(|s| s.id == flow.session_id) else {
        return pages::error(
            StatusCode::FORBIDDEN,
            "login_required",
            "Your session ended. Go back to the application and sign in again.",
        );
    };
    let secure = rt.origin.scheme() == Scheme::Https;
    let mut r = match form.decision.as_str() {
        "allow" => complete(&state, &rt, &flow.req, &session, true).await,
        _ => error_response(
            &flow.req.redirect_uri,
            flow.req.response_mode,
            &flow.req.state,
            "access_denied",
            "The user denied access.",
        ),
    };
    r.headers_mut().append(header::SET_COOKIE, cookies::set(LOGIN_COOKIE, "", "/u/", 0, secure));
    r
}

/// `POST /u/signup`: creates an account from the sign-in form (when the tenant allows sign-up),
/// then signs the new user in and completes the authorization request.
pub async fn signup(
    State(state): State<AppState>,
    rt: RequestTenant,
    info: ClientInfo,
    headers: HeaderMap,
    form: Result<PageForm<LoginForm>, PageFormRejection<LoginForm>>,
) -> Response {
    let (form, refused) = match login_form(form) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let flow = match open_login_flow(&state, &rt, &headers, &form.flow) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    if !state.core.signup_allowed(&rt.tenant.id).await.unwrap_or(false) {
        return pages::error(StatusCode::FORBIDDEN, "access_denied", "Sign-up is not available here.");
    }
    if refused {
        return refused_sign_in(&state, &rt, &flow, &form).await;
    }
    let name = state.core.get_application(&rt.tenant.id, &flow.req.client_id).await.map(|c| c.name).unwrap_or_default();
    let again =
        |msg: &str| pages::sign_in(&name, &form.flow, &form.identifier, Some(msg), true, &flow.req.redirect_uri, &[]);
    let ctx = info.context(accountd_core::audit::Actor::System);
    let fields = accountd_core::user::UserFields { email: Some(form.identifier.clone()), ..Default::default() };
    let user = match state.core.create_user(&ctx, &rt.tenant.id, fields, Some(Zeroizing::new(form.password))).await {
        Ok(u) => u,
        Err(accountd_core::Error::Conflict(_)) => {
            return again("An account with this email already exists. Sign in instead.");
        }
        Err(accountd_core::Error::Invalid(errs)) => {
            let msg = errs.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ");
            return again(&format!("Check your details — {msg}."));
        }
        Err(e) => {
            tracing::error!(error = %e, "sign-up failed");
            return pages::error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "Try again later.");
        }
    };
    // A second factor, when the tenant's policy or the client asks for one.
    match state.core.second_factor_needed(&rt.tenant.id, &user, flow.req.require_mfa).await {
        Ok(None) => finish_sign_in(&state, &rt, ctx, &user, &flow.req, vec!["pwd".into()]).await,
        Ok(Some(methods)) => super::second_factor::ask(&state, &rt, flow, &user, &methods).await,
        Err(e) => {
            tracing::error!(error = %e, "second-factor check failed");
            pages::error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "Try again later.")
        }
    }
}
