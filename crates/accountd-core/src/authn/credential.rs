//! The one trait every credential type implements: enrollment (`begin` makes the challenge the
//! client answers and the state kept until it does; `finish` checks the answer against that state
//! and yields the method to store; `enroll_direct` takes client-supplied material in one step, as
//! Logto's TOTP and backup codes arrive), and what a stored method counts as (`counts_as`), which
//! the "don't leave the user without a way in" rules ask. Adding a type means one module and one
//! line in [`for_type`].

use serde_json::Value;
use zeroize::Zeroizing;

use super::method::{MethodType, NewMethod, PhoneDelivery};
use super::password_policy::PasswordPolicy;
use crate::error::Result;
use crate::message::OutgoingMessage;
use crate::secret::MasterKey;
use crate::user::User;

/// The WebAuthn relying party a request speaks for: the tenant domain it came in on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelyingParty {
    /// RP ID: the host, no port.
    pub id: String,
    /// The origin browsers report (`https://auth.example.com`, `http://localhost:8080`).
    pub origin: String,
    /// Display name (the tenant's name).
    pub name: String,
}

/// What enrollment knows about the request.
pub struct EnrollContext<'a> {
    /// The user enrolling.
    pub user: &'a User,
    /// The relying party / issuer of this domain.
    pub rp: &'a RelyingParty,
    /// Seals secrets at rest.
    pub master_key: &'a MasterKey,
    /// Credential ids the user already has (WebAuthn `excludeCredentials`).
    pub existing_key_ids: Vec<String>,
    /// The browser's user agent.
    pub user_agent: Option<&'a str>,
    /// The tenant's account-API base URL, `{scheme}://{host}/` (push enrollment tickets point here).
    pub base_url: &'a str,
}

/// What the client asked to enroll (the POST body, validated).
#[derive(Debug, Clone, PartialEq)]
pub enum EnrollRequest {
    /// A password.
    Password,
    /// A passkey; `exclude` fills `excludeCredentials` with the user's existing keys.
    Passkey {
        /// `use_exclude_credentials`.
        exclude: bool,
    },
    /// A platform authenticator or security key as a second factor.
    SecurityKey {
        /// `webauthn-platform` or `webauthn-roaming`.
        platform: bool,
    },
    /// A TOTP app.
    Totp,
    /// Codes by email to `email`.
    Email {
        /// Normalized address.
        email: String,
    },
    /// Codes by SMS (or voice) to `phone_number`.
    Phone {
        /// E.164 number.
        phone_number: String,
        /// SMS or voice.
        delivery: PhoneDelivery,
    },
    /// A companion device.
    PushNotification,
    /// A recovery code.
    RecoveryCode,
}

impl EnrollRequest {
    /// The type this request enrolls.
    pub fn method_type(&self) -> MethodType {
        match self {
            EnrollRequest::Password => MethodType::Password,
            EnrollRequest::Passkey { .. } => MethodType::Passkey,
            EnrollRequest::SecurityKey { platform: true } => MethodType::WebauthnPlatform,
            EnrollRequest::SecurityKey { platform: false } => MethodType::WebauthnRoaming,
            EnrollRequest::Totp => MethodType::Totp,
            EnrollRequest::Email { .. } => MethodType::Email,
            EnrollRequest::Phone { .. } => MethodType::Phone,
            EnrollRequest::PushNotification => MethodType::PushNotification,
            EnrollRequest::RecoveryCode => MethodType::RecoveryCode,
        }
    }
}

/// What the client answers with (the verify body, validated).
#[derive(Debug)]
pub enum EnrollProof {
    /// Nothing beyond `auth_session` (recovery code, push).
    Nothing,
    /// A one-time code (TOTP, email, phone).
    OtpCode(String),
    /// The new password.
    NewPassword(Zeroizing<String>),
    /// A WebAuthn attestation (`authn_response`), as JSON.
    Attestation(Value),
}

/// What the client is shown to answer, by type.
#[derive(Debug, Clone, PartialEq)]
pub enum EnrollChallenge {
    /// Nothing beyond the ids (email, phone: the code is on its way).
    CodeSent,
    /// The password policy the new password must meet.
    Password {
        /// The tenant's policy (each dialect renders it in its own shape).
        policy: PasswordPolicy,
    },
    /// WebAuthn `PublicKeyCredentialCreationOptions` (JSON, base64url).
    WebAuthn {
        /// `authn_params_public_key`.
        options: Value,
    },
    /// A QR code's contents (TOTP, push), with the TOTP secret for manual entry.
    Barcode {
        /// `otpauth://…`
        barcode_uri: String,
        /// The base32 TOTP secret.
        manual_input_code: Option<String>,
    },
    /// The recovery code, shown once.
    RecoveryCode {
        /// The code.
        recovery_code: String,
    },
}

