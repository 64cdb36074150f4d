// Audit events. Compiled once per backend (see `backend!` in lib.rs).

#[async_trait::async_trait]
impl AuditStore for Handle {
    async fn insert_audit_event(&self, tenant: &TenantId, e: &AuditEvent) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query(
            "INSERT INTO audit_events (tenant_id, id, at, actor, action, target_type, target_id, ip, user_agent, \
             result, detail, user_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
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
        .bind(e.concerns())
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn list_audit_events(&self, tenant: &TenantId, page: Page) -> StoreResult<Vec<AuditEvent>> {
        let mut c = self.conn().await?;
        let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_events WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant.as_str())
        .bind(i64::from(page.limit))
        .bind(i64::from(page.offset))
        .fetch_all(&mut *c)
        .await
        .map_err(map_err)?;
        rows.iter().map(audit_event_from).collect::<Result<_, sqlx::Error>>().map_err(map_err)
    }

    async fn list_user_events(
        &self,
        tenant: &TenantId,
        query: UserEventQuery<'_>,
        page: Page,
    ) -> StoreResult<Vec<AuditEvent>> {
        if query.actions.is_empty() {
            return Ok(Vec::new());
        }
        let (filter, next) = user_event_filter(&query);
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE {filter} ORDER BY id DESC LIMIT ${next} OFFSET ${}",
            next + 1
        );
        let mut c = self.conn().await?;
        let rows = bind_user_event_filter(sqlx::query(sqlx::AssertSqlSafe(sql)), tenant, &query)
            .bind(i64::from(page.limit))
            .bind(i64::from(page.offset))
            .fetch_all(&mut *c)
            .await
            .map_err(map_err)?;
        rows.iter().map(audit_event_from).collect::<Result<_, sqlx::Error>>().map_err(map_err)
    }

    async fn find_audit_event(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<AuditEvent>> {
        let mut c = self.conn().await?;
        let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_events WHERE tenant_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(&mut *c)
        .await
        .map_err(map_err)?;
        row.as_ref().map(audit_event_from).transpose().map_err(map_err)
    }

    async fn insert_security_report(&self, tenant: &TenantId, r: &SecurityReport) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query(
            "INSERT INTO security_reports (tenant_id, id, user_id, event_id, event_type, reported_at, ip, user_agent, \
             sessions_ended, grants_revoked, password_replaced) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(tenant.as_str())
        .bind(&r.id)
        .bind(&r.user_id)
        .bind(&r.event_id)
        .bind(&r.event_type)
        .bind(r.reported_at)
        .bind(&r.ip)
        .bind(&r.user_agent)
        .bind(r.sessions_ended)
        .bind(r.grants_revoked)
        .bind(r.password_replaced)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn delete_security_report(&self, tenant: &TenantId, id: &str) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let done = sqlx::query("DELETE FROM security_reports WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_security_reports(&self, tenant: &TenantId, page: Page) -> StoreResult<(Vec<SecurityReport>, u64)> {
        let mut c = self.conn().await?;
        let rows = sqlx::query(
            "SELECT id, user_id, event_id, event_type, reported_at, ip, user_agent, sessions_ended, grants_revoked, \
             password_replaced FROM security_reports WHERE tenant_id = $1 ORDER BY reported_at DESC, id DESC \
             LIMIT $2 OFFSET $3",
        )
        .bind(tenant.as_str())
        .bind(i64::from(page.limit))
        .bind(i64::from(page.offset))
        .fetch_all(&mut *c)
        .await
        .map_err(map_err)?;
        let total: i64 = sqlx::query_scalar("SELECT count(*) FROM security_reports WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_one(&mut *c)
            .await
            .map_err(map_err)?;
        let reports = rows
            .iter()
            .map(|r| {
                Ok(SecurityReport {
                    id: r.try_get("id")?,
                    user_id: r.try_get("user_id")?,
                    event_id: r.try_get("event_id")?,
                    event_type: r.try_get("event_type")?,
                    reported_at: r.try_get("reported_at")?,
                    ip: r.try_get("ip")?,
                    user_agent: r.try_get("user_agent")?,
                    sessions_ended: r.try_get("sessions_ended")?,
                    grants_revoked: r.try_get("grants_revoked")?,
                    password_replaced: r.try_get("password_replaced")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(map_err)?;
        Ok((reports, total.max(0) as u64))
    }

    async fn count_user_events(&self, tenant: &TenantId, query: UserEventQuery<'_>) -> StoreResult<u64> {
        if query.actions.is_empty() {
            return Ok(0);
        }
        let (filter, _) = user_event_filter(&query);
        let sql = format!("SELECT count(*) AS n FROM audit_events WHERE {filter}");
        let mut c = self.conn().await?;
        let row = bind_user_event_filter(sqlx::query(sqlx::AssertSqlSafe(sql)), tenant, &query)
            .fetch_one(&mut *c)
            .await
            .map_err(map_err)?;
        Ok(row.try_get::<i64, _>("n").map_err(map_err)?.max(0) as u64)
    }
}

/// The WHERE clause of a user's events, numbered as [`bind_user_event_filter`] binds them, and
/// the next free parameter number. Only placeholders are formatted in: every value is bound.
fn user_event_filter(q: &UserEventQuery<'_>) -> (String, usize) {
    let actions: Vec<String> = (0..q.actions.len()).map(|i| format!("${}", i + 3)).collect();
    let mut filter = format!(
        "tenant_id = $1 AND user_id = $2 AND action IN ({})",
        actions.join(", ")
    );
    let mut next = 3 + q.actions.len();
    if q.before.is_some() {
        filter.push_str(&format!(" AND id < ${next}"));
        next += 1;
    }
    (filter, next)
}

fn bind_user_event_filter<'q>(
    mut query: sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>,
    tenant: &'q TenantId,
    q: &UserEventQuery<'q>,
) -> sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments> {
    query = query.bind(tenant.as_str()).bind(q.user.0.as_str());
    for action in q.actions {
        query = query.bind(*action);
    }
    if let Some(before) = q.before {
        query = query.bind(before);
    }
    query
}

/// The columns [`audit_event_from`] reads.
const AUDIT_COLUMNS: &str = "id, at, actor, action, target_type, target_id, ip, user_agent, result, detail";

fn audit_event_from(r: &Row) -> Result<AuditEvent, sqlx::Error> {
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
}
