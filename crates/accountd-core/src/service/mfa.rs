//! A user's MFA items as Logto's Account API manages them, over the same authentication methods
//! `/me/v1/authentication-methods` lists (no second store): one-step TOTP and backup-code sets
//! (`Credential::enroll_direct`), WebAuthn credentials from a registration record, their names,
//! and the user's own MFA settings. Each operation re-checks proof of identity and the tenant's
//! factors itself, whatever the adapter checked first.

use serde_json::json;
use zeroize::Zeroizing;

use super::{AccountCaller, Core};
use crate::audit::AuditEvent;
use crate::authn::credential::{self, DirectEnrollment, new_method};
use crate::authn::method::{AuthenticationMethod, MethodType, new_method_id};
use crate::authn::policy::MfaFactor;
use crate::authn::recovery_code::{BackupCode, BackupCodeSet};
use crate::error::{Entity, Error, Refusal, Result};
use crate::store::Queries;
use crate::tenant::TenantId;
use crate::user::{MfaSettings, MfaSettingsPatch, UserId};

/// One MFA item of the user: a method, and for a backup-code set how many codes are left.
#[derive(Debug, Clone)]
pub struct MfaItem {
    /// The method.
    pub method: AuthenticationMethod,
    /// Unused codes of a backup-code set (an Auth0 recovery code counts as one).
    pub remaining_codes: Option<usize>,
}

/// Tries a compare-and-swap of the MFA settings makes before giving up (each retry means another
/// writer changed them in between).
const SETTINGS_SWAP_TRIES: usize = 8;

/// Merges `patch` into the stored MFA settings of `user` through `store` (the store or an open
/// transaction), retrying when a concurrent change got in first.
async fn merge_mfa_settings(
    store: &dyn Queries,
    tenant: &TenantId,
    user: &UserId,
    patch: &MfaSettingsPatch,
) -> Result<MfaSettings> {
    for _ in 0..SETTINGS_SWAP_TRIES {
        let stored = store.load_mfa_settings(tenant, user).await?.ok_or(Error::NotFound(Entity::User))?;
        let next = MfaSettings::from_stored(&stored).merged(patch);
        let text = serde_json::to_string(&next).map_err(anyhow::Error::from)?;
        if store.swap_mfa_settings(tenant, user, &stored, &text).await? {
            return Ok(next);
        }
    }
    Err(Error::Unavailable)
}

/// `mfa.enabled = true`, as adding a factor sets it.
fn enabled() -> MfaSettingsPatch {
    MfaSettingsPatch { enabled: Some(true), ..Default::default() }
}

impl Core {
    /// Refuses unless the tenant offers `factor` ([`Refusal::MfaFactorNotEnabled`]).
    pub async fn require_mfa_factor(&self, tenant: &TenantId, factor: MfaFactor) -> Result<()> {
        if self.account_policy(tenant).await?.offers(factor) {
            Ok(())
        } else {
            Err(Error::Refused(Refusal::MfaFactorNotEnabled))
        }
    }

    /// The caller's MFA settings.
    pub async fn mfa_settings(&self, caller: &AccountCaller) -> Result<MfaSettings> {
        let stored = self.store.load_mfa_settings(&caller.tenant, &caller.user).await?;
        stored.map(|s| MfaSettings::from_stored(&s)).ok_or_else(|| Error::Unauthenticated("no such user".into()))
    }

    /// Changes the given keys of the caller's MFA settings (with proof of identity).
    pub async fn update_mfa_settings(&self, caller: &AccountCaller, patch: MfaSettingsPatch) -> Result<MfaSettings> {
        self.require_identity_proof(caller).await?;
        let next = merge_mfa_settings(self.store.as_ref(), &caller.tenant, &caller.user, &patch).await?;
        self.store
            .insert_audit_event(
                &caller.tenant,
                &AuditEvent::success(&caller.ctx, "account.mfa_settings.update", "user", &caller.user.0, json!({})),
            )
            .await?;
        Ok(next)
    }

    /// The caller's MFA items: TOTP apps, WebAuthn credentials and backup codes, oldest first.
    pub async fn list_mfa_items(&self, caller: &AccountCaller) -> Result<Vec<MfaItem>> {
        let methods = self.store.list_methods_for_display(&caller.tenant, &caller.user).await?;
        let codes = if methods.iter().any(|m| m.method_type == MethodType::RecoveryCode) {
            self.store.load_methods_with_secrets(&caller.tenant, &caller.user, MethodType::RecoveryCode).await?
        } else {
            vec![]
        };
        let mut items = Vec::new();
        for m in methods.into_iter().filter(|m| MfaFactor::of(m.method_type).is_some()) {
            let remaining_codes = match codes.iter().find(|(c, _)| c.id == m.id) {
                Some((_, secret)) => Some(BackupCodeSet::open(&self.master_key, secret)?.map_or(1, |s| s.remaining())),
                None if m.method_type == MethodType::RecoveryCode => Some(0),
                None => None,
            };
            items.push(MfaItem { method: m, remaining_codes });
        }
        Ok(items)
    }

