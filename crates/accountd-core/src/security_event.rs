//! The security timeline: the audit events that concern a user, as the user reads them — what
//! happened, in plain words, when, and from which address and browser. Both account APIs render
//! these; neither vendor has them.

use serde_json::Value;

use crate::audit::{Actor, AuditEvent};
use crate::clock::Millis;

/// What happened, as the timeline names it (`type` on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityEventKind {
    AccountCreated,
    SignedIn,
    SignInRefused,
    SignInLocked,
    SecondStepPassed,
    SecondStepRefused,
    SignedOut,
    SessionEnded,
    SessionsEnded,
    AppAccessRevoked,
    RefreshTokenReused,
    ProfileChanged,
    ChangedByAdministrator,
    PasswordChanged,
    EmailChanged,
    EmailRemoved,
    PhoneChanged,
    PhoneRemoved,
    MethodAdded,
    MethodChanged,
    MethodRemoved,
    TwoStepSettingsChanged,
    IdentityLinked,
    IdentityUnlinked,
    LinkedTokenRead,
    IdentityConfirmed,
    IdentityCheckFailed,
    AccountExported,
    ReportedNotMe,
}

/// The audit actions the timeline shows, with the kind each is (a failure may be another kind).
const ACTIONS: &[(&str, SecurityEventKind)] = {
    use SecurityEventKind::*;
    &[
        ("user.create", AccountCreated),
        ("user.sign_up.upstream", AccountCreated),
        ("user.sign_in", SignedIn),
        ("user.passkey_sign_in", SignedIn),
        ("user.sign_in.upstream", SignedIn),
        ("user.sign_in.upstream_linked", SignedIn),
        ("user.second_factor", SecondStepPassed),
        ("session.end", SignedOut),
        ("session.revoke", SessionEnded),
        ("session.end_all", SessionsEnded),
        ("grant.revoke", AppAccessRevoked),
        ("refresh_token.reuse", RefreshTokenReused),
        ("me.profile.update", ProfileChanged),
        ("account.profile.update", ProfileChanged),
        ("user.update", ChangedByAdministrator),
        ("account.password.update", PasswordChanged),
        ("account.email.update", EmailChanged),
        ("account.email.delete", EmailRemoved),
        ("account.phone.update", PhoneChanged),
        ("account.phone.delete", PhoneRemoved),
        ("me.authentication_method.enroll", MethodAdded),
        ("account.mfa.totp_add", MethodAdded),
        ("account.mfa.totp_replace", MethodChanged),
        ("account.mfa.backup_codes_add", MethodAdded),
        ("account.mfa.webauthn_add", MethodAdded),
        ("me.authentication_method.update", MethodChanged),
        ("me.authentication_method.delete", MethodRemoved),
        ("account.mfa_settings.update", TwoStepSettingsChanged),
        ("account.identity.link", IdentityLinked),
        ("account.identity.unlink", IdentityUnlinked),
        ("account.identity.token_read", LinkedTokenRead),
        ("account.verification.password", IdentityConfirmed),
        ("account.verification.code_verified", IdentityConfirmed),
        ("account.verification.social", IdentityConfirmed),
        ("account.export", AccountExported),
        ("account.security_report", ReportedNotMe),
    ]
};

/// Every audit action the timeline shows (what the store filters by).
pub fn actions() -> &'static [&'static str] {
    static NAMES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| ACTIONS.iter().map(|(a, _)| *a).collect())
}

impl SecurityEventKind {
    /// Whether someone other than the user could have caused it, so the user may report it
    /// ("this wasn't me"). Their own sign-outs, their account's creation and an administrator's
    /// changes are not theirs to report.
    pub fn reportable(self) -> bool {
        use SecurityEventKind::*;
        !matches!(self, AccountCreated | SignedOut | ChangedByAdministrator | ReportedNotMe)
    }

