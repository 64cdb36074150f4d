//! JSON shapes of the My Account API, and the only place Auth0's names for core's types live:
//! typed request bodies (`*Request`), built by [`Checker`] against the spec's schemas (every
//! object `additionalProperties: false`; errors in AJV's words with a JSON Pointer, as Auth0
//! answers, which serde's messages cannot reproduce), and typed views of domain objects
//! (`*Response`). Both derive `ToSchema` for `/me/v1/openapi.json`; `Deserialize` is derived on
//! requests only so that the schema follows their serde names, bodies are never parsed with it.

use accountd_core::account_center::{AccountCenter, Field};
use accountd_core::authn::credential::{EnrollChallenge, EnrollProof, EnrollRequest};
use accountd_core::authn::method::{AuthenticationMethod, MethodType, PhoneDelivery};
use accountd_core::authn::password_policy::{
    CharacterType, CharacterTypeRule, Complexity, Dictionary, DictionaryPolicy, HistoryPolicy, MaxLengthExceeded,
    PasswordPolicy, ProfileDataPolicy, ProfileField, Restriction,
};
use accountd_core::clock::to_rfc3339;
use accountd_core::service::{
    FieldAccess, FieldPolicy, FieldSource, PROFILE_POLICY, ProfileChanges, ReadOnlyReason, is_picture_url,
};
use accountd_core::user::User;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use zeroize::Zeroizing;

use super::error::{MeError, ValidationError};

/// Checks one JSON object against a schema, collecting every error.
pub struct Checker<'a> {
    body: &'a Map<String, Value>,
    base: String,
    /// What is wrong so far.
    pub errors: Vec<ValidationError>,
}

impl<'a> Checker<'a> {
    /// A checker for `body` at JSON Pointer `base` (`` for the root).
    pub fn new(body: &'a Map<String, Value>, base: &str) -> Self {
        Self { body, base: base.to_string(), errors: vec![] }
    }

    fn ptr(&self, key: &str) -> String {
        format!("{}/{key}", self.base)
    }

    fn data(&self, key: &str) -> String {
        format!("data{}/{key}", self.base)
    }

    fn data_root(&self) -> String {
        format!("data{}", self.base)
    }

    /// `additionalProperties: false`.
    pub fn only(&mut self, allowed: &[&str]) {
        let mut extra: Vec<&String> = self.body.keys().filter(|k| !allowed.contains(&k.as_str())).collect();
        extra.sort();
        for k in extra {
            let e =
                ValidationError::at(&self.ptr(k), format!("{} must NOT have additional properties", self.data_root()));
            self.errors.push(e);
        }
    }

    fn missing(&mut self, key: &str) {
        let e =
            ValidationError::at(&self.ptr(key), format!("{} must have required property '{key}'", self.data_root()));
        self.errors.push(e);
    }

    /// A string property of `min..=max` characters.
    pub fn string(&mut self, key: &str, required: bool, min: usize, max: usize) -> Option<String> {
        match self.body.get(key) {
            None => {
                if required {
                    self.missing(key);
                }
                None
            }
            Some(Value::String(s)) => {
                let n = s.chars().count();
                if n < min {
                    let e = ValidationError::at(
                        &self.ptr(key),
                        format!("{} must NOT have fewer than {min} characters", self.data(key)),
                    );
                    self.errors.push(e);
                    None
                } else if n > max {
                    let e = ValidationError::at(
                        &self.ptr(key),
                        format!("{} must NOT have more than {max} characters", self.data(key)),
                    );
                    self.errors.push(e);
                    None
                } else {
                    Some(s.clone())
                }
            }
            Some(_) => {
                let e = ValidationError::at(&self.ptr(key), format!("{} must be string", self.data(key)));
                self.errors.push(e);
                None
            }
        }
    }

    /// A string property that must also match `pattern` (described by `shown`).
    pub fn pattern(
        &mut self,
        key: &str,
        value: Option<String>,
        ok: impl Fn(&str) -> bool,
        shown: &str,
    ) -> Option<String> {
        match value {
            Some(v) if !ok(&v) => {
                let e =
                    ValidationError::at(&self.ptr(key), format!("{} must match pattern \"{shown}\"", self.data(key)));
                self.errors.push(e);
                None
            }
            v => v,
        }
    }

    /// A string property limited to `allowed` values.
    pub fn one_of(&mut self, key: &str, required: bool, allowed: &[&str]) -> Option<String> {
        let v = self.string(key, required, 0, usize::MAX)?;
        if allowed.contains(&v.as_str()) {
            Some(v)
        } else {
            let e = ValidationError::at(
                &self.ptr(key),
                format!("{} must be equal to one of the allowed values", self.data(key)),
            );
            self.errors.push(e);
            None
        }
    }

    /// A boolean property.
    pub fn boolean(&mut self, key: &str) -> Option<bool> {
        match self.body.get(key) {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                let e = ValidationError::at(&self.ptr(key), format!("{} must be boolean", self.data(key)));
                self.errors.push(e);
                None
            }
        }
    }

    /// An object property, for nested checks.
    pub fn object(&mut self, key: &str, required: bool) -> Option<&'a Map<String, Value>> {
        match self.body.get(key) {
            None => {
                if required {
                    self.missing(key);
                }
                None
            }
            Some(Value::Object(m)) => Some(m),
            Some(_) => {
                let e = ValidationError::at(&self.ptr(key), format!("{} must be object", self.data(key)));
                self.errors.push(e);
                None
            }
        }
    }

    /// Ends the check.
    pub fn finish(self) -> Result<(), Vec<ValidationError>> {
        if self.errors.is_empty() { Ok(()) } else { Err(self.errors) }
    }
}

// ---- Auth0's names for core's types --------------------------------------------------------

/// Auth0's name of a method type (`FactorTypeEnum`).
pub fn method_type_name(t: MethodType) -> &'static str {
    match t {
        MethodType::Password => "password",
        MethodType::Passkey => "passkey",
        MethodType::WebauthnPlatform => "webauthn-platform",
        MethodType::WebauthnRoaming => "webauthn-roaming",
        MethodType::Totp => "totp",
        MethodType::Phone => "phone",
        MethodType::Email => "email",
        MethodType::PushNotification => "push-notification",
        MethodType::RecoveryCode => "recovery-code",
    }
}

/// The method type Auth0 names `s`.
pub fn parse_method_type(s: &str) -> Option<MethodType> {
    MethodType::ALL.into_iter().find(|t| method_type_name(*t) == s)
}

/// `primary` or `secondary`: whether the type signs a user in on its own.
fn usage_name(t: MethodType) -> &'static str {
    if t.is_primary() { "primary" } else { "secondary" }
}

/// Whether an SMS or a voice call carries a phone's codes (`preferred_authentication_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PreferredAuthenticationMethod {
    /// A text message.
    Sms,
    /// A voice call.
    Voice,
}

