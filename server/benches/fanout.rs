//! Fan-out benchmark: numbers, not assertions.
//!
//! Starts the release server binary (see `common`), publishes an exam, has the largest step of
//! `BENCH_FANOUT` (default `1000,5000`) students join it (an HTTP session each), and opens
//! their `/api/v1/live` sockets in those steps. At each step the teacher changes the exam (the
//! question order: a draft) and publishes it `BENCH_ROUNDS` times (default 3); each publish is
//! one `exam_status` frame that every student's socket passes through its filter and receives.
//! Measured per publish: delivery time from sending the publish request to each socket's
//! frame (the client, on the same machine, timestamps the frame when its task reads it), the
//! server's CPU from the request until the last frame arrived, its RSS. Writes
//! `target/bench/fanout.json`.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use common::{Server, cpu_ms, env_list, env_or, percentile, round1, round2, rss_kib};
use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// Every live socket is a task that reports when it read a "published" frame.
fn listen(mut ws: common::Socket, index: usize, delivered: mpsc::UnboundedSender<(usize, Instant)>) {
    tokio::spawn(async move {
        while let Some(Ok(msg)) = ws.next().await {
            if let Ok(text) = msg.to_text()
                && text.contains(r#""stage":"published""#)
                && delivered.send((index, Instant::now())).is_err()
            {
                break;
            }
        }
    });
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let steps = env_list("BENCH_FANOUT", "1000,5000");
    let rounds: usize = env_or("BENCH_ROUNDS", 3usize).max(1);
    let most = steps.iter().copied().max().unwrap_or(0);
    let open_files = common::raise_open_files();
    ensure!(open_files == 0 || open_files as usize > most + 64, "the client may open only {open_files} files, fewer than {most} sockets");
    let server = Server::start(most).await?;
    let (id, _) = server.published_exam().await?;
    let (code, mut order) = server.teacher_view(&id).await?;
    let students = reqwest::Client::new();
    let joined_at = Instant::now();
    let cookies: Vec<String> = stream::iter(0..most)
        .map(|i| {
            let (students, base, id, code) = (&students, &server.base, &id, &code);
            async move { common::join(students, base, id, code, i).await }
        })
        .buffered(8)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let join_s = joined_at.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let rss_joined = rss_kib(server.pid);

    let (tx, mut rx) = mpsc::unbounded_channel();
    let addr = Arc::new(server.addr.clone());
    let mut open = 0;
    let mut results = Vec::new();
    for &step in &steps {
        let sockets: Vec<common::Socket> = stream::iter(open..step)
            .map(|i| {
                let (addr, cookie) = (addr.clone(), &cookies[i]);
                async move { common::connect(&addr, "/api/v1/live", cookie).await }
            })
            .buffered(32)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<anyhow::Result<_>>()?;
        for (k, ws) in sockets.into_iter().enumerate() {
            listen(ws, open + k, tx.clone());
        }
        open = step;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let rss_open = rss_kib(server.pid);
        let mut per_round = Vec::new();
        for _ in 0..rounds {
            // A change to publish: the questions in the reverse order (a draft of the next version).
            order.reverse();
            let put = server.http.put(format!("{}/api/v1/exams/{id}/order", server.base)).json(&json!({"order": order})).send().await?;
            ensure!(put.status().is_success(), "reordering: {}", put.status());
            tokio::time::sleep(Duration::from_millis(500)).await;
            while rx.try_recv().is_ok() {}
            let cpu0 = cpu_ms(server.pid);
            let t0 = Instant::now();
            let published = server.http.post(format!("{}/api/v1/exams/{id}/publish", server.base)).send().await?;
            let publish_ms = t0.elapsed().as_secs_f64() * 1000.0;
            ensure!(published.status().is_success(), "publish: {}", published.status());
            let mut seen = vec![false; step];
            let mut times = Vec::with_capacity(step);
            let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
            while times.len() < step {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some((i, at))) => {
                        if i < step && !seen[i] {
                            seen[i] = true;
                            times.push(at.saturating_duration_since(t0));
                        }
                    }
                    Ok(None) | Err(_) => break,
                }
            }
            let cpu = cpu_ms(server.pid) - cpu0;
            let rss = rss_kib(server.pid);
            times.sort();
            per_round.push(json!({
                "delivered": times.len(),
                "publish_request_ms": round2(publish_ms),
                "delivery_ms": { "p50": round2(percentile(&times, 0.5)), "p99": round2(percentile(&times, 0.99)), "max": round2(percentile(&times, 1.0)) },
                "server_cpu_ms": round1(cpu),
                "server_rss_kib": rss,
            }));
        }
        let med = |f: &dyn Fn(&Value) -> Option<f64>| {
            let mut xs: Vec<f64> = per_round.iter().filter_map(f).collect();
            round2(common::median(&mut xs))
        };
        results.push(json!({
            "sockets": step,
            "rounds": per_round.len(),
            "delivered_all": per_round.iter().all(|r| r["delivered"].as_u64() == Some(step as u64)),
            "delivery_p50_ms": med(&|r| r["delivery_ms"]["p50"].as_f64()),
            "delivery_p99_ms": med(&|r| r["delivery_ms"]["p99"].as_f64()),
            "delivery_max_ms": med(&|r| r["delivery_ms"]["max"].as_f64()),
            "publish_request_ms": med(&|r| r["publish_request_ms"].as_f64()),
            "server_cpu_ms": med(&|r| r["server_cpu_ms"].as_f64()),
            "server_rss_kib": rss_open,
            "per_live_socket_kib": round1(rss_open.saturating_sub(rss_joined) as f64 / step as f64),
            "per_round": per_round,
        }));
    }
    let report = json!({
        "machine": common::machine(),
        "client_open_files_limit": open_files,
        "students_joined": most,
        "join_seconds": round2(join_s),
        "server_rss_kib_joined": rss_joined,
        "steps": results,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    std::fs::write(common::out_dir()?.join("fanout.json"), serde_json::to_vec_pretty(&report)?).context("writing fanout.json")?;
    drop(rx);
    let mut child = server.child;
    let _ = child.kill().await;
    Ok(())
}
