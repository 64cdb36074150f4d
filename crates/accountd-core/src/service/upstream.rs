//! Upstream connections: the outside identity providers an operator registers for a tenant
//! (Management API `/api/v2/connections`, `accountd admin connection …`).

use serde_json::json;
use zeroize::Zeroizing;

use super::Core;
use crate::audit::{AuditEvent, Context};
use crate::clock::now_millis;
use crate::error::{Entity, Error, FieldError, Result};
use crate::tenant::TenantId;
use crate::upstream::{Endpoints, StoredConnection, Strategy, UpstreamConnection, new_connection_id, secret_context};

/// What an operator says a connection is; on an update, `client_secret: None` keeps the secret.
#[derive(Debug, Clone)]
pub struct ConnectionSpec {
    /// Unique name in the tenant (Auth0's `connection`, Logto's `target`).
    pub name: String,
    /// What people see.
    pub display_name: Option<String>,
    /// OIDC or plain OAuth 2.0.
    pub strategy: Strategy,
    /// Where the provider is.
    pub endpoints: Endpoints,
    /// accountd's client id at the provider.
    pub client_id: String,
    /// accountd's client secret at the provider.
    pub client_secret: Option<Zeroizing<String>>,
    /// Scopes asked for by default.
    pub scopes: Vec<String>,
    /// Keep the provider's tokens (token vault).
    pub token_vault: bool,
    /// Offer it on the hosted sign-in page.
    pub sign_in: bool,
    /// Link a first sign-in to an existing user by a verified email.
    pub link_by_verified_email: bool,
}

impl ConnectionSpec {
    /// The spec of an existing connection (to change some of it); the secret is kept.
    pub fn of(c: &UpstreamConnection) -> Self {
        Self {
            name: c.name.clone(),
            display_name: c.display_name.clone(),
            strategy: c.strategy,
            endpoints: c.endpoints.clone(),
            client_id: c.client_id.clone(),
            client_secret: None,
            scopes: c.scopes.clone(),
            token_vault: c.token_vault,
            sign_in: c.sign_in,
            link_by_verified_email: c.link_by_verified_email,
        }
    }

    fn check(&self, creating: bool) -> Result<()> {
        let mut errors = Vec::new();
        let name_ok = (1..=128).contains(&self.name.len())
            && self.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !self.name.starts_with(['-', '_']);
        if !name_ok {
            errors.push(FieldError::new(
                "name",
                "must be 1 to 128 letters, digits, '-' or '_', starting with a letter or digit",
            ));
        }
        if self.display_name.as_ref().is_some_and(|d| d.chars().count() > 128) {
            errors.push(FieldError::new("display_name", "must be at most 128 characters"));
        }
        if self.client_id.is_empty() || self.client_id.len() > 512 {
            errors.push(FieldError::new("options.client_id", "is required (at most 512 characters)"));
        }
        match &self.client_secret {
            None if creating => errors.push(FieldError::new("options.client_secret", "is required")),
            Some(s) if s.is_empty() || s.len() > 1024 => {
                errors.push(FieldError::new("options.client_secret", "must be 1 to 1024 characters"))
            }
            _ => {}
        }
        let e = &self.endpoints;
        for (field, url) in [
            ("options.issuer", &e.issuer),
            ("options.authorization_endpoint", &e.authorization_endpoint),
            ("options.token_endpoint", &e.token_endpoint),
            ("options.userinfo_endpoint", &e.userinfo_endpoint),
        ] {
            if let Some(u) = url
                && !is_http_url(u)
            {
                errors.push(FieldError::new(field, "must be an http or https URL"));
            }
        }
        match self.strategy {
            Strategy::Oidc if e.issuer.is_none() => {
                errors.push(FieldError::new("options.issuer", "is required for an oidc connection"))
            }
            Strategy::Oauth2 => {
                for (field, url) in [
                    ("options.authorization_endpoint", &e.authorization_endpoint),
                    ("options.token_endpoint", &e.token_endpoint),
                    ("options.userinfo_endpoint", &e.userinfo_endpoint),
                ] {
                    if url.is_none() {
                        errors.push(FieldError::new(field, "is required for an oauth2 connection"));
                    }
                }
            }
            Strategy::Oidc => {}
        }
        if self.scopes.len() > 100 || self.scopes.iter().any(|s| s.is_empty() || s.len() > 255 || s.contains(' ')) {
            errors.push(FieldError::new("options.scope", "must be at most 100 scopes of 1 to 255 characters"));
        }
        if errors.is_empty() { Ok(()) } else { Err(Error::Invalid(errors)) }
    }
}