impl From<PhoneDelivery> for PreferredAuthenticationMethod {
    fn from(d: PhoneDelivery) -> Self {
        match d {
            PhoneDelivery::Sms => Self::Sms,
            PhoneDelivery::Voice => Self::Voice,
        }
    }
}

impl From<PreferredAuthenticationMethod> for PhoneDelivery {
    fn from(p: PreferredAuthenticationMethod) -> Self {
        match p {
            PreferredAuthenticationMethod::Sms => Self::Sms,
            PreferredAuthenticationMethod::Voice => Self::Voice,
        }
    }
}

impl PreferredAuthenticationMethod {
    const NAMES: [&str; 2] = ["sms", "voice"];

    fn parse(s: &str) -> Option<Self> {
        match s {
            "sms" => Some(Self::Sms),
            "voice" => Some(Self::Voice),
            _ => None,
        }
    }
}

// ---- Requests ------------------------------------------------------------------------------

fn is_connection(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// `POST /me/v1/authentication-methods`: the method to enroll (`oneOf` by `type`).
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum CreateAuthenticationMethodRequest {
    /// A password for the user's database connection.
    Password {
        /// The database connection (`^[a-zA-Z0-9-]+$`, 1–128).
        connection: Option<String>,
        /// The identity's user id (`^\S+$`, 1–255).
        identity_user_id: Option<String>,
    },
    /// A passkey; answered with WebAuthn creation options.
    Passkey {
        /// The database connection (`^[a-zA-Z0-9-]+$`, 1–128).
        connection: Option<String>,
        /// The identity's user id (`^\S+$`, 1–255).
        identity_user_id: Option<String>,
        /// Whether the options list the user's passkeys as `excludeCredentials`.
        use_exclude_credentials: Option<bool>,
    },
    /// This device's screen lock as a second factor.
    WebauthnPlatform,
    /// A security key as a second factor.
    WebauthnRoaming,
    /// An authenticator app.
    Totp,
    /// Codes by SMS or voice call.
    Phone {
        /// E.164 (`^\+[1-9]\d{7,14}$`).
        phone_number: String,
        /// SMS (the default) or voice.
        preferred_authentication_method: Option<PreferredAuthenticationMethod>,
    },
    /// Codes by email.
    Email {
        /// The address codes go to.
        email: String,
    },
    /// A companion device that approves sign-ins.
    PushNotification,
    /// A recovery code, shown once.
    RecoveryCode,
}

impl CreateAuthenticationMethodRequest {
    /// Checks `body` against the schema of its `type`, reporting every error at once.
    pub fn from_body(body: &Map<String, Value>) -> Result<Self, MeError> {
        Self::check(body).map_err(MeError::validation)
    }

    fn check(body: &Map<String, Value>) -> Result<Self, Vec<ValidationError>> {
        let mut c = Checker::new(body, "");
        let names = MethodType::ALL.map(method_type_name);
        let Some(t) = c.one_of("type", true, &names).as_deref().and_then(parse_method_type) else {
            return Err(c.errors);
        };
        let request = match t {
            MethodType::Password | MethodType::Passkey => {
                let mut allowed = vec!["type", "connection", "identity_user_id"];
                if t == MethodType::Passkey {
                    allowed.push("use_exclude_credentials");
                }
                c.only(&allowed);
                let conn = c.string("connection", false, 1, 128);
                let connection = c.pattern("connection", conn, is_connection, "^[a-zA-Z0-9-]+$");
                let id = c.string("identity_user_id", false, 1, 255);
                let identity_user_id =
                    c.pattern("identity_user_id", id, |s| !s.chars().any(char::is_whitespace), "^\\S+$");
                if t == MethodType::Passkey {
                    let use_exclude_credentials = c.boolean("use_exclude_credentials");
                    Self::Passkey { connection, identity_user_id, use_exclude_credentials }
                } else {
                    Self::Password { connection, identity_user_id }
                }
            }
            MethodType::Totp => {
                c.only(&["type"]);
                Self::Totp
            }
            MethodType::PushNotification => {
                c.only(&["type"]);
                Self::PushNotification
            }
            MethodType::RecoveryCode => {
                c.only(&["type"]);
                Self::RecoveryCode
            }
            MethodType::WebauthnPlatform => {
                c.only(&["type"]);
                Self::WebauthnPlatform
            }
            MethodType::WebauthnRoaming => {
                c.only(&["type"]);
                Self::WebauthnRoaming
            }
            MethodType::Email => {
                c.only(&["type", "email"]);
                let email = c.string("email", true, 1, 254);
                let email = match email.map(|e| accountd_core::user::normalize_email(&e)) {
                    Some(Ok(e)) => Some(e),
                    Some(Err(_)) => {
                        c.errors.push(ValidationError::at("/email", "data/email must match format \"email\""));
                        None
                    }
                    None => None,
                };
                Self::Email { email: email.unwrap_or_default() }
            }
            MethodType::Phone => {
                c.only(&["type", "phone_number", "preferred_authentication_method"]);
                let phone = c.string("phone_number", true, 1, 32);
                let phone = c.pattern("phone_number", phone, accountd_core::authn::otp::is_e164, "^\\+[1-9]\\d{7,14}$");
                let preferred_authentication_method = c
                    .one_of("preferred_authentication_method", false, &PreferredAuthenticationMethod::NAMES)
                    .as_deref()
                    .and_then(PreferredAuthenticationMethod::parse);
                Self::Phone { phone_number: phone.unwrap_or_default(), preferred_authentication_method }
            }
        };
        c.finish().map(|_| request)
    }
}

impl From<CreateAuthenticationMethodRequest> for EnrollRequest {
    fn from(r: CreateAuthenticationMethodRequest) -> Self {
        use CreateAuthenticationMethodRequest as R;
        match r {
            R::Password { .. } => EnrollRequest::Password,
            R::Passkey { use_exclude_credentials, .. } => {
                EnrollRequest::Passkey { exclude: use_exclude_credentials.unwrap_or(false) }
            }
            R::WebauthnPlatform => EnrollRequest::SecurityKey { platform: true },
            R::WebauthnRoaming => EnrollRequest::SecurityKey { platform: false },
            R::Totp => EnrollRequest::Totp,
            R::Phone { phone_number, preferred_authentication_method } => EnrollRequest::Phone {
                phone_number,
                delivery: preferred_authentication_method.map(PhoneDelivery::from).unwrap_or_default(),
            },
            R::Email { email } => EnrollRequest::Email { email },
            R::PushNotification => EnrollRequest::PushNotification,
            R::RecoveryCode => EnrollRequest::RecoveryCode,
        }
    }
}

/// `POST /me/v1/authentication-methods/{id}/verify`: the enrollment's `auth_session` and the
/// proof its type asks for (and only that one).
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyAuthenticationMethodRequest {
    /// The `auth_session` of the enrollment start (1–1024).
    pub auth_session: String,
    /// TOTP, email and phone: the code (1–16).
    pub otp_code: Option<String>,
    /// Password: the new password (1–256, no control characters).
    pub new_password: Option<String>,
    /// Passkeys and WebAuthn: the `AuthenticatorAttestationResponse` as JSON.
    #[schema(value_type = Option<Object>)]
    pub authn_response: Option<Map<String, Value>>,
}

impl VerifyAuthenticationMethodRequest {
    /// Checks `body` against the variant of the method's type `t`, reporting every error at once.
    pub fn from_body(t: MethodType, body: &Map<String, Value>) -> Result<Self, MeError> {
        Self::check(t, body).map_err(MeError::validation)
    }

    fn check(t: MethodType, body: &Map<String, Value>) -> Result<Self, Vec<ValidationError>> {
        let mut c = Checker::new(body, "");
        let (mut otp_code, mut new_password, mut authn_response) = (None, None, None);
        match t {
            MethodType::Passkey | MethodType::WebauthnPlatform | MethodType::WebauthnRoaming => {
                c.only(&["auth_session", "authn_response"]);
                let resp = c.object("authn_response", true);
                if let Some(r) = resp {
                    check_attestation(&mut c.errors, r);
                }
                authn_response = Some(resp.cloned().unwrap_or_default());
            }
            MethodType::Password => {
                c.only(&["auth_session", "new_password"]);
                let p = c.string("new_password", true, 1, 256);
                let p = c.pattern(
                    "new_password",
                    p,
                    |s| !s.chars().any(|ch| ch.is_control()),
                    "^[^\\u0000-\\u001f\\u007f-\\u009f]*$",
                );
                new_password = Some(p.unwrap_or_default());
            }
            MethodType::Email | MethodType::Phone | MethodType::Totp => {
                c.only(&["auth_session", "otp_code"]);
                otp_code = Some(c.string("otp_code", true, 1, 16).unwrap_or_default());
            }
            MethodType::PushNotification | MethodType::RecoveryCode => {
                c.only(&["auth_session"]);
            }
        }
        let session = c.string("auth_session", true, 1, 1024);
        c.finish().map(|_| Self { auth_session: session.unwrap_or_default(), otp_code, new_password, authn_response })
    }

    /// The `auth_session` and core's proof.
    pub fn into_parts(self) -> (String, EnrollProof) {
        let proof = match (self.otp_code, self.new_password, self.authn_response) {
            (_, _, Some(r)) => EnrollProof::Attestation(Value::Object(r)),
            (_, Some(p), _) => EnrollProof::NewPassword(Zeroizing::new(p)),
            (Some(code), ..) => EnrollProof::OtpCode(code),
            (None, None, None) => EnrollProof::Nothing,
        };
        (self.auth_session, proof)
    }
}

/// `authn_response` (AuthenticatorAttestationResponse), with the spec's limits. Browsers'
/// `toJSON()` adds keys inside `response` (`publicKey`, `authenticatorData`…): those are let through.
fn check_attestation(errors: &mut Vec<ValidationError>, r: &Map<String, Value>) {
    let mut c = Checker::new(r, "/authn_response");
    c.only(&["id", "rawId", "type", "response", "authenticatorAttachment", "clientExtensionResults"]);
    c.string("id", true, 1, 1364);
    c.string("rawId", true, 1, 1364);
    c.one_of("type", true, &["public-key"]);
    c.one_of("authenticatorAttachment", false, &["platform", "cross-platform"]);
    if let Some(resp) = c.object("response", true) {
        let mut inner = Checker::new(resp, "/authn_response/response");
        inner.string("attestationObject", true, 1, 2000);
        inner.string("clientDataJSON", true, 1, 1000);
        c.errors.extend(inner.errors);
    }
    if r.get("clientExtensionResults").is_some_and(|v| !v.is_object()) {
        c.errors.push(ValidationError::at(
            "/authn_response/clientExtensionResults",
            "data/authn_response/clientExtensionResults must be object",
        ));
    }
    errors.extend(c.errors);
}

/// `PATCH /me/v1/authentication-methods/{id}`.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAuthenticationMethodRequest {
    /// A new name (0–255).
    pub name: Option<String>,
    /// Phone methods: SMS or voice.
    pub preferred_authentication_method: Option<PreferredAuthenticationMethod>,
}

