//! The password policy of a tenant and its enforcement on a new password. Its serde form is the
//! stored one (inside the tenant's account policy, `tenants.account_policy`), so it must keep
//! deserialising as it always has; each API renders the policy in its own `wire.rs`
//! (`me_v1::wire::PasswordPolicyResponse` is Auth0's `PasswordAuthenticationMethodPolicy`).
//!
//! [`PasswordPolicy::check`] applies every rule but history: earlier passwords are stored only as
//! Argon2 hashes, so the caller verifies the candidate against the last
//! [`PasswordPolicy::history_size`] of them.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

/// The longest password accepted, in Unicode scalar values. Argon2 has no 72-byte limit like
/// bcrypt, but an unbounded input would let anyone make us hash megabytes; 128 is well above what
/// password managers generate. Longer passwords are truncated or refused per
/// [`Complexity::max_length_exceeded`].
pub const MAX_PASSWORD_LENGTH: usize = 128;

/// The most earlier passwords a policy may forbid reusing (Auth0's limit).
pub const MAX_HISTORY_SIZE: u32 = 24;

/// Profile values shorter than this (in Unicode scalar values) are not looked for in a password:
/// a user named "Al" must not be barred from every password containing "al".
pub const MIN_PROFILE_VALUE_LENGTH: usize = 3;

/// How many identical characters may follow each other ("no more than 2 identical characters in a
/// row", as Auth0 words it).
const MAX_IDENTICAL_IN_A_ROW: usize = 2;

/// The common-password ranking, lowercase, most common first; see `data/NOTICE.md`.
const COMMON_PASSWORDS: &str = include_str!("../../data/common-passwords-en.txt");

/// How many entries of [`COMMON_PASSWORDS`] make `en_10k`.
const EN_10K_SIZE: usize = 10_000;

/// Built on first use only, like [`EN_100K`], so a tenant that never asks pays nothing.
static EN_10K: LazyLock<HashSet<&'static str>> = LazyLock::new(|| COMMON_PASSWORDS.lines().take(EN_10K_SIZE).collect());

static EN_100K: LazyLock<HashSet<&'static str>> = LazyLock::new(|| COMMON_PASSWORDS.lines().collect());

/// A password policy: length and character rules, profile data, history and dictionary. All four
/// parts are required in its stored form.
///
/// The default is the one in Auth0's documentation: at least 8 characters of three of the four
/// kinds, no runs, no profile data, none of the last 5 passwords, not among the 10,000 most common.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordPolicy {
    /// Length and character rules.
    pub complexity: Complexity,
    /// Which profile fields a password may not contain.
    pub profile_data: ProfileDataPolicy,
    /// How many earlier passwords may not be reused.
    pub history: HistoryPolicy,
    /// Which list of common passwords is refused.
    pub dictionary: DictionaryPolicy,
}

/// Length and character rules of a [`PasswordPolicy`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Complexity {
    /// The fewest characters (Unicode scalar values), 1 to [`MAX_PASSWORD_LENGTH`].
    pub min_length: u32,
    /// The kinds of characters [`CharacterTypeRule::All`] requires.
    pub character_types: Vec<CharacterType>,
    /// How many of the kinds a password must contain.
    pub character_type_rule: CharacterTypeRule,
    /// Whether more than 2 identical characters in a row are refused.
    pub identical_characters: Restriction,
    /// Whether 3 or more sequential characters ("abc", "321") are refused.
    pub sequential_characters: Restriction,
    /// What happens to a password longer than [`MAX_PASSWORD_LENGTH`].
    pub max_length_exceeded: MaxLengthExceeded,
}

impl Default for Complexity {
    fn default() -> Self {
        Self {
            min_length: 8,
            character_types: CharacterType::ALL.to_vec(),
            character_type_rule: CharacterTypeRule::ThreeOfFour,
            identical_characters: Restriction::Block,
            sequential_characters: Restriction::Block,
            max_length_exceeded: MaxLengthExceeded::Truncate,
        }
    }
}

/// A kind of character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CharacterType {
    /// A lowercase letter, in any script ("a", "é", "ß").
    Lowercase,
    /// An uppercase letter, in any script ("A", "É").
    Uppercase,
    /// A digit or other numeric character ("7", "٣").
    Number,
    /// Any other printable character: punctuation, symbols, spaces, emoji.
    Special,
}

impl CharacterType {
    /// The four kinds, in the order Auth0 lists them.
    pub const ALL: [CharacterType; 4] =
        [CharacterType::Lowercase, CharacterType::Uppercase, CharacterType::Number, CharacterType::Special];

    /// The kind of `c`, or `None` for what is neither printable nor a letter of a case: control
    /// characters, and letters of scripts without case (which still count towards the length).
    pub fn of(c: char) -> Option<Self> {
        if c.is_lowercase() {
            Some(Self::Lowercase)
        } else if c.is_uppercase() {
            Some(Self::Uppercase)
        } else if c.is_numeric() {
            Some(Self::Number)
        } else if c.is_alphanumeric() || c.is_control() {
            None
        } else {
            Some(Self::Special)
        }
    }

