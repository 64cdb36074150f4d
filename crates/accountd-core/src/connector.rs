//! Message connectors: how a tenant's emails and SMS leave (SMTP, Logto's HTTP connector JSON, or
//! the development outbox), the templates per purpose, and the checks on both. Nothing here opens a
//! socket: crate `accountd-connectors` delivers, through the [`MessageSender`] port.
//!
//! A tenant configures at most one connector per channel. With none (or a disabled one) messages go
//! to the development outbox: stored for 24 hours and logged, so a newcomer sees codes without any
//! setup (`accountd admin outbox`).
//!
//! [`MessageSender`]: crate::message::MessageSender

use std::fmt;

use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::clock::Millis;
use crate::error::{Error, FieldError, Result};
use crate::message::{Channel, Purpose};
use crate::secret::MasterKey;
use crate::tenant::TenantId;

/// A password or token held in memory: never printed by `Debug`, wiped on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(Zeroizing::new(secret.into()))
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// How an SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain SMTP (local test sinks only: credentials and codes travel in clear).
    None,
    /// Plain connection upgraded with STARTTLS, which the server must offer (port 587 or 25).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

impl SmtpTls {
    /// `none`, `starttls` or `tls`.
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpTls::None => "none",
            SmtpTls::StartTls => "starttls",
            SmtpTls::Tls => "tls",
        }
    }

    /// Parses `none`, `starttls` or `tls`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(SmtpTls::None),
            "starttls" => Some(SmtpTls::StartTls),
            "tls" => Some(SmtpTls::Tls),
            _ => None,
        }
    }

    /// What a port usually speaks when nothing is said: 465 is TLS, anything else STARTTLS.
    pub fn default_for_port(port: u16) -> Self {
        if port == 465 { SmtpTls::Tls } else { SmtpTls::StartTls }
    }
}

/// An SMTP server to send email through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    /// Host name or IP address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// User name for AUTH (none: the server takes mail without authentication).
    pub username: Option<String>,
    /// Password for AUTH (sealed at rest).
    pub password: Option<SecretString>,
    /// `From:` address, `a@example.com` or `Name <a@example.com>`.
    pub from_address: String,
    /// Transport security.
    pub tls: SmtpTls,
}

/// An HTTP endpoint that receives Logto's HTTP connector JSON (spec logto §8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// `https://…` (or `http://…` for local receivers).
    pub endpoint: String,
    /// Sent as `Authorization: Bearer <token>`; a value with a scheme (`Basic …`) is sent verbatim,
    /// as Logto's `authorization` setting is. Sealed at rest.
    pub authorization_token: Option<SecretString>,
}

/// How one channel of a tenant delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectorConfig {
    /// Stored and logged, not sent: the development default.
    Outbox,
    /// Email over SMTP.
    Smtp(SmtpConfig),
    /// Email or SMS posted as Logto's HTTP connector JSON.
    Http(HttpConfig),
}

/// The kind of a connector, by its wire and storage name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectorKind {
    /// `outbox`.
    Outbox,
    /// `smtp` (email only).
    Smtp,
    /// `http`.
    Http,
}

impl ConnectorKind {
    /// `outbox`, `smtp` or `http`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorKind::Outbox => "outbox",
            ConnectorKind::Smtp => "smtp",
            ConnectorKind::Http => "http",
        }
    }

    /// Parses `outbox`, `smtp` or `http`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "outbox" => Some(ConnectorKind::Outbox),
            "smtp" => Some(ConnectorKind::Smtp),
            "http" => Some(ConnectorKind::Http),
            _ => None,
        }
    }
}

impl ConnectorConfig {
    /// Its kind.
    pub fn kind(&self) -> ConnectorKind {
        match self {
            ConnectorConfig::Outbox => ConnectorKind::Outbox,
            ConnectorConfig::Smtp(_) => ConnectorKind::Smtp,
            ConnectorConfig::Http(_) => ConnectorKind::Http,
        }
    }

