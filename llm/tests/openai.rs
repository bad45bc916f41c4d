//! The LLM backend against a stand-in OpenAI-compatible server started on 127.0.0.1:0 by each
//! test: good replies, malformed JSON, partly invalid batches, 429, 5xx, timeouts, a server
//! without `json_schema`, the fallback when the model is down, and the pipeline end to end.
//!
//! The stand-in "model" is deterministic: it builds fill-the-blank and true/false items from
//! the sentences of the excerpt it is sent, quoting them verbatim; tests then spoil, delay or
//! replace its replies.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use exam_core::bus::{EventBus, Group, InProcessBus};
use exam_core::generation::{BUILTIN, Extractor, Fallback, GenerationError, QuestionModel};
use exam_core::pipeline::{Outcome, Pipeline, PipelineConfig};
use exam_core::store::{self, FsStore, ObjectMeta, ObjectStore, PutMode};
use exam_domain::events::{CreatedObject, S3Notification};
use exam_domain::{Announcement, ExamId, GenerationParams, QuestionBank, QuestionKind, Stage, keys};
use exam_llm::{JsonMode, LlmGenerator, LlmSettings};
use futures_util::StreamExt;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// The stand-in server

/// What the stand-in does with request number `n` (0-based).
enum Reply {
    /// A chat completion whose message content is this text.
    Content(String),
    /// The stand-in model's own answer to the prompt.
    Model,
    /// The stand-in model's answer, changed by the function.
    ModelThen(fn(Value) -> Value),
    Status(u16, Option<&'static str>),
    /// Wait, then reply.
    Slow(Duration, Box<Reply>),
}

type Script = Box<dyn Fn(usize, &Value) -> Reply + Send + Sync>;

struct Stub {
    script: Script,
    requests: Mutex<Vec<Value>>,
    auth: Mutex<Vec<Option<String>>>,
    count: AtomicUsize,
}

struct Server {
    stub: Arc<Stub>,
    base_url: String,
}

impl Server {
    async fn start(script: impl Fn(usize, &Value) -> Reply + Send + Sync + 'static) -> Server {
        let stub =
            Arc::new(Stub { script: Box::new(script), requests: Mutex::default(), auth: Mutex::default(), count: AtomicUsize::new(0) });
        let app = axum::Router::new().route("/v1/chat/completions", axum::routing::post(completions)).with_state(stub.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Server { stub, base_url }
    }

    fn requests(&self) -> Vec<Value> {
        self.stub.requests.lock().unwrap().clone()
    }

    fn settings(&self) -> LlmSettings {
        let mut s = LlmSettings::new(&self.base_url, "stub-model");
        s.api_key = Some(exam_core::Secret::new("test-key"));
        s.timeout = Duration::from_secs(10);
        s.max_retries = 2;
        s.retry_base = Duration::from_millis(1);
        s.context_chars = 4000;
        s.attempts = 2;
        s
    }

    fn generator(&self) -> LlmGenerator {
        LlmGenerator::new(self.settings()).unwrap()
    }
}

async fn completions(State(stub): State<Arc<Stub>>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let n = stub.count.fetch_add(1, Ordering::SeqCst);
    stub.requests.lock().unwrap().push(body.clone());
    stub.auth.lock().unwrap().push(headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned));
    let mut reply = (stub.script)(n, &body);
    loop {
        match reply {
            Reply::Slow(d, then) => {
                tokio::time::sleep(d).await;
                reply = *then;
            }
            Reply::Content(c) => return chat(c),
            Reply::Model => return chat(model(&body).to_string()),
            Reply::ModelThen(f) => return chat(f(model(&body)).to_string()),
            Reply::Status(code, retry_after) => {
                let mut res =
                    (StatusCode::from_u16(code).unwrap(), Json(json!({"error": {"message": format!("stub says {code}"), "type": "x"}})))
                        .into_response();
                if let Some(v) = retry_after {
                    res.headers_mut().insert("retry-after", v.parse().unwrap());
                }
                return res;
            }
        }
    }
}

fn chat(content: String) -> Response {
    Json(json!({
        "id": "chatcmpl-1", "object": "chat.completion", "model": "stub-model",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}]
    }))
    .into_response()
}

