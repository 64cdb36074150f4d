// Authentication methods and pending verifications. Compiled once per backend (see `backend!`).

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
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
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

const PENDING_COLUMNS: &str =
    "id, purpose, user_id, method_type, method_id, state, status, attempts, created_at, expires_at";

fn pending_from(r: &Row) -> Result<PendingVerification, sqlx::Error> {
    let purpose: String = r.try_get("purpose")?;
    let t: String = r.try_get("method_type")?;
    Ok(PendingVerification {
        id: r.try_get("id")?,
        purpose: PendingPurpose::parse(&purpose)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown purpose {purpose}").into()))?,
        user_id: r.try_get::<Option<String>, _>("user_id")?.map(UserId),
        method_type: MethodType::from_storage_name(&t)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown method type {t}").into()))?,
        method_id: r.try_get("method_id")?,
        state: r.try_get("state")?,
        status: PendingStatus::parse(&r.try_get::<String, _>("status")?),
        attempts: r.try_get("attempts")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
    })
}

#[async_trait::async_trait]
impl PendingVerificationStore for Handle {
    async fn insert_pending(&self, tenant: &TenantId, p: &PendingVerification) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query(
            "INSERT INTO pending_verifications (tenant_id, id, purpose, user_id, method_type, method_id, state, status, \
             attempts, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(tenant.as_str())
        .bind(&p.id)
        .bind(p.purpose.as_str())
        .bind(p.user_id.as_ref().map(|u| u.0.as_str()))
        .bind(p.method_type.storage_name())
        .bind(&p.method_id)
        .bind(&p.state)
        .bind(p.status.as_str())
        .bind(p.attempts)
        .bind(p.created_at)
        .bind(p.expires_at)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        // Expired rows are useless; drop a few now and then instead of running a job.
        if p.id.as_bytes().first().is_some_and(|b| *b == b'0') {
            sqlx::query("DELETE FROM pending_verifications WHERE expires_at <= $1")
                .bind(p.created_at)
                .execute(&mut *c)
                .await
                .map_err(map_err)?;
        }
        Ok(())
    }

    async fn find_pending(&self, tenant: &TenantId, id: &str, now: i64) -> StoreResult<Option<PendingVerification>> {
        let mut c = self.conn().await?;
        let sql = format!(
            "SELECT {PENDING_COLUMNS} FROM pending_verifications WHERE tenant_id = $1 AND id = $2 AND expires_at > $3"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(id)
            .bind(now)
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?;
        row.map(|r| pending_from(&r)).transpose().map_err(map_err)
    }

    async fn reserve_pending_attempt(&self, tenant: &TenantId, id: &str, max: i64) -> StoreResult<Option<i64>> {
        let mut c = self.conn().await?;
        let row = sqlx::query(
            "UPDATE pending_verifications SET attempts = attempts + 1 \
             WHERE tenant_id = $1 AND id = $2 AND attempts < $3 RETURNING attempts",
        )
        .bind(tenant.as_str())
        .bind(id)
        .bind(max)
        .fetch_optional(&mut *c)
        .await
        .map_err(map_err)?;
        row.map(|r| r.try_get::<i64, _>(0)).transpose().map_err(map_err)
    }

    async fn set_pending_status(&self, tenant: &TenantId, id: &str, status: PendingStatus) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query(
            "UPDATE pending_verifications SET status = $3 WHERE tenant_id = $1 AND id = $2 AND status = 'pending'",
        )
        .bind(tenant.as_str())
        .bind(id)
        .bind(status.as_str())
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn update_pending_state(
        &self,
        tenant: &TenantId,
        id: &str,
        expected: &str,
        state: &str,
    ) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query(
            "UPDATE pending_verifications SET state = $4 \
             WHERE tenant_id = $1 AND id = $2 AND state = $3 AND status = 'pending'",
        )
        .bind(tenant.as_str())
        .bind(id)
        .bind(expected)
        .bind(state)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn take_pending(&self, tenant: &TenantId, id: &str) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query("DELETE FROM pending_verifications WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn list_pending_for_method(
        &self,
        tenant: &TenantId,
        method_id: &str,
        now: i64,
    ) -> StoreResult<Vec<PendingVerification>> {
        let mut c = self.conn().await?;
        let sql = format!(
            "SELECT {PENDING_COLUMNS} FROM pending_verifications \
             WHERE tenant_id = $1 AND method_id = $2 AND expires_at > $3 ORDER BY created_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(method_id)
            .bind(now)
            .fetch_all(&mut *c)
            .await
            .map_err(map_err)?;
        rows.iter().map(pending_from).collect::<Result<_, _>>().map_err(map_err)
    }

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
}
