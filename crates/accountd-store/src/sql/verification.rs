// Verification records. Compiled once per backend (see `backend!` in lib.rs).

const RECORD_COLUMNS: &str =
    "id, user_id, kind, identifier, purpose, verified, code_state, attempts, created_at, expires_at";

fn record_from(r: &Row) -> Result<VerificationRecord, sqlx::Error> {
    let kind: String = r.try_get("kind")?;
    let purpose: Option<String> = r.try_get("purpose")?;
    Ok(VerificationRecord {
        id: r.try_get("id")?,
        user_id: r.try_get::<Option<String>, _>("user_id")?.map(UserId),
        kind: RecordKind::parse(&kind).ok_or_else(|| sqlx::Error::Decode(format!("record kind {kind}").into()))?,
        identifier: r.try_get("identifier")?,
        purpose: purpose.and_then(|p| Purpose::ALL.into_iter().find(|x| x.as_str() == p)),
        verified: r.try_get("verified")?,
        code_state: r.try_get("code_state")?,
        attempts: r.try_get("attempts")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
    })
}

#[async_trait::async_trait]
impl VerificationRecordStore for Handle {
    async fn insert_verification_record(&self, tenant: &TenantId, v: &VerificationRecord) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query(
            "INSERT INTO verification_records (tenant_id, id, user_id, kind, identifier, purpose, verified, code_state, \
             attempts, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(tenant.as_str())
        .bind(&v.id)
        .bind(v.user_id.as_ref().map(|u| u.0.as_str()))
        .bind(v.kind.as_str())
        .bind(&v.identifier)
        .bind(v.purpose.map(|p| p.as_str()))
        .bind(v.verified)
        .bind(&v.code_state)
        .bind(v.attempts)
        .bind(v.created_at)
        .bind(v.expires_at)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn find_verification_record(
        &self,
        tenant: &TenantId,
        id: &str,
        now: i64,
    ) -> StoreResult<Option<VerificationRecord>> {
        let mut c = self.conn().await?;
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM verification_records WHERE tenant_id = $1 AND id = $2 AND expires_at > $3"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(id)
            .bind(now)
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?;
        row.map(|r| record_from(&r)).transpose().map_err(map_err)
    }

    async fn reserve_code_attempt(&self, tenant: &TenantId, id: &str, max: i64, now: i64) -> StoreResult<Option<i64>> {
        let mut c = self.conn().await?;
        let row = sqlx::query(
            "UPDATE verification_records SET attempts = attempts + 1 \
             WHERE tenant_id = $1 AND id = $2 AND expires_at > $3 AND code_state IS NOT NULL AND attempts < $4 \
             RETURNING attempts",
        )
        .bind(tenant.as_str())
        .bind(id)
        .bind(now)
        .bind(max)
        .fetch_optional(&mut *c)
        .await
        .map_err(map_err)?;
        row.map(|r| r.try_get::<i64, _>("attempts")).transpose().map_err(map_err)
    }

    async fn mark_record_verified(&self, tenant: &TenantId, id: &str, now: i64) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query(
            "UPDATE verification_records SET verified = TRUE, code_state = NULL \
             WHERE tenant_id = $1 AND id = $2 AND expires_at > $3 AND code_state IS NOT NULL",
        )
        .bind(tenant.as_str())
        .bind(id)
        .bind(now)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn complete_record(
        &self,
        tenant: &TenantId,
        id: &str,
        expected: &str,
        state: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query(
            "UPDATE verification_records SET verified = TRUE, code_state = $4 \
             WHERE tenant_id = $1 AND id = $2 AND expires_at > $5 AND verified = FALSE AND code_state = $3",
        )
        .bind(tenant.as_str())
        .bind(id)
        .bind(expected)
        .bind(state)
        .bind(now)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn swap_record_state(
        &self,
        tenant: &TenantId,
        id: &str,
        expected: &str,
        state: &str,
        verified: bool,
        now: i64,
    ) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query(
            "UPDATE verification_records SET verified = $5, code_state = $4 \
             WHERE tenant_id = $1 AND id = $2 AND expires_at > $6 AND code_state = $3",
        )
        .bind(tenant.as_str())
        .bind(id)
        .bind(expected)
        .bind(state)
        .bind(verified)
        .bind(now)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }
}
