// Upstream connections and the identities users hold at them. Compiled once per backend (see
// `backend!` in lib.rs).

/// What `upstream_connections.config` holds: everything of a connection but its id, name, secret
/// and times.
#[derive(serde::Serialize, serde::Deserialize)]
struct ConnectionConfig {
    display_name: Option<String>,
    strategy: accountd_core::upstream::Strategy,
    #[serde(default)]
    endpoints: accountd_core::upstream::Endpoints,
    client_id: String,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    token_vault: bool,
    #[serde(default)]
    sign_in: bool,
    #[serde(default)]
    link_by_verified_email: bool,
}

fn json_column<T: serde::de::DeserializeOwned>(row: &Row, index: &str) -> Result<T, sqlx::Error> {
    serde_json::from_str(&row.try_get::<String, _>(index)?)
        .map_err(|e| sqlx::Error::ColumnDecode { index: index.into(), source: Box::new(e) })
}

fn connection_of(row: &Row) -> Result<StoredConnection, sqlx::Error> {
    let config: ConnectionConfig = json_column(row, "config")?;
    Ok(StoredConnection {
        connection: UpstreamConnection {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            display_name: config.display_name,
            strategy: config.strategy,
            endpoints: config.endpoints,
            client_id: config.client_id,
            scopes: config.scopes,
            token_vault: config.token_vault,
            sign_in: config.sign_in,
            link_by_verified_email: config.link_by_verified_email,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        },
        sealed_secret: row.try_get("client_secret")?,
    })
}

fn config_of(c: &UpstreamConnection) -> String {
    to_json(&ConnectionConfig {
        display_name: c.display_name.clone(),
        strategy: c.strategy,
        endpoints: c.endpoints.clone(),
        client_id: c.client_id.clone(),
        scopes: c.scopes.clone(),
        token_vault: c.token_vault,
        sign_in: c.sign_in,
        link_by_verified_email: c.link_by_verified_email,
    })
}

const IDENTITY_COLUMNS: &str = "i.id, i.user_id, i.connection_id, c.name AS connection_name, i.subject, i.profile, \
     i.scopes, i.tokens, i.tokens_expire_at, i.created_at, i.updated_at";

const IDENTITY_FROM: &str =
    "identities i JOIN upstream_connections c ON c.tenant_id = i.tenant_id AND c.id = i.connection_id";

