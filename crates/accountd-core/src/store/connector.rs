use crate::clock::Millis;
use crate::connector::{OutboxMessage, StoredConnector, Template};
use crate::message::{Channel, Purpose};
use crate::store::StoreResult;
use crate::tenant::TenantId;

/// Message connectors (one per tenant and channel), message templates (per channel and purpose)
/// and the development outbox.
#[async_trait::async_trait]
pub trait ConnectorStore {
    /// The tenant's connector for `channel`, its secret still sealed.
    async fn find_connector(&self, tenant: &TenantId, channel: Channel) -> StoreResult<Option<StoredConnector>>;
    /// Inserts a connector. Conflict `connectors_channel` if the channel has one.
    async fn insert_connector(&self, tenant: &TenantId, connector: &StoredConnector) -> StoreResult<()>;
    /// Replaces the channel's connector.
    async fn update_connector(&self, tenant: &TenantId, connector: &StoredConnector) -> StoreResult<bool>;
    /// Removes the channel's connector (the channel falls back to the default).
    async fn delete_connector(&self, tenant: &TenantId, channel: Channel) -> StoreResult<bool>;

    /// The tenant's own template for a channel and purpose.
    async fn find_message_template(
        &self,
        tenant: &TenantId,
        channel: Channel,
        purpose: Purpose,
    ) -> StoreResult<Option<Template>>;
    /// The tenant's own templates for a channel, by purpose (in no particular order).
    async fn list_message_templates(
        &self,
        tenant: &TenantId,
        channel: Channel,
    ) -> StoreResult<Vec<(Purpose, Template)>>;
    /// Records (replaces) a template.
    async fn upsert_message_template(
        &self,
        tenant: &TenantId,
        channel: Channel,
        purpose: Purpose,
        template: &Template,
        now: Millis,
    ) -> StoreResult<()>;
    /// Removes a template (the built-in one applies again).
    async fn delete_message_template(&self, tenant: &TenantId, channel: Channel, purpose: Purpose)
    -> StoreResult<bool>;

    /// Keeps a message in the outbox, then prunes the tenant's outbox to the messages created at or
    /// after `keep_since` and to the newest `keep_count`, all in one atomic unit.
    async fn insert_outbox_message(
        &self,
        tenant: &TenantId,
        message: &OutboxMessage,
        keep_since: Millis,
        keep_count: u32,
    ) -> StoreResult<()>;
    /// The newest `limit` outbox messages, newest first, optionally only those to `recipient`.
    async fn list_outbox_messages(
        &self,
        tenant: &TenantId,
        recipient: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<OutboxMessage>>;
}
