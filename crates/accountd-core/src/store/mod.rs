//! The storage traits core owns. `accountd-store` implements them for SQLite and PostgreSQL, and
//! `conformance` (feature `conformance`) is the one suite every backend must pass.
//!
//! Grammar: the tenant comes first in every method (only `find_tenant_by_host` and `list_tenants`,
//! which resolve tenants, take none). `find_*` returns an `Option`; `list_*` is ordered and paged;
//! `insert_*` reports a unique violation as `StoreError::Conflict`; `update_*`/`delete_*` return
//! whether a row was touched. Secrets are read through their own methods (`load_*`).

mod access_token;
mod api_resource;
mod application;
mod audit;
mod authentication_method;
mod client_grant;
mod connector;
mod consent;
mod pending_verification;
mod replay;
mod role;
mod session;
mod signing_key;
mod tenant;
mod tenant_settings;
mod throttle;
mod upstream;
mod user;
mod verification;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use access_token::AccessTokenStore;
pub use api_resource::ApiStore;
pub use application::ApplicationStore;
pub use audit::{AuditStore, UserEventQuery};
pub use authentication_method::AuthenticationMethodStore;
pub use client_grant::{ClientGrantQuery, ClientGrantStore};
pub use connector::ConnectorStore;
pub use consent::{Consent, ConsentStore};
pub use pending_verification::PendingVerificationStore;
pub use replay::ReplayStore;
pub use role::RoleStore;
pub use session::SessionStore;
pub use signing_key::SigningKeyStore;
pub use tenant::TenantStore;
pub use tenant_settings::TenantSettingsStore;
pub use throttle::{Attempt, RateRule, ThrottleRule, ThrottleStore};
pub use upstream::UpstreamStore;
pub use user::{UserQuery, UserStore};
pub use verification::VerificationRecordStore;

pub use crate::error::{StoreError, StoreResult};

/// A page of a list: `limit` rows after skipping `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Rows to skip.
    pub offset: u32,
    /// Rows to return at most.
    pub limit: u32,
}

impl Page {
    /// Everything (up to a safety cap).
    pub const ALL: Page = Page { offset: 0, limit: 10_000 };

    /// Page `page` (from 0) of `per_page` rows.
    pub fn new(page: u32, per_page: u32) -> Self {
        Self { offset: page.saturating_mul(per_page), limit: per_page }
    }
}

/// All queries, whether run directly on the pool or inside a transaction.
pub trait Queries:
    TenantStore
    + UserStore
    + ApplicationStore
    + ApiStore
    + ClientGrantStore
    + RoleStore
    + SessionStore
    + AccessTokenStore
    + ThrottleStore
    + ReplayStore
    + ConsentStore
    + ConnectorStore
    + SigningKeyStore
    + AuditStore
    + AuthenticationMethodStore
    + PendingVerificationStore
    + TenantSettingsStore
    + VerificationRecordStore
    + UpstreamStore
    + Send
    + Sync
{
}

impl<T> Queries for T where
    T: TenantStore
        + UserStore
        + ApplicationStore
        + ApiStore
        + ClientGrantStore
        + RoleStore
        + SessionStore
        + AccessTokenStore
        + ThrottleStore
        + ReplayStore
        + ConsentStore
        + ConnectorStore
        + SigningKeyStore
        + AuditStore
        + AuthenticationMethodStore
        + PendingVerificationStore
        + TenantSettingsStore
        + VerificationRecordStore
        + UpstreamStore
        + Send
        + Sync
{
}

/// A database: queries on the pool (each statement on its own), plus transactions.
#[async_trait::async_trait]
pub trait Store: Queries {
    /// Starts a transaction. Dropping the returned `Tx` without `commit` rolls it back.
    async fn begin(&self) -> StoreResult<Box<dyn Tx>>;
    /// Checks the database answers (for `/readyz`).
    async fn ping(&self) -> StoreResult<()>;
    /// Closes the pool, waiting for connections to be returned.
    async fn close(&self);
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Connections the pool holds and how many of them are idle (metrics); `None` if unknown.
    fn pool_state(&self) -> Option<(u32, usize)> {
        None
    }
}

/// An open transaction.
#[async_trait::async_trait]
pub trait Tx: Queries {
    /// Commits everything done through this transaction.
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}
