//! The authorization request of `/authorize`, validated; and what the token endpoint hands out for
//! a user (a `UserGrant`). Pure logic: the HTTP adapter parses, the service persists.

use serde::{Deserialize, Serialize};

use crate::application::Application;

/// How the authorization response travels back to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    /// `?code=…&state=…` on the redirect URI.
    Query,
    /// `#code=…&state=…` on the redirect URI.
    Fragment,
    /// An auto-submitting HTML form posting to the redirect URI.
    FormPost,
    /// A page that `postMessage`s the response to the opener or parent (Auth0 SPA SDK popups and
    /// silent sign-in).
    WebMessage,
}

impl ResponseMode {
    /// Parses the parameter.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "query" => ResponseMode::Query,
            "fragment" => ResponseMode::Fragment,
            "form_post" => ResponseMode::FormPost,
            "web_message" => ResponseMode::WebMessage,
            _ => return None,
        })
    }
}

/// `prompt` values accountd acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prompt {
    /// Never show a page: answer `login_required` if there is no usable session.
    None,
    /// Always ask for credentials.
    Login,
    /// Always ask for consent.
    Consent,
}

/// The raw query of `/authorize`. Unknown parameters (SDK telemetry like `auth0Client`) are ignored.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuthorizeParams {
    /// Must be `code`.
    pub response_type: Option<String>,
    /// The client.
    pub client_id: Option<String>,
    /// Must be registered exactly.
    pub redirect_uri: Option<String>,
    /// Space-separated scopes.
    pub scope: Option<String>,
    /// Echoed back.
    pub state: Option<String>,
    /// Echoed in the ID token.
    pub nonce: Option<String>,
    /// PKCE challenge.
    pub code_challenge: Option<String>,
    /// PKCE method: only `S256`.
    pub code_challenge_method: Option<String>,
    /// `none`, `login`, `consent`.
    pub prompt: Option<String>,
    /// Maximum age of the sign-in, in seconds.
    pub max_age: Option<String>,
    /// Prefills the identifier.
    pub login_hint: Option<String>,
    /// Requested authentication context classes (space-separated); the multi-factor one makes
    /// sign-in ask for a second factor (step-up, RFC 9470).
    pub acr_values: Option<String>,
    /// The API (Auth0).
    pub audience: Option<String>,
    /// The API (RFC 8707, Logto).
    pub resource: Option<String>,
    /// How to answer.
    pub response_mode: Option<String>,
}

/// A validated authorization request; sealed into the sign-in form while the user signs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    /// The client.
    pub client_id: String,
    /// The exact registered redirect URI.
    pub redirect_uri: String,
    /// Requested scopes.
    pub scope: Vec<String>,
    /// Client state.
    pub state: Option<String>,
    /// Client nonce.
    pub nonce: Option<String>,
    /// PKCE S256 challenge (empty when a confidential client sent none).
    pub code_challenge: String,
    /// The API requested, by identifier.
    pub audience: Option<String>,
    /// Response mode.
    pub response_mode: ResponseMode,
    /// Prompt.
    pub prompt: Option<Prompt>,
    /// Maximum sign-in age in seconds.
    pub max_age: Option<i64>,
    /// Identifier to prefill.
    pub login_hint: Option<String>,
    /// Whether the client asked for multi-factor authentication (`acr_values`).
    #[serde(default)]
    pub require_mfa: bool,
}

/// Why an authorization request fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// The client or redirect URI cannot be trusted: show an error page, never redirect.
    Page {
        /// OAuth error code.
        error: &'static str,
        /// What is wrong.
        description: String,
    },
    /// Report to the client at its registered redirect URI.
    Redirect {
        /// The registered redirect URI.
        redirect_uri: String,
        /// How to answer.
        response_mode: ResponseMode,
        /// Client state.
        state: Option<String>,
        /// OAuth error code.
        error: &'static str,
        /// What is wrong.
        description: String,
    },
}

