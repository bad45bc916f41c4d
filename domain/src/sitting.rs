//! How an exam is sat: time limit, open/close window, attempts, shuffling, review policy and
//! pass mark ([`ExamSettings`]), per-student accommodations ([`StudentOverride`]), and the pure
//! rules over them ([`Sitting`]): window state, attempts allowed, the effective deadline of an
//! attempt, whether results may be shown, and what a student may see of a submission
//! ([`StudentReport`]).
//!
//! Rules (enforced in `exam_core::attempts`, computed here):
//! * An attempt keeps the time limit, grace period and question/option order it opened with.
//!   The window, the release of results and the accommodations apply at once, also to running
//!   attempts.
//! * Effective deadline = start + limit × multiplier + extra time, but never after the
//!   (student's) close time. Answers are accepted until deadline + grace; an attempt whose
//!   deadline + grace has passed is submitted by the server.
//! * Until [`Sitting::results_visible`], nothing a student receives carries a score or a key.
//!
//! Times are RFC 3339 strings in records and on the wire (UTC, `Z`); offsets such as `+02:00`
//! are accepted on input and normalised to UTC. No clock is read here: callers pass `now`.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::bank::{ExamPaper, PaperQuestion, QuestionBank, QuestionKind, SourceRef};
use crate::ids::{ExamId, OptionId, QuestionId, Student};
use crate::records::{AttemptState, SubmissionRecord};

pub const DEFAULT_GRACE_SECS: u32 = 30;
/// Longest time limit: a week.
pub const MAX_TIME_LIMIT_SECS: u32 = 7 * 24 * 3600;
pub const MAX_GRACE_SECS: u32 = 3600;
pub const MAX_ATTEMPTS: u32 = 1000;
pub const MAX_MULTIPLIER: f64 = 10.0;

pub fn default_grace() -> u32 {
    DEFAULT_GRACE_SECS
}

/// Which of a student's graded attempts counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GradePolicy {
    #[default]
    Highest,
    Latest,
    First,
}

/// What a student sees of a submission once results are visible.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewShow {
    /// Score and pass/fail only.
    Score,
    /// Score and the student's own answers, without saying which are right.
    Answers,
    /// Everything: the correct answers, sources and explanations too.
    #[default]
    Correct,
}

/// When results become visible to students.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewWhen {
    #[default]
    Immediately,
    /// Once the exam's close time has passed (or the teacher closed it early).
    AfterClose,
    /// When the teacher releases results.
    OnRelease,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewPolicy {
    pub show: ReviewShow,
    pub when: ReviewWhen,
}

/// How an exam is sat. The defaults are the practice-quiz behaviour of exams created before
/// settings existed: no limit, always open, unlimited attempts, canonical order, everything
/// shown immediately.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExamSettings {
    pub time_limit_secs: Option<u32>,
    pub grace_secs: u32,
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    /// `None`: unlimited.
    pub attempts_allowed: Option<u32>,
    pub grade: GradePolicy,
    pub shuffle_questions: bool,
    pub shuffle_options: bool,
    pub review: ReviewPolicy,
    /// Percent, 0–100.
    pub pass_mark: u8,
    /// Students must sign in with the institution's OpenID Connect provider to join; a code
    /// and a display name are not enough.
    #[serde(default)]
    pub require_sign_in: bool,
}

impl ExamSettings {
    pub fn defaults(pass_mark: u8) -> Self {
        ExamSettings {
            time_limit_secs: None,
            grace_secs: DEFAULT_GRACE_SECS,
            opens_at: None,
            closes_at: None,
            attempts_allowed: None,
            grade: GradePolicy::default(),
            shuffle_questions: false,
            shuffle_options: false,
            review: ReviewPolicy::default(),
            pass_mark,
            require_sign_in: false,
        }
    }

