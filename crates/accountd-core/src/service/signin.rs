use serde_json::json;
use zeroize::Zeroizing;

use super::Core;
use crate::access_policy::{Denied, user_scopes};
use crate::api_resource::ApiResource;
use crate::application::Application;
use crate::audit::{AuditEvent, Context};
use crate::authorization::{AuthorizationRequest, OIDC_SCOPES, UserGrant, pkce_matches};
use crate::client_grant::SubjectType;
use crate::clock::now_millis;
use crate::error::{Error, Result};
use crate::origin::Origin;
use crate::secret::{hash_high_entropy_secret, random_token};
use crate::session::{AuthorizationCode, RefreshToken, Session, TokenFamily};
use crate::store::{Page, UserQuery};
use crate::tenant::TenantId;
use crate::user::{User, UserId, normalize_email};

/// How long a sign-in session lasts.
pub const SESSION_TTL_MILLIS: i64 = 7 * 24 * 3600 * 1000;
/// How long an authorization code may wait for its exchange.
pub const CODE_TTL_MILLIS: i64 = 60 * 1000;
/// How long a refresh token lives (sliding: each rotation starts a new one).
pub const REFRESH_TTL_MILLIS: i64 = 30 * 24 * 3600 * 1000;

/// Why the token endpoint refuses a grant (mapped to RFC 6749 errors by the adapter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantError {
    /// `invalid_grant`: the code or refresh token is unknown, used, expired, revoked or not this client's.
    InvalidGrant(&'static str),
    /// `access_denied`: the API's policy or grants do not allow it.
    AccessDenied(String),
    /// `invalid_request`: a parameter is missing or malformed.
    InvalidRequest(&'static str),
    /// A third-party application needs the user's consent for these scopes first.
    ConsentRequired(Vec<String>),
}

/// The parameters of an authorization code exchange.
#[derive(Debug, Clone, Copy)]
pub struct CodeExchange<'a> {
    /// The code.
    pub code: &'a str,
    /// Must repeat the authorization request's.
    pub redirect_uri: Option<&'a str>,
    /// PKCE verifier.
    pub code_verifier: Option<&'a str>,
    /// Thumbprint of the DPoP key that proved this request, if any.
    pub dpop_jkt: Option<&'a str>,
}

/// The parameters of a refresh token exchange.
#[derive(Debug, Clone, Copy)]
pub struct RefreshExchange<'a> {
    /// The refresh token.
    pub token: &'a str,
    /// Another API the client is granted (multi-resource refresh tokens).
    pub audience: Option<&'a str>,
    /// Narrower scopes.
    pub scope: Option<&'a str>,
    /// Thumbprint of the DPoP key that proved this request, if any.
    pub dpop_jkt: Option<&'a str>,
}

/// A grant refusal or a core failure.
#[derive(Debug)]
pub enum ExchangeError {
    /// The grant is refused.
    Grant(GrantError),
    /// Something else went wrong.
    Core(Error),
}

impl From<Error> for ExchangeError {
    fn from(e: Error) -> Self {
        ExchangeError::Core(e)
    }
}

impl From<crate::error::StoreError> for ExchangeError {
    fn from(e: crate::error::StoreError) -> Self {
        ExchangeError::Core(e.into())
    }
}

/// The lockout key of an identifier signing in from an IP: the identifier as users are found by
/// it (so two spellings of one address share a count), and the IP.
fn sign_in_account_key(identifier: &str, ip: Option<&str>) -> String {
    let id = normalize_email(identifier).unwrap_or_else(|_| identifier.trim().to_lowercase());
    format!("acct:{id}|ip:{}", ip.unwrap_or("-"))
}

impl Core {
    /// Finds a user by email or username (any case for email).
    async fn find_by_identifier(&self, tenant: &TenantId, identifier: &str) -> Result<Option<User>> {
        if let Ok(email) = normalize_email(identifier) {
            let (mut users, _) =
                self.store.list_users(tenant, &UserQuery { email: Some(email) }, Page::new(0, 1)).await?;
            if let Some(u) = users.pop() {
                return Ok(Some(u));
            }
        }
        // Usernames: scan is avoided by the unique index through the email path first; a direct
        // username lookup joins the store when usernames sign in (kept simple: email only).
        Ok(None)
    }

