//! Logto's error format (spec logto §1.3): `{code, message, data?, details?}` with the status Logto
//! uses for each code, the message in the caller's language (`Accept-Language`: English and
//! French). Every core error maps here in one exhaustive `match`.

use accountd_core::account_center::Field;
use accountd_core::error::{CodeRefusal, ConflictKind, Entity, Error, Refusal, UpstreamFailure};
use accountd_core::verification::ProofNeeded;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A language messages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English (the default).
    #[default]
    En,
    /// French.
    Fr,
}

impl Lang {
    /// The first language of `Accept-Language` we speak (quality order), English otherwise.
    pub fn negotiate(headers: &HeaderMap) -> Lang {
        let Some(v) = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()) else { return Lang::En };
        let mut tags: Vec<(f32, &str)> = v
            .split(',')
            .map(|part| {
                let mut it = part.split(';');
                let tag = it.next().unwrap_or("").trim();
                let q = it.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
                (q, tag)
            })
            .collect();
        tags.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
        for (_, tag) in tags {
            let primary = tag.split('-').next().unwrap_or("").to_ascii_lowercase();
            match primary.as_str() {
                "fr" => return Lang::Fr,
                "en" => return Lang::En,
                _ => {}
            }
        }
        Lang::En
    }
}

/// An error answer of the Logto dialect (small: the rarely used parts are boxed).
#[derive(Debug)]
pub struct LogtoError {
    status: StatusCode,
    code: &'static str,
    extra: Box<Extra>,
}

/// The optional parts of an error answer.
#[derive(Debug, Default)]
struct Extra {
    /// Values put into the message (`{field}`).
    args: Vec<(&'static str, String)>,
    data: Option<Value>,
    details: Option<String>,
    headers: Vec<(header::HeaderName, HeaderValue)>,
}

tokio::task_local! {
    /// The language of the request being answered (set by the gate around each handler).
    pub static LANG: Lang;
}

impl LogtoError {
    /// An error with `code` (its status is Logto's for that code unless given here).
    pub fn new(status: StatusCode, code: &'static str) -> Self {
        Self { status, code, extra: Box::default() }
    }

    /// With a value for the message.
    pub fn arg(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.extra.args.push((name, value.into()));
        self
    }

    /// With `data`.
    pub fn data(mut self, data: Value) -> Self {
        self.extra.data = Some(data);
        self
    }

    /// The code (`auth.unauthorized`).
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// 400 `guard.invalid_input` with what is wrong where (`details`).
    pub fn invalid_input(details: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::BAD_REQUEST, "guard.invalid_input");
        e.extra.details = Some(details.into());
        e
    }

    /// `auth.unauthorized` with Logto's status for the route (400 for several scope checks).
    pub fn unauthorized(status: StatusCode) -> Self {
        Self::new(status, "auth.unauthorized")
    }

    /// 429 `request.rate_limited` (the tenant's or user's request limit) with `Retry-After`.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "request.rate_limited");
        e.extra.headers.push((header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1))));
        e
    }

    /// 404 for a path this API does not have.
    pub fn no_route() -> Self {
        Self::new(StatusCode::NOT_FOUND, "guard.not_found")
    }

    fn message(&self) -> String {
        let lang = LANG.try_with(|l| *l).unwrap_or_default();
        let mut m = message(self.code, lang).to_string();
        for (k, v) in &self.extra.args {
            m = m.replace(&format!("{{{k}}}"), v);
        }
        m
    }
}