/// The outcome of `begin`.
pub struct Begun {
    /// State to keep (sealed) until `finish`.
    pub state: Value,
    /// What the client is shown.
    pub challenge: EnrollChallenge,
    /// A message to send (email and phone codes).
    pub message: Option<OutgoingMessage>,
}

/// What a stored method counts as when core decides whether a user can still sign in (kratos's
/// `ActiveCredentialsCounter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counts {
    /// Signs in on its own, and is no second factor (a password).
    FirstFactor,
    /// Signs in on its own, and can also answer a second-factor challenge (a passkey).
    BothFactors,
    /// Only a second factor (TOTP, a security key, codes by email or SMS, push).
    SecondFactor,
    /// A second factor of last resort, only kept beside another one (recovery/backup codes).
    BackupSecondFactor,
}

impl Counts {
    /// Whether it signs a user in on its own.
    pub fn first_factor(self) -> bool {
        matches!(self, Counts::FirstFactor | Counts::BothFactors)
    }

    /// Whether it is a second factor that stands on its own (not a backup).
    pub fn standalone_second_factor(self) -> bool {
        matches!(self, Counts::BothFactors | Counts::SecondFactor)
    }
}

/// Client-supplied material for a one-step enrollment (Logto's `POST/PUT mfa-verifications`).
#[derive(Debug)]
pub enum DirectEnrollment {
    /// A TOTP secret (base32) the client generated or was given, with a code from the app if the
    /// client sends one.
    Totp {
        /// The base32 secret.
        secret: Zeroizing<String>,
        /// A current code proving the app has the secret.
        code: Option<String>,
    },
    /// A set of backup codes the client generated or was given.
    BackupCodes(Vec<Zeroizing<String>>),
}

/// Enrollment of one credential type.
#[async_trait::async_trait]
pub trait Credential: Send + Sync {
    /// What a stored method of type `t` (one this module enrolls) counts as.
    fn counts_as(&self, t: MethodType) -> Counts;
    /// Enrolls `method_id` in one step from client-supplied material; types that only enroll
    /// through a challenge refuse.
    async fn enroll_direct(
        &self,
        cx: &EnrollContext<'_>,
        material: DirectEnrollment,
        method_id: &str,
    ) -> Result<NewMethod> {
        let _ = (cx, material, method_id);
        Err(crate::error::Error::Internal(anyhow::anyhow!("this credential type has no one-step enrollment")))
    }
    /// Starts enrolling `method_id`.
    async fn begin(&self, cx: &EnrollContext<'_>, request: &EnrollRequest, method_id: &str) -> Result<Begun>;
    /// Checks the client's proof against the state `begin` kept, and yields the method to store.
    async fn finish(
        &self,
        cx: &EnrollContext<'_>,
        state: Value,
        proof: EnrollProof,
        method_id: &str,
    ) -> Result<NewMethod>;
}

/// The module that enrolls `t` (passwords are enrolled by the account service itself: they need
/// the tenant's policy and the user's password history).
pub fn for_type(t: MethodType) -> Option<&'static dyn Credential> {
    match t {
        MethodType::Totp => Some(&super::totp::Totp),
        MethodType::RecoveryCode => Some(&super::recovery_code::RecoveryCode),
        MethodType::Email | MethodType::Phone => Some(&super::otp::OneTimeCode),
        MethodType::Passkey | MethodType::WebauthnPlatform | MethodType::WebauthnRoaming => {
            Some(&super::webauthn::WebAuthn)
        }
        MethodType::PushNotification => Some(&super::push::Push),
        MethodType::Password => None,
    }
}

/// What a stored method of type `t` counts as (passwords, enrolled by the service, sign in alone).
pub fn counts_as(t: MethodType) -> Counts {
    for_type(t).map_or(Counts::FirstFactor, |m| m.counts_as(t))
}

/// A new stored method with the common fields filled in.
pub fn new_method(cx: &EnrollContext<'_>, t: MethodType, id: &str, secret: String) -> NewMethod {
    let now = crate::clock::now_millis();
    NewMethod {
        method: super::method::AuthenticationMethod {
            id: id.to_string(),
            user_id: cx.user.id.clone(),
            method_type: t,
            confirmed: true,
            name: None,
            details: Default::default(),
            created_at: now,
            updated_at: now,
            last_used_at: None,
        },
        secret,
        lookup_key: None,
    }
}

/// The account name shown in authenticator apps: email, else username, else phone, else id.
pub fn account_label(user: &User) -> String {
    user.email
        .clone()
        .or_else(|| user.username.clone())
        .or_else(|| user.phone_number.clone())
        .unwrap_or_else(|| user.id.0.clone())
}
