//! The one domain error. Each HTTP dialect maps it to its own wire format in one exhaustive `match`
//! (`accountd-http/src/<dialect>/error.rs`); the CLI prints its `Display`.

use std::fmt;

/// Result of a core operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A kind of stored thing, named in "not found" answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// A tenant.
    Tenant,
    /// A domain bound to a tenant.
    Domain,
    /// A user.
    User,
    /// An application (OAuth client).
    Application,
    /// An API resource (resource server).
    ApiResource,
    /// A client grant.
    ClientGrant,
    /// A role.
    Role,
    /// A permission (a scope of an API) named in a role.
    Permission,
    /// A user's authentication method.
    AuthenticationMethod,
    /// A verification record (missing, expired, of another kind, or not verified).
    VerificationRecord,
    /// A social identity linked to the user.
    Identity,
    /// A sign-in session of the user.
    Session,
    /// An application's grant by the user.
    Grant,
    /// An upstream connection (an outside identity provider).
    Connection,
    /// The provider tokens kept for an identity (token vault).
    TokenSet,
    /// An entry of the user's security timeline.
    SecurityEvent,
}

impl Entity {
    /// Human name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Entity::Tenant => "tenant",
            Entity::Domain => "domain",
            Entity::User => "user",
            Entity::SecurityEvent => "security event",
            Entity::Application => "client",
            Entity::ApiResource => "resource server",
            Entity::ClientGrant => "client grant",
            Entity::Role => "role",
            Entity::Permission => "permission",
            Entity::AuthenticationMethod => "authentication method",
            Entity::VerificationRecord => "verification record",
            Entity::Identity => "identity",
            Entity::Session => "session",
            Entity::Grant => "grant",
            Entity::Connection => "connection",
            Entity::TokenSet => "token set",
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a write collided with existing data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConflictKind {
    /// The domain is already bound to a tenant.
    DomainTaken,
    /// Another user of the tenant has that email address.
    EmailTaken,
    /// Another user of the tenant has that phone number.
    PhoneTaken,
    /// Another user of the tenant has that username.
    UsernameTaken,
    /// An API with that identifier exists in the tenant (or it names a built-in API).
    ApiIdentifierTaken,
    /// The client already has a grant for that API and subject type.
    ClientGrantExists,
    /// A role with that name exists in the tenant.
    RoleNameTaken,
    /// A tenant with that id exists.
    TenantExists,
    /// Deleting the method would leave the user no way to sign in.
    LastSignInMethod,
    /// Removing the identifier (username, email, phone, social identity) would leave the user
    /// none to sign in with.
    LastIdentifier,
    /// Another user holds that upstream account.
    IdentityTaken,
    /// The user already has an identity at that upstream connection.
    IdentityExists,
    /// The user already reported that timeline entry.
    AlreadyReported,
    /// A connection with that name exists in the tenant.
    ConnectionNameTaken,
    /// The user already has this method (one password, one TOTP app, one recovery code).
    AlreadyEnrolled(String),
    /// The user has as many authentication methods as one user may have
    /// ([`crate::authn::MAX_METHODS_PER_USER`]).
    TooManyMethods,
    /// Any other unique constraint, by its store name.
    Other(String),
}

/// A refused operation that the caller is authenticated for but may not do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Forbidden {
    /// The client-flow policy of the My Account API is fixed to `deny_all` (spec auth0 §4.3).
    MyAccountClientPolicyFixed,
    /// Built-in APIs cannot be deleted, nor their identifier or scopes changed.
    SystemApiImmutable,
    /// Third-party applications never get access to built-in APIs (spec auth0 §4.3).
    ThirdPartySystemApi,
    /// The bootstrap/management client of the tenant cannot be deleted through the API it protects.
    ProtectedClient,
}

impl fmt::Display for Forbidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Forbidden::MyAccountClientPolicyFixed => {
                "The client-flow policy of the My Account API is fixed to deny_all and cannot be changed."
            }
            Forbidden::SystemApiImmutable => {
                "Built-in APIs cannot be deleted and their identifier and scopes cannot be changed."
            }
            Forbidden::ThirdPartySystemApi => {
                "Third-party applications cannot be granted access to the My Account or Management API."
            }
            Forbidden::ProtectedClient => "This client is the tenant's bootstrap client and cannot be deleted.",
        })
    }
}

