use crate::audit::AuditEvent;
use crate::store::{Page, StoreResult};
use crate::tenant::TenantId;

/// Audit events.
#[async_trait::async_trait]
pub trait AuditStore {
    /// Appends an event.
    async fn insert_audit_event(&self, tenant: &TenantId, event: &AuditEvent) -> StoreResult<()>;
    /// Events, newest first.
    async fn list_audit_events(&self, tenant: &TenantId, page: Page) -> StoreResult<Vec<AuditEvent>>;
}
