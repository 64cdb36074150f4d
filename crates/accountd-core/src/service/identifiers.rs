//! The user's own account changes that the account center governs: name, picture, username and
//! custom data; the OIDC standard claims; the password; the primary email and phone. Each checks
//! the account-center field itself and asks for proof of identity where the change could take
//! the account over, so no adapter can forget either; adapters only choose the order in which a
//! refusal is reported (Logto's per-route order).

use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use super::{AccountCaller, Core, changed};
use crate::account_center::Field;
use crate::audit::AuditEvent;
use crate::clock::now_millis;
use crate::error::{ConflictKind, Entity, Error, Refusal, Result};
use crate::identifier::username_violation;
use crate::user::{Address as PostalAddress, User};

use super::profile::{USER_METADATA_MAX_BYTES, is_picture_url};
use super::verification::Address;

/// A change to one field: leave it, set it, or clear it (Logto sends `null` to clear).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// Leave the field alone.
    #[default]
    Keep,
    /// Set it.
    Set(T),
    /// Clear it.
    Clear,
}

impl<T> Patch<T> {
    /// Whether the field changes.
    pub fn is_given(&self) -> bool {
        !matches!(self, Patch::Keep)
    }

    fn apply(self, slot: &mut Option<T>) {
        match self {
            Patch::Keep => {}
            Patch::Set(v) => *slot = Some(v),
            Patch::Clear => *slot = None,
        }
    }
}

/// A change to the account's main fields. `custom_data`, when given, **replaces** the user's
/// custom data (Logto's `PATCH /api/my-account`; Auth0's `/me/v1/profile` merges instead).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountPatch {
    /// Full name.
    pub name: Patch<String>,
    /// Picture URL.
    pub picture: Patch<String>,
    /// Username (changing it needs proof of identity).
    pub username: Patch<String>,
    /// New custom data, replacing the old.
    pub custom_data: Option<Map<String, Value>>,
}

/// A shallow change to the OIDC standard claims: each given claim is replaced, an `address`
/// replaces the whole address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimsPatch {
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Middle name.
    pub middle_name: Option<String>,
    /// Nickname.
    pub nickname: Option<String>,
    /// Preferred username.
    pub preferred_username: Option<String>,
    /// Profile page URL.
    pub profile: Option<String>,
    /// Web site.
    pub website: Option<String>,
    /// Gender.
    pub gender: Option<String>,
    /// Birthdate.
    pub birthdate: Option<String>,
    /// Time zone.
    pub zoneinfo: Option<String>,
    /// Locale.
    pub locale: Option<String>,
    /// Postal address (replaced whole).
    pub address: Option<PostalAddress>,
}

/// Longest value of a name or claim.
const MAX_CLAIM_CHARS: usize = 300;

/// The identifiers a user can sign in with, for the "last identifier" rule.
pub(crate) fn identifiers(u: &User) -> usize {
    usize::from(u.username.is_some()) + usize::from(u.email.is_some()) + usize::from(u.phone_number.is_some())
}

impl Core {
    /// Reads the caller again inside `tx`, refusing a deleted or blocked user.
    pub(crate) async fn caller_user_in(&self, tx: &dyn crate::store::Tx, caller: &AccountCaller) -> Result<User> {
        tx.find_user(&caller.tenant, &caller.user)
            .await?
            .filter(|u| !u.blocked)
            .ok_or_else(|| Error::Unauthenticated("the user no longer exists or is blocked".into()))
    }

