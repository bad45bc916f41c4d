//! What the benches share: the real server binary started on a fresh data directory, the
//! teacher signed in, an exam generated from the lecture fixture and published, students
//! joined, and the server's memory and CPU read from `/proc`.

#![allow(dead_code)] // each bench uses its own part

use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use serde_json::{Value, json};

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

pub fn env_list(name: &str, default: &str) -> Vec<usize> {
    std::env::var(name).unwrap_or_else(|_| default.into()).split(',').filter_map(|n| n.trim().parse().ok()).collect()
}

pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

/// User + system CPU time of the whole process (all threads), in milliseconds (`/proc/<pid>/stat`,
/// clock ticks of 10 ms).
pub fn cpu_ms(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    let Some((_, rest)) = stat.rsplit_once(')') else { return 0.0 };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // After the command: state is field 0, utime 11, stime 12.
    (tick(11) + tick(12)) * 10.0
}

pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The `p` quantile of sorted durations, in milliseconds.
pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

pub fn median(xs: &mut [f64]) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Where the benches write: `target/bench/`.
pub fn out_dir() -> anyhow::Result<std::path::PathBuf> {
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&out)?;
    Ok(out)
}

pub struct Server {
    pub child: tokio::process::Child,
    pub pid: u32,
    pub addr: String,
    pub base: String,
    /// The teacher's client (its session cookie on every request).
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Server {
    /// The release server binary, embedded mode, a fresh data directory, as the image runs it
    /// (`MALLOC_ARENA_MAX=2`), at most `sockets` sockets from 127.0.0.1 (every simulated
    /// browser connects from there); the teacher signed in.
    pub async fn start(sockets: usize) -> anyhow::Result<Server> {
        let dir = tempfile::tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr = format!("127.0.0.1:{port}");
        let password_file = dir.path().join("admin-password");
        std::fs::write(&password_file, "bench password 123")?;
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_server"))
            .env("EXAM_DATA_DIR", dir.path())
            .env("LEPTOS_SITE_ADDR", &addr)
            .env("LEPTOS_SITE_ROOT", dir.path().join("site"))
            .env("RUST_LOG", "warn")
            // As the image runs it (Dockerfile); `MALLOC_ARENA_MAX=16 make bench` is glibc's default on 2 cores.
            .env("MALLOC_ARENA_MAX", std::env::var("MALLOC_ARENA_MAX").unwrap_or_else(|_| "2".into()))
            .env("EXAM_WS_MAX_PER_CLIENT", (sockets + 16).to_string())
            .env("EXAM_WS_MAX_TOTAL", (sockets + 16).max(10_000).to_string())
            .env("EXAM_ADMIN_EMAIL", "bench@school.test")
            .env("EXAM_ADMIN_PASSWORD_FILE", &password_file)
            .kill_on_drop(true)
            .spawn()
            .context("the server starts")?;
        let pid = child.id().context("the server's pid")?;
        let base = format!("http://{addr}");
        let mut up = false;
        for _ in 0..400 {
            if reqwest::get(format!("{base}/healthz")).await.is_ok() {
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        ensure!(up, "the server did not answer /healthz within 20 s");
        let login = reqwest::Client::new()
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"email": "bench@school.test", "password": "bench password 123"}))
            .send()
            .await?;
        let cookie = login.headers().get(reqwest::header::SET_COOKIE).context("the teacher's session cookie")?.to_str()?;
        let cookie = cookie.split(';').next().unwrap_or_default().to_owned();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::COOKIE, cookie.parse()?);
        let http = reqwest::Client::builder().default_headers(headers).build()?;
        Ok(Server { child, pid, addr, base, http, _dir: dir })
    }

    /// Uploads the lecture fixture (10 multiple-choice, 10 true/false questions), waits for
    /// the draft, publishes it. Returns the exam id and the generation time in ms.
    pub async fn published_exam(&self) -> anyhow::Result<(String, f64)> {
        let pdf = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../generator/tests/fixtures/lecture.pdf"))?;
        let form = reqwest::multipart::Form::new()
            .text("mcq", "10")
            .text("options", "4")
            .text("true_false", "10")
            .part("file", reqwest::multipart::Part::bytes(pdf).file_name("lecture.pdf"));
        let started = Instant::now();
        let created: Value = self.http.post(format!("{}/api/v1/exams", self.base)).multipart(form).send().await?.json().await?;
        let id = created["id"].as_str().context("the upload's exam id")?.to_owned();
        loop {
            let list: Value = self.http.get(format!("{}/api/v1/exams", self.base)).send().await?.json().await?;
            if list.as_array().context("the exam list")?.iter().any(|e| e["id"] == id.as_str() && e["status"] != "generating") {
                break;
            }
            ensure!(started.elapsed() < Duration::from_secs(120), "generation did not finish within 120 s");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let generation_ms = started.elapsed().as_secs_f64() * 1000.0;
        let published = self.http.post(format!("{}/api/v1/exams/{id}/publish", self.base)).send().await?;
        ensure!(published.status().is_success(), "publish: {}", published.status());
        Ok((id, generation_ms))
    }

    /// The teacher view: the join code and the question ids in their order.
    pub async fn teacher_view(&self, id: &str) -> anyhow::Result<(String, Vec<String>)> {
        let view: Value = self.http.get(format!("{}/api/v1/exams/{id}/questions", self.base)).send().await?.json().await?;
        let code = view["join_code"].as_str().context("the teacher view carries the join code")?.to_owned();
        let ids = view["questions"]
            .as_array()
            .context("the teacher view's questions")?
            .iter()
            .filter_map(|q| Some(q["id"].as_str()?.to_owned()))
            .collect();
        Ok((code, ids))
    }
}

/// One student joins the exam from a browser of its own: returns its session cookie.
pub async fn join(students: &reqwest::Client, base: &str, id: &str, code: &str, i: usize) -> anyhow::Result<String> {
    let joined =
        students.post(format!("{base}/api/v1/exams/{id}/join")).json(&json!({"code": code, "name": format!("student-{i}")})).send().await?;
    ensure!(joined.status().as_u16() == 200, "student-{i} could not join: {}", joined.status());
    Ok(joined
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("exam_session="))
        .and_then(|v| v.split(';').next())
        .context("a session cookie")?
        .to_owned())
}

/// A WebSocket to `path` with the browser session `cookie`.
pub async fn connect(addr: &str, path: &str, cookie: &str) -> anyhow::Result<Socket> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://{addr}{path}").into_client_request()?;
    req.headers_mut().insert("cookie", cookie.parse()?);
    let (ws, _) = tokio_tungstenite::connect_async(req).await.with_context(|| format!("opening {path}"))?;
    Ok(ws)
}

/// The client's own soft limit on open files raised to the hard one (it holds one socket per
/// simulated browser).
pub fn raise_open_files() -> u64 {
    rlimit::increase_nofile_limit(u64::MAX).unwrap_or(0)
}

/// The machine: CPU model, cores, memory, kernel, load average.
pub fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).unwrap_or("").trim().to_owned();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: u64 =
        meminfo.lines().find(|l| l.starts_with("MemTotal:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()).unwrap_or(0);
    json!({
        "cpu": model,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "memory_mib": mem_kib / 1024,
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
        "load_average": std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    })
}
