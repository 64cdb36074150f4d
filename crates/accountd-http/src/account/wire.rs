//! The JSON shapes of Logto's Account, Verification and account-center APIs: request bodies (the
//! types that validate them, also described for OpenAPI) and the views of core's types.

use accountd_core::account_center::{AccountCenter, Field, FieldControl};
use accountd_core::clock::to_rfc3339;
use accountd_core::service::{ClaimsPatch, Patch};
use accountd_core::upstream::{LinkedIdentity, UpstreamTokenSet};
use accountd_core::user::{Address, User};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use super::extract::Guarded;

/// `null` clears, a value sets, an absent key keeps.
fn patch<'de, D: Deserializer<'de>>(d: D) -> Result<Patch<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map_or(Patch::Clear, Patch::Set))
}

/// A key given (even as `null`): `Some(value)`; an absent key stays `None` by `default`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Ok(Some(Option::<T>::deserialize(d)?))
}

/// Logto's email pattern (`\S+@\S+\.\S+`).
fn is_email_like(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    let no_space = |x: &str| !x.is_empty() && !x.chars().any(char::is_whitespace);
    no_space(local) && domain.split_once('.').is_some_and(|(a, b)| no_space(a) && no_space(b))
}

/// Logto's username pattern (`^[A-Za-z_][A-Za-z0-9_]*$`).
fn is_username_like(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|f| f.is_ascii_alphabetic() || f == '_') && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

/// `PATCH /api/my-account`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateAccountBody {
    /// Full name; `null` clears it.
    #[serde(default, deserialize_with = "patch")]
    #[schema(value_type = Option<String>, nullable)]
    pub name: Patch<String>,
    /// Picture URL; `null` clears it.
    #[serde(default, deserialize_with = "patch")]
    #[schema(value_type = Option<String>, nullable)]
    pub avatar: Patch<String>,
    /// Username (`^[A-Za-z_][A-Za-z0-9_]*$`); `null` clears it. Needs `logto-verification-id`.
    #[serde(default, deserialize_with = "patch")]
    #[schema(value_type = Option<String>, nullable)]
    pub username: Patch<String>,
    /// Replaces the user's custom data.
    #[schema(value_type = Option<Object>)]
    pub custom_data: Option<Map<String, Value>>,
}

impl Guarded for UpdateAccountBody {
    fn check(&self) -> Result<(), String> {
        if let Patch::Set(u) = &self.username
            && !is_username_like(u)
        {
            return Err("username: must match ^[A-Za-z_][A-Za-z0-9_]*$".into());
        }
        if let Patch::Set(a) = &self.avatar
            && !accountd_core::service::is_picture_url(a)
        {
            return Err("avatar: must be a URL".into());
        }
        Ok(())
    }
}

/// An OIDC address, in Logto's camelCase.
#[derive(Debug, Default, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddressBody {
    /// The whole address.
    pub formatted: Option<String>,
    /// Street address.
    pub street_address: Option<String>,
    /// City.
    pub locality: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// Country.
    pub country: Option<String>,
}

/// `PATCH /api/my-account/profile`: any of the standard claims; unknown keys are dropped.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateProfileBody {
    /// Family name.
    pub family_name: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
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
    /// Postal address (needs the `address` scope; replaces the whole address).
    pub address: Option<AddressBody>,
}

impl Guarded for UpdateProfileBody {}

impl From<UpdateProfileBody> for ClaimsPatch {
    fn from(b: UpdateProfileBody) -> Self {
        ClaimsPatch {
            given_name: b.given_name,
            family_name: b.family_name,
            middle_name: b.middle_name,
            nickname: b.nickname,
            preferred_username: b.preferred_username,
            profile: b.profile,
            website: b.website,
            gender: b.gender,
            birthdate: b.birthdate,
            zoneinfo: b.zoneinfo,
            locale: b.locale,
            address: b.address.map(|a| Address {
                formatted: a.formatted,
                street_address: a.street_address,
                locality: a.locality,
                region: a.region,
                postal_code: a.postal_code,
                country: a.country,
            }),
        }
    }
}

