//! The hosted sign-in's second step and passkey sign-in: after the password, the user picks one
//! of their second factors (TOTP, a code by email or SMS, a security key, push approval, a
//! recovery code) and answers it; the session's `amr` then says what was used, with `mfa`.
//! "Sign in with a passkey" skips both steps: a user-verified passkey is already two factors.
//!
//! The state between steps is sealed into the form (like the sign-in form) and bound to the same
//! browser cookie, so it cannot be replayed from another browser or changed by the client.

use accountd_core::authn::credential::RelyingParty;
use accountd_core::authn::method::{AuthenticationMethod, MethodType};
use accountd_core::service::{SecondFactorAnswer, SecondFactorChallenge, SecondFactorPrompt};
use accountd_core::user::User;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::authorize::{FLOW_TTL_SECS, LoginFlow, finish_sign_in, flow_context, now_secs, open_login_flow};
use super::pages::{self, PageForm, esc};
use crate::AppState;
use crate::common::client_info::ClientInfo;
use crate::common::tenant::RequestTenant;

/// The sealed state of the second step.
#[derive(Serialize, Deserialize)]
struct MfaFlow {
    login: LoginFlow,
    user_id: String,
    /// The chosen method's challenge: (method id, type, pending token).
    challenge: Option<(String, MethodType, Option<String>)>,
}

fn mfa_context(rt: &RequestTenant) -> String {
    format!("{}:mfa", flow_context(rt))
}

fn rp(rt: &RequestTenant) -> RelyingParty {
    RelyingParty { id: rt.origin.host().to_string(), origin: rt.origin.base_url(), name: rt.tenant.name.clone() }
}

fn seal(state: &AppState, rt: &RequestTenant, flow: &MfaFlow) -> Option<String> {
    let json = serde_json::to_vec(flow).ok()?;
    state.core.master_key().seal(&mfa_context(rt), &json).ok()
}

fn label(m: &AuthenticationMethod) -> String {
    let what = match m.method_type {
        MethodType::Totp => "Authenticator app code".to_string(),
        MethodType::Email => format!("Code by email to {}", m.details.email.as_deref().unwrap_or("your address")),
        MethodType::Phone => {
            format!("Code by text message to {}", m.details.phone_number.as_deref().unwrap_or("your phone"))
        }
        MethodType::WebauthnPlatform => "This device's screen lock (Touch ID, Windows Hello)".to_string(),
        MethodType::WebauthnRoaming => "Security key".to_string(),
        MethodType::PushNotification => "Approve on your device".to_string(),
        MethodType::RecoveryCode => "Recovery code".to_string(),
        MethodType::Password | MethodType::Passkey => "Passkey".to_string(),
    };
    match &m.name {
        Some(n) if !n.is_empty() => format!("{what} ({n})"),
        _ => what,
    }
}

const SECONDARY: &str = "class=\"secondary\"";

/// The choice of second factors; `callback` is where a successful answer is redirected.
fn choose_page(sealed: &str, methods: &[AuthenticationMethod], error: Option<&str>, callback: &str) -> Response {
    let err = error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e))).unwrap_or_default();
    let buttons: String = methods
        .iter()
        .map(|m| {
            format!(
                "<button type=\"submit\" name=\"choose\" value=\"{}\" {SECONDARY}>{}</button>",
                esc(&m.id),
                esc(&label(m))
            )
        })
        .collect();
    pages::page(
        if error.is_some() { StatusCode::UNAUTHORIZED } else { StatusCode::OK },
        "Verify it's you",
        &format!(
            "<h1>Verify it's you</h1><p class=\"sub\">Choose a second way to confirm your sign-in.</p>{err}\
             <form method=\"post\" action=\"/u/mfa\"><input type=\"hidden\" name=\"flow\" value=\"{}\">{buttons}</form>",
            esc(sealed)
        ),
        Some(callback),
    )
}

