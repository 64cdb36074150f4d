//! The mapping test: every variant of core's one error, rendered by each dialect, in one snapshot
//! per dialect. A change to a status, a code or a message is a snapshot diff to review.

use accountd_core::account_center::Field;
use accountd_core::authn::policy::StepUpRequired;
use accountd_core::error::{CodeRefusal, ConflictKind, Entity, Error, FieldError, Forbidden, Refusal, UpstreamFailure};
use accountd_core::verification::ProofNeeded;
use axum::response::IntoResponse;
use serde_json::{Value, json};

/// One of each variant (and each refusal), with a name for the snapshot.
fn every_error() -> Vec<(&'static str, Error)> {
    vec![
        ("invalid", Error::Invalid(vec![FieldError::new("name", "must be at most 300 characters")])),
        ("not_found_user", Error::NotFound(Entity::User)),
        ("not_found_record", Error::NotFound(Entity::VerificationRecord)),
        ("not_found_identity", Error::NotFound(Entity::Identity)),
        ("not_found_method", Error::NotFound(Entity::AuthenticationMethod)),
        ("not_found_session", Error::NotFound(Entity::Session)),
        ("not_found_grant", Error::NotFound(Entity::Grant)),
        ("not_found_connection", Error::NotFound(Entity::Connection)),
        ("not_found_token_set", Error::NotFound(Entity::TokenSet)),
        ("email_taken", Error::Conflict(ConflictKind::EmailTaken)),
        ("phone_taken", Error::Conflict(ConflictKind::PhoneTaken)),
        ("username_taken", Error::Conflict(ConflictKind::UsernameTaken)),
        ("last_identifier", Error::Conflict(ConflictKind::LastIdentifier)),
        ("last_method", Error::Conflict(ConflictKind::LastSignInMethod)),
        ("already_enrolled", Error::Conflict(ConflictKind::AlreadyEnrolled("totp".into()))),
        ("too_many_methods", Error::Conflict(ConflictKind::TooManyMethods)),
        ("identity_taken", Error::Conflict(ConflictKind::IdentityTaken)),
        ("identity_exists", Error::Conflict(ConflictKind::IdentityExists)),
        ("forbidden", Error::Forbidden(Forbidden::ThirdPartySystemApi)),
        ("unauthenticated", Error::Unauthenticated("the user no longer exists or is blocked".into())),
        ("missing_scope", Error::MissingScope("read:me:profile".into())),
        ("locked_out", Error::LockedOut { until: i64::MAX / 2 }),
        ("bad_proof", Error::BadProof("The auth_session is invalid.".into())),
        (
            "proof_recent_sign_in",
            Error::ProofRequired(ProofNeeded::RecentSignIn(StepUpRequired { max_age: 900, acr_values: None })),
        ),
        ("proof_record", Error::ProofRequired(ProofNeeded::VerificationRecord)),
        ("center_disabled", Error::Refused(Refusal::AccountCenterDisabled)),
        ("field_not_editable", Error::Refused(Refusal::FieldNotEditable(Field::Name))),
        ("field_not_enabled", Error::Refused(Refusal::FieldNotEnabled(Field::Mfa))),
        ("third_party", Error::Refused(Refusal::ThirdPartyApplication)),
        ("wrong_password", Error::Refused(Refusal::WrongPassword)),
        ("same_password", Error::Refused(Refusal::SamePassword)),
        (
            "password_rejected",
            Error::Refused(Refusal::PasswordRejected(vec![FieldError::new("password", "too short")])),
        ),
        ("username_rejected", Error::Refused(Refusal::UsernameRejected("starts_with_number"))),
        ("email_not_allowed", Error::Refused(Refusal::EmailNotAllowed)),
        ("code_not_found", Error::Refused(Refusal::Code(CodeRefusal::NotFound))),
        ("code_wrong_address", Error::Refused(Refusal::Code(CodeRefusal::WrongAddress))),
        ("code_expired", Error::Refused(Refusal::Code(CodeRefusal::Expired))),
        ("code_too_many_tries", Error::Refused(Refusal::Code(CodeRefusal::TooManyTries))),
        ("code_mismatch", Error::Refused(Refusal::Code(CodeRefusal::Mismatch))),
        ("message_rate_limited", Error::Refused(Refusal::MessageRateLimited { until: i64::MAX / 2 })),
        ("no_connector", Error::Refused(Refusal::NoConnector)),
        ("totp_already_in_use", Error::Refused(Refusal::TotpAlreadyInUse)),
        ("totp_secret_invalid", Error::Refused(Refusal::TotpSecretInvalid)),
        ("invalid_totp_code", Error::Refused(Refusal::InvalidTotpCode)),
        ("backup_code_already_in_use", Error::Refused(Refusal::BackupCodeAlreadyInUse)),
        ("wrong_backup_code_format", Error::Refused(Refusal::WrongBackupCodeFormat)),
        ("backup_code_can_not_be_alone", Error::Refused(Refusal::BackupCodeCanNotBeAlone)),
        ("mfa_factor_not_enabled", Error::Refused(Refusal::MfaFactorNotEnabled)),
        ("webauthn_verification_failed", Error::Refused(Refusal::WebauthnVerificationFailed)),
        ("pending_info_not_found", Error::Refused(Refusal::PendingInfoNotFound)),
        ("upstream_session_not_found", Error::Refused(Refusal::UpstreamSessionNotFound)),
        ("social_target_mismatch", Error::Refused(Refusal::SocialTargetMismatch)),
        ("identity_not_owned", Error::Refused(Refusal::IdentityNotOwned)),
        ("no_token_set", Error::Refused(Refusal::NoTokenSet)),
        ("upstream_token_expired", Error::Refused(Refusal::UpstreamTokenExpired)),
        ("upstream_unavailable", Error::Upstream(UpstreamFailure::Unavailable)),
        ("upstream_refused", Error::Upstream(UpstreamFailure::Refused)),
        ("upstream_id_token_invalid", Error::Upstream(UpstreamFailure::IdTokenInvalid)),
        ("delivery", Error::Delivery("smtp refused".into())),
        ("unavailable", Error::Unavailable),
        ("busy", Error::Busy { retry_after_secs: 2 }),
        ("internal", Error::Internal(anyhow::anyhow!("a secret detail that must not be shown"))),
    ]
}