/// `http://` or `https://` with a host, and nothing a URL cannot hold.
fn is_http_url(u: &str) -> bool {
    let rest = u.strip_prefix("https://").or_else(|| u.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/') && u.len() <= 2048)
        && !u.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl Core {
    /// Talks to upstream providers through `client` (the connectors crate).
    pub fn with_upstream_client(mut self, client: std::sync::Arc<dyn crate::upstream::UpstreamClient>) -> Self {
        self.upstream = client;
        self
    }

    /// Registers a connection; its client secret is sealed.
    pub async fn create_connection(
        &self,
        tenant: &TenantId,
        ctx: &Context,
        spec: ConnectionSpec,
    ) -> Result<UpstreamConnection> {
        spec.check(true)?;
        let now = now_millis();
        let id = new_connection_id();
        let secret = spec.client_secret.clone().unwrap_or_default();
        let sealed_secret = self.master_key.seal(&secret_context(tenant, &id), secret.as_bytes())?;
        let connection = connection_from(id, spec, now, now);
        let tx = self.store.begin().await?;
        tx.insert_connection(tenant, &StoredConnection { connection: connection.clone(), sealed_secret }).await?;
        tx.insert_audit_event(tenant, &connection_event(ctx, "connection.create", &connection)).await?;
        tx.commit().await?;
        Ok(connection)
    }

    /// Replaces what a connection is (the secret too, when given).
    pub async fn update_connection(
        &self,
        tenant: &TenantId,
        ctx: &Context,
        id: &str,
        spec: ConnectionSpec,
    ) -> Result<UpstreamConnection> {
        spec.check(false)?;
        let current = self.stored_connection(tenant, id).await?;
        let sealed_secret = match &spec.client_secret {
            Some(s) => self.master_key.seal(&secret_context(tenant, &current.connection.id), s.as_bytes())?,
            None => current.sealed_secret,
        };
        let connection = connection_from(current.connection.id, spec, current.connection.created_at, now_millis());
        let tx = self.store.begin().await?;
        if !tx.update_connection(tenant, &StoredConnection { connection: connection.clone(), sealed_secret }).await? {
            return Err(Error::NotFound(Entity::Connection));
        }
        tx.insert_audit_event(tenant, &connection_event(ctx, "connection.update", &connection)).await?;
        tx.commit().await?;
        Ok(connection)
    }

    /// Removes a connection and every identity linked through it (with their kept tokens).
    pub async fn delete_connection(&self, tenant: &TenantId, ctx: &Context, id: &str) -> Result<()> {
        let current = self.stored_connection(tenant, id).await?;
        let tx = self.store.begin().await?;
        if !tx.delete_connection(tenant, &current.connection.id).await? {
            return Err(Error::NotFound(Entity::Connection));
        }
        tx.insert_audit_event(tenant, &connection_event(ctx, "connection.delete", &current.connection)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A connection by id or name.
    pub async fn get_connection(&self, tenant: &TenantId, id_or_name: &str) -> Result<UpstreamConnection> {
        Ok(self.stored_connection(tenant, id_or_name).await?.connection)
    }

    /// The tenant's connections, by name.
    pub async fn list_connections(&self, tenant: &TenantId) -> Result<Vec<UpstreamConnection>> {
        Ok(self.store.list_connections(tenant).await?.into_iter().map(|s| s.connection).collect())
    }

    /// A connection and its sealed secret, or `NotFound(Connection)`.
    pub(crate) async fn stored_connection(&self, tenant: &TenantId, id_or_name: &str) -> Result<StoredConnection> {
        self.store.find_connection(tenant, id_or_name).await?.ok_or(Error::NotFound(Entity::Connection))
    }

    /// The connection's client secret, opened.
    pub(crate) fn connection_secret(&self, tenant: &TenantId, stored: &StoredConnection) -> Result<Zeroizing<String>> {
        let plain = self.master_key.open(&secret_context(tenant, &stored.connection.id), &stored.sealed_secret)?;
        Ok(Zeroizing::new(String::from_utf8(plain.to_vec()).map_err(anyhow::Error::from)?))
    }
}

/// The audit event of an operator's change to a connection (never its secret).
fn connection_event(ctx: &Context, action: &str, c: &UpstreamConnection) -> AuditEvent {
    AuditEvent::success(ctx, action, "connection", &c.id, json!({ "name": c.name }))
}

fn connection_from(id: String, spec: ConnectionSpec, created_at: i64, updated_at: i64) -> UpstreamConnection {
    UpstreamConnection {
        id,
        name: spec.name,
        display_name: spec.display_name,
        strategy: spec.strategy,
        endpoints: spec.endpoints,
        client_id: spec.client_id,
        scopes: spec.scopes,
        token_vault: spec.token_vault,
        sign_in: spec.sign_in,
        link_by_verified_email: spec.link_by_verified_email,
        created_at,
        updated_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ConnectionSpec {
        ConnectionSpec {
            name: "upstream".into(),
            display_name: None,
            strategy: Strategy::Oidc,
            endpoints: Endpoints { issuer: Some("http://127.0.0.1:9/".into()), ..Default::default() },
            client_id: "c".into(),
            client_secret: Some(Zeroizing::new("s".into())),
            scopes: vec!["email".into()],
            token_vault: true,
            sign_in: true,
            link_by_verified_email: false,
        }
    }

    #[test]
    fn a_connection_needs_a_name_a_client_and_its_endpoints() {
        assert!(spec().check(true).is_ok());
        let bad = ConnectionSpec { name: "-x".into(), ..spec() };
        assert!(bad.check(true).is_err());
        let no_secret = ConnectionSpec { client_secret: None, ..spec() };
        assert!(no_secret.check(true).is_err() && no_secret.check(false).is_ok());
        let oauth = ConnectionSpec { strategy: Strategy::Oauth2, ..spec() };
        let Err(Error::Invalid(errors)) = oauth.check(true) else { panic!("oauth2 needs its endpoints") };
        assert_eq!(errors.len(), 3);
        let js = ConnectionSpec {
            endpoints: Endpoints { issuer: Some("javascript:alert(1)".into()), ..Default::default() },
            ..spec()
        };
        assert!(js.check(true).is_err());
    }
}