/// `{password}` (`POST /api/my-account/password`, `POST /api/verifications/password`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordBody {
    /// The password (at least one character).
    pub password: String,
}

/// `POST /api/my-account/password`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdatePasswordBody {
    /// The new password (at least one character).
    pub password: String,
    /// Also end every other session of the user, with every token issued under them (accountd's
    /// own flag; Logto keeps them). The session of the calling token stays.
    #[serde(default)]
    pub sign_out_other_sessions: bool,
}

impl Guarded for UpdatePasswordBody {
    fn check(&self) -> Result<(), String> {
        if self.password.is_empty() { Err("password: must not be empty".into()) } else { Ok(()) }
    }
}

impl Guarded for PasswordBody {
    fn check(&self) -> Result<(), String> {
        if self.password.is_empty() { Err("password: must not be empty".into()) } else { Ok(()) }
    }
}

/// `POST /api/my-account/primary-email`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrimaryEmailBody {
    /// The new address.
    pub email: String,
    /// A verified email-code record for it.
    pub new_identifier_verification_record_id: String,
}

impl Guarded for PrimaryEmailBody {
    fn check(&self) -> Result<(), String> {
        if is_email_like(&self.email) { Ok(()) } else { Err("email: must be an email address".into()) }
    }
}

/// `POST /api/my-account/primary-phone`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrimaryPhoneBody {
    /// The new number, digits only.
    pub phone: String,
    /// A verified phone-code record for it.
    pub new_identifier_verification_record_id: String,
}

impl Guarded for PrimaryPhoneBody {
    fn check(&self) -> Result<(), String> {
        if !self.phone.is_empty() && self.phone.bytes().all(|b| b.is_ascii_digit()) {
            Ok(())
        } else {
            Err("phone: must be digits only".into())
        }
    }
}

/// Whether `GET /api/my-account` shows `identities`: the `identities` scope and a readable
/// `social` field.
pub fn shows_identities(scopes: &dyn Fn(&str) -> bool, center: &AccountCenter) -> bool {
    scopes("identities") && center.effective(Field::Social).readable()
}

/// `identities` as Logto shows them: `{[target]: {userId, details}}`, where `details` is the
/// connector's user info (`id`, `name`, `email` only when verified, `avatar`, and every claim
/// the provider returned as `rawData`).
pub fn identities_view(identities: &[LinkedIdentity]) -> Value {
    let mut out = Map::new();
    for i in identities {
        let p = &i.profile;
        let mut details = Map::new();
        details.insert("id".into(), json!(p.subject));
        if let Some(n) = &p.name {
            details.insert("name".into(), json!(n));
        }
        if let Some(e) = p.email.as_ref().filter(|_| p.email_verified) {
            details.insert("email".into(), json!(e));
        }
        if let Some(a) = &p.picture {
            details.insert("avatar".into(), json!(a));
        }
        details.insert("rawData".into(), Value::Object(p.raw.clone()));
        out.insert(i.connection_name.clone(), json!({ "userId": i.subject, "details": details }));
    }
    Value::Object(out)
}

/// `POST /api/verifications/social`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SocialBody {
    /// The social connector (connection) id or name.
    pub connector_id: String,
    /// The state the provider echoes to the client.
    pub state: String,
    /// Where the provider sends the user back (the client's page).
    pub redirect_uri: String,
    /// Scopes that replace the connector's.
    pub scope: Option<String>,
}

impl Guarded for SocialBody {
    fn check(&self) -> Result<(), String> {
        if self.connector_id.is_empty() || self.connector_id.len() > 128 {
            return Err("connectorId: must be 1 to 128 characters".into());
        }
        if self.state.len() > 4096
            || self.redirect_uri.len() > 2048
            || self.scope.as_ref().is_some_and(|s| s.len() > 2048)
        {
            return Err("state, redirectUri or scope: too long".into());
        }
        Ok(())
    }
}

/// `POST /api/verifications/social/verify`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SocialVerifyBody {
    /// The social record.
    pub verification_record_id: String,
    /// The callback's query parameters, as an object of strings.
    #[schema(value_type = Object)]
    pub connector_data: Map<String, Value>,
}