/// A self-service request the account's rules refuse; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The tenant's account center is switched off (Logto's Account API answers nothing).
    AccountCenterDisabled,
    /// The account center does not let users change this field.
    FieldNotEditable(crate::account_center::Field),
    /// The account center does not let users see this field.
    FieldNotEnabled(crate::account_center::Field),
    /// Only the tenant's first-party applications may change an account.
    ThirdPartyApplication,
    /// The password given to prove identity is wrong (or the user has none).
    WrongPassword,
    /// The new password is the current one.
    SamePassword,
    /// The new password breaks the tenant's password policy: one entry per rule broken.
    PasswordRejected(Vec<FieldError>),
    /// The username breaks the username rules (`required`, `starts_with_number`, …).
    UsernameRejected(&'static str),
    /// The tenant's email block- or allow-list refuses the address.
    EmailNotAllowed,
    /// A one-time code was refused.
    Code(CodeRefusal),
    /// Too many codes were sent to this recipient; refused until `until` (ms).
    MessageRateLimited {
        /// When the next send is allowed.
        until: i64,
    },
    /// The tenant has no connector to send the code through.
    NoConnector,
    /// The user already has a TOTP app (one at most through the one-step enrollment).
    TotpAlreadyInUse,
    /// A client-supplied TOTP secret is not base32 of 16 to 32 characters.
    TotpSecretInvalid,
    /// The TOTP code does not match the secret (±1 time step).
    InvalidTotpCode,
    /// The user still has unused backup codes.
    BackupCodeAlreadyInUse,
    /// Backup codes must be exactly 10 codes of 10 lowercase hex characters.
    WrongBackupCodeFormat,
    /// Backup codes need another second factor beside them.
    BackupCodeCanNotBeAlone,
    /// The tenant does not offer this factor.
    MfaFactorNotEnabled,
    /// The WebAuthn registration response did not verify.
    WebauthnVerificationFailed,
    /// No WebAuthn ceremony is waiting under this verification record.
    PendingInfoNotFound,
    /// No upstream sign-in is waiting under this social record (never started, or finished).
    UpstreamSessionNotFound,
    /// The social record was made at another connection than the one named.
    SocialTargetMismatch,
    /// The upstream account of the record is not linked to the caller.
    IdentityNotOwned,
    /// The social record holds no tokens (the connection keeps none).
    NoTokenSet,
    /// The kept access token expired and cannot be refreshed (no refresh token); it was removed.
    UpstreamTokenExpired,
}

/// Why an upstream provider could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamFailure {
    /// It could not be reached or answered nonsense.
    Unavailable,
    /// It refused the code or refresh token.
    Refused,
    /// Its ID token did not verify.
    IdTokenInvalid,
}

/// Why a one-time code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRefusal {
    /// No code is waiting (none sent, or already used).
    NotFound,
    /// The code was sent to another address.
    WrongAddress,
    /// The code expired.
    Expired,
    /// Too many wrong codes were tried.
    TooManyTries,
    /// The code is wrong.
    Mismatch,
}

/// One invalid field of a request, with a message a developer can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name (dotted for nested fields, e.g. `subject_type_authorization.user.policy`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Every way a core operation can fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is malformed; nothing was changed.
    #[error("invalid input: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// The named thing does not exist in this tenant.
    #[error("{0} not found")]
    NotFound(Entity),
    /// The write collides with existing data; nothing was changed.
    #[error("conflict: {0:?}")]
    Conflict(ConflictKind),
    /// The operation is not allowed on this object.
    #[error("{0}")]
    Forbidden(Forbidden),
    /// No valid credentials were presented.
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    /// The credentials lack a scope the operation needs.
    #[error("insufficient scope, expected: {0}")]
    MissingScope(String),
    /// Too many failed attempts: refused until `until` (ms since the epoch).
    #[error("locked out until {until}")]
    LockedOut {
        /// End of the lockout.
        until: i64,
    },
    /// A proof (a one-time code, a WebAuthn response, an enrollment session) is wrong, expired,
    /// used or someone else's; nothing was changed.
    #[error("proof refused: {0}")]
    BadProof(String),
    /// The operation needs fresh proof of identity the caller did not bring: a recent, strong
    /// sign-in (RFC 9470) or a verification record.
    #[error("proof of identity required: {0:?}")]
    ProofRequired(crate::verification::ProofNeeded),
    /// The account's rules refuse the change.
    #[error("refused: {0:?}")]
    Refused(Refusal),
    /// An upstream identity provider failed or refused; the detail is logged, never shown.
    #[error("upstream provider: {0:?}")]
    Upstream(UpstreamFailure),
    /// A message (a one-time code) could not be delivered.
    #[error("delivery failed: {0}")]
    Delivery(String),
    /// The store cannot be reached right now.
    #[error("store unavailable")]
    Unavailable,
    /// Too much work of this kind is queued (password hashes); retry after the given seconds.
    #[error("busy, retry after {retry_after_secs} s")]
    Busy {
        /// Seconds to wait before retrying.
        retry_after_secs: u64,
    },
    /// A bug or an unexpected failure; the detail is logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    /// One invalid field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid(vec![FieldError::new(field, message)])
    }

    /// The stable snake_case code of this error, used in logs, metrics and tests.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid(_) => "invalid_input",
            Error::NotFound(_) => "not_found",
            Error::Conflict(_) => "conflict",
            Error::Forbidden(_) => "forbidden",
            Error::Unauthenticated(_) => "unauthenticated",
            Error::MissingScope(_) => "insufficient_scope",
            Error::LockedOut { .. } => "locked_out",
            Error::BadProof(_) => "bad_proof",
            Error::ProofRequired(_) => "proof_required",
            Error::Refused(_) => "refused",
            Error::Delivery(_) => "delivery_failed",
            Error::Upstream(_) => "upstream_failed",
            Error::Unavailable => "store_unavailable",
            Error::Busy { .. } => "busy",
            Error::Internal(_) => "internal",
        }
    }
}

