//! Writing questions: the built-in generator by default, a language model when a deployment
//! configures one, and one validator in front of the store for both.
//!
//! [`Generation`] is shared by the pipeline (a whole bank per uploaded document) and the
//! gateway ([`Generation::regenerate_question`], one replacement question for a draft). A
//! language model plugs in through the [`QuestionModel`] port (the `exam-llm` crate implements
//! it), as the S3 store and Kafka plug into theirs; this crate knows no HTTP.
//!
//! Rules:
//! * Every question, from either generator, passes [`exam_domain::validate::Validator`]
//!   against the document's text before it leaves this module: defects drop the question
//!   (the bank's notes say how many and why), doubts become [`exam_domain::Question::flags`].
//! * When the model fails (unreachable after its retries, refuses the key, or produces no
//!   usable question) the built-in generator takes over and the notes say so, unless the
//!   deployment chose [`Fallback::None`]; then generation fails with the model's reason.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use exam_domain::keys;
use exam_domain::validate::{SourceText, Validator, normalise};
use exam_domain::{ExamId, GenerationParams, Question, QuestionId, QuestionKind};
use exam_generator::{Document, ExtractCommand, ExtractError, GenerateError};

use crate::store::{self, ObjectStore, PutMode, StoreError};

/// What a deployment calls its built-in generator in `QuestionBank::generator`.
pub const BUILTIN: &str = "builtin/1";

/// How PDF text is extracted.
#[derive(Debug, Clone)]
pub enum Extractor {
    /// In a child process that is killed after the budget: a crash or endless loop in the PDF
    /// library cannot harm the server. What the binaries use.
    Isolated(ExtractCommand),
    /// On a blocking thread, panics caught. For tests and tools; a runaway extraction keeps
    /// its thread busy after the budget expires.
    InProcess,
}

/// What to do when the language model cannot deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fallback {
    /// Use the built-in generator and say so in the bank's notes (default: the teacher gets
    /// an exam either way).
    #[default]
    Builtin,
    /// Fail with the model's reason (deployments that must not show built-in questions).
    None,
}

/// A model's failure, in words a teacher can read ("The language model at … answered 401").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ModelError(pub String);

/// Questions from a model, already validated by it, plus notes for the teacher (questions
/// dropped, fewer than asked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelOutput {
    pub questions: Vec<Question>,
    pub notes: Vec<String>,
}

/// The port a question-writing model implements (`exam_llm::LlmGenerator`).
#[async_trait]
pub trait QuestionModel: Send + Sync + 'static {
    /// The model's name, shown to the teacher ("generating with …") and recorded in the bank.
    fn name(&self) -> &str;

    /// Questions for a whole document (`pages[0]` is page 1), at most as many as `params` asks.
    async fn generate(&self, pages: &[String], params: GenerationParams) -> Result<ModelOutput, ModelError>;

    /// One new question of `kind` (multiple choice with `options` options) that is none of
    /// `avoid`, checked with the validator.
    async fn regenerate(&self, pages: &[String], kind: QuestionKind, options: u8, avoid: &[Question]) -> Result<Question, ModelError>;
}

/// Questions ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedQuestions {
    pub questions: Vec<Question>,
    pub notes: Vec<String>,
    /// `builtin/1` or `llm/<model>`.
    pub generator: String,
}

/// Why no bank could be generated. The message is shown to the teacher.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenerationError {
    #[error(transparent)]
    Builtin(#[from] GenerateError),
    #[error("The language model could not write the questions: {0}")]
    Model(String),
    #[error("No generated question passed validation ({0}).")]
    NothingValid(String),
}

/// Why a single question could not be regenerated. Messages are shown to the teacher.
#[derive(Debug, thiserror::Error)]
pub enum RegenerateError {
    /// No document to generate from (an imported bank, or the upload was deleted).
    #[error("This exam has no source document to generate questions from.")]
    NoDocument,
    #[error(transparent)]
    Extract(#[from] ExtractError),
    /// Every question the document supports is already in the exam.
    #[error("{0}")]
    Exhausted(String),
    #[error("The language model could not write a question: {0}")]
    Model(String),
    /// The store failed; retrying later can help.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Configuration of [`Generation`].
#[derive(Clone)]
pub struct GenerationConfig {
    pub extractor: Extractor,
    /// Time budget for reading one PDF.
    pub extract_budget: Duration,
    /// `None`: the built-in generator only.
    pub model: Option<Arc<dyn QuestionModel>>,
    pub fallback: Fallback,
}

impl std::fmt::Debug for GenerationConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenerationConfig")
            .field("extractor", &self.extractor)
            .field("extract_budget", &self.extract_budget)
            .field("model", &self.model.as_ref().map(|m| m.name()))
            .field("fallback", &self.fallback)
            .finish()
    }
}

