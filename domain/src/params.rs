//! How many questions of each kind a teacher asks for.

use serde::{Deserialize, Serialize};

/// A parameter the teacher set out of range; `field` is the form/API field name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ParamError {
    pub field: &'static str,
    pub message: String,
}

/// Validated generation parameters. Travel with the uploaded object as user metadata
/// (`n_mcq`, `n_mcq_options`, `n_tfq`, the seed's names) so the generator needs nothing
/// but the object-created event and the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerationParams {
    /// Multiple-choice questions, 0..=20.
    pub mcq: u8,
    /// Options per multiple-choice question, 2..=7.
    pub options: u8,
    /// True/false questions, 0..=20.
    pub true_false: u8,
}

impl Default for GenerationParams {
    fn default() -> Self {
        Self { mcq: 5, options: 4, true_false: 3 }
    }
}

impl GenerationParams {
    pub const MAX_MCQ: u8 = 20;
    pub const MAX_TRUE_FALSE: u8 = 20;
    pub const MIN_OPTIONS: u8 = 2;
    pub const MAX_OPTIONS: u8 = 7;

    /// Parses the three form fields; an absent field takes its default.
    pub fn parse(mcq: Option<&str>, options: Option<&str>, true_false: Option<&str>) -> Result<Self, ParamError> {
        let d = Self::default();
        let mcq = field("mcq", mcq, d.mcq, 0, Self::MAX_MCQ)?;
        let options = field("options", options, d.options, Self::MIN_OPTIONS, Self::MAX_OPTIONS)?;
        let true_false = field("true_false", true_false, d.true_false, 0, Self::MAX_TRUE_FALSE)?;
        Self::new(mcq, options, true_false)
    }

    /// Checks ranges of already-numeric values.
    pub fn new(mcq: u8, options: u8, true_false: u8) -> Result<Self, ParamError> {
        let range = |field, v: u8, lo, hi| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(ParamError { field, message: format!("must be between {lo} and {hi}, got {v}") })
            }
        };
        range("mcq", mcq, 0, Self::MAX_MCQ)?;
        range("options", options, Self::MIN_OPTIONS, Self::MAX_OPTIONS)?;
        range("true_false", true_false, 0, Self::MAX_TRUE_FALSE)?;
        if mcq == 0 && true_false == 0 {
            return Err(ParamError { field: "mcq", message: "ask for at least one question (mcq or true_false above 0)".into() });
        }
        Ok(Self { mcq, options, true_false })
    }

    pub fn total(&self) -> usize {
        usize::from(self.mcq) + usize::from(self.true_false)
    }
}

fn field(name: &'static str, raw: Option<&str>, default: u8, lo: u8, hi: u8) -> Result<u8, ParamError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(default);
    };
    raw.parse::<u8>()
        .ok()
        .filter(|v| (lo..=hi).contains(v))
        .ok_or_else(|| ParamError { field: name, message: format!("must be a whole number between {lo} and {hi}, got {raw:?}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_fields_are_absent() {
        assert_eq!(GenerationParams::parse(None, None, Some("")).unwrap(), GenerationParams { mcq: 5, options: 4, true_false: 3 });
    }

    #[test]
    fn out_of_range_values_name_their_field() {
        assert_eq!(GenerationParams::parse(Some("21"), None, None).unwrap_err().field, "mcq");
        assert_eq!(GenerationParams::parse(None, Some("1"), None).unwrap_err().field, "options");
        assert_eq!(GenerationParams::parse(None, Some("8"), None).unwrap_err().field, "options");
        assert_eq!(GenerationParams::parse(None, None, Some("-1")).unwrap_err().field, "true_false");
        assert_eq!(GenerationParams::parse(None, None, Some("three")).unwrap_err().field, "true_false");
    }

    #[test]
    fn zero_questions_is_refused_but_one_kind_alone_is_fine() {
        let e = GenerationParams::parse(Some("0"), None, Some("0")).unwrap_err();
        assert!(e.message.contains("at least one"));
        assert_eq!(GenerationParams::parse(Some("0"), Some("2"), Some("20")).unwrap().total(), 20);
        assert_eq!(GenerationParams::parse(Some("20"), Some("7"), Some("0")).unwrap().total(), 20);
    }
}
