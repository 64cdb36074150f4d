//! Message connectors, templates and the development outbox.
//!
//! - `/api/v2/emails/provider` (GET, POST, PATCH, DELETE): Auth0's email provider shape,
//!   `{name, enabled, default_from_address, credentials}`, with the names `smtp`
//!   (`credentials: {smtp_host, smtp_port, smtp_user, smtp_pass, smtp_tls}`), `http`
//!   (`credentials: {endpoint, api_key}`, posting Logto's HTTP connector JSON) and `outbox` (the
//!   development default, which GET reports when nothing is configured). Secrets (`smtp_pass`,
//!   `api_key`) are write-only: never returned, kept when a change leaves them out.
//! - `/api/v2/connectors/sms` (GET, PUT, DELETE): the same shape for SMS, names `http` and
//!   `outbox`; PUT replaces the whole configuration (the `api_key` is kept when left out and the
//!   name stays `http`; `"api_key": null` removes it).
//! - `/api/v2/connectors/{channel}/templates[/{purpose}]` (GET, PUT, DELETE): the tenant's
//!   templates per purpose (Logto's names, `SignIn`, or snake_case), `{subject, content}` with
//!   `{{code}}`, `{{application}}` and `{{locale}}`; DELETE restores the built-in template.
//! - `/api/v2/connectors/outbox` (GET): recent messages the outbox kept, with their codes.
//!
//! Scopes: reading needs `read:tenant_settings`, changing needs `update:tenant_settings`. Reading
//! the outbox needs `update:tenant_settings` too: whoever may point the connector elsewhere can
//! read every code anyway, and nobody with less may.

use accountd_core::Error;
use accountd_core::connector::{
    ConnectorConfig, ConnectorFields, ConnectorKind, OutboxMessage, SecretString, SmtpTls, Template, TenantConnector,
    parse_channel, parse_purpose,
};
use accountd_core::error::{ConflictKind, FieldError};
use accountd_core::message::Channel;
use accountd_core::service::TemplateView;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::error::{MgmtError, MgmtResult};
use super::extract::{ManagementAuth, MgmtJson, MgmtQuery};
use crate::AppState;
use crate::common::tenant::RequestTenant;

const READ: &str = "read:tenant_settings";
const UPDATE: &str = "update:tenant_settings";

/// `Some(None)` for an explicit `null`, `None` when the field is absent.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Credentials of an email provider: SMTP's or HTTP's, by the provider's `name`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailCredentials {
    /// SMTP host.
    pub smtp_host: Option<String>,
    /// SMTP port.
    pub smtp_port: Option<u16>,
    /// SMTP user name (`null` removes it: the server takes mail without AUTH).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub smtp_user: Option<Option<String>>,
    /// SMTP password (write-only).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub smtp_pass: Option<Option<String>>,
    /// accountd extension: `none`, `starttls` or `tls` (default: `tls` on port 465, else `starttls`).
    pub smtp_tls: Option<String>,
    /// HTTP connector endpoint.
    pub endpoint: Option<String>,
    /// HTTP connector token, sent as `Authorization: Bearer <api_key>` (write-only).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub api_key: Option<Option<String>>,
}

/// The email provider, as written.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailProviderRequest {
    /// `smtp`, `http` or `outbox`.
    pub name: Option<String>,
    /// Off: emails go to the outbox.
    pub enabled: Option<bool>,
    /// `From:` of SMTP emails.
    pub default_from_address: Option<String>,
    /// Provider credentials.
    pub credentials: Option<EmailCredentials>,
    /// Provider settings (none are supported; `{}` is accepted).
    #[schema(value_type = Option<Object>)]
    pub settings: Option<Value>,
}

/// The email provider, as read (no secrets).
#[derive(Debug, Serialize, ToSchema)]
pub struct EmailProviderResponse {
    /// `smtp`, `http` or `outbox`.
    pub name: String,
    /// Whether it is used.
    pub enabled: bool,
    /// `From:` of SMTP emails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_from_address: Option<String>,
    /// Non-secret credentials.
    #[schema(value_type = Object)]
    pub credentials: Value,
}

/// Credentials of an SMS connector.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmsCredentials {
    /// HTTP connector endpoint.
    pub endpoint: Option<String>,
    /// Token, sent as `Authorization: Bearer <api_key>` (write-only; `null` removes it).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub api_key: Option<Option<String>>,
}

