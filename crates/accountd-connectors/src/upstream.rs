//! Upstream identity providers over `openidconnect` (OIDC: discovery, ID-token validation with the
//! nonce, userinfo) and `oauth2` (plain OAuth 2.0 with a JSON user endpoint), through our reqwest
//! client: the crates' own reqwest feature would pull a second reqwest and TLS stack (crates.md).
//!
//! Discovery documents (with their key sets) are kept for [`DISCOVERY_TTL`], so a sign-in costs
//! the provider's token and userinfo calls only. Nothing here logs a token or a code.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use accountd_core::clock::now_millis;
use accountd_core::upstream::{
    AuthorizationRequest, Strategy, UpstreamClient, UpstreamConnection, UpstreamError, UpstreamProfile,
    UpstreamTokenSet,
};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeVerifier, RedirectUrl, RefreshToken, Scope, TokenResponse, TokenUrl, UserInfoUrl,
};
use serde_json::{Map, Value};

/// How long a provider's discovery document and keys are reused.
pub const DISCOVERY_TTL: Duration = Duration::from_secs(300);

/// How long one call to a provider may take.
pub const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(10);

/// An HTTP error of our adapter.
#[derive(Debug)]
pub struct HttpError(String);

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HttpError {}

type HttpFuture<'a> = Pin<Box<dyn Future<Output = Result<openidconnect::HttpResponse, HttpError>> + Send + 'a>>;

/// Our reqwest client, as the HTTP client the OAuth crates call.
#[derive(Clone)]
struct Http(reqwest::Client);

impl<'c> oauth2::AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future = HttpFuture<'c>;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        let http = self.0.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let mut builder = http.request(parts.method, parts.uri.to_string()).timeout(UPSTREAM_TIMEOUT).body(body);
            for (name, value) in parts.headers.iter() {
                builder = builder.header(name, value);
            }
            let res = builder.send().await.map_err(|e| HttpError(e.without_url().to_string()))?;
            let mut out = openidconnect::http::Response::builder().status(res.status().as_u16());
            for (name, value) in res.headers() {
                out = out.header(name.as_str(), value.as_bytes());
            }
            let bytes = res.bytes().await.map_err(|e| HttpError(e.without_url().to_string()))?;
            out.body(bytes.to_vec()).map_err(|e| HttpError(e.to_string()))
        })
    }
}

/// Talks to upstream providers.
pub struct UpstreamProviders {
    http: Http,
    discovery: moka::sync::Cache<String, CoreProviderMetadata>,
}

impl UpstreamProviders {
    /// Over `http`, which must not follow redirects (the OAuth crates' rule against SSRF).
    pub fn new(http: reqwest::Client) -> Self {
        Self {
            http: Http(http),
            discovery: moka::sync::Cache::builder().max_capacity(1_000).time_to_live(DISCOVERY_TTL).build(),
        }
    }

    /// The provider's discovery document, with the connection's explicit endpoints put over it.
    async fn metadata(&self, c: &UpstreamConnection) -> Result<CoreProviderMetadata, UpstreamError> {
        let issuer = c.endpoints.issuer.as_deref().ok_or_else(|| UpstreamError::Unavailable("no issuer".into()))?;
        let mut metadata = match self.discovery.get(issuer) {
            Some(m) => m,
            None => {
                let url = IssuerUrl::new(issuer.to_string()).map_err(|e| UpstreamError::Unavailable(e.to_string()))?;
                let m = CoreProviderMetadata::discover_async(url, &self.http)
                    .await
                    .map_err(|e| UpstreamError::Unavailable(format!("discovery of {issuer}: {e}")))?;
                self.discovery.insert(issuer.to_string(), m.clone());
                m
            }
        };
        let bad = |e: openidconnect::url::ParseError| UpstreamError::Unavailable(e.to_string());
        if let Some(u) = &c.endpoints.authorization_endpoint {
            metadata = metadata.set_authorization_endpoint(AuthUrl::new(u.clone()).map_err(bad)?);
        }
        if let Some(u) = &c.endpoints.token_endpoint {
            metadata = metadata.set_token_endpoint(Some(TokenUrl::new(u.clone()).map_err(bad)?));
        }
        if let Some(u) = &c.endpoints.userinfo_endpoint {
            metadata = metadata.set_userinfo_endpoint(Some(UserInfoUrl::new(u.clone()).map_err(bad)?));
        }
        Ok(metadata)
    }

