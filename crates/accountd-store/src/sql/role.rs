// Roles, permissions, user roles. Compiled once per backend (see `backend!` in lib.rs).

fn role_from(r: &Row) -> Result<Role, sqlx::Error> {
    Ok(Role {
        id: RoleId(r.try_get("id")?),
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

#[async_trait::async_trait]
impl RoleStore for Handle {
    async fn insert_role(&self, tenant: &TenantId, role: &Role) -> StoreResult<()> {
        let mut c = self.conn().await?;
        sqlx::query(
            "INSERT INTO roles (tenant_id, id, name, description, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(tenant.as_str())
        .bind(&role.id.0)
        .bind(&role.name)
        .bind(&role.description)
        .bind(role.created_at)
        .bind(role.updated_at)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn find_role(&self, tenant: &TenantId, id: &RoleId) -> StoreResult<Option<Role>> {
        let mut c = self.conn().await?;
        let row = sqlx::query(
            "SELECT id, name, description, created_at, updated_at FROM roles WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(&id.0)
        .fetch_optional(&mut *c)
        .await
        .map_err(map_err)?;
        row.map(|r| role_from(&r)).transpose().map_err(map_err)
    }

    async fn list_roles(&self, tenant: &TenantId, page: Page) -> StoreResult<(Vec<Role>, u64)> {
        let mut c = self.conn().await?;
        let rows = sqlx::query(
            "SELECT id, name, description, created_at, updated_at FROM roles WHERE tenant_id = $1 \
             ORDER BY name, id LIMIT $2 OFFSET $3",
        )
        .bind(tenant.as_str())
        .bind(i64::from(page.limit))
        .bind(i64::from(page.offset))
        .fetch_all(&mut *c)
        .await
        .map_err(map_err)?;
        let total = sqlx::query("SELECT COUNT(*) FROM roles WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_one(&mut *c)
            .await
            .map_err(map_err)?;
        let roles = rows.iter().map(role_from).collect::<Result<_, _>>().map_err(map_err)?;
        Ok((roles, count(&total)?))
    }

    async fn update_role(&self, tenant: &TenantId, role: &Role) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query(
            "UPDATE roles SET name = $3, description = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(&role.id.0)
        .bind(&role.name)
        .bind(&role.description)
        .bind(role.updated_at)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn delete_role(&self, tenant: &TenantId, id: &RoleId) -> StoreResult<bool> {
        let mut c = self.conn().await?;
        let r = sqlx::query("DELETE FROM roles WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(&id.0)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn add_role_permissions(&self, tenant: &TenantId, role: &RoleId, perms: &[Permission]) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let mut tx = atomic(&mut c).await?;
        for p in perms {
            sqlx::query(
                "INSERT INTO role_permissions (tenant_id, role_id, api_id, permission_name) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(tenant.as_str())
            .bind(&role.0)
            .bind(&p.api_id.0)
            .bind(&p.permission_name)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn remove_role_permissions(&self, tenant: &TenantId, role: &RoleId, perms: &[Permission]) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let mut tx = atomic(&mut c).await?;
        for p in perms {
            sqlx::query(
                "DELETE FROM role_permissions WHERE tenant_id = $1 AND role_id = $2 AND api_id = $3 \
                 AND permission_name = $4",
            )
            .bind(tenant.as_str())
            .bind(&role.0)
            .bind(&p.api_id.0)
            .bind(&p.permission_name)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn list_role_permissions(&self, tenant: &TenantId, role: &RoleId) -> StoreResult<Vec<Permission>> {
        let mut c = self.conn().await?;
        let rows = sqlx::query(
            "SELECT api_id, permission_name FROM role_permissions WHERE tenant_id = $1 AND role_id = $2 \
             ORDER BY api_id, permission_name",
        )
        .bind(tenant.as_str())
        .bind(&role.0)
        .fetch_all(&mut *c)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| Ok(Permission { api_id: ApiId(r.try_get("api_id")?), permission_name: r.try_get("permission_name")? }))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(map_err)
    }

    async fn assign_user_roles(&self, tenant: &TenantId, user: &UserId, roles: &[RoleId]) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let mut tx = atomic(&mut c).await?;
        for r in roles {
            sqlx::query("INSERT INTO user_roles (tenant_id, user_id, role_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(tenant.as_str())
                .bind(&user.0)
                .bind(&r.0)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn remove_user_roles(&self, tenant: &TenantId, user: &UserId, roles: &[RoleId]) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let mut tx = atomic(&mut c).await?;
        for r in roles {
            sqlx::query("DELETE FROM user_roles WHERE tenant_id = $1 AND user_id = $2 AND role_id = $3")
                .bind(tenant.as_str())
                .bind(&user.0)
                .bind(&r.0)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn list_user_roles(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<Role>> {
        let mut c = self.conn().await?;
        let rows = sqlx::query(
            "SELECT r.id, r.name, r.description, r.created_at, r.updated_at FROM user_roles ur \
             JOIN roles r ON r.tenant_id = ur.tenant_id AND r.id = ur.role_id \
             WHERE ur.tenant_id = $1 AND ur.user_id = $2 ORDER BY r.name, r.id",
        )
        .bind(tenant.as_str())
        .bind(&user.0)
        .fetch_all(&mut *c)
        .await
        .map_err(map_err)?;
        rows.iter().map(role_from).collect::<Result<_, _>>().map_err(map_err)
    }

    async fn list_role_users(&self, tenant: &TenantId, role: &RoleId, page: Page) -> StoreResult<Vec<UserId>> {
        let mut c = self.conn().await?;
        let rows = sqlx::query(
            "SELECT user_id FROM user_roles WHERE tenant_id = $1 AND role_id = $2 ORDER BY user_id LIMIT $3 OFFSET $4",
        )
        .bind(tenant.as_str())
        .bind(&role.0)
        .bind(i64::from(page.limit))
        .bind(i64::from(page.offset))
        .fetch_all(&mut *c)
        .await
        .map_err(map_err)?;
        rows.iter().map(|r| r.try_get(0).map(UserId)).collect::<Result<_, _>>().map_err(map_err)
    }

    async fn list_user_permissions(&self, tenant: &TenantId, user: &UserId, api: &ApiId) -> StoreResult<Vec<String>> {
        let mut c = self.conn().await?;
        let rows = sqlx::query(
            "SELECT DISTINCT rp.permission_name FROM user_roles ur \
             JOIN role_permissions rp ON rp.tenant_id = ur.tenant_id AND rp.role_id = ur.role_id \
             WHERE ur.tenant_id = $1 AND ur.user_id = $2 AND rp.api_id = $3 ORDER BY rp.permission_name",
        )
        .bind(tenant.as_str())
        .bind(&user.0)
        .bind(&api.0)
        .fetch_all(&mut *c)
        .await
        .map_err(map_err)?;
        rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>().map_err(map_err)
    }
}