    /// Its stored name (the serde form), as configuration errors name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lowercase => "lowercase",
            Self::Uppercase => "uppercase",
            Self::Number => "number",
            Self::Special => "special",
        }
    }

    /// "a lowercase letter", for messages about one missing character.
    fn with_article(self) -> &'static str {
        match self {
            Self::Lowercase => "a lowercase letter",
            Self::Uppercase => "an uppercase letter",
            Self::Number => "a number",
            Self::Special => "a special character (such as !, @, # or a space)",
        }
    }
}

/// How many of the kinds of characters a password must contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CharacterTypeRule {
    /// Every kind listed in [`Complexity::character_types`].
    All,
    /// At least three of the four kinds, whatever [`Complexity::character_types`] lists.
    ThreeOfFour,
}

/// Whether a pattern is allowed in a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Restriction {
    /// Allowed.
    Allow,
    /// Refused.
    Block,
}

/// What happens to a password longer than [`MAX_PASSWORD_LENGTH`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaxLengthExceeded {
    /// Only its first [`MAX_PASSWORD_LENGTH`] characters are checked and kept, as bcrypt-based
    /// servers (Auth0 among them) do silently.
    Truncate,
    /// It is refused with [`PolicyViolation::TooLong`].
    Error,
}

/// The profile-data rule of a [`PasswordPolicy`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileDataPolicy {
    /// Whether the rule applies.
    pub active: bool,
    /// The profile fields a password may not contain.
    pub blocked_fields: Vec<ProfileField>,
}

impl Default for ProfileDataPolicy {
    fn default() -> Self {
        Self { active: true, blocked_fields: vec![ProfileField::Name, ProfileField::Email] }
    }
}

/// A profile field a password may be forbidden to contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileField {
    /// The full name.
    Name,
    /// The email address, and on its own its local part (before the `@`).
    Email,
    /// The username.
    Username,
    /// The given name.
    GivenName,
    /// The family name.
    FamilyName,
    /// The nickname.
    Nickname,
    /// The phone number, and on its own its digits.
    PhoneNumber,
}

impl ProfileField {
    /// Its stored name (the serde form), as configuration errors name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Email => "email",
            Self::Username => "username",
            Self::GivenName => "given_name",
            Self::FamilyName => "family_name",
            Self::Nickname => "nickname",
            Self::PhoneNumber => "phone_number",
        }
    }

    /// How a message to the user names it.
    fn described(self) -> &'static str {
        match self {
            Self::Name => "your name",
            Self::Email => "your email address",
            Self::Username => "your username",
            Self::GivenName => "your first name",
            Self::FamilyName => "your last name",
            Self::Nickname => "your nickname",
            Self::PhoneNumber => "your phone number",
        }
    }
}

/// The history rule of a [`PasswordPolicy`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryPolicy {
    /// Whether the rule applies.
    pub active: bool,
    /// How many earlier passwords may not be reused, 0 to [`MAX_HISTORY_SIZE`].
    pub size: u32,
}

impl Default for HistoryPolicy {
    fn default() -> Self {
        Self { active: true, size: 5 }
    }
}

/// The dictionary rule of a [`PasswordPolicy`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DictionaryPolicy {
    /// Whether the rule applies.
    pub active: bool,
    /// Which list of common passwords is refused.
    pub default: Dictionary,
}

impl Default for DictionaryPolicy {
    fn default() -> Self {
        Self { active: true, default: Dictionary::En10k }
    }
}

/// A list of common passwords, refused whole and in any case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Dictionary {
    /// The 10,000 most common passwords.
    #[serde(rename = "en_10k")]
    En10k,
    /// The 100,000 most common passwords (which include the 10,000).
    #[serde(rename = "en_100k")]
    En100k,
}

impl Dictionary {
    /// Whether `password`, in any case, is on the list. The first call builds the list.
    pub fn contains(self, password: &str) -> bool {
        self.words().contains(password.to_lowercase().as_str())
    }

    fn words(self) -> &'static HashSet<&'static str> {
        match self {
            Self::En10k => &EN_10K,
            Self::En100k => &EN_100K,
        }
    }
}

/// The user's profile, whose fields [`ProfileDataPolicy::blocked_fields`] may forbid in a
/// password. A missing field blocks nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProfileData<'a> {
    /// The full name.
    pub name: Option<&'a str>,
    /// The email address.
    pub email: Option<&'a str>,
    /// The username.
    pub username: Option<&'a str>,
    /// The given name.
    pub given_name: Option<&'a str>,
    /// The family name.
    pub family_name: Option<&'a str>,
    /// The nickname.
    pub nickname: Option<&'a str>,
    /// The phone number.
    pub phone_number: Option<&'a str>,
}

impl<'a> ProfileData<'a> {
    /// The value of `field`, if the user has one.
    pub fn get(&self, field: ProfileField) -> Option<&'a str> {
        match field {
            ProfileField::Name => self.name,
            ProfileField::Email => self.email,
            ProfileField::Username => self.username,
            ProfileField::GivenName => self.given_name,
            ProfileField::FamilyName => self.family_name,
            ProfileField::Nickname => self.nickname,
            ProfileField::PhoneNumber => self.phone_number,
        }
    }
}

