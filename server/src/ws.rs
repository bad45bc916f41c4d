//! WebSockets: `/api/v1/live` (announcements to every browser) and
//! `/api/v1/exams/{id}/attempt` (taking an exam; protocol in `exam_domain::attempt`).

use std::time::Duration;

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use exam_domain::Student;
use exam_domain::attempt::{ClientMsg, ServerMsg};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use crate::api::parse_exam_id;
use crate::error::AppError;
use crate::state::AppState;

/// Keeps idle connections alive through proxies (nginx closes after its read timeout).
const PING_EVERY: Duration = Duration::from_secs(25);

pub async fn live(State(s): State<AppState>, ws: WebSocketUpgrade) -> Response {
    let rx = s.platform.live();
    ws.on_upgrade(move |socket| live_session(socket, rx))
}

async fn live_session(socket: WebSocket, mut rx: tokio::sync::broadcast::Receiver<std::sync::Arc<str>>) {
    let (mut tx, mut incoming) = socket.split();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            frame = rx.recv() => {
                let text = match frame {
                    Ok(text) => Utf8Bytes::from(text.as_ref()),
                    // This client fell behind: tell it to reload its lists rather than
                    // silently missing changes.
                    Err(RecvError::Lagged(_)) => Utf8Bytes::from_static(r#"{"type":"resync"}"#),
                    Err(RecvError::Closed) => break,
                };
                if tx.send(Message::Text(text)).await.is_err() {
                    break;
                }
            }
            msg = incoming.next() => match msg {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if tx.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct AttemptQuery {
    student: String,
}

pub async fn attempt(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<AttemptQuery>,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, AppError> {
    let id = parse_exam_id(&id)?;
    let student = Student::parse(&q.student).map_err(|e| AppError::field(StatusCode::UNPROCESSABLE_ENTITY, "student", e.to_string()))?;
    // Fail before upgrading, so the browser gets a readable HTTP error.
    let state = s.platform.open_attempt(&id, student).await?;
    let ws = ws.map_err(|e| AppError::new(e.status(), e.body_text()))?;
    Ok(ws.on_upgrade(move |socket| attempt_session(socket, s, state)))
}

fn frame(msg: &ServerMsg) -> Message {
    Message::Text(Utf8Bytes::from(serde_json::to_string(msg).unwrap_or_else(|_| r#"{"type":"error","message":"internal error"}"#.into())))
}

async fn attempt_session(mut socket: WebSocket, s: AppState, mut state: exam_core::service::AttemptState) {
    let resumed = ServerMsg::Resumed { attempt: state.attempt, version: state.version, answers: state.answers.clone() };
    if socket.send(frame(&resumed)).await.is_err() {
        return;
    }
    while let Some(Ok(msg)) = socket.next().await {
        let text = match msg {
            Message::Text(t) => t,
            Message::Close(_) => break,
            _ => continue,
        };
        let reply = match serde_json::from_str::<ClientMsg>(&text) {
            Err(e) => ServerMsg::Error { message: format!("Unreadable message: {e}") },
            Ok(ClientMsg::Answer { question_id, option_id }) => {
                match s.platform.save_answer(&mut state, question_id.clone(), option_id.clone()).await {
                    Ok(()) => ServerMsg::Saved { question_id, option_id },
                    Err(e) => ServerMsg::Error { message: e.to_string() },
                }
            }
            Ok(ClientMsg::Submit) => match s.platform.submit_attempt(&state).await {
                Ok(record) => {
                    let _ = socket.send(frame(&ServerMsg::Result { attempt: record.attempt, report: record.report })).await;
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
                Err(e) => ServerMsg::Error { message: e.to_string() },
            },
        };
        if socket.send(frame(&reply)).await.is_err() {
            break;
        }
    }
}
