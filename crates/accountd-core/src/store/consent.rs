use crate::store::StoreResult;
use crate::tenant::TenantId;

/// A consent a user gave an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// The application.
    pub client_id: String,
    /// The API (`""` for none).
    pub audience: String,
    /// The scopes consented to.
    pub scopes: Vec<String>,
    /// When it was last given.
    pub updated_at: i64,
}

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
    /// Every consent `user` gave: `(client, audience, scopes, updated_at)`, oldest first.
    async fn list_consents(&self, tenant: &TenantId, user: &str) -> StoreResult<Vec<Consent>>;
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
