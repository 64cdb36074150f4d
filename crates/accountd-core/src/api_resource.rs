//! APIs (Auth0 "resource servers") with their scopes and access policies, including the two
//! built-in APIs every tenant has: the My Account API and the Management API.

use crate::clock::Millis;
use crate::error::{Error, FieldError, Result};
use crate::origin::Origin;

/// An API's id (24 hex digits, as Auth0's resource server ids).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApiId(pub String);

impl ApiId {
    /// A fresh id.
    pub fn generate() -> Self {
        Self(crate::secret::random_hex::<12>())
    }
}

/// The built-in APIs. Their identifier is not stored: it follows the domain a request came in on
/// (`{scheme}://{host}/me/`, `{scheme}://{host}/api/v2/`), as the vendors' SDKs expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemApi {
    /// The end-user self-service API (`/me/v1`).
    MyAccount,
    /// The administration API (`/api/v2`).
    Management,
}

impl SystemApi {
    /// Storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            SystemApi::MyAccount => "my_account",
            SystemApi::Management => "management",
        }
    }

    /// Parses the storage name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "my_account" => Some(SystemApi::MyAccount),
            "management" => Some(SystemApi::Management),
            _ => None,
        }
    }

    /// Path of its identifier on any domain.
    pub fn path(self) -> &'static str {
        match self {
            SystemApi::MyAccount => "/me/",
            SystemApi::Management => "/api/v2/",
        }
    }

    /// Its identifier on `origin`.
    pub fn identifier(self, origin: &Origin) -> String {
        match self {
            SystemApi::MyAccount => origin.my_account_audience(),
            SystemApi::Management => origin.management_audience(),
        }
    }

    /// Display name.
    pub fn display_name(self) -> &'static str {
        match self {
            SystemApi::MyAccount => "My Account API",
            SystemApi::Management => "Management API",
        }
    }

    /// Its scopes with descriptions.
    pub fn scopes(self) -> &'static [(&'static str, &'static str)] {
        match self {
            SystemApi::MyAccount => MY_ACCOUNT_SCOPES,
            SystemApi::Management => MANAGEMENT_SCOPES,
        }
    }

    /// Access policies it starts with (spec auth0 §4.3).
    pub fn default_policy(self) -> AccessPolicy {
        match self {
            SystemApi::MyAccount => AccessPolicy { user: PolicyMode::RequireClientGrant, client: PolicyMode::DenyAll },
            // No management endpoint acts on behalf of a user yet, so user flows are closed.
            SystemApi::Management => AccessPolicy { user: PolicyMode::DenyAll, client: PolicyMode::RequireClientGrant },
        }
    }
}

/// Scopes of the My Account API, underscore spelling (spec auth0 §4.2).
pub const MY_ACCOUNT_SCOPES: &[(&str, &str)] = &[
    ("create:me:authentication_methods", "Enroll authentication methods"),
    ("read:me:authentication_methods", "List and read authentication methods"),
    ("update:me:authentication_methods", "Update authentication methods"),
    ("delete:me:authentication_methods", "Delete authentication methods"),
    ("read:me:factors", "List enrollable factors"),
    ("create:me:connected_accounts", "Connect third-party accounts"),
    ("read:me:connected_accounts", "List connected accounts"),
    ("delete:me:connected_accounts", "Delete connected accounts"),
    ("read:me:consents", "Read consents"),
    ("read:me:organizations", "Read organizations"),
    ("read:me:profile", "Read the profile"),
    ("update:me:profile", "Update the profile"),
    ("read:me:security_events", "Read the account's security timeline"),
    ("read:me:export", "Download a copy of everything held about the account"),
    ("create:me:security_reports", "Report a security event as not the user's doing"),
];

/// Scopes of the Management API (Auth0's names for the endpoints accountd serves).
pub const MANAGEMENT_SCOPES: &[(&str, &str)] = &[
    ("read:clients", "Read applications"),
    ("create:clients", "Create applications"),
    ("update:clients", "Update applications"),
    ("delete:clients", "Delete applications"),
    ("read:resource_servers", "Read APIs"),
    ("create:resource_servers", "Create APIs"),
    ("update:resource_servers", "Update APIs"),
    ("delete:resource_servers", "Delete APIs"),
    ("read:client_grants", "Read client grants"),
    ("create:client_grants", "Create client grants"),
    ("update:client_grants", "Update client grants"),
    ("delete:client_grants", "Delete client grants"),
    ("read:users", "Read users"),
    ("create:users", "Create users"),
    ("update:users", "Update users"),
    ("delete:users", "Delete users"),
    ("read:roles", "Read roles"),
    ("create:roles", "Create roles"),
    ("update:roles", "Update roles"),
    ("delete:roles", "Delete roles"),
    ("read:sessions", "Read users' sessions"),
    ("delete:sessions", "End users' sessions"),
    ("read:connections", "Read connections"),
    ("create:connections", "Create connections"),
    ("update:connections", "Update connections"),
    ("delete:connections", "Delete connections"),
    ("read:logs", "Read audit events"),
    ("read:security_reports", "Read users' reports of security events"),
    ("read:signing_keys", "Read signing keys"),
    ("create:signing_keys", "Rotate signing keys"),
    ("read:tenant_settings", "Read tenant settings"),
    ("update:tenant_settings", "Update tenant settings"),
];

