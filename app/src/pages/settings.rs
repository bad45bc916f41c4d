//! `/teacher/exams/:id/settings`: how the exam is sat — time limit and grace period, the
//! window, attempts and which one counts, shuffling, what students see of their results and
//! when, and the pass mark.
//!
//! One `ActionForm` for [`SaveSettings`]: it works as a plain POST before the WASM loads (the
//! server function answers and redirects back here; an error comes back in the URL and is shown
//! at its field). Times are `datetime-local` inputs: without JavaScript they are UTC (the hidden
//! `tz_offset_minutes` stays 0 and the labels say so); once hydrated the page fills in the
//! browser's offset, shows the times in the teacher's zone and says "(your time zone)".
//!
//! Also home of what the three sitting pages share: [`ExamNav`] and the time formatting.

use exam_domain::ExamSettings;
use exam_domain::sitting::MAX_TIME_LIMIT_SECS;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::server_fns::{SaveSettings, list_exams, load_settings, message};
use crate::settings_form::{field_error, from_settings, utc_to_local};

/// Links between the teacher's pages of one exam, the current one marked.
#[component]
pub fn ExamNav(id: String, current: &'static str) -> impl IntoView {
    let pages =
        [("", "Questions"), ("/settings", "Settings"), ("/sitting", "Sitting"), ("/results", "Results"), ("/statistics", "Statistics")];
    view! {
        <nav class="exam-nav" aria-label="This exam">
            <ul>
                {pages
                    .into_iter()
                    .map(|(suffix, label)| {
                        let here = label == current;
                        view! {
                            <li>
                                <a href=format!("/teacher/exams/{id}{suffix}") aria-current=here.then_some("page")>{label}</a>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </nav>
    }
}

/// The browser's `Date.getTimezoneOffset()` once hydrated (minutes to add to local time to get
/// UTC); `None` on the server and before hydration, where times are shown in UTC.
pub fn browser_offset() -> RwSignal<Option<i32>> {
    let tz = RwSignal::new(None);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        tz.set(Some(js_sys::Date::new_0().get_timezone_offset().round() as i32));
    });
    tz
}

/// An RFC 3339 UTC time for display: "2026-12-01 09:30 UTC" on the server, in the browser's
/// zone ("2026-12-01 10:30") once `offset` is known.
pub fn local_time(rfc3339: &str, offset: Option<i32>) -> String {
    match offset {
        Some(o) => {
            let local = utc_to_local(rfc3339, i64::from(o));
            if local.is_empty() { crate::short_time(rfc3339) } else { local.replace('T', " ") }
        }
        None => format!("{} UTC", crate::short_time(rfc3339)),
    }
}

/// The form control an error names: the form's field names, and the settings' own names
/// (`time_limit_secs`, `review.show`) that `ExamSettings::apply_json` reports.
fn control_of(field: &str) -> Option<&'static str> {
    Some(match field {
        "time_limit_minutes" | "time_limit_secs" => "time_limit_minutes",
        "grace_secs" => "grace_secs",
        "opens_at" => "opens_at",
        "closes_at" => "closes_at",
        "attempts_allowed" => "attempts_allowed",
        "grade" => "grade",
        "review_show" | "review.show" => "review_show",
        "review_when" | "review.when" | "review" => "review_when",
        "pass_mark" => "pass_mark",
        _ => return None,
    })
}

/// The message for a field, in the form's terms (the limit is checked in seconds).
fn friendly(field: &str, message: &str) -> String {
    match (field, message) {
        ("time_limit_secs", _) => format!("enter at most {} minutes (a week)", MAX_TIME_LIMIT_SECS / 60),
        ("closes_at", "must be after opens_at") => "must be after the opening time".to_owned(),
        _ => message.to_owned(),
    }
}

/// `settings-time-limit-minutes` for `time_limit_minutes`.
fn control_id(control: &str) -> String {
    format!("settings-{}", control.replace('_', "-"))
}

#[component]
pub fn Settings() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let save = ServerAction::<SaveSettings>::new();
    // Bumped by every successful save: the form is then filled from what was stored. Not on
    // errors, so what the teacher typed stays while they fix it.
    let saved = RwSignal::new(0u64);
    let refocus = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            refocus.set(true);
            saved.update(|n| *n += 1);
        }
    });
    let tz = browser_offset();
    let title = Resource::new(id, |id| async move {
        let exams = list_exams().await?;
        Ok::<_, ServerFnError>(exams.into_iter().find(|e| e.id.as_str() == id).map(|e| e.title))
    });
    let settings = Resource::new(move || (id(), saved.get()), |(id, _)| async move { load_settings(id.clone()).await.map(|s| (id, s)) });
    let status = move || {
        if save.pending().get() {
            "Saving…"
        } else if matches!(save.value().get(), Some(Ok(_))) {
            "Saved. The settings below are the ones now in force."
        } else {
            ""
        }
    };
    view! {
        <Title text="Settings" />
        <main class="page narrow">
            <p class="crumbs"><a href=move || format!("/teacher/exams/{}", id())>"← Back to the exam"</a></p>
            <Transition fallback=|| view! { <p>"Loading settings…"</p> }>
                {move || {
                    let heading = title.get().and_then(Result::ok).flatten();
                    settings.get().map(|r| match r {
                        Ok((exam_id, s)) => view! {
                            <h1>
                                "Settings"
                                {heading.map(|t| view! { <span class="h1-exam">": " {t}</span> })}
                            </h1>
                            <ExamNav id=exam_id.clone() current="Settings" />
                            <SettingsForm exam_id settings=s save tz refocus />
                        }
                        .into_any(),
                        Err(e) => view! {
                            <h1>"Settings not available"</h1>
                            <p class="error" role="alert">{message(&e)}</p>
                        }
                        .into_any(),
                    })
                }}
            </Transition>
            <p class="save-status" role="status" aria-live="polite">{status}</p>
        </main>
    }
}

