// Consents and the sign-up switch. Compiled once per backend (see `backend!` in lib.rs).

#[async_trait::async_trait]
impl ConsentStore for Handle {
    async fn find_consent(&self, tenant: &TenantId, user: &str, client: &str, audience: &str) -> StoreResult<Option<Vec<String>>> {
        let mut c = self.conn().await?;
        let row = sqlx::query(
            "SELECT scopes FROM consents WHERE tenant_id = $1 AND user_id = $2 AND client_id = $3 AND audience = $4",
        )
        .bind(tenant.as_str())
        .bind(user)
        .bind(client)
        .bind(audience)
        .fetch_optional(&mut *c)
        .await
        .map_err(map_err)?;
        row.map(|r| r.try_get::<String, _>(0).map(|s| from_json::<Vec<String>>(&s))).transpose().map_err(map_err)
    }

    async fn list_consents(&self, tenant: &TenantId, user: &str) -> StoreResult<Vec<Consent>> {
        let mut c = self.conn().await?;
        let rows = sqlx::query(
            "SELECT client_id, audience, scopes, updated_at FROM consents WHERE tenant_id = $1 AND user_id = $2 \
             ORDER BY created_at, client_id, audience",
        )
        .bind(tenant.as_str())
        .bind(user)
        .fetch_all(&mut *c)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok(Consent {
                    client_id: r.try_get("client_id")?,
                    audience: r.try_get("audience")?,
                    scopes: from_json::<Vec<String>>(&r.try_get::<String, _>("scopes")?),
                    updated_at: r.try_get("updated_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(map_err)
    }

    async fn upsert_consent(
        &self,
        tenant: &TenantId,
        user: &str,
        client: &str,
        audience: &str,
        scopes: &[String],
        now: i64,
    ) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query(
            "INSERT INTO consents (tenant_id, user_id, client_id, audience, scopes, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) \
             ON CONFLICT (tenant_id, user_id, client_id, audience) DO UPDATE SET scopes = excluded.scopes, \
             updated_at = excluded.updated_at",
        )
        .bind(tenant.as_str())
        .bind(user)
        .bind(client)
        .bind(audience)
        .bind(to_json(&scopes))
        .bind(now)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn signup_allowed(&self, tenant: &TenantId) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let row = sqlx::query("SELECT allow_signup FROM tenants WHERE id = $1")
            .bind(tenant.as_str())
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?;
        row.map(|r| r.try_get::<bool, _>(0)).transpose().map(|v| v.unwrap_or(false)).map_err(map_err)
    }

    async fn set_signup_allowed(&self, tenant: &TenantId, allowed: bool) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query("UPDATE tenants SET allow_signup = $2 WHERE id = $1")
            .bind(tenant.as_str())
            .bind(allowed)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }
}