    /// Applies a JSON object of settings (`PUT /api/v1/exams/{id}/settings`). Fields left out
    /// keep their current value; `null` clears an optional one. Unknown fields are refused, so
    /// a typo is not silently ignored. The first problem found names its field.
    pub fn apply_json(&mut self, body: &Value) -> Result<(), FieldError> {
        let obj = body.as_object().ok_or_else(|| FieldError::new("settings", "expected a JSON object"))?;
        let mut next = self.clone();
        for (name, v) in obj {
            match name.as_str() {
                "time_limit_secs" => next.time_limit_secs = opt_u32(name, v, 1, MAX_TIME_LIMIT_SECS)?,
                "grace_secs" => next.grace_secs = req_u32(name, v, 0, MAX_GRACE_SECS)?,
                "opens_at" => next.opens_at = opt_time(name, v)?,
                "closes_at" => next.closes_at = opt_time(name, v)?,
                "attempts_allowed" => next.attempts_allowed = opt_u32(name, v, 1, MAX_ATTEMPTS)?,
                "grade" => next.grade = enum_value(name, v, &["highest", "latest", "first"])?,
                "shuffle_questions" => next.shuffle_questions = boolean(name, v)?,
                "shuffle_options" => next.shuffle_options = boolean(name, v)?,
                "require_sign_in" => next.require_sign_in = boolean(name, v)?,
                "pass_mark" => next.pass_mark = u8::try_from(req_u32(name, v, 0, 100)?).unwrap_or(100),
                "review" => {
                    let r = v.as_object().ok_or_else(|| FieldError::new("review", "expected an object {\"show\", \"when\"}"))?;
                    for (k, rv) in r {
                        match k.as_str() {
                            "show" => next.review.show = enum_value("review.show", rv, &["score", "answers", "correct"])?,
                            "when" => next.review.when = enum_value("review.when", rv, &["immediately", "after_close", "on_release"])?,
                            other => return Err(FieldError::new(format!("review.{other}"), "unknown field")),
                        }
                    }
                }
                other => return Err(FieldError::new(other, "unknown field")),
            }
        }
        check_window(next.opens_at.as_deref(), next.closes_at.as_deref())?;
        *self = next;
        Ok(())
    }
}

/// Per-student accommodations. Each field left unset keeps the exam's rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StudentOverride {
    /// Added to the time limit (also given live by "extend time").
    #[serde(default, skip_serializing_if = "is_zero")]
    pub extra_time_secs: u32,
    /// Multiplies the exam's time limit (e.g. 1.25 for 25 % extra time), 1–10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_multiplier: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opens_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closes_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_allowed: Option<u32>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl StudentOverride {
    /// Reads a whole override (`PUT /api/v1/exams/{id}/overrides/{student}`): fields left out
    /// are unset.
    pub fn from_json(body: &Value) -> Result<Self, FieldError> {
        let obj = body.as_object().ok_or_else(|| FieldError::new("override", "expected a JSON object"))?;
        let mut o = StudentOverride::default();
        for (name, v) in obj {
            match name.as_str() {
                "extra_time_secs" => o.extra_time_secs = req_u32(name, v, 0, MAX_TIME_LIMIT_SECS)?,
                "time_multiplier" => {
                    o.time_multiplier = match v {
                        Value::Null => None,
                        v => {
                            let m = v.as_f64().ok_or_else(|| FieldError::new(name, "expected a number"))?;
                            if !(1.0..=MAX_MULTIPLIER).contains(&m) {
                                return Err(FieldError::new(name, format!("must be between 1 and {MAX_MULTIPLIER}")));
                            }
                            Some(m)
                        }
                    }
                }
                "opens_at" => o.opens_at = opt_time(name, v)?,
                "closes_at" => o.closes_at = opt_time(name, v)?,
                "attempts_allowed" => o.attempts_allowed = opt_u32(name, v, 1, MAX_ATTEMPTS)?,
                // The name is the path's; accepted here so a GET body can be sent back as is.
                "student" => {}
                other => return Err(FieldError::new(other, "unknown field")),
            }
        }
        check_window(o.opens_at.as_deref(), o.closes_at.as_deref())?;
        Ok(o)
    }

    pub fn is_empty(&self) -> bool {
        *self == StudentOverride::default()
    }
}

/// A settings value that cannot be used, with the field it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), message: message.into() }
    }
}

fn req_u32(name: &str, v: &Value, min: u32, max: u32) -> Result<u32, FieldError> {
    let n = v.as_u64().ok_or_else(|| FieldError::new(name, format!("expected a whole number from {min} to {max}")))?;
    u32::try_from(n).ok().filter(|n| (min..=max).contains(n)).ok_or_else(|| FieldError::new(name, format!("must be from {min} to {max}")))
}