impl Guarded for SocialVerifyBody {
    fn check(&self) -> Result<(), String> {
        if self.connector_data.values().any(|v| !v.is_string()) {
            return Err("connectorData: every value must be a string".into());
        }
        Ok(())
    }
}

impl SocialVerifyBody {
    /// The callback, for core.
    pub fn callback(&self) -> accountd_core::service::UpstreamCallback {
        let text = |k: &str| self.connector_data.get(k).and_then(Value::as_str).map(str::to_string);
        accountd_core::service::UpstreamCallback { code: text("code"), state: text("state"), error: text("error") }
    }
}

/// `{verificationRecordId, authorizationUri, expiresAt}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SocialCreated {
    /// The social record.
    pub verification_record_id: String,
    /// Where to send the user.
    pub authorization_uri: String,
    /// When the record stops proving anything (ISO 8601).
    pub expires_at: String,
}

/// `PUT /api/my-account/identities/:target/access-token`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessTokenBody {
    /// A verified social record of the same provider account.
    pub verification_record_id: String,
}

impl Guarded for AccessTokenBody {
    fn check(&self) -> Result<(), String> {
        if self.verification_record_id.is_empty() {
            Err("verificationRecordId: must not be empty".into())
        } else {
            Ok(())
        }
    }
}

/// A kept provider token, as Logto returns it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThirdPartyToken {
    /// The provider's access token.
    pub access_token: String,
    /// The scopes granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `Bearer`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// Seconds the token has left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
}

impl From<&UpstreamTokenSet> for ThirdPartyToken {
    fn from(t: &UpstreamTokenSet) -> Self {
        let now = accountd_core::clock::now_millis();
        Self {
            access_token: t.access_token.clone(),
            scope: t.scope.clone(),
            token_type: t.token_type.clone(),
            expires_in: t.expires_at.map(|at| ((at - now) / 1000).max(0)),
        }
    }
}

/// `POST`/`PUT /api/my-account/identities`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentityBody {
    /// A verified social record.
    pub new_identifier_verification_record_id: String,
}

impl Guarded for IdentityBody {}

/// An address a code goes to.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct IdentifierBody {
    /// `email` or `phone`.
    #[serde(rename = "type")]
    pub kind: IdentifierKind,
    /// The address (an email of at most 256 characters, or digits).
    pub value: String,
}

/// The kind of an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum IdentifierKind {
    /// An email address.
    Email,
    /// A phone number.
    Phone,
}

impl IdentifierBody {
    fn check(&self) -> Result<(), String> {
        match self.kind {
            IdentifierKind::Email if is_email_like(&self.value) && self.value.len() <= 256 => Ok(()),
            IdentifierKind::Phone if !self.value.is_empty() && self.value.bytes().all(|b| b.is_ascii_digit()) => Ok(()),
            _ => Err("identifier.value: must be an email address or digits".into()),
        }
    }

    /// Core's address.
    pub fn address(&self) -> accountd_core::service::Address {
        match self.kind {
            IdentifierKind::Email => accountd_core::service::Address::Email(self.value.clone()),
            IdentifierKind::Phone => accountd_core::service::Address::Phone(self.value.clone()),
        }
    }
}

/// `POST /api/verifications/verification-code`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendCodeBody {
    /// Where to send the code.
    pub identifier: IdentifierBody,
    /// `BindMfa` or `UserPermissionValidation` (the default) for the user's own address.
    pub template_type: Option<TemplateType>,
}

/// The template types a caller may ask for.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
pub enum TemplateType {
    /// Prove it is the user.
    UserPermissionValidation,
    /// Use the address as a second factor.
    BindMfa,
}

impl Guarded for SendCodeBody {
    fn check(&self) -> Result<(), String> {
        self.identifier.check()
    }
}

/// `POST /api/verifications/verification-code/verify`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyCodeBody {
    /// The address the code was sent to.
    pub identifier: IdentifierBody,
    /// The record the send returned.
    pub verification_id: String,
    /// The code.
    pub code: String,
}

