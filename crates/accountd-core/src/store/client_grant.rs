use crate::api_resource::ApiId;
use crate::client_grant::{ClientGrant, ClientGrantId, SubjectType};
use crate::store::{Page, StoreResult};
use crate::tenant::TenantId;

/// Filters for listing client grants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientGrantQuery {
    /// Only this client's grants.
    pub client_id: Option<String>,
    /// Only grants for this API.
    pub api_id: Option<ApiId>,
}

/// Client grants.
#[async_trait::async_trait]
pub trait ClientGrantStore {
    /// Inserts a grant. Conflict `client_grants_client_id_api_id_subject_type`.
    async fn insert_client_grant(&self, tenant: &TenantId, grant: &ClientGrant) -> StoreResult<()>;
    /// A grant by id.
    async fn find_client_grant(&self, tenant: &TenantId, id: &ClientGrantId) -> StoreResult<Option<ClientGrant>>;
    /// The grant of a client for an API and subject type (the token endpoint's question).
    async fn find_client_grant_for(
        &self,
        tenant: &TenantId,
        client_id: &str,
        api: &ApiId,
        subject_type: SubjectType,
    ) -> StoreResult<Option<ClientGrant>>;
    /// Grants matching `query`, oldest first, with the total count.
    async fn list_client_grants(
        &self,
        tenant: &TenantId,
        query: &ClientGrantQuery,
        page: Page,
    ) -> StoreResult<(Vec<ClientGrant>, u64)>;
    /// Replaces a grant's scopes.
    async fn update_client_grant_scopes(
        &self,
        tenant: &TenantId,
        id: &ClientGrantId,
        scopes: &[String],
    ) -> StoreResult<bool>;
    /// Deletes a grant.
    async fn delete_client_grant(&self, tenant: &TenantId, id: &ClientGrantId) -> StoreResult<bool>;
}
