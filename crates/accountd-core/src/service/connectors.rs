use serde_json::json;

use super::Core;
use crate::audit::{AuditEvent, Context};
use crate::clock::now_millis;
use crate::connector::StoredConnector;
use crate::connector::{
    ConnectorFields, OutboxMessage, Template, TenantConnector, default_template, validate_template,
};
use crate::error::{Error, Result};
use crate::message::{Channel, Purpose};
use crate::store::{Queries, Tx};
use crate::tenant::TenantId;

/// A template as a tenant sees it: its own, or the built-in one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateView {
    /// Why messages with it are sent.
    pub purpose: Purpose,
    /// The template.
    pub template: Template,
    /// Whether it is the built-in template (the tenant has none of its own).
    pub is_default: bool,
}

/// Names of the fields a change sets, for audit details (never their values).
fn changed_fields(f: &ConnectorFields) -> serde_json::Value {
    super::changed(&[
        ("name", f.kind.is_some()),
        ("enabled", f.enabled.is_some()),
        ("host", f.host.is_some()),
        ("port", f.port.is_some()),
        ("username", f.username.is_some()),
        ("password", f.password.is_some()),
        ("from_address", f.from_address.is_some()),
        ("tls", f.tls.is_some()),
        ("endpoint", f.endpoint.is_some()),
        ("authorization_token", f.authorization_token.is_some()),
    ])["changed"]
        .clone()
}

/// Replaces the channel's stored connector, or inserts it if there is none; the audit action.
async fn write_connector(tx: &dyn Tx, tenant: &TenantId, stored: &StoredConnector) -> Result<&'static str> {
    if tx.update_connector(tenant, stored).await? {
        return Ok("connector.update");
    }
    tx.insert_connector(tenant, stored).await?;
    Ok("connector.create")
}

