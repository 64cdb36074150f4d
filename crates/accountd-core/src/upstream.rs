//! Upstream identity providers and the identities users hold there.
//!
//! An **upstream connection** is an outside OpenID Connect or plain OAuth 2.0 provider an operator
//! registers for a tenant (Auth0's `connection`, Logto's social connector and its `target`). A
//! **linked identity** is one user's account at that provider, proved by signing in there: Logto's
//! `identities[target]`, Auth0's connected account (`cac_…`), the same row either way. When the
//! connection keeps tokens ("token vault"), the identity holds the provider's token set, sealed
//! with the master key; both dialects read it (Logto's `…/access-token`, Auth0's Token Vault
//! exchange).
//!
//! Core owns the state of each step (state, nonce, PKCE verifier, who asked); talking HTTP to the
//! provider is the [`UpstreamClient`] port, implemented in `accountd-connectors`.

use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::user::UserId;

/// How accountd talks to the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// OpenID Connect: discovery from the issuer (or explicit endpoints), a nonce and a checked
    /// ID token; the profile from the ID token and userinfo.
    Oidc,
    /// Plain OAuth 2.0: explicit endpoints, the profile from a JSON user endpoint.
    Oauth2,
}

impl Strategy {
    /// The stored name (also Auth0's `strategy`).
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Oidc => "oidc",
            Strategy::Oauth2 => "oauth2",
        }
    }

    /// The strategy stored as `s`.
    pub fn parse(s: &str) -> Option<Strategy> {
        [Strategy::Oidc, Strategy::Oauth2].into_iter().find(|x| x.as_str() == s)
    }
}

/// Where the provider's endpoints are. OIDC needs its issuer (discovery, and the keys ID tokens
/// are checked with); an endpoint given explicitly wins over the discovered one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Endpoints {
    /// The OIDC issuer (discovery at `{issuer}/.well-known/openid-configuration`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The authorization endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    /// The token endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,
    /// The userinfo (or plain OAuth "me") endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userinfo_endpoint: Option<String>,
}

/// An upstream connection as core uses it; its client secret is stored apart, sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamConnection {
    /// Its id (`con_…`).
    pub id: String,
    /// Its name, unique in the tenant: Auth0's `connection`, Logto's `target`.
    pub name: String,
    /// What people see ("Continue with …").
    pub display_name: Option<String>,
    /// OIDC or plain OAuth 2.0.
    pub strategy: Strategy,
    /// Where the provider is.
    pub endpoints: Endpoints,
    /// The client accountd is at the provider.
    pub client_id: String,
    /// Scopes asked for by default.
    pub scopes: Vec<String>,
    /// Keep the provider's tokens for the user (token vault); refresh tokens need `offline_access`
    /// (OIDC), which is then always asked for.
    pub token_vault: bool,
    /// Offer "Continue with …" on the hosted sign-in page.
    pub sign_in: bool,
    /// On a first sign-in, link to an existing user with the same email, but only when the
    /// provider says the email is verified.
    pub link_by_verified_email: bool,
    /// When it was created.
    pub created_at: Millis,
    /// When it last changed.
    pub updated_at: Millis,
}

impl UpstreamConnection {
    /// The scopes to ask for: `requested` (when given) or the connection's own, with `openid` for
    /// OIDC and `offline_access` when tokens are kept, each once.
    pub fn scopes_for(&self, requested: Option<&[String]>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut push = |s: &str| {
            if !s.is_empty() && !out.iter().any(|x| x == s) {
                out.push(s.to_string());
            }
        };
        if self.strategy == Strategy::Oidc {
            push("openid");
        }
        for s in requested.unwrap_or(&self.scopes) {
            push(s);
        }
        if self.token_vault && self.strategy == Strategy::Oidc {
            push("offline_access");
        }
        out
    }
}

/// A connection as stored: the connection and its sealed client secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredConnection {
    /// The connection.
    pub connection: UpstreamConnection,
    /// The client secret, sealed with the master key (context [`secret_context`]).
    pub sealed_secret: String,
}

