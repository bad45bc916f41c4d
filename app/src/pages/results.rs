//! `/teacher/exams/:id/results[?page=n]`: submissions, arriving live, newest first, 50 to a
//! page, with the exam version each was graded against, and a CSV download of all of them.

use exam_domain::ResultsPage;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::live::use_live;
use crate::server_fns::{load_results, message};

#[component]
pub fn Results() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let page = move || query.read().get("page").and_then(|p| p.parse::<u32>().ok());
    let live = use_live();
    // Submissions to this exam only (another exam's class submitting does not refetch this page),
    // and only the page shown.
    let arrived = Memo::new(move |_| live.submission_frames(&id()));
    let data = Resource::new(move || (id(), page(), arrived.get()), |(id, page, _)| load_results(id, page));
    view! {
        <main class="page">
            <p class="crumbs"><a href=move || format!("/teacher/exams/{}", id())>"← Back to the exam"</a></p>
            <Transition fallback=|| view! { <p>"Loading results…"</p> }>
                {move || data.get().map(|r| match r {
                    Ok(results) => view! { <ResultsTable results /> }.into_any(),
                    Err(e) => view! { <h1>"Results not available"</h1><p class="error" role="alert">{message(&e)}</p> }.into_any(),
                })}
            </Transition>
        </main>
    }
}

#[component]
fn ResultsTable(results: ResultsPage) -> impl IntoView {
    let ResultsPage { exam, rows, page, pages, submissions, passed, average_percent, .. } = results;
    let csv = format!("/api/v1/exams/{}/results.csv", exam.id);
    let base = format!("/teacher/exams/{}/results", exam.id);
    view! {
        <Title text=crate::raw_text(&format!("{} · Results", exam.title)) />
        <h1>{format!("Results: {}", exam.title)}</h1>
        <p class="lead" role="status" aria-live="polite">
            {if submissions == 0 {
                "No submissions yet. This page updates by itself when students submit.".to_owned()
            } else {
                format!("{} · {passed} passed · average {}", crate::plural(u64::from(submissions), "submission", "submissions"), crate::percent_text(average_percent))
            }}
        </p>
        {(submissions > 0).then(|| view! {
            <p class="exports"><a href=csv download>"Download results (CSV)"</a></p>
            <div class="table-wrap">
                <table class="results">
                    <thead>
                        <tr><th scope="col">"Student"</th><th scope="col">"Attempt"</th><th scope="col">"Version"</th><th scope="col">"Score"</th><th scope="col">"Percent"</th><th scope="col">"Result"</th><th scope="col">"Submitted"</th></tr>
                    </thead>
                    <tbody>
                        {rows.into_iter().map(|s| view! {
                            <tr>
                                <td>{s.student}</td>
                                <td>{s.attempt}</td>
                                <td>{s.version}</td>
                                <td>{format!("{} / {}", s.score, s.total)}</td>
                                <td>{crate::percent_text(s.percent)}</td>
                                <td class=if s.passed { "pass" } else { "fail" }>{if s.passed { "Passed" } else { "Failed" }}</td>
                                <td>{crate::short_time(&s.submitted_at)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            {(pages > 1).then(|| view! { <Pager base page pages /> })}
        })}
    }
}

/// "← Newer · Page 2 of 6 · Older →": plain links, so paging works before the WASM loads.
#[component]
fn Pager(base: String, page: u32, pages: u32) -> impl IntoView {
    let link = move |n: u32| format!("{base}?page={n}");
    view! {
        <nav class="pager" aria-label="Results pages">
            {(page > 1).then(|| view! { <a href=link(page - 1) rel="prev">"← Newer"</a> })}
            <span aria-current="page">{format!("Page {page} of {pages}")}</span>
            {(page < pages).then(|| view! { <a href=link(page + 1) rel="next">"Older →"</a> })}
        </nav>
    }
}
