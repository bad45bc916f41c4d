//! `/teacher/exams/:id/sitting`: the exam while students take it — whether it is open,
//! whether they can see results (and a button to release them), closing it now, how many have
//! submitted, and every attempt in progress with its time left and a form to give more time.
//!
//! The server renders the whole page; every control is an `ActionForm`, so it works before the
//! WASM loads. Once hydrated the page refreshes itself every 5 seconds and on live frames, and
//! the time left counts down each second in between. The view is loaded once and then updated
//! in place (attempts keyed by student and attempt), so a minutes field being typed in or a
//! focused button survives the refreshes.

use exam_domain::sitting::{ReviewShow, ReviewWhen, WindowState};
use exam_domain::{InProgress, SittingView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::settings::{ExamNav, browser_offset, local_time};
use crate::live::use_live;
use crate::server_fns::{CloseExam, ExtendTime, ReleaseResults, load_sitting, message};
use crate::settings_form::field_error;

/// Seconds between refreshes while the page is open.
const REFRESH_SECS: i64 = 5;

#[component]
pub fn Sitting() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    // Loaded once per exam; the body keeps it up to date.
    let data = Resource::new(id, load_sitting);
    view! {
        <Title text="Sitting" />
        <main class="page">
            <p class="crumbs"><a href=move || format!("/teacher/exams/{}", id())>"← Back to the exam"</a></p>
            <Suspense fallback=|| view! { <p>"Loading the sitting…"</p> }>
                {move || data.get().map(|r| match r {
                    Ok(v) => view! { <SittingBody initial=v /> }.into_any(),
                    Err(e) => view! {
                        <h1>"Sitting not available"</h1>
                        <p class="error" role="alert">{message(&e)}</p>
                    }
                    .into_any(),
                })}
            </Suspense>
        </main>
    }
}

/// What the page shares with its rows.
#[derive(Clone, Copy)]
struct Live {
    exam_id: StoredValue<String>,
    view: RwSignal<SittingView>,
    /// Seconds since `view` arrived: the time left counts down by it.
    elapsed: RwSignal<i64>,
    /// The polite status line ("Extra time given to Ada.").
    said: RwSignal<String>,
    tz: RwSignal<Option<i32>>,
}

impl Live {
    /// Loads the sitting again (in the browser; the server renders it fresh anyway).
    fn refresh(self) {
        #[cfg(feature = "hydrate")]
        {
            let id = self.exam_id.get_value();
            leptos::task::spawn_local(async move {
                if let Ok(v) = load_sitting(id).await {
                    self.view.set(v);
                    self.elapsed.set(0);
                }
            });
        }
    }
}