/// What a store can report. No driver type crosses into core.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A `get_*` found no row.
    #[error("row not found")]
    NotFound,
    /// A unique constraint was violated; `constraint` is the store's name for it (`users_email`).
    #[error("unique constraint {constraint} violated")]
    Conflict {
        /// The logical constraint name, `<table>_<columns>`.
        constraint: String,
    },
    /// The database cannot be reached or the pool is exhausted.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Result of a store call.
pub type StoreResult<T> = std::result::Result<T, StoreError>;

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Error::Internal(anyhow::anyhow!("unexpected missing row")),
            StoreError::Conflict { constraint } => Error::Conflict(match constraint.as_str() {
                "domains_host" => ConflictKind::DomainTaken,
                "users_email" => ConflictKind::EmailTaken,
                "users_username" => ConflictKind::UsernameTaken,
                "users_phone_number" => ConflictKind::PhoneTaken,
                "api_resources_identifier" => ConflictKind::ApiIdentifierTaken,
                "client_grants_client_id_api_id_subject_type" => ConflictKind::ClientGrantExists,
                "roles_name" => ConflictKind::RoleNameTaken,
                "tenants_id" => ConflictKind::TenantExists,
                "identities_connection_id_subject" => ConflictKind::IdentityTaken,
                "identities_user_id_connection_id" => ConflictKind::IdentityExists,
                "upstream_connections_name" => ConflictKind::ConnectionNameTaken,
                "authentication_methods_per_user" => ConflictKind::TooManyMethods,
                "security_reports_event_id" => ConflictKind::AlreadyReported,
                _ => ConflictKind::Other(constraint),
            }),
            StoreError::Unavailable(detail) => {
                tracing::warn!(error.detail = %detail, "store unavailable");
                Error::Unavailable
            }
            StoreError::Other(e) => Error::Internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Codes are part of our log and metrics contract: pin them.
    #[test]
    fn error_codes_are_stable() {
        let all = [
            (Error::invalid("x", "y"), "invalid_input"),
            (Error::NotFound(Entity::User), "not_found"),
            (Error::Conflict(ConflictKind::EmailTaken), "conflict"),
            (Error::Forbidden(Forbidden::SystemApiImmutable), "forbidden"),
            (Error::Unauthenticated("x".into()), "unauthenticated"),
            (Error::MissingScope("read:users".into()), "insufficient_scope"),
            (Error::LockedOut { until: 0 }, "locked_out"),
            (Error::BadProof("x".into()), "bad_proof"),
            (Error::ProofRequired(crate::verification::ProofNeeded::VerificationRecord), "proof_required"),
            (Error::Refused(Refusal::SamePassword), "refused"),
            (Error::Delivery("x".into()), "delivery_failed"),
            (Error::Upstream(UpstreamFailure::Refused), "upstream_failed"),
            (Error::Unavailable, "store_unavailable"),
            (Error::Busy { retry_after_secs: 1 }, "busy"),
            (Error::Internal(anyhow::anyhow!("x")), "internal"),
        ];
        for (e, code) in all {
            assert_eq!(e.code(), code);
        }
    }

    #[test]
    fn unique_violations_map_to_domain_conflicts() {
        let e: Error = StoreError::Conflict { constraint: "users_email".into() }.into();
        assert!(matches!(e, Error::Conflict(ConflictKind::EmailTaken)));
        let e: Error = StoreError::Conflict { constraint: "users_username".into() }.into();
        assert!(matches!(e, Error::Conflict(ConflictKind::UsernameTaken)));
        let e: Error = StoreError::Conflict { constraint: "roles_name".into() }.into();
        assert!(matches!(e, Error::Conflict(ConflictKind::RoleNameTaken)));
    }
}