impl UpdateAuthenticationMethodRequest {
    /// Checks `body`, reporting every error at once.
    pub fn from_body(body: &Map<String, Value>) -> Result<Self, MeError> {
        let mut c = Checker::new(body, "");
        c.only(&["name", "preferred_authentication_method"]);
        let name = c.string("name", false, 0, 255);
        let preferred_authentication_method = c
            .one_of("preferred_authentication_method", false, &PreferredAuthenticationMethod::NAMES)
            .as_deref()
            .and_then(PreferredAuthenticationMethod::parse);
        c.finish().map_err(MeError::validation)?;
        Ok(Self { name, preferred_authentication_method })
    }
}

/// The keys a profile `PATCH` may carry.
pub const PROFILE_WRITABLE: [&str; 6] = ["given_name", "family_name", "name", "nickname", "picture", "user_metadata"];

/// `PATCH /me/v1/profile`: the user-owned fields to change.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProfileRequest {
    /// 1–150 characters.
    pub given_name: Option<String>,
    /// 1–150 characters.
    pub family_name: Option<String>,
    /// 1–300 characters.
    pub name: Option<String>,
    /// 1–300 characters.
    pub nickname: Option<String>,
    /// An http(s) URL of at most 2048 characters.
    pub picture: Option<String>,
    /// Keys to set, or with `null` remove, in `user_metadata` (merged).
    #[schema(value_type = Option<Object>)]
    pub user_metadata: Option<Map<String, Value>>,
}

impl UpdateProfileRequest {
    /// Checks `body`: read-only fields (by their fixed policy or the tenant's account center) are
    /// refused with `read_only_field`, each with its reason as `source`, in the profile's field
    /// order; anything else that is not a writable field as an additional property.
    pub fn from_body(body: &Map<String, Value>, center: &AccountCenter) -> Result<Self, MeError> {
        let read_only: Vec<ValidationError> = PROFILE_POLICY
            .iter()
            .filter(|p| !profile_writable(center, p) && body.contains_key(p.field))
            .map(|p| {
                let by_center = p.access == FieldAccess::ReadWrite;
                ValidationError {
                    detail: if by_center {
                        "Field is read-only in the tenant's account settings.".to_string()
                    } else {
                        read_only_explanation(p.reason).to_string()
                    },
                    field: None,
                    pointer: Some(format!("/{}", p.field)),
                    source: if by_center {
                        Some(ACCOUNT_CENTER_REASON.into())
                    } else {
                        p.reason.map(|r| reason_name(r).to_string())
                    },
                }
            })
            .collect();
        if !read_only.is_empty() {
            return Err(MeError::read_only(read_only));
        }
        let mut c = Checker::new(body, "");
        c.only(&PROFILE_WRITABLE);
        let given_name = c.string("given_name", false, 1, 150);
        let family_name = c.string("family_name", false, 1, 150);
        let name = c.string("name", false, 1, 300);
        let nickname = c.string("nickname", false, 1, 300);
        let picture = c.string("picture", false, 1, 2048);
        if picture.as_deref().is_some_and(|p| !is_picture_url(p)) {
            c.errors.push(ValidationError::at("/picture", "data/picture must match format \"uri\""));
        }
        let user_metadata = c.object("user_metadata", false).cloned();
        c.finish().map_err(MeError::validation)?;
        Ok(Self { given_name, family_name, name, nickname, picture, user_metadata })
    }
}

