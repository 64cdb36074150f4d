//! Identities at upstream providers: proving one (a sign-in there, kept in a social
//! verification record), linking and unlinking it, and the provider tokens kept for it.
//!
//! Both dialects meet here. Logto's client sends the user to the provider itself and hands the
//! callback back (`/api/verifications/social` + `/verify`, then `/api/my-account/identities`).
//! Auth0's client gets a ticket, accountd's hosted page sends the user to the provider and back,
//! and the client completes with a one-time `connect_code` and its PKCE verifier
//! (`/me/v1/connected-accounts/connect` + `/complete`). Either way the step in progress and its
//! result live sealed in one `Social` verification record, and the outcome is one
//! [`LinkedIdentity`] row that both dialects read.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{AccountCaller, Core};
use crate::account_center::Field;
use crate::audit::{AuditEvent, Context};
use crate::authorization::{pkce_matches, pkce_s256};
use crate::clock::{Millis, now_millis};
use crate::error::{ConflictKind, Entity, Error, Refusal, Result};
use crate::secret::{constant_time_eq, hash_high_entropy_secret, random_alnum, verify_high_entropy_secret};
use crate::tenant::TenantId;
use crate::upstream::{
    AuthorizationRequest, LinkedIdentity, StoredConnection, UpstreamProfile, UpstreamTokenSet, new_identity_id,
    token_context,
};
use crate::user::UserId;
use crate::verification::{RECORD_LIFETIME_MILLIS, RecordKind, VerificationRecord};

/// How long an Auth0 connect ticket can be opened (the `expires_in` of the connect answer).
pub const CONNECT_TICKET_SECS: i64 = 300;

/// What a social record holds, sealed.
#[derive(Serialize, Deserialize)]
struct SocialState {
    /// The connection's id.
    connection_id: String,
    /// Where the provider sends the user back (the client's for Logto, accountd's page for Auth0).
    redirect_uri: String,
    /// The `state` the provider echoes.
    state: String,
    /// The nonce the ID token must carry.
    nonce: String,
    /// The PKCE verifier of the challenge the provider got.
    code_verifier: String,
    /// The scopes asked for.
    scopes: Vec<String>,
    /// Further authorization parameters (Auth0's `authorization_params`).
    #[serde(default)]
    extra: Vec<(String, String)>,
    /// Auth0's connect request, when the record is one.
    #[serde(default)]
    connect: Option<ConnectState>,
    /// Who signed in at the provider, once they did.
    #[serde(default)]
    signed_in: Option<SignedIn>,
    /// The hosted sign-in page's sealed form, when the record is a "Continue with …" sign-in.
    #[serde(default)]
    sign_in_flow: Option<String>,
}

/// The app's side of an Auth0 connect request.
#[derive(Serialize, Deserialize)]
struct ConnectState {
    /// Hash of the ticket's secret part.
    ticket_hash: String,
    /// Until when the ticket opens the provider.
    ticket_expires_at: Millis,
    /// Whether the ticket was used (it opens the provider once).
    ticket_used: bool,
    /// The app's redirect URI (the user comes back there with the connect code).
    client_redirect_uri: String,
    /// The app's state, echoed back.
    client_state: Option<String>,
    /// The app's PKCE S256 challenge.
    code_challenge: Option<String>,
    /// Hash of the one-time connect code, once issued.
    connect_code_hash: Option<String>,
    /// Whether the connect code was redeemed.
    connect_code_used: bool,
}

/// What the provider said, kept until the identity is linked.
#[derive(Serialize, Deserialize)]
struct SignedIn {
    profile: UpstreamProfile,
    tokens: Option<UpstreamTokenSet>,
}

/// The query the provider sent the user back with (Logto's `connectorData`, or accountd's own
/// callback page).
#[derive(Debug, Clone, Default)]
pub struct UpstreamCallback {
    /// The authorization code.
    pub code: Option<String>,
    /// The echoed state.
    pub state: Option<String>,
    /// An error the provider reported instead of a code.
    pub error: Option<String>,
}

/// An Auth0 connect request from the app (`POST /me/v1/connected-accounts/connect`), checked at
/// the edge.
#[derive(Debug, Clone)]
pub struct ConnectRequest {
    /// The connection's name.
    pub connection: String,
    /// Where the user comes back with the connect code.
    pub redirect_uri: String,
    /// The app's state.
    pub state: Option<String>,
    /// The app's PKCE S256 challenge.
    pub code_challenge: Option<String>,
    /// Scopes that replace the connection's.
    pub scopes: Option<Vec<String>>,
    /// Further parameters for the provider (`login_hint`, `prompt`, …).
    pub authorization_params: Vec<(String, String)>,
}

/// A connect request made: what the app needs to send the user on.
#[derive(Debug, Clone)]
pub struct ConnectStarted {
    /// The request's id (Auth0's `auth_session`).
    pub auth_session: String,
    /// Opens the provider once, on accountd's connect page.
    pub ticket: String,
    /// Seconds the ticket can be used.
    pub expires_in: i64,
}

/// A page of the caller's connected accounts.
#[derive(Debug, Clone)]
pub struct ConnectedAccountsPage {
    /// The accounts.
    pub accounts: Vec<LinkedIdentity>,
    /// The cursor of the next page, if any.
    pub next: Option<String>,
}