/// The stand-in model: reads the counts from the prompt's first line and writes items from the
/// excerpt's sentences, skipping sentences whose questions the prompt says to avoid.
fn model(body: &Value) -> Value {
    let prompt = body["messages"][1]["content"].as_str().unwrap();
    let first = prompt.lines().next().unwrap();
    let nums: Vec<usize> = first.split(|c: char| !c.is_ascii_digit()).filter_map(|s| s.parse().ok()).collect();
    let (mcq, options, tf) = (nums[0], nums[1], nums[2]);
    let (head, excerpt) = prompt.split_once("Excerpt:").unwrap();
    let mut sentences: Vec<(u32, String)> = Vec::new();
    let mut page = 0;
    for line in excerpt.lines() {
        if let Some(n) = line.strip_prefix("[Page ").and_then(|l| l.strip_suffix(']')) {
            page = n.parse().unwrap();
            continue;
        }
        for s in line.split_inclusive(". ") {
            let s = s.trim();
            // A sentence is used when an avoided question shows its start or its end (the
            // blank may hide one of them).
            let body = &s[..s.len().saturating_sub(1)];
            let (start, end) = (body.chars().take(25).collect::<String>(), body.chars().rev().take(25).collect::<Vec<_>>());
            let end: String = end.into_iter().rev().collect();
            if s.split_whitespace().count() >= 8 && s.ends_with('.') && !head.contains(&start) && !head.contains(&end) {
                sentences.push((page, s.to_owned()));
            }
        }
    }
    let longest = |s: &str| -> String {
        s.split(|c: char| !c.is_alphabetic()).filter(|w| w.len() >= 5).max_by_key(|w| w.len()).unwrap_or("").to_owned()
    };
    let mut items = Vec::new();
    for (i, (page, s)) in sentences.iter().take(mcq).enumerate() {
        let answer = longest(s);
        let mut options_out = vec![answer.clone()];
        for (_, other) in sentences.iter().skip(i + 1).chain(sentences.iter()) {
            let w = longest(other);
            if options_out.len() < options && !w.is_empty() && !s.to_lowercase().contains(&w.to_lowercase()) && !options_out.contains(&w) {
                options_out.push(w);
            }
        }
        options_out.rotate_left(i % options);
        items.push(json!({
            "kind": "multiple_choice",
            "question": format!("Which word completes the sentence: \"{}\"", s.replacen(&answer, "_____", 1)),
            "options": options_out, "answer": answer, "page": page, "quote": s, "explanation": "The quote says so."
        }));
    }
    for (page, s) in sentences.iter().skip(mcq).take(tf) {
        items.push(json!({"kind": "true_false", "question": s, "options": [], "answer": "True", "page": page, "quote": s, "explanation": "Verbatim."}));
    }
    json!({ "questions": items })
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn lecture_pdf() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../generator/tests/fixtures/lecture.pdf")).unwrap()
}

fn pages() -> Vec<String> {
    exam_generator::extract_pages(&lecture_pdf()).unwrap().pages
}

fn params(mcq: u8, options: u8, tf: u8) -> GenerationParams {
    GenerationParams::new(mcq, options, tf).unwrap()
}

fn prompt_of(request: &Value) -> &str {
    request["messages"][1]["content"].as_str().unwrap()
}

/// Spoils the first item's quote.
fn invent_first_quote(mut v: Value) -> Value {
    v["questions"][0]["quote"] = json!("Computers were invented by dolphins in 1066.");
    v
}

async fn temp_store() -> (tempfile::TempDir, Arc<dyn ObjectStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(FsStore::open(dir.path(), "exams").await.unwrap());
    (dir, store)
}

// ---------------------------------------------------------------------------------------------
// Tests

