// APIs, their scopes and access policies. Compiled once per backend (see `backend!` in lib.rs).

const API_COLUMNS: &str = "id, system, identifier, name, signing_alg, token_lifetime_secs, enforce_policies, \
     allow_offline_access, require_dpop, user_policy, client_policy, created_at, updated_at";

fn api_from(r: &Row, scopes: Vec<ApiScope>) -> Result<ApiResource, sqlx::Error> {
    let bad = |col: &str| sqlx::Error::ColumnDecode { index: col.into(), source: "unknown value".into() };
    let system: Option<String> = r.try_get("system")?;
    Ok(ApiResource {
        id: ApiId(r.try_get("id")?),
        system: match system {
            Some(s) => Some(SystemApi::parse(&s).ok_or_else(|| bad("system"))?),
            None => None,
        },
        identifier: r.try_get("identifier")?,
        name: r.try_get("name")?,
        scopes,
        signing_alg: r.try_get("signing_alg")?,
        token_lifetime_secs: r.try_get("token_lifetime_secs")?,
        enforce_policies: r.try_get("enforce_policies")?,
        allow_offline_access: r.try_get("allow_offline_access")?,
        require_dpop: r.try_get("require_dpop")?,
        policy: AccessPolicy {
            user: PolicyMode::parse(&r.try_get::<String, _>("user_policy")?).ok_or_else(|| bad("user_policy"))?,
            client: PolicyMode::parse(&r.try_get::<String, _>("client_policy")?).ok_or_else(|| bad("client_policy"))?,
        },
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// Loads the scopes of the APIs in `rows` (one query) and builds the APIs.
async fn apis_with_scopes(
    c: &mut <Db as sqlx::Database>::Connection,
    tenant: &TenantId,
    rows: Vec<Row>,
) -> StoreResult<Vec<ApiResource>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let scope_rows = sqlx::query(
        "SELECT api_id, value, description FROM api_scopes WHERE tenant_id = $1 ORDER BY api_id, position, value",
    )
    .bind(tenant.as_str())
    .fetch_all(&mut *c)
    .await
    .map_err(map_err)?;
    let mut by_api: std::collections::HashMap<String, Vec<ApiScope>> = std::collections::HashMap::new();
    for s in &scope_rows {
        let api_id: String = s.try_get("api_id").map_err(map_err)?;
        by_api.entry(api_id).or_default().push(ApiScope {
            value: s.try_get("value").map_err(map_err)?,
            description: s.try_get("description").map_err(map_err)?,
        });
    }
    rows.iter()
        .map(|r| {
            let id: String = r.try_get("id")?;
            api_from(r, by_api.remove(&id).unwrap_or_default())
        })
        .collect::<Result<_, _>>()
        .map_err(map_err)
}

async fn insert_scopes(
    c: &mut <Db as sqlx::Database>::Connection,
    tenant: &TenantId,
    api: &ApiResource,
) -> StoreResult<()> {
    for (i, s) in api.scopes.iter().enumerate() {
        sqlx::query(
            "INSERT INTO api_scopes (tenant_id, api_id, value, description, position) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id, api_id, value) DO UPDATE SET description = excluded.description, \
             position = excluded.position",
        )
        .bind(tenant.as_str())
        .bind(&api.id.0)
        .bind(&s.value)
        .bind(&s.description)
        .bind(i as i64)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
    }
    Ok(())
}

impl Handle {
    async fn find_api_where(&self, tenant: &TenantId, clause: &'static str, value: &str) -> StoreResult<Option<ApiResource>> {
        let mut c = self.conn().await?;
        let sql = format!("SELECT {API_COLUMNS} FROM api_resources WHERE tenant_id = $1 AND {clause} = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(value)
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?;
        let Some(row) = row else { return Ok(None) };
        let id: String = row.try_get("id").map_err(map_err)?;
        let scope_rows = sqlx::query(
            "SELECT value, description FROM api_scopes WHERE tenant_id = $1 AND api_id = $2 ORDER BY position, value",
        )
        .bind(tenant.as_str())
        .bind(&id)
        .fetch_all(&mut *c)
        .await
        .map_err(map_err)?;
        let scopes = scope_rows
            .iter()
            .map(|s| Ok(ApiScope { value: s.try_get("value")?, description: s.try_get("description")? }))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(map_err)?;
        api_from(&row, scopes).map(Some).map_err(map_err)
    }
}

#[async_trait::async_trait]
impl ApiStore for Handle {
    async fn insert_api(&self, tenant: &TenantId, a: &ApiResource) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let mut tx = atomic(&mut c).await?;
        sqlx::query(
            "INSERT INTO api_resources (tenant_id, id, system, identifier, name, signing_alg, token_lifetime_secs, \
             enforce_policies, allow_offline_access, require_dpop, user_policy, client_policy, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(tenant.as_str())
        .bind(&a.id.0)
        .bind(a.system.map(SystemApi::as_str))
        .bind(&a.identifier)
        .bind(&a.name)
        .bind(&a.signing_alg)
        .bind(a.token_lifetime_secs)
        .bind(a.enforce_policies)
        .bind(a.allow_offline_access)
        .bind(a.require_dpop)
        .bind(a.policy.user.as_str())
        .bind(a.policy.client.as_str())
        .bind(a.created_at)
        .bind(a.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        insert_scopes(&mut tx, tenant, a).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn find_api(&self, tenant: &TenantId, id: &ApiId) -> StoreResult<Option<ApiResource>> {
        self.find_api_where(tenant, "id", &id.0).await
    }

    async fn find_api_by_identifier(&self, tenant: &TenantId, identifier: &str) -> StoreResult<Option<ApiResource>> {
        self.find_api_where(tenant, "identifier", identifier).await
    }

    async fn find_system_api(&self, tenant: &TenantId, system: SystemApi) -> StoreResult<Option<ApiResource>> {
        self.find_api_where(tenant, "system", system.as_str()).await
    }

    async fn list_apis(&self, tenant: &TenantId, page: Page) -> StoreResult<(Vec<ApiResource>, u64)> {
        let mut c = self.conn().await?;
        // Built-in APIs first (their `system` is set), then oldest first.
        let sql = format!(
            "SELECT {API_COLUMNS} FROM api_resources WHERE tenant_id = $1 \
             ORDER BY CASE WHEN system IS NULL THEN 1 ELSE 0 END, created_at, id LIMIT $2 OFFSET $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(i64::from(page.limit))
            .bind(i64::from(page.offset))
            .fetch_all(&mut *c)
            .await
            .map_err(map_err)?;
        let total = sqlx::query("SELECT COUNT(*) FROM api_resources WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_one(&mut *c)
            .await
            .map_err(map_err)?;
        let apis = apis_with_scopes(&mut c, tenant, rows).await?;
        Ok((apis, count(&total)?))
    }

    async fn update_api(&self, tenant: &TenantId, a: &ApiResource) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let mut tx = atomic(&mut c).await?;
        let r = sqlx::query(
            "UPDATE api_resources SET name = $3, signing_alg = $4, token_lifetime_secs = $5, enforce_policies = $6, \
             allow_offline_access = $7, require_dpop = $8, user_policy = $9, client_policy = $10, updated_at = $11 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(&a.id.0)
        .bind(&a.name)
        .bind(&a.signing_alg)
        .bind(a.token_lifetime_secs)
        .bind(a.enforce_policies)
        .bind(a.allow_offline_access)
        .bind(a.require_dpop)
        .bind(a.policy.user.as_str())
        .bind(a.policy.client.as_str())
        .bind(a.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if r.rows_affected() == 0 {
            return Ok(false);
        }
        // Replace the scope set: drop removed scopes (their permissions cascade), upsert the rest.
        let keep: Vec<&str> = a.scopes.iter().map(|s| s.value.as_str()).collect();
        let existing = sqlx::query("SELECT value FROM api_scopes WHERE tenant_id = $1 AND api_id = $2")
            .bind(tenant.as_str())
            .bind(&a.id.0)
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
        for row in existing {
            let value: String = row.try_get(0).map_err(map_err)?;
            if !keep.contains(&value.as_str()) {
                sqlx::query("DELETE FROM api_scopes WHERE tenant_id = $1 AND api_id = $2 AND value = $3")
                    .bind(tenant.as_str())
                    .bind(&a.id.0)
                    .bind(&value)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
            }
        }
        insert_scopes(&mut tx, tenant, a).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn delete_api(&self, tenant: &TenantId, id: &ApiId) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query("DELETE FROM api_resources WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(&id.0)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }
}
