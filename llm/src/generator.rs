//! [`LlmGenerator`]: the [`QuestionModel`] that asks a chat-completions model, chunk by chunk,
//! validates every question it returns and asks again, a bounded number of times, for the ones
//! that fail.
//!
//! A bank is made in rounds. Round 1 asks every chunk for its share of the requested counts
//! (in proportion to its length), at most `concurrency` requests at a time. Each reply's items
//! are read and put through the validator in chunk order (so the result does not depend on
//! which reply came first); rejected items are counted and their defects are told to the model
//! in the next round, which asks only the chunks still short of their share. After `attempts`
//! rounds what is still missing is missing, and the notes say so. A failure of the service
//! itself (unreachable, timeouts, rate limits beyond the retries, a refused key) ends the whole
//! generation with that reason: the caller falls back to the built-in generator.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use exam_core::generation::{ModelError, ModelOutput, QuestionModel, dropped_note};
use exam_domain::validate::{Rejection, SourceText, Validator};
use exam_domain::{GenerationParams, Question, QuestionKind};
use futures_util::StreamExt;
use serde_json::Value;

use crate::LlmSettings;
use crate::client::{ChatClient, LlmError};
use crate::prompt::{self, Ask, Chunk};

pub struct LlmGenerator {
    client: ChatClient,
    settings: Arc<LlmSettings>,
}

/// One chunk's share of the bank and what it has produced so far.
struct Task {
    chunk: Chunk,
    mcq: usize,
    true_false: usize,
    accepted: Vec<Question>,
    feedback: Vec<String>,
}

impl Task {
    fn missing(&self, kind: QuestionKind) -> usize {
        let want = match kind {
            QuestionKind::MultipleChoice => self.mcq,
            QuestionKind::TrueFalse => self.true_false,
        };
        want.saturating_sub(self.accepted.iter().filter(|q| q.kind == kind).count())
    }

    fn is_short(&self) -> bool {
        self.missing(QuestionKind::MultipleChoice) + self.missing(QuestionKind::TrueFalse) > 0
    }
}

/// What was thrown away, for the teacher's notes.
#[derive(Default)]
struct Drops {
    by_label: BTreeMap<&'static str, usize>,
    malformed_replies: usize,
}

impl Drops {
    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        let total: usize = self.by_label.values().sum();
        if total > 0 {
            notes.push(dropped_note(total, &self.by_label));
        }
        if self.malformed_replies > 0 {
            let (noun, verb) = if self.malformed_replies == 1 { ("reply", "was") } else { ("replies", "were") };
            notes.push(format!("{} {noun} from the language model {verb} not the JSON asked for.", self.malformed_replies));
        }
        notes
    }
}

/// The first defect of each rejected item, as feedback for the model.
fn feedback_line(q: &Question, r: &Rejection) -> String {
    format!("{:?}: {r}", q.question.chars().take(80).collect::<String>())
}

fn service_failure(e: LlmError) -> ModelError {
    ModelError(e.to_string())
}

impl LlmGenerator {
    pub fn new(settings: LlmSettings) -> anyhow::Result<Self> {
        let settings = Arc::new(settings);
        Ok(LlmGenerator { client: ChatClient::new(settings.clone())?, settings })
    }

    /// The HTTP client (its current JSON mode, for tests and diagnostics).
    pub fn client(&self) -> &ChatClient {
        &self.client
    }

    async fn ask(&self, task: &Task, options: u8, avoid: &[&str]) -> Result<Value, LlmError> {
        let ask = Ask {
            chunk: &task.chunk,
            mcq: task.missing(QuestionKind::MultipleChoice),
            options,
            true_false: task.missing(QuestionKind::TrueFalse),
            avoid: avoid.to_vec(),
            feedback: &task.feedback,
        };
        self.client.complete_json(prompt::SYSTEM, &prompt::user_prompt(&ask), "exam_questions", &prompt::schema()).await
    }

    /// Reads a reply into `task`: items of a kind the task still needs are validated and
    /// admitted or counted as dropped; surplus items are ignored.
    fn take_reply(&self, task: &mut Task, reply: Result<Value, LlmError>, options: u8, validator: &mut Validator<'_>, drops: &mut Drops) {
        task.feedback.clear();
        let reply = match reply {
            Ok(v) => v,
            Err(e) => {
                drops.malformed_replies += 1;
                task.feedback.push(format!("your reply could not be read ({e}); reply with the JSON object only"));
                return;
            }
        };
        let Some(items) = prompt::items(&reply) else {
            drops.malformed_replies += 1;
            task.feedback.push("your reply had no \"questions\" array".into());
            return;
        };
        for (n, item) in items.iter().enumerate() {
            let q = match prompt::to_question(item, n + 1, options) {
                Ok(q) => q,
                Err(why) => {
                    *drops.by_label.entry("incomplete or inconsistent item").or_default() += 1;
                    task.feedback.push(why);
                    continue;
                }
            };
            if task.missing(q.kind) == 0 {
                continue;
            }
            match validator.admit(q.clone()) {
                Ok(q) => task.accepted.push(q),
                Err(r) => {
                    tracing::debug!(rejection = %r, "model question rejected");
                    drops.by_label.entry(r.defects[0].label()).and_modify(|n| *n += 1).or_insert(1);
                    task.feedback.push(feedback_line(&q, &r));
                }
            }
        }
    }
}

