// The tenant's self-service settings: JSON columns of `tenants`. Compiled once per backend.

#[async_trait::async_trait]
impl TenantSettingsStore for Handle {
    async fn load_account_policy(&self, tenant: &TenantId) -> StoreResult<String> {
        let mut c = self.conn().await?;
        let row = sqlx::query("SELECT account_policy FROM tenants WHERE id = $1")
            .bind(tenant.as_str())
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?;
        Ok(row.map(|r| r.try_get::<String, _>(0)).transpose().map_err(map_err)?.unwrap_or_else(|| "{}".into()))
    }

    async fn save_account_policy(&self, tenant: &TenantId, policy: &str) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query("UPDATE tenants SET account_policy = $2 WHERE id = $1")
            .bind(tenant.as_str())
            .bind(policy)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn load_account_center(&self, tenant: &TenantId) -> StoreResult<Option<String>> {
        let mut c = self.conn().await?;
        let row = sqlx::query("SELECT account_center FROM tenants WHERE id = $1")
            .bind(tenant.as_str())
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?;
        match row {
            Some(r) => Ok(r.try_get::<Option<String>, _>("account_center").map_err(map_err)?),
            None => Err(StoreError::NotFound),
        }
    }

    async fn save_account_center(&self, tenant: &TenantId, settings: &str) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query("UPDATE tenants SET account_center = $2 WHERE id = $1")
            .bind(tenant.as_str())
            .bind(settings)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}
