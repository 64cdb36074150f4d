use crate::store::{Page, StoreResult};
use crate::tenant::TenantId;
use crate::user::{NewUser, User, UserId};

/// Filters for listing users.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserQuery {
    /// Exact (lowercase) email.
    pub email: Option<String>,
}

/// Users and their password.
#[async_trait::async_trait]
pub trait UserStore {
    /// Inserts a user (and its password, if any). Conflict `users_email`, `users_username`,
    /// `users_phone_number`.
    async fn insert_user(&self, tenant: &TenantId, user: &NewUser) -> StoreResult<()>;
    /// A user by id.
    async fn find_user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<Option<User>>;
    /// A user by id for showing it (self-service reads): may come from a cache that every write
    /// to the user clears. Never for a decision a write depends on.
    async fn find_user_for_display(&self, tenant: &TenantId, id: &UserId) -> StoreResult<Option<User>>;
    /// Users matching `query`, oldest first, with the total count.
    async fn list_users(&self, tenant: &TenantId, query: &UserQuery, page: Page) -> StoreResult<(Vec<User>, u64)>;
    /// Replaces every profile field of a stored user. Same conflicts as insert.
    async fn update_user(&self, tenant: &TenantId, user: &User) -> StoreResult<bool>;
    /// Deletes a user with everything that belongs to it.
    async fn delete_user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<bool>;
    /// Sets or replaces the user's password hash.
    async fn set_password_hash(&self, tenant: &TenantId, id: &UserId, phc: &str, now: i64) -> StoreResult<()>;
    /// The user's password hash (a secret: only sign-in and password checks read it).
    async fn load_password_hash(&self, tenant: &TenantId, id: &UserId) -> StoreResult<Option<String>>;
    /// The user's MFA settings document (`{}` until set); `None` when there is no such user.
    async fn load_mfa_settings(&self, tenant: &TenantId, id: &UserId) -> StoreResult<Option<String>>;
    /// Replaces the user's MFA settings document with `new` only if it is still `expected`, so two
    /// concurrent changes of different keys cannot lose one; false when it changed meanwhile (or
    /// there is no such user).
    async fn swap_mfa_settings(&self, tenant: &TenantId, id: &UserId, expected: &str, new: &str) -> StoreResult<bool>;
}