/// One rule a password breaks. [`PolicyViolation::detail`] words it for the user; none of them
/// repeats any part of the password, so they are safe to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyViolation {
    /// Fewer than `min` characters.
    TooShort {
        /// The policy's minimum length.
        min: usize,
    },
    /// More than `max` characters, under [`MaxLengthExceeded::Error`].
    TooLong {
        /// [`MAX_PASSWORD_LENGTH`].
        max: usize,
    },
    /// Not enough kinds of characters.
    MissingCharacterTypes {
        /// The rule that was not met.
        rule: CharacterTypeRule,
        /// The kinds the password lacks (under [`CharacterTypeRule::ThreeOfFour`], all it lacks of
        /// the four).
        missing: Vec<CharacterType>,
    },
    /// More than 2 identical characters in a row ("aaa").
    IdenticalCharacters,
    /// 3 or more sequential letters or digits, ascending or descending ("abc", "123", "cba").
    SequentialCharacters,
    /// Contains a blocked profile field.
    ContainsProfileData {
        /// The field it contains.
        field: ProfileField,
    },
    /// On the policy's list of common passwords.
    InDictionary,
}

impl PolicyViolation {
    /// A sentence telling the user what to change.
    pub fn detail(&self) -> String {
        match self {
            Self::TooShort { min } => format!("The password must be at least {min} characters long."),
            Self::TooLong { max } => format!("The password must be at most {max} characters long."),
            Self::MissingCharacterTypes { rule: CharacterTypeRule::All, missing } => {
                let kinds: Vec<&str> = missing.iter().map(|kind| kind.with_article()).collect();
                format!("The password must contain {}.", join_with_and(&kinds))
            }
            Self::MissingCharacterTypes { rule: CharacterTypeRule::ThreeOfFour, .. } => {
                "The password must contain at least three of these four kinds of characters: lowercase letters, \
                 uppercase letters, numbers and special characters (such as !, @, # or a space)."
                    .to_owned()
            }
            Self::IdenticalCharacters => {
                "The password must not contain more than 2 identical characters in a row (such as \"aaa\").".to_owned()
            }
            Self::SequentialCharacters => "The password must not contain 3 or more sequential letters or digits \
                                           (such as \"abc\", \"123\" or \"cba\")."
                .to_owned(),
            Self::ContainsProfileData { field } => format!("The password must not contain {}.", field.described()),
            Self::InDictionary => {
                "The password is too common: it is on a list of frequently used passwords.".to_owned()
            }
        }
    }

    /// A stable machine-readable name, for API error bodies and audit events.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "password_too_short",
            Self::TooLong { .. } => "password_too_long",
            Self::MissingCharacterTypes { .. } => "password_missing_character_types",
            Self::IdenticalCharacters => "password_identical_characters",
            Self::SequentialCharacters => "password_sequential_characters",
            Self::ContainsProfileData { .. } => "password_contains_profile_data",
            Self::InDictionary => "password_in_dictionary",
        }
    }
}

impl fmt::Display for PolicyViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail())
    }
}

impl std::error::Error for PolicyViolation {}

impl PasswordPolicy {
    /// Checks `password` against every rule but history, and gives the password to hash: `password`
    /// itself, or its first [`MAX_PASSWORD_LENGTH`] characters under [`MaxLengthExceeded::Truncate`]
    /// (the rules then apply to what is kept, since only that protects the account; sign-in must
    /// verify [`truncate_to_max_length`] of what the user types). Otherwise gives every rule it
    /// breaks, in the order of the policy's fields.
    pub fn check<'p>(&self, password: &'p str, profile: &ProfileData) -> Result<Cow<'p, str>, Vec<PolicyViolation>> {
        let complexity = &self.complexity;
        let mut violations = Vec::new();

        let kept = truncate_to_max_length(password);
        let kept = if kept.len() == password.len() || complexity.max_length_exceeded == MaxLengthExceeded::Truncate {
            kept
        } else {
            violations.push(PolicyViolation::TooLong { max: MAX_PASSWORD_LENGTH });
            password
        };

        let min = complexity.min_length as usize;
        if kept.chars().count() < min {
            violations.push(PolicyViolation::TooShort { min });
        }
        if let Some(violation) = complexity.character_types_violation(kept) {
            violations.push(violation);
        }
        if complexity.identical_characters == Restriction::Block && has_identical_run(kept) {
            violations.push(PolicyViolation::IdenticalCharacters);
        }
        if complexity.sequential_characters == Restriction::Block && has_sequence(kept) {
            violations.push(PolicyViolation::SequentialCharacters);
        }

        let lowercase = kept.to_lowercase();
        if self.profile_data.active {
            let mut seen = Vec::new();
            for &field in &self.profile_data.blocked_fields {
                if seen.contains(&field) {
                    continue;
                }
                seen.push(field);
                if profile.get(field).is_some_and(|value| contains_profile_value(&lowercase, field, value)) {
                    violations.push(PolicyViolation::ContainsProfileData { field });
                }
            }
        }
        if self.dictionary.active && self.dictionary.default.words().contains(lowercase.as_str()) {
            violations.push(PolicyViolation::InDictionary);
        }

        if violations.is_empty() { Ok(Cow::Borrowed(kept)) } else { Err(violations) }
    }

    /// How many earlier passwords the caller must refuse to reuse: 0 when the history rule is off.
    pub fn history_size(&self) -> usize {
        if self.history.active { self.history.size as usize } else { 0 }
    }

    /// Checks the bounds that JSON alone cannot express, for a policy an administrator sends.
    /// The error names the offending field.
    pub fn validate(&self) -> Result<(), String> {
        let min_length = self.complexity.min_length;
        if !(1..=MAX_PASSWORD_LENGTH).contains(&(min_length as usize)) {
            return Err(format!(
                "complexity.min_length must be between 1 and {MAX_PASSWORD_LENGTH}, not {min_length}."
            ));
        }
        if let Some(kind) = first_duplicate(&self.complexity.character_types) {
            return Err(format!("complexity.character_types lists \"{}\" more than once.", kind.as_str()));
        }
        if let Some(field) = first_duplicate(&self.profile_data.blocked_fields) {
            return Err(format!("profile_data.blocked_fields lists \"{}\" more than once.", field.as_str()));
        }
        if self.history.size > MAX_HISTORY_SIZE {
            return Err(format!("history.size must be between 0 and {MAX_HISTORY_SIZE}, not {}.", self.history.size));
        }
        Ok(())
    }
}