impl From<UpdateProfileRequest> for ProfileChanges {
    fn from(r: UpdateProfileRequest) -> Self {
        ProfileChanges {
            given_name: r.given_name,
            family_name: r.family_name,
            name: r.name,
            nickname: r.nickname,
            picture: r.picture,
            user_metadata: r.user_metadata,
        }
    }
}

// ---- Authentication methods and factors ----------------------------------------------------

/// The spec's `AuthenticationMethod` object for a stored method, serialized straight from the
/// method (the list is the account API's most frequent read; building `Value` maps cost more than
/// reading the list).
#[serde_with::skip_serializing_none]
#[derive(Serialize, Default, ToSchema)]
pub struct AuthenticationMethodResponse<'a> {
    /// `{type}|{random}` (passwords: `password|{user id}`).
    id: &'a str,
    /// The method's type (`FactorTypeEnum`).
    #[serde(rename = "type")]
    method_type: &'static str,
    /// `primary` or `secondary`.
    #[schema(value_type = Vec<String>)]
    usage: [&'static str; 1],
    /// When it was enrolled.
    created_at: String,
    /// Password and passkey: the user.
    identity_user_id: Option<&'a str>,
    /// Password: when it last changed.
    last_password_reset: Option<String>,
    /// Passkey: whether it is synced.
    credential_backed_up: Option<bool>,
    /// Passkey: `multi_device` or `single_device`.
    credential_device_type: Option<&'a str>,
    /// WebAuthn: the credential id.
    key_id: Option<&'a str>,
    /// WebAuthn: the public key.
    public_key: Option<&'a str>,
    /// Passkey: the WebAuthn user handle.
    user_handle: Option<&'a str>,
    /// Passkey: the authenticator's transports.
    #[schema(value_type = Option<Vec<String>>)]
    transports: Option<&'a [String]>,
    /// Passkey: the browser that registered it.
    user_agent: Option<&'a str>,
    /// Passkey: the authenticator model.
    aaguid: Option<&'a str>,
    /// Passkey: the RP ID.
    relying_party_id: Option<&'a str>,
    /// Second factors: whether the enrollment was verified.
    confirmed: Option<bool>,
    /// When it was last used.
    last_auth_at: Option<String>,
    /// Its name.
    name: Option<&'a str>,
    /// Email: the address.
    email: Option<&'a str>,
    /// Phone: the number.
    phone_number: Option<&'a str>,
    /// Phone: SMS or voice.
    preferred_authentication_method: Option<PreferredAuthenticationMethod>,
}

impl<'a> From<&'a AuthenticationMethod> for AuthenticationMethodResponse<'a> {
    fn from(m: &'a AuthenticationMethod) -> Self {
        let d = &m.details;
        let t = m.method_type;
        let mut v = AuthenticationMethodResponse {
            id: &m.id,
            method_type: method_type_name(t),
            usage: [usage_name(t)],
            created_at: to_rfc3339(m.created_at),
            ..Default::default()
        };
        match t {
            MethodType::Password => {
                v.identity_user_id = Some(&m.user_id.0);
                v.last_password_reset = (m.updated_at > m.created_at).then(|| to_rfc3339(m.updated_at));
            }
            MethodType::Passkey => {
                v.credential_backed_up = Some(d.credential_backed_up.unwrap_or(false));
                v.credential_device_type = Some(d.credential_device_type.as_deref().unwrap_or("single_device"));
                v.identity_user_id = Some(&m.user_id.0);
                v.key_id = Some(d.key_id.as_deref().unwrap_or_default());
                v.public_key = Some(d.public_key.as_deref().unwrap_or_default());
                v.user_handle = Some(d.user_handle.as_deref().unwrap_or_default());
                v.transports = d.transports.as_deref();
                v.user_agent = d.user_agent.as_deref();
                v.aaguid = d.aaguid.as_deref();
                v.relying_party_id = d.relying_party_id.as_deref();
                v.last_auth_at = m.last_used_at.map(to_rfc3339);
            }
            t => {
                v.confirmed = Some(m.confirmed);
                v.last_auth_at = m.last_used_at.map(to_rfc3339);
                if t != MethodType::RecoveryCode {
                    v.name = m.name.as_deref();
                }
                match t {
                    MethodType::Email => v.email = Some(d.email.as_deref().unwrap_or_default()),
                    MethodType::Phone => {
                        v.phone_number = Some(d.phone_number.as_deref().unwrap_or_default());
                        v.preferred_authentication_method =
                            Some(d.preferred_authentication_method.unwrap_or_default().into());
                    }
                    MethodType::WebauthnPlatform | MethodType::WebauthnRoaming => {
                        v.key_id = d.key_id.as_deref();
                        v.public_key = d.public_key.as_deref();
                    }
                    _ => {}
                }
            }
        }
        v
    }
}

/// The body of `GET /me/v1/authentication-methods`.
#[derive(Serialize, ToSchema)]
pub struct AuthenticationMethodListResponse<'a> {
    /// At most 20 (the schema's limit).
    pub authentication_methods: Vec<AuthenticationMethodResponse<'a>>,
}

impl<'a> AuthenticationMethodListResponse<'a> {
    /// The first 20 of `methods` (the schema allows no more).
    pub fn new(methods: &'a [AuthenticationMethod]) -> Self {
        Self { authentication_methods: methods.iter().take(20).map(AuthenticationMethodResponse::from).collect() }
    }
}