fn opt_u32(name: &str, v: &Value, min: u32, max: u32) -> Result<Option<u32>, FieldError> {
    if v.is_null() { Ok(None) } else { req_u32(name, v, min, max).map(Some) }
}

fn boolean(name: &str, v: &Value) -> Result<bool, FieldError> {
    v.as_bool().ok_or_else(|| FieldError::new(name, "expected true or false"))
}

fn opt_time(name: &str, v: &Value) -> Result<Option<String>, FieldError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => parse_time(s)
            .map(|t| Some(format_time(t)))
            .ok_or_else(|| FieldError::new(name, "expected an RFC 3339 time such as 2026-12-01T09:00:00Z")),
        _ => Err(FieldError::new(name, "expected an RFC 3339 time or null")),
    }
}

fn enum_value<T: serde::de::DeserializeOwned>(name: &str, v: &Value, allowed: &[&str]) -> Result<T, FieldError> {
    serde_json::from_value(v.clone()).map_err(|_| FieldError::new(name, format!("expected one of {}", allowed.join(", "))))
}

fn check_window(opens: Option<&str>, closes: Option<&str>) -> Result<(), FieldError> {
    if let (Some(o), Some(c)) = (opens.and_then(parse_time), closes.and_then(parse_time))
        && c <= o
    {
        return Err(FieldError::new("closes_at", "must be after opens_at"));
    }
    Ok(())
}

/// Parses RFC 3339 with `Z` or a numeric offset (`+02:00`, `-0500`).
pub fn parse_time(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    if let Ok(t) = humantime::parse_rfc3339_weak(s.strip_suffix('Z').or_else(|| s.strip_suffix('z')).unwrap_or(s)) {
        // Weak parsing accepts a missing zone; only accept that when the input had `Z`.
        if s.ends_with(['Z', 'z']) {
            return Some(t);
        }
    }
    let (body, sign, off) = split_offset(s)?;
    let t = humantime::parse_rfc3339_weak(body).ok()?;
    let off = Duration::from_secs(off);
    if sign > 0 { t.checked_sub(off) } else { t.checked_add(off) }
}

fn split_offset(s: &str) -> Option<(&str, i8, u64)> {
    let i = s.rfind(['+', '-']).filter(|&i| i > 10)?;
    let (body, tz) = s.split_at(i);
    let sign = if tz.starts_with('+') { 1 } else { -1 };
    let digits: String = tz[1..].chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: u64 = digits[..2].parse().ok()?;
    let m: u64 = digits[2..].parse().ok()?;
    (h < 24 && m < 60).then_some((body, sign, h * 3600 + m * 60))
}

/// RFC 3339 UTC with milliseconds; sorts lexicographically.
pub fn format_time(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// Where the window stands for one student. Read through [`crate::wire`] (one pass, no buffer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case", try_from = "crate::wire::WindowObject")]
pub enum WindowState {
    NotYetOpen { opens_at: String },
    Open { closes_at: Option<String> },
    Closed { closed_at: String },
}

/// The rules for one student: the exam's settings with that student's accommodations.
#[derive(Debug, Clone, Copy)]
pub struct Sitting<'a> {
    pub settings: &'a ExamSettings,
    pub student: Option<&'a StudentOverride>,
    pub released_at: Option<&'a str>,
}

