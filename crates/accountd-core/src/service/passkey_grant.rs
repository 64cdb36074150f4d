//! Native passkey sign-in and sign-up without a browser (spec auth0 §5): `/passkey/challenge`
//! and `/passkey/register` hand out WebAuthn options under an `auth_session`, and the
//! `urn:okta:params:oauth:grant-type:webauthn` grant turns the authenticator's answer into tokens.
//! The grant goes through the same code issuance and exchange as the browser flow, so effective
//! scopes, consent rules, refresh tokens and DPoP binding are the same.

use serde_json::{Value, json};

use super::Core;
use super::signin::{CodeExchange, ExchangeError, GrantError};
use crate::application::Application;
use crate::audit::{AuditEvent, Context};
use crate::authn::credential::{Credential as _, EnrollContext, EnrollProof, EnrollRequest, RelyingParty};
use crate::authn::method::{MethodType, new_method_id};
use crate::authn::pending::PendingPurpose;
use crate::authn::webauthn::WebAuthn;
use crate::authorization::{AuthorizationRequest, ResponseMode, UserGrant};
use crate::clock::now_millis;
use crate::error::{Error, Result};
use crate::origin::Origin;
use crate::secret::hash_high_entropy_secret;
use crate::tenant::TenantId;
use crate::user::{NewUser, User, UserFields, UserId};

/// The grant type of native passkey sign-in.
pub const WEBAUTHN_GRANT: &str = "urn:okta:params:oauth:grant-type:webauthn";

fn refused(d: &'static str) -> ExchangeError {
    ExchangeError::Grant(GrantError::InvalidGrant(d))
}

impl Core {
    /// Only first-party applications allowed the passkey grant may use the native passkey API.
    pub fn check_passkey_client(&self, app: &Application) -> Result<()> {
        if !app.is_first_party || !app.allows_grant(WEBAUTHN_GRANT) {
            return Err(Error::invalid(
                "client_id",
                "the application is not allowed the passkey grant (first-party applications with grant type urn:okta:params:oauth:grant-type:webauthn)",
            ));
        }
        Ok(())
    }

    /// `POST /passkey/register`: creation options for a new account with `profile`.
    pub async fn start_passkey_sign_up(
        &self,
        tenant: &TenantId,
        rp: &RelyingParty,
        profile: UserFields,
    ) -> Result<(Value, String)> {
        let f = profile.clone().validate()?;
        if let Some(email) = &f.email
            && self.find_user_by_email(tenant, email).await?.is_some()
        {
            return Err(Error::invalid("user_profile.email", "a user with this email already exists"));
        }
        if f.email.is_none() && f.username.is_none() && f.phone_number.is_none() {
            return Err(Error::invalid("user_profile", "one of email, username or phone_number is required"));
        }
        let now = now_millis();
        let user = User {
            id: UserId::generate(),
            email: f.email.clone(),
            email_verified: false,
            username: f.username.clone(),
            phone_number: f.phone_number.clone(),
            phone_verified: false,
            name: f.name.clone(),
            given_name: f.given_name.clone(),
            family_name: f.family_name.clone(),
            nickname: f.nickname.clone(),
            picture: f.picture.clone(),
            claims: Default::default(),
            user_metadata: f.user_metadata.clone().unwrap_or_else(|| json!({})),
            app_metadata: json!({}),
            blocked: false,
            created_at: now,
            updated_at: now,
            last_login_at: None,
            logins_count: 0,
        };
        let cx = EnrollContext {
            user: &user,
            rp,
            master_key: &self.master_key,
            existing_key_ids: vec![],
            user_agent: None,
            base_url: "",
        };
        let method_id = new_method_id(MethodType::Passkey);
        let mut begun = WebAuthn.begin(&cx, &EnrollRequest::Passkey { exclude: false }, &method_id).await?;
        // As Auth0's register endpoint: the RP name is the RP ID.
        let crate::authn::credential::EnrollChallenge::WebAuthn { mut options } = begun.challenge else {
            return Err(Error::Internal(anyhow::anyhow!("passkey registration gave no options")));
        };
        options["rp"]["name"] = json!(rp.id);
        begun.state["user"] = serde_json::to_value(UserSnapshot::from(&user)).map_err(anyhow::Error::from)?;
        let token = self
            .insert_new_pending(
                tenant,
                PendingPurpose::PasskeySignUp,
                None,
                (MethodType::Passkey, &method_id),
                &begun.state,
            )
            .await?;
        Ok((options, token))
    }

