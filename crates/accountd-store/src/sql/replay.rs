// One-time values (DPoP `jti`). Compiled once per backend (see `backend!` in lib.rs).

#[async_trait::async_trait]
impl ReplayStore for Handle {
    async fn remember_once(&self, tenant: &TenantId, key: &str, now: i64, expires_at: i64) -> StoreResult<bool> {
        if let (Some(seen), None) = (&self.seen, &self.tx) {
            if !seen.loaded() {
                let mut c = self.conn().await?;
                let rows = sqlx::query("SELECT tenant_id, proof_key, expires_at FROM dpop_proofs WHERE expires_at > $1")
                    .bind(now)
                    .fetch_all(&mut *c)
                    .await
                    .map_err(map_err)?;
                let rows = rows
                    .iter()
                    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
                    .collect::<Result<Vec<_>, sqlx::Error>>()
                    .map_err(map_err)?;
                seen.load(rows);
            }
            match seen.check(tenant.as_str(), key, now, expires_at) {
                crate::seen_keys::Seen::New => return Ok(true),
                crate::seen_keys::Seen::Replay => return Ok(false),
                crate::seen_keys::Seen::AskTable => {}
            }
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

/// Writes keys checked in memory ([`crate::seen_keys`]) to the table, in one transaction, and
/// sweeps expired rows now and then.
async fn save_seen_keys(pool: &sqlx::Pool<Db>, rows: &[crate::seen_keys::Unsaved], now: i64, sweep: bool) -> StoreResult<()> {
    let mut tx = pool.begin_with(BEGIN).await.map_err(map_err)?;
    for chunk in rows.chunks(300) {
        let mut sql = String::from("INSERT INTO dpop_proofs (tenant_id, proof_key, expires_at) VALUES ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3));
        }
        sql.push_str(" ON CONFLICT (tenant_id, proof_key) DO UPDATE SET expires_at = excluded.expires_at");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (tenant, key, expires_at) in chunk {
            q = q.bind(tenant).bind(key).bind(*expires_at);
        }
        q.execute(&mut *tx).await.map_err(map_err)?;
    }
    if sweep {
        sqlx::query("DELETE FROM dpop_proofs WHERE expires_at <= $1").bind(now).execute(&mut *tx).await.map_err(map_err)?;
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
