use serde_json::json;

use super::Core;
use crate::api_resource::{ApiResource, SystemApi};
use crate::audit::{AuditEvent, Context};
use crate::client_grant::{ClientGrant, ClientGrantId, SubjectType};
use crate::clock::now_millis;
use crate::error::{Entity, Error, Forbidden, Result};
use crate::store::{ClientGrantQuery, Page};
use crate::tenant::TenantId;

/// A client grant with the API it grants, for rendering its audience.
#[derive(Debug, Clone)]
pub struct ClientGrantView {
    /// The grant.
    pub grant: ClientGrant,
    /// Its API.
    pub api: ApiResource,
}

impl Core {
    /// Grants `client_id` up to `scopes` of the API named by `audience`.
    pub async fn create_client_grant(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        client_id: &str,
        audience: &str,
        scopes: Vec<String>,
        subject_type: SubjectType,
    ) -> Result<ClientGrantView> {
        let app = self.get_application(tenant, client_id).await?;
        let api = self.resolve_audience(tenant, audience).await?.ok_or(Error::NotFound(Entity::ApiResource))?;
        if api.system.is_some() && !app.is_first_party {
            return Err(Error::Forbidden(Forbidden::ThirdPartySystemApi));
        }
        if api.system == Some(SystemApi::MyAccount) && subject_type == SubjectType::Client {
            return Err(Error::Forbidden(Forbidden::MyAccountClientPolicyFixed));
        }
        check_scopes(&api, &scopes)?;
        let grant = ClientGrant {
            id: ClientGrantId::generate(),
            client_id: app.client_id,
            api_id: api.id.clone(),
            subject_type,
            scopes,
            created_at: now_millis(),
        };
        let tx = self.store.begin().await?;
        tx.insert_client_grant(tenant, &grant).await?;
        tx.insert_audit_event(
            tenant,
            &AuditEvent::success(ctx, "client_grant.create", "client_grant", &grant.id.0, json!({})),
        )
        .await?;
        tx.commit().await?;
        Ok(ClientGrantView { grant, api })
    }

    /// The grant a client holds for an API and subject type (the token endpoint's question).
    pub async fn client_grant_for(
        &self,
        tenant: &TenantId,
        client_id: &str,
        api: &crate::api_resource::ApiId,
        subject_type: SubjectType,
    ) -> Result<Option<ClientGrant>> {
        Ok(self.store.find_client_grant_for(tenant, client_id, api, subject_type).await?)
    }

    /// Grants, filtered by client and audience, with the total count.
    pub async fn list_client_grants(
        &self,
        tenant: &TenantId,
        client_id: Option<String>,
        audience: Option<&str>,
        page: Page,
    ) -> Result<(Vec<ClientGrantView>, u64)> {
        let api_id = match audience {
            Some(a) => match self.resolve_audience(tenant, a).await? {
                Some(api) => Some(api.id),
                None => return Ok((vec![], 0)),
            },
            None => None,
        };
        let (grants, total) =
            self.store.list_client_grants(tenant, &ClientGrantQuery { client_id, api_id }, page).await?;
        let apis = self.all_apis(tenant).await?;
        let views = grants
            .into_iter()
            .filter_map(|grant| {
                let api = apis.iter().find(|a| a.id == grant.api_id)?.clone();
                Some(ClientGrantView { grant, api })
            })
            .collect();
        Ok((views, total))
    }

    /// A grant by id.
    pub async fn get_client_grant(&self, tenant: &TenantId, id: &str) -> Result<ClientGrantView> {
        let grant = self
            .store
            .find_client_grant(tenant, &ClientGrantId(id.into()))
            .await?
            .ok_or(Error::NotFound(Entity::ClientGrant))?;
        let api = self.store.find_api(tenant, &grant.api_id).await?.ok_or(Error::NotFound(Entity::ApiResource))?;
        Ok(ClientGrantView { grant, api })
    }

    /// Replaces a grant's scopes.
    pub async fn update_client_grant(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        id: &str,
        scopes: Vec<String>,
    ) -> Result<ClientGrantView> {
        let mut view = self.get_client_grant(tenant, id).await?;
        check_scopes(&view.api, &scopes)?;
        let tx = self.store.begin().await?;
        tx.update_client_grant_scopes(tenant, &view.grant.id, &scopes).await?;
        tx.insert_audit_event(
            tenant,
            &AuditEvent::success(ctx, "client_grant.update", "client_grant", id, json!({"changed": ["scope"]})),
        )
        .await?;
        tx.commit().await?;
        view.grant.scopes = scopes;
        Ok(view)
    }

    /// Deletes a grant.
    pub async fn delete_client_grant(&self, ctx: &Context, tenant: &TenantId, id: &str) -> Result<()> {
        let tx = self.store.begin().await?;
        if !tx.delete_client_grant(tenant, &ClientGrantId(id.into())).await? {
            return Err(Error::NotFound(Entity::ClientGrant));
        }
        tx.insert_audit_event(tenant, &AuditEvent::success(ctx, "client_grant.delete", "client_grant", id, json!({})))
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Every scope must be one the API defines.
fn check_scopes(api: &ApiResource, scopes: &[String]) -> Result<()> {
    let unknown: Vec<&str> = scopes.iter().filter(|s| !api.has_scope(s)).map(String::as_str).collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid("scope", format!("not defined by the API: {}", unknown.join(", "))))
    }
}
