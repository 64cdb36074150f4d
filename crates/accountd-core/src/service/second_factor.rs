//! Signing in with more than a password: which second factor a sign-in needs (the tenant's MFA
//! policy, or the client asking for `acr_values` = multi-factor), the challenge for the method
//! the user picks (a code sent by email or SMS, a WebAuthn request, a push to the device), and
//! the check of the answer. Passkey sign-in (discoverable credentials) lives here too.

use serde_json::{Value, json};

use super::Core;
use crate::audit::{AuditEvent, Context};
use crate::authn::credential::RelyingParty;
use crate::authn::method::{AuthenticationMethod, MethodType};
use crate::authn::pending::{MAX_ATTEMPTS, PendingPurpose, PendingStatus, PendingVerification};
use crate::authn::policy::MfaPolicy;
use crate::authn::recovery_code::BackupCodeSet;
use crate::authn::{otp, recovery_code, totp, webauthn};
use crate::clock::now_millis;
use crate::error::{Error, Result};
use crate::message::{Channel, Purpose};
use crate::secret::{hash_high_entropy_secret, random_token};
use crate::tenant::TenantId;
use crate::user::{MfaSettings, User, UserId};

/// What the user is asked after choosing a second factor.
#[derive(Debug, Clone, PartialEq)]
pub enum SecondFactorPrompt {
    /// Type the code from the app, or a recovery code.
    EnterCode,
    /// A code was sent to this (masked) address.
    CodeSent {
        /// Where it went, masked (`a***@example.com`).
        to: String,
    },
    /// Use the security key: `navigator.credentials.get({publicKey: options})`.
    WebAuthn {
        /// PublicKeyCredentialRequestOptions (JSON).
        options: Value,
    },
    /// Approve on the device; both screens show `binding_message`.
    Push {
        /// A short text to compare.
        binding_message: String,
    },
}

/// A second-factor challenge in progress.
#[derive(Debug, Clone)]
pub struct SecondFactorChallenge {
    /// The method chosen.
    pub method_id: String,
    /// Its type.
    pub method_type: MethodType,
    /// The token naming the pending verification (none for TOTP and recovery codes).
    pub token: Option<String>,
    /// What to show.
    pub prompt: SecondFactorPrompt,
}

/// The user's answer to a second-factor challenge.
#[derive(Debug, Clone)]
pub enum SecondFactorAnswer {
    /// A typed code (TOTP, email, SMS, recovery code).
    Code(String),
    /// A WebAuthn assertion (JSON).
    Assertion(Value),
    /// "I approved on my device" (push).
    Approved,
}

fn mask(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => {
            let digits: Vec<char> = address.chars().collect();
            let tail: String = digits[digits.len().saturating_sub(2)..].iter().collect();
            format!("***{tail}")
        }
    }
}

fn sign_in_key(user: &UserId) -> String {
    format!("second-factor:{}", user.0)
}

impl Core {
    /// The second factors a sign-in of `user` must choose from, or `None` when a password is
    /// enough. With the policy `always`, an empty list means the user cannot finish signing in.
    pub async fn second_factor_needed(
        &self,
        tenant: &TenantId,
        user: &User,
        requested: bool,
    ) -> Result<Option<Vec<AuthenticationMethod>>> {
        let policy = self.account_policy(tenant).await?;
        let mut methods: Vec<AuthenticationMethod> = self
            .store
            .list_methods(tenant, &user.id)
            .await?
            .into_iter()
            .filter(|m| !m.method_type.is_primary())
            .collect();
        // A backup-code set whose codes are all used answers nothing: it is no factor to offer.
        if methods.iter().any(|m| m.method_type == MethodType::RecoveryCode) {
            let mut spent = Vec::new();
            for (m, secret) in self.store.load_methods_with_secrets(tenant, &user.id, MethodType::RecoveryCode).await? {
                if BackupCodeSet::open(&self.master_key, &secret)?.is_some_and(|s| s.remaining() == 0) {
                    spent.push(m.id);
                }
            }
            methods.retain(|m| !spent.contains(&m.id));
        }
        // The user's own "skip MFA on sign-in" (Logto's mfa-settings) yields to a tenant that
        // requires a second factor, and to a client that asks for one.
        let skip = match self.store.load_mfa_settings(tenant, &user.id).await? {
            Some(s) => MfaSettings::from_stored(&s).skip_mfa_on_sign_in,
            None => false,
        };
        Ok(match policy.mfa {
            MfaPolicy::Always => Some(methods),
            _ if methods.is_empty() => None,
            _ if requested => Some(methods),
            _ if skip => None,
            MfaPolicy::WhenEnrolled => Some(methods),
            MfaPolicy::Never => None,
        })
    }

