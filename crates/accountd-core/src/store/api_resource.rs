use crate::api_resource::{ApiId, ApiResource, SystemApi};
use crate::store::{Page, StoreResult};
use crate::tenant::TenantId;

/// APIs with their scopes and access policies.
#[async_trait::async_trait]
pub trait ApiStore {
    /// Inserts an API and its scopes. Conflict `api_resources_identifier`.
    async fn insert_api(&self, tenant: &TenantId, api: &ApiResource) -> StoreResult<()>;
    /// An API by id.
    async fn find_api(&self, tenant: &TenantId, id: &ApiId) -> StoreResult<Option<ApiResource>>;
    /// An API by stored identifier (never a built-in one).
    async fn find_api_by_identifier(&self, tenant: &TenantId, identifier: &str) -> StoreResult<Option<ApiResource>>;
    /// A built-in API.
    async fn find_system_api(&self, tenant: &TenantId, system: SystemApi) -> StoreResult<Option<ApiResource>>;
    /// APIs, built-in first then oldest first, with the total count.
    async fn list_apis(&self, tenant: &TenantId, page: Page) -> StoreResult<(Vec<ApiResource>, u64)>;
    /// Replaces every field and the scope set; permissions for removed scopes go with them.
    async fn update_api(&self, tenant: &TenantId, api: &ApiResource) -> StoreResult<bool>;
    /// Deletes an API with its scopes, grants and permissions.
    async fn delete_api(&self, tenant: &TenantId, id: &ApiId) -> StoreResult<bool>;
}