    /// Checks the configuration is usable on `channel`; every problem is reported at once.
    pub fn validate(&self, channel: Channel) -> Result<()> {
        let mut errors = Vec::new();
        match self {
            ConnectorConfig::Outbox => {}
            ConnectorConfig::Smtp(c) => {
                if channel != Channel::Email {
                    errors.push(FieldError::new("name", "smtp connectors send email only"));
                }
                check_host(&c.host, &mut errors);
                if c.port == 0 {
                    errors.push(FieldError::new("port", "must be between 1 and 65535"));
                }
                match (&c.username, &c.password) {
                    (Some(u), _) if u.trim().is_empty() || u.len() > 256 || has_control(u) => errors
                        .push(FieldError::new("username", "must be 1 to 256 characters without control characters")),
                    (Some(_), None) => errors.push(FieldError::new("password", "is required with a username")),
                    (None, Some(_)) => errors.push(FieldError::new("username", "is required with a password")),
                    _ => {}
                }
                if let Some(p) = &c.password
                    && (p.expose().is_empty() || p.expose().len() > 1024 || has_control(p.expose()))
                {
                    errors.push(FieldError::new("password", "must be 1 to 1024 characters without control characters"));
                }
                if let Err(message) = check_from_address(&c.from_address) {
                    errors.push(FieldError::new("from_address", message));
                }
            }
            ConnectorConfig::Http(c) => {
                if let Err(message) = check_endpoint(&c.endpoint) {
                    errors.push(FieldError::new("endpoint", message));
                }
                if let Some(t) = &c.authorization_token {
                    let t = t.expose();
                    if t.trim().is_empty() || t.len() > 4096 || has_control(t) || t != t.trim() {
                        errors.push(FieldError::new(
                            "authorization_token",
                            "must be 1 to 4096 characters without control characters or surrounding spaces",
                        ));
                    }
                }
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(Error::Invalid(errors)) }
    }

    /// The secret part (SMTP password, HTTP token), if any.
    pub fn secret(&self) -> Option<&SecretString> {
        match self {
            ConnectorConfig::Outbox => None,
            ConnectorConfig::Smtp(c) => c.password.as_ref(),
            ConnectorConfig::Http(c) => c.authorization_token.as_ref(),
        }
    }

    /// The non-secret settings as stored (JSON), the secret kept apart to be sealed.
    pub fn settings(&self) -> Value {
        match self {
            ConnectorConfig::Outbox => json!({}),
            ConnectorConfig::Smtp(c) => json!({
                "host": c.host,
                "port": c.port,
                "username": c.username,
                "from_address": c.from_address,
                "tls": c.tls.as_str(),
            }),
            ConnectorConfig::Http(c) => json!({ "endpoint": c.endpoint }),
        }
    }

    /// Rebuilds a configuration from its stored settings and its opened secret.
    pub fn from_settings(kind: ConnectorKind, settings: &Value, secret: Option<SecretString>) -> Result<Self> {
        let bad =
            |what: &str| Error::Internal(anyhow::anyhow!("stored {} connector has no valid {what}", kind.as_str()));
        let text = |key: &str| settings.get(key).and_then(Value::as_str).map(str::to_string);
        Ok(match kind {
            ConnectorKind::Outbox => ConnectorConfig::Outbox,
            ConnectorKind::Smtp => ConnectorConfig::Smtp(SmtpConfig {
                host: text("host").ok_or_else(|| bad("host"))?,
                port: settings
                    .get("port")
                    .and_then(Value::as_u64)
                    .and_then(|p| u16::try_from(p).ok())
                    .ok_or_else(|| bad("port"))?,
                username: text("username"),
                password: secret,
                from_address: text("from_address").ok_or_else(|| bad("from_address"))?,
                tls: text("tls").as_deref().and_then(SmtpTls::parse).ok_or_else(|| bad("tls"))?,
            }),
            ConnectorKind::Http => ConnectorConfig::Http(HttpConfig {
                endpoint: text("endpoint").ok_or_else(|| bad("endpoint"))?,
                authorization_token: secret,
            }),
        })
    }
}

/// A tenant's connector for one channel, as core and the sender see it (secrets opened).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantConnector {
    /// Email or SMS.
    pub channel: Channel,
    /// How it delivers.
    pub config: ConnectorConfig,
    /// Off: messages go where they would with no connector (the outbox by default).
    pub enabled: bool,
    /// Last change.
    pub updated_at: Millis,
}

impl TenantConnector {
    /// What a tenant that configured nothing has: the outbox.
    pub fn default_for(channel: Channel) -> Self {
        Self { channel, config: ConnectorConfig::Outbox, enabled: true, updated_at: 0 }
    }