/// One factor the tenant lets users enroll.
#[derive(Serialize, ToSchema)]
pub struct FactorResponse {
    /// The factor's type (`FactorTypeEnum`).
    #[serde(rename = "type")]
    factor_type: &'static str,
    /// `primary` or `secondary`.
    #[schema(value_type = Vec<String>)]
    usage: [&'static str; 1],
}

/// The body of `GET /me/v1/factors`.
#[derive(Serialize, ToSchema)]
pub struct FactorListResponse {
    /// The enabled factors, in core's order.
    pub factors: Vec<FactorResponse>,
}

impl FactorListResponse {
    /// The factors of `enabled`.
    pub fn new(enabled: &[MethodType]) -> Self {
        let factors =
            enabled.iter().map(|t| FactorResponse { factor_type: method_type_name(*t), usage: [usage_name(*t)] });
        Self { factors: factors.collect() }
    }
}

/// The 202 body of an enrollment start: the `auth_session` and what the type's client answers.
#[serde_with::skip_serializing_none]
#[derive(Serialize, ToSchema)]
pub struct EnrollmentChallengeResponse {
    /// Sent back with the verify.
    pub auth_session: String,
    /// The new method's id (passkeys get theirs only through `Location`, spec §1.3.6).
    pub id: Option<String>,
    /// Password: the policy the new password must meet.
    pub policy: Option<PasswordPolicyResponse>,
    /// Passkeys and WebAuthn: `PublicKeyCredentialCreationOptions` (base64url).
    #[schema(value_type = Option<Object>)]
    pub authn_params_public_key: Option<Value>,
    /// TOTP and push: the QR code's contents.
    pub barcode_uri: Option<String>,
    /// TOTP: the secret, for manual entry.
    pub manual_input_code: Option<String>,
    /// Recovery code: the code, shown once.
    pub recovery_code: Option<String>,
}

impl EnrollmentChallengeResponse {
    /// The challenge of an enrollment of type `t` started as `method_id`.
    pub fn new(method_id: &str, t: MethodType, auth_session: &str, c: &EnrollChallenge) -> Self {
        let mut v = Self {
            auth_session: auth_session.to_string(),
            id: (t != MethodType::Passkey).then(|| method_id.to_string()),
            policy: None,
            authn_params_public_key: None,
            barcode_uri: None,
            manual_input_code: None,
            recovery_code: None,
        };
        match c {
            EnrollChallenge::CodeSent => {}
            EnrollChallenge::Password { policy } => v.policy = Some(policy.into()),
            EnrollChallenge::WebAuthn { options } => v.authn_params_public_key = Some(options.clone()),
            EnrollChallenge::Barcode { barcode_uri, manual_input_code } => {
                v.barcode_uri = Some(barcode_uri.clone());
                v.manual_input_code = manual_input_code.clone();
            }
            EnrollChallenge::RecoveryCode { recovery_code } => v.recovery_code = Some(recovery_code.clone()),
        }
        v
    }
}

/// The type a method id names (`totp|dev_…` → totp). Ids carry core's stored name.
pub fn type_of_id(id: &str) -> Option<MethodType> {
    MethodType::from_storage_name(id.split_once('|')?.0)
}

/// `Location` of a method: absolute, on the serving host, the id percent-encoded.
pub fn location(base_url: &str, id: &str) -> String {
    let enc = accountd_core::origin::encode_component(id);
    format!("{base_url}/me/v1/authentication-methods/{enc}")
}

// ---- The password policy (`PasswordAuthenticationMethodPolicy`) ----------------------------

/// A password policy as Auth0's My Account API shows it.
#[derive(Serialize, ToSchema)]
pub struct PasswordPolicyResponse {
    /// Length and character rules.
    pub complexity: ComplexityResponse,
    /// Which profile fields a password may not contain.
    pub profile_data: ProfileDataResponse,
    /// How many earlier passwords may not be reused.
    pub history: HistoryResponse,
    /// Which list of common passwords is refused.
    pub dictionary: DictionaryResponse,
}

/// Length and character rules.
#[derive(Serialize, ToSchema)]
pub struct ComplexityResponse {
    /// The fewest characters.
    pub min_length: u32,
    /// `lowercase`, `uppercase`, `number`, `special`.
    pub character_types: Vec<&'static str>,
    /// `all` or `three_of_four`.
    pub character_type_rule: &'static str,
    /// `allow` or `block`: more than 2 identical characters in a row.
    pub identical_characters: &'static str,
    /// `allow` or `block`: 3 or more sequential characters.
    pub sequential_characters: &'static str,
    /// `truncate` or `error`.
    pub max_length_exceeded: &'static str,
}

/// The profile-data rule.
#[derive(Serialize, ToSchema)]
pub struct ProfileDataResponse {
    /// Whether the rule applies.
    pub active: bool,
    /// The profile fields a password may not contain.
    pub blocked_fields: Vec<&'static str>,
}

/// The history rule.
#[derive(Serialize, ToSchema)]
pub struct HistoryResponse {
    /// Whether the rule applies.
    pub active: bool,
    /// How many earlier passwords may not be reused.
    pub size: u32,
}

/// The dictionary rule.
#[derive(Serialize, ToSchema)]
pub struct DictionaryResponse {
    /// Whether the rule applies.
    pub active: bool,
    /// `en_10k` or `en_100k`.
    pub default: &'static str,
}

fn character_type_name(t: CharacterType) -> &'static str {
    match t {
        CharacterType::Lowercase => "lowercase",
        CharacterType::Uppercase => "uppercase",
        CharacterType::Number => "number",
        CharacterType::Special => "special",
    }
}

fn restriction_name(r: Restriction) -> &'static str {
    match r {
        Restriction::Allow => "allow",
        Restriction::Block => "block",
    }
}

fn profile_field_name(f: ProfileField) -> &'static str {
    match f {
        ProfileField::Name => "name",
        ProfileField::Email => "email",
        ProfileField::Username => "username",
        ProfileField::GivenName => "given_name",
        ProfileField::FamilyName => "family_name",
        ProfileField::Nickname => "nickname",
        ProfileField::PhoneNumber => "phone_number",
    }
}

impl From<&PasswordPolicy> for PasswordPolicyResponse {
    fn from(p: &PasswordPolicy) -> Self {
        let PasswordPolicy { complexity, profile_data, history, dictionary } = p;
        let Complexity {
            min_length,
            character_types,
            character_type_rule,
            identical_characters,
            sequential_characters,
            max_length_exceeded,
        } = complexity;
        let ProfileDataPolicy { active: profile_active, blocked_fields } = profile_data;
        let HistoryPolicy { active: history_active, size } = history;
        let DictionaryPolicy { active: dictionary_active, default } = dictionary;
        Self {
            complexity: ComplexityResponse {
                min_length: *min_length,
                character_types: character_types.iter().map(|t| character_type_name(*t)).collect(),
                character_type_rule: match character_type_rule {
                    CharacterTypeRule::All => "all",
                    CharacterTypeRule::ThreeOfFour => "three_of_four",
                },
                identical_characters: restriction_name(*identical_characters),
                sequential_characters: restriction_name(*sequential_characters),
                max_length_exceeded: match max_length_exceeded {
                    MaxLengthExceeded::Truncate => "truncate",
                    MaxLengthExceeded::Error => "error",
                },
            },
            profile_data: ProfileDataResponse {
                active: *profile_active,
                blocked_fields: blocked_fields.iter().map(|f| profile_field_name(*f)).collect(),
            },
            history: HistoryResponse { active: *history_active, size: *size },
            dictionary: DictionaryResponse {
                active: *dictionary_active,
                default: match default {
                    Dictionary::En10k => "en_10k",
                    Dictionary::En100k => "en_100k",
                },
            },
        }
    }
}

// ---- The profile ---------------------------------------------------------------------------

