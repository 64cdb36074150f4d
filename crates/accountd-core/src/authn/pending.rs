//! Proofs in progress: short-lived, single-use, bound to a user and a method. The client holds an
//! opaque token (`auth_session`); the store keeps only its hash and the sealed state.

use serde::{Deserialize, Serialize};

use super::method::MethodType;
use crate::clock::Millis;
use crate::user::UserId;

/// What a pending verification is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PendingPurpose {
    /// Enrolling a method through the account API.
    Enroll,
    /// A second factor asked for at sign-in.
    SecondFactor,
    /// A passkey sign-in (no user yet).
    PasskeySignIn,
    /// A passkey sign-up through the native passkey API (no user yet).
    PasskeySignUp,
}

impl PendingPurpose {
    /// Storage form.
    pub fn as_str(self) -> &'static str {
        match self {
            PendingPurpose::Enroll => "enroll",
            PendingPurpose::SecondFactor => "second_factor",
            PendingPurpose::PasskeySignIn => "passkey_sign_in",
            PendingPurpose::PasskeySignUp => "passkey_sign_up",
        }
    }

    /// Parses the storage form.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Enroll, Self::SecondFactor, Self::PasskeySignIn, Self::PasskeySignUp]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// Where a verification that needs an outside party (a push device) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingStatus {
    /// Waiting for the proof.
    Pending,
    /// The device approved (push).
    Approved,
    /// The device refused (push).
    Denied,
}

impl PendingStatus {
    /// Storage form.
    pub fn as_str(self) -> &'static str {
        match self {
            PendingStatus::Pending => "pending",
            PendingStatus::Approved => "approved",
            PendingStatus::Denied => "denied",
        }
    }

    /// Parses the storage form.
    pub fn parse(s: &str) -> Self {
        match s {
            "approved" => PendingStatus::Approved,
            "denied" => PendingStatus::Denied,
            _ => PendingStatus::Pending,
        }
    }
}

/// A pending verification as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingVerification {
    /// SHA-256 (hex) of the token the client holds.
    pub id: String,
    /// What it is for.
    pub purpose: PendingPurpose,
    /// Whose it is (none for passkey sign-in before the credential names the user).
    pub user_id: Option<UserId>,
    /// The method type being proven.
    pub method_type: MethodType,
    /// The method's id (for enrollment: the id it will get).
    pub method_id: String,
    /// Sealed, type-specific state (a WebAuthn ceremony, a TOTP secret, a code's hash).
    pub state: String,
    /// Push approval status.
    pub status: PendingStatus,
    /// Wrong answers so far.
    pub attempts: i64,
    /// When it was started.
    pub created_at: Millis,
    /// When it stops being usable.
    pub expires_at: Millis,
}

/// How long an enrollment or a challenge stays usable.
pub const PENDING_TTL_MILLIS: i64 = 5 * 60 * 1000;

/// Wrong answers after which a pending verification is dropped.
pub const MAX_ATTEMPTS: i64 = 5;