/// The chosen factor's challenge; `callback` is where a successful answer is redirected.
fn answer_page(sealed: &str, c: &SecondFactorChallenge, error: Option<&str>, callback: &str) -> Response {
    let err = error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e))).unwrap_or_default();
    let flow = format!("<input type=\"hidden\" name=\"flow\" value=\"{}\">", esc(sealed));
    let back = format!(
        "<form method=\"post\" action=\"/u/mfa\">{flow}<button type=\"submit\" name=\"back\" value=\"1\" {SECONDARY}>Try another way</button></form>"
    );
    let body = match &c.prompt {
        SecondFactorPrompt::EnterCode | SecondFactorPrompt::CodeSent { .. } => {
            let (title, sub) = match (&c.prompt, c.method_type) {
                (SecondFactorPrompt::CodeSent { to }, _) => {
                    ("Enter the code".to_string(), format!("We sent a code to {to}."))
                }
                (_, MethodType::RecoveryCode) => {
                    ("Enter a recovery code".to_string(), "It can be used once.".to_string())
                }
                _ => (
                    "Enter the code".to_string(),
                    "Open your authenticator app and enter the current code.".to_string(),
                ),
            };
            format!(
                "<h1>{}</h1><p class=\"sub\">{}</p>{err}<form method=\"post\" action=\"/u/mfa\">{flow}\
                 <label for=\"code\">Code</label><input id=\"code\" name=\"code\" type=\"text\" inputmode=\"{}\" \
                 autocomplete=\"one-time-code\" required autofocus><button type=\"submit\">Verify</button></form>{back}",
                esc(&title),
                esc(&sub),
                if c.method_type == MethodType::RecoveryCode { "text" } else { "numeric" }
            )
        }
        SecondFactorPrompt::WebAuthn { options } => format!(
            "<h1>Use your security key</h1><p class=\"sub\">Insert or touch your key when your browser asks.</p>{err}\
             <form id=\"webauthn-form\" method=\"post\" action=\"/u/mfa\" data-options=\"{}\">{flow}\
             <input type=\"hidden\" name=\"assertion\"><button type=\"button\" id=\"webauthn-button\">Use security key</button></form>{back}\
             <script src=\"/u/assets/accountd.js\"></script>",
            esc(&options.to_string())
        ),
        SecondFactorPrompt::Push { binding_message } => format!(
            "<h1>Approve on your device</h1><p class=\"sub\">Check that your device shows <strong>{}</strong>, approve, then continue.</p>{err}\
             <form method=\"post\" action=\"/u/mfa\">{flow}<button type=\"submit\" name=\"approved\" value=\"1\">I approved it</button></form>{back}",
            esc(binding_message)
        ),
    };
    let status = if error.is_some() { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
    pages::page(status, "Verify it's you", &body, Some(callback))
}

/// After the password: asks for one of `methods` (or explains there is none).
pub(super) async fn ask(
    state: &AppState,
    rt: &RequestTenant,
    login: LoginFlow,
    user: &User,
    methods: &[AuthenticationMethod],
) -> Response {
    if methods.is_empty() {
        return pages::error(
            StatusCode::FORBIDDEN,
            "mfa_required",
            "This account must sign in with a second factor, but none is set up. Ask the administrator for help.",
        );
    }
    let flow = MfaFlow {
        login: LoginFlow { exp: now_secs() + FLOW_TTL_SECS, ..login },
        user_id: user.id.0.clone(),
        challenge: None,
    };
    // One method: start it at once.
    if let [only] = methods {
        return start(state, rt, flow, user, &only.id, methods).await;
    }
    match seal(state, rt, &flow) {
        Some(s) => choose_page(&s, methods, None, &flow.login.req.redirect_uri),
        None => pages::error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "Try again later."),
    }
}

async fn start(
    state: &AppState,
    rt: &RequestTenant,
    mut flow: MfaFlow,
    user: &User,
    method_id: &str,
    methods: &[AuthenticationMethod],
) -> Response {
    let fail = |flow: &MfaFlow, msg: &str| match seal(state, rt, flow) {
        Some(s) => choose_page(&s, methods, Some(msg), &flow.login.req.redirect_uri),
        None => pages::error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "Try again later."),
    };
    match state.core.start_second_factor(&rt.tenant.id, user, method_id, &rp(rt)).await {
        Ok(c) => {
            flow.challenge = Some((c.method_id.clone(), c.method_type, c.token.clone()));
            match seal(state, rt, &flow) {
                Some(s) => answer_page(&s, &c, None, &flow.login.req.redirect_uri),
                None => pages::error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "Try again later."),
            }
        }
        Err(accountd_core::Error::LockedOut { .. }) => {
            fail(&flow, "Too many codes were sent. Try again later or choose another way.")
        }
        Err(accountd_core::Error::Delivery(_)) => fail(&flow, "The code could not be sent. Try another way."),
        Err(e) => {
            tracing::warn!(error = %e, "starting a second factor failed");
            fail(&flow, "That method cannot be used right now. Choose another.")
        }
    }
}

