//! Tenants and the domains that select them. Every stored row belongs to exactly one tenant.

use crate::clock::Millis;
use crate::error::{Error, Result};
use crate::origin::is_valid_host;

/// A tenant's id (`ten_…`, or `default` for the tenant created on first start).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(String);

impl TenantId {
    /// Wraps a stored id. Only the store and the tenant service construct these, so holding one
    /// means the tenant was resolved.
    pub fn from_stored(id: String) -> Self {
        Self(id)
    }

    /// The id as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TenantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The id of the tenant created on first start and bound to localhost.
pub const DEFAULT_TENANT_ID: &str = "default";

/// A tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Its id.
    pub id: TenantId,
    /// A display name.
    pub name: String,
    /// Whether this is the default tenant bound to localhost.
    pub is_default: bool,
    /// When it was created.
    pub created_at: Millis,
}

/// A host name bound to a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// Lowercase host, no port (`auth.example.com`, `127.0.0.1`).
    pub host: String,
    /// The tenant it selects.
    pub tenant_id: TenantId,
    /// The tenant's canonical domain (exactly one per tenant); others are custom domains.
    pub is_canonical: bool,
    /// When it was bound.
    pub created_at: Millis,
}

/// A tenant to insert, with its canonical domain.
#[derive(Debug, Clone)]
pub struct NewTenant {
    /// Its id.
    pub id: TenantId,
    /// A display name.
    pub name: String,
    /// Whether this is the default tenant.
    pub is_default: bool,
    /// Its canonical domain (lowercase host).
    pub canonical_domain: String,
    /// Further domains bound at creation.
    pub extra_domains: Vec<String>,
}

/// Lowercases and checks a domain given by an operator (no scheme, no port, no path).
pub fn normalize_domain(raw: &str) -> Result<String> {
    let host = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    if !is_valid_host(&host) {
        return Err(Error::invalid(
            "domain",
            format!("'{raw}' is not a host name (give it without scheme, port or path)"),
        ));
    }
    Ok(host)
}

/// Checks a tenant name.
pub fn validate_tenant_name(name: &str) -> Result<()> {
    if name.trim().is_empty() || name.chars().count() > 128 {
        return Err(Error::invalid("name", "must be 1 to 128 characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn domains_are_normalized() {
        assert_eq!(super::normalize_domain("Auth.Example.com.").unwrap(), "auth.example.com");
        assert!(super::normalize_domain("https://x.com").is_err());
        assert!(super::normalize_domain("x.com:443").is_err());
    }
}
