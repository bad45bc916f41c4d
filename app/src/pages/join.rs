//! Joining an exam with its code: `/join` (the code opens the exam, Kahoot's model) and the
//! form on an exam's page for a browser that has not joined it. Plain HTML forms posted to the
//! gateway (`POST /api/v1/join`, `POST /api/v1/exams/{id}/join`), so they work before and
//! without the WASM; the gateway redirects back with `?error=&field=` (and what was typed)
//! when something is wrong, and the message is shown next to its field.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/join?code=`: the link and QR code the teacher shows the class.
#[component]
pub fn JoinPage() -> impl IntoView {
    view! {
        <Title text="Join an exam" />
        <main class="page narrow">
            <h1>"Join an exam"</h1>
            <p class="lead">"Enter the code your teacher shows and the name your teacher will see next to your answers."</p>
            <JoinForm exam=None sign_in=false needs_sign_in=false />
        </main>
    }
}

/// The join form. `exam`: the exam page's own exam (its join route), else `/api/v1/join`.
/// `sign_in`: the student signed in with OIDC already (no name to type); `needs_sign_in`: the
/// exam does not take a code and a name alone.
#[component]
pub fn JoinForm(exam: Option<String>, sign_in: bool, needs_sign_in: bool) -> impl IntoView {
    let query = crate::page_url::use_query();
    let typed = move |k: &'static str| move || query(k).unwrap_or_default();
    let error = move || query("error").filter(|e| !e.is_empty());
    let field = move || query("field").unwrap_or_default();
    let error_for = move |f: &'static str| move || error().filter(|_| field() == f);
    let general = move || error().filter(|_| !matches!(field().as_str(), "code" | "name"));
    let (action, next) = match &exam {
        Some(id) => (format!("/api/v1/exams/{id}/join"), format!("/exams/{id}")),
        None => ("/api/v1/join".to_owned(), String::new()),
    };
    let sign_in_link = format!(
        "/api/v1/auth/oidc/start?next={}",
        super::auth::query_value(exam.as_deref().map(|id| format!("/exams/{id}")).as_deref().unwrap_or("/exams"))
    );
    let row = move |id: &'static str, label: &'static str, hint: &'static str, value: Box<dyn Fn() -> String + Send + Sync>| {
        let err = error_for(id);
        let err_id = format!("{id}-error");
        let hint_id = format!("{id}-hint");
        let described = {
            let (err_id, hint_id) = (err_id.clone(), hint_id.clone());
            move || if err().is_some() { format!("{err_id} {hint_id}") } else { hint_id.clone() }
        };
        let (auto, max, class) = if id == "code" { ("off", "12", "code-input") } else { ("name", "120", "") };
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id name=id type="text" required autocomplete=auto maxlength=max class=class value=value
                    autocapitalize=if id == "code" { "characters" } else { "words" } spellcheck="false"
                    aria-invalid=move || err().map(|_| "true") aria-describedby=described />
                <p class="hint" id=hint_id>{hint}</p>
                {move || err().map(|e| view! { <p class="field-error" id=err_id.clone() role="alert">{e}</p> })}
            </div>
        }
    };
    if needs_sign_in && !sign_in {
        return Either::Left(view! {
            <div class="card">
                <p>"This exam needs you to sign in with your school account first."</p>
                <a class="button primary" href=sign_in_link>"Sign in to join"</a>
            </div>
        });
    }
    Either::Right(view! {
        {move || general().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        <form class="card join-form" method="post" action=action>
            <input type="hidden" name="next" value=next />
            {row("code", "Join code", "8 letters and digits, for example 7KD2-M9QX.", Box::new(typed("code")))}
            {(!sign_in).then(|| row("name", "Your name", "Your teacher sees it with your answers. Another student with the same name gets a number after it.", Box::new(typed("name"))))}
            <button type="submit" class="primary">"Join"</button>
        </form>
    })
}
