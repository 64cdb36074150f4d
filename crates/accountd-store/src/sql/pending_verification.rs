// Proofs in progress (enrollments, second-factor challenges, passkey ceremonies, push
// approvals). Compiled once per backend (see `backend!` in lib.rs).

const PENDING_COLUMNS: &str =
    "id, purpose, user_id, method_type, method_id, state, status, attempts, created_at, expires_at";

fn pending_from(r: &Row) -> Result<PendingVerification, sqlx::Error> {
    let purpose: String = r.try_get("purpose")?;
    let t: String = r.try_get("method_type")?;
    Ok(PendingVerification {
        id: r.try_get("id")?,
        purpose: PendingPurpose::parse(&purpose)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown purpose {purpose}").into()))?,
        user_id: r.try_get::<Option<String>, _>("user_id")?.map(UserId),
        method_type: MethodType::from_storage_name(&t)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown method type {t}").into()))?,
        method_id: r.try_get("method_id")?,
        state: r.try_get("state")?,
        status: PendingStatus::parse(&r.try_get::<String, _>("status")?),
        attempts: r.try_get("attempts")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
    })
}

#[async_trait::async_trait]
impl PendingVerificationStore for Handle {
    async fn insert_pending(&self, tenant: &TenantId, p: &PendingVerification) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query(
            "INSERT INTO pending_verifications (tenant_id, id, purpose, user_id, method_type, method_id, state, status, \
             attempts, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(tenant.as_str())
        .bind(&p.id)
        .bind(p.purpose.as_str())
        .bind(p.user_id.as_ref().map(|u| u.0.as_str()))
        .bind(p.method_type.storage_name())
        .bind(&p.method_id)
        .bind(&p.state)
        .bind(p.status.as_str())
        .bind(p.attempts)
        .bind(p.created_at)
        .bind(p.expires_at)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        // Expired rows are useless; drop a few now and then instead of running a job.
        if p.id.as_bytes().first().is_some_and(|b| *b == b'0') {
            sqlx::query("DELETE FROM pending_verifications WHERE expires_at <= $1")
                .bind(p.created_at)
                .execute(&mut *c)
                .await
                .map_err(map_err)?;
        }
        Ok(())
    }

    async fn find_pending(&self, tenant: &TenantId, id: &str, now: i64) -> StoreResult<Option<PendingVerification>> {
        let mut c = self.conn().await?;
        let sql = format!(
            "SELECT {PENDING_COLUMNS} FROM pending_verifications WHERE tenant_id = $1 AND id = $2 AND expires_at > $3"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(id)
            .bind(now)
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?;
        row.map(|r| pending_from(&r)).transpose().map_err(map_err)
    }

    async fn reserve_pending_attempt(&self, tenant: &TenantId, id: &str, max: i64) -> StoreResult<Option<i64>> {
        let mut c = self.conn().await?;
        let row = sqlx::query(
            "UPDATE pending_verifications SET attempts = attempts + 1 \
             WHERE tenant_id = $1 AND id = $2 AND attempts < $3 RETURNING attempts",
        )
        .bind(tenant.as_str())
        .bind(id)
        .bind(max)
        .fetch_optional(&mut *c)
        .await
        .map_err(map_err)?;
        row.map(|r| r.try_get::<i64, _>(0)).transpose().map_err(map_err)
    }

    async fn set_pending_status(&self, tenant: &TenantId, id: &str, status: PendingStatus) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query(
            "UPDATE pending_verifications SET status = $3 WHERE tenant_id = $1 AND id = $2 AND status = 'pending'",
        )
        .bind(tenant.as_str())
        .bind(id)
        .bind(status.as_str())
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn update_pending_state(
        &self,
        tenant: &TenantId,
        id: &str,
        expected: &str,
        state: &str,
    ) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query(
            "UPDATE pending_verifications SET state = $4 \
             WHERE tenant_id = $1 AND id = $2 AND state = $3 AND status = 'pending'",
        )
        .bind(tenant.as_str())
        .bind(id)
        .bind(expected)
        .bind(state)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn take_pending(&self, tenant: &TenantId, id: &str) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query("DELETE FROM pending_verifications WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn list_pending_for_method(
        &self,
        tenant: &TenantId,
        method_id: &str,
        now: i64,
    ) -> StoreResult<Vec<PendingVerification>> {
        let mut c = self.conn().await?;
        let sql = format!(
            "SELECT {PENDING_COLUMNS} FROM pending_verifications \
             WHERE tenant_id = $1 AND method_id = $2 AND expires_at > $3 ORDER BY created_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(method_id)
            .bind(now)
            .fetch_all(&mut *c)
            .await
            .map_err(map_err)?;
        rows.iter().map(pending_from).collect::<Result<_, _>>().map_err(map_err)
    }
}
