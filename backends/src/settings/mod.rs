//! Every setting of both binaries, typed, read in one place from one [`Env`].
//!
//! * [`ProcessSettings`]: what the gateway and the generator function read the same way —
//!   the store and the bus ([`BackendSettings`]), topics, and how documents are turned into
//!   questions ([`GenerationSettings`]).
//! * [`gateway::Settings`]: the gateway's own (listeners, identity, limits, shutdown), with a
//!   [`ProcessSettings`] inside.
//! * [`FunctionSettings`]: the generator function's own (its listen address), likewise.
//!
//! Nothing else in the workspace reads settings from the environment (exam-telemetry reads
//! `RUST_LOG`, `EXAM_LOG_FORMAT` and `OTEL_*` before these are read; the benchmarks and
//! examples read their own knobs). [`crate::wire`] turns these settings into running adapters, for both
//! binaries. README.md's settings table documents every variable read here (a test checks).

mod auth;
mod env;
pub mod gateway;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use exam_domain::events::{ANNOUNCEMENTS_TOPIC, UPLOADS_TOPIC};

pub use auth::{AdminAccount, AuthSettings, OidcOthers, OidcSettings};
pub use env::Env;
pub use gateway::Settings;

use crate::{BackendSettings, KafkaSettings, S3Settings, StoreSettings};

/// Settings both binaries read alike.
#[derive(Debug, Clone)]
pub struct ProcessSettings {
    /// `EXAM_DATA_DIR` (default `./data`): the embedded store's directory.
    pub data_dir: PathBuf,
    /// `S3_BUCKET` (default `exams`).
    pub bucket: String,
    /// `EXAM_UPLOADS_TOPIC` (default `exam-uploads`).
    pub uploads_topic: String,
    /// `EXAM_ANNOUNCEMENTS_TOPIC` (default `exam-announcements`).
    pub announcements_topic: String,
    /// Store and bus selection (`S3_*`, `AWS_*`, `KAFKA_*`, `EXAM_STORE`, `EXAM_NOTIFY_UPLOADS`);
    /// `None`: the embedded directory store in `data_dir` and the in-process bus.
    pub backends: Option<BackendSettings>,
    pub generation: GenerationSettings,
}

/// How a document becomes questions.
#[derive(Debug, Clone)]
pub struct GenerationSettings {
    /// `EXAM_EXTRACT_TIMEOUT_SECS` (default 60): budget for reading one PDF; the reader child's
    /// CPU limit is one second more.
    pub extract_budget: Duration,
    /// `EXAM_EXTRACT_MEMORY_MB` (default 256, at least 32): memory the reader child may use.
    pub extract_memory_mb: u64,
    /// `EXAM_GENERATOR_CONCURRENCY` (default 2): documents processed at once in-process.
    pub concurrency: usize,
    /// `EXAM_LLM_*`: write questions with a language model; `None`: the built-in generator.
    pub llm: Option<exam_llm::LlmSettings>,
}

impl GenerationSettings {
    /// Documents read by `program [subcommand]` (the binary's own hidden `extract-pdf`) in a
    /// child process with these limits.
    pub fn isolated_reader(&self, program: impl Into<PathBuf>, subcommand: &str) -> exam_core::pipeline::Extractor {
        exam_core::pipeline::Extractor::Isolated(exam_generator::ExtractCommand::limited(
            program,
            Some(subcommand),
            self.extract_memory_mb,
            self.extract_budget,
        ))
    }
}

impl Default for GenerationSettings {
    fn default() -> Self {
        GenerationSettings {
            extract_budget: Duration::from_secs(60),
            extract_memory_mb: exam_generator::DEFAULT_MEMORY_MB,
            concurrency: 2,
            llm: None,
        }
    }
}

impl Default for ProcessSettings {
    fn default() -> Self {
        ProcessSettings {
            data_dir: PathBuf::from("data"),
            bucket: "exams".into(),
            uploads_topic: UPLOADS_TOPIC.into(),
            announcements_topic: ANNOUNCEMENTS_TOPIC.into(),
            backends: None,
            generation: GenerationSettings::default(),
        }
    }
}

impl ProcessSettings {
    /// The embedded default on `data_dir`.
    pub fn embedded(data_dir: impl Into<PathBuf>) -> Self {
        ProcessSettings { data_dir: data_dir.into(), ..Self::default() }
    }

