//! `/exams/:id`: take an exam over a WebSocket, one question at a time.
//!
//! A browser that has not joined the exam sees the join form (code and name, see
//! [`super::join`]); the student's identity then lives in the session, so a reload (or a
//! return after closing the page) shows the student's standing (window, attempts left, earlier
//! results as the review policy allows) and continues a running attempt: the server's `resumed`
//! frame restores every saved answer, the attempt's question order and its deadline. Answers are
//! sent as they are chosen and marked "saved" only when the server confirms it stored them. A
//! timed attempt counts down in server time; at zero the page submits, and the server submits
//! anyway if the page is gone. The answer key arrives only in the `result` frame, and only if
//! the review policy allows it.

use std::collections::{BTreeMap, BTreeSet};

use exam_domain::sitting::{ReviewWhen, StudentReport, WindowState};
use exam_domain::{ExamPaper, OptionId, PaperQuestion, QuestionId, StudentStatus};
use leptos::either::{Either, EitherOf3, EitherOf6};
use leptos::prelude::*;
use leptos_meta::Title;

use super::join::JoinForm;
use crate::server_fns::{ExamEntry, load_exam_entry, message};

#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Loading the student's standing (also what the server renders).
    Checking,
    /// The standing could not be loaded; the error says why, and the student can retry.
    Unavailable,
    /// The standing is shown; an attempt can be started if it allows.
    Standing(Box<StudentStatus>),
    Connecting,
    Taking,
    Submitting,
    Done {
        attempt: u32,
        report: Box<StudentReport>,
    },
}

/// All of the page's state; `Copy`, so closures can share it.
#[derive(Clone, Copy)]
pub struct TakeState {
    pub exam_id: RwSignal<String>,
    pub student: RwSignal<String>,
    pub phase: RwSignal<Phase>,
    pub index: RwSignal<usize>,
    pub answers: RwSignal<BTreeMap<QuestionId, OptionId>>,
    /// Questions whose current answer the server has confirmed.
    pub saved: RwSignal<BTreeSet<QuestionId>>,
    pub attempt: RwSignal<u32>,
    pub error: RwSignal<Option<String>>,
    pub confirm_submit: RwSignal<bool>,
    pub total: RwSignal<usize>,
    /// The exam version shown. An attempt opened on an older version continues on it: the
    /// `resumed` frame names the version and the page loads that paper.
    pub version: RwSignal<u32>,
    pub questions: RwSignal<Vec<PaperQuestion>>,
    /// Set when the attempt continues on an older version than the page first showed.
    pub older_version: RwSignal<bool>,
    /// The attempt's deadline (ms since the epoch, server clock); `None` when untimed.
    pub deadline_ms: RwSignal<Option<f64>>,
    /// Server clock minus browser clock, ms (from the frame that carried `server_time`).
    pub clock_offset_ms: RwSignal<f64>,
    /// The browser's clock, ticking once a second while an attempt is timed.
    pub now_ms: RwSignal<f64>,
    /// The canonical paper, to re-order per attempt.
    pub canonical: RwSignal<Vec<PaperQuestion>>,
}

impl TakeState {
    /// The state of a page that has the paper and has not looked up the standing yet.
    fn new(student: String) -> Self {
        TakeState {
            exam_id: RwSignal::new(String::new()),
            student: RwSignal::new(student),
            phase: RwSignal::new(Phase::Checking),
            index: RwSignal::new(0),
            answers: RwSignal::new(BTreeMap::new()),
            saved: RwSignal::new(BTreeSet::new()),
            attempt: RwSignal::new(1),
            error: RwSignal::new(None),
            confirm_submit: RwSignal::new(false),
            total: RwSignal::new(0),
            version: RwSignal::new(0),
            questions: RwSignal::new(Vec::new()),
            older_version: RwSignal::new(false),
            deadline_ms: RwSignal::new(None),
            clock_offset_ms: RwSignal::new(0.0),
            now_ms: RwSignal::new(0.0),
            canonical: RwSignal::new(Vec::new()),
        }
    }