impl Sitting<'_> {
    pub fn opens_at(&self) -> Option<SystemTime> {
        self.student.and_then(|o| o.opens_at.as_deref()).or(self.settings.opens_at.as_deref()).and_then(parse_time)
    }

    pub fn closes_at(&self) -> Option<SystemTime> {
        self.student.and_then(|o| o.closes_at.as_deref()).or(self.settings.closes_at.as_deref()).and_then(parse_time)
    }

    pub fn window(&self, now: SystemTime) -> WindowState {
        match (self.opens_at(), self.closes_at()) {
            (Some(o), _) if now < o => WindowState::NotYetOpen { opens_at: format_time(o) },
            (_, Some(c)) if now >= c => WindowState::Closed { closed_at: format_time(c) },
            (_, c) => WindowState::Open { closes_at: c.map(format_time) },
        }
    }

    pub fn attempts_allowed(&self) -> Option<u32> {
        self.student.and_then(|o| o.attempts_allowed).or(self.settings.attempts_allowed)
    }

    /// The time limit a new attempt would open with (the exam's; accommodations are applied
    /// in [`Sitting::deadline`] so they can change while the attempt runs).
    pub fn time_limit_secs(&self) -> Option<u32> {
        self.settings.time_limit_secs
    }

    /// A time limit with this student's accommodations: limit × multiplier + extra time.
    pub fn with_accommodations(&self, limit_secs: u32) -> u64 {
        let mult = self.student.and_then(|o| o.time_multiplier).unwrap_or(1.0);
        let extra = self.student.map_or(0, |o| o.extra_time_secs);
        (f64::from(limit_secs) * mult).round() as u64 + u64::from(extra)
    }

    /// When the attempt's time is up: start + limit × multiplier + extra time, capped by the
    /// close time. `None`: no limit and no close time.
    pub fn deadline(&self, attempt: &AttemptState) -> Option<SystemTime> {
        let by_limit = attempt.time_limit_secs.and_then(|limit| {
            let start = parse_time(&attempt.started_at)?;
            start.checked_add(Duration::from_secs(self.with_accommodations(limit)))
        });
        match (by_limit, self.closes_at()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether answers to `attempt` are still accepted at `now` (deadline + grace).
    pub fn accepts_answers(&self, attempt: &AttemptState, now: SystemTime) -> bool {
        self.deadline(attempt).is_none_or(|d| now <= d + Duration::from_secs(u64::from(attempt.grace_secs)))
    }

    /// Whether the review policy lets students see their results now.
    pub fn results_visible(&self, now: SystemTime) -> bool {
        match self.settings.review.when {
            ReviewWhen::Immediately => true,
            ReviewWhen::AfterClose => self.settings.closes_at.as_deref().and_then(parse_time).is_some_and(|c| now >= c),
            ReviewWhen::OnRelease => self.released_at.is_some(),
        }
    }
}

/// What a student may see of one submission, now. Built only by [`StudentReport::new`], which
/// leaves out everything the review policy does not allow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudentReport {
    pub attempt: u32,
    pub version: u32,
    pub submitted_at: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auto_submitted: bool,
    /// False until the review policy lets the student see results; then `score` and the rest
    /// are absent and `available` says when they will be.
    pub released: bool,
    pub show: ReviewShow,
    pub available: ReviewWhen,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass_mark: Option<u8>,
    /// Per question, as far as `show` allows (empty for `score`).
    #[serde(default)]
    pub results: Vec<ReviewedQuestion>,
}

/// One question of a [`StudentReport`]. The key fields are present only with `show = correct`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewedQuestion {
    pub question_id: QuestionId,
    pub kind: QuestionKind,
    pub question: String,
    pub chosen: Option<OptionId>,
    pub chosen_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correct: Option<OptionId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correct_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_correct: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
}

impl StudentReport {
    /// What the student may see of `record` under `policy`. `outcomes`: the per-question
    /// results of the submission (a stored record is compact and leaves them out; the caller
    /// rebuilds them from the graded version, and only when the policy shows them: see
    /// [`StudentReport::needs_outcomes`]).
    pub fn new(record: &SubmissionRecord, outcomes: &[crate::QuestionResult], policy: ReviewPolicy, visible: bool) -> Self {
        let r = &record.report;
        let mut out = StudentReport {
            attempt: record.attempt,
            version: record.version,
            submitted_at: record.submitted_at.clone(),
            auto_submitted: record.auto_submitted,
            released: visible,
            show: policy.show,
            available: policy.when,
            score: None,
            total: None,
            percent: None,
            passed: None,
            pass_mark: None,
            results: Vec::new(),
        };
        if !visible {
            return out;
        }
        out.score = Some(r.score);
        out.total = Some(r.total);
        out.percent = Some(r.percent);
        out.passed = Some(r.passed);
        out.pass_mark = Some(r.pass_mark);
        if policy.show >= ReviewShow::Answers {
            let key = policy.show == ReviewShow::Correct;
            out.results = outcomes
                .iter()
                .map(|q| ReviewedQuestion {
                    question_id: q.question_id.clone(),
                    kind: q.kind,
                    question: q.question.clone(),
                    chosen: q.chosen.clone(),
                    chosen_text: q.chosen_text.clone(),
                    correct: key.then(|| q.correct.clone()),
                    correct_text: key.then(|| q.correct_text.clone()),
                    is_correct: key.then_some(q.is_correct),
                    source: if key { q.source.clone() } else { None },
                    explanation: if key { q.explanation.clone() } else { None },
                })
                .collect();
        }
        out
    }

