//! OpenID Provider metadata, at `/.well-known/openid-configuration` (Auth0's SDKs),
//! `/oidc/.well-known/openid-configuration` (Logto's SDKs) and `/.well-known/oauth-authorization-server`
//! (RFC 8414). The issuer is `{scheme}://{host}/`
//! of the domain the request came in on.

use axum::http::header;
use axum::response::IntoResponse;
use serde_json::json;

use crate::common::tenant::RequestTenant;

/// The discovery document.
pub async fn openid_configuration(rt: RequestTenant) -> impl IntoResponse {
    let base = rt.origin.base_url();
    let doc = json!({
        "issuer": rt.origin.issuer(),
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "introspection_endpoint": format!("{base}/oauth/introspect"),
        "end_session_endpoint": format!("{base}/oidc/logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "form_post", "web_message"],
        "grant_types_supported": super::token::GRANT_TYPES,
        // RFC 9449 §5.1: clients learn here which keys their DPoP proofs may use.
        "dpop_signing_alg_values_supported": accountd_oauth::dpop::ALGS,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
        "revocation_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": accountd_core::authorization::OIDC_SCOPES,
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid", "amr", "acr", "azp",
            "name", "given_name", "family_name", "nickname", "preferred_username", "username", "picture", "updated_at",
            "email", "email_verified", "phone_number", "phone_number_verified"
        ],
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    });
    ([(header::CACHE_CONTROL, "public, max-age=300")], axum::Json(doc))
}
