// Signing keys. Compiled once per backend (see `backend!` in lib.rs).

#[async_trait::async_trait]
impl SigningKeyStore for Handle {
    async fn insert_signing_key(&self, tenant: &TenantId, k: &SigningKey) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query(
            "INSERT INTO signing_keys (tenant_id, kid, alg, status, private_key_sealed, public_jwk, created_at, \
             retired_at, publish_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(tenant.as_str())
        .bind(&k.kid)
        .bind(&k.alg)
        .bind(k.status.as_str())
        .bind(&k.private_key_sealed)
        .bind(&k.public_jwk)
        .bind(k.created_at)
        .bind(k.retired_at)
        .bind(k.publish_until)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn list_signing_keys(&self, tenant: &TenantId, now: i64) -> StoreResult<Vec<SigningKey>> {
        let mut c = self.conn().await?;
        let rows = sqlx::query(
            "SELECT kid, alg, status, private_key_sealed, public_jwk, created_at, retired_at, publish_until \
             FROM signing_keys WHERE tenant_id = $1 AND (publish_until IS NULL OR publish_until > $2) \
             ORDER BY created_at DESC, kid",
        )
        .bind(tenant.as_str())
        .bind(now)
        .fetch_all(&mut *c)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok(SigningKey {
                    kid: r.try_get("kid")?,
                    alg: r.try_get("alg")?,
                    status: KeyStatus::parse(&r.try_get::<String, _>("status")?).ok_or_else(|| {
                        sqlx::Error::ColumnDecode { index: "status".into(), source: "unknown value".into() }
                    })?,
                    private_key_sealed: r.try_get("private_key_sealed")?,
                    public_jwk: r.try_get("public_jwk")?,
                    created_at: r.try_get("created_at")?,
                    retired_at: r.try_get("retired_at")?,
                    publish_until: r.try_get("publish_until")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(map_err)
    }

    async fn retire_signing_key(&self, tenant: &TenantId, kid: &str, at: i64, publish_until: i64) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query(
            "UPDATE signing_keys SET status = 'retired', retired_at = $3, publish_until = $4 \
             WHERE tenant_id = $1 AND kid = $2 AND status = 'active'",
        )
        .bind(tenant.as_str())
        .bind(kid)
        .bind(at)
        .bind(publish_until)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }
}
