//! Who calls the self-service APIs: the signed-in user of a tenant, through which application,
//! from where, and with what proof of identity. Both dialects build one from their token; core's
//! self-service operations take it, so an adapter cannot name another user.

use crate::audit::Context;
use crate::authn::credential::RelyingParty;
use crate::tenant::TenantId;
use crate::user::UserId;
use crate::verification::Proof;

/// Who is calling the account API, for what tenant, and how they signed in.
#[derive(Debug, Clone)]
pub struct AccountCaller {
    /// The tenant.
    pub tenant: TenantId,
    /// The signed-in user (the token's `sub`).
    pub user: UserId,
    /// Audit context (actor, IP, user agent).
    pub ctx: Context,
    /// The WebAuthn relying party of the domain used.
    pub rp: RelyingParty,
    /// `{scheme}://{host}/` of the domain used.
    pub base_url: String,
    /// The proof of identity the caller brings to sensitive operations.
    pub proof: Proof,
    /// The application the token was issued to (`None`: not known, e.g. a token exchange).
    pub client_id: Option<String>,
    /// The sign-in session the token was issued under (the caller's "current" session).
    pub session_id: Option<String>,
}
