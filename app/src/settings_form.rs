//! The teacher's settings form ↔ the settings JSON of `PUT /api/v1/exams/{id}/settings`.
//!
//! Pure, so it runs on the server (the form's server function) and is unit-tested without a
//! browser. Times: the form has `datetime-local` inputs (the teacher's local time, no zone) and
//! a hidden `tz_offset_minutes` the hydrated page fills with `Date.getTimezoneOffset()`; without
//! JavaScript it stays 0 and the form says its times are UTC.

use exam_domain::ExamSettings;
use exam_domain::sitting::{format_time, parse_time};
use serde_json::{Value, json};

/// The form's fields, as the browser sends them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Form {
    pub time_limit_minutes: String,
    pub grace_secs: String,
    pub opens_at: String,
    pub closes_at: String,
    pub tz_offset_minutes: String,
    pub attempts_allowed: String,
    pub grade: String,
    pub shuffle_questions: bool,
    pub shuffle_options: bool,
    pub require_sign_in: bool,
    pub review_show: String,
    pub review_when: String,
    pub pass_mark: String,
}

/// `(field, message)` for the first field that cannot be read; field names are the form's.
pub type FormError = (&'static str, String);

fn number(field: &'static str, raw: &str) -> Result<Option<f64>, FormError> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<f64>().ok().filter(|n| n.is_finite() && *n >= 0.0).map(Some).ok_or((field, "enter a number (or leave it empty)".into()))
}

fn whole(field: &'static str, raw: &str) -> Result<Option<u64>, FormError> {
    match number(field, raw)? {
        Some(n) if n.fract() == 0.0 => Ok(Some(n as u64)),
        Some(_) => Err((field, "enter a whole number".into())),
        None => Ok(None),
    }
}

/// `2026-12-01T09:30` in local time, `offset` minutes behind UTC → RFC 3339 UTC.
pub fn local_to_utc(field: &'static str, raw: &str, offset_minutes: i64) -> Result<Option<String>, FormError> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let with_seconds = if t.len() == 16 { format!("{t}:00Z") } else { format!("{t}Z") };
    let local = parse_time(&with_seconds).ok_or((field, "enter a date and time".into()))?;
    let shift = std::time::Duration::from_secs(offset_minutes.unsigned_abs() * 60);
    let utc = if offset_minutes >= 0 { local.checked_add(shift) } else { local.checked_sub(shift) };
    utc.map(|u| Some(format_time(u))).ok_or((field, "that time is out of range".into()))
}

/// RFC 3339 UTC → the `datetime-local` value in a zone `offset` minutes behind UTC.
pub fn utc_to_local(rfc3339: &str, offset_minutes: i64) -> String {
    let Some(t) = parse_time(rfc3339) else { return String::new() };
    let shift = std::time::Duration::from_secs(offset_minutes.unsigned_abs() * 60);
    let local = if offset_minutes >= 0 { t.checked_sub(shift) } else { t.checked_add(shift) };
    local.map(|l| format_time(l).chars().take(16).collect()).unwrap_or_default()
}

/// The JSON for `ExamSettings::apply_json`: every field of the form, empty ones as `null`.
pub fn to_json(f: &Form) -> Result<Value, FormError> {
    let offset = f.tz_offset_minutes.trim().parse::<i64>().unwrap_or(0).clamp(-16 * 60, 16 * 60);
    let limit = number("time_limit_minutes", &f.time_limit_minutes)?.map(|m| (m * 60.0).round() as u64);
    if limit == Some(0) {
        return Err(("time_limit_minutes", "enter at least 1 minute, or leave it empty for no limit".into()));
    }
    let mut body = json!({
        "time_limit_secs": limit,
        "opens_at": local_to_utc("opens_at", &f.opens_at, offset)?,
        "closes_at": local_to_utc("closes_at", &f.closes_at, offset)?,
        "attempts_allowed": whole("attempts_allowed", &f.attempts_allowed)?,
        "shuffle_questions": f.shuffle_questions,
        "shuffle_options": f.shuffle_options,
        "require_sign_in": f.require_sign_in,
        "review": {"show": f.review_show.trim(), "when": f.review_when.trim()},
    });
    if let Some(g) = whole("grace_secs", &f.grace_secs)? {
        body["grace_secs"] = json!(g);
    }
    if let Some(p) = whole("pass_mark", &f.pass_mark)? {
        body["pass_mark"] = json!(p);
    }
    if !f.grade.trim().is_empty() {
        body["grade"] = json!(f.grade.trim());
    }
    Ok(body)
}

/// The form filled in from stored settings (times shown in the zone `offset` minutes behind UTC).
pub fn from_settings(s: &ExamSettings, offset_minutes: i64) -> Form {
    let fmt_minutes = |secs: u32| {
        let m = f64::from(secs) / 60.0;
        if m.fract() == 0.0 { format!("{m:.0}") } else { format!("{m:.2}") }
    };
    Form {
        time_limit_minutes: s.time_limit_secs.map(fmt_minutes).unwrap_or_default(),
        grace_secs: s.grace_secs.to_string(),
        opens_at: s.opens_at.as_deref().map(|t| utc_to_local(t, offset_minutes)).unwrap_or_default(),
        closes_at: s.closes_at.as_deref().map(|t| utc_to_local(t, offset_minutes)).unwrap_or_default(),
        tz_offset_minutes: offset_minutes.to_string(),
        attempts_allowed: s.attempts_allowed.map(|n| n.to_string()).unwrap_or_default(),
        grade: serde_plain(&s.grade),
        shuffle_questions: s.shuffle_questions,
        shuffle_options: s.shuffle_options,
        require_sign_in: s.require_sign_in,
        review_show: serde_plain(&s.review.show),
        review_when: serde_plain(&s.review.when),
        pass_mark: s.pass_mark.to_string(),
    }
}

fn serde_plain<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// Splits a server function's `field: message` error into the field and the message.
pub fn field_error(message: &str) -> Option<(&str, &str)> {
    let (field, rest) = message.split_once(": ")?;
    field.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '.').then_some((field, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> Form {
        Form {
            time_limit_minutes: "15".into(),
            grace_secs: "30".into(),
            opens_at: "2026-12-01T09:00".into(),
            closes_at: "".into(),
            tz_offset_minutes: "-60".into(),
            attempts_allowed: "2".into(),
            grade: "latest".into(),
            shuffle_questions: true,
            shuffle_options: false,
            require_sign_in: true,
            review_show: "score".into(),
            review_when: "on_release".into(),
            pass_mark: "60".into(),
        }
    }

    #[test]
    fn the_form_becomes_settings_with_local_times_in_utc() {
        let body = to_json(&form()).unwrap();
        let mut s = ExamSettings::defaults(50);
        s.apply_json(&body).unwrap();
        assert_eq!(s.time_limit_secs, Some(900));
        // UTC+1 (getTimezoneOffset = -60): 09:00 local is 08:00 UTC.
        assert_eq!(s.opens_at.as_deref(), Some("2026-12-01T08:00:00.000Z"));
        assert_eq!((s.attempts_allowed, s.pass_mark, s.shuffle_questions), (Some(2), 60, true));
        assert_eq!(from_settings(&s, -60), Form { tz_offset_minutes: "-60".into(), ..form() });
    }

    #[test]
    fn empty_fields_clear_and_bad_ones_are_named() {
        let cleared = to_json(&Form { time_limit_minutes: "".into(), attempts_allowed: " ".into(), ..form() }).unwrap();
        assert!(cleared["time_limit_secs"].is_null() && cleared["attempts_allowed"].is_null());
        assert_eq!(to_json(&Form { time_limit_minutes: "ten".into(), ..form() }).unwrap_err().0, "time_limit_minutes");
        assert_eq!(to_json(&Form { time_limit_minutes: "0".into(), ..form() }).unwrap_err().0, "time_limit_minutes");
        assert_eq!(to_json(&Form { attempts_allowed: "1.5".into(), ..form() }).unwrap_err().0, "attempts_allowed");
        assert_eq!(to_json(&Form { closes_at: "tomorrow".into(), ..form() }).unwrap_err().0, "closes_at");
        assert_eq!(
            field_error("review.show: expected one of score, answers, correct"),
            Some(("review.show", "expected one of score, answers, correct"))
        );
        assert_eq!(field_error("The exam is closed: sorry"), None);
    }
}
