use serde_json::json;

use super::{Core, changed};
use crate::application::{Application, ApplicationFields, TokenEndpointAuthMethod, new_application};
use crate::audit::{AuditEvent, Context};
use crate::clock::now_millis;
use crate::error::{Entity, Error, Forbidden, Result};
use crate::store::{ClientGrantQuery, Page};
use crate::tenant::TenantId;

impl Core {
    /// Creates an application; returns it with its client secret (confidential clients), shown once.
    pub async fn create_application(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        fields: ApplicationFields,
    ) -> Result<(Application, Option<String>)> {
        let (app, secret) = new_application(fields, now_millis())?;
        let tx = self.store.begin().await?;
        tx.insert_application(tenant, &app).await?;
        tx.insert_audit_event(tenant, &AuditEvent::success(ctx, "client.create", "client", &app.client_id, json!({})))
            .await?;
        tx.commit().await?;
        Ok((app, secret))
    }

    /// An application by client id.
    pub async fn get_application(&self, tenant: &TenantId, client_id: &str) -> Result<Application> {
        self.store.find_application(tenant, client_id).await?.ok_or(Error::NotFound(Entity::Application))
    }

    /// A page of applications with the total count.
    pub async fn list_applications(&self, tenant: &TenantId, page: Page) -> Result<(Vec<Application>, u64)> {
        Ok(self.store.list_applications(tenant, page).await?)
    }

    /// Updates an application; returns a new secret if it became confidential.
    pub async fn update_application(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        client_id: &str,
        fields: ApplicationFields,
    ) -> Result<(Application, Option<String>)> {
        let mut app = self.get_application(tenant, client_id).await?;
        if fields.is_first_party == Some(false) && app.is_first_party {
            // A third-party application must not keep access to built-in APIs.
            let (grants, _) = self
                .store
                .list_client_grants(
                    tenant,
                    &ClientGrantQuery { client_id: Some(client_id.into()), api_id: None },
                    Page::ALL,
                )
                .await?;
            for g in grants {
                if self.store.find_api(tenant, &g.api_id).await?.is_some_and(|a| a.system.is_some()) {
                    return Err(Error::Forbidden(Forbidden::ThirdPartySystemApi));
                }
            }
        }
        let detail = changed(&[
            ("name", fields.name.is_some()),
            ("description", fields.description.is_some()),
            ("app_type", fields.app_type.is_some()),
            ("is_first_party", fields.is_first_party.is_some()),
            ("callbacks", fields.callbacks.is_some()),
            ("allowed_logout_urls", fields.allowed_logout_urls.is_some()),
            ("web_origins", fields.web_origins.is_some()),
            ("allowed_origins", fields.allowed_origins.is_some()),
            ("cross_origin_authentication", fields.cross_origin_authentication.is_some()),
            ("grant_types", fields.grant_types.is_some()),
            ("token_endpoint_auth_method", fields.token_endpoint_auth_method.is_some()),
        ]);
        let secret = app.apply(fields, now_millis())?;
        let tx = self.store.begin().await?;
        if !tx.update_application(tenant, &app).await? {
            return Err(Error::NotFound(Entity::Application));
        }
        tx.insert_audit_event(tenant, &AuditEvent::success(ctx, "client.update", "client", client_id, detail)).await?;
        tx.commit().await?;
        Ok((app, secret))
    }

    /// Deletes an application with its grants. The bootstrap client is protected.
    pub async fn delete_application(&self, ctx: &Context, tenant: &TenantId, client_id: &str) -> Result<()> {
        let app = self.get_application(tenant, client_id).await?;
        if app.is_bootstrap {
            return Err(Error::Forbidden(Forbidden::ProtectedClient));
        }
        let tx = self.store.begin().await?;
        if !tx.delete_application(tenant, client_id).await? {
            return Err(Error::NotFound(Entity::Application));
        }
        tx.insert_audit_event(tenant, &AuditEvent::success(ctx, "client.delete", "client", client_id, json!({})))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether a browser origin may call the token, revocation and userinfo endpoints: some
    /// application registered it — in `allowed_origins` (CORS origins, in both vendors' terms), as
    /// the origin of one of its redirect URIs (Logto's rule: a Logto SPA registers nothing else), or
    /// in `web_origins` with Auth0's `cross_origin_authentication` on (Auth0 keeps web origins for
    /// cross-origin authentication and web messages, behind that switch).
    pub async fn is_cors_origin(&self, tenant: &TenantId, origin: &str) -> Result<bool> {
        let origin = origin.trim_end_matches('/');
        let (apps, _) = self.store.list_applications(tenant, Page::ALL).await?;
        let same = |o: &String| o.trim_end_matches('/') == origin;
        Ok(apps.iter().any(|a| {
            a.allowed_origins.iter().any(same)
                || a.callbacks.iter().any(|c| web_origin_of(c) == Some(origin))
                || (a.cross_origin_authentication && a.web_origins.iter().any(same))
        }))
    }

    /// Authenticates a client at the token endpoint. Unknown clients and wrong secrets give the
    /// same answer, and the secret is compared in constant time.
    pub async fn authenticate_client(
        &self,
        tenant: &TenantId,
        client_id: &str,
        secret: Option<&str>,
    ) -> Result<Application> {
        let invalid = || Error::Unauthenticated("invalid client credentials".into());
        let app = self.store.find_application(tenant, client_id).await?;
        let Some(app) = app else {
            // Spend the same work as a real comparison.
            let _ = crate::secret::verify_high_entropy_secret(secret.unwrap_or(""), "");
            return Err(invalid());
        };
        match (app.token_endpoint_auth_method, &app.client_secret_hash, secret) {
            (TokenEndpointAuthMethod::None, _, None) => Ok(app),
            (_, Some(hash), Some(s)) if crate::secret::verify_high_entropy_secret(s, hash) => Ok(app),
            _ => Err(invalid()),
        }
    }
}

/// `scheme://host[:port]` of an http(s) URL; `None` for other schemes (a native app's
/// `com.example.app:/callback` is no browser origin).
fn web_origin_of(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    Some(&url[..url.len() - rest.len() + end])
}

#[cfg(test)]
mod origin_tests {
    #[test]
    fn web_origins_of_redirect_uris() {
        assert_eq!(super::web_origin_of("http://localhost:3000/callback?x=1"), Some("http://localhost:3000"));
        assert_eq!(super::web_origin_of("https://app.example"), Some("https://app.example"));
        assert_eq!(super::web_origin_of("https://app.example#frag"), Some("https://app.example"));
        assert_eq!(super::web_origin_of("com.example.app:/callback"), None);
        assert_eq!(super::web_origin_of("https://user@evil.example/cb"), None);
        assert_eq!(super::web_origin_of("https:///cb"), None);
    }
}
