//! accountd's message connectors: the [`MessageSender`] core sends one-time codes through.
//!
//! Per tenant and channel (`accountd_core::connector`):
//! - **SMTP** (email) with lettre: plain, STARTTLS or TLS, optional AUTH, pooled connections;
//! - **HTTP** (email and SMS): a `POST` of Logto's HTTP connector JSON (spec logto §8),
//!   `{"to", "type", "payload": {"code", "locale", …}}`, with `Authorization: Bearer <token>`;
//! - the **development outbox**, the default when nothing is configured: the message is stored
//!   (24 hours, 1000 per tenant) and logged with its code, so a newcomer reads codes with
//!   `accountd admin outbox` or `GET /api/v2/connectors/outbox` without any setup.
//!
//! Configurations are read from the store and kept for [`CONFIG_TTL`], so a change through the
//! management API or the CLI applies within about a second, on every node.

pub mod upstream;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use accountd_core::clock::now_millis;
use accountd_core::connector::{
    ConnectorConfig, HttpConfig, OUTBOX_MAX_AGE_MILLIS, OUTBOX_MAX_PER_TENANT, OutboxMessage, SmtpConfig, SmtpTls,
    TemplateValues, TenantConnector, default_template, new_outbox_id, render,
};
use accountd_core::message::{Channel, MessageSender, OutgoingMessage, SendError};
use accountd_core::secret::MasterKey;
use accountd_core::store::Store;
use accountd_core::tenant::TenantId;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde_json::{Value, json};

/// How long a tenant's connector configuration is reused before it is read again.
pub const CONFIG_TTL: Duration = Duration::from_secs(1);

/// How long an HTTP connector or an SMTP command may take.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a whole SMTP delivery (connect, TLS, AUTH, DATA) may take.
pub const SMTP_SESSION_TIMEOUT: Duration = Duration::from_secs(20);