/// Who may obtain tokens for an API in a flow (spec auth0 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyMode {
    /// Any application may request any of the API's scopes (user flows only).
    AllowAll,
    /// Only applications with a client grant, up to the grant's scopes.
    RequireClientGrant,
    /// Nobody.
    DenyAll,
}

impl PolicyMode {
    /// Wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyMode::AllowAll => "allow_all",
            PolicyMode::RequireClientGrant => "require_client_grant",
            PolicyMode::DenyAll => "deny_all",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "allow_all" => PolicyMode::AllowAll,
            "require_client_grant" => PolicyMode::RequireClientGrant,
            "deny_all" => PolicyMode::DenyAll,
            _ => return None,
        })
    }
}

/// An API's access policies for user flows and client (machine-to-machine) flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessPolicy {
    /// Policy for flows on behalf of a user (authorization code, refresh token).
    pub user: PolicyMode,
    /// Policy for client credentials.
    pub client: PolicyMode,
}

impl Default for AccessPolicy {
    fn default() -> Self {
        Self { user: PolicyMode::AllowAll, client: PolicyMode::RequireClientGrant }
    }
}

/// A scope an API defines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiScope {
    /// The scope string (`read:messages`).
    pub value: String,
    /// What it grants.
    pub description: String,
}

/// An API as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResource {
    /// Its id.
    pub id: ApiId,
    /// For built-in APIs, which one; their identifier follows the request's domain.
    pub system: Option<SystemApi>,
    /// The audience tokens for it carry (None for built-in APIs).
    pub identifier: Option<String>,
    /// Display name.
    pub name: String,
    /// Scopes it defines.
    pub scopes: Vec<ApiScope>,
    /// Token signing algorithm.
    pub signing_alg: String,
    /// Access token lifetime in seconds.
    pub token_lifetime_secs: i64,
    /// Whether RBAC applies: effective scopes are limited to the user's permissions.
    pub enforce_policies: bool,
    /// Whether refresh tokens may be issued for it.
    pub allow_offline_access: bool,
    /// Whether it only accepts DPoP-bound tokens.
    pub require_dpop: bool,
    /// Who may obtain tokens for it.
    pub policy: AccessPolicy,
    /// When it was created.
    pub created_at: Millis,
    /// When it last changed.
    pub updated_at: Millis,
}

impl ApiResource {
    /// The identifier on `origin`: the stored one, or the built-in one for that domain.
    pub fn identifier_on(&self, origin: &Origin) -> String {
        match (self.system, &self.identifier) {
            (Some(sys), _) => sys.identifier(origin),
            (None, Some(id)) => id.clone(),
            (None, None) => String::new(),
        }
    }

    /// Whether it defines `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s.value == scope)
    }

    /// A built-in API as created for a new tenant.
    pub fn system(sys: SystemApi, now: Millis) -> Self {
        Self {
            id: ApiId::generate(),
            system: Some(sys),
            identifier: None,
            name: sys.display_name().to_string(),
            scopes: sys
                .scopes()
                .iter()
                .map(|(v, d)| ApiScope { value: (*v).into(), description: (*d).into() })
                .collect(),
            signing_alg: "RS256".into(),
            token_lifetime_secs: match sys {
                SystemApi::MyAccount => 600,
                SystemApi::Management => 86_400,
            },
            enforce_policies: false,
            allow_offline_access: sys == SystemApi::MyAccount,
            require_dpop: false,
            policy: sys.default_policy(),
            created_at: now,
            updated_at: now,
        }
    }
}

/// Settable fields of an API; `None` keeps the current or default value.
#[derive(Debug, Clone, Default)]
pub struct ApiFields {
    /// Audience (create only).
    pub identifier: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Scopes (replaces the set).
    pub scopes: Option<Vec<ApiScope>>,
    /// Signing algorithm.
    pub signing_alg: Option<String>,
    /// Token lifetime in seconds.
    pub token_lifetime_secs: Option<i64>,
    /// RBAC switch.
    pub enforce_policies: Option<bool>,
    /// Refresh token switch.
    pub allow_offline_access: Option<bool>,
    /// DPoP requirement.
    pub require_dpop: Option<bool>,
    /// User-flow policy.
    pub user_policy: Option<PolicyMode>,
    /// Client-flow policy.
    pub client_policy: Option<PolicyMode>,
}