#[component]
fn SettingsForm(
    exam_id: String,
    settings: ExamSettings,
    save: ServerAction<SaveSettings>,
    tz: RwSignal<Option<i32>>,
    refocus: RwSignal<bool>,
) -> impl IntoView {
    let f = from_settings(&settings, i64::from(tz.get_untracked().unwrap_or(0)));
    let stored = StoredValue::new(settings);
    // The window's times follow the browser's offset once it is known.
    let times = Memo::new(move |_| {
        let f = from_settings(&stored.get_value(), i64::from(tz.get().unwrap_or(0)));
        (f.opens_at, f.closes_at)
    });
    let zone = move || if tz.get().is_some() { "(your time zone)" } else { "(UTC)" };

    let error = Signal::derive(move || save.value().get().and_then(|r| r.err()).map(|e| message(&e)));
    // An error that names no field of this form (or none at all) is shown above the button.
    let general_error = move || error.get().filter(|m| field_error(m).and_then(|(f, _)| control_of(f)).is_none());
    let error_at = move |control: &'static str| {
        Signal::derive(move || {
            let m = error.get()?;
            let (field, msg) = field_error(&m)?;
            (control_of(field)? == control).then(|| friendly(field, msg))
        })
    };
    // After a save, focus goes back to the button (the form was rebuilt from the stored
    // settings); after an error, to the field it names.
    Effect::new(move |_| {
        if refocus.get_untracked() {
            refocus.set(false);
            focus("settings-save");
        }
    });
    Effect::new(move |_| {
        if let Some(control) = error.get().as_deref().and_then(field_error).and_then(|(f, _)| control_of(f)) {
            focus(&control_id(control));
        }
    });

    let grade = f.grade.clone();
    let show = f.review_show.clone();
    let when = f.review_when.clone();
    view! {
        <p class="lead">
            "An attempt keeps the time limit, grace period and question order it started with: changes to those apply to attempts started afterwards. "
            "The window, the release of results and extra time given to a student apply at once, also to attempts in progress."
        </p>
        <ActionForm action=save attr:class="settings-form">
            <input type="hidden" name="id" value=exam_id />
            <input type="hidden" name="tz_offset_minutes" value=move || tz.get().unwrap_or(0).to_string() />

            <fieldset class="card settings-group">
                <legend>"Time"</legend>
                <NumberField
                    control="time_limit_minutes"
                    label="Time limit in minutes"
                    optional="(empty: no limit)"
                    value=f.time_limit_minutes.clone()
                    min="1"
                    max=(MAX_TIME_LIMIT_SECS / 60).to_string()
                    step="any"
                    hint="How long a student has from starting an attempt. Leave it empty for no limit."
                    error=error_at("time_limit_minutes")
                />
                <NumberField
                    control="grace_secs"
                    label="Grace period in seconds"
                    optional=""
                    value=f.grace_secs.clone()
                    min="0"
                    max="3600"
                    step="1"
                    hint="Answers sent just before time runs out are still accepted for this long, so an answer in flight is not lost. It is not extra time: the student's clock still stops at the limit."
                    error=error_at("grace_secs")
                />
            </fieldset>

            <fieldset class="card settings-group">
                <legend>"When students can take it"</legend>
                <div class="field">
                    <label for=control_id("opens_at")>"Opens at " <span class="optional">{zone}</span></label>
                    <input
                        type="datetime-local"
                        id=control_id("opens_at")
                        name="opens_at"
                        value=move || times.get().0
                        aria-describedby=described("opens_at", error_at("opens_at"))
                        aria-invalid=invalid(error_at("opens_at"))
                    />
                    <p class="hint" id=hint_id("opens_at")>"Students cannot start before this time. Leave it empty to open it now."</p>
                    <FieldError control="opens_at" error=error_at("opens_at") />
                </div>
                <div class="field">
                    <label for=control_id("closes_at")>"Closes at " <span class="optional">{zone}</span></label>
                    <input
                        type="datetime-local"
                        id=control_id("closes_at")
                        name="closes_at"
                        value=move || times.get().1
                        aria-describedby=described("closes_at", error_at("closes_at"))
                        aria-invalid=invalid(error_at("closes_at"))
                    />
                    <p class="hint" id=hint_id("closes_at")>
                        "After this time nobody can start, and attempts in progress end (answers sent in the grace period still count). Leave it empty to keep it open."
                    </p>
                    <FieldError control="closes_at" error=error_at("closes_at") />
                </div>
            </fieldset>

            <fieldset class="card settings-group">
                <legend>"Attempts"</legend>
                <NumberField
                    control="attempts_allowed"
                    label="Attempts allowed per student"
                    optional="(empty: unlimited)"
                    value=f.attempts_allowed.clone()
                    min="1"
                    max="1000"
                    step="1"
                    hint="How many times each student may take the exam."
                    error=error_at("attempts_allowed")
                />
                <div class="field">
                    <label for=control_id("grade")>"Grade that counts"</label>
                    <select
                        id=control_id("grade")
                        name="grade"
                        aria-describedby=described("grade", error_at("grade"))
                        aria-invalid=invalid(error_at("grade"))
                    >
                        <option value="highest" selected=grade == "highest">"The highest score"</option>
                        <option value="latest" selected=grade == "latest">"The latest attempt"</option>
                        <option value="first" selected=grade == "first">"The first attempt"</option>
                    </select>
                    <p class="hint" id=hint_id("grade")>"With more than one attempt, which one is the student's grade (also in the statistics)."</p>
                    <FieldError control="grade" error=error_at("grade") />
                </div>
            </fieldset>

            <fieldset class="card settings-group">
                <legend>"Order"</legend>
                <div class="choice">
                    <input type="checkbox" id=control_id("shuffle_questions") name="shuffle_questions" value="on" checked=f.shuffle_questions
                        aria-describedby=hint_id("shuffle_questions") />
                    <label for=control_id("shuffle_questions")>"Shuffle the questions"</label>
                </div>
                <p class="hint choice-hint" id=hint_id("shuffle_questions")>"Each student gets the questions in their own order."</p>
                <div class="choice">
                    <input type="checkbox" id=control_id("shuffle_options") name="shuffle_options" value="on" checked=f.shuffle_options
                        aria-describedby=hint_id("shuffle_options") />
                    <label for=control_id("shuffle_options")>"Shuffle the options of each question"</label>
                </div>
                <p class="hint choice-hint" id=hint_id("shuffle_options")>
                    "The order is fixed when an attempt starts and stays the same if the student reloads the page."
                </p>
            </fieldset>

            <fieldset class="card settings-group">
                <legend>"Who can join"</legend>
                <div class="choice">
                    <input type="checkbox" id=control_id("require_sign_in") name="require_sign_in" value="on" checked=f.require_sign_in
                        aria-describedby=hint_id("require_sign_in") />
                    <label for=control_id("require_sign_in")>"Students must sign in with their school account"</label>
                </div>
                <p class="hint choice-hint" id=hint_id("require_sign_in")>
                    "Without it, the join code and a name are enough. With it, each student is the same person on every device; it needs the school's sign-in (OpenID Connect) to be set up for this site."
                </p>
            </fieldset>

            <fieldset class="card settings-group">
                <legend>"Results"</legend>
                <RadioGroup
                    control="review_show"
                    name="review_show"
                    legend="What students see of their results"
                    current=show
                    choices=vec![
                        ("score", "Score only"),
                        ("answers", "Score and their answers"),
                        ("correct", "Score, answers and the correct answers"),
                    ]
                    hint="“Score and their answers” does not say which answers are right. The correct answers come with their sources and explanations."
                    error=error_at("review_show")
                />
                <RadioGroup
                    control="review_when"
                    name="review_when"
                    legend="When students see them"
                    current=when
                    choices=vec![
                        ("immediately", "Immediately after submitting"),
                        ("after_close", "After the exam closes"),
                        ("on_release", "When I release results"),
                    ]
                    hint="“After the exam closes” needs a closing time (or “Close the exam now” on the Sitting page). With “When I release results”, the Sitting page has a button for it."
                    error=error_at("review_when")
                />
                <NumberField
                    control="pass_mark"
                    label="Pass mark in percent"
                    optional=""
                    value=f.pass_mark.clone()
                    min="0"
                    max="100"
                    step="1"
                    hint="The share of questions a student must get right to pass."
                    error=error_at("pass_mark")
                />
            </fieldset>

            {move || general_error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <div class="actions">
                <button type="submit" class="primary" id="settings-save" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else { "Save settings" }}
                </button>
            </div>
        </ActionForm>
    }
}

