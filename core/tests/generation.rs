//! Generation with the built-in generator and with a scripted stand-in for a language model:
//! the validator gate, the fallback rules, single-question regeneration, and the pipeline's
//! stage detail and stored text.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use exam_core::bus::{EventBus, Group, InProcessBus};
use exam_core::generation::{
    BUILTIN, Extractor, Fallback, Generation, GenerationConfig, GenerationError, ModelError, ModelOutput, QuestionModel, RegenerateError,
};
use exam_core::pipeline::{Outcome, Pipeline, PipelineConfig};
use exam_core::store::{self, FsStore, ObjectMeta, ObjectStore, PutMode};
use exam_domain::events::{CreatedObject, S3Notification};
use exam_domain::validate::{SourceText, Validator};
use exam_domain::{
    Announcement, AnswerOption, ExamId, GenerationParams, OptionId, Question, QuestionBank, QuestionId, QuestionKind, SourceRef, Stage,
    keys,
};
use exam_generator::Document;
use futures_util::StreamExt;

fn lecture_pdf() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../generator/tests/fixtures/lecture.pdf")).unwrap()
}

fn lecture() -> Document {
    exam_generator::extract_pages(&lecture_pdf()).unwrap()
}

fn params(mcq: u8, options: u8, tf: u8) -> GenerationParams {
    GenerationParams::new(mcq, options, tf).unwrap()
}

async fn store() -> (tempfile::TempDir, Arc<dyn ObjectStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(FsStore::open(dir.path(), "exams").await.unwrap());
    (dir, store)
}

/// The first sentence of page 1 of the lecture, whatever it is: a quote the validator finds.
fn first_sentence(doc: &Document) -> String {
    let page = &doc.pages[0];
    let end = page.find(". ").map(|i| i + 1).unwrap_or(page.len());
    page[..end].to_owned()
}

/// A sentence of the lecture that none of `bank` quotes.
fn unused_sentence(doc: &Document, bank: &[Question]) -> String {
    let used: Vec<String> = bank.iter().map(|q| q.source.as_ref().unwrap().quote.clone()).collect();
    doc.pages
        .iter()
        .flat_map(|p| p.split_inclusive(". "))
        .map(|s| s.trim().to_owned())
        .find(|s| {
            s.split_whitespace().count() >= 6
                && !s.contains('\n')
                && used.iter().all(|u| !u.contains(s.as_str()) && !s.contains(u.as_str()))
        })
        .expect("the lecture has more sentences than the bank uses")
}

fn question(text: &str, quote: &str) -> Question {
    let options = vec![
        AnswerOption { id: OptionId::parse("true").unwrap(), text: "True".into() },
        AnswerOption { id: OptionId::parse("false").unwrap(), text: "False".into() },
    ];
    Question {
        id: QuestionId::parse("x1").unwrap(),
        kind: QuestionKind::TrueFalse,
        question: format!("True or false: \"{text}\""),
        correct_answer: "True".into(),
        correct_option: options[0].id.clone(),
        options,
        source: Some(SourceRef { page: 1, quote: quote.to_owned() }),
        explanation: None,
        flags: Vec::new(),
        confidence: None,
        rationale: None,
    }
}

/// A model that answers from a script and records what it was asked.
#[derive(Default)]
struct Scripted {
    bank: Mutex<Option<Result<ModelOutput, ModelError>>>,
    single: Mutex<Option<Result<Question, ModelError>>>,
    asked_avoid: Mutex<Vec<usize>>,
}

#[async_trait]
impl QuestionModel for Scripted {
    fn name(&self) -> &str {
        "scripted-7b"
    }
    async fn generate(&self, _pages: &[String], _params: GenerationParams) -> Result<ModelOutput, ModelError> {
        self.bank.lock().unwrap().take().unwrap_or_else(|| Err(ModelError("no script".into())))
    }
    async fn regenerate(&self, _pages: &[String], _kind: QuestionKind, _options: u8, avoid: &[Question]) -> Result<Question, ModelError> {
        self.asked_avoid.lock().unwrap().push(avoid.len());
        self.single.lock().unwrap().take().unwrap_or_else(|| Err(ModelError("no script".into())))
    }
}

fn with_model(store: Arc<dyn ObjectStore>, model: Arc<Scripted>, fallback: Fallback) -> Generation {
    Generation::new(
        store,
        GenerationConfig { extractor: Extractor::InProcess, extract_budget: Duration::from_secs(30), model: Some(model), fallback },
    )
}

#[tokio::test]
async fn builtin_questions_pass_the_validator_unflagged() {
    let (_dir, store) = store().await;
    let doc = lecture();
    let g = Generation::builtin(store, Extractor::InProcess, Duration::from_secs(30)).generate(&doc, params(20, 7, 20)).await.unwrap();
    assert_eq!(g.generator, BUILTIN);
    assert_eq!(g.questions.len(), 40, "{:?}", g.notes);
    assert!(g.notes.is_empty(), "{:?}", g.notes);
    // The built-in generator quotes the sentence it blanked or swapped: the heuristic agrees.
    let flagged: Vec<_> = g.questions.iter().filter(|q| !q.flags.is_empty()).map(|q| (&q.question, &q.flags)).collect();
    assert!(flagged.is_empty(), "{flagged:#?}");
    // And the gate is the domain validator: re-checking changes nothing.
    let source = SourceText::new(&doc.pages);
    let mut v = Validator::new(Some(&source));
    for q in &g.questions {
        assert_eq!(&v.admit(q.clone()).unwrap(), q);
    }
}