/// The message of `code` in `lang` (Logto's phrases, in our words).
fn message(code: &str, lang: Lang) -> &'static str {
    let (en, fr) = match code {
        "auth.authorization_header_missing" => {
            ("Authorization header is missing.", "L'en-tête Authorization est manquant.")
        }
        "auth.authorization_token_type_not_supported" => {
            ("Authorization type is not supported.", "Le type d'autorisation n'est pas pris en charge.")
        }
        "auth.unauthorized" => (
            "Unauthorized. Please check credentials and its scope.",
            "Non autorisé. Vérifiez les identifiants et leur portée.",
        ),
        "auth.forbidden" => {
            ("Forbidden. Please check your user roles and permissions.", "Interdit. Vérifiez vos rôles et permissions.")
        }
        "auth.third_party_application_forbidden" => (
            "Third-party applications are not allowed to perform this action.",
            "Les applications tierces ne sont pas autorisées à effectuer cette action.",
        ),
        "account_center.not_enabled" => ("Account center is not enabled.", "Le centre de compte n'est pas activé."),
        "account_center.field_not_editable" => ("Field is not editable.", "Le champ n'est pas modifiable."),
        "account_center.field_not_enabled" => ("Field is not enabled.", "Le champ n'est pas activé."),
        "verification_record.permission_denied" => {
            ("Permission denied, please re-authenticate.", "Permission refusée, veuillez vous authentifier à nouveau.")
        }
        "verification_record.not_found" => {
            ("Verification record not found.", "Enregistrement de vérification introuvable.")
        }
        "guard.invalid_input" => ("The request {type} is invalid.", "La requête {type} est invalide."),
        "guard.not_found" => ("Not found.", "Introuvable."),
        "user.last_sign_in_method_required" => (
            "You can't remove the last sign-in method.",
            "Vous ne pouvez pas supprimer la dernière méthode de connexion.",
        ),
        "user.username_already_in_use" => {
            ("This username is already in use.", "Ce nom d'utilisateur est déjà utilisé.")
        }
        "user.email_already_in_use" => (
            "This email is associated with an existing account.",
            "Cette adresse e-mail est associée à un compte existant.",
        ),
        "user.phone_already_in_use" => (
            "This phone number is associated with an existing account.",
            "Ce numéro de téléphone est associé à un compte existant.",
        ),
        "user.identity_not_exist" => {
            ("The social account has not been registered yet.", "Le compte social n'est pas encore lié.")
        }
        "user.same_password" => (
            "New password cannot be the same as your old password.",
            "Le nouveau mot de passe doit différer de l'ancien.",
        ),
        "user.username_required" => ("Username is required.", "Le nom d'utilisateur est obligatoire."),
        "user.username_starts_with_number" => {
            ("Username cannot start with a number.", "Le nom d'utilisateur ne peut pas commencer par un chiffre.")
        }
        "user.username_invalid_charset_hard" => (
            "Username contains characters that are not allowed.",
            "Le nom d'utilisateur contient des caractères non autorisés.",
        ),
        "user.username_too_long" => ("Username is too long.", "Le nom d'utilisateur est trop long."),
        "user.suspended" => ("This account is suspended.", "Ce compte est suspendu."),
        "password.rejected" => (
            "Password rejected. Please check your password meets the requirements.",
            "Mot de passe refusé. Vérifiez qu'il respecte les exigences.",
        ),
        "session.invalid_credentials" => ("Wrong account or password.", "Compte ou mot de passe incorrect."),
        "session.verification_blocked_too_many_attempts" => {
            ("Too many attempts. Please try again later.", "Trop de tentatives. Veuillez réessayer plus tard.")
        }
        "session.email_blocklist.email_not_allowed" => {
            ("This email address is not allowed.", "Cette adresse e-mail n'est pas autorisée.")
        }
        "verification_code.not_found" => (
            "Verification code not found. Please send the verification code first.",
            "Code de vérification introuvable. Envoyez d'abord le code.",
        ),
        "verification_code.email_mismatch" => (
            "Email mismatch. Please request a new verification code.",
            "L'adresse e-mail ne correspond pas. Demandez un nouveau code.",
        ),
        "verification_code.phone_mismatch" => (
            "Phone mismatch. Please request a new verification code.",
            "Le numéro ne correspond pas. Demandez un nouveau code.",
        ),
        "verification_code.expired" => {
            ("Verification code has expired. Please request a new one.", "Le code a expiré. Demandez-en un nouveau.")
        }
        "verification_code.exceed_max_try" => (
            "Verification code retries limitation exceeded. Please request a new one.",
            "Trop d'essais pour ce code. Demandez-en un nouveau.",
        ),
        "verification_code.code_mismatch" => ("Invalid verification code.", "Code de vérification invalide."),
        "request.message_rate_limited" => (
            "Too many messages were sent to this recipient. Please try again later.",
            "Trop de messages envoyés à ce destinataire. Réessayez plus tard.",
        ),
        "request.rate_limited" => {
            ("Too many requests. Please try again later.", "Trop de requêtes. Réessayez plus tard.")
        }
        "connector.not_found" => {
            ("Cannot find any available connector for {type}.", "Aucun connecteur disponible pour {type}.")
        }
        "connector.general" => {
            ("An unexpected error occurred in the connector.", "Une erreur inattendue est survenue dans le connecteur.")
        }
        "entity.not_found" => ("The entity does not exist.", "L'entité n'existe pas."),
        "oidc.session_not_found" => ("Session not found.", "Session introuvable."),
        "oidc.invalid_grant" => ("Grant request is invalid.", "La demande d'autorisation est invalide."),
        "user.totp_already_in_use" => ("TOTP is already in use.", "Le TOTP est déjà utilisé."),
        "user.totp_secret_invalid" => ("Invalid TOTP secret supplied.", "Le secret TOTP fourni est invalide."),
        "user.backup_code_already_in_use" => {
            ("Backup code is already in use.", "Des codes de secours sont déjà utilisés.")
        }
        "user.wrong_backup_code_format" => {
            ("Backup code format is invalid.", "Le format des codes de secours est invalide.")
        }
        "session.mfa.invalid_totp_code" => ("Invalid TOTP code.", "Code TOTP invalide."),
        "session.mfa.backup_code_can_not_be_alone" => {
            ("Backup code can not be the only MFA.", "Les codes de secours ne peuvent pas être le seul facteur MFA.")
        }
        "session.mfa.mfa_factor_not_enabled" => ("MFA factor is not enabled.", "Le facteur MFA n'est pas activé."),
        "session.mfa.webauthn_verification_failed" => {
            ("WebAuthn verification failed.", "La vérification WebAuthn a échoué.")
        }
        "session.mfa.pending_info_not_found" => (
            "Pending MFA info not found, please initiate MFA first.",
            "Informations MFA en attente introuvables, veuillez d'abord lancer la MFA.",
        ),
        "request.general" => ("Request error occurred.", "Une erreur de requête est survenue."),
        "session.invalid_connector_id" => {
            ("Unable to find an available connector with this id.", "Aucun connecteur disponible avec cet identifiant.")
        }
        "session.insufficient_info" => ("Insufficient sign-in info.", "Informations de connexion insuffisantes."),
        "session.connector_validation_session_not_found" => (
            "The connector session for token validation is not found.",
            "La session du connecteur pour la validation du jeton est introuvable.",
        ),
        "connector.social_auth_code_invalid" => (
            "Unable to get access token, please check authorization code.",
            "Impossible d'obtenir le jeton d'accès, vérifiez le code d'autorisation.",
        ),
        "connector.social_id_token_invalid" => {
            ("The ID token of the identity provider is invalid.", "Le jeton d'identité du fournisseur est invalide.")
        }
        "user.too_many_authentication_methods" => (
            "The user has the most authentication methods allowed; remove one before adding another.",
            "L'utilisateur a le nombre maximal de méthodes d'authentification ; supprimez-en une avant d'en ajouter une autre.",
        ),
        "security_event.already_reported" => ("This event was already reported.", "Cet événement a déjà été signalé."),
        "security_event.not_found" => (
            "The event was not found in your security timeline.",
            "Cet événement est introuvable dans votre historique de sécurité.",
        ),
        "user.identity_already_in_use" => (
            "The social account has been associated with an existing user.",
            "Ce compte social est déjà associé à un utilisateur.",
        ),
        "user.identity_not_exists_in_current_user" => (
            "The identity does not exist in the current user account.",
            "Cette identité n'existe pas dans le compte de l'utilisateur.",
        ),
        "verification_record.social_verification.invalid_target" => (
            "The verification record was made with another connector.",
            "L'enregistrement de vérification a été créé avec un autre connecteur.",
        ),
        "verification_record.social_verification.token_response_not_found" => (
            "The verification record holds no token response.",
            "L'enregistrement de vérification ne contient aucune réponse de jeton.",
        ),
        "secrets.third_party_token_set.token_not_found" => {
            ("No token is stored for this identity.", "Aucun jeton n'est enregistré pour cette identité.")
        }
        "secrets.third_party_token_set.access_token_expired" => (
            "The access token has expired and cannot be refreshed; link the account again.",
            "Le jeton d'accès a expiré et ne peut pas être renouvelé ; associez de nouveau le compte.",
        ),
        "request.service_unavailable" => {
            ("The service is temporarily unavailable.", "Le service est temporairement indisponible.")
        }
        _ => ("Internal server error.", "Erreur interne du serveur."),
    };
    match lang {
        Lang::En => en,
        Lang::Fr => fr,
    }
}

