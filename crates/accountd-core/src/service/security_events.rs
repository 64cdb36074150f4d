//! A user's security timeline (`GET /me/v1/security-events`, `GET /api/my-account/security-events`):
//! the audit events that concern the caller, in plain words, newest first.

use super::Core;
use crate::caller::AccountCaller;
use crate::error::Result;
use crate::security_event::{self, SecurityEvent};
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