    /// Whether a report under `policy` shows per-question outcomes.
    pub fn needs_outcomes(policy: ReviewPolicy, visible: bool) -> bool {
        visible && policy.show >= ReviewShow::Answers
    }
}

/// The index of the submission that counts under `policy` (`subs` in any order).
pub fn kept_submission(subs: &[&SubmissionRecord], policy: GradePolicy) -> Option<usize> {
    let by_attempt = |i: &usize| subs[*i].attempt;
    let idx = 0..subs.len();
    match policy {
        GradePolicy::First => idx.min_by_key(by_attempt),
        GradePolicy::Latest => idx.max_by_key(by_attempt),
        // The highest score; among equals, the earliest attempt.
        GradePolicy::Highest => idx.max_by(|a, b| {
            let (x, y) = (subs[*a], subs[*b]);
            x.report.percent.total_cmp(&y.report.percent).then(y.attempt.cmp(&x.attempt))
        }),
    }
}

/// A stable seed for one attempt: FNV-1a over exam id, student key and attempt number. The
/// same on every replica and after restarts (the order is also stored in the attempt).
pub fn attempt_seed(exam: &ExamId, student: &Student, attempt: u32) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(exam.as_str().as_bytes());
    eat(&[0xff]);
    eat(student.key().as_bytes());
    eat(&[0xff]);
    eat(&attempt.to_le_bytes());
    h
}

/// splitmix64: small, well-distributed, and enough for shuffling a paper.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is negligible for paper sizes).
    fn below(&mut self, n: usize) -> usize {
        usize::try_from((u128::from(self.next()) * n as u128) >> 64).unwrap_or(0)
    }
}

fn shuffle<T>(items: &mut [T], rng: &mut SplitMix64) {
    for i in (1..items.len()).rev() {
        items.swap(i, rng.below(i + 1));
    }
}

/// The order one attempt shows: questions shuffled and/or options shuffled (true/false options
/// keep "True, False"). Empty results mean "canonical".
pub fn attempt_order(
    bank: &QuestionBank,
    seed: u64,
    shuffle_questions: bool,
    shuffle_options: bool,
) -> (Vec<QuestionId>, BTreeMap<QuestionId, Vec<OptionId>>) {
    let mut rng = SplitMix64(seed);
    let mut questions = Vec::new();
    if shuffle_questions {
        questions = bank.questions.iter().map(|q| q.id.clone()).collect();
        shuffle(&mut questions, &mut rng);
    }
    let mut options = BTreeMap::new();
    if shuffle_options {
        for q in bank.questions.iter().filter(|q| q.kind != QuestionKind::TrueFalse) {
            let mut ids: Vec<OptionId> = q.options.iter().map(|o| o.id.clone()).collect();
            shuffle(&mut ids, &mut rng);
            options.insert(q.id.clone(), ids);
        }
    }
    (questions, options)
}

/// Questions in one attempt's order. Ids not in the orders keep their canonical place after the
/// ordered ones (an order is always complete when made by [`attempt_order`]).
pub fn in_attempt_order(
    mut questions: Vec<PaperQuestion>,
    order: &[QuestionId],
    options: &BTreeMap<QuestionId, Vec<OptionId>>,
) -> Vec<PaperQuestion> {
    if !order.is_empty() {
        questions = reorder(questions, |q| &q.id, order);
    }
    for q in &mut questions {
        if let Some(order) = options.get(&q.id) {
            q.options = reorder(std::mem::take(&mut q.options), |o| &o.id, order);
        }
    }
    questions
}