impl From<Error> for LogtoError {
    fn from(e: Error) -> Self {
        use StatusCode as S;
        match e {
            Error::Invalid(fields) => LogtoError::invalid_input(
                fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "),
            )
            .arg("type", "body"),
            Error::NotFound(entity) => match entity {
                Entity::VerificationRecord => LogtoError::new(S::BAD_REQUEST, "verification_record.not_found"),
                Entity::Identity => LogtoError::new(S::NOT_FOUND, "user.identity_not_exist"),
                Entity::User => LogtoError::unauthorized(S::UNAUTHORIZED),
                Entity::Session => LogtoError::new(S::NOT_FOUND, "oidc.session_not_found"),
                Entity::Grant => LogtoError::new(S::NOT_FOUND, "oidc.invalid_grant"),
                // vendor quirk: Logto answers an unknown connector with 422, though its OpenAPI says 404.
                Entity::Connection => LogtoError::new(S::UNPROCESSABLE_ENTITY, "session.invalid_connector_id"),
                Entity::TokenSet => LogtoError::new(S::NOT_FOUND, "secrets.third_party_token_set.token_not_found"),
                Entity::SecurityEvent => LogtoError::new(S::NOT_FOUND, "security_event.not_found"),
                Entity::Tenant
                | Entity::Domain
                | Entity::Application
                | Entity::ApiResource
                | Entity::ClientGrant
                | Entity::Role
                | Entity::Permission
                | Entity::AuthenticationMethod => LogtoError::new(S::NOT_FOUND, "entity.not_found"),
            },
            Error::Conflict(kind) => match kind {
                ConflictKind::EmailTaken => LogtoError::new(S::UNPROCESSABLE_ENTITY, "user.email_already_in_use"),
                ConflictKind::PhoneTaken => LogtoError::new(S::UNPROCESSABLE_ENTITY, "user.phone_already_in_use"),
                ConflictKind::UsernameTaken => LogtoError::new(S::UNPROCESSABLE_ENTITY, "user.username_already_in_use"),
                ConflictKind::LastIdentifier | ConflictKind::LastSignInMethod => {
                    LogtoError::new(S::BAD_REQUEST, "user.last_sign_in_method_required")
                }
                ConflictKind::IdentityTaken => LogtoError::new(S::UNPROCESSABLE_ENTITY, "user.identity_already_in_use"),
                // vendor quirk: the caller already having that target is a 400, another user a 422.
                ConflictKind::IdentityExists => LogtoError::new(S::BAD_REQUEST, "user.identity_already_in_use"),
                // Logto has no cap on a user's methods, so no code of its own: ours in its shape.
                ConflictKind::TooManyMethods => {
                    LogtoError::new(S::UNPROCESSABLE_ENTITY, "user.too_many_authentication_methods")
                }
                // The timeline is accountd's own, so is its code, in Logto's shape.
                ConflictKind::AlreadyReported => {
                    LogtoError::new(S::UNPROCESSABLE_ENTITY, "security_event.already_reported")
                }
                ConflictKind::DomainTaken
                | ConflictKind::ConnectionNameTaken
                | ConflictKind::ApiIdentifierTaken
                | ConflictKind::ClientGrantExists
                | ConflictKind::RoleNameTaken
                | ConflictKind::TenantExists
                | ConflictKind::AlreadyEnrolled(_)
                | ConflictKind::Other(_) => LogtoError::new(S::UNPROCESSABLE_ENTITY, "request.general"),
            },
            Error::Forbidden(_) => LogtoError::new(S::FORBIDDEN, "auth.forbidden"),
            Error::Unauthenticated(_) => LogtoError::unauthorized(S::UNAUTHORIZED),
            Error::MissingScope(_) => LogtoError::unauthorized(S::UNAUTHORIZED),
            Error::LockedOut { .. } => {
                LogtoError::new(S::BAD_REQUEST, "session.verification_blocked_too_many_attempts")
            }
            Error::BadProof(_) => LogtoError::new(S::BAD_REQUEST, "verification_record.not_found"),
            Error::ProofRequired(ProofNeeded::VerificationRecord | ProofNeeded::RecentSignIn(_)) => {
                LogtoError::new(S::UNAUTHORIZED, "verification_record.permission_denied")
            }
            Error::Refused(r) => refusal(r),
            Error::Delivery(_) => LogtoError::new(S::BAD_REQUEST, "connector.general"),
            Error::Upstream(f) => match f {
                UpstreamFailure::Unavailable => LogtoError::new(S::BAD_REQUEST, "connector.general"),
                UpstreamFailure::Refused => LogtoError::new(S::UNAUTHORIZED, "connector.social_auth_code_invalid"),
                UpstreamFailure::IdTokenInvalid => {
                    LogtoError::new(S::UNAUTHORIZED, "connector.social_id_token_invalid")
                }
            },
            Error::Unavailable => LogtoError::new(S::SERVICE_UNAVAILABLE, "request.service_unavailable"),
            Error::Busy { retry_after_secs } => {
                let mut e = LogtoError::new(S::SERVICE_UNAVAILABLE, "request.service_unavailable");
                e.extra.headers.push((header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1))));
                e
            }
            Error::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "internal error");
                LogtoError::new(S::INTERNAL_SERVER_ERROR, "unknown")
            }
        }
    }
}