    /// Milliseconds left, in server time; `None` when untimed.
    pub fn ms_left(&self) -> Option<f64> {
        self.deadline_ms.get().map(|d| d - (self.now_ms.get() + self.clock_offset_ms.get_untracked()))
    }
}

/// `mm:ss`, or `h:mm:ss` from an hour.
pub fn clock_text(ms: f64) -> String {
    let secs = (ms / 1000.0).ceil().max(0.0) as u64;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 { format!("{h}:{m:02}:{s:02}") } else { format!("{m:02}:{s:02}") }
}

#[component]
pub fn TakeExam() -> impl IntoView {
    let id = crate::page_url::use_exam_id();
    let entry = Resource::new(id, load_exam_entry);
    view! {
        <main class="page narrow">
            <p class="crumbs"><a href="/exams">"← Your exams"</a></p>
            <Suspense fallback=|| view! { <p>"Loading the exam…"</p> }>
                {move || entry.get().map(|r| match r {
                    Ok(ExamEntry { paper: Some(paper), joined_as, .. }) => EitherOf3::A(view! { <Exam paper st=TakeState::new(joined_as.unwrap_or_default()) /> }),
                    Ok(e) => EitherOf3::B(view! { <Entry entry=e /> }),
                    Err(e) => EitherOf3::C(view! {
                        <Title text="Exam not available" />
                        <h1>"Exam not available"</h1>
                        <p class="error" role="alert">{message(&e)}". It may not be published yet."</p>
                    }),
                })}
            </Suspense>
        </main>
    }
}

/// A browser that has not joined the exam: its title, size, and the join form.
#[component]
fn Entry(entry: ExamEntry) -> impl IntoView {
    let n = entry.question_count;
    view! {
        <Title text=crate::raw_text(&entry.title) />
        <h1>{entry.title.clone()}</h1>
        <p class="lead">{format!("{}. Join with the code your teacher gives you; your answers are then saved as you choose them, and you can close the page and continue later.", crate::plural(n, "question", "questions"))}</p>
        {entry.teacher.then(|| view! {
            <p class="notice" role="note">"You are signed in as a teacher. To try the exam as a student, open this page in a private window."</p>
        })}
        <JoinForm exam=Some(entry.exam_id.clone()) sign_in=entry.signed_in needs_sign_in=entry.require_sign_in />
    }
}

/// A student of the exam: the paper and everything after.
#[component]
fn Exam(paper: ExamPaper, st: TakeState) -> impl IntoView {
    st.exam_id.set(paper.exam_id.to_string());
    st.total.set(paper.questions.len());
    st.version.set(paper.version);
    st.canonical.set(paper.questions.clone());
    st.questions.set(paper.questions);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| client::check(st));
    view! {
        <Title text=crate::raw_text(&paper.title) />
        <h1>{paper.title.clone()}</h1>
        {move || st.error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        {move || match st.phase.get() {
            Phase::Checking => EitherOf6::A(view! { <Checking st /> }),
            Phase::Unavailable => EitherOf6::B(view! {
                <div class="actions">
                    <button type="button" class="primary" on:click=move |_| {
                        #[cfg(feature = "hydrate")]
                        client::check(st);
                    }>"Try again"</button>
                </div>
            }),
            Phase::Standing(status) => EitherOf6::C(view! { <Standing st status=*status /> }),
            Phase::Connecting => EitherOf6::D(view! { <p role="status">"Opening your attempt…"</p> }),
            Phase::Taking | Phase::Submitting => EitherOf6::E(view! {
                {st.older_version.get_untracked().then(|| view! {
                    <p class="hint" role="note">"You started this attempt before the exam was updated; it continues with the questions you started on."</p>
                })}
                <Countdown st />
                <Questions st questions=st.questions />
            }),
            Phase::Done { attempt, report } => EitherOf6::F(view! { <Report attempt report=*report st /> }),
        }}
    }
}

