//! Applications (OAuth clients) with the Auth0 Management API's field names.

use crate::clock::Millis;
use crate::error::{Error, FieldError, Result};

/// Kind of application; decides defaults for grant types and client authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppType {
    /// Single-page app in a browser (public client).
    Spa,
    /// Mobile or desktop app (public client).
    Native,
    /// Server-rendered web app (confidential).
    RegularWeb,
    /// Machine-to-machine (confidential, client credentials).
    NonInteractive,
}

impl AppType {
    /// Wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            AppType::Spa => "spa",
            AppType::Native => "native",
            AppType::RegularWeb => "regular_web",
            AppType::NonInteractive => "non_interactive",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "spa" => AppType::Spa,
            "native" => AppType::Native,
            "regular_web" => AppType::RegularWeb,
            "non_interactive" => AppType::NonInteractive,
            _ => return None,
        })
    }

    /// Whether this kind keeps no secret.
    pub fn is_public(self) -> bool {
        matches!(self, AppType::Spa | AppType::Native)
    }

    fn default_grant_types(self) -> Vec<String> {
        let g: &[&str] = match self {
            AppType::Spa | AppType::Native => &["authorization_code", "refresh_token"],
            AppType::RegularWeb => &["authorization_code", "refresh_token", "client_credentials"],
            AppType::NonInteractive => &["client_credentials"],
        };
        g.iter().map(|s| s.to_string()).collect()
    }
}

/// How a client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenEndpointAuthMethod {
    /// Public client: no secret (PKCE protects the code).
    None,
    /// Secret in the request body.
    ClientSecretPost,
    /// Secret in HTTP Basic authentication.
    ClientSecretBasic,
}

impl TokenEndpointAuthMethod {
    /// Wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenEndpointAuthMethod::None => "none",
            TokenEndpointAuthMethod::ClientSecretPost => "client_secret_post",
            TokenEndpointAuthMethod::ClientSecretBasic => "client_secret_basic",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "none" => TokenEndpointAuthMethod::None,
            "client_secret_post" => TokenEndpointAuthMethod::ClientSecretPost,
            "client_secret_basic" => TokenEndpointAuthMethod::ClientSecretBasic,
            _ => return None,
        })
    }
}

/// The grant types accountd knows.
pub const KNOWN_GRANT_TYPES: &[&str] = &[
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "urn:okta:params:oauth:grant-type:webauthn",
    "urn:ietf:params:oauth:grant-type:token-exchange",
];

/// An application as stored. The client secret is kept only as a hash.
#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    /// The OAuth `client_id` (32 random alphanumerics).
    pub client_id: String,
    /// Display name.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Kind of application.
    pub app_type: AppType,
    /// First-party applications belong to the tenant's operator; third-party ones never reach
    /// built-in APIs and always need consent.
    pub is_first_party: bool,
    /// Allowed redirect URIs, matched exactly.
    pub callbacks: Vec<String>,
    /// Allowed post-logout redirect URIs.
    pub allowed_logout_urls: Vec<String>,
    /// Origins allowed for web-message responses and CORS.
    pub web_origins: Vec<String>,
    /// Origins allowed for CORS.
    pub allowed_origins: Vec<String>,
    /// Auth0's switch: whether the `web_origins` may also call the token, revocation and userinfo
    /// endpoints from a browser (`allowed_origins` and the redirect URIs' origins always may).
    pub cross_origin_authentication: bool,
    /// Grant types the client may use.
    pub grant_types: Vec<String>,
    /// How it authenticates at the token endpoint.
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    /// SHA-256 of the client secret, for confidential clients.
    pub client_secret_hash: Option<String>,
    /// The tenant's bootstrap client, protected from deletion over the API.
    pub is_bootstrap: bool,
    /// When it was created.
    pub created_at: Millis,
    /// When it last changed.
    pub updated_at: Millis,
}

/// Settable fields of an application; `None` keeps the current or default value.
#[derive(Debug, Clone, Default)]
pub struct ApplicationFields {
    /// Display name.
    pub name: Option<String>,
    /// Free text (`Some(None)` clears it).
    pub description: Option<Option<String>>,
    /// Kind of application.
    pub app_type: Option<AppType>,
    /// First- or third-party.
    pub is_first_party: Option<bool>,
    /// Redirect URIs.
    pub callbacks: Option<Vec<String>>,
    /// Post-logout redirect URIs.
    pub allowed_logout_urls: Option<Vec<String>>,
    /// Web origins.
    pub web_origins: Option<Vec<String>>,
    /// CORS origins.
    pub allowed_origins: Option<Vec<String>>,
    /// Cross-origin switch.
    pub cross_origin_authentication: Option<bool>,
    /// Grant types.
    pub grant_types: Option<Vec<String>>,
    /// Token endpoint authentication.
    pub token_endpoint_auth_method: Option<TokenEndpointAuthMethod>,
}

