#![recursion_limit = "256"]
// The settings form's server function has one argument per field; the macro-generated client side
// inherits them.
#![allow(clippy::too_many_arguments)]
//! The front end: Leptos components rendered on the server (`ssr`) and hydrated in the
//! browser (`hydrate`).
//!
//! * [`server_fns`]: the data the pages load, as server functions over `exam_core`'s
//!   use-cases (the HTTP API in `server` serves scripts; both go through the same service).
//! * [`live`]: one reconnecting WebSocket to `/api/v1/live` per tab; pages refetch what a frame
//!   concerns.
//! * [`pages`]: teacher upload/list, review, results; student list and exam.
//!
//! Architecture invariant: nothing here can see an answer key before the student submits:
//! the student's pages load only `ExamPaper` (no key) and get graded results from the server.

pub mod bundle;
pub mod codec;
pub mod live;
pub mod page_url;
pub mod pages;
pub mod server_fns;
pub mod settings_form;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
#[cfg(not(feature = "student"))]
use leptos_router::components::{A, Route, Router, Routes};
#[cfg(not(feature = "student"))]
use leptos_router::{SsrMode, path};

/// `app/public/favicon.svg` as a `data:` address (the page's CSP allows `data:` images).
const FAVICON: &str = concat!(
    "data:image/svg+xml,",
    "%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='7' fill='%232f5bd3'/%3E%3Cpath d='M9 17l5 5 9-11' stroke='%23fff' stroke-width='3.5' fill='none' stroke-linecap='round' stroke-linejoin='round'/%3E%3C/svg%3E"
);

/// The HTML document around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let bundle = bundle::bundle_for_this_page(&options);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                // `app/public/favicon.svg` inline: one request less on a first load.
                <link rel="icon" href=FAVICON type="image/svg+xml" />
                // `/pkg/exam.css` (or `student.css` on a student's page), or its content-hashed
                // name when the site build hashed it.
                <HashedStylesheet options=bundle.clone() id="leptos" />
                <AutoReload options=options.clone() />
                <HydrationScripts options=bundle />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    live::provide_live_feed();
    // The router, around the whole app (client-side navigation between pages); the student
    // bundle has none ([`bundle`]): its page is the one the address names.
    #[cfg(not(feature = "student"))]
    let app = view! { <Router><Frame /></Router> };
    #[cfg(feature = "student")]
    let app = view! { <Frame /> };
    view! {
        <Title text="Exams" />
        {app}
    }
}

/// The top bar and the page.
#[component]
fn Frame() -> impl IntoView {
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Exams"</a>
            <nav aria-label="Main">
                <NavLink href="/teacher" label="Teacher" />
                <NavLink href="/exams" label="Student" />
            </nav>
            <live::LiveBadge />
            <pages::auth::AccountMenu />
        </header>
        <Pages />
    }
}

/// A link of the top bar: the router's `<A>` (marked `aria-current` on its pages) where there
/// is a router, a plain link in the student bundle (the server rendered the mark already).
#[cfg(not(feature = "student"))]
#[component]
fn NavLink(href: &'static str, label: &'static str) -> impl IntoView {
    view! { <A href=href>{label}</A> }
}

#[cfg(feature = "student")]
#[component]
fn NavLink(href: &'static str, label: &'static str) -> impl IntoView {
    view! { <a href=href>{label}</a> }
}

/// Every page (the server renders all of them; the full bundle hydrates all of them).
// Async SSR: each page's data is resolved on the server before the HTML is sent, so pages are
// complete without JavaScript (and before the WASM loads).
#[cfg(not(feature = "student"))]
#[component]
fn Pages() -> impl IntoView {
    view! {
            <Routes fallback=|| view! { <main class="page"><h1>"Page not found"</h1><p><a href="/">"Back to the start"</a></p></main> }>
                <Route path=path!("") view=pages::home::Home ssr=SsrMode::Async />
                <Route path=path!("/login") view=pages::auth::Login ssr=SsrMode::Async />
                <Route path=path!("/setup") view=pages::auth::Setup ssr=SsrMode::Async />
                <Route path=path!("/invite") view=pages::auth::Invite ssr=SsrMode::Async />
                <Route path=path!("/teacher/account") view=pages::account::Account ssr=SsrMode::Async />
                <Route path=path!("/teacher") view=pages::teacher::TeacherHome ssr=SsrMode::Async />
                <Route path=path!("/teacher/exams/:id") view=pages::review::Review ssr=SsrMode::Async />
                <Route path=path!("/teacher/exams/:id/results") view=pages::results::Results ssr=SsrMode::Async />
                <Route path=path!("/teacher/exams/:id/settings") view=pages::settings::Settings ssr=SsrMode::Async />
                <Route path=path!("/teacher/exams/:id/sitting") view=pages::sitting::Sitting ssr=SsrMode::Async />
                <Route path=path!("/teacher/exams/:id/statistics") view=pages::statistics::Statistics ssr=SsrMode::Async />
                <Route path=path!("/join") view=pages::join::JoinPage ssr=SsrMode::Async />
                <Route path=path!("/exams") view=pages::student::ExamList ssr=SsrMode::Async />
                <Route path=path!("/exams/:id") view=pages::take::TakeExam ssr=SsrMode::Async />
            </Routes>
    }
}

