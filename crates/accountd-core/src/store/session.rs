use crate::session::{AuthorizationCode, RefreshToken, Session};
use crate::store::StoreResult;
use crate::tenant::TenantId;

/// Sessions, authorization codes and refresh tokens.
#[async_trait::async_trait]
pub trait SessionStore {
    /// Inserts a session under the hash of its cookie secret.
    async fn insert_session(&self, tenant: &TenantId, session: &Session, secret_hash: &str) -> StoreResult<()>;
    /// The live session (not revoked, not expired at `now`) whose cookie secret hashes to `secret_hash`.
    async fn find_session_by_secret(
        &self,
        tenant: &TenantId,
        secret_hash: &str,
        now: i64,
    ) -> StoreResult<Option<Session>>;
    /// Ends a session, revokes its refresh tokens and deletes its opaque access tokens.
    async fn revoke_session(&self, tenant: &TenantId, id: &str, now: i64) -> StoreResult<bool>;

    /// Inserts an authorization code.
    async fn insert_authorization_code(&self, tenant: &TenantId, code: &AuthorizationCode) -> StoreResult<()>;
    /// Atomically marks a code used and returns it with whether this call was the first use.
    /// Exactly one concurrent caller gets `(code, true)`; later ones get `(code, false)`.
    async fn consume_authorization_code(
        &self,
        tenant: &TenantId,
        code_hash: &str,
        now: i64,
    ) -> StoreResult<Option<(AuthorizationCode, bool)>>;

    /// Inserts a refresh token.
    async fn insert_refresh_token(&self, tenant: &TenantId, token: &RefreshToken) -> StoreResult<()>;
    /// A refresh token by the hash of its value (whatever its state).
    async fn find_refresh_token(&self, tenant: &TenantId, token_hash: &str) -> StoreResult<Option<RefreshToken>>;
    /// Marks a live token rotated; false if it was already rotated or revoked (a reuse).
    async fn rotate_refresh_token(&self, tenant: &TenantId, id: &str, now: i64) -> StoreResult<bool>;
    /// Revokes every token of a family; returns how many were live.
    async fn revoke_refresh_family(&self, tenant: &TenantId, family_id: &str, now: i64) -> StoreResult<u64>;
}
