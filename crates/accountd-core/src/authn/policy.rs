//! A tenant's account policy: which factors users may enroll, when sign-in asks for a second
//! factor, what proof the account API wants before sensitive changes (step-up), the password
//! policy, and the account API's rate limits. Stored as one JSON document per tenant; every field
//! has a default, so `{}` is a complete policy.

use serde::{Deserialize, Serialize};

use super::method::MethodType;
use super::password_policy::PasswordPolicy;
use crate::error::{Error, FieldError, Result};

/// When the hosted sign-in page asks for a second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MfaPolicy {
    /// Never (second factors are still enrollable, and useful for step-up).
    Never,
    /// When the user has enrolled one.
    #[default]
    WhenEnrolled,
    /// Always: users without a second factor cannot finish signing in.
    Always,
}

/// What the account API asks of a token before enrolling, deleting or changing a password
/// (like Auth0's "Require 2FA within the last 15 minutes").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StepUpPolicy {
    /// Whether sensitive operations are guarded at all.
    pub active: bool,
    /// How recent the sign-in must be, in seconds.
    pub max_age: u32,
    /// Whether the sign-in must have used a second factor when the user has one enrolled (off by
    /// default, like Auth0's "Require 2FA" switch).
    pub require_mfa: bool,
}

impl Default for StepUpPolicy {
    fn default() -> Self {
        Self { active: true, max_age: 900, require_mfa: false }
    }
}

/// The `acr` value that asks for (and reports) multi-factor authentication, as Auth0 uses it.
pub const ACR_MFA: &str = "http://schemas.openid.net/pape/policies/2007/06/multi-factor";

/// What a token must show for a sensitive operation, when it falls short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepUpRequired {
    /// The largest acceptable age of the sign-in, in seconds.
    pub max_age: u32,
    /// The `acr` the sign-in must satisfy, if any.
    pub acr_values: Option<&'static str>,
}

/// How a caller authenticated, as its access token says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Freshness {
    /// When the user signed in (seconds since the epoch).
    pub auth_time: Option<i64>,
    /// The methods used (`pwd`, `otp`, `mfa`, …).
    pub amr: Vec<String>,
}

impl Freshness {
    /// Whether the sign-in used more than one factor.
    pub fn has_mfa(&self) -> bool {
        self.amr.iter().any(|a| a == "mfa")
    }
}

impl StepUpPolicy {
    /// Checks a caller's sign-in against the policy at `now` (seconds).
    pub fn check(&self, fresh: &Freshness, user_has_second_factor: bool, now: i64) -> Result<(), StepUpRequired> {
        if !self.active {
            return Ok(());
        }
        let need_mfa = self.require_mfa && user_has_second_factor;
        let recent = fresh.auth_time.is_some_and(|t| now - t <= i64::from(self.max_age));
        if recent && (!need_mfa || fresh.has_mfa()) {
            return Ok(());
        }
        Err(StepUpRequired { max_age: self.max_age, acr_values: need_mfa.then_some(ACR_MFA) })
    }
}

/// Request limits of the account API, like Auth0's per-plan table (spec §4.5; the defaults are the
/// Enterprise row). Only authenticated requests count against the tenant's and the user's limits;
/// requests without a valid token count against their IP address's own limit, so nobody can spend
/// a tenant's budget without a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimits {
    /// Reads per second for the whole tenant.
    pub tenant_reads_per_second: u32,
    /// Writes per second for the whole tenant.
    pub tenant_writes_per_second: u32,
    /// Reads per minute for one user.
    pub user_reads_per_minute: u32,
    /// Writes per minute for one user.
    pub user_writes_per_minute: u32,
    /// Requests without a valid token (none, expired, forged) one IP address may send at once.
    pub anonymous_ip_burst: u32,
    /// Requests without a valid token one IP address may send per second, once its burst is spent.
    pub anonymous_ip_per_second: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            tenant_reads_per_second: 25,
            tenant_writes_per_second: 25,
            user_reads_per_minute: 20,
            user_writes_per_minute: 20,
            anonymous_ip_burst: 20,
            anonymous_ip_per_second: 10,
        }
    }
}

/// The tenant's account policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountPolicy {
    /// Factor types users may enroll (and that `/me/v1/factors` lists).
    pub factors: Vec<MethodType>,
    /// When sign-in asks for a second factor.
    pub mfa: MfaPolicy,
    /// What sensitive account changes require.
    pub step_up: StepUpPolicy,
    /// The password policy.
    pub password: PasswordPolicy,
    /// The account API's request limits.
    pub rate_limits: RateLimits,
    /// Which email addresses users may add to their accounts.
    pub email_policy: crate::identifier::EmailPolicy,
}

impl Default for AccountPolicy {
    fn default() -> Self {
        Self {
            factors: MethodType::ALL.to_vec(),
            mfa: MfaPolicy::default(),
            step_up: StepUpPolicy::default(),
            password: PasswordPolicy::default(),
            rate_limits: RateLimits::default(),
            email_policy: Default::default(),
        }
    }
}