/// Before the WASM has loaded the student's standing (and what the server renders).
#[component]
fn Checking(st: TakeState) -> impl IntoView {
    // False in the server's HTML and until the WASM has hydrated the page.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <p class="lead">{move || format!("You are taking this exam as {}.", st.student.get())}</p>
        <p role="status">"Looking up your attempts…"</p>
        {move || (!hydrated.get()).then(|| view! {
            <p class="hint" role="status">"Taking an exam needs JavaScript (answers are saved live over a WebSocket). If this message stays, enable JavaScript for this site."</p>
        })}
    }
}

#[component]
fn Questions(st: TakeState, questions: RwSignal<Vec<PaperQuestion>>) -> impl IntoView {
    let n = questions.with_untracked(Vec::len);
    let current = move || questions.with(|qs| qs.get(st.index.get().min(n.saturating_sub(1))).cloned());
    let answered = move || st.answers.with(|a| a.len());
    let unanswered = move || n.saturating_sub(answered());
    let go = move |i: usize| {
        st.confirm_submit.set(false);
        st.index.set(i.min(n.saturating_sub(1)));
    };
    let submit = move |_| {
        // Unanswered questions: the first click asks, the second ("Submit anyway") submits.
        if unanswered() > 0 && !st.confirm_submit.get_untracked() {
            st.confirm_submit.set(true);
        } else {
            #[cfg(feature = "hydrate")]
            client::submit(st);
        }
    };
    view! {
        <section class="taking" aria-labelledby="q-prompt">
            <div class="progress-line">
                <p role="status" aria-live="polite">
                    {move || format!("Question {} of {n} · {} answered", st.index.get() + 1, answered())}
                </p>
                <progress max=n value=answered aria-label="Questions answered"></progress>
            </div>
            {move || current().map(|q| view! { <QuestionView q st /> })}
            <nav class="q-nav" aria-label="Question navigation">
                <button type="button" on:click=move |_| go(st.index.get_untracked().saturating_sub(1)) disabled=move || { st.index.get() == 0 }>"← Previous"</button>
                <button type="button" on:click=move |_| go(st.index.get_untracked() + 1) disabled=move || { st.index.get() + 1 >= n }>"Next →"</button>
            </nav>
            <ol class="q-dots" aria-label="All questions">
                {move || questions.with(|qs| qs.iter().enumerate().map(|(i, q)| {
                    let is_answered = st.answers.with(|a| a.contains_key(&q.id));
                    let label = format!("Question {}{}", i + 1, if is_answered { ", answered" } else { ", not answered" });
                    view! {
                        <li>
                            <button type="button" class:answered=is_answered class:current=move || st.index.get() == i aria-label=label on:click=move |_| go(i)>
                                {i + 1}
                            </button>
                        </li>
                    }
                }).collect_view())}
            </ol>
            <div class="submit-area">
                {move || st.confirm_submit.get().then(|| view! {
                    <p class="warning" role="alert">{format!("{} question(s) are not answered yet. Submit anyway?", unanswered())}</p>
                })}
                <button type="button" class="primary" on:click=submit disabled=move || st.phase.get() == Phase::Submitting>
                    {move || if st.phase.get() == Phase::Submitting { "Submitting…" } else if st.confirm_submit.get() { "Submit anyway" } else { "Submit answers" }}
                </button>
            </div>
        </section>
    }
}

