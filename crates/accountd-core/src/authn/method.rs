//! The authentication method as the account API shows it, and how it is stored.

use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::user::UserId;

/// The kinds of authentication method. Its serde form (kebab-case) is the stored one: the
/// tenant's account policy lists factors by it, and [`MethodType::storage_name`] is the
/// `authentication_methods.method_type` column. Neither is a wire name: each dialect names the
/// types in its own `wire.rs` with an exhaustive match (`me_v1::wire::method_type_name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MethodType {
    /// A password (primary).
    Password,
    /// A discoverable WebAuthn credential used to sign in (primary).
    Passkey,
    /// A platform authenticator (Touch ID, Windows Hello) as a second factor.
    WebauthnPlatform,
    /// A security key as a second factor.
    WebauthnRoaming,
    /// A time-based one-time password app.
    Totp,
    /// One-time codes by SMS.
    Phone,
    /// One-time codes by email.
    Email,
    /// A companion device that approves sign-ins.
    PushNotification,
    /// A one-time recovery code.
    RecoveryCode,
}

impl MethodType {
    /// Every type, in the order factors are listed.
    pub const ALL: [MethodType; 9] = [
        MethodType::Password,
        MethodType::Passkey,
        MethodType::WebauthnPlatform,
        MethodType::WebauthnRoaming,
        MethodType::Totp,
        MethodType::Phone,
        MethodType::Email,
        MethodType::PushNotification,
        MethodType::RecoveryCode,
    ];

    /// The stored name (`webauthn-platform`), the same as the serde form.
    pub fn storage_name(self) -> &'static str {
        match self {
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

    /// The type stored under `s`.
    pub fn from_storage_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.storage_name() == s)
    }

    /// Whether it signs a user in on its own (`primary`) or only as a second factor.
    pub fn is_primary(self) -> bool {
        matches!(self, MethodType::Password | MethodType::Passkey)
    }

    /// The `amr` value (RFC 8176) a sign-in with this method adds.
    pub fn amr(self) -> &'static str {
        match self {
            MethodType::Password => "pwd",
            MethodType::Passkey | MethodType::WebauthnPlatform | MethodType::WebauthnRoaming => "hwk",
            MethodType::Totp => "otp",
            MethodType::Phone => "sms",
            MethodType::Email => "email",
            MethodType::PushNotification => "swk",
            MethodType::RecoveryCode => "kba",
        }
    }
}

impl std::fmt::Display for MethodType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.storage_name())
    }
}

/// Whether an SMS or a voice call carries a phone code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PhoneDelivery {
    /// A text message.
    #[default]
    Sms,
    /// A voice call (delivered by the SMS connector with `type: voice` in its payload).
    Voice,
}

/// The public facts of a method, by type. None of these is secret; they are shown to the user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MethodDetails {
    /// Email methods: the address codes go to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone methods: the E.164 number codes go to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// Phone methods: SMS or voice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_authentication_method: Option<PhoneDelivery>,
    /// WebAuthn: the credential id (base64url).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// WebAuthn: the COSE public key (base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// Passkeys: whether the credential is backed up (synced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_backed_up: Option<bool>,
    /// Passkeys: `multi_device` or `single_device`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_device_type: Option<String>,
    /// WebAuthn: transports the authenticator reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transports: Option<Vec<String>>,
    /// Passkeys: the browser that registered it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Passkeys: the authenticator model's AAGUID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aaguid: Option<String>,
    /// Passkeys: the RP ID it was registered for (the domain the request came in on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relying_party_id: Option<String>,
    /// Passkeys: the WebAuthn user handle (base64url).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_handle: Option<String>,
    /// Push: the device's public key (JWK), which signs its approvals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_public_jwk: Option<serde_json::Value>,
}

/// An authentication method as stored, without its secret.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthenticationMethod {
    /// `{type}|{random}` (passwords: `password|{user id}`).
    pub id: String,
    /// Whose it is.
    pub user_id: UserId,
    /// Its kind.
    pub method_type: MethodType,
    /// Whether its enrollment was verified (methods are stored only once verified, so this is
    /// false only for rows written by older tooling).
    pub confirmed: bool,
    /// A friendly name the user chose.
    pub name: Option<String>,
    /// Public facts by type.
    pub details: MethodDetails,
    /// When it was enrolled.
    pub created_at: Millis,
    /// When it was last changed (for passwords: the last reset).
    pub updated_at: Millis,
    /// When it was last used to sign in.
    pub last_used_at: Option<Millis>,
}

/// A method to insert, with its secret (sealed or hashed by the credential module).
#[derive(Debug, Clone)]
pub struct NewMethod {
    /// The method.
    pub method: AuthenticationMethod,
    /// What proves possession: a sealed TOTP secret, a recovery code's hash, a serialized passkey.
    pub secret: String,
    /// A key to find it without the user (passkey user handle, push device id).
    pub lookup_key: Option<String>,
}

/// A new method id for a type: `totp|dev_…`.
pub fn new_method_id(t: MethodType) -> String {
    format!("{}|dev_{}", t.storage_name(), crate::secret::random_alnum(16))
}

/// The id of a user's password method (one per user).
pub fn password_method_id(user: &UserId) -> String {
    format!("password|{}", user.0)
}