    /// The wire name (`signed_in`, `password_changed`, …).
    pub fn as_str(self) -> &'static str {
        use SecurityEventKind::*;
        match self {
            AccountCreated => "account_created",
            SignedIn => "signed_in",
            SignInRefused => "sign_in_refused",
            SignInLocked => "sign_in_locked",
            SecondStepPassed => "second_step_passed",
            SecondStepRefused => "second_step_refused",
            SignedOut => "signed_out",
            SessionEnded => "session_ended",
            SessionsEnded => "sessions_ended",
            AppAccessRevoked => "app_access_revoked",
            RefreshTokenReused => "refresh_token_reused",
            ProfileChanged => "profile_changed",
            ChangedByAdministrator => "changed_by_administrator",
            PasswordChanged => "password_changed",
            EmailChanged => "email_changed",
            EmailRemoved => "email_removed",
            PhoneChanged => "phone_changed",
            PhoneRemoved => "phone_removed",
            MethodAdded => "method_added",
            MethodChanged => "method_changed",
            MethodRemoved => "method_removed",
            TwoStepSettingsChanged => "two_step_settings_changed",
            IdentityLinked => "identity_linked",
            IdentityUnlinked => "identity_unlinked",
            LinkedTokenRead => "linked_token_read",
            IdentityConfirmed => "identity_confirmed",
            IdentityCheckFailed => "identity_check_failed",
            AccountExported => "account_exported",
            ReportedNotMe => "reported_not_me",
        }
    }

    /// Every kind's wire name, for API documents.
    pub const ALL: &'static [&'static str] = &[
        "account_created",
        "signed_in",
        "sign_in_refused",
        "sign_in_locked",
        "second_step_passed",
        "second_step_refused",
        "signed_out",
        "session_ended",
        "sessions_ended",
        "app_access_revoked",
        "refresh_token_reused",
        "profile_changed",
        "changed_by_administrator",
        "password_changed",
        "email_changed",
        "email_removed",
        "phone_changed",
        "phone_removed",
        "method_added",
        "method_changed",
        "method_removed",
        "two_step_settings_changed",
        "identity_linked",
        "identity_unlinked",
        "linked_token_read",
        "identity_confirmed",
        "identity_check_failed",
        "account_exported",
        "reported_not_me",
    ];
}

/// A user's "this wasn't me" about one timeline entry, kept for the operator, with what was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityReport {
    /// Its id.
    pub id: String,
    /// Who reported.
    pub user_id: String,
    /// The reported timeline entry (an audit event id).
    pub event_id: String,
    /// Its kind's wire name.
    pub event_type: String,
    /// When.
    pub reported_at: Millis,
    /// From where.
    pub ip: Option<String>,
    /// From which browser.
    pub user_agent: Option<String>,
    /// How many other sessions were ended.
    pub sessions_ended: i64,
    /// How many other apps' grants were revoked.
    pub grants_revoked: i64,
    /// Whether the password was replaced with it.
    pub password_replaced: bool,
}

/// The browser and system an event came from, as far as its user agent tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// `Firefox`, `Chrome`, `Safari`, … (`UNKNOWN` when it does not say).
    pub browser: String,
    /// `Linux`, `Android`, `iPhone`, `Windows 10`, …
    pub os: String,
    /// `pc`, `smartphone`, `mobilephone`, `appliance`, `crawler`, `misc`.
    pub category: String,
}

impl Device {
    /// What a user agent string says, if it names a browser or a system.
    pub fn from_user_agent(agent: &str) -> Option<Self> {
        const UNKNOWN: &str = "UNKNOWN";
        let r = woothee::parser::Parser::new().parse(agent)?;
        (r.name != UNKNOWN || r.os != UNKNOWN).then(|| Self {
            browser: r.name.to_string(),
            os: r.os.to_string(),
            category: r.category.to_string(),
        })
    }

    /// `Firefox on Linux`, or as much of it as is known.
    pub fn words(&self) -> String {
        match (self.browser.as_str(), self.os.as_str()) {
            ("UNKNOWN", os) => format!("a browser on {os}"),
            (browser, "UNKNOWN") => browser.to_string(),
            (browser, os) => format!("{browser} on {os}"),
        }
    }
}

