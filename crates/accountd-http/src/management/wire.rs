//! JSON shapes of the management API (Auth0's Management API field names), apart from the core
//! types they carry. Requests deny unknown fields; responses omit absent optional fields.

use accountd_core::api_resource::{ApiFields, ApiResource, ApiScope, PolicyMode};
use accountd_core::application::{AppType, Application, ApplicationFields, TokenEndpointAuthMethod};
use accountd_core::clock::to_rfc3339;
use accountd_core::error::{Error, FieldError};
use accountd_core::origin::Origin;
use accountd_core::role::Role;
use accountd_core::service::{ClientGrantView, PermissionView};
use accountd_core::user::{DATABASE_CONNECTION, User, UserFields};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

// ---- clients ---------------------------------------------------------------------------------

/// Body of `POST /api/v2/clients` and `PATCH /api/v2/clients/{id}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientRequest {
    /// Display name (required on create).
    pub name: Option<String>,
    /// Free text.
    #[serde(default, deserialize_with = "nullable")]
    pub description: Option<Option<String>>,
    /// `spa`, `native`, `regular_web` or `non_interactive`.
    pub app_type: Option<String>,
    /// First-party (default) or third-party.
    pub is_first_party: Option<bool>,
    /// Allowed redirect URIs.
    pub callbacks: Option<Vec<String>>,
    /// Allowed post-logout redirect URIs.
    pub allowed_logout_urls: Option<Vec<String>>,
    /// Origins allowed for web-message responses.
    pub web_origins: Option<Vec<String>>,
    /// Origins allowed for CORS.
    pub allowed_origins: Option<Vec<String>>,
    /// Allow browser calls from the allowed origins.
    pub cross_origin_authentication: Option<bool>,
    /// Grant types.
    pub grant_types: Option<Vec<String>>,
    /// `none`, `client_secret_post` or `client_secret_basic`.
    pub token_endpoint_auth_method: Option<String>,
}

/// `Some(None)` for an explicit `null`, `None` when absent.
fn nullable<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl TryFrom<ClientRequest> for ApplicationFields {
    type Error = Error;

    fn try_from(r: ClientRequest) -> Result<Self, Error> {
        let mut errors = Vec::new();
        let app_type = r.app_type.as_deref().map(|t| {
            AppType::parse(t)
                .ok_or_else(|| FieldError::new("app_type", "must be one of spa, native, regular_web, non_interactive"))
        });
        let auth = r.token_endpoint_auth_method.as_deref().map(|t| {
            TokenEndpointAuthMethod::parse(t).ok_or_else(|| {
                FieldError::new(
                    "token_endpoint_auth_method",
                    "must be one of none, client_secret_post, client_secret_basic",
                )
            })
        });
        let app_type = match app_type.transpose() {
            Ok(v) => v,
            Err(e) => {
                errors.push(e);
                None
            }
        };
        let auth = match auth.transpose() {
            Ok(v) => v,
            Err(e) => {
                errors.push(e);
                None
            }
        };
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        Ok(ApplicationFields {
            name: r.name,
            description: r.description,
            app_type,
            is_first_party: r.is_first_party,
            callbacks: r.callbacks,
            allowed_logout_urls: r.allowed_logout_urls,
            web_origins: r.web_origins,
            allowed_origins: r.allowed_origins,
            cross_origin_authentication: r.cross_origin_authentication,
            grant_types: r.grant_types,
            token_endpoint_auth_method: auth,
        })
    }
}

