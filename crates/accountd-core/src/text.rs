//! Which characters text from outside may carry. PostgreSQL cannot store U+0000 in `text` at all
//! (the query fails), and no identifier, id or email address has a control character in it, so
//! every adapter refuses them at the edge by these rules, and core checks formats with them too.

/// How strict a piece of text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chars {
    /// Free text (names, descriptions, metadata values): no control character but tab, CR and LF.
    Text,
    /// Identifiers, ids, emails, object keys and everything in a URL: no control character at all.
    Identifier,
}

impl Chars {
    /// Whether `c` may appear. Control characters are Unicode's `Cc`: U+0000–U+001F, U+007F–U+009F.
    pub fn allows(self, c: char) -> bool {
        !c.is_control() || (self == Chars::Text && matches!(c, '\t' | '\n' | '\r'))
    }

    /// Whether every character of `s` may appear.
    pub fn allow_all(self, s: &str) -> bool {
        s.chars().all(|c| self.allows(c))
    }
}

#[cfg(test)]
mod tests {
    use super::Chars;

    #[test]
    fn text_keeps_line_breaks_and_tabs_identifiers_keep_nothing() {
        for s in ["a\0b", "a\u{1}", "a\u{1b}[31m", "a\u{7f}", "a\u{85}", "a\u{9f}"] {
            assert!(!Chars::Text.allow_all(s), "{s:?}");
            assert!(!Chars::Identifier.allow_all(s), "{s:?}");
        }
        for s in ["line\nbreak", "tab\there", "crlf\r\n"] {
            assert!(Chars::Text.allow_all(s), "{s:?}");
            assert!(!Chars::Identifier.allow_all(s), "{s:?}");
        }
        for s in ["", "ada@example.com", "Ädä Łovelace ✓", "\u{a0}nbsp", "auth0|5f0c"] {
            assert!(Chars::Identifier.allow_all(s), "{s:?}");
        }
    }
}