impl Complexity {
    fn character_types_violation(&self, password: &str) -> Option<PolicyViolation> {
        let mut present = [false; 4];
        for kind in password.chars().filter_map(CharacterType::of) {
            present[kind as usize] = true;
        }
        let lacks = |kind: &CharacterType| !present[*kind as usize];
        let (rule, missing): (_, Vec<_>) = match self.character_type_rule {
            CharacterTypeRule::All => {
                let mut missing = Vec::new();
                for kind in self.character_types.iter().filter(|kind| lacks(kind)) {
                    if !missing.contains(kind) {
                        missing.push(*kind);
                    }
                }
                (CharacterTypeRule::All, missing)
            }
            CharacterTypeRule::ThreeOfFour => {
                let missing: Vec<_> = CharacterType::ALL.into_iter().filter(lacks).collect();
                if missing.len() <= 1 {
                    return None;
                }
                (CharacterTypeRule::ThreeOfFour, missing)
            }
        };
        (!missing.is_empty()).then_some(PolicyViolation::MissingCharacterTypes { rule, missing })
    }
}

/// The first [`MAX_PASSWORD_LENGTH`] characters of `password`: what [`PasswordPolicy::check`] keeps
/// under [`MaxLengthExceeded::Truncate`]. Sign-in verifies this, whatever the policy is now: no
/// stored password is longer, so a longer input can only match a truncated one.
pub fn truncate_to_max_length(password: &str) -> &str {
    match password.char_indices().nth(MAX_PASSWORD_LENGTH) {
        Some((cut, _)) => &password[..cut],
        None => password,
    }
}

/// Whether more than [`MAX_IDENTICAL_IN_A_ROW`] equal characters follow each other. Case counts:
/// "aAa" is three different characters.
fn has_identical_run(password: &str) -> bool {
    let mut previous = None;
    let mut run = 0;
    for c in password.chars() {
        run = if previous == Some(c) { run + 1 } else { 1 };
        if run > MAX_IDENTICAL_IN_A_ROW {
            return true;
        }
        previous = Some(c);
    }
    false
}

/// Whether three letters or digits in a row have consecutive code points, up or down, ignoring
/// case ("abc", "XyZ", "987", "αβγ"). Punctuation is left out: "#$%" is not what users mean by a
/// sequence, and a keyboard walk like "qwe" is the dictionary's job.
fn has_sequence(password: &str) -> bool {
    let folded: Vec<u32> =
        password.chars().map(|c| if c.is_alphanumeric() { fold_case(c) as u32 } else { 0 }).collect();
    folded.windows(3).any(|w| {
        let [a, b, c] = [w[0], w[1], w[2]];
        a != 0 && b != 0 && c != 0 && ((b == a + 1 && c == b + 1) || (a == b + 1 && b == c + 1))
    })
}