/// An application as the management API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientResponse {
    /// The tenant it belongs to.
    pub tenant: String,
    /// OAuth client id.
    pub client_id: String,
    /// Display name.
    pub name: String,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Kind of application.
    pub app_type: String,
    /// First- or third-party.
    pub is_first_party: bool,
    /// Always true: accountd is OIDC-conformant.
    pub oidc_conformant: bool,
    /// Always false: no global clients.
    pub global: bool,
    /// Redirect URIs.
    pub callbacks: Vec<String>,
    /// Post-logout redirect URIs.
    pub allowed_logout_urls: Vec<String>,
    /// Web origins.
    pub web_origins: Vec<String>,
    /// CORS origins.
    pub allowed_origins: Vec<String>,
    /// Cross-origin switch.
    pub cross_origin_authentication: bool,
    /// Grant types.
    pub grant_types: Vec<String>,
    /// Token endpoint authentication.
    pub token_endpoint_auth_method: String,
    /// The client secret: only in the answer that created it; stored hashed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl ClientResponse {
    /// Renders an application, with its secret when it was just created.
    pub fn new(tenant: &str, a: Application, secret: Option<String>) -> Self {
        Self {
            tenant: tenant.into(),
            client_id: a.client_id,
            name: a.name,
            description: a.description,
            app_type: a.app_type.as_str().into(),
            is_first_party: a.is_first_party,
            oidc_conformant: true,
            global: false,
            callbacks: a.callbacks,
            allowed_logout_urls: a.allowed_logout_urls,
            web_origins: a.web_origins,
            allowed_origins: a.allowed_origins,
            cross_origin_authentication: a.cross_origin_authentication,
            grant_types: a.grant_types,
            token_endpoint_auth_method: a.token_endpoint_auth_method.as_str().into(),
            client_secret: secret,
        }
    }
}

// ---- resource servers ------------------------------------------------------------------------

/// A scope of an API.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopeWire {
    /// The scope string.
    pub value: String,
    /// What it grants.
    #[serde(default)]
    pub description: String,
}

/// Policy of one subject type.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyWire {
    /// `allow_all`, `require_client_grant` or `deny_all`.
    pub policy: String,
}

/// Access policies per subject type.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectTypeAuthorization {
    /// User flows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<PolicyWire>,
    /// Client credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<PolicyWire>,
}

/// Proof-of-possession requirement.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProofOfPossession {
    /// Always `dpop`.
    pub mechanism: String,
    /// Whether tokens for the API must be DPoP-bound.
    pub required: bool,
}

/// Body of `POST /api/v2/resource-servers` and `PATCH /api/v2/resource-servers/{id}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceServerRequest {
    /// Audience of the API (create only).
    pub identifier: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Scopes (replaces the set).
    pub scopes: Option<Vec<ScopeWire>>,
    /// `RS256`, `ES256` or `EdDSA`.
    pub signing_alg: Option<String>,
    /// Access token lifetime in seconds.
    pub token_lifetime: Option<i64>,
    /// RBAC.
    pub enforce_policies: Option<bool>,
    /// Refresh tokens.
    pub allow_offline_access: Option<bool>,
    /// Access policies.
    pub subject_type_authorization: Option<SubjectTypeAuthorization>,
    /// DPoP requirement.
    pub proof_of_possession: Option<ProofOfPossession>,
}

impl TryFrom<ResourceServerRequest> for ApiFields {
    type Error = Error;

    fn try_from(r: ResourceServerRequest) -> Result<Self, Error> {
        let mut errors = Vec::new();
        let mut policy = |p: Option<PolicyWire>, field: &str| {
            let p = p?;
            let parsed = PolicyMode::parse(&p.policy);
            if parsed.is_none() {
                errors.push(FieldError::new(
                    format!("subject_type_authorization.{field}.policy"),
                    "must be one of allow_all, require_client_grant, deny_all",
                ));
            }
            parsed
        };
        let sta = r.subject_type_authorization.unwrap_or_default();
        let user_policy = policy(sta.user, "user");
        let client_policy = policy(sta.client, "client");
        if let Some(pop) = &r.proof_of_possession
            && pop.mechanism != "dpop"
        {
            errors.push(FieldError::new("proof_of_possession.mechanism", "must be dpop"));
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        Ok(ApiFields {
            identifier: r.identifier,
            name: r.name,
            scopes: r
                .scopes
                .map(|s| s.into_iter().map(|s| ApiScope { value: s.value, description: s.description }).collect()),
            signing_alg: r.signing_alg,
            token_lifetime_secs: r.token_lifetime,
            enforce_policies: r.enforce_policies,
            allow_offline_access: r.allow_offline_access,
            require_dpop: r.proof_of_possession.map(|p| p.required),
            user_policy,
            client_policy,
        })
    }
}

/// An API as the management API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceServerResponse {
    /// Its id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Audience (for built-in APIs: on the domain of this request).
    pub identifier: String,
    /// Whether it is built in (My Account, Management).
    pub is_system: bool,
    /// Scopes.
    pub scopes: Vec<ScopeWire>,
    /// Signing algorithm.
    pub signing_alg: String,
    /// Token lifetime in seconds.
    pub token_lifetime: i64,
    /// RBAC.
    pub enforce_policies: bool,
    /// Refresh tokens.
    pub allow_offline_access: bool,
    /// Always true.
    pub skip_consent_for_verifiable_first_party_clients: bool,
    /// Access policies.
    pub subject_type_authorization: SubjectTypeAuthorization,
    /// DPoP requirement, when required.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proof_of_possession: Option<ProofOfPossession>,
}