/// The sealing context of a connection's client secret.
pub fn secret_context(tenant: &crate::tenant::TenantId, connection_id: &str) -> String {
    format!("upstream_connection:{}:{connection_id}", tenant.as_str())
}

/// The sealing context of an identity's token set.
pub fn token_context(tenant: &crate::tenant::TenantId, identity_id: &str) -> String {
    format!("upstream_tokens:{}:{identity_id}", tenant.as_str())
}

/// What the provider says about the user it signed in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamProfile {
    /// The provider's stable id of the user (`sub`).
    pub subject: String,
    /// Email, if shared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the provider verified that email.
    #[serde(default)]
    pub email_verified: bool,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Picture URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// Preferred username.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Every claim the provider returned (ID token and userinfo merged).
    #[serde(default)]
    pub raw: serde_json::Map<String, serde_json::Value>,
}

/// The provider's tokens for one identity (kept sealed, never logged).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamTokenSet {
    /// The access token.
    pub access_token: String,
    /// `Bearer` usually.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// The refresh token, if the provider gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The scopes granted, space-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// When the access token expires (ms), if the provider said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Millis>,
}

impl std::fmt::Debug for UpstreamTokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamTokenSet")
            .field("refresh_token", &self.refresh_token.is_some())
            .field("scope", &self.scope)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl UpstreamTokenSet {
    /// Whether the access token is expired at `now` (with a few seconds' margin, so a token is
    /// not handed out moments before it dies).
    pub fn expired(&self, now: Millis) -> bool {
        self.expires_at.is_some_and(|at| at <= now + 5_000)
    }

    /// The scopes granted, as a list.
    pub fn scopes(&self) -> Vec<String> {
        self.scope.as_deref().unwrap_or("").split_whitespace().map(str::to_string).collect()
    }
}

/// One user's account at one upstream connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedIdentity {
    /// Its id (`cac_…`, Auth0's connected-account id).
    pub id: String,
    /// The user.
    pub user_id: UserId,
    /// The connection's id.
    pub connection_id: String,
    /// The connection's name (Logto's `target`), read with the row.
    pub connection_name: String,
    /// The provider's id of the user.
    pub subject: String,
    /// The profile the provider returned (Logto's `details`).
    pub profile: UpstreamProfile,
    /// The scopes granted at the provider.
    pub scopes: Vec<String>,
    /// The sealed token set, when the connection keeps tokens.
    pub sealed_tokens: Option<String>,
    /// When the refresh token (or, without one, the access token) stops working, if known.
    pub tokens_expire_at: Option<Millis>,
    /// When it was linked.
    pub created_at: Millis,
    /// When it last changed.
    pub updated_at: Millis,
}

/// A new identity id: `cac_` and alphanumerics (Auth0's `^cac_[A-Za-z0-9]+$`).
pub fn new_identity_id() -> String {
    format!("cac_{}", crate::secret::random_alnum(22))
}

/// A new connection id: `con_` and alphanumerics (Auth0's connection ids).
pub fn new_connection_id() -> String {
    format!("con_{}", crate::secret::random_alnum(16))
}

/// What accountd asks the provider to do when it sends the user there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    /// Where the provider sends the user back.
    pub redirect_uri: String,
    /// The `state` the provider echoes.
    pub state: String,
    /// The OIDC nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE S256 challenge of the verifier core keeps.
    pub code_challenge: String,
    /// The scopes.
    pub scopes: Vec<String>,
    /// Further parameters (`login_hint`, `prompt`, …), already checked by the adapter.
    pub extra: Vec<(String, String)>,
}

/// Why the provider could not be used.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The provider could not be reached or answered nonsense (discovery, network, JSON).
    #[error("upstream unavailable: {0}")]
    Unavailable(String),
    /// The provider refused (a wrong or used code, a revoked refresh token).
    #[error("upstream refused: {0}")]
    Refused(String),
    /// The ID token did not verify (signature, issuer, audience, nonce, expiry).
    #[error("upstream ID token invalid: {0}")]
    InvalidIdToken(String),
}

