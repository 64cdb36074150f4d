// Tenants and domains. Compiled once per backend (see `backend!` in lib.rs).

fn tenant_from(row: &Row) -> Result<Tenant, sqlx::Error> {
    Ok(Tenant {
        id: TenantId::from_stored(row.try_get("id")?),
        name: row.try_get("name")?,
        is_default: row.try_get("is_default")?,
        created_at: row.try_get("created_at")?,
    })
}

#[async_trait::async_trait]
impl TenantStore for Handle {
    async fn insert_tenant(&self, t: &NewTenant, now: i64) -> StoreResult<Tenant> {
        let mut c = self.conn().await?;
        let mut tx = atomic(&mut c).await?;
        sqlx::query("INSERT INTO tenants (id, name, is_default, created_at) VALUES ($1, $2, $3, $4)")
            .bind(t.id.as_str())
            .bind(&t.name)
            .bind(t.is_default)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let domains = std::iter::once((&t.canonical_domain, true)).chain(t.extra_domains.iter().map(|d| (d, false)));
        for (host, canonical) in domains {
            sqlx::query("INSERT INTO domains (host, tenant_id, is_canonical, created_at) VALUES ($1, $2, $3, $4)")
                .bind(host)
                .bind(t.id.as_str())
                .bind(canonical)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(Tenant { id: t.id.clone(), name: t.name.clone(), is_default: t.is_default, created_at: now })
    }

    async fn find_tenant_by_host(&self, host: &str) -> StoreResult<Option<Tenant>> {
        let mut c = self.conn().await?;
        let row = sqlx::query(
            "SELECT t.id, t.name, t.is_default, t.created_at FROM domains d JOIN tenants t ON t.id = d.tenant_id \
             WHERE d.host = $1",
        )
        .bind(host)
        .fetch_optional(&mut *c)
        .await
        .map_err(map_err)?;
        row.map(|r| tenant_from(&r)).transpose().map_err(map_err)
    }

    async fn find_tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>> {
        let mut c = self.conn().await?;
        let row = sqlx::query("SELECT id, name, is_default, created_at FROM tenants WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?;
        row.map(|r| tenant_from(&r)).transpose().map_err(map_err)
    }

    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        let mut c = self.conn().await?;
        let rows = sqlx::query("SELECT id, name, is_default, created_at FROM tenants ORDER BY created_at, id")
            .fetch_all(&mut *c)
            .await
            .map_err(map_err)?;
        rows.iter().map(tenant_from).collect::<Result<_, _>>().map_err(map_err)
    }

    async fn list_domains(&self, tenant: &TenantId) -> StoreResult<Vec<Domain>> {
        let mut c = self.conn().await?;
        let rows = sqlx::query(
            "SELECT host, tenant_id, is_canonical, created_at FROM domains WHERE tenant_id = $1 \
             ORDER BY is_canonical DESC, created_at, host",
        )
        .bind(tenant.as_str())
        .fetch_all(&mut *c)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok(Domain {
                    host: r.try_get("host")?,
                    tenant_id: TenantId::from_stored(r.try_get("tenant_id")?),
                    is_canonical: r.try_get("is_canonical")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(map_err)
    }

    async fn insert_domain(&self, tenant: &TenantId, host: &str, is_canonical: bool, now: i64) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query("INSERT INTO domains (host, tenant_id, is_canonical, created_at) VALUES ($1, $2, $3, $4)")
            .bind(host)
            .bind(tenant.as_str())
            .bind(is_canonical)
            .bind(now)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn delete_domain(&self, tenant: &TenantId, host: &str) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query("DELETE FROM domains WHERE tenant_id = $1 AND host = $2 AND is_canonical = $3")
            .bind(tenant.as_str())
            .bind(host)
            .bind(false)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }
}
