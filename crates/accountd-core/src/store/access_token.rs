use crate::session::AccessToken;
use crate::store::StoreResult;
use crate::tenant::TenantId;

/// Opaque access tokens, by the hash of their handle. Reads are rare: the HTTP layer keeps live
/// tokens in memory, so a token costs one read per node until it expires.
#[async_trait::async_trait]
pub trait AccessTokenStore {
    /// Inserts a token (expired rows of every tenant are dropped now and then on the way).
    async fn insert_access_token(&self, tenant: &TenantId, token: &AccessToken) -> StoreResult<()>;
    /// The live token (not expired at `now`) whose handle hashes to `token_hash`.
    async fn find_access_token(
        &self,
        tenant: &TenantId,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<Option<AccessToken>>;
    /// Deletes a token (revocation); whether there was one.
    async fn delete_access_token(&self, tenant: &TenantId, token_hash: &str) -> StoreResult<bool>;
}
