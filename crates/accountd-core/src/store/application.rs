use crate::application::Application;
use crate::store::{Page, StoreResult};
use crate::tenant::TenantId;

/// Applications (OAuth clients).
#[async_trait::async_trait]
pub trait ApplicationStore {
    /// Inserts an application.
    async fn insert_application(&self, tenant: &TenantId, app: &Application) -> StoreResult<()>;
    /// An application by client id.
    async fn find_application(&self, tenant: &TenantId, client_id: &str) -> StoreResult<Option<Application>>;
    /// Applications, oldest first, with the total count.
    async fn list_applications(&self, tenant: &TenantId, page: Page) -> StoreResult<(Vec<Application>, u64)>;
    /// Replaces every field of a stored application.
    async fn update_application(&self, tenant: &TenantId, app: &Application) -> StoreResult<bool>;
    /// Deletes an application and its grants.
    async fn delete_application(&self, tenant: &TenantId, client_id: &str) -> StoreResult<bool>;
}
