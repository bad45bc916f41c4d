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
    /// `EXAM_METRICS_ADDR` (default: none, no metrics listener): where `/metrics` is served, on
    /// a listener of its own so the Ingress (which routes to `addr`) never exposes it. The
    /// chart sets `0.0.0.0:9090`; port 0 picks a free port.
    pub metrics_addr: Option<SocketAddr>,
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
}

/// How people sign in (see README, "Identity").
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// `EXAM_PUBLIC_URL` (e.g. `https://exams.school.example`): the origin state-changing
    /// requests must come from, and whether cookies are `Secure` + `__Host-`. Unset: the
    /// request's own `Host` is the origin, cookies are not `Secure` (plain-http embedded use).
    pub public_url: Option<String>,
    /// `EXAM_ADMIN_EMAIL` + `EXAM_ADMIN_PASSWORD_FILE` (+ `EXAM_ADMIN_NAME`): the first teacher,
    /// created at start if missing.
    pub admin: Option<AdminAccount>,
    /// `EXAM_SESSION_IDLE_MINS` (default 480): a session unused this long ends.
    pub session_idle: Duration,
    /// `EXAM_SESSION_MAX_HOURS` (default 168): a session ends this long after sign-in.
    pub session_max: Duration,
    /// `EXAM_TRUST_FORWARDED_FOR` (default false): take the client address for rate limits from
    /// the last `X-Forwarded-For` hop (behind an ingress that sets it).
    pub trust_forwarded_for: bool,
    /// `EXAM_OIDC_*`: sign-in with the institution's OpenID Connect provider; `None`: not offered.
    pub oidc: Option<OidcSettings>,
}

/// Sign-in with an OpenID Connect provider (see `auth::oidc`).
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// `EXAM_OIDC_ISSUER` (e.g. `https://login.school.example/realms/staff`): discovered at
    /// `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    /// `EXAM_OIDC_CLIENT_ID`.
    pub client_id: String,
    /// `EXAM_OIDC_CLIENT_SECRET_FILE` (a mounted Secret) or `EXAM_OIDC_CLIENT_SECRET` (a
    /// `secretKeyRef`); `None`: a public client (PKCE only).
    pub client_secret: Option<exam_core::Secret>,
    /// `EXAM_OIDC_ROLE_CLAIM` (default `groups`): a dotted path into the ID token's claims, or
    /// the userinfo answer's when the ID token lacks it (`realm_access.roles`, `roles`).
    pub role_claim: String,
    /// `EXAM_OIDC_TEACHER_VALUES` (comma-separated, default `teachers`): a user whose role claim
    /// holds one of these is a teacher.
    pub teacher_values: Vec<String>,
    /// `EXAM_OIDC_OTHERS` (`student`, the default, or `refuse`): what everyone else becomes.
    pub others: OidcOthers,
    /// `EXAM_OIDC_SCOPES` (default `openid email profile`).
    pub scopes: Vec<String>,
    /// `EXAM_OIDC_BUTTON` (default "your school account"): the sign-in page's "Sign in with …".
    pub button: String,
}

/// What an OIDC user who is not a teacher becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OidcOthers {
    /// A signed-in student (their name from the provider).
    Student,
    /// Refused (403): only teachers sign in with the provider here.
    Refuse,
}

impl OidcSettings {
    /// The defaults for everything but the provider and the client.
    pub fn new(issuer: impl Into<String>, client_id: impl Into<String>) -> Self {
        OidcSettings {
            issuer: issuer.into(),
            client_id: client_id.into(),
            client_secret: None,
            role_claim: "groups".into(),
            teacher_values: vec!["teachers".into()],
            others: OidcOthers::Student,
            scopes: ["openid", "email", "profile"].map(String::from).to_vec(),
            button: "your school account".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AdminAccount {
    pub email: String,
    pub name: String,
    pub password: exam_core::Secret,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            public_url: None,
            admin: None,
            session_idle: Duration::from_secs(480 * 60),
            session_max: Duration::from_secs(168 * 3600),
            trust_forwarded_for: false,
            oidc: None,
        }
    }
}

impl AuthSettings {
    /// The public origin (`https://host[:port]`), if configured.
    pub fn public_origin(&self) -> Option<String> {
        let url = self.public_url.as_deref()?;
        let (scheme, rest) = url.split_once("://")?;
        let host = rest.split('/').next()?;
        Some(format!("{}://{}", scheme.to_ascii_lowercase(), host.to_ascii_lowercase()))
    }

