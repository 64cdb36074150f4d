// Users and their password. Compiled once per backend (see `backend!` in lib.rs).

const USER_COLUMNS: &str = "id, email, email_verified, username, phone_number, phone_verified, name, given_name, \
     family_name, nickname, picture, user_metadata, app_metadata, blocked, created_at, updated_at, last_login_at, \
     logins_count, standard_claims";

fn user_from(r: &Row) -> Result<User, sqlx::Error> {
    Ok(User {
        id: UserId(r.try_get("id")?),
        email: r.try_get("email")?,
        email_verified: r.try_get("email_verified")?,
        username: r.try_get("username")?,
        phone_number: r.try_get("phone_number")?,
        phone_verified: r.try_get("phone_verified")?,
        name: r.try_get("name")?,
        given_name: r.try_get("given_name")?,
        family_name: r.try_get("family_name")?,
        nickname: r.try_get("nickname")?,
        picture: r.try_get("picture")?,
        claims: from_json(&r.try_get::<String, _>("standard_claims")?),
        user_metadata: from_json::<serde_json::Value>(&r.try_get::<String, _>("user_metadata")?),
        app_metadata: from_json::<serde_json::Value>(&r.try_get::<String, _>("app_metadata")?),
        blocked: r.try_get("blocked")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        last_login_at: r.try_get("last_login_at")?,
        logins_count: r.try_get("logins_count")?,
    })
}

