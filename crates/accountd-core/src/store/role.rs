use crate::api_resource::ApiId;
use crate::role::{Permission, Role, RoleId};
use crate::store::{Page, StoreResult};
use crate::tenant::TenantId;
use crate::user::UserId;

/// Roles, their permissions and their users.
#[async_trait::async_trait]
pub trait RoleStore {
    /// Inserts a role. Conflict `roles_name`.
    async fn insert_role(&self, tenant: &TenantId, role: &Role) -> StoreResult<()>;
    /// A role by id.
    async fn find_role(&self, tenant: &TenantId, id: &RoleId) -> StoreResult<Option<Role>>;
    /// Roles by name order, with the total count.
    async fn list_roles(&self, tenant: &TenantId, page: Page) -> StoreResult<(Vec<Role>, u64)>;
    /// Replaces name and description. Conflict `roles_name`.
    async fn update_role(&self, tenant: &TenantId, role: &Role) -> StoreResult<bool>;
    /// Deletes a role with its permissions and assignments.
    async fn delete_role(&self, tenant: &TenantId, id: &RoleId) -> StoreResult<bool>;
    /// Adds permissions (each must be a scope of its API); ones already present are kept.
    async fn add_role_permissions(&self, tenant: &TenantId, role: &RoleId, perms: &[Permission]) -> StoreResult<()>;
    /// Removes permissions; absent ones are ignored.
    async fn remove_role_permissions(&self, tenant: &TenantId, role: &RoleId, perms: &[Permission]) -> StoreResult<()>;
    /// A role's permissions, ordered by API and name.
    async fn list_role_permissions(&self, tenant: &TenantId, role: &RoleId) -> StoreResult<Vec<Permission>>;
    /// Assigns roles to a user; existing assignments are kept.
    async fn assign_user_roles(&self, tenant: &TenantId, user: &UserId, roles: &[RoleId]) -> StoreResult<()>;
    /// Removes role assignments; absent ones are ignored.
    async fn remove_user_roles(&self, tenant: &TenantId, user: &UserId, roles: &[RoleId]) -> StoreResult<()>;
    /// A user's roles by name.
    async fn list_user_roles(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<Role>>;
    /// Users holding a role, by id.
    async fn list_role_users(&self, tenant: &TenantId, role: &RoleId, page: Page) -> StoreResult<Vec<UserId>>;
    /// The scopes of `api` a user holds through any role (RBAC).
    async fn list_user_permissions(&self, tenant: &TenantId, user: &UserId, api: &ApiId) -> StoreResult<Vec<String>>;
}
