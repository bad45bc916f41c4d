//! `/teacher/account`: invite another teacher, manage personal access tokens for scripts, and
//! see one's own recent sign-ins and changes.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::server_fns::{CreateInvite, CreateToken, RevokeToken, list_tokens, message, my_activity};

#[component]
pub fn Account() -> impl IntoView {
    let invite = ServerAction::<CreateInvite>::new();
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_tokens());
    let activity = Resource::new(move || (create.version().get(), revoke.version().get(), invite.version().get()), |_| my_activity());
    view! {
        <Title text="Account · Exams" />
        <main class="page">
            <h1>"Your account"</h1>

            <section class="card" aria-labelledby="invite-h">
                <h2 id="invite-h">"Invite a teacher"</h2>
                <p class="hint">"A link that creates one teacher account. It works once, for 7 days; send it yourself."</p>
                <ActionForm action=invite>
                    <button type="submit" class="primary">"Create an invitation link"</button>
                </ActionForm>
                {move || invite.value().get().map(|r| match r {
                    Ok(link) => view! {
                        <div class="field">
                            <label for="invite-link">"Invitation link"</label>
                            <input id="invite-link" type="text" readonly prop:value=link.clone() />
                        </div>
                    }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{message(&e)}</p> }.into_any(),
                })}
            </section>

            <section class="card" aria-labelledby="tokens-h">
                <h2 id="tokens-h">"Access tokens"</h2>
                <p class="hint">"For scripts: send " <code>"Authorization: Bearer <token>"</code> ". A token is shown once."</p>
                <ActionForm action=create attr:class="inline-form">
                    <div class="field">
                        <label for="token-name">"Name"</label>
                        <input id="token-name" name="name" type="text" required maxlength="80" placeholder="grades export" />
                    </div>
                    <div class="field">
                        <label for="token-days">"Valid for (days)"</label>
                        <input id="token-days" name="days" type="number" min="1" max="366" value="90" />
                    </div>
                    <button type="submit">"Create token"</button>
                </ActionForm>
                {move || create.value().get().map(|r| match r {
                    Ok(secret) => view! {
                        <div class="field">
                            <label for="new-token">"Your new token (copy it now)"</label>
                            <input id="new-token" type="text" readonly prop:value=secret.clone() />
                        </div>
                    }.into_any(),
                    Err(e) => view! { <p class="field-error" role="alert">{message(&e)}</p> }.into_any(),
                })}
                <Transition fallback=|| view! { <p>"Loading tokens…"</p> }>
                    {move || tokens.get().map(|r| match r {
                        Ok(list) if list.is_empty() => view! { <p class="empty">"No tokens."</p> }.into_any(),
                        Ok(list) => view! {
                            <table class="tokens">
                                <thead><tr><th scope="col">"Name"</th><th scope="col">"Created"</th><th scope="col">"Expires"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|t| view! {
                                        <tr>
                                            <td>{t.name.clone()}</td>
                                            <td>{crate::short_time(&t.created_at)}</td>
                                            <td>{crate::short_time(&t.expires_at)}</td>
                                            <td>
                                                <ActionForm action=revoke>
                                                    <input type="hidden" name="id" value=t.id.clone() />
                                                    <button type="submit" aria-label=format!("Revoke {}", t.name)>"Revoke"</button>
                                                </ActionForm>
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{message(&e)}</p> }.into_any(),
                    })}
                </Transition>
            </section>

            <section class="card" aria-labelledby="activity-h">
                <h2 id="activity-h">"Recent activity"</h2>
                <Transition fallback=|| view! { <p>"Loading…"</p> }>
                    {move || activity.get().map(|r| match r {
                        Ok(events) if events.is_empty() => view! { <p class="empty">"Nothing yet."</p> }.into_any(),
                        Ok(events) => view! {
                            <ul class="activity">
                                {events.into_iter().rev().take(50).map(|e| view! {
                                    <li>
                                        <time datetime=e.at.clone()>{crate::short_time(&e.at)}</time>" "
                                        <strong>{e.action.replace('_', " ")}</strong>
                                        {e.from.clone().map(|f| format!(" from {f}"))}
                                        {(!e.detail.is_empty()).then(|| format!(" · {}", e.detail))}
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{message(&e)}</p> }.into_any(),
                    })}
                </Transition>
            </section>
        </main>
    }
}
