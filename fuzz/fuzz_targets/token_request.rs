//! `/oauth/token`'s (and `/oauth/revoke`'s, `/oauth/introspect`'s) request: the body, form or
//! JSON by `Content-Type` and screened, and HTTP Basic client credentials (base64, `id:secret`,
//! both form-encoded). The first byte picks the `Content-Type` and how the bytes before a 0xFF
//! become the `Authorization` header: as they are, or base64-encoded after `Basic ` (so mutations
//! reach the credentials' decoding); the rest is the body. None may panic.
#![no_main]
use accountd_http::oidc::token;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

const CONTENT_TYPES: [&str; 5] =
    ["application/x-www-form-urlencoded", "application/json", "Application/JSON; charset=utf-8", "text/plain", ""];

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let (auth, body) = match rest.iter().position(|&b| b == 0xFF) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (&[][..], rest),
    };
    let mut headers = HeaderMap::new();
    let ct = CONTENT_TYPES[usize::from(mode % 5)];
    if !ct.is_empty() {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    let authorization = match (mode / 5) % 3 {
        0 => HeaderValue::from_bytes(auth).ok(),
        1 => HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(auth))).ok(),
        _ => None,
    };
    if let Some(v) = authorization {
        headers.insert(AUTHORIZATION, v);
    }
    let _ = token::parse(&headers, body);
    let _ = token::basic_credentials(&headers);
});