/// The SMS connector, as written.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmsConnectorRequest {
    /// `http` or `outbox`.
    pub name: String,
    /// Off: SMS go to the outbox.
    pub enabled: Option<bool>,
    /// Connector credentials.
    pub credentials: Option<SmsCredentials>,
}

/// The SMS connector, as read (no secrets).
#[derive(Debug, Serialize, ToSchema)]
pub struct SmsConnectorResponse {
    /// `http` or `outbox`.
    pub name: String,
    /// Whether it is used.
    pub enabled: bool,
    /// Non-secret credentials.
    #[schema(value_type = Object)]
    pub credentials: Value,
}

/// A message template, as written.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageTemplateRequest {
    /// Email subject (empty or absent for SMS).
    #[serde(default)]
    pub subject: String,
    /// Plain-text body with `{{code}}`.
    pub content: String,
}

/// A message template, as read.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageTemplateResponse {
    /// `email` or `sms`.
    pub channel: String,
    /// Logto's name of the purpose (`SignIn`, `Register`, …).
    pub purpose: String,
    /// Email subject.
    pub subject: String,
    /// Body.
    pub content: String,
    /// Whether this is the built-in template.
    pub is_default: bool,
}

/// A message the development outbox kept.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxMessageResponse {
    /// Id (time-ordered).
    pub id: String,
    /// `email` or `sms`.
    pub channel: String,
    /// Recipient.
    pub to: String,
    /// Logto's name of the purpose.
    pub purpose: String,
    /// Subject (email).
    pub subject: String,
    /// Body.
    pub text: String,
    /// The one-time code.
    pub code: String,
    /// When it was kept.
    pub created_at: String,
}

/// Filters of the outbox listing.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OutboxParams {
    /// Only messages to this recipient.
    pub to: Option<String>,
    /// At most this many (1 to 1000, default 50).
    pub limit: Option<u32>,
}

fn email_provider_response(c: &TenantConnector) -> EmailProviderResponse {
    let (default_from_address, credentials) = match &c.config {
        ConnectorConfig::Outbox => (None, json!({})),
        ConnectorConfig::Smtp(s) => (
            Some(s.from_address.clone()),
            json!({"smtp_host": s.host, "smtp_port": s.port, "smtp_user": s.username, "smtp_tls": s.tls.as_str()}),
        ),
        ConnectorConfig::Http(h) => (None, json!({"endpoint": h.endpoint})),
    };
    EmailProviderResponse {
        name: c.config.kind().as_str().into(),
        enabled: c.enabled,
        default_from_address,
        credentials,
    }
}

fn sms_response(c: &TenantConnector) -> SmsConnectorResponse {
    let credentials = match &c.config {
        ConnectorConfig::Http(h) => json!({"endpoint": h.endpoint}),
        ConnectorConfig::Outbox | ConnectorConfig::Smtp(_) => json!({}),
    };
    SmsConnectorResponse { name: c.config.kind().as_str().into(), enabled: c.enabled, credentials }
}

fn template_response(channel: Channel, v: TemplateView) -> MessageTemplateResponse {
    MessageTemplateResponse {
        channel: channel.as_str().into(),
        purpose: v.purpose.as_str().into(),
        subject: v.template.subject,
        content: v.template.content,
        is_default: v.is_default,
    }
}

impl From<OutboxMessage> for OutboxMessageResponse {
    fn from(m: OutboxMessage) -> Self {
        Self {
            id: m.id,
            channel: m.channel.as_str().into(),
            to: m.recipient,
            purpose: m.purpose.as_str().into(),
            subject: m.subject,
            text: m.text,
            code: m.code,
            created_at: accountd_core::clock::to_rfc3339(m.created_at),
        }
    }
}

fn invalid(field: &str, message: &str) -> MgmtError {
    MgmtError::invalid_body(format!("Payload validation error: '{message}' on property {field}."))
}

fn parse_kind(name: &str, allowed: &[ConnectorKind]) -> Result<ConnectorKind, MgmtError> {
    let names: Vec<&str> = allowed.iter().map(|k| k.as_str()).collect();
    ConnectorKind::parse(name)
        .filter(|k| allowed.contains(k))
        .ok_or_else(|| invalid("name", &format!("must be one of: {}", names.join(", "))))
}

