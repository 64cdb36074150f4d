//! ID tokens (OpenID Connect Core §2), always RS256: the vendors' SPA SDKs accept nothing else.

use accountd_core::authorization::UserGrant;
use accountd_core::origin::Origin;
use base64::Engine;
use jsonwebtoken::Header;
use serde_json::{Map, Value, json};

use crate::access_token::TokenError;
use crate::keyring::KeyRing;

/// Claims about the user that the granted scopes release (shared with `/userinfo`).
pub fn user_claims(user: &accountd_core::user::User, scopes: &[String]) -> Map<String, Value> {
    let mut c = Map::new();
    c.insert("sub".into(), json!(user.id.0));
    let has = |s: &str| scopes.iter().any(|x| x == s);
    if has("profile") {
        let name = user.name.clone().or_else(|| user.email.clone()).or_else(|| user.username.clone());
        let nickname = user.nickname.clone().or_else(|| {
            user.email.as_deref().and_then(|e| e.split('@').next()).map(str::to_string).or(user.username.clone())
        });
        for (k, v) in [
            ("name", name),
            ("given_name", user.given_name.clone()),
            ("family_name", user.family_name.clone()),
            ("nickname", nickname),
            ("picture", user.picture.clone()),
            ("preferred_username", user.username.clone()),
            // Logto's name for it; its SDKs read `username`.
            ("username", user.username.clone()),
        ] {
            if let Some(v) = v {
                c.insert(k.into(), json!(v));
            }
        }
        // Seconds since the epoch (OIDC Core §5.1), which is what the vendors' SDKs parse.
        c.insert("updated_at".into(), json!(user.updated_at / 1000));
    }
    if has("email")
        && let Some(e) = &user.email
    {
        c.insert("email".into(), json!(e));
        c.insert("email_verified".into(), json!(user.email_verified));
    }
    if has("phone")
        && let Some(p) = &user.phone_number
    {
        c.insert("phone_number".into(), json!(p));
        c.insert("phone_number_verified".into(), json!(user.phone_verified));
    }
    c
}

/// `at_hash`: the left half of SHA-256 of the access token, base64url (OIDC Core §3.1.3.6).
pub fn at_hash(access_token: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access_token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&d.as_ref()[..16])
}

/// Signs an ID token for the grant.
pub fn mint(
    ring: &KeyRing,
    origin: &Origin,
    grant: &UserGrant,
    access_token: &str,
    now: i64,
) -> Result<String, TokenError> {
    let signer = ring.signer("RS256").ok_or_else(|| TokenError::NoSigner("RS256".into()))?;
    let mut claims = user_claims(&grant.user, &grant.scope);
    claims.insert("iss".into(), json!(origin.issuer()));
    claims.insert("aud".into(), json!(grant.client_id));
    claims.insert("azp".into(), json!(grant.client_id));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + crate::grants::ID_TOKEN_LIFETIME_SECS));
    claims.insert("auth_time".into(), json!(grant.auth_time));
    claims.insert("sid".into(), json!(grant.session_id));
    claims.insert("at_hash".into(), json!(at_hash(access_token)));
    if !grant.amr.is_empty() {
        claims.insert("amr".into(), json!(grant.amr));
    }
    if let Some(acr) = &grant.acr {
        claims.insert("acr".into(), json!(acr));
    }
    if let Some(n) = &grant.nonce {
        claims.insert("nonce".into(), json!(n));
    }
    let mut header = Header::new(signer.alg);
    header.kid = Some(signer.kid.clone());
    header.typ = Some("JWT".into());
    signer.sign_jws(&header, &claims).ok_or(TokenError::Invalid("signing failed"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn at_hash_known_answer() {
        // OIDC Core appendix A.3 example access token and at_hash.
        assert_eq!(super::at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"), "77QmUPtjPfzWtF2AnpK9RQ");
    }
}