    /// Seals the secret under the master key (context `connector:{tenant}:{channel}`) for storing.
    pub fn seal(&self, tenant: &TenantId, key: &MasterKey) -> Result<StoredConnector> {
        let secret_sealed = match self.config.secret() {
            Some(s) => Some(key.seal(&seal_context(tenant, self.channel), s.expose().as_bytes())?),
            None => None,
        };
        Ok(StoredConnector {
            channel: self.channel,
            kind: self.config.kind(),
            enabled: self.enabled,
            settings: self.config.settings(),
            secret_sealed,
            updated_at: self.updated_at,
        })
    }

    /// Opens a stored connector.
    pub fn open(stored: &StoredConnector, tenant: &TenantId, key: &MasterKey) -> Result<Self> {
        let secret = match &stored.secret_sealed {
            Some(sealed) => {
                let raw = key.open(&seal_context(tenant, stored.channel), sealed)?;
                let text = String::from_utf8(raw.to_vec())
                    .map_err(|_| Error::Internal(anyhow::anyhow!("connector secret is not UTF-8")))?;
                Some(SecretString::new(text))
            }
            None => None,
        };
        Ok(Self {
            channel: stored.channel,
            config: ConnectorConfig::from_settings(stored.kind, &stored.settings, secret)?,
            enabled: stored.enabled,
            updated_at: stored.updated_at,
        })
    }

    /// Applies a change: fields of the current kind are merged (an absent secret is kept); naming
    /// another kind starts that kind afresh from `fields`. The result is validated.
    pub fn apply(
        current: Option<&TenantConnector>,
        channel: Channel,
        fields: ConnectorFields,
        now: Millis,
    ) -> Result<Self> {
        let current_config = current.map(|c| &c.config);
        let kind = fields
            .kind
            .or(current_config.map(ConnectorConfig::kind))
            .ok_or_else(|| Error::invalid("name", "is required"))?;
        let same_kind = current_config.filter(|c| c.kind() == kind);
        let mut errors = Vec::new();
        let reject = |errors: &mut Vec<FieldError>, field: &str, given: bool, kinds: &str| {
            if given {
                errors.push(FieldError::new(field, format!("applies to {kinds} connectors only")));
            }
        };
        let config = match kind {
            ConnectorKind::Outbox => {
                reject(&mut errors, "host", fields.host.is_some(), "smtp");
                reject(&mut errors, "port", fields.port.is_some(), "smtp");
                reject(&mut errors, "username", fields.username.is_some(), "smtp");
                reject(&mut errors, "password", fields.password.is_some(), "smtp");
                reject(&mut errors, "tls", fields.tls.is_some(), "smtp");
                reject(&mut errors, "from_address", fields.from_address.is_some(), "smtp");
                reject(&mut errors, "endpoint", fields.endpoint.is_some(), "http");
                reject(&mut errors, "authorization_token", fields.authorization_token.is_some(), "http");
                ConnectorConfig::Outbox
            }
            ConnectorKind::Smtp => {
                reject(&mut errors, "endpoint", fields.endpoint.is_some(), "http");
                reject(&mut errors, "authorization_token", fields.authorization_token.is_some(), "http");
                let base = match same_kind {
                    Some(ConnectorConfig::Smtp(c)) => Some(c),
                    _ => None,
                };
                let port = fields.port.or(base.map(|b| b.port));
                let host = fields.host.or(base.map(|b| b.host.clone()));
                let from_address = fields.from_address.or(base.map(|b| b.from_address.clone()));
                if host.is_none() {
                    errors.push(FieldError::new("host", "is required"));
                }
                if port.is_none() {
                    errors.push(FieldError::new("port", "is required"));
                }
                if from_address.is_none() {
                    errors.push(FieldError::new("from_address", "is required"));
                }
                let port = port.unwrap_or(0);
                ConnectorConfig::Smtp(SmtpConfig {
                    host: host.unwrap_or_default(),
                    port,
                    username: merge(fields.username, base.and_then(|b| b.username.clone())),
                    password: merge(fields.password, base.and_then(|b| b.password.clone())),
                    from_address: from_address.unwrap_or_default(),
                    tls: fields.tls.or(base.map(|b| b.tls)).unwrap_or_else(|| SmtpTls::default_for_port(port)),
                })
            }
            ConnectorKind::Http => {
                reject(&mut errors, "host", fields.host.is_some(), "smtp");
                reject(&mut errors, "port", fields.port.is_some(), "smtp");
                reject(&mut errors, "username", fields.username.is_some(), "smtp");
                reject(&mut errors, "password", fields.password.is_some(), "smtp");
                reject(&mut errors, "tls", fields.tls.is_some(), "smtp");
                reject(&mut errors, "from_address", fields.from_address.is_some(), "smtp");
                let base = match same_kind {
                    Some(ConnectorConfig::Http(c)) => Some(c),
                    _ => None,
                };
                let endpoint = fields.endpoint.or(base.map(|b| b.endpoint.clone()));
                if endpoint.is_none() {
                    errors.push(FieldError::new("endpoint", "is required"));
                }
                ConnectorConfig::Http(HttpConfig {
                    endpoint: endpoint.unwrap_or_default(),
                    authorization_token: merge(
                        fields.authorization_token,
                        base.and_then(|b| b.authorization_token.clone()),
                    ),
                })
            }
        };
        if let Err(Error::Invalid(more)) = config.validate(channel) {
            for e in more {
                if !errors.iter().any(|x| x.field == e.field) {
                    errors.push(e);
                }
            }
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let enabled = fields.enabled.or(current.map(|c| c.enabled)).unwrap_or(true);
        Ok(Self { channel, config, enabled, updated_at: now })
    }
}

/// `Some(Some(v))` sets, `Some(None)` clears, `None` keeps.
fn merge<T>(given: Option<Option<T>>, current: Option<T>) -> Option<T> {
    match given {
        Some(v) => v,
        None => current,
    }
}

/// A change to a connector, from the management API or the CLI. `None` keeps the current value;
/// for optional values `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct ConnectorFields {
    /// The kind; required when the channel has no connector yet.
    pub kind: Option<ConnectorKind>,
    /// On or off.
    pub enabled: Option<bool>,
    /// SMTP host.
    pub host: Option<String>,
    /// SMTP port.
    pub port: Option<u16>,
    /// SMTP user name.
    pub username: Option<Option<String>>,
    /// SMTP password.
    pub password: Option<Option<SecretString>>,
    /// SMTP `From:`.
    pub from_address: Option<String>,
    /// SMTP transport security (default: by port).
    pub tls: Option<SmtpTls>,
    /// HTTP endpoint.
    pub endpoint: Option<String>,
    /// HTTP bearer token.
    pub authorization_token: Option<Option<SecretString>>,
}

