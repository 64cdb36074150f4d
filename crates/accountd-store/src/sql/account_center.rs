// The tenant's account-center settings: one JSON column of `tenants`. Compiled once per backend.

#[async_trait::async_trait]
impl AccountCenterStore for Handle {
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