#[component]
fn SittingBody(initial: SittingView) -> impl IntoView {
    let exam_id = initial.exam_id.to_string();
    let title = initial.title.clone();
    let live = Live {
        exam_id: StoredValue::new(exam_id.clone()),
        view: RwSignal::new(initial),
        elapsed: RwSignal::new(0),
        said: RwSignal::new(String::new()),
        tz: browser_offset(),
    };
    let feed = use_live();
    // Live frames (a submission, an exam's status, a reconnect): load again. Not on the first
    // run: the view is fresh.
    Effect::new(move |prev: Option<()>| {
        feed.submissions_version.track();
        feed.exams_version.track();
        if prev.is_some() {
            live.refresh();
        }
    });
    // Every second: count down; every REFRESH_SECS: load again.
    #[cfg(feature = "hydrate")]
    if let Ok(handle) = set_interval_with_handle(
        move || {
            live.elapsed.update(|e| *e += 1);
            if live.elapsed.get_untracked() % REFRESH_SECS == 0 {
                live.refresh();
            }
        },
        std::time::Duration::from_secs(1),
    ) {
        on_cleanup(move || handle.clear());
    }

    let close = ServerAction::<CloseExam>::new();
    let release = ServerAction::<ReleaseResults>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = close.value().get() {
            live.said.set("The exam is closed. Attempts in progress end now, after their grace period.".to_owned());
            live.refresh();
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = release.value().get() {
            live.said.set("Results released: students can see them now.".to_owned());
            live.refresh();
        }
    });
    let close_error = move || close.value().get().and_then(|r| r.err()).map(|e| message(&e));
    let release_error = move || release.value().get().and_then(|r| r.err()).map(|e| message(&e));

    let v = live.view;
    let tz = live.tz;
    let window_line = move || {
        v.with(|v| match &v.window {
            WindowState::NotYetOpen { opens_at } => format!("Not open yet: students can start from {}.", local_time(opens_at, tz.get())),
            WindowState::Open { closes_at: Some(c) } => format!("Open until {}.", local_time(c, tz.get())),
            WindowState::Open { closes_at: None } => "Open: students can start now. No closing time is set.".to_owned(),
            WindowState::Closed { closed_at } => format!("Closed at {}.", local_time(closed_at, tz.get())),
        })
    };
    let is_closed = move || v.with(|v| matches!(v.window, WindowState::Closed { .. }));
    let results_line = move || {
        v.with(|v| {
            let what = show_label(v.settings.review.show);
            match (v.results_visible, v.settings.review.when, &v.released_at) {
                (true, ReviewWhen::OnRelease, Some(at)) => {
                    format!("Results released at {}: students see {what}.", local_time(at, tz.get()))
                }
                (true, _, _) => format!("Students can see their results: {what}."),
                (false, ReviewWhen::OnRelease, _) => "Students cannot see their results until you release them.".to_owned(),
                (false, ReviewWhen::AfterClose, _) => "Students will see their results once the exam closes.".to_owned(),
                (false, ReviewWhen::Immediately, _) => "Students cannot see their results yet.".to_owned(),
            }
        })
    };
    let can_release = move || v.with(|v| v.settings.review.when == ReviewWhen::OnRelease && v.released_at.is_none());
    let counts = move || {
        v.with(|v| {
            format!(
                "{} submitted · {} in all · {} in progress",
                crate::plural(v.students_submitted, "student has", "students have"),
                crate::plural(v.submissions, "submission", "submissions"),
                crate::plural(v.in_progress.len() as u64, "attempt", "attempts"),
            )
        })
    };
    let rows = move || v.with(|v| v.in_progress.iter().map(|p| (p.student.clone(), p.attempt)).collect::<Vec<_>>());
    let none_running = move || v.with(|v| v.in_progress.is_empty());
    let (close_id, release_id) = (exam_id.clone(), exam_id.clone());

    view! {
        <h1>"Sitting" <span class="h1-exam">": " {title}</span></h1>
        <ExamNav id=exam_id.clone() current="Sitting" />
        <p class="save-status" role="status" aria-live="polite">{move || live.said.get()}</p>

        <section class="card sitting-state" aria-labelledby="state-h">
            <h2 id="state-h">"Now"</h2>
            <p class="window-line" class:closed=is_closed><strong>{window_line}</strong></p>
            <p>{counts}</p>
            <p>{results_line}</p>
            {move || can_release().then(|| {
                let id = release_id.clone();
                view! {
                    <ActionForm action=release attr:class="inline-form">
                        <input type="hidden" name="id" value=id />
                        <p class="hint" id="release-hint">
                            {move || format!("Students then see {}.", v.with(|v| show_label(v.settings.review.show)))}
                        </p>
                        <button type="submit" class="primary" aria-describedby="release-hint" disabled=move || release.pending().get()>
                            {move || if release.pending().get() { "Releasing…" } else { "Release results" }}
                        </button>
                    </ActionForm>
                }
            })}
            {move || release_error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            {move || (!is_closed()).then(|| {
                let id = close_id.clone();
                view! {
                    <ActionForm action=close attr:class="close-form">
                        <input type="hidden" name="id" value=id />
                        <div class="choice confirm">
                            // No name: only the browser checks it (`required`), the server needs no confirmation field.
                            <input type="checkbox" id="close-confirm" required aria-describedby="close-hint" />
                            <label for="close-confirm">"Yes, close the exam now"</label>
                        </div>
                        <p class="hint" id="close-hint">
                            "Nobody can start after this. Attempts in progress end now; answers sent within their grace period still count, then they are submitted."
                        </p>
                        <button type="submit" class="danger" disabled=move || close.pending().get()>
                            {move || if close.pending().get() { "Closing…" } else { "Close the exam now" }}
                        </button>
                    </ActionForm>
                }
            })}
            {move || close_error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </section>

        <section aria-labelledby="running-h">
            <h2 id="running-h">"Attempts in progress"</h2>
            <p class="hint">
                {format!("This list updates every {REFRESH_SECS} seconds. ")}
                "Extra time is added to the student's time limit at once, but never past the closing time."
            </p>
            <Show when=move || !none_running() fallback=|| view! { <p class="empty">"No attempts in progress right now."</p> }>
                <div class="table-wrap">
                    <table class="results attempts">
                        <thead>
                            <tr>
                                <th scope="col">"Student"</th>
                                <th scope="col">"Attempt"</th>
                                <th scope="col">"Started"</th>
                                <th scope="col">"Answered"</th>
                                <th scope="col">"Time left"</th>
                                <th scope="col">"Give more time"</th>
                            </tr>
                        </thead>
                        <tbody>
                            <For each=rows key=|k| k.clone() children=move |(student, attempt)| view! { <AttemptRow student attempt live /> } />
                        </tbody>
                    </table>
                </div>
            </Show>
        </section>
    }
}

#[component]
fn AttemptRow(student: String, attempt: u32, live: Live) -> impl IntoView {
    let key = student.clone();
    let row: Memo<Option<InProgress>> =
        Memo::new(move |_| live.view.with(|v| v.in_progress.iter().find(|p| p.student == key && p.attempt == attempt).cloned()));
    let n = move || live.view.with(|v| v.question_count);
    let started = move || row.get().map(|p| local_time(&p.started_at, live.tz.get())).unwrap_or_default();
    let answered = move || row.get().map(|p| format!("{} / {}", p.answered, n())).unwrap_or_default();
    let left = move || row.get().map(|p| time_left(p.seconds_left.map(|s| s - live.elapsed.get()))).unwrap_or_default();
    let low = move || row.get().and_then(|p| p.seconds_left).is_some_and(|s| s - live.elapsed.get() < 60);

    let extend = ServerAction::<ExtendTime>::new();
    let who = student.clone();
    Effect::new(move |_| {
        if let Some(Ok(())) = extend.value().get() {
            live.said.set(format!("Extra time given to {who}."));
            live.refresh();
        }
    });
    let error = Signal::derive(move || {
        extend.value().get().and_then(|r| r.err()).map(|e| {
            let m = message(&e);
            field_error(&m).map(|(_, msg)| msg.to_owned()).unwrap_or(m)
        })
    });
    let input_id = format!("extend-{}-{attempt}", id_part(&student));
    let error_id = format!("{input_id}-error");
    let described = {
        let error_id = error_id.clone();
        move || error.get().map(|_| error_id.clone())
    };
    view! {
        <tr>
            <th scope="row">{student.clone()}</th>
            <td>{attempt}</td>
            <td>{started}</td>
            <td>{answered}</td>
            <td class="time-left" class:low=low>{left}</td>
            <td>
                <ActionForm action=extend attr:class="extend-form">
                    <input type="hidden" name="id" value=live.exam_id.get_value() />
                    <input type="hidden" name="student" value=student.clone() />
                    <label class="sr-only" for=input_id.clone()>{format!("Extra minutes for {student}")}</label>
                    <input
                        type="number"
                        id=input_id
                        name="minutes"
                        value="5"
                        min="1"
                        max="1440"
                        step="1"
                        required
                        inputmode="numeric"
                        aria-describedby=described
                        aria-invalid=move || error.get().is_some().then_some("true")
                    />
                    <span class="unit" aria-hidden="true">"min"</span>
                    <button type="submit" disabled=move || extend.pending().get()>
                        "Extend" <span class="sr-only">{format!(" the time of {student}")}</span>
                    </button>
                    {move || error.get().map(|m| view! { <p class="field-error" id=error_id.clone()>{m}</p> })}
                </ActionForm>
            </td>
        </tr>
    }
}

fn show_label(show: ReviewShow) -> &'static str {
    match show {
        ReviewShow::Score => "their score only",
        ReviewShow::Answers => "their score and their answers",
        ReviewShow::Correct => "their score, their answers and the correct answers",
    }
}