/// Why the account center makes a user field read-only (accountd's reason; Auth0 has none).
pub const ACCOUNT_CENTER_REASON: &str = "managed_via_account_center";

/// The English label of a profile field.
fn profile_label(field: &str) -> &'static str {
    match field {
        "user_id" => "User ID",
        "given_name" => "First name",
        "family_name" => "Last name",
        "name" => "Name",
        "nickname" => "Nickname",
        "picture" => "Picture",
        "email" => "Email",
        "email_verified" => "Email verified",
        "phone_number" => "Phone",
        "phone_verified" => "Phone verified",
        "username" => "Username",
        "created_at" => "Created",
        "updated_at" => "Updated",
        "user_metadata" => "Preferences",
        _ => "",
    }
}

fn access_name(a: FieldAccess) -> &'static str {
    match a {
        FieldAccess::ReadWrite => "read_write",
        FieldAccess::ReadOnly => "read_only",
    }
}

fn source_name(s: FieldSource) -> &'static str {
    match s {
        FieldSource::User => "user",
        FieldSource::Idp => "idp",
        FieldSource::System => "system",
    }
}

fn reason_name(r: ReadOnlyReason) -> &'static str {
    match r {
        ReadOnlyReason::IdentifierFlow => "managed_via_me_identifiers",
        ReadOnlyReason::System => "system_field",
    }
}

/// A sentence about why a field cannot be changed, for `read_only_field` errors.
fn read_only_explanation(r: Option<ReadOnlyReason>) -> &'static str {
    match r {
        Some(ReadOnlyReason::IdentifierFlow) => "Field is managed through verified identifier flows, not the profile.",
        Some(ReadOnlyReason::System) | None => "Field is managed by the system.",
    }
}

/// The account-center field that governs a user-owned profile key.
fn center_field(key: &str) -> Option<Field> {
    match key {
        "given_name" | "family_name" | "nickname" => Some(Field::Profile),
        "name" => Some(Field::Name),
        "picture" => Some(Field::Avatar),
        "user_metadata" => Some(Field::CustomData),
        _ => None,
    }
}

/// Whether the user may change the profile field of `p`: its fixed policy, then the account center.
fn profile_writable(center: &AccountCenter, p: &FieldPolicy) -> bool {
    p.access == FieldAccess::ReadWrite && center_field(p.field).is_none_or(|f| center.profile_editable(f))
}

/// One entry of `profile_policy`.
#[serde_with::skip_serializing_none]
#[derive(Serialize, ToSchema)]
pub struct ProfilePolicyEntry {
    /// A label to show.
    pub label: &'static str,
    /// `read_write` or `read_only`.
    pub access: &'static str,
    /// `user`, `idp` or `system`.
    pub source: &'static str,
    /// Why it is read-only (`managed_via_me_identifiers`, `system_field`, `managed_via_account_center`).
    pub reason: Option<&'static str>,
}

/// `profile_policy`: each field's JSON Pointer to its entry, in the profile's order.
#[derive(ToSchema)]
#[schema(value_type = Object)]
pub struct ProfilePolicyResponse(Vec<(String, ProfilePolicyEntry)>);

impl Serialize for ProfilePolicyResponse {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl ProfilePolicyResponse {
    /// The fixed policy with the user's fields projected from the tenant's account center.
    pub fn new(center: &AccountCenter) -> Self {
        let entries = PROFILE_POLICY.iter().map(|p| {
            let entry = if p.access == FieldAccess::ReadWrite && !profile_writable(center, p) {
                ProfilePolicyEntry {
                    label: profile_label(p.field),
                    access: access_name(FieldAccess::ReadOnly),
                    source: source_name(FieldSource::System),
                    reason: Some(ACCOUNT_CENTER_REASON),
                }
            } else {
                ProfilePolicyEntry {
                    label: profile_label(p.field),
                    access: access_name(p.access),
                    source: source_name(p.source),
                    reason: p.reason.map(reason_name),
                }
            };
            (format!("/{}", p.field), entry)
        });
        Self(entries.collect())
    }
}

/// Every key of the profile object, in its order.
pub const PROFILE_KEYS: [&str; 15] = [
    "user_id",
    "given_name",
    "family_name",
    "name",
    "nickname",
    "picture",
    "email",
    "email_verified",
    "phone_number",
    "phone_verified",
    "username",
    "created_at",
    "updated_at",
    "user_metadata",
    "profile_policy",
];

/// The profile object (spec §1.6). Fields without a value are left out, as Auth0 does.
#[serde_with::skip_serializing_none]
#[derive(Serialize, ToSchema)]
pub struct ProfileResponse<'a> {
    /// The user's id (`auth0|…`).
    pub user_id: &'a str,
    /// First name.
    pub given_name: Option<&'a str>,
    /// Last name.
    pub family_name: Option<&'a str>,
    /// Full name.
    pub name: Option<&'a str>,
    /// Nickname.
    pub nickname: Option<&'a str>,
    /// Picture URL.
    pub picture: Option<&'a str>,
    /// Primary email.
    pub email: Option<&'a str>,
    /// Whether the email was verified.
    pub email_verified: bool,
    /// Primary phone (E.164).
    pub phone_number: Option<&'a str>,
    /// Whether the phone was verified (only with a phone).
    pub phone_verified: Option<bool>,
    /// Username.
    pub username: Option<&'a str>,
    /// When the user was created.
    pub created_at: String,
    /// When the user last changed.
    pub updated_at: String,
    /// The user's own data (`{}` when none).
    #[schema(value_type = Object)]
    pub user_metadata: Value,
    /// What the user may change, and why not.
    pub profile_policy: ProfilePolicyResponse,
}

impl<'a> ProfileResponse<'a> {
    /// The profile of `u`, its policy following `center`.
    pub fn new(u: &'a User, center: &AccountCenter) -> Self {
        Self {
            user_id: &u.id.0,
            given_name: u.given_name.as_deref(),
            family_name: u.family_name.as_deref(),
            name: u.name.as_deref(),
            nickname: u.nickname.as_deref(),
            picture: u.picture.as_deref(),
            email: u.email.as_deref(),
            email_verified: u.email_verified,
            phone_number: u.phone_number.as_deref(),
            phone_verified: u.phone_number.as_ref().map(|_| u.phone_verified),
            username: u.username.as_deref(),
            created_at: to_rfc3339(u.created_at),
            updated_at: to_rfc3339(u.updated_at),
            user_metadata: if u.user_metadata.is_object() {
                u.user_metadata.clone()
            } else {
                Value::Object(Map::new())
            },
            profile_policy: ProfilePolicyResponse::new(center),
        }
    }
}

#[cfg(test)]
mod tests {
    use accountd_core::authn::password_policy::*;
    use accountd_core::service::field_policy;
    use serde_json::json;

    use super::*;

