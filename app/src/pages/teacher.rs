//! `/teacher`: upload a document and follow every exam's status live.

use exam_domain::ExamSummary;
use leptos::prelude::*;
use leptos_meta::Title;

use super::{StageSteps, StatusPill};
use crate::live::use_live;
use crate::server_fns::{list_exams, message, upload_limit};

#[component]
pub fn TeacherHome() -> impl IntoView {
    let live = use_live();
    let exams = Resource::new(move || live.exams_version.get(), |_| list_exams());
    view! {
        <Title text="Teacher · Exams" />
        <main class="page">
            <h1>"Create an exam"</h1>
            <Deleted />
            <UploadForm />
            <ImportForm />
            <h2>"Your exams"</h2>
            <Transition fallback=|| view! { <p>"Loading exams…"</p> }>
                {move || exams.get().map(|r| match r {
                    Ok(list) if list.is_empty() => view! { <p class="empty">"No exams yet. Upload a lecture PDF above."</p> }.into_any(),
                    Ok(list) => view! { <ExamTable exams=list /> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{message(&e)}</p> }.into_any(),
                })}
            </Transition>
        </main>
    }
}

/// After a deletion the dashboard says it happened (the exam is no longer in the list).
#[component]
fn Deleted() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    move || query.read().get("deleted").map(|_| view! { <p class="notice" role="status">"The exam and all its data were deleted."</p> })
}

/// Import an exam archive (`export.tar.gz` from the exam page of this or another
/// installation). A plain form: the server answers with the new exam's page, or this page with
/// the reason next to the field.
#[component]
fn ImportForm() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let error = move || query.read().get("import_error");
    view! {
        <details class="card import" open=move || error().is_some()>
            <summary>"Import an exam archive"</summary>
            <form method="post" action="/api/v1/exams/import" enctype="multipart/form-data">
                <div class="field">
                    <label for="archive">"Archive " <span class="optional">"(.tar.gz, from an exam page’s “Download archive”)"</span></label>
                    <input id="archive" name="file" type="file" accept=".tar.gz,.tgz,application/gzip" required
                        aria-invalid=move || error().map(|_| "true")
                        aria-describedby=move || error().map(|_| "archive-error") />
                    {move || error().map(|e| view! { <p class="field-error" id="archive-error" role="alert">{e}</p> })}
                </div>
                <button type="submit">"Import"</button>
            </form>
        </details>
    }
}