/// One entry of a user's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct SecurityEvent {
    /// The audit event's id (time-ordered; the paging cursor).
    pub id: String,
    /// When.
    pub at: Millis,
    /// What happened.
    pub kind: SecurityEventKind,
    /// What happened, in a sentence.
    pub description: String,
    /// The client address it came from, when over HTTP.
    pub ip: Option<String>,
    /// The browser or app it came from, as it named itself.
    pub user_agent: Option<String>,
    /// What that user agent says of the browser and system.
    pub device: Option<Device>,
    /// Non-secret particulars: the method (`pwd`, `passkey`), the method type, the connection, the
    /// changed field names.
    pub details: Value,
}

impl SecurityEvent {
    /// The timeline entry of an audit event, if the timeline shows its action.
    pub fn from_audit(e: &AuditEvent) -> Option<Self> {
        use SecurityEventKind::*;
        let (_, kind) = ACTIONS.iter().find(|(a, _)| *a == e.action)?;
        let failed = e.result == "failure";
        let locked_until = e.detail.get("locked_until").and_then(Value::as_i64);
        let kind = match (*kind, failed) {
            (SignedIn, true) if locked_until.is_some() => SignInLocked,
            (SignedIn, true) => SignInRefused,
            (SecondStepPassed, true) => SecondStepRefused,
            (IdentityConfirmed, true) => IdentityCheckFailed,
            (k, _) => k,
        };
        let text = |k: &str| e.detail.get(k).and_then(Value::as_str).map(str::to_string);
        let device = e.user_agent.as_deref().and_then(Device::from_user_agent);
        let mut details = serde_json::Map::new();
        for key in ["method", "type", "connection", "changed", "via", "new_device", "locked_until", "reported"] {
            if let Some(v) = e.detail.get(key) {
                details.insert(key.into(), v.clone());
            }
        }
        let connection = text("connection").unwrap_or_else(|| "another account".into());
        let method_type = text("type").map(|t| method_words(&t)).unwrap_or("a sign-in method");
        let description = match kind {
            AccountCreated => match text("via").or(text("connection")) {
                Some(via) => format!("Your account was created with {}", via_words(&via)),
                None => "Your account was created".into(),
            },
            SignedIn => {
                let how = match (e.action.as_str(), text("method")) {
                    ("user.passkey_sign_in", _) => "Signed in with a passkey".into(),
                    ("user.sign_in.upstream" | "user.sign_in.upstream_linked", _) => {
                        format!("Signed in with {connection}")
                    }
                    (_, Some(m)) => format!("Signed in with {}", sign_in_words(&m)),
                    _ => "Signed in".into(),
                };
                let how = match &device {
                    Some(d) => format!("{how}, using {}", d.words()),
                    None => how,
                };
                if e.detail.get("new_device") == Some(&Value::Bool(true)) {
                    format!("{how}, from a browser or device not seen lately")
                } else {
                    how
                }
            }
            SignInRefused => "A sign-in with a wrong password was refused".into(),
            SignInLocked => {
                let minutes = locked_until.map_or(0, |until| ((until - e.at).max(0) + 59_999) / 60_000);
                format!(
                    "Too many wrong passwords from one address: sign-in from there is paused for {minutes} minute{}",
                    if minutes == 1 { "" } else { "s" }
                )
            }
            SecondStepPassed => "Completed the second step of a sign-in".into(),
            SecondStepRefused => "A wrong code was given for the second step of a sign-in".into(),
            SignedOut => "Signed out".into(),
            SessionEnded => "A signed-in session was ended".into(),
            SessionsEnded => "Every other signed-in session was ended".into(),
            AppAccessRevoked => "An app's access to your account was revoked".into(),
            RefreshTokenReused => "An app's used sign-in token was presented again, so that sign-in was ended".into(),
            ProfileChanged => match changed(&e.detail) {
                Some(fields) => format!("Your profile was changed ({fields})"),
                None => "Your profile was changed".into(),
            },
            ChangedByAdministrator => {
                let by = if matches!(e.actor, Actor::User(_)) { "You" } else { "An administrator" };
                match changed(&e.detail) {
                    Some(fields) => format!("{by} changed your account ({fields})"),
                    None => format!("{by} changed your account"),
                }
            }
            PasswordChanged => "Your password was changed".into(),
            EmailChanged => "Your email address was changed".into(),
            EmailRemoved => "Your email address was removed".into(),
            PhoneChanged => "Your phone number was changed".into(),
            PhoneRemoved => "Your phone number was removed".into(),
            MethodAdded => format!("Added {method_type}"),
            MethodChanged => format!("Changed {method_type}"),
            MethodRemoved => format!("Removed {method_type}"),
            TwoStepSettingsChanged => "Your two-step verification settings were changed".into(),
            IdentityLinked => format!("Linked your {connection} account"),
            IdentityUnlinked => format!("Unlinked your {connection} account"),
            LinkedTokenRead => format!("An app used your {connection} account's access"),
            IdentityConfirmed => "Confirmed it was you, to make a change".into(),
            IdentityCheckFailed => "A wrong password was given to confirm it was you".into(),
            AccountExported => "A copy of your account's data was downloaded".into(),
            ReportedNotMe => "You reported something you did not do: every other session and app was signed out".into(),
        };
        Some(Self {
            id: e.id.clone(),
            at: e.at,
            kind,
            description,
            ip: e.ip.clone(),
            user_agent: e.user_agent.clone(),
            device,
            details: Value::Object(details),
        })
    }
}