impl ResourceServerResponse {
    /// Renders an API as seen from `origin`.
    pub fn new(api: ApiResource, origin: &Origin) -> Self {
        Self {
            identifier: api.identifier_on(origin),
            id: api.id.0,
            name: api.name,
            is_system: api.system.is_some(),
            scopes: api.scopes.into_iter().map(|s| ScopeWire { value: s.value, description: s.description }).collect(),
            signing_alg: api.signing_alg,
            token_lifetime: api.token_lifetime_secs,
            enforce_policies: api.enforce_policies,
            allow_offline_access: api.allow_offline_access,
            skip_consent_for_verifiable_first_party_clients: true,
            subject_type_authorization: SubjectTypeAuthorization {
                user: Some(PolicyWire { policy: api.policy.user.as_str().into() }),
                client: Some(PolicyWire { policy: api.policy.client.as_str().into() }),
            },
            proof_of_possession: api
                .require_dpop
                .then(|| ProofOfPossession { mechanism: "dpop".into(), required: true }),
        }
    }
}

// ---- client grants ---------------------------------------------------------------------------

/// Body of `POST /api/v2/client-grants`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientGrantCreateRequest {
    /// The application.
    pub client_id: String,
    /// The API's identifier.
    pub audience: String,
    /// Scopes the application may obtain.
    pub scope: Vec<String>,
    /// `client` (default) or `user`.
    pub subject_type: Option<String>,
}

/// Body of `PATCH /api/v2/client-grants/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientGrantUpdateRequest {
    /// New scopes.
    pub scope: Vec<String>,
}

/// A client grant.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientGrantResponse {
    /// Its id.
    pub id: String,
    /// The application.
    pub client_id: String,
    /// The API's identifier on this domain.
    pub audience: String,
    /// Scopes.
    pub scope: Vec<String>,
    /// `user` or `client`.
    pub subject_type: String,
}

impl ClientGrantResponse {
    /// Renders a grant as seen from `origin`.
    pub fn new(v: ClientGrantView, origin: &Origin) -> Self {
        Self {
            id: v.grant.id.0,
            client_id: v.grant.client_id,
            audience: v.api.identifier_on(origin),
            scope: v.grant.scopes,
            subject_type: v.grant.subject_type.as_str().into(),
        }
    }
}

// ---- users -----------------------------------------------------------------------------------

/// Body of `POST /api/v2/users` and `PATCH /api/v2/users/{id}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserRequest {
    /// The database connection; only `Username-Password-Authentication` exists.
    pub connection: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Whether the email is verified.
    pub email_verified: Option<bool>,
    /// Accepted for compatibility; verification mail is sent by later features.
    pub verify_email: Option<bool>,
    /// Username.
    pub username: Option<String>,
    /// E.164 phone number.
    pub phone_number: Option<String>,
    /// Whether the phone is verified.
    pub phone_verified: Option<bool>,
    /// Initial or new password.
    pub password: Option<String>,
    /// Full name.
    pub name: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Nickname.
    pub nickname: Option<String>,
    /// Picture URL.
    pub picture: Option<String>,
    /// User-editable metadata (merged on update; `null` values delete keys).
    pub user_metadata: Option<Value>,
    /// Admin-only metadata (merged on update).
    pub app_metadata: Option<Value>,
    /// Block sign-in.
    pub blocked: Option<bool>,
}

