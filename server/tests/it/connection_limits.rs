//! Connections that send partial headers, half a body or nothing are closed after the read
//! timeout; connections are capped; WebSockets and slow uploads that keep sending still work
//! (issue 10, item 12).

use crate::common;

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An app whose connections time out after 1 s (and at most `max` of them).
async fn app_with(read_timeout: Duration, max: usize) -> (common::TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut s = common::settings(dir.path());
    s.read_timeout = read_timeout;
    s.max_connections = max;
    (common::spawn_with(s).await, dir)
}

/// Whether the server closes `tcp` (EOF or reset, a response before it allowed) within `within`.
async fn closed_within(tcp: &mut TcpStream, within: Duration) -> bool {
    let mut sink = Vec::new();
    tokio::time::timeout(within, tcp.read_to_end(&mut sink)).await.is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_connections_are_closed() {
    let (app, _dir) = app_with(Duration::from_secs(1), 64).await;

    // Nothing at all.
    let mut silent = TcpStream::connect(&app.addr).await.unwrap();
    // Partial headers, then silence.
    let mut partial = TcpStream::connect(&app.addr).await.unwrap();
    partial.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.unwrap();
    // Headers trickling in, a byte every 300 ms (each byte is progress, the whole is not).
    let mut trickle = TcpStream::connect(&app.addr).await.unwrap();
    // Half a body.
    let mut half = TcpStream::connect(&app.addr).await.unwrap();
    half.write_all(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":",
    )
    .await
    .unwrap();
    let trickler = tokio::spawn(async move {
        for b in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
            if trickle.write_all(&[*b]).await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        closed_within(&mut trickle, Duration::from_secs(10)).await
    });

    assert!(closed_within(&mut silent, Duration::from_secs(10)).await, "a silent connection stayed open");
    assert!(closed_within(&mut partial, Duration::from_secs(10)).await, "partial headers stayed open");
    assert!(closed_within(&mut half, Duration::from_secs(10)).await, "half a body stayed open");
    assert!(trickler.await.unwrap(), "trickled headers stayed open");

    // Still serving.
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status().as_u16(), 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_capped() {
    let (app, _dir) = app_with(Duration::from_secs(30), 3).await;
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(TcpStream::connect(&app.addr).await.unwrap());
    }
    // Give the gateway time to accept them.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let url = app.url("/healthz");
    let fresh = || crate::common::http().timeout(Duration::from_millis(1500)).build().unwrap();
    assert!(fresh().get(&url).send().await.is_err(), "a fourth connection was served");
    // One closes: the next one is served.
    drop(idle.pop());
    let mut served = false;
    for _ in 0..20 {
        if let Ok(r) = fresh().get(&url).send().await {
            served = r.status().is_success();
            break;
        }
    }
    assert!(served, "no connection served after one closed");
    drop(idle);
    app.stop().await;
}

/// A WebSocket outlives the read timeout (it is timed by its own pings), and an upload that
/// takes several read timeouts but keeps sending is accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websockets_and_slow_uploads_still_work() {
    let (app, _dir) = app_with(Duration::from_secs(1), 64).await;
    let mut live = app.ws("/api/v1/live").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    // The live feed still delivers after three read timeouts.
    let id = common::bank_json_upload(&app, &app.client, "Later.json", 1).await["id"].as_str().unwrap().to_owned();
    live.until(|f| f["exam_id"] == id.as_str()).await;

    // An upload sent in 1 KiB pieces every 250 ms: ~4 s, four read timeouts.
    let boundary = "slowboundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"mcq\"\r\n\r\n1\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"true_false\"\r\n\r\n0\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&common::fixture("lecture.pdf"));
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut tcp = TcpStream::connect(&app.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/exams HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        app.addr,
        app.token,
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let chunks = body.chunks(1 << 10);
    assert!(chunks.len() >= 12, "{} chunks", chunks.len());
    for chunk in chunks {
        tokio::time::sleep(Duration::from_millis(250)).await;
        tcp.write_all(chunk).await.unwrap();
    }
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), tcp.read_to_end(&mut response)).await.unwrap().unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 202"), "{response}");
    let json: Value = serde_json::from_str(&response[response.find("\r\n\r\n").unwrap() + 4..]).unwrap();
    let id = json["id"].as_str().unwrap().to_owned();
    assert_eq!(app.wait_until_settled(&id).await["status"], "draft");
    app.stop().await;
}
