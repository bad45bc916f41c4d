//! WebSockets: `/api/v1/live` (announcements to every browser) and
//! `/api/v1/exams/{id}/attempt` (taking an exam; protocol in `exam_domain::attempt`).

use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use exam_core::announce::LiveFrame;
use exam_core::attempts::Attempts;
use exam_core::service::Platform;
use exam_domain::AttemptState;
use exam_domain::attempt::{ClientMsg, ServerMsg};
use exam_domain::identity::Identity;
use exam_domain::sitting::format_time;
use futures_util::StreamExt;
use tokio::sync::broadcast::error::RecvError;

use crate::auth::{ClientAddress, ExamStudent};
use crate::error::AppError;
use crate::state::AppState;

/// Keeps idle connections alive through proxies (nginx closes after its read timeout).
const PING_EVERY: Duration = Duration::from_secs(25);

/// A silent client (no message, no pong) is dropped after this long: three missed pings.
const IDLE: Duration = Duration::from_secs(3 * 25 + 5);

/// Limits every socket gets: messages no larger than the protocol needs, and buffers sized for
/// frames under 1 KiB (tungstenite's defaults are 128 KiB each; see `ws_limits`). Frames are
/// written as they are sent (no write buffering: every frame is a reply someone waits for).
fn limited(ws: WebSocketUpgrade, max_write_buffer: usize) -> WebSocketUpgrade {
    use crate::ws_limits::{MAX_MESSAGE, READ_BUFFER};
    ws.max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_write_buffer_size(max_write_buffer)
}

pub async fn live(
    State(s): State<AppState>,
    Extension(identity): Extension<Identity>,
    ClientAddress(client): ClientAddress,
    ws: WebSocketUpgrade,
) -> Result<Response, AppError> {
    let permit = s.sockets.acquire(&client)?;
    let rx = s.platform.live();
    // The task keeps only what the session needs (not the whole `AppState`): it is what every
    // open socket costs.
    let (platform, stop, open) = (s.platform.clone(), s.shutdown.stopping(), s.metrics.socket_open(crate::metrics::SocketKind::Live));
    Ok(limited(ws, crate::ws_limits::MAX_WRITE_BUFFER_LIVE).on_upgrade(move |socket| async move {
        live_session(socket, &platform, identity, rx, stop).await;
        drop((permit, open));
    }))
}

/// A teacher hears about their own exams; a student only the status of published exams they
/// joined (no drafts' titles, no submissions); anyone else nothing. (Who may receive a frame
/// is decided once, in `exam_core::announce`, not parsed again by every socket.)
async fn may_see(platform: &Platform, identity: &Identity, frame: &LiveFrame) -> bool {
    match identity.teacher() {
        Some(t) => platform.identity().access.allows(&t.id, &frame.exam_id).await.unwrap_or(false),
        None => frame.for_students && identity.student_in(&frame.exam_id).is_some(),
    }
}

