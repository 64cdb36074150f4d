// Authentication methods of users, their secrets and earlier password hashes. Compiled once per
// backend (see `backend!` in lib.rs).

const METHOD_COLUMNS: &str =
    "id, user_id, method_type, confirmed, name, details, created_at, updated_at, last_used_at";

fn method_from(r: &Row) -> Result<AuthenticationMethod, sqlx::Error> {
    let t: String = r.try_get("method_type")?;
    Ok(AuthenticationMethod {
        id: r.try_get("id")?,
        user_id: UserId(r.try_get("user_id")?),
        method_type: MethodType::from_storage_name(&t)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown method type {t}").into()))?,
        confirmed: r.try_get("confirmed")?,
        name: r.try_get("name")?,
        details: from_json::<MethodDetails>(&r.try_get::<String, _>("details")?),
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        last_used_at: r.try_get("last_used_at")?,
    })
}

fn method_with_secret(r: &Row) -> Result<(AuthenticationMethod, String), sqlx::Error> {
    Ok((method_from(r)?, r.try_get("secret")?))
}

#[async_trait::async_trait]
impl AuthenticationMethodStore for Handle {
    async fn list_methods(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<AuthenticationMethod>> {
        let mut c = self.conn().await?;
        let sql = format!(
            "SELECT {METHOD_COLUMNS} FROM authentication_methods WHERE tenant_id = $1 AND user_id = $2 \
             ORDER BY created_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(&user.0)
            .fetch_all(&mut *c)
            .await
            .map_err(map_err)?;
        rows.iter().map(method_from).collect::<Result<_, _>>().map_err(map_err)
    }

    async fn list_methods_for_display(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<AuthenticationMethod>> {
        if let Some(methods) = self.cached_methods(tenant, user) {
            return Ok(methods.to_vec());
        }
        let ticket = self.methods.ticket();
        let methods = self.list_methods(tenant, user).await?;
        if self.tx.is_none() {
            self.methods.put(ticket, tenant, user, &methods);
        }
        Ok(methods)
    }

    async fn find_method(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &str,
    ) -> StoreResult<Option<AuthenticationMethod>> {
        let mut c = self.conn().await?;
        let sql = format!(
            "SELECT {METHOD_COLUMNS} FROM authentication_methods WHERE tenant_id = $1 AND user_id = $2 AND id = $3"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(&user.0)
            .bind(id)
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?;
        row.map(|r| method_from(&r)).transpose().map_err(map_err)
    }

    async fn load_methods_with_secrets(
        &self,
        tenant: &TenantId,
        user: &UserId,
        method_type: MethodType,
    ) -> StoreResult<Vec<(AuthenticationMethod, String)>> {
        let mut c = self.conn().await?;
        let sql = format!(
            "SELECT {METHOD_COLUMNS}, secret FROM authentication_methods \
             WHERE tenant_id = $1 AND user_id = $2 AND method_type = $3 ORDER BY created_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(&user.0)
            .bind(method_type.storage_name())
            .fetch_all(&mut *c)
            .await
            .map_err(map_err)?;
        rows.iter().map(method_with_secret).collect::<Result<_, _>>().map_err(map_err)
    }

    async fn load_methods_by_lookup(
        &self,
        tenant: &TenantId,
        lookup_key: &str,
    ) -> StoreResult<Vec<(AuthenticationMethod, String)>> {
        let mut c = self.conn().await?;
        let sql = format!(
            "SELECT {METHOD_COLUMNS}, secret FROM authentication_methods \
             WHERE tenant_id = $1 AND lookup_key = $2 ORDER BY created_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(lookup_key)
            .fetch_all(&mut *c)
            .await
            .map_err(map_err)?;
        rows.iter().map(method_with_secret).collect::<Result<_, _>>().map_err(map_err)
    }

    async fn insert_method(&self, tenant: &TenantId, n: &NewMethod) -> StoreResult<()> {
        let m = &n.method;
        let mut c = self.conn().await?;
        let mut tx = atomic(&mut c).await?;
        // The user's row is locked first (SQLite's BEGIN IMMEDIATE already serialises writers),
        // so parallel enrolments queue here and the count below cannot be overtaken.
        sqlx::query("UPDATE users SET updated_at = updated_at WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(&m.user_id.0)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let (held,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM authentication_methods WHERE tenant_id = $1 AND user_id = $2")
                .bind(tenant.as_str())
                .bind(&m.user_id.0)
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?;
        if held >= accountd_core::authn::MAX_METHODS_PER_USER as i64 {
            return Err(StoreError::Conflict { constraint: "authentication_methods_per_user".into() });
        }
        sqlx::query(
            "INSERT INTO authentication_methods (tenant_id, id, user_id, method_type, secret, created_at, updated_at, \
             last_used_at, confirmed, name, details, lookup_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(tenant.as_str())
        .bind(&m.id)
        .bind(&m.user_id.0)
        .bind(m.method_type.storage_name())
        .bind(&n.secret)
        .bind(m.created_at)
        .bind(m.updated_at)
        .bind(m.last_used_at)
        .bind(m.confirmed)
        .bind(&m.name)
        .bind(to_json(&m.details))
        .bind(&n.lookup_key)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        self.methods_changed(&mut c, tenant, &m.user_id).await
    }

    async fn update_method(&self, tenant: &TenantId, m: &AuthenticationMethod) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query(
            "UPDATE authentication_methods SET name = $4, details = $5, updated_at = $6, last_used_at = $7 \
             WHERE tenant_id = $1 AND user_id = $2 AND id = $3",
        )
        .bind(tenant.as_str())
        .bind(&m.user_id.0)
        .bind(&m.id)
        .bind(&m.name)
        .bind(to_json(&m.details))
        .bind(m.updated_at)
        .bind(m.last_used_at)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        self.methods_changed(&mut c, tenant, &m.user_id).await?;
        Ok(r.rows_affected() > 0)
    }

    async fn swap_method_secret(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &str,
        expected: &str,
        secret: &str,
        used_at: i64,
    ) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query(
            "UPDATE authentication_methods SET secret = $5, last_used_at = $6 \
             WHERE tenant_id = $1 AND user_id = $2 AND id = $3 AND secret = $4",
        )
        .bind(tenant.as_str())
        .bind(&user.0)
        .bind(id)
        .bind(expected)
        .bind(secret)
        .bind(used_at)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        if r.rows_affected() > 0 {
            self.methods_changed(&mut c, tenant, user).await?;
        }
        Ok(r.rows_affected() > 0)
    }

    async fn delete_method(&self, tenant: &TenantId, user: &UserId, id: &str) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query("DELETE FROM authentication_methods WHERE tenant_id = $1 AND user_id = $2 AND id = $3")
            .bind(tenant.as_str())
            .bind(&user.0)
            .bind(id)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        if r.rows_affected() > 0 {
            self.methods_changed(&mut c, tenant, user).await?;
        }
        Ok(r.rows_affected() > 0)
    }

    async fn delete_methods_of_type(&self, tenant: &TenantId, user: &UserId, t: MethodType) -> StoreResult<u64> {
        let mut c = self.conn().await?;
        let r = sqlx::query(
            "DELETE FROM authentication_methods WHERE tenant_id = $1 AND user_id = $2 AND method_type = $3",
        )
        .bind(tenant.as_str())
        .bind(&user.0)
        .bind(t.storage_name())
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        if r.rows_affected() > 0 {
            self.methods_changed(&mut c, tenant, user).await?;
        }
        Ok(r.rows_affected())
    }

    async fn push_password_history(
        &self,
        tenant: &TenantId,
        user: &UserId,
        phc: &str,
        now: i64,
        keep: u32,
    ) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let mut tx = atomic(&mut c).await?;
        sqlx::query("INSERT INTO password_history (tenant_id, user_id, phc, created_at) VALUES ($1, $2, $3, $4)")
            .bind(tenant.as_str())
            .bind(&user.0)
            .bind(phc)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        // Keep the newest `keep`: delete what is older than the keep-th newest.
        sqlx::query(
            "DELETE FROM password_history WHERE tenant_id = $1 AND user_id = $2 AND created_at < COALESCE(( \
             SELECT created_at FROM password_history WHERE tenant_id = $1 AND user_id = $2 \
             ORDER BY created_at DESC LIMIT 1 OFFSET $3), -1)",
        )
        .bind(tenant.as_str())
        .bind(&user.0)
        .bind(i64::from(keep.max(1)) - 1)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn load_password_history(&self, tenant: &TenantId, user: &UserId, limit: u32) -> StoreResult<Vec<String>> {
        let mut c = self.conn().await?;
        let rows = sqlx::query(
            "SELECT phc FROM password_history WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at DESC LIMIT $3",
        )
        .bind(tenant.as_str())
        .bind(&user.0)
        .bind(i64::from(limit))
        .fetch_all(&mut *c)
        .await
        .map_err(map_err)?;
        rows.iter().map(|r| r.try_get::<String, _>(0)).collect::<Result<_, _>>().map_err(map_err)
    }
}
