use crate::store::StoreResult;
use crate::tenant::{Domain, NewTenant, Tenant, TenantId};

/// Tenants and their domains.
#[async_trait::async_trait]
pub trait TenantStore {
    /// Inserts a tenant with its canonical and extra domains. Conflict `tenants_id` or `domains_host`.
    async fn insert_tenant(&self, tenant: &NewTenant, now: i64) -> StoreResult<Tenant>;
    /// The tenant a lowercase host (no port) is bound to.
    async fn find_tenant_by_host(&self, host: &str) -> StoreResult<Option<Tenant>>;
    /// A tenant by id.
    async fn find_tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>>;
    /// Every tenant, oldest first.
    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>>;
    /// The tenant's domains, canonical first.
    async fn list_domains(&self, tenant: &TenantId) -> StoreResult<Vec<Domain>>;
    /// Binds a host to the tenant. Conflict `domains_host` if any tenant has it.
    async fn insert_domain(&self, tenant: &TenantId, host: &str, is_canonical: bool, now: i64) -> StoreResult<()>;
    /// Unbinds a non-canonical host.
    async fn delete_domain(&self, tenant: &TenantId, host: &str) -> StoreResult<bool>;
}
