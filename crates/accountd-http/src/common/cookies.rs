//! Reading and setting cookies (only what the sign-in pages need). Over https every cookie is a
//! `__Host-` cookie (Secure, `Path=/`, no `Domain`): a sibling subdomain or a network attacker on
//! plain http cannot set or overwrite it. Over plain http (development) the plain name is used.

use axum::http::{HeaderMap, HeaderValue, header};

/// The name cookie `name` has on this scheme.
fn full_name(name: &str, secure: bool) -> String {
    if secure { format!("__Host-{name}") } else { name.to_string() }
}

/// The value of cookie `name` (its `__Host-` form over https), if the request carries it.
pub fn get(headers: &HeaderMap, name: &str, secure: bool) -> Option<String> {
    let name = full_name(name, secure);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax; over https `__Host-`, Secure and `Path=/`
/// (whatever `path` says); `max_age` 0 deletes it.
pub fn set(name: &str, value: &str, path: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let (name, path, flag) =
        if secure { (full_name(name, true), "/", "; Secure") } else { (name.to_string(), path, "") };
    HeaderValue::from_str(&format!("{name}={value}; Path={path}; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{flag}"))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}
