use serde_json::json;

use super::Core;
use crate::api_resource::ApiResource;
use crate::audit::{AuditEvent, Context};
use crate::clock::now_millis;
use crate::error::{Entity, Error, Result};
use crate::role::{Permission, Role, RoleId, validate_role};
use crate::store::Page;
use crate::tenant::TenantId;
use crate::user::UserId;

/// A permission with its API, for rendering the API's identifier and name.
#[derive(Debug, Clone)]
pub struct PermissionView {
    /// The scope.
    pub permission_name: String,
    /// Its description, from the API.
    pub description: String,
    /// The API.
    pub api: ApiResource,
}

impl Core {
    /// Creates a role.
    pub async fn create_role(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        name: &str,
        description: Option<&str>,
    ) -> Result<Role> {
        validate_role(Some(name), description)?;
        let now = now_millis();
        let role = Role {
            id: RoleId::generate(),
            name: name.trim().into(),
            description: description.unwrap_or_default().into(),
            created_at: now,
            updated_at: now,
        };
        let tx = self.store.begin().await?;
        tx.insert_role(tenant, &role).await?;
        tx.insert_audit_event(tenant, &AuditEvent::success(ctx, "role.create", "role", &role.id.0, json!({}))).await?;
        tx.commit().await?;
        Ok(role)
    }

    /// A role by id.
    pub async fn get_role(&self, tenant: &TenantId, id: &str) -> Result<Role> {
        self.store.find_role(tenant, &RoleId(id.into())).await?.ok_or(Error::NotFound(Entity::Role))
    }

    /// A page of roles with the total count.
    pub async fn list_roles(&self, tenant: &TenantId, page: Page) -> Result<(Vec<Role>, u64)> {
        Ok(self.store.list_roles(tenant, page).await?)
    }

    /// Updates a role's name and description.
    pub async fn update_role(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        id: &str,
        name: Option<&str>,
        description: Option<&str>,
    ) -> Result<Role> {
        validate_role(name, description)?;
        let mut role = self.get_role(tenant, id).await?;
        if let Some(n) = name {
            role.name = n.trim().into();
        }
        if let Some(d) = description {
            role.description = d.into();
        }
        role.updated_at = now_millis();
        let tx = self.store.begin().await?;
        tx.update_role(tenant, &role).await?;
        tx.insert_audit_event(tenant, &AuditEvent::success(ctx, "role.update", "role", id, json!({}))).await?;
        tx.commit().await?;
        Ok(role)
    }