    /// Writes the user and its audit event, and commits.
    async fn save_user(
        &self,
        tx: Box<dyn crate::store::Tx>,
        caller: &AccountCaller,
        mut user: User,
        action: &str,
        detail: Value,
    ) -> Result<User> {
        user.updated_at = now_millis().max(user.updated_at);
        if !tx.update_user(&caller.tenant, &user).await? {
            return Err(Error::NotFound(Entity::User));
        }
        tx.insert_audit_event(&caller.tenant, &AuditEvent::success(&caller.ctx, action, "user", &user.id.0, detail))
            .await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Changes name, picture, username and custom data, all or nothing.
    pub async fn update_account(&self, caller: &AccountCaller, patch: AccountPatch) -> Result<User> {
        let center = self.account_center(&caller.tenant).await?;
        for (given, field) in [
            (patch.name.is_given(), Field::Name),
            (patch.picture.is_given(), Field::Avatar),
            (patch.username.is_given(), Field::Username),
            (patch.custom_data.is_some(), Field::CustomData),
        ] {
            if given {
                center.require_editable(field)?;
            }
        }
        if patch.username.is_given() {
            self.require_identity_proof(caller).await?;
        }
        if let Patch::Set(u) = &patch.username
            && let Some(v) = username_violation(u)
        {
            return Err(Error::Refused(Refusal::UsernameRejected(v)));
        }
        if let Patch::Set(n) = &patch.name
            && n.chars().count() > MAX_CLAIM_CHARS
        {
            return Err(Error::invalid("name", format!("must be at most {MAX_CLAIM_CHARS} characters")));
        }
        if let Patch::Set(p) = &patch.picture
            && !is_picture_url(p)
        {
            return Err(Error::invalid("avatar", "must be an http(s) URL of at most 2048 characters"));
        }
        if let Some(d) = &patch.custom_data
            && Value::Object(d.clone()).to_string().len() > USER_METADATA_MAX_BYTES
        {
            return Err(Error::invalid("customData", format!("must be at most {USER_METADATA_MAX_BYTES} bytes")));
        }
        let detail = changed(&[
            ("name", patch.name.is_given()),
            ("picture", patch.picture.is_given()),
            ("username", patch.username.is_given()),
            ("custom_data", patch.custom_data.is_some()),
        ]);
        let tx = self.store.begin().await?;
        let mut user = self.caller_user_in(tx.as_ref(), caller).await?;
        let linked = tx.list_identities(&caller.tenant, &caller.user).await?.len();
        if patch.username == Patch::Clear && user.username.is_some() && identifiers(&user) + linked <= 1 {
            return Err(Error::Conflict(ConflictKind::LastIdentifier));
        }
        patch.name.apply(&mut user.name);
        patch.picture.apply(&mut user.picture);
        patch.username.apply(&mut user.username);
        if let Some(d) = patch.custom_data {
            user.user_metadata = Value::Object(d);
        }
        self.save_user(tx, caller, user, "account.profile.update", detail).await
    }

    /// Changes the OIDC standard claims (shallow: each given claim replaced).
    pub async fn update_standard_claims(&self, caller: &AccountCaller, patch: ClaimsPatch) -> Result<User> {
        self.account_center(&caller.tenant).await?.require_editable(Field::Profile)?;
        let mut errors = Vec::new();
        let strings = [
            ("givenName", &patch.given_name),
            ("familyName", &patch.family_name),
            ("middleName", &patch.middle_name),
            ("nickname", &patch.nickname),
            ("preferredUsername", &patch.preferred_username),
            ("profile", &patch.profile),
            ("website", &patch.website),
            ("gender", &patch.gender),
            ("birthdate", &patch.birthdate),
            ("zoneinfo", &patch.zoneinfo),
            ("locale", &patch.locale),
        ];
        for (name, v) in strings {
            if v.as_ref().is_some_and(|v| v.chars().count() > MAX_CLAIM_CHARS) {
                errors
                    .push(crate::error::FieldError::new(name, format!("must be at most {MAX_CLAIM_CHARS} characters")));
            }
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let given: Vec<&str> = strings.iter().filter(|(_, v)| v.is_some()).map(|(n, _)| *n).collect();
        let mut detail_names: Vec<&str> = given;
        if patch.address.is_some() {
            detail_names.push("address");
        }
        let detail = json!({ "changed": detail_names });
        let tx = self.store.begin().await?;
        let mut user = self.caller_user_in(tx.as_ref(), caller).await?;
        let c = &mut user.claims;
        for (slot, v) in [
            (&mut user.given_name, patch.given_name),
            (&mut user.family_name, patch.family_name),
            (&mut user.nickname, patch.nickname),
            (&mut c.middle_name, patch.middle_name),
            (&mut c.preferred_username, patch.preferred_username),
            (&mut c.profile, patch.profile),
            (&mut c.website, patch.website),
            (&mut c.gender, patch.gender),
            (&mut c.birthdate, patch.birthdate),
            (&mut c.zoneinfo, patch.zoneinfo),
            (&mut c.locale, patch.locale),
        ] {
            if v.is_some() {
                *slot = v;
            }
        }
        if let Some(a) = patch.address {
            c.address = Some(a);
        }
        self.save_user(tx, caller, user, "account.profile.update", detail).await
    }

    /// Sets a new password. A user who has another way to prove who they are (a password, an
    /// email, a phone) must prove it first; the password policy applies, and the new password
    /// must differ from the current one.
    pub async fn change_password(&self, caller: &AccountCaller, password: Zeroizing<String>) -> Result<()> {
        let user = self.caller_user(caller).await?;
        let current = self.store.load_password_hash(&caller.tenant, &user.id).await?;
        if user.has_security_verification_method(current.is_some()) {
            self.require_identity_proof(caller).await?;
        }
        self.account_center(&caller.tenant).await?.require_editable(Field::Password)?;
        self.replace_password(caller, &user, current, password).await
    }

    /// Sets `user`'s new password after the checks every new password passes (see
    /// [`Core::checked_new_password`]). The caller has done the access checks.
    pub(crate) async fn replace_password(
        &self,
        caller: &AccountCaller,
        user: &User,
        current: Option<String>,
        password: Zeroizing<String>,
    ) -> Result<()> {
        let phc = self.checked_new_password(caller, user, current, password).await?;
        self.store_new_password(caller, user, &phc).await
    }

    /// The hash of `user`'s new password once it passes the checks every new password passes:
    /// not the current one, the tenant's policy. Nothing is stored yet.
    pub(crate) async fn checked_new_password(
        &self,
        caller: &AccountCaller,
        user: &User,
        current: Option<String>,
        password: Zeroizing<String>,
    ) -> Result<String> {
        if let Some(current) = current
            && self.settings.password_hashing.verify(password.clone(), current).await?
        {
            return Err(Error::Refused(Refusal::SamePassword));
        }
        match self.check_new_password(&caller.tenant, user, password).await {
            Ok(p) => Ok(p),
            Err(Error::Invalid(issues)) => Err(Error::Refused(Refusal::PasswordRejected(issues))),
            Err(e) => Err(e),
        }
    }

    /// Stores a checked new password hash, keeping the old one in the history the policy asks for.
    pub(crate) async fn store_new_password(&self, caller: &AccountCaller, user: &User, phc: &str) -> Result<()> {
        let now = now_millis();
        let policy = self.account_policy(&caller.tenant).await?;
        let tx = self.store.begin().await?;
        if let Some(old) = tx.load_password_hash(&caller.tenant, &user.id).await? {
            let keep = u32::try_from(policy.password.history_size()).unwrap_or(0);
            if keep > 0 {
                tx.push_password_history(&caller.tenant, &user.id, &old, now, keep).await?;
            }
        }
        tx.set_password_hash(&caller.tenant, &user.id, phc, now).await?;
        tx.insert_audit_event(
            &caller.tenant,
            &AuditEvent::success(&caller.ctx, "account.password.update", "user", &user.id.0, json!({})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces the primary email or phone with `address`, proved by the code record `record`.
    pub async fn change_primary_address(
        &self,
        caller: &AccountCaller,
        address: &Address,
        record: &str,
    ) -> Result<User> {
        self.require_identity_proof(caller).await?;
        let field = match address {
            Address::Email(_) => Field::Email,
            Address::Phone(_) => Field::Phone,
        };
        self.account_center(&caller.tenant).await?.require_editable(field)?;
        let (_, value) = address.normalized().ok_or_else(|| Error::invalid(field.as_str(), "is malformed"))?;
        if field == Field::Email && !self.account_policy(&caller.tenant).await?.email_policy.allows(&value) {
            return Err(Error::Refused(Refusal::EmailNotAllowed));
        }
        self.require_address_proof(caller, record, address).await?;
        let tx = self.store.begin().await?;
        let mut user = self.caller_user_in(tx.as_ref(), caller).await?;
        let action = if field == Field::Email {
            user.email = Some(value);
            user.email_verified = true;
            "account.email.update"
        } else {
            user.phone_number = Some(value);
            user.phone_verified = true;
            "account.phone.update"
        };
        self.save_user(tx, caller, user, action, json!({})).await
    }

    /// Removes the primary email or phone, unless it is the user's last identifier.
    pub async fn remove_primary_address(&self, caller: &AccountCaller, field: Field) -> Result<User> {
        self.require_identity_proof(caller).await?;
        self.account_center(&caller.tenant).await?.require_editable(field)?;
        let tx = self.store.begin().await?;
        let mut user = self.caller_user_in(tx.as_ref(), caller).await?;
        let (present, action) = match field {
            Field::Email => (user.email.is_some(), "account.email.delete"),
            Field::Phone => (user.phone_number.is_some(), "account.phone.delete"),
            other => return Err(Error::Internal(anyhow::anyhow!("{other} is not an address"))),
        };
        let linked = tx.list_identities(&caller.tenant, &caller.user).await?.len();
        if present && identifiers(&user) + linked <= 1 {
            return Err(Error::Conflict(ConflictKind::LastIdentifier));
        }
        if field == Field::Email {
            (user.email, user.email_verified) = (None, false);
        } else {
            (user.phone_number, user.phone_verified) = (None, false);
        }
        self.save_user(tx, caller, user, action, json!({})).await
    }

    /// The caller's account as the self-service APIs show it, and whether it has a password. One
    /// read of the user; the password's presence comes from the (cached) method list.
    pub async fn own_account(&self, caller: &AccountCaller) -> Result<(User, bool)> {
        let user = self.get_profile(&caller.tenant, &caller.user).await?;
        let methods = self.store.list_methods_for_display(&caller.tenant, &user.id).await?;
        let has_password = methods.iter().any(|m| m.method_type == crate::authn::method::MethodType::Password);
        Ok((user, has_password))
    }
}