    /// Starts the challenge of the second factor `method_id` the user picked.
    pub async fn start_second_factor(
        &self,
        tenant: &TenantId,
        user: &User,
        method_id: &str,
        rp: &RelyingParty,
    ) -> Result<SecondFactorChallenge> {
        let methods = self.store.list_methods(tenant, &user.id).await?;
        let m = methods
            .iter()
            .find(|m| m.id == method_id && !m.method_type.is_primary())
            .ok_or(Error::NotFound(crate::error::Entity::AuthenticationMethod))?;
        let t = m.method_type;
        let (token, prompt) = match t {
            MethodType::Totp | MethodType::RecoveryCode => (None, SecondFactorPrompt::EnterCode),
            MethodType::Email | MethodType::Phone => {
                let (channel, to) = match t {
                    MethodType::Email => (Channel::Email, m.details.email.clone().unwrap_or_default()),
                    _ => (Channel::Sms, m.details.phone_number.clone().unwrap_or_default()),
                };
                self.count_code_send(tenant, channel, &to).await?;
                let code = otp::generate_code();
                let salt = random_token::<16>();
                let voice =
                    m.details.preferred_authentication_method == Some(crate::authn::method::PhoneDelivery::Voice);
                let msg = otp::message(channel, &to, &code, Purpose::MfaVerification, voice);
                self.messages.send(tenant, &msg).await.map_err(|e| Error::Delivery(e.to_string()))?;
                let state = json!({ "salt": salt, "hash": otp::hash_code(&code, &salt) });
                let token = self
                    .insert_new_pending(tenant, PendingPurpose::SecondFactor, Some(&user.id), (t, &m.id), &state)
                    .await?;
                (Some(token), SecondFactorPrompt::CodeSent { to: mask(&to) })
            }
            MethodType::WebauthnPlatform | MethodType::WebauthnRoaming => {
                let stored: Vec<(MethodType, String)> = self
                    .store
                    .load_methods_with_secrets(tenant, &user.id, t)
                    .await?
                    .into_iter()
                    .filter(|(mm, _)| mm.id == m.id)
                    .map(|(mm, s)| (mm.method_type, s))
                    .collect();
                let (options, st) = webauthn::start_second_factor(rp, &stored)?;
                let token = self
                    .insert_new_pending(
                        tenant,
                        PendingPurpose::SecondFactor,
                        Some(&user.id),
                        (t, &m.id),
                        &json!({ "ceremony": st }),
                    )
                    .await?;
                (Some(token), SecondFactorPrompt::WebAuthn { options })
            }
            MethodType::PushNotification => {
                let binding_message = crate::secret::random_hex::<2>().to_uppercase();
                let state = json!({ "binding_message": binding_message });
                let token = self
                    .insert_new_pending(tenant, PendingPurpose::SecondFactor, Some(&user.id), (t, &m.id), &state)
                    .await?;
                (Some(token), SecondFactorPrompt::Push { binding_message })
            }
            MethodType::Password | MethodType::Passkey => unreachable!("filtered out above"),
        };
        Ok(SecondFactorChallenge { method_id: m.id.clone(), method_type: t, token, prompt })
    }

    /// Checks the answer to a second-factor challenge; returns the type used (for `amr`). Wrong
    /// answers count towards the user's lockout.
    pub async fn verify_second_factor(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        user: &User,
        challenge: &SecondFactorChallenge,
        answer: SecondFactorAnswer,
        rp: &RelyingParty,
    ) -> Result<MethodType> {
        let key = sign_in_key(&user.id);
        let rule = self.settings.sign_in_per_account;
        let number = self.reserve_attempt(tenant, &key, &rule).await?;
        let locks_at = now_millis() + rule.lockout_millis;
        match self.check_second_factor(tenant, user, challenge, answer, rp).await {
            Ok(used_id) => {
                self.store.clear_failures(tenant, &key).await?;
                self.store
                    .insert_audit_event(
                        tenant,
                        &AuditEvent::success(
                            ctx,
                            "user.second_factor",
                            "authentication_method",
                            &used_id,
                            json!({ "type": challenge.method_type.storage_name(), "user_id": user.id.0 }),
                        ),
                    )
                    .await?;
                Ok(challenge.method_type)
            }
            // The attempt that reached the limit locked the user already; a wrong answer keeps it.
            Err(Error::BadProof(_)) if number >= rule.max_failures => Err(Error::LockedOut { until: locks_at }),
            Err(e) => Err(e),
        }
    }