/// Document → questions, for whole banks and single replacements. See the module docs.
pub struct Generation {
    store: Arc<dyn ObjectStore>,
    config: GenerationConfig,
    metrics: crate::metrics::CoreMetrics,
}

impl std::fmt::Debug for Generation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generation").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Generation {
    pub fn new(store: Arc<dyn ObjectStore>, config: GenerationConfig) -> Self {
        Generation { store, config, metrics: crate::metrics::CoreMetrics::default() }
    }

    /// Records extraction times, reader kills and model fallbacks in `metrics`.
    pub fn with_metrics(mut self, metrics: crate::metrics::CoreMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// The metrics this generation records into (the pipeline shares them).
    pub fn metrics(&self) -> &crate::metrics::CoreMetrics {
        &self.metrics
    }

    /// `model` when a language model is asked first, else `builtin` (a metrics label).
    pub fn generator_label(&self) -> &'static str {
        if self.config.model.is_some() { "model" } else { "builtin" }
    }

    /// The built-in generator only.
    pub fn builtin(store: Arc<dyn ObjectStore>, extractor: Extractor, extract_budget: Duration) -> Self {
        Generation::new(store, GenerationConfig { extractor, extract_budget, model: None, fallback: Fallback::Builtin })
    }

    /// Continues the "Generating questions" label while a model writes: `with <model>`.
    pub fn stage_detail(&self) -> Option<String> {
        self.config.model.as_ref().map(|m| format!("with {}", m.name()))
    }

    /// PDF bytes → text per page, within the time budget.
    pub async fn extract(&self, pdf: Bytes) -> Result<Document, ExtractError> {
        let started = std::time::Instant::now();
        let result = self.extract_unmetered(pdf).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(ExtractError::NotPdf) => "not_pdf",
            Err(ExtractError::Encrypted) => "encrypted",
            Err(ExtractError::NoText) => "no_text",
            Err(ExtractError::Malformed(_)) => "malformed",
            Err(ExtractError::Timeout(_)) => "timeout",
            Err(ExtractError::Crashed(_)) => "crashed",
            Err(ExtractError::TooLarge(_)) => "too_large",
        };
        self.metrics.extraction(outcome, started.elapsed());
        // The isolated reader is killed past its time budget (or by its CPU limit), and ended
        // by its memory limit; the other errors are answers it gave.
        if let Extractor::Isolated(_) = self.config.extractor {
            match &result {
                Err(ExtractError::Timeout(_)) => self.metrics.extraction_killed("timeout"),
                Err(ExtractError::TooLarge(why)) if why.contains("memory") => self.metrics.extraction_killed("memory"),
                _ => {}
            }
        }
        result
    }

    async fn extract_unmetered(&self, pdf: Bytes) -> Result<Document, ExtractError> {
        let budget = self.config.extract_budget;
        match &self.config.extractor {
            Extractor::Isolated(cmd) => exam_generator::extract_isolated(cmd, &pdf, budget).await,
            Extractor::InProcess => {
                let task = tokio::task::spawn_blocking(move || exam_generator::extract_pages(&pdf));
                match tokio::time::timeout(budget, task).await {
                    Ok(Ok(r)) => r,
                    Ok(Err(join)) => Err(ExtractError::Crashed(join.to_string())),
                    Err(_) => Err(ExtractError::Timeout(budget.as_secs())),
                }
            }
        }
    }

    /// Keeps the extracted text at `text/<exam>.json` so single questions can be regenerated
    /// without reading the PDF again (and by the gateway, which in a cluster does not run the
    /// pipeline).
    pub async fn save_text(&self, exam: &ExamId, doc: &Document) -> Result<(), StoreError> {
        store::put_json(self.store.as_ref(), &keys::text_key(exam), doc, PutMode::Overwrite).await.map(|_| ())
    }

    /// A bank's worth of validated questions for `doc`.
    pub async fn generate(&self, doc: &Document, params: GenerationParams) -> Result<GeneratedQuestions, GenerationError> {
        let source = SourceText::new(&doc.pages);
        let mut notes = Vec::new();
        if let Some(model) = &self.config.model {
            let reason = match model.generate(&doc.pages, params).await {
                Ok(out) => {
                    let (questions, mut gate_notes) = gate(&source, out.questions);
                    if !questions.is_empty() {
                        notes.extend(out.notes);
                        notes.append(&mut gate_notes);
                        return Ok(GeneratedQuestions { questions, notes, generator: format!("llm/{}", model.name()) });
                    }
                    let mut why = out.notes;
                    why.extend(gate_notes);
                    if why.is_empty() { "it returned no usable question".to_owned() } else { why.join(" ") }
                }
                Err(e) => e.0,
            };
            tracing::warn!(model = model.name(), %reason, "the language model failed");
            match self.config.fallback {
                Fallback::None => return Err(GenerationError::Model(reason)),
                Fallback::Builtin => {
                    self.metrics.model_fallback();
                    notes.push(format!(
                        "The language model ({}) could not be used, so these questions come from the built-in generator. Reason: {reason}",
                        model.name()
                    ));
                }
            }
        }
        let generated = exam_generator::generate(doc, params)?;
        notes.extend(generated.notes);
        let (questions, mut gate_notes) = gate(&source, generated.questions);
        if questions.is_empty() {
            return Err(GenerationError::NothingValid(gate_notes.join(" ")));
        }
        notes.append(&mut gate_notes);
        Ok(GeneratedQuestions { questions, notes, generator: BUILTIN.to_owned() })
    }

    /// One new question of `kind` for the draft of `exam`, validated against the document and
    /// against `avoid` (pass every question of the draft, including the one being replaced: the
    /// new one repeats none of them and, from the built-in generator, quotes a sentence none
    /// of them uses). A multiple-choice question gets as many options as most multiple-choice
    /// questions in `avoid` (4 when there are none).
    ///
    /// The returned id collides with no id in `avoid`. The review flow gives the replacement a
    /// fresh id of the draft (`exam_domain::versions::Draft::replace_question`), never the old one, so an
    /// answer stored against the old question is never read against the new one.
    ///
    /// Reads the text stored next to the bank (`text/<exam>.json`); when it is missing (banks
    /// generated before it was stored), extracts the uploaded PDF again in the isolated
    /// extractor and stores the text for next time.
    pub async fn regenerate_question(&self, exam: &ExamId, kind: QuestionKind, avoid: &[Question]) -> Result<Question, RegenerateError> {
        let doc = self.document(exam).await?;
        let options = usual_option_count(avoid);
        let source = SourceText::new(&doc.pages);
        let mut question = None;
        if let Some(model) = &self.config.model {
            match model.regenerate(&doc.pages, kind, options, avoid).await {
                Ok(q) => match Validator::with_existing(Some(&source), avoid).admit(q) {
                    Ok(q) => question = Some(q),
                    Err(r) if self.config.fallback == Fallback::None => return Err(RegenerateError::Model(r.to_string())),
                    Err(r) => {
                        tracing::warn!(exam.id = %exam, rejection = %r, "the model's question failed validation; using the built-in generator")
                    }
                },
                Err(e) if self.config.fallback == Fallback::None => return Err(RegenerateError::Model(e.0)),
                Err(e) => tracing::warn!(exam.id = %exam, reason = %e, "the language model failed; using the built-in generator"),
            }
        }
        let mut question = match question {
            Some(q) => q,
            None => builtin_replacement(&doc, &source, kind, options, avoid)?,
        };
        question.id = fresh_id(avoid);
        Ok(question)
    }

    /// The exam's page text: stored, or extracted again from the upload.
    async fn document(&self, exam: &ExamId) -> Result<Document, RegenerateError> {
        if let Some(doc) = store::get_json::<Document>(self.store.as_ref(), &keys::text_key(exam)).await? {
            return Ok(doc);
        }
        let prefix = format!("{}{exam}/", keys::UPLOADS_PREFIX);
        let Some(upload) = self.store.list(&prefix).await?.into_iter().next() else {
            return Err(RegenerateError::NoDocument);
        };
        let Some((pdf, _)) = self.store.get(&upload.key).await? else {
            return Err(RegenerateError::NoDocument);
        };
        let doc = self.extract(pdf).await?;
        if let Err(e) = self.save_text(exam, &doc).await {
            tracing::warn!(exam.id = %exam, error = %e, "could not store the extracted text");
        }
        Ok(doc)
    }
}