/// `items` in the order of their ids in `order`; items `order` does not name follow, in their
/// own order. (A stable sort by position would do the same; this runs in the browser too, where
/// a sort's code costs more than this loop over a few dozen items.)
fn reorder<T, Id: PartialEq>(items: Vec<T>, id: impl Fn(&T) -> &Id, order: &[Id]) -> Vec<T> {
    let mut left: Vec<Option<T>> = items.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(left.len());
    for wanted in order {
        if let Some(item) = left.iter_mut().find(|slot| slot.as_ref().is_some_and(|t| id(t) == wanted)).and_then(Option::take) {
            out.push(item);
        }
    }
    out.extend(left.into_iter().flatten());
    out
}

impl ExamPaper {
    /// The paper in one attempt's order (see [`in_attempt_order`]).
    pub fn in_order(mut self, questions: &[QuestionId], options: &BTreeMap<QuestionId, Vec<OptionId>>) -> ExamPaper {
        self.questions = in_attempt_order(std::mem::take(&mut self.questions), questions, options);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(s: &str) -> SystemTime {
        parse_time(s).unwrap()
    }

    fn attempt(started: &str, limit: Option<u32>) -> AttemptState {
        AttemptState {
            exam_id: ExamId::parse("e").unwrap(),
            student: Student::parse("Ada").unwrap(),
            attempt: 1,
            version: 1,
            answers: BTreeMap::new(),
            started_at: started.into(),
            updated_at: started.into(),
            time_limit_secs: limit,
            grace_secs: 30,
            deadline: None,
            question_order: Vec::new(),
            option_order: BTreeMap::new(),
            sealed: false,
        }
    }

    #[test]
    fn times_with_offsets_are_normalised_to_utc() {
        assert_eq!(format_time(t("2026-12-01T10:00:00+02:00")), "2026-12-01T08:00:00.000Z");
        assert_eq!(format_time(t("2026-12-01T10:00:00-0130")), "2026-12-01T11:30:00.000Z");
        assert_eq!(format_time(t("2026-12-01T10:00:00.5Z")), "2026-12-01T10:00:00.500Z");
        assert!(parse_time("2026-12-01T10:00:00").is_none(), "a time without a zone is ambiguous");
        assert!(parse_time("tomorrow").is_none());
    }

    #[test]
    fn settings_merge_and_name_the_bad_field() {
        let mut s = ExamSettings::defaults(50);
        s.apply_json(&json!({"time_limit_secs": 900, "review": {"when": "on_release"}})).unwrap();
        assert_eq!(s.time_limit_secs, Some(900));
        assert_eq!(s.review, ReviewPolicy { show: ReviewShow::Correct, when: ReviewWhen::OnRelease });
        s.apply_json(&json!({"time_limit_secs": null})).unwrap();
        assert_eq!(s.time_limit_secs, None);
        let err = |body| {
            let mut s = ExamSettings::defaults(50);
            let before = s.clone();
            let e = s.apply_json(&body).unwrap_err();
            assert_eq!(s, before, "a refused change changes nothing");
            e.field
        };
        assert_eq!(err(json!({"time_limit_secs": 0})), "time_limit_secs");
        assert_eq!(err(json!({"time_limit_secs": "10"})), "time_limit_secs");
        assert_eq!(err(json!({"pass_mark": 101})), "pass_mark");
        assert_eq!(err(json!({"grade": "best"})), "grade");
        assert_eq!(err(json!({"review": {"show": "all"}})), "review.show");
        assert_eq!(err(json!({"attempts_allowed": 0})), "attempts_allowed");
        assert_eq!(err(json!({"opens_at": "soon"})), "opens_at");
        assert_eq!(err(json!({"opens_at": "2026-12-02T00:00:00Z", "closes_at": "2026-12-01T00:00:00Z"})), "closes_at");
        assert_eq!(err(json!({"time_limit": 5})), "time_limit");
    }

    #[test]
    fn the_deadline_takes_accommodations_and_the_close_time() {
        let settings = ExamSettings { time_limit_secs: Some(600), ..ExamSettings::defaults(50) };
        let a = attempt("2026-12-01T09:00:00Z", Some(600));
        let plain = Sitting { settings: &settings, student: None, released_at: None };
        assert_eq!(plain.deadline(&a), Some(t("2026-12-01T09:10:00Z")));
        let more = StudentOverride { extra_time_secs: 60, time_multiplier: Some(1.5), ..Default::default() };
        let acc = Sitting { settings: &settings, student: Some(&more), released_at: None };
        assert_eq!(acc.deadline(&a), Some(t("2026-12-01T09:16:00Z")));
        let closing = ExamSettings { closes_at: Some("2026-12-01T09:05:00Z".into()), ..settings.clone() };
        let capped = Sitting { settings: &closing, student: Some(&more), released_at: None };
        assert_eq!(capped.deadline(&a), Some(t("2026-12-01T09:05:00Z")));
        assert!(capped.accepts_answers(&a, t("2026-12-01T09:05:30Z")), "grace");
        assert!(!capped.accepts_answers(&a, t("2026-12-01T09:05:31Z")));
        let untimed = ExamSettings::defaults(50);
        assert_eq!(Sitting { settings: &untimed, student: None, released_at: None }.deadline(&attempt("2026-12-01T09:00:00Z", None)), None);
    }

    #[test]
    fn the_window_and_attempts_follow_the_students_override() {
        let settings = ExamSettings {
            opens_at: Some("2026-12-01T09:00:00.000Z".into()),
            closes_at: Some("2026-12-01T10:00:00.000Z".into()),
            attempts_allowed: Some(1),
            ..ExamSettings::defaults(50)
        };
        let s = Sitting { settings: &settings, student: None, released_at: None };
        assert_eq!(s.window(t("2026-12-01T08:59:59Z")), WindowState::NotYetOpen { opens_at: "2026-12-01T09:00:00.000Z".into() });
        assert!(matches!(s.window(t("2026-12-01T09:30:00Z")), WindowState::Open { .. }));
        assert!(matches!(s.window(t("2026-12-01T10:00:00Z")), WindowState::Closed { .. }));
        let late = StudentOverride { closes_at: Some("2026-12-01T11:00:00Z".into()), attempts_allowed: Some(2), ..Default::default() };
        let s = Sitting { settings: &settings, student: Some(&late), released_at: None };
        assert!(matches!(s.window(t("2026-12-01T10:30:00Z")), WindowState::Open { .. }));
        assert_eq!(s.attempts_allowed(), Some(2));
    }

    #[test]
    fn results_are_visible_only_when_the_policy_says() {
        let mut settings = ExamSettings::defaults(50);
        settings.closes_at = Some("2026-12-01T10:00:00Z".into());
        settings.review.when = ReviewWhen::AfterClose;
        let s = Sitting { settings: &settings, student: None, released_at: None };
        assert!(!s.results_visible(t("2026-12-01T09:59:00Z")));
        assert!(s.results_visible(t("2026-12-01T10:00:00Z")));
        settings.review.when = ReviewWhen::OnRelease;
        assert!(!Sitting { settings: &settings, student: None, released_at: None }.results_visible(t("2030-01-01T00:00:00Z")));
        assert!(Sitting { settings: &settings, student: None, released_at: Some("x") }.results_visible(t("2026-01-01T00:00:00Z")));
    }

    fn record() -> SubmissionRecord {
        let bank = crate::QuestionBank::from_json(
            br#"[{"question":"a?","options":["x","y"],"correct_answer":"y","explanation":"because"},
                 {"question":"b?","options":["True","False"],"correct_answer":"True"}]"#,
            &ExamId::parse("e").unwrap(),
            "t",
        )
        .unwrap();
        let answers = [(QuestionId::parse("q1").unwrap(), OptionId::parse("a").unwrap())].into_iter().collect();
        let report = crate::grade(&bank, &answers, crate::PassMark::default());
        SubmissionRecord {
            exam_id: bank.exam_id.clone(),
            student: "Ada".into(),
            attempt: 1,
            version: 1,
            submitted_at: "t".into(),
            answers,
            report,
            auto_submitted: false,
        }
    }