/// The second step's form.
#[derive(Deserialize)]
pub struct MfaForm {
    flow: String,
    choose: Option<String>,
    code: Option<String>,
    assertion: Option<String>,
    approved: Option<String>,
    back: Option<String>,
}

/// `POST /u/mfa`: choose a method, or answer its challenge.
pub async fn mfa(
    State(state): State<AppState>,
    rt: RequestTenant,
    info: ClientInfo,
    headers: HeaderMap,
    PageForm(form): PageForm<MfaForm>,
) -> Response {
    let expired = || {
        pages::error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "This sign-in has expired. Go back to the application and sign in again.",
        )
    };
    let Ok(json) = state.core.master_key().open(&mfa_context(&rt), &form.flow) else { return expired() };
    let Ok(flow) = serde_json::from_slice::<MfaFlow>(&json) else { return expired() };
    // Same browser binding and lifetime as the sign-in form it continues.
    let relogin = match serde_json::to_vec(&flow.login)
        .ok()
        .and_then(|j| state.core.master_key().seal(&flow_context(&rt), &j).ok())
    {
        Some(s) => s,
        None => return expired(),
    };
    if let Err(r) = open_login_flow(&state, &rt, &headers, &relogin) {
        return *r;
    }
    let user = match state.core.find_user(&rt.tenant.id, &flow.user_id).await {
        Ok(Some(u)) if !u.blocked => u,
        _ => return expired(),
    };
    let methods = match state.core.second_factor_needed(&rt.tenant.id, &user, true).await {
        Ok(Some(m)) => m,
        _ => return expired(),
    };
    if let Some(id) = form.choose.as_deref() {
        return start(&state, &rt, MfaFlow { challenge: None, ..flow }, &user, id, &methods).await;
    }
    let Some((method_id, method_type, token)) = flow.challenge.clone() else {
        return seal(&state, &rt, &flow)
            .map(|s| choose_page(&s, &methods, None, &flow.login.req.redirect_uri))
            .unwrap_or_else(expired);
    };
    if form.back.is_some() {
        let flow = MfaFlow { challenge: None, ..flow };
        return seal(&state, &rt, &flow)
            .map(|s| choose_page(&s, &methods, None, &flow.login.req.redirect_uri))
            .unwrap_or_else(expired);
    }
    let answer = match (form.code, form.assertion, form.approved) {
        (Some(c), _, _) => SecondFactorAnswer::Code(c),
        (_, Some(a), _) => match serde_json::from_str(&a) {
            Ok(v) => SecondFactorAnswer::Assertion(v),
            Err(_) => return expired(),
        },
        (_, _, Some(_)) => SecondFactorAnswer::Approved,
        _ => return expired(),
    };
    let challenge = SecondFactorChallenge { method_id, method_type, token, prompt: SecondFactorPrompt::EnterCode };
    let ctx = info.context(accountd_core::audit::Actor::User(user.id.0.clone()));
    let verified = state.core.verify_second_factor(&ctx, &rt.tenant.id, &user, &challenge, answer, &rp(&rt)).await;
    match &verified {
        Ok(_) => state.metrics.sign_in("second_factor", true),
        Err(accountd_core::Error::LockedOut { .. }) => state.metrics.lockout(),
        Err(_) => state.metrics.sign_in("second_factor", false),
    }
    match verified {
        Ok(used) => {
            let amr = vec!["pwd".to_string(), used.amr().to_string(), "mfa".to_string()];
            finish_sign_in(&state, &rt, ctx, &user, &flow.login.req, amr).await
        }
        Err(e) => {
            let msg = match &e {
                accountd_core::Error::BadProof(d) => d.clone(),
                accountd_core::Error::LockedOut { .. } => "Too many failed attempts. Try again later.".into(),
                _ => {
                    tracing::warn!(error = %e, "second factor check failed");
                    "That did not work. Try again.".into()
                }
            };
            // Show the same challenge again (with its own prompt for a code, key or push).
            let prompt = match challenge.method_type {
                MethodType::PushNotification => SecondFactorPrompt::Push { binding_message: "—".into() },
                MethodType::Email | MethodType::Phone => SecondFactorPrompt::CodeSent { to: "your address".into() },
                _ => SecondFactorPrompt::EnterCode,
            };
            let shown = SecondFactorChallenge { prompt, ..challenge };
            let mut r = match seal(&state, &rt, &flow) {
                Some(s) if !matches!(shown.method_type, MethodType::WebauthnPlatform | MethodType::WebauthnRoaming) => {
                    answer_page(&s, &shown, Some(&msg), &flow.login.req.redirect_uri)
                }
                Some(s) => choose_page(&s, &methods, Some(&msg), &flow.login.req.redirect_uri),
                None => return expired(),
            };
            if matches!(e, accountd_core::Error::LockedOut { .. }) {
                *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            }
            r
        }
    }
}