    pub fn read(env: &Env) -> anyhow::Result<Self> {
        let mut s = ProcessSettings::default();
        if let Some(v) = env.get("EXAM_DATA_DIR") {
            s.data_dir = v.into();
        }
        if let Some(v) = env.get("S3_BUCKET") {
            s.bucket = v;
        }
        if let Some(v) = env.get("EXAM_UPLOADS_TOPIC") {
            s.uploads_topic = v;
        }
        if let Some(v) = env.get("EXAM_ANNOUNCEMENTS_TOPIC") {
            s.announcements_topic = v;
        }
        let g = &mut s.generation;
        if let Some(secs) = env.parse::<u64>("EXAM_EXTRACT_TIMEOUT_SECS")? {
            g.extract_budget = Duration::from_secs(secs.max(1));
        }
        if let Some(mb) = env.parse::<u64>("EXAM_EXTRACT_MEMORY_MB")? {
            g.extract_memory_mb = mb.max(32);
        }
        if let Some(n) = env.parse::<usize>("EXAM_GENERATOR_CONCURRENCY")? {
            g.concurrency = n.max(1);
        }
        g.llm = exam_llm::LlmSettings::from_lookup(|name| env.get(name))?;
        s.backends = Some(read_backends(env, &s)?);
        Ok(s)
    }

    /// The store and bus to use: as configured, else the embedded default.
    pub fn backend_settings(&self) -> BackendSettings {
        self.backends
            .clone()
            .unwrap_or_else(|| BackendSettings::embedded(self.data_dir.clone(), self.bucket.clone(), self.uploads_topic.clone()))
    }
}

fn read_backends(env: &Env, p: &ProcessSettings) -> anyhow::Result<BackendSettings> {
    let endpoint = env.get("S3_ENDPOINT");
    let use_s3 = match env.get("EXAM_STORE").as_deref() {
        Some("s3") => true,
        Some("dir") => false,
        Some(other) => bail!("EXAM_STORE={other:?}: expected s3 or dir"),
        None => endpoint.is_some(),
    };
    let store = if use_s3 {
        StoreSettings::S3(S3Settings {
            endpoint,
            bucket: p.bucket.clone(),
            region: env.get("S3_REGION").or_else(|| env.get("AWS_REGION")).unwrap_or_else(|| "us-east-1".into()),
            path_style: env.flag("S3_FORCE_PATH_STYLE")?.unwrap_or(true),
            create_bucket: env.flag("S3_CREATE_BUCKET")?.unwrap_or(true),
            access_key: env.get("AWS_ACCESS_KEY_ID").context("AWS_ACCESS_KEY_ID is required for the S3 store")?,
            secret_key: exam_core::Secret::new(
                env.get("AWS_SECRET_ACCESS_KEY").context("AWS_SECRET_ACCESS_KEY is required for the S3 store")?,
            ),
            operation_timeout: env.secs("S3_TIMEOUT_SECS", 1, 3600)?.unwrap_or(Duration::from_secs(30)),
        })
    } else {
        StoreSettings::Dir { root: p.data_dir.clone(), bucket: p.bucket.clone() }
    };
    let kafka = read_kafka(env);
    let notify_uploads = kafka.is_none() || env.flag("EXAM_NOTIFY_UPLOADS")?.unwrap_or(false);
    Ok(BackendSettings { store, kafka, notify_uploads, uploads_topic: p.uploads_topic.clone() })
}

/// Every `KAFKA_X_Y` variable becomes librdkafka property `x.y`; `None` unless
/// `KAFKA_BOOTSTRAP_SERVERS` is set.
fn read_kafka(env: &Env) -> Option<KafkaSettings> {
    let properties: Vec<(String, String)> =
        env.with_prefix("KAFKA_").into_iter().map(|(name, v)| (name.to_ascii_lowercase().replace('_', "."), v)).collect();
    properties.iter().any(|(k, _)| k == "bootstrap.servers").then(|| KafkaSettings {
        properties,
        // Kubernetes sets HOSTNAME to the pod's name: per-instance consumer groups are named after it.
        client_id: env.get("HOSTNAME").unwrap_or_else(|| "exam".into()),
    })
}

/// The generator function's settings.
#[derive(Debug, Clone)]
pub struct FunctionSettings {
    /// `HOST` (default `0.0.0.0`) and `PORT` (default 8080; Knative sets it).
    pub addr: SocketAddr,
    pub process: ProcessSettings,
}

impl FunctionSettings {
    pub fn read(env: &Env) -> anyhow::Result<Self> {
        let host = env.get("HOST").unwrap_or_else(|| "0.0.0.0".into());
        let port = env.parse::<u16>("PORT")?.unwrap_or(8080);
        let addr = format!("{host}:{port}").parse().with_context(|| format!("HOST={host:?}: not an IP address"))?;
        let mut process = ProcessSettings::read(env)?;
        if let Some(b) = process.backends.as_mut() {
            // The function never uploads documents, so it never announces uploads.
            b.notify_uploads = false;
        }
        Ok(FunctionSettings { addr, process })
    }
}

#[cfg(test)]
mod tests;