/// `c` in lowercase, when that is one character (it is for every letter but a few like "İ").
fn fold_case(c: char) -> char {
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// Whether the lowercased password contains `value` of `field`, or one of its forms: without
/// spaces ("John Smith" as "johnsmith"), the local part of an email, the digits of a phone number.
/// Forms shorter than [`MIN_PROFILE_VALUE_LENGTH`] are skipped.
fn contains_profile_value(lowercase_password: &str, field: ProfileField, value: &str) -> bool {
    let value = value.trim().to_lowercase();
    let mut forms = vec![value.replace(char::is_whitespace, "")];
    match field {
        ProfileField::Email => {
            if let Some((local, _domain)) = value.rsplit_once('@') {
                forms.push(local.to_owned());
            }
        }
        ProfileField::PhoneNumber => forms.push(value.chars().filter(char::is_ascii_digit).collect()),
        _ => {}
    }
    forms.push(value);
    forms
        .iter()
        .filter(|form| form.chars().count() >= MIN_PROFILE_VALUE_LENGTH)
        .any(|form| lowercase_password.contains(form.as_str()))
}

fn first_duplicate<T: PartialEq + Copy>(items: &[T]) -> Option<T> {
    items.iter().enumerate().find(|(i, item)| items[..*i].contains(item)).map(|(_, item)| *item)
}

/// "a, b and c".
fn join_with_and(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_EXAMPLE: &str = r#"{
        "complexity": { "min_length": 8, "character_types": ["lowercase","uppercase","number","special"],
                        "character_type_rule": "three_of_four", "identical_characters": "block",
                        "sequential_characters": "block", "max_length_exceeded": "truncate" },
        "profile_data": { "active": true, "blocked_fields": ["name", "email"] },
        "history": { "active": true, "size": 5 },
        "dictionary": { "active": true, "default": "en_10k" }
    }"#;

    /// A password that passes the default policy, to break one rule at a time.
    const GOOD: &str = "Tr0ub4dor&3";

    fn policy() -> PasswordPolicy {
        PasswordPolicy::default()
    }

    fn no_profile() -> ProfileData<'static> {
        ProfileData::default()
    }

    /// Only the rule under test: everything else off.
    fn bare() -> PasswordPolicy {
        PasswordPolicy {
            complexity: Complexity {
                min_length: 1,
                character_types: vec![],
                character_type_rule: CharacterTypeRule::All,
                identical_characters: Restriction::Allow,
                sequential_characters: Restriction::Allow,
                max_length_exceeded: MaxLengthExceeded::Truncate,
            },
            profile_data: ProfileDataPolicy { active: false, blocked_fields: vec![] },
            history: HistoryPolicy { active: false, size: 0 },
            dictionary: DictionaryPolicy { active: false, default: Dictionary::En10k },
        }
    }

    fn violations(policy: &PasswordPolicy, password: &str, profile: &ProfileData) -> Vec<PolicyViolation> {
        policy.check(password, profile).err().unwrap_or_default()
    }

    #[test]
    fn a_good_password_is_kept_as_is() {
        let kept = policy().check(GOOD, &no_profile()).unwrap();
        assert!(matches!(kept, Cow::Borrowed(GOOD)));
    }

    #[test]
    fn json_round_trip_is_the_spec_example() {
        let parsed: PasswordPolicy = serde_json::from_str(SPEC_EXAMPLE).unwrap();
        assert_eq!(parsed, PasswordPolicy::default());
        let spec: serde_json::Value = serde_json::from_str(SPEC_EXAMPLE).unwrap();
        assert_eq!(serde_json::to_value(&parsed).unwrap(), spec);
        // Field order too, for byte-stable responses (no value in the example contains a space).
        let compact: String = SPEC_EXAMPLE.split_whitespace().collect();
        assert_eq!(serde_json::to_string(&parsed).unwrap(), compact);
    }

    #[test]
    fn every_enum_value_round_trips() {
        let mut policy = policy();
        policy.complexity.character_type_rule = CharacterTypeRule::All;
        policy.complexity.identical_characters = Restriction::Allow;
        policy.complexity.sequential_characters = Restriction::Allow;
        policy.complexity.max_length_exceeded = MaxLengthExceeded::Error;
        policy.profile_data.blocked_fields = vec![
            ProfileField::Name,
            ProfileField::Email,
            ProfileField::Username,
            ProfileField::GivenName,
            ProfileField::FamilyName,
            ProfileField::Nickname,
            ProfileField::PhoneNumber,
        ];
        policy.dictionary.default = Dictionary::En100k;
        let json = serde_json::to_value(&policy).unwrap();
        assert_eq!(json["complexity"]["character_type_rule"], "all");
        assert_eq!(json["complexity"]["identical_characters"], "allow");
        assert_eq!(json["complexity"]["max_length_exceeded"], "error");
        assert_eq!(json["dictionary"]["default"], "en_100k");
        assert_eq!(
            json["profile_data"]["blocked_fields"],
            serde_json::json!(["name", "email", "username", "given_name", "family_name", "nickname", "phone_number"])
        );
        for field in &policy.profile_data.blocked_fields {
            assert_eq!(serde_json::to_value(field).unwrap(), field.as_str());
        }
        for kind in CharacterType::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        assert_eq!(serde_json::from_value::<PasswordPolicy>(json).unwrap(), policy);
    }

    #[test]
    fn unknown_fields_missing_parts_and_unknown_values_are_refused() {
        let mut spec: serde_json::Value = serde_json::from_str(SPEC_EXAMPLE).unwrap();
        let refused = |json: &serde_json::Value| serde_json::from_value::<PasswordPolicy>(json.clone()).is_err();

        let mut extra = spec.clone();
        extra["custom"] = serde_json::json!(true);
        assert!(refused(&extra));
        for part in ["complexity", "profile_data", "history", "dictionary"] {
            let mut extra = spec.clone();
            extra[part]["surprise"] = serde_json::json!(1);
            assert!(refused(&extra), "unknown field in {part} accepted");
            let mut missing = spec.clone();
            missing.as_object_mut().unwrap().remove(part);
            assert!(refused(&missing), "missing {part} accepted");
        }
        let mut missing_inner = spec.clone();
        missing_inner["complexity"].as_object_mut().unwrap().remove("min_length");
        assert!(refused(&missing_inner));

        spec["complexity"]["character_types"] = serde_json::json!(["lowercase", "emoji"]);
        assert!(refused(&spec));
        spec["complexity"]["character_types"] = serde_json::json!(["lowercase"]);
        spec["dictionary"]["default"] = serde_json::json!("en_1m");
        assert!(refused(&spec));
        spec["dictionary"]["default"] = serde_json::json!("en_100k");
        spec["profile_data"]["blocked_fields"] = serde_json::json!(["password"]);
        assert!(refused(&spec));
        spec["profile_data"]["blocked_fields"] = serde_json::json!(["username"]);
        assert!(!refused(&spec));
    }

    #[test]
    fn min_length_boundary() {
        let mut policy = bare();
        policy.complexity.min_length = 8;
        assert!(policy.check("abcdefgh", &no_profile()).is_ok());
        assert_eq!(violations(&policy, "abcdefg", &no_profile()), [PolicyViolation::TooShort { min: 8 }]);
        assert_eq!(violations(&policy, "", &no_profile()), [PolicyViolation::TooShort { min: 8 }]);
    }

    #[test]
    fn length_counts_unicode_scalar_values_not_bytes() {
        let mut policy = bare();
        policy.complexity.min_length = 8;
        // 7 characters but 14 bytes.
        assert_eq!(violations(&policy, "ééééééé", &no_profile()), [PolicyViolation::TooShort { min: 8 }]);
        // 8 characters: emoji, CJK and accented letters count one each.
        assert!(policy.check("🔑日本é語ñ🙂x", &no_profile()).is_ok());
    }

    /// `len` characters of a pattern with no runs and no sequences, and all four kinds.
    fn long_password(len: usize) -> String {
        "Aé9!xQz ".chars().cycle().take(len).collect()
    }

    #[test]
    fn too_long_is_truncated_at_a_character_boundary() {
        let policy = policy();
        let exact = long_password(MAX_PASSWORD_LENGTH);
        assert!(matches!(policy.check(&exact, &no_profile()), Ok(Cow::Borrowed(kept)) if kept == exact));

        let long = long_password(MAX_PASSWORD_LENGTH + 50);
        let kept = policy.check(&long, &no_profile()).unwrap();
        assert_eq!(kept.chars().count(), MAX_PASSWORD_LENGTH);
        assert_eq!(kept, exact);
        assert!(long.len() > kept.len() && long.starts_with(&*kept));
        assert_eq!(truncate_to_max_length(&long), kept, "sign-in truncates the same way");
        assert_eq!(truncate_to_max_length(&exact), exact);
    }

    #[test]
    fn rules_apply_to_what_truncation_keeps() {
        let mut policy = bare();
        policy.complexity.character_types = vec![CharacterType::Number];
        // The only digit is past the cut, so the kept password has none.
        let password = format!("{}7", long_password(MAX_PASSWORD_LENGTH).replace('9', "x"));
        assert_eq!(
            violations(&policy, &password, &no_profile()),
            [PolicyViolation::MissingCharacterTypes {
                rule: CharacterTypeRule::All,
                missing: vec![CharacterType::Number]
            }]
        );
    }

    #[test]
    fn too_long_is_refused_under_error() {
        let mut policy = policy();
        policy.complexity.max_length_exceeded = MaxLengthExceeded::Error;
        assert!(policy.check(&long_password(MAX_PASSWORD_LENGTH), &no_profile()).is_ok());
        assert_eq!(
            violations(&policy, &long_password(MAX_PASSWORD_LENGTH + 1), &no_profile()),
            [PolicyViolation::TooLong { max: MAX_PASSWORD_LENGTH }]
        );
    }

    #[test]
    fn three_of_four_needs_three_kinds_whatever_is_listed() {
        let mut policy = bare();
        policy.complexity.character_type_rule = CharacterTypeRule::ThreeOfFour;
        policy.complexity.character_types = vec![CharacterType::Lowercase];
        for ok in ["lowerUPPER", "lower7!"] {
            assert!(policy.check(&format!("{ok}1"), &no_profile()).is_ok(), "{ok}");
        }
        assert!(policy.check("Upper!", &no_profile()).is_ok());
        assert!(policy.check("UPPER1!", &no_profile()).is_ok());
        assert_eq!(
            violations(&policy, "lowerUPPER", &no_profile()),
            [PolicyViolation::MissingCharacterTypes {
                rule: CharacterTypeRule::ThreeOfFour,
                missing: vec![CharacterType::Number, CharacterType::Special]
            }]
        );
        assert_eq!(violations(&policy, "onlylower", &no_profile()).len(), 1);
    }

    #[test]
    fn all_needs_every_listed_kind() {
        let mut policy = bare();
        policy.complexity.character_types = vec![CharacterType::Uppercase, CharacterType::Number];
        assert!(policy.check("ABC7", &no_profile()).is_ok());
        assert_eq!(
            violations(&policy, "abc!", &no_profile()),
            [PolicyViolation::MissingCharacterTypes {
                rule: CharacterTypeRule::All,
                missing: vec![CharacterType::Uppercase, CharacterType::Number]
            }]
        );
        policy.complexity.character_types = CharacterType::ALL.to_vec();
        assert!(policy.check("aB3 ", &no_profile()).is_ok(), "a space is special");
        assert_eq!(violations(&policy, "aB3x", &no_profile()).len(), 1);
        policy.complexity.character_types = vec![];
        assert!(policy.check("x", &no_profile()).is_ok(), "nothing listed, nothing required");
    }

    #[test]
    fn character_kinds_cover_unicode() {
        use CharacterType::*;
        assert_eq!(CharacterType::of('é'), Some(Lowercase));
        assert_eq!(CharacterType::of('ß'), Some(Lowercase));
        assert_eq!(CharacterType::of('Ж'), Some(Uppercase));
        assert_eq!(CharacterType::of('٣'), Some(Number));
        assert_eq!(CharacterType::of('€'), Some(Special));
        assert_eq!(CharacterType::of('🙂'), Some(Special));
        assert_eq!(CharacterType::of(' '), Some(Special));
        assert_eq!(CharacterType::of('\t'), None);
        assert_eq!(CharacterType::of('日'), None);

        let mut policy = bare();
        policy.complexity.character_types = CharacterType::ALL.to_vec();
        assert!(policy.check("ÉtéЖ٣€", &no_profile()).is_ok());
    }

    #[test]
    fn identical_characters_at_most_two_in_a_row() {
        let mut policy = bare();
        policy.complexity.identical_characters = Restriction::Block;
        for ok in ["aabbcc", "aAa", "a1a1a1", "🙂🙂x🙂🙂"] {
            assert!(policy.check(ok, &no_profile()).is_ok(), "{ok}");
        }
        for refused in ["aaa", "xx111yy", "ééé", "end!!!", "🙂🙂🙂"] {
            assert_eq!(
                violations(&policy, refused, &no_profile()),
                [PolicyViolation::IdenticalCharacters],
                "{refused}"
            );
        }
        policy.complexity.identical_characters = Restriction::Allow;
        assert!(policy.check("aaaa", &no_profile()).is_ok());
    }

    #[test]
    fn sequential_characters_three_up_or_down() {
        let mut policy = bare();
        policy.complexity.sequential_characters = Restriction::Block;
        for ok in ["ab1de", "13579", "acegi", "zab", "89a", "!\"#", "ab!c", "xy-z", "ace"] {
            assert!(policy.check(ok, &no_profile()).is_ok(), "{ok}");
        }
        for refused in ["abc", "xx123xx", "cba", "987", "XyZ", "pass-DEF", "αβγ", "zyx"] {
            assert_eq!(
                violations(&policy, refused, &no_profile()),
                [PolicyViolation::SequentialCharacters],
                "{refused}"
            );
        }
        policy.complexity.sequential_characters = Restriction::Allow;
        assert!(policy.check("abc", &no_profile()).is_ok());
    }

    #[test]
    fn profile_fields_are_refused_case_insensitively() {
        let mut policy = bare();
        policy.profile_data =
            ProfileDataPolicy { active: true, blocked_fields: vec![ProfileField::Name, ProfileField::Email] };
        let profile = ProfileData { name: Some("Jane Doe"), email: Some("J.Smith@Example.com"), ..Default::default() };

        assert!(policy.check("correct horse", &profile).is_ok());
        assert_eq!(
            violations(&policy, "myJANEDOE!", &profile),
            [PolicyViolation::ContainsProfileData { field: ProfileField::Name }]
        );
        assert_eq!(
            violations(&policy, "x jane doe x", &profile),
            [PolicyViolation::ContainsProfileData { field: ProfileField::Name }]
        );
        // The whole address, or its local part alone.
        for refused in ["j.smith@example.com", "1J.SMITH1"] {
            assert_eq!(
                violations(&policy, refused, &profile),
                [PolicyViolation::ContainsProfileData { field: ProfileField::Email }],
                "{refused}"
            );
        }
        // Only the fields the policy lists.
        let profile = ProfileData { username: Some("janedoe"), ..Default::default() };
        assert!(policy.check("janedoe", &profile).is_ok());
        policy.profile_data.blocked_fields.push(ProfileField::Username);
        assert_eq!(
            violations(&policy, "janedoe", &profile),
            [PolicyViolation::ContainsProfileData { field: ProfileField::Username }]
        );
        policy.profile_data.active = false;
        assert!(policy.check("janedoe", &profile).is_ok());
    }

    #[test]
    fn short_profile_values_block_nothing() {
        let mut policy = bare();
        policy.profile_data =
            ProfileDataPolicy { active: true, blocked_fields: vec![ProfileField::GivenName, ProfileField::Email] };
        let profile = ProfileData { given_name: Some("Al"), email: Some("al@x.io"), ..Default::default() };
        assert!(policy.check("always-alright", &profile).is_ok());
        // Three characters is enough, counted as characters: "Zoë" is 4 bytes.
        let profile = ProfileData { given_name: Some("Zoë"), ..Default::default() };
        assert_eq!(
            violations(&policy, "iloveZOË", &profile),
            [PolicyViolation::ContainsProfileData { field: ProfileField::GivenName }]
        );
    }

    #[test]
    fn phone_numbers_match_by_digits() {
        let mut policy = bare();
        policy.profile_data = ProfileDataPolicy { active: true, blocked_fields: vec![ProfileField::PhoneNumber] };
        let profile = ProfileData { phone_number: Some("+1 555-010-9999"), ..Default::default() };
        assert_eq!(
            violations(&policy, "call15550109999", &profile),
            [PolicyViolation::ContainsProfileData { field: ProfileField::PhoneNumber }]
        );
        assert!(policy.check("call5550", &profile).is_ok());
    }

    #[test]
    fn each_blocked_field_is_reported_once() {
        let mut policy = bare();
        policy.profile_data =
            ProfileDataPolicy { active: true, blocked_fields: vec![ProfileField::Nickname, ProfileField::Nickname] };
        let profile = ProfileData { nickname: Some("Bobby"), ..Default::default() };
        assert_eq!(
            violations(&policy, "bobbybobby", &profile),
            [PolicyViolation::ContainsProfileData { field: ProfileField::Nickname }]
        );
    }

    #[test]
    fn dictionary_hits_and_misses() {
        let mut policy = bare();
        policy.dictionary.active = true;
        for common in ["password1", "qwerty123", "Password1", "QWERTY123", "trustno1", "123456"] {
            assert_eq!(violations(&policy, common, &no_profile()), [PolicyViolation::InDictionary], "{common}");
        }
        // The whole password, not a substring of it.
        for fine in ["vK3#pq9!Lm", "password1 but longer", GOOD] {
            assert!(policy.check(fine, &no_profile()).is_ok(), "{fine}");
        }
        policy.dictionary.active = false;
        assert!(policy.check("password1", &no_profile()).is_ok());
    }

    #[test]
    fn the_larger_dictionary_holds_more() {
        // Ranked 10,103rd and 88,024th.
        for rarer in ["starwars1", "summer2010"] {
            assert!(!Dictionary::En10k.contains(rarer), "{rarer}");
            assert!(Dictionary::En100k.contains(rarer), "{rarer}");
        }
        assert!(Dictionary::En100k.contains("PASSWORD1"));
    }

    #[test]
    fn dictionaries_are_lowercase_distinct_and_of_the_documented_size() {
        assert_eq!(EN_10K.len(), 10_000);
        assert_eq!(EN_100K.len(), 100_000);
        assert_eq!(COMMON_PASSWORDS.lines().count(), 100_000, "no duplicates");
        assert!(EN_10K.iter().all(|word| EN_100K.contains(word)));
        for word in COMMON_PASSWORDS.lines() {
            assert!(!word.is_empty() && word.trim() == word, "{word:?}");
            assert_eq!(word.to_lowercase(), word);
        }
        assert_eq!(COMMON_PASSWORDS.lines().next(), Some("123456"), "most common first");
    }

    #[test]
    fn every_violation_is_reported() {
        let mut policy = policy();
        policy.complexity.min_length = 12;
        policy.profile_data.blocked_fields = vec![ProfileField::Username];
        let profile = ProfileData { username: Some("XXX123"), ..Default::default() };
        assert_eq!(
            violations(&policy, "xxx123", &profile),
            [
                PolicyViolation::TooShort { min: 12 },
                PolicyViolation::MissingCharacterTypes {
                    rule: CharacterTypeRule::ThreeOfFour,
                    missing: vec![CharacterType::Uppercase, CharacterType::Special]
                },
                PolicyViolation::IdenticalCharacters,
                PolicyViolation::SequentialCharacters,
                PolicyViolation::ContainsProfileData { field: ProfileField::Username },
                PolicyViolation::InDictionary,
            ]
        );
    }

    #[test]
    fn details_are_sentences() {
        assert_eq!(PolicyViolation::TooShort { min: 8 }.detail(), "The password must be at least 8 characters long.");
        assert_eq!(
            PolicyViolation::TooLong { max: MAX_PASSWORD_LENGTH }.to_string(),
            "The password must be at most 128 characters long."
        );
        assert_eq!(
            PolicyViolation::MissingCharacterTypes {
                rule: CharacterTypeRule::All,
                missing: vec![CharacterType::Lowercase, CharacterType::Uppercase, CharacterType::Number]
            }
            .detail(),
            "The password must contain a lowercase letter, an uppercase letter and a number."
        );
        assert_eq!(
            PolicyViolation::ContainsProfileData { field: ProfileField::Email }.detail(),
            "The password must not contain your email address."
        );
        let all = [
            PolicyViolation::MissingCharacterTypes {
                rule: CharacterTypeRule::ThreeOfFour,
                missing: vec![CharacterType::Number, CharacterType::Special],
            },
            PolicyViolation::IdenticalCharacters,
            PolicyViolation::SequentialCharacters,
            PolicyViolation::InDictionary,
        ];
        for violation in all {
            let detail = violation.detail();
            assert!(detail.starts_with("The password ") && detail.ends_with('.'), "{detail}");
            assert!(violation.code().starts_with("password_"));
        }
    }

    #[test]
    fn history_size_is_zero_when_inactive() {
        let mut policy = policy();
        assert_eq!(policy.history_size(), 5);
        policy.history.active = false;
        assert_eq!(policy.history_size(), 0);
    }

    #[test]
    fn validate_bounds() {
        assert_eq!(policy().validate(), Ok(()));
        let with = |change: fn(&mut PasswordPolicy)| {
            let mut policy = policy();
            change(&mut policy);
            policy.validate()
        };
        assert!(with(|p| p.complexity.min_length = 1).is_ok());
        assert!(with(|p| p.complexity.min_length = 128).is_ok());
        assert!(with(|p| p.history.size = 0).is_ok());
        assert!(with(|p| p.history.size = 24).is_ok());
        assert!(with(|p| p.complexity.character_types.clear()).is_ok());

        let refused = |result: Result<(), String>, field: &str| {
            let message = result.unwrap_err();
            assert!(message.starts_with(field), "{message}");
        };
        refused(with(|p| p.complexity.min_length = 0), "complexity.min_length");
        refused(with(|p| p.complexity.min_length = 129), "complexity.min_length");
        refused(with(|p| p.history.size = 25), "history.size");
        refused(with(|p| p.complexity.character_types.push(CharacterType::Number)), "complexity.character_types");
        refused(with(|p| p.profile_data.blocked_fields.push(ProfileField::Name)), "profile_data.blocked_fields");
    }
}
