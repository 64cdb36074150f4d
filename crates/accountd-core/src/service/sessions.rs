//! A user's sign-in sessions and the grants of the applications they signed in to: listed and
//! ended by the user (Logto's `/api/my-account/sessions` and `/grants`), by an operator (the
//! Management API, the CLI) or by a password change that signs out the other sessions — and the
//! per-request check that makes an ending take effect at once: every token names its session and
//! token family, and [`Core::token_stands`] refuses it once either is revoked, on every node,
//! from an in-memory view that each revocation clears.

use serde_json::json;

use super::Core;
use crate::application::Application;
use crate::audit::{AuditEvent, Context};
use crate::caller::AccountCaller;
use crate::clock::now_millis;
use crate::error::{Entity, Error, Result};
use crate::session::{Grant, REVOCATION_HORIZON_MILLIS, Session, TokenFamily};
use crate::tenant::TenantId;
use crate::user::UserId;

/// Which grants ending a session takes with it (Logto's `revokeGrantsTarget`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantsTarget {
    /// The grants of every application signed in under the session.
    All,
    /// Those of first-party applications only.
    FirstParty,
}

/// An application signed in to under a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionApp {
    /// The application.
    pub client_id: String,
    /// Its grant.
    pub grant_id: String,
    /// Whether it was granted `offline_access` (refresh tokens).
    pub offline_access: bool,
}

/// A live session as its user or an operator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionView {
    /// The session.
    pub session: Session,
    /// The applications signed in to under it, oldest first (one entry per application).
    pub apps: Vec<SessionApp>,
    /// Whether the caller's token was issued under it.
    pub is_current: bool,
}

/// A live grant with the application it is for.
#[derive(Debug, Clone, PartialEq)]
pub struct GrantView {
    /// The grant.
    pub grant: Grant,
    /// The application (None if it was deleted meanwhile).
    pub application: Option<Application>,
}

impl GrantView {
    /// Whether the application is first-party (a deleted one counts as third-party).
    pub fn first_party(&self) -> bool {
        self.application.as_ref().is_some_and(|a| a.is_first_party)
    }
}

fn apps_of(session: &str, families: &[TokenFamily]) -> Vec<SessionApp> {
    let mut apps: Vec<SessionApp> = Vec::new();
    for f in families.iter().filter(|f| f.session_id == session) {
        let offline = f.scope.split_whitespace().any(|s| s == "offline_access");
        match apps.iter_mut().find(|a| a.client_id == f.client_id) {
            Some(a) => a.offline_access |= offline,
            None => apps.push(SessionApp {
                client_id: f.client_id.clone(),
                grant_id: f.grant_id.clone(),
                offline_access: offline,
            }),
        }
    }
    apps
}

impl Core {
    /// Whether a user token still stands: its user exists and is not blocked, and neither the
    /// session nor the token family it was issued under has been revoked. Served from memory on
    /// a repeat (every write to the user and every revocation clears it on every node), so it can
    /// run on every request.
    pub async fn token_stands(
        &self,
        tenant: &TenantId,
        user: &str,
        session: Option<&str>,
        family: Option<&str>,
    ) -> Result<bool> {
        if !self.settings.revocation_check {
            return Ok(true);
        }
        Ok(self.user_is_active(tenant, user).await? && self.session_stands(tenant, user, session, family).await?)
    }

    /// The session half of [`Core::token_stands`], for a caller that reads the user anyway
    /// (`/userinfo`): neither the token's session nor its family has been revoked.
    pub async fn session_stands(
        &self,
        tenant: &TenantId,
        user: &str,
        session: Option<&str>,
        family: Option<&str>,
    ) -> Result<bool> {
        if !self.settings.revocation_check {
            return Ok(true);
        }
        let since = now_millis() - REVOCATION_HORIZON_MILLIS;
        let revoked = self.store.find_revocations(tenant, &UserId(user.into()), since).await?;
        Ok(revoked.allows(session, family))
    }

    /// The live sessions of `user`, newest first; `current` marks the caller's own.
    async fn session_views(&self, tenant: &TenantId, user: &UserId, current: Option<&str>) -> Result<Vec<SessionView>> {
        let now = now_millis();
        let sessions = self.store.list_user_sessions(tenant, user, now).await?;
        let families = self.store.list_user_families(tenant, user).await?;
        Ok(sessions
            .into_iter()
            .map(|s| SessionView {
                apps: apps_of(&s.id, &families),
                is_current: current == Some(s.id.as_str()),
                session: s,
            })
            .collect())
    }

    /// The caller's live sessions.
    pub async fn list_my_sessions(&self, caller: &AccountCaller) -> Result<Vec<SessionView>> {
        self.session_views(&caller.tenant, &caller.user, caller.session_id.as_deref()).await
    }

