// Sign-in throttling. Compiled once per backend (see `backend!` in lib.rs).

#[async_trait::async_trait]
impl ThrottleStore for Handle {
    async fn record_failure(&self, tenant: &TenantId, key: &str, now: i64, rule: &ThrottleRule) -> StoreResult<Lockout> {
        let mut c = self.conn().await?;
        // One atomic upsert: a new window starts when the old one has passed; reaching the limit
        // sets the lockout end.
        let row = sqlx::query(
            "INSERT INTO sign_in_throttle (tenant_id, throttle_key, window_start, failures, locked_until) \
             VALUES ($1, $2, $3, 1, CASE WHEN 1 >= $5 THEN $3 + $6 ELSE NULL END) \
             ON CONFLICT (tenant_id, throttle_key) DO UPDATE SET \
               failures = CASE WHEN sign_in_throttle.window_start > $3 - $4 THEN sign_in_throttle.failures + 1 ELSE 1 END, \
               window_start = CASE WHEN sign_in_throttle.window_start > $3 - $4 THEN sign_in_throttle.window_start ELSE $3 END, \
               locked_until = CASE \
                 WHEN (CASE WHEN sign_in_throttle.window_start > $3 - $4 THEN sign_in_throttle.failures + 1 ELSE 1 END) >= $5 \
                 THEN $3 + $6 ELSE sign_in_throttle.locked_until END \
             RETURNING failures, locked_until",
        )
        .bind(tenant.as_str())
        .bind(key)
        .bind(now)
        .bind(rule.window_millis)
        .bind(rule.max_failures)
        .bind(rule.lockout_millis)
        .fetch_one(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(Lockout {
            failures: row.try_get("failures").map_err(map_err)?,
            locked_until: row.try_get::<Option<i64>, _>("locked_until").map_err(map_err)?.filter(|t| *t > now),
        })
    }

    async fn find_lockout(&self, tenant: &TenantId, key: &str, now: i64) -> StoreResult<Option<i64>> {
        let mut c = self.conn().await?;
        let row = sqlx::query(
            "SELECT locked_until FROM sign_in_throttle WHERE tenant_id = $1 AND throttle_key = $2 AND locked_until > $3",
        )
        .bind(tenant.as_str())
        .bind(key)
        .bind(now)
        .fetch_optional(&mut *c)
        .await
        .map_err(map_err)?;
        row.map(|r| r.try_get::<i64, _>(0)).transpose().map_err(map_err)
    }

    async fn clear_failures(&self, tenant: &TenantId, key: &str) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query("DELETE FROM sign_in_throttle WHERE tenant_id = $1 AND throttle_key = $2")
            .bind(tenant.as_str())
            .bind(key)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}
