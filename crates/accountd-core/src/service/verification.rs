//! Proofs of identity (see `crate::verification`): making verification records (a password, a
//! code sent and typed back, a WebAuthn credential registered), and the checks sensitive
//! operations make with them. Every guess (a password, a code) is reserved before it is checked.

use serde_json::json;
use zeroize::Zeroizing;

use super::{AccountCaller, Core};
use crate::audit::AuditEvent;
use crate::authn::{otp, webauthn};
use crate::clock::now_millis;
use crate::error::{CodeRefusal, Entity, Error, Refusal, Result};
use crate::message::{Channel, Purpose, SendError};
use crate::store::ThrottleRule;
use crate::user::normalize_email;
use crate::verification::{
    CODE_MAX_ATTEMPTS, Proof, ProofNeeded, RECORD_LIFETIME_MILLIS, RecordKind, VerificationRecord,
};

/// How long a sent code can be typed back.
const CODE_LIFETIME_MILLIS: i64 = 10 * 60 * 1000;

/// Codes sent to one recipient through the Verification API: at most 10 per 10 minutes (Logto's
/// message rate limit).
const SENDS_PER_RECIPIENT: ThrottleRule =
    ThrottleRule { max_failures: 10, window_millis: 10 * 60 * 1000, lockout_millis: 10 * 60 * 1000 };

/// An address a code is sent to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// An email address (any spelling).
    Email(String),
    /// A phone number (E.164, or digits only).
    Phone(String),
}

impl Address {
    /// The record kind that proves it, and its stored form; `None` when it is malformed.
    pub fn normalized(&self) -> Option<(RecordKind, String)> {
        match self {
            Address::Email(e) => normalize_email(e).ok().map(|e| (RecordKind::EmailCode, e)),
            Address::Phone(p) => crate::identifier::normalize_phone(p).map(|p| (RecordKind::PhoneCode, p)),
        }
    }
}

/// The sealed state of a code waiting to be typed back.
#[derive(serde::Serialize, serde::Deserialize)]
struct CodeState {
    salt: String,
    hash: String,
    expires_at: i64,
}

fn new_record_id() -> String {
    crate::secret::random_alnum(21)
}

fn seal_context(tenant: &crate::tenant::TenantId, id: &str) -> String {
    format!("verification_record:{}:{id}", tenant.as_str())
}

impl Core {
    /// Refuses a request from a third-party application (Logto's first-party rule): only the
    /// tenant's own apps may change an account. A caller whose client is unknown is refused
    /// (fail closed); one with no client (a token exchange) passes.
    pub async fn require_first_party(&self, caller: &AccountCaller) -> Result<()> {
        let Some(client) = &caller.client_id else { return Ok(()) };
        match self.store.find_application(&caller.tenant, client).await? {
            Some(app) if app.is_first_party => Ok(()),
            _ => Err(Error::Refused(Refusal::ThirdPartyApplication)),
        }
    }

    /// Refuses unless the caller's proof shows they are the user: a live, verified record of
    /// theirs (a password, or a code to their own address to confirm it is them), or a sign-in
    /// that meets the step-up policy.
    pub async fn require_identity_proof(&self, caller: &AccountCaller) -> Result<()> {
        match &caller.proof {
            Proof::Record(id) => self.check_record_proof(caller, id.as_deref()).await,
            Proof::Token(_) => {
                let methods = self.store.list_methods(&caller.tenant, &caller.user).await?;
                self.require_step_up(caller, &methods).await
            }
        }
    }

    /// Whether record `id` proves the caller is the user (Logto's `identityVerified`).
    pub(crate) async fn check_record_proof(&self, caller: &AccountCaller, id: Option<&str>) -> Result<()> {
        let now = now_millis();
        let record = match id {
            Some(id) => self.store.find_verification_record(&caller.tenant, id, now).await?,
            None => None,
        };
        match record {
            Some(r) if r.proves_identity_of(&caller.user, now) => Ok(()),
            _ => Err(Error::ProofRequired(ProofNeeded::VerificationRecord)),
        }
    }

    /// Whether the user has a way to prove who they are besides their token (Logto's "security
    /// verification method"): a password, an email address or a phone number.
    pub async fn has_security_verification_method(&self, caller: &AccountCaller) -> Result<bool> {
        let user = self.caller_user(caller).await?;
        if user.has_security_verification_method(false) {
            return Ok(true);
        }
        Ok(self.store.load_password_hash(&caller.tenant, &user.id).await?.is_some())
    }