fn refusal(r: Refusal) -> LogtoError {
    use StatusCode as S;
    match r {
        Refusal::AccountCenterDisabled => LogtoError::new(S::BAD_REQUEST, "account_center.not_enabled"),
        Refusal::FieldNotEditable(f) => field_error("account_center.field_not_editable", f),
        Refusal::FieldNotEnabled(f) => field_error("account_center.field_not_enabled", f),
        Refusal::ThirdPartyApplication => LogtoError::new(S::FORBIDDEN, "auth.third_party_application_forbidden"),
        Refusal::WrongPassword => LogtoError::new(S::UNPROCESSABLE_ENTITY, "session.invalid_credentials"),
        Refusal::SamePassword => LogtoError::new(S::UNPROCESSABLE_ENTITY, "user.same_password"),
        Refusal::PasswordRejected(issues) => LogtoError::new(S::UNPROCESSABLE_ENTITY, "password.rejected").data(json!(
            issues.iter().map(|i| json!({ "code": "password_rejected", "message": i.message })).collect::<Vec<_>>()
        )),
        Refusal::UsernameRejected(v) => LogtoError::new(
            S::UNPROCESSABLE_ENTITY,
            match v {
                "required" => "user.username_required",
                "starts_with_number" => "user.username_starts_with_number",
                "too_long" => "user.username_too_long",
                _ => "user.username_invalid_charset_hard",
            },
        ),
        Refusal::EmailNotAllowed => {
            LogtoError::new(S::UNPROCESSABLE_ENTITY, "session.email_blocklist.email_not_allowed")
        }
        Refusal::Code(c) => LogtoError::new(
            S::BAD_REQUEST,
            match c {
                CodeRefusal::NotFound => "verification_code.not_found",
                CodeRefusal::WrongAddress => "verification_code.email_mismatch",
                CodeRefusal::Expired => "verification_code.expired",
                CodeRefusal::TooManyTries => "verification_code.exceed_max_try",
                CodeRefusal::Mismatch => "verification_code.code_mismatch",
            },
        ),
        Refusal::MessageRateLimited { until } => {
            let secs = ((until - accountd_core::clock::now_millis()).max(1000) + 999) / 1000;
            let mut e = LogtoError::new(S::TOO_MANY_REQUESTS, "request.message_rate_limited");
            e.extra.headers.push((header::RETRY_AFTER, HeaderValue::from(secs as u64)));
            e
        }
        Refusal::NoConnector => LogtoError::new(S::NOT_IMPLEMENTED, "connector.not_found").arg("type", "Email/Sms"),
        Refusal::TotpAlreadyInUse => LogtoError::new(S::UNPROCESSABLE_ENTITY, "user.totp_already_in_use"),
        Refusal::TotpSecretInvalid => LogtoError::new(S::BAD_REQUEST, "user.totp_secret_invalid"),
        Refusal::InvalidTotpCode => LogtoError::new(S::BAD_REQUEST, "session.mfa.invalid_totp_code"),
        Refusal::BackupCodeAlreadyInUse => LogtoError::new(S::UNPROCESSABLE_ENTITY, "user.backup_code_already_in_use"),
        Refusal::WrongBackupCodeFormat => LogtoError::new(S::UNPROCESSABLE_ENTITY, "user.wrong_backup_code_format"),
        Refusal::BackupCodeCanNotBeAlone => {
            LogtoError::new(S::UNPROCESSABLE_ENTITY, "session.mfa.backup_code_can_not_be_alone")
        }
        Refusal::MfaFactorNotEnabled => LogtoError::new(S::BAD_REQUEST, "session.mfa.mfa_factor_not_enabled"),
        Refusal::WebauthnVerificationFailed => {
            LogtoError::new(S::BAD_REQUEST, "session.mfa.webauthn_verification_failed")
        }
        Refusal::PendingInfoNotFound => LogtoError::new(S::BAD_REQUEST, "session.mfa.pending_info_not_found"),
        Refusal::UpstreamSessionNotFound => {
            LogtoError::new(S::BAD_REQUEST, "session.connector_validation_session_not_found")
        }
        Refusal::SocialTargetMismatch => {
            LogtoError::new(S::UNPROCESSABLE_ENTITY, "verification_record.social_verification.invalid_target")
        }
        Refusal::IdentityNotOwned => {
            LogtoError::new(S::UNPROCESSABLE_ENTITY, "user.identity_not_exists_in_current_user")
        }
        Refusal::NoTokenSet => {
            LogtoError::new(S::UNPROCESSABLE_ENTITY, "verification_record.social_verification.token_response_not_found")
        }
        Refusal::UpstreamTokenExpired => {
            LogtoError::new(S::UNAUTHORIZED, "secrets.third_party_token_set.access_token_expired")
        }
    }
}

