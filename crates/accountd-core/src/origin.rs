//! The scheme and host a request came in on. Token issuers and the built-in APIs' identifiers follow
//! it, because the vendors' SDKs derive them from the domain they are given (design.md, spec auth0 §9).

use crate::error::{Error, Result};

/// Everything but RFC 3986's unreserved characters is escaped (like JavaScript's
/// `encodeURIComponent`, plus `!*'()`): for ids in paths and values in query strings.
const COMPONENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes one URI component (`totp|dev_1` → `totp%7Cdev_1`).
pub fn encode_component(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, COMPONENT).to_string()
}

/// `{scheme}://{authority}` of a request, e.g. `http://127.0.0.1:8080` or `https://auth.example.com`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: Scheme,
    /// Host and optional port, lowercase, as the client sent it.
    authority: String,
}

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain HTTP (development, or behind a proxy that does not say otherwise).
    Http,
    /// HTTPS.
    Https,
}

impl Scheme {
    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

impl Origin {
    /// An origin from a scheme and a `Host` header value; rejects anything that is not a plain
    /// host name or IP literal with an optional port.
    pub fn new(scheme: Scheme, authority: &str) -> Result<Self> {
        let authority = authority.trim().to_ascii_lowercase();
        split_authority(&authority)?;
        Ok(Self { scheme, authority })
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// Host and port as sent (`127.0.0.1:8080`).
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The host without the port: what tenant domains are matched against.
    pub fn host(&self) -> &str {
        split_authority(&self.authority).map(|(h, _)| h).unwrap_or(&self.authority)
    }

    /// `{scheme}://{authority}` with no trailing slash.
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme.as_str(), self.authority)
    }

    /// The token issuer for this origin: `{scheme}://{authority}/`.
    pub fn issuer(&self) -> String {
        format!("{}/", self.base_url())
    }

    /// The identifier (audience) of the My Account API on this origin: `{scheme}://{authority}/me/`.
    pub fn my_account_audience(&self) -> String {
        format!("{}/me/", self.base_url())
    }

    /// The identifier (audience) of the Management API on this origin: `{scheme}://{authority}/api/v2/`.
    pub fn management_audience(&self) -> String {
        format!("{}/api/v2/", self.base_url())
    }

    /// Whether the host is a loopback name, served over plain HTTP in development.
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(self.host())
    }
}

/// Whether `host` (no port) names this machine.
pub fn is_loopback_host(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "::1")
}

/// Splits `host[:port]` (IPv6 literals in brackets) and checks both parts.
pub fn split_authority(authority: &str) -> Result<(&str, Option<u16>)> {
    let bad = || Error::invalid("host", format!("'{authority}' is not a valid host"));
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let end = rest.find(']').ok_or_else(bad)?;
        let host = &authority[..end + 2];
        match &rest[end + 1..] {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':').ok_or_else(bad)?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(p) => Some(p.parse::<u16>().map_err(|_| bad())?),
        None => None,
    };
    if !is_valid_host(host) {
        return Err(bad());
    }
    Ok((host, port))
}

/// A DNS name (letters, digits, hyphens, dots), an IPv4 literal, or a bracketed IPv6 literal.
pub fn is_valid_host(host: &str) -> bool {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<std::net::Ipv6Addr>().is_ok();
    }
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_follow_the_origin() {
        let o = Origin::new(Scheme::Http, "127.0.0.1:8080").unwrap();
        assert_eq!(o.issuer(), "http://127.0.0.1:8080/");
        assert_eq!(o.my_account_audience(), "http://127.0.0.1:8080/me/");
        assert_eq!(o.management_audience(), "http://127.0.0.1:8080/api/v2/");
        assert_eq!(o.host(), "127.0.0.1");
        let o = Origin::new(Scheme::Https, "Auth.Example.COM").unwrap();
        assert_eq!(o.issuer(), "https://auth.example.com/");
        assert_eq!(o.host(), "auth.example.com");
    }

    #[test]
    fn ipv6_and_bad_hosts() {
        let o = Origin::new(Scheme::Http, "[::1]:8080").unwrap();
        assert_eq!(o.host(), "[::1]");
        assert!(o.is_loopback());
        for bad in ["", "a b", "x:99999", "-a.com", "a..b", "evil.com/path", "[zz]"] {
            assert!(Origin::new(Scheme::Http, bad).is_err(), "{bad} accepted");
        }
    }
}
