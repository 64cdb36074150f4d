use serde_json::json;

use super::{Core, changed};
use crate::api_resource::{
    AccessPolicy, ApiFields, ApiId, ApiResource, AudienceRef, PolicyMode, SystemApi, parse_audience,
};
use crate::audit::{AuditEvent, Context};
use crate::clock::now_millis;
use crate::error::{ConflictKind, Entity, Error, Forbidden, Result};
use crate::store::Page;
use crate::tenant::TenantId;

impl Core {
    /// Creates an API. Its identifier must not name a built-in API on one of the tenant's domains.
    pub async fn create_api(&self, ctx: &Context, tenant: &TenantId, fields: ApiFields) -> Result<ApiResource> {
        fields.validate()?;
        let identifier = fields.identifier.clone().ok_or_else(|| Error::invalid("identifier", "is required"))?;
        let name = fields.name.clone().unwrap_or_else(|| identifier.clone());
        if let AudienceRef::System(_) = parse_audience(&identifier, &self.tenant_hosts(tenant).await?) {
            return Err(Error::Conflict(ConflictKind::ApiIdentifierTaken));
        }
        let now = now_millis();
        let defaults = AccessPolicy::default();
        let api = ApiResource {
            id: ApiId::generate(),
            system: None,
            identifier: Some(identifier),
            name,
            scopes: fields.scopes.unwrap_or_default(),
            signing_alg: fields.signing_alg.unwrap_or_else(|| "RS256".into()),
            token_lifetime_secs: fields.token_lifetime_secs.unwrap_or(86_400),
            enforce_policies: fields.enforce_policies.unwrap_or(false),
            allow_offline_access: fields.allow_offline_access.unwrap_or(false),
            require_dpop: fields.require_dpop.unwrap_or(false),
            policy: AccessPolicy {
                user: fields.user_policy.unwrap_or(defaults.user),
                client: fields.client_policy.unwrap_or(defaults.client),
            },
            created_at: now,
            updated_at: now,
        };
        let tx = self.store.begin().await?;
        tx.insert_api(tenant, &api).await?;
        tx.insert_audit_event(
            tenant,
            &AuditEvent::success(ctx, "resource_server.create", "resource_server", &api.id.0, json!({})),
        )
        .await?;
        tx.commit().await?;
        Ok(api)
    }

    /// An API by id or by identifier (as Auth0's `GET /resource-servers/{id}` accepts both).
    pub async fn get_api(&self, tenant: &TenantId, id_or_identifier: &str) -> Result<ApiResource> {
        if let Some(api) = self.store.find_api(tenant, &ApiId(id_or_identifier.into())).await? {
            return Ok(api);
        }
        self.resolve_audience(tenant, id_or_identifier).await?.ok_or(Error::NotFound(Entity::ApiResource))
    }

    /// The API an `audience` names in this tenant, built-in ones included.
    pub async fn resolve_audience(&self, tenant: &TenantId, audience: &str) -> Result<Option<ApiResource>> {
        Ok(match parse_audience(audience, &self.tenant_hosts(tenant).await?) {
            AudienceRef::System(sys) => self.store.find_system_api(tenant, sys).await?,
            AudienceRef::Identifier(id) => self.store.find_api_by_identifier(tenant, &id).await?,
        })
    }

    /// A page of APIs with the total count.
    pub async fn list_apis(&self, tenant: &TenantId, page: Page) -> Result<(Vec<ApiResource>, u64)> {
        Ok(self.store.list_apis(tenant, page).await?)
    }

    /// Every API of the tenant (to render grants and permissions).
    pub async fn all_apis(&self, tenant: &TenantId) -> Result<Vec<ApiResource>> {
        Ok(self.store.list_apis(tenant, Page::ALL).await?.0)
    }

    /// Updates an API. Built-in APIs keep their identifier and scopes, and the My Account API's
    /// client-flow policy stays `deny_all` (spec auth0 §4.3).
    pub async fn update_api(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        id: &str,
        fields: ApiFields,
    ) -> Result<ApiResource> {
        fields.validate()?;
        let mut api = self.get_api(tenant, id).await?;
        if fields.identifier.is_some() {
            return Err(Error::invalid("identifier", "cannot be changed"));
        }
        if let Some(sys) = api.system {
            if sys == SystemApi::MyAccount && fields.client_policy.is_some_and(|p| p != PolicyMode::DenyAll) {
                return Err(Error::Forbidden(Forbidden::MyAccountClientPolicyFixed));
            }
            if fields.scopes.is_some() {
                return Err(Error::Forbidden(Forbidden::SystemApiImmutable));
            }
        }
        let detail = changed(&[
            ("name", fields.name.is_some()),
            ("scopes", fields.scopes.is_some()),
            ("signing_alg", fields.signing_alg.is_some()),
            ("token_lifetime", fields.token_lifetime_secs.is_some()),
            ("enforce_policies", fields.enforce_policies.is_some()),
            ("allow_offline_access", fields.allow_offline_access.is_some()),
            ("require_dpop", fields.require_dpop.is_some()),
            ("subject_type_authorization.user", fields.user_policy.is_some()),
            ("subject_type_authorization.client", fields.client_policy.is_some()),
        ]);
        if let Some(v) = fields.name {
            api.name = v;
        }
        if let Some(v) = fields.scopes {
            api.scopes = v;
        }
        if let Some(v) = fields.signing_alg {
            api.signing_alg = v;
        }
        if let Some(v) = fields.token_lifetime_secs {
            api.token_lifetime_secs = v;
        }
        if let Some(v) = fields.enforce_policies {
            api.enforce_policies = v;
        }
        if let Some(v) = fields.allow_offline_access {
            api.allow_offline_access = v;
        }
        if let Some(v) = fields.require_dpop {
            api.require_dpop = v;
        }
        if let Some(v) = fields.user_policy {
            api.policy.user = v;
        }
        if let Some(v) = fields.client_policy {
            api.policy.client = v;
        }
        api.updated_at = now_millis();
        let tx = self.store.begin().await?;
        if !tx.update_api(tenant, &api).await? {
            return Err(Error::NotFound(Entity::ApiResource));
        }
        tx.insert_audit_event(
            tenant,
            &AuditEvent::success(ctx, "resource_server.update", "resource_server", &api.id.0, detail),
        )
        .await?;
        tx.commit().await?;
        Ok(api)
    }

    /// Deletes an API with its grants and permissions. Built-in APIs cannot be deleted.
    pub async fn delete_api(&self, ctx: &Context, tenant: &TenantId, id: &str) -> Result<()> {
        let api = self.get_api(tenant, id).await?;
        if api.system.is_some() {
            return Err(Error::Forbidden(Forbidden::SystemApiImmutable));
        }
        let tx = self.store.begin().await?;
        if !tx.delete_api(tenant, &api.id).await? {
            return Err(Error::NotFound(Entity::ApiResource));
        }
        tx.insert_audit_event(
            tenant,
            &AuditEvent::success(ctx, "resource_server.delete", "resource_server", &api.id.0, json!({})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