/// A connector as stored: settings JSON, and the secret sealed under the master key.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredConnector {
    /// Email or SMS.
    pub channel: Channel,
    /// Its kind.
    pub kind: ConnectorKind,
    /// On or off.
    pub enabled: bool,
    /// Non-secret settings (see [`ConnectorConfig::settings`]).
    pub settings: Value,
    /// The SMTP password or HTTP token, sealed with context `connector:{tenant}:{channel}`.
    pub secret_sealed: Option<String>,
    /// Last change.
    pub updated_at: Millis,
}

/// The seal context of a connector's secret, so a sealed value copied to another row does not open.
pub fn seal_context(tenant: &TenantId, channel: Channel) -> String {
    format!("connector:{}:{}", tenant.as_str(), channel.as_str())
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

fn check_host(host: &str, errors: &mut Vec<FieldError>) {
    let ok = !host.is_empty()
        && host.len() <= 253
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_'));
    if !ok {
        errors.push(FieldError::new("host", "must be a host name or IP address"));
    }
}

/// Checks an address: `a@example.com` or `Name <a@example.com>`.
fn check_from_address(from: &str) -> Result<(), &'static str> {
    const MSG: &str = "must be an email address, optionally with a name: Name <a@example.com>";
    if from.len() > 320 || has_control(from) {
        return Err(MSG);
    }
    let addr = match (from.rfind('<'), from.strip_suffix('>')) {
        (Some(open), Some(inner)) => &inner[open + 1..],
        (None, None) => from,
        _ => return Err(MSG),
    };
    if is_email_address(addr) { Ok(()) } else { Err(MSG) }
}