    async fn pending_for(
        &self,
        tenant: &TenantId,
        user: &UserId,
        challenge: &SecondFactorChallenge,
    ) -> Result<(PendingVerification, Value)> {
        let expired = || Error::BadProof("This challenge has expired; choose the method again.".into());
        let token = challenge.token.as_deref().ok_or_else(expired)?;
        let p = self
            .store
            .find_pending(tenant, &hash_high_entropy_secret(token), now_millis())
            .await?
            .ok_or_else(expired)?;
        if p.purpose != PendingPurpose::SecondFactor
            || p.user_id.as_ref() != Some(user)
            || p.method_id != challenge.method_id
        {
            return Err(expired());
        }
        let state = self.open_pending_state(&p)?;
        Ok((p, state))
    }

    async fn check_second_factor(
        &self,
        tenant: &TenantId,
        user: &User,
        challenge: &SecondFactorChallenge,
        answer: SecondFactorAnswer,
        rp: &RelyingParty,
    ) -> Result<String> {
        let wrong = || Error::BadProof("That code is not right. Try again.".into());
        let now = now_millis();
        match (challenge.method_type, answer) {
            (MethodType::Totp, SecondFactorAnswer::Code(code)) => {
                for (m, secret) in self.store.load_methods_with_secrets(tenant, &user.id, MethodType::Totp).await? {
                    if m.id != challenge.method_id {
                        continue;
                    }
                    if let Some(next) = totp::check_sign_in_code(&self.master_key, &secret, code.trim())?
                        && self.store.swap_method_secret(tenant, &user.id, &m.id, &secret, &next, now).await?
                    {
                        return Ok(m.id);
                    }
                }
                Err(wrong())
            }
            (MethodType::RecoveryCode, SecondFactorAnswer::Code(code)) => {
                if self.use_backup_code(tenant, &user.id, &code, now).await? {
                    return Ok(challenge.method_id.clone());
                }
                let hash = recovery_code::hash(&code);
                for (m, secret) in
                    self.store.load_methods_with_secrets(tenant, &user.id, MethodType::RecoveryCode).await?
                {
                    // Used once: deleting it is the check that nobody used it concurrently.
                    if !BackupCodeSet::is_set(&secret)
                        && crate::secret::constant_time_eq(hash.as_bytes(), secret.as_bytes())
                        && self.store.delete_method(tenant, &user.id, &m.id).await?
                    {
                        return Ok(m.id);
                    }
                }
                Err(wrong())
            }
            (MethodType::Email | MethodType::Phone, SecondFactorAnswer::Code(code)) => {
                let (p, state) = self.pending_for(tenant, &user.id, challenge).await?;
                let attempt = self.reserve_pending_attempt(tenant, &p.id).await?;
                let ok = otp::code_matches(
                    &code,
                    state["salt"].as_str().unwrap_or_default(),
                    state["hash"].as_str().unwrap_or_default(),
                );
                if !ok {
                    if attempt >= MAX_ATTEMPTS {
                        self.store.take_pending(tenant, &p.id).await?;
                    }
                    return Err(wrong());
                }
                if !self.store.take_pending(tenant, &p.id).await? {
                    return Err(wrong());
                }
                self.touch_method(tenant, &user.id, &challenge.method_id, now).await?;
                Ok(challenge.method_id.clone())
            }
            (MethodType::WebauthnPlatform | MethodType::WebauthnRoaming, SecondFactorAnswer::Assertion(a)) => {
                let (p, state) = self.pending_for(tenant, &user.id, challenge).await?;
                if !self.store.take_pending(tenant, &p.id).await? {
                    return Err(wrong());
                }
                let stored = self.store.load_methods_with_secrets(tenant, &user.id, challenge.method_type).await?;
                let stored: Vec<(AuthenticationMethod, String)> =
                    stored.into_iter().filter(|(m, _)| m.id == challenge.method_id).collect();
                let plain: Vec<(MethodType, String)> = stored.iter().map(|(m, s)| (m.method_type, s.clone())).collect();
                let (i, updated) = webauthn::finish_second_factor(rp, &state["ceremony"], &a, &plain)?;
                let (m, old) = &stored[i];
                self.store.swap_method_secret(tenant, &user.id, &m.id, old, &updated, now).await?;
                Ok(m.id.clone())
            }
            (MethodType::PushNotification, SecondFactorAnswer::Approved) => {
                let (p, _) = self.pending_for(tenant, &user.id, challenge).await?;
                match p.status {
                    PendingStatus::Approved if self.store.take_pending(tenant, &p.id).await? => {
                        self.touch_method(tenant, &user.id, &challenge.method_id, now).await?;
                        Ok(challenge.method_id.clone())
                    }
                    PendingStatus::Denied => {
                        self.store.take_pending(tenant, &p.id).await?;
                        Err(Error::BadProof("The sign-in was denied on the device.".into()))
                    }
                    _ => Err(Error::BadProof("Not approved on the device yet.".into())),
                }
            }
            _ => Err(Error::invalid("answer", "does not fit the chosen method")),
        }
    }