/// Installs rustls's ring provider as the process default (reqwest is built with
/// `rustls-no-provider`). Call it once at process start, before any `reqwest::Client` is built;
/// calling it again is harmless.
pub fn install_crypto_provider() {
    // Err means a provider is installed already, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A configuration ready to send with: the connector, and its SMTP transport (pooled) if any.
struct Resolved {
    connector: Option<TenantConnector>,
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
}

struct CacheEntry {
    read_at: Instant,
    resolved: Arc<Resolved>,
}

/// Delivers a tenant's messages through the connector it configured (see the crate docs).
pub struct Connectors {
    store: Arc<dyn Store>,
    master_key: MasterKey,
    http: reqwest::Client,
    outbox_fallback: bool,
    cache: Mutex<HashMap<(TenantId, Channel), CacheEntry>>,
}

impl Connectors {
    /// The sender over the store (connector settings, templates, outbox), the master key (which
    /// opens the connectors' sealed secrets) and an HTTP client (for HTTP connectors; its TLS needs
    /// [`install_crypto_provider`] to have run).
    pub fn new(store: Arc<dyn Store>, master_key: MasterKey, http: reqwest::Client) -> Self {
        Self { store, master_key, http, outbox_fallback: true, cache: Mutex::new(HashMap::new()) }
    }

    /// Whether a channel without an (enabled) connector falls back to the outbox (the default) or
    /// fails with [`SendError::NotConfigured`] (production deployments that must never keep codes).
    pub fn with_outbox_fallback(mut self, on: bool) -> Self {
        self.outbox_fallback = on;
        self
    }

    /// The tenant's configuration for `channel`, from the cache if it is fresh.
    async fn resolve(&self, tenant: &TenantId, channel: Channel) -> Result<Arc<Resolved>, SendError> {
        let key = (tenant.clone(), channel);
        let previous = {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            match cache.get(&key) {
                Some(e) if e.read_at.elapsed() < CONFIG_TTL => return Ok(e.resolved.clone()),
                Some(e) => Some(e.resolved.clone()),
                None => None,
            }
        };
        let failed = |detail: &str| SendError::Failed { channel: channel.as_str(), detail: detail.into() };
        let stored = self.store.find_connector(tenant, channel).await.map_err(|e| {
            tracing::warn!(tenant.id = %tenant, error = %e, "cannot read the message connector");
            failed("cannot read the connector configuration")
        })?;
        let connector = match stored {
            Some(s) => Some(TenantConnector::open(&s, tenant, &self.master_key).map_err(|e| {
                tracing::warn!(tenant.id = %tenant, error = %e, "cannot open the message connector's secret");
                failed("cannot open the connector configuration")
            })?),
            None => None,
        };
        let resolved = match previous {
            // Unchanged: keep the SMTP pool.
            Some(p) if p.connector == connector => p,
            _ => {
                let smtp = match connector.as_ref().map(|c| &c.config) {
                    Some(ConnectorConfig::Smtp(s)) => Some(smtp_transport(s).map_err(|e| failed(&e))?),
                    _ => None,
                };
                Arc::new(Resolved { connector, smtp })
            }
        };
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.insert(key, CacheEntry { read_at: Instant::now(), resolved: resolved.clone() });
        Ok(resolved)
    }

    /// The subject and text to send: core's, or the tenant's template for the purpose rendered
    /// when core left both empty.
    async fn content(&self, tenant: &TenantId, m: &OutgoingMessage) -> (String, String) {
        if !m.text.is_empty() || !m.subject.is_empty() {
            return (m.subject.clone(), m.text.clone());
        }
        let template = match self.store.find_message_template(tenant, m.channel, m.purpose).await {
            Ok(Some(t)) => t,
            Ok(None) => default_template(m.channel, m.purpose),
            Err(e) => {
                tracing::warn!(tenant.id = %tenant, error = %e, "cannot read the message template; using the built-in one");
                default_template(m.channel, m.purpose)
            }
        };
        let r = render(&template, &TemplateValues::from_payload(&m.code, &m.payload));
        (r.subject, r.text)
    }

    async fn send_outbox(&self, tenant: &TenantId, m: &OutgoingMessage) -> Result<(), SendError> {
        let (subject, text) = self.content(tenant, m).await;
        let now = now_millis();
        let kept = OutboxMessage {
            id: new_outbox_id(now),
            channel: m.channel,
            recipient: m.to.clone(),
            purpose: m.purpose,
            subject,
            text,
            code: m.code.clone(),
            created_at: now,
        };
        self.store
            .insert_outbox_message(tenant, &kept, now - OUTBOX_MAX_AGE_MILLIS, OUTBOX_MAX_PER_TENANT)
            .await
            .map_err(|e| {
                tracing::warn!(tenant.id = %tenant, error = %e, "cannot write to the outbox");
                SendError::Failed { channel: m.channel.as_str(), detail: "cannot write to the outbox".into() }
            })?;
        // The development outbox exists so that people see codes: the one place a code is logged.
        tracing::info!(
            tenant.id = %tenant,
            message.channel = m.channel.as_str(),
            message.to = %m.to,
            message.purpose = m.purpose.as_str(),
            message.code = %m.code,
            "development outbox: message kept, not sent (read it with `accountd admin outbox`)"
        );
        Ok(())
    }

    async fn send_smtp(
        &self,
        tenant: &TenantId,
        config: &SmtpConfig,
        transport: &AsyncSmtpTransport<Tokio1Executor>,
        m: &OutgoingMessage,
    ) -> Result<(), SendError> {
        let failed = |detail: String| SendError::Failed { channel: "email", detail };
        let from: Mailbox =
            config.from_address.parse().map_err(|_| failed("the configured from address is invalid".into()))?;
        let to: Mailbox = m.to.parse().map_err(|_| failed("the recipient is not a valid email address".into()))?;
        let (subject, text) = self.content(tenant, m).await;
        let email = Message::builder()
            .from(from)
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(text)
            .map_err(|e| failed(format!("cannot build the email: {e}")))?;
        // lettre bounds connecting, not every read: a server that stops answering must not hold
        // the caller (and its sign-in) for minutes.
        match tokio::time::timeout(SMTP_SESSION_TIMEOUT, transport.send(email)).await {
            Ok(sent) => sent.map(|_| ()).map_err(|e| failed(smtp_error(&e))),
            Err(_) => Err(failed("the SMTP server did not answer in time".into())),
        }
    }

    async fn send_http(&self, config: &HttpConfig, m: &OutgoingMessage) -> Result<(), SendError> {
        let channel = m.channel.as_str();
        let mut request = self.http.post(&config.endpoint).timeout(SEND_TIMEOUT).json(&logto_body(m));
        if let Some(token) = &config.authorization_token {
            request = request.header(reqwest::header::AUTHORIZATION, authorization_value(token.expose()));
        }
        let response = request.send().await.map_err(|e| SendError::Failed {
            channel,
            detail: if e.is_timeout() {
                "the HTTP connector did not answer in time".into()
            } else if e.is_connect() {
                "cannot connect to the HTTP connector".into()
            } else {
                // Without the URL, which may carry a token in its query.
                format!("the HTTP connector request failed: {}", e.without_url())
            },
        })?;
        let status = response.status();
        if !status.is_success() {
            // Logto surfaces the body; we never do: it may echo the code.
            return Err(SendError::Failed { channel, detail: format!("the HTTP connector answered {status}") });
        }
        Ok(())
    }
}

/// The body Logto's HTTP email and SMS connectors post (spec logto §8): the recipient, the
/// purpose as `type`, and the payload with the code and the locale (`en` unless given).
pub fn logto_body(m: &OutgoingMessage) -> Value {
    let mut payload = m.payload.clone();
    payload.insert("code".into(), Value::String(m.code.clone()));
    payload.entry("locale").or_insert_with(|| Value::String("en".into()));
    json!({ "to": m.to, "type": m.purpose.as_str(), "payload": payload })
}

/// `Bearer <token>`, or the value as given when it names its own scheme (`Basic …`, `Bearer …`),
/// as Logto's `authorization` setting is sent verbatim.
fn authorization_value(token: &str) -> String {
    if token.contains(' ') { token.to_string() } else { format!("Bearer {token}") }
}

fn smtp_transport(c: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let tls = match c.tls {
        SmtpTls::None => Tls::None,
        SmtpTls::StartTls => Tls::Required(
            TlsParameters::new(c.host.clone()).map_err(|e| format!("cannot set up TLS for the SMTP server: {e}"))?,
        ),
        SmtpTls::Tls => Tls::Wrapper(
            TlsParameters::new(c.host.clone()).map_err(|e| format!("cannot set up TLS for the SMTP server: {e}"))?,
        ),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(c.host.as_str())
        .port(c.port)
        .tls(tls)
        .timeout(Some(SEND_TIMEOUT));
    if let (Some(user), Some(password)) = (&c.username, &c.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_string()));
    }
    Ok(builder.build())
}

