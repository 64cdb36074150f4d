//! The end user's own account: authentication methods (list, enroll → verify, rename, remove) and
//! the tenant's account policy. Both account dialects call these; each maps the errors to its own
//! wire format. Sensitive operations check the caller's sign-in against the step-up policy here, so
//! no adapter can forget it.

use std::sync::Arc;

use serde_json::json;
use zeroize::Zeroizing;

use super::Core;
use crate::audit::{AuditEvent, Context};
use crate::authn::credential::{self, EnrollChallenge, EnrollContext, EnrollProof, EnrollRequest};
use crate::authn::method::{AuthenticationMethod, MethodType, new_method_id, password_method_id};
use crate::authn::password_policy::ProfileData;
use crate::authn::pending::{MAX_ATTEMPTS, PendingPurpose, PendingVerification};
use crate::authn::policy::{AccountPolicy, MfaPolicy};
use crate::caller::AccountCaller;
use crate::clock::now_millis;
use crate::error::{ConflictKind, Entity, Error, Result};
use crate::secret::hash_high_entropy_secret;
use crate::store::ThrottleRule;
use crate::tenant::TenantId;
use crate::user::{User, UserId};
use crate::verification::{Proof, ProofNeeded};

/// Codes sent to one recipient: at most 5 per 15 minutes.
const SENDS_PER_RECIPIENT: ThrottleRule =
    ThrottleRule { max_failures: 5, window_millis: 15 * 60 * 1000, lockout_millis: 15 * 60 * 1000 };

/// An enrollment started: what the client needs to finish it.
#[derive(Debug, Clone)]
pub struct EnrollmentStarted {
    /// The id the method will have (`passkey|new` and `password|new` until verified, as Auth0).
    pub method_id: String,
    /// The type enrolled.
    pub method_type: MethodType,
    /// The opaque, single-use token that finishes it.
    pub auth_session: String,
    /// What the client is shown.
    pub challenge: EnrollChallenge,
}

/// What a verified enrollment writes.
enum Enrolled {
    /// A new method row.
    Method(Box<crate::authn::method::NewMethod>),
    /// A new password hash (PHC) for the user's one password method.
    Password(String),
}

/// The id shown while a type's real id is not known yet.
fn placeholder_id(t: MethodType) -> Option<String> {
    matches!(t, MethodType::Passkey | MethodType::Password).then(|| format!("{}|new", t.storage_name()))
}

fn now_secs() -> i64 {
    now_millis() / 1000
}

impl Core {
    /// The tenant's account policy (cached for a couple of seconds).
    pub async fn account_policy(&self, tenant: &TenantId) -> Result<Arc<AccountPolicy>> {
        if let Some(p) = self.policies.get(tenant) {
            return Ok(p);
        }
        let p = Arc::new(AccountPolicy::from_stored(&self.store.load_account_policy(tenant).await?));
        self.policies.put(tenant, p.clone());
        Ok(p)
    }

    /// Replaces the tenant's account policy.
    pub async fn set_account_policy(&self, ctx: &Context, tenant: &TenantId, policy: AccountPolicy) -> Result<()> {
        policy.validate()?;
        let json = serde_json::to_string(&policy).map_err(anyhow::Error::from)?;
        let tx = self.store.begin().await?;
        tx.save_account_policy(tenant, &json).await?;
        tx.insert_audit_event(
            tenant,
            &AuditEvent::success(ctx, "tenant.account_policy.update", "tenant", tenant.as_str(), json!({})),
        )
        .await?;
        tx.commit().await?;
        self.policies.forget(tenant);
        Ok(())
    }

    /// The factor types the tenant lets users enroll.
    pub async fn enabled_factors(&self, tenant: &TenantId) -> Result<Vec<MethodType>> {
        Ok(self.account_policy(tenant).await?.factors.clone())
    }

    /// The user's authentication methods, optionally of one type.
    pub async fn list_authentication_methods(
        &self,
        tenant: &TenantId,
        user: &UserId,
        filter: Option<MethodType>,
    ) -> Result<Vec<AuthenticationMethod>> {
        let mut methods = self.store.list_methods_for_display(tenant, user).await?;
        if let Some(t) = filter {
            methods.retain(|m| m.method_type == t);
        }
        Ok(methods)
    }

    /// One of the user's methods.
    pub async fn get_authentication_method(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &str,
    ) -> Result<AuthenticationMethod> {
        let methods = self.store.list_methods_for_display(tenant, user).await?;
        methods.into_iter().find(|m| m.id == id).ok_or(Error::NotFound(Entity::AuthenticationMethod))
    }

    pub(crate) async fn caller_user(&self, caller: &AccountCaller) -> Result<User> {
        self.store
            .find_user(&caller.tenant, &caller.user)
            .await?
            .filter(|u| !u.blocked)
            .ok_or_else(|| Error::Unauthenticated("the user no longer exists or is blocked".into()))
    }