    /// Checks an identifier and password. Unknown users, wrong passwords and blocked users get the
    /// same error, and an unknown user costs the same Argon2 work as a known one.
    ///
    /// Two limits, after Auth0's: attempts per identifier **and** IP lock that pair out at the
    /// limit (an attacker elsewhere cannot lock the victim out), and a steady budget per IP across
    /// every identifier slows a spray down without locking anyone out (a success gives its
    /// attempt back). Both are reserved before the hash runs, and the hashing pool's place before
    /// both, so a burst gets no more checks than the limits and an overloaded pool spends none.
    pub async fn sign_in_with_password(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        identifier: &str,
        password: Zeroizing<String>,
    ) -> Result<User> {
        let permit = self.settings.password_hashing.admit()?;
        let rule = self.settings.sign_in_per_account;
        let ip_key = ctx.ip.as_ref().map(|ip| format!("ip:{ip}"));
        let account_key = sign_in_account_key(identifier, ctx.ip.as_deref());
        if let Some(k) = &ip_key {
            self.reserve_rate(tenant, k, &self.settings.sign_in_per_ip).await?;
        }
        let number = match self.reserve_attempt(tenant, &account_key, &rule).await {
            Ok(n) => n,
            Err(e) => {
                // Never checked: the IP's budget gets its attempt back.
                if let Some(k) = &ip_key {
                    self.store.refund_rate(tenant, k, &self.settings.sign_in_per_ip).await?;
                }
                return Err(e);
            }
        };
        let locks_at = now_millis() + rule.lockout_millis;
        let user = self.find_by_identifier(tenant, identifier).await?;
        let phc = match &user {
            Some(u) => self.store.load_password_hash(tenant, &u.id).await?,
            None => None,
        };
        let ok = match phc {
            Some(phc) => self.settings.password_hashing.verify_with(permit, password, phc).await?,
            None => {
                // Equalise timing with a real check against a throwaway hash.
                let _ = self.settings.password_hashing.hash_with(permit, password).await?;
                false
            }
        };
        match user {
            Some(u) if ok && !u.blocked => {
                self.store.clear_failures(tenant, &account_key).await?;
                if let Some(k) = &ip_key {
                    self.store.refund_rate(tenant, k, &self.settings.sign_in_per_ip).await?;
                }
                Ok(u)
            }
            user => {
                let target = user.as_ref().map(|u| u.id.0.clone()).unwrap_or_default();
                let mut detail = json!({"method": "pwd"});
                if number >= rule.max_failures {
                    // The user's timeline says sign-in from there is paused, and until when.
                    detail["locked_until"] = json!(locks_at);
                }
                let mut e = AuditEvent::success(ctx, "user.sign_in", "user", &target, detail);
                e.result = "failure".into();
                self.store.insert_audit_event(tenant, &e).await?;
                if number >= rule.max_failures {
                    // This attempt's reservation locked the pair; it failed, so the lock stands.
                    return Err(Error::LockedOut { until: locks_at });
                }
                Err(Error::Unauthenticated("Wrong email or password.".into()))
            }
        }
    }

    /// Starts a session for `user`; returns it with the cookie secret (stored only hashed).
    pub async fn start_session(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        user: &User,
        amr: Vec<String>,
    ) -> Result<(Session, String)> {
        let now = now_millis();
        let secret = random_token::<32>();
        let session = Session {
            id: random_token::<16>(),
            user_id: user.id.0.clone(),
            auth_time: now / 1000,
            acr: amr.iter().any(|a| a == "mfa").then(|| crate::authn::policy::ACR_MFA.to_string()),
            amr,
            user_agent: ctx.user_agent.clone(),
            ip: ctx.ip.clone(),
            created_at: now,
            expires_at: now + SESSION_TTL_MILLIS,
            revoked_at: None,
            last_seen_at: Some(now),
        };
        let new_device = self.is_new_device(tenant, user, ctx).await?;
        let mut updated = user.clone();
        updated.last_login_at = Some(now);
        updated.logins_count += 1;
        let tx = self.store.begin().await?;
        tx.insert_session(tenant, &session, &hash_high_entropy_secret(&secret)).await?;
        tx.update_user(tenant, &updated).await?;
        tx.insert_audit_event(
            tenant,
            &AuditEvent::success(
                ctx,
                "user.sign_in",
                "user",
                &user.id.0,
                if new_device {
                    json!({"method": session.amr.join(" "), "sid": session.id, "new_device": true})
                } else {
                    json!({"method": session.amr.join(" "), "sid": session.id})
                },
            ),
        )
        .await?;
        tx.commit().await?;
        Ok((session, secret))
    }