    /// The webauthn grant: checks the authenticator's answer (sign-in or sign-up) and issues what
    /// the browser flow would for the same client, audience and scope.
    #[expect(clippy::too_many_arguments, reason = "the parameters of a token request")]
    pub async fn passkey_grant(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        origin: &Origin,
        rp: &RelyingParty,
        app: &Application,
        auth_session: &str,
        authn_response: &Value,
        scope: Option<&str>,
        audience: Option<&str>,
        dpop_jkt: Option<&str>,
    ) -> std::result::Result<UserGrant, ExchangeError> {
        self.check_passkey_client(app).map_err(|_| {
            ExchangeError::Grant(GrantError::AccessDenied("The client is not allowed the passkey grant.".into()))
        })?;
        let pending = self
            .store
            .find_pending(tenant, &hash_high_entropy_secret(auth_session), now_millis())
            .await?
            .ok_or_else(|| refused("Invalid or expired auth_session."))?;
        let (user, amr) = match pending.purpose {
            PendingPurpose::PasskeySignIn => {
                let user =
                    self.finish_passkey_sign_in(ctx, tenant, rp, auth_session, authn_response).await.map_err(|e| {
                        match e {
                            Error::BadProof(_) | Error::Invalid(_) => refused("The passkey could not be verified."),
                            e => ExchangeError::Core(e),
                        }
                    })?;
                (user, vec!["hwk".to_string(), "user".into(), "mfa".into()])
            }
            PendingPurpose::PasskeySignUp => {
                if !self.store.take_pending(tenant, &pending.id).await? {
                    return Err(refused("Invalid or expired auth_session."));
                }
                let state = self.open_pending_state(&pending)?;
                let snapshot: UserSnapshot = serde_json::from_value(state["user"].clone())
                    .map_err(|e| ExchangeError::Core(Error::Internal(e.into())))?;
                let user = snapshot.into_user();
                let cx = EnrollContext {
                    user: &user,
                    rp,
                    master_key: &self.master_key,
                    existing_key_ids: vec![],
                    user_agent: ctx.user_agent.as_deref(),
                    base_url: "",
                };
                let method = WebAuthn
                    .finish(&cx, state, EnrollProof::Attestation(authn_response.clone()), &pending.method_id)
                    .await
                    .map_err(|e| match e {
                        Error::BadProof(_) | Error::Invalid(_) => refused("The passkey could not be verified."),
                        e => ExchangeError::Core(e),
                    })?;
                let tx = self.store.begin().await?;
                tx.insert_user(tenant, &NewUser { user: user.clone(), password_hash: None })
                    .await
                    .map_err(|e| ExchangeError::Core(e.into()))?;
                tx.insert_method(tenant, &method).await?;
                tx.insert_audit_event(
                    tenant,
                    &AuditEvent::success(ctx, "user.create", "user", &user.id.0, json!({ "via": "passkey" })),
                )
                .await?;
                tx.commit().await?;
                (user, vec!["hwk".to_string(), "user".into(), "mfa".into()])
            }
            _ => return Err(refused("Invalid or expired auth_session.")),
        };
        let ctx = Context { actor: crate::audit::Actor::User(user.id.0.clone()), ..ctx.clone() };
        let (session, _secret) = self.start_session(&ctx, tenant, &user, amr).await?;
        // One internal code issuance: the same scope, audience and consent rules as /authorize.
        let req = AuthorizationRequest {
            client_id: app.client_id.clone(),
            redirect_uri: String::new(),
            scope: scope.unwrap_or("openid").split_whitespace().map(str::to_string).collect(),
            state: None,
            nonce: None,
            code_challenge: String::new(),
            audience: audience.map(str::to_string),
            response_mode: ResponseMode::Query,
            prompt: None,
            max_age: None,
            login_hint: None,
            require_mfa: false,
        };
        let code = self.issue_code(tenant, origin, &req, &session, false).await.map_err(|e| match e {
            ExchangeError::Grant(GrantError::ConsentRequired(_)) => {
                ExchangeError::Grant(GrantError::AccessDenied("Consent required.".into()))
            }
            e => e,
        })?;
        self.exchange_code(
            tenant,
            origin,
            app,
            CodeExchange { code: &code, redirect_uri: Some(""), code_verifier: None, dpop_jkt },
        )
        .await
    }
}

/// The new account's profile, kept in the sealed sign-up state until the passkey is proven.
#[derive(serde::Serialize, serde::Deserialize)]
struct UserSnapshot {
    id: String,
    email: Option<String>,
    username: Option<String>,
    phone_number: Option<String>,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    nickname: Option<String>,
    picture: Option<String>,
    user_metadata: Value,
}

impl From<&User> for UserSnapshot {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.0.clone(),
            email: u.email.clone(),
            username: u.username.clone(),
            phone_number: u.phone_number.clone(),
            name: u.name.clone(),
            given_name: u.given_name.clone(),
            family_name: u.family_name.clone(),
            nickname: u.nickname.clone(),
            picture: u.picture.clone(),
            user_metadata: u.user_metadata.clone(),
        }
    }
}

impl UserSnapshot {
    fn into_user(self) -> User {
        let now = now_millis();
        User {
            id: UserId(self.id),
            email: self.email,
            email_verified: false,
            username: self.username,
            phone_number: self.phone_number,
            phone_verified: false,
            name: self.name,
            given_name: self.given_name,
            family_name: self.family_name,
            nickname: self.nickname,
            picture: self.picture,
            claims: Default::default(),
            user_metadata: self.user_metadata,
            app_metadata: json!({}),
            blocked: false,
            created_at: now,
            updated_at: now,
            last_login_at: None,
            logins_count: 0,
        }
    }
}
