//! Production adapters and the one place that decides which adapters a process uses.
//!
//! * [`s3::S3Store`]: `ObjectStore` on aws-sdk-s3.
//! * [`kafka::KafkaBus`]: `EventBus` on rdkafka.
//! * [`BackendSettings::from_env`] + [`connect`]: the embedded directory store and in-process
//!   bus unless `S3_ENDPOINT` / `EXAM_STORE=s3` and `KAFKA_BOOTSTRAP_SERVERS` say otherwise.
//!   Both binaries (gateway and generator function) wire themselves through here.

pub mod kafka;
pub mod s3;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
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

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn flag(name: &str) -> anyhow::Result<Option<bool>> {
    match var(name).as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => Ok(None),
        Some("1" | "true" | "yes" | "on") => Ok(Some(true)),
        Some("0" | "false" | "no" | "off") => Ok(Some(false)),
        Some(other) => bail!("{name}={other:?}: expected true or false"),
    }
}

impl BackendSettings {
    pub fn from_env(data_dir: PathBuf, bucket: String, uploads_topic: String) -> anyhow::Result<Self> {
        let endpoint = var("S3_ENDPOINT");
        let use_s3 = match var("EXAM_STORE").as_deref() {
            Some("s3") => true,
            Some("dir") => false,
            Some(other) => bail!("EXAM_STORE={other:?}: expected s3 or dir"),
            None => endpoint.is_some(),
        };
        let store = if use_s3 {
            StoreSettings::S3(S3Settings {
                endpoint,
                bucket,
                region: var("S3_REGION").or_else(|| var("AWS_REGION")).unwrap_or_else(|| "us-east-1".into()),
                path_style: flag("S3_FORCE_PATH_STYLE")?.unwrap_or(true),
                create_bucket: flag("S3_CREATE_BUCKET")?.unwrap_or(true),
                access_key: var("AWS_ACCESS_KEY_ID").context("AWS_ACCESS_KEY_ID is required for the S3 store")?,
                secret_key: exam_core::Secret::new(
                    var("AWS_SECRET_ACCESS_KEY").context("AWS_SECRET_ACCESS_KEY is required for the S3 store")?,
                ),
                operation_timeout: Duration::from_secs(var("S3_TIMEOUT_SECS").and_then(|v| v.parse().ok()).unwrap_or(30)),
            })
        } else {
            StoreSettings::Dir { root: data_dir, bucket }
        };
        let kafka = KafkaSettings::from_env();
        let notify_uploads = kafka.is_none() || flag("EXAM_NOTIFY_UPLOADS")?.unwrap_or(false);
        Ok(BackendSettings { store, kafka, notify_uploads, uploads_topic })
    }

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
