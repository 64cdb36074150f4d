//! JSON shapes of the My Account API: request bodies checked against the spec's schemas (every
//! object `additionalProperties: false`; errors in AJV's words with a JSON Pointer, as Auth0
//! answers), and the views of domain objects.

use accountd_core::authn::credential::{EnrollChallenge, EnrollProof, EnrollRequest};
use accountd_core::authn::method::{AuthenticationMethod, MethodType, PhoneDelivery};
use accountd_core::clock::to_rfc3339;
use serde::Serialize;
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use super::error::ValidationError;

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

const FACTOR_TYPES: [&str; 9] = [
    "password",
    "passkey",
    "webauthn-platform",
    "webauthn-roaming",
    "totp",
    "phone",
    "email",
    "push-notification",
    "recovery-code",
];

fn is_connection(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// `POST /authentication-methods`: the request for one type (`oneOf` by `type`).
pub fn enroll_request(body: &Map<String, Value>) -> Result<EnrollRequest, Vec<ValidationError>> {
    let mut c = Checker::new(body, "");
    let Some(t) = c.one_of("type", true, &FACTOR_TYPES) else {
        return Err(c.errors);
    };
    let t = MethodType::parse(&t).unwrap_or(MethodType::Totp);
    let request = match t {
        MethodType::Password | MethodType::Passkey => {
            let mut allowed = vec!["type", "connection", "identity_user_id"];
            if t == MethodType::Passkey {
                allowed.push("use_exclude_credentials");
            }
            c.only(&allowed);
            let conn = c.string("connection", false, 1, 128);
            c.pattern("connection", conn, is_connection, "^[a-zA-Z0-9-]+$");
            let id = c.string("identity_user_id", false, 1, 255);
            c.pattern("identity_user_id", id, |s| !s.chars().any(char::is_whitespace), "^\\S+$");
            if t == MethodType::Passkey {
                EnrollRequest::Passkey { exclude: c.boolean("use_exclude_credentials").unwrap_or(false) }
            } else {
                EnrollRequest::Password
            }
        }
        MethodType::Totp => {
            c.only(&["type"]);
            EnrollRequest::Totp
        }
        MethodType::PushNotification => {
            c.only(&["type"]);
            EnrollRequest::PushNotification
        }
        MethodType::RecoveryCode => {
            c.only(&["type"]);
            EnrollRequest::RecoveryCode
        }
        MethodType::WebauthnPlatform | MethodType::WebauthnRoaming => {
            c.only(&["type"]);
            EnrollRequest::SecurityKey { platform: t == MethodType::WebauthnPlatform }
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
            EnrollRequest::Email { email: email.unwrap_or_default() }
        }
        MethodType::Phone => {
            c.only(&["type", "phone_number", "preferred_authentication_method"]);
            let phone = c.string("phone_number", true, 1, 32);
            let phone = c.pattern("phone_number", phone, accountd_core::authn::otp::is_e164, "^\\+[1-9]\\d{7,14}$");
            let delivery = match c.one_of("preferred_authentication_method", false, &["sms", "voice"]).as_deref() {
                Some("voice") => PhoneDelivery::Voice,
                _ => PhoneDelivery::Sms,
            };
            EnrollRequest::Phone { phone_number: phone.unwrap_or_default(), delivery }
        }
    };
    c.finish().map(|_| request)
}

/// `POST /authentication-methods/{id}/verify`: the variant is the one of the method's type.
pub fn verify_request(t: MethodType, body: &Map<String, Value>) -> Result<(String, EnrollProof), Vec<ValidationError>> {
    let mut c = Checker::new(body, "");
    let proof = match t {
        MethodType::Passkey | MethodType::WebauthnPlatform | MethodType::WebauthnRoaming => {
            c.only(&["auth_session", "authn_response"]);
            let resp = c.object("authn_response", true);
            if let Some(r) = resp {
                check_attestation(&mut c.errors, r);
            }
            EnrollProof::Attestation(resp.map(|r| Value::Object(r.clone())).unwrap_or_default())
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
            EnrollProof::NewPassword(Zeroizing::new(p.unwrap_or_default()))
        }
        MethodType::Email | MethodType::Phone | MethodType::Totp => {
            c.only(&["auth_session", "otp_code"]);
            EnrollProof::OtpCode(c.string("otp_code", true, 1, 16).unwrap_or_default())
        }
        MethodType::PushNotification | MethodType::RecoveryCode => {
            c.only(&["auth_session"]);
            EnrollProof::Nothing
        }
    };
    let session = c.string("auth_session", true, 1, 1024);
    c.finish().map(|_| (session.unwrap_or_default(), proof))
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

/// `PATCH /authentication-methods/{id}`.
pub fn update_request(
    body: &Map<String, Value>,
) -> Result<(Option<String>, Option<PhoneDelivery>), Vec<ValidationError>> {
    let mut c = Checker::new(body, "");
    c.only(&["name", "preferred_authentication_method"]);
    let name = c.string("name", false, 0, 255);
    let preferred = c
        .one_of("preferred_authentication_method", false, &["sms", "voice"])
        .map(|v| if v == "voice" { PhoneDelivery::Voice } else { PhoneDelivery::Sms });
    c.finish().map(|_| (name, preferred))
}

/// The spec's `AuthenticationMethod` object for a stored method, serialized straight from the
/// method (the list is the account API's most frequent read; building `Value` maps cost more than
/// reading the list).
#[serde_with::skip_serializing_none]
#[derive(Serialize, Default)]
pub struct MethodView<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    method_type: &'static str,
    usage: [&'static str; 1],
    created_at: String,
    identity_user_id: Option<&'a str>,
    last_password_reset: Option<String>,
    credential_backed_up: Option<bool>,
    credential_device_type: Option<&'a str>,
    key_id: Option<&'a str>,
    public_key: Option<&'a str>,
    user_handle: Option<&'a str>,
    transports: Option<&'a [String]>,
    user_agent: Option<&'a str>,
    aaguid: Option<&'a str>,
    relying_party_id: Option<&'a str>,
    confirmed: Option<bool>,
    last_auth_at: Option<String>,
    name: Option<&'a str>,
    email: Option<&'a str>,
    phone_number: Option<&'a str>,
    preferred_authentication_method: Option<PhoneDelivery>,
}

impl<'a> From<&'a AuthenticationMethod> for MethodView<'a> {
    fn from(m: &'a AuthenticationMethod) -> Self {
        let d = &m.details;
        let t = m.method_type;
        let mut v = MethodView {
            id: &m.id,
            method_type: t.as_str(),
            usage: [if t.is_primary() { "primary" } else { "secondary" }],
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
                        v.preferred_authentication_method = Some(d.preferred_authentication_method.unwrap_or_default());
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

/// The spec's `AuthenticationMethod` object as a JSON value.
pub fn method_view(m: &AuthenticationMethod) -> Value {
    serde_json::to_value(MethodView::from(m)).unwrap_or(Value::Null)
}

/// The body of `GET /me/v1/authentication-methods`.
#[derive(Serialize)]
pub struct MethodList<'a> {
    /// At most 20 (the schema's limit).
    pub authentication_methods: Vec<MethodView<'a>>,
}

/// The 202 body of an enrollment start.
pub fn challenge_view(method_id: &str, t: MethodType, auth_session: &str, c: &EnrollChallenge) -> Value {
    let mut v = json!({ "auth_session": auth_session });
    // Passkeys get their id only through `Location` (spec §1.3.6).
    if t != MethodType::Passkey {
        v["id"] = json!(method_id);
    }
    match c {
        EnrollChallenge::CodeSent => {}
        EnrollChallenge::Password { policy } => v["policy"] = policy.clone(),
        EnrollChallenge::WebAuthn { options } => v["authn_params_public_key"] = options.clone(),
        EnrollChallenge::Barcode { barcode_uri, manual_input_code } => {
            v["barcode_uri"] = json!(barcode_uri);
            if let Some(m) = manual_input_code {
                v["manual_input_code"] = json!(m);
            }
        }
        EnrollChallenge::RecoveryCode { recovery_code } => v["recovery_code"] = json!(recovery_code),
    }
    v
}

/// The type a method id names (`totp|dev_…` → totp).
pub fn type_of_id(id: &str) -> Option<MethodType> {
    MethodType::parse(id.split_once('|')?.0)
}

/// `Location` of a method: absolute, on the serving host, the id percent-encoded.
pub fn location(base_url: &str, id: &str) -> String {
    let enc = accountd_core::origin::encode_component(id);
    format!("{base_url}/me/v1/authentication-methods/{enc}")
}