#[tokio::test]
async fn good_replies_become_validated_questions_from_every_chunk() {
    let server = Server::start(|_, _| Reply::Model).await;
    let model = server.generator();
    let out = model.generate(&pages(), params(4, 3, 2)).await.unwrap();
    assert!(out.notes.is_empty(), "{:?}", out.notes);
    let kinds: Vec<QuestionKind> = out.questions.iter().map(|q| q.kind).collect();
    assert_eq!(kinds.iter().filter(|k| **k == QuestionKind::MultipleChoice).count(), 4);
    assert_eq!(kinds.iter().filter(|k| **k == QuestionKind::TrueFalse).count(), 2);
    assert_eq!(kinds[..4], [QuestionKind::MultipleChoice; 4], "multiple choice first");
    for q in &out.questions {
        assert!(q.flags.is_empty(), "{q:#?}");
        assert!(q.source.as_ref().is_some_and(|s| s.page >= 1));
        if q.kind == QuestionKind::MultipleChoice {
            assert_eq!(q.options.len(), 3);
        } else {
            assert!(q.question.starts_with("True or false: \""));
        }
    }
    // The ~10 000-character lecture in 4 000-character chunks: several requests, each with the
    // strict schema, the model name and the key.
    let requests = server.requests();
    assert!(requests.len() >= 3, "{} requests", requests.len());
    for r in &requests {
        assert_eq!(r["model"], "stub-model");
        assert_eq!(r["response_format"]["type"], "json_schema");
        assert_eq!(r["response_format"]["json_schema"]["strict"], true);
        let excerpt = prompt_of(r).split_once("Excerpt:").unwrap().1;
        assert!(excerpt.chars().count() <= 4000 + 200, "excerpt of {} chars", excerpt.chars().count());
    }
    assert!(server.stub.auth.lock().unwrap().iter().all(|a| a.as_deref() == Some("Bearer test-key")));
    // Questions come from all three pages.
    let pages: std::collections::BTreeSet<u32> = out.questions.iter().map(|q| q.source.as_ref().unwrap().page).collect();
    assert!(pages.len() >= 2, "{pages:?}");
}

#[tokio::test]
async fn a_malformed_reply_is_asked_again() {
    let server =
        Server::start(|n, _| if n == 0 { Reply::Content("Sure! Here are your questions: {\"questions\": [".into()) } else { Reply::Model })
            .await;
    let mut s = server.settings();
    s.context_chars = 20_000; // one chunk
    let out = LlmGenerator::new(s).unwrap().generate(&pages(), params(2, 4, 1)).await.unwrap();
    assert_eq!(out.questions.len(), 3);
    assert_eq!(server.requests().len(), 2);
    assert!(prompt_of(&server.requests()[1]).contains("could not be read"), "the model is told what went wrong");
    assert_eq!(out.notes, ["1 reply from the language model was not the JSON asked for."]);
}

#[tokio::test]
async fn invalid_questions_are_asked_again_then_dropped_and_counted() {
    // Every reply's first item quotes text that is not in the document.
    let server = Server::start(|_, _| Reply::ModelThen(invent_first_quote)).await;
    let mut s = server.settings();
    s.context_chars = 20_000;
    s.attempts = 2;
    let out = LlmGenerator::new(s).unwrap().generate(&pages(), params(2, 4, 1)).await.unwrap();
    // Round 1: 1 of 2 MCQs rejected; round 2 asks for the missing one and it is rejected again.
    assert_eq!(server.requests().len(), 2);
    let second = prompt_of(&server.requests()[1]).to_owned();
    assert!(second.starts_with("Write 1 multiple-choice questions (exactly 4 options each) and 0 true/false"), "{second}");
    assert!(second.contains("its quote does not occur in the document"), "the defect is fed back");
    assert!(second.contains("Do not repeat"), "accepted questions are listed to avoid");
    assert_eq!(out.questions.len(), 2);
    assert_eq!(
        out.notes,
        [
            "2 generated questions failed validation and were dropped (2 × quote not found in the document).",
            "The language model produced 1 of 2 requested valid multiple-choice questions.",
        ]
    );
}

#[tokio::test]
async fn rate_limits_are_waited_out_and_an_unreasonable_retry_after_is_not() {
    let server = Server::start(|n, _| if n == 0 { Reply::Status(429, Some("0")) } else { Reply::Model }).await;
    let mut s = server.settings();
    s.context_chars = 20_000;
    let out = LlmGenerator::new(s).unwrap().generate(&pages(), params(1, 4, 1)).await.unwrap();
    assert_eq!(out.questions.len(), 2);
    assert_eq!(server.requests().len(), 2);

    // Asked to come back in an hour: give up now (one request, no retry) and say why.
    let server = Server::start(|_, _| Reply::Status(429, Some("3600"))).await;
    let err = server.generator().generate(&pages(), params(1, 4, 1)).await.unwrap_err();
    assert_eq!(server.requests().len(), 1);
    assert!(err.0.contains("rate-limited (asked to wait 3600 s)"), "{err}");
}