#[component]
fn QuestionView(q: PaperQuestion, st: TakeState) -> impl IntoView {
    let qid = q.id.clone();
    let name = format!("q-{}", q.id);
    let save_state = {
        let qid = qid.clone();
        move || {
            let chosen = st.answers.with(|a| a.contains_key(&qid));
            let saved = st.saved.with(|s| s.contains(&qid));
            match (chosen, saved) {
                (false, _) => "Not answered yet",
                (true, true) => "✓ Answer saved",
                (true, false) => "Saving…",
            }
        }
    };
    view! {
        <fieldset class="card question-take" data-question-id=q.id.to_string()>
            <legend id="q-prompt" class="prompt">{q.question.clone()}</legend>
            <div class="options" role="radiogroup" aria-labelledby="q-prompt">
                {q.options.into_iter().map(|o| {
                    let oid = o.id.clone();
                    let qid_checked = qid.clone();
                    let qid_change = qid.clone();
                    let oid_checked = oid.clone();
                    let input_id = format!("{}-{}", name, o.id);
                    let label_for = input_id.clone();
                    view! {
                        <label class="option" for=label_for>
                            <input
                                type="radio"
                                id=input_id
                                name=name.clone()
                                value=o.id.to_string()
                                prop:checked=move || st.answers.with(|a| a.get(&qid_checked) == Some(&oid_checked))
                                on:change=move |_| {
                                    st.answers.update(|a| { a.insert(qid_change.clone(), oid.clone()); });
                                    st.saved.update(|s| { s.remove(&qid_change); });
                                    #[cfg(feature = "hydrate")]
                                    client::send_answer(st, qid_change.clone(), oid.clone());
                                }
                            />
                            <span>{o.text.clone()}</span>
                        </label>
                    }
                }).collect_view()}
            </div>
            <p class="save-state" aria-live="polite">{save_state}</p>
        </fieldset>
    }
}

/// The time left, counted in server time. Announced to screen readers at 5, 1 and 0 minutes
/// only (a live region updating every second would be noise).
#[component]
fn Countdown(st: TakeState) -> impl IntoView {
    let left = move || st.ms_left();
    let announce = move || {
        left().map(|ms| match (ms / 1000.0).ceil() as i64 {
            s if s <= 0 => "Time is up.".to_owned(),
            s if s <= 60 => "Less than one minute left.".to_owned(),
            s if s <= 300 => "Less than five minutes left.".to_owned(),
            _ => String::new(),
        })
    };
    view! {
        {move || left().map(|ms| view! {
            <div class="countdown" class:warning=move || ms <= 60_000.0 class:over=move || ms <= 0.0>
                <span class="label">"Time left"</span>
                <span class="time" role="timer" aria-label="Time left">{clock_text(ms)}</span>
            </div>
        })}
        <p class="sr-only" aria-live="assertive">{announce}</p>
    }
}

fn window_text(w: &WindowState) -> String {
    match w {
        WindowState::NotYetOpen { opens_at } => format!("Opens at {} (UTC).", short_time(opens_at)),
        WindowState::Open { closes_at: Some(c) } => format!("Open until {} (UTC).", short_time(c)),
        WindowState::Open { closes_at: None } => "Open.".to_owned(),
        WindowState::Closed { closed_at } => format!("Closed at {} (UTC).", short_time(closed_at)),
    }
}

/// `2026-12-01T09:30:00.000Z` → `2026-12-01 09:30`.
pub fn short_time(rfc3339: &str) -> String {
    rfc3339.get(..16).map(|s| s.replace('T', " ")).unwrap_or_else(|| rfc3339.to_owned())
}

/// The student's standing before an attempt: window, limit, attempts, earlier results.
#[component]
fn Standing(st: TakeState, status: StudentStatus) -> impl IntoView {
    let attempts = match (status.attempts_allowed, status.attempts_left) {
        (Some(max), Some(left)) => format!("Attempts: {} of {max} used, {left} left.", status.attempts_used),
        _ => format!("Attempts: {} used, no limit.", status.attempts_used),
    };
    let limit = status.time_limit_secs.map(|s| format!("Time limit: {}.", minutes_text(s)));
    let why_not = (!status.can_start).then(|| match &status.window {
        WindowState::NotYetOpen { .. } => "The exam is not open yet.",
        WindowState::Closed { .. } => "The exam is closed; no new attempts can be started.",
        WindowState::Open { .. } if status.attempts_left == Some(0) => "You have used all your attempts.",
        _ => "",
    });
    let next = status.attempts_used + 1;
    let start = move |_| {
        #[cfg(feature = "hydrate")]
        client::connect(st, 0);
    };
    let kept = status.kept_attempt;
    view! {
        <section class="card standing" aria-labelledby="standing-h">
            <h2 id="standing-h">{format!("Hello, {}", st.student.get_untracked())}</h2>
            <ul class="facts">
                <li>{window_text(&status.window)}</li>
                {limit.map(|l| view! { <li>{l}</li> })}
                <li>{attempts}</li>
            </ul>
            {why_not.filter(|w| !w.is_empty()).map(|w| view! { <p class="warning" role="status">{w}</p> })}
            {status.can_start.then(|| view! {
                <div class="actions">
                    <button type="button" class="primary" on:click=start>
                        {if next == 1 { "Start the exam".to_owned() } else { format!("Start attempt {next}") }}
                    </button>
                </div>
                {status.time_limit_secs.map(|_| view! { <p class="hint">"The clock starts when you press the button and keeps running if you close the page."</p> })}
            })}
        </section>
        {(!status.results.is_empty()).then(|| view! {
            <h2>"Your submissions"</h2>
            {status.results.into_iter().rev().map(|r| view! {
                <ReportCard report=r.clone() kept=kept == Some(r.attempt) />
            }).collect_view()}
        })}
    }
}