    /// A plain OAuth 2.0 client for the connection's explicit endpoints.
    fn oauth2_client(
        c: &UpstreamConnection,
        secret: Option<&str>,
        redirect_uri: Option<&str>,
    ) -> Result<
        oauth2::basic::BasicClient<
            oauth2::EndpointSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointSet,
        >,
        UpstreamError,
    > {
        let bad = |what: &str| UpstreamError::Unavailable(format!("the connection's {what} is not a URL"));
        let auth = c.endpoints.authorization_endpoint.clone().ok_or_else(|| bad("authorization endpoint"))?;
        let token = c.endpoints.token_endpoint.clone().ok_or_else(|| bad("token endpoint"))?;
        let mut client = oauth2::basic::BasicClient::new(oauth2::ClientId::new(c.client_id.clone()))
            .set_auth_uri(oauth2::AuthUrl::new(auth).map_err(|_| bad("authorization endpoint"))?)
            .set_token_uri(oauth2::TokenUrl::new(token).map_err(|_| bad("token endpoint"))?);
        if let Some(s) = secret {
            client = client.set_client_secret(oauth2::ClientSecret::new(s.to_string()));
        }
        if let Some(r) = redirect_uri {
            client = client.set_redirect_uri(oauth2::RedirectUrl::new(r.to_string()).map_err(|_| bad("redirect URI"))?);
        }
        Ok(client)
    }

    /// The plain OAuth 2.0 user endpoint's answer, as a profile (`sub`, or GitHub-style `id`).
    async fn oauth2_profile(
        &self,
        c: &UpstreamConnection,
        access_token: &str,
    ) -> Result<UpstreamProfile, UpstreamError> {
        let url = c
            .endpoints
            .userinfo_endpoint
            .as_deref()
            .ok_or_else(|| UpstreamError::Unavailable("no user endpoint".into()))?;
        let res = self
            .http
            .0
            .get(url)
            .bearer_auth(access_token)
            .header("accept", "application/json")
            .timeout(UPSTREAM_TIMEOUT)
            .send()
            .await
            .map_err(|e| UpstreamError::Unavailable(e.without_url().to_string()))?;
        if !res.status().is_success() {
            return Err(UpstreamError::Refused(format!("the user endpoint answered {}", res.status())));
        }
        let raw: Map<String, Value> =
            res.json().await.map_err(|e| UpstreamError::Unavailable(format!("the user endpoint's JSON: {e}")))?;
        profile_from(raw)
            .ok_or_else(|| UpstreamError::Unavailable("the user endpoint names no user (sub or id)".into()))
    }
}