impl AccountPolicy {
    /// Parses a stored policy; a damaged one falls back to the defaults (and is logged), so one bad
    /// write cannot lock every user out.
    pub fn from_stored(json: &str) -> Self {
        serde_json::from_str(json).unwrap_or_else(|e| {
            tracing::error!(error = %e, "stored account policy is invalid; using defaults");
            Self::default()
        })
    }

    /// Checks a policy an administrator gives.
    pub fn validate(&self) -> Result<()> {
        let mut errors = Vec::new();
        if let Err(e) = self.password.validate() {
            errors.push(FieldError::new("password", e));
        }
        if self.step_up.max_age == 0 {
            errors.push(FieldError::new("step_up.max_age", "must be at least 1 second"));
        }
        if let Err(Error::Invalid(e)) = self.email_policy.validate() {
            errors.extend(e);
        }
        let r = &self.rate_limits;
        for (name, v) in [
            ("tenant_reads_per_second", r.tenant_reads_per_second),
            ("tenant_writes_per_second", r.tenant_writes_per_second),
            ("user_reads_per_minute", r.user_reads_per_minute),
            ("user_writes_per_minute", r.user_writes_per_minute),
            ("anonymous_ip_burst", r.anonymous_ip_burst),
            ("anonymous_ip_per_second", r.anonymous_ip_per_second),
        ] {
            if v == 0 {
                errors.push(FieldError::new(format!("rate_limits.{name}"), "must be at least 1"));
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(Error::Invalid(errors)) }
    }

    /// Whether users may enroll `t`.
    pub fn allows(&self, t: MethodType) -> bool {
        self.factors.contains(&t)
    }

    /// Whether the tenant offers an MFA factor (Logto's sign-in-experience factors): TOTP and
    /// backup codes by their types; WebAuthn when security keys are an MFA factor or passkeys sign
    /// in (Logto: "WebAuthn is an MFA factor, or passkey sign-in is enabled").
    pub fn offers(&self, factor: MfaFactor) -> bool {
        match factor {
            MfaFactor::Totp => self.allows(MethodType::Totp),
            MfaFactor::BackupCode => self.allows(MethodType::RecoveryCode),
            MfaFactor::WebAuthn => self.webauthn_is_mfa_factor() || self.allows(MethodType::Passkey),
        }
    }

    /// Whether WebAuthn is a second factor here (security keys or platform authenticators).
    pub fn webauthn_is_mfa_factor(&self) -> bool {
        self.allows(MethodType::WebauthnPlatform) || self.allows(MethodType::WebauthnRoaming)
    }
}

/// The MFA factors of Logto's dialect, over core's method types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaFactor {
    /// An authenticator app ([`MethodType::Totp`]).
    Totp,
    /// A WebAuthn credential (passkeys and both security-key kinds).
    WebAuthn,
    /// A backup-code set ([`MethodType::RecoveryCode`]).
    BackupCode,
}

impl MfaFactor {
    /// The factor a method type is, if it is one.
    pub fn of(t: MethodType) -> Option<MfaFactor> {
        match t {
            MethodType::Totp => Some(MfaFactor::Totp),
            MethodType::Passkey | MethodType::WebauthnPlatform | MethodType::WebauthnRoaming => {
                Some(MfaFactor::WebAuthn)
            }
            MethodType::RecoveryCode => Some(MfaFactor::BackupCode),
            MethodType::Password | MethodType::Phone | MethodType::Email | MethodType::PushNotification => None,
        }
    }

    /// The account-center field that governs items of this factor: WebAuthn credentials the
    /// `passkey` field (which falls back to `mfa` when not set), the others `mfa`.
    pub fn field(self) -> crate::account_center::Field {
        match self {
            MfaFactor::WebAuthn => crate::account_center::Field::Passkey,
            MfaFactor::Totp | MfaFactor::BackupCode => crate::account_center::Field::Mfa,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_document_is_the_default_policy() {
        assert_eq!(AccountPolicy::from_stored("{}"), AccountPolicy::default());
        assert!(serde_json::from_str::<AccountPolicy>(r#"{"nope": 1}"#).is_err());
    }

    #[test]
    fn step_up_wants_a_recent_sign_in_and_mfa_when_enrolled() {
        let p = StepUpPolicy { require_mfa: true, ..StepUpPolicy::default() };
        let now = 10_000;
        let old = Freshness { auth_time: Some(now - 901), amr: vec!["pwd".into()] };
        let recent_pwd = Freshness { auth_time: Some(now - 60), amr: vec!["pwd".into()] };
        let recent_mfa = Freshness { auth_time: Some(now - 60), amr: vec!["pwd".into(), "otp".into(), "mfa".into()] };
        assert_eq!(p.check(&old, false, now), Err(StepUpRequired { max_age: 900, acr_values: None }));
        assert_eq!(p.check(&recent_pwd, false, now), Ok(()));
        assert_eq!(p.check(&recent_pwd, true, now), Err(StepUpRequired { max_age: 900, acr_values: Some(ACR_MFA) }));
        assert_eq!(p.check(&recent_mfa, true, now), Ok(()));
        assert_eq!(p.check(&Freshness::default(), true, now).map_err(|e| e.max_age), Err(900));
        let off = StepUpPolicy { active: false, ..p };
        assert_eq!(off.check(&old, true, now), Ok(()));
    }
}