/// Scopes about the user rather than an API: OpenID Connect's, and those Logto's SDKs ask for to
/// choose what its Account API shows (spec logto §1.2, §1.6). Granted as asked, with or without an
/// API, and carried in the (opaque) token the Account API filters by.
pub const OIDC_SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "phone",
    "address",
    "offline_access",
    "custom_data",
    "identities",
    "urn:logto:scope:sessions",
    // accountd's own: the security timeline (`GET /api/my-account/security-events`).
    "urn:accountd:scope:security_events",
    // accountd's own: the account export (`GET /api/my-account/export`).
    "urn:accountd:scope:export",
];

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Checks an authorization request against its client. The redirect URI is checked first, so no
/// error is ever sent to an unregistered URI (no open redirect).
pub fn validate(
    params: &AuthorizeParams,
    client: Option<&Application>,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let page = |error, d: &str| AuthorizeError::Page { error, description: d.to_string() };
    let client_id = nonempty(&params.client_id).ok_or_else(|| page("invalid_request", "Missing client_id."))?;
    let client = client.ok_or_else(|| page("invalid_client", "Unknown client."))?;
    let redirect_uri = match nonempty(&params.redirect_uri) {
        Some(uri) if client.callbacks.iter().any(|c| c == uri) => uri.to_string(),
        Some(_) => return Err(page("invalid_request", "The redirect_uri is not registered for this client.")),
        None if client.callbacks.len() == 1 => client.callbacks[0].clone(),
        None => return Err(page("invalid_request", "Missing redirect_uri.")),
    };
    let requested_mode = nonempty(&params.response_mode);
    let response_mode = requested_mode.and_then(ResponseMode::parse).unwrap_or(ResponseMode::Query);
    let state = params.state.clone();
    let fail = |error, d: &str| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.clone(),
        response_mode,
        state: state.clone(),
        error,
        description: d.to_string(),
    };
    if requested_mode.is_some() && requested_mode.and_then(ResponseMode::parse).is_none() {
        return Err(fail("invalid_request", "Unsupported response_mode."));
    }
    if nonempty(&params.response_type) != Some("code") {
        return Err(fail("unsupported_response_type", "Only response_type=code is supported."));
    }
    if !client.allows_grant("authorization_code") {
        return Err(fail("unauthorized_client", "The client may not use the authorization code grant."));
    }
    let code_challenge = match (nonempty(&params.code_challenge), nonempty(&params.code_challenge_method)) {
        (Some(c), Some("S256")) if is_pkce_challenge(c) => c.to_string(),
        (Some(_), Some("S256")) => return Err(fail("invalid_request", "Malformed code_challenge.")),
        (Some(_), _) => return Err(fail("invalid_request", "code_challenge_method must be S256.")),
        (None, _) if client.app_type.is_public() => {
            return Err(fail("invalid_request", "PKCE (code_challenge with S256) is required for public clients."));
        }
        (None, _) => String::new(),
    };
    let prompt = match nonempty(&params.prompt) {
        None => None,
        Some(p) => Some(match p.split_whitespace().next().unwrap_or("") {
            "none" => Prompt::None,
            "login" => Prompt::Login,
            "consent" => Prompt::Consent,
            _ => return Err(fail("invalid_request", "Unsupported prompt.")),
        }),
    };
    let max_age = match nonempty(&params.max_age) {
        None => None,
        Some(m) => {
            Some(m.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| fail("invalid_request", "Invalid max_age."))?)
        }
    };
    let scope: Vec<String> =
        params.scope.as_deref().unwrap_or("openid").split_whitespace().map(str::to_string).collect();
    let audience = nonempty(&params.audience).or(nonempty(&params.resource)).map(str::to_string);
    let _ = client_id;
    Ok(AuthorizationRequest {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.clone(),
        scope,
        state: state.clone(),
        nonce: params.nonce.clone(),
        code_challenge,
        audience,
        response_mode,
        prompt,
        max_age,
        login_hint: params.login_hint.clone(),
        require_mfa: params
            .acr_values
            .as_deref()
            .is_some_and(|v| v.split_whitespace().any(|a| a == crate::authn::policy::ACR_MFA)),
    })
}