impl UserRequest {
    /// Splits into profile fields and password, checking the connection name.
    pub fn into_parts(self) -> Result<(UserFields, Option<accountd_core::secret::Zeroizing<String>>), Error> {
        if let Some(c) = &self.connection
            && c != DATABASE_CONNECTION
        {
            return Err(Error::invalid(
                "connection",
                format!("the connection does not exist (use {DATABASE_CONNECTION})"),
            ));
        }
        let fields = UserFields {
            email: self.email,
            email_verified: self.email_verified,
            username: self.username,
            phone_number: self.phone_number,
            phone_verified: self.phone_verified,
            name: self.name,
            given_name: self.given_name,
            family_name: self.family_name,
            nickname: self.nickname,
            picture: self.picture,
            user_metadata: self.user_metadata,
            app_metadata: self.app_metadata,
            blocked: self.blocked,
        };
        Ok((fields, self.password.map(accountd_core::secret::Zeroizing::new)))
    }
}

/// One identity of a user (always the database connection for now).
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityWire {
    /// Connection name.
    pub connection: String,
    /// `auth0` for database users.
    pub provider: String,
    /// The id without the provider prefix.
    pub user_id: String,
    /// Whether it is a social identity.
    #[serde(rename = "isSocial")]
    pub is_social: bool,
}

/// A user as the management API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    /// `auth0|…`.
    pub user_id: String,
    /// Email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the email is verified.
    pub email_verified: bool,
    /// Username.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Phone number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// Whether the phone is verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_verified: Option<bool>,
    /// Full name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Given name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Family name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Nickname.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    /// Picture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// User metadata.
    pub user_metadata: Value,
    /// App metadata.
    pub app_metadata: Value,
    /// Whether sign-in is blocked.
    pub blocked: bool,
    /// Identities.
    pub identities: Vec<IdentityWire>,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Updated (RFC 3339).
    pub updated_at: String,
    /// Last sign-in (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_login: Option<String>,
    /// Sign-in count.
    pub logins_count: i64,
}

impl From<User> for UserResponse {
    fn from(u: User) -> Self {
        let bare = u.id.0.split_once('|').map(|(_, id)| id.to_string()).unwrap_or_else(|| u.id.0.clone());
        Self {
            identities: vec![IdentityWire {
                connection: DATABASE_CONNECTION.into(),
                provider: "auth0".into(),
                user_id: bare,
                is_social: false,
            }],
            user_id: u.id.0,
            phone_verified: u.phone_number.as_ref().map(|_| u.phone_verified),
            email: u.email,
            email_verified: u.email_verified,
            username: u.username,
            phone_number: u.phone_number,
            name: u.name,
            given_name: u.given_name,
            family_name: u.family_name,
            nickname: u.nickname,
            picture: u.picture,
            user_metadata: u.user_metadata,
            app_metadata: u.app_metadata,
            blocked: u.blocked,
            created_at: to_rfc3339(u.created_at),
            updated_at: to_rfc3339(u.updated_at),
            last_login: u.last_login_at.map(to_rfc3339),
            logins_count: u.logins_count,
        }
    }
}

/// Query of `GET /api/v2/users`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UserListParams {
    /// Page index, from 0.
    pub page: Option<u32>,
    /// Items per page (at most 100).
    pub per_page: Option<u32>,
    /// Wrap with totals.
    pub include_totals: Option<bool>,
    /// Search: only `email:"…"` is supported.
    pub q: Option<String>,
    /// Accepted for compatibility (`v3`).
    pub search_engine: Option<String>,
}

// ---- roles -----------------------------------------------------------------------------------

/// Body of `POST /api/v2/roles` and `PATCH /api/v2/roles/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    /// Name (required on create).
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
}

/// A role.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleResponse {
    /// Its id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
}

impl From<Role> for RoleResponse {
    fn from(r: Role) -> Self {
        Self { id: r.id.0, name: r.name, description: r.description }
    }
}

/// One permission in a request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PermissionRef {
    /// The API's identifier.
    pub resource_server_identifier: String,
    /// The scope.
    pub permission_name: String,
}

/// Body of `POST`/`DELETE /api/v2/roles/{id}/permissions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PermissionsRequest {
    /// Permissions.
    pub permissions: Vec<PermissionRef>,
}

impl PermissionsRequest {
    /// `(audience, scope)` pairs.
    pub fn pairs(self) -> Vec<(String, String)> {
        self.permissions.into_iter().map(|p| (p.resource_server_identifier, p.permission_name)).collect()
    }
}