fn hint_id(control: &str) -> String {
    format!("{}-hint", control_id(control))
}

fn error_id(control: &str) -> String {
    format!("{}-error", control_id(control))
}

/// `aria-describedby`: the hint, and the error while there is one.
fn described(control: &'static str, error: Signal<Option<String>>) -> impl Fn() -> String + Send + Sync + 'static {
    move || if error.get().is_some() { format!("{} {}", error_id(control), hint_id(control)) } else { hint_id(control) }
}

fn invalid(error: Signal<Option<String>>) -> impl Fn() -> Option<&'static str> + Send + Sync + 'static {
    move || error.get().is_some().then_some("true")
}

/// The message under a field.
#[component]
fn FieldError(control: &'static str, error: Signal<Option<String>>) -> impl IntoView {
    move || error.get().map(|m| view! { <p class="field-error" id=error_id(control)>{m}</p> })
}

#[component]
fn NumberField(
    control: &'static str,
    label: &'static str,
    optional: &'static str,
    value: String,
    #[prop(into)] min: String,
    #[prop(into)] max: String,
    step: &'static str,
    hint: &'static str,
    error: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=control_id(control)>
                {label}
                {(!optional.is_empty()).then(|| view! { " " <span class="optional">{optional}</span> })}
            </label>
            <input
                type="number"
                id=control_id(control)
                name=control
                value=value
                min=min
                max=max
                step=step
                inputmode="decimal"
                aria-describedby=described(control, error)
                aria-invalid=invalid(error)
            />
            <p class="hint" id=hint_id(control)>{hint}</p>
            <FieldError control error />
        </div>
    }
}

