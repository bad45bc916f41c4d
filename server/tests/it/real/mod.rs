//! Harness for tests against real servers on loopback: tansu (Kafka protocol), s3s-fs (S3),
//! the gateway binary and the generator function binary, each a child process killed on drop.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use exam_backends::{KafkaSettings, S3Settings, S3Store};
use tokio::process::{Child, Command};

pub const AK: &str = "test-access-key";
pub const SK: &str = "test-secret-key-0123456789";
pub const BUCKET: &str = "exams";
pub const UPLOADS: &str = "exam-uploads";
pub const ANNOUNCEMENTS: &str = "exam-announcements";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn tool(env: &str, candidates: &[PathBuf], name: &str) -> PathBuf {
    if let Ok(p) = std::env::var(env) {
        return p.into();
    }
    for c in candidates {
        if c.is_file() {
            return c.clone();
        }
    }
    if let Some(p) = std::env::var_os("PATH").and_then(|path| std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())) {
        return p;
    }
    panic!("{name} not found: run `scripts/ensure-tools.sh test` (or `make test`), or set {env}");
}

pub fn tansu_bin() -> PathBuf {
    tool("TANSU_BIN", &[workspace().join(".tools/bin/tansu")], "tansu")
}

pub fn s3s_bin() -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    tool("S3S_FS_BIN", &[home.join(".cargo/bin/s3s-fs")], "s3s-fs")
}

/// The generator function binary, built by `cargo test --workspace` next to this package's.
pub fn generator_fn_bin() -> PathBuf {
    let p = Path::new(env!("CARGO_BIN_EXE_server")).with_file_name("generator-fn");
    assert!(p.is_file(), "{} is missing: run the tests with `cargo test --workspace`", p.display());
    p
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub async fn wait_for_port(port: u16, what: &str) {
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not start listening on {port}");
}

pub async fn wait_for_http(url: &str, what: &str) {
    let client = crate::common::http().build().unwrap();
    for _ in 0..600 {
        if let Ok(r) = client.get(url).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not answer {url}");
}

pub struct Proc {
    pub child: Child,
}

impl Proc {
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }

    /// SIGTERM, then waits (at most two minutes) for the process to exit on its own.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().expect("the process is running");
        let sent = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("kill runs");
        assert!(sent.success(), "SIGTERM to {pid}");
        tokio::time::timeout(Duration::from_secs(120), self.child.wait()).await.expect("exits after SIGTERM").expect("wait")
    }
}

thread_local! {
    static LOG_DIR: std::cell::RefCell<Option<PathBuf>> = const { std::cell::RefCell::new(None) };
}

/// Sends every child's output to `<dir>/<name>.log`; the guard prints the tails of those logs
/// if the test panics, so a failure explains itself.
pub fn capture_logs(dir: &Path) -> LogDump {
    LOG_DIR.with(|d| *d.borrow_mut() = Some(dir.to_path_buf()));
    LogDump { dir: dir.to_path_buf() }
}

pub struct LogDump {
    dir: PathBuf,
}

impl Drop for LogDump {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        for e in entries.flatten().filter(|e| e.path().extension().is_some_and(|x| x == "log")) {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            eprintln!("----- last lines of {} -----", e.path().display());
            for l in &lines[lines.len().saturating_sub(40)..] {
                eprintln!("{l}");
            }
        }
    }
}

fn quiet<'a>(cmd: &'a mut Command, name: &str) -> &'a mut Command {
    let file = LOG_DIR.with(|d| {
        d.borrow().as_ref().and_then(|dir| std::fs::OpenOptions::new().create(true).append(true).open(dir.join(format!("{name}.log"))).ok())
    });
    match file.and_then(|f| f.try_clone().ok().map(|f2| (f, f2))) {
        Some((out, err)) => cmd.stdout(Stdio::from(out)).stderr(Stdio::from(err)),
        None => cmd.stdout(Stdio::null()).stderr(Stdio::null()),
    }
    .kill_on_drop(true)
}

/// tansu behind a TCP gate. Clients know only the gate's port (it is also the advertised
/// listener); an outage closes the gate, dropping every connection and refusing new ones,
/// while the broker keeps its in-memory state. Killing tansu instead would also wipe its
/// topics, offsets and producer ids, which no real Kafka restart does: a client reconnecting
/// in the moment between the new broker's listener and the test re-creating the topics had
/// its message accepted into an auto-created topic that the re-creation then replaced.
pub struct Kafka {
    pub port: u16,
    broker_port: u16,
    pub proc: Option<Proc>,
    gate: Option<tokio::task::JoinHandle<()>>,
}