    /// Served over https: `Secure` cookies with the `__Host-` prefix, and HSTS.
    pub fn https(&self) -> bool {
        self.public_origin().is_some_and(|o| o.starts_with("https://"))
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            metrics_addr: None,
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
            auth: AuthSettings::default(),
            ws_max_per_client: 256,
            ws_max_total: 10_000,
            max_connections: 16_384,
            read_timeout: Duration::from_secs(30),
            shutdown_delay: Duration::ZERO,
            shutdown_grace: Duration::from_secs(20),
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
        s.metrics_addr = parse("EXAM_METRICS_ADDR")?;
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
        s.auth = auth_from_env()?;
        if let Some(n) = parse::<usize>("EXAM_WS_MAX_PER_CLIENT")? {
            s.ws_max_per_client = n.max(1);
        }
        if let Some(n) = parse::<usize>("EXAM_WS_MAX_TOTAL")? {
            s.ws_max_total = n.max(1);
        }
        if let Some(n) = parse::<usize>("EXAM_MAX_CONNECTIONS")? {
            s.max_connections = n.max(1);
        }
        if let Some(secs) = parse::<u64>("EXAM_READ_TIMEOUT_SECS")? {
            if secs == 0 || secs > 3600 {
                bail!("EXAM_READ_TIMEOUT_SECS must be between 1 and 3600");
            }
            s.read_timeout = Duration::from_secs(secs);
        }
        if let Some(secs) = parse::<u64>("EXAM_SHUTDOWN_DELAY_SECS")? {
            if secs > 600 {
                bail!("EXAM_SHUTDOWN_DELAY_SECS must be at most 600");
            }
            s.shutdown_delay = Duration::from_secs(secs);
        }
        if let Some(secs) = parse::<u64>("EXAM_SHUTDOWN_GRACE_SECS")? {
            if secs > 3600 {
                bail!("EXAM_SHUTDOWN_GRACE_SECS must be at most 3600");
            }
            s.shutdown_grace = Duration::from_secs(secs);
        }
        s.backends = Some(exam_backends::BackendSettings::from_env(s.data_dir.clone(), s.bucket.clone(), s.uploads_topic.clone())?);
        Ok(s)
    }
}

fn flag(name: &str) -> anyhow::Result<Option<bool>> {
    Ok(match var(name).as_deref() {
        None => None,
        Some("1" | "true" | "yes" | "on") => Some(true),
        Some("0" | "false" | "no" | "off") => Some(false),
        Some(other) => bail!("{name}={other:?}: expected true or false"),
    })
}

fn auth_from_env() -> anyhow::Result<AuthSettings> {
    let mut a = AuthSettings::default();
    if let Some(url) = var("EXAM_PUBLIC_URL") {
        a.public_url = Some(url.trim_end_matches('/').to_owned());
        if a.public_origin().is_none_or(|o| !(o.starts_with("https://") || o.starts_with("http://"))) {
            bail!("EXAM_PUBLIC_URL={url:?}: expected http(s)://host[:port]");
        }
    }
    match (var("EXAM_ADMIN_EMAIL"), var("EXAM_ADMIN_PASSWORD_FILE")) {
        (None, None) => {}
        (Some(email), Some(file)) => {
            let password = std::fs::read_to_string(&file).with_context(|| format!("EXAM_ADMIN_PASSWORD_FILE={file}: cannot read it"))?;
            let password = password.trim_end_matches(['\n', '\r']).to_owned();
            a.admin = Some(AdminAccount {
                email,
                name: var("EXAM_ADMIN_NAME").unwrap_or_else(|| "Administrator".into()),
                password: exam_core::Secret::new(password),
            });
        }
        _ => bail!("EXAM_ADMIN_EMAIL and EXAM_ADMIN_PASSWORD_FILE go together"),
    }
    if let Some(m) = parse::<u64>("EXAM_SESSION_IDLE_MINS")? {
        a.session_idle = Duration::from_secs(m.clamp(5, 60 * 24 * 30) * 60);
    }
    if let Some(h) = parse::<u64>("EXAM_SESSION_MAX_HOURS")? {
        a.session_max = Duration::from_secs(h.clamp(1, 24 * 90) * 3600);
    }
    a.trust_forwarded_for = flag("EXAM_TRUST_FORWARDED_FOR")?.unwrap_or(false);
    a.oidc = oidc_from_env()?;
    Ok(a)
}

fn oidc_from_env() -> anyhow::Result<Option<OidcSettings>> {
    let (issuer, client_id) = match (var("EXAM_OIDC_ISSUER"), var("EXAM_OIDC_CLIENT_ID")) {
        (None, None) => return Ok(None),
        (Some(i), Some(c)) => (i, c),
        _ => bail!("EXAM_OIDC_ISSUER and EXAM_OIDC_CLIENT_ID go together"),
    };
    if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
        bail!("EXAM_OIDC_ISSUER={issuer:?}: expected an http(s) URL");
    }
    let mut o = OidcSettings::new(issuer, client_id);
    o.client_secret = match (var("EXAM_OIDC_CLIENT_SECRET_FILE"), var("EXAM_OIDC_CLIENT_SECRET")) {
        (Some(_), Some(_)) => bail!("set EXAM_OIDC_CLIENT_SECRET_FILE or EXAM_OIDC_CLIENT_SECRET, not both"),
        (Some(file), None) => {
            let secret = std::fs::read_to_string(&file).with_context(|| format!("EXAM_OIDC_CLIENT_SECRET_FILE={file}: cannot read it"))?;
            Some(exam_core::Secret::new(secret.trim_end_matches(['\n', '\r'])))
        }
        (None, Some(secret)) => Some(exam_core::Secret::new(secret)),
        (None, None) => None,
    };
    if let Some(v) = var("EXAM_OIDC_ROLE_CLAIM") {
        o.role_claim = v;
    }
    if let Some(v) = var("EXAM_OIDC_TEACHER_VALUES") {
        o.teacher_values = v.split(',').map(str::trim).filter(|v| !v.is_empty()).map(String::from).collect();
    }
    o.others = match var("EXAM_OIDC_OTHERS").as_deref() {
        None | Some("student") => OidcOthers::Student,
        Some("refuse") => OidcOthers::Refuse,
        Some(other) => bail!("EXAM_OIDC_OTHERS={other:?}: expected student or refuse"),
    };
    if let Some(v) = var("EXAM_OIDC_SCOPES") {
        o.scopes = v.split([' ', ',']).filter(|s| !s.is_empty()).map(String::from).collect();
    }
    if let Some(v) = var("EXAM_OIDC_BUTTON") {
        o.button = v;
    }
    Ok(Some(o))
}
