//! Two WebAssembly bundles from this one crate, so a student's first load does not carry the
//! teacher's pages:
//!
//! * the full bundle (`exam.<hash>.wasm`, features `hydrate`): every page;
//! * the student bundle (`student.<hash>.wasm`, features `hydrate,student`): only the pages a
//!   student's browser loads ([`is_student_page`]), and no router: it hydrates the page its
//!   address names, and every link is a page load from the server (which sends the full bundle
//!   with a teacher's page). Leptos' router turns each route's view into an `AnyView`, whose
//!   table of render functions includes `hydrate_async` (lazy routes' hydration, which this app
//!   does not use) for the whole page's view tree; without the router, and with `Either` instead
//!   of `into_any()` in the student's pages, none of that is linked (see ARCHITECTURE.md,
//!   "Bytes on the wire"). Pages read their address through [`crate::page_url`].
//!
//! The server renders every page the same way (it has every route); only the hydration
//! scripts and stylesheet differ ([`bundle_for_this_page`]). `scripts/build-site.sh` builds both and lists
//! the student bundle's names in `<site root>/hash-student.txt`; a site without it (a
//! `cargo leptos watch` build) uses the full bundle everywhere.

use leptos::prelude::*;

/// The student bundle's file names: `student.<hash>.js` / `.wasm`.
pub const STUDENT_OUTPUT_NAME: &str = "student";

/// Its hash file, beside the full bundle's `hash.txt`.
pub const STUDENT_HASH_FILE: &str = "hash-student.txt";

/// A page of the student bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StudentPage {
    /// `/join`
    Join,
    /// `/exams`
    Exams,
    /// `/exams/<id>`
    Exam,
}

/// The student page at `path`, if it is one: the server sends the student bundle with these,
/// and the bundle hydrates the one its address names.
pub fn student_page(path: &str) -> Option<StudentPage> {
    match path {
        "/join" => Some(StudentPage::Join),
        "/exams" => Some(StudentPage::Exams),
        _ => exam_page_id(path).map(|_| StudentPage::Exam),
    }
}

/// The pages the student bundle hydrates: `/join`, `/exams` and `/exams/<id>`.
pub fn is_student_page(path: &str) -> bool {
    student_page(path).is_some()
}

/// The exam of an exam page, `/exams/<id>`.
pub fn exam_page_id(path: &str) -> Option<&str> {
    path.strip_prefix("/exams/").filter(|id| !id.is_empty() && !id.contains('/'))
}

/// The options `HydrationScripts` and `HashedStylesheet` get for the page being rendered: the
/// student bundle's (its scripts, and the stylesheet without the teacher's pages' rules) on a
/// student page when the site build made one, else `options` (the full bundle).
pub fn bundle_for_this_page(options: &LeptosOptions) -> LeptosOptions {
    #[cfg(feature = "ssr")]
    {
        let student_page = use_context::<axum::http::request::Parts>().is_some_and(|p| is_student_page(p.uri.path()));
        if student_page && let Some(student) = student_bundle(options) {
            return student;
        }
    }
    options.clone()
}

/// The student bundle's options, when the site has it (checked per page, a `stat`: a build
/// may replace the site under a running server).
#[cfg(feature = "ssr")]
fn student_bundle(options: &LeptosOptions) -> Option<LeptosOptions> {
    let hash_file = if options.hash_files {
        let file = std::path::Path::new(options.hash_file.as_ref()).with_file_name(STUDENT_HASH_FILE);
        file.is_file().then(|| file.to_string_lossy().into_owned())?
    } else {
        let pkg = std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
        (pkg.join("student.wasm").is_file() && pkg.join("student.css").is_file()).then(|| options.hash_file.to_string())?
    };
    let mut student = options.clone();
    student.output_name = STUDENT_OUTPUT_NAME.into();
    student.hash_file = hash_file.into();
    Some(student)
}

/// The student bundle's page for an address it does not have: loaded from the server, which
/// sends the full bundle with it. (The server sends the student bundle only with the student's
/// pages, so this is a safeguard, not a route.)
#[component]
pub fn LoadFromServer() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    Effect::new(|_| {
        if let Some(window) = web_sys::window() {
            let _ = window.location().reload();
        }
    });
    view! { <main class="page"><p role="status">"Loading…"</p></main> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_student_page_is_named_by_its_address() {
        assert_eq!(student_page("/join"), Some(StudentPage::Join));
        assert_eq!(student_page("/exams"), Some(StudentPage::Exams));
        assert_eq!(student_page("/exams/abc123"), Some(StudentPage::Exam));
        assert_eq!(student_page("/teacher"), None);
    }

    #[test]
    fn an_exam_page_names_its_exam() {
        assert_eq!(exam_page_id("/exams/abc123"), Some("abc123"));
        for page in ["/exams", "/exams/", "/exams/a/b", "/teacher/exams/abc123", "/join"] {
            assert_eq!(exam_page_id(page), None, "{page}");
        }
    }

    #[test]
    fn student_pages_are_the_join_list_and_exam_pages_only() {
        for page in ["/join", "/exams", "/exams/abc123"] {
            assert!(is_student_page(page), "{page}");
        }
        for page in ["/", "/login", "/teacher", "/teacher/exams/abc123", "/exams/", "/exams/a/b", "/joinx", "/exams-x"] {
            assert!(!is_student_page(page), "{page}");
        }
    }
}
