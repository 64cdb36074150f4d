// Attempt counters. Compiled once per backend (see `backend!` in lib.rs). Each reservation is one
// conditional upsert: the row lock (PostgreSQL) or the write lock (SQLite) orders parallel
// callers, and a refused caller changes nothing.

/// A window is over once it is older than its length, or once the lockout it ended in has passed.
const WINDOW_OVER: &str = "(sign_in_throttle.window_start <= $3 - $4 \
     OR (sign_in_throttle.locked_until IS NOT NULL AND sign_in_throttle.locked_until <= $3))";

/// `tat` (GCRA's theoretical arrival time), or now if it is in the past.
const TAT_FROM_NOW: &str =
    "(CASE WHEN sign_in_rate.tat > $3 THEN sign_in_rate.tat ELSE $3 END)";

#[async_trait::async_trait]
impl ThrottleStore for Handle {
    async fn reserve_attempt(&self, tenant: &TenantId, key: &str, now: i64, rule: &ThrottleRule) -> StoreResult<Attempt> {
        let mut c = self.conn().await?;
        let next = format!("(CASE WHEN {WINDOW_OVER} THEN 1 ELSE sign_in_throttle.failures + 1 END)");
        let sql = format!(
            "INSERT INTO sign_in_throttle (tenant_id, throttle_key, window_start, failures, locked_until) \
             VALUES ($1, $2, $3, 1, CASE WHEN 1 >= $5 THEN $3 + $6 ELSE NULL END) \
             ON CONFLICT (tenant_id, throttle_key) DO UPDATE SET \
               failures = {next}, \
               window_start = CASE WHEN {WINDOW_OVER} THEN $3 ELSE sign_in_throttle.window_start END, \
               locked_until = CASE WHEN {next} >= $5 THEN $3 + $6 ELSE NULL END \
             WHERE {WINDOW_OVER} OR (sign_in_throttle.failures < $5 \
               AND (sign_in_throttle.locked_until IS NULL OR sign_in_throttle.locked_until <= $3)) \
             RETURNING failures"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(key)
            .bind(now)
            .bind(rule.window_millis)
            .bind(rule.max_failures)
            .bind(rule.lockout_millis)
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?;
        if let Some(row) = row {
            return Ok(Attempt::Allowed { number: row.try_get("failures").map_err(map_err)? });
        }
        // Refused: say until when (the lockout's end, or the window's if no lockout was set).
        let row = sqlx::query("SELECT window_start, locked_until FROM sign_in_throttle WHERE tenant_id = $1 AND throttle_key = $2")
            .bind(tenant.as_str())
            .bind(key)
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?;
        let until = match row {
            Some(r) => {
                let locked: Option<i64> = r.try_get("locked_until").map_err(map_err)?;
                let start: i64 = r.try_get("window_start").map_err(map_err)?;
                locked.filter(|t| *t > now).unwrap_or(start + rule.window_millis)
            }
            None => now,
        };
        Ok(Attempt::Refused { until: until.max(now + 1) })
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

    async fn reserve_rate(&self, tenant: &TenantId, key: &str, now: i64, rule: &RateRule) -> StoreResult<Attempt> {
        let mut c = self.conn().await?;
        // GCRA: an attempt pushes `tat` one interval on; it is allowed while `tat` stays within
        // `burst` intervals of now.
        let sql = format!(
            "INSERT INTO sign_in_rate (tenant_id, throttle_key, tat) VALUES ($1, $2, $3 + $4) \
             ON CONFLICT (tenant_id, throttle_key) DO UPDATE SET tat = {TAT_FROM_NOW} + $4 \
             WHERE {TAT_FROM_NOW} + $4 <= $3 + $4 * $5 \
             RETURNING tat"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(key)
            .bind(now)
            .bind(rule.interval_millis)
            .bind(rule.burst)
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?;
        if let Some(row) = row {
            let tat: i64 = row.try_get("tat").map_err(map_err)?;
            let used = (tat - now + rule.interval_millis - 1) / rule.interval_millis.max(1);
            return Ok(Attempt::Allowed { number: used });
        }
        let tat: Option<i64> = sqlx::query("SELECT tat FROM sign_in_rate WHERE tenant_id = $1 AND throttle_key = $2")
            .bind(tenant.as_str())
            .bind(key)
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?
            .map(|r| r.try_get("tat"))
            .transpose()
            .map_err(map_err)?;
        // The next attempt fits once `tat` is back within the burst.
        let until = tat.map_or(now, |t| t + rule.interval_millis - rule.interval_millis * rule.burst);
        Ok(Attempt::Refused { until: until.max(now + 1) })
    }

    async fn refund_rate(&self, tenant: &TenantId, key: &str, rule: &RateRule) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query("UPDATE sign_in_rate SET tat = tat - $3 WHERE tenant_id = $1 AND throttle_key = $2")
            .bind(tenant.as_str())
            .bind(key)
            .bind(rule.interval_millis)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}