impl From<UpstreamError> for crate::error::Error {
    fn from(e: UpstreamError) -> Self {
        // The provider's words are for the operator's log; the caller learns only what kind.
        tracing::warn!(error = %e, "upstream provider");
        crate::error::Error::Upstream(match e {
            UpstreamError::Unavailable(_) => crate::error::UpstreamFailure::Unavailable,
            UpstreamError::Refused(_) => crate::error::UpstreamFailure::Refused,
            UpstreamError::InvalidIdToken(_) => crate::error::UpstreamFailure::IdTokenInvalid,
        })
    }
}

/// Talks to upstream providers (implemented in `accountd-connectors` over `openidconnect`).
#[async_trait::async_trait]
pub trait UpstreamClient: Send + Sync {
    /// The URL to send the user to.
    async fn authorization_url(
        &self,
        connection: &UpstreamConnection,
        request: &AuthorizationRequest,
    ) -> Result<String, UpstreamError>;

    /// Redeems an authorization code (with the PKCE verifier and, for OIDC, the nonce the ID
    /// token must carry): who signed in, and their tokens.
    async fn exchange_code(
        &self,
        connection: &UpstreamConnection,
        client_secret: &str,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
        nonce: &str,
    ) -> Result<(UpstreamProfile, UpstreamTokenSet), UpstreamError>;

    /// New tokens for a refresh token. A provider that does not rotate it leaves
    /// `refresh_token` empty; the caller keeps the old one.
    async fn refresh(
        &self,
        connection: &UpstreamConnection,
        client_secret: &str,
        refresh_token: &str,
    ) -> Result<UpstreamTokenSet, UpstreamError>;
}

/// The client of a core built without one (unit tests): every call fails.
pub(crate) struct NoUpstreamClient;

#[async_trait::async_trait]
impl UpstreamClient for NoUpstreamClient {
    async fn authorization_url(
        &self,
        _: &UpstreamConnection,
        _: &AuthorizationRequest,
    ) -> Result<String, UpstreamError> {
        Err(UpstreamError::Unavailable("no upstream client configured".into()))
    }
    async fn exchange_code(
        &self,
        _: &UpstreamConnection,
        _: &str,
        _: &str,
        _: &str,
        _: &str,
        _: &str,
    ) -> Result<(UpstreamProfile, UpstreamTokenSet), UpstreamError> {
        Err(UpstreamError::Unavailable("no upstream client configured".into()))
    }
    async fn refresh(&self, _: &UpstreamConnection, _: &str, _: &str) -> Result<UpstreamTokenSet, UpstreamError> {
        Err(UpstreamError::Unavailable("no upstream client configured".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection(strategy: Strategy, vault: bool) -> UpstreamConnection {
        UpstreamConnection {
            id: "con_1".into(),
            name: "up".into(),
            display_name: None,
            strategy,
            endpoints: Endpoints::default(),
            client_id: "c".into(),
            scopes: vec!["email".into(), "profile".into()],
            token_vault: vault,
            sign_in: false,
            link_by_verified_email: false,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn oidc_scopes_carry_openid_and_offline_access_when_tokens_are_kept() {
        assert_eq!(connection(Strategy::Oidc, true).scopes_for(None), ["openid", "email", "profile", "offline_access"]);
        assert_eq!(connection(Strategy::Oidc, false).scopes_for(Some(&["email".into()])), ["openid", "email"]);
        assert_eq!(connection(Strategy::Oauth2, true).scopes_for(None), ["email", "profile"]);
    }

    #[test]
    fn ids_have_the_vendor_shapes() {
        let id = new_identity_id();
        assert!(id.starts_with("cac_") && id[4..].chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(new_connection_id().starts_with("con_"));
    }

    #[test]
    fn a_token_set_never_prints_its_tokens() {
        let t = UpstreamTokenSet {
            access_token: "AT-secret".into(),
            token_type: None,
            refresh_token: Some("RT-secret".into()),
            scope: None,
            expires_at: Some(10_000),
        };
        let shown = format!("{t:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(t.expired(6_000) && !t.expired(4_000));
    }
}
