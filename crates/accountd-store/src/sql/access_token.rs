// Opaque access tokens. Compiled once per backend (see `backend!` in lib.rs).

fn access_token_from(r: &Row) -> Result<AccessToken, sqlx::Error> {
    Ok(AccessToken {
        token_hash: r.try_get("token_hash")?,
        client_id: r.try_get("client_id")?,
        user_id: r.try_get("user_id")?,
        session_id: r.try_get("session_id")?,
        scope: r.try_get("scope")?,
        auth_time: r.try_get("auth_time")?,
        amr: from_json(&r.try_get::<String, _>("amr")?),
        acr: r.try_get("acr")?,
        dpop_jkt: r.try_get("dpop_jkt")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        family_id: r.try_get("family_id")?,
    })
}

const ACCESS_TOKEN_COLUMNS: &str =
    "token_hash, client_id, user_id, session_id, scope, auth_time, amr, acr, dpop_jkt, created_at, expires_at, \
     family_id";

#[async_trait::async_trait]
impl AccessTokenStore for Handle {
    async fn insert_access_token(&self, tenant: &TenantId, t: &AccessToken) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query(
            "INSERT INTO access_tokens (tenant_id, token_hash, client_id, user_id, session_id, scope, auth_time, \
             amr, acr, dpop_jkt, created_at, expires_at, family_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(tenant.as_str())
        .bind(&t.token_hash)
        .bind(&t.client_id)
        .bind(&t.user_id)
        .bind(&t.session_id)
        .bind(&t.scope)
        .bind(t.auth_time)
        .bind(to_json(&t.amr))
        .bind(&t.acr)
        .bind(&t.dpop_jkt)
        .bind(t.created_at)
        .bind(t.expires_at)
        .bind(&t.family_id)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        // Expired rows are useless; about one insert in sixteen (the hash is uniform) drops them
        // instead of a background job.
        if t.token_hash.starts_with('0') {
            sqlx::query("DELETE FROM access_tokens WHERE expires_at <= $1")
                .bind(t.created_at)
                .execute(&mut *c)
                .await
                .map_err(map_err)?;
        }
        Ok(())
    }

    async fn find_access_token(&self, tenant: &TenantId, token_hash: &str, now: i64) -> StoreResult<Option<AccessToken>> {
        let mut c = self.conn().await?;
        let sql = format!(
            "SELECT {ACCESS_TOKEN_COLUMNS} FROM access_tokens WHERE tenant_id = $1 AND token_hash = $2 \
             AND expires_at > $3"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?;
        row.map(|r| access_token_from(&r)).transpose().map_err(map_err)
    }

    async fn delete_access_token(&self, tenant: &TenantId, token_hash: &str) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query("DELETE FROM access_tokens WHERE tenant_id = $1 AND token_hash = $2")
            .bind(tenant.as_str())
            .bind(token_hash)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }
}
