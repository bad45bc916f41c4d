//! Generation: object-created notification → question bank → announcement.
//!
//! [`Pipeline::handle_notification`] is the single entry point, called by the embedded worker
//! ([`spawn_worker`]) and by the generator function for each KafkaSource CloudEvent. Its result
//! maps onto KafkaSource's retry rules: `Ok` = done or deliberately ignored (2xx),
//! [`PipelineError::Poison`] = can never succeed (4xx, not retried), [`PipelineError::Transient`]
//! = the store or broker failed, a retry can help (5xx).
//!
//! Idempotence: the bank is written with `PutMode::CreateNew` under a key derived from the
//! exam id; a redelivered event finds the bank (or the failure record) and only repeats the
//! final announcement, which consumers apply idempotently.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use exam_domain::events::S3Notification;
use exam_domain::keys::{self, meta};
use exam_domain::{Announcement, ExamId, GenerationParams, QuestionBank, Stage};
use futures_util::StreamExt;
use tracing::Instrument;

use crate::bus::{EventBus, Group};
pub use crate::generation::Extractor;
use crate::generation::Generation;
use crate::store::{self, ObjectStore, PutMode, StoreError};

#[derive(Debug, Clone)]
pub struct PipelineConfig {
    pub announcements_topic: String,
    /// Extraction and question writing (built-in or a language model), shared with the
    /// gateway's single-question regeneration.
    pub generation: Arc<Generation>,
}

