//! The end user's own profile (Auth0's My Account `/profile`, beta): which fields a user may read
//! and change themselves, and the change itself. Every accountd user is a database user, so no
//! field is owned by an identity provider: names, nickname, picture and `user_metadata` are the
//! user's; email, phone number and username change only through verified identifier flows; the
//! rest is the system's.

use serde_json::{Map, Value};

use super::{AccountCaller, Core, changed};
use crate::account_center::Field;
use crate::audit::AuditEvent;
use crate::clock::now_millis;
use crate::error::{Entity, Error, FieldError, Result};
use crate::tenant::TenantId;
use crate::user::{User, UserId, merge_metadata};

/// The largest `user_metadata` a user can keep (its JSON, in bytes, after a change is merged).
pub const USER_METADATA_MAX_BYTES: usize = 16 * 1024;

/// Whether the user can change a profile field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldAccess {
    /// Readable and writable through the profile.
    ReadWrite,
    /// Readable only.
    ReadOnly,
}

/// Who is authoritative for a profile field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldSource {
    /// The user.
    User,
    /// An upstream identity provider (never, for accountd's database users).
    Idp,
    /// The system.
    System,
}

/// Why a profile field is read-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOnlyReason {
    /// It changes only through a verified identifier flow (email, phone, username).
    IdentifierFlow,
    /// The system sets it (ids, timestamps, verification flags).
    System,
}

/// The policy of one profile field. Each dialect renders it (labels, access and reason names)
/// in its own `wire.rs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldPolicy {
    /// The field's name in the profile object (`given_name`).
    pub field: &'static str,
    /// Whether the user can change it.
    pub access: FieldAccess,
    /// Who owns its value.
    pub source: FieldSource,
    /// Why it is read-only.
    pub reason: Option<ReadOnlyReason>,
}

impl FieldPolicy {
    const fn rw(field: &'static str) -> Self {
        Self { field, access: FieldAccess::ReadWrite, source: FieldSource::User, reason: None }
    }

    const fn ro(field: &'static str, reason: ReadOnlyReason) -> Self {
        Self { field, access: FieldAccess::ReadOnly, source: FieldSource::System, reason: Some(reason) }
    }
}

/// Every field of the profile object with its policy, in the object's order. `profile_policy`
/// itself is part of the object but has no policy entry.
pub const PROFILE_POLICY: [FieldPolicy; 14] = [
    FieldPolicy::ro("user_id", ReadOnlyReason::System),
    FieldPolicy::rw("given_name"),
    FieldPolicy::rw("family_name"),
    FieldPolicy::rw("name"),
    FieldPolicy::rw("nickname"),
    FieldPolicy::rw("picture"),
    FieldPolicy::ro("email", ReadOnlyReason::IdentifierFlow),
    FieldPolicy::ro("email_verified", ReadOnlyReason::System),
    FieldPolicy::ro("phone_number", ReadOnlyReason::IdentifierFlow),
    FieldPolicy::ro("phone_verified", ReadOnlyReason::System),
    FieldPolicy::ro("username", ReadOnlyReason::IdentifierFlow),
    FieldPolicy::ro("created_at", ReadOnlyReason::System),
    FieldPolicy::ro("updated_at", ReadOnlyReason::System),
    FieldPolicy::rw("user_metadata"),
];

/// The policy of the profile field `name`, if it is one.
pub fn field_policy(name: &str) -> Option<&'static FieldPolicy> {
    PROFILE_POLICY.iter().find(|p| p.field == name)
}

/// A change to the caller's own profile: `None` leaves a field alone. `user_metadata` is merged
/// into the stored metadata, a `null` value deleting its key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileChanges {
    /// Given name, 1–150 characters.
    pub given_name: Option<String>,
    /// Family name, 1–150 characters.
    pub family_name: Option<String>,
    /// Full name, 1–300 characters.
    pub name: Option<String>,
    /// Nickname, 1–300 characters.
    pub nickname: Option<String>,
    /// Picture: an http(s) URL of at most 2048 characters.
    pub picture: Option<String>,
    /// Keys to set (or, with `null`, remove) in `user_metadata`.
    pub user_metadata: Option<Map<String, Value>>,
}