    /// Whether a sign-in comes from a browser the user has not signed in with lately (their last
    /// 50 sign-ins): the timeline marks it. A first sign-in ever is not "new".
    async fn is_new_device(&self, tenant: &TenantId, user: &User, ctx: &Context) -> Result<bool> {
        let Some(agent) = ctx.user_agent.as_deref() else { return Ok(false) };
        let actions = ["user.sign_in", "user.passkey_sign_in", "user.sign_in.upstream", "user.sign_in.upstream_linked"];
        let query = crate::store::UserEventQuery { user: &user.id, actions: &actions, before: None };
        let earlier = self.store.list_user_events(tenant, query, crate::store::Page { offset: 0, limit: 50 }).await?;
        let signed_in: Vec<_> = earlier.iter().filter(|e| e.result == "success").collect();
        Ok(!signed_in.is_empty() && signed_in.iter().all(|e| e.user_agent.as_deref() != Some(agent)))
    }

    /// The live session a cookie secret names.
    pub async fn session_from_cookie(&self, tenant: &TenantId, secret: &str) -> Result<Option<Session>> {
        Ok(self.store.find_session_by_secret(tenant, &hash_high_entropy_secret(secret), now_millis()).await?)
    }

    /// Ends a session and every token issued under it.
    pub async fn end_session(&self, ctx: &Context, tenant: &TenantId, session: &Session) -> Result<()> {
        self.store.revoke_session(tenant, &UserId(session.user_id.clone()), &session.id, now_millis()).await?;
        self.store
            .insert_audit_event(
                tenant,
                &AuditEvent::success(ctx, "session.end", "session", &session.id, json!({"user": session.user_id})),
            )
            .await?;
        Ok(())
    }

    /// The API an audience names on this origin (built-in ones only under this host's identifier).
    pub async fn api_for_audience(
        &self,
        tenant: &TenantId,
        origin: &Origin,
        audience: &str,
    ) -> Result<Option<ApiResource>> {
        Ok(self.resolve_audience(tenant, audience).await?.filter(|api| api.identifier_on(origin) == audience))
    }

    /// Scopes `client` obtains for `user` from `requested`: OIDC scopes as asked, plus the API's
    /// effective scopes.
    pub async fn effective_user_scopes(
        &self,
        tenant: &TenantId,
        client: &Application,
        user: &UserId,
        api: Option<&ApiResource>,
        requested: &[String],
    ) -> std::result::Result<Vec<String>, ExchangeError> {
        let mut scopes: Vec<String> = requested.iter().filter(|s| OIDC_SCOPES.contains(&s.as_str())).cloned().collect();
        if let Some(api) = api {
            let grant = self.store.find_client_grant_for(tenant, &client.client_id, &api.id, SubjectType::User).await?;
            let perms = if api.enforce_policies {
                Some(self.store.list_user_permissions(tenant, user, &api.id).await?)
            } else {
                None
            };
            let api_scopes = user_scopes(api, client.is_first_party, grant.as_ref(), perms.as_deref(), requested)
                .map_err(|d| {
                    ExchangeError::Grant(GrantError::AccessDenied(match d {
                        Denied::PolicyDenies => "The API's policy does not allow this application.".into(),
                        Denied::NoClientGrant | Denied::NoScopeAllowed => {
                            "The application has no client grant for this API.".into()
                        }
                    }))
                })?;
            scopes.extend(api_scopes);
        }
        Ok(scopes)
    }