#[tokio::test]
async fn the_models_questions_are_gated_and_the_drops_are_counted_for_the_teacher() {
    let (_dir, store) = store().await;
    let doc = lecture();
    let quote = first_sentence(&doc);
    let model = Arc::new(Scripted::default());
    *model.bank.lock().unwrap() = Some(Ok(ModelOutput {
        questions: vec![
            question(&quote, &quote),
            question(&quote, &quote),
            question("The moon is made of cheese.", "The moon is made of cheese."),
        ],
        notes: vec!["a note from the model".into()],
    }));
    let g = with_model(store, model, Fallback::Builtin).generate(&doc, params(1, 4, 2)).await.unwrap();
    assert_eq!(g.generator, "llm/scripted-7b");
    assert_eq!(g.questions.len(), 1);
    assert_eq!(g.questions[0].id.as_str(), "q1");
    assert_eq!(
        g.notes,
        [
            "a note from the model",
            "2 generated questions failed validation and were dropped (1 × duplicate question, 1 × quote not found in the document)."
        ]
    );
}

#[tokio::test]
async fn a_failing_model_falls_back_to_the_builtin_generator_and_says_why() {
    let (_dir, store) = store().await;
    let doc = lecture();
    let model = Arc::new(Scripted::default());
    *model.bank.lock().unwrap() = Some(Err(ModelError("the server answered 503 Service Unavailable".into())));
    let generation = with_model(store.clone(), model.clone(), Fallback::Builtin);
    assert_eq!(generation.stage_detail().as_deref(), Some("with scripted-7b"));
    let g = generation.generate(&doc, params(2, 4, 1)).await.unwrap();
    assert_eq!(g.generator, BUILTIN);
    assert_eq!(g.questions.len(), 3);
    assert_eq!(g.notes.len(), 1);
    assert!(g.notes[0].contains("scripted-7b") && g.notes[0].contains("built-in generator"), "{:?}", g.notes);
    assert!(g.notes[0].contains("503 Service Unavailable"), "{:?}", g.notes);

    // A model whose every question is rejected counts as failing too.
    *model.bank.lock().unwrap() = Some(Ok(ModelOutput { questions: vec![question("Made up.", "Made up.")], notes: vec![] }));
    let g = generation.generate(&doc, params(2, 4, 1)).await.unwrap();
    assert_eq!(g.generator, BUILTIN);
    assert!(g.notes[0].contains("quote not found"), "{:?}", g.notes);

    // Without fallback the teacher gets the model's reason as the failure.
    *model.bank.lock().unwrap() = Some(Err(ModelError("the API key was refused (401)".into())));
    let err = with_model(store, model, Fallback::None).generate(&doc, params(2, 4, 1)).await.unwrap_err();
    assert_eq!(err, GenerationError::Model("the API key was refused (401)".into()));
    assert!(err.to_string().contains("401"));
}

async fn bank_of(store: &Arc<dyn ObjectStore>, exam: &ExamId) -> Vec<Question> {
    let doc = lecture();
    let generation = Generation::builtin(store.clone(), Extractor::InProcess, Duration::from_secs(30));
    generation.save_text(exam, &doc).await.unwrap();
    generation.generate(&doc, params(5, 3, 3)).await.unwrap().questions
}

#[tokio::test]
async fn regenerating_with_the_builtin_generator_gives_a_new_question_from_a_new_sentence() {
    let (_dir, store) = store().await;
    let exam = ExamId::parse("e1").unwrap();
    let bank = bank_of(&store, &exam).await;
    let generation = Generation::builtin(store.clone(), Extractor::InProcess, Duration::from_secs(30));
    for kind in [QuestionKind::MultipleChoice, QuestionKind::TrueFalse] {
        let q = generation.regenerate_question(&exam, kind, &bank).await.unwrap();
        assert_eq!(q.kind, kind);
        assert!(bank.iter().all(|b| b.id != q.id), "id {} collides", q.id);
        assert!(bank.iter().all(|b| b.question != q.question));
        let quote = &q.source.as_ref().unwrap().quote;
        assert!(bank.iter().all(|b| &b.source.as_ref().unwrap().quote != quote));
        if kind == QuestionKind::MultipleChoice {
            assert_eq!(q.options.len(), 3, "as many options as the exam's other questions");
        }
        // It passes the same validator as a whole bank.
        let source = SourceText::new(&lecture().pages);
        Validator::with_existing(Some(&source), &bank).admit(q).unwrap();
    }
}

