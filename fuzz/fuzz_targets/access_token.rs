//! An access token (`Authorization: Bearer`, introspection, a Token Vault subject token) as
//! accountd verifies it: the compact JWS header, the key its `kid` names, that key's algorithm
//! only, the signature, then the claims' JSON, issuer, audience and times. The first byte picks
//! how the rest becomes a token: as it is; as header, payload and signature segments (split at
//! 0xFF) base64url-encoded, so mutations reach the JSON parsers; as header and payload signed with
//! the tenant's key; as a payload under accountd's own header, signed, so mutations reach the
//! claims checks. None may panic.
#![no_main]
use std::sync::LazyLock;

use accountd_oauth::access_token;
use accountd_oauth::keyring::Verifier;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use libfuzzer_sys::fuzz_target;

const ISSUER: &str = "https://accountd.example/";
const AUDIENCE: &str = "https://api.accountd.example/";

/// The tenant's EdDSA key, which the fuzzer signs with: a fixed seed, so crashes reproduce.
static SIGNER: LazyLock<Ed25519KeyPair> =
    LazyLock::new(|| Ed25519KeyPair::from_seed_unchecked(&[7; 32]).expect("a 32-byte seed is an Ed25519 key"));

/// The tenant's verifiers by `kid`, from public JWKs: the EdDSA key above, and an ES256 key (the
/// P-256 base point) no token is signed with.
static VERIFIERS: LazyLock<[(&str, Verifier); 2]> = LazyLock::new(|| {
    let ed = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#, B64.encode(SIGNER.public_key().as_ref()));
    let es = r#"{"kty":"EC","crv":"P-256","x":"axfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpY","y":"T-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU"}"#;
    [
        ("ed", Verifier::from_public_jwk("EdDSA", &ed).expect("the Ed25519 JWK is usable")),
        ("es", Verifier::from_public_jwk("ES256", es).expect("the P-256 JWK is usable")),
    ]
});

/// accountd's header of the tenant's EdDSA key (what `access_token::mint` writes).
const HEADER: &[u8] = br#"{"typ":"at+jwt","alg":"EdDSA","kid":"ed"}"#;

fn signed(header: &[u8], payload: &[u8]) -> String {
    let input = format!("{}.{}", B64.encode(header), B64.encode(payload));
    let sig = SIGNER.sign(input.as_bytes());
    format!("{input}.{}", B64.encode(sig.as_ref()))
}

/// What `access_token::verify` does once the tenant's key ring is loaded.
fn verify(token: &str, audience: Option<&str>) {
    let Ok(header) = jsonwebtoken::decode_header(token) else { return };
    let Some((_, verifier)) = header.kid.as_deref().and_then(|kid| VERIFIERS.iter().find(|(k, _)| *k == kid)) else {
        return;
    };
    if let Ok(claims) = access_token::verify_signature(verifier, &header, token, ISSUER, audience) {
        let _ = claims.has_scope("read:users");
        let _ = claims.aud.contains(AUDIENCE);
        let _ = serde_json::to_value(&claims);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let mut parts = rest.splitn(3, |&b| b == 0xFF);
    let (a, b, c) =
        (parts.next().unwrap_or_default(), parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let token = match mode % 4 {
        0 => String::from_utf8_lossy(rest).into_owned(),
        1 => format!("{}.{}.{}", B64.encode(a), B64.encode(b), B64.encode(c)),
        2 => signed(a, b),
        _ => signed(HEADER, rest),
    };
    verify(&token, Some(AUDIENCE));
    verify(&token, None);
});