async fn live_session<Stop: Future<Output = ()>>(
    mut socket: WebSocket,
    platform: &Platform,
    identity: Identity,
    mut rx: tokio::sync::broadcast::Receiver<std::sync::Arc<LiveFrame>>,
    stop: Stop,
) {
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut heard = tokio::time::Instant::now();
    tokio::pin!(stop);
    // The socket is not split into halves: the branches' futures are dropped before a
    // handler sends, so no lock (and no allocation for one) is needed per socket.
    loop {
        tokio::select! {
            () = &mut stop => {
                let _ = socket.send(crate::shutdown::restart_frame()).await;
                break;
            }
            frame = rx.recv() => {
                let text = match frame {
                    // The frame's bytes are shared, not copied per socket.
                    Ok(frame) if may_see(platform, &identity, &frame).await => match Utf8Bytes::try_from(frame.text.clone()) {
                        Ok(text) => text,
                        Err(_) => continue,
                    },
                    Ok(_) => continue,
                    // This client fell behind: tell it to reload its lists rather than
                    // silently missing changes.
                    Err(RecvError::Lagged(_)) => Utf8Bytes::from_static(r#"{"type":"resync"}"#),
                    Err(RecvError::Closed) => break,
                };
                if socket.send(Message::Text(text)).await.is_err() {
                    break;
                }
            }
            msg = socket.next() => match msg {
                // An error includes a message over the size limit: the socket is dropped.
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => heard = tokio::time::Instant::now(),
            },
            _ = ping.tick() => {
                if heard.elapsed() > IDLE || socket.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
        }
    }
}

/// The attempt socket of the student the session joined the exam as (401 before upgrading
/// for anyone who has not joined; a `student` query parameter is ignored).
pub async fn attempt(
    State(s): State<AppState>,
    ExamStudent { id, student }: ExamStudent,
    ClientAddress(client): ClientAddress,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, AppError> {
    let permit = s.sockets.acquire_attempt(&client, format!("{id}/{}", student.key()))?;
    // Fail before upgrading, so the browser gets a readable HTTP error (window, attempts).
    let state = s.platform.attempts().open(&id, student).await?;
    let ws = ws.map_err(|e| AppError::new(e.status(), e.body_text()))?;
    let (platform, stop, open) = (s.platform.clone(), s.shutdown.stopping(), s.metrics.socket_open(crate::metrics::SocketKind::Attempt));
    Ok(limited(ws, crate::ws_limits::MAX_WRITE_BUFFER_ATTEMPT).on_upgrade(move |socket| async move {
        attempt_session(socket, platform.attempts(), state, stop).await;
        drop((permit, open));
    }))
}

fn frame(msg: &ServerMsg) -> Message {
    Message::Text(Utf8Bytes::from(serde_json::to_string(msg).unwrap_or_else(|_| r#"{"type":"error","message":"internal error"}"#.into())))
}

/// What a socket keeps of its attempt between messages: what the deadline and the stored
/// document's identity need. Answers and the order live in the stored document (every answer
/// is merged into it under the attempt's lock, `Attempts::save_answer`) and are sent once, in
/// `resumed`; keeping a copy per socket cost a few KiB per student (20 answers, a shuffled
/// order of 20 questions × 4 options).
fn slim(state: &mut AttemptState) {
    state.answers = Default::default();
    state.question_order = Vec::new();
    state.option_order = Default::default();
}

/// How often a session checks its deadline (extensions, close, time up).
const DEADLINE_CHECK: Duration = Duration::from_secs(1);

/// Sends the submission's `result` frame (what the review policy allows) and closes.
async fn finish(socket: &mut WebSocket, done: &exam_core::service::Submitted) {
    let _ = socket.send(frame(&ServerMsg::Result { attempt: done.record.attempt, report: done.report.clone() })).await;
    let _ = socket.send(Message::Close(None)).await;
}

/// What one step of a session (a message, a deadline check) comes to.
enum Step {
    /// Send this frame and go on.
    Reply(ServerMsg),
    /// Nothing to send.
    Quiet,
    /// The attempt is submitted: send the result and close.
    Done(Box<exam_core::service::Submitted>),
}

/// Sends `resumed`; `None` when the session ends at once (submitted because time ran out, or
/// the exam is gone). Returns the deadline the page was told.
async fn begin(socket: &mut WebSocket, attempts: &Attempts, state: &mut AttemptState) -> Option<Option<std::time::SystemTime>> {
    // An attempt whose time ran out while the student was away is submitted now.
    match attempts.expire_if_due(state).await {
        Ok(Some(done)) => {
            finish(socket, &done).await;
            return None;
        }
        Ok(None) => {}
        Err(e) => {
            let _ = socket.send(frame(&ServerMsg::Error { message: e.to_string() })).await;
            return None;
        }
    }
    let Ok(paper) = attempts.attempt_paper(state).await else {
        let _ = socket.send(frame(&ServerMsg::Error { message: "This exam is no longer available.".into() })).await;
        return None;
    };
    let deadline = attempts.deadline(state).await.ok().flatten();
    let resumed = ServerMsg::Resumed {
        attempt: state.attempt,
        version: state.version,
        answers: std::mem::take(&mut state.answers),
        deadline: deadline.map(format_time),
        server_time: format_time(attempts.now()),
        question_order: paper.questions.iter().map(|q| q.id.clone()).collect(),
        option_order: paper.questions.iter().map(|q| (q.id.clone(), q.options.iter().map(|o| o.id.clone()).collect())).collect(),
    };
    drop(paper);
    slim(state);
    socket.send(frame(&resumed)).await.ok().map(|()| deadline)
}

/// One message from the page: an answer is stored (→ `saved`), `submit` grades.
async fn on_message(attempts: &Attempts, state: &mut AttemptState, text: &str) -> Step {
    match serde_json::from_str::<ClientMsg>(text) {
        Err(e) => Step::Reply(ServerMsg::Error { message: format!("Unreadable message: {e}") }),
        Ok(ClientMsg::Answer { question_id, option_id }) => match attempts.save_answer(state, question_id.clone(), option_id.clone()).await
        {
            Ok(()) => {
                slim(state);
                Step::Reply(ServerMsg::Saved { question_id, option_id })
            }
            Err(e) => Step::Reply(ServerMsg::Error { message: e.to_string() }),
        },
        Ok(ClientMsg::Submit) => {
            // Past deadline + grace the server submits what was saved, as it would without the student.
            let done = match attempts.expire_if_due(state).await {
                Ok(Some(done)) => Ok(done),
                // The page submits by itself when its countdown reaches zero: a submission
                // after the deadline counts as submitted for time.
                Ok(None) => {
                    let late = attempts.deadline(state).await.ok().flatten().is_some_and(|d| attempts.now() >= d);
                    attempts.submit(state, Default::default(), late).await
                }
                Err(e) => Err(e),
            };
            match done {
                Ok(done) => Step::Done(Box::new(done)),
                Err(e) => Step::Reply(ServerMsg::Error { message: e.to_string() }),
            }
        }
    }
}

/// The once-a-second check: time up → submitted; a changed deadline (extension, close) → a
/// `deadline` frame.
async fn on_tick(attempts: &Attempts, state: &AttemptState, deadline: &mut Option<std::time::SystemTime>) -> Step {
    match attempts.expire_if_due(state).await {
        Ok(Some(done)) => return Step::Done(Box::new(done)),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "deadline check failed; will retry"),
    }
    let now = attempts.deadline(state).await.ok().flatten();
    if now == *deadline {
        return Step::Quiet;
    }
    *deadline = now;
    Step::Reply(ServerMsg::Deadline { deadline: deadline.map(format_time), server_time: format_time(attempts.now()) })
}

/// An attempt socket. What it keeps while idle is this future (a task of its own): the work of
/// each step runs in a boxed future of its own, so the idle state is the socket, the slimmed
/// attempt, two timers and the shutdown watch, not the largest of the store's futures
/// (the future is 2.8 KiB in a release build, 5.4 KiB before the steps were boxed).
async fn attempt_session<Stop: Future<Output = ()>>(mut socket: WebSocket, attempts: &Attempts, mut state: AttemptState, stop: Stop) {
    let Some(mut deadline) = Box::pin(begin(&mut socket, attempts, &mut state)).await else { return };
    let mut check = tokio::time::interval(DEADLINE_CHECK);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    check.tick().await;
    let (mut heard, mut pinged) = (tokio::time::Instant::now(), tokio::time::Instant::now());
    // Answers are stored as they arrive: closing for a restart loses nothing, the page resumes.
    tokio::pin!(stop);
    loop {
        let step = tokio::select! {
            () = &mut stop => {
                let _ = socket.send(crate::shutdown::restart_frame()).await;
                break;
            }
            msg = socket.next() => {
                let text = match msg {
                    Some(Ok(Message::Text(t))) => t,
                    // An error includes a message over the size limit: the socket is dropped
                    // (answers are already stored; the page reconnects and resumes).
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {
                        heard = tokio::time::Instant::now();
                        continue;
                    }
                };
                heard = tokio::time::Instant::now();
                Box::pin(on_message(attempts, &mut state, text.as_str())).await
            }
            _ = check.tick() => {
                if heard.elapsed() > IDLE {
                    break;
                }
                if pinged.elapsed() >= PING_EVERY {
                    pinged = tokio::time::Instant::now();
                    if socket.send(Message::Ping(Default::default())).await.is_err() {
                        break;
                    }
                }
                Box::pin(on_tick(attempts, &state, &mut deadline)).await
            }
        };
        let reply = match step {
            Step::Reply(reply) => reply,
            Step::Quiet => continue,
            Step::Done(done) => return Box::pin(finish(&mut socket, &done)).await,
        };
        if socket.send(frame(&reply)).await.is_err() {
            break;
        }
    }
}

/// What an idle socket's task keeps, in bytes, for `make bench`'s report (meaningful in a
/// release build): the session futures' state machines and their largest parts (`size_of`
/// of the types; no socket needed).
#[doc(hidden)]
pub fn idle_state_sizes() -> Vec<(&'static str, usize)> {
    fn returned4<A, B, C, D, F, G: FnOnce(A, B, C, D) -> F>(_: &G) -> usize {
        std::mem::size_of::<F>()
    }
    fn returned5<A, B, C, D, E, F, G: FnOnce(A, B, C, D, E) -> F>(_: &G) -> usize {
        std::mem::size_of::<F>()
    }
    vec![
        ("attempt_session future", returned4(&attempt_session::<std::future::Pending<()>>)),
        ("live_session future", returned5(&live_session::<std::future::Pending<()>>)),
        ("WebSocket", std::mem::size_of::<WebSocket>()),
        ("AppState", std::mem::size_of::<AppState>()),
        ("AttemptState", std::mem::size_of::<AttemptState>()),
        ("Identity", std::mem::size_of::<Identity>()),
    ]
}