    #[test]
    fn a_report_carries_only_what_the_policy_shows() {
        let r = record();
        let hidden = serde_json::to_string(&StudentReport::new(&r, &r.report.results, ReviewPolicy::default(), false)).unwrap();
        for word in ["score", "\"y\"", "correct_text", "because", "is_correct", "results\":[{"] {
            assert!(!hidden.contains(word), "{word} in {hidden}");
        }
        let score =
            StudentReport::new(&r, &r.report.results, ReviewPolicy { show: ReviewShow::Score, when: ReviewWhen::Immediately }, true);
        assert_eq!((score.score, score.total), (Some(0), Some(2)));
        assert!(score.results.is_empty());
        let answers = serde_json::to_string(&StudentReport::new(
            &r,
            &r.report.results,
            ReviewPolicy { show: ReviewShow::Answers, when: ReviewWhen::Immediately },
            true,
        ))
        .unwrap();
        assert!(answers.contains("\"chosen_text\":\"x\""));
        for word in ["correct_text", "is_correct", "because", "\"correct\""] {
            assert!(!answers.contains(word), "{word} in {answers}");
        }
        let all = StudentReport::new(&r, &r.report.results, ReviewPolicy::default(), true);
        assert_eq!(all.results[0].correct_text.as_deref(), Some("y"));
        assert_eq!(all.results[0].is_correct, Some(false));
    }