    #[test]
    fn method_type_names_are_auth0s() {
        let names: Vec<_> = MethodType::ALL.into_iter().map(method_type_name).collect();
        assert_eq!(
            names,
            [
                "password",
                "passkey",
                "webauthn-platform",
                "webauthn-roaming",
                "totp",
                "phone",
                "email",
                "push-notification",
                "recovery-code"
            ]
        );
        for t in MethodType::ALL {
            assert_eq!(parse_method_type(method_type_name(t)), Some(t));
        }
        assert_eq!(parse_method_type("webauthn_platform"), None);
    }

    #[test]
    fn preferred_method_names() {
        for d in [PhoneDelivery::Sms, PhoneDelivery::Voice] {
            let wire = PreferredAuthenticationMethod::from(d);
            assert_eq!(PhoneDelivery::from(wire), d);
            let name = serde_json::to_value(wire).unwrap();
            assert_eq!(PreferredAuthenticationMethod::parse(name.as_str().unwrap()), Some(wire));
        }
    }

    /// The policy shown to clients is the one the tenant stores, field for field: the shape was
    /// core's serde form before it moved here.
    #[test]
    fn password_policies_render_as_stored() {
        let mut other = PasswordPolicy::default();
        other.complexity.character_types = vec![CharacterType::Special, CharacterType::Number];
        other.complexity.character_type_rule = CharacterTypeRule::All;
        other.complexity.identical_characters = Restriction::Allow;
        other.complexity.max_length_exceeded = MaxLengthExceeded::Error;
        other.profile_data.blocked_fields = vec![
            ProfileField::Username,
            ProfileField::GivenName,
            ProfileField::FamilyName,
            ProfileField::Nickname,
            ProfileField::PhoneNumber,
        ];
        other.history = HistoryPolicy { active: false, size: 0 };
        other.dictionary.default = Dictionary::En100k;
        for p in [PasswordPolicy::default(), other] {
            let shown = serde_json::to_string(&PasswordPolicyResponse::from(&p)).unwrap();
            assert_eq!(shown, serde_json::to_string(&p).unwrap());
        }
        assert_eq!(
            serde_json::to_value(PasswordPolicyResponse::from(&PasswordPolicy::default())).unwrap()["complexity"],
            json!({"min_length": 8, "character_types": ["lowercase", "uppercase", "number", "special"],
                   "character_type_rule": "three_of_four", "identical_characters": "block",
                   "sequential_characters": "block", "max_length_exceeded": "truncate"})
        );
    }

    #[test]
    fn every_profile_field_but_the_policy_has_a_policy_and_a_label() {
        let with_policy: Vec<_> = PROFILE_POLICY.iter().map(|p| p.field).collect();
        assert_eq!(with_policy, PROFILE_KEYS[..14]);
        assert!(PROFILE_POLICY.iter().all(|p| !profile_label(p.field).is_empty()));
        assert!(PROFILE_WRITABLE.iter().all(|w| field_policy(w).is_some_and(|p| p.access == FieldAccess::ReadWrite)));
    }

    #[test]
    fn profile_policy_entries() {
        let policy = serde_json::to_value(ProfilePolicyResponse::new(&AccountCenter::default())).unwrap();
        assert_eq!(
            policy["/email"],
            json!({"label": "Email", "access": "read_only", "source": "system", "reason": "managed_via_me_identifiers"})
        );
        assert_eq!(policy["/user_id"]["reason"], "system_field");
        let keys: Vec<_> = policy.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, PROFILE_KEYS[..14].iter().map(|k| format!("/{k}")).collect::<Vec<_>>());
    }

    #[test]
    fn verify_bodies_carry_the_proof_of_their_type() {
        let body = |v: Value| v.as_object().unwrap().clone();
        let r = VerifyAuthenticationMethodRequest::check(
            MethodType::Totp,
            &body(json!({"auth_session": "s", "otp_code": "123456"})),
        )
        .unwrap();
        assert!(matches!(r.into_parts(), (s, EnrollProof::OtpCode(c)) if s == "s" && c == "123456"));
        let r = VerifyAuthenticationMethodRequest::check(MethodType::RecoveryCode, &body(json!({"auth_session": "s"})))
            .unwrap();
        assert!(matches!(r.into_parts().1, EnrollProof::Nothing));
        let errors =
            VerifyAuthenticationMethodRequest::check(MethodType::Password, &body(json!({"otp_code": 1}))).unwrap_err();
        let pointers: Vec<_> = errors.iter().map(|e| e.pointer.as_deref().unwrap_or("")).collect();
        assert_eq!(pointers, ["/otp_code", "/new_password", "/auth_session"]);
    }

    #[test]
    fn create_bodies_become_core_requests() {
        let body = |v: Value| v.as_object().unwrap().clone();
        let r =
            CreateAuthenticationMethodRequest::check(&body(json!({"type": "phone", "phone_number": "+15550100999",
                                                                       "preferred_authentication_method": "voice"})))
            .unwrap();
        assert_eq!(
            EnrollRequest::from(r),
            EnrollRequest::Phone { phone_number: "+15550100999".into(), delivery: PhoneDelivery::Voice }
        );
        let r = CreateAuthenticationMethodRequest::check(&body(json!({"type": "webauthn-platform"}))).unwrap();
        assert_eq!(EnrollRequest::from(r), EnrollRequest::SecurityKey { platform: true });
        assert!(CreateAuthenticationMethodRequest::check(&body(json!({"type": "sms"}))).is_err());
    }
}

// ---- Connected accounts (spec auth0 §1.5) ----------------------------------------------------

/// `POST /me/v1/connected-accounts/connect`.
#[derive(Debug, ToSchema)]
pub struct ConnectRequest {
    /// The connection's name.
    pub connection: String,
    /// Where the user comes back with `connect_code`.
    pub redirect_uri: String,
    /// Echoed back with the code.
    pub state: Option<String>,
    /// PKCE S256 challenge.
    pub code_challenge: Option<String>,
    /// `S256`, when `code_challenge` is given.
    pub code_challenge_method: Option<String>,
    /// Scopes that replace the connection's.
    pub scopes: Option<Vec<String>>,
    /// Further parameters for the provider.
    #[schema(value_type = Option<Object>)]
    pub authorization_params: Option<Map<String, Value>>,
}

/// The `authorization_params` Auth0 lets through, with their lengths.
const AUTHORIZATION_PARAMS: &[(&str, usize, usize)] = &[
    ("acr_values", 1, 1024),
    ("audience", 1, 512),
    ("resource", 1, 512),
    ("display", 1, 16),
    ("id_token_hint", 1, 4096),
    ("login_hint", 1, 255),
    ("max_age", 1, 10),
    ("prompt", 1, 32),
    ("ui_locales", 2, 100),
];

