//! The tenant's account center: which parts of their own account users may see and change through
//! the self-service APIs. One policy for both dialects: Logto's Account API is gated by it whole
//! (`enabled`) and per field; Auth0's `/me/v1/profile` shows it as `profile_policy` and is refused
//! by the same field checks. Core's own operations call [`AccountCenter::require_editable`], so no
//! adapter can forget a check.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, FieldError, Refusal, Result};

/// A part of the account a user may be allowed to see or change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Field {
    /// The full name.
    Name,
    /// The picture.
    Avatar,
    /// The OIDC standard claims (given/family name, nickname, website, address, …).
    Profile,
    /// The primary email address.
    Email,
    /// The primary phone number.
    Phone,
    /// The password.
    Password,
    /// The username.
    Username,
    /// Linked social identities.
    Social,
    /// The user's own data (`customData`, Auth0's `user_metadata`).
    CustomData,
    /// Second factors and MFA settings.
    Mfa,
    /// Passkeys (falls back to [`Field::Mfa`] when not set).
    Passkey,
    /// Sessions and grants.
    Session,
}

impl Field {
    /// Every field, in Logto's order.
    pub const ALL: [Field; 12] = [
        Field::Name,
        Field::Avatar,
        Field::Profile,
        Field::Email,
        Field::Phone,
        Field::Password,
        Field::Username,
        Field::Social,
        Field::CustomData,
        Field::Mfa,
        Field::Passkey,
        Field::Session,
    ];

    /// The field's name in settings (`customData`).
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Avatar => "avatar",
            Field::Profile => "profile",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::Password => "password",
            Field::Username => "username",
            Field::Social => "social",
            Field::CustomData => "customData",
            Field::Mfa => "mfa",
            Field::Passkey => "passkey",
            Field::Session => "session",
        }
    }

    /// The field named `s`, if it is one.
    pub fn parse(s: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What users may do with a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum FieldControl {
    /// Hidden and unchangeable (the default for a field not set).
    #[default]
    Off,
    /// Shown, not changeable.
    ReadOnly,
    /// Shown and changeable.
    Edit,
}

impl FieldControl {
    /// Whether the field is shown.
    pub fn readable(self) -> bool {
        matches!(self, FieldControl::ReadOnly | FieldControl::Edit)
    }
}

/// The tenant's account-center settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountCenter {
    /// Whether the Logto Account API answers at all.
    pub enabled: bool,
    /// Each field's control; a field not here is `Off`.
    #[serde(default)]
    pub fields: BTreeMap<Field, FieldControl>,
    /// Origins besides the tenant's own accepted for WebAuthn registrations.
    #[serde(default)]
    pub webauthn_related_origins: Vec<String>,
    /// Where users go to delete their account.
    #[serde(default)]
    pub delete_account_url: Option<String>,
    /// CSS for the hosted account page.
    #[serde(default)]
    pub custom_css: Option<String>,
    /// Custom profile fields shown on the hosted account page, in order.
    #[serde(default)]
    pub profile_fields: Option<Vec<String>>,
    /// Whether an operator has set it: until then each dialect behaves as its vendor does out of
    /// the box (Logto: disabled, every field `Off`; Auth0: names, picture and metadata editable).
    #[serde(skip)]
    pub configured: bool,
}

impl Default for AccountCenter {
    /// A tenant's account center before anyone sets it.
    fn default() -> Self {
        Self {
            enabled: false,
            fields: BTreeMap::new(),
            webauthn_related_origins: Vec::new(),
            delete_account_url: None,
            custom_css: None,
            profile_fields: None,
            configured: false,
        }
    }
}

/// A change to the settings: `None` leaves a setting alone; `fields`, when given, replaces every
/// field (as Logto's `PATCH /api/account-center` does).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountCenterChange {
    /// New `enabled`.
    pub enabled: Option<bool>,
    /// New fields, replacing all of them.
    pub fields: Option<BTreeMap<Field, FieldControl>>,
    /// New related origins (de-duplicated).
    pub webauthn_related_origins: Option<Vec<String>>,
    /// New delete-account URL (`Some(None)` clears it).
    pub delete_account_url: Option<Option<String>>,
    /// New CSS (`Some(None)` clears it).
    pub custom_css: Option<Option<String>>,
    /// New profile fields (`Some(None)` clears them).
    pub profile_fields: Option<Option<Vec<String>>>,
}

impl AccountCenter {
    /// The stored form, `None` meaning "never set".
    pub fn from_stored(stored: Option<&str>) -> Self {
        match stored.and_then(|s| serde_json::from_str::<AccountCenter>(s).ok()) {
            Some(mut c) => {
                c.configured = true;
                c
            }
            None => Self::default(),
        }
    }

    /// A field's control as set (absent: `Off`).
    pub fn control(&self, field: Field) -> FieldControl {
        self.fields.get(&field).copied().unwrap_or_default()
    }

    /// A field's control with the passkey rule applied: `passkey`, when not set, follows `mfa`.
    pub fn effective(&self, field: Field) -> FieldControl {
        match (field, self.fields.get(&Field::Passkey)) {
            (Field::Passkey, None) => self.control(Field::Mfa),
            _ => self.control(field),
        }
    }