/// The changed field names of a detail, listed (`name, nickname`).
fn changed(detail: &Value) -> Option<String> {
    let fields: Vec<&str> = detail.get("changed")?.as_array()?.iter().filter_map(Value::as_str).collect();
    (!fields.is_empty()).then(|| fields.join(", "))
}

/// A sign-in's `amr` values in words.
fn sign_in_words(amr: &str) -> String {
    let words: Vec<&str> = amr
        .split_whitespace()
        .map(|m| match m {
            "pwd" => "your password",
            "passkey" | "webauthn" | "hwk" => "a passkey",
            "otp" | "totp" => "a one-time code",
            "mfa" => "a second step",
            "email" => "an email code",
            "sms" => "a text message code",
            _ => "another method",
        })
        .collect();
    if words.is_empty() { "your password".into() } else { words.join(" and ") }
}

/// A method type's storage name in words.
fn method_words(t: &str) -> &'static str {
    match t {
        "password" => "a password",
        "passkey" | "webauthn-platform" | "webauthn-roaming" | "webauthn" => "a passkey",
        "totp" => "an authenticator app",
        "recovery-code" | "backup_codes" | "backup-code" => "recovery codes",
        "email" => "an email address for codes",
        "phone" | "sms" => "a phone number for codes",
        "push-notification" => "a device for sign-in approvals",
        _ => "a sign-in method",
    }
}

fn via_words(via: &str) -> String {
    if via == "passkey" { "a passkey".into() } else { via.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Context;
    use serde_json::json;

    #[test]
    fn every_action_has_a_kind_and_a_sentence() {
        for (action, _) in ACTIONS {
            let e = AuditEvent::success(&Context::cli(), action, "user", "u1", json!({}));
            let s = SecurityEvent::from_audit(&e).unwrap_or_else(|| panic!("{action} is not shown"));
            assert!(!s.description.is_empty() && SecurityEventKind::ALL.contains(&s.kind.as_str()), "{action}");
        }
        let e = AuditEvent::success(&Context::cli(), "client.create", "client", "c1", json!({}));
        assert!(SecurityEvent::from_audit(&e).is_none(), "not a user's event");
    }

    #[test]
    fn failures_read_as_refusals_and_details_keep_no_more_than_their_names() {
        let mut e =
            AuditEvent::success(&Context::cli(), "user.sign_in", "user", "u1", json!({"method": "pwd", "sid": "s"}));
        assert_eq!(SecurityEvent::from_audit(&e).unwrap().description, "Signed in with your password");
        e.result = "failure".into();
        let s = SecurityEvent::from_audit(&e).unwrap();
        assert_eq!(s.kind, SecurityEventKind::SignInRefused);
        assert_eq!(s.details, json!({"method": "pwd"}), "the session id stays out");
    }
}
