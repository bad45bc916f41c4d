//! `/teacher/exams/:id/results`: submissions, arriving live, with the exam version each was
//! graded against, and a CSV download.

use exam_domain::{ExamSummary, SubmissionRecord};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::live::use_live;
use crate::server_fns::{load_submissions, message};

#[component]
pub fn Results() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let live = use_live();
    // Submissions to this exam only (another exam's class submitting does not refetch this page).
    let arrived = Memo::new(move |_| live.submission_frames(&id()));
    let data = Resource::new(move || (id(), arrived.get()), |(id, _)| load_submissions(id));
    view! {
        <main class="page">
            <p class="crumbs"><a href=move || format!("/teacher/exams/{}", id())>"← Back to the exam"</a></p>
            <Transition fallback=|| view! { <p>"Loading results…"</p> }>
                {move || data.get().map(|r| match r {
                    Ok((exam, subs)) => view! { <ResultsTable exam subs /> }.into_any(),
                    Err(e) => view! { <h1>"Results not available"</h1><p class="error" role="alert">{message(&e)}</p> }.into_any(),
                })}
            </Transition>
        </main>
    }
}

#[component]
fn ResultsTable(exam: ExamSummary, subs: Vec<SubmissionRecord>) -> impl IntoView {
    let n = subs.len();
    let passed = subs.iter().filter(|s| s.report.passed).count();
    let avg = if n == 0 { 0.0 } else { subs.iter().map(|s| s.report.percent).sum::<f64>() / n as f64 };
    let csv = format!("/api/v1/exams/{}/results.csv", exam.id);
    view! {
        <Title text=crate::raw_text(&format!("{} · Results", exam.title)) />
        <h1>{format!("Results: {}", exam.title)}</h1>
        <p class="lead" role="status" aria-live="polite">
            {if n == 0 {
                "No submissions yet. This page updates by itself when students submit.".to_owned()
            } else {
                format!("{} · {passed} passed · average {avg:.1} %", crate::plural(n as u64, "submission", "submissions"))
            }}
        </p>
        {(n > 0).then(|| view! {
            <p class="exports"><a href=csv download>"Download results (CSV)"</a></p>
            <div class="table-wrap">
                <table class="results">
                    <thead>
                        <tr><th scope="col">"Student"</th><th scope="col">"Attempt"</th><th scope="col">"Version"</th><th scope="col">"Score"</th><th scope="col">"Percent"</th><th scope="col">"Result"</th><th scope="col">"Submitted"</th></tr>
                    </thead>
                    <tbody>
                        {subs.into_iter().rev().map(|s| view! {
                            <tr>
                                <td>{s.student}</td>
                                <td>{s.attempt}</td>
                                <td>{s.version}</td>
                                <td>{format!("{} / {}", s.report.score, s.report.total)}</td>
                                <td>{format!("{:.1} %", s.report.percent)}</td>
                                <td class=if s.report.passed { "pass" } else { "fail" }>{if s.report.passed { "Passed" } else { "Failed" }}</td>
                                <td>{crate::short_time(&s.submitted_at)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        })}
    }
}