#[async_trait::async_trait]
impl UserStore for Handle {
    async fn insert_user(&self, tenant: &TenantId, n: &NewUser) -> StoreResult<()> {
        let u = &n.user;
        let mut c = self.conn().await?;
        let mut tx = atomic(&mut c).await?;
        sqlx::query(
            "INSERT INTO users (tenant_id, id, email, email_verified, username, phone_number, phone_verified, name, \
             given_name, family_name, nickname, picture, user_metadata, app_metadata, blocked, created_at, updated_at, \
             last_login_at, logins_count, standard_claims) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
        )
        .bind(tenant.as_str())
        .bind(&u.id.0)
        .bind(&u.email)
        .bind(u.email_verified)
        .bind(&u.username)
        .bind(&u.phone_number)
        .bind(u.phone_verified)
        .bind(&u.name)
        .bind(&u.given_name)
        .bind(&u.family_name)
        .bind(&u.nickname)
        .bind(&u.picture)
        .bind(to_json(&u.user_metadata))
        .bind(to_json(&u.app_metadata))
        .bind(u.blocked)
        .bind(u.created_at)
        .bind(u.updated_at)
        .bind(u.last_login_at)
        .bind(u.logins_count)
        .bind(to_json(&u.claims))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if let Some(hash) = &n.password_hash {
            sqlx::query(
                "INSERT INTO authentication_methods (tenant_id, id, user_id, method_type, secret, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'password', $4, $5, $5)",
            )
            .bind(tenant.as_str())
            .bind(password_method_id(&u.id))
            .bind(&u.id.0)
            .bind(hash)
            .bind(u.created_at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)?;
        self.methods_changed(&mut c, tenant, &u.id).await
    }

    async fn find_user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<Option<User>> {
        let mut c = self.conn().await?;
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(&id.0)
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?;
        row.map(|r| user_from(&r)).transpose().map_err(map_err)
    }

    async fn find_user_for_display(&self, tenant: &TenantId, id: &UserId) -> StoreResult<Option<User>> {
        if self.tx.is_none()
            && let Some(u) = self.methods.get_user(tenant, id)
        {
            return Ok(Some((*u).clone()));
        }
        let ticket = self.methods.ticket();
        let user = self.find_user(tenant, id).await?;
        if self.tx.is_none()
            && let Some(u) = &user
        {
            self.methods.put_user(ticket, tenant, u);
        }
        Ok(user)
    }

    async fn list_users(&self, tenant: &TenantId, q: &UserQuery, page: Page) -> StoreResult<(Vec<User>, u64)> {
        let mut c = self.conn().await?;
        // Two shapes, so an email lookup (every password sign-in) uses the (tenant, email) index:
        // with "$2 IS NULL OR email = $2" SQLite walked the tenant's users instead — about 90 ms
        // per sign-in at 100,000 users (found by bench/run's sign-in scenario).
        let filter =
            if q.email.is_some() { "tenant_id = $1 AND email = $2" } else { "tenant_id = $1 AND $2 IS NULL" };
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE {filter} ORDER BY created_at, id LIMIT $3 OFFSET $4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(&q.email)
            .bind(i64::from(page.limit))
            .bind(i64::from(page.offset))
            .fetch_all(&mut *c)
            .await
            .map_err(map_err)?;
        let total = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM users WHERE {filter}")))
            .bind(tenant.as_str())
            .bind(&q.email)
            .fetch_one(&mut *c)
            .await
            .map_err(map_err)?;
        let users = rows.iter().map(user_from).collect::<Result<_, _>>().map_err(map_err)?;
        Ok((users, count(&total)?))
    }

    async fn update_user(&self, tenant: &TenantId, u: &User) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query(
            "UPDATE users SET email = $3, email_verified = $4, username = $5, phone_number = $6, phone_verified = $7, \
             name = $8, given_name = $9, family_name = $10, nickname = $11, picture = $12, user_metadata = $13, \
             app_metadata = $14, blocked = $15, updated_at = $16, last_login_at = $17, logins_count = $18, \
             standard_claims = $19 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(&u.id.0)
        .bind(&u.email)
        .bind(u.email_verified)
        .bind(&u.username)
        .bind(&u.phone_number)
        .bind(u.phone_verified)
        .bind(&u.name)
        .bind(&u.given_name)
        .bind(&u.family_name)
        .bind(&u.nickname)
        .bind(&u.picture)
        .bind(to_json(&u.user_metadata))
        .bind(to_json(&u.app_metadata))
        .bind(u.blocked)
        .bind(u.updated_at)
        .bind(u.last_login_at)
        .bind(u.logins_count)
        .bind(to_json(&u.claims))
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        if r.rows_affected() == 0 {
            return Ok(false);
        }
        self.methods_changed(&mut c, tenant, &u.id).await?;
        Ok(true)
    }

    async fn delete_user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query("DELETE FROM users WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(&id.0)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        // Their methods went with them (ON DELETE CASCADE).
        if r.rows_affected() > 0 {
            self.methods_changed(&mut c, tenant, id).await?;
        }
        Ok(r.rows_affected() > 0)
    }

    async fn set_password_hash(&self, tenant: &TenantId, id: &UserId, phc: &str, now: i64) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query(
            "INSERT INTO authentication_methods (tenant_id, id, user_id, method_type, secret, created_at, updated_at) \
             VALUES ($1, $2, $3, 'password', $4, $5, $5) \
             ON CONFLICT (tenant_id, id) DO UPDATE SET secret = excluded.secret, updated_at = excluded.updated_at",
        )
        .bind(tenant.as_str())
        .bind(password_method_id(id))
        .bind(&id.0)
        .bind(phc)
        .bind(now)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        self.methods_changed(&mut c, tenant, id).await
    }

    async fn load_password_hash(&self, tenant: &TenantId, id: &UserId) -> StoreResult<Option<String>> {
        let mut c = self.conn().await?;
        let row = sqlx::query(
            "SELECT secret FROM authentication_methods WHERE tenant_id = $1 AND id = $2 AND method_type = 'password'",
        )
        .bind(tenant.as_str())
        .bind(password_method_id(id))
        .fetch_optional(&mut *c)
        .await
        .map_err(map_err)?;
        row.map(|r| r.try_get::<String, _>(0)).transpose().map_err(map_err)
    }

    async fn load_mfa_settings(&self, tenant: &TenantId, id: &UserId) -> StoreResult<Option<String>> {
        let mut c = self.conn().await?;
        let row = sqlx::query("SELECT mfa_settings FROM users WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(&id.0)
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?;
        row.map(|r| r.try_get::<String, _>(0)).transpose().map_err(map_err)
    }

    async fn swap_mfa_settings(&self, tenant: &TenantId, id: &UserId, expected: &str, new: &str) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query(
            "UPDATE users SET mfa_settings = $4 WHERE tenant_id = $1 AND id = $2 AND mfa_settings = $3",
        )
        .bind(tenant.as_str())
        .bind(&id.0)
        .bind(expected)
        .bind(new)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }
}