/// A permission of a role.
#[derive(Debug, Serialize, ToSchema)]
pub struct PermissionResponse {
    /// The scope.
    pub permission_name: String,
    /// Its description.
    pub description: String,
    /// The API's name.
    pub resource_server_name: String,
    /// The API's identifier on this domain.
    pub resource_server_identifier: String,
}

impl PermissionResponse {
    /// Renders a permission as seen from `origin`.
    pub fn new(p: PermissionView, origin: &Origin) -> Self {
        Self {
            permission_name: p.permission_name,
            description: p.description,
            resource_server_identifier: p.api.identifier_on(origin),
            resource_server_name: p.api.name,
        }
    }
}

/// Body of `POST`/`DELETE /api/v2/users/{id}/roles`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserRolesRequest {
    /// Role ids.
    pub roles: Vec<String>,
}

/// Body of `POST /api/v2/roles/{id}/users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleUsersRequest {
    /// User ids.
    pub users: Vec<String>,
}

// ---- Connections (upstream identity providers) ------------------------------------------------

/// Body of `POST /api/v2/connections` and `PATCH /api/v2/connections/{id}` (Auth0's shape for the
/// `oidc` and `oauth2` strategies; `name` and `strategy` only on create).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionRequest {
    /// Unique name (Auth0's `connection`, Logto's `target`).
    pub name: Option<String>,
    /// What people see.
    pub display_name: Option<String>,
    /// `oidc` or `oauth2`.
    pub strategy: Option<String>,
    /// The provider and accountd's client there.
    pub options: Option<ConnectionOptions>,
    /// `{active}`: keep the provider's tokens (Token Vault, connected accounts).
    pub connected_accounts: Option<ActiveFlag>,
    /// Offer "Continue with …" on the hosted sign-in page.
    pub show_as_button: Option<bool>,
    /// Accepted for Auth0 compatibility; every application of the tenant may use a connection.
    #[schema(value_type = Option<Vec<String>>)]
    pub enabled_clients: Option<Value>,
    /// Accepted for Auth0 compatibility and ignored.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// Accepted for Auth0 compatibility and ignored.
    pub is_domain_connection: Option<bool>,
}

/// `{active: bool}`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
pub struct ActiveFlag {
    /// Whether it is on.
    pub active: bool,
}

/// A connection's `options`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ConnectionOptions {
    /// accountd's client id at the provider.
    pub client_id: Option<String>,
    /// accountd's client secret at the provider (write-only).
    pub client_secret: Option<String>,
    /// OIDC issuer.
    pub issuer: Option<String>,
    /// OIDC discovery document URL (its issuer is taken).
    pub discovery_url: Option<String>,
    /// Authorization endpoint (`authorizationURL` for oauth2).
    #[serde(alias = "authorizationURL")]
    pub authorization_endpoint: Option<String>,
    /// Token endpoint (`tokenURL` for oauth2).
    #[serde(alias = "tokenURL")]
    pub token_endpoint: Option<String>,
    /// Userinfo endpoint (for oauth2: the JSON user endpoint).
    pub userinfo_endpoint: Option<String>,
    /// Scopes: a space-separated string or a list.
    #[schema(value_type = Option<String>)]
    pub scope: Option<Value>,
    /// accountd: link a first sign-in to an existing user with the same, provider-verified email.
    pub link_by_verified_email: Option<bool>,
    /// Accepted for Auth0 compatibility and ignored (`front_channel`/`back_channel`).
    #[serde(rename = "type")]
    pub channel: Option<String>,
}

impl ConnectionOptions {
    fn scopes(&self) -> Result<Option<Vec<String>>, Error> {
        match &self.scope {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.split_whitespace().map(str::to_string).collect())),
            Some(Value::Array(a)) if a.iter().all(Value::is_string) => {
                Ok(Some(a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()))
            }
            Some(_) => Err(Error::invalid("options.scope", "must be a string or a list of strings")),
        }
    }

    fn issuer(&self) -> Option<String> {
        self.issuer.clone().or_else(|| {
            self.discovery_url.as_deref().map(|d| d.trim_end_matches("/.well-known/openid-configuration").to_string())
        })
    }
}