/// "12:05", "1:02:09", "no limit", "in grace period".
pub fn time_left(seconds: Option<i64>) -> String {
    match seconds {
        None => "no limit".to_owned(),
        Some(s) if s < 0 => "in grace period".to_owned(),
        Some(s) => {
            let (h, m, s) = (s / 3600, s % 3600 / 60, s % 60);
            if h > 0 { format!("{h}:{m:02}:{s:02}") } else { format!("{m:02}:{s:02}") }
        }
    }
}

/// A unique, valid `id` fragment for any student name: letters and digits as they are, every
/// other character as `_` and its code point.
fn id_part(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_string() } else { format!("_{:x}", u32::from(c)) }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_reads_naturally() {
        assert_eq!(time_left(None), "no limit");
        assert_eq!(time_left(Some(-3)), "in grace period");
        assert_eq!(time_left(Some(0)), "00:00");
        assert_eq!(time_left(Some(725)), "12:05");
        assert_eq!(time_left(Some(3729)), "1:02:09");
    }

    fn sitting() -> SittingView {
        let attempt = |student: &str, seconds_left: Option<i64>| InProgress {
            student: student.into(),
            attempt: 1,
            version: 1,
            started_at: "2026-12-01T09:00:00.000Z".into(),
            deadline: None,
            seconds_left,
            answered: 3,
        };
        let mut settings = exam_domain::ExamSettings::defaults(50);
        settings.review.when = ReviewWhen::OnRelease;
        SittingView {
            exam_id: exam_domain::ExamId::parse("e1").unwrap(),
            title: "<script>alert(1)</script> Quiz".into(),
            settings,
            window: WindowState::Open { closes_at: Some("2026-12-01T11:00:00.000Z".into()) },
            released_at: None,
            results_visible: false,
            in_progress: vec![attempt("Ada <b>", Some(725)), attempt("Bob", None), attempt("Cy", Some(-4))],
            students_submitted: 2,
            submissions: 3,
            question_count: 10,
            server_time: "2026-12-01T09:10:00.000Z".into(),
        }
    }

    #[test]
    fn the_server_renders_the_whole_sitting_escaped() {
        let html = Owner::new().with(|| {
            crate::live::provide_live_feed();
            view! { <SittingBody initial=sitting() /> }.to_html()
        });
        assert!(!html.contains("<script>") && !html.contains("<b>"), "{html}");
        assert!(html.contains("&lt;script&gt;"));
        for text in [
            "Open until 2026-12-01 11:00 UTC.",
            "2 students have submitted · 3 submissions in all · 3 attempts in progress",
            "Release results",
            "Close the exam now",
            "3 / 10",
            "12:05",
            "no limit",
            "in grace period",
            "Extra minutes for Ada &lt;b&gt;",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
    }

    #[test]
    fn ids_are_unique_per_name() {
        assert_eq!(id_part("Ada"), "Ada");
        assert_ne!(id_part("a b"), id_part("a-b"));
        assert_eq!(id_part("é"), "_e9");
    }
}