/// The student bundle's pages ([`bundle::is_student_page`]): only these are in its WASM, and the
/// address picks one, as the server's router picked it for the HTML being hydrated.
#[cfg(feature = "student")]
#[component]
fn Pages() -> impl IntoView {
    use bundle::StudentPage;
    use leptos::either::EitherOf4;
    match bundle::student_page(&page_url::student::path()) {
        Some(StudentPage::Join) => EitherOf4::A(view! { <pages::join::JoinPage /> }),
        Some(StudentPage::Exams) => EitherOf4::B(view! { <pages::student::ExamList /> }),
        Some(StudentPage::Exam) => EitherOf4::C(view! { <pages::take::TakeExam /> }),
        None => EitherOf4::D(view! { <bundle::LoadFromServer /> }),
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}

/// Text for the two places Leptos 0.8 writes without escaping when rendering on the server:
/// `<textarea>` children (tachys renders them raw) and leptos_meta's `<Title>` (pushed into
/// `<title>` as is). Both are RCDATA, where a browser decodes entities, so escaping is exact.
/// In the browser the same text is set as a value or `document.title`, never parsed: as is.
pub fn raw_text(text: &str) -> String {
    #[cfg(feature = "ssr")]
    {
        html_escape::encode_text(text).into_owned()
    }
    #[cfg(not(feature = "ssr"))]
    {
        text.to_owned()
    }
}

/// "1 question", "3 questions".
pub fn plural(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A percentage to one decimal, "87.5 %". Rounded in integers: `format!("{:.1}")` would link
/// core's exact float formatting (14 KB of WebAssembly) into the student's bundle for this one
/// number.
pub fn percent_text(percent: f64) -> String {
    let tenths = (percent * 10.0).round() as i64;
    let sign = if tenths < 0 { "-" } else { "" };
    let tenths = tenths.unsigned_abs();
    format!("{sign}{}.{} %", tenths / 10, tenths % 10)
}

/// Formats an RFC 3339 timestamp for display ("2026-11-22 10:04").
pub fn short_time(rfc3339: &str) -> String {
    let t = rfc3339.replace('T', " ");
    t.get(..16).unwrap_or(&t).to_owned()
}

#[cfg(test)]
mod tests {
    use super::{FAVICON, percent_text};

    #[test]
    fn the_inline_favicon_is_the_served_one() {
        let encoded = FAVICON.strip_prefix("data:image/svg+xml,").expect("an SVG data address");
        let mut decoded = Vec::new();
        let mut bytes = encoded.bytes();
        while let Some(b) = bytes.next() {
            if b == b'%' {
                let hex: String = bytes.by_ref().take(2).map(char::from).collect();
                decoded.push(u8::from_str_radix(&hex, 16).expect("two hex digits"));
            } else {
                decoded.push(b);
            }
        }
        let served = include_str!("../public/favicon.svg").trim().replace('"', "'");
        assert_eq!(String::from_utf8(decoded).expect("UTF-8"), served);
    }

    #[test]
    fn percentages_show_one_rounded_decimal() {
        assert_eq!(percent_text(0.0), "0.0 %");
        assert_eq!(percent_text(100.0), "100.0 %");
        assert_eq!(percent_text(200.0 / 3.0), "66.7 %");
        assert_eq!(percent_text(100.0 / 3.0), "33.3 %");
        assert_eq!(percent_text(87.5), "87.5 %");
        assert_eq!(percent_text(4.96), "5.0 %");
        assert_eq!(percent_text(-2.5), "-2.5 %");
    }
}