/// Runs `questions` through the validator; returns the admitted ones, renumbered `q1..`, and
/// a note about the dropped ones.
fn gate(source: &SourceText, questions: Vec<Question>) -> (Vec<Question>, Vec<String>) {
    let mut validator = Validator::new(Some(source));
    let mut admitted = Vec::with_capacity(questions.len());
    let mut dropped: BTreeMap<&'static str, usize> = BTreeMap::new();
    for q in questions {
        match validator.admit(q) {
            Ok(q) => admitted.push(q),
            Err(r) => {
                tracing::warn!(rejection = %r, "dropping a generated question");
                *dropped.entry(r.defects[0].label()).or_default() += 1;
            }
        }
    }
    for (i, q) in admitted.iter_mut().enumerate() {
        q.id = QuestionId::parse(&format!("q{}", i + 1)).expect("q<number> is a valid id");
    }
    let mut notes = Vec::new();
    if !dropped.is_empty() {
        notes.push(dropped_note(dropped.values().sum(), &dropped));
    }
    (admitted, notes)
}

/// "3 generated questions failed validation and were dropped (2 × quote not found in the
/// document, 1 × duplicate question)."
pub fn dropped_note(total: usize, by_label: &BTreeMap<&'static str, usize>) -> String {
    let reasons: Vec<String> = by_label.iter().map(|(label, n)| format!("{n} × {label}")).collect();
    let noun = if total == 1 { "question failed validation and was" } else { "questions failed validation and were" };
    format!("{total} generated {noun} dropped ({}).", reasons.join(", "))
}

