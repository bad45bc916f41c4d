//! Identifiers, parsed once at the boundary.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{what} must not be empty")]
    Empty { what: &'static str },
    #[error("{what} is longer than {max} characters")]
    TooLong { what: &'static str, max: usize },
    #[error("{what} {}", if what.starts_with("student") { "must not contain control characters (tabs, line breaks)" } else { "may contain only a-z, 0-9, '-' and '_'" })]
    BadChar { what: &'static str },
}

fn check_slug(what: &'static str, s: &str, max: usize) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty { what });
    }
    if s.len() > max {
        return Err(IdError::TooLong { what, max });
    }
    if !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_') {
        return Err(IdError::BadChar { what });
    }
    Ok(())
}

macro_rules! slug_id {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses an untrusted string.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                check_slug($what, s, $max)?;
                Ok(Self(s.to_owned()))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                check_slug($what, &s, $max)?;
                Ok(Self(s))
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }
    };
}

slug_id!(
    /// An exam; also names the uploaded document's folder and the question bank object.
    ExamId, "exam id", 64
);
slug_id!(
    /// A question, unique within its bank (`q1`, `q2`, ...).
    QuestionId, "question id", 32
);
slug_id!(
    /// An option, unique within its question (`a`, `b`, ... or `true`/`false`).
    OptionId, "option id", 32
);

/// The name or e-mail a student enters before taking an exam. Trimmed, 1..=120 characters,
/// no control characters. Two spellings that differ only in case or surrounding space are
/// the same student (see [`Student::key`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Student(String);

impl Student {
    pub const MAX_CHARS: usize = 120;

    /// Invisible characters that make two names look alike while differing: zero-width
    /// spaces and joiners, the word joiner, the byte-order mark, and bidirectional controls
    /// (which can also reorder how a name is shown).
    fn invisible(c: char) -> bool {
        matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{061C}' | '\u{00AD}')
    }

    /// Trims, drops invisible characters and applies NFKC, so `Ａｄａ` (full-width) and
    /// `Ada` with a zero-width space are the student `Ada`, not look-alikes beside her.
    /// (Without the `normalize` feature, in the browser, everything but NFKC: see
    /// domain/Cargo.toml.)
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let visible: String = s.chars().filter(|c| !Self::invisible(*c)).collect();
        #[cfg(feature = "normalize")]
        let visible: String = unicode_normalization::UnicodeNormalization::nfkc(visible.chars()).collect();
        let t = visible.trim();
        if t.is_empty() {
            return Err(IdError::Empty { what: "student name" });
        }
        if t.chars().count() > Self::MAX_CHARS {
            return Err(IdError::TooLong { what: "student name", max: Self::MAX_CHARS });
        }
        if t.chars().any(char::is_control) {
            return Err(IdError::BadChar { what: "student name" });
        }
        Ok(Self(t.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Longest key kept whole. Keys are path segments (`attempts/<exam>/<key>.json`), and a
    /// segment must fit in 255 bytes on common file systems (the embedded store); a 120-character
    /// name in a non-Latin script percent-encodes to over 1,000 bytes.
    pub const MAX_KEY: usize = 240;

    /// A stable, object-key-safe identity: lower-cased, percent-encoded (`[A-Za-z0-9%]`). Past
    /// [`Student::MAX_KEY`] bytes, a readable prefix of whole escapes, `~` (which the encoding
    /// never produces) and 128 bits of the SHA-256 of the whole key: still one key per name,
    /// and no name can be made to collide with another's.
    pub fn key(&self) -> String {
        let lower = self.0.to_lowercase();
        let full = percent_encoding::utf8_percent_encode(&lower, percent_encoding::NON_ALPHANUMERIC).to_string();
        if full.len() <= Self::MAX_KEY {
            return full;
        }
        let mut cut = 200;
        // Not inside a `%XX` escape.
        while cut > 2 && full.as_bytes()[cut - 2..cut].contains(&b'%') {
            cut -= 1;
        }
        use sha2::Digest;
        let digest = sha2::Sha256::digest(full.as_bytes());
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        format!("{}~{hex}", &full[..cut])
    }
}

impl TryFrom<String> for Student {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}
impl From<Student> for String {
    fn from(v: Student) -> String {
        v.0
    }
}
impl fmt::Display for Student {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exam_id_rejects_path_tricks_and_uppercase() {
        assert!(ExamId::parse("../etc").is_err());
        assert!(ExamId::parse("a/b").is_err());
        assert!(ExamId::parse("ABC").is_err());
        assert!(ExamId::parse("").is_err());
        assert!(ExamId::parse(&"a".repeat(65)).is_err());
        assert_eq!(ExamId::parse("019a-bc_1").unwrap().as_str(), "019a-bc_1");
    }

    #[test]
    fn ids_refuse_bad_values_when_deserialised() {
        assert!(serde_json::from_str::<QuestionId>("\"q 1\"").is_err());
        assert_eq!(serde_json::from_str::<OptionId>("\"b\"").unwrap().as_str(), "b");
    }

    #[test]
    fn student_is_trimmed_and_keyed_case_insensitively() {
        let a = Student::parse("  Ada Lovelace ").unwrap();
        let b = Student::parse("ada lovelace").unwrap();
        assert_eq!(a.as_str(), "Ada Lovelace");
        assert_eq!(a.key(), b.key());
        assert!(!a.key().contains('/'));
        assert!(Student::parse("   ").is_err());
        assert!(Student::parse("a\u{0}b").is_err());
        assert!(Student::parse(&"x".repeat(121)).is_err());
        let zoe = Student::parse("zoë@example.org/../x").unwrap();
        assert!(zoe.key().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'%'));
    }

    #[test]
    fn look_alike_names_are_one_student() {
        let ada = Student::parse("Ada").unwrap();
        for alike in ["Ａｄａ", "A\u{200B}da", "\u{202E}Ada", "Ada\u{FEFF}", " ada "] {
            assert_eq!(Student::parse(alike).unwrap().key(), ada.key(), "{alike:?}");
        }
        assert_eq!(Student::parse("Ａｄａ").unwrap().as_str(), "Ada", "shown as normalised");
        assert!(Student::parse("\u{200B}\u{200B}").is_err(), "nothing visible is no name");
        assert_ne!(Student::parse("Zoë").unwrap().key(), Student::parse("Zoe").unwrap().key(), "accents are letters");
    }

    #[test]
    fn long_non_latin_names_get_keys_that_fit_a_file_name_and_stay_distinct() {
        let long = Student::parse(&"漢".repeat(120)).unwrap();
        let other = Student::parse(&format!("{}字", "漢".repeat(119))).unwrap();
        let (a, b) = (long.key(), other.key());
        assert!(a.len() <= Student::MAX_KEY && b.len() <= Student::MAX_KEY, "{} {}", a.len(), b.len());
        assert_ne!(a, b, "names that share the kept prefix still differ");
        assert_eq!(a, Student::parse(&"漢".repeat(120)).unwrap().key(), "stable");
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'%' || c == b'~'), "{a}");
        let prefix = a.split('~').next().unwrap();
        assert!(percent_encoding::percent_decode_str(prefix).decode_utf8().is_ok(), "whole escapes only: {prefix}");
        let short = Student::parse(&"a".repeat(120)).unwrap();
        assert_eq!(short.key(), "a".repeat(120), "short keys are unchanged");
    }
}