    /// Issues an authorization code for a signed-in session; returns the code. A third-party
    /// application needs the user's consent to every scope it would get: without it (or with
    /// `prompt=consent`) this answers `ConsentRequired`, unless `consent_given` records it now.
    pub async fn issue_code(
        &self,
        tenant: &TenantId,
        origin: &Origin,
        req: &AuthorizationRequest,
        session: &Session,
        consent_given: bool,
    ) -> std::result::Result<String, ExchangeError> {
        let client = self.get_application(tenant, &req.client_id).await?;
        let api =
            match &req.audience {
                Some(a) => Some(self.api_for_audience(tenant, origin, a).await?.ok_or_else(|| {
                    ExchangeError::Grant(GrantError::AccessDenied(format!("Service not found: {a}")))
                })?),
                None => None,
            };
        let user = UserId(session.user_id.clone());
        let scope = self.effective_user_scopes(tenant, &client, &user, api.as_ref(), &req.scope).await?;
        if !client.is_first_party {
            let audience = req.audience.as_deref().unwrap_or("");
            if consent_given {
                self.store.upsert_consent(tenant, &user.0, &client.client_id, audience, &scope, now_millis()).await?;
            } else {
                let consented =
                    self.store.find_consent(tenant, &user.0, &client.client_id, audience).await?.unwrap_or_default();
                let covered = scope.iter().all(|s| consented.contains(s));
                if !covered || req.prompt == Some(crate::authorization::Prompt::Consent) {
                    return Err(ExchangeError::Grant(GrantError::ConsentRequired(scope)));
                }
            }
        }
        let code = random_token::<32>();
        let now = now_millis();
        // The application's grant by the user (made at its first sign-in) owns what the code yields.
        let grant_id = self
            .store
            .upsert_grant(tenant, &user, &client.client_id, &random_token::<16>(), now, now + REFRESH_TTL_MILLIS)
            .await?;
        self.store.touch_session(tenant, &session.id, now).await?;
        let row = AuthorizationCode {
            code_hash: hash_high_entropy_secret(&code),
            client_id: client.client_id,
            user_id: session.user_id.clone(),
            session_id: session.id.clone(),
            redirect_uri: req.redirect_uri.clone(),
            scope: scope.join(" "),
            audience: req.audience.clone(),
            nonce: req.nonce.clone(),
            code_challenge: req.code_challenge.clone(),
            auth_time: session.auth_time,
            amr: session.amr.clone(),
            acr: session.acr.clone(),
            created_at: now,
            expires_at: now + CODE_TTL_MILLIS,
            grant_id: Some(grant_id),
            family_id: Some(random_token::<16>()),
        };
        self.store.insert_authorization_code(tenant, &row).await?;
        Ok(code)
    }

