use crate::store::StoreResult;
use crate::tenant::TenantId;

/// The tenant's account-center settings (see `crate::account_center`), stored as one JSON document.
#[async_trait::async_trait]
pub trait AccountCenterStore {
    /// The stored settings, `None` until an operator sets them.
    async fn load_account_center(&self, tenant: &TenantId) -> StoreResult<Option<String>>;
    /// Replaces the settings.
    async fn save_account_center(&self, tenant: &TenantId, settings: &str) -> StoreResult<()>;
}
