//! End users of a tenant: their profile fields as the Auth0 Management API names them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::Millis;
use crate::error::{Error, FieldError, Result};

/// A user's id, Auth0-style: `auth0|` followed by 24 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserId(pub String);

impl UserId {
    /// A fresh id.
    pub fn generate() -> Self {
        Self(format!("auth0|{}", crate::secret::random_hex::<12>()))
    }
}

/// The name of the one database connection users are created in (Auth0's default name, so
/// Management API clients that send `connection` keep working).
pub const DATABASE_CONNECTION: &str = "Username-Password-Authentication";

/// A user as stored, without credentials (those live in `authentication_methods`).
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// Email, normalised by [`normalize_email`] and unique in the tenant.
    pub email: Option<String>,
    /// Whether the email was verified.
    pub email_verified: bool,
    /// Username, unique in the tenant.
    pub username: Option<String>,
    /// E.164 phone number, unique in the tenant.
    pub phone_number: Option<String>,
    /// Whether the phone number was verified.
    pub phone_verified: bool,
    /// Full name.
    pub name: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Nickname.
    pub nickname: Option<String>,
    /// Picture URL.
    pub picture: Option<String>,
    /// The other OIDC standard claims (the names above are columns of their own).
    pub claims: StandardClaims,
    /// Data the user may edit (a JSON object): Auth0's `user_metadata`, Logto's `customData`.
    pub user_metadata: Value,
    /// Data only administrators may edit (a JSON object).
    pub app_metadata: Value,
    /// Whether sign-in is blocked.
    pub blocked: bool,
    /// When it was created.
    pub created_at: Millis,
    /// When it last changed.
    pub updated_at: Millis,
    /// When the user last signed in.
    pub last_login_at: Option<Millis>,
    /// How many times the user signed in.
    pub logins_count: i64,
}

/// The OIDC standard claims (OIDC Core §5.1) a user has beyond `name`, `given_name`,
/// `family_name`, `nickname` and `picture`, which are columns of [`User`]. `/userinfo`, the ID
/// token and both account dialects read this one struct.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct StandardClaims {
    /// Middle name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    /// Preferred username (shown, not an identifier).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// Profile page URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Web site URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// Gender.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    /// Birthdate (`YYYY-MM-DD` or a year).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birthdate: Option<String>,
    /// Time zone (`Europe/Paris`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zoneinfo: Option<String>,
    /// Locale (`fr-CA`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Postal address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

/// An OIDC postal address (OIDC Core §5.1.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Address {
    /// The whole address, formatted for display.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    /// Street address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    /// City or locality.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    /// State, province or region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Postal code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Country.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

impl User {
    /// A user with only an id, created at `now`: no identifiers, no profile, empty metadata.
    pub fn new(id: UserId, now: Millis) -> Self {
        Self {
            id,
            email: None,
            email_verified: false,
            username: None,
            phone_number: None,
            phone_verified: false,
            name: None,
            given_name: None,
            family_name: None,
            nickname: None,
            picture: None,
            claims: StandardClaims::default(),
            user_metadata: Value::Object(Default::default()),
            app_metadata: Value::Object(Default::default()),
            blocked: false,
            created_at: now,
            updated_at: now,
            last_login_at: None,
            logins_count: 0,
        }
    }

    /// Whether the user can prove who they are besides a token (Logto's "security verification
    /// method"): a password, an email address or a phone number.
    pub fn has_security_verification_method(&self, has_password: bool) -> bool {
        has_password || self.email.is_some() || self.phone_number.is_some()
    }
}

/// Profile fields shared by create and update. `None` leaves a field alone on update.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserFields {
    /// Email (any spelling; stored as [`normalize_email`] gives it).
    pub email: Option<String>,
    /// Whether the email is verified.
    pub email_verified: Option<bool>,
    /// Username.
    pub username: Option<String>,
    /// Phone number in E.164 form.
    pub phone_number: Option<String>,
    /// Whether the phone is verified.
    pub phone_verified: Option<bool>,
    /// Full name.
    pub name: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Nickname.
    pub nickname: Option<String>,
    /// Picture URL.
    pub picture: Option<String>,
    /// User metadata (merged on update, as Auth0 does).
    pub user_metadata: Option<Value>,
    /// App metadata (merged on update).
    pub app_metadata: Option<Value>,
    /// Blocked flag.
    pub blocked: Option<bool>,
}

/// A user to insert.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The user as it will be stored.
    pub user: User,
    /// Argon2id PHC string of the initial password, if any.
    pub password_hash: Option<String>,
}

