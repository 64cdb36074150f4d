//! Sign-in sessions (single sign-on across a tenant's applications), authorization codes and
//! refresh tokens. The secret a browser or client holds is never stored: only its SHA-256.

use crate::clock::Millis;

/// A sign-in session. The browser holds a random secret in a cookie; `id` is the public `sid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Public id (the `sid` claim).
    pub id: String,
    /// The signed-in user.
    pub user_id: String,
    /// When the user last authenticated (seconds).
    pub auth_time: i64,
    /// Authentication methods used (`pwd`, `otp`, `hwk`, …).
    pub amr: Vec<String>,
    /// Authentication context class, if any.
    pub acr: Option<String>,
    /// User agent at sign-in.
    pub user_agent: Option<String>,
    /// IP at sign-in.
    pub ip: Option<String>,
    /// When it was created.
    pub created_at: Millis,
    /// When it ends.
    pub expires_at: Millis,
    /// When it was ended early (logout, revocation).
    pub revoked_at: Option<Millis>,
    /// When the browser last came back with it (a sign-in to an app, a token refresh).
    pub last_seen_at: Option<Millis>,
}

/// An authorization code waiting to be exchanged (single use, short-lived).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    /// SHA-256 of the code.
    pub code_hash: String,
    /// The client it was issued to.
    pub client_id: String,
    /// The user.
    pub user_id: String,
    /// The session it came from.
    pub session_id: String,
    /// The redirect URI it was sent to (must be repeated at the token endpoint).
    pub redirect_uri: String,
    /// Granted scopes, space-separated (OIDC and API scopes).
    pub scope: String,
    /// The API it is for, by identifier.
    pub audience: Option<String>,
    /// The client's nonce, echoed in the ID token.
    pub nonce: Option<String>,
    /// PKCE S256 challenge.
    pub code_challenge: String,
    /// Authentication facts copied from the session.
    pub auth_time: i64,
    /// Methods used.
    pub amr: Vec<String>,
    /// Context class.
    pub acr: Option<String>,
    /// When it was issued.
    pub created_at: Millis,
    /// When it expires.
    pub expires_at: Millis,
    /// The grant the code's tokens fall under (none for codes issued before grants existed).
    pub grant_id: Option<String>,
    /// The token family the exchange starts (none for older codes: the code hash then names it).
    pub family_id: Option<String>,
}

/// A refresh token. Each use rotates it; a rotated token used again revokes its whole family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    /// Its id.
    pub id: String,
    /// SHA-256 of the token.
    pub token_hash: String,
    /// Every token rotated from the same grant shares this.
    pub family_id: String,
    /// The client.
    pub client_id: String,
    /// The user.
    pub user_id: String,
    /// The session it belongs to.
    pub session_id: String,
    /// Scopes granted at sign-in (the most a refresh may ask for).
    pub scope: String,
    /// The API it was issued for.
    pub audience: Option<String>,
    /// Authentication facts of the sign-in.
    pub auth_time: i64,
    /// Methods used.
    pub amr: Vec<String>,
    /// Context class.
    pub acr: Option<String>,
    /// When it was issued.
    pub created_at: Millis,
    /// When it expires.
    pub expires_at: Millis,
    /// When it was exchanged for a new one.
    pub rotated_at: Option<Millis>,
    /// When it was revoked.
    pub revoked_at: Option<Millis>,
    /// For public clients using DPoP: the key thumbprint every refresh must prove.
    pub dpop_jkt: Option<String>,
}

/// An opaque access token: what a resource-less user token request gets (as in Logto and Auth0),
/// served to `/userinfo` and the Logto Account API. The client holds a random handle; only its
/// SHA-256 is stored, with the facts a JWT would have carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// SHA-256 of the handle.
    pub token_hash: String,
    /// The client it was issued to.
    pub client_id: String,
    /// The user.
    pub user_id: String,
    /// The session it came from (the `sid`).
    pub session_id: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// Authentication facts of the sign-in.
    pub auth_time: i64,
    /// Methods used.
    pub amr: Vec<String>,
    /// Context class.
    pub acr: Option<String>,
    /// The DPoP key thumbprint it is bound to, if any.
    pub dpop_jkt: Option<String>,
    /// When it was issued.
    pub created_at: Millis,
    /// When it expires.
    pub expires_at: Millis,
    /// The token family it was issued under (revoking the family, its grant or its session ends it).
    pub family_id: Option<String>,
}

/// One application's authorization by one user (Logto's "grant", Auth0's per-client grant): at
/// most one is live per (user, application). It owns the token families issued to that
/// application for that user, so revoking it ends every one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Its id.
    pub id: String,
    /// The user.
    pub user_id: String,
    /// The application.
    pub client_id: String,
    /// When the application was first authorized.
    pub created_at: Millis,
    /// When it was last used for a sign-in.
    pub updated_at: Millis,
    /// When it lapses without a new sign-in (the longest refresh token it can own).
    pub expires_at: Millis,
    /// When it was revoked.
    pub revoked_at: Option<Millis>,
}

/// One sign-in of an application under a session (one authorization-code exchange). Its refresh
/// tokens rotate within it and its access tokens name it, so it is the unit a token's liveness is
/// checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenFamily {
    /// Its id (the `family_id` claim of its access tokens).
    pub id: String,
    /// The user.
    pub user_id: String,
    /// The application.
    pub client_id: String,
    /// The session it was signed in under.
    pub session_id: String,
    /// The grant that owns it.
    pub grant_id: String,
    /// The scopes granted at sign-in.
    pub scope: String,
    /// When it started.
    pub created_at: Millis,
    /// When it was revoked.
    pub revoked_at: Option<Millis>,
}

/// What a user's tokens may no longer be used under: the sessions and token families revoked in
/// the last [`REVOCATION_HORIZON_MILLIS`] (no access token outlives that). Kept in memory per
/// user by the store and cleared on every node whenever one is revoked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Revocations {
    /// Revoked session ids.
    pub sessions: std::collections::HashSet<String>,
    /// Revoked token family ids.
    pub families: std::collections::HashSet<String>,
}

/// The longest an access token lives (an API's `token_lifetime` is at most 30 days): a
/// revocation older than that can no longer concern a live token.
pub const REVOCATION_HORIZON_MILLIS: Millis = 30 * 24 * 3600 * 1000;

impl Revocations {
    /// Whether a token issued under `session` and `family` still stands.
    pub fn allows(&self, session: Option<&str>, family: Option<&str>) -> bool {
        !session.is_some_and(|s| self.sessions.contains(s)) && !family.is_some_and(|f| self.families.contains(f))
    }
}