#[component]
fn RadioGroup(
    control: &'static str,
    name: &'static str,
    legend: &'static str,
    current: String,
    choices: Vec<(&'static str, &'static str)>,
    hint: &'static str,
    error: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <fieldset class="field radio-group" aria-describedby=described(control, error)>
            <legend>{legend}</legend>
            {choices
                .into_iter()
                .enumerate()
                .map(|(i, (value, text))| {
                    // The first radio carries the control's id: errors focus it.
                    let id = if i == 0 { control_id(control) } else { format!("{}-{value}", control_id(control)) };
                    view! {
                        <div class="choice">
                            <input type="radio" id=id.clone() name=name value=value checked=current == value aria-invalid=invalid(error) />
                            <label for=id>{text}</label>
                        </div>
                    }
                })
                .collect_view()}
            <p class="hint" id=hint_id(control)>{hint}</p>
            <FieldError control error />
        </fieldset>
    }
}

/// Moves focus to the element with `id` (in the browser; nothing on the server).
pub fn focus(id: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(el) = document().get_element_by_id(id) {
        use wasm_bindgen::JsCast;
        if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
            let _ = el.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_find_their_control() {
        assert_eq!(control_of("time_limit_secs"), Some("time_limit_minutes"));
        assert_eq!(control_of("review.show"), Some("review_show"));
        assert_eq!(control_of("settings"), None);
        assert_eq!(control_id("time_limit_minutes"), "settings-time-limit-minutes");
        assert_eq!(friendly("time_limit_secs", "must be from 1 to 604800"), "enter at most 10080 minutes (a week)");
    }

    #[test]
    fn the_server_renders_the_form_in_utc() {
        let mut s = ExamSettings::defaults(60);
        s.time_limit_secs = Some(900);
        s.opens_at = Some("2026-12-01T09:30:00.000Z".into());
        s.shuffle_options = true;
        s.review.show = exam_domain::ReviewShow::Answers;
        let html = Owner::new().with(|| {
            let save = ServerAction::<SaveSettings>::new();
            let (tz, refocus) = (RwSignal::new(None), RwSignal::new(false));
            view! { <SettingsForm exam_id="e1".to_owned() settings=s save tz refocus /> }.to_html()
        });
        for text in [
            r#"name="tz_offset_minutes" value="0""#,
            "Opens at <span class=\"optional\">(UTC)",
            r#"name="opens_at" value="2026-12-01T09:30""#,
            r#"name="time_limit_minutes" value="15""#,
            r#"name="shuffle_options" value="on" checked"#,
            r#"name="review_show" value="answers" checked"#,
            r#"<option value="highest" selected"#,
            "Score, answers and the correct answers",
            "When I release results",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        assert!(!html.contains(r#"name="shuffle_questions" value="on" checked"#));
    }

    #[test]
    fn times_are_utc_until_the_browser_offset_is_known() {
        assert_eq!(local_time("2026-12-01T09:30:00.000Z", None), "2026-12-01 09:30 UTC");
        assert_eq!(local_time("2026-12-01T09:30:00.000Z", Some(-60)), "2026-12-01 10:30");
    }
}
