//! A user's copy of everything accountd holds about them (`GET /me/v1/export`,
//! `GET /api/my-account/export`): the profile and custom data, identifiers, the metadata of their
//! sign-in methods, linked identities, sessions, app grants, consents and security timeline — and
//! no secret: no password hash, method secret or upstream token is ever read for it.

use serde_json::json;

use super::{Core, GrantView, SessionView};
use crate::audit::AuditEvent;
use crate::authn::method::AuthenticationMethod;
use crate::caller::AccountCaller;
use crate::error::{Error, Result};
use crate::security_event::SecurityEvent;
use crate::store::{Consent, Page};
use crate::upstream::LinkedIdentity;
use crate::user::User;

/// What accountd holds about one user.
#[derive(Debug, Clone)]
pub struct AccountExport {
    /// The profile, identifiers and custom data.
    pub user: User,
    /// Sign-in methods (public facts only).
    pub methods: Vec<AuthenticationMethod>,
    /// Identities at other providers (their tokens are left out when rendered).
    pub identities: Vec<LinkedIdentity>,
    /// Live sessions.
    pub sessions: Vec<SessionView>,
    /// Live app grants.
    pub grants: Vec<GrantView>,
    /// Consents given to apps.
    pub consents: Vec<Consent>,
    /// The whole security timeline, newest first.
    pub security_events: Vec<SecurityEvent>,
}

impl Core {
    /// Everything about the caller, after a fresh proof of identity; the export itself is
    /// recorded in the user's timeline.
    pub async fn export_my_account(&self, caller: &AccountCaller) -> Result<AccountExport> {
        self.require_identity_proof(caller).await?;
        let tenant = &caller.tenant;
        let user = self
            .store
            .find_user(tenant, &caller.user)
            .await?
            .ok_or_else(|| Error::Unauthenticated("the user no longer exists".into()))?;
        let methods = self.store.list_methods(tenant, &caller.user).await?;
        let identities = self.store.list_identities(tenant, &caller.user).await?;
        let sessions = self.list_my_sessions(caller).await?;
        let grants = self.list_my_grants(caller, None).await?;
        let consents = self.store.list_consents(tenant, &caller.user.0).await?;
        let mut security_events = Vec::new();
        loop {
            let page = Page { offset: security_events.len() as u32, limit: super::MAX_SECURITY_EVENTS_PAGE };
            let events = self.my_security_events(caller, None, page).await?;
            let done = events.len() < page.limit as usize;
            security_events.extend(events);
            if done {
                break;
            }
        }
        let event = AuditEvent::success(&caller.ctx, "account.export", "user", &caller.user.0, json!({}));
        self.store.insert_audit_event(tenant, &event).await?;
        Ok(AccountExport { user, methods, identities, sessions, grants, consents, security_events })
    }
}