/// A profile from claims: `sub` (or `id`), and the usual names.
fn profile_from(raw: Map<String, Value>) -> Option<UpstreamProfile> {
    let subject = match raw.get("sub").or_else(|| raw.get("id"))? {
        Value::String(s) if !s.is_empty() => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let text = |k: &str| raw.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    Some(UpstreamProfile {
        subject,
        email: text("email"),
        email_verified: raw.get("email_verified").and_then(Value::as_bool).unwrap_or(false),
        name: text("name"),
        picture: text("picture").or_else(|| text("avatar_url")),
        username: text("preferred_username").or_else(|| text("login")),
        raw,
    })
}

/// Our token set from the crates' token response.
fn token_set(t: &impl OAuth2TokenResponse) -> UpstreamTokenSet {
    UpstreamTokenSet {
        access_token: t.access_token().secret().clone(),
        token_type: Some("Bearer".into()),
        refresh_token: t.refresh_token().map(|r| r.secret().clone()),
        scope: t.scopes().map(|s| s.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(" ")),
        expires_at: t.expires_in().map(|d| now_millis() + d.as_millis() as i64),
    }
}

/// How the crates' errors of a token request read: the provider's `error` code, never the body.
fn token_error<RE: std::error::Error + 'static, T: oauth2::ErrorResponse + 'static>(
    e: oauth2::RequestTokenError<RE, T>,
) -> UpstreamError {
    match e {
        oauth2::RequestTokenError::ServerResponse(r) => UpstreamError::Refused(format!("the provider refused: {r}")),
        oauth2::RequestTokenError::Request(e) => UpstreamError::Unavailable(e.to_string()),
        oauth2::RequestTokenError::Parse(e, _) => UpstreamError::Unavailable(format!("the token answer: {e}")),
        oauth2::RequestTokenError::Other(e) => UpstreamError::Unavailable(e),
    }
}

#[async_trait::async_trait]
impl UpstreamClient for UpstreamProviders {
    async fn authorization_url(
        &self,
        c: &UpstreamConnection,
        r: &AuthorizationRequest,
    ) -> Result<String, UpstreamError> {
        let bad_redirect = |_| UpstreamError::Unavailable("the redirect URI is not a URL".into());
        let (state, nonce) = (r.state.clone(), r.nonce.clone());
        let mut url = match c.strategy {
            Strategy::Oidc => {
                let client = CoreClient::from_provider_metadata(
                    self.metadata(c).await?,
                    ClientId::new(c.client_id.clone()),
                    None,
                )
                .set_redirect_uri(RedirectUrl::new(r.redirect_uri.clone()).map_err(bad_redirect)?);
                let mut request = client.authorize_url(
                    CoreAuthenticationFlow::AuthorizationCode,
                    move || CsrfToken::new(state),
                    move || Nonce::new(nonce),
                );
                for s in r.scopes.iter().filter(|s| *s != "openid") {
                    request = request.add_scope(Scope::new(s.clone()));
                }
                request.url().0
            }
            Strategy::Oauth2 => {
                let client = Self::oauth2_client(c, None, Some(&r.redirect_uri))?;
                let mut request = client.authorize_url(move || oauth2::CsrfToken::new(state));
                for s in &r.scopes {
                    request = request.add_scope(oauth2::Scope::new(s.clone()));
                }
                request.url().0
            }
        };
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("code_challenge", &r.code_challenge).append_pair("code_challenge_method", "S256");
            for (k, v) in &r.extra {
                q.append_pair(k, v);
            }
        }
        Ok(url.to_string())
    }

    async fn exchange_code(
        &self,
        c: &UpstreamConnection,
        secret: &str,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
        nonce: &str,
    ) -> Result<(UpstreamProfile, UpstreamTokenSet), UpstreamError> {
        let redirect = RedirectUrl::new(redirect_uri.to_string())
            .map_err(|_| UpstreamError::Unavailable("the redirect URI is not a URL".into()))?;
        match c.strategy {
            Strategy::Oidc => {
                let client = CoreClient::from_provider_metadata(
                    self.metadata(c).await?,
                    ClientId::new(c.client_id.clone()),
                    Some(ClientSecret::new(secret.to_string())),
                );
                let response = client
                    .exchange_code(AuthorizationCode::new(code.to_string()))
                    .map_err(|e| UpstreamError::Unavailable(e.to_string()))?
                    .set_pkce_verifier(PkceCodeVerifier::new(code_verifier.to_string()))
                    .set_redirect_uri(Cow::Owned(redirect))
                    .request_async(&self.http)
                    .await
                    .map_err(token_error)?;
                let id_token =
                    response.id_token().ok_or_else(|| UpstreamError::InvalidIdToken("no ID token".into()))?;
                let claims = id_token
                    .claims(&client.id_token_verifier(), &Nonce::new(nonce.to_string()))
                    .map_err(|e| UpstreamError::InvalidIdToken(e.to_string()))?;
                let mut raw = match serde_json::to_value(claims) {
                    Ok(Value::Object(m)) => m,
                    _ => Map::new(),
                };
                // The ID token of a code flow may carry only `sub`: the rest is at userinfo.
                if let Ok(request) = client.user_info(response.access_token().clone(), Some(claims.subject().clone())) {
                    let info: openidconnect::core::CoreUserInfoClaims = request
                        .request_async(&self.http)
                        .await
                        .map_err(|e| UpstreamError::Unavailable(format!("userinfo: {e}")))?;
                    if let Ok(Value::Object(more)) = serde_json::to_value(&info) {
                        for (k, v) in more {
                            raw.entry(k).or_insert(v);
                        }
                    }
                }
                let profile = profile_from(raw).ok_or_else(|| UpstreamError::InvalidIdToken("no subject".into()))?;
                Ok((profile, token_set(&response)))
            }
            Strategy::Oauth2 => {
                let client = Self::oauth2_client(c, Some(secret), Some(redirect_uri))?;
                let response = client
                    .exchange_code(oauth2::AuthorizationCode::new(code.to_string()))
                    .set_pkce_verifier(oauth2::PkceCodeVerifier::new(code_verifier.to_string()))
                    .request_async(&self.http)
                    .await
                    .map_err(token_error)?;
                let profile = self.oauth2_profile(c, response.access_token().secret()).await?;
                Ok((profile, token_set(&response)))
            }
        }
    }

    async fn refresh(
        &self,
        c: &UpstreamConnection,
        secret: &str,
        refresh_token: &str,
    ) -> Result<UpstreamTokenSet, UpstreamError> {
        let tokens = match c.strategy {
            Strategy::Oidc => {
                let client = CoreClient::from_provider_metadata(
                    self.metadata(c).await?,
                    ClientId::new(c.client_id.clone()),
                    Some(ClientSecret::new(secret.to_string())),
                );
                let r = client
                    .exchange_refresh_token(&RefreshToken::new(refresh_token.to_string()))
                    .map_err(|e| UpstreamError::Unavailable(e.to_string()))?
                    .request_async(&self.http)
                    .await
                    .map_err(token_error)?;
                token_set(&r)
            }
            Strategy::Oauth2 => {
                let client = Self::oauth2_client(c, Some(secret), None)?;
                let r = client
                    .exchange_refresh_token(&oauth2::RefreshToken::new(refresh_token.to_string()))
                    .request_async(&self.http)
                    .await
                    .map_err(token_error)?;
                token_set(&r)
            }
        };
        Ok(tokens)
    }
}