    #[test]
    fn the_kept_grade_follows_the_policy() {
        let mk = |attempt, percent| {
            let mut r = record();
            r.attempt = attempt;
            r.report.percent = percent;
            r
        };
        let subs = [mk(1, 40.0), mk(2, 80.0), mk(3, 60.0), mk(4, 80.0)];
        let refs: Vec<&SubmissionRecord> = subs.iter().collect();
        assert_eq!(kept_submission(&refs, GradePolicy::First).map(|i| subs[i].attempt), Some(1));
        assert_eq!(kept_submission(&refs, GradePolicy::Latest).map(|i| subs[i].attempt), Some(4));
        assert_eq!(kept_submission(&refs, GradePolicy::Highest).map(|i| subs[i].attempt), Some(2));
        assert_eq!(kept_submission(&[], GradePolicy::Highest), None);
    }

    #[test]
    fn shuffles_are_stable_per_attempt_complete_and_differ_across_attempts() {
        let json = serde_json::to_vec(
            &(1..=12)
                .map(|i| json!({"question": format!("q{i}?"), "options": ["a", "b", "c", "d"], "correct_answer": "a"}))
                .collect::<Vec<_>>(),
        )
        .unwrap();
        let exam = ExamId::parse("e").unwrap();
        let bank = crate::QuestionBank::from_json(&json, &exam, "t").unwrap();
        let ada = Student::parse("Ada").unwrap();
        let seed1 = attempt_seed(&exam, &ada, 1);
        assert_eq!(seed1, attempt_seed(&exam, &Student::parse(" ada ").unwrap(), 1));
        let (q1, o1) = attempt_order(&bank, seed1, true, true);
        assert_eq!(attempt_order(&bank, seed1, true, true), (q1.clone(), o1.clone()));
        let (q2, _) = attempt_order(&bank, attempt_seed(&exam, &ada, 2), true, true);
        assert_ne!(q1, q2);
        let mut sorted = q1.clone();
        sorted.sort();
        let mut canonical: Vec<QuestionId> = bank.questions.iter().map(|q| q.id.clone()).collect();
        canonical.sort();
        assert_eq!(sorted, canonical);
        let paper = bank.paper(1).in_order(&q1, &o1);
        assert_eq!(paper.questions.iter().map(|q| q.id.clone()).collect::<Vec<_>>(), q1);
        assert_eq!(paper.questions[0].options.iter().map(|o| o.id.clone()).collect::<Vec<_>>(), o1[&q1[0]]);
        assert_eq!(attempt_order(&bank, seed1, false, false), (Vec::new(), BTreeMap::new()));
    }

    #[test]
    fn reordering_follows_the_order_and_keeps_the_rest_after_it_in_their_own_order() {
        let items = vec!["a", "b", "c", "d", "e"];
        assert_eq!(reorder(items.clone(), |s| s, &["d", "b"]), ["d", "b", "a", "c", "e"]);
        assert_eq!(reorder(items.clone(), |s| s, &["e", "d", "c", "b", "a"]), ["e", "d", "c", "b", "a"]);
        // Ids the order names twice or that are not there change nothing else.
        assert_eq!(reorder(items.clone(), |s| s, &["c", "x", "c", "a"]), ["c", "a", "b", "d", "e"]);
        assert_eq!(reorder(items, |s| s, &[]), ["a", "b", "c", "d", "e"]);
    }
}
