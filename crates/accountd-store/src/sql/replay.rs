// One-time values (DPoP `jti`). Compiled once per backend (see `backend!` in lib.rs).

#[async_trait::async_trait]
impl ReplayStore for Handle {
    async fn remember_once(&self, tenant: &TenantId, key: &str, now: i64, expires_at: i64) -> StoreResult<bool> {
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
