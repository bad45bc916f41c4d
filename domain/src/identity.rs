//! Who is asking: teacher accounts, the identity a request carries, and who may change an exam.
//!
//! The rules are pure ([`ExamAccess::allows`], [`Email::parse`], [`Password::check`]); storing
//! accounts, hashing passwords and resolving sessions live in `exam_core::identity` and the
//! gateway.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{ExamId, Student};

/// A teacher's stable id (a UUID without dashes), never their email.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TeacherId(String);

impl TeacherId {
    /// Ids are 32 lowercase hex digits; anything else is refused (they appear in keys).
    pub fn parse(s: &str) -> Result<Self, IdentityError> {
        if s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(TeacherId(s.to_owned()))
        } else {
            Err(IdentityError::BadId)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TeacherId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address as a sign-in name: trimmed, lowercased, one `@` with text on both sides,
/// no spaces or control characters, at most 254 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, IdentityError> {
        let t = s.trim().to_lowercase();
        let ok = t.len() <= 254
            && !t.chars().any(|c| c.is_whitespace() || c.is_control())
            && matches!(t.split_once('@'), Some((local, domain)) if !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
        if ok { Ok(Email(t)) } else { Err(IdentityError::BadEmail) }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = IdentityError;
    fn try_from(s: String) -> Result<Self, IdentityError> {
        Self::parse(&s)
    }
}
impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}
impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Rules for a new password: 10 to 1024 characters (NIST SP 800-63B: length, not composition).
pub struct Password;

impl Password {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 1024;

    pub fn check(password: &str) -> Result<(), IdentityError> {
        let n = password.chars().count();
        if n < Self::MIN_CHARS {
            Err(IdentityError::PasswordTooShort)
        } else if n > Self::MAX_CHARS {
            Err(IdentityError::PasswordTooLong)
        } else {
            Ok(())
        }
    }
}

/// A display name for a teacher: 1 to 120 characters after trimming, no control characters.
pub fn parse_name(s: &str) -> Result<String, IdentityError> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > 120 || t.chars().any(char::is_control) { Err(IdentityError::BadName) } else { Ok(t.to_owned()) }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("not a valid account id")]
    BadId,
    #[error("enter an email address such as name@school.example")]
    BadEmail,
    #[error("use at least {} characters", Password::MIN_CHARS)]
    PasswordTooShort,
    #[error("use at most {} characters", Password::MAX_CHARS)]
    PasswordTooLong,
    #[error("enter a name of 1 to 120 characters")]
    BadName,
    #[error("a join code is 8 letters and digits, such as 7KD2-M9QX")]
    BadCode,
}

impl IdentityError {
    /// The form field the error belongs to.
    pub fn field(&self) -> &'static str {
        match self {
            IdentityError::BadId => "id",
            IdentityError::BadEmail => "email",
            IdentityError::PasswordTooShort | IdentityError::PasswordTooLong => "password",
            IdentityError::BadName => "name",
            IdentityError::BadCode => "code",
        }
    }
}

/// A signed-in teacher, as the pages and handlers see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Teacher {
    pub id: TeacherId,
    pub email: Email,
    pub name: String,
}

/// How a request authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// A teacher's session (password or OpenID Connect sign-in).
    Session,
    /// A personal access token.
    Token,
    /// A student who joined with an exam's code and a display name.
    Join,
    /// A student signed in with the institution's OpenID Connect provider.
    Oidc,
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Identity {
    #[default]
    Anonymous,
    Teacher {
        #[serde(flatten)]
        teacher: Teacher,
        via: Via,
    },
    /// A browser that joined exams (with their codes), or a student signed in with OIDC. Each
    /// exam maps to the student the attempts are filed under, unique within that exam.
    Student {
        /// The name the student last gave (or their OIDC name).
        name: String,
        exams: BTreeMap<ExamId, Student>,
        via: Via,
    },
}

impl Identity {
    pub fn teacher(&self) -> Option<&Teacher> {
        match self {
            Identity::Teacher { teacher, .. } => Some(teacher),
            _ => None,
        }
    }

    /// The student this identity is in `exam`, if it joined it.
    pub fn student_in(&self, exam: &ExamId) -> Option<&Student> {
        match self {
            Identity::Student { exams, .. } => exams.get(exam),
            _ => None,
        }
    }
}

/// An exam's join code: 8 characters of Crockford's base32 (no I, L, O or U, so nothing reads
/// as another character), 40 random bits. Typed codes are forgiving: case, spaces and hyphens
/// do not matter, and `I`/`L` read as `1`, `O` as `0` (Crockford's decoding rules).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct JoinCode(String);

impl JoinCode {
    pub const LEN: usize = 8;
    const ALPHABET: &'static [u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    pub fn parse(s: &str) -> Result<Self, IdentityError> {
        let mut out = String::with_capacity(Self::LEN);
        for c in s.chars() {
            let c = match c.to_ascii_uppercase() {
                ' ' | '-' => continue,
                'I' | 'L' => '1',
                'O' => '0',
                c => c,
            };
            if !c.is_ascii() || !Self::ALPHABET.contains(&(c as u8)) || out.len() == Self::LEN {
                return Err(IdentityError::BadCode);
            }
            out.push(c);
        }
        if out.len() == Self::LEN { Ok(JoinCode(out)) } else { Err(IdentityError::BadCode) }
    }

    /// The code of 40 random bits.
    pub fn from_bits(random: [u8; 5]) -> Self {
        let n = random.iter().fold(0u64, |n, b| n << 8 | u64::from(*b));
        let code = (0..Self::LEN).rev().map(|i| Self::ALPHABET[(n >> (5 * i) & 31) as usize] as char).collect();
        JoinCode(code)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `7KD2-M9QX`: easier to read out to a class and to type.
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..4], &self.0[4..])
    }
}