#[async_trait]
impl QuestionModel for LlmGenerator {
    fn name(&self) -> &str {
        &self.settings.model
    }

    async fn generate(&self, pages: &[String], params: GenerationParams) -> Result<ModelOutput, ModelError> {
        let chunks = prompt::chunks(pages, self.settings.context_chars);
        if chunks.is_empty() {
            return Err(ModelError("the document has no text to send to the model".into()));
        }
        let weights: Vec<usize> = chunks.iter().map(Chunk::chars).collect();
        let mcq = prompt::allocate(usize::from(params.mcq), &weights);
        let tf = prompt::allocate(usize::from(params.true_false), &weights);
        let mut tasks: Vec<Task> = chunks
            .into_iter()
            .zip(mcq.into_iter().zip(tf))
            .map(|(chunk, (mcq, true_false))| Task { chunk, mcq, true_false, accepted: Vec::new(), feedback: Vec::new() })
            .collect();
        tracing::info!(chunks = tasks.len(), model = %self.settings.model, "asking the language model");

        let source = SourceText::new(pages);
        let mut validator = Validator::new(Some(&source));
        let mut drops = Drops::default();
        for round in 1..=self.settings.attempts.max(1) {
            let pending: Vec<usize> = (0..tasks.len()).filter(|&i| tasks[i].is_short()).collect();
            if pending.is_empty() {
                break;
            }
            tracing::debug!(round, requests = pending.len(), "generation round");
            let replies: Vec<Result<Value, LlmError>> = {
                let avoid: Vec<&str> = tasks.iter().flat_map(|t| t.accepted.iter().map(|q| q.question.as_str())).collect();
                let (tasks, avoid) = (&tasks, &avoid);
                futures_util::stream::iter(pending.iter().copied().map(|i| self.ask(&tasks[i], params.options, avoid)))
                    .buffered(self.settings.concurrency.max(1))
                    .collect()
                    .await
            };
            for (&i, reply) in pending.iter().zip(replies) {
                if let Err(e) = &reply
                    && e.is_service_failure()
                {
                    return Err(service_failure(reply.unwrap_err()));
                }
                self.take_reply(&mut tasks[i], reply, params.options, &mut validator, &mut drops);
            }
        }

        let mut questions: Vec<Question> = Vec::new();
        for kind in [QuestionKind::MultipleChoice, QuestionKind::TrueFalse] {
            questions.extend(tasks.iter().flat_map(|t| t.accepted.iter().filter(|q| q.kind == kind).cloned()));
        }
        let mut notes = drops.notes();
        let (got_mcq, got_tf) = (
            questions.iter().filter(|q| q.kind == QuestionKind::MultipleChoice).count(),
            questions.iter().filter(|q| q.kind == QuestionKind::TrueFalse).count(),
        );
        if got_mcq < usize::from(params.mcq) {
            notes.push(format!("The language model produced {got_mcq} of {} requested valid multiple-choice questions.", params.mcq));
        }
        if got_tf < usize::from(params.true_false) {
            notes.push(format!("The language model produced {got_tf} of {} requested valid true/false questions.", params.true_false));
        }
        Ok(ModelOutput { questions, notes })
    }

    async fn regenerate(&self, pages: &[String], kind: QuestionKind, options: u8, avoid: &[Question]) -> Result<Question, ModelError> {
        let chunks = prompt::chunks(pages, self.settings.context_chars);
        // The chunk the fewest existing questions come from.
        let used = |c: &Chunk| avoid.iter().filter(|q| q.source.as_ref().is_some_and(|s| c.pages().any(|p| p == s.page))).count();
        let chunk = chunks
            .into_iter()
            .enumerate()
            .min_by_key(|(i, c)| (used(c), *i))
            .map(|(_, c)| c)
            .ok_or_else(|| ModelError("the document has no text".into()))?;
        let (mcq, true_false) = match kind {
            QuestionKind::MultipleChoice => (1, 0),
            QuestionKind::TrueFalse => (0, 1),
        };
        let mut task = Task { chunk, mcq, true_false, accepted: Vec::new(), feedback: Vec::new() };
        let source = SourceText::new(pages);
        let mut validator = Validator::with_existing(Some(&source), avoid);
        let avoid_texts: Vec<&str> = avoid.iter().map(|q| q.question.as_str()).collect();
        let mut drops = Drops::default();
        for _ in 0..self.settings.attempts.max(1) {
            let reply = self.ask(&task, options, &avoid_texts).await;
            if let Err(e) = &reply
                && e.is_service_failure()
            {
                return Err(service_failure(reply.unwrap_err()));
            }
            self.take_reply(&mut task, reply, options, &mut validator, &mut drops);
            if let Some(q) = task.accepted.pop() {
                return Ok(q);
            }
        }
        let why = if task.feedback.is_empty() { "it returned no question".to_owned() } else { task.feedback.join("; ") };
        Err(ModelError(format!("no valid question after {} attempts ({why})", self.settings.attempts.max(1))))
    }
}