/// What became of one notification record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Generated {
        exam_id: ExamId,
        questions: usize,
    },
    /// Generation ran and failed for a reason the teacher can read (bad PDF, too little text).
    Failed {
        exam_id: ExamId,
        reason: String,
    },
    /// A redelivery: the result already exists; the final announcement was repeated.
    AlreadyDone {
        exam_id: ExamId,
    },
    Ignored(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PipelineError {
    #[error("unusable event: {0}")]
    Poison(String),
    #[error("temporary failure, retry: {0}")]
    Transient(String),
}

impl From<StoreError> for PipelineError {
    fn from(e: StoreError) -> Self {
        PipelineError::Transient(e.to_string())
    }
}

pub use exam_domain::FailureRecord;

pub struct Pipeline {
    store: Arc<dyn ObjectStore>,
    bus: Arc<dyn EventBus>,
    config: PipelineConfig,
}

impl Pipeline {
    pub fn new(store: Arc<dyn ObjectStore>, bus: Arc<dyn EventBus>, config: PipelineConfig) -> Self {
        Pipeline { store, bus, config }
    }

    /// Handles one bucket notification (MinIO's Kafka record value).
    pub async fn handle_notification(&self, payload: &[u8]) -> Result<Vec<Outcome>, PipelineError> {
        self.handle_counted(payload).await
    }

    async fn handle_notification_uncounted(&self, payload: &[u8]) -> Result<Vec<Outcome>, PipelineError> {
        let event: S3Notification =
            serde_json::from_slice(payload).map_err(|e| PipelineError::Poison(format!("not an S3 bucket notification: {e}")))?;
        let mut outcomes = Vec::with_capacity(event.records.len());
        for record in &event.records {
            if !record.creates_content() {
                outcomes.push(Outcome::Ignored(format!("event {} does not create content", record.event_name)));
                continue;
            }
            let key = record.s3.object.decoded_key().map_err(|e| PipelineError::Poison(format!("object key is not UTF-8: {e}")))?;
            outcomes.push(self.handle_object(&key).await?);
        }
        Ok(outcomes)
    }

    /// [`Pipeline::handle_notification`], counted in `exam_generation_outcomes_total`.
    async fn handle_counted(&self, payload: &[u8]) -> Result<Vec<Outcome>, PipelineError> {
        let result = self.handle_notification_uncounted(payload).await;
        let generation = &self.config.generation;
        let (metrics, generator) = (generation.metrics(), generation.generator_label());
        match &result {
            Ok(outcomes) => {
                for o in outcomes {
                    metrics.outcome(outcome_label(o), generator);
                }
            }
            Err(PipelineError::Poison(_)) => metrics.outcome("poison", generator),
            Err(PipelineError::Transient(_)) => metrics.outcome("transient", generator),
        }
        result
    }

    async fn announce(&self, a: &Announcement) -> Result<(), PipelineError> {
        let payload = serde_json::to_vec(a).map_err(|e| PipelineError::Transient(e.to_string()))?;
        let topic = &self.config.announcements_topic;
        // The bus carries this span's context to the gateways (a Kafka header, or the
        // in-process message's headers).
        self.bus
            .publish(topic, a.key(), Bytes::from(payload))
            .instrument(crate::bus::publish_span(topic))
            .await
            .map_err(|e| PipelineError::Transient(e.to_string()))
    }

    async fn handle_object(&self, key: &str) -> Result<Outcome, PipelineError> {
        let Some(exam_id) = keys::exam_of_upload_key(key) else {
            return Ok(Outcome::Ignored(format!("{key} is not an upload under {}", keys::UPLOADS_PREFIX)));
        };
        if let Some(done) = self.repeat_final_announcement(&exam_id).await? {
            return Ok(done);
        }
        let Some(info) = self.store.head(key).await? else {
            return Ok(Outcome::Ignored(format!("{key} no longer exists")));
        };
        let title = decode_meta(info.meta.get(meta::TITLE))
            .or_else(|| decode_meta(info.meta.get(meta::FILENAME)))
            .unwrap_or_else(|| key.rsplit('/').next().unwrap_or(key).to_owned());
        // Instrumented, not entered: a guard held across `.await` would put other exams' log
        // lines into this span while this one waits.
        let span = tracing::info_span!("generate", otel.name = "generate exam", exam.id = %exam_id, object.key = key);
        async move {
            let params = GenerationParams::parse(info.meta.get(meta::MCQ), info.meta.get(meta::OPTIONS), info.meta.get(meta::TRUE_FALSE));
            let params = match params {
                Ok(p) => p,
                Err(e) => {
                    return self.fail(&exam_id, &title, "invalid_params", format!("The upload's question counts are invalid ({e}).")).await;
                }
            };

            self.announce(&stage(&exam_id, Stage::Extracting, &title)).await?;
            let Some((bytes, _)) = self.store.get(key).await? else {
                return Ok(Outcome::Ignored(format!("{key} no longer exists")));
            };
            let generation = &self.config.generation;
            let (metrics, generator) = (generation.metrics(), generation.generator_label());
            let begun = std::time::Instant::now();
            let started = std::time::Instant::now();
            let extracted = generation.extract(bytes).instrument(tracing::info_span!("extract", otel.name = "extract text")).await;
            metrics.stage("extract", generator, started.elapsed());
            let document = match extracted {
                Ok(d) => d,
                Err(e) => return self.fail(&exam_id, &title, extract_reason(&e), e.to_string()).await,
            };
            tracing::info!(pages = document.pages.len(), duration_ms = started.elapsed().as_millis() as u64, "text extracted");
            // For regenerating single questions later; without it the PDF is read again then.
            if let Err(e) =
                generation.save_text(&exam_id, &document).instrument(tracing::info_span!("save_text", otel.name = "store text")).await
            {
                tracing::warn!(error = %e, "could not store the extracted text");
            }

            self.announce(&stage(&exam_id, Stage::Generating, &title).with_detail(generation.stage_detail())).await?;
            let started = std::time::Instant::now();
            let generated =
                generation.generate(&document, params).instrument(tracing::info_span!("questions", otel.name = "generate questions")).await;
            metrics.stage("generate", generator, started.elapsed());
            let generated = match generated {
                Ok(g) => g,
                Err(e) => return self.fail(&exam_id, &title, generation_reason(&e), e.to_string()).await,
            };
            tracing::info!(
                generator = %generated.generator,
                questions = generated.questions.len(),
                duration_ms = started.elapsed().as_millis() as u64,
                "questions generated"
            );
            let bank = QuestionBank {
                format: exam_domain::bank::BANK_FORMAT.to_owned(),
                exam_id: exam_id.clone(),
                title: title.clone(),
                source_key: key.to_owned(),
                generator: generated.generator,
                created_at: crate::now_rfc3339(),
                requested: Some(params),
                notes: generated.notes,
                questions: generated.questions,
            };
            let stored = store::put_json(self.store.as_ref(), &keys::bank_key(&exam_id), &bank, PutMode::CreateNew)
                .instrument(tracing::info_span!("store_bank", otel.name = "store question bank"))
                .await;
            match stored {
                Ok(_) => {}
                Err(StoreError::AlreadyExists(_)) => {
                    return self.repeat_final_announcement(&exam_id).await.map(|o| o.unwrap_or(Outcome::AlreadyDone { exam_id }));
                }
                Err(e) => return Err(e.into()),
            }
            self.announce(&ready(&bank)).await?;
            metrics.stage("total", generator, begun.elapsed());
            tracing::info!(questions = bank.questions.len(), "question bank written");
            Ok(Outcome::Generated { exam_id, questions: bank.questions.len() })
        }
        .instrument(span)
        .await
    }

    /// If this exam was already handled, repeats its final announcement (a previous delivery
    /// may have stored the result and then failed to announce it).
    async fn repeat_final_announcement(&self, exam_id: &ExamId) -> Result<Option<Outcome>, PipelineError> {
        if let Some(bank) = store::get_json::<QuestionBank>(self.store.as_ref(), &keys::bank_key(exam_id)).await? {
            self.announce(&ready(&bank)).await?;
            return Ok(Some(Outcome::AlreadyDone { exam_id: exam_id.clone() }));
        }
        if let Some(f) = store::get_json::<FailureRecord>(self.store.as_ref(), &keys::failure_key(exam_id)).await? {
            self.announce(&failed(&f)).await?;
            return Ok(Some(Outcome::AlreadyDone { exam_id: exam_id.clone() }));
        }
        Ok(None)
    }

    /// `label`: the reason as a bounded metrics label (`exam_generation_failures_total`).
    async fn fail(&self, exam_id: &ExamId, title: &str, label: &'static str, reason: String) -> Result<Outcome, PipelineError> {
        tracing::warn!(exam.id = %exam_id, %reason, "generation failed");
        self.config.generation.metrics().failure(label);
        let record = FailureRecord { exam_id: exam_id.clone(), title: title.to_owned(), reason: reason.clone(), at: crate::now_rfc3339() };
        match store::put_json(self.store.as_ref(), &keys::failure_key(exam_id), &record, PutMode::CreateNew).await {
            Ok(_) | Err(StoreError::AlreadyExists(_)) => {}
            Err(e) => return Err(e.into()),
        }
        self.announce(&failed(&record)).await?;
        Ok(Outcome::Failed { exam_id: exam_id.clone(), reason })
    }
}

fn outcome_label(o: &Outcome) -> &'static str {
    match o {
        Outcome::Generated { .. } => "generated",
        Outcome::Failed { .. } => "failed",
        Outcome::AlreadyDone { .. } => "already_done",
        Outcome::Ignored(_) => "ignored",
    }
}