fn minutes_text(secs: u32) -> String {
    if secs.is_multiple_of(60) { format!("{} min", secs / 60) } else { format!("{} min {} s", secs / 60, secs % 60) }
}

fn release_text(r: &StudentReport) -> &'static str {
    match r.available {
        ReviewWhen::AfterClose => "Your result will be shown here after the exam closes.",
        ReviewWhen::OnRelease => "Your result will be shown here when your teacher releases results.",
        ReviewWhen::Immediately => "",
    }
}

/// One submission as the review policy allows: only that it was received, the score, the
/// student's answers, or everything with the key.
#[component]
fn ReportCard(report: StudentReport, #[prop(optional)] kept: bool) -> impl IntoView {
    let label = format!("Attempt {}", report.attempt);
    let auto = report.auto_submitted.then(|| {
        view! {
            <p class="notice" role="status">"Time ran out: your saved answers were submitted automatically."</p>
        }
    });
    let heading = match (report.released, report.passed) {
        (false, _) => "Submitted",
        (true, Some(true)) => "Passed",
        (true, _) => "Not passed",
    };
    let body = if !report.released {
        Either::Left(view! { <p>{format!("Attempt {}: your answers were submitted. ", report.attempt)} {release_text(&report)}</p> })
    } else {
        Either::Right(view! {
            <p class="big">{format!("{} / {}", report.score.unwrap_or(0), report.total.unwrap_or(0))}<span>{format!(" · {}", crate::percent_text(report.percent.unwrap_or(0.0)))}</span></p>
            <p>{format!("Attempt {}. Pass mark: {} %.", report.attempt, report.pass_mark.unwrap_or(0))}
                {kept.then(|| view! { <span class="badge">" This attempt counts for your grade."</span> })}
            </p>
        })
    };
    view! {
        <section class="card score" aria-label=label>
            <h2>{heading}</h2>
            {auto}
            {body}
        </section>
    }
}