impl Guarded for VerifyCodeBody {
    fn check(&self) -> Result<(), String> {
        self.identifier.check()
    }
}

/// `{verificationRecordId, expiresAt}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordCreated {
    /// The record's id (send it as `logto-verification-id` or in a body).
    pub verification_record_id: String,
    /// When it expires (ISO 8601).
    pub expires_at: String,
}

impl RecordCreated {
    /// The view of a record.
    pub fn of(r: &accountd_core::verification::VerificationRecord) -> Self {
        Self { verification_record_id: r.id.clone(), expires_at: to_rfc3339(r.expires_at) }
    }
}

/// `{verificationRecordId}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordVerified {
    /// The record's id.
    pub verification_record_id: String,
}

/// Logto stores phone numbers without the `+`.
fn phone_view(p: &Option<String>) -> Value {
    json!(p.as_deref().map(|p| p.trim_start_matches('+')))
}

/// The `profile` object: the standard claims that are set, in camelCase (`address` only when
/// `with_address`).
pub fn claims_view(u: &User, with_address: bool) -> Map<String, Value> {
    let c = &u.claims;
    let mut m = Map::new();
    for (k, v) in [
        ("familyName", &u.family_name),
        ("givenName", &u.given_name),
        ("middleName", &c.middle_name),
        ("nickname", &u.nickname),
        ("preferredUsername", &c.preferred_username),
        ("profile", &c.profile),
        ("website", &c.website),
        ("gender", &c.gender),
        ("birthdate", &c.birthdate),
        ("zoneinfo", &c.zoneinfo),
        ("locale", &c.locale),
    ] {
        if let Some(v) = v {
            m.insert(k.into(), json!(v));
        }
    }
    if with_address && let Some(a) = &c.address {
        let mut am = Map::new();
        for (k, v) in [
            ("formatted", &a.formatted),
            ("streetAddress", &a.street_address),
            ("locality", &a.locality),
            ("region", &a.region),
            ("postalCode", &a.postal_code),
            ("country", &a.country),
        ] {
            if let Some(v) = v {
                am.insert(k.into(), json!(v));
            }
        }
        m.insert("address".into(), Value::Object(am));
    }
    m
}

/// The user as `GET /api/my-account` shows it (spec logto §5.1): filtered by the token's scopes,
/// then by the account center's readable fields; `hasSecurityVerificationMethod` always.
pub fn account_view(
    u: &User,
    has_password: bool,
    identities: Option<&[LinkedIdentity]>,
    scopes: &dyn Fn(&str) -> bool,
    center: &AccountCenter,
) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(u.id.0));
    if let Some(identities) = identities.filter(|_| shows_identities(scopes, center)) {
        m.insert("identities".into(), identities_view(identities));
    }
    let readable = |f: Field| center.effective(f).readable();
    if scopes("custom_data") && readable(Field::CustomData) {
        let data = if u.user_metadata.is_object() { u.user_metadata.clone() } else { json!({}) };
        m.insert("customData".into(), data);
    }
    if scopes("email") && readable(Field::Email) {
        m.insert("primaryEmail".into(), json!(u.email));
    }
    if scopes("phone") && readable(Field::Phone) {
        m.insert("primaryPhone".into(), phone_view(&u.phone_number));
    }
    if scopes("profile") {
        if readable(Field::Name) {
            m.insert("name".into(), json!(u.name));
        }
        if readable(Field::Avatar) {
            m.insert("avatar".into(), json!(u.picture));
        }
        if readable(Field::Username) {
            m.insert("username".into(), json!(u.username));
        }
        if readable(Field::Profile) {
            m.insert("profile".into(), Value::Object(claims_view(u, scopes("address"))));
        }
        m.insert("lastSignInAt".into(), json!(u.last_login_at));
        m.insert("createdAt".into(), json!(u.created_at));
        m.insert("updatedAt".into(), json!(u.updated_at));
        m.insert("applicationId".into(), Value::Null);
        m.insert("isSuspended".into(), json!(u.blocked));
        if readable(Field::Password) {
            m.insert("hasPassword".into(), json!(has_password));
        }
    }
    m.insert("hasSecurityVerificationMethod".into(), json!(u.has_security_verification_method(has_password)));
    Value::Object(m)
}