    /// Exchanges an authorization code (single use; a second use revokes what the first issued).
    pub async fn exchange_code(
        &self,
        tenant: &TenantId,
        origin: &Origin,
        client: &Application,
        req: CodeExchange<'_>,
    ) -> std::result::Result<UserGrant, ExchangeError> {
        let CodeExchange { code, redirect_uri, code_verifier, dpop_jkt } = req;
        let invalid = |why| ExchangeError::Grant(GrantError::InvalidGrant(why));
        let now = now_millis();
        let hash = hash_high_entropy_secret(code);
        let (row, first) = self
            .store
            .consume_authorization_code(tenant, &hash, now)
            .await?
            .ok_or_else(|| invalid("Invalid authorization code."))?;
        // Codes from before token families existed name their family by their hash.
        let family_id = row.family_id.clone().unwrap_or_else(|| hash.clone());
        if !first {
            // RFC 6749 §4.1.2: a reused code revokes the tokens issued from it.
            self.store.revoke_refresh_family(tenant, &UserId(row.user_id.clone()), &family_id, now).await?;
            return Err(invalid("Invalid authorization code."));
        }
        if row.client_id != client.client_id || row.expires_at <= now {
            return Err(invalid("Invalid authorization code."));
        }
        if redirect_uri != Some(row.redirect_uri.as_str()) {
            return Err(invalid("redirect_uri does not match the authorization request."));
        }
        match (row.code_challenge.is_empty(), code_verifier) {
            (true, None) => {}
            (false, Some(v)) if pkce_matches(v, &row.code_challenge) => {}
            (false, None) => return Err(ExchangeError::Grant(GrantError::InvalidRequest("Missing code_verifier."))),
            _ => return Err(invalid("Failed to verify code_verifier.")),
        }
        let user = self
            .store
            .find_user(tenant, &UserId(row.user_id.clone()))
            .await?
            .filter(|u| !u.blocked)
            .ok_or_else(|| invalid("The user no longer exists or is blocked."))?;
        let api = match &row.audience {
            Some(a) => self.api_for_audience(tenant, origin, a).await?,
            None => None,
        };
        let scope: Vec<String> = row.scope.split_whitespace().map(str::to_string).collect();
        // A code outlives neither the session nor the grant it was issued under: ended since,
        // its tokens would be refused, and its refresh tokens must not start.
        let session_live = self
            .store
            .find_session(tenant, &row.session_id)
            .await?
            .is_some_and(|s| s.revoked_at.is_none() && s.expires_at > now);
        let grant_live = match &row.grant_id {
            Some(g) => self.store.list_user_grants(tenant, &user.id, now).await?.iter().any(|x| &x.id == g),
            None => true,
        };
        if !session_live || !grant_live {
            return Err(invalid("The session or grant of this code has ended."));
        }
        let family = match &row.grant_id {
            Some(grant_id) => {
                let family = TokenFamily {
                    id: family_id.clone(),
                    user_id: row.user_id.clone(),
                    client_id: row.client_id.clone(),
                    session_id: row.session_id.clone(),
                    grant_id: grant_id.clone(),
                    scope: row.scope.clone(),
                    created_at: now,
                    revoked_at: None,
                };
                self.store.insert_token_family(tenant, &family).await?;
                Some(family.id)
            }
            None => None,
        };
        // A public client's refresh tokens are bound to its DPoP key (RFC 9449 §5).
        let binding = dpop_jkt.filter(|_| client.app_type.is_public()).map(str::to_string);
        let refresh_token = match self.new_refresh_token(
            client,
            &row.user_id,
            &row.session_id,
            &family_id,
            &scope,
            &row.audience,
            api.as_ref(),
            row.auth_time,
            &row.amr,
            &row.acr,
            binding,
        ) {
            Some((token, refresh)) => {
                self.store.insert_refresh_token(tenant, &refresh).await?;
                Some(token)
            }
            None => None,
        };
        Ok(UserGrant {
            user,
            client_id: client.client_id.clone(),
            scope,
            api,
            audience: row.audience,
            session_id: row.session_id,
            family_id: family,
            auth_time: row.auth_time,
            amr: row.amr,
            acr: row.acr,
            nonce: row.nonce,
            refresh_token,
        })
    }

    /// A new refresh token and its row, not yet stored, if the sign-in asked for one
    /// (`offline_access`) and the client and API allow it.
    #[expect(clippy::too_many_arguments, reason = "the facts a refresh token carries")]
    fn new_refresh_token(
        &self,
        client: &Application,
        user_id: &str,
        session_id: &str,
        family_id: &str,
        scope: &[String],
        audience: &Option<String>,
        api: Option<&ApiResource>,
        auth_time: i64,
        amr: &[String],
        acr: &Option<String>,
        dpop_jkt: Option<String>,
    ) -> Option<(String, RefreshToken)> {
        let wanted = scope.iter().any(|s| s == "offline_access") && client.allows_grant("refresh_token");
        if !wanted || api.is_some_and(|a| !a.allow_offline_access) {
            return None;
        }
        let token = random_token::<32>();
        let now = now_millis();
        let row = RefreshToken {
            id: random_token::<12>(),
            token_hash: hash_high_entropy_secret(&token),
            family_id: family_id.to_string(),
            client_id: client.client_id.clone(),
            user_id: user_id.to_string(),
            session_id: session_id.to_string(),
            scope: scope.join(" "),
            audience: audience.clone(),
            auth_time,
            amr: amr.to_vec(),
            acr: acr.clone(),
            created_at: now,
            expires_at: now + REFRESH_TTL_MILLIS,
            rotated_at: None,
            revoked_at: None,
            dpop_jkt,
        };
        Some((token, row))
    }

