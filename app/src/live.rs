//! Live updates: one WebSocket to `/api/v1/live` per tab, reconnecting with backoff.
//!
//! Pages do not patch lists frame by frame; a frame bumps a version signal and the
//! resources that depend on it refetch. That keeps every page correct after a reconnect
//! (which also bumps the versions) at the cost of one small request per change.

use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct LiveFeed {
    /// Bumped on every `exam_status` frame (and on reconnect).
    pub exams_version: RwSignal<u64>,
    /// Bumped on every `submission` frame (and on reconnect).
    pub submissions_version: RwSignal<u64>,
    /// Per exam id: how many `(exam_status, submission)` frames concerned it, so a page about
    /// one exam refetches only for that exam (and the review page, where a teacher may be
    /// typing, not for submissions at all).
    pub per_exam: RwSignal<std::collections::HashMap<String, (u64, u64)>>,
    /// Bumped on `resync` (this client missed frames: anything may have changed).
    pub resyncs: RwSignal<u64>,
    pub connected: RwSignal<bool>,
}

impl LiveFeed {
    /// Counts status frames about `exam` (and resyncs), tracked: wrap it in a `Memo` so only a
    /// change for this exam wakes what depends on it.
    pub fn status_frames(self, exam: &str) -> (u64, u64) {
        (self.resyncs.get(), self.per_exam.with(|m| m.get(exam).map_or(0, |v| v.0)))
    }

    /// Counts submission frames to `exam` (and resyncs), tracked; as [`LiveFeed::status_frames`].
    pub fn submission_frames(self, exam: &str) -> (u64, u64) {
        (self.resyncs.get(), self.per_exam.with(|m| m.get(exam).map_or(0, |v| v.1)))
    }
}

pub fn provide_live_feed() {
    let feed = LiveFeed {
        exams_version: RwSignal::new(0),
        submissions_version: RwSignal::new(0),
        per_exam: RwSignal::new(Default::default()),
        resyncs: RwSignal::new(0),
        connected: RwSignal::new(false),
    };
    provide_context(feed);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| client::connect(feed, 0));
}

pub fn use_live() -> LiveFeed {
    expect_context::<LiveFeed>()
}

/// What the page needs of a live frame: its type and the exam it concerns (the rest of an
/// `exam_status` frame is for pages that refetch it anyway). Read directly, not through a
/// `serde_json::Value` and `Announcement`, which would link both deserialisers into the
/// browser's bundle for two fields.
#[derive(serde::Deserialize)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
struct FrameHead {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    exam_id: Option<String>,
}

#[cfg(feature = "hydrate")]
impl LiveFeed {
    fn receive(self, text: &str) {
        let Ok(frame) = serde_json::from_str::<FrameHead>(text) else { return };
        match frame.kind.as_str() {
            "resync" => self.bump_all(),
            // Submission frames carry only the exam and attempt (no student, no score).
            "submission" => {
                self.submissions_version.update(|n| *n += 1);
                self.exams_version.update(|n| *n += 1);
                if let Some(exam) = frame.exam_id {
                    self.per_exam.update(|m| m.entry(exam).or_default().1 += 1);
                }
            }
            "exam_status" => {
                self.exams_version.update(|n| *n += 1);
                if let Some(exam) = frame.exam_id {
                    self.per_exam.update(|m| m.entry(exam).or_default().0 += 1);
                }
            }
            _ => {}
        }
    }

    fn bump_all(self) {
        self.exams_version.update(|n| *n += 1);
        self.submissions_version.update(|n| *n += 1);
        self.resyncs.update(|n| *n += 1);
    }
}

/// "Live" / "Reconnecting…" in the top bar, in words as well as colour.
#[component]
pub fn LiveBadge() -> impl IntoView {
    let feed = use_live();
    view! {
        <span class="live-badge" class:on=move || feed.connected.get() role="status" aria-live="polite">
            {move || if feed.connected.get() { "● Live" } else { "○ Live updates off" }}
        </span>
    }
}

/// `ws://` or `wss://` URL for a path on this origin.
#[cfg(feature = "hydrate")]
pub fn ws_url(path: &str) -> String {
    let loc = web_sys::window().map(|w| w.location());
    let (proto, host) = loc.map(|l| (l.protocol().unwrap_or_default(), l.host().unwrap_or_default())).unwrap_or_default();
    let scheme = if proto == "https:" { "wss" } else { "ws" };
    format!("{scheme}://{host}{path}")
}

#[cfg(feature = "hydrate")]
mod client {
    use std::time::Duration;

    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{MessageEvent, WebSocket};

    use super::LiveFeed;

    pub fn connect(feed: LiveFeed, attempt: u32) {
        let retry = move || {
            let delay = Duration::from_millis((500u64 << attempt.min(5)).min(15_000));
            set_timeout(move || connect(feed, attempt + 1), delay);
        };
        let Ok(ws) = WebSocket::new(&super::ws_url("/api/v1/live")) else {
            retry();
            return;
        };
        let onopen = Closure::<dyn FnMut()>::new(move || {
            feed.connected.set(true);
            if attempt > 0 {
                // We may have missed changes while away.
                feed.bump_all();
            }
        });
        ws.set_onopen(Some(onopen.as_ref().unchecked_ref()));
        onopen.forget();
        let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(text) = e.data().as_string() {
                feed.receive(&text);
            }
        });
        ws.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
        onmessage.forget();
        let onclose = Closure::once_into_js(move || {
            feed.connected.set(false);
            retry();
        });
        ws.set_onclose(Some(onclose.unchecked_ref()));
    }
}

#[cfg(test)]
mod tests {
    use exam_domain::{Announcement, ExamId, Stage};

    use super::FrameHead;

    #[test]
    fn the_frame_head_reads_the_types_and_exams_the_server_sends() {
        let exam = ExamId::parse("abc123").unwrap();
        let status = serde_json::to_string(&Announcement::stage(exam.clone(), Stage::Ready, "2026-12-03T10:00:00Z".into())).unwrap();
        let head: FrameHead = serde_json::from_str(&status).unwrap();
        assert_eq!((head.kind.as_str(), head.exam_id.as_deref()), ("exam_status", Some("abc123")));
        let submission = Announcement::Submission {
            exam_id: exam,
            student: "Ada".into(),
            score: 1,
            total: 2,
            percent: 50.0,
            passed: false,
            attempt: 1,
            submitted_at: "2026-12-03T10:00:00Z".into(),
        };
        let head: FrameHead = serde_json::from_str(&serde_json::to_string(&submission).unwrap()).unwrap();
        assert_eq!((head.kind.as_str(), head.exam_id.as_deref()), ("submission", Some("abc123")));
        let head: FrameHead = serde_json::from_str(r#"{"type":"resync"}"#).unwrap();
        assert_eq!((head.kind.as_str(), head.exam_id), ("resync", None));
    }
}
