//! `/login` and `/setup`: plain HTML forms posted to the gateway's sign-in routes, so they
//! work before (and without) the WASM. The gateway redirects back with `?error=` (and
//! `&field=` for setup) when something is wrong; the message is shown next to the form or
//! the field it belongs to.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Provided by the server: the label of the "Sign in with …" link when OpenID Connect sign-in
/// is configured (`EXAM_OIDC_BUTTON`), `None` when it is not.
#[derive(Debug, Clone, Default)]
pub struct OidcLogin(pub Option<String>);

/// Whether OIDC sign-in is offered, and its label (the page loads it so a sign-in page reached
/// by client-side navigation shows the link too).
#[server(prefix = "/sfn/auth", output = crate::codec::JsonResponse)]
pub async fn oidc_button() -> Result<Option<String>, ServerFnError> {
    Ok(use_context::<OidcLogin>().and_then(|o| o.0))
}

/// The query value `s`, percent-encoded (everything but unreserved characters).
pub(crate) fn query_value(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[component]
pub fn Login() -> impl IntoView {
    let query = use_query_map();
    let error = move || query.with(|q| q.get("error")).filter(|e| !e.is_empty());
    let next = move || query.with(|q| q.get("next")).unwrap_or_else(|| "/teacher".into());
    let signed_out = move || query.with(|q| q.get("signed_out")).is_some();
    let oidc = OnceResource::new(oidc_button());
    // Without `next` the gateway picks the home of whoever signs in (teachers /teacher, students /).
    let oidc_href = move || match query.with(|q| q.get("next")).filter(|n| !n.is_empty()) {
        Some(n) => format!("/api/v1/auth/oidc/start?next={}", query_value(&n)),
        None => "/api/v1/auth/oidc/start".to_owned(),
    };
    view! {
        <Title text="Sign in · Exams" />
        <main class="page narrow">
            <h1>"Sign in"</h1>
            <p class="hint">"For teachers. Students open the exam link their teacher shared."</p>
            {move || signed_out().then(|| view! { <p class="notice" role="status">"You are signed out."</p> })}
            <form class="card auth-form" method="post" action="/api/v1/auth/login">
                <input type="hidden" name="next" value=next />
                <div class="field">
                    <label for="email">"Email"</label>
                    <input id="email" name="email" type="email" autocomplete="username" required autofocus
                        aria-invalid=move || error().map(|_| "true") aria-describedby=move || error().map(|_| "login-error") />
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="current-password" required
                        aria-invalid=move || error().map(|_| "true") aria-describedby=move || error().map(|_| "login-error") />
                </div>
                {move || error().map(|e| view! { <p class="field-error" id="login-error" role="alert">{e}</p> })}
                <button type="submit" class="primary">"Sign in"</button>
            </form>
            <Suspense fallback=|| ()>
                {move || oidc.get().and_then(Result::ok).flatten().map(|label| view! {
                    <p class="oidc-sign-in">
                        <a class="button" href=oidc_href rel="external">{format!("Sign in with {label}")}</a>
                    </p>
                })}
            </Suspense>
        </main>
    }
}

/// `/setup?token=`: the first teacher's account.
#[component]
pub fn Setup() -> impl IntoView {
    view! {
        <Title text="Set up · Exams" />
        <NewAccount
            heading="Create the first teacher account"
            hint="This link works once. Other teachers are invited from your account page."
            action="/api/v1/auth/setup"
            button="Create account and sign in"
        />
    }
}

/// `/invite?token=`: a teacher invited by another.
#[component]
pub fn Invite() -> impl IntoView {
    view! {
        <Title text="Invitation · Exams" />
        <NewAccount
            heading="Join as a teacher"
            hint="You were invited to create exams here. The invitation works once, for 7 days."
            action="/api/v1/auth/accept-invite"
            button="Create account and sign in"
        />
    }
}

/// An account form posting `token` (from the link), email, name and password to `action`.
#[component]
fn NewAccount(heading: &'static str, hint: &'static str, action: &'static str, button: &'static str) -> impl IntoView {
    let query = use_query_map();
    let token = move || query.with(|q| q.get("token")).unwrap_or_default();
    let error = move || query.with(|q| q.get("error")).filter(|e| !e.is_empty());
    let field = move || query.with(|q| q.get("field")).unwrap_or_default();
    let error_for = move |f: &'static str| move || error().filter(|_| field() == f);
    let general = move || error().filter(|_| !matches!(field().as_str(), "email" | "name" | "password"));
    let row = move |id: &'static str, label: &'static str, kind: &'static str, auto: &'static str, hint: &'static str| {
        let err = error_for(id);
        let err_id = format!("{id}-error");
        let hint_id = format!("{id}-hint");
        let described = {
            let (err_id, hint_id) = (err_id.clone(), hint_id.clone());
            move || if err().is_some() { format!("{err_id} {hint_id}") } else { hint_id.clone() }
        };
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id name=id type=kind autocomplete=auto required
                    aria-invalid=move || err().map(|_| "true") aria-describedby=described />
                <p class="hint" id=hint_id>{hint}</p>
                {move || err().map(|e| view! { <p class="field-error" id=err_id.clone()>{e}</p> })}
            </div>
        }
    };
    view! {
        <main class="page narrow">
            <h1>{heading}</h1>
            <p class="hint">{hint}</p>
            {move || general().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <form class="card auth-form" method="post" action=action>
                <input type="hidden" name="token" value=token />
                {row("email", "Email", "email", "username", "You sign in with it.")}
                {row("name", "Your name", "text", "name", "Shown to other teachers.")}
                {row("password", "Password", "password", "new-password", "At least 10 characters.")}
                <button type="submit" class="primary">{button}</button>
            </form>
        </main>
    }
}

/// The top bar's account corner: who is signed in and a sign-out button (a form, so it works
/// without JavaScript), or a link to sign in.
#[component]
pub fn AccountMenu() -> impl IntoView {
    let me = Resource::new(|| (), |_| crate::server_fns::whoami());
    view! {
        <Suspense fallback=|| ()>
            {move || me.get().map(|r| match r.ok().flatten() {
                Some(t) => Either::Left(view! {
                    <form class="account" method="post" action="/api/v1/auth/logout">
                        <a class="who" href="/teacher/account" title=format!("{} · your account", t.email)>{t.name.clone()}</a>
                        <button type="submit" class="link-button">"Sign out"</button>
                    </form>
                }),
                None => Either::Right(view! { <a class="account" href="/login">"Sign in"</a> }),
            })}
        </Suspense>
    }
}