#[tokio::test]
async fn regenerating_reads_the_pdf_again_when_no_text_was_stored() {
    let (_dir, store) = store().await;
    let exam = ExamId::parse("e2").unwrap();
    let generation = Generation::builtin(store.clone(), Extractor::InProcess, Duration::from_secs(30));
    let err = generation.regenerate_question(&exam, QuestionKind::TrueFalse, &[]).await.unwrap_err();
    assert!(matches!(err, RegenerateError::NoDocument), "{err}");

    let key = keys::upload_key(&exam, "lecture.pdf");
    store.put_bytes(&key, lecture_pdf().into(), &ObjectMeta::default(), PutMode::CreateNew).await.unwrap();
    let q = generation.regenerate_question(&exam, QuestionKind::TrueFalse, &[]).await.unwrap();
    assert_eq!(q.id.as_str(), "q1");
    // The text is kept for next time.
    let stored: Document = store::get_json(store.as_ref(), &keys::text_key(&exam)).await.unwrap().unwrap();
    assert_eq!(stored, lecture());
}

#[tokio::test]
async fn regenerating_with_a_model_validates_its_question_and_falls_back_when_it_fails() {
    let (_dir, store) = store().await;
    let exam = ExamId::parse("e3").unwrap();
    let bank = bank_of(&store, &exam).await;
    let quote = unused_sentence(&lecture(), &bank);
    let model = Arc::new(Scripted::default());
    let generation = with_model(store.clone(), model.clone(), Fallback::Builtin);

    *model.single.lock().unwrap() = Some(Ok(question(&quote, &quote)));
    let q = generation.regenerate_question(&exam, QuestionKind::TrueFalse, &bank).await.unwrap();
    assert_eq!(q.source.as_ref().unwrap().quote, quote);
    assert_eq!(q.id.as_str(), "q9", "first free id after the eight questions");
    assert_eq!(model.asked_avoid.lock().unwrap().as_slice(), [8]);

    // The model repeats an existing question: the built-in generator answers instead.
    *model.single.lock().unwrap() = Some(Ok(bank[5].clone()));
    let q = generation.regenerate_question(&exam, QuestionKind::TrueFalse, &bank).await.unwrap();
    assert!(bank.iter().all(|b| b.question != q.question));

    // Without fallback the model's problem is the answer.
    let strict = with_model(store, model.clone(), Fallback::None);
    *model.single.lock().unwrap() = Some(Err(ModelError("timed out".into())));
    let err = strict.regenerate_question(&exam, QuestionKind::TrueFalse, &bank).await.unwrap_err();
    assert!(matches!(err, RegenerateError::Model(ref m) if m == "timed out"), "{err}");
}

#[tokio::test]
async fn the_pipeline_announces_the_model_stores_the_text_and_records_the_generator() {
    let (_dir, store) = store().await;
    let bus: Arc<dyn EventBus> = Arc::new(InProcessBus::default());
    let mut announcements = bus.subscribe("announcements", Group::EveryInstance).await.unwrap();
    let doc = lecture();
    let quote = first_sentence(&doc);
    let model = Arc::new(Scripted::default());
    *model.bank.lock().unwrap() = Some(Ok(ModelOutput { questions: vec![question(&quote, &quote)], notes: vec![] }));
    let generation = Arc::new(with_model(store.clone(), model, Fallback::Builtin));
    let pipeline = Pipeline::new(store.clone(), bus.clone(), PipelineConfig { announcements_topic: "announcements".into(), generation });

    let exam = ExamId::parse("e4").unwrap();
    let key = keys::upload_key(&exam, "lecture.pdf");
    let mut meta = ObjectMeta { content_type: "application/pdf".into(), ..Default::default() };
    for (k, v) in [("n_mcq", "0"), ("n_mcq_options", "4"), ("n_tfq", "1")] {
        meta.user.insert(k.into(), v.into());
    }
    store.put_bytes(&key, lecture_pdf().into(), &meta, PutMode::CreateNew).await.unwrap();
    let event =
        S3Notification::object_created(CreatedObject { bucket: "exams".into(), key, user_metadata: meta.user, ..Default::default() });
    let outcomes = pipeline.handle_notification(&serde_json::to_vec(&event).unwrap()).await.unwrap();
    assert_eq!(outcomes, [Outcome::Generated { exam_id: exam.clone(), questions: 1 }]);

    let mut seen = Vec::new();
    while seen.len() < 3 {
        let d = tokio::time::timeout(Duration::from_secs(5), announcements.next()).await.unwrap().unwrap();
        seen.push(serde_json::from_slice::<Announcement>(&d.message.payload).unwrap());
    }
    let Announcement::ExamStatus { stage, detail, .. } = &seen[1] else { panic!("{seen:?}") };
    assert_eq!((*stage, detail.as_deref()), (Stage::Generating, Some("with scripted-7b")));

    let bank: QuestionBank = store::get_json(store.as_ref(), &keys::bank_key(&exam)).await.unwrap().unwrap();
    assert_eq!(bank.generator, "llm/scripted-7b");
    let text: Document = store::get_json(store.as_ref(), &keys::text_key(&exam)).await.unwrap().unwrap();
    assert_eq!(text, doc);
}
