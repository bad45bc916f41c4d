//! Session benchmark: numbers, not assertions.
//!
//! Starts the real `server` binary (embedded mode, fresh data directory), uploads the lecture
//! fixture, publishes the exam, then opens `BENCH_SESSIONS` (default 200) concurrent student
//! attempts over WebSockets, each from its own browser session that joined the exam with its
//! code (joining is not timed). Every student answers every question; each answer's round trip
//! (send `answer` → receive `saved`, which includes the durable write) is timed. Reports
//! latency percentiles, generation time, and the server's resident memory before and with all
//! sessions open, to stdout and `target/bench/sessions.json`.

use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One student joins the exam from a browser of its own: returns its session cookie.
async fn join(students: &reqwest::Client, base: &str, id: &str, code: &str, i: usize) -> anyhow::Result<String> {
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

/// Opens the student's attempt socket and reads its `resumed` frame.
async fn open(addr: &str, id: &str, session: &str) -> anyhow::Result<Socket> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://{addr}/api/v1/exams/{id}/attempt").into_client_request()?;
    req.headers_mut().insert("cookie", session.parse()?);
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await?;
    ws.next().await.context("the socket closed before `resumed`")??;
    Ok(ws)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sessions: usize = std::env::var("BENCH_SESSIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let max_idle = 1000; // the largest default step of BENCH_IDLE_SESSIONS; raised below if needed
    let max_idle = std::env::var("BENCH_IDLE_SESSIONS")
        .ok()
        .and_then(|v| v.split(',').filter_map(|n| n.trim().parse::<usize>().ok()).max())
        .unwrap_or(max_idle);
    let dir = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let addr = format!("127.0.0.1:{port}");
    let password_file = dir.path().join("admin-password");
    std::fs::write(&password_file, "bench password 123")?;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .env("EXAM_DATA_DIR", dir.path())
        .env("LEPTOS_SITE_ADDR", &addr)
        .env("LEPTOS_SITE_ROOT", dir.path().join("site"))
        .env("RUST_LOG", "warn")
        // As the image runs it (Dockerfile); `MALLOC_ARENA_MAX=16 make bench` is glibc's default on 2 cores.
        .env("MALLOC_ARENA_MAX", std::env::var("MALLOC_ARENA_MAX").unwrap_or_else(|_| "2".into()))
        // Every simulated student connects from 127.0.0.1.
        .env("EXAM_WS_MAX_PER_CLIENT", (sessions.max(max_idle) + 16).to_string())
        .env("EXAM_ADMIN_EMAIL", "bench@school.test")
        .env("EXAM_ADMIN_PASSWORD_FILE", &password_file)
        .kill_on_drop(true)
        .spawn()
        .context("the server starts")?;
    let pid = child.id().context("the server's pid")?;
    let base = format!("http://{addr}");
    for _ in 0..200 {
        if reqwest::get(format!("{base}/healthz")).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The teacher's part runs signed in (the session cookie on every request).
    let login = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "bench@school.test", "password": "bench password 123"}))
        .send()
        .await?;
    let cookie = login.headers().get(reqwest::header::SET_COOKIE).context("the teacher's session cookie")?.to_str()?;
    let cookie = cookie.split(';').next().unwrap_or_default().to_owned();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::COOKIE, cookie.parse()?);
    let http = reqwest::Client::builder().default_headers(headers).build()?;
    let rss_idle = rss_kib(pid);

    let pdf = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../generator/tests/fixtures/lecture.pdf"))?;
    let form = reqwest::multipart::Form::new()
        .text("mcq", "10")
        .text("options", "4")
        .text("true_false", "10")
        .part("file", reqwest::multipart::Part::bytes(pdf).file_name("lecture.pdf"));
    let started = Instant::now();
    let created: Value = http.post(format!("{base}/api/v1/exams")).multipart(form).send().await?.json().await?;
    let id = created["id"].as_str().context("the upload's exam id")?.to_owned();
    loop {
        let list: Value = http.get(format!("{base}/api/v1/exams")).send().await?.json().await?;
        if list.as_array().context("the exam list")?.iter().any(|e| e["id"] == id.as_str() && e["status"] != "generating") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let generation_ms = started.elapsed().as_secs_f64() * 1000.0;
    http.post(format!("{base}/api/v1/exams/{id}/publish")).send().await?;
    let paper: Value = http.get(format!("{base}/api/v1/exams/{id}")).send().await?.json().await?;
    let questions: Vec<(String, String)> = paper["questions"]
        .as_array()
        .context("the paper's questions")?
        .iter()
        .filter_map(|q| Some((q["id"].as_str()?.to_owned(), q["options"][0]["id"].as_str()?.to_owned())))
        .collect();
    let teacher_view: Value = http.get(format!("{base}/api/v1/exams/{id}/questions")).send().await?.json().await?;
    let code = teacher_view["join_code"].as_str().context("the teacher view carries the join code")?.to_owned();
    // Each simulated student is a browser of its own (no cookie jar shared with the teacher).
    let students = reqwest::Client::new();

    // Memory of idle sessions: every student joins first (an HTTP session each), then the
    // attempt sockets are opened in steps; the server's RSS is read after each step has settled.
    let idle_steps: Vec<usize> = std::env::var("BENCH_IDLE_SESSIONS")
        .unwrap_or_else(|_| "200,1000".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let most = idle_steps.iter().copied().max().unwrap_or(0).max(sessions);
    let settle = || tokio::time::sleep(Duration::from_millis(1500));
    settle().await;
    let rss_before_join = rss_kib(pid);
    let mut cookies = Vec::with_capacity(most);
    for i in 0..most {
        cookies.push(join(&students, &base, &id, &code, i).await?);
    }
    settle().await;
    let rss_joined = rss_kib(pid);
    let mut sockets = Vec::with_capacity(most);
    let mut idle = Vec::new();
    for &step in &idle_steps {
        while sockets.len() < step {
            sockets.push(open(&addr, &id, &cookies[sockets.len()]).await?);
        }
        settle().await;
        let rss = rss_kib(pid);
        idle.push(json!({
            "sessions": step,
            "server_rss_kib": rss,
            "per_socket_kib": round1(rss.saturating_sub(rss_joined) as f64 / step as f64),
        }));
    }
    let marginal = match (idle_steps.first(), idle_steps.last(), idle.first(), idle.last()) {
        (Some(&a), Some(&b), Some(ra), Some(rb)) if b > a => {
            let (ra, rb) = (ra["server_rss_kib"].as_u64().unwrap_or(0), rb["server_rss_kib"].as_u64().unwrap_or(0));
            Some(round1(rb.saturating_sub(ra) as f64 / (b - a) as f64))
        }
        _ => None,
    };
    // The answering phase uses `sessions` of them; the others are closed first.
    while sockets.len() < sessions {
        sockets.push(open(&addr, &id, &cookies[sockets.len()]).await?);
    }
    for mut ws in sockets.drain(sessions..) {
        let _ = ws.close(None).await;
    }
    settle().await;
    let rss_open = rss_kib(pid);
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(sessions));
    let tasks: Vec<_> = sockets
        .into_iter()
        .map(|mut ws| {
            let questions = questions.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let mut times = Vec::with_capacity(questions.len());
                for (q, o) in &questions {
                    let t = Instant::now();
                    ws.send(Message::Text(json!({"type": "answer", "question_id": q, "option_id": o}).to_string().into())).await?;
                    let reply = ws.next().await.context("the socket closed before `saved`")??;
                    if !reply.to_text()?.contains("saved") {
                        bail!("expected `saved`, got {reply}");
                    }
                    times.push(t.elapsed());
                }
                let t = Instant::now();
                ws.send(Message::Text(json!({"type": "submit"}).to_string().into())).await?;
                ws.next().await.context("the socket closed before `result`")??;
                anyhow::Ok((times, t.elapsed()))
            })
        })
        .collect();
    let wall = Instant::now();
    let mut answers = Vec::new();
    let mut submits = Vec::new();
    for t in tasks {
        let (a, s) = t.await??;
        answers.extend(a);
        submits.push(s);
    }
    let wall_s = wall.elapsed().as_secs_f64();
    let rss_after = rss_kib(pid);
    answers.sort();
    submits.sort();
    let report = json!({
        "sessions": sessions,
        "questions": questions.len(),
        "generation_ms_20_questions": (generation_ms * 10.0).round() / 10.0,
        "answer_roundtrip_ms": { "p50": percentile(&answers, 0.5), "p95": percentile(&answers, 0.95), "p99": percentile(&answers, 0.99), "max": percentile(&answers, 1.0) },
        "submit_roundtrip_ms": { "p50": percentile(&submits, 0.5), "p95": percentile(&submits, 0.95) },
        "answers_per_second": (answers.len() as f64 / wall_s).round(),
        "server_rss_kib": { "idle": rss_idle, "before_join": rss_before_join, "joined": rss_joined, "sessions_open": rss_open, "after_submit": rss_after },
        "per_joined_student_kib": round1(rss_joined.saturating_sub(rss_before_join) as f64 / most as f64),
        "idle_sockets": idle,
        "per_socket_kib_marginal": marginal,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("sessions.json"), serde_json::to_vec_pretty(&report)?)?;
    let _ = child.kill().await;
    Ok(())
}