/// Core's field names in the wire's words, so errors name what the caller sent.
fn rename_fields(e: Error, names: &[(&str, &str)]) -> MgmtError {
    match e {
        Error::Invalid(fields) => Error::Invalid(
            fields
                .into_iter()
                .map(|f| match names.iter().find(|(core, _)| *core == f.field) {
                    Some((_, wire)) => FieldError::new(*wire, f.message),
                    None => f,
                })
                .collect(),
        )
        .into(),
        Error::Conflict(ConflictKind::Other(c)) if c == "connectors_channel" => MgmtError::new(
            StatusCode::CONFLICT,
            "An email provider is already configured; change it with PATCH or remove it with DELETE.",
            Some("email_provider_conflict"),
        ),
        other => other.into(),
    }
}

const EMAIL_NAMES: &[(&str, &str)] = &[
    ("host", "credentials.smtp_host"),
    ("port", "credentials.smtp_port"),
    ("username", "credentials.smtp_user"),
    ("password", "credentials.smtp_pass"),
    ("tls", "credentials.smtp_tls"),
    ("from_address", "default_from_address"),
    ("endpoint", "credentials.endpoint"),
    ("authorization_token", "credentials.api_key"),
];

const SMS_NAMES: &[(&str, &str)] =
    &[("endpoint", "credentials.endpoint"), ("authorization_token", "credentials.api_key")];

fn email_fields(body: EmailProviderRequest) -> Result<ConnectorFields, MgmtError> {
    if body.settings.as_ref().is_some_and(|s| s.as_object().is_none_or(|o| !o.is_empty())) {
        return Err(invalid("settings", "no provider settings are supported; leave it empty"));
    }
    let kind = body
        .name
        .as_deref()
        .map(|n| parse_kind(n, &[ConnectorKind::Smtp, ConnectorKind::Http, ConnectorKind::Outbox]))
        .transpose()?;
    let c = body.credentials.unwrap_or_default();
    let tls = c
        .smtp_tls
        .as_deref()
        .map(|t| SmtpTls::parse(t).ok_or_else(|| invalid("credentials.smtp_tls", "must be none, starttls or tls")))
        .transpose()?;
    Ok(ConnectorFields {
        kind,
        enabled: body.enabled,
        host: c.smtp_host,
        port: c.smtp_port,
        username: c.smtp_user,
        password: c.smtp_pass.map(|p| p.map(SecretString::new)),
        from_address: body.default_from_address,
        tls,
        endpoint: c.endpoint,
        authorization_token: c.api_key.map(|k| k.map(SecretString::new)),
    })
}

/// The email provider (the outbox when none is configured).
#[utoipa::path(get, path = "/api/v2/emails/provider", tag = "emails",
    responses((status = 200, body = EmailProviderResponse)), security(("bearer" = ["read:tenant_settings"])))]
pub async fn get_email_provider(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
) -> MgmtResult<Json<EmailProviderResponse>> {
    auth.require(READ)?;
    let c = state.core.connector(&rt.tenant.id, Channel::Email).await?;
    Ok(Json(email_provider_response(&c.unwrap_or_else(|| TenantConnector::default_for(Channel::Email)))))
}

/// Configure the email provider (409 if one is configured).
#[utoipa::path(post, path = "/api/v2/emails/provider", tag = "emails", request_body = EmailProviderRequest,
    responses((status = 201, body = EmailProviderResponse)), security(("bearer" = ["update:tenant_settings"])))]
pub async fn create_email_provider(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    MgmtJson(body): MgmtJson<EmailProviderRequest>,
) -> MgmtResult<impl IntoResponse> {
    let ctx = auth.require(UPDATE)?;
    if body.name.is_none() {
        return Err(MgmtError::invalid_body("Payload validation error: 'Missing required property: name'."));
    }
    let fields = email_fields(body)?;
    let c = state
        .core
        .create_connector(&ctx, &rt.tenant.id, Channel::Email, fields)
        .await
        .map_err(|e| rename_fields(e, EMAIL_NAMES))?;
    Ok((StatusCode::CREATED, Json(email_provider_response(&c))))
}