impl UserFields {
    /// Checks and normalises every given field, reporting all problems at once.
    pub fn validate(mut self) -> Result<Self> {
        let mut errors = Vec::new();
        if let Some(email) = self.email.take() {
            match normalize_email(&email) {
                Ok(e) => self.email = Some(e),
                Err(m) => errors.push(FieldError::new("email", m)),
            }
        }
        if let Some(u) = &self.username {
            let ok_chars = u.chars().all(|c| c.is_ascii_alphanumeric() || "_+-.!#$'^`~@".contains(c));
            if u.is_empty() || u.chars().count() > 128 || !ok_chars {
                errors.push(FieldError::new(
                    "username",
                    "must be 1 to 128 characters of letters, digits and _+-.!#$'^`~@",
                ));
            }
        }
        if let Some(p) = &self.phone_number {
            let digits = p.strip_prefix('+').unwrap_or("");
            if !(8..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
                errors.push(FieldError::new("phone_number", "must be in E.164 form, e.g. +14155550100"));
            }
        }
        for (field, value) in [
            ("name", &self.name),
            ("given_name", &self.given_name),
            ("family_name", &self.family_name),
            ("nickname", &self.nickname),
        ] {
            if value.as_ref().is_some_and(|v| v.chars().count() > 300) {
                errors.push(FieldError::new(field, "must be at most 300 characters"));
            }
        }
        if let Some(p) = &self.picture
            && (!(p.starts_with("https://") || p.starts_with("http://")) || p.len() > 2048)
        {
            errors.push(FieldError::new("picture", "must be an http(s) URL of at most 2048 characters"));
        }
        for (field, value) in [("user_metadata", &self.user_metadata), ("app_metadata", &self.app_metadata)] {
            if let Some(v) = value {
                if !v.is_object() {
                    errors.push(FieldError::new(field, "must be an object"));
                } else if v.to_string().len() > 16 * 1024 {
                    errors.push(FieldError::new(field, "must be at most 16 KiB"));
                }
            }
        }
        if errors.is_empty() { Ok(self) } else { Err(Error::Invalid(errors)) }
    }
}

/// Normalises and checks an email address, so that every spelling of one address is one user:
/// the whole address lowercased (the local part too, as always here) and in Unicode NFC (a
/// decomposed `a\u{308}` is `ä`), the domain in its IDNA ASCII form (UTS 46: `Exämple.com`,
/// `EXÄMPLE.COM` and `xn--exmple-cua.com` are all `xn--exmple-cua.com`). It must have one `@`, a
/// dotted domain of valid labels, no spaces or control characters, and at most 254 bytes.
pub fn normalize_email(raw: &str) -> std::result::Result<String, String> {
    use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};
    use unicode_normalization::UnicodeNormalization;

    let invalid = || format!("'{raw}' is not a valid email address");
    let email: String = raw.trim().to_lowercase().nfc().collect();
    if email.chars().any(|c| c.is_whitespace() || !crate::text::Chars::Identifier.allows(c)) {
        return Err(invalid());
    }
    let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
    if local.is_empty() || domain.contains('@') {
        return Err(invalid());
    }
    // URL's deny list (no `/`, `:`, `%`, …), labels and length checked as DNS names; hyphens are
    // not restricted, as browsers and mail servers do not restrict them.
    let domain = Uts46::new()
        .to_ascii(domain.as_bytes(), AsciiDenyList::URL, Hyphens::Allow, DnsLength::Verify)
        .map_err(|_| invalid())?;
    if !domain.contains('.') {
        return Err(invalid());
    }
    let email = format!("{local}@{domain}");
    if email.len() > 254 { Err(invalid()) } else { Ok(email) }
}

/// Shallow-merges `patch` into `base` as Auth0 does for metadata: a `null` value removes the key.
pub fn merge_metadata(base: &mut Value, patch: Value) {
    if let (Some(base), Value::Object(patch)) = (base.as_object_mut(), patch) {
        for (k, v) in patch {
            if v.is_null() {
                base.remove(&k);
            } else {
                base.insert(k, v);
            }
        }
    }
}