#[tokio::test]
async fn server_errors_are_retried_a_bounded_number_of_times_and_client_errors_not_at_all() {
    let server = Server::start(|n, _| if n < 2 { Reply::Status(503, None) } else { Reply::Model }).await;
    let mut s = server.settings();
    s.context_chars = 20_000;
    let out = LlmGenerator::new(s.clone()).unwrap().generate(&pages(), params(1, 4, 0)).await.unwrap();
    assert_eq!(out.questions.len(), 1);
    assert_eq!(server.requests().len(), 3);

    let server = Server::start(|_, _| Reply::Status(500, None)).await;
    let err = server.generator().generate(&pages(), params(1, 4, 0)).await.unwrap_err();
    assert_eq!(server.requests().len(), 3, "the first request and max_retries = 2 retries");
    assert!(err.0.contains("answered 500: stub says 500"), "{err}");

    let server = Server::start(|_, _| Reply::Status(401, None)).await;
    let err = server.generator().generate(&pages(), params(1, 4, 0)).await.unwrap_err();
    assert_eq!(server.requests().len(), 1);
    assert!(err.0.contains("401"), "{err}");
}

#[tokio::test]
async fn a_slow_server_hits_the_timeout_on_every_attempt() {
    let server = Server::start(|_, _| Reply::Slow(Duration::from_secs(30), Box::new(Reply::Model))).await;
    let mut s = server.settings();
    s.timeout = Duration::from_millis(300);
    s.max_retries = 1;
    let err = LlmGenerator::new(s).unwrap().generate(&pages(), params(1, 4, 0)).await.unwrap_err();
    assert!(err.0.contains("did not answer within"), "{err}");
    // The stand-in counts a request when it arrives, so both attempts are seen.
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_server_without_json_schema_gets_json_object_and_then_a_plain_prompt() {
    // Refuses `json_schema` with 400; accepts `json_object`.
    let server =
        Server::start(|_, body| if body["response_format"]["type"] == "json_schema" { Reply::Status(400, None) } else { Reply::Model })
            .await;
    let mut s = server.settings();
    s.context_chars = 20_000;
    let model = LlmGenerator::new(s.clone()).unwrap();
    assert_eq!(model.generate(&pages(), params(1, 4, 1)).await.unwrap().questions.len(), 2);
    // The downgrade is remembered: the next document starts with `json_object`.
    assert_eq!(model.client().json_mode(), JsonMode::Object);
    model.generate(&pages(), params(1, 4, 1)).await.unwrap();
    let modes: Vec<Value> = server.requests().iter().map(|r| r["response_format"]["type"].clone()).collect();
    assert_eq!(modes, [json!("json_schema"), json!("json_object"), json!("json_object")]);

    // Refuses any `response_format`: the prompt alone asks for JSON.
    let server = Server::start(|_, body| if body.get("response_format").is_some() { Reply::Status(400, None) } else { Reply::Model }).await;
    let model = LlmGenerator::new(LlmSettings { context_chars: 20_000, ..server.settings() }).unwrap();
    assert_eq!(model.generate(&pages(), params(1, 4, 1)).await.unwrap().questions.len(), 2);
    assert_eq!(model.client().json_mode(), JsonMode::Prompt);
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn when_the_model_is_down_the_builtin_generator_writes_the_bank_and_the_notes_say_why() {
    // A port nobody listens on.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut s = LlmSettings::new(format!("http://{addr}/v1"), "absent-model");
    s.retry_base = Duration::from_millis(1);
    s.max_retries = 1;
    let (_dir, store) = temp_store().await;
    let doc = exam_generator::extract_pages(&lecture_pdf()).unwrap();
    let generation = exam_llm::generation(store.clone(), Extractor::InProcess, Duration::from_secs(30), Some(&s)).unwrap();
    let g = generation.generate(&doc, params(3, 4, 2)).await.unwrap();
    assert_eq!(g.generator, BUILTIN);
    assert_eq!(g.questions.len(), 5);
    assert!(g.notes[0].starts_with("The language model (absent-model) could not be used"), "{:?}", g.notes);
    assert!(g.notes[0].contains("cannot be reached"), "{:?}", g.notes);

    // A deployment without fallback fails with the same reason.
    s.fallback = Fallback::None;
    let strict = exam_llm::generation(store, Extractor::InProcess, Duration::from_secs(30), Some(&s)).unwrap();
    let err = strict.generate(&doc, params(3, 4, 2)).await.unwrap_err();
    assert!(matches!(&err, GenerationError::Model(m) if m.contains("cannot be reached")), "{err}");
}

#[tokio::test]
async fn regenerating_one_question_asks_for_one_avoiding_the_others() {
    let server = Server::start(|_, _| Reply::Model).await;
    let model = server.generator();
    let pages = pages();
    let bank = model.generate(&pages, params(2, 3, 1)).await.unwrap().questions;
    let before = server.requests().len();
    let q = model.regenerate(&pages, QuestionKind::MultipleChoice, 3, &bank).await.unwrap();
    assert_eq!(q.kind, QuestionKind::MultipleChoice);
    assert_eq!(q.options.len(), 3);
    assert!(bank.iter().all(|b| b.question != q.question));
    let prompt = prompt_of(&server.requests()[before]).to_owned();
    assert!(prompt.starts_with("Write 1 multiple-choice questions (exactly 3 options each) and 0 true/false"), "{prompt}");
    for b in &bank {
        assert!(prompt.contains(&b.question), "existing questions are listed to avoid");
    }
}

#[tokio::test]
async fn the_pipeline_writes_a_bank_with_the_model_and_announces_it() {
    let server = Server::start(|_, _| Reply::Model).await;
    let (_dir, store) = temp_store().await;
    let bus: Arc<dyn EventBus> = Arc::new(InProcessBus::default());
    let mut announcements = bus.subscribe("announcements", Group::EveryInstance).await.unwrap();
    let generation =
        Arc::new(exam_llm::generation(store.clone(), Extractor::InProcess, Duration::from_secs(30), Some(&server.settings())).unwrap());
    let pipeline = Pipeline::new(
        store.clone(),
        bus.clone(),
        PipelineConfig { announcements_topic: "announcements".into(), generation: generation.clone() },
    );

    let exam = ExamId::parse("llm1").unwrap();
    let key = keys::upload_key(&exam, "lecture.pdf");
    let mut meta = ObjectMeta { content_type: "application/pdf".into(), ..Default::default() };
    for (k, v) in [("n_mcq", "3"), ("n_mcq_options", "4"), ("n_tfq", "2"), ("title", "History")] {
        meta.user.insert(k.into(), v.into());
    }
    store.put_bytes(&key, lecture_pdf().into(), &meta, PutMode::CreateNew).await.unwrap();
    let event =
        S3Notification::object_created(CreatedObject { bucket: "exams".into(), key, user_metadata: meta.user, ..Default::default() });
    let outcomes = pipeline.handle_notification(&serde_json::to_vec(&event).unwrap()).await.unwrap();
    assert_eq!(outcomes, [Outcome::Generated { exam_id: exam.clone(), questions: 5 }]);

    let mut stages = Vec::new();
    while stages.len() < 3 {
        let d = tokio::time::timeout(Duration::from_secs(5), announcements.next()).await.unwrap().unwrap();
        if let Announcement::ExamStatus { stage, detail, .. } = serde_json::from_slice(&d.message.payload).unwrap() {
            stages.push((stage, detail));
        }
    }
    assert_eq!(stages, [(Stage::Extracting, None), (Stage::Generating, Some("with stub-model".to_owned())), (Stage::Ready, None)]);

    let bank: QuestionBank = store::get_json(store.as_ref(), &keys::bank_key(&exam)).await.unwrap().unwrap();
    assert_eq!(bank.generator, "llm/stub-model");
    assert_eq!(bank.questions.iter().map(|q| q.id.as_str()).collect::<Vec<_>>(), ["q1", "q2", "q3", "q4", "q5"]);
    assert!(store.head(&keys::text_key(&exam)).await.unwrap().is_some(), "the page text is kept for regeneration");

    // The gateway's regeneration reads that text and asks the model for one question.
    let q = generation.regenerate_question(&exam, QuestionKind::TrueFalse, &bank.questions).await.unwrap();
    assert_eq!(q.id.as_str(), "q6");
    assert!(bank.questions.iter().all(|b| b.question != q.question));
}
