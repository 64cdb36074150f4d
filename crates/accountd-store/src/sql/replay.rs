// One-time values (DPoP `jti`). Compiled once per backend (see `backend!` in lib.rs).

#[async_trait::async_trait]
impl ReplayStore for Handle {
    fn unsaved_before(&self) -> Option<i64> {
        match &self.one_time {
            Some(crate::OneTimeValues::InMemory(seen)) => seen.unsaved_before(),
            _ => None,
        }
    }

    async fn remember_once(&self, tenant: &TenantId, key: &str, now: i64, expires_at: i64) -> StoreResult<bool> {
        match &self.one_time {
            Some(crate::OneTimeValues::Batched(batches)) => {
                return batches.remember_once(tenant.as_str(), key, now, expires_at).await;
            }
            Some(crate::OneTimeValues::InMemory(seen)) => {
                if !seen.loaded() {
                    let rows = load_seen_keys(&mut *self.conn().await?, now).await?;
                    seen.load(rows);
                }
                match seen.check(tenant.as_str(), key, now, expires_at) {
                    crate::seen_keys::Seen::New => return Ok(true),
                    crate::seen_keys::Seen::Replay => return Ok(false),
                    crate::seen_keys::Seen::AskTable => {}
                }
            }
            None => {}
        }
        let mut c = self.conn().await?;
        // One statement: a new key is inserted; an expired one is renewed; a live one is left
        // alone (no row changed), which is the replay. Concurrent callers race on the primary key.
        let r = sqlx::query(
            "INSERT INTO dpop_proofs (tenant_id, proof_key, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id, proof_key) DO UPDATE SET expires_at = excluded.expires_at \
             WHERE dpop_proofs.expires_at <= $4",
        )
        .bind(tenant.as_str())
        .bind(key)
        .bind(expires_at)
        .bind(now)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        // Sweep a few expired rows now and then, so the table stays small without a job (keyed on the
        // last byte: the first is always the key prefix, which never matched).
        if r.rows_affected() == 1 && key.as_bytes().last().is_some_and(|b| b % 16 == 0) {
            sqlx::query("DELETE FROM dpop_proofs WHERE expires_at <= $1")
                .bind(now)
                .execute(&mut *c)
                .await
                .map_err(map_err)?;
        }
        Ok(r.rows_affected() == 1)
    }
}

/// The unexpired keys saved by earlier processes: the batches written from memory, and the rows of
/// keys checked in the table itself.
async fn load_seen_keys(c: &mut <Db as sqlx::Database>::Connection, now: i64) -> StoreResult<Vec<crate::seen_keys::Unsaved>> {
    let mut keys: Vec<crate::seen_keys::Unsaved> = Vec::new();
    let batches = sqlx::query("SELECT proof_keys FROM dpop_proof_batches WHERE expires_at > $1")
        .bind(now)
        .fetch_all(&mut *c)
        .await
        .map_err(map_err)?;
    for b in &batches {
        let json: &str = b.try_get(0).map_err(map_err)?;
        let batch: Vec<crate::seen_keys::Unsaved> =
            serde_json::from_str(json).map_err(|e| StoreError::Other(anyhow::anyhow!("dpop_proof_batches: {e}")))?;
        keys.extend(batch.into_iter().filter(|k| k.2 > now));
    }
    let rows = sqlx::query("SELECT tenant_id, proof_key, expires_at FROM dpop_proofs WHERE expires_at > $1")
        .bind(now)
        .fetch_all(&mut *c)
        .await
        .map_err(map_err)?;
    for r in &rows {
        keys.push((r.try_get(0).map_err(map_err)?, r.try_get(1).map_err(map_err)?, r.try_get(2).map_err(map_err)?));
    }
    Ok(keys)
}

/// Writes keys checked in memory ([`crate::seen_keys`]) to the table as one batch, and sweeps
/// expired batches and rows now and then.
async fn save_seen_keys(pool: &sqlx::Pool<Db>, rows: &[crate::seen_keys::Unsaved], now: i64, sweep: bool) -> StoreResult<()> {
    let mut tx = pool.begin_with(BEGIN).await.map_err(map_err)?;
    if let Some(last) = rows.iter().map(|r| r.2).max() {
        let json = serde_json::to_string(rows).map_err(|e| StoreError::Other(e.into()))?;
        sqlx::query("INSERT INTO dpop_proof_batches (expires_at, proof_keys) VALUES ($1, $2)")
            .bind(last)
            .bind(json)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
    }
    if sweep {
        for table in ["dpop_proof_batches", "dpop_proofs"] {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE expires_at <= $1")))
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
    }
    tx.commit().await.map_err(map_err)
}

/// Saves the keys checked in memory every [`crate::seen_keys::FLUSH_EVERY`] until the pool closes
/// (`close` saves the last ones).
pub async fn save_seen_keys_until_closed(pool: sqlx::Pool<Db>, seen: Arc<crate::seen_keys::SeenKeys>) {
    let closed = pool.close_event();
    tokio::pin!(closed);
    let mut ticks = 0u64;
    loop {
        tokio::select! {
            _ = &mut closed => break,
            _ = tokio::time::sleep(crate::seen_keys::FLUSH_EVERY) => {}
        }
        ticks += 1;
        let sweep = ticks.is_multiple_of(100);
        let rows = seen.take_unsaved();
        if rows.is_empty() && !sweep {
            continue;
        }
        let now = accountd_core::clock::now_millis();
        if let Err(e) = save_seen_keys(&pool, &rows, now, sweep).await {
            // Kept in memory (still refused here); retried with the next batch.
            tracing::warn!(error = %e, "could not save DPoP proof ids");
            seen.requeue(rows);
        }
    }
}