fn seal_context(tenant: &TenantId, id: &str) -> String {
    format!("verification_record:{}:{id}", tenant.as_str())
}

impl Core {
    /// Starts proving an identity at connection `connector` (id or name) for Logto's client: the
    /// provider sends the user back to the client's `redirect_uri` with the client's `state`.
    /// The record belongs to nobody until it is linked.
    pub async fn start_social_verification(
        &self,
        caller: &AccountCaller,
        connector: &str,
        state: &str,
        redirect_uri: &str,
        scope: Option<&str>,
    ) -> Result<(VerificationRecord, String)> {
        let stored = self.stored_connection(&caller.tenant, connector).await?;
        let requested: Option<Vec<String>> = scope.map(|s| s.split_whitespace().map(str::to_string).collect());
        let social = SocialState {
            connection_id: stored.connection.id.clone(),
            redirect_uri: redirect_uri.to_string(),
            state: state.to_string(),
            nonce: random_alnum(32),
            code_verifier: random_alnum(64),
            scopes: stored.connection.scopes_for(requested.as_deref()),
            extra: vec![],
            connect: None,
            signed_in: None,
            sign_in_flow: None,
        };
        let url = self.upstream.authorization_url(&stored.connection, &authorization_request(&social)).await?;
        let record = self.insert_social_record(&caller.tenant, None, &social).await?;
        Ok((record, url))
    }

    /// Finishes a social verification with the provider's callback query: the code is redeemed
    /// (PKCE, nonce, ID token), and the record then holds who signed in and, when the connection
    /// keeps tokens, their tokens. A record finishes once.
    pub async fn verify_social(&self, caller: &AccountCaller, id: &str, callback: &UpstreamCallback) -> Result<()> {
        let (record, mut social, sealed) = self.social_record(&caller.tenant, id).await?;
        if record.verified || social.signed_in.is_some() || social.connect.is_some() || social.sign_in_flow.is_some() {
            return Err(Error::Refused(Refusal::UpstreamSessionNotFound));
        }
        let stored = self.stored_connection(&caller.tenant, &social.connection_id).await?;
        if let Some(given) = &callback.state
            && !constant_time_eq(given.as_bytes(), social.state.as_bytes())
        {
            return Err(Error::BadProof("the state does not match the social verification".into()));
        }
        social.signed_in = Some(self.redeem_upstream_code(&caller.tenant, &stored, &social, callback).await?);
        let done = self.seal_social(&caller.tenant, id, &social)?;
        if !self.store.swap_record_state(&caller.tenant, id, &sealed, &done, true, now_millis()).await? {
            return Err(Error::Refused(Refusal::UpstreamSessionNotFound));
        }
        self.audit_identity(
            &caller.tenant,
            &caller.ctx,
            "account.verification.social",
            &caller.user,
            &stored.connection.name,
        )
        .await
    }

