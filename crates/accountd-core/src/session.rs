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
}