impl ConnectRequest {
    /// Checks the body against Auth0's schema (`additionalProperties: false`).
    pub fn from_body(body: &Map<String, Value>) -> Result<Self, MeError> {
        let mut c = Checker::new(body, "");
        c.only(&[
            "connection",
            "redirect_uri",
            "state",
            "code_challenge",
            "code_challenge_method",
            "scopes",
            "authorization_params",
        ]);
        let connection = c.string("connection", true, 1, 128);
        let redirect_uri = c.string("redirect_uri", true, 1, 2048);
        let redirect_uri = c.pattern("redirect_uri", redirect_uri, is_absolute_uri, "uri");
        let state = c.string("state", false, 1, 4096);
        let code_challenge = c.string("code_challenge", false, 43, 128);
        let code_challenge_method = c.one_of("code_challenge_method", false, &["S256"]);
        if body.contains_key("code_challenge") && !body.contains_key("code_challenge_method") {
            c.errors.push(ValidationError::at(
                "",
                "data must have property code_challenge_method when property code_challenge is present",
            ));
        }
        let scopes = match body.get("scopes") {
            None => None,
            Some(Value::Array(items))
                if (1..=100).contains(&items.len())
                    && items.iter().all(|s| s.as_str().is_some_and(|s| (1..=255).contains(&s.chars().count()))) =>
            {
                let list: Vec<String> = items.iter().filter_map(|s| s.as_str().map(str::to_string)).collect();
                let mut unique = list.clone();
                unique.sort();
                unique.dedup();
                if unique.len() == list.len() {
                    Some(list)
                } else {
                    c.errors.push(ValidationError::at("/scopes", "data/scopes must NOT have duplicate items"));
                    None
                }
            }
            Some(_) => {
                c.errors.push(ValidationError::at(
                    "/scopes",
                    "data/scopes must be an array of 1 to 100 strings of 1 to 255 characters",
                ));
                None
            }
        };
        let authorization_params = c.object("authorization_params", false);
        if let Some(params) = authorization_params {
            let mut p = Checker::new(params, "/authorization_params");
            p.only(&AUTHORIZATION_PARAMS.iter().map(|(k, _, _)| *k).collect::<Vec<_>>());
            for (k, min, max) in AUTHORIZATION_PARAMS {
                if *k == "max_age" {
                    if let Some(v) = params.get("max_age")
                        && v.as_u64().is_none_or(|n| n > 2_147_483_647)
                    {
                        p.errors.push(ValidationError::at(
                            "/authorization_params/max_age",
                            "data/authorization_params/max_age must be an integer from 0 to 2147483647",
                        ));
                    }
                    continue;
                }
                p.string(k, false, *min, *max);
            }
            p.one_of("display", false, &["page", "popup", "touch", "wap"]);
            p.one_of("prompt", false, &["none", "login", "consent", "select_account"]);
            c.errors.extend(p.errors);
        }
        let errors = std::mem::take(&mut c.errors);
        if !errors.is_empty() {
            return Err(MeError::validation(errors));
        }
        let (Some(connection), Some(redirect_uri)) = (connection, redirect_uri) else {
            return Err(MeError::validation(vec![ValidationError::at("", "data is invalid")]));
        };
        Ok(Self {
            connection,
            redirect_uri,
            state,
            code_challenge,
            code_challenge_method,
            scopes,
            authorization_params: authorization_params.cloned(),
        })
    }
}

impl From<ConnectRequest> for accountd_core::service::ConnectRequest {
    fn from(r: ConnectRequest) -> Self {
        let params = r
            .authorization_params
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
            .collect();
        Self {
            connection: r.connection,
            redirect_uri: r.redirect_uri,
            state: r.state,
            code_challenge: r.code_challenge,
            scopes: r.scopes,
            authorization_params: params,
        }
    }
}

/// `scheme:` followed by something, with no spaces (JSON Schema's `uri`).
fn is_absolute_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else { return false };
    !rest.is_empty()
        && scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The 201 answer to connect.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectResponse {
    /// accountd's page that sends the user to the provider (open it with `?ticket=`).
    pub connect_uri: String,
    /// The request's id, for `complete`.
    pub auth_session: String,
    /// The parameters to add to `connect_uri`.
    pub connect_params: ConnectParams,
    /// Seconds the ticket can be used.
    pub expires_in: i64,
}

/// `{ticket}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectParams {
    /// Opens the provider once.
    pub ticket: String,
}

/// `POST /me/v1/connected-accounts/complete`.
#[derive(Debug, ToSchema)]
pub struct CompleteRequest {
    /// The connect request's id.
    pub auth_session: String,
    /// The one-time code the user came back with.
    pub connect_code: String,
    /// The same redirect URI as in connect.
    pub redirect_uri: String,
    /// The PKCE verifier of the challenge.
    pub code_verifier: Option<String>,
}

impl CompleteRequest {
    /// Checks the body against Auth0's schema (`additionalProperties: false`).
    pub fn from_body(body: &Map<String, Value>) -> Result<Self, MeError> {
        let mut c = Checker::new(body, "");
        c.only(&["auth_session", "connect_code", "redirect_uri", "code_verifier"]);
        let auth_session = c.string("auth_session", true, 1, 64);
        let connect_code = c.string("connect_code", true, 1, 46);
        let redirect_uri = c.string("redirect_uri", true, 1, 2048);
        let redirect_uri = c.pattern("redirect_uri", redirect_uri, is_absolute_uri, "uri");
        let code_verifier = c.string("code_verifier", false, 43, 128);
        c.finish().map_err(MeError::validation)?;
        match (auth_session, connect_code, redirect_uri) {
            (Some(auth_session), Some(connect_code), Some(redirect_uri)) => {
                Ok(Self { auth_session, connect_code, redirect_uri, code_verifier })
            }
            _ => Err(MeError::validation(vec![ValidationError::at("", "data is invalid")])),
        }
    }
}

/// A connected account (`ConnectedAccount`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectedAccountResponse {
    /// `cac_…`.
    pub id: String,
    /// The connection's name.
    pub connection: String,
    /// Always `offline`.
    pub access_type: &'static str,
    /// The scopes granted at the provider.
    pub scopes: Vec<String>,
    /// When it was connected.
    pub created_at: String,
    /// When the kept tokens stop working, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

impl From<&accountd_core::upstream::LinkedIdentity> for ConnectedAccountResponse {
    fn from(i: &accountd_core::upstream::LinkedIdentity) -> Self {
        Self {
            id: i.id.clone(),
            connection: i.connection_name.clone(),
            access_type: "offline",
            scopes: i.scopes.clone(),
            created_at: accountd_core::clock::to_rfc3339(i.created_at),
            expires_at: i.tokens_expire_at.map(accountd_core::clock::to_rfc3339),
        }
    }
}

/// `{accounts, next?}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectedAccountListResponse {
    /// The accounts.
    pub accounts: Vec<ConnectedAccountResponse>,
    /// The cursor of the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// A connection the user can connect an account at.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionResponse {
    /// Its name.
    pub name: String,
    /// `oidc` or `oauth2`.
    pub strategy: &'static str,
    /// The scopes asked for by default.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
}

/// `{connections, next?}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionListResponse {
    /// The connections.
    pub connections: Vec<ConnectionResponse>,
    /// The cursor of the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}
