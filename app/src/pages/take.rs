//! `/exams/:id`: take an exam over a WebSocket, one question at a time.
//!
//! Answers are sent as they are chosen and marked "saved" only when the server confirms it
//! stored them. The student's name is kept in localStorage, so a reload reconnects and the
//! server's `resumed` frame restores every saved answer. The answer key arrives only in the
//! `result` frame, after submission.

use std::collections::{BTreeMap, BTreeSet};

use exam_domain::{ExamPaper, GradeReport, OptionId, PaperQuestion, QuestionId};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::server_fns::{load_exam_paper, message};

#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Waiting for the student's name.
    Name,
    Connecting,
    Taking,
    Submitting,
    Done {
        attempt: u32,
        report: GradeReport,
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
}

#[component]
pub fn TakeExam() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let paper = Resource::new(id, load_exam_paper);
    let st = TakeState {
        exam_id: RwSignal::new(String::new()),
        student: RwSignal::new(String::new()),
        phase: RwSignal::new(Phase::Name),
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
    };
    view! {
        <main class="page narrow">
            <p class="crumbs"><a href="/exams">"← All exams"</a></p>
            <Suspense fallback=|| view! { <p>"Loading the exam…"</p> }>
                {move || paper.get().map(|r| match r {
                    Ok(p) => view! { <Exam paper=p st /> }.into_any(),
                    Err(e) => view! {
                        <Title text="Exam not available" />
                        <h1>"Exam not available"</h1>
                        <p class="error" role="alert">{message(&e)}". It may not be published yet."</p>
                    }.into_any(),
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn Exam(paper: ExamPaper, st: TakeState) -> impl IntoView {
    st.exam_id.set(paper.exam_id.to_string());
    st.total.set(paper.questions.len());
    st.version.set(paper.version);
    let n = paper.questions.len();
    st.questions.set(paper.questions);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| client::resume_if_known(st));
    view! {
        <Title text=paper.title.clone() />
        <h1>{paper.title.clone()}</h1>
        {move || st.error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        {move || match st.phase.get() {
            Phase::Name => view! { <NameForm st n /> }.into_any(),
            Phase::Connecting => view! { <p role="status">"Opening your attempt…"</p> }.into_any(),
            Phase::Taking | Phase::Submitting => view! {
                {st.older_version.get_untracked().then(|| view! {
                    <p class="hint" role="note">"You started this attempt before the exam was updated; it continues with the questions you started on."</p>
                })}
                <Questions st questions=st.questions />
            }.into_any(),
            Phase::Done { attempt, report } => view! { <Report attempt report student=st.student.get_untracked() /> }.into_any(),
        }}
    }
}

#[component]
fn NameForm(st: TakeState, n: usize) -> impl IntoView {
    // False in the server's HTML and until the WASM has hydrated the page.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        client::start(st);
    };
    view! {
        <p class="lead">{format!("{n} questions. Your answers are saved as you choose them; you can close the page and continue later.")}</p>
        <form class="card" on:submit=on_submit>
            <div class="field">
                <label for="student">"Your name or e-mail"</label>
                <input
                    id="student"
                    name="student"
                    type="text"
                    required
                    maxlength="120"
                    autocomplete="name"
                    prop:value=move || st.student.get()
                    on:input=move |ev| st.student.set(event_target_value(&ev))
                />
            </div>
            <div class="actions">
                <button type="submit" class="primary" disabled=move || !hydrated.get()>"Start the exam"</button>
            </div>
            {move || (!hydrated.get()).then(|| view! {
                <p class="hint" role="status">"Taking an exam needs JavaScript (answers are saved live over a WebSocket). If this message stays, enable JavaScript for this site."</p>
            })}
        </form>
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
        if unanswered() > 0 && !st.confirm_submit.get_untracked() {
            st.confirm_submit.set(true);
        }
        #[cfg(feature = "hydrate")]
        client::submit(st);
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

#[component]
fn Report(attempt: u32, report: GradeReport, student: String) -> impl IntoView {
    view! {
        <section class="card score" aria-labelledby="score-h">
            <h2 id="score-h">{if report.passed { "Passed" } else { "Not passed" }}</h2>
            <p class="big">{format!("{} / {}", report.score, report.total)}<span>{format!(" · {:.1} %", report.percent)}</span></p>
            <p>{format!("{student}, attempt {attempt}. Pass mark: {} %.", report.pass_mark)}</p>
        </section>
        <h2>"Your answers"</h2>
        <ol class="questions">
            {report.results.into_iter().map(|r| view! {
                <li class="card question" class:right=r.is_correct class:wrong=!r.is_correct>
                    <p class="verdict">{if r.is_correct { "✓ Correct" } else { "✗ Incorrect" }}</p>
                    <p class="prompt">{r.question}</p>
                    <p>"Your answer: " <strong>{r.chosen_text.unwrap_or_else(|| "(not answered)".into())}</strong></p>
                    {(!r.is_correct).then(|| view! { <p>"Correct answer: " <strong>{r.correct_text.clone()}</strong></p> })}
                    {r.source.map(|s| view! {
                        <blockquote class="source"><span class="page">{format!("Page {}", s.page)}</span>" “"{s.quote}"”"</blockquote>
                    })}
                </li>
            }).collect_view()}
        </ol>
        <p><a href="/exams">"Back to all exams"</a></p>
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

    use super::{Phase, TakeState};

    const NAME_KEY: &str = "exam-student";

    thread_local! {
        static SOCKET: RefCell<Option<WebSocket>> = const { RefCell::new(None) };
    }

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok()?
    }

    /// On page load: a student who already gave a name continues where they left off.
    pub fn resume_if_known(st: TakeState) {
        if let Some(name) = storage().and_then(|s| s.get_item(NAME_KEY).ok().flatten()).filter(|n| !n.trim().is_empty()) {
            st.student.set(name);
            connect(st, 0);
        }
    }

    pub fn start(st: TakeState) {
        let name = st.student.get_untracked().trim().to_owned();
        if name.is_empty() {
            st.error.set(Some("Enter your name or e-mail to start.".into()));
            return;
        }
        if let Some(s) = storage() {
            let _ = s.set_item(NAME_KEY, &name);
        }
        connect(st, 0);
    }

    fn connect(st: TakeState, retry: u32) {
        st.error.set(None);
        if retry == 0 {
            st.phase.set(Phase::Connecting);
        }
        let path = format!(
            "/api/v1/exams/{}/attempt?student={}",
            st.exam_id.get_untracked(),
            String::from(js_sys::encode_uri_component(&st.student.get_untracked()))
        );
        let Ok(ws) = WebSocket::new(&crate::live::ws_url(&path)) else {
            st.error.set(Some("Your browser could not open a connection to the server.".into()));
            st.phase.set(Phase::Name);
            return;
        };
        let opened = std::rc::Rc::new(std::cell::Cell::new(false));
        let onmessage = {
            let opened = opened.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                opened.set(true);
                let Some(text) = e.data().as_string() else { return };
                match serde_json::from_str::<ServerMsg>(&text) {
                    Ok(ServerMsg::Resumed { attempt, version, answers }) => {
                        st.error.set(None);
                        let resume = move || {
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
                                        st.questions.set(paper.questions);
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
                    Ok(ServerMsg::Result { attempt, report }) => {
                        SOCKET.with(|s| s.borrow_mut().take());
                        st.phase.set(Phase::Done { attempt, report });
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
            Phase::Connecting | Phase::Name if !opened.get() => {
                st.phase.set(Phase::Name);
                st.error.set(Some("Could not open the exam. It may have been unpublished, or the name is not valid. Try again.".into()));
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