/// The account-center object (spec logto §2.1).
pub fn account_center_view(tenant: &str, c: &AccountCenter) -> Value {
    let fields: Map<String, Value> =
        c.fields.iter().map(|(f, v)| (f.as_str().to_string(), json!(control_name(*v)))).collect();
    json!({
        "tenantId": tenant,
        "id": "default",
        "enabled": c.enabled,
        "fields": fields,
        "webauthnRelatedOrigins": c.webauthn_related_origins,
        "deleteAccountUrl": c.delete_account_url,
        "customCss": c.custom_css,
        "profileFields": c.profile_fields.as_ref().map(|v| v.iter().map(|n| json!({ "name": n })).collect::<Vec<_>>()),
    })
}

fn control_name(c: FieldControl) -> &'static str {
    match c {
        FieldControl::Off => "Off",
        FieldControl::ReadOnly => "ReadOnly",
        FieldControl::Edit => "Edit",
    }
}

/// `PATCH /api/account-center` (each key optional; `fields` replaces every field, unknown field
/// names are dropped).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountCenterBody {
    /// Whether the Account API answers.
    pub enabled: Option<bool>,
    /// Field → `Off`, `ReadOnly` or `Edit`.
    #[schema(value_type = Option<Object>)]
    pub fields: Option<Map<String, Value>>,
    /// Extra WebAuthn origins.
    pub webauthn_related_origins: Option<Vec<String>>,
    /// Where users delete their account (`""` clears it).
    #[serde(default, deserialize_with = "patch")]
    #[schema(value_type = Option<String>, nullable)]
    pub delete_account_url: Patch<String>,
    /// CSS for the hosted account page.
    #[serde(default, deserialize_with = "patch")]
    #[schema(value_type = Option<String>, nullable)]
    pub custom_css: Patch<String>,
    /// Custom profile fields shown, in order.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<Object>>, nullable)]
    pub profile_fields: Option<Option<Vec<ProfileFieldBody>>>,
}

/// `{name}` of a custom profile field.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ProfileFieldBody {
    /// The field's name.
    pub name: String,
}

impl Guarded for AccountCenterBody {
    fn check(&self) -> Result<(), String> {
        if let Some(f) = &self.fields {
            for (k, v) in f {
                let known = Field::parse(k).is_some();
                let ok = matches!(v.as_str(), Some("Off" | "ReadOnly" | "Edit"));
                if known && !ok {
                    return Err(format!("fields.{k}: must be Off, ReadOnly or Edit"));
                }
            }
        }
        Ok(())
    }
}

impl AccountCenterBody {
    /// Core's change.
    pub fn into_change(self) -> accountd_core::account_center::AccountCenterChange {
        let control = |v: &Value| match v.as_str() {
            Some("ReadOnly") => FieldControl::ReadOnly,
            Some("Edit") => FieldControl::Edit,
            _ => FieldControl::Off,
        };
        let opt = |p: Patch<String>| match p {
            Patch::Keep => None,
            Patch::Set(v) => Some(Some(v)),
            Patch::Clear => Some(None),
        };
        accountd_core::account_center::AccountCenterChange {
            enabled: self.enabled,
            fields: self.fields.map(|f| f.iter().filter_map(|(k, v)| Some((Field::parse(k)?, control(v)))).collect()),
            webauthn_related_origins: self.webauthn_related_origins,
            delete_account_url: opt(self.delete_account_url),
            custom_css: opt(self.custom_css),
            profile_fields: self.profile_fields.map(|p| p.map(|v| v.into_iter().map(|f| f.name).collect())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(is_email_like("a@b.c") && !is_email_like("a@b") && !is_email_like("a b@c.d"));
        assert!(is_username_like("_ada1") && !is_username_like("1ada") && !is_username_like("a-b"));
    }
}