    /// A rotated refresh token came back: someone else holds a copy. Revokes its whole family
    /// and records it; the error to answer.
    async fn refresh_token_reused(&self, tenant: &TenantId, row: &RefreshToken, now: i64) -> Result<ExchangeError> {
        self.store.revoke_refresh_family(tenant, &UserId(row.user_id.clone()), &row.family_id, now).await?;
        let ctx = Context::system();
        let mut e =
            AuditEvent::success(&ctx, "refresh_token.reuse", "user", &row.user_id, json!({"family": row.family_id}));
        e.result = "failure".into();
        self.store.insert_audit_event(tenant, &e).await?;
        Ok(ExchangeError::Grant(GrantError::InvalidGrant("Unknown or invalid refresh token.")))
    }

    /// Who holds a live refresh token: the user, the client it was issued to and the DPoP key it
    /// is bound to, if it is neither used, revoked, expired, nor of an ended session or family
    /// (the Token Vault exchange takes one as its subject without spending it).
    pub async fn refresh_token_holder(
        &self,
        tenant: &TenantId,
        token: &str,
    ) -> Result<Option<(UserId, String, Option<String>)>> {
        let now = now_millis();
        let Some(row) = self.store.find_refresh_token(tenant, &hash_high_entropy_secret(token)).await? else {
            return Ok(None);
        };
        if row.revoked_at.is_some() || row.rotated_at.is_some() || row.expires_at <= now {
            return Ok(None);
        }
        if !self.token_stands(tenant, &row.user_id, Some(&row.session_id), Some(&row.family_id)).await? {
            return Ok(None);
        }
        Ok(Some((UserId(row.user_id), row.client_id, row.dpop_jkt)))
    }

    /// Exchanges a refresh token for new tokens, rotating it. A rotated token presented again
    /// revokes the whole family. The token may name another `audience` the client is granted
    /// (multi-resource refresh tokens, spec auth0 §4.3), within the scopes of the original sign-in.
    pub async fn refresh(
        &self,
        tenant: &TenantId,
        origin: &Origin,
        client: &Application,
        req: RefreshExchange<'_>,
    ) -> std::result::Result<UserGrant, ExchangeError> {
        let RefreshExchange { token, audience, scope, dpop_jkt } = req;
        let invalid = |why| ExchangeError::Grant(GrantError::InvalidGrant(why));
        let now = now_millis();
        let row = self
            .store
            .find_refresh_token(tenant, &hash_high_entropy_secret(token))
            .await?
            .filter(|r| r.client_id == client.client_id)
            .ok_or_else(|| invalid("Unknown or invalid refresh token."))?;
        if row.revoked_at.is_some() || row.expires_at <= now {
            return Err(invalid("Unknown or invalid refresh token."));
        }
        // Checked before rotating: a stolen bound token without its key cannot burn the family.
        if row.dpop_jkt.is_some() && row.dpop_jkt.as_deref() != dpop_jkt {
            return Err(invalid("The refresh token is bound to another DPoP key."));
        }
        if row.rotated_at.is_some() {
            return Err(self.refresh_token_reused(tenant, &row, now).await?);
        }
        let user = self
            .store
            .find_user(tenant, &UserId(row.user_id.clone()))
            .await?
            .filter(|u| !u.blocked)
            .ok_or_else(|| invalid("The user no longer exists or is blocked."))?;
        let original: Vec<String> = row.scope.split_whitespace().map(str::to_string).collect();
        let audience = audience.map(str::to_string).or(row.audience.clone());
        let api =
            match &audience {
                Some(a) => Some(self.api_for_audience(tenant, origin, a).await?.ok_or_else(|| {
                    ExchangeError::Grant(GrantError::AccessDenied(format!("Service not found: {a}")))
                })?),
                None => None,
            };
        // OIDC scopes stay within the sign-in's; API scopes are recomputed for the audience asked.
        let requested: Vec<String> = match scope {
            Some(s) => s.split_whitespace().map(str::to_string).collect(),
            None => original.clone(),
        };
        let requested: Vec<String> =
            requested.into_iter().filter(|s| !OIDC_SCOPES.contains(&s.as_str()) || original.contains(s)).collect();
        let granted = self.effective_user_scopes(tenant, client, &user.id, api.as_ref(), &requested).await?;
        // The new refresh token keeps the sign-in's scopes and audience; it is stored by the
        // rotation itself, in the same transaction.
        let successor = self.new_refresh_token(
            client,
            &row.user_id,
            &row.session_id,
            &row.family_id,
            &original,
            &row.audience,
            None,
            row.auth_time,
            &row.amr,
            &row.acr,
            row.dpop_jkt.clone(),
        );
        if !self.store.rotate_refresh_token(tenant, &row, now, successor.as_ref().map(|(_, r)| r)).await? {
            // Rotated by a parallel request since it was read: the same reuse.
            return Err(self.refresh_token_reused(tenant, &row, now).await?);
        }
        let refresh_token = successor.map(|(token, _)| token);
        Ok(UserGrant {
            user,
            client_id: client.client_id.clone(),
            scope: granted,
            api,
            audience,
            session_id: row.session_id,
            family_id: Some(row.family_id),
            auth_time: row.auth_time,
            amr: row.amr,
            acr: row.acr,
            nonce: None,
            refresh_token,
        })
    }