/// RFC 7636: 43 to 128 characters of `[A-Za-z0-9-._~]`.
fn is_pkce_challenge(c: &str) -> bool {
    (43..=128).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// Whether `verifier` matches an S256 `challenge` (compared in constant time).
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    if !is_pkce_challenge(verifier) {
        return false;
    }
    crate::secret::constant_time_eq(pkce_s256(verifier).as_bytes(), challenge.as_bytes())
}

/// The PKCE S256 challenge of `verifier` (RFC 7636 §4.2).
pub fn pkce_s256(verifier: &str) -> String {
    use base64::Engine;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// What the token endpoint issues tokens from, for a user.
#[derive(Debug, Clone)]
pub struct UserGrant {
    /// The user.
    pub user: crate::user::User,
    /// The client.
    pub client_id: String,
    /// Granted scopes (OIDC scopes and the API's effective scopes).
    pub scope: Vec<String>,
    /// The API the access token is for (None: only `/userinfo`).
    pub api: Option<crate::api_resource::ApiResource>,
    /// The audience string as requested (the API identifier on this host).
    pub audience: Option<String>,
    /// The session.
    pub session_id: String,
    /// The token family (none for refresh tokens from before families existed).
    pub family_id: Option<String>,
    /// When the user authenticated.
    pub auth_time: i64,
    /// How.
    pub amr: Vec<String>,
    /// Context class.
    pub acr: Option<String>,
    /// Nonce for the ID token (code exchange only).
    pub nonce: Option<String>,
    /// A new refresh token, when `offline_access` was granted.
    pub refresh_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::application::{AppType, ApplicationFields, new_application};

    fn spa() -> Application {
        let f = ApplicationFields {
            name: Some("spa".into()),
            app_type: Some(AppType::Spa),
            callbacks: Some(vec!["https://app.test/cb".into()]),
            ..Default::default()
        };
        new_application(f, 0).unwrap().0
    }

    fn params() -> AuthorizeParams {
        AuthorizeParams {
            response_type: Some("code".into()),
            client_id: Some("x".into()),
            redirect_uri: Some("https://app.test/cb".into()),
            code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
            code_challenge_method: Some("S256".into()),
            state: Some("st".into()),
            ..Default::default()
        }
    }

    #[test]
    fn unregistered_redirects_get_a_page_never_a_redirect() {
        let app = spa();
        let mut p = params();
        p.redirect_uri = Some("https://evil.test/cb".into());
        assert!(matches!(validate(&p, Some(&app)), Err(AuthorizeError::Page { .. })));
        p.redirect_uri = Some("https://app.test/cb/extra".into());
        assert!(matches!(validate(&p, Some(&app)), Err(AuthorizeError::Page { .. })), "prefix match accepted");
        assert!(matches!(validate(&params(), None), Err(AuthorizeError::Page { error: "invalid_client", .. })));
    }

    #[test]
    fn public_clients_need_s256_pkce() {
        let app = spa();
        let mut p = params();
        p.code_challenge = None;
        assert!(matches!(validate(&p, Some(&app)), Err(AuthorizeError::Redirect { error: "invalid_request", .. })));
        let mut p = params();
        p.code_challenge_method = Some("plain".into());
        assert!(matches!(validate(&p, Some(&app)), Err(AuthorizeError::Redirect { error: "invalid_request", .. })));
        let mut p = params();
        p.response_type = Some("token".into());
        let Err(AuthorizeError::Redirect { error, state, .. }) = validate(&p, Some(&app)) else { panic!() };
        assert_eq!((error, state.as_deref()), ("unsupported_response_type", Some("st")));
        let ok = validate(&params(), Some(&app)).unwrap();
        assert_eq!(ok.scope, ["openid"]);
        assert_eq!(ok.response_mode, ResponseMode::Query);
    }

    #[test]
    fn pkce_s256_known_answer() {
        // RFC 7636 appendix B.
        assert!(pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
    }
}