/// Change the email provider: given fields are merged, left-out secrets kept; a new `name`
/// starts that provider afresh.
#[utoipa::path(patch, path = "/api/v2/emails/provider", tag = "emails", request_body = EmailProviderRequest,
    responses((status = 200, body = EmailProviderResponse)), security(("bearer" = ["update:tenant_settings"])))]
pub async fn update_email_provider(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    MgmtJson(body): MgmtJson<EmailProviderRequest>,
) -> MgmtResult<Json<EmailProviderResponse>> {
    let ctx = auth.require(UPDATE)?;
    let fields = email_fields(body)?;
    let c = state
        .core
        .update_connector(&ctx, &rt.tenant.id, Channel::Email, fields)
        .await
        .map_err(|e| rename_fields(e, EMAIL_NAMES))?;
    Ok(Json(email_provider_response(&c)))
}

/// Remove the email provider: emails go to the outbox again.
#[utoipa::path(delete, path = "/api/v2/emails/provider", tag = "emails",
    responses((status = 204)), security(("bearer" = ["update:tenant_settings"])))]
pub async fn delete_email_provider(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
) -> MgmtResult<StatusCode> {
    let ctx = auth.require(UPDATE)?;
    state.core.delete_connector(&ctx, &rt.tenant.id, Channel::Email).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The SMS connector (the outbox when none is configured).
#[utoipa::path(get, path = "/api/v2/connectors/sms", tag = "connectors",
    responses((status = 200, body = SmsConnectorResponse)), security(("bearer" = ["read:tenant_settings"])))]
pub async fn get_sms_connector(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
) -> MgmtResult<Json<SmsConnectorResponse>> {
    auth.require(READ)?;
    let c = state.core.connector(&rt.tenant.id, Channel::Sms).await?;
    Ok(Json(sms_response(&c.unwrap_or_else(|| TenantConnector::default_for(Channel::Sms)))))
}

/// Set the SMS connector.
#[utoipa::path(put, path = "/api/v2/connectors/sms", tag = "connectors", request_body = SmsConnectorRequest,
    responses((status = 200, body = SmsConnectorResponse)), security(("bearer" = ["update:tenant_settings"])))]
pub async fn set_sms_connector(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    MgmtJson(body): MgmtJson<SmsConnectorRequest>,
) -> MgmtResult<Json<SmsConnectorResponse>> {
    let ctx = auth.require(UPDATE)?;
    let kind = parse_kind(&body.name, &[ConnectorKind::Http, ConnectorKind::Outbox])?;
    let c = body.credentials.unwrap_or_default();
    let fields = ConnectorFields {
        kind: Some(kind),
        enabled: body.enabled,
        endpoint: c.endpoint,
        authorization_token: c.api_key.map(|k| k.map(SecretString::new)),
        ..Default::default()
    };
    let c = state
        .core
        .set_connector(&ctx, &rt.tenant.id, Channel::Sms, fields)
        .await
        .map_err(|e| rename_fields(e, SMS_NAMES))?;
    Ok(Json(sms_response(&c)))
}

/// Remove the SMS connector: SMS go to the outbox again.
#[utoipa::path(delete, path = "/api/v2/connectors/sms", tag = "connectors",
    responses((status = 204)), security(("bearer" = ["update:tenant_settings"])))]
pub async fn delete_sms_connector(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
) -> MgmtResult<StatusCode> {
    let ctx = auth.require(UPDATE)?;
    state.core.delete_connector(&ctx, &rt.tenant.id, Channel::Sms).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn path_channel(s: &str) -> Result<Channel, MgmtError> {
    parse_channel(s).ok_or_else(|| {
        MgmtError::new(
            StatusCode::BAD_REQUEST,
            "Path validation error: 'must be email or sms' on property channel.",
            Some("invalid_uri"),
        )
    })
}

fn path_purpose(s: &str) -> Result<accountd_core::message::Purpose, MgmtError> {
    parse_purpose(s).ok_or_else(|| {
        let names: Vec<&str> = accountd_core::message::Purpose::ALL.iter().map(|p| p.as_str()).collect();
        MgmtError::new(
            StatusCode::BAD_REQUEST,
            format!("Path validation error: 'must be one of: {}' on property purpose.", names.join(", ")),
            Some("invalid_uri"),
        )
    })
}

/// Every purpose's template for a channel.
#[utoipa::path(get, path = "/api/v2/connectors/{channel}/templates", tag = "connectors",
    params(("channel" = String, Path, description = "email or sms")),
    responses((status = 200, body = [MessageTemplateResponse])), security(("bearer" = ["read:tenant_settings"])))]