/// A plain `local@domain` address with no spaces or brackets.
pub fn is_email_address(addr: &str) -> bool {
    let Some((local, domain)) = addr.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && addr.len() <= 254
        && !addr.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"'))
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

fn check_endpoint(endpoint: &str) -> Result<(), &'static str> {
    const MSG: &str = "must be an http:// or https:// URL";
    if endpoint.len() > 2048 || endpoint.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(MSG);
    }
    let rest = endpoint.strip_prefix("https://").or_else(|| endpoint.strip_prefix("http://")).ok_or(MSG)?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return Err("must be an http:// or https:// URL with a host and no user info");
    }
    Ok(())
}

/// `email` or `sms`.
pub fn parse_channel(s: &str) -> Option<Channel> {
    match s {
        "email" => Some(Channel::Email),
        "sms" => Some(Channel::Sms),
        _ => None,
    }
}

/// A purpose by Logto's name (`SignIn`) or in snake_case (`sign_in`).
pub fn parse_purpose(s: &str) -> Option<Purpose> {
    Purpose::ALL.into_iter().find(|p| p.as_str() == s || purpose_snake_case(*p) == s)
}

/// A purpose in snake_case (`sign_in`, `user_permission_validation`).
pub fn purpose_snake_case(p: Purpose) -> &'static str {
    match p {
        Purpose::SignIn => "sign_in",
        Purpose::Register => "register",
        Purpose::ForgotPassword => "forgot_password",
        Purpose::Generic => "generic",
        Purpose::UserPermissionValidation => "user_permission_validation",
        Purpose::BindNewIdentifier => "bind_new_identifier",
        Purpose::MfaVerification => "mfa_verification",
        Purpose::BindMfa => "bind_mfa",
    }
}

// ---------------------------------------------------------------------------------------------
// Templates

/// A message template: `subject` (email only) and `content`, with `{{code}}`, `{{application}}` and
/// `{{locale}}` placeholders.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Template {
    /// Email subject; empty for SMS.
    pub subject: String,
    /// Plain-text body.
    pub content: String,
}

/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 3] = ["code", "application", "locale"];

/// Longest subject accepted.
pub const MAX_SUBJECT_LEN: usize = 255;
/// Longest email content accepted.
pub const MAX_EMAIL_CONTENT_LEN: usize = 10_000;
/// Longest SMS content accepted (a few segments).
pub const MAX_SMS_CONTENT_LEN: usize = 640;

/// The built-in template of a purpose on a channel.
pub fn default_template(channel: Channel, purpose: Purpose) -> Template {
    let (subject, what) = match purpose {
        Purpose::SignIn => ("Your sign-in code", "sign in"),
        Purpose::Register => ("Your verification code", "create your account"),
        Purpose::ForgotPassword => ("Your password reset code", "reset your password"),
        Purpose::Generic => ("Your verification code", "verify this address"),
        Purpose::UserPermissionValidation => ("Confirm it is you", "confirm a change to your account"),
        Purpose::BindNewIdentifier => ("Verify your new address", "add this address to your account"),
        Purpose::MfaVerification => ("Your security code", "finish signing in"),
        Purpose::BindMfa => ("Verify your address", "use this address to sign in securely"),
    };
    match channel {
        Channel::Email => Template {
            subject: subject.into(),
            content: format!(
                "Your code is {{{{code}}}}. Use it to {what}.\n\nIf you did not ask for this code, you can ignore this message."
            ),
        },
        Channel::Sms => Template { subject: String::new(), content: format!("{{{{code}}}} is your code to {what}.") },
    }
}