    /// Revokes a refresh token's whole family (RFC 7009); unknown tokens are ignored.
    pub async fn revoke_refresh_token(&self, tenant: &TenantId, client: &Application, token: &str) -> Result<()> {
        if let Some(row) = self.store.find_refresh_token(tenant, &hash_high_entropy_secret(token)).await?
            && row.client_id == client.client_id
        {
            self.store
                .revoke_refresh_family(tenant, &UserId(row.user_id.clone()), &row.family_id, now_millis())
                .await?;
        }
        Ok(())
    }

    /// A live refresh token of `client` (introspection); None when unknown, rotated, revoked,
    /// expired or another client's.
    pub async fn live_refresh_token(
        &self,
        tenant: &TenantId,
        client: &Application,
        token: &str,
    ) -> Result<Option<RefreshToken>> {
        let now = now_millis();
        Ok(self.store.find_refresh_token(tenant, &hash_high_entropy_secret(token)).await?.filter(|r| {
            r.client_id == client.client_id && r.rotated_at.is_none() && r.revoked_at.is_none() && r.expires_at > now
        }))
    }

    /// Whether the tenant's hosted page offers sign-up.
    pub async fn signup_allowed(&self, tenant: &TenantId) -> Result<bool> {
        Ok(self.store.signup_allowed(tenant).await?)
    }

    /// Turns the tenant's sign-up on or off.
    pub async fn set_signup_allowed(&self, ctx: &Context, tenant: &TenantId, allowed: bool) -> Result<()> {
        self.store.set_signup_allowed(tenant, allowed).await?;
        self.store
            .insert_audit_event(
                tenant,
                &AuditEvent::success(
                    ctx,
                    "tenant.settings",
                    "tenant",
                    tenant.as_str(),
                    json!({"allow_signup": allowed}),
                ),
            )
            .await?;
        Ok(())
    }

    /// A user by id.
    pub async fn find_user(&self, tenant: &TenantId, id: &str) -> Result<Option<User>> {
        Ok(self.store.find_user(tenant, &UserId(id.into())).await?)
    }

    /// Whether `id` is a user of the tenant who may still use their tokens (not deleted, not
    /// blocked): the check every user token passes on every API, from the store's cache (every
    /// write to the user clears it, on every node), so it costs no database read on a repeat.
    pub async fn user_is_active(&self, tenant: &TenantId, id: &str) -> Result<bool> {
        Ok(self.store.find_user_for_display(tenant, &UserId(id.into())).await?.is_some_and(|u| !u.blocked))
    }

    /// A user by id to show (`/userinfo`): served from the store's cache, which every write to the
    /// user clears.
    pub async fn find_user_to_show(&self, tenant: &TenantId, id: &str) -> Result<Option<User>> {
        Ok(self.store.find_user_for_display(tenant, &UserId(id.into())).await?)
    }
}