    /// Uses an unused code of one of the user's backup-code sets: the set is re-sealed with the
    /// code's `used_at` and swapped in only if the stored set is unchanged, so of two parallel
    /// uses of one code exactly one wins; a swap lost to another code's use is retried on the
    /// fresh set.
    async fn use_backup_code(&self, tenant: &TenantId, user: &UserId, code: &str, now: i64) -> Result<bool> {
        const TRIES: usize = 8;
        for _ in 0..TRIES {
            let mut raced = false;
            for (m, secret) in self.store.load_methods_with_secrets(tenant, user, MethodType::RecoveryCode).await? {
                let Some(mut set) = BackupCodeSet::open(&self.master_key, &secret)? else { continue };
                if !set.use_code(code, now) {
                    continue;
                }
                let next = set.seal(&self.master_key)?;
                if self.store.swap_method_secret(tenant, user, &m.id, &secret, &next, now).await? {
                    return Ok(true);
                }
                raced = true;
            }
            if !raced {
                return Ok(false);
            }
        }
        Ok(false)
    }

    async fn touch_method(&self, tenant: &TenantId, user: &UserId, id: &str, now: i64) -> Result<()> {
        if let Some(mut m) = self.store.find_method(tenant, user, id).await? {
            m.last_used_at = Some(now);
            self.store.update_method(tenant, &m).await?;
        }
        Ok(())
    }

    /// Starts a passkey sign-in (no user named yet): request options and the token naming the ceremony.
    pub async fn start_passkey_sign_in(&self, tenant: &TenantId, rp: &RelyingParty) -> Result<(Value, String)> {
        let (options, st) = webauthn::start_discoverable(rp)?;
        let token = self
            .insert_new_pending(
                tenant,
                PendingPurpose::PasskeySignIn,
                None,
                (MethodType::Passkey, "passkey|new"),
                &json!({ "ceremony": st }),
            )
            .await?;
        Ok((options, token))
    }

    /// Finishes a passkey sign-in: the assertion names the user by its user handle; the passkey's
    /// signature and counter are checked and updated. Returns the user.
    pub async fn finish_passkey_sign_in(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        rp: &RelyingParty,
        token: &str,
        assertion: &Value,
    ) -> Result<User> {
        let refused = || Error::BadProof("The passkey could not be verified. Try again.".into());
        let p = self
            .store
            .find_pending(tenant, &hash_high_entropy_secret(token), now_millis())
            .await?
            .ok_or_else(refused)?;
        if p.purpose != PendingPurpose::PasskeySignIn || !self.store.take_pending(tenant, &p.id).await? {
            return Err(refused());
        }
        let state: Value = self.open_pending_state(&p)?;
        let (cred, handle) = webauthn::asserted_user_handle(assertion)?;
        let stored = self.store.load_methods_by_lookup(tenant, &handle).await?;
        let stored: Vec<(AuthenticationMethod, String)> =
            stored.into_iter().filter(|(m, _)| m.method_type == MethodType::Passkey).collect();
        let secrets: Vec<String> = stored.iter().map(|(_, s)| s.clone()).collect();
        let (i, updated) = webauthn::finish_discoverable(rp, &state["ceremony"], &cred, &secrets)?;
        let (m, old) = &stored[i];
        self.store.swap_method_secret(tenant, &m.user_id, &m.id, old, &updated, now_millis()).await?;
        let user = self.store.find_user(tenant, &m.user_id).await?.filter(|u| !u.blocked).ok_or_else(refused)?;
        self.store
            .insert_audit_event(
                tenant,
                &AuditEvent::success(
                    ctx,
                    "user.passkey_sign_in",
                    "authentication_method",
                    &m.id,
                    json!({ "user_id": user.id.0 }),
                ),
            )
            .await?;
        Ok(user)
    }
}
