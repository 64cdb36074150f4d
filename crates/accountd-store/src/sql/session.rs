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
        last_seen_at: r.try_get("last_seen_at")?,
    })
}

fn user_grant_from(r: &Row) -> Result<Grant, sqlx::Error> {
    Ok(Grant {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        client_id: r.try_get("client_id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

fn family_from(r: &Row) -> Result<TokenFamily, sqlx::Error> {
    Ok(TokenFamily {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        client_id: r.try_get("client_id")?,
        session_id: r.try_get("session_id")?,
        grant_id: r.try_get("grant_id")?,
        scope: r.try_get("scope")?,
        created_at: r.try_get("created_at")?,
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
        grant_id: r.try_get("grant_id")?,
        family_id: r.try_get("family_id")?,
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
    "id, user_id, auth_time, amr, acr, user_agent, ip, created_at, expires_at, revoked_at, last_seen_at";
const USER_GRANT_COLUMNS: &str = "id, user_id, client_id, created_at, updated_at, expires_at, revoked_at";
const FAMILY_COLUMNS: &str = "id, user_id, client_id, session_id, grant_id, scope, created_at, revoked_at";
const CODE_COLUMNS: &str = "code_hash, client_id, user_id, session_id, redirect_uri, scope, audience, nonce, \
     code_challenge, auth_time, amr, acr, created_at, expires_at, consumed_at, grant_id, family_id";
const REFRESH_COLUMNS: &str = "id, token_hash, family_id, client_id, user_id, session_id, scope, audience, \
     auth_time, amr, acr, created_at, expires_at, rotated_at, revoked_at, dpop_jkt";

#[async_trait::async_trait]
impl SessionStore for Handle {
    async fn insert_session(&self, tenant: &TenantId, s: &Session, secret_hash: &str) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query(
            "INSERT INTO sessions (tenant_id, id, secret_hash, user_id, auth_time, amr, acr, user_agent, ip, \
             created_at, expires_at, revoked_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
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
        .bind(s.last_seen_at)
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

    async fn find_session(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<Session>> {
        let mut c = self.conn().await?;
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE tenant_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(id)
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?;
        row.map(|r| session_from(&r)).transpose().map_err(map_err)
    }

    async fn list_user_sessions(&self, tenant: &TenantId, user: &UserId, now: i64) -> StoreResult<Vec<Session>> {
        let mut c = self.conn().await?;
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE tenant_id = $1 AND user_id = $2 \
             AND revoked_at IS NULL AND expires_at > $3 ORDER BY created_at DESC, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(&user.0)
            .bind(now)
            .fetch_all(&mut *c)
            .await
            .map_err(map_err)?;
        rows.iter().map(session_from).collect::<Result<_, _>>().map_err(map_err)
    }

    async fn touch_session(&self, tenant: &TenantId, id: &str, now: i64) -> StoreResult<()> {
        let mut c = self.conn().await?;
        touch(&mut c, tenant, id, now).await
    }

    async fn revoke_session(&self, tenant: &TenantId, user: &UserId, id: &str, now: i64) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let mut tx = atomic(&mut c).await?;
        let live = end_sessions(&mut tx, tenant, user, Some(id), None, now).await?;
        tx.commit().await.map_err(map_err)?;
        self.methods_changed(&mut c, tenant, user).await?;
        Ok(!live.is_empty())
    }

    async fn revoke_user_sessions(
        &self,
        tenant: &TenantId,
        user: &UserId,
        keep: Option<&str>,
        now: i64,
    ) -> StoreResult<Vec<String>> {
        let mut c = self.conn().await?;
        let mut tx = atomic(&mut c).await?;
        let ended = end_sessions(&mut tx, tenant, user, None, keep, now).await?;
        tx.commit().await.map_err(map_err)?;
        self.methods_changed(&mut c, tenant, user).await?;
        Ok(ended)
    }

    async fn upsert_grant(
        &self,
        tenant: &TenantId,
        user: &UserId,
        client_id: &str,
        new_id: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<String> {
        let mut c = self.conn().await?;
        // One statement, so parallel first sign-ins of an app meet on the unique live index.
        let row = sqlx::query(
            "INSERT INTO grants (tenant_id, id, user_id, client_id, created_at, updated_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $5, $6) \
             ON CONFLICT (tenant_id, user_id, client_id) WHERE revoked_at IS NULL \
             DO UPDATE SET updated_at = excluded.updated_at, expires_at = excluded.expires_at RETURNING id",
        )
        .bind(tenant.as_str())
        .bind(new_id)
        .bind(&user.0)
        .bind(client_id)
        .bind(now)
        .bind(expires_at)
        .fetch_one(&mut *c)
        .await
        .map_err(map_err)?;
        row.try_get("id").map_err(map_err)
    }

    async fn list_user_grants(&self, tenant: &TenantId, user: &UserId, now: i64) -> StoreResult<Vec<Grant>> {
        let mut c = self.conn().await?;
        let sql = format!(
            "SELECT {USER_GRANT_COLUMNS} FROM grants WHERE tenant_id = $1 AND user_id = $2 \
             AND revoked_at IS NULL AND expires_at > $3 ORDER BY created_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(&user.0)
            .bind(now)
            .fetch_all(&mut *c)
            .await
            .map_err(map_err)?;
        rows.iter().map(user_grant_from).collect::<Result<_, _>>().map_err(map_err)
    }

    async fn revoke_grant(&self, tenant: &TenantId, user: &UserId, id: &str, now: i64) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let mut tx = atomic(&mut c).await?;
        let r = sqlx::query(
            "UPDATE grants SET revoked_at = $4 WHERE tenant_id = $1 AND user_id = $2 AND id = $3 AND revoked_at IS NULL",
        )
        .bind(tenant.as_str())
        .bind(&user.0)
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if r.rows_affected() > 0 {
            end_families(&mut tx, tenant, "grant_id = $2", id, now).await?;
        }
        tx.commit().await.map_err(map_err)?;
        self.methods_changed(&mut c, tenant, user).await?;
        Ok(r.rows_affected() > 0)
    }

    async fn insert_token_family(&self, tenant: &TenantId, f: &TokenFamily) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query(
            "INSERT INTO token_families (tenant_id, id, user_id, client_id, session_id, grant_id, scope, created_at, \
             revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(tenant.as_str())
        .bind(&f.id)
        .bind(&f.user_id)
        .bind(&f.client_id)
        .bind(&f.session_id)
        .bind(&f.grant_id)
        .bind(&f.scope)
        .bind(f.created_at)
        .bind(f.revoked_at)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn list_user_families(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<TokenFamily>> {
        let mut c = self.conn().await?;
        let sql = format!(
            "SELECT {FAMILY_COLUMNS} FROM token_families WHERE tenant_id = $1 AND user_id = $2 \
             AND revoked_at IS NULL ORDER BY created_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(&user.0)
            .fetch_all(&mut *c)
            .await
            .map_err(map_err)?;
        rows.iter().map(family_from).collect::<Result<_, _>>().map_err(map_err)
    }

    async fn find_revocations(&self, tenant: &TenantId, user: &UserId, since: i64) -> StoreResult<Arc<Revocations>> {
        if self.tx.is_none()
            && let Some(r) = self.methods.get_revocations(tenant, user)
        {
            return Ok(r);
        }
        let ticket = self.methods.ticket();
        let mut c = self.conn().await?;
        let ids = |table: &str| {
            format!("SELECT id FROM {table} WHERE tenant_id = $1 AND user_id = $2 AND revoked_at > $3")
        };
        let read = |rows: Vec<Row>| -> StoreResult<std::collections::HashSet<String>> {
            rows.iter().map(|r| r.try_get::<String, _>("id")).collect::<Result<_, _>>().map_err(map_err)
        };
        let sessions = sqlx::query(sqlx::AssertSqlSafe(ids("sessions")))
            .bind(tenant.as_str())
            .bind(&user.0)
            .bind(since)
            .fetch_all(&mut *c)
            .await
            .map_err(map_err)?;
        let families = sqlx::query(sqlx::AssertSqlSafe(ids("token_families")))
            .bind(tenant.as_str())
            .bind(&user.0)
            .bind(since)
            .fetch_all(&mut *c)
            .await
            .map_err(map_err)?;
        let found = Arc::new(Revocations { sessions: read(sessions)?, families: read(families)? });
        if self.tx.is_none() {
            self.methods.put_revocations(ticket, tenant, user, found.clone());
        }
        Ok(found)
    }

    async fn insert_authorization_code(&self, tenant: &TenantId, a: &AuthorizationCode) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query(
            "INSERT INTO authorization_codes (tenant_id, code_hash, client_id, user_id, session_id, redirect_uri, \
             scope, audience, nonce, code_challenge, auth_time, amr, acr, created_at, expires_at, grant_id, family_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
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
        .bind(&a.grant_id)
        .bind(&a.family_id)
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
        insert_refresh(&mut c, tenant, t).await
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

    async fn rotate_refresh_token(
        &self,
        tenant: &TenantId,
        old: &RefreshToken,
        now: i64,
        successor: Option<&RefreshToken>,
    ) -> StoreResult<bool> {
        // Three statements, not one transaction. A request whose client goes away is dropped
        // mid-flight; a transaction dropped between its statements stayed open on its pooled
        // connection ("idle in transaction", holding its locks) until that connection was next
        // used, and password sign-ins queued behind it for over 10 s (bench/run on PostgreSQL,
        // after wrk's refresh load stopped). On SQLite a transaction also held the write lock
        // across round trips while the other writers slept in the busy handler. Each statement
        // is atomic on its own: the conditional UPDATE decides the one winner, and a request cut
        // off after it leaves the old token spent and no successor, as a lost answer would.
        let mut c = self.conn().await?;
        if !rotate(&mut c, tenant, &old.id, now).await? {
            return Ok(false);
        }
        touch(&mut c, tenant, &old.session_id, now).await?;
        if let Some(next) = successor {
            insert_refresh(&mut c, tenant, next).await?;
        }
        Ok(true)
    }

    async fn revoke_refresh_family(
        &self,
        tenant: &TenantId,
        user: &UserId,
        family_id: &str,
        now: i64,
    ) -> StoreResult<u64> {
        let mut c = self.conn().await?;
        let mut tx = atomic(&mut c).await?;
        let n = end_families(&mut tx, tenant, "id = $2", family_id, now).await?;
        // Families from before token_families existed are named by their code hash only.
        let legacy = sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $3 WHERE tenant_id = $1 AND family_id = $2 AND revoked_at IS NULL",
        )
        .bind(tenant.as_str())
        .bind(family_id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected();
        tx.commit().await.map_err(map_err)?;
        self.methods_changed(&mut c, tenant, user).await?;
        Ok(n + legacy)
    }
}

/// Ends the live sessions of `user` (one `id`, or all but `keep`) and their token families;
/// returns the ids ended.
async fn end_sessions(
    tx: &mut sqlx::Transaction<'_, Db>,
    tenant: &TenantId,
    user: &UserId,
    id: Option<&str>,
    keep: Option<&str>,
    now: i64,
) -> StoreResult<Vec<String>> {
    let rows = sqlx::query(
        "UPDATE sessions SET revoked_at = $5 WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL \
         AND ($3 IS NULL OR id = $3) AND ($4 IS NULL OR id <> $4) RETURNING id",
    )
    .bind(tenant.as_str())
    .bind(&user.0)
    .bind(id)
    .bind(keep)
    .bind(now)
    .fetch_all(&mut **tx)
    .await
    .map_err(map_err)?;
    let ended: Vec<String> = rows.iter().map(|r| r.try_get("id")).collect::<Result<_, _>>().map_err(map_err)?;
    // A named session's tokens go even if it had ended already (a logout racing a revocation).
    let mut sweep = ended.clone();
    if let Some(id) = id
        && !sweep.iter().any(|s| s == id)
    {
        sweep.push(id.to_string());
    }
    for sid in &sweep {
        end_families(tx, tenant, "session_id = $2", sid, now).await?;
        // Tokens of sessions from before token_families existed.
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $3 WHERE tenant_id = $1 AND session_id = $2 AND revoked_at IS NULL",
        )
        .bind(tenant.as_str())
        .bind(sid)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
        sqlx::query("DELETE FROM access_tokens WHERE tenant_id = $1 AND session_id = $2")
            .bind(tenant.as_str())
            .bind(sid)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
    }
    Ok(ended)
}

/// Revokes the live token families matching `filter` (on `$2` = `value`), their refresh tokens
/// and their opaque access tokens; returns how many refresh tokens were live.
async fn end_families(
    tx: &mut sqlx::Transaction<'_, Db>,
    tenant: &TenantId,
    filter: &'static str,
    value: &str,
    now: i64,
) -> StoreResult<u64> {
    let families = format!("SELECT id FROM token_families WHERE tenant_id = $1 AND {filter}");
    let refresh = format!(
        "UPDATE refresh_tokens SET revoked_at = $3 WHERE tenant_id = $1 AND revoked_at IS NULL \
         AND family_id IN ({families})"
    );
    let n = sqlx::query(sqlx::AssertSqlSafe(refresh))
        .bind(tenant.as_str())
        .bind(value)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?
        .rows_affected();
    let opaque = format!("DELETE FROM access_tokens WHERE tenant_id = $1 AND family_id IN ({families})");
    sqlx::query(sqlx::AssertSqlSafe(opaque)).bind(tenant.as_str()).bind(value).execute(&mut **tx).await.map_err(map_err)?;
    let mark = format!(
        "UPDATE token_families SET revoked_at = $3 WHERE tenant_id = $1 AND {filter} AND revoked_at IS NULL"
    );
    sqlx::query(sqlx::AssertSqlSafe(mark)).bind(tenant.as_str()).bind(value).bind(now).execute(&mut **tx).await.map_err(map_err)?;
    Ok(n)
}

/// Marks a live refresh token rotated; false if it was already rotated or revoked.
async fn rotate(c: &mut <Db as sqlx::Database>::Connection, tenant: &TenantId, id: &str, now: i64) -> StoreResult<bool> {
    let r = sqlx::query(
        "UPDATE refresh_tokens SET rotated_at = $3 WHERE tenant_id = $1 AND id = $2 \
         AND rotated_at IS NULL AND revoked_at IS NULL",
    )
    .bind(tenant.as_str())
    .bind(id)
    .bind(now)
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(r.rows_affected() == 1)
}

/// Notes that a session was used at `now`.
async fn touch(c: &mut <Db as sqlx::Database>::Connection, tenant: &TenantId, id: &str, now: i64) -> StoreResult<()> {
    sqlx::query("UPDATE sessions SET last_seen_at = $3 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(id)
        .bind(now)
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(())
}

async fn insert_refresh(c: &mut <Db as sqlx::Database>::Connection, tenant: &TenantId, t: &RefreshToken) -> StoreResult<()> {
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
    .execute(c)
    .await
    .map_err(map_err)?;
    Ok(())
}
