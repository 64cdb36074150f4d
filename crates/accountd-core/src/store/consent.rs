use crate::store::StoreResult;
use crate::tenant::TenantId;

/// Consents users gave applications, and the tenant's sign-up switch.
#[async_trait::async_trait]
pub trait ConsentStore {
    /// Scopes `user` consented to for `client` and `audience` (`""` for no API).
    async fn find_consent(
        &self,
        tenant: &TenantId,
        user: &str,
        client: &str,
        audience: &str,
    ) -> StoreResult<Option<Vec<String>>>;
    /// Records (replaces) a consent.
    async fn upsert_consent(
        &self,
        tenant: &TenantId,
        user: &str,
        client: &str,
        audience: &str,
        scopes: &[String],
        now: i64,
    ) -> StoreResult<()>;
    /// Whether the hosted page offers sign-up.
    async fn signup_allowed(&self, tenant: &TenantId) -> StoreResult<bool>;
    /// Turns sign-up on or off.
    async fn set_signup_allowed(&self, tenant: &TenantId, allowed: bool) -> StoreResult<bool>;
}