impl TryFrom<String> for JoinCode {
    type Error = IdentityError;
    fn try_from(s: String) -> Result<Self, IdentityError> {
        Self::parse(&s)
    }
}
impl From<JoinCode> for String {
    fn from(c: JoinCode) -> String {
        c.0
    }
}
impl fmt::Display for JoinCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who may see and change an exam: its owner and the teachers it was shared with. Stored as
/// `access/<exam>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExamAccess {
    pub owner: TeacherId,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared_with: Vec<TeacherId>,
}

impl ExamAccess {
    pub fn owned_by(owner: TeacherId) -> Self {
        ExamAccess { owner, shared_with: Vec::new() }
    }

    pub fn allows(&self, teacher: &TeacherId) -> bool {
        &self.owner == teacher || self.shared_with.contains(teacher)
    }
}

/// Who may work on an exam, with names (`GET /api/v1/exams/{id}/access`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessView {
    /// `None` only if the owner's account was removed.
    pub owner: Option<Teacher>,
    pub shared_with: Vec<Teacher>,
}

/// What is listed about a personal access token; never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub expires_at: String,
}

/// One line of the audit log: who did what, when, from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub at: String,
    /// `sign_in`, `sign_in_failed`, `sign_out`, `token_created`, `token_revoked`, `invited`,
    /// `joined`, `setup`, `publish`, `share`, `unshare`.
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<TeacherId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exam: Option<crate::ExamId>,
    /// The client address, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_malformed_ones_refused() {
        assert_eq!(Email::parse("  Ada@School.Example ").unwrap().as_str(), "ada@school.example");
        for bad in ["", "ada", "@x", "ada@", "a b@x", "a@b@c", "a\u{0}@x"] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Email::parse(&format!("{}@x.org", "a".repeat(250))).is_err());
    }

    #[test]
    fn passwords_need_length_not_composition() {
        assert_eq!(Password::check("short"), Err(IdentityError::PasswordTooShort));
        assert!(Password::check("correct horse").is_ok());
        assert!(Password::check("ääääääääää").is_ok(), "ten characters, twenty bytes");
        assert_eq!(Password::check(&"x".repeat(1025)), Err(IdentityError::PasswordTooLong));
    }

    #[test]
    fn ids_are_hex_only_because_they_appear_in_keys() {
        assert!(TeacherId::parse("0123456789abcdef0123456789abcdef").is_ok());
        assert!(TeacherId::parse("../../auth/teachers/x").is_err());
        assert!(TeacherId::parse("0123456789ABCDEF0123456789ABCDEF").is_err());
    }

    #[test]
    fn join_codes_are_crockford_base32_and_forgiving_when_typed() {
        let code = JoinCode::from_bits([0xff, 0x00, 0x12, 0x34, 0x56]);
        assert_eq!(code.as_str().len(), 8);
        assert_eq!(code.as_str(), "ZW014D2P");
        assert_eq!(JoinCode::parse("zw01-4d2p").unwrap(), code, "case and hyphen");
        assert_eq!(JoinCode::parse(" ZWOI 4D2P ").unwrap(), code, "O reads as 0, I as 1");
        assert_eq!(JoinCode::parse("ZW0L4D2P").unwrap(), code, "L reads as 1");
        assert_eq!(code.display(), "ZW01-4D2P");
        for bad in ["", "ZW014D2", "ZW014D2PP", "ZW014D2U", "ZW01/D2P", "ZW014D2\u{e9}"] {
            assert_eq!(JoinCode::parse(bad), Err(IdentityError::BadCode), "{bad:?}");
        }
        assert_ne!(JoinCode::from_bits([0; 5]), JoinCode::from_bits([0, 0, 0, 0, 1]));
        assert_eq!(JoinCode::from_bits([0; 5]).as_str(), "00000000");
    }

    #[test]
    fn a_student_identity_knows_its_exams() {
        let (a, b) = (ExamId::parse("exam-a").unwrap(), ExamId::parse("exam-b").unwrap());
        let who = Identity::Student {
            name: "Ada".into(),
            exams: BTreeMap::from([(a.clone(), Student::parse("Ada (2)").unwrap())]),
            via: Via::Join,
        };
        assert_eq!(who.student_in(&a).map(Student::as_str), Some("Ada (2)"));
        assert_eq!(who.student_in(&b), None);
        assert!(who.teacher().is_none());
        let v = serde_json::to_value(&who).unwrap();
        assert_eq!(v["role"], "student");
        assert_eq!(v["exams"]["exam-a"], "Ada (2)");
        assert_eq!(v["via"], "join");
    }

    #[test]
    fn access_is_the_owner_or_a_sharer() {
        let (a, b, c) = (
            TeacherId::parse(&"a".repeat(32)).unwrap(),
            TeacherId::parse(&"b".repeat(32)).unwrap(),
            TeacherId::parse(&"c".repeat(32)).unwrap(),
        );
        let mut access = ExamAccess::owned_by(a.clone());
        access.shared_with.push(b.clone());
        assert!(access.allows(&a) && access.allows(&b) && !access.allows(&c));
    }

    #[test]
    fn the_identity_serialises_with_its_role() {
        let t = Teacher { id: TeacherId::parse(&"a".repeat(32)).unwrap(), email: Email::parse("a@x").unwrap(), name: "A".into() };
        let v = serde_json::to_value(Identity::Teacher { teacher: t, via: Via::Token }).unwrap();
        assert_eq!(v["role"], "teacher");
        assert_eq!(v["email"], "a@x");
        assert_eq!(serde_json::to_value(Identity::Anonymous).unwrap()["role"], "anonymous");
    }
}