/// The passkey form's fields.
#[derive(Deserialize)]
pub struct PasskeyForm {
    flow: String,
    token: Option<String>,
    assertion: Option<String>,
}

/// `POST /u/passkey/options`: a passkey sign-in ceremony for this sign-in form (JSON).
pub async fn passkey_options(
    State(state): State<AppState>,
    rt: RequestTenant,
    headers: HeaderMap,
    PageForm(form): PageForm<PasskeyForm>,
) -> Response {
    if let Err(r) = open_login_flow(&state, &rt, &headers, &form.flow) {
        return *r;
    }
    match state.core.start_passkey_sign_in(&rt.tenant.id, &rp(&rt)).await {
        Ok((options, token)) => {
            let mut r = axum::Json(serde_json::json!({ "options": options, "token": token })).into_response();
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "passkey options failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// `POST /u/passkey/login`: finishes a passkey sign-in and completes the authorization request.
pub async fn passkey_login(
    State(state): State<AppState>,
    rt: RequestTenant,
    info: ClientInfo,
    headers: HeaderMap,
    PageForm(form): PageForm<PasskeyForm>,
) -> Response {
    let flow = match open_login_flow(&state, &rt, &headers, &form.flow) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let ctx = info.context(accountd_core::audit::Actor::System);
    let assertion = form.assertion.as_deref().and_then(|a| serde_json::from_str(a).ok()).unwrap_or_default();
    let token = form.token.unwrap_or_default();
    let signed_in = state.core.finish_passkey_sign_in(&ctx, &rt.tenant.id, &rp(&rt), &token, &assertion).await;
    state.metrics.sign_in("passkey", signed_in.is_ok());
    match signed_in {
        Ok(user) => {
            finish_sign_in(&state, &rt, ctx, &user, &flow.req, vec!["hwk".into(), "user".into(), "mfa".into()]).await
        }
        Err(e) => {
            if !matches!(e, accountd_core::Error::BadProof(_) | accountd_core::Error::Invalid(_)) {
                tracing::warn!(error = %e, "passkey sign-in failed");
            }
            let name = state
                .core
                .get_application(&rt.tenant.id, &flow.req.client_id)
                .await
                .map(|c| c.name)
                .unwrap_or_default();
            pages::sign_in(
                &name,
                &form.flow,
                "",
                Some("That passkey could not be used here. Try again or use your password."),
                false,
                &flow.req.redirect_uri,
                &[],
            )
        }
    }
}

/// `GET /u/assets/accountd.css`: the hosted pages' styles.
pub async fn stylesheet() -> Response {
    let mut r =
        ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("assets/accountd.css")).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    r
}

/// `GET /u/assets/accountd.js`.
pub async fn script() -> Response {
    let mut r = ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], include_str!("assets/accountd.js"))
        .into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    r
}