fn usual_option_count(questions: &[Question]) -> u8 {
    let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
    for q in questions.iter().filter(|q| q.kind == QuestionKind::MultipleChoice) {
        *counts.entry(q.options.len()).or_default() += 1;
    }
    let best = counts.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0))).map(|(n, _)| n).unwrap_or(4);
    u8::try_from(best).unwrap_or(4).clamp(GenerationParams::MIN_OPTIONS, GenerationParams::MAX_OPTIONS)
}

/// `q<n>` for the smallest n > `avoid.len()` that no question in `avoid` uses.
fn fresh_id(avoid: &[Question]) -> QuestionId {
    let taken: HashSet<&str> = avoid.iter().map(|q| q.id.as_str()).collect();
    (avoid.len() + 1..)
        .map(|n| format!("q{n}"))
        .find(|id| !taken.contains(id.as_str()))
        .and_then(|id| QuestionId::parse(&id).ok())
        .expect("some q<n> is free")
}

/// The first built-in question of `kind` that is new: not a repeat and not from a sentence an
/// existing question quotes.
fn builtin_replacement(
    doc: &Document,
    source: &SourceText,
    kind: QuestionKind,
    options: u8,
    avoid: &[Question],
) -> Result<Question, RegenerateError> {
    let (mcq, tf) = match kind {
        QuestionKind::MultipleChoice => (GenerationParams::MAX_MCQ, 0),
        QuestionKind::TrueFalse => (0, GenerationParams::MAX_TRUE_FALSE),
    };
    let params = GenerationParams::new(mcq, options, tf).map_err(|e| RegenerateError::Exhausted(e.to_string()))?;
    let exhausted = || {
        RegenerateError::Exhausted(match kind {
            QuestionKind::MultipleChoice => {
                "The document supports no further multiple-choice question that is not already in this exam.".into()
            }
            QuestionKind::TrueFalse => "The document supports no further true/false question that is not already in this exam.".into(),
        })
    };
    let generated = match exam_generator::generate(doc, params) {
        Ok(g) => g,
        Err(_) => return Err(exhausted()),
    };
    let used_quotes: HashSet<String> = avoid.iter().filter_map(|q| q.source.as_ref()).map(|s| normalise(&s.quote)).collect();
    let validator = Validator::with_existing(Some(source), avoid);
    generated
        .questions
        .into_iter()
        .filter(|q| q.source.as_ref().is_none_or(|s| !used_quotes.contains(&normalise(&s.quote))))
        .find_map(|q| validator.clone().admit(q).ok())
        .ok_or_else(exhausted)
}