impl Kafka {
    pub async fn start() -> Kafka {
        let mut k = Kafka { port: free_port(), broker_port: free_port(), proc: None, gate: None };
        let url = format!("tcp://127.0.0.1:{}", k.broker_port);
        let advertised = format!("tcp://127.0.0.1:{}", k.port);
        let child = quiet(&mut Command::new(tansu_bin()), "tansu")
            .args(["broker", "--storage-engine", "memory://tansu/", "--listener-url", &url, "--advertised-listener-url", &advertised])
            .spawn()
            .expect("tansu starts");
        k.proc = Some(Proc { child });
        wait_for_port(k.broker_port, "tansu").await;
        // tansu 0.6 does not create topics on its own before a first produce; create them
        // before any client can reach the broker.
        for topic in [UPLOADS, ANNOUNCEMENTS] {
            let status = quiet(&mut Command::new(tansu_bin()), "tansu-topics")
                .args(["topic", "create", topic, "--partitions", "1", "--broker", &url])
                .status()
                .await
                .expect("tansu topic create runs");
            assert!(status.success(), "creating topic {topic} failed");
        }
        k.restart().await;
        k
    }

    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Ends the outage: the gate accepts connections again.
    pub async fn restart(&mut self) {
        if self.gate.is_some() {
            return;
        }
        let listener = {
            let mut tries = 0;
            loop {
                match tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await {
                    Ok(l) => break l,
                    Err(_) if tries < 100 => {
                        tries += 1;
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    Err(e) => panic!("the Kafka gate cannot listen on {}: {e}", self.port),
                }
            }
        };
        let broker = self.broker_port;
        self.gate = Some(tokio::spawn(async move {
            // Dropped with the task: aborting the gate closes every connection through it.
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let Ok((mut client, _)) = listener.accept().await else { continue };
                connections.spawn(async move {
                    if let Ok(mut upstream) = tokio::net::TcpStream::connect(("127.0.0.1", broker)).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    }
                });
                while connections.try_join_next().is_some() {}
            }
        }));
    }

    /// Starts an outage: every connection to the broker drops and new ones are refused.
    pub async fn stop(&mut self) {
        if let Some(gate) = self.gate.take() {
            gate.abort();
            let _ = gate.await;
        }
    }

    pub fn settings(&self) -> KafkaSettings {
        KafkaSettings::bootstrap(&self.bootstrap())
    }
}

pub struct S3 {
    pub port: u16,
    pub root: PathBuf,
    pub proc: Option<Proc>,
}

impl S3 {
    pub async fn start(root: &Path) -> S3 {
        let mut s = S3 { port: free_port(), root: root.to_path_buf(), proc: None };
        s.restart().await;
        s
    }

