// Sessions, authorization codes, refresh tokens. Compiled once per backend (see `backend!` in lib.rs).

fn session_from(r: &Row) -> Result<Session, sqlx::Error> {
    Ok(Session {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        auth_time: r.try_get("auth_time")?,
        amr: from_json(&r.try_get::<String, _>("amr")?),
        acr: r.try_get("acr")?,
        user_agent: r.try_get("user_agent")?,
        ip: r.try_get("ip")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

fn code_from(r: &Row) -> Result<AuthorizationCode, sqlx::Error> {
    Ok(AuthorizationCode {
        code_hash: r.try_get("code_hash")?,
        client_id: r.try_get("client_id")?,
        user_id: r.try_get("user_id")?,
        session_id: r.try_get("session_id")?,
        redirect_uri: r.try_get("redirect_uri")?,
        scope: r.try_get("scope")?,
        audience: r.try_get("audience")?,
        nonce: r.try_get("nonce")?,
        code_challenge: r.try_get("code_challenge")?,
        auth_time: r.try_get("auth_time")?,
        amr: from_json(&r.try_get::<String, _>("amr")?),
        acr: r.try_get("acr")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
    })
}

fn refresh_from(r: &Row) -> Result<RefreshToken, sqlx::Error> {
    Ok(RefreshToken {
        id: r.try_get("id")?,
        token_hash: r.try_get("token_hash")?,
        family_id: r.try_get("family_id")?,
        client_id: r.try_get("client_id")?,
        user_id: r.try_get("user_id")?,
        session_id: r.try_get("session_id")?,
        scope: r.try_get("scope")?,
        audience: r.try_get("audience")?,
        auth_time: r.try_get("auth_time")?,
        amr: from_json(&r.try_get::<String, _>("amr")?),
        acr: r.try_get("acr")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        rotated_at: r.try_get("rotated_at")?,
        revoked_at: r.try_get("revoked_at")?,
        dpop_jkt: r.try_get("dpop_jkt")?,
    })
}

const SESSION_COLUMNS: &str =
    "id, user_id, auth_time, amr, acr, user_agent, ip, created_at, expires_at, revoked_at";
const CODE_COLUMNS: &str = "code_hash, client_id, user_id, session_id, redirect_uri, scope, audience, nonce, \
     code_challenge, auth_time, amr, acr, created_at, expires_at, consumed_at";
const REFRESH_COLUMNS: &str = "id, token_hash, family_id, client_id, user_id, session_id, scope, audience, \
     auth_time, amr, acr, created_at, expires_at, rotated_at, revoked_at, dpop_jkt";

#[async_trait::async_trait]
impl SessionStore for Handle {
    async fn insert_session(&self, tenant: &TenantId, s: &Session, secret_hash: &str) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query(
            "INSERT INTO sessions (tenant_id, id, secret_hash, user_id, auth_time, amr, acr, user_agent, ip, \
             created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(tenant.as_str())
        .bind(&s.id)
        .bind(secret_hash)
        .bind(&s.user_id)
        .bind(s.auth_time)
        .bind(to_json(&s.amr))
        .bind(&s.acr)
        .bind(&s.user_agent)
        .bind(&s.ip)
        .bind(s.created_at)
        .bind(s.expires_at)
        .bind(s.revoked_at)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn find_session_by_secret(&self, tenant: &TenantId, secret_hash: &str, now: i64) -> StoreResult<Option<Session>> {
        let mut c = self.conn().await?;
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE tenant_id = $1 AND secret_hash = $2 \
             AND revoked_at IS NULL AND expires_at > $3"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(secret_hash)
            .bind(now)
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?;
        row.map(|r| session_from(&r)).transpose().map_err(map_err)
    }

    async fn revoke_session(&self, tenant: &TenantId, id: &str, now: i64) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let mut tx = atomic(&mut c).await?;
        let r = sqlx::query("UPDATE sessions SET revoked_at = $3 WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL")
            .bind(tenant.as_str())
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $3 WHERE tenant_id = $1 AND session_id = $2 AND revoked_at IS NULL",
        )
        .bind(tenant.as_str())
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        sqlx::query("DELETE FROM access_tokens WHERE tenant_id = $1 AND session_id = $2")
            .bind(tenant.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn insert_authorization_code(&self, tenant: &TenantId, a: &AuthorizationCode) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query(
            "INSERT INTO authorization_codes (tenant_id, code_hash, client_id, user_id, session_id, redirect_uri, \
             scope, audience, nonce, code_challenge, auth_time, amr, acr, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(tenant.as_str())
        .bind(&a.code_hash)
        .bind(&a.client_id)
        .bind(&a.user_id)
        .bind(&a.session_id)
        .bind(&a.redirect_uri)
        .bind(&a.scope)
        .bind(&a.audience)
        .bind(&a.nonce)
        .bind(&a.code_challenge)
        .bind(a.auth_time)
        .bind(to_json(&a.amr))
        .bind(&a.acr)
        .bind(a.created_at)
        .bind(a.expires_at)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn consume_authorization_code(
        &self,
        tenant: &TenantId,
        code_hash: &str,
        now: i64,
    ) -> StoreResult<Option<(AuthorizationCode, bool)>> {
        let mut c = self.conn().await?;
        // The conditional UPDATE is the single-use gate: only one caller sees a row affected.
        let first = sqlx::query(
            "UPDATE authorization_codes SET consumed_at = $3 WHERE tenant_id = $1 AND code_hash = $2 \
             AND consumed_at IS NULL",
        )
        .bind(tenant.as_str())
        .bind(code_hash)
        .bind(now)
        .execute(&mut *c)
        .await
        .map_err(map_err)?
        .rows_affected()
            == 1;
        let sql = format!("SELECT {CODE_COLUMNS} FROM authorization_codes WHERE tenant_id = $1 AND code_hash = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(code_hash)
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?;
        row.map(|r| code_from(&r).map(|code| (code, first))).transpose().map_err(map_err)
    }

    async fn insert_refresh_token(&self, tenant: &TenantId, t: &RefreshToken) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query(
            "INSERT INTO refresh_tokens (tenant_id, id, token_hash, family_id, client_id, user_id, session_id, scope, \
             audience, auth_time, amr, acr, created_at, expires_at, rotated_at, revoked_at, dpop_jkt) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        )
        .bind(tenant.as_str())
        .bind(&t.id)
        .bind(&t.token_hash)
        .bind(&t.family_id)
        .bind(&t.client_id)
        .bind(&t.user_id)
        .bind(&t.session_id)
        .bind(&t.scope)
        .bind(&t.audience)
        .bind(t.auth_time)
        .bind(to_json(&t.amr))
        .bind(&t.acr)
        .bind(t.created_at)
        .bind(t.expires_at)
        .bind(t.rotated_at)
        .bind(t.revoked_at)
        .bind(&t.dpop_jkt)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn find_refresh_token(&self, tenant: &TenantId, token_hash: &str) -> StoreResult<Option<RefreshToken>> {
        let mut c = self.conn().await?;
        let sql = format!("SELECT {REFRESH_COLUMNS} FROM refresh_tokens WHERE tenant_id = $1 AND token_hash = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(token_hash)
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?;
        row.map(|r| refresh_from(&r)).transpose().map_err(map_err)
    }

    async fn rotate_refresh_token(&self, tenant: &TenantId, id: &str, now: i64) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query(
            "UPDATE refresh_tokens SET rotated_at = $3 WHERE tenant_id = $1 AND id = $2 \
             AND rotated_at IS NULL AND revoked_at IS NULL",
        )
        .bind(tenant.as_str())
        .bind(id)
        .bind(now)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn revoke_refresh_family(&self, tenant: &TenantId, family_id: &str, now: i64) -> StoreResult<u64> {
        let mut c = self.conn().await?;
        let r = sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $3 WHERE tenant_id = $1 AND family_id = $2 AND revoked_at IS NULL",
        )
        .bind(tenant.as_str())
        .bind(family_id)
        .bind(now)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected())
    }
}