impl Core {
    /// Records a connector change (with the fields it changed, never their values) and commits.
    async fn record_connector_change(
        &self,
        tx: Box<dyn Tx>,
        ctx: &Context,
        tenant: &TenantId,
        action: &str,
        connector: &TenantConnector,
        detail: serde_json::Value,
    ) -> Result<()> {
        let channel = connector.channel;
        let event = AuditEvent::success(
            ctx,
            action,
            "connector",
            channel.as_str(),
            json!({"name": connector.config.kind().as_str(), "changed": detail}),
        );
        tx.insert_audit_event(tenant, &event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The tenant's connector for `channel`, or `None` when it configured none (the outbox applies).
    pub async fn connector(&self, tenant: &TenantId, channel: Channel) -> Result<Option<TenantConnector>> {
        self.load_connector(&*self.store, tenant, channel).await
    }

    async fn load_connector(
        &self,
        q: &dyn Queries,
        tenant: &TenantId,
        channel: Channel,
    ) -> Result<Option<TenantConnector>> {
        match q.find_connector(tenant, channel).await? {
            Some(stored) => Ok(Some(TenantConnector::open(&stored, tenant, &self.master_key)?)),
            None => Ok(None),
        }
    }

    /// Configures a channel that has no connector yet (`Conflict` `connectors_channel` otherwise).
    pub async fn create_connector(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        channel: Channel,
        fields: ConnectorFields,
    ) -> Result<TenantConnector> {
        let detail = changed_fields(&fields);
        let connector = TenantConnector::apply(None, channel, fields, now_millis())?;
        let stored = connector.seal(tenant, &self.master_key)?;
        let tx = self.store.begin().await?;
        tx.insert_connector(tenant, &stored).await?;
        self.record_connector_change(tx, ctx, tenant, "connector.create", &connector, detail).await?;
        Ok(connector)
    }

    /// Changes a channel's connector, creating it if the channel has none: fields of the same kind
    /// are merged (absent secrets are kept), another kind starts afresh.
    pub async fn update_connector(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        channel: Channel,
        fields: ConnectorFields,
    ) -> Result<TenantConnector> {
        let detail = changed_fields(&fields);
        let tx = self.store.begin().await?;
        let current = self.load_connector(&*tx, tenant, channel).await?;
        let connector = TenantConnector::apply(current.as_ref(), channel, fields, now_millis())?;
        let stored = connector.seal(tenant, &self.master_key)?;
        let action = write_connector(&*tx, tenant, &stored).await?;
        self.record_connector_change(tx, ctx, tenant, action, &connector, detail).await?;
        Ok(connector)
    }

    /// Replaces a channel's connector with one built from `fields` alone, except that a secret left
    /// out is kept when the kind stays the same (secrets are write-only, so a read-then-write keeps
    /// them).
    pub async fn set_connector(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        channel: Channel,
        fields: ConnectorFields,
    ) -> Result<TenantConnector> {
        let kind = fields.kind.ok_or_else(|| Error::invalid("name", "is required"))?;
        let current = self.connector(tenant, channel).await?;
        let mut full = fields;
        if let Some(c) = current.as_ref().filter(|c| c.config.kind() == kind) {
            // Keep only the secret: every other field must be given again.
            use crate::connector::ConnectorConfig;
            match &c.config {
                ConnectorConfig::Smtp(s) if full.password.is_none() && matches!(full.username, Some(Some(_))) => {
                    full.password = Some(s.password.clone());
                }
                ConnectorConfig::Http(h) if full.authorization_token.is_none() => {
                    full.authorization_token = Some(h.authorization_token.clone());
                }
                _ => {}
            }
        }
        let detail = changed_fields(&full);
        let connector = TenantConnector::apply(None, channel, full, now_millis())?;
        let stored = connector.seal(tenant, &self.master_key)?;
        let tx = self.store.begin().await?;
        let action = write_connector(&*tx, tenant, &stored).await?;
        self.record_connector_change(tx, ctx, tenant, action, &connector, detail).await?;
        Ok(connector)
    }

    /// Removes a channel's connector (the outbox applies again); whether there was one.
    pub async fn delete_connector(&self, ctx: &Context, tenant: &TenantId, channel: Channel) -> Result<bool> {
        let tx = self.store.begin().await?;
        let existed = tx.delete_connector(tenant, channel).await?;
        if existed {
            tx.insert_audit_event(
                tenant,
                &AuditEvent::success(ctx, "connector.delete", "connector", channel.as_str(), json!({})),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(existed)
    }

    /// The template the tenant uses for a channel and purpose.
    pub async fn message_template(
        &self,
        tenant: &TenantId,
        channel: Channel,
        purpose: Purpose,
    ) -> Result<TemplateView> {
        Ok(match self.store.find_message_template(tenant, channel, purpose).await? {
            Some(template) => TemplateView { purpose, template, is_default: false },
            None => TemplateView { purpose, template: default_template(channel, purpose), is_default: true },
        })
    }

    /// Every purpose's template for a channel, in `Purpose::ALL` order.
    pub async fn message_templates(&self, tenant: &TenantId, channel: Channel) -> Result<Vec<TemplateView>> {
        let own = self.store.list_message_templates(tenant, channel).await?;
        Ok(Purpose::ALL
            .into_iter()
            .map(|purpose| match own.iter().find(|(p, _)| *p == purpose) {
                Some((_, t)) => TemplateView { purpose, template: t.clone(), is_default: false },
                None => TemplateView { purpose, template: default_template(channel, purpose), is_default: true },
            })
            .collect())
    }

    /// Sets the tenant's own template for a channel and purpose.
    pub async fn set_message_template(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        channel: Channel,
        purpose: Purpose,
        template: Template,
    ) -> Result<TemplateView> {
        validate_template(channel, &template)?;
        let tx = self.store.begin().await?;
        tx.upsert_message_template(tenant, channel, purpose, &template, now_millis()).await?;
        tx.insert_audit_event(
            tenant,
            &AuditEvent::success(
                ctx,
                "message_template.update",
                "message_template",
                &format!("{}:{}", channel.as_str(), purpose.as_str()),
                json!({}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(TemplateView { purpose, template, is_default: false })
    }

    /// Drops the tenant's own template (the built-in one applies again); whether it had one.
    pub async fn reset_message_template(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        channel: Channel,
        purpose: Purpose,
    ) -> Result<bool> {
        let tx = self.store.begin().await?;
        let existed = tx.delete_message_template(tenant, channel, purpose).await?;
        if existed {
            tx.insert_audit_event(
                tenant,
                &AuditEvent::success(
                    ctx,
                    "message_template.delete",
                    "message_template",
                    &format!("{}:{}", channel.as_str(), purpose.as_str()),
                    json!({}),
                ),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(existed)
    }

    /// The newest outbox messages (at most `limit`, up to 1000), optionally only to `recipient`.
    pub async fn outbox_messages(
        &self,
        tenant: &TenantId,
        recipient: Option<&str>,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>> {
        let limit = limit.clamp(1, crate::connector::OUTBOX_MAX_PER_TENANT);
        Ok(self.store.list_outbox_messages(tenant, recipient, limit).await?)
    }
}