fn extract_reason(e: &exam_generator::ExtractError) -> &'static str {
    use exam_generator::ExtractError as E;
    match e {
        E::NotPdf => "not_pdf",
        E::Encrypted => "encrypted",
        E::NoText => "no_text",
        E::Malformed(_) => "malformed",
        E::Timeout(_) => "extract_timeout",
        E::Crashed(_) => "extract_crashed",
        E::TooLarge(_) => "too_large",
    }
}

fn generation_reason(e: &crate::generation::GenerationError) -> &'static str {
    use crate::generation::GenerationError as G;
    use exam_generator::GenerateError as B;
    match e {
        G::Builtin(B::NotEnoughText(_)) => "not_enough_text",
        G::Builtin(B::NoTestableTerms(_)) => "no_testable_terms",
        G::Builtin(B::InvalidParams(_)) => "invalid_params",
        G::Model(_) => "model",
        G::NothingValid(_) => "nothing_valid",
    }
}

fn stage(exam_id: &ExamId, stage: Stage, title: &str) -> Announcement {
    Announcement::stage(exam_id.clone(), stage, crate::now_rfc3339()).with_title(Some(title.to_owned()))
}

fn ready(bank: &QuestionBank) -> Announcement {
    Announcement::ready(bank, crate::now_rfc3339())
}