    /// Adds a TOTP app from a client-supplied secret (and, if sent, a code from it). Refused when
    /// the user already has one.
    pub async fn add_totp(
        &self,
        caller: &AccountCaller,
        secret: Zeroizing<String>,
        code: Option<String>,
    ) -> Result<()> {
        self.enroll_totp_directly(caller, secret, code, false).await
    }

    /// Adds a TOTP app from a client-supplied secret and a code from it, replacing the user's
    /// current one (if any).
    pub async fn replace_totp(&self, caller: &AccountCaller, secret: Zeroizing<String>, code: String) -> Result<()> {
        self.enroll_totp_directly(caller, secret, Some(code), true).await
    }

    async fn enroll_totp_directly(
        &self,
        caller: &AccountCaller,
        secret: Zeroizing<String>,
        code: Option<String>,
        replace: bool,
    ) -> Result<()> {
        self.require_identity_proof(caller).await?;
        self.require_mfa_factor(&caller.tenant, MfaFactor::Totp).await?;
        let user = self.caller_user(caller).await?;
        let methods = self.store.list_methods(&caller.tenant, &user.id).await?;
        if !replace && methods.iter().any(|m| m.method_type == MethodType::Totp) {
            return Err(Error::Refused(Refusal::TotpAlreadyInUse));
        }
        let module = credential::for_type(MethodType::Totp).ok_or_else(|| anyhow::anyhow!("no TOTP module"))?;
        let cx = self.enroll_context(caller, &user, &methods);
        let id = new_method_id(MethodType::Totp);
        let new = module.enroll_direct(&cx, DirectEnrollment::Totp { secret, code }, &id).await?;
        let tx = self.store.begin().await?;
        // The settings write comes first: it locks the user's row (PostgreSQL; SQLite's write
        // lock is taken at BEGIN), so parallel enrollments run one after the other and the check
        // below sees what the one before committed.
        merge_mfa_settings(tx.as_ref(), &caller.tenant, &user.id, &enabled()).await?;
        if !replace
            && tx.list_methods(&caller.tenant, &user.id).await?.iter().any(|m| m.method_type == MethodType::Totp)
        {
            return Err(Error::Refused(Refusal::TotpAlreadyInUse));
        }
        if replace {
            tx.delete_methods_of_type(&caller.tenant, &user.id, MethodType::Totp).await?;
        }
        tx.insert_method(&caller.tenant, &new).await?;
        tx.insert_audit_event(
            &caller.tenant,
            &AuditEvent::success(
                &caller.ctx,
                if replace { "account.mfa.totp_replace" } else { "account.mfa.totp_add" },
                "authentication_method",
                &id,
                json!({ "type": "totp", "user_id": user.id.0 }),
            ),
        )
        .await?;
        tx.commit().await.map_err(Into::into)
    }

    /// Adds a backup-code set from client-supplied codes, in Logto's order: refused while the user
    /// has unused codes, when nothing but backup codes would protect the account, and unless
    /// there are exactly 10 codes of 10 hex characters.
    pub async fn add_backup_codes(&self, caller: &AccountCaller, codes: Vec<Zeroizing<String>>) -> Result<()> {
        self.require_identity_proof(caller).await?;
        self.require_mfa_factor(&caller.tenant, MfaFactor::BackupCode).await?;
        let user = self.caller_user(caller).await?;
        let methods = self.store.list_methods(&caller.tenant, &user.id).await?;
        for (_, secret) in
            self.store.load_methods_with_secrets(&caller.tenant, &user.id, MethodType::RecoveryCode).await?
        {
            let unused = BackupCodeSet::open(&self.master_key, &secret)?.is_none_or(|s| s.remaining() > 0);
            if unused {
                return Err(Error::Refused(Refusal::BackupCodeAlreadyInUse));
            }
        }
        if !methods.iter().any(|m| credential::counts_as(m.method_type).standalone_second_factor()) {
            return Err(Error::Refused(Refusal::BackupCodeCanNotBeAlone));
        }
        let module =
            credential::for_type(MethodType::RecoveryCode).ok_or_else(|| anyhow::anyhow!("no backup-code module"))?;
        let cx = self.enroll_context(caller, &user, &methods);
        let id = new_method_id(MethodType::RecoveryCode);
        let new = module.enroll_direct(&cx, DirectEnrollment::BackupCodes(codes), &id).await?;
        let tx = self.store.begin().await?;
        // Locks the user's row first (see `enroll_totp_directly`), then checks again what a
        // parallel addition may have committed meanwhile.
        merge_mfa_settings(tx.as_ref(), &caller.tenant, &user.id, &enabled()).await?;
        for (_, secret) in tx.load_methods_with_secrets(&caller.tenant, &user.id, MethodType::RecoveryCode).await? {
            if BackupCodeSet::open(&self.master_key, &secret)?.is_none_or(|s| s.remaining() > 0) {
                return Err(Error::Refused(Refusal::BackupCodeAlreadyInUse));
            }
        }
        // Only used-up sets are left at this point: the new set replaces them.
        tx.delete_methods_of_type(&caller.tenant, &user.id, MethodType::RecoveryCode).await?;
        tx.insert_method(&caller.tenant, &new).await?;
        tx.insert_audit_event(
            &caller.tenant,
            &AuditEvent::success(
                &caller.ctx,
                "account.mfa.backup_codes_add",
                "authentication_method",
                &id,
                json!({ "type": "recovery-code", "user_id": user.id.0 }),
            ),
        )
        .await?;
        tx.commit().await.map_err(Into::into)
    }

