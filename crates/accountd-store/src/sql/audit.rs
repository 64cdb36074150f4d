// Audit events. Compiled once per backend (see `backend!` in lib.rs).

#[async_trait::async_trait]
impl AuditStore for Handle {
    async fn insert_audit_event(&self, tenant: &TenantId, e: &AuditEvent) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query(
            "INSERT INTO audit_events (tenant_id, id, at, actor, action, target_type, target_id, ip, user_agent, \
             result, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(tenant.as_str())
        .bind(&e.id)
        .bind(e.at)
        .bind(e.actor.to_stored())
        .bind(&e.action)
        .bind(&e.target_type)
        .bind(&e.target_id)
        .bind(&e.ip)
        .bind(&e.user_agent)
        .bind(&e.result)
        .bind(to_json(&e.detail))
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn list_audit_events(&self, tenant: &TenantId, page: Page) -> StoreResult<Vec<AuditEvent>> {
        let mut c = self.conn().await?;
        let rows = sqlx::query(
            "SELECT id, at, actor, action, target_type, target_id, ip, user_agent, result, detail FROM audit_events \
             WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3",
        )
        .bind(tenant.as_str())
        .bind(i64::from(page.limit))
        .bind(i64::from(page.offset))
        .fetch_all(&mut *c)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok(AuditEvent {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    actor: Actor::from_stored(&r.try_get::<String, _>("actor")?),
                    action: r.try_get("action")?,
                    target_type: r.try_get("target_type")?,
                    target_id: r.try_get("target_id")?,
                    ip: r.try_get("ip")?,
                    user_agent: r.try_get("user_agent")?,
                    result: r.try_get("result")?,
                    detail: from_json::<serde_json::Value>(&r.try_get::<String, _>("detail")?),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(map_err)
    }
}
