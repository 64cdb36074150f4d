//! Messages accountd sends to users (one-time codes by email or SMS), and the port through which
//! they leave: core decides *what* to send, a [`MessageSender`] (SMTP, HTTP, the development
//! outbox; crate `accountd-connectors`) decides *how*.

use serde::{Deserialize, Serialize};

use crate::tenant::TenantId;

/// How a message reaches its recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// An email address.
    Email,
    /// A phone number (E.164), by SMS.
    Sms,
}

impl Channel {
    /// `email` or `sms`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }
}

/// Why a message is sent. Logto's HTTP connector names these `type` (spec logto §8); templates are
/// chosen per purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Purpose {
    /// Signing in with a code (also: a second factor at sign-in).
    SignIn,
    /// Creating an account.
    Register,
    /// Resetting a forgotten password.
    ForgotPassword,
    /// Proving an address while enrolling it as an authentication method or identifier.
    Generic,
    /// Proving an address before changing the account.
    UserPermissionValidation,
    /// Binding a new address to the account.
    BindNewIdentifier,
    /// A second-factor challenge at sign-in.
    MfaVerification,
    /// Proving an address to use it as a second factor.
    BindMfa,
}

impl Purpose {
    /// The name Logto's connectors use (`SignIn`, `Register`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::SignIn => "SignIn",
            Purpose::Register => "Register",
            Purpose::ForgotPassword => "ForgotPassword",
            Purpose::Generic => "Generic",
            Purpose::UserPermissionValidation => "UserPermissionValidation",
            Purpose::BindNewIdentifier => "BindNewIdentifier",
            Purpose::MfaVerification => "MfaVerification",
            Purpose::BindMfa => "BindMfa",
        }
    }

    /// Every purpose, for template listings.
    pub const ALL: [Purpose; 8] = [
        Purpose::SignIn,
        Purpose::Register,
        Purpose::ForgotPassword,
        Purpose::Generic,
        Purpose::UserPermissionValidation,
        Purpose::BindNewIdentifier,
        Purpose::MfaVerification,
        Purpose::BindMfa,
    ];
}

/// A message ready to send: the connector only delivers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingMessage {
    /// Email or SMS.
    pub channel: Channel,
    /// Email address or E.164 phone number.
    pub to: String,
    /// Why it is sent.
    pub purpose: Purpose,
    /// The one-time code it carries (HTTP connectors receive it as `payload.code`).
    pub code: String,
    /// Email subject (empty for SMS).
    pub subject: String,
    /// The rendered body (plain text).
    pub text: String,
    /// Extra template values (e.g. `application`, `locale`), passed on to HTTP connectors.
    pub payload: serde_json::Map<String, serde_json::Value>,
}

/// Why a message could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The tenant has no connector for the channel (and the outbox is switched off).
    #[error("no {0} connector is configured")]
    NotConfigured(&'static str),
    /// The connector was reached and refused, or could not be reached.
    #[error("the {channel} connector failed: {detail}")]
    Failed {
        /// `email` or `sms`.
        channel: &'static str,
        /// What went wrong (never the message body: it holds a code).
        detail: String,
    },
}

/// Delivers messages for a tenant through whatever connector the tenant configured.
#[async_trait::async_trait]
pub trait MessageSender: Send + Sync {
    /// Sends one message.
    async fn send(&self, tenant: &TenantId, message: &OutgoingMessage) -> Result<(), SendError>;
}