    /// The caller's backup codes with their use (with proof of identity), or
    /// `NotFound(AuthenticationMethod)` when the user has no set that can be shown (none, or only
    /// an Auth0 recovery code, which is kept as a hash).
    pub async fn backup_codes(&self, caller: &AccountCaller) -> Result<Vec<BackupCode>> {
        self.require_identity_proof(caller).await?;
        for (_, secret) in
            self.store.load_methods_with_secrets(&caller.tenant, &caller.user, MethodType::RecoveryCode).await?
        {
            if let Some(set) = BackupCodeSet::open(&self.master_key, &secret)? {
                return Ok(set.codes);
            }
        }
        Err(Error::NotFound(Entity::AuthenticationMethod))
    }

    /// Renames one of the caller's WebAuthn credentials; `NotFound(AuthenticationMethod)` for any
    /// other id (Logto renames WebAuthn items only).
    pub async fn rename_webauthn_credential(&self, caller: &AccountCaller, id: &str, name: String) -> Result<()> {
        self.require_identity_proof(caller).await?;
        let m = self.get_authentication_method(&caller.tenant, &caller.user, id).await?;
        if MfaFactor::of(m.method_type) != Some(MfaFactor::WebAuthn) {
            return Err(Error::NotFound(Entity::AuthenticationMethod));
        }
        self.update_authentication_method(caller, id, Some(name), None).await.map(|_| ())
    }

    /// Stores the passkey a verified registration record of the caller holds as a method (it then
    /// signs in on the hosted page and through the passkey grant), named `name`.
    pub async fn add_webauthn_credential(
        &self,
        caller: &AccountCaller,
        record_id: &str,
        name: Option<String>,
    ) -> Result<AuthenticationMethod> {
        self.require_identity_proof(caller).await?;
        self.require_mfa_factor(&caller.tenant, MfaFactor::WebAuthn).await?;
        if name.as_ref().is_some_and(|n| n.chars().count() > 255) {
            return Err(Error::invalid("name", "must be at most 255 characters"));
        }
        let registered = self.registered_passkey(caller, record_id).await?;
        let user = self.caller_user(caller).await?;
        let methods = self.store.list_methods(&caller.tenant, &user.id).await?;
        // A record is reusable (Logto): the same credential is stored once.
        if methods.iter().any(|m| m.details.key_id.is_some() && m.details.key_id == registered.details.key_id) {
            return Err(Error::NotFound(Entity::VerificationRecord));
        }
        let cx = self.enroll_context(caller, &user, &methods);
        let id = new_method_id(MethodType::Passkey);
        let mut new = new_method(&cx, MethodType::Passkey, &id, registered.secret);
        new.lookup_key = registered.details.user_handle.clone();
        new.method.details = registered.details;
        new.method.name = name;
        let policy = self.account_policy(&caller.tenant).await?;
        let tx = self.store.begin().await?;
        tx.insert_method(&caller.tenant, &new).await?;
        // Logto turns MFA on only when WebAuthn is an MFA factor, not for passkey sign-in alone.
        if policy.webauthn_is_mfa_factor() {
            merge_mfa_settings(tx.as_ref(), &caller.tenant, &user.id, &enabled()).await?;
        }
        tx.insert_audit_event(
            &caller.tenant,
            &AuditEvent::success(
                &caller.ctx,
                "account.mfa.webauthn_add",
                "authentication_method",
                &id,
                json!({ "type": "passkey", "user_id": user.id.0 }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(new.method)
    }
}