    /// Deletes a role with its permissions and assignments.
    pub async fn delete_role(&self, ctx: &Context, tenant: &TenantId, id: &str) -> Result<()> {
        let tx = self.store.begin().await?;
        if !tx.delete_role(tenant, &RoleId(id.into())).await? {
            return Err(Error::NotFound(Entity::Role));
        }
        tx.insert_audit_event(tenant, &AuditEvent::success(ctx, "role.delete", "role", id, json!({}))).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Resolves `(audience, scope)` pairs to permissions; each must be a scope of an existing API.
    async fn resolve_permissions(&self, tenant: &TenantId, pairs: &[(String, String)]) -> Result<Vec<Permission>> {
        let mut out = Vec::with_capacity(pairs.len());
        for (i, (audience, name)) in pairs.iter().enumerate() {
            let api = self.resolve_audience(tenant, audience).await?.ok_or(Error::NotFound(Entity::ApiResource))?;
            if !api.has_scope(name) {
                return Err(Error::invalid(
                    format!("permissions[{i}].permission_name"),
                    format!("'{name}' is not a scope of {audience}"),
                ));
            }
            out.push(Permission { api_id: api.id, permission_name: name.clone() });
        }
        Ok(out)
    }

    /// Adds permissions to a role.
    pub async fn add_role_permissions(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        role: &str,
        pairs: &[(String, String)],
    ) -> Result<()> {
        let role = self.get_role(tenant, role).await?;
        let perms = self.resolve_permissions(tenant, pairs).await?;
        let tx = self.store.begin().await?;
        tx.add_role_permissions(tenant, &role.id, &perms).await?;
        tx.insert_audit_event(
            tenant,
            &AuditEvent::success(ctx, "role.add_permissions", "role", &role.id.0, json!({"count": perms.len()})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes permissions from a role.
    pub async fn remove_role_permissions(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        role: &str,
        pairs: &[(String, String)],
    ) -> Result<()> {
        let role = self.get_role(tenant, role).await?;
        let perms = self.resolve_permissions(tenant, pairs).await?;
        let tx = self.store.begin().await?;
        tx.remove_role_permissions(tenant, &role.id, &perms).await?;
        tx.insert_audit_event(
            tenant,
            &AuditEvent::success(ctx, "role.remove_permissions", "role", &role.id.0, json!({"count": perms.len()})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A role's permissions with their APIs.
    pub async fn list_role_permissions(&self, tenant: &TenantId, role: &str) -> Result<Vec<PermissionView>> {
        let role = self.get_role(tenant, role).await?;
        let perms = self.store.list_role_permissions(tenant, &role.id).await?;
        let apis = self.all_apis(tenant).await?;
        Ok(perms
            .into_iter()
            .filter_map(|p| {
                let api = apis.iter().find(|a| a.id == p.api_id)?;
                let description =
                    api.scopes.iter().find(|s| s.value == p.permission_name).map(|s| s.description.clone())?;
                Some(PermissionView { permission_name: p.permission_name, description, api: api.clone() })
            })
            .collect())
    }

    /// Assigns roles to a user; every role must exist.
    pub async fn assign_user_roles(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        user: &str,
        roles: &[String],
    ) -> Result<()> {
        let user = self.get_user(tenant, user).await?;
        let mut ids = Vec::with_capacity(roles.len());
        for r in roles {
            ids.push(self.get_role(tenant, r).await?.id);
        }
        let tx = self.store.begin().await?;
        tx.assign_user_roles(tenant, &user.id, &ids).await?;
        tx.insert_audit_event(
            tenant,
            &AuditEvent::success(ctx, "user.assign_roles", "user", &user.id.0, json!({"roles": roles})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Gives a role to several users at once; every user must exist, or nobody gets it.
    pub async fn assign_role_users(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        role: &str,
        users: &[String],
    ) -> Result<()> {
        let role = self.get_role(tenant, role).await?;
        let mut ids = Vec::with_capacity(users.len());
        for u in users {
            ids.push(self.get_user(tenant, u).await?.id);
        }
        let tx = self.store.begin().await?;
        for id in &ids {
            tx.assign_user_roles(tenant, id, std::slice::from_ref(&role.id)).await?;
        }
        tx.insert_audit_event(
            tenant,
            &AuditEvent::success(ctx, "role.assign_users", "role", &role.id.0, json!({"users": users})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes roles from a user.
    pub async fn remove_user_roles(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        user: &str,
        roles: &[String],
    ) -> Result<()> {
        let user = self.get_user(tenant, user).await?;
        let ids: Vec<RoleId> = roles.iter().map(|r| RoleId(r.clone())).collect();
        let tx = self.store.begin().await?;
        tx.remove_user_roles(tenant, &user.id, &ids).await?;
        tx.insert_audit_event(
            tenant,
            &AuditEvent::success(ctx, "user.remove_roles", "user", &user.id.0, json!({"roles": roles})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A user's roles.
    pub async fn list_user_roles(&self, tenant: &TenantId, user: &str) -> Result<Vec<Role>> {
        let user = self.get_user(tenant, user).await?;
        Ok(self.store.list_user_roles(tenant, &user.id).await?)
    }

    /// Users holding a role.
    pub async fn list_role_users(&self, tenant: &TenantId, role: &str, page: Page) -> Result<Vec<UserId>> {
        let role = self.get_role(tenant, role).await?;
        Ok(self.store.list_role_users(tenant, &role.id, page).await?)
    }

    /// The audit trail, newest first.
    pub async fn list_audit_events(&self, tenant: &TenantId, page: Page) -> Result<Vec<crate::audit::AuditEvent>> {
        Ok(self.store.list_audit_events(tenant, page).await?)
    }
}
