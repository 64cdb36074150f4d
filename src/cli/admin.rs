//! `accountd admin …`: the same core operations as the management API, run directly on the
//! database (the server need not be running). Output is for people; `--json` is for scripts.

use std::io::BufRead;

use accountd_core::Core;
use accountd_core::application::{AppType, ApplicationFields};
use accountd_core::audit::Context;
use accountd_core::client_grant::SubjectType;
use accountd_core::secret::Zeroizing;
use accountd_core::store::Page;
use accountd_core::tenant::Tenant;
use accountd_core::user::UserFields;
use anyhow::Context as _;
use clap::{Args, Subcommand};
use serde_json::json;

use crate::Config;

/// `accountd admin` arguments.
#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Tenant id or one of its domains (default: the default tenant).
    #[arg(long, global = true)]
    tenant: Option<String>,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Tenants and their domains.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Applications.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Users.
    #[command(subcommand)]
    User(UserCommand),
    /// Users' sign-in sessions: list them, end one or all (every token issued under them is
    /// refused at once; on SQLite a running server notices within `storage.method_cache_secs`).
    #[command(subcommand)]
    Session(SessionCommand),
    /// Client grants.
    #[command(subcommand, name = "client-grant")]
    ClientGrant(GrantCommand),
    /// Roles.
    #[command(subcommand)]
    Role(RoleCommand),
    /// Token signing keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Message connectors: how email and SMS leave (SMTP, HTTP, or the development outbox).
    #[command(subcommand)]
    Connector(ConnectorCommand),
    /// Upstream connections: outside OpenID Connect or OAuth 2.0 providers users link, connect
    /// (token vault) or sign in with.
    #[command(subcommand)]
    Connection(ConnectionCommand),
    /// The account center: whether Logto's Account API answers and which fields users may see
    /// (`ReadOnly`) or change (`Edit`); fields not named are `Off`. Shows the settings after any
    /// change.
    AccountCenter {
        /// Switch the Account API on or off.
        #[arg(long)]
        enabled: Option<bool>,
        /// `field=Off|ReadOnly|Edit` (name, avatar, profile, email, phone, password, username,
        /// social, customData, mfa, passkey, session), repeatable; given fields replace all.
        #[arg(long = "field", value_name = "FIELD=CONTROL")]
        fields: Vec<String>,
        /// Set every field to Off.
        #[arg(long, conflicts_with = "fields")]
        clear_fields: bool,
    },
    /// Messages the development outbox kept instead of sending, with their codes, newest first.
    Outbox {
        /// Only messages to this address or phone number.
        #[arg(long)]
        to: Option<String>,
        /// How many to show.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
}

#[derive(Debug, Subcommand)]
enum TenantCommand {
    /// Create a tenant on a domain; prints its management client's secret once.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        domain: String,
    },
    /// List tenants and their domains.
    List,
    /// Bind a custom domain to the tenant given by --tenant.
    AddDomain {
        #[arg(long)]
        domain: String,
    },
    /// Change tenant settings.
    Settings {
        /// Offer "Create an account" on the hosted sign-in page.
        #[arg(long)]
        allow_signup: Option<bool>,
    },
}

