//! What a page reads from its address. Where the router is (the server, the full bundle), from
//! the router: tracked, so a client-side navigation updates the page. The student bundle has no
//! router ([`crate::bundle`]): every address there is a page load, so the page reads
//! `window.location`, which does not change under it.

#[cfg(not(feature = "student"))]
use leptos::prelude::*;

/// Query parameter `name` of the page's address, tracked where the router is.
pub fn use_query() -> impl Fn(&'static str) -> Option<String> + Copy + Send + Sync + 'static {
    #[cfg(not(feature = "student"))]
    {
        let query = leptos_router::hooks::use_query_map();
        move |name| query.with(|q| q.get(name))
    }
    #[cfg(feature = "student")]
    {
        |name| student::query(name)
    }
}

/// The exam of an exam page (`/exams/<id>`), tracked where the router is; "" elsewhere.
pub fn use_exam_id() -> impl Fn() -> String + Copy + Send + Sync + 'static {
    #[cfg(not(feature = "student"))]
    {
        let params = leptos_router::hooks::use_params_map();
        move || params.read().get("id").unwrap_or_default()
    }
    #[cfg(feature = "student")]
    {
        || crate::bundle::exam_page_id(&student::path()).unwrap_or_default().to_owned()
    }
}

#[cfg(feature = "student")]
pub(crate) mod student {
    fn location() -> Option<web_sys::Location> {
        web_sys::window().map(|w| w.location())
    }

    /// The page's path, `/exams/abc123`.
    pub fn path() -> String {
        location().and_then(|l| l.pathname().ok()).unwrap_or_default()
    }

    /// A query parameter, decoded as the browser decodes forms (`+` is a space).
    pub fn query(name: &str) -> Option<String> {
        let search = location().and_then(|l| l.search().ok())?;
        web_sys::UrlSearchParams::new_with_str(&search).ok()?.get(name)
    }
}