    /// A live record that proves the caller holds `address` (`newIdentifierVerificationRecordId`),
    /// or `NotFound(VerificationRecord)`.
    pub async fn require_address_proof(&self, caller: &AccountCaller, record: &str, address: &Address) -> Result<()> {
        let not_found = Error::NotFound(Entity::VerificationRecord);
        let (kind, value) = address.normalized().ok_or(Error::NotFound(Entity::VerificationRecord))?;
        let now = now_millis();
        match self.store.find_verification_record(&caller.tenant, record, now).await? {
            Some(r) if r.proves_address(kind, &value, now) => Ok(()),
            _ => Err(not_found),
        }
    }

    /// Checks the caller's password and records the proof. Wrong guesses count against the user's
    /// lockout (the sign-in rule, per user), reserved before the hash runs.
    pub async fn verify_password(
        &self,
        caller: &AccountCaller,
        password: Zeroizing<String>,
    ) -> Result<VerificationRecord> {
        let permit = self.settings.password_hashing.admit()?;
        let user = self.caller_user(caller).await?;
        let key = format!("verify-password:{}", user.id.0);
        let rule = self.settings.sign_in_per_account;
        let number = self.reserve_attempt(&caller.tenant, &key, &rule).await?;
        let ok = match self.store.load_password_hash(&caller.tenant, &user.id).await? {
            Some(phc) => self.settings.password_hashing.verify_with(permit, password, phc).await?,
            None => {
                let _ = self.settings.password_hashing.hash_with(permit, password).await?;
                false
            }
        };
        if !ok {
            let mut e =
                AuditEvent::success(&caller.ctx, "account.verification.password", "user", &user.id.0, json!({}));
            e.result = "failure".into();
            self.store.insert_audit_event(&caller.tenant, &e).await?;
            if number >= rule.max_failures {
                return Err(Error::LockedOut { until: now_millis() + rule.lockout_millis });
            }
            return Err(Error::Refused(Refusal::WrongPassword));
        }
        self.store.clear_failures(&caller.tenant, &key).await?;
        let now = now_millis();
        let record = VerificationRecord {
            id: new_record_id(),
            user_id: Some(user.id.clone()),
            kind: RecordKind::Password,
            identifier: None,
            purpose: None,
            verified: true,
            code_state: None,
            attempts: 0,
            created_at: now,
            expires_at: now + RECORD_LIFETIME_MILLIS,
        };
        let tx = self.store.begin().await?;
        tx.insert_verification_record(&caller.tenant, &record).await?;
        tx.insert_audit_event(
            &caller.tenant,
            &AuditEvent::success(&caller.ctx, "account.verification.password", "user", &user.id.0, json!({})),
        )
        .await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Sends a code to `address` and records it, unverified. To the user's own address the
    /// record proves the user (`purpose`, default `UserPermissionValidation`); to any other it is
    /// `BindNewIdentifier`, belongs to nobody, and a new email must pass the tenant's email
    /// lists. At most 10 sends per recipient per 10 minutes; a failed send leaves no record.
    pub async fn send_verification_code(
        &self,
        caller: &AccountCaller,
        address: &Address,
        purpose: Option<Purpose>,
        application: Option<serde_json::Value>,
    ) -> Result<VerificationRecord> {
        let user = self.caller_user(caller).await?;
        let (kind, to) = address.normalized().ok_or_else(|| match address {
            Address::Email(_) => Error::invalid("identifier.value", "must be an email address"),
            Address::Phone(_) => Error::invalid("identifier.value", "must be a phone number"),
        })?;
        let current = match kind {
            RecordKind::EmailCode => user.email.as_deref(),
            _ => user.phone_number.as_deref(),
        };
        let own = current == Some(to.as_str());
        let purpose =
            if own { purpose.unwrap_or(Purpose::UserPermissionValidation) } else { Purpose::BindNewIdentifier };
        if !own && kind == RecordKind::EmailCode && !self.account_policy(&caller.tenant).await?.email_policy.allows(&to)
        {
            return Err(Error::Refused(Refusal::EmailNotAllowed));
        }
        let channel = if kind == RecordKind::EmailCode { Channel::Email } else { Channel::Sms };
        let send_key = format!("account-code-send:{}:{to}", channel.as_str());
        if let Err(e) = self.reserve_attempt(&caller.tenant, &send_key, &SENDS_PER_RECIPIENT).await {
            return Err(match e {
                Error::LockedOut { until } => Error::Refused(Refusal::MessageRateLimited { until }),
                other => other,
            });
        }
        let code = otp::generate_code();
        let salt = crate::secret::random_token::<16>();
        let now = now_millis();
        let mut msg = otp::message(channel, &to, &code, purpose, false);
        if channel == Channel::Email {
            msg.payload.insert(
                "user".into(),
                json!({ "id": user.id.0, "name": user.name, "avatar": user.picture, "username": user.username,
                        "primaryEmail": user.email, "primaryPhone": user.phone_number }),
            );
            if let Some(app) = application {
                msg.payload.insert("application".into(), app);
            }
        }
        self.messages.send(&caller.tenant, &msg).await.map_err(|e| match e {
            SendError::NotConfigured(_) => Error::Refused(Refusal::NoConnector),
            other => {
                tracing::warn!(error = %other, channel = channel.as_str(), "could not send a verification code");
                Error::Delivery(other.to_string())
            }
        })?;
        let id = new_record_id();
        let state = CodeState { hash: otp::hash_code(&code, &salt), salt, expires_at: now + CODE_LIFETIME_MILLIS };
        let sealed = self
            .master_key
            .seal(&seal_context(&caller.tenant, &id), &serde_json::to_vec(&state).map_err(anyhow::Error::from)?)?;
        let record = VerificationRecord {
            id,
            user_id: own.then(|| user.id.clone()),
            kind,
            identifier: Some(to),
            purpose: Some(purpose),
            verified: false,
            code_state: Some(sealed),
            attempts: 0,
            created_at: now,
            expires_at: now + RECORD_LIFETIME_MILLIS,
        };
        let tx = self.store.begin().await?;
        tx.insert_verification_record(&caller.tenant, &record).await?;
        tx.insert_audit_event(
            &caller.tenant,
            &AuditEvent::success(
                &caller.ctx,
                "account.verification.code_sent",
                "user",
                &user.id.0,
                json!({ "channel": channel.as_str(), "purpose": purpose.as_str() }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Checks a code typed back for record `id` sent to `address`, and marks the record verified.
    /// Each try is reserved first; the tenth wrong one spends the record's code.
    pub async fn verify_code(&self, caller: &AccountCaller, id: &str, address: &Address, code: &str) -> Result<()> {
        let now = now_millis();
        let (kind, value) = address.normalized().ok_or(Error::Refused(Refusal::Code(CodeRefusal::WrongAddress)))?;
        let record = match self.store.find_verification_record(&caller.tenant, id, now).await? {
            Some(r) if r.kind == kind => r,
            _ => return Err(Error::NotFound(Entity::VerificationRecord)),
        };
        let refuse = |r: CodeRefusal| Error::Refused(Refusal::Code(r));
        let Some(sealed) = &record.code_state else { return Err(refuse(CodeRefusal::NotFound)) };
        if record.identifier.as_deref() != Some(value.as_str()) {
            return Err(refuse(CodeRefusal::WrongAddress));
        }
        let state: CodeState =
            serde_json::from_slice(&self.master_key.open(&seal_context(&caller.tenant, id), sealed)?)
                .map_err(anyhow::Error::from)?;
        if state.expires_at <= now {
            return Err(refuse(CodeRefusal::Expired));
        }
        if self.store.reserve_code_attempt(&caller.tenant, id, CODE_MAX_ATTEMPTS, now).await?.is_none() {
            return Err(refuse(CodeRefusal::TooManyTries));
        }
        if !otp::code_matches(code, &state.salt, &state.hash) {
            return Err(refuse(CodeRefusal::Mismatch));
        }
        if !self.store.mark_record_verified(&caller.tenant, id, now).await? {
            return Err(refuse(CodeRefusal::NotFound));
        }
        self.store
            .insert_audit_event(
                &caller.tenant,
                &AuditEvent::success(
                    &caller.ctx,
                    "account.verification.code_verified",
                    "user",
                    &caller.user.0,
                    json!({ "kind": kind.as_str() }),
                ),
            )
            .await?;
        Ok(())
    }

    /// Starts registering a passkey through a verification record (Logto's
    /// `POST /api/verifications/web-authn/registration`): the creation options, and a record of
    /// the caller holding the sealed ceremony until it is answered.
    pub async fn start_webauthn_registration(
        &self,
        caller: &AccountCaller,
    ) -> Result<(VerificationRecord, serde_json::Value)> {
        let user = self.caller_user(caller).await?;
        let methods = self.store.list_methods(&caller.tenant, &user.id).await?;
        let existing: Vec<String> = methods.iter().filter_map(|m| m.details.key_id.clone()).collect();
        let (options, ceremony) = webauthn::start_verification_registration(&caller.rp, &user, &existing)?;
        let now = now_millis();
        let id = new_record_id();
        let plain = serde_json::to_vec(&json!({ "ceremony": ceremony })).map_err(anyhow::Error::from)?;
        let record = VerificationRecord {
            code_state: Some(self.master_key.seal(&seal_context(&caller.tenant, &id), &plain)?),
            id,
            user_id: Some(user.id.clone()),
            kind: RecordKind::WebAuthnRegistration,
            identifier: None,
            purpose: None,
            verified: false,
            attempts: 0,
            created_at: now,
            expires_at: now + RECORD_LIFETIME_MILLIS,
        };
        self.store.insert_verification_record(&caller.tenant, &record).await?;
        Ok((record, options))
    }

    /// A live WebAuthn registration record of the caller (stricter than Logto, which does not
    /// check the owner), or `NotFound(VerificationRecord)`.
    async fn own_webauthn_record(&self, caller: &AccountCaller, id: &str) -> Result<VerificationRecord> {
        match self.store.find_verification_record(&caller.tenant, id, now_millis()).await? {
            Some(r) if r.kind == RecordKind::WebAuthnRegistration && r.user_id.as_ref() == Some(&caller.user) => Ok(r),
            _ => Err(Error::NotFound(Entity::VerificationRecord)),
        }
    }

    /// Answers the ceremony of record `id` with the browser's attestation, checked against the
    /// request's origin and the tenant's WebAuthn related origins; the record then holds the
    /// passkey (sealed) and is verified. A ceremony is answered once.
    pub async fn verify_webauthn_registration(
        &self,
        caller: &AccountCaller,
        id: &str,
        response: serde_json::Value,
    ) -> Result<()> {
        let record = self.own_webauthn_record(caller, id).await?;
        let pending = || Error::Refused(Refusal::PendingInfoNotFound);
        let sealed = match (&record.code_state, record.verified) {
            (Some(s), false) => s.clone(),
            _ => return Err(pending()),
        };
        let context = seal_context(&caller.tenant, id);
        let state: serde_json::Value =
            serde_json::from_slice(&self.master_key.open(&context, &sealed)?).map_err(anyhow::Error::from)?;
        let Some(ceremony) = state.get("ceremony") else { return Err(pending()) };
        let center = self.account_center(&caller.tenant).await?;
        let registered = webauthn::finish_verification_registration(
            &caller.rp,
            &center.webauthn_related_origins,
            &caller.user,
            ceremony,
            response,
            caller.ctx.user_agent.as_deref(),
        )?;
        let plain = zeroize::Zeroizing::new(
            serde_json::to_vec(&json!({ "registered": registered })).map_err(anyhow::Error::from)?,
        );
        let done = self.master_key.seal(&context, &plain)?;
        if !self.store.complete_record(&caller.tenant, id, &sealed, &done, now_millis()).await? {
            return Err(pending());
        }
        self.store
            .insert_audit_event(
                &caller.tenant,
                &AuditEvent::success(
                    &caller.ctx,
                    "account.verification.webauthn_registered",
                    "user",
                    &caller.user.0,
                    json!({}),
                ),
            )
            .await?;
        Ok(())
    }

    /// The passkey a verified WebAuthn registration record of the caller holds, or
    /// `NotFound(VerificationRecord)` (missing, expired, someone else's, not verified yet).
    pub(crate) async fn registered_passkey(
        &self,
        caller: &AccountCaller,
        id: &str,
    ) -> Result<webauthn::RegisteredPasskey> {
        let record = self.own_webauthn_record(caller, id).await?;
        let not_found = || Error::NotFound(Entity::VerificationRecord);
        let (true, Some(sealed)) = (record.verified, &record.code_state) else { return Err(not_found()) };
        let state: serde_json::Value =
            serde_json::from_slice(&self.master_key.open(&seal_context(&caller.tenant, id), sealed)?)
                .map_err(anyhow::Error::from)?;
        serde_json::from_value(state.get("registered").cloned().ok_or_else(not_found)?).map_err(|_| not_found())
    }
}