/// Checks a template for `channel`: content with `{{code}}`, a one-line subject for email and
/// none for SMS, only known placeholders, bounded lengths.
pub fn validate_template(channel: Channel, t: &Template) -> Result<()> {
    let mut errors = Vec::new();
    match channel {
        Channel::Email => {
            if t.subject.trim().is_empty() {
                errors.push(FieldError::new("subject", "is required for email"));
            } else if t.subject.chars().count() > MAX_SUBJECT_LEN || has_control(&t.subject) {
                errors.push(FieldError::new(
                    "subject",
                    format!("must be one line of at most {MAX_SUBJECT_LEN} characters"),
                ));
            }
        }
        Channel::Sms => {
            if !t.subject.is_empty() {
                errors.push(FieldError::new("subject", "SMS messages have no subject; leave it empty"));
            }
        }
    }
    let max = if channel == Channel::Email { MAX_EMAIL_CONTENT_LEN } else { MAX_SMS_CONTENT_LEN };
    if t.content.chars().count() > max {
        errors.push(FieldError::new("content", format!("must be at most {max} characters")));
    }
    if t.content.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        errors.push(FieldError::new("content", "must not contain control characters"));
    }
    for (field, text) in [("subject", &t.subject), ("content", &t.content)] {
        for name in placeholders(text) {
            if !PLACEHOLDERS.contains(&name.as_str()) {
                errors.push(FieldError::new(
                    field,
                    format!(
                        "unknown placeholder {{{{{name}}}}} (known: {{{{code}}}}, {{{{application}}}}, {{{{locale}}}})"
                    ),
                ));
            }
        }
    }
    if placeholders(&t.subject).iter().any(|n| n == "code") {
        errors.push(FieldError::new("subject", "must not contain {{code}} (subjects show in notifications and lists)"));
    }
    if !placeholders(&t.content).iter().any(|n| n == "code") {
        errors.push(FieldError::new("content", "must contain {{code}}"));
    }
    if errors.is_empty() { Ok(()) } else { Err(Error::Invalid(errors)) }
}

/// Names of the `{{ name }}` placeholders in `text`, in order.
fn placeholders(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        out.push(after[..end].trim().to_string());
        rest = &after[end + 2..];
    }
    out
}

/// Values a template is rendered with.
#[derive(Debug, Clone, Copy)]
pub struct TemplateValues<'a> {
    /// The one-time code.
    pub code: &'a str,
    /// The application's name (empty if none).
    pub application: &'a str,
    /// The language (`en` if unknown).
    pub locale: &'a str,
}

impl<'a> TemplateValues<'a> {
    /// Values from a code and the message's extra payload (`application` as a name or an object
    /// with `displayName`/`name`; `locale`).
    pub fn from_payload(code: &'a str, payload: &'a serde_json::Map<String, Value>) -> Self {
        let application = match payload.get("application") {
            Some(Value::String(s)) => s.as_str(),
            Some(Value::Object(o)) => o
                .get("displayName")
                .and_then(Value::as_str)
                .or_else(|| o.get("name").and_then(Value::as_str))
                .unwrap_or(""),
            _ => "",
        };
        let locale = payload.get("locale").and_then(Value::as_str).unwrap_or("en");
        Self { code, application, locale }
    }
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Subject (empty for SMS).
    pub subject: String,
    /// Body.
    pub text: String,
}

/// Fills a template's placeholders. Values are inserted as they are (plain text); unknown
/// placeholders (which validation refuses) are left untouched.
pub fn render(t: &Template, values: &TemplateValues<'_>) -> Rendered {
    Rendered { subject: fill(&t.subject, values), text: fill(&t.content, values) }
}

fn fill(text: &str, v: &TemplateValues<'_>) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        match after[..end].trim() {
            "code" => out.push_str(v.code),
            "application" => out.push_str(v.application),
            "locale" => out.push_str(v.locale),
            _ => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

// ---------------------------------------------------------------------------------------------
// Outbox

/// How long the outbox keeps a message.
pub const OUTBOX_MAX_AGE_MILLIS: Millis = 24 * 3600 * 1000;
/// How many messages the outbox keeps per tenant.
pub const OUTBOX_MAX_PER_TENANT: u32 = 1000;

/// A message the development outbox kept instead of sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// Time-ordered id.
    pub id: String,
    /// Email or SMS.
    pub channel: Channel,
    /// Address or phone number.
    pub recipient: String,
    /// Why it was sent.
    pub purpose: Purpose,
    /// Subject (empty for SMS).
    pub subject: String,
    /// Body.
    pub text: String,
    /// The one-time code it carries.
    pub code: String,
    /// When it was kept.
    pub created_at: Millis,
}

