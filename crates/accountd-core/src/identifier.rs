//! Rules for the identifiers a user signs in with (username, email, phone), the same in both
//! dialects: the username rules, the tenant's email block- and allow-lists, and phone numbers.

use serde::{Deserialize, Serialize};

use crate::error::{Error, FieldError, Result};

/// Longest username.
pub const USERNAME_MAX_CHARS: usize = 128;

/// What is wrong with a username, in Logto's words (`user.username_<violation>`), or `None`.
/// Letters, digits and `_+-.!#$'^`~@` are allowed (Auth0's set), not starting with a digit.
pub fn username_violation(u: &str) -> Option<&'static str> {
    if u.is_empty() {
        return Some("required");
    }
    if u.starts_with(|c: char| c.is_ascii_digit()) {
        return Some("starts_with_number");
    }
    if !u.chars().all(|c| c.is_ascii_alphanumeric() || "_+-.!#$'^`~@".contains(c)) {
        return Some("invalid_charset_hard");
    }
    if u.chars().count() > USERNAME_MAX_CHARS {
        return Some("too_long");
    }
    None
}

/// The tenant's rules for email addresses users add to their accounts: an entry is an address
/// (`ada@example.com`), a domain (`@example.com`) or a pattern with `*` wildcards
/// (`*@*.example.com`), compared case-insensitively. A non-empty allow-list refuses every
/// address it does not match; the block-list refuses what it matches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailPolicy {
    /// Addresses, domains or patterns refused.
    pub blocklist: Vec<String>,
    /// When not empty, the only addresses, domains or patterns accepted.
    pub allowlist: Vec<String>,
}

impl EmailPolicy {
    /// Whether `email` (normalised) may be added.
    pub fn allows(&self, email: &str) -> bool {
        let email = email.to_lowercase();
        let hit = |entry: &String| entry_matches(&entry.to_lowercase(), &email);
        let allowed = self.allowlist.is_empty() || self.allowlist.iter().any(hit);
        allowed && !self.blocklist.iter().any(hit)
    }

    /// Checks the lists an administrator gives.
    pub fn validate(&self) -> Result<()> {
        let mut errors = Vec::new();
        for (name, list) in [("blocklist", &self.blocklist), ("allowlist", &self.allowlist)] {
            if list.len() > 1000 || list.iter().any(|e| e.trim().is_empty() || e.len() > 254) {
                errors.push(FieldError::new(
                    format!("email_policy.{name}"),
                    "must hold at most 1000 non-empty entries of at most 254 characters",
                ));
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(Error::Invalid(errors)) }
    }
}

/// `@example.com` matches the domain; otherwise the whole address, `*` matching any run.
fn entry_matches(entry: &str, email: &str) -> bool {
    if let Some(domain) = entry.strip_prefix('@') {
        return email.rsplit_once('@').is_some_and(|(_, d)| d == domain);
    }
    wildcard(entry.as_bytes(), email.as_bytes())
}

/// Glob match with `*` only, iterative (no backtracking blow-up).
fn wildcard(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si, mut star, mut mark) = (0, 0, None, 0);
    while si < s.len() {
        if pi < p.len() && p[pi] != b'*' && p[pi] == s[si] {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// A phone number in the stored E.164 form: `+` and 8 to 15 digits, from digits with or without
/// the `+` (Logto sends digits only).
pub fn normalize_phone(raw: &str) -> Option<String> {
    let digits = raw.strip_prefix('+').unwrap_or(raw);
    let ok = (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
    ok.then(|| format!("+{digits}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(username_violation(""), Some("required"));
        assert_eq!(username_violation("1ada"), Some("starts_with_number"));
        assert_eq!(username_violation("ada lovelace"), Some("invalid_charset_hard"));
        assert_eq!(username_violation(&"a".repeat(129)), Some("too_long"));
        assert_eq!(username_violation("ada_1815"), None);
    }

    #[test]
    fn email_lists_match_exactly_by_domain_and_by_pattern_ignoring_case() {
        let p = EmailPolicy {
            blocklist: vec!["Spam@Example.com".into(), "*@*.evil.test".into(), "@throwaway.test".into()],
            allowlist: vec![],
        };
        assert!(!p.allows("spam@example.com"));
        assert!(!p.allows("x@mail.EVIL.test"));
        assert!(!p.allows("x@throwaway.test"));
        assert!(p.allows("x@evil.test"));
        assert!(p.allows("ada@example.com"));
        let only = EmailPolicy { blocklist: vec![], allowlist: vec!["*@corp.example".into()] };
        assert!(only.allows("ada@corp.example"));
        assert!(!only.allows("ada@example.com"));
        assert!(wildcard(b"a*b*c", b"axxbyyc") && !wildcard(b"a*b*c", b"axxbyy"));
    }

    #[test]
    fn phones() {
        assert_eq!(normalize_phone("8613712345678").as_deref(), Some("+8613712345678"));
        assert_eq!(normalize_phone("+14155550100").as_deref(), Some("+14155550100"));
        assert_eq!(normalize_phone("0123"), None);
        assert_eq!(normalize_phone("+1 415"), None);
    }
}