#[component]
fn ExamTable(exams: Vec<ExamSummary>) -> impl IntoView {
    view! {
        <ul class="exam-list" aria-label="Exams">
            {exams
                .into_iter()
                .map(|e| {
                    let href = format!("/teacher/exams/{}", e.id);
                    let results = format!("/teacher/exams/{}/results", e.id);
                    let generating = e.status == exam_domain::ExamStatus::Generating;
                    view! {
                        <li class="card exam-row" data-exam-id=e.id.to_string()>
                            <div class="row-head">
                                <a href=href class="exam-title">{e.title.clone()}</a>
                                <StatusPill status=e.status />
                            </div>
                            <p class="meta">
                                {format!("{} · created {}", crate::plural(e.question_count, "question", "questions"), crate::short_time(&e.created_at))}
                                {(e.submissions > 0).then(|| view! { " · " <a href=results>{crate::plural(e.submissions, "submission", "submissions")}</a> })}
                            </p>
                            {(generating || e.error.is_some()).then(|| view! { <StageSteps stage=e.stage error=e.error.clone().unwrap_or_default() detail=e.stage_detail.clone().unwrap_or_default() /> })}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// The upload form. Works as a plain HTML form (the server redirects to the exam page); once
/// hydrated it uploads with a progress bar and checks the size before sending.
#[component]
fn UploadForm() -> impl IntoView {
    let limit = Resource::new(|| (), |_| upload_limit());
    let progress = RwSignal::new(None::<f64>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let form_ref = NodeRef::<leptos::html::Form>::new();
    let limit_mb = move || limit.get().and_then(|r| r.ok()).map(|b| b / (1024 * 1024)).unwrap_or(20);

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            ev.prevent_default();
            if let Some(form) = form_ref.get() {
                let max = limit.get_untracked().and_then(|r| r.ok()).unwrap_or(20 * 1024 * 1024);
                client::start_upload(form, max, progress, error, busy);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };

    view! {
        <form
            node_ref=form_ref
            class="card upload"
            method="post"
            action="/api/v1/exams"
            enctype="multipart/form-data"
            on:submit=on_submit
            aria-describedby="upload-help"
        >
            <p id="upload-help" class="hint">
                "Choose a lecture PDF with selectable text (not a scan), up to "
                <Transition fallback=|| "20">{move || limit_mb().to_string()}</Transition>
                " MiB. Questions are generated from its sentences; each cites its page. "
                "Or import a question bank (.json, as exported by the earlier system): it becomes a draft right away and the counts below are not used."
            </p>
            <div class="field">
                <label for="file">"Lecture PDF " <span class="optional">"(or a .json question bank)"</span></label>
                <input id="file" name="file" type="file" accept="application/pdf,.pdf,application/json,.json" required />
            </div>
            <div class="field">
                <label for="title">"Exam title " <span class="optional">"(optional)"</span></label>
                <input id="title" name="title" type="text" maxlength="200" placeholder="Defaults to the file name" />
            </div>
            <fieldset class="counts">
                <legend>"Questions"</legend>
                <div class="field">
                    <label for="mcq">"Multiple choice"</label>
                    <input id="mcq" name="mcq" type="number" min="0" max="20" value="5" required />
                    <small>"0–20"</small>
                </div>
                <div class="field">
                    <label for="options">"Options each"</label>
                    <input id="options" name="options" type="number" min="2" max="7" value="4" required />
                    <small>"2–7"</small>
                </div>
                <div class="field">
                    <label for="true_false">"True / false"</label>
                    <input id="true_false" name="true_false" type="number" min="0" max="20" value="3" required />
                    <small>"0–20"</small>
                </div>
            </fieldset>
            <div class="actions">
                <button type="submit" class="primary" disabled=move || busy.get()>
                    {move || if busy.get() { "Uploading…" } else { "Upload and generate" }}
                </button>
            </div>
            {move || progress.get().map(|p| {
                let pct = (p * 100.0).round();
                view! {
                    <div class="progress" role="status" aria-live="polite">
                        <progress max="100" value=pct aria-label="Upload progress"></progress>
                        <span>{if p >= 1.0 { "Uploaded, starting generation…".to_owned() } else { format!("Uploading… {pct} %") }}</span>
                    </div>
                }
            })}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </form>
    }
}

#[cfg(feature = "hydrate")]
mod client {
    use leptos::prelude::*;
    use leptos_router::hooks::use_navigate;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{FormData, HtmlFormElement, HtmlInputElement, ProgressEvent, XmlHttpRequest};

    pub fn start_upload(
        form: HtmlFormElement,
        max: u64,
        progress: RwSignal<Option<f64>>,
        error: RwSignal<Option<String>>,
        busy: RwSignal<bool>,
    ) {
        error.set(None);
        let file = form
            .elements()
            .named_item("file")
            .and_then(|e| e.dyn_into::<HtmlInputElement>().ok())
            .and_then(|i| i.files())
            .and_then(|f| f.get(0));
        let Some(file) = file else {
            error.set(Some("Choose a PDF file (or a .json question bank) first.".into()));
            return;
        };
        if file.size() > max as f64 {
            error.set(Some(format!(
                "“{}” is {:.1} MiB; the limit is {} MiB. Split the document or compress it.",
                file.name(),
                file.size() / 1_048_576.0,
                max / 1_048_576
            )));
            return;
        }
        let result = (|| -> Result<(), wasm_bindgen::JsValue> {
            let data = FormData::new_with_form(&form)?;
            let xhr = XmlHttpRequest::new()?;
            xhr.open("POST", "/api/v1/exams")?;
            xhr.set_request_header("Accept", "application/json")?;
            let on_progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |e: ProgressEvent| {
                if e.length_computable() && e.total() > 0.0 {
                    progress.set(Some(e.loaded() / e.total()));
                }
            });
            xhr.upload()?.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
            on_progress.forget();
            let navigate = use_navigate();
            let x = xhr.clone();
            let on_done = Closure::once_into_js(move || {
                busy.set(false);
                let status = x.status().unwrap_or(0);
                let body = x.response_text().ok().flatten().unwrap_or_default();
                let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                match status {
                    // 202: generation started; 201: a question bank was imported as a draft.
                    201 | 202 => {
                        progress.set(Some(1.0));
                        if let Some(id) = json.get("id").and_then(|v| v.as_str()) {
                            navigate(&format!("/teacher/exams/{id}"), Default::default());
                        }
                    }
                    0 => {
                        progress.set(None);
                        error.set(Some("The upload was interrupted (network error). Check your connection and try again.".into()));
                    }
                    _ => {
                        progress.set(None);
                        let msg = json
                            .get("error")
                            .and_then(|v| v.as_str())
                            .map(str::to_owned)
                            .unwrap_or_else(|| format!("The server answered {status}."));
                        error.set(Some(msg));
                    }
                }
            });
            xhr.set_onloadend(Some(on_done.unchecked_ref()));
            busy.set(true);
            progress.set(Some(0.0));
            xhr.send_with_opt_form_data(Some(&data))?;
            Ok(())
        })();
        if let Err(e) = result {
            busy.set(false);
            error.set(Some(format!("Could not start the upload: {e:?}")));
        }
    }
}