    /// Refuses unless users may see `field` ([`Refusal::FieldNotEnabled`]).
    pub fn require_readable(&self, field: Field) -> Result<()> {
        if self.effective(field).readable() { Ok(()) } else { Err(Error::Refused(Refusal::FieldNotEnabled(field))) }
    }

    /// Refuses unless users may change `field` ([`Refusal::FieldNotEditable`]).
    pub fn require_editable(&self, field: Field) -> Result<()> {
        if self.effective(field) == FieldControl::Edit {
            Ok(())
        } else {
            Err(Error::Refused(Refusal::FieldNotEditable(field)))
        }
    }

    /// Whether users may change `field` through the profile (Auth0's `/me/v1/profile`). Until
    /// the account center is set, Auth0's defaults hold (names, picture and metadata are the
    /// user's); once set, its fields decide for both dialects.
    pub fn profile_editable(&self, field: Field) -> bool {
        if self.configured {
            self.effective(field) == FieldControl::Edit
        } else {
            matches!(field, Field::Name | Field::Avatar | Field::Profile | Field::CustomData)
        }
    }

    /// Applies `change`, checking every given value.
    pub fn apply(&mut self, change: AccountCenterChange) -> Result<()> {
        let mut errors = Vec::new();
        if let Some(Some(url)) = &change.delete_account_url
            && !url.is_empty()
            && !crate::service::is_picture_url(url)
        {
            errors.push(FieldError::new("deleteAccountUrl", "must be an http(s) URL of at most 2048 characters"));
        }
        if let Some(Some(names)) = &change.profile_fields {
            let mut seen = std::collections::HashSet::new();
            if names.iter().any(|n| !seen.insert(n)) {
                errors.push(FieldError::new("profileFields", "must not name a field twice"));
            }
        }
        if let Some(origins) = &change.webauthn_related_origins
            && origins.iter().any(|o| o.len() > 2048)
        {
            errors.push(FieldError::new("webauthnRelatedOrigins", "each origin must be at most 2048 characters"));
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        if let Some(e) = change.enabled {
            self.enabled = e;
        }
        if let Some(f) = change.fields {
            self.fields = f;
        }
        if let Some(mut o) = change.webauthn_related_origins {
            let mut seen = std::collections::HashSet::new();
            o.retain(|x| seen.insert(x.clone()));
            self.webauthn_related_origins = o;
        }
        if let Some(u) = change.delete_account_url {
            self.delete_account_url = u.filter(|u| !u.is_empty());
        }
        if let Some(c) = change.custom_css {
            self.custom_css = c;
        }
        if let Some(p) = change.profile_fields {
            self.profile_fields = p;
        }
        self.configured = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absent_field_is_off_and_passkey_follows_mfa_only_when_unset() {
        let mut c = AccountCenter::default();
        assert_eq!(c.control(Field::Name), FieldControl::Off);
        c.fields.insert(Field::Mfa, FieldControl::Edit);
        assert_eq!(c.effective(Field::Passkey), FieldControl::Edit);
        c.fields.insert(Field::Passkey, FieldControl::Off);
        assert_eq!(c.effective(Field::Passkey), FieldControl::Off);
        assert!(matches!(
            c.require_editable(Field::Passkey),
            Err(Error::Refused(Refusal::FieldNotEditable(Field::Passkey)))
        ));
        assert!(matches!(c.require_readable(Field::Name), Err(Error::Refused(Refusal::FieldNotEnabled(Field::Name)))));
    }

    #[test]
    fn fields_are_replaced_whole_and_origins_deduplicated() {
        let mut c = AccountCenter::default();
        c.fields.insert(Field::Name, FieldControl::Edit);
        c.apply(AccountCenterChange {
            fields: Some(BTreeMap::from([(Field::Mfa, FieldControl::Off)])),
            webauthn_related_origins: Some(vec!["https://a.example".into(), "https://a.example".into()]),
            delete_account_url: Some(Some(String::new())),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.control(Field::Name), FieldControl::Off);
        assert_eq!(c.webauthn_related_origins, ["https://a.example"]);
        assert_eq!(c.delete_account_url, None);
        assert!(c.configured);
        let bad = AccountCenterChange { delete_account_url: Some(Some("ftp://x".into())), ..Default::default() };
        assert!(c.apply(bad).is_err());
    }

    #[test]
    fn the_stored_form_round_trips_and_unset_keeps_auth0_defaults() {
        let unset = AccountCenter::from_stored(None);
        assert!(!unset.enabled && unset.fields.is_empty());
        assert!(unset.profile_editable(Field::Name) && !unset.profile_editable(Field::Email));
        let mut c = AccountCenter::default();
        c.apply(AccountCenterChange {
            enabled: Some(true),
            fields: Some(BTreeMap::from([(Field::Username, FieldControl::Edit)])),
            ..Default::default()
        })
        .unwrap();
        let back = AccountCenter::from_stored(Some(&serde_json::to_string(&c).unwrap()));
        assert_eq!(back, c);
        assert!(!back.profile_editable(Field::Name));
        assert_eq!(serde_json::to_value(&c).unwrap()["fields"], serde_json::json!({"username": "Edit"}));
    }
}