/// What went wrong with SMTP, in words that name no message content.
fn smtp_error(e: &lettre::transport::smtp::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_permanent() {
        "the server refused the message"
    } else if e.is_transient() {
        "the server deferred the message"
    } else if e.is_tls() {
        "TLS failed"
    } else {
        "delivery failed"
    };
    let mut detail = format!("SMTP {kind}: {e}");
    detail.truncate(300);
    detail
}

#[async_trait::async_trait]
impl MessageSender for Connectors {
    async fn send(&self, tenant: &TenantId, message: &OutgoingMessage) -> Result<(), SendError> {
        let resolved = self.resolve(tenant, message.channel).await?;
        let active = resolved.connector.as_ref().filter(|c| c.enabled);
        let started = Instant::now();
        let result = match active.map(|c| &c.config) {
            None if !self.outbox_fallback => Err(SendError::NotConfigured(message.channel.as_str())),
            None | Some(ConnectorConfig::Outbox) => return self.send_outbox(tenant, message).await,
            Some(ConnectorConfig::Smtp(c)) => match (message.channel, &resolved.smtp) {
                (Channel::Email, Some(transport)) => self.send_smtp(tenant, c, transport, message).await,
                _ => Err(SendError::NotConfigured(message.channel.as_str())),
            },
            Some(ConnectorConfig::Http(c)) => self.send_http(c, message).await,
        };
        if result.is_ok() {
            tracing::debug!(
                tenant.id = %tenant,
                message.channel = message.channel.as_str(),
                message.purpose = message.purpose.as_str(),
                duration_ms = started.elapsed().as_millis() as u64,
                "message sent"
            );
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use accountd_core::message::Purpose;

    use super::*;

    #[test]
    fn the_body_is_logtos_http_connector_json() {
        let mut payload = serde_json::Map::new();
        payload.insert("application".into(), json!({"id": "app1", "name": "Shop"}));
        let m = OutgoingMessage {
            channel: Channel::Email,
            to: "ada@example.com".into(),
            purpose: Purpose::BindNewIdentifier,
            code: "123456".into(),
            subject: "s".into(),
            text: "t".into(),
            payload,
        };
        assert_eq!(
            logto_body(&m),
            json!({"to": "ada@example.com", "type": "BindNewIdentifier",
                   "payload": {"code": "123456", "locale": "en", "application": {"id": "app1", "name": "Shop"}}})
        );
        let mut m = m;
        m.payload.insert("locale".into(), json!("fr"));
        m.payload.insert("code".into(), json!("spoofed"));
        assert_eq!(logto_body(&m)["payload"]["locale"], "fr");
        assert_eq!(logto_body(&m)["payload"]["code"], "123456");
    }

    #[test]
    fn tokens_become_bearer_unless_they_name_a_scheme() {
        assert_eq!(authorization_value("abc"), "Bearer abc");
        assert_eq!(authorization_value("Bearer abc"), "Bearer abc");
        assert_eq!(authorization_value("Basic dXNlcjpwdw=="), "Basic dXNlcjpwdw==");
    }
}