    /// Ends one of the caller's sessions with every token issued under it; `target` also revokes
    /// the grants of the applications signed in to under it (everywhere, not only in this
    /// session). Another user's session is as unknown as a made-up id.
    pub async fn revoke_my_session(
        &self,
        caller: &AccountCaller,
        id: &str,
        target: Option<GrantsTarget>,
    ) -> Result<()> {
        let (tenant, user) = (&caller.tenant, &caller.user);
        let session = self
            .store
            .find_session(tenant, id)
            .await?
            .filter(|s| s.user_id == user.0 && s.revoked_at.is_none() && s.expires_at > now_millis())
            .ok_or(Error::NotFound(Entity::Session))?;
        let apps = match target {
            Some(_) => {
                let families = self.store.list_user_families(tenant, user).await?;
                apps_of(&session.id, &families)
            }
            None => Vec::new(),
        };
        let now = now_millis();
        // The revocation itself decides (one UPDATE): of parallel deletes, one ends the session.
        if !self.store.revoke_session(tenant, user, &session.id, now).await? {
            return Err(Error::NotFound(Entity::Session));
        }
        for app in apps {
            if target == Some(GrantsTarget::FirstParty) {
                let first_party =
                    self.store.find_application(tenant, &app.client_id).await?.is_some_and(|a| a.is_first_party);
                if !first_party {
                    continue;
                }
            }
            self.store.revoke_grant(tenant, user, &app.grant_id, now).await?;
        }
        self.audit_session_end(&caller.ctx, tenant, &session.id, &user.0, "user").await
    }

    /// The caller's live grants; `first_party` keeps only first-party (true) or third-party
    /// (false) applications.
    pub async fn list_my_grants(&self, caller: &AccountCaller, first_party: Option<bool>) -> Result<Vec<GrantView>> {
        let grants = self.store.list_user_grants(&caller.tenant, &caller.user, now_millis()).await?;
        let mut views = Vec::with_capacity(grants.len());
        for grant in grants {
            let application = self.store.find_application(&caller.tenant, &grant.client_id).await?;
            let view = GrantView { grant, application };
            if first_party.is_none_or(|f| f == view.first_party()) {
                views.push(view);
            }
        }
        Ok(views)
    }

    /// Revokes one of the caller's grants: every token the application holds for them ends.
    pub async fn revoke_my_grant(&self, caller: &AccountCaller, id: &str) -> Result<()> {
        if !self.store.revoke_grant(&caller.tenant, &caller.user, id, now_millis()).await? {
            return Err(Error::NotFound(Entity::Grant));
        }
        self.store
            .insert_audit_event(
                &caller.tenant,
                &AuditEvent::success(&caller.ctx, "grant.revoke", "user", &caller.user.0, json!({"grant": id})),
            )
            .await?;
        Ok(())
    }

    /// Ends every session of the caller but the one their token was issued under (after a
    /// password change, "sign out everywhere else"); returns how many ended.
    pub async fn sign_out_other_sessions(&self, caller: &AccountCaller) -> Result<usize> {
        self.end_user_sessions(&caller.ctx, &caller.tenant, &caller.user, caller.session_id.as_deref()).await
    }

    /// The live sessions of a user (Management API, CLI).
    pub async fn list_user_sessions(&self, tenant: &TenantId, user: &str) -> Result<Vec<SessionView>> {
        let user = UserId(user.into());
        if self.store.find_user(tenant, &user).await?.is_none() {
            return Err(Error::NotFound(Entity::User));
        }
        self.session_views(tenant, &user, None).await
    }

    /// A live session by id (Management API).
    pub async fn get_session(&self, tenant: &TenantId, id: &str) -> Result<SessionView> {
        let session = self
            .store
            .find_session(tenant, id)
            .await?
            .filter(|s| s.revoked_at.is_none() && s.expires_at > now_millis())
            .ok_or(Error::NotFound(Entity::Session))?;
        let user = UserId(session.user_id.clone());
        let families = self.store.list_user_families(tenant, &user).await?;
        Ok(SessionView { apps: apps_of(&session.id, &families), is_current: false, session })
    }

    /// Ends a session by id (Management API, CLI).
    pub async fn revoke_session(&self, ctx: &Context, tenant: &TenantId, id: &str) -> Result<()> {
        let session = self.get_session(tenant, id).await?.session;
        let user = UserId(session.user_id.clone());
        if !self.store.revoke_session(tenant, &user, &session.id, now_millis()).await? {
            return Err(Error::NotFound(Entity::Session));
        }
        self.audit_session_end(ctx, tenant, &session.id, &user.0, "admin").await
    }

    /// Ends every session of a user (Management API, CLI); returns how many ended.
    pub async fn revoke_user_sessions(&self, ctx: &Context, tenant: &TenantId, user: &str) -> Result<usize> {
        let user = UserId(user.into());
        if self.store.find_user(tenant, &user).await?.is_none() {
            return Err(Error::NotFound(Entity::User));
        }
        self.end_user_sessions(ctx, tenant, &user, None).await
    }

    async fn end_user_sessions(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        user: &UserId,
        keep: Option<&str>,
    ) -> Result<usize> {
        let ended = self.store.revoke_user_sessions(tenant, user, keep, now_millis()).await?;
        if !ended.is_empty() {
            self.store
                .insert_audit_event(
                    tenant,
                    &AuditEvent::success(ctx, "session.end_all", "user", &user.0, json!({"sessions": ended})),
                )
                .await?;
        }
        Ok(ended.len())
    }

    async fn audit_session_end(&self, ctx: &Context, tenant: &TenantId, sid: &str, user: &str, by: &str) -> Result<()> {
        self.store
            .insert_audit_event(
                tenant,
                &AuditEvent::success(ctx, "session.revoke", "session", sid, json!({"user": user, "by": by})),
            )
            .await?;
        Ok(())
    }
}
