// Applications. Compiled once per backend (see `backend!` in lib.rs).

const APP_COLUMNS: &str = "client_id, name, description, app_type, is_first_party, callbacks, allowed_logout_urls, \
     web_origins, allowed_origins, cross_origin_authentication, grant_types, token_endpoint_auth_method, \
     client_secret_hash, is_bootstrap, created_at, updated_at";

fn application_from(r: &Row) -> Result<Application, sqlx::Error> {
    let bad = |col: &str| sqlx::Error::ColumnDecode { index: col.into(), source: "unknown value".into() };
    Ok(Application {
        client_id: r.try_get("client_id")?,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        app_type: AppType::parse(&r.try_get::<String, _>("app_type")?).ok_or_else(|| bad("app_type"))?,
        is_first_party: r.try_get("is_first_party")?,
        callbacks: from_json(&r.try_get::<String, _>("callbacks")?),
        allowed_logout_urls: from_json(&r.try_get::<String, _>("allowed_logout_urls")?),
        web_origins: from_json(&r.try_get::<String, _>("web_origins")?),
        allowed_origins: from_json(&r.try_get::<String, _>("allowed_origins")?),
        cross_origin_authentication: r.try_get("cross_origin_authentication")?,
        grant_types: from_json(&r.try_get::<String, _>("grant_types")?),
        token_endpoint_auth_method: TokenEndpointAuthMethod::parse(&r.try_get::<String, _>("token_endpoint_auth_method")?)
            .ok_or_else(|| bad("token_endpoint_auth_method"))?,
        client_secret_hash: r.try_get("client_secret_hash")?,
        is_bootstrap: r.try_get("is_bootstrap")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

#[async_trait::async_trait]
impl ApplicationStore for Handle {
    async fn insert_application(&self, tenant: &TenantId, a: &Application) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query(
            "INSERT INTO applications (tenant_id, client_id, name, description, app_type, is_first_party, callbacks, \
             allowed_logout_urls, web_origins, allowed_origins, cross_origin_authentication, grant_types, \
             token_endpoint_auth_method, client_secret_hash, is_bootstrap, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        )
        .bind(tenant.as_str())
        .bind(&a.client_id)
        .bind(&a.name)
        .bind(&a.description)
        .bind(a.app_type.as_str())
        .bind(a.is_first_party)
        .bind(to_json(&a.callbacks))
        .bind(to_json(&a.allowed_logout_urls))
        .bind(to_json(&a.web_origins))
        .bind(to_json(&a.allowed_origins))
        .bind(a.cross_origin_authentication)
        .bind(to_json(&a.grant_types))
        .bind(a.token_endpoint_auth_method.as_str())
        .bind(&a.client_secret_hash)
        .bind(a.is_bootstrap)
        .bind(a.created_at)
        .bind(a.updated_at)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn find_application(&self, tenant: &TenantId, client_id: &str) -> StoreResult<Option<Application>> {
        let mut c = self.conn().await?;
        let sql = format!("SELECT {APP_COLUMNS} FROM applications WHERE tenant_id = $1 AND client_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(client_id)
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?;
        row.map(|r| application_from(&r)).transpose().map_err(map_err)
    }

    async fn list_applications(&self, tenant: &TenantId, page: Page) -> StoreResult<(Vec<Application>, u64)> {
        let mut c = self.conn().await?;
        let sql = format!(
            "SELECT {APP_COLUMNS} FROM applications WHERE tenant_id = $1 ORDER BY created_at, client_id LIMIT $2 OFFSET $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(i64::from(page.limit))
            .bind(i64::from(page.offset))
            .fetch_all(&mut *c)
            .await
            .map_err(map_err)?;
        let total = sqlx::query("SELECT COUNT(*) FROM applications WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_one(&mut *c)
            .await
            .map_err(map_err)?;
        let apps = rows.iter().map(application_from).collect::<Result<_, _>>().map_err(map_err)?;
        Ok((apps, count(&total)?))
    }

    async fn update_application(&self, tenant: &TenantId, a: &Application) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query(
            "UPDATE applications SET name = $3, description = $4, app_type = $5, is_first_party = $6, callbacks = $7, \
             allowed_logout_urls = $8, web_origins = $9, allowed_origins = $10, cross_origin_authentication = $11, \
             grant_types = $12, token_endpoint_auth_method = $13, client_secret_hash = $14, updated_at = $15 \
             WHERE tenant_id = $1 AND client_id = $2",
        )
        .bind(tenant.as_str())
        .bind(&a.client_id)
        .bind(&a.name)
        .bind(&a.description)
        .bind(a.app_type.as_str())
        .bind(a.is_first_party)
        .bind(to_json(&a.callbacks))
        .bind(to_json(&a.allowed_logout_urls))
        .bind(to_json(&a.web_origins))
        .bind(to_json(&a.allowed_origins))
        .bind(a.cross_origin_authentication)
        .bind(to_json(&a.grant_types))
        .bind(a.token_endpoint_auth_method.as_str())
        .bind(&a.client_secret_hash)
        .bind(a.updated_at)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn delete_application(&self, tenant: &TenantId, client_id: &str) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query("DELETE FROM applications WHERE tenant_id = $1 AND client_id = $2")
            .bind(tenant.as_str())
            .bind(client_id)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }
}
