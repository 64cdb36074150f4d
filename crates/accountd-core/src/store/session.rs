use std::sync::Arc;

use crate::session::{AuthorizationCode, Grant, RefreshToken, Revocations, Session, TokenFamily};
use crate::store::StoreResult;
use crate::tenant::TenantId;
use crate::user::UserId;

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
    /// A session by id, whatever its state.
    async fn find_session(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<Session>>;
    /// The sessions of `user` live at `now` (neither revoked nor expired), newest first.
    async fn list_user_sessions(&self, tenant: &TenantId, user: &UserId, now: i64) -> StoreResult<Vec<Session>>;
    /// Notes that the browser came back with the session.
    async fn touch_session(&self, tenant: &TenantId, id: &str, now: i64) -> StoreResult<()>;
    /// Ends a session of `user` with its token families: their refresh tokens are revoked, their
    /// opaque access tokens deleted, and every node's view of the user's revocations cleared.
    /// Whether it was live.
    async fn revoke_session(&self, tenant: &TenantId, user: &UserId, id: &str, now: i64) -> StoreResult<bool>;
    /// Ends every live session of `user` but `keep`, as [`SessionStore::revoke_session`] does;
    /// returns the ids ended.
    async fn revoke_user_sessions(
        &self,
        tenant: &TenantId,
        user: &UserId,
        keep: Option<&str>,
        now: i64,
    ) -> StoreResult<Vec<String>>;

    /// The live grant of (`user`, `client`), created with `new_id` if there is none; either way it
    /// now lapses at `expires_at`. Returns its id. Parallel callers get the same grant.
    async fn upsert_grant(
        &self,
        tenant: &TenantId,
        user: &UserId,
        client_id: &str,
        new_id: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<String>;
    /// The grants of `user` live at `now`, oldest first.
    async fn list_user_grants(&self, tenant: &TenantId, user: &UserId, now: i64) -> StoreResult<Vec<Grant>>;
    /// Revokes a live grant of `user` with every token family it owns (as a session revocation
    /// does for its families). Whether there was one.
    async fn revoke_grant(&self, tenant: &TenantId, user: &UserId, id: &str, now: i64) -> StoreResult<bool>;
    /// Records a token family (at its first code exchange).
    async fn insert_token_family(&self, tenant: &TenantId, family: &TokenFamily) -> StoreResult<()>;
    /// The live (unrevoked) token families of `user`.
    async fn list_user_families(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<TokenFamily>>;
    /// The sessions and families of `user` revoked since `since`. Outside a transaction this is
    /// served from memory and cleared on every node by each revocation: it is read per request.
    async fn find_revocations(&self, tenant: &TenantId, user: &UserId, since: i64) -> StoreResult<Arc<Revocations>>;

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
    /// Rotates the live token `old` into `successor`: marks `old` rotated, then notes its session
    /// as seen at `now` and inserts `successor` (if any). False, with nothing written, if `old`
    /// was already rotated or revoked (a reuse): of parallel rotations of one token exactly one
    /// succeeds.
    async fn rotate_refresh_token(
        &self,
        tenant: &TenantId,
        old: &RefreshToken,
        now: i64,
        successor: Option<&RefreshToken>,
    ) -> StoreResult<bool>;
    /// Revokes a family of `user`: its refresh tokens, its opaque access tokens and (through the
    /// revocation view) its JWTs. Returns how many refresh tokens were live.
    async fn revoke_refresh_family(
        &self,
        tenant: &TenantId,
        user: &UserId,
        family_id: &str,
        now: i64,
    ) -> StoreResult<u64>;
}