#[derive(Debug, Subcommand)]
enum ClientCommand {
    /// Create an application; prints its secret once (confidential clients).
    Create {
        #[arg(long)]
        name: String,
        /// spa, native, regular_web or non_interactive.
        #[arg(long = "type", default_value = "regular_web")]
        app_type: String,
        /// Allowed redirect URI (repeatable).
        #[arg(long = "callback")]
        callbacks: Vec<String>,
        /// Allowed post-logout URL (repeatable).
        #[arg(long = "logout-url")]
        logout_urls: Vec<String>,
        /// Web origin, also allowed for CORS (repeatable).
        #[arg(long = "web-origin")]
        web_origins: Vec<String>,
        /// Allow browser calls from the web origins.
        #[arg(long)]
        cross_origin: bool,
        /// Mark as a third-party application.
        #[arg(long)]
        third_party: bool,
    },
    /// List applications.
    List,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user; the password (optional) is read from standard input.
    Create {
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        username: Option<String>,
        #[arg(long)]
        phone_number: Option<String>,
        #[arg(long)]
        name: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List {
        #[arg(long)]
        email: Option<String>,
    },
    /// Set a user's password, read from the first line of standard input.
    SetPassword {
        /// User id or email.
        #[arg(long)]
        user: String,
    },
}

#[derive(Debug, Subcommand)]
enum SessionCommand {
    /// A user's live sessions, newest first.
    List {
        /// User id or email.
        #[arg(long)]
        user: String,
    },
    /// End one session (`--id`) or every session of a user (`--user`).
    Revoke {
        /// The session id (ids may start with `-`).
        #[arg(long, conflicts_with = "user", required_unless_present = "user", allow_hyphen_values = true)]
        id: Option<String>,
        /// User id or email.
        #[arg(long)]
        user: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum GrantCommand {
    /// Grant a client scopes of an API.
    Create {
        #[arg(long)]
        client: String,
        /// The API identifier, e.g. http://127.0.0.1:8080/me/
        #[arg(long)]
        audience: String,
        /// Comma-separated scopes.
        #[arg(long, value_delimiter = ',')]
        scope: Vec<String>,
        /// user or client.
        #[arg(long, default_value = "user")]
        subject_type: String,
    },
}

#[derive(Debug, Subcommand)]
enum RoleCommand {
    /// Create a role.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// Give a role to a user.
    Assign {
        /// Role id.
        #[arg(long)]
        role: String,
        /// User id or email.
        #[arg(long)]
        user: String,
    },
}

#[derive(Debug, Subcommand)]
enum ConnectionCommand {
    /// Register a provider; the client secret is read from the first line of standard input.
    Add {
        /// Unique name (Auth0's `connection`, Logto's `target`).
        #[arg(long)]
        name: String,
        /// What people see ("Continue with …").
        #[arg(long)]
        display_name: Option<String>,
        /// `oidc` (discovery from --issuer) or `oauth2` (explicit endpoints).
        #[arg(long, default_value = "oidc")]
        strategy: String,
        /// The OIDC issuer.
        #[arg(long)]
        issuer: Option<String>,
        /// accountd's client id at the provider.
        #[arg(long)]
        client_id: String,
        /// Authorization endpoint (oauth2, or to override discovery).
        #[arg(long)]
        authorization_endpoint: Option<String>,
        /// Token endpoint (oauth2, or to override discovery).
        #[arg(long)]
        token_endpoint: Option<String>,
        /// Userinfo / user endpoint (oauth2, or to override discovery).
        #[arg(long)]
        userinfo_endpoint: Option<String>,
        /// A scope to ask for, repeatable.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Keep the provider's tokens for users (token vault, connected accounts).
        #[arg(long)]
        token_vault: bool,
        /// Offer "Continue with …" on the hosted sign-in page.
        #[arg(long)]
        sign_in: bool,
        /// On a first sign-in, link to the user with the same provider-verified email.
        #[arg(long)]
        link_by_verified_email: bool,
    },
    /// List the tenant's connections (never their secrets).
    List,
    /// Delete a connection with every identity linked through it and their kept tokens.
    Delete {
        /// Connection id or name.
        #[arg(long)]
        id: String,
    },
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Make a new signing key current; old keys stay published until their tokens expire.
    Rotate {
        #[arg(long, default_value = "RS256")]
        alg: String,
    },
}

fn read_password() -> anyhow::Result<Zeroizing<String>> {
    let mut line = Zeroizing::new(String::new());
    std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
    let trimmed = Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_string());
    anyhow::ensure!(!trimmed.is_empty(), "no password on standard input");
    Ok(trimmed)
}

async fn tenant(core: &Core, arg: &Option<String>) -> anyhow::Result<Tenant> {
    match arg {
        Some(t) => core.find_tenant(t).await.with_context(|| format!("no tenant '{t}'")),
        None => {
            core.list_tenants().await?.into_iter().find(|t| t.is_default).context("no default tenant; pass --tenant")
        }
    }
}

async fn user_id(core: &Core, tenant: &Tenant, user: &str) -> anyhow::Result<String> {
    if user.contains('@') && !user.contains('|') {
        let u =
            core.find_user_by_email(&tenant.id, user).await?.with_context(|| format!("no user with email {user}"))?;
        Ok(u.id.0)
    } else {
        Ok(user.to_string())
    }
}

/// A connection as the CLI prints it: never its secret.
fn connection_json(c: &accountd_core::upstream::UpstreamConnection) -> serde_json::Value {
    json!({"id": c.id, "name": c.name, "strategy": c.strategy.as_str(), "issuer": c.endpoints.issuer,
           "client_id": c.client_id, "scopes": c.scopes, "token_vault": c.token_vault, "sign_in": c.sign_in,
           "link_by_verified_email": c.link_by_verified_email})
}

fn out(json_mode: bool, value: serde_json::Value, text: String) {
    if json_mode {
        println!("{value}");
    } else {
        println!("{text}");
    }
}

/// Runs an admin command.
pub async fn run(cfg: Config, args: AdminArgs) -> anyhow::Result<()> {
    let (core, bootstrap) = crate::build_core(&cfg, true, false).await?;
    if let Some(b) = &bootstrap {
        let port = cfg.server.listen.rsplit(':').next().unwrap_or("8080");
        crate::cli::serve::print_bootstrap(b, &format!("http://127.0.0.1:{port}"));
    }
    let ctx = Context::cli();
    let j = args.json;
    let result = run_command(&core, &ctx, &args, j).await;
    core.store().close().await;
    result
}

async fn run_command(core: &Core, ctx: &Context, args: &AdminArgs, j: bool) -> anyhow::Result<()> {
    match &args.command {
        AdminCommand::Tenant(TenantCommand::Create { name, domain }) => {
            let b = core.create_tenant(ctx, name, domain).await?;
            out(
                j,
                json!({"id": b.tenant.id.as_str(), "name": b.tenant.name, "domains": b.domains,
                       "client_id": b.client_id, "client_secret": b.client_secret}),
                format!(
                    "tenant {} ({}) on {}\nmanagement client_id:     {}\nmanagement client_secret: {}  (shown once)",
                    b.tenant.name,
                    b.tenant.id,
                    b.domains.join(", "),
                    b.client_id,
                    b.client_secret
                ),
            );
        }
        AdminCommand::Tenant(TenantCommand::List) => {
            let mut rows = Vec::new();
            let mut text = String::new();
            for t in core.list_tenants().await? {
                let domains: Vec<String> = core.tenant_domains(&t.id).await?.into_iter().map(|d| d.host).collect();
                text.push_str(&format!("{}\t{}\t{}\n", t.id, t.name, domains.join(",")));
                rows.push(json!({"id": t.id.as_str(), "name": t.name, "default": t.is_default, "domains": domains}));
            }
            out(j, json!(rows), text.trim_end().to_string());
        }
        AdminCommand::Tenant(TenantCommand::AddDomain { domain }) => {
            let t = tenant(core, &args.tenant).await?;
            let host = core.add_domain(ctx, &t.id, domain).await?;
            out(j, json!({"tenant": t.id.as_str(), "domain": host}), format!("{host} now serves tenant {}", t.id));
        }
        AdminCommand::Connection(ConnectionCommand::Add {
            name,
            display_name,
            strategy,
            issuer,
            client_id,
            authorization_endpoint,
            token_endpoint,
            userinfo_endpoint,
            scopes,
            token_vault,
            sign_in,
            link_by_verified_email,
        }) => {
            use accountd_core::upstream::{Endpoints, Strategy};
            let t = tenant(core, &args.tenant).await?;
            let strategy = Strategy::parse(strategy).context("--strategy must be oidc or oauth2")?;
            let spec = accountd_core::service::ConnectionSpec {
                name: name.clone(),
                display_name: display_name.clone(),
                strategy,
                endpoints: Endpoints {
                    issuer: issuer.clone(),
                    authorization_endpoint: authorization_endpoint.clone(),
                    token_endpoint: token_endpoint.clone(),
                    userinfo_endpoint: userinfo_endpoint.clone(),
                },
                client_id: client_id.clone(),
                client_secret: Some(read_password().context("the client secret")?),
                scopes: scopes.clone(),
                token_vault: *token_vault,
                sign_in: *sign_in,
                link_by_verified_email: *link_by_verified_email,
            };
            let c = core.create_connection(&t.id, ctx, spec).await?;
            out(j, connection_json(&c), format!("created connection {} ({})", c.name, c.id));
        }
        AdminCommand::Connection(ConnectionCommand::List) => {
            let t = tenant(core, &args.tenant).await?;
            let all = core.list_connections(&t.id).await?;
            let text = all
                .iter()
                .map(|c| {
                    let flags = [(c.token_vault, "token-vault"), (c.sign_in, "sign-in")]
                        .iter()
                        .filter(|(on, _)| *on)
                        .map(|(_, n)| *n)
                        .collect::<Vec<_>>()
                        .join(",");
                    format!("{}\t{}\t{}\t{}", c.id, c.name, c.strategy.as_str(), flags)
                })
                .collect::<Vec<_>>()
                .join("\n");
            out(j, json!(all.iter().map(connection_json).collect::<Vec<_>>()), text);
        }
        AdminCommand::Connection(ConnectionCommand::Delete { id }) => {
            let t = tenant(core, &args.tenant).await?;
            core.delete_connection(&t.id, ctx, id).await?;
            out(j, json!({"deleted": id}), format!("deleted connection {id}"));
        }
        AdminCommand::AccountCenter { enabled, fields, clear_fields } => {
            use accountd_core::account_center::{AccountCenterChange, Field, FieldControl};
            let t = tenant(core, &args.tenant).await?;
            let mut parsed = std::collections::BTreeMap::new();
            for f in fields {
                let (name, control) = f.split_once('=').unwrap_or((f.as_str(), ""));
                let field =
                    Field::parse(name).ok_or_else(|| anyhow::anyhow!("unknown account-center field '{name}'"))?;
                let control = match control {
                    "Off" => FieldControl::Off,
                    "ReadOnly" => FieldControl::ReadOnly,
                    "Edit" => FieldControl::Edit,
                    other => anyhow::bail!("'{other}' is not Off, ReadOnly or Edit (in --field {f})"),
                };
                parsed.insert(field, control);
            }
            let change = AccountCenterChange {
                enabled: *enabled,
                fields: (!parsed.is_empty() || *clear_fields).then_some(parsed),
                ..Default::default()
            };
            let center = if change == AccountCenterChange::default() {
                (*core.account_center(&t.id).await?).clone()
            } else {
                core.update_account_center(ctx, &t.id, change).await?
            };
            let view = accountd_http::account::wire::account_center_view(t.id.as_str(), &center);
            let text = format!(
                "enabled = {}\n{}",
                center.enabled,
                center.fields.iter().map(|(f, c)| format!("{f} = {c:?}")).collect::<Vec<_>>().join("\n")
            );
            out(j, view, text.trim_end().to_string());
        }
        AdminCommand::Tenant(TenantCommand::Settings { allow_signup }) => {
            let t = tenant(core, &args.tenant).await?;
            if let Some(allow) = allow_signup {
                core.set_signup_allowed(ctx, &t.id, *allow).await?;
            }
            let allow = core.signup_allowed(&t.id).await?;
            out(j, json!({"tenant": t.id.as_str(), "allow_signup": allow}), format!("allow_signup = {allow}"));
        }
        AdminCommand::Client(ClientCommand::Create {
            name,
            app_type,
            callbacks,
            logout_urls,
            web_origins,
            cross_origin,
            third_party,
        }) => {
            let t = tenant(core, &args.tenant).await?;
            let app_type =
                AppType::parse(app_type).context("--type must be spa, native, regular_web or non_interactive")?;
            let fields = ApplicationFields {
                name: Some(name.clone()),
                app_type: Some(app_type),
                is_first_party: Some(!third_party),
                callbacks: Some(callbacks.clone()),
                allowed_logout_urls: Some(logout_urls.clone()),
                web_origins: Some(web_origins.clone()),
                allowed_origins: Some(web_origins.clone()),
                cross_origin_authentication: Some(*cross_origin),
                ..Default::default()
            };
            let (app, secret) = core.create_application(ctx, &t.id, fields).await?;
            out(
                j,
                json!({"client_id": app.client_id, "name": app.name, "app_type": app.app_type.as_str(), "client_secret": secret}),
                match &secret {
                    Some(s) => format!("client_id:     {}\nclient_secret: {s}  (shown once)", app.client_id),
                    None => format!("client_id: {} (public client, no secret)", app.client_id),
                },
            );
        }
        AdminCommand::Client(ClientCommand::List) => {
            let t = tenant(core, &args.tenant).await?;
            let (apps, _) = core.list_applications(&t.id, Page::ALL).await?;
            let text = apps
                .iter()
                .map(|a| format!("{}\t{}\t{}", a.client_id, a.app_type.as_str(), a.name))
                .collect::<Vec<_>>();
            let rows: Vec<_> = apps
                .iter()
                .map(|a| json!({"client_id": a.client_id, "name": a.name, "app_type": a.app_type.as_str(), "is_first_party": a.is_first_party}))
                .collect();
            out(j, json!(rows), text.join("\n"));
        }
        AdminCommand::User(UserCommand::Create { email, username, phone_number, name, password_stdin }) => {
            let t = tenant(core, &args.tenant).await?;
            let password = if *password_stdin { Some(read_password()?) } else { None };
            let fields = UserFields {
                email: email.clone(),
                username: username.clone(),
                phone_number: phone_number.clone(),
                name: name.clone(),
                ..Default::default()
            };
            let u = core.create_user(ctx, &t.id, fields, password).await?;
            out(j, json!({"user_id": u.id.0, "email": u.email}), format!("created user {}", u.id.0));
        }
        AdminCommand::User(UserCommand::List { email }) => {
            let t = tenant(core, &args.tenant).await?;
            let (users, total) = core.list_users(&t.id, email.as_deref(), Page::ALL).await?;
            let text = users
                .iter()
                .map(|u| {
                    format!(
                        "{}\t{}\t{}",
                        u.id.0,
                        u.email.as_deref().unwrap_or("-"),
                        u.username.as_deref().unwrap_or("-")
                    )
                })
                .collect::<Vec<_>>();
            let rows: Vec<_> =
                users.iter().map(|u| json!({"user_id": u.id.0, "email": u.email, "username": u.username})).collect();
            out(j, json!({"total": total, "users": rows}), text.join("\n"));
        }
        AdminCommand::User(UserCommand::SetPassword { user }) => {
            let t = tenant(core, &args.tenant).await?;
            let id = user_id(core, &t, user).await?;
            core.set_password(ctx, &t.id, &id, read_password()?).await?;
            out(j, json!({"user_id": id, "password": "set"}), format!("password of {id} set"));
        }
        AdminCommand::Session(SessionCommand::List { user }) => {
            let t = tenant(core, &args.tenant).await?;
            let id = user_id(core, &t, user).await?;
            let views = core.list_user_sessions(&t.id, &id).await?;
            let rows: Vec<_> = views
                .iter()
                .map(|v| {
                    let s = &v.session;
                    json!({"id": s.id, "user_id": s.user_id, "created_at": s.created_at, "last_seen_at": s.last_seen_at,
                           "expires_at": s.expires_at, "ip": s.ip, "user_agent": s.user_agent,
                           "clients": v.apps.iter().map(|a| a.client_id.clone()).collect::<Vec<_>>()})
                })
                .collect();
            let text: Vec<String> = views
                .iter()
                .map(|v| {
                    let s = &v.session;
                    let apps: Vec<&str> = v.apps.iter().map(|a| a.client_id.as_str()).collect();
                    format!(
                        "{}  started {}  from {}  apps: {}",
                        s.id,
                        accountd_core::clock::to_rfc3339(s.created_at),
                        s.ip.as_deref().unwrap_or("?"),
                        if apps.is_empty() { "-".to_string() } else { apps.join(", ") }
                    )
                })
                .collect();
            out(
                j,
                json!({"sessions": rows}),
                if text.is_empty() { "no live sessions".into() } else { text.join("\n") },
            );
        }
        AdminCommand::Session(SessionCommand::Revoke { id, user }) => {
            let t = tenant(core, &args.tenant).await?;
            if let Some(sid) = id {
                core.revoke_session(ctx, &t.id, sid).await?;
                out(j, json!({"revoked": [sid]}), format!("session {sid} ended"));
            } else if let Some(user) = user {
                let uid = user_id(core, &t, user).await?;
                let n = core.revoke_user_sessions(ctx, &t.id, &uid).await?;
                out(j, json!({"user_id": uid, "revoked": n}), format!("{n} session(s) of {uid} ended"));
            }
        }
        AdminCommand::ClientGrant(GrantCommand::Create { client, audience, scope, subject_type }) => {
            let t = tenant(core, &args.tenant).await?;
            let subject = SubjectType::parse(subject_type).context("--subject-type must be user or client")?;
            let v = core.create_client_grant(ctx, &t.id, client, audience, scope.clone(), subject).await?;
            out(
                j,
                json!({"id": v.grant.id.0, "client_id": v.grant.client_id, "audience": audience, "scope": v.grant.scopes,
                       "subject_type": subject.as_str()}),
                format!(
                    "grant {}: {} may get {} of {audience}",
                    v.grant.id.0,
                    v.grant.client_id,
                    v.grant.scopes.join(" ")
                ),
            );
        }
        AdminCommand::Role(RoleCommand::Create { name, description }) => {
            let t = tenant(core, &args.tenant).await?;
            let r = core.create_role(ctx, &t.id, name, description.as_deref()).await?;
            out(j, json!({"id": r.id.0, "name": r.name}), format!("role {} ({})", r.name, r.id.0));
        }
        AdminCommand::Role(RoleCommand::Assign { role, user }) => {
            let t = tenant(core, &args.tenant).await?;
            let id = user_id(core, &t, user).await?;
            core.assign_user_roles(ctx, &t.id, &id, std::slice::from_ref(role)).await?;
            out(j, json!({"user_id": id, "role": role}), format!("{id} now has role {role}"));
        }
        AdminCommand::Connector(command) => {
            let t = tenant(core, &args.tenant).await?;
            connector_command(core, ctx, &t, command, j).await?;
        }
        AdminCommand::Outbox { to, limit } => {
            let t = tenant(core, &args.tenant).await?;
            outbox_command(core, &t, to.as_deref(), *limit, j).await?;
        }
        AdminCommand::Key(KeyCommand::Rotate { alg }) => {
            let t = tenant(core, &args.tenant).await?;
            let k = core.rotate_signing_key(ctx, &t.id, alg).await?;
            out(j, json!({"kid": k.kid, "alg": k.alg}), format!("new {} signing key {} is current", k.alg, k.kid));
        }
    }
    Ok(())
}

/// `accountd admin connector …`.
#[derive(Debug, Subcommand)]
enum ConnectorCommand {
    /// The email connector.
    #[command(subcommand)]
    Email(EmailConnectorCommand),
    /// The SMS connector.
    #[command(subcommand)]
    Sms(SmsConnectorCommand),
    /// Show the tenant's connectors (secrets are never shown).
    Show,
}

#[derive(Debug, Subcommand)]
enum EmailConnectorCommand {
    /// Send email through an SMTP server.
    SetSmtp {
        #[arg(long)]
        host: String,
        #[arg(long)]
        port: u16,
        /// User name for SMTP AUTH (the password then comes from --password-stdin, or is kept).
        #[arg(long)]
        username: Option<String>,
        /// Read the SMTP password from the first line of standard input.
        #[arg(long, requires = "username")]
        password_stdin: bool,
        /// `From:` address, `a@example.com` or `Name <a@example.com>`.
        #[arg(long)]
        from: String,
        /// none (local test servers only), starttls or tls; default: tls on port 465, else starttls.
        #[arg(long, value_parser = ["none", "starttls", "tls"])]
        tls: Option<String>,
    },
    /// Post email as Logto's HTTP connector JSON to an endpoint.
    SetHttp {
        #[arg(long)]
        endpoint: String,
        /// Read the bearer token from the first line of standard input (else it is kept, if any).
        #[arg(long)]
        token_stdin: bool,
    },
    /// Keep email in the development outbox instead of sending it.
    UseOutbox,
}

#[derive(Debug, Subcommand)]
enum SmsConnectorCommand {
    /// Post SMS as Logto's HTTP connector JSON to an endpoint.
    SetHttp {
        #[arg(long)]
        endpoint: String,
        /// Read the bearer token from the first line of standard input (else it is kept, if any).
        #[arg(long)]
        token_stdin: bool,
    },
    /// Keep SMS in the development outbox instead of sending them.
    UseOutbox,
}

/// The first line of standard input, for a secret named `what`.
fn read_secret(what: &str) -> anyhow::Result<accountd_core::connector::SecretString> {
    let mut line = Zeroizing::new(String::new());
    std::io::stdin().lock().read_line(&mut line).with_context(|| format!("reading the {what} from standard input"))?;
    let trimmed = line.trim_end_matches(['\r', '\n']);
    anyhow::ensure!(!trimmed.is_empty(), "no {what} on standard input");
    Ok(accountd_core::connector::SecretString::new(trimmed))
}

/// One connector for `connector show`: JSON without secrets, and a line of text.
fn describe_connector(
    channel: accountd_core::message::Channel,
    c: Option<&accountd_core::connector::TenantConnector>,
) -> (serde_json::Value, String) {
    use accountd_core::connector::ConnectorConfig;
    let Some(c) = c else {
        return (json!({"name": "outbox", "default": true}), format!("{}: outbox (default)", channel.as_str()));
    };
    let state = if c.enabled { "" } else { " [disabled: the outbox is used]" };
    let (value, text) = match &c.config {
        ConnectorConfig::Outbox => (json!({"name": "outbox"}), "outbox".to_string()),
        ConnectorConfig::Smtp(s) => (
            json!({"name": "smtp", "host": s.host, "port": s.port, "username": s.username,
                   "password_set": s.password.is_some(), "from": s.from_address, "tls": s.tls.as_str()}),
            format!(
                "smtp {}:{} ({}), {}, from {}",
                s.host,
                s.port,
                s.tls.as_str(),
                match (&s.username, &s.password) {
                    (Some(u), Some(_)) => format!("user {u}, password set"),
                    (Some(u), None) => format!("user {u}, no password"),
                    _ => "no authentication".to_string(),
                },
                s.from_address
            ),
        ),
        ConnectorConfig::Http(h) => (
            json!({"name": "http", "endpoint": h.endpoint, "token_set": h.authorization_token.is_some()}),
            format!(
                "http {} ({})",
                h.endpoint,
                if h.authorization_token.is_some() { "bearer token set" } else { "no token" }
            ),
        ),
    };
    let mut value = value;
    value["enabled"] = json!(c.enabled);
    (value, format!("{}: {text}{state}", channel.as_str()))
}

async fn connector_command(
    core: &Core,
    ctx: &Context,
    t: &Tenant,
    command: &ConnectorCommand,
    j: bool,
) -> anyhow::Result<()> {
    use accountd_core::connector::{ConnectorFields, ConnectorKind, SmtpTls};
    use accountd_core::message::Channel;
    let http = |endpoint: &String, token_stdin: bool| -> anyhow::Result<ConnectorFields> {
        Ok(ConnectorFields {
            kind: Some(ConnectorKind::Http),
            endpoint: Some(endpoint.clone()),
            authorization_token: if token_stdin { Some(Some(read_secret("token")?)) } else { None },
            ..Default::default()
        })
    };
    let outbox = || ConnectorFields { kind: Some(ConnectorKind::Outbox), ..Default::default() };
    let (channel, fields) = match command {
        ConnectorCommand::Show => {
            let mut value = json!({});
            let mut lines = Vec::new();
            for channel in [Channel::Email, Channel::Sms] {
                let c = core.connector(&t.id, channel).await?;
                let (v, line) = describe_connector(channel, c.as_ref());
                value[channel.as_str()] = v;
                lines.push(line);
            }
            out(j, value, lines.join("\n"));
            return Ok(());
        }
        ConnectorCommand::Email(EmailConnectorCommand::SetSmtp { host, port, username, password_stdin, from, tls }) => {
            let fields = ConnectorFields {
                kind: Some(ConnectorKind::Smtp),
                host: Some(host.clone()),
                port: Some(*port),
                username: Some(username.clone()),
                password: if *password_stdin { Some(Some(read_secret("password")?)) } else { None },
                from_address: Some(from.clone()),
                tls: tls.as_deref().and_then(SmtpTls::parse),
                ..Default::default()
            };
            (Channel::Email, fields)
        }
        ConnectorCommand::Email(EmailConnectorCommand::SetHttp { endpoint, token_stdin }) => {
            (Channel::Email, http(endpoint, *token_stdin)?)
        }
        ConnectorCommand::Email(EmailConnectorCommand::UseOutbox) => (Channel::Email, outbox()),
        ConnectorCommand::Sms(SmsConnectorCommand::SetHttp { endpoint, token_stdin }) => {
            (Channel::Sms, http(endpoint, *token_stdin)?)
        }
        ConnectorCommand::Sms(SmsConnectorCommand::UseOutbox) => (Channel::Sms, outbox()),
    };
    let c = core.set_connector(ctx, &t.id, channel, fields).await?;
    let (value, line) = describe_connector(channel, Some(&c));
    out(j, value, line);
    Ok(())
}

async fn outbox_command(core: &Core, t: &Tenant, to: Option<&str>, limit: u32, j: bool) -> anyhow::Result<()> {
    let messages = core.outbox_messages(&t.id, to, limit).await?;
    let rows: Vec<_> = messages
        .iter()
        .map(|m| {
            json!({"id": m.id, "channel": m.channel.as_str(), "to": m.recipient, "purpose": m.purpose.as_str(),
                   "code": m.code, "subject": m.subject, "text": m.text,
                   "created_at": accountd_core::clock::to_rfc3339(m.created_at)})
        })
        .collect();
    let text = if messages.is_empty() {
        "the outbox is empty (messages appear here while no connector is configured)".to_string()
    } else {
        messages
            .iter()
            .map(|m| {
                format!(
                    "{}  {:<5}  {}  {}  code {}",
                    accountd_core::clock::to_rfc3339(m.created_at),
                    m.channel.as_str(),
                    m.recipient,
                    m.purpose.as_str(),
                    m.code
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    out(j, json!(rows), text);
    Ok(())
}
