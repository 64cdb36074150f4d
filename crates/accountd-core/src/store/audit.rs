use crate::audit::AuditEvent;
use crate::security_event::SecurityReport;
use crate::store::{Page, StoreResult};
use crate::tenant::TenantId;
use crate::user::UserId;

/// Which of one user's events to list (the security timeline): those that concern the user
/// ([`AuditEvent::concerns`]) with one of `actions`, newest first, older than `before` (an event
/// id) when given, then `page`.
#[derive(Debug, Clone, Copy)]
pub struct UserEventQuery<'a> {
    /// The user the events concern.
    pub user: &'a UserId,
    /// Their actions (`user.sign_in`, …).
    pub actions: &'a [&'a str],
    /// Only events older than this one (keyset paging).
    pub before: Option<&'a str>,
}

/// Audit events.
#[async_trait::async_trait]
pub trait AuditStore {
    /// Appends an event.
    async fn insert_audit_event(&self, tenant: &TenantId, event: &AuditEvent) -> StoreResult<()>;
    /// Events, newest first.
    async fn list_audit_events(&self, tenant: &TenantId, page: Page) -> StoreResult<Vec<AuditEvent>>;
    /// Events about one user, newest first (see [`UserEventQuery`]).
    async fn list_user_events(
        &self,
        tenant: &TenantId,
        query: UserEventQuery<'_>,
        page: Page,
    ) -> StoreResult<Vec<AuditEvent>>;
    /// One event by id.
    async fn find_audit_event(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<AuditEvent>>;
    /// Keeps a user's report; `Conflict` (`security_reports_event`) if the event was reported.
    async fn insert_security_report(&self, tenant: &TenantId, report: &SecurityReport) -> StoreResult<()>;
    /// Withdraws a report that could not be carried out; whether it existed.
    async fn delete_security_report(&self, tenant: &TenantId, id: &str) -> StoreResult<bool>;
    /// Reports, newest first, with how many there are.
    async fn list_security_reports(&self, tenant: &TenantId, page: Page) -> StoreResult<(Vec<SecurityReport>, u64)>;
    /// How many events [`AuditStore::list_user_events`] would list without paging.
    async fn count_user_events(&self, tenant: &TenantId, query: UserEventQuery<'_>) -> StoreResult<u64>;
}