fn identity_of(row: &Row) -> Result<LinkedIdentity, sqlx::Error> {
    Ok(LinkedIdentity {
        id: row.try_get("id")?,
        user_id: UserId(row.try_get("user_id")?),
        connection_id: row.try_get("connection_id")?,
        connection_name: row.try_get("connection_name")?,
        subject: row.try_get("subject")?,
        profile: json_column(row, "profile")?,
        scopes: json_column(row, "scopes")?,
        sealed_tokens: row.try_get("tokens")?,
        tokens_expire_at: row.try_get("tokens_expire_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

#[async_trait::async_trait]
impl UpstreamStore for Handle {
    async fn insert_connection(&self, tenant: &TenantId, s: &StoredConnection) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let k = &s.connection;
        sqlx::query(
            "INSERT INTO upstream_connections (tenant_id, id, name, config, client_secret, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(tenant.as_str())
        .bind(&k.id)
        .bind(&k.name)
        .bind(config_of(k))
        .bind(&s.sealed_secret)
        .bind(k.created_at)
        .bind(k.updated_at)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn update_connection(&self, tenant: &TenantId, s: &StoredConnection) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let k = &s.connection;
        let r = sqlx::query(
            "UPDATE upstream_connections SET name = $3, config = $4, client_secret = $5, updated_at = $6 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(&k.id)
        .bind(&k.name)
        .bind(config_of(k))
        .bind(&s.sealed_secret)
        .bind(k.updated_at)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn delete_connection(&self, tenant: &TenantId, id: &str) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        // The identities go with it (a cascade): their users' cached views go too.
        let holders: Vec<String> =
            sqlx::query_scalar("SELECT user_id FROM identities WHERE tenant_id = $1 AND connection_id = $2")
                .bind(tenant.as_str())
                .bind(id)
                .fetch_all(&mut *c)
                .await
                .map_err(map_err)?;
        for user in holders {
            self.methods_changed(&mut c, tenant, &UserId(user)).await?;
        }
        let r = sqlx::query("DELETE FROM upstream_connections WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn find_connection(&self, tenant: &TenantId, id_or_name: &str) -> StoreResult<Option<StoredConnection>> {
        let mut c = self.conn().await?;
        let row = sqlx::query(
            "SELECT id, name, config, client_secret, created_at, updated_at FROM upstream_connections \
             WHERE tenant_id = $1 AND (id = $2 OR name = $2) ORDER BY (id = $2) DESC LIMIT 1",
        )
        .bind(tenant.as_str())
        .bind(id_or_name)
        .fetch_optional(&mut *c)
        .await
        .map_err(map_err)?;
        row.as_ref().map(connection_of).transpose().map_err(map_err)
    }

    async fn list_connections(&self, tenant: &TenantId) -> StoreResult<Vec<StoredConnection>> {
        let mut c = self.conn().await?;
        let rows = sqlx::query(
            "SELECT id, name, config, client_secret, created_at, updated_at FROM upstream_connections \
             WHERE tenant_id = $1 ORDER BY name",
        )
        .bind(tenant.as_str())
        .fetch_all(&mut *c)
        .await
        .map_err(map_err)?;
        rows.iter().map(connection_of).collect::<Result<_, _>>().map_err(map_err)
    }

    async fn insert_identity(&self, tenant: &TenantId, i: &LinkedIdentity) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query(
            "INSERT INTO identities (tenant_id, id, user_id, connection_id, subject, profile, scopes, tokens, \
             tokens_expire_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(tenant.as_str())
        .bind(&i.id)
        .bind(&i.user_id.0)
        .bind(&i.connection_id)
        .bind(&i.subject)
        .bind(to_json(&i.profile))
        .bind(to_json(&i.scopes))
        .bind(&i.sealed_tokens)
        .bind(i.tokens_expire_at)
        .bind(i.created_at)
        .bind(i.updated_at)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        self.methods_changed(&mut c, tenant, &i.user_id).await
    }

    async fn replace_identity(&self, tenant: &TenantId, i: &LinkedIdentity) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query(
            "UPDATE identities SET subject = $4, profile = $5, scopes = $6, tokens = $7, tokens_expire_at = $8, \
             updated_at = $9 WHERE tenant_id = $1 AND user_id = $2 AND connection_id = $3",
        )
        .bind(tenant.as_str())
        .bind(&i.user_id.0)
        .bind(&i.connection_id)
        .bind(&i.subject)
        .bind(to_json(&i.profile))
        .bind(to_json(&i.scopes))
        .bind(&i.sealed_tokens)
        .bind(i.tokens_expire_at)
        .bind(i.updated_at)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        self.methods_changed(&mut c, tenant, &i.user_id).await?;
        Ok(r.rows_affected() > 0)
    }

    async fn find_identity_by_subject(
        &self,
        tenant: &TenantId,
        connection_id: &str,
        subject: &str,
    ) -> StoreResult<Option<LinkedIdentity>> {
        let mut c = self.conn().await?;
        let sql = format!(
            "SELECT {IDENTITY_COLUMNS} FROM {IDENTITY_FROM} \
             WHERE i.tenant_id = $1 AND i.connection_id = $2 AND i.subject = $3"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(connection_id)
            .bind(subject)
            .fetch_optional(&mut *c)
            .await
            .map_err(map_err)?;
        row.as_ref().map(identity_of).transpose().map_err(map_err)
    }

    async fn list_identities(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<LinkedIdentity>> {
        let mut c = self.conn().await?;
        let sql = format!(
            "SELECT {IDENTITY_COLUMNS} FROM {IDENTITY_FROM} \
             WHERE i.tenant_id = $1 AND i.user_id = $2 ORDER BY i.created_at, i.id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(&user.0)
            .fetch_all(&mut *c)
            .await
            .map_err(map_err)?;
        rows.iter().map(identity_of).collect::<Result<_, _>>().map_err(map_err)
    }

    async fn list_identities_for_display(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<LinkedIdentity>> {
        if self.tx.is_none()
            && let Some(found) = self.methods.get_identities(tenant, user)
        {
            return Ok(found.to_vec());
        }
        let ticket = self.methods.ticket();
        let found = self.list_identities(tenant, user).await?;
        if self.tx.is_none() {
            self.methods.put_identities(ticket, tenant, user, &found);
        }
        Ok(found)
    }

    async fn delete_identity(&self, tenant: &TenantId, user: &UserId, id: &str) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query("DELETE FROM identities WHERE tenant_id = $1 AND user_id = $2 AND id = $3")
            .bind(tenant.as_str())
            .bind(&user.0)
            .bind(id)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        self.methods_changed(&mut c, tenant, user).await?;
        Ok(r.rows_affected() > 0)
    }

    async fn swap_identity_tokens(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &str,
        expected: Option<&str>,
        new: Option<(&str, Option<i64>)>,
        now: i64,
    ) -> StoreResult<bool> {
        let (tokens, tokens_expire_at) = match new {
            Some((t, at)) => (Some(t), at),
            None => (None, None),
        };
        let mut c = self.conn().await?;
        // `IS NOT DISTINCT FROM` is PostgreSQL's null-safe equality; SQLite spells it `IS`.
        let same = if BACKEND == "postgres" { "IS NOT DISTINCT FROM" } else { "IS" };
        let sql = format!(
            "UPDATE identities SET tokens = $4, tokens_expire_at = $5, updated_at = $6 \
             WHERE tenant_id = $1 AND user_id = $2 AND id = $3 AND tokens {same} $7"
        );
        let r = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(&user.0)
            .bind(id)
            .bind(tokens)
            .bind(tokens_expire_at)
            .bind(now)
            .bind(expected)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        if r.rows_affected() > 0 {
            self.methods_changed(&mut c, tenant, user).await?;
        }
        Ok(r.rows_affected() > 0)
    }
}