/// Checks a new password against the tenant's minimum rules (the full policy object of the My
/// Account API builds on this).
pub fn validate_password(password: &str, min_length: usize) -> Result<()> {
    let len = password.chars().count();
    if len < min_length {
        return Err(Error::invalid("password", format!("must be at least {min_length} characters")));
    }
    // Bound the work one request can ask of Argon2.
    if password.len() > 1024 {
        return Err(Error::invalid("password", "must be at most 1024 bytes"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_all_fields_at_once() {
        let f = UserFields {
            email: Some("nope".into()),
            phone_number: Some("12345".into()),
            user_metadata: Some(serde_json::json!([1])),
            ..Default::default()
        };
        let Err(Error::Invalid(errs)) = f.validate() else { panic!("accepted") };
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "phone_number", "user_metadata"]);
    }

    #[test]
    fn emails_are_lowercased() {
        assert_eq!(normalize_email(" Ada@Example.COM ").unwrap(), "ada@example.com");
        assert!(normalize_email("a@b").is_err());
        assert!(normalize_email("a b@c.d").is_err());
    }

    #[test]
    fn every_spelling_of_an_address_is_one_address() {
        let one = "ada@xn--exmple-cua.com";
        for spelling in ["ADA@Exämple.com", "ada@xn--exmple-cua.com", "Ada@EXA\u{308}MPLE.com", "ada@ｅｘämple.com"]
        {
            assert_eq!(normalize_email(spelling).unwrap(), one, "{spelling}");
        }
        // The local part keeps its letters, lowercased and composed.
        assert_eq!(normalize_email("A\u{308}DA@example.com").unwrap(), "äda@example.com");
        assert_eq!(normalize_email("Äda@example.com").unwrap(), "äda@example.com");
        for bad in [
            "ada\u{0}@example.com",
            "ada@exa\u{7}mple.com",
            "ada@exa/mple.com",
            "ada@.example.com",
            "ada@example.",
            "ada@a..com",
            "ada@xn--a.com",
            "@example.com",
            "a@b@example.com",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
        let long_label = format!("ada@{}.com", "a".repeat(64));
        assert!(normalize_email(&long_label).is_err());
    }

    #[test]
    fn metadata_merges_shallowly_and_null_deletes() {
        let mut base = serde_json::json!({"a": 1, "b": {"x": 1}});
        merge_metadata(&mut base, serde_json::json!({"a": null, "b": {"y": 2}, "c": 3}));
        assert_eq!(base, serde_json::json!({"b": {"y": 2}, "c": 3}));
    }
}

/// A user's own MFA choices (Logto's `logtoConfig`): stored on the user (`users.mfa_settings`),
/// changed key by key. `skip_mfa_on_sign_in` is the one sign-in reads: it skips the second-factor
/// step unless the tenant's MFA policy is `always`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MfaSettings {
    /// Whether the user turned MFA on (unknown until a factor is added or the user says).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The user skipped setting up MFA.
    pub skipped: bool,
    /// Sign-in does not ask this user for a second factor (unless the tenant requires one).
    pub skip_mfa_on_sign_in: bool,
    /// The user dismissed the suggestion to add another factor.
    pub additional_binding_suggestion_skipped: bool,
    /// The user skipped setting up passkey sign-in.
    pub passkey_sign_in_skipped: bool,
}

impl MfaSettings {
    /// The stored form (`{}` and damaged documents are the defaults).
    pub fn from_stored(s: &str) -> Self {
        serde_json::from_str(s).unwrap_or_default()
    }

    /// This with the keys `patch` gives replaced, the others kept.
    pub fn merged(&self, patch: &MfaSettingsPatch) -> Self {
        Self {
            enabled: patch.enabled.or(self.enabled),
            skipped: patch.skipped.unwrap_or(self.skipped),
            skip_mfa_on_sign_in: patch.skip_mfa_on_sign_in.unwrap_or(self.skip_mfa_on_sign_in),
            additional_binding_suggestion_skipped: patch
                .additional_binding_suggestion_skipped
                .unwrap_or(self.additional_binding_suggestion_skipped),
            passkey_sign_in_skipped: patch.passkey_sign_in_skipped.unwrap_or(self.passkey_sign_in_skipped),
        }
    }
}

/// A change to [`MfaSettings`]: `None` leaves a key alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MfaSettingsPatch {
    /// New `enabled`.
    pub enabled: Option<bool>,
    /// New `skipped`.
    pub skipped: Option<bool>,
    /// New `skip_mfa_on_sign_in`.
    pub skip_mfa_on_sign_in: Option<bool>,
    /// New `additional_binding_suggestion_skipped`.
    pub additional_binding_suggestion_skipped: Option<bool>,
    /// New `passkey_sign_in_skipped`.
    pub passkey_sign_in_skipped: Option<bool>,
}
