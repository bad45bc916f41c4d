//! Who may work on an exam, on the teacher's exam page: its creator and the teachers it is
//! shared with; the creator shares by email and stops sharing. Forms (`ActionForm`), so they
//! work before the WASM loads and with the keyboard.

use leptos::prelude::*;

use crate::server_fns::{ShareExam, UnshareExam, load_sharing, message};

#[component]
pub fn SharingCard(exam_id: String) -> impl IntoView {
    let share = ServerAction::<ShareExam>::new();
    let unshare = ServerAction::<UnshareExam>::new();
    let id = StoredValue::new(exam_id);
    let sharing = Resource::new(move || (id.get_value(), share.version().get(), unshare.version().get()), |(id, ..)| load_sharing(id));
    let share_error = move || share.value().get().and_then(|r| r.err()).map(|e| message(&e));
    let unshare_error = move || unshare.value().get().and_then(|r| r.err()).map(|e| message(&e));
    view! {
        <section class="card sharing" aria-labelledby="sharing-h">
            <h2 id="sharing-h">"Teachers"</h2>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || sharing.get().map(|r| match r {
                    Err(e) => view! { <p class="error" role="alert">{message(&e)}</p> }.into_any(),
                    Ok(s) => {
                        let can_share = s.can_share;
                        view! {
                            <ul class="people" aria-label="Teachers who can work on this exam">
                                {s.access.owner.map(|o| view! { <li><strong>{o.name}</strong>" · "{o.email.to_string()}" · created it"</li> })}
                                {s.access.shared_with.into_iter().map(|t| {
                                    let label = format!("Stop sharing with {}", t.name);
                                    view! {
                                        <li>
                                            <strong>{t.name.clone()}</strong>" · "{t.email.to_string()}
                                            {can_share.then(|| view! {
                                                <ActionForm action=unshare attr:class="inline-form">
                                                    <input type="hidden" name="id" value=id.get_value() />
                                                    <input type="hidden" name="teacher_id" value=t.id.to_string() />
                                                    <button type="submit" class="link-button" aria-label=label.clone()>"Stop sharing"</button>
                                                </ActionForm>
                                            })}
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                            {can_share.then(|| view! {
                                <ActionForm action=share attr:class="share-form">
                                    <input type="hidden" name="id" value=id.get_value() />
                                    <div class="field">
                                        <label for="share-email">"Share with a teacher (their sign-in email)"</label>
                                        <input id="share-email" name="email" type="email" required autocomplete="off"
                                            aria-invalid=move || share_error().map(|_| "true")
                                            aria-describedby=move || share_error().map(|_| "share-error") />
                                        {move || share_error().map(|e| view! { <p class="field-error" id="share-error" role="alert">{e}</p> })}
                                    </div>
                                    <button type="submit" disabled=move || share.pending().get()>"Share"</button>
                                </ActionForm>
                            })}
                            {(!can_share).then(|| view! { <p class="hint">"Only the teacher who created the exam shares it."</p> })}
                            {move || unshare_error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                        }.into_any()
                    }
                })}
            </Transition>
        </section>
    }
}
