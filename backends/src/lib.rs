//! Production adapters and the one place that decides which adapters a process uses.
//!
//! * [`s3::S3Store`]: `ObjectStore` on aws-sdk-s3.
//! * [`kafka::KafkaBus`]: `EventBus` on rdkafka.
//! * [`settings`]: every setting of both binaries, typed, read from the environment in one
//!   place; [`BackendSettings`] picks the embedded directory store and in-process bus unless
//!   `S3_ENDPOINT` / `EXAM_STORE=s3` and `KAFKA_BOOTSTRAP_SERVERS` say otherwise.
//! * [`wire`] (and [`connect`] under it): both binaries (gateway and generator function) turn
//!   their settings into the store, the bus and the generation service through here.

pub mod kafka;
pub mod s3;
pub mod settings;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use exam_core::bus::{EventBus, InProcessBus};
use exam_core::notify::NotifyingStore;
use exam_core::store::{FsStore, ObjectStore};

pub use kafka::{KafkaBus, KafkaSettings};
pub use s3::{S3Settings, S3Store};

#[derive(Debug, Clone)]
pub enum StoreSettings {
    /// The embedded directory store (`EXAM_DATA_DIR`).
    Dir {
        root: PathBuf,
        bucket: String,
    },
    S3(S3Settings),
}

#[derive(Debug, Clone)]
pub struct BackendSettings {
    pub store: StoreSettings,
    /// `None`: the in-process bus.
    pub kafka: Option<KafkaSettings>,
    /// `EXAM_NOTIFY_UPLOADS`: publish the object-created notification ourselves, for stores
    /// without bucket notifications. Always on with the in-process bus.
    pub notify_uploads: bool,
    /// Topic of object-created notifications.
    pub uploads_topic: String,
}

impl BackendSettings {
    /// The embedded default in `data_dir`.
    pub fn embedded(data_dir: PathBuf, bucket: String, uploads_topic: String) -> Self {
        BackendSettings { store: StoreSettings::Dir { root: data_dir, bucket }, kafka: None, notify_uploads: true, uploads_topic }
    }
}

/// The adapters a process runs with.
pub struct Backends {
    pub store: Arc<dyn ObjectStore>,
    pub bus: Arc<dyn EventBus>,
    /// Set when this process announces uploads itself (then `store` is this wrapper).
    pub notifier: Option<Arc<NotifyingStore>>,
    /// True with the in-process bus: nobody else can run the generator.
    pub in_process_bus: bool,
}

pub async fn connect(s: &BackendSettings) -> anyhow::Result<Backends> {
    connect_metered(s, &exam_core::metrics::CoreMetrics::default()).await
}

/// [`connect`], with every store operation and publish recorded in `metrics`
/// (`exam_core::metrics::MeteredStore`, `MeteredBus`; the Kafka bus also reports consumer
/// positions and producer replacements).
pub async fn connect_metered(s: &BackendSettings, metrics: &exam_core::metrics::CoreMetrics) -> anyhow::Result<Backends> {
    let raw: Arc<dyn ObjectStore> = match &s.store {
        StoreSettings::Dir { root, bucket } => {
            Arc::new(FsStore::open(root, bucket).await.with_context(|| format!("cannot open the data directory {}", root.display()))?)
        }
        StoreSettings::S3(s3) => {
            tracing::info!(endpoint = ?s3.endpoint, bucket = %s3.bucket, "using the S3 store");
            Arc::new(S3Store::connect(s3).await.context("cannot reach the S3 store")?)
        }
    };
    let raw: Arc<dyn ObjectStore> = Arc::new(exam_core::metrics::MeteredStore::new(raw, metrics.clone()));
    let (bus, in_process_bus): (Arc<dyn EventBus>, bool) = match &s.kafka {
        None => (Arc::new(InProcessBus::default()), true),
        Some(k) => {
            tracing::info!("using the Kafka bus");
            (Arc::new(KafkaBus::new(k.clone()).context("cannot configure the Kafka client")?.with_metrics(metrics.clone())), false)
        }
    };
    let bus: Arc<dyn EventBus> = Arc::new(exam_core::metrics::MeteredBus::new(bus, metrics.clone()));
    let (store, notifier) = if s.notify_uploads {
        let n = Arc::new(NotifyingStore::new(raw, bus.clone(), s.uploads_topic.clone()));
        (n.clone() as Arc<dyn ObjectStore>, Some(n))
    } else {
        (raw, None)
    };
    Ok(Backends { store, bus, notifier, in_process_bus })
}

/// What a process runs on: its adapters and the generation service built on them.
pub struct Wired {
    pub backends: Backends,
    /// Extraction, the built-in generator or the language model (`EXAM_LLM_*`), metered.
    pub generation: Arc<exam_core::generation::Generation>,
}

/// The one wiring path of both binaries: connects the store and the bus of `settings`
/// ([`connect_metered`]) and builds the generation service on them, reading documents with
/// `extractor` (the binaries: [`settings::GenerationSettings::isolated_reader`]).
pub async fn wire(
    settings: &settings::ProcessSettings,
    extractor: exam_core::pipeline::Extractor,
    metrics: &exam_core::metrics::CoreMetrics,
) -> anyhow::Result<Wired> {
    let backends = connect_metered(&settings.backend_settings(), metrics).await?;
    let g = &settings.generation;
    let generation =
        Arc::new(exam_llm::generation(backends.store.clone(), extractor, g.extract_budget, g.llm.as_ref())?.with_metrics(metrics.clone()));
    Ok(Wired { backends, generation })
}