/// Whether `s` is an absolute http(s) URL with a host and no spaces or control characters.
pub fn is_picture_url(s: &str) -> bool {
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    s.len() <= 2048
        && host.is_some_and(|h| !h.is_empty() && !h.starts_with(':'))
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl ProfileChanges {
    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// Checks every given field, reporting all problems at once.
    pub fn validate(&self) -> Result<()> {
        let mut errors = Vec::new();
        for (field, value, max) in [
            ("given_name", &self.given_name, 150),
            ("family_name", &self.family_name, 150),
            ("name", &self.name, 300),
            ("nickname", &self.nickname, 300),
        ] {
            if let Some(v) = value {
                let n = v.chars().count();
                if n == 0 || n > max {
                    errors.push(FieldError::new(field, format!("must be 1 to {max} characters")));
                }
            }
        }
        if let Some(p) = &self.picture
            && !is_picture_url(p)
        {
            errors.push(FieldError::new("picture", "must be an http(s) URL of at most 2048 characters"));
        }
        if errors.is_empty() { Ok(()) } else { Err(Error::Invalid(errors)) }
    }
}

impl Core {
    /// The caller's profile: the user, unless it was deleted or blocked since the token was issued.
    pub async fn get_profile(&self, tenant: &TenantId, user: &UserId) -> Result<User> {
        self.store
            .find_user_for_display(tenant, user)
            .await?
            .filter(|u| !u.blocked)
            .ok_or_else(|| Error::Unauthenticated("the user no longer exists or is blocked".into()))
    }

    /// Changes the caller's own profile, all or nothing, and records `me.profile.update` with the
    /// names of the fields given. An empty change writes nothing.
    ///
    /// The user is read again inside the write transaction and only the given fields are changed
    /// on that copy. On SQLite the transaction holds the write lock from its start, so no
    /// concurrent edit can be lost; on PostgreSQL an edit committed between this read and the
    /// write can still be overwritten (the store has no targeted update yet).
    pub async fn update_profile(&self, caller: &AccountCaller, changes: ProfileChanges) -> Result<User> {
        changes.validate()?;
        let center = self.account_center(&caller.tenant).await?;
        for (given, field) in [
            (
                changes.given_name.is_some() || changes.family_name.is_some() || changes.nickname.is_some(),
                Field::Profile,
            ),
            (changes.name.is_some(), Field::Name),
            (changes.picture.is_some(), Field::Avatar),
            (changes.user_metadata.is_some(), Field::CustomData),
        ] {
            if given && !center.profile_editable(field) {
                return Err(Error::Refused(crate::error::Refusal::FieldNotEditable(field)));
            }
        }
        if changes.is_empty() {
            return self.get_profile(&caller.tenant, &caller.user).await;
        }
        let detail = changed(&[
            ("given_name", changes.given_name.is_some()),
            ("family_name", changes.family_name.is_some()),
            ("name", changes.name.is_some()),
            ("nickname", changes.nickname.is_some()),
            ("picture", changes.picture.is_some()),
            ("user_metadata", changes.user_metadata.is_some()),
        ]);
        let tx = self.store.begin().await?;
        let mut user = tx
            .find_user(&caller.tenant, &caller.user)
            .await?
            .filter(|u| !u.blocked)
            .ok_or_else(|| Error::Unauthenticated("the user no longer exists or is blocked".into()))?;
        for (slot, v) in [
            (&mut user.given_name, changes.given_name),
            (&mut user.family_name, changes.family_name),
            (&mut user.name, changes.name),
            (&mut user.nickname, changes.nickname),
            (&mut user.picture, changes.picture),
        ] {
            if let Some(v) = v {
                *slot = Some(v);
            }
        }
        if let Some(patch) = changes.user_metadata {
            if !user.user_metadata.is_object() {
                user.user_metadata = Value::Object(Map::new());
            }
            merge_metadata(&mut user.user_metadata, Value::Object(patch));
            if user.user_metadata.to_string().len() > USER_METADATA_MAX_BYTES {
                return Err(Error::invalid(
                    "user_metadata",
                    format!("must be at most {USER_METADATA_MAX_BYTES} bytes once merged with the stored metadata"),
                ));
            }
        }
        user.updated_at = now_millis().max(user.updated_at);
        if !tx.update_user(&caller.tenant, &user).await? {
            return Err(Error::NotFound(Entity::User));
        }
        tx.insert_audit_event(
            &caller.tenant,
            &AuditEvent::success(&caller.ctx, "me.profile.update", "user", &user.id.0, detail),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_but_names_picture_and_metadata_is_read_only() {
        let writable: Vec<_> =
            PROFILE_POLICY.iter().filter(|p| p.access == FieldAccess::ReadWrite).map(|p| p.field).collect();
        assert_eq!(writable, ["given_name", "family_name", "name", "nickname", "picture", "user_metadata"]);
        assert!(PROFILE_POLICY.iter().all(|p| (p.access == FieldAccess::ReadOnly) == p.reason.is_some()));
        assert_eq!(field_policy("email").and_then(|p| p.reason), Some(ReadOnlyReason::IdentifierFlow));
    }

    #[test]
    fn changes_are_checked_together() {
        let c = ProfileChanges {
            given_name: Some("x".repeat(151)),
            name: Some(String::new()),
            picture: Some("javascript:alert(1)".into()),
            ..Default::default()
        };
        let Err(Error::Invalid(errs)) = c.validate() else { panic!("accepted") };
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["given_name", "name", "picture"]);
        assert!(ProfileChanges::default().is_empty());
    }

    #[test]
    fn pictures_are_http_urls() {
        assert!(is_picture_url("https://example.com/a.png"));
        assert!(is_picture_url("http://localhost:3000/a.png?x=1"));
        assert!(!is_picture_url("https:///a.png"));
        assert!(!is_picture_url("ftp://example.com/a.png"));
        assert!(!is_picture_url("https://example.com/a b.png"));
        assert!(!is_picture_url(&format!("https://example.com/{}", "a".repeat(2048))));
    }
}
