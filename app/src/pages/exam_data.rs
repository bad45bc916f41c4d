//! The exam's data, on the teacher's exam page: download all of it as one archive (to keep, or
//! to import on another installation), or delete it for good. The deletion sits behind a
//! disclosure that says what goes; both work before the WASM loads and with the keyboard.

use leptos::prelude::*;

use crate::server_fns::{DeleteExam, message};

#[component]
pub fn ExamDataCard(exam_id: String, title: String, submissions: u32) -> impl IntoView {
    let delete = ServerAction::<DeleteExam>::new();
    let archive = format!("/api/v1/exams/{exam_id}/export.tar.gz");
    let error = move || delete.value().get().and_then(|r| r.err()).map(|e| message(&e));
    let what = format!(
        "This removes “{title}” with its document, every version, its settings and {} for good, on every server. Students can no longer open it. Download the archive first to keep a copy.",
        crate::plural(submissions, "submission", "submissions")
    );
    view! {
        <section class="card exam-data" aria-labelledby="exam-data-h">
            <h2 id="exam-data-h">"Exam data"</h2>
            <p>
                <a class="button" href=archive download>"Download archive (.tar.gz)"</a>
                " "<span class="hint">"Document, versions, settings and submissions; import it on the dashboard of any installation."</span>
            </p>
            <details class="danger-zone">
                <summary>"Delete this exam…"</summary>
                <p>{what}</p>
                <ActionForm action=delete>
                    <input type="hidden" name="id" value=exam_id />
                    <button type="submit" class="danger" disabled=move || delete.pending().get()>
                        {move || if delete.pending().get() { "Deleting…" } else { "Delete for good" }}
                    </button>
                </ActionForm>
                {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            </details>
        </section>
    }
}