    /// Links the identity a verified social record proves (Logto's `POST`/`PUT
    /// /api/my-account/identities`). With `replace`, an identity the user has at that connection
    /// is replaced; otherwise it is `IdentityExists`. An identity someone else holds is
    /// `IdentityTaken`.
    pub async fn link_identity(&self, caller: &AccountCaller, record_id: &str, replace: bool) -> Result<()> {
        self.account_center(&caller.tenant).await?.require_editable(Field::Social)?;
        if self.has_security_verification_method(caller).await? {
            self.require_identity_proof(caller).await?;
        }
        let (record, social, _) = self.social_record(&caller.tenant, record_id).await?;
        if record.user_id.as_ref().is_some_and(|u| u != &caller.user) {
            return Err(Error::NotFound(Entity::VerificationRecord));
        }
        let Some(signed_in) = social.signed_in.filter(|_| record.verified) else {
            return Err(Error::NotFound(Entity::VerificationRecord));
        };
        let stored = self.stored_connection(&caller.tenant, &social.connection_id).await?;
        let tx = self.store.begin().await?;
        self.caller_user_in(tx.as_ref(), caller).await?;
        self.save_identity(tx.as_ref(), &caller.tenant, &caller.user, &stored, signed_in, replace).await?;
        tx.insert_audit_event(
            &caller.tenant,
            &AuditEvent::success(
                &caller.ctx,
                "account.identity.link",
                "user",
                &caller.user.0,
                json!({ "connection": stored.connection.name }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Unlinks the identity the user has at connection `target` (Logto's `DELETE
    /// /api/my-account/identities/:target`), with its kept tokens, unless it is the last way the
    /// user can sign in.
    pub async fn remove_identity(&self, caller: &AccountCaller, target: &str) -> Result<()> {
        self.account_center(&caller.tenant).await?.require_editable(Field::Social)?;
        if self.has_security_verification_method(caller).await? {
            self.require_identity_proof(caller).await?;
        }
        let identities = self.store.list_identities(&caller.tenant, &caller.user).await?;
        let identity = identities
            .iter()
            .find(|i| i.connection_name == target)
            .cloned()
            .ok_or(Error::NotFound(Entity::Identity))?;
        self.unlink(caller, &identity).await
    }

    /// Starts "Continue with …" on the hosted sign-in page: the URL of connection `connection`'s
    /// provider, which sends the user back to `{base_url}u/upstream/callback`. `flow` (the page's
    /// sealed sign-in form) comes back with the user.
    pub async fn start_upstream_sign_in(
        &self,
        tenant: &TenantId,
        base_url: &str,
        connection: &str,
        flow: &str,
    ) -> Result<String> {
        let stored = self.stored_connection(tenant, connection).await?;
        if !stored.connection.sign_in {
            return Err(Error::NotFound(Entity::Connection));
        }
        let id = random_alnum(21);
        let social = SocialState {
            connection_id: stored.connection.id.clone(),
            redirect_uri: format!("{base_url}u/upstream/callback"),
            state: format!("{id}.{}", random_alnum(32)),
            nonce: random_alnum(32),
            code_verifier: random_alnum(64),
            scopes: stored.connection.scopes_for(None),
            extra: vec![],
            connect: None,
            signed_in: None,
            sign_in_flow: Some(flow.to_string()),
        };
        let url = self.upstream.authorization_url(&stored.connection, &authorization_request(&social)).await?;
        self.insert_social_record_with_id(tenant, id, None, &social).await?;
        Ok(url)
    }

    /// The sealed sign-in form a "Continue with …" callback's `state` names, if it is waiting
    /// (read only, so the page can check the browser before anything happens).
    pub async fn upstream_sign_in_flow(&self, tenant: &TenantId, state: &str) -> Result<String> {
        let refused = || Error::BadProof("the sign-in is unknown, finished or expired".into());
        let (id, _) = state.split_once('.').ok_or_else(refused)?;
        let (record, social, _) = self.social_record(tenant, id).await.map_err(|_| refused())?;
        match social.sign_in_flow {
            Some(flow) if !record.verified && constant_time_eq(state.as_bytes(), social.state.as_bytes()) => Ok(flow),
            _ => Err(refused()),
        }
    }

    /// Finishes "Continue with …": redeems the provider's code (once), and answers the user it
    /// signs in — the one the provider account is linked to; else, when the connection allows it
    /// and the provider verified the email, the user with that email (now linked); else a new
    /// user — with the sign-in page's sealed form. An unverified upstream email never links.
    pub async fn finish_upstream_sign_in(
        &self,
        tenant: &TenantId,
        ctx: &Context,
        callback: &UpstreamCallback,
    ) -> Result<(crate::user::User, String)> {
        let refused = || Error::BadProof("the sign-in is unknown, finished or expired".into());
        let state = callback.state.as_deref().ok_or_else(refused)?;
        let (id, _) = state.split_once('.').ok_or_else(refused)?;
        let (record, mut social, sealed) = self.social_record(tenant, id).await.map_err(|_| refused())?;
        let flow = social.sign_in_flow.clone().ok_or_else(refused)?;
        if record.verified || !constant_time_eq(state.as_bytes(), social.state.as_bytes()) {
            return Err(refused());
        }
        let stored = self.stored_connection(tenant, &social.connection_id).await?;
        let signed_in = self.redeem_upstream_code(tenant, &stored, &social, callback).await?;
        // Spent before anything is written, so a replayed callback signs nobody in.
        social.sign_in_flow = None;
        let spent = self.seal_social(tenant, id, &social)?;
        if !self.store.swap_record_state(tenant, id, &sealed, &spent, true, now_millis()).await? {
            return Err(refused());
        }
        let tx = self.store.begin().await?;
        let now = now_millis();
        let (user, action) = match tx
            .find_identity_by_subject(tenant, &stored.connection.id, &signed_in.profile.subject)
            .await?
        {
            Some(identity) => {
                let user = tx.find_user(tenant, &identity.user_id).await?.ok_or_else(refused)?;
                self.save_identity(tx.as_ref(), tenant, &user.id, &stored, signed_in, true).await?;
                (user, "user.sign_in.upstream")
            }
            None => {
                let p = &signed_in.profile;
                let verified_email =
                    p.email.as_deref().filter(|_| p.email_verified).and_then(|e| crate::user::normalize_email(e).ok());
                // Both sides verified: an account someone registered with another's unverified
                // address must not receive that person's upstream sign-in (pre-hijacking).
                let existing = match (&verified_email, stored.connection.link_by_verified_email) {
                    (Some(email), true) => {
                        let query = crate::store::UserQuery { email: Some(email.clone()) };
                        let found = tx.list_users(tenant, &query, crate::store::Page::new(0, 1)).await?.0.pop();
                        found.filter(|u| u.email_verified)
                    }
                    _ => None,
                };
                match existing {
                    Some(user) => {
                        self.save_identity(tx.as_ref(), tenant, &user.id, &stored, signed_in, false).await?;
                        (user, "user.sign_in.upstream_linked")
                    }
                    None => {
                        let mut user = crate::user::User::new(crate::user::UserId::generate(), now);
                        // The email is kept only when the provider verified it and nobody has it.
                        let taken = match &verified_email {
                            Some(e) => !tx
                                .list_users(
                                    tenant,
                                    &crate::store::UserQuery { email: Some(e.clone()) },
                                    crate::store::Page::new(0, 1),
                                )
                                .await?
                                .0
                                .is_empty(),
                            None => true,
                        };
                        if !taken {
                            user.email = verified_email.clone();
                            user.email_verified = true;
                        }
                        user.name = signed_in.profile.name.clone();
                        user.picture = signed_in.profile.picture.clone();
                        tx.insert_user(tenant, &crate::user::NewUser { user: user.clone(), password_hash: None })
                            .await?;
                        self.save_identity(tx.as_ref(), tenant, &user.id, &stored, signed_in, false).await?;
                        (user, "user.sign_up.upstream")
                    }
                }
            }
        };
        if user.blocked {
            return Err(Error::Unauthenticated("the user is blocked".into()));
        }
        let ctx = Context { actor: crate::audit::Actor::User(user.id.0.clone()), ..ctx.clone() };
        tx.insert_audit_event(
            tenant,
            &AuditEvent::success(&ctx, action, "user", &user.id.0, json!({ "connection": stored.connection.name })),
        )
        .await?;
        tx.commit().await?;
        Ok((user, flow))
    }

    /// The provider's id of the user's account at connection `connection`, if linked.
    pub async fn identity_subject(&self, tenant: &TenantId, user: &UserId, connection: &str) -> Result<Option<String>> {
        let identities = self.store.list_identities(tenant, user).await?;
        Ok(identities.into_iter().find(|i| i.connection_name == connection).map(|i| i.subject))
    }

    /// The caller's identities to show (Logto's `identities`, keyed by connection name): from the
    /// per-user cache on a repeat, so `GET /api/my-account` stays one read at most.
    pub async fn list_identities(&self, caller: &AccountCaller) -> Result<Vec<LinkedIdentity>> {
        Ok(self.store.list_identities_for_display(&caller.tenant, &caller.user).await?)
    }

    /// The provider's access token kept for the user's identity at connection `connection`
    /// (Logto's `GET …/identities/:target/access-token`, Auth0's Token Vault exchange). An expired
    /// one is refreshed at the provider first; one that cannot be refreshed is forgotten and
    /// refused. Every read is an audit event.
    pub async fn read_upstream_token(
        &self,
        tenant: &TenantId,
        user: &UserId,
        ctx: &Context,
        connection: &str,
    ) -> Result<UpstreamTokenSet> {
        let no_tokens = || Error::NotFound(Entity::TokenSet);
        let identity = self
            .store
            .list_identities(tenant, user)
            .await?
            .into_iter()
            .find(|i| i.connection_name == connection)
            .ok_or_else(no_tokens)?;
        let sealed = identity.sealed_tokens.clone().ok_or_else(no_tokens)?;
        let tokens = self.open_tokens(tenant, &identity.id, &sealed)?;
        let now = now_millis();
        if !tokens.expired(now) {
            self.audit_identity(tenant, ctx, "account.identity.token_read", user, connection).await?;
            return Ok(tokens);
        }
        if tokens.refresh_token.is_none() {
            self.store.swap_identity_tokens(tenant, user, &identity.id, Some(&sealed), None, now).await?;
            self.audit_identity(tenant, ctx, "account.identity.token_expired", user, connection).await?;
            return Err(Error::Refused(Refusal::UpstreamTokenExpired));
        }
        // One refresh per identity at a time on this node; whoever waited reads the result.
        let _refreshing = self.upstream_refreshes.lock(&format!("{}:{}", tenant.as_str(), identity.id)).await;
        let current = self.store.list_identities(tenant, user).await?.into_iter().find(|i| i.id == identity.id);
        let sealed = current.and_then(|i| i.sealed_tokens).ok_or_else(no_tokens)?;
        let tokens = self.open_tokens(tenant, &identity.id, &sealed)?;
        if !tokens.expired(now_millis()) {
            self.audit_identity(tenant, ctx, "account.identity.token_read", user, connection).await?;
            return Ok(tokens);
        }
        let refresh_token = tokens.refresh_token.clone().ok_or_else(no_tokens)?;
        let stored = self.stored_connection(tenant, &identity.connection_id).await?;
        let secret = self.connection_secret(tenant, &stored)?;
        let mut fresh = self.upstream.refresh(&stored.connection, &secret, &refresh_token).await?;
        if fresh.refresh_token.is_none() {
            fresh.refresh_token = Some(refresh_token);
        }
        let sealed_fresh = self.seal_tokens(tenant, &identity.id, &fresh)?;
        // Another node may have refreshed at the same moment: keep the first result, read it back.
        if !self
            .store
            .swap_identity_tokens(
                tenant,
                user,
                &identity.id,
                Some(&sealed),
                Some((&sealed_fresh, tokens_expire_at(&fresh))),
                now_millis(),
            )
            .await?
        {
            let current = self.store.list_identities(tenant, user).await?.into_iter().find(|i| i.id == identity.id);
            let Some(sealed) = current.and_then(|i| i.sealed_tokens) else { return Err(no_tokens()) };
            fresh = self.open_tokens(tenant, &identity.id, &sealed)?;
        }
        self.audit_identity(tenant, ctx, "account.identity.token_refreshed", user, connection).await?;
        Ok(fresh)
    }

    /// Replaces the tokens kept for the caller's identity at `target` with those of a verified
    /// social record of the same provider account (Logto's `PUT …/identities/:target/access-token`).
    pub async fn replace_upstream_token(
        &self,
        caller: &AccountCaller,
        target: &str,
        record_id: &str,
    ) -> Result<UpstreamTokenSet> {
        let not_found = || Error::NotFound(Entity::VerificationRecord);
        let (record, social, _) = self.social_record(&caller.tenant, record_id).await?;
        let Some(signed_in) = social.signed_in.filter(|_| record.verified) else { return Err(not_found()) };
        let stored = self.stored_connection(&caller.tenant, &social.connection_id).await?;
        if stored.connection.name != target {
            return Err(Error::Refused(Refusal::SocialTargetMismatch));
        }
        let identity = self
            .store
            .list_identities(&caller.tenant, &caller.user)
            .await?
            .into_iter()
            .find(|i| i.connection_id == stored.connection.id && i.subject == signed_in.profile.subject)
            .ok_or(Error::Refused(Refusal::IdentityNotOwned))?;
        let tokens = signed_in.tokens.ok_or(Error::Refused(Refusal::NoTokenSet))?;
        let sealed = self.seal_tokens(&caller.tenant, &identity.id, &tokens)?;
        let expire = tokens_expire_at(&tokens);
        if !self
            .store
            .swap_identity_tokens(
                &caller.tenant,
                &caller.user,
                &identity.id,
                identity.sealed_tokens.as_deref(),
                Some((&sealed, expire)),
                now_millis(),
            )
            .await?
        {
            return Err(Error::Refused(Refusal::IdentityNotOwned));
        }
        self.audit_identity(&caller.tenant, &caller.ctx, "account.identity.token_replaced", &caller.user, target)
            .await?;
        Ok(tokens)
    }

    /// Starts an Auth0 connect request: a record of the caller holding the app's redirect URI,
    /// state and PKCE challenge, and a ticket that opens the provider once on accountd's page.
    pub async fn start_connect(&self, caller: &AccountCaller, request: ConnectRequest) -> Result<ConnectStarted> {
        let stored = self.stored_connection(&caller.tenant, &request.connection).await?;
        if !stored.connection.token_vault {
            return Err(Error::invalid("connection", "does not allow connected accounts (its token vault is off)"));
        }
        // The user comes back with a code only to a callback URL of the calling application, as
        // at /authorize: no request can send the browser anywhere else.
        let app = match &caller.client_id {
            Some(client) => self.store.find_application(&caller.tenant, client).await?,
            None => None,
        };
        if !app.is_some_and(|a| a.callbacks.contains(&request.redirect_uri)) {
            return Err(Error::invalid("redirect_uri", "must be one of the application's callback URLs"));
        }
        let secret = random_alnum(32);
        let now = now_millis();
        let id = random_alnum(21);
        let social = SocialState {
            connection_id: stored.connection.id.clone(),
            redirect_uri: format!("{}connected-accounts/callback", caller.base_url),
            // The provider echoes the record's id, so the callback finds it; the rest is secret.
            state: format!("{id}.{}", random_alnum(32)),
            nonce: random_alnum(32),
            code_verifier: random_alnum(64),
            scopes: stored.connection.scopes_for(request.scopes.as_deref()),
            extra: request.authorization_params,
            connect: Some(ConnectState {
                ticket_hash: hash_high_entropy_secret(&secret),
                ticket_expires_at: now + CONNECT_TICKET_SECS * 1000,
                ticket_used: false,
                client_redirect_uri: request.redirect_uri,
                client_state: request.state,
                code_challenge: request.code_challenge,
                connect_code_hash: None,
                connect_code_used: false,
            }),
            signed_in: None,
            sign_in_flow: None,
        };
        let record = self.insert_social_record_with_id(&caller.tenant, id, Some(caller.user.clone()), &social).await?;
        Ok(ConnectStarted {
            ticket: format!("{}.{secret}", record.id),
            auth_session: record.id,
            expires_in: CONNECT_TICKET_SECS,
        })
    }

    /// Opens the provider for a connect ticket (accountd's connect page): the URL to send the
    /// user to. A ticket opens it once, within its five minutes.
    pub async fn open_connect_ticket(&self, tenant: &TenantId, ticket: &str) -> Result<String> {
        let refused = || Error::BadProof("the connect ticket is unknown, used or expired".into());
        let (id, secret) = ticket.split_once('.').ok_or_else(refused)?;
        let (_, mut social, sealed) = self.social_record(tenant, id).await.map_err(|_| refused())?;
        let connect = social.connect.as_mut().ok_or_else(refused)?;
        if connect.ticket_used
            || connect.ticket_expires_at <= now_millis()
            || !verify_high_entropy_secret(secret, &connect.ticket_hash)
        {
            return Err(refused());
        }
        connect.ticket_used = true;
        let stored = self.stored_connection(tenant, &social.connection_id).await?;
        let url = self.upstream.authorization_url(&stored.connection, &authorization_request(&social)).await?;
        let spent = self.seal_social(tenant, id, &social)?;
        if !self.store.swap_record_state(tenant, id, &sealed, &spent, false, now_millis()).await? {
            return Err(refused());
        }
        Ok(url)
    }

    /// Takes the provider's callback to accountd's connect page: redeems the code and answers
    /// where to send the user — the app's redirect URI with a one-time `connect_code` and the
    /// app's state, or with the provider's `error`. A callback that names no live request is
    /// `BadProof` (there is nowhere safe to redirect to).
    pub async fn finish_connect_callback(&self, tenant: &TenantId, callback: &UpstreamCallback) -> Result<String> {
        let refused = || Error::BadProof("the connect request is unknown, finished or expired".into());
        let state = callback.state.as_deref().ok_or_else(refused)?;
        let (id, _) = state.split_once('.').ok_or_else(refused)?;
        let (record, mut social, sealed) = self.social_record(tenant, id).await.map_err(|_| refused())?;
        let Some(connect) = &social.connect else { return Err(refused()) };
        if record.verified || !connect.ticket_used || !constant_time_eq(state.as_bytes(), social.state.as_bytes()) {
            return Err(refused());
        }
        let back = |params: &[(&str, &str)]| {
            let mut url = connect.client_redirect_uri.clone();
            let mut pairs: Vec<(&str, &str)> = params.to_vec();
            if let Some(s) = &connect.client_state {
                pairs.push(("state", s));
            }
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&serde_urlencoded_pairs(&pairs));
            url
        };
        if let Some(error) = &callback.error {
            let error = if error.len() <= 64 && error.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                error.as_str()
            } else {
                "access_denied"
            };
            return Ok(back(&[("error", error), ("error_description", "The provider did not connect the account.")]));
        }
        let stored = self.stored_connection(tenant, &social.connection_id).await?;
        let signed_in = match self.redeem_upstream_code(tenant, &stored, &social, callback).await {
            Ok(s) => s,
            Err(Error::Upstream(_)) => {
                return Ok(back(&[
                    ("error", "access_denied"),
                    ("error_description", "The provider refused the sign-in."),
                ]));
            }
            Err(e) => return Err(e),
        };
        let code = random_alnum(32);
        let url = back(&[("connect_code", &code)]);
        if let Some(c) = social.connect.as_mut() {
            c.connect_code_hash = Some(hash_high_entropy_secret(&code));
        }
        social.signed_in = Some(signed_in);
        let done = self.seal_social(tenant, id, &social)?;
        if !self.store.swap_record_state(tenant, id, &sealed, &done, true, now_millis()).await? {
            return Err(refused());
        }
        Ok(url)
    }

    /// Completes an Auth0 connect request (`POST /me/v1/connected-accounts/complete`): the
    /// caller's own request, its one-time code, the same redirect URI and the PKCE verifier of
    /// its challenge. The code is spent in the same transaction that links the account, so a
    /// refusal changes nothing and two racing completions link once.
    pub async fn complete_connect(
        &self,
        caller: &AccountCaller,
        auth_session: &str,
        connect_code: &str,
        redirect_uri: &str,
        code_verifier: Option<&str>,
    ) -> Result<LinkedIdentity> {
        let refused = |why: &str| Error::BadProof(why.to_string());
        let (record, mut social, sealed) = self
            .social_record(&caller.tenant, auth_session)
            .await
            .map_err(|_| refused("The auth_session is unknown or expired."))?;
        if record.user_id.as_ref() != Some(&caller.user) {
            return Err(refused("The auth_session is unknown or expired."));
        }
        let (Some(connect), Some(_), true) = (social.connect.as_mut(), &social.signed_in, record.verified) else {
            return Err(refused("The connect_code is invalid."));
        };
        let code_ok = connect.connect_code_hash.as_deref().is_some_and(|h| verify_high_entropy_secret(connect_code, h));
        if !code_ok || connect.connect_code_used {
            return Err(refused("The connect_code is invalid."));
        }
        if !constant_time_eq(redirect_uri.as_bytes(), connect.client_redirect_uri.as_bytes()) {
            return Err(refused("The redirect_uri does not match the one of the connect request."));
        }
        match (&connect.code_challenge, code_verifier) {
            (Some(challenge), Some(verifier)) if pkce_matches(verifier, challenge) => {}
            (Some(_), _) => return Err(refused("The code_verifier does not match the code_challenge.")),
            (None, _) => {}
        }
        connect.connect_code_used = true;
        let spent = self.seal_social(&caller.tenant, auth_session, &social)?;
        let signed_in = social.signed_in.take().ok_or_else(|| refused("The connect_code is invalid."))?;
        let stored = self.stored_connection(&caller.tenant, &social.connection_id).await?;
        let tx = self.store.begin().await?;
        if !tx.swap_record_state(&caller.tenant, auth_session, &sealed, &spent, true, now_millis()).await? {
            return Err(refused("The connect_code is invalid."));
        }
        self.caller_user_in(tx.as_ref(), caller).await?;
        let identity = self.save_identity(tx.as_ref(), &caller.tenant, &caller.user, &stored, signed_in, true).await?;
        tx.insert_audit_event(
            &caller.tenant,
            &AuditEvent::success(
                &caller.ctx,
                "account.identity.link",
                "user",
                &caller.user.0,
                json!({ "connection": stored.connection.name, "connected_account": identity.id }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(identity)
    }

    /// The connections users may connect accounts at: those that keep tokens (token vault).
    pub async fn connected_account_connections(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<crate::upstream::UpstreamConnection>> {
        Ok(self.list_connections(tenant).await?.into_iter().filter(|c| c.token_vault).collect())
    }

    /// The caller's connected accounts (identities at connections that keep tokens), optionally
    /// only at `connections`, `take` at a time after cursor `from`.
    pub async fn list_connected_accounts(
        &self,
        caller: &AccountCaller,
        connections: &[String],
        from: Option<&str>,
        take: usize,
    ) -> Result<ConnectedAccountsPage> {
        let vaulted: Vec<String> =
            self.connected_account_connections(&caller.tenant).await?.into_iter().map(|c| c.id).collect();
        let all: Vec<LinkedIdentity> = self
            .store
            .list_identities(&caller.tenant, &caller.user)
            .await?
            .into_iter()
            .filter(|i| vaulted.contains(&i.connection_id))
            .filter(|i| connections.is_empty() || connections.contains(&i.connection_name))
            .collect();
        Ok(page_after(all, from, take))
    }

    /// Removes one of the caller's identities by id (Auth0's `DELETE
    /// /me/v1/connected-accounts/accounts/{id}`), with its kept tokens.
    pub async fn delete_connected_account(&self, caller: &AccountCaller, id: &str) -> Result<()> {
        let identity = self
            .store
            .list_identities(&caller.tenant, &caller.user)
            .await?
            .into_iter()
            .find(|i| i.id == id)
            .ok_or(Error::NotFound(Entity::Identity))?;
        self.unlink(caller, &identity).await
    }

    /// Unlinks an identity of the caller unless nothing would be left to sign in with (no
    /// username, email or phone, and no other identity).
    async fn unlink(&self, caller: &AccountCaller, identity: &LinkedIdentity) -> Result<()> {
        let sign_in: Vec<String> =
            self.list_connections(&caller.tenant).await?.into_iter().filter(|c| c.sign_in).map(|c| c.id).collect();
        let tx = self.store.begin().await?;
        let user = self.caller_user_in(tx.as_ref(), caller).await?;
        let others: Vec<LinkedIdentity> = tx
            .list_identities(&caller.tenant, &caller.user)
            .await?
            .into_iter()
            .filter(|i| i.id != identity.id)
            .collect();
        // Logto's rule: an identifier must remain (username, email, phone or another identity).
        if super::identifiers::identifiers(&user) + others.len() == 0 {
            return Err(Error::Conflict(ConflictKind::LastIdentifier));
        }
        // Core's rule, as for methods: something must still sign the user in on its own.
        if sign_in.contains(&identity.connection_id) {
            let methods = tx.list_methods(&caller.tenant, &caller.user).await?;
            let first_factor =
                methods.iter().any(|m| crate::authn::credential::counts_as(m.method_type).first_factor());
            if !first_factor && !others.iter().any(|i| sign_in.contains(&i.connection_id)) {
                return Err(Error::Conflict(ConflictKind::LastSignInMethod));
            }
        }
        if !tx.delete_identity(&caller.tenant, &caller.user, &identity.id).await? {
            return Err(Error::NotFound(Entity::Identity));
        }
        tx.insert_audit_event(
            &caller.tenant,
            &AuditEvent::success(
                &caller.ctx,
                "account.identity.unlink",
                "user",
                &caller.user.0,
                json!({ "connection": identity.connection_name, "connected_account": identity.id }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Writes the identity `signed_in` proves for `user`: a new row, or (with `replace`) the
    /// user's row at that connection replaced. Tokens come from the new sign-in; re-linking the
    /// same provider account without new tokens keeps the old ones (Logto's rule).
    async fn save_identity(
        &self,
        tx: &dyn crate::store::Tx,
        tenant: &TenantId,
        user: &UserId,
        stored: &StoredConnection,
        signed_in: SignedIn,
        replace: bool,
    ) -> Result<LinkedIdentity> {
        let subject = signed_in.profile.subject.clone();
        let holder = tx.find_identity_by_subject(tenant, &stored.connection.id, &subject).await?;
        if let Some(h) = &holder
            && h.user_id != *user
        {
            return Err(Error::Conflict(ConflictKind::IdentityTaken));
        }
        let current =
            tx.list_identities(tenant, user).await?.into_iter().find(|i| i.connection_id == stored.connection.id);
        if current.is_some() && !replace {
            return Err(Error::Conflict(ConflictKind::IdentityExists));
        }
        let now = now_millis();
        let id = current.as_ref().map(|c| c.id.clone()).unwrap_or_else(new_identity_id);
        let keep_old = current.as_ref().filter(|c| c.subject == subject && signed_in.tokens.is_none());
        let (sealed_tokens, tokens_expire_at, scopes) = match (&signed_in.tokens, keep_old) {
            (Some(t), _) => (Some(self.seal_tokens(tenant, &id, t)?), tokens_expire_at(t), t.scopes()),
            (None, Some(old)) => (old.sealed_tokens.clone(), old.tokens_expire_at, old.scopes.clone()),
            (None, None) => (None, None, vec![]),
        };
        let identity = LinkedIdentity {
            id,
            user_id: user.clone(),
            connection_id: stored.connection.id.clone(),
            connection_name: stored.connection.name.clone(),
            subject,
            profile: signed_in.profile,
            scopes,
            sealed_tokens,
            tokens_expire_at,
            created_at: current.as_ref().map_or(now, |c| c.created_at),
            updated_at: now,
        };
        if current.is_some() {
            tx.replace_identity(tenant, &identity).await?;
        } else {
            tx.insert_identity(tenant, &identity).await?;
        }
        Ok(identity)
    }

    /// Redeems the provider's code of a social record's step: who signed in, and their tokens
    /// when the connection keeps them.
    async fn redeem_upstream_code(
        &self,
        tenant: &TenantId,
        stored: &StoredConnection,
        social: &SocialState,
        callback: &UpstreamCallback,
    ) -> Result<SignedIn> {
        if callback.error.is_some() {
            return Err(Error::Upstream(crate::error::UpstreamFailure::Refused));
        }
        let code =
            callback.code.as_deref().filter(|c| !c.is_empty()).ok_or_else(|| Error::invalid("code", "is required"))?;
        let secret = self.connection_secret(tenant, stored)?;
        let (profile, tokens) = self
            .upstream
            .exchange_code(
                &stored.connection,
                &secret,
                code,
                &social.redirect_uri,
                &social.code_verifier,
                &social.nonce,
            )
            .await?;
        Ok(SignedIn { profile, tokens: stored.connection.token_vault.then_some(tokens) })
    }

    /// A live social record, its opened state and its sealed state.
    async fn social_record(&self, tenant: &TenantId, id: &str) -> Result<(VerificationRecord, SocialState, String)> {
        let not_found = || Error::NotFound(Entity::VerificationRecord);
        let record = match self.store.find_verification_record(tenant, id, now_millis()).await? {
            Some(r) if r.kind == RecordKind::Social => r,
            _ => return Err(not_found()),
        };
        let sealed = record.code_state.clone().ok_or_else(not_found)?;
        let state: SocialState = serde_json::from_slice(&self.master_key.open(&seal_context(tenant, id), &sealed)?)
            .map_err(anyhow::Error::from)?;
        Ok((record, state, sealed))
    }

    async fn insert_social_record(
        &self,
        tenant: &TenantId,
        user: Option<UserId>,
        social: &SocialState,
    ) -> Result<VerificationRecord> {
        self.insert_social_record_with_id(tenant, random_alnum(21), user, social).await
    }

    async fn insert_social_record_with_id(
        &self,
        tenant: &TenantId,
        id: String,
        user: Option<UserId>,
        social: &SocialState,
    ) -> Result<VerificationRecord> {
        let now = now_millis();
        let record = VerificationRecord {
            code_state: Some(self.seal_social(tenant, &id, social)?),
            id,
            user_id: user,
            kind: RecordKind::Social,
            identifier: Some(social.connection_id.clone()),
            purpose: None,
            verified: false,
            attempts: 0,
            created_at: now,
            expires_at: now + RECORD_LIFETIME_MILLIS,
        };
        self.store.insert_verification_record(tenant, &record).await?;
        Ok(record)
    }

    fn seal_social(&self, tenant: &TenantId, id: &str, social: &SocialState) -> Result<String> {
        let plain = zeroize::Zeroizing::new(serde_json::to_vec(social).map_err(anyhow::Error::from)?);
        self.master_key.seal(&seal_context(tenant, id), &plain)
    }

    fn seal_tokens(&self, tenant: &TenantId, identity: &str, tokens: &UpstreamTokenSet) -> Result<String> {
        let plain = zeroize::Zeroizing::new(serde_json::to_vec(tokens).map_err(anyhow::Error::from)?);
        self.master_key.seal(&token_context(tenant, identity), &plain)
    }

    fn open_tokens(&self, tenant: &TenantId, identity: &str, sealed: &str) -> Result<UpstreamTokenSet> {
        let plain = self.master_key.open(&token_context(tenant, identity), sealed)?;
        Ok(serde_json::from_slice(&plain).map_err(anyhow::Error::from)?)
    }

    async fn audit_identity(
        &self,
        tenant: &TenantId,
        ctx: &Context,
        action: &str,
        user: &UserId,
        connection: &str,
    ) -> Result<()> {
        self.store
            .insert_audit_event(
                tenant,
                &AuditEvent::success(ctx, action, "user", &user.0, json!({ "connection": connection })),
            )
            .await?;
        Ok(())
    }
}

/// What the provider is asked for a social record's step.
fn authorization_request(social: &SocialState) -> AuthorizationRequest {
    AuthorizationRequest {
        redirect_uri: social.redirect_uri.clone(),
        state: social.state.clone(),
        nonce: social.nonce.clone(),
        code_challenge: pkce_s256(&social.code_verifier),
        scopes: social.scopes.clone(),
        extra: social.extra.clone(),
    }
}

/// When kept tokens stop being usable: never while a refresh token is there (as far as we know),
/// else when the access token expires.
fn tokens_expire_at(t: &UpstreamTokenSet) -> Option<Millis> {
    if t.refresh_token.is_some() { None } else { t.expires_at }
}

/// `a=b&c=d`, form-encoded.
fn serde_urlencoded_pairs(pairs: &[(&str, &str)]) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    pairs
        .iter()
        .map(|(k, v)| {
            format!("{}={}", utf8_percent_encode(k, NON_ALPHANUMERIC), utf8_percent_encode(v, NON_ALPHANUMERIC))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The accounts after cursor `from` (an account's id), `take` of them, and the next cursor.
fn page_after(all: Vec<LinkedIdentity>, from: Option<&str>, take: usize) -> ConnectedAccountsPage {
    let start = from.and_then(|f| all.iter().position(|i| i.id == f).map(|p| p + 1)).unwrap_or(0);
    let rest: Vec<LinkedIdentity> = all.into_iter().skip(start).collect();
    let more = rest.len() > take;
    let accounts: Vec<LinkedIdentity> = rest.into_iter().take(take).collect();
    let next = if more { accounts.last().map(|i| i.id.clone()) } else { None };
    ConnectedAccountsPage { accounts, next }
}