pub async fn list_message_templates(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(channel): Path<String>,
) -> MgmtResult<Json<Vec<MessageTemplateResponse>>> {
    auth.require(READ)?;
    let channel = path_channel(&channel)?;
    let views = state.core.message_templates(&rt.tenant.id, channel).await?;
    Ok(Json(views.into_iter().map(|v| template_response(channel, v)).collect()))
}

/// The template for a channel and purpose.
#[utoipa::path(get, path = "/api/v2/connectors/{channel}/templates/{purpose}", tag = "connectors",
    params(("channel" = String, Path, description = "email or sms"),
           ("purpose" = String, Path, description = "SignIn, Register, ForgotPassword, Generic, UserPermissionValidation, BindNewIdentifier, MfaVerification")),
    responses((status = 200, body = MessageTemplateResponse)), security(("bearer" = ["read:tenant_settings"])))]
pub async fn get_message_template(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path((channel, purpose)): Path<(String, String)>,
) -> MgmtResult<Json<MessageTemplateResponse>> {
    auth.require(READ)?;
    let (channel, purpose) = (path_channel(&channel)?, path_purpose(&purpose)?);
    Ok(Json(template_response(channel, state.core.message_template(&rt.tenant.id, channel, purpose).await?)))
}

/// Set the tenant's template for a channel and purpose.
#[utoipa::path(put, path = "/api/v2/connectors/{channel}/templates/{purpose}", tag = "connectors",
    params(("channel" = String, Path, description = "email or sms"), ("purpose" = String, Path, description = "the purpose")),
    request_body = MessageTemplateRequest,
    responses((status = 200, body = MessageTemplateResponse)), security(("bearer" = ["update:tenant_settings"])))]
pub async fn set_message_template(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path((channel, purpose)): Path<(String, String)>,
    MgmtJson(body): MgmtJson<MessageTemplateRequest>,
) -> MgmtResult<Json<MessageTemplateResponse>> {
    let ctx = auth.require(UPDATE)?;
    let (channel, purpose) = (path_channel(&channel)?, path_purpose(&purpose)?);
    let template = Template { subject: body.subject, content: body.content };
    let v = state.core.set_message_template(&ctx, &rt.tenant.id, channel, purpose, template).await?;
    Ok(Json(template_response(channel, v)))
}

/// Restore the built-in template for a channel and purpose.
#[utoipa::path(delete, path = "/api/v2/connectors/{channel}/templates/{purpose}", tag = "connectors",
    params(("channel" = String, Path, description = "email or sms"), ("purpose" = String, Path, description = "the purpose")),
    responses((status = 204)), security(("bearer" = ["update:tenant_settings"])))]
pub async fn delete_message_template(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path((channel, purpose)): Path<(String, String)>,
) -> MgmtResult<StatusCode> {
    let ctx = auth.require(UPDATE)?;
    let (channel, purpose) = (path_channel(&channel)?, path_purpose(&purpose)?);
    state.core.reset_message_template(&ctx, &rt.tenant.id, channel, purpose).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Recent messages the development outbox kept instead of sending, newest first.
#[utoipa::path(get, path = "/api/v2/connectors/outbox", tag = "connectors", params(OutboxParams),
    responses((status = 200, body = [OutboxMessageResponse])), security(("bearer" = ["update:tenant_settings"])))]
pub async fn list_outbox_messages(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    MgmtQuery(params): MgmtQuery<OutboxParams>,
) -> MgmtResult<Json<Vec<OutboxMessageResponse>>> {
    auth.require(UPDATE)?;
    let limit = params.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(MgmtError::invalid_query(
            "Query validation error: 'Invalid value' on property limit (must be between 1 and 1000).",
        ));
    }
    let messages = state.core.outbox_messages(&rt.tenant.id, params.to.as_deref(), limit).await?;
    Ok(Json(messages.into_iter().map(Into::into).collect()))
}
