//! Session benchmark: numbers, not assertions.
//!
//! Starts the real `server` binary (embedded mode, fresh data directory), uploads the lecture
//! fixture, publishes the exam, then opens `BENCH_SESSIONS` (default 200) concurrent student
//! attempts over WebSockets, each from its own browser session that joined the exam with its
//! code (joining is not timed). Every student answers every question; each answer's round trip
//! (send `answer` → receive `saved`, which includes the durable write) is timed. Reports
//! latency percentiles, the server's CPU per answer (user + system time of the whole process
//! during the answering phase ÷ answers), generation time, and the server's resident memory
//! before and with all sessions open. `BENCH_ROUNDS` (default 3) rounds, each on a fresh server;
//! the report has every round and the medians, to stdout and `target/bench/sessions.json`.

mod common;

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use common::{Server, Socket, cpu_ms, env_list, env_or, percentile, round1, round2, rss_kib};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// Opens the student's attempt socket and reads its `resumed` frame.
async fn open(addr: &str, id: &str, session: &str) -> anyhow::Result<Socket> {
    let mut ws = common::connect(addr, &format!("/api/v1/exams/{id}/attempt"), session).await?;
    ws.next().await.context("the socket closed before `resumed`")??;
    Ok(ws)
}

/// One round on a fresh server.
async fn round(sessions: usize, idle_steps: &[usize]) -> anyhow::Result<Value> {
    let most = idle_steps.iter().copied().max().unwrap_or(0).max(sessions);
    let server = Server::start(most).await?;
    let (pid, addr, base) = (server.pid, server.addr.clone(), server.base.clone());
    let rss_idle = rss_kib(pid);
    let (id, generation_ms) = server.published_exam().await?;
    let paper: Value = server.http.get(format!("{base}/api/v1/exams/{id}")).send().await?.json().await?;
    let questions: Vec<(String, String)> = paper["questions"]
        .as_array()
        .context("the paper's questions")?
        .iter()
        .filter_map(|q| Some((q["id"].as_str()?.to_owned(), q["options"][0]["id"].as_str()?.to_owned())))
        .collect();
    let (code, _) = server.teacher_view(&id).await?;
    // Each simulated student is a browser of its own (no cookie jar shared with the teacher).
    let students = reqwest::Client::new();

    // Memory of idle sessions: every student joins first (an HTTP session each), then the
    // attempt sockets are opened in steps; the server's RSS is read after each step has settled.
    let settle = || tokio::time::sleep(Duration::from_millis(1500));
    settle().await;
    let rss_before_join = rss_kib(pid);
    let mut cookies = Vec::with_capacity(most);
    for i in 0..most {
        cookies.push(common::join(&students, &base, &id, &code, i).await?);
    }
    settle().await;
    let rss_joined = rss_kib(pid);
    let mut sockets = Vec::with_capacity(most);
    let mut idle = Vec::new();
    for &step in idle_steps {
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
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(sessions + 1));
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
                anyhow::Ok((ws, times))
            })
        })
        .collect();
    let cpu_before = cpu_ms(pid);
    barrier.wait().await;
    let wall = Instant::now();
    let mut answers = Vec::new();
    let mut sockets = Vec::with_capacity(sessions);
    for t in tasks {
        let (ws, a) = t.await??;
        answers.extend(a);
        sockets.push(ws);
    }
    let wall_s = wall.elapsed().as_secs_f64();
    let answer_cpu_ms = cpu_ms(pid) - cpu_before;
    // Then every student submits (grade + store), all at once.
    let submits: Vec<_> = sockets
        .into_iter()
        .map(|mut ws| {
            tokio::spawn(async move {
                let t = Instant::now();
                ws.send(Message::Text(json!({"type": "submit"}).to_string().into())).await?;
                ws.next().await.context("the socket closed before `result`")??;
                anyhow::Ok(t.elapsed())
            })
        })
        .collect();
    let mut submit_times = Vec::new();
    for t in submits {
        submit_times.push(t.await??);
    }
    let rss_after = rss_kib(pid);
    answers.sort();
    submit_times.sort();
    let mut child = server.child;
    let _ = child.kill().await;
    Ok(json!({
        "sessions": sessions,
        "questions": questions.len(),
        "generation_ms_20_questions": round1(generation_ms),
        "answer_roundtrip_ms": { "p50": round2(percentile(&answers, 0.5)), "p95": round2(percentile(&answers, 0.95)), "p99": round2(percentile(&answers, 0.99)), "max": round2(percentile(&answers, 1.0)) },
        "submit_roundtrip_ms": { "p50": round2(percentile(&submit_times, 0.5)), "p95": round2(percentile(&submit_times, 0.95)) },
        "answers_per_second": (answers.len() as f64 / wall_s).round(),
        "server_cpu_ms_per_answer": round2(answer_cpu_ms / answers.len().max(1) as f64),
        "server_rss_kib": { "idle": rss_idle, "before_join": rss_before_join, "joined": rss_joined, "sessions_open": rss_open, "after_submit": rss_after },
        "per_joined_student_kib": round1(rss_joined.saturating_sub(rss_before_join) as f64 / most as f64),
        "idle_sockets": idle,
        "per_socket_kib_marginal": marginal,
    }))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sessions: usize = env_or("BENCH_SESSIONS", 200usize);
    let idle_steps = env_list("BENCH_IDLE_SESSIONS", "200,1000");
    let rounds: usize = env_or("BENCH_ROUNDS", 3usize).max(1);
    common::raise_open_files();
    let mut all = Vec::with_capacity(rounds);
    for r in 0..rounds {
        let result = round(sessions, &idle_steps).await.with_context(|| format!("round {}", r + 1))?;
        eprintln!("sessions round {}: {}", r + 1, serde_json::to_string(&result)?);
        all.push(result);
    }
    // Medians over the rounds of what the report compares.
    let med = |f: &dyn Fn(&Value) -> Option<f64>| {
        let mut xs: Vec<f64> = all.iter().filter_map(f).collect();
        round2(common::median(&mut xs))
    };
    let mut per_socket = serde_json::Map::new();
    for (k, &step) in idle_steps.iter().enumerate() {
        per_socket.insert(step.to_string(), json!(med(&|r| r["idle_sockets"][k]["per_socket_kib"].as_f64())));
    }
    let sizes: serde_json::Map<String, Value> = server::ws::idle_state_sizes().into_iter().map(|(k, v)| (k.to_owned(), json!(v))).collect();
    let report = json!({
        "machine": common::machine(),
        "rounds": rounds,
        "idle_state_bytes": sizes,
        "median": {
            "per_socket_kib": per_socket,
            "per_socket_kib_marginal": med(&|r| r["per_socket_kib_marginal"].as_f64()),
            "per_joined_student_kib": med(&|r| r["per_joined_student_kib"].as_f64()),
            "server_cpu_ms_per_answer": med(&|r| r["server_cpu_ms_per_answer"].as_f64()),
            "answer_p50_ms": med(&|r| r["answer_roundtrip_ms"]["p50"].as_f64()),
            "answer_p99_ms": med(&|r| r["answer_roundtrip_ms"]["p99"].as_f64()),
            "submit_p50_ms": med(&|r| r["submit_roundtrip_ms"]["p50"].as_f64()),
            "answers_per_second": med(&|r| r["answers_per_second"].as_f64()),
            "generation_ms_20_questions": med(&|r| r["generation_ms_20_questions"].as_f64()),
            "server_rss_kib_idle": med(&|r| r["server_rss_kib"]["idle"].as_f64()),
        },
        "per_round": all,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    std::fs::write(common::out_dir()?.join("sessions.json"), serde_json::to_vec_pretty(&report)?).context("writing sessions.json")?;
    Ok(())
}
