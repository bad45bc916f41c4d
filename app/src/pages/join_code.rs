//! The join code on the teacher's exam page: the code in large type for the projector, the
//! link to copy, a QR code of the link (an SVG drawn by the gateway, so it shows without
//! JavaScript), and a button for a new code when the old one got out.

use exam_domain::identity::JoinCode;
use leptos::prelude::*;

use crate::server_fns::{RegenerateJoinCode, join_link, message};

#[component]
pub fn JoinCodeCard(exam_id: String, code: String, published: bool) -> impl IntoView {
    let regenerate = ServerAction::<RegenerateJoinCode>::new();
    let initial = StoredValue::new(code);
    let current = move || regenerate.value().get().and_then(Result::ok).unwrap_or_else(|| initial.get_value());
    let link = Resource::new(current, join_link);
    let shown = move || JoinCode::parse(&current()).map(|c| c.display()).unwrap_or_else(|_| current());
    let error = move || regenerate.value().get().and_then(|r| r.err()).map(|e| message(&e));
    // The image changes with the code; the query only defeats the browser's cache.
    let qr = {
        let id = exam_id.clone();
        move || format!("/api/v1/exams/{id}/join-qr.svg?code={}", current())
    };
    let copied = RwSignal::new(false);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        if let (Some(Ok(text)), Some(w)) = (link.get_untracked(), web_sys::window()) {
            let _ = w.navigator().clipboard().write_text(&text);
            copied.set(true);
        }
    };
    view! {
        <section class="card join-card" aria-labelledby="join-code-h">
            <h2 id="join-code-h">"Join code"</h2>
            <div class="join-grid">
                <div>
                    <p class="join-code" data-join-code=current>{shown}</p>
                    <p class="hint">
                        {if published {
                            "Students open the link (or scan the code) and enter this code with their name."
                        } else {
                            "Students can join once you publish the exam."
                        }}
                    </p>
                    <Suspense fallback=|| ()>
                        {move || link.get().and_then(Result::ok).map(|l| view! {
                            <p class="join-link">
                                <label for="join-link">"Link"</label>
                                <input id="join-link" type="text" readonly value=l.clone() />
                                <button type="button" on:click=copy>"Copy link"</button>
                                <span class="sr-only" role="status">{move || copied.get().then_some("Link copied.")}</span>
                            </p>
                        })}
                    </Suspense>
                    <ActionForm action=regenerate>
                        <input type="hidden" name="id" value=exam_id.clone() />
                        <button type="submit">"New code"</button>
                        <span class="hint">" The old code stops working; students who joined keep their place."</span>
                    </ActionForm>
                    {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                </div>
                <img class="join-qr" src=qr width="200" height="200" alt=move || format!("QR code of the join link for code {}", shown()) />
            </div>
        </section>
    }
}
