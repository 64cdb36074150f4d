use serde_json::json;

use super::Core;
use crate::api_resource::{ApiResource, SystemApi};
use crate::application::{AppType, ApplicationFields, new_application};
use crate::audit::{AuditEvent, Context};
use crate::client_grant::{ClientGrant, ClientGrantId, SubjectType};
use crate::clock::now_millis;
use crate::error::{ConflictKind, Entity, Error, Result};
use crate::store::Tx;
use crate::tenant::{DEFAULT_TENANT_ID, Domain, NewTenant, Tenant, TenantId, normalize_domain, validate_tenant_name};

/// What first start (or `tenant create`) hands the operator, exactly once: the management
/// client's secret is stored only as a hash.
#[derive(Clone)]
pub struct Bootstrap {
    /// The tenant.
    pub tenant: Tenant,
    /// Its domains.
    pub domains: Vec<String>,
    /// Client id of the management client.
    pub client_id: String,
    /// Its secret, shown once.
    pub client_secret: String,
}

impl Core {
    /// Creates the default tenant, bound to `localhost` and `127.0.0.1` (any port), unless any
    /// tenant exists. Safe when several processes start at once: one wins, the others get `None`.
    pub async fn ensure_default_tenant(&self) -> Result<Option<Bootstrap>> {
        if !self.store.list_tenants().await?.is_empty() {
            return Ok(None);
        }
        let new = NewTenant {
            id: TenantId::from_stored(DEFAULT_TENANT_ID.into()),
            name: "Default".into(),
            is_default: true,
            canonical_domain: "localhost".into(),
            extra_domains: vec!["127.0.0.1".into(), "[::1]".into()],
        };
        match self.create_tenant_with(&Context::system(), new).await {
            Ok(b) => Ok(Some(b)),
            Err(Error::Conflict(ConflictKind::TenantExists | ConflictKind::DomainTaken)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates a tenant on `domain` with its built-in APIs, a signing key and a management client.
    pub async fn create_tenant(&self, ctx: &Context, name: &str, domain: &str) -> Result<Bootstrap> {
        validate_tenant_name(name)?;
        let new = NewTenant {
            id: TenantId::from_stored(format!("ten_{}", crate::secret::random_alnum(16))),
            name: name.trim().into(),
            is_default: false,
            canonical_domain: normalize_domain(domain)?,
            extra_domains: vec![],
        };
        self.create_tenant_with(ctx, new).await
    }

    async fn create_tenant_with(&self, ctx: &Context, new: NewTenant) -> Result<Bootstrap> {
        let now = now_millis();
        // Key generation is CPU work; do it before the transaction opens.
        let key = self.new_signing_key(&new.id, "RS256", now)?;
        let tx = self.store.begin().await?;
        let tenant = tx.insert_tenant(&new, now).await?;
        let mut management = None;
        for sys in [SystemApi::MyAccount, SystemApi::Management] {
            let api = ApiResource::system(sys, now);
            tx.insert_api(&tenant.id, &api).await?;
            if sys == SystemApi::Management {
                management = Some(api);
            }
        }
        tx.insert_signing_key(&tenant.id, &key).await?;
        let management = management.ok_or_else(|| Error::Internal(anyhow::anyhow!("no management API")))?;
        let (client_id, client_secret) = insert_bootstrap_client(&*tx, &tenant.id, &management, now).await?;
        tx.insert_audit_event(
            &tenant.id,
            &AuditEvent::success(ctx, "tenant.create", "tenant", tenant.id.as_str(), json!({})),
        )
        .await?;
        tx.commit().await?;
        let mut domains = vec![new.canonical_domain];
        domains.extend(new.extra_domains);
        Ok(Bootstrap { tenant, domains, client_id, client_secret })
    }

    /// The tenant a request's host (lowercase, no port) selects.
    pub async fn tenant_for_host(&self, host: &str) -> Result<Option<Tenant>> {
        Ok(self.store.find_tenant_by_host(host).await?)
    }

    /// Every tenant.
    pub async fn list_tenants(&self) -> Result<Vec<Tenant>> {
        Ok(self.store.list_tenants().await?)
    }

    /// A tenant by id, or by one of its domains.
    pub async fn find_tenant(&self, id_or_domain: &str) -> Result<Tenant> {
        let id = TenantId::from_stored(id_or_domain.to_string());
        if let Some(t) = self.store.find_tenant(&id).await? {
            return Ok(t);
        }
        let host = id_or_domain.trim().to_ascii_lowercase();
        self.store.find_tenant_by_host(&host).await?.ok_or(Error::NotFound(Entity::Tenant))
    }

    /// The tenant's domains, canonical first.
    pub async fn tenant_domains(&self, tenant: &TenantId) -> Result<Vec<Domain>> {
        Ok(self.store.list_domains(tenant).await?)
    }

    /// Binds a custom domain to the tenant.
    pub async fn add_domain(&self, ctx: &Context, tenant: &TenantId, domain: &str) -> Result<String> {
        let host = normalize_domain(domain)?;
        let tx = self.store.begin().await?;
        tx.insert_domain(tenant, &host, false, now_millis()).await?;
        tx.insert_audit_event(tenant, &AuditEvent::success(ctx, "tenant.add_domain", "domain", &host, json!({})))
            .await?;
        tx.commit().await?;
        Ok(host)
    }

    /// The tenant's hosts, for recognising built-in API audiences.
    pub(crate) async fn tenant_hosts(&self, tenant: &TenantId) -> Result<Vec<String>> {
        Ok(self.store.list_domains(tenant).await?.into_iter().map(|d| d.host).collect())
    }
}

/// The tenant's first management client, granted every Management API scope.
async fn insert_bootstrap_client(
    tx: &dyn Tx,
    tenant: &TenantId,
    management: &ApiResource,
    now: i64,
) -> Result<(String, String)> {
    let fields = ApplicationFields {
        name: Some("Default Management Client".into()),
        app_type: Some(AppType::NonInteractive),
        ..Default::default()
    };
    let (mut app, secret) = new_application(fields, now)?;
    app.is_bootstrap = true;
    let secret = secret.ok_or_else(|| Error::Internal(anyhow::anyhow!("bootstrap client has no secret")))?;
    tx.insert_application(tenant, &app).await?;
    let grant = ClientGrant {
        id: ClientGrantId::generate(),
        client_id: app.client_id.clone(),
        api_id: management.id.clone(),
        subject_type: SubjectType::Client,
        scopes: management.scopes.iter().map(|s| s.value.clone()).collect(),
        created_at: now,
    };
    tx.insert_client_grant(tenant, &grant).await?;
    Ok((app.client_id, secret))
}