#[component]
fn Report(attempt: u32, report: StudentReport, st: TakeState) -> impl IntoView {
    let student = st.student.get_untracked();
    let again = move |_| {
        #[cfg(feature = "hydrate")]
        client::check(st);
    };
    let results = report.results.clone();
    let released = report.released;
    view! {
        <p class="lead">{format!("{student}, attempt {attempt} is submitted.")}</p>
        <ReportCard report=report />
        {(released && !results.is_empty()).then(|| view! {
            <h2>"Your answers"</h2>
            <ol class="questions">
                {results.into_iter().map(|r| {
                    let verdict = r.is_correct.map(|c| if c { "✓ Correct" } else { "✗ Incorrect" });
                    view! {
                        <li class="card question" class:right=r.is_correct == Some(true) class:wrong=r.is_correct == Some(false)>
                            {verdict.map(|v| view! { <p class="verdict">{v}</p> })}
                            <p class="prompt">{r.question}</p>
                            <p>"Your answer: " <strong>{r.chosen_text.unwrap_or_else(|| "(not answered)".into())}</strong></p>
                            {(r.is_correct == Some(false)).then(|| r.correct_text.clone()).flatten().map(|c| view! { <p>"Correct answer: " <strong>{c}</strong></p> })}
                            {r.source.map(|s| view! {
                                <blockquote class="source"><span class="page">{format!("Page {}", s.page)}</span>" “"{s.quote}"”"</blockquote>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ol>
        })}
        <div class="actions">
            <button type="button" on:click=again>"See your attempts"</button>
            <a href="/exams">"Back to all exams"</a>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod client {
    use std::cell::RefCell;
    use std::time::Duration;

    use exam_domain::attempt::{ClientMsg, ServerMsg};
    use exam_domain::{OptionId, QuestionId};
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{MessageEvent, WebSocket};

    use leptos::leptos_dom::helpers::IntervalHandle;

    use super::{Phase, TakeState};

    thread_local! {
        static SOCKET: RefCell<Option<WebSocket>> = const { RefCell::new(None) };
        static TICKER: RefCell<Option<IntervalHandle>> = const { RefCell::new(None) };
    }

    /// Loads the student's standing; a running attempt is resumed straight away.
    pub fn check(st: TakeState) {
        standing(st, true);
    }

    /// `resume`: continue a running attempt at once.
    fn standing(st: TakeState, resume: bool) {
        st.error.set(None);
        st.phase.set(Phase::Checking);
        let id = st.exam_id.get_untracked();
        leptos::task::spawn_local(async move {
            match crate::server_fns::load_status(id).await {
                Ok(status) if resume && status.in_progress.is_some() => connect(st, 0),
                Ok(status) => st.phase.set(Phase::Standing(Box::new(status))),
                Err(e) => {
                    st.phase.set(Phase::Unavailable);
                    st.error.set(Some(crate::server_fns::message(&e)));
                }
            }
        });
    }

    fn parse_ms(rfc3339: &str) -> f64 {
        js_sys::Date::parse(rfc3339)
    }

    fn set_clock(st: TakeState, deadline: Option<&str>, server_time: &str) {
        let now = js_sys::Date::now();
        let server = parse_ms(server_time);
        if server.is_finite() {
            st.clock_offset_ms.set(server - now);
        }
        st.now_ms.set(now);
        st.deadline_ms.set(deadline.map(parse_ms).filter(|d| d.is_finite()));
        TICKER.with(|t| {
            if t.borrow().is_none() && st.deadline_ms.get_untracked().is_some() {
                let handle = set_interval_with_handle(
                    move || {
                        st.now_ms.set(js_sys::Date::now());
                        // Just past zero the page submits what is saved; the server would do so anyway
                        // after the grace period, with or without this page.
                        if st.phase.get_untracked() == Phase::Taking && st.ms_left().is_some_and(|ms| ms <= -500.0) {
                            submit(st);
                        }
                    },
                    Duration::from_millis(250),
                );
                *t.borrow_mut() = handle.ok();
            }
        });
    }

    fn stop_clock(st: TakeState) {
        TICKER.with(|t| {
            if let Some(h) = t.borrow_mut().take() {
                h.clear();
            }
        });
        st.deadline_ms.set(None);
    }

    pub fn connect(st: TakeState, retry: u32) {
        st.error.set(None);
        if retry == 0 {
            st.phase.set(Phase::Connecting);
        }
        // The student is the one the session joined the exam as: no name in the URL.
        let path = format!("/api/v1/exams/{}/attempt", st.exam_id.get_untracked());
        let Ok(ws) = WebSocket::new(&crate::live::ws_url(&path)) else {
            st.error.set(Some("Your browser could not open a connection to the server.".into()));
            st.phase.set(Phase::Unavailable);
            return;
        };
        let opened = std::rc::Rc::new(std::cell::Cell::new(false));
        let onmessage = {
            let opened = opened.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                opened.set(true);
                let Some(text) = e.data().as_string() else { return };
                match serde_json::from_str::<ServerMsg>(&text) {
                    Ok(ServerMsg::Resumed { attempt, version, answers, deadline, server_time, question_order, option_order }) => {
                        st.error.set(None);
                        set_clock(st, deadline.as_deref(), &server_time);
                        let resume = move || {
                            st.questions.set(exam_domain::sitting::in_attempt_order(
                                st.canonical.get_untracked(),
                                &question_order,
                                &option_order,
                            ));
                            // A fresh page continues after the answered questions; a reconnect stays put.
                            let idx = if retry == 0 {
                                answers.len().min(st.total.get_untracked().saturating_sub(1))
                            } else {
                                st.index.get_untracked()
                            };
                            st.saved.set(answers.keys().cloned().collect());
                            st.answers.set(answers);
                            st.attempt.set(attempt);
                            st.index.set(idx);
                            st.phase.set(Phase::Taking);
                        };
                        if version == st.version.get_untracked() {
                            resume();
                        } else {
                            // The attempt is bound to another version than the page shows.
                            let exam_id = st.exam_id.get_untracked();
                            leptos::task::spawn_local(async move {
                                match crate::server_fns::load_exam_paper_version(exam_id, version).await {
                                    Ok(paper) => {
                                        st.total.set(paper.questions.len());
                                        st.older_version.set(paper.version < st.version.get_untracked());
                                        st.version.set(paper.version);
                                        st.canonical.set(paper.questions);
                                        resume();
                                    }
                                    Err(e) => st.error.set(Some(crate::server_fns::message(&e))),
                                }
                            });
                        }
                    }
                    Ok(ServerMsg::Saved { question_id, option_id }) => {
                        let current = st.answers.with_untracked(|a| a.get(&question_id) == Some(&option_id));
                        if current {
                            st.saved.update(|s| {
                                s.insert(question_id);
                            });
                        }
                    }
                    Ok(ServerMsg::Deadline { deadline, server_time }) => set_clock(st, deadline.as_deref(), &server_time),
                    Ok(ServerMsg::Result { attempt, report }) => {
                        SOCKET.with(|s| s.borrow_mut().take());
                        stop_clock(st);
                        st.error.set(None);
                        st.phase.set(Phase::Done { attempt, report: Box::new(report) });
                    }
                    Ok(ServerMsg::Error { message }) => {
                        if st.phase.get_untracked() == Phase::Submitting {
                            st.phase.set(Phase::Taking);
                        }
                        st.error.set(Some(message));
                    }
                    Err(_) => {}
                }
            })
        };
        ws.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
        onmessage.forget();
        let onclose = Closure::once_into_js(move || match st.phase.get_untracked() {
            Phase::Done { .. } => {}
            Phase::Connecting | Phase::Unavailable | Phase::Checking | Phase::Standing(_) if !opened.get() => {
                // The server refused before upgrading (window closed, attempts used up, not
                // published): the standing says why.
                standing(st, false);
                st.error.set(Some("The attempt could not be opened.".into()));
            }
            _ => {
                st.error.set(Some("Connection lost. Reconnecting… (your saved answers are safe)".into()));
                let delay = Duration::from_millis((500u64 << retry.min(5)).min(10_000));
                set_timeout(move || connect(st, retry + 1), delay);
            }
        });
        ws.set_onclose(Some(onclose.unchecked_ref()));
        SOCKET.with(|s| {
            if let Some(old) = s.borrow_mut().replace(ws) {
                old.set_onclose(None);
                let _ = old.close();
            }
        });
    }

    fn send(st: TakeState, msg: &ClientMsg) -> bool {
        let Ok(text) = serde_json::to_string(msg) else { return false };
        let sent =
            SOCKET.with(|s| s.borrow().as_ref().is_some_and(|ws| ws.ready_state() == WebSocket::OPEN && ws.send_with_str(&text).is_ok()));
        if !sent {
            st.error.set(Some("Not connected to the server right now; reconnecting. Choose the answer again once connected.".into()));
        }
        sent
    }

    pub fn send_answer(st: TakeState, question_id: QuestionId, option_id: OptionId) {
        send(st, &ClientMsg::Answer { question_id, option_id });
    }

    pub fn submit(st: TakeState) {
        if send(st, &ClientMsg::Submit) {
            st.phase.set(Phase::Submitting);
        }
    }
}
