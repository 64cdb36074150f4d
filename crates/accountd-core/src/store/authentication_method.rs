use crate::authn::method::{AuthenticationMethod, MethodType, NewMethod};
use crate::store::StoreResult;
use crate::tenant::TenantId;
use crate::user::UserId;

/// Authentication methods of users, their secrets, and earlier password hashes.
#[async_trait::async_trait]
pub trait AuthenticationMethodStore {
    /// A user's methods, oldest first, without secrets.
    async fn list_methods(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<AuthenticationMethod>>;
    /// A user's methods to show the user (the account API's reads), oldest first: may come from
    /// a cache that every write through the store clears (on every node). Decisions about
    /// signing in or removing a method use [`Self::list_methods`].
    async fn list_methods_for_display(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Vec<AuthenticationMethod>> {
        self.list_methods(tenant, user).await
    }
    /// One method of the user.
    async fn find_method(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &str,
    ) -> StoreResult<Option<AuthenticationMethod>>;
    /// A user's methods of one type with their secrets (to check a proof).
    async fn load_methods_with_secrets(
        &self,
        tenant: &TenantId,
        user: &UserId,
        method_type: MethodType,
    ) -> StoreResult<Vec<(AuthenticationMethod, String)>>;
    /// Methods (with secrets) found by their lookup key (a passkey's user handle, a device id).
    async fn load_methods_by_lookup(
        &self,
        tenant: &TenantId,
        lookup_key: &str,
    ) -> StoreResult<Vec<(AuthenticationMethod, String)>>;
    /// Inserts a method. Conflict `authentication_methods_id`.
    async fn insert_method(&self, tenant: &TenantId, method: &NewMethod) -> StoreResult<()>;
    /// Writes a method's name, details, `updated_at` and `last_used_at`.
    async fn update_method(&self, tenant: &TenantId, method: &AuthenticationMethod) -> StoreResult<bool>;
    /// Replaces a method's secret (a passkey's signature counter, a TOTP's last used step) and
    /// records its use, only if the stored secret is still `expected` (so two concurrent uses of
    /// the same proof cannot both succeed).
    async fn swap_method_secret(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &str,
        expected: &str,
        secret: &str,
        used_at: i64,
    ) -> StoreResult<bool>;
    /// Deletes one method of the user.
    async fn delete_method(&self, tenant: &TenantId, user: &UserId, id: &str) -> StoreResult<bool>;
    /// Deletes the user's methods of one type (enrolling a recovery code replaces the old one).
    async fn delete_methods_of_type(&self, tenant: &TenantId, user: &UserId, t: MethodType) -> StoreResult<u64>;
    /// Remembers a password hash the user had, keeping the newest `keep`.
    async fn push_password_history(
        &self,
        tenant: &TenantId,
        user: &UserId,
        phc: &str,
        now: i64,
        keep: u32,
    ) -> StoreResult<()>;
    /// The user's earlier password hashes, newest first.
    async fn load_password_history(&self, tenant: &TenantId, user: &UserId, limit: u32) -> StoreResult<Vec<String>>;
}
