//! Graceful shutdown with open sockets and a request in flight: readiness drops first while
//! everything still works, then every socket is closed with 1012 and the page can resume, the
//! request in flight finishes, new connections are refused and the process ends within the
//! grace period. Nothing a student sent is lost.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{self, bank_json_upload};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_then_closes_sockets_with_1012_and_finishes_what_is_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = common::settings(dir.path());
    settings.shutdown_delay = Duration::from_millis(1500);
    settings.shutdown_grace = Duration::from_secs(10);
    let mut app = common::spawn_with(settings).await;
    let id = bank_json_upload(&app, &app.client, "Shutdown.json", 2).await["id"].as_str().unwrap().to_owned();
    assert_eq!(app.client.post(app.url(&format!("/api/v1/exams/{id}/publish"))).send().await.unwrap().status(), 200);
    let student = app.student(&id, "Ada").await;
    let mut attempt = student.ws(&format!("/api/v1/exams/{id}/attempt")).await;
    assert_eq!(attempt.next_json().await.unwrap()["type"], "resumed");
    let mut live = app.ws("/api/v1/live").await;
    assert_eq!(app.client.get(app.url("/readyz")).send().await.unwrap().status(), 200);

    // A request in flight when the signal comes: a body that takes over two seconds to arrive.
    let slow = {
        let (addr, token) = (app.addr.clone(), app.token.clone());
        tokio::spawn(async move {
            let body = br#"{"name": "made during shutdown"}"#;
            let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
            let head = format!(
                "POST /api/v1/tokens HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            tcp.write_all(head.as_bytes()).await.unwrap();
            for chunk in body.chunks(4) {
                tokio::time::sleep(Duration::from_millis(300)).await;
                tcp.write_all(chunk).await.unwrap();
            }
            let mut response = vec![0u8; 12];
            tcp.read_exact(&mut response).await.unwrap();
            String::from_utf8_lossy(&response[9..12]).parse::<u16>().unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.signal_stop();

    // Draining: not ready any more, but still serving, sockets included.
    let mut ready = 200;
    for _ in 0..50 {
        ready = app.client.get(app.url("/readyz")).send().await.unwrap().status().as_u16();
        if ready == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(ready, 503, "readiness drops first");
    attempt.send_json(&json!({"type": "answer", "question_id": "q1", "option_id": "a"})).await;
    assert_eq!(attempt.next_json().await.unwrap()["type"], "saved", "answers are still taken while draining");

    // Stopping: every socket is told to reconnect elsewhere.
    assert_eq!(attempt.close_code(Duration::from_secs(10)).await, Some(1012));
    assert_eq!(live.close_code(Duration::from_secs(10)).await, Some(1012));
    assert_eq!(slow.await.unwrap(), 201, "the request in flight finished");
    assert!(app.stopped_within(Duration::from_secs(10)).await, "the gateway stops within the grace period");
    assert!(reqwest::get(app.url("/healthz")).await.is_err(), "no new connections once stopped");

    // The answer sent while draining is stored: a restarted gateway resumes the attempt with it.
    let restarted = common::spawn_with(common::settings(dir.path())).await;
    let back = common::StudentBrowser { addr: restarted.addr.clone(), ..student };
    let mut attempt = back.ws(&format!("/api/v1/exams/{id}/attempt")).await;
    let resumed: Value = attempt.next_json().await.unwrap();
    assert_eq!(resumed["answers"]["q1"], "a", "{resumed}");
    restarted.stop().await;
}
