//! A user's security timeline (`GET /me/v1/security-events`, `GET /api/my-account/security-events`):
//! the audit events that concern the caller, in plain words, newest first; and the user's
//! "this wasn't me" about one of them.

use serde_json::json;
use zeroize::Zeroizing;

use super::{Core, GrantView};
use crate::audit::AuditEvent;
use crate::caller::AccountCaller;
use crate::clock::now_millis;
use crate::error::{Entity, Error, Result};
use crate::secret::random_alnum;
use crate::security_event::{self, SecurityEvent, SecurityReport};
use crate::store::{Page, UserEventQuery};

/// The most entries one page may hold.
pub const MAX_SECURITY_EVENTS_PAGE: u32 = 100;

impl Core {
    /// A page of the caller's timeline, newest first: after skipping `page.offset` entries, of
    /// those older than the entry `before` when given. Only ever the caller's own events.
    pub async fn my_security_events(
        &self,
        caller: &AccountCaller,
        before: Option<&str>,
        page: Page,
    ) -> Result<Vec<SecurityEvent>> {
        let query = UserEventQuery { user: &caller.user, actions: security_event::actions(), before };
        let page = Page { offset: page.offset, limit: page.limit.min(MAX_SECURITY_EVENTS_PAGE) };
        let events = self.store.list_user_events(&caller.tenant, query, page).await?;
        Ok(events.iter().filter_map(SecurityEvent::from_audit).collect())
    }

    /// How many entries the caller's timeline holds (older than `before`, when given).
    pub async fn count_my_security_events(&self, caller: &AccountCaller, before: Option<&str>) -> Result<u64> {
        let query = UserEventQuery { user: &caller.user, actions: security_event::actions(), before };
        Ok(self.store.count_user_events(&caller.tenant, query).await?)
    }
}

impl Core {
    /// "This wasn't me" about timeline entry `event_id`, after a fresh proof of identity; the kept
    /// report says what was done. Every
    /// other session of the caller ends, every other app's grant (with its refresh tokens) is
    /// revoked, the password is replaced with `new_password` — required when the account has a
    /// password, since whoever did this may know it — and the report is kept for the operator.
    ///
    /// accountd takes the new password in the report itself rather than at the next sign-in, so
    /// the old one stops working at once. The report is stored first, as a reservation: of
    /// parallel reports of one entry, one acts and the others are refused as already reported.
    pub async fn report_security_event(
        &self,
        caller: &AccountCaller,
        event_id: &str,
        new_password: Option<Zeroizing<String>>,
    ) -> Result<SecurityReport> {
        self.require_identity_proof(caller).await?;
        let tenant = &caller.tenant;
        let event = self
            .store
            .find_audit_event(tenant, event_id)
            .await?
            .filter(|e| e.concerns() == Some(caller.user.0.as_str()))
            .and_then(|e| SecurityEvent::from_audit(&e))
            .ok_or(Error::NotFound(Entity::SecurityEvent))?;
        if !event.kind.reportable() {
            return Err(Error::invalid("event", format!("a {} event cannot be reported", event.kind.as_str())));
        }
        let user = self.caller_user(caller).await?;
        let current = self.store.load_password_hash(tenant, &user.id).await?;
        match (&current, &new_password) {
            (Some(_), None) => {
                return Err(Error::invalid(
                    "password",
                    "a new password is required: whoever did this may know the current one",
                ));
            }
            (None, Some(_)) => return Err(Error::invalid("password", "this account has no password to replace")),
            _ => {}
        }
        let sessions = self.list_my_sessions(caller).await?;
        let grants = self.list_my_grants(caller, None).await?;
        let other_grants: Vec<&GrantView> =
            grants.iter().filter(|g| Some(g.grant.client_id.as_str()) != caller.client_id.as_deref()).collect();
        let report = SecurityReport {
            id: random_alnum(20),
            user_id: caller.user.0.clone(),
            event_id: event.id.clone(),
            event_type: event.kind.as_str().into(),
            reported_at: now_millis(),
            ip: caller.ctx.ip.clone(),
            user_agent: caller.ctx.user_agent.clone(),
            sessions_ended: sessions.iter().filter(|s| !s.is_current).count() as i64,
            grants_revoked: other_grants.len() as i64,
            password_replaced: new_password.is_some(),
        };
        // The report is the reservation: of parallel reports of one entry only one is stored, and
        // only it goes on. Its new password is checked next, before anything changes; a refused
        // one withdraws the report.
        self.store.insert_security_report(tenant, &report).await?;
        let new_hash = match new_password {
            Some(password) => match self.checked_new_password(caller, &user, current, password).await {
                Ok(phc) => Some(phc),
                Err(e) => {
                    self.store.delete_security_report(tenant, &report.id).await?;
                    return Err(e);
                }
            },
            None => None,
        };
        if let Some(phc) = &new_hash {
            self.store_new_password(caller, &user, phc).await?;
        }
        self.sign_out_other_sessions(caller).await?;
        for g in other_grants {
            self.store.revoke_grant(tenant, &caller.user, &g.grant.id, now_millis()).await?;
        }
        let detail = json!({"reported": event.id, "type": event.kind.as_str(), "report": report.id});
        let audit = AuditEvent::success(&caller.ctx, "account.security_report", "user", &caller.user.0, detail);
        self.store.insert_audit_event(tenant, &audit).await?;
        Ok(report)
    }

    /// The reports users made, newest first (Management API).
    pub async fn list_security_reports(
        &self,
        tenant: &crate::tenant::TenantId,
        page: Page,
    ) -> Result<(Vec<SecurityReport>, u64)> {
        Ok(self.store.list_security_reports(tenant, page).await?)
    }
}
