//! The gateway's settings. With nothing set, the gateway runs the embedded default: a
//! directory store under `./data`, the in-process bus and the in-process generator, serving
//! http://127.0.0.1:3000.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use exam_domain::PassMark;

use super::{AuthSettings, Env, ProcessSettings};

#[derive(Debug, Clone)]
pub struct Settings {
    /// `LEPTOS_SITE_ADDR` (default `127.0.0.1:3000`); port 0 picks a free port.
    pub addr: SocketAddr,
    /// `EXAM_METRICS_ADDR` (default: none, no metrics listener): where `/metrics` is served, on
    /// a listener of its own so the Ingress (which routes to `addr`) never exposes it. The
    /// chart sets `0.0.0.0:9090`; port 0 picks a free port.
    pub metrics_addr: Option<SocketAddr>,
    /// What the generator function reads alike: store, bus, topics, generation.
    pub process: ProcessSettings,
    /// `LEPTOS_SITE_ROOT` (default `target/site`): the built front end.
    pub site_root: PathBuf,
    /// `EXAM_MAX_UPLOAD_MB` (default 20).
    pub max_upload_bytes: u64,
    /// `EXAM_PASS_MARK` percent (default 50).
    pub pass_mark: PassMark,
    /// `EXAM_SWEEP_SECS` (default 2): how often expired attempts are looked for and submitted.
    pub sweep_interval: Duration,
    /// `EXAM_SPOOL_DIR` (default: the system temp dir): where uploads are buffered on disk.
    pub spool_dir: PathBuf,
    /// `EXAM_EMBEDDED_GENERATOR`: run the generator in this process. Default: only with the
    /// in-process bus (with Kafka, the generator function does the work).
    pub embedded_generator: Option<bool>,
    /// Identity: the public URL, the admin account, session lifetimes.
    pub auth: AuthSettings,
    /// `EXAM_WS_MAX_PER_CLIENT` (default 256: a year group behind one NAT address, two sockets each): WebSockets one client address may hold open.
    pub ws_max_per_client: usize,
    /// `EXAM_WS_MAX_TOTAL` (default 10000): WebSockets this replica holds open at most.
    pub ws_max_total: usize,
    /// `EXAM_MAX_CONNECTIONS` (default 16384): connections this replica holds open at most,
    /// WebSockets included (past it, new ones wait to be accepted).
    pub max_connections: usize,
    /// `EXAM_READ_TIMEOUT_SECS` (default 30): longest wait for a request's headers (and for the
    /// next request on an idle connection) and between two chunks of a request body.
    pub read_timeout: Duration,
    /// `EXAM_SHUTDOWN_DELAY_SECS` (default 0; the chart sets 5): after SIGTERM, how long
    /// `/readyz` answers 503 while everything still works, before the gateway stops accepting.
    pub shutdown_delay: Duration,
    /// `EXAM_SHUTDOWN_GRACE_SECS` (default 20, under Kubernetes' 30 s grace period): how long
    /// in-flight requests and closing sockets get once the gateway stops.
    pub shutdown_grace: Duration,
    /// `LEPTOS_ENV=DEV` (default `PROD`): Leptos' development mode (cargo-leptos live reload).
    pub leptos_dev: bool,
    /// `EXAM_NOTIFY_QUEUE_ARN` (default `arn:minio:sqs::exams:kafka`): the store's Kafka target
    /// that `server setup-notifications` points the bucket notification at.
    pub notify_queue_arn: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            metrics_addr: None,
            process: ProcessSettings::default(),
            site_root: PathBuf::from("target/site"),
            max_upload_bytes: 20 * 1024 * 1024,
            pass_mark: PassMark::default(),
            sweep_interval: Duration::from_secs(2),
            spool_dir: std::env::temp_dir(),
            embedded_generator: None,
            auth: AuthSettings::default(),
            ws_max_per_client: 256,
            ws_max_total: 10_000,
            max_connections: 16_384,
            read_timeout: Duration::from_secs(30),
            shutdown_delay: Duration::ZERO,
            shutdown_grace: Duration::from_secs(20),
            leptos_dev: false,
            notify_queue_arn: "arn:minio:sqs::exams:kafka".into(),
        }
    }
}

impl Settings {
    /// From the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::read(&Env::process())
    }

    pub fn read(env: &Env) -> anyhow::Result<Self> {
        let mut s = Settings { process: ProcessSettings::read(env)?, ..Settings::default() };
        if let Some(a) = env.parse("LEPTOS_SITE_ADDR")? {
            s.addr = a;
        }
        s.metrics_addr = env.parse("EXAM_METRICS_ADDR")?;
        if let Some(v) = env.get("LEPTOS_SITE_ROOT") {
            s.site_root = v.into();
        }
        s.leptos_dev = matches!(env.get("LEPTOS_ENV").as_deref(), Some("DEV" | "dev" | "development"));
        if let Some(mb) = env.parse::<u64>("EXAM_MAX_UPLOAD_MB")? {
            if mb == 0 || mb > 1024 {
                bail!("EXAM_MAX_UPLOAD_MB must be between 1 and 1024");
            }
            s.max_upload_bytes = mb * 1024 * 1024;
        }
        if let Some(p) = env.parse::<u8>("EXAM_PASS_MARK")? {
            s.pass_mark = PassMark::new(p).context("EXAM_PASS_MARK must be 0..=100")?;
        }
        if let Some(d) = env.secs("EXAM_SWEEP_SECS", 1, 3600)? {
            s.sweep_interval = d;
        }
        if let Some(v) = env.get("EXAM_SPOOL_DIR") {
            s.spool_dir = v.into();
        }
        s.embedded_generator = env.flag("EXAM_EMBEDDED_GENERATOR")?;
        s.auth = AuthSettings::read(env)?;
        if let Some(n) = env.parse::<usize>("EXAM_WS_MAX_PER_CLIENT")? {
            s.ws_max_per_client = n.max(1);
        }
        if let Some(n) = env.parse::<usize>("EXAM_WS_MAX_TOTAL")? {
            s.ws_max_total = n.max(1);
        }
        if let Some(n) = env.parse::<usize>("EXAM_MAX_CONNECTIONS")? {
            s.max_connections = n.max(1);
        }
        if let Some(d) = env.secs("EXAM_READ_TIMEOUT_SECS", 1, 3600)? {
            s.read_timeout = d;
        }
        if let Some(d) = env.secs("EXAM_SHUTDOWN_DELAY_SECS", 0, 600)? {
            s.shutdown_delay = d;
        }
        if let Some(d) = env.secs("EXAM_SHUTDOWN_GRACE_SECS", 0, 3600)? {
            s.shutdown_grace = d;
        }
        if let Some(arn) = env.get("EXAM_NOTIFY_QUEUE_ARN") {
            s.notify_queue_arn = arn;
        }
        Ok(s)
    }
}
