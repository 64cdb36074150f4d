// Message connectors, templates and the development outbox. Compiled once per backend (see
// `backend!` in lib.rs).

/// A stored name that does not parse back (a row written by a newer version, or damaged).
fn bad_column(index: &str) -> sqlx::Error {
    sqlx::Error::ColumnDecode { index: index.into(), source: "unknown value".into() }
}

fn channel_of(row: &Row) -> Result<Channel, sqlx::Error> {
    accountd_core::connector::parse_channel(&row.try_get::<String, _>("channel")?).ok_or_else(|| bad_column("channel"))
}

fn purpose_of(row: &Row) -> Result<Purpose, sqlx::Error> {
    accountd_core::connector::parse_purpose(&row.try_get::<String, _>("purpose")?).ok_or_else(|| bad_column("purpose"))
}

fn connector_of(row: &Row) -> Result<StoredConnector, sqlx::Error> {
    Ok(StoredConnector {
        channel: channel_of(row)?,
        kind: ConnectorKind::parse(&row.try_get::<String, _>("kind")?).ok_or_else(|| bad_column("kind"))?,
        enabled: row.try_get("enabled")?,
        settings: serde_json::from_str(&row.try_get::<String, _>("settings")?)
            .map_err(|e| sqlx::Error::ColumnDecode { index: "settings".into(), source: Box::new(e) })?,
        secret_sealed: row.try_get("secret_sealed")?,
        updated_at: row.try_get("updated_at")?,
    })
}

#[async_trait::async_trait]
impl ConnectorStore for Handle {
    async fn find_connector(&self, tenant: &TenantId, channel: Channel) -> StoreResult<Option<StoredConnector>> {
        let mut c = self.conn().await?;
        let row = sqlx::query(
            "SELECT channel, kind, enabled, settings, secret_sealed, updated_at FROM connectors \
             WHERE tenant_id = $1 AND channel = $2",
        )
        .bind(tenant.as_str())
        .bind(channel.as_str())
        .fetch_optional(&mut *c)
        .await
        .map_err(map_err)?;
        row.as_ref().map(connector_of).transpose().map_err(map_err)
    }

    async fn insert_connector(&self, tenant: &TenantId, k: &StoredConnector) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query(
            "INSERT INTO connectors (tenant_id, channel, kind, enabled, settings, secret_sealed, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(tenant.as_str())
        .bind(k.channel.as_str())
        .bind(k.kind.as_str())
        .bind(k.enabled)
        .bind(k.settings.to_string())
        .bind(&k.secret_sealed)
        .bind(k.updated_at)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn update_connector(&self, tenant: &TenantId, k: &StoredConnector) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query(
            "UPDATE connectors SET kind = $3, enabled = $4, settings = $5, secret_sealed = $6, updated_at = $7 \
             WHERE tenant_id = $1 AND channel = $2",
        )
        .bind(tenant.as_str())
        .bind(k.channel.as_str())
        .bind(k.kind.as_str())
        .bind(k.enabled)
        .bind(k.settings.to_string())
        .bind(&k.secret_sealed)
        .bind(k.updated_at)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn delete_connector(&self, tenant: &TenantId, channel: Channel) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query("DELETE FROM connectors WHERE tenant_id = $1 AND channel = $2")
            .bind(tenant.as_str())
            .bind(channel.as_str())
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn find_message_template(
        &self,
        tenant: &TenantId,
        channel: Channel,
        purpose: Purpose,
    ) -> StoreResult<Option<Template>> {
        let mut c = self.conn().await?;
        let row = sqlx::query(
            "SELECT subject, content FROM message_templates WHERE tenant_id = $1 AND channel = $2 AND purpose = $3",
        )
        .bind(tenant.as_str())
        .bind(channel.as_str())
        .bind(purpose.as_str())
        .fetch_optional(&mut *c)
        .await
        .map_err(map_err)?;
        row.map(|r| Ok(Template { subject: r.try_get("subject")?, content: r.try_get("content")? }))
            .transpose()
            .map_err(map_err)
    }

    async fn list_message_templates(
        &self,
        tenant: &TenantId,
        channel: Channel,
    ) -> StoreResult<Vec<(Purpose, Template)>> {
        let mut c = self.conn().await?;
        let rows = sqlx::query(
            "SELECT purpose, subject, content FROM message_templates WHERE tenant_id = $1 AND channel = $2 \
             ORDER BY purpose",
        )
        .bind(tenant.as_str())
        .bind(channel.as_str())
        .fetch_all(&mut *c)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| Ok((purpose_of(r)?, Template { subject: r.try_get("subject")?, content: r.try_get("content")? })))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(map_err)
    }

    async fn upsert_message_template(
        &self,
        tenant: &TenantId,
        channel: Channel,
        purpose: Purpose,
        t: &Template,
        now: i64,
    ) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query(
            "INSERT INTO message_templates (tenant_id, channel, purpose, subject, content, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) \
             ON CONFLICT (tenant_id, channel, purpose) DO UPDATE SET subject = excluded.subject, \
             content = excluded.content, updated_at = excluded.updated_at",
        )
        .bind(tenant.as_str())
        .bind(channel.as_str())
        .bind(purpose.as_str())
        .bind(&t.subject)
        .bind(&t.content)
        .bind(now)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn delete_message_template(
        &self,
        tenant: &TenantId,
        channel: Channel,
        purpose: Purpose,
    ) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query("DELETE FROM message_templates WHERE tenant_id = $1 AND channel = $2 AND purpose = $3")
            .bind(tenant.as_str())
            .bind(channel.as_str())
            .bind(purpose.as_str())
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn insert_outbox_message(
        &self,
        tenant: &TenantId,
        m: &OutboxMessage,
        keep_since: i64,
        keep_count: u32,
    ) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let mut tx = atomic(&mut c).await?;
        sqlx::query(
            "INSERT INTO outbox_messages (tenant_id, id, channel, recipient, purpose, subject, text, code, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(tenant.as_str())
        .bind(&m.id)
        .bind(m.channel.as_str())
        .bind(&m.recipient)
        .bind(m.purpose.as_str())
        .bind(&m.subject)
        .bind(&m.text)
        .bind(&m.code)
        .bind(m.created_at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        sqlx::query("DELETE FROM outbox_messages WHERE tenant_id = $1 AND created_at < $2")
            .bind(tenant.as_str())
            .bind(keep_since)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sqlx::query(
            "DELETE FROM outbox_messages WHERE tenant_id = $1 AND id NOT IN \
             (SELECT id FROM outbox_messages WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2)",
        )
        .bind(tenant.as_str())
        .bind(i64::from(keep_count))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn list_outbox_messages(
        &self,
        tenant: &TenantId,
        recipient: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<OutboxMessage>> {
        let mut c = self.conn().await?;
        let rows = sqlx::query(
            "SELECT id, channel, recipient, purpose, subject, text, code, created_at FROM outbox_messages \
             WHERE tenant_id = $1 AND ($2 IS NULL OR recipient = $2) ORDER BY created_at DESC, id DESC LIMIT $3",
        )
        .bind(tenant.as_str())
        .bind(recipient)
        .bind(i64::from(limit))
        .fetch_all(&mut *c)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok(OutboxMessage {
                    id: r.try_get("id")?,
                    channel: channel_of(r)?,
                    recipient: r.try_get("recipient")?,
                    purpose: purpose_of(r)?,
                    subject: r.try_get("subject")?,
                    text: r.try_get("text")?,
                    code: r.try_get("code")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(map_err)
    }
}