impl ApplicationFields {
    /// Checks every given field, reporting all problems at once.
    pub fn validate(&self) -> Result<()> {
        let mut errors = Vec::new();
        if let Some(name) = &self.name
            && (name.trim().is_empty() || name.chars().count() > 128)
        {
            errors.push(FieldError::new("name", "must be 1 to 128 characters"));
        }
        if let Some(Some(d)) = &self.description
            && d.chars().count() > 140
        {
            errors.push(FieldError::new("description", "must be at most 140 characters"));
        }
        for (field, urls, allow_path) in [
            ("callbacks", &self.callbacks, true),
            ("allowed_logout_urls", &self.allowed_logout_urls, true),
            ("web_origins", &self.web_origins, false),
            ("allowed_origins", &self.allowed_origins, false),
        ] {
            for (i, url) in urls.iter().flatten().enumerate() {
                if let Err(m) = check_url(url, allow_path) {
                    errors.push(FieldError::new(format!("{field}[{i}]"), m));
                }
            }
        }
        for (i, g) in self.grant_types.iter().flatten().enumerate() {
            if !KNOWN_GRANT_TYPES.contains(&g.as_str()) {
                errors.push(FieldError::new(format!("grant_types[{i}]"), format!("unknown grant type '{g}'")));
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(Error::Invalid(errors)) }
    }
}

/// An absolute http(s) URL without fragment; origins also without path.
fn check_url(url: &str, allow_path: bool) -> std::result::Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("'{url}' must be an absolute http(s) URL"))?;
    if url.len() > 2048 || url.contains('#') || url.chars().any(char::is_whitespace) {
        return Err(format!("'{url}' must be at most 2048 characters, with no fragment or spaces"));
    }
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    crate::origin::split_authority(authority).map_err(|_| format!("'{url}' has an invalid host"))?;
    if !(allow_path || path.is_empty() || path == "/") {
        return Err(format!("'{url}' must be an origin (scheme, host and port only)"));
    }
    Ok(())
}

/// Builds a new application from the given fields and Auth0's defaults. Returns it with the
/// plaintext client secret (for confidential clients), which is shown once and never stored.
pub fn new_application(fields: ApplicationFields, now: Millis) -> Result<(Application, Option<String>)> {
    fields.validate()?;
    let name = fields.name.ok_or_else(|| Error::invalid("name", "is required"))?;
    let app_type = fields.app_type.unwrap_or(AppType::RegularWeb);
    let auth_method = fields.token_endpoint_auth_method.unwrap_or(if app_type.is_public() {
        TokenEndpointAuthMethod::None
    } else {
        TokenEndpointAuthMethod::ClientSecretPost
    });
    let secret = (auth_method != TokenEndpointAuthMethod::None).then(crate::secret::random_token::<48>);
    let app = Application {
        client_id: crate::secret::random_alnum(32),
        name,
        description: fields.description.flatten(),
        app_type,
        is_first_party: fields.is_first_party.unwrap_or(true),
        callbacks: fields.callbacks.unwrap_or_default(),
        allowed_logout_urls: fields.allowed_logout_urls.unwrap_or_default(),
        web_origins: fields.web_origins.unwrap_or_default(),
        allowed_origins: fields.allowed_origins.unwrap_or_default(),
        cross_origin_authentication: fields.cross_origin_authentication.unwrap_or(false),
        grant_types: fields.grant_types.unwrap_or_else(|| app_type.default_grant_types()),
        token_endpoint_auth_method: auth_method,
        client_secret_hash: secret.as_deref().map(crate::secret::hash_high_entropy_secret),
        is_bootstrap: false,
        created_at: now,
        updated_at: now,
    };
    Ok((app, secret))
}

impl Application {
    /// Applies an update; returns a new secret when the change makes a public client confidential.
    pub fn apply(&mut self, fields: ApplicationFields, now: Millis) -> Result<Option<String>> {
        fields.validate()?;
        let mut new_secret = None;
        if let Some(v) = fields.name {
            self.name = v;
        }
        if let Some(v) = fields.description {
            self.description = v;
        }
        if let Some(v) = fields.app_type {
            self.app_type = v;
        }
        if let Some(v) = fields.is_first_party {
            self.is_first_party = v;
        }
        if let Some(v) = fields.callbacks {
            self.callbacks = v;
        }
        if let Some(v) = fields.allowed_logout_urls {
            self.allowed_logout_urls = v;
        }
        if let Some(v) = fields.web_origins {
            self.web_origins = v;
        }
        if let Some(v) = fields.allowed_origins {
            self.allowed_origins = v;
        }
        if let Some(v) = fields.cross_origin_authentication {
            self.cross_origin_authentication = v;
        }
        if let Some(v) = fields.grant_types {
            self.grant_types = v;
        }
        if let Some(v) = fields.token_endpoint_auth_method {
            self.token_endpoint_auth_method = v;
            if v == TokenEndpointAuthMethod::None {
                self.client_secret_hash = None;
            } else if self.client_secret_hash.is_none() {
                let s = crate::secret::random_token::<48>();
                self.client_secret_hash = Some(crate::secret::hash_high_entropy_secret(&s));
                new_secret = Some(s);
            }
        }
        self.updated_at = now;
        Ok(new_secret)
    }

    /// Whether the client may use `grant_type`.
    pub fn allows_grant(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_app_type() {
        let f = |t| ApplicationFields { name: Some("x".into()), app_type: Some(t), ..Default::default() };
        let (spa, secret) = new_application(f(AppType::Spa), 0).unwrap();
        assert!(secret.is_none());
        assert_eq!(spa.token_endpoint_auth_method, TokenEndpointAuthMethod::None);
        assert_eq!(spa.grant_types, ["authorization_code", "refresh_token"]);
        let (m2m, secret) = new_application(f(AppType::NonInteractive), 0).unwrap();
        let secret = secret.unwrap();
        assert!(crate::secret::verify_high_entropy_secret(&secret, m2m.client_secret_hash.as_deref().unwrap()));
        assert_eq!(m2m.grant_types, ["client_credentials"]);
    }

    #[test]
    fn rejects_bad_urls_and_grants() {
        let f = ApplicationFields {
            name: Some("x".into()),
            callbacks: Some(vec!["https://app.example/cb".into(), "javascript:alert(1)".into()]),
            web_origins: Some(vec!["https://app.example/path".into()]),
            grant_types: Some(vec!["password".into()]),
            ..Default::default()
        };
        let Err(Error::Invalid(errs)) = f.validate() else { panic!("accepted") };
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["callbacks[1]", "web_origins[0]", "grant_types[0]"]);
    }
}
