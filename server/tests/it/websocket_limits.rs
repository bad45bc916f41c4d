//! WebSockets are bounded: messages no larger than the protocol needs, a number of sockets
//! per client address, and the places given back when sockets close.

use crate::common;

use std::time::Duration;

use common::{bank_json_upload, spawn_with};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_gets_a_bounded_number_of_sockets_and_closing_one_frees_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = common::settings(dir.path());
    settings.ws_max_per_client = 2;
    let app = spawn_with(settings).await;
    let first = app.ws_anonymous("/api/v1/live").await;
    let _second = app.ws_anonymous("/api/v1/live").await;
    let refused = tokio_tungstenite::connect_async(format!("ws://{}/api/v1/live", app.addr)).await.unwrap_err();
    assert!(refused.to_string().contains("429"), "{refused}");
    drop(first);
    let mut reopened = None;
    for _ in 0..50 {
        if let Ok((ws, _)) = tokio_tungstenite::connect_async(format!("ws://{}/api/v1/live", app.addr)).await {
            reopened = Some(ws);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reopened.is_some(), "the closed socket's place was given back");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversize_message_closes_the_socket_and_loses_no_saved_answer() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_with(common::settings(dir.path())).await;
    let id = bank_json_upload(&app, &app.client, "Limits.json", 2).await["id"].as_str().unwrap().to_owned();
    app.client.post(app.url(&format!("/api/v1/exams/{id}/publish"))).send().await.unwrap();
    let mallory = app.student(&id, "Mallory").await;
    let path = format!("/api/v1/exams/{id}/attempt");
    let mut ws = mallory.ws(&path).await;
    let resumed = ws.until(|f| f["type"] == "resumed").await;
    let (q, o) = (resumed["question_order"][0].as_str().unwrap().to_owned(), "a");
    ws.send_json(&json!({"type": "answer", "question_id": q, "option_id": o})).await;
    ws.until(|f| f["type"] == "saved").await;

    // 1 MiB in one message: refused by closing, not buffered. The server reads 1 KiB at a time
    // and closes on the frame's header, so the client may see the reset while still sending.
    let sent = ws.try_send_json(&Value::String("x".repeat(1024 * 1024))).await;
    assert!(sent.is_err() || ws.next_json().await.is_none(), "the server closed the socket");

    // The process is fine and the saved answer is there on reconnect.
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status().as_u16(), 200);
    let mut again = mallory.ws(&path).await;
    let resumed = again.until(|f| f["type"] == "resumed").await;
    assert_eq!(resumed["answers"][&q], o);
    app.stop().await;
}