/// Status, the headers a client reads, and the body.
async fn render(res: axum::response::Response) -> Value {
    let status = res.status().as_u16();
    let mut headers = serde_json::Map::new();
    for name in ["www-authenticate", "retry-after"] {
        if let Some(v) = res.headers().get(name).and_then(|v| v.to_str().ok()) {
            // Far-future waits are huge numbers; their presence is what matters.
            let v = if name == "retry-after" && v.len() > 6 { "[seconds]" } else { v };
            headers.insert(name.into(), json!(v));
        }
    }
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    json!({ "status": status, "headers": headers, "body": body })
}

#[tokio::test]
async fn every_core_error_in_logtos_format() {
    let mut all = serde_json::Map::new();
    for (name, e) in every_error() {
        all.insert(name.into(), render(accountd_http::account::error::LogtoError::from(e).into_response()).await);
    }
    let text = serde_json::to_string(&all).unwrap();
    assert!(!text.contains("secret detail"), "an internal detail leaked");
    insta::assert_json_snapshot!("logto_errors", Value::Object(all));
}

#[tokio::test]
async fn every_core_error_in_auth0s_format() {
    let mut all = serde_json::Map::new();
    for (name, e) in every_error() {
        all.insert(name.into(), render(accountd_http::me_v1::error::MeError::from(e).into_response()).await);
    }
    let text = serde_json::to_string(&all).unwrap();
    assert!(!text.contains("secret detail"), "an internal detail leaked");
    insta::assert_json_snapshot!("me_v1_errors", Value::Object(all));
}