fn field_error(code: &'static str, f: Field) -> LogtoError {
    LogtoError::new(StatusCode::BAD_REQUEST, code).data(json!({ "field": f.as_str() }))
}

impl crate::common::input::EdgeError for LogtoError {
    fn too_large(limit: usize) -> Self {
        let mut e = LogtoError::new(StatusCode::PAYLOAD_TOO_LARGE, "guard.invalid_input");
        e.extra.details = Some(format!("the request body is larger than the {limit} bytes allowed"));
        e
    }

    fn unreadable() -> Self {
        LogtoError::invalid_input("the body could not be read").arg("type", "body")
    }

    fn refused(r: &crate::common::input::Refused) -> Self {
        use crate::common::input::Place;
        let kind = match r.0 {
            Place::Path(_) => "params",
            Place::Query(_) => "query",
            Place::Body(_) => "body",
        };
        LogtoError::invalid_input(format!("{}: must not contain control characters", r.pointer())).arg("type", kind)
    }

    fn respond(self) -> Response {
        self.into_response()
    }
}

impl IntoResponse for LogtoError {
    fn into_response(self) -> Response {
        let mut body = json!({ "code": self.code, "message": self.message() });
        if let Some(d) = &self.extra.data {
            body["data"] = d.clone();
        }
        if let Some(d) = &self.extra.details {
            body["details"] = json!(d);
        }
        let mut res = (self.status, axum::Json(body)).into_response();
        for (k, v) in self.extra.headers {
            res.headers_mut().append(k, v);
        }
        res
    }
}

/// What a Logto handler returns.
pub type LogtoResult<T> = Result<T, LogtoError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_are_negotiated_by_quality() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_str(v).unwrap());
            m
        };
        assert_eq!(Lang::negotiate(&HeaderMap::new()), Lang::En);
        assert_eq!(Lang::negotiate(&h("fr")), Lang::Fr);
        assert_eq!(Lang::negotiate(&h("de-DE, fr-CA;q=0.8, en;q=0.5")), Lang::Fr);
        assert_eq!(Lang::negotiate(&h("en;q=0.9, fr;q=0.3")), Lang::En);
        assert_eq!(Lang::negotiate(&h("ja")), Lang::En);
    }

    #[test]
    fn every_emitted_code_has_a_message_in_both_languages() {
        for code in [
            "auth.unauthorized",
            "account_center.not_enabled",
            "verification_record.permission_denied",
            "user.last_sign_in_method_required",
            "session.invalid_credentials",
            "verification_code.code_mismatch",
            "request.message_rate_limited",
        ] {
            assert_ne!(message(code, Lang::En), message("nope", Lang::En), "{code}");
            assert_ne!(message(code, Lang::Fr), message(code, Lang::En), "{code}");
        }
    }
}