impl ConnectionRequest {
    /// The spec of a new connection.
    pub fn into_new(self) -> Result<accountd_core::service::ConnectionSpec, Error> {
        let name = self.name.clone().ok_or_else(|| Error::invalid("name", "is required"))?;
        let strategy = match self.strategy.as_deref() {
            Some(s) => accountd_core::upstream::Strategy::parse(s)
                .ok_or_else(|| Error::invalid("strategy", "must be oidc or oauth2"))?,
            None => return Err(Error::invalid("strategy", "is required")),
        };
        let blank = accountd_core::service::ConnectionSpec {
            name,
            display_name: None,
            strategy,
            endpoints: Default::default(),
            client_id: String::new(),
            client_secret: None,
            scopes: vec![],
            token_vault: false,
            sign_in: false,
            link_by_verified_email: false,
        };
        self.apply(blank)
    }

    /// `spec` with what this request changes.
    pub fn apply(
        self,
        mut spec: accountd_core::service::ConnectionSpec,
    ) -> Result<accountd_core::service::ConnectionSpec, Error> {
        if let Some(d) = self.display_name {
            spec.display_name = Some(d).filter(|d| !d.is_empty());
        }
        if let Some(c) = self.connected_accounts {
            spec.token_vault = c.active;
        }
        if let Some(b) = self.show_as_button {
            spec.sign_in = b;
        }
        if let Some(o) = self.options {
            if let Some(scopes) = o.scopes()? {
                spec.scopes = scopes;
            }
            if let Some(i) = o.issuer() {
                spec.endpoints.issuer = Some(i);
            }
            if let Some(v) = o.client_id {
                spec.client_id = v;
            }
            if let Some(v) = o.client_secret {
                spec.client_secret = Some(zeroize::Zeroizing::new(v));
            }
            if let Some(v) = o.authorization_endpoint {
                spec.endpoints.authorization_endpoint = Some(v);
            }
            if let Some(v) = o.token_endpoint {
                spec.endpoints.token_endpoint = Some(v);
            }
            if let Some(v) = o.userinfo_endpoint {
                spec.endpoints.userinfo_endpoint = Some(v);
            }
            if let Some(v) = o.link_by_verified_email {
                spec.link_by_verified_email = v;
            }
        }
        Ok(spec)
    }
}

/// A connection as the Management API shows it: never its client secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionResponse {
    /// `con_…`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// What people see.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// `oidc` or `oauth2`.
    pub strategy: &'static str,
    /// The provider and accountd's client there.
    #[schema(value_type = Object)]
    pub options: Value,
    /// Whether the provider's tokens are kept.
    pub connected_accounts: ActiveFlag,
    /// Whether the hosted sign-in page offers it.
    pub show_as_button: bool,
    /// Every application may use it.
    pub enabled_clients: Vec<String>,
    /// Its name, as Auth0 lists realms.
    pub realms: Vec<String>,
    /// Always false.
    pub is_domain_connection: bool,
}

impl From<accountd_core::upstream::UpstreamConnection> for ConnectionResponse {
    fn from(c: accountd_core::upstream::UpstreamConnection) -> Self {
        let mut options = serde_json::Map::new();
        options.insert("client_id".into(), Value::String(c.client_id.clone()));
        for (k, v) in [
            ("issuer", &c.endpoints.issuer),
            ("authorization_endpoint", &c.endpoints.authorization_endpoint),
            ("token_endpoint", &c.endpoints.token_endpoint),
            ("userinfo_endpoint", &c.endpoints.userinfo_endpoint),
        ] {
            if let Some(v) = v {
                options.insert(k.into(), Value::String(v.clone()));
            }
        }
        options.insert("scope".into(), Value::String(c.scopes.join(" ")));
        options.insert("link_by_verified_email".into(), Value::Bool(c.link_by_verified_email));
        Self {
            id: c.id,
            realms: vec![c.name.clone()],
            name: c.name,
            display_name: c.display_name,
            strategy: c.strategy.as_str(),
            options: Value::Object(options),
            connected_accounts: ActiveFlag { active: c.token_vault },
            show_as_button: c.sign_in,
            enabled_clients: vec![],
            is_domain_connection: false,
        }
    }
}