/// Signing algorithms an API may ask for.
pub const SIGNING_ALGS: &[&str] = &["RS256", "ES256", "EdDSA"];

impl ApiFields {
    /// Checks every given field, reporting all problems at once.
    pub fn validate(&self) -> Result<()> {
        let mut errors = Vec::new();
        if let Some(id) = &self.identifier
            && (id.trim().is_empty() || id.len() > 600 || id.chars().any(char::is_whitespace))
        {
            errors.push(FieldError::new("identifier", "must be 1 to 600 characters without spaces"));
        }
        if let Some(name) = &self.name
            && (name.trim().is_empty() || name.chars().count() > 200)
        {
            errors.push(FieldError::new("name", "must be 1 to 200 characters"));
        }
        for (i, s) in self.scopes.iter().flatten().enumerate() {
            if s.value.is_empty() || s.value.len() > 280 || s.value.chars().any(char::is_whitespace) {
                errors
                    .push(FieldError::new(format!("scopes[{i}].value"), "must be 1 to 280 characters without spaces"));
            }
            if s.description.chars().count() > 500 {
                errors.push(FieldError::new(format!("scopes[{i}].description"), "must be at most 500 characters"));
            }
        }
        if let Some(scopes) = &self.scopes {
            let mut seen = std::collections::HashSet::new();
            if let Some(dup) = scopes.iter().find(|s| !seen.insert(&s.value)) {
                errors.push(FieldError::new("scopes", format!("scope '{}' is listed twice", dup.value)));
            }
        }
        if let Some(alg) = &self.signing_alg
            && !SIGNING_ALGS.contains(&alg.as_str())
        {
            errors.push(FieldError::new("signing_alg", "must be one of RS256, ES256, EdDSA"));
        }
        if let Some(t) = self.token_lifetime_secs
            && !(60..=2_592_000).contains(&t)
        {
            errors.push(FieldError::new("token_lifetime", "must be between 60 and 2592000 seconds"));
        }
        if self.client_policy == Some(PolicyMode::AllowAll) {
            errors.push(FieldError::new(
                "subject_type_authorization.client.policy",
                "allow_all applies to user flows only; use require_client_grant or deny_all",
            ));
        }
        if errors.is_empty() { Ok(()) } else { Err(Error::Invalid(errors)) }
    }
}

/// What an `audience` string names in a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudienceRef {
    /// A built-in API, named by its identifier on one of the tenant's domains.
    System(SystemApi),
    /// Any other API, by its stored identifier.
    Identifier(String),
}

/// Reads an audience: `{scheme}://{one of the tenant's domains}[:port]/me/` names the My Account
/// API (likewise `/api/v2/`); anything else is looked up as a stored identifier.
pub fn parse_audience(audience: &str, tenant_hosts: &[String]) -> AudienceRef {
    let rest = audience.strip_prefix("https://").or_else(|| audience.strip_prefix("http://"));
    if let Some(rest) = rest
        && let Some(slash) = rest.find('/')
    {
        let (authority, path) = rest.split_at(slash);
        if let Ok((host, _)) = crate::origin::split_authority(&authority.to_ascii_lowercase())
            && tenant_hosts.iter().any(|h| h == host)
        {
            for sys in [SystemApi::MyAccount, SystemApi::Management] {
                if path == sys.path() {
                    return AudienceRef::System(sys);
                }
            }
        }
    }
    AudienceRef::Identifier(audience.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::origin::Scheme;

    #[test]
    fn system_identifiers_follow_the_domain() {
        let api = ApiResource::system(SystemApi::MyAccount, 0);
        let o = Origin::new(Scheme::Http, "127.0.0.1:8080").unwrap();
        assert_eq!(api.identifier_on(&o), "http://127.0.0.1:8080/me/");
        assert_eq!(api.policy, AccessPolicy { user: PolicyMode::RequireClientGrant, client: PolicyMode::DenyAll });
        assert!(api.has_scope("create:me:authentication_methods"));
        assert!(!api.has_scope("create:me:authentication-methods"), "hyphen spelling is a typo (spec §4.2)");
    }

    #[test]
    fn audiences_resolve_on_tenant_domains_only() {
        let hosts = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        assert_eq!(parse_audience("http://127.0.0.1:8080/me/", &hosts), AudienceRef::System(SystemApi::MyAccount));
        assert_eq!(parse_audience("https://localhost/api/v2/", &hosts), AudienceRef::System(SystemApi::Management));
        assert_eq!(
            parse_audience("https://evil.example/me/", &hosts),
            AudienceRef::Identifier("https://evil.example/me/".into())
        );
        assert_eq!(parse_audience("urn:my-api", &hosts), AudienceRef::Identifier("urn:my-api".into()));
    }

    #[test]
    fn client_flows_cannot_be_allow_all() {
        let f = ApiFields { client_policy: Some(PolicyMode::AllowAll), ..Default::default() };
        assert!(f.validate().is_err());
    }
}