/// Orders the ids of outbox messages written within the same millisecond.
static OUTBOX_SEQUENCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A new time-ordered outbox id for a message kept at `at`.
pub fn new_outbox_id(at: Millis) -> String {
    let seq = OUTBOX_SEQUENCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 1_000_000;
    format!("{at:013}{seq:06}{}", crate::secret::random_alnum(6))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields_of(e: Error) -> Vec<String> {
        match e {
            Error::Invalid(v) => v.into_iter().map(|f| format!("{}: {}", f.field, f.message)).collect(),
            other => panic!("expected invalid input, got {other:?}"),
        }
    }

    fn smtp() -> ConnectorFields {
        ConnectorFields {
            kind: Some(ConnectorKind::Smtp),
            host: Some("smtp.example.com".into()),
            port: Some(587),
            username: Some(Some("mailer".into())),
            password: Some(Some(SecretString::new("hunter2"))),
            from_address: Some("Accounts <no-reply@example.com>".into()),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_render_the_code_for_every_purpose_and_channel() {
        for channel in [Channel::Email, Channel::Sms] {
            for p in Purpose::ALL {
                let t = default_template(channel, p);
                validate_template(channel, &t).unwrap();
                let r = render(&t, &TemplateValues { code: "123456", application: "", locale: "en" });
                assert!(r.text.contains("123456"), "{channel:?} {p:?}: {}", r.text);
                assert!(!r.text.contains("{{"));
                assert_eq!(r.subject.is_empty(), channel == Channel::Sms);
            }
        }
    }

    #[test]
    fn render_fills_known_placeholders_with_or_without_spaces() {
        let t =
            Template { subject: "{{application}} code".into(), content: "{{ code }} / {{locale}} / {{x}} / {{".into() };
        let r = render(&t, &TemplateValues { code: "42", application: "Shop", locale: "fr" });
        assert_eq!(r.subject, "Shop code");
        assert_eq!(r.text, "42 / fr / {{x}} / {{");
    }

    #[test]
    fn template_values_read_the_payload() {
        let payload = json!({"application": {"id": "a", "name": "shop", "displayName": "Shop"}, "locale": "de"});
        let v = TemplateValues::from_payload("1", payload.as_object().unwrap());
        assert_eq!((v.application, v.locale), ("Shop", "de"));
        let empty = serde_json::Map::new();
        let v = TemplateValues::from_payload("1", &empty);
        assert_eq!((v.application, v.locale), ("", "en"));
    }

    #[test]
    fn templates_are_validated_with_clear_messages() {
        let bad = Template { subject: "Code {{code}}\nBcc: x".into(), content: "Hello {{name}}".into() };
        let errs = fields_of(validate_template(Channel::Email, &bad).unwrap_err());
        assert!(errs.iter().any(|e| e.starts_with("subject: must be one line")), "{errs:?}");
        assert!(errs.iter().any(|e| e.contains("unknown placeholder {{name}}")), "{errs:?}");
        assert!(errs.contains(&"content: must contain {{code}}".to_string()), "{errs:?}");
        assert!(errs.iter().any(|e| e.starts_with("subject: must not contain {{code}}")), "{errs:?}");
        let errs = fields_of(
            validate_template(Channel::Sms, &Template { subject: "x".into(), content: "{{code}}".into() }).unwrap_err(),
        );
        assert_eq!(errs, ["subject: SMS messages have no subject; leave it empty"]);
        let errs = fields_of(
            validate_template(Channel::Email, &Template { subject: String::new(), content: "{{code}}".into() })
                .unwrap_err(),
        );
        assert_eq!(errs, ["subject: is required for email"]);
        let long = Template { subject: String::new(), content: format!("{{{{code}}}}{}", "x".repeat(700)) };
        assert!(validate_template(Channel::Sms, &long).is_err());
    }

    #[test]
    fn connectors_are_built_merged_and_validated() {
        let c = TenantConnector::apply(None, Channel::Email, smtp(), 5).unwrap();
        let ConnectorConfig::Smtp(s) = &c.config else { panic!("smtp") };
        assert_eq!((s.tls, c.enabled, c.updated_at), (SmtpTls::StartTls, true, 5));
        // A change of the host keeps the password.
        let changed = TenantConnector::apply(
            Some(&c),
            Channel::Email,
            ConnectorFields { host: Some("mail.example.com".into()), ..Default::default() },
            6,
        )
        .unwrap();
        let ConnectorConfig::Smtp(s) = &changed.config else { panic!("smtp") };
        assert_eq!((s.host.as_str(), s.password.as_ref().unwrap().expose()), ("mail.example.com", "hunter2"));
        // Switching kind starts afresh.
        let errs = fields_of(
            TenantConnector::apply(
                Some(&c),
                Channel::Email,
                ConnectorFields { kind: Some(ConnectorKind::Http), ..Default::default() },
                7,
            )
            .unwrap_err(),
        );
        assert_eq!(errs, ["endpoint: is required"]);
        // Port 465 defaults to TLS.
        let c = TenantConnector::apply(None, Channel::Email, ConnectorFields { port: Some(465), ..smtp() }, 5).unwrap();
        assert!(matches!(c.config, ConnectorConfig::Smtp(SmtpConfig { tls: SmtpTls::Tls, .. })));
    }

    #[test]
    fn bad_connectors_name_every_bad_field() {
        let errs = fields_of(
            TenantConnector::apply(
                None,
                Channel::Email,
                ConnectorFields {
                    host: Some("bad host".into()),
                    port: Some(0),
                    password: Some(None),
                    from_address: Some("nobody".into()),
                    endpoint: Some("https://x".into()),
                    ..smtp()
                },
                1,
            )
            .unwrap_err(),
        );
        assert!(errs.contains(&"endpoint: applies to http connectors only".to_string()), "{errs:?}");
        assert!(errs.contains(&"host: must be a host name or IP address".to_string()), "{errs:?}");
        assert!(errs.contains(&"port: must be between 1 and 65535".to_string()), "{errs:?}");
        assert!(errs.contains(&"password: is required with a username".to_string()), "{errs:?}");
        assert!(errs.iter().any(|e| e.starts_with("from_address: must be an email address")), "{errs:?}");

        let errs = fields_of(TenantConnector::apply(None, Channel::Sms, smtp(), 1).unwrap_err());
        assert_eq!(errs, ["name: smtp connectors send email only"]);
        let errs = fields_of(TenantConnector::apply(None, Channel::Sms, ConnectorFields::default(), 1).unwrap_err());
        assert_eq!(errs, ["name: is required"]);
        for endpoint in ["ftp://x", "https://", "https://user:pw@host/", "https://a b"] {
            let f = ConnectorFields {
                kind: Some(ConnectorKind::Http),
                endpoint: Some(endpoint.into()),
                ..Default::default()
            };
            assert!(TenantConnector::apply(None, Channel::Sms, f, 1).is_err(), "{endpoint} accepted");
        }
        let f = ConnectorFields {
            kind: Some(ConnectorKind::Http),
            endpoint: Some("https://hooks.example.com/sms?x=1".into()),
            authorization_token: Some(Some(SecretString::new("tok\r\nX-Evil: 1"))),
            ..Default::default()
        };
        let errs = fields_of(TenantConnector::apply(None, Channel::Sms, f, 1).unwrap_err());
        assert!(errs[0].starts_with("authorization_token:"), "{errs:?}");
    }

    #[test]
    fn secrets_stay_out_of_debug_and_settings_and_round_trip_sealed() {
        let key = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
        let tenant = TenantId::from_stored("ten_a".into());
        let c = TenantConnector::apply(None, Channel::Email, smtp(), 5).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"), "{c:?}");
        let stored = c.seal(&tenant, &key).unwrap();
        assert!(!stored.settings.to_string().contains("hunter2"));
        assert!(!format!("{stored:?}").contains("hunter2"));
        assert_eq!(TenantConnector::open(&stored, &tenant, &key).unwrap(), c);
        let other = TenantId::from_stored("ten_b".into());
        assert!(TenantConnector::open(&stored, &other, &key).is_err(), "secret opened under another tenant");
    }

    #[test]
    fn purposes_and_channels_parse_both_spellings() {
        for p in Purpose::ALL {
            assert_eq!(parse_purpose(p.as_str()), Some(p));
            assert_eq!(parse_purpose(purpose_snake_case(p)), Some(p));
        }
        assert_eq!(parse_purpose("nope"), None);
        assert_eq!(parse_channel("sms"), Some(Channel::Sms));
        assert_eq!(parse_channel("push"), None);
    }

    #[test]
    fn outbox_ids_are_time_ordered() {
        let ids: Vec<String> = (0..100).map(|_| new_outbox_id(1_700_000_000_000)).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }
}
