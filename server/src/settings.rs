//! Runtime settings, read once from the environment. With nothing set, the gateway runs the
//! embedded default: a directory store under `./data`, the in-process bus and the in-process
//! generator, serving http://127.0.0.1:3000.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use exam_domain::PassMark;
use exam_domain::events::{ANNOUNCEMENTS_TOPIC, UPLOADS_TOPIC};

#[derive(Debug, Clone)]
pub struct Settings {
    /// `LEPTOS_SITE_ADDR` (default `127.0.0.1:3000`); port 0 picks a free port.
    pub addr: SocketAddr,
    /// `LEPTOS_SITE_ROOT` (default `target/site`): the built front end.
    pub site_root: PathBuf,
    /// `EXAM_DATA_DIR` (default `./data`): the embedded store's directory.
    pub data_dir: PathBuf,
    /// `S3_BUCKET` (default `exams`).
    pub bucket: String,
    /// `EXAM_UPLOADS_TOPIC` (default `exam-uploads`).
    pub uploads_topic: String,
    /// `EXAM_ANNOUNCEMENTS_TOPIC` (default `exam-announcements`).
    pub announcements_topic: String,
    /// `EXAM_MAX_UPLOAD_MB` (default 20).
    pub max_upload_bytes: u64,
    /// `EXAM_PASS_MARK` percent (default 50).
    pub pass_mark: PassMark,
    /// `EXAM_EXTRACT_TIMEOUT_SECS` (default 60): budget for reading one PDF.
    pub extract_budget: Duration,
    /// `EXAM_GENERATOR_CONCURRENCY` (default 2): documents processed at once in-process.
    pub generator_concurrency: usize,
    /// `EXAM_SWEEP_SECS` (default 2): how often expired attempts are looked for and submitted.
    pub sweep_interval: Duration,
    /// `EXAM_SPOOL_DIR` (default: the system temp dir): where uploads are buffered on disk.
    pub spool_dir: PathBuf,
    /// Store and bus selection (`S3_*`, `KAFKA_*`, `EXAM_STORE`, `EXAM_NOTIFY_UPLOADS`);
    /// `None`: the embedded directory store in `data_dir` and the in-process bus.
    pub backends: Option<exam_backends::BackendSettings>,
    /// `EXAM_EMBEDDED_GENERATOR`: run the generator in this process. Default: only with the
    /// in-process bus (with Kafka, the generator function does the work).
    pub embedded_generator: Option<bool>,
    /// `EXAM_LLM_*`: write questions with a language model (embedded pipeline and single-question
    /// regeneration); `None`: the built-in generator.
    pub llm: Option<exam_llm::LlmSettings>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            site_root: PathBuf::from("target/site"),
            data_dir: PathBuf::from("data"),
            bucket: "exams".into(),
            uploads_topic: UPLOADS_TOPIC.into(),
            announcements_topic: ANNOUNCEMENTS_TOPIC.into(),
            max_upload_bytes: 20 * 1024 * 1024,
            pass_mark: PassMark::default(),
            extract_budget: Duration::from_secs(60),
            generator_concurrency: 2,
            sweep_interval: Duration::from_secs(2),
            spool_dir: std::env::temp_dir(),
            backends: None,
            embedded_generator: None,
            llm: None,
        }
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn parse<T: std::str::FromStr>(name: &str) -> anyhow::Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    var(name).map(|v| v.parse::<T>().map_err(|e| anyhow::anyhow!("{name}={v:?}: {e}"))).transpose()
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Self> {
        let mut s = Settings::default();
        if let Some(a) = parse("LEPTOS_SITE_ADDR")? {
            s.addr = a;
        }
        if let Some(v) = var("LEPTOS_SITE_ROOT") {
            s.site_root = v.into();
        }
        if let Some(v) = var("EXAM_DATA_DIR") {
            s.data_dir = v.into();
        }
        if let Some(v) = var("S3_BUCKET") {
            s.bucket = v;
        }
        if let Some(v) = var("EXAM_UPLOADS_TOPIC") {
            s.uploads_topic = v;
        }
        if let Some(v) = var("EXAM_ANNOUNCEMENTS_TOPIC") {
            s.announcements_topic = v;
        }
        if let Some(mb) = parse::<u64>("EXAM_MAX_UPLOAD_MB")? {
            if mb == 0 || mb > 1024 {
                bail!("EXAM_MAX_UPLOAD_MB must be between 1 and 1024");
            }
            s.max_upload_bytes = mb * 1024 * 1024;
        }
        if let Some(p) = parse::<u8>("EXAM_PASS_MARK")? {
            s.pass_mark = PassMark::new(p).context("EXAM_PASS_MARK must be 0..=100")?;
        }
        if let Some(secs) = parse::<u64>("EXAM_EXTRACT_TIMEOUT_SECS")? {
            s.extract_budget = Duration::from_secs(secs.max(1));
        }
        if let Some(n) = parse::<usize>("EXAM_GENERATOR_CONCURRENCY")? {
            s.generator_concurrency = n.max(1);
        }
        if let Some(secs) = parse::<u64>("EXAM_SWEEP_SECS")? {
            if secs == 0 || secs > 3600 {
                bail!("EXAM_SWEEP_SECS must be between 1 and 3600");
            }
            s.sweep_interval = Duration::from_secs(secs);
        }
        if let Some(v) = var("EXAM_SPOOL_DIR") {
            s.spool_dir = v.into();
        }
        s.embedded_generator = match var("EXAM_EMBEDDED_GENERATOR").as_deref() {
            None => None,
            Some("1" | "true" | "yes" | "on") => Some(true),
            Some("0" | "false" | "no" | "off") => Some(false),
            Some(other) => bail!("EXAM_EMBEDDED_GENERATOR={other:?}: expected true or false"),
        };
        s.llm = exam_llm::LlmSettings::from_env()?;
        s.backends = Some(exam_backends::BackendSettings::from_env(s.data_dir.clone(), s.bucket.clone(), s.uploads_topic.clone())?);
        Ok(s)
    }
}
