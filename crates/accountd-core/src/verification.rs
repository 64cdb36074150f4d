//! Proofs of identity. A sensitive account change needs fresh proof that the caller is the user:
//! either a recent, strong sign-in (the token's `auth_time`/`amr`, what Auth0's dialect checks) or
//! a **verification record** (what Logto's dialect sends in `logto-verification-id`): a password
//! checked, or a code sent to an address and typed back. A record is reusable until it expires
//! (ten minutes); it is never consumed. A code record for an address the user does not have yet
//! proves that address (`newIdentifierVerificationRecordId`) and belongs to nobody.
//!
//! Distinct from an enrollment session (`authn::pending`): that is single-use and finishes one
//! enrollment; a record is proof, reused.

use crate::authn::policy::{Freshness, StepUpRequired};
use crate::clock::Millis;
use crate::message::Purpose;
use crate::user::UserId;

/// How long a record proves anything.
pub const RECORD_LIFETIME_MILLIS: i64 = 10 * 60 * 1000;

/// Wrong codes a code record accepts before it is spent (Logto's `maxRetryAttempts`).
pub const CODE_MAX_ATTEMPTS: i64 = 10;

/// What a record proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    /// The user's password was checked.
    Password,
    /// A code sent to an email address was typed back.
    EmailCode,
    /// A code sent to a phone number was typed back.
    PhoneCode,
    /// A WebAuthn credential was registered for the user (Logto's `WebAuthn` record): its sealed
    /// state holds the ceremony until verified, then the registered passkey. Proves no identity;
    /// it is the new credential's `newIdentifierVerificationRecordId`.
    WebAuthnRegistration,
    /// A sign-in at an upstream provider (Logto's `Social` record, and Auth0's connected-account
    /// request): its sealed state holds the step in progress, then who signed in there and their
    /// tokens. Belongs to nobody until linked; proves no identity of the user.
    Social,
}

impl RecordKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Password => "password",
            RecordKind::EmailCode => "email_code",
            RecordKind::PhoneCode => "phone_code",
            RecordKind::WebAuthnRegistration => "webauthn_registration",
            RecordKind::Social => "social",
        }
    }

    /// The kind stored as `s`.
    pub fn parse(s: &str) -> Option<RecordKind> {
        [
            RecordKind::Password,
            RecordKind::EmailCode,
            RecordKind::PhoneCode,
            RecordKind::WebAuthnRegistration,
            RecordKind::Social,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A verification record as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationRecord {
    /// Its id (what the client sends back).
    pub id: String,
    /// The user it proves, or `None` for a code sent to a new address.
    pub user_id: Option<UserId>,
    /// What it proves.
    pub kind: RecordKind,
    /// The address a code was sent to (normalised), for code records.
    pub identifier: Option<String>,
    /// Why the code was sent, for code records.
    pub purpose: Option<Purpose>,
    /// Whether the proof is complete (a password record is born verified).
    pub verified: bool,
    /// The sealed hash of the code not yet typed back (cleared once it is).
    pub code_state: Option<String>,
    /// Wrong codes so far.
    pub attempts: i64,
    /// When it was made.
    pub created_at: Millis,
    /// When it stops proving anything.
    pub expires_at: Millis,
}

impl VerificationRecord {
    /// Whether it proves, at `now`, that the caller is `user` (Logto's `identityVerified`): a
    /// verified password record, or a verified code record sent to the user's own address to
    /// prove it is them (`UserPermissionValidation`), owned by the user and not expired.
    pub fn proves_identity_of(&self, user: &UserId, now: Millis) -> bool {
        let accepted = match self.kind {
            RecordKind::Password => true,
            RecordKind::EmailCode | RecordKind::PhoneCode => self.purpose == Some(Purpose::UserPermissionValidation),
            RecordKind::WebAuthnRegistration | RecordKind::Social => false,
        };
        self.verified && accepted && self.user_id.as_ref() == Some(user) && self.expires_at > now
    }

    /// Whether it proves, at `now`, that the caller holds `value` (a new email or phone). As in
    /// Logto, the owner and the purpose are not checked: a code typed back proves the address.
    pub fn proves_address(&self, kind: RecordKind, value: &str, now: Millis) -> bool {
        self.verified && self.kind == kind && self.identifier.as_deref() == Some(value) && self.expires_at > now
    }
}

/// The proof a caller brings to a sensitive operation: each dialect brings its own form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// The token's sign-in (Auth0: checked against the tenant's step-up policy).
    Token(Freshness),
    /// A verification record's id, if one was sent (Logto's `logto-verification-id`).
    Record(Option<String>),
}

/// What a refused sensitive operation needs, so each dialect can say it its own way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofNeeded {
    /// A more recent or stronger sign-in (RFC 9470).
    RecentSignIn(StepUpRequired),
    /// A verification record that proves the caller is the user.
    VerificationRecord,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: RecordKind, purpose: Option<Purpose>) -> VerificationRecord {
        VerificationRecord {
            id: "r".into(),
            user_id: Some(UserId("u".into())),
            kind,
            identifier: Some("ada@example.com".into()),
            purpose,
            verified: true,
            code_state: None,
            attempts: 0,
            created_at: 0,
            expires_at: 100,
        }
    }

    #[test]
    fn only_verified_owned_live_password_or_permission_records_prove_identity() {
        let me = UserId("u".into());
        assert!(record(RecordKind::Password, None).proves_identity_of(&me, 50));
        assert!(!record(RecordKind::Password, None).proves_identity_of(&me, 100), "expired");
        assert!(!record(RecordKind::Password, None).proves_identity_of(&UserId("v".into()), 50), "foreign");
        let code = record(RecordKind::EmailCode, Some(Purpose::UserPermissionValidation));
        assert!(code.proves_identity_of(&me, 50));
        assert!(!record(RecordKind::EmailCode, Some(Purpose::BindNewIdentifier)).proves_identity_of(&me, 50));
        assert!(!record(RecordKind::PhoneCode, Some(Purpose::BindMfa)).proves_identity_of(&me, 50));
        let unverified = VerificationRecord { verified: false, ..code };
        assert!(!unverified.proves_identity_of(&me, 50));
    }

    #[test]
    fn an_address_is_proved_by_a_verified_code_record_of_its_kind_and_value() {
        let r = record(RecordKind::EmailCode, Some(Purpose::BindNewIdentifier));
        assert!(r.proves_address(RecordKind::EmailCode, "ada@example.com", 50));
        assert!(!r.proves_address(RecordKind::PhoneCode, "ada@example.com", 50));
        assert!(!r.proves_address(RecordKind::EmailCode, "bob@example.com", 50));
        assert!(!r.proves_address(RecordKind::EmailCode, "ada@example.com", 100));
    }
}
