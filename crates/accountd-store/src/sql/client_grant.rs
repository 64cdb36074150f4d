// Client grants. Compiled once per backend (see `backend!` in lib.rs).

fn grant_from(r: &Row) -> Result<ClientGrant, sqlx::Error> {
    Ok(ClientGrant {
        id: ClientGrantId(r.try_get("id")?),
        client_id: r.try_get("client_id")?,
        api_id: ApiId(r.try_get("api_id")?),
        subject_type: SubjectType::parse(&r.try_get::<String, _>("subject_type")?).ok_or_else(|| {
            sqlx::Error::ColumnDecode { index: "subject_type".into(), source: "unknown value".into() }
        })?,
        scopes: from_json(&r.try_get::<String, _>("scopes")?),
        created_at: r.try_get("created_at")?,
    })
}

const GRANT_COLUMNS: &str = "id, client_id, api_id, subject_type, scopes, created_at";

#[async_trait::async_trait]
impl ClientGrantStore for Handle {
    async fn insert_client_grant(&self, tenant: &TenantId, g: &ClientGrant) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query(
            "INSERT INTO client_grants (tenant_id, id, client_id, api_id, subject_type, scopes, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(tenant.as_str())
        .bind(&g.id.0)
        .bind(&g.client_id)
        .bind(&g.api_id.0)
        .bind(g.subject_type.as_str())
        .bind(to_json(&g.scopes))
        .bind(g.created_at)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn find_client_grant(&self, tenant: &TenantId, id: &ClientGrantId) -> StoreResult<Option<ClientGrant>> {
        let mut c = self.conn().await?;
        let sql = format!("SELECT {GRANT_COLUMNS} FROM client_grants WHERE tenant_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(&id.0)
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?;
        row.map(|r| grant_from(&r)).transpose().map_err(map_err)
    }

    async fn find_client_grant_for(
        &self,
        tenant: &TenantId,
        client_id: &str,
        api: &ApiId,
        subject_type: SubjectType,
    ) -> StoreResult<Option<ClientGrant>> {
        let mut c = self.conn().await?;
        let sql = format!(
            "SELECT {GRANT_COLUMNS} FROM client_grants \
             WHERE tenant_id = $1 AND client_id = $2 AND api_id = $3 AND subject_type = $4"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(client_id)
            .bind(&api.0)
            .bind(subject_type.as_str())
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?;
        row.map(|r| grant_from(&r)).transpose().map_err(map_err)
    }

    async fn list_client_grants(
        &self,
        tenant: &TenantId,
        q: &ClientGrantQuery,
        page: Page,
    ) -> StoreResult<(Vec<ClientGrant>, u64)> {
        let mut c = self.conn().await?;
        let filter = "tenant_id = $1 AND ($2 IS NULL OR client_id = $2) AND ($3 IS NULL OR api_id = $3)";
        let sql = format!(
            "SELECT {GRANT_COLUMNS} FROM client_grants WHERE {filter} ORDER BY created_at, id LIMIT $4 OFFSET $5"
        );
        let api_id = q.api_id.as_ref().map(|a| a.0.as_str());
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(&q.client_id)
            .bind(api_id)
            .bind(i64::from(page.limit))
            .bind(i64::from(page.offset))
            .fetch_all(&mut *c)
            .await
            .map_err(map_err)?;
        let total = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM client_grants WHERE {filter}")))
            .bind(tenant.as_str())
            .bind(&q.client_id)
            .bind(api_id)
            .fetch_one(&mut *c)
            .await
            .map_err(map_err)?;
        let grants = rows.iter().map(grant_from).collect::<Result<_, _>>().map_err(map_err)?;
        Ok((grants, count(&total)?))
    }

    async fn update_client_grant_scopes(
        &self,
        tenant: &TenantId,
        id: &ClientGrantId,
        scopes: &[String],
    ) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query("UPDATE client_grants SET scopes = $3 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(&id.0)
            .bind(to_json(&scopes))
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn delete_client_grant(&self, tenant: &TenantId, id: &ClientGrantId) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query("DELETE FROM client_grants WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(&id.0)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }
}