fn failed(f: &FailureRecord) -> Announcement {
    Announcement::failed(f.exam_id.clone(), f.title.clone(), f.reason.clone(), f.at.clone())
}

/// Metadata values are percent-encoded UTF-8 (headers are ASCII).
pub fn decode_meta(v: Option<&str>) -> Option<String> {
    let v = v?;
    let s = percent_encoding::percent_decode_str(v).decode_utf8_lossy().trim().to_owned();
    (!s.is_empty()).then_some(s)
}

/// The trace context of the upload a bucket notification is about: the `traceparent` (and
/// `tracestate`) the gateway put into the object's user metadata, from the first record that
/// has one. Empty for anything else, unreadable payloads included (the pipeline says why).
pub fn trace_context(payload: &[u8]) -> std::collections::HashMap<String, String> {
    let Ok(event) = serde_json::from_slice::<S3Notification>(payload) else { return Default::default() };
    event
        .records
        .iter()
        .map(|r| exam_telemetry::from_pairs(r.s3.object.user_metadata.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
        .find(|c| c.contains_key(exam_telemetry::TRACEPARENT))
        .unwrap_or_default()
}

pub fn encode_meta(v: &str) -> String {
    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The embedded generator trigger: consumes the uploads topic in-process, as the generator
/// function does in a cluster. Subscribes before returning, so no upload made afterwards is
/// missed. Transient failures are retried with backoff; at most `concurrency` documents are
/// processed at once.
pub async fn spawn_worker(
    pipeline: Arc<Pipeline>,
    bus: Arc<dyn EventBus>,
    uploads_topic: &str,
    concurrency: usize,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let mut stream = bus.subscribe(uploads_topic, Group::Shared("exam-generator".into())).await?;
    let permits = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    Ok(tokio::spawn(async move {
        while let Some(delivery) = stream.next().await {
            let Ok(permit) = permits.clone().acquire_owned().await else { break };
            let pipeline = pipeline.clone();
            // The upload's trace (object metadata), else the publisher's (the message headers).
            let span = delivery.message.consumer_span("handle upload notification");
            exam_telemetry::set_parent(&span, &trace_context(&delivery.message.payload));
            let task = async move {
                let mut backoff = Duration::from_millis(200);
                for attempt in 1..=8 {
                    match pipeline.handle_notification(&delivery.message.payload).await {
                        Ok(outcomes) => {
                            tracing::debug!(?outcomes, "notification handled");
                            break;
                        }
                        Err(PipelineError::Poison(reason)) => {
                            tracing::error!(%reason, key = %delivery.message.key, "dropping unusable upload notification");
                            break;
                        }
                        Err(PipelineError::Transient(reason)) => {
                            tracing::warn!(%reason, attempt, "generation failed temporarily; retrying");
                            tokio::time::sleep(backoff).await;
                            backoff = (backoff * 2).min(Duration::from_secs(30));
                        }
                    }
                }
                delivery.ack().await;
                drop(permit);
            };
            tokio::spawn(task.instrument(span));
        }
    }))
}