    pub async fn restart(&mut self) {
        std::fs::create_dir_all(&self.root).unwrap();
        let child = quiet(&mut Command::new(s3s_bin()), "s3s-fs")
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &self.port.to_string(),
                "--access-key",
                AK,
                "--secret-key",
                SK,
                self.root.to_str().unwrap(),
            ])
            .spawn()
            .expect("s3s-fs starts");
        self.proc = Some(Proc { child });
        wait_for_port(self.port, "s3s-fs").await;
    }

    pub async fn stop(&mut self) {
        if let Some(p) = self.proc.take() {
            p.stop().await;
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn settings(&self) -> S3Settings {
        S3Settings {
            endpoint: Some(self.endpoint()),
            bucket: BUCKET.into(),
            region: "us-east-1".into(),
            path_style: true,
            create_bucket: true,
            access_key: AK.into(),
            secret_key: exam_core::Secret::new(SK),
            operation_timeout: Duration::from_secs(10),
        }
    }

    pub async fn client(&self) -> S3Store {
        S3Store::connect(&self.settings()).await.expect("test S3 client connects")
    }
}

/// Environment shared by the gateway and the generator function.
pub fn backend_env(kafka: &Kafka, s3: &S3) -> Vec<(String, String)> {
    [
        ("S3_ENDPOINT", s3.endpoint()),
        ("S3_BUCKET", BUCKET.into()),
        ("S3_TIMEOUT_SECS", "5".into()),
        ("AWS_ACCESS_KEY_ID", AK.into()),
        ("AWS_SECRET_ACCESS_KEY", SK.into()),
        ("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrap()),
        ("EXAM_UPLOADS_TOPIC", UPLOADS.into()),
        ("EXAM_ANNOUNCEMENTS_TOPIC", ANNOUNCEMENTS.into()),
        ("RUST_LOG", "info".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

pub async fn start_gateway(kafka: &Kafka, s3: &S3, spool: &Path) -> (Proc, String) {
    start_gateway_with(kafka, s3, spool, &[]).await
}

/// [`start_gateway`] with more environment (`extra` wins).
pub async fn start_gateway_with(kafka: &Kafka, s3: &S3, spool: &Path, extra: &[(&str, String)]) -> (Proc, String) {
    std::fs::create_dir_all(spool).expect("spool directory");
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_server"));
    cmd.envs(backend_env(kafka, s3))
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_SITE_ROOT", spool.join("site"))
        .env("EXAM_SPOOL_DIR", spool)
        // s3s-fs has no bucket notifications: the gateway plays that part (the opt-in switch).
        .env("EXAM_NOTIFY_UPLOADS", "true")
        // Every replica makes sure the admin exists; they share the store, so one account.
        .env("EXAM_ADMIN_EMAIL", crate::common::ADMIN_EMAIL)
        .env("EXAM_ADMIN_PASSWORD_FILE", admin_password_file(spool))
        .envs(extra.iter().map(|(k, v)| (*k, v.as_str())));
    let child = quiet(&mut cmd, "gateway").spawn().expect("gateway starts");
    let base = format!("127.0.0.1:{port}");
    wait_for_http(&format!("http://{base}/healthz"), "gateway").await;
    (Proc { child }, base)
}

fn admin_password_file(dir: &Path) -> PathBuf {
    let p = dir.join("admin-password");
    std::fs::write(&p, crate::common::ADMIN_PASSWORD).expect("admin password file");
    p
}

pub async fn start_generator(kafka: &Kafka, s3: &S3) -> (Proc, String) {
    start_generator_mode(kafka, s3, "serve").await
}

/// `serve` (CloudEvents over HTTP) or `consume` (reads the uploads topic itself).
pub async fn start_generator_mode(kafka: &Kafka, s3: &S3, mode: &str) -> (Proc, String) {
    start_generator_with(kafka, s3, mode, &[]).await
}

/// [`start_generator_mode`] with more environment (`extra` wins).
pub async fn start_generator_with(kafka: &Kafka, s3: &S3, mode: &str, extra: &[(&str, String)]) -> (Proc, String) {
    let port = free_port();
    let mut cmd = Command::new(generator_fn_bin());
    cmd.arg(mode);
    cmd.envs(backend_env(kafka, s3)).env("HOST", "127.0.0.1").env("PORT", port.to_string());
    cmd.envs(extra.iter().map(|(k, v)| (*k, v.as_str())));
    let child = quiet(&mut cmd, "generator-fn").spawn().expect("generator function starts");
    let base = format!("http://127.0.0.1:{port}");
    wait_for_http(&format!("{base}/healthz"), "generator function").await;
    (Proc { child }, base)
}

/// Reads `topic` partition 0 from the beginning by direct assignment (no consumer-group
/// coordination), until a record's JSON value satisfies `pred`; `None` after `within`.
pub async fn find_on_topic(
    bootstrap: &str,
    topic: &str,
    within: Duration,
    pred: impl Fn(&serde_json::Value) -> bool,
) -> Option<serde_json::Value> {
    use rdkafka::consumer::{Consumer, StreamConsumer};
    use rdkafka::message::Message;
    let consumer: StreamConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "test-reader")
        .set("enable.auto.commit", "false")
        .create()
        .expect("test consumer");
    let mut tpl = rdkafka::TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, rdkafka::Offset::Beginning).unwrap();
    consumer.assign(&tpl).expect("assign");
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let left = deadline.checked_duration_since(tokio::time::Instant::now())?;
        let Ok(received) = tokio::time::timeout(left, consumer.recv()).await else { return None };
        if let Ok(m) = received
            && let Some(v) = m.payload().and_then(|p| serde_json::from_slice::<serde_json::Value>(p).ok())
            && pred(&v)
        {
            return Some(v);
        }
    }
}