    /// Refuses a sensitive operation unless the caller proves they are the user: the token's
    /// sign-in meets the step-up policy, or the verification record sent proves it.
    pub(crate) async fn require_step_up(&self, caller: &AccountCaller, methods: &[AuthenticationMethod]) -> Result<()> {
        match &caller.proof {
            Proof::Token(freshness) => {
                let policy = self.account_policy(&caller.tenant).await?;
                let has_second = methods.iter().any(|m| !m.method_type.is_primary());
                policy
                    .step_up
                    .check(freshness, has_second, now_secs())
                    .map_err(|s| Error::ProofRequired(ProofNeeded::RecentSignIn(s)))
            }
            Proof::Record(id) => self.check_record_proof(caller, id.as_deref()).await,
        }
    }

    /// Starts enrolling a method: checks the policy and the caller's sign-in, makes the challenge,
    /// sends the code (email, phone), and keeps the state under a fresh `auth_session`.
    pub async fn start_enrollment(&self, caller: &AccountCaller, request: EnrollRequest) -> Result<EnrollmentStarted> {
        let t = request.method_type();
        let policy = self.account_policy(&caller.tenant).await?;
        if !policy.allows(t) {
            return Err(Error::invalid("type", format!("the factor '{t}' is not enabled for this tenant")));
        }
        let user = self.caller_user(caller).await?;
        let methods = self.store.list_methods(&caller.tenant, &user.id).await?;
        self.require_step_up(caller, &methods).await?;
        let method_id = match t {
            MethodType::Password => password_method_id(&user.id),
            _ => new_method_id(t),
        };
        let cx = self.enroll_context(caller, &user, &methods);
        let (state, challenge, message) = match credential::for_type(t) {
            Some(module) => {
                let b = module.begin(&cx, &request, &method_id).await?;
                (b.state, b.challenge, b.message)
            }
            None => (json!({}), EnrollChallenge::Password { policy: policy.password.clone() }, None),
        };
        if let Some(msg) = &message {
            self.count_code_send(&caller.tenant, msg.channel, &msg.to).await?;
            self.messages.send(&caller.tenant, msg).await.map_err(|e| {
                tracing::warn!(error = %e, channel = msg.channel.as_str(), "could not send a one-time code");
                Error::Delivery(e.to_string())
            })?;
        }
        let (auth_session, pending) =
            self.new_pending(PendingPurpose::Enroll, Some(&user.id), (t, &method_id), &state)?;
        let tx = self.store.begin().await?;
        tx.insert_pending(&caller.tenant, &pending).await?;
        tx.insert_audit_event(
            &caller.tenant,
            &AuditEvent::success(
                &caller.ctx,
                "me.authentication_method.enroll_start",
                "authentication_method",
                &method_id,
                json!({ "type": t.storage_name(), "user_id": user.id.0 }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(EnrollmentStarted {
            method_id: placeholder_id(t).unwrap_or(method_id),
            method_type: t,
            auth_session,
            challenge,
        })
    }

    /// Counts a code sent to `to`; refuses once the recipient had its share (5 per 15 minutes),
    /// so nobody can flood an inbox or run up an SMS bill through accountd.
    pub(crate) async fn count_code_send(
        &self,
        tenant: &TenantId,
        channel: crate::message::Channel,
        to: &str,
    ) -> Result<()> {
        let key = format!("code-send:{}:{to}", channel.as_str());
        self.reserve_attempt(tenant, &key, &SENDS_PER_RECIPIENT).await.map(|_| ())
    }

    pub(crate) fn enroll_context<'a>(
        &'a self,
        caller: &'a AccountCaller,
        user: &'a User,
        methods: &[AuthenticationMethod],
    ) -> EnrollContext<'a> {
        EnrollContext {
            user,
            rp: &caller.rp,
            master_key: &self.master_key,
            existing_key_ids: methods.iter().filter_map(|m| m.details.key_id.clone()).collect(),
            user_agent: caller.ctx.user_agent.as_deref(),
            base_url: &caller.base_url,
        }
    }

    /// The pending enrollment `auth_session` names, if it is the caller's, unexpired, and for the
    /// method `url_id` (the id from the `Location`, or the type's placeholder).
    async fn pending_enrollment(
        &self,
        caller: &AccountCaller,
        url_id: &str,
        auth_session: &str,
    ) -> Result<PendingVerification> {
        let refused =
            || Error::BadProof("The auth_session is invalid, expired, already used, or for another method.".into());
        let p = self
            .store
            .find_pending(&caller.tenant, &hash_high_entropy_secret(auth_session), now_millis())
            .await?
            .ok_or_else(refused)?;
        let same_user = p.user_id.as_ref() == Some(&caller.user);
        let same_method = p.method_id == url_id || placeholder_id(p.method_type).as_deref() == Some(url_id);
        if p.purpose != PendingPurpose::Enroll || !same_user || !same_method {
            return Err(refused());
        }
        Ok(p)
    }

    /// Finishes an enrollment with the client's proof; the method exists from here on.
    pub async fn verify_enrollment(
        &self,
        caller: &AccountCaller,
        url_id: &str,
        auth_session: &str,
        proof: EnrollProof,
    ) -> Result<AuthenticationMethod> {
        let pending = self.pending_enrollment(caller, url_id, auth_session).await?;
        let user = self.caller_user(caller).await?;
        let methods = self.store.list_methods(&caller.tenant, &user.id).await?;
        self.require_step_up(caller, &methods).await?;
        let state = self.open_pending_state(&pending)?;
        // A code can be guessed: each one sent is an attempt, reserved before it is compared.
        // (A new password or a WebAuthn response is not a guess; refusing them costs nothing.)
        let attempt = match proof {
            EnrollProof::OtpCode(_) => self.reserve_pending_attempt(&caller.tenant, &pending.id).await?,
            _ => 0,
        };
        let t = pending.method_type;
        let outcome = match credential::for_type(t) {
            Some(module) => {
                let cx = self.enroll_context(caller, &user, &methods);
                module.finish(&cx, state, proof, &pending.method_id).await.map(|m| Enrolled::Method(Box::new(m)))
            }
            None => match proof {
                EnrollProof::NewPassword(p) => {
                    self.check_new_password(&caller.tenant, &user, p).await.map(Enrolled::Password)
                }
                _ => Err(Error::invalid("new_password", "is required")),
            },
        };
        let new = match outcome {
            Ok(n) => n,
            Err(e) => {
                if matches!(e, Error::BadProof(_)) && attempt >= MAX_ATTEMPTS {
                    self.store.take_pending(&caller.tenant, &pending.id).await?;
                }
                self.audit_failure(caller, "me.authentication_method.enroll", &pending.method_id, t, &e).await;
                return Err(e);
            }
        };
        let now = now_millis();
        let tx = self.store.begin().await?;
        if !tx.take_pending(&caller.tenant, &pending.id).await? {
            return Err(Error::BadProof(
                "The auth_session is invalid, expired, already used, or for another method.".into(),
            ));
        }
        let method_id = match &new {
            Enrolled::Method(n) => {
                if t == MethodType::RecoveryCode {
                    tx.delete_methods_of_type(&caller.tenant, &user.id, t).await?;
                }
                tx.insert_method(&caller.tenant, n).await?;
                n.method.id.clone()
            }
            Enrolled::Password(phc) => {
                let policy = self.account_policy(&caller.tenant).await?;
                if let Some(old) = tx.load_password_hash(&caller.tenant, &user.id).await? {
                    let keep = u32::try_from(policy.password.history_size()).unwrap_or(0);
                    if keep > 0 {
                        tx.push_password_history(&caller.tenant, &user.id, &old, now, keep).await?;
                    }
                }
                tx.set_password_hash(&caller.tenant, &user.id, phc, now).await?;
                password_method_id(&user.id)
            }
        };
        tx.insert_audit_event(
            &caller.tenant,
            &AuditEvent::success(
                &caller.ctx,
                "me.authentication_method.enroll",
                "authentication_method",
                &method_id,
                json!({ "type": t.storage_name(), "user_id": user.id.0 }),
            ),
        )
        .await?;
        tx.commit().await?;
        self.get_authentication_method(&caller.tenant, &user.id, &method_id).await
    }

    /// Checks a new password against the tenant's policy and the user's history, and hashes it.
    pub(crate) async fn check_new_password(
        &self,
        tenant: &TenantId,
        user: &User,
        password: Zeroizing<String>,
    ) -> Result<String> {
        let policy = self.account_policy(tenant).await?;
        let profile = ProfileData {
            name: user.name.as_deref(),
            email: user.email.as_deref(),
            username: user.username.as_deref(),
            given_name: user.given_name.as_deref(),
            family_name: user.family_name.as_deref(),
            nickname: user.nickname.as_deref(),
            phone_number: user.phone_number.as_deref(),
        };
        let accepted = match policy.password.check(&password, &profile) {
            Ok(p) => Zeroizing::new(p.into_owned()),
            Err(violations) => {
                return Err(Error::Invalid(
                    violations.iter().map(|v| crate::error::FieldError::new("new_password", v.detail())).collect(),
                ));
            }
        };
        let size = policy.password.history_size();
        if size > 0 {
            let mut earlier = self.store.load_password_hash(tenant, &user.id).await?.into_iter().collect::<Vec<_>>();
            earlier.extend(self.store.load_password_history(tenant, &user.id, size as u32).await?);
            for phc in earlier.into_iter().take(size) {
                if self.settings.password_hashing.verify(accepted.clone(), phc).await? {
                    return Err(Error::invalid(
                        "new_password",
                        format!("The password must differ from your last {size} passwords."),
                    ));
                }
            }
        }
        self.settings.password_hashing.hash(accepted).await
    }

    /// Renames a method, or changes how a phone method receives codes.
    pub async fn update_authentication_method(
        &self,
        caller: &AccountCaller,
        id: &str,
        name: Option<String>,
        preferred: Option<crate::authn::method::PhoneDelivery>,
    ) -> Result<AuthenticationMethod> {
        let mut m = self.get_authentication_method(&caller.tenant, &caller.user, id).await?;
        if let Some(n) = name {
            if n.chars().count() > 255 {
                return Err(Error::invalid("name", "must be at most 255 characters"));
            }
            m.name = Some(n);
        }
        if let Some(p) = preferred {
            if m.method_type != MethodType::Phone {
                return Err(Error::invalid("preferred_authentication_method", "applies to phone methods only"));
            }
            m.details.preferred_authentication_method = Some(p);
        }
        // A password's `updated_at` is its last reset (`last_password_reset`), which a new name
        // is not.
        if m.method_type != MethodType::Password {
            m.updated_at = now_millis();
        }
        let tx = self.store.begin().await?;
        tx.update_method(&caller.tenant, &m).await?;
        tx.insert_audit_event(
            &caller.tenant,
            &AuditEvent::success(
                &caller.ctx,
                "me.authentication_method.update",
                "authentication_method",
                id,
                json!({ "type": m.method_type.storage_name(), "user_id": caller.user.0 }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(m)
    }

    /// Removes a method, unless the user would be left with no way to sign in.
    pub async fn delete_authentication_method(&self, caller: &AccountCaller, id: &str) -> Result<()> {
        let methods = self.store.list_methods(&caller.tenant, &caller.user).await?;
        let Some(m) = methods.iter().find(|m| m.id == id) else {
            return Err(Error::NotFound(Entity::AuthenticationMethod));
        };
        if let Err(e) = self.require_step_up(caller, &methods).await {
            self.audit_failure(caller, "me.authentication_method.delete", id, m.method_type, &e).await;
            return Err(e);
        }
        let others: Vec<&AuthenticationMethod> = methods.iter().filter(|o| o.id != id).collect();
        let policy = self.account_policy(&caller.tenant).await?;
        // Each type says what it counts as (`Credential::counts_as`): a way to sign in alone, a
        // second factor, or a backup one that cannot carry a mandatory second factor alone.
        let counts = |t: MethodType| credential::counts_as(t);
        // An identity at a connection offered on the sign-in page signs the user in on its own.
        let sign_in: Vec<String> =
            self.list_connections(&caller.tenant).await?.into_iter().filter(|c| c.sign_in).map(|c| c.id).collect();
        let identities = self.store.list_identities(&caller.tenant, &caller.user).await?;
        let linked = identities.iter().any(|i| sign_in.contains(&i.connection_id));
        let leaves_no_primary = counts(m.method_type).first_factor()
            && !linked
            && !others.iter().any(|o| counts(o.method_type).first_factor());
        let leaves_no_second = !counts(m.method_type).first_factor()
            && policy.mfa == MfaPolicy::Always
            && !others.iter().any(|o| counts(o.method_type) == credential::Counts::SecondFactor);
        if leaves_no_primary || leaves_no_second {
            let e = Error::Conflict(ConflictKind::LastSignInMethod);
            self.audit_failure(caller, "me.authentication_method.delete", id, m.method_type, &e).await;
            return Err(e);
        }
        let tx = self.store.begin().await?;
        tx.delete_method(&caller.tenant, &caller.user, id).await?;
        tx.insert_audit_event(
            &caller.tenant,
            &AuditEvent::success(
                &caller.ctx,
                "me.authentication_method.delete",
                "authentication_method",
                id,
                json!({ "type": m.method_type.storage_name(), "user_id": caller.user.0 }),
            ),
        )
        .await?;
        tx.commit().await.map_err(Into::into)
    }

    /// Records a refused account operation (best effort: the refusal itself is what matters).
    async fn audit_failure(&self, caller: &AccountCaller, action: &str, id: &str, t: MethodType, e: &Error) {
        let mut ev = AuditEvent::success(
            &caller.ctx,
            action,
            "authentication_method",
            id,
            json!({ "type": t.storage_name(), "user_id": caller.user.0, "error": e.code() }),
        );
        ev.result = "failure".into();
        if let Err(err) = self.store.insert_audit_event(&caller.tenant, &ev).await {
            tracing::warn!(error = %err, "could not record a failed account operation");
        }
    }
}
