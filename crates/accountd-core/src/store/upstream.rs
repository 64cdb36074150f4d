use crate::clock::Millis;
use crate::store::StoreResult;
use crate::tenant::TenantId;
use crate::upstream::{LinkedIdentity, StoredConnection};
use crate::user::UserId;

/// Upstream connections of a tenant, and the identities users hold at them with their sealed
/// token sets.
#[async_trait::async_trait]
pub trait UpstreamStore {
    /// Inserts a connection. Conflict `upstream_connections_name` if the name is taken.
    async fn insert_connection(&self, tenant: &TenantId, c: &StoredConnection) -> StoreResult<()>;
    /// Replaces a connection (by id); false if there is none.
    async fn update_connection(&self, tenant: &TenantId, c: &StoredConnection) -> StoreResult<bool>;
    /// Deletes a connection and every identity linked through it.
    async fn delete_connection(&self, tenant: &TenantId, id: &str) -> StoreResult<bool>;
    /// A connection by id or by name.
    async fn find_connection(&self, tenant: &TenantId, id_or_name: &str) -> StoreResult<Option<StoredConnection>>;
    /// The tenant's connections, by name.
    async fn list_connections(&self, tenant: &TenantId) -> StoreResult<Vec<StoredConnection>>;

    /// Links an identity. Conflict `identities_connection_id_subject` when another user (or this
    /// one) holds that provider account, `identities_user_id_connection_id` when the user already
    /// has an identity at that connection.
    async fn insert_identity(&self, tenant: &TenantId, identity: &LinkedIdentity) -> StoreResult<()>;
    /// Replaces the identity of `identity.user_id` at `identity.connection_id` (subject, profile,
    /// scopes, tokens), keeping its id and `created_at`; false if there is none.
    async fn replace_identity(&self, tenant: &TenantId, identity: &LinkedIdentity) -> StoreResult<bool>;
    /// The identity a provider account is linked as, whoever holds it.
    async fn find_identity_by_subject(
        &self,
        tenant: &TenantId,
        connection_id: &str,
        subject: &str,
    ) -> StoreResult<Option<LinkedIdentity>>;
    /// The user's identities, oldest first.
    async fn list_identities(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<LinkedIdentity>>;
    /// The same list for showing only (never for a check): it may come from a per-user cache that
    /// every identity write clears, on every node.
    async fn list_identities_for_display(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<LinkedIdentity>>;
    /// Unlinks one identity of the user (by id); false if the user has no such identity.
    async fn delete_identity(&self, tenant: &TenantId, user: &UserId, id: &str) -> StoreResult<bool>;
    /// Replaces the sealed token set of the user's identity `id` with `new` (the sealed set and
    /// when it stops working; `None` forgets it) if it is still `expected` (compare and swap, so
    /// two nodes refreshing at once keep one result); false otherwise.
    async fn swap_identity_tokens(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &str,
        expected: Option<&str>,
        new: Option<(&str, Option<Millis>)>,
        now: Millis,
    ) -> StoreResult<bool>;
}
