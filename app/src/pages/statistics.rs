//! `/teacher/exams/:id/statistics` (optionally `?version=n`): item analysis of one published
//! version — summary numbers with what they mean, the score distribution, and per question its
//! facility, discrimination, warnings in plain words and how often each option was chosen.
//! A CSV download has the same numbers.
//!
//! Rendered completely on the server (charts are SVG built with `view!`); choosing another
//! version is a plain GET form.

use exam_domain::{ExamStatistics, ItemFlag, ItemStatistics, QuestionKind};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::charts::{OptionBars, ScoreHistogram};
use super::settings::ExamNav;
use crate::server_fns::{load_statistics, message};

#[component]
pub fn Statistics() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let version = move || query.read().get("version").and_then(|v| v.trim().parse::<u32>().ok());
    let data = Resource::new(move || (id(), version()), |(id, version)| load_statistics(id, version));
    view! {
        <Title text="Statistics" />
        <main class="page">
            <p class="crumbs"><a href=move || format!("/teacher/exams/{}", id())>"← Back to the exam"</a></p>
            <Transition fallback=|| view! { <p>"Loading statistics…"</p> }>
                {move || data.get().map(|r| match r {
                    Ok(stats) => view! { <StatsBody stats /> }.into_any(),
                    Err(e) => view! {
                        <h1>"Statistics not available"</h1>
                        <ExamNav id=id() current="Statistics" />
                        <p class="error" role="alert">{message(&e)}</p>
                    }
                    .into_any(),
                })}
            </Transition>
        </main>
    }
}

/// "1.23", or "–" when there is no value.
fn decimal(v: Option<f64>, places: usize) -> String {
    v.map(|v| format!("{v:.places$}")).unwrap_or_else(|| "–".to_owned())
}

fn percent(v: Option<f64>) -> String {
    v.map(|v| format!("{:.0} %", v * 100.0)).unwrap_or_else(|| "–".to_owned())
}

/// "option B (“Paris”)" for multiple choice, "“False”" for true/false.
fn option_name(item: &ItemStatistics, option_id: &exam_domain::OptionId) -> String {
    match item.options.iter().position(|o| &o.option_id == option_id) {
        Some(i) => {
            let text = &item.options[i].text;
            match item.kind {
                QuestionKind::TrueFalse => format!("“{text}”"),
                QuestionKind::MultipleChoice => {
                    let letter = char::from(b'A' + u8::try_from(i % 26).unwrap_or(0));
                    format!("option {letter} (“{text}”)")
                }
            }
        }
        None => format!("option {option_id}"),
    }
}

/// A flag as a sentence that says what to do.
fn flag_text(item: &ItemStatistics, flag: &ItemFlag) -> String {
    match flag {
        ItemFlag::NegativeDiscrimination => {
            "Negative discrimination: stronger students got this wrong more often — check the key.".to_owned()
        }
        ItemFlag::UnusedDistractor { option_id } => {
            format!("Nobody chose {} — replace this distractor.", option_name(item, option_id))
        }
    }
}

#[component]
fn StatsBody(stats: ExamStatistics) -> impl IntoView {
    let id = stats.exam_id.to_string();
    let n = stats.submissions;
    let version = stats.version;
    let csv = format!("/api/v1/exams/{id}/statistics.csv?version={version}");
    let kr20_note = match stats.kr20 {
        Some(_) => {
            "How consistently the questions measure the same thing, usually between 0 and 1: 0.7 or more is good for a class test; low or negative values mean the questions disagree."
        }
        None => "Not available: it needs at least 2 submissions, at least 2 questions, and scores that differ between students.",
    };
    let summary = (n > 0).then(|| {
        view! {
            <dl class="stat-summary">
                <div>
                    <dt>"Submissions analysed"</dt>
                    <dd>{n}</dd>
                    <dd class="hint">"One per student: the attempt whose grade counts."</dd>
                </div>
                <div>
                    <dt>"Mean score"</dt>
                    <dd>{format!("{} of {}", decimal(stats.mean, 2), stats.max_score)}</dd>
                </div>
                <div>
                    <dt>"Median score"</dt>
                    <dd>{decimal(stats.median, 1)}</dd>
                </div>
                <div>
                    <dt>"Standard deviation"</dt>
                    <dd>{decimal(stats.std_dev, 2)}</dd>
                    <dd class="hint">"How far scores typically are from the mean."</dd>
                </div>
                <div class="wide">
                    <dt>"Reliability (KR-20)"</dt>
                    <dd>{stats.kr20.map(|k| format!("{k:.2}")).unwrap_or_else(|| "not available".to_owned())}</dd>
                    <dd class="hint">{kr20_note}</dd>
                </div>
            </dl>
        }
    });
    let overview = stats.questions.clone();
    let items = stats.questions.clone();
    let title = stats.title.clone();
    view! {
        <h1>"Statistics" <span class="h1-exam">": " {title}</span></h1>
        <ExamNav id=id.clone() current="Statistics" />
        <div class="stats-head">
            <p class="lead">{format!("Version {version} · {}", crate::plural(stats.max_score, "question", "questions"))}</p>
            <form method="get" class="version-form">
                <label for="stats-version">"Exam version"</label>
                <input type="number" id="stats-version" name="version" min="1" step="1" value=version.to_string() />
                <button type="submit">"Show"</button>
            </form>
        </div>
        {if n == 0 {
            view! {
                <p class="empty card">
                    {format!("Nobody has submitted version {version} yet. The statistics appear here once students have submitted it.")}
                </p>
            }
            .into_any()
        } else {
            view! {
                <section class="card stat-section" aria-labelledby="summary-h">
                    <h2 id="summary-h">"Summary"</h2>
                    {summary}
                    <p class="exports"><a href=csv download>"Download the statistics (CSV)"</a></p>
                </section>
                <section class="card stat-section" aria-labelledby="dist-h">
                    <h2 id="dist-h">"How the scores are spread"</h2>
                    <ScoreHistogram stats=stats.clone() />
                </section>
                <section aria-labelledby="items-h">
                    <h2 id="items-h">"Questions"</h2>
                    <dl class="legend">
                        <div><dt>"Facility"</dt><dd>"The share of students who got it right. Very high or very low tells you little about who knows the material."</dd></div>
                        <div><dt>"Discrimination"</dt><dd>"The correlation (−1 to 1) between getting it right and the score on the rest of the exam. Below 0.2 is weak; below 0 is a warning."</dd></div>
                        <div><dt>"Upper−lower index"</dt><dd>"The facility among the top 27 % of scores minus that among the bottom 27 % (−1 to 1)."</dd></div>
                    </dl>
                    <div class="table-wrap">
                        <table class="results item-overview">
                            <caption class="sr-only">"All questions at a glance"</caption>
                            <thead>
                                <tr>
                                    <th scope="col">"Question"</th>
                                    <th scope="col">"Facility"</th>
                                    <th scope="col">"Discrimination"</th>
                                    <th scope="col">"Upper−lower"</th>
                                    <th scope="col">"Warnings"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {overview.into_iter().map(|q| view! {
                                    <tr class:flagged=!q.flags.is_empty()>
                                        <th scope="row"><a href=format!("#item-{}", q.position)>{format!("Question {}", q.position)}</a></th>
                                        <td>{percent(q.facility)}</td>
                                        <td>{decimal(q.discrimination, 2)}</td>
                                        <td>{decimal(q.upper_lower, 2)}</td>
                                        <td>{if q.flags.is_empty() { "–".to_owned() } else { format!("⚠ {}", q.flags.len()) }}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    <ol class="item-stats">
                        {items.into_iter().map(|item| view! { <ItemCard item /> }).collect_view()}
                    </ol>
                </section>
            }
            .into_any()
        }}
    }
}

#[component]
fn ItemCard(item: ItemStatistics) -> impl IntoView {
    let heading = format!("item-{}", item.position);
    let flags: Vec<String> = item.flags.iter().map(|f| flag_text(&item, f)).collect();
    let flagged = !flags.is_empty();
    view! {
        <li class="card item" class:flagged=flagged aria-labelledby=heading.clone()>
            <h3 id=heading.clone() tabindex="-1">{format!("Question {}", item.position)}</h3>
            <p class="prompt">{item.question.clone()}</p>
            <dl class="item-numbers">
                <div><dt>"Facility"</dt><dd>{percent(item.facility)}</dd></div>
                <div><dt>"Discrimination"</dt><dd>{decimal(item.discrimination, 2)}</dd></div>
                <div><dt>"Upper−lower"</dt><dd>{decimal(item.upper_lower, 2)}</dd></div>
                <div><dt>"Answered"</dt><dd>{format!("{} of {}", item.answered, item.answered + item.unanswered)}</dd></div>
            </dl>
            {flagged.then(|| view! {
                <div class="flags" role="note" aria-label=format!("Warnings for question {}", item.position)>
                    <ul>{flags.into_iter().map(|f| view! { <li>"⚠ " {f}</li> }).collect_view()}</ul>
                </div>
            })}
            <OptionBars item=item.clone() />
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_flags_read_plainly() {
        assert_eq!(decimal(Some(0.456), 2), "0.46");
        assert_eq!(decimal(None, 2), "–");
        assert_eq!(percent(Some(0.666)), "67 %");
        let option = |id: &str, text: &str, correct: bool| exam_domain::OptionStatistics {
            option_id: exam_domain::OptionId::parse(id).unwrap(),
            text: text.into(),
            correct,
            chosen: 0,
            share: 0.0,
        };
        let item = ItemStatistics {
            question_id: exam_domain::QuestionId::parse("q1").unwrap(),
            position: 1,
            question: "Capital of France?".into(),
            kind: QuestionKind::MultipleChoice,
            answered: 0,
            unanswered: 0,
            facility: None,
            discrimination: None,
            upper_lower: None,
            options: vec![option("a", "Paris", true), option("b", "Lyon", false)],
            flags: vec![],
        };
        let unused = ItemFlag::UnusedDistractor { option_id: exam_domain::OptionId::parse("b").unwrap() };
        assert_eq!(flag_text(&item, &unused), "Nobody chose option B (“Lyon”) — replace this distractor.");
        assert!(flag_text(&item, &ItemFlag::NegativeDiscrimination).contains("check the key"));
    }

    fn bank() -> exam_domain::QuestionBank {
        let json = r#"[{"question": "Capital of <France>?", "options": ["Paris", "Lyon", "Nice"], "correct_answer": "Paris"},
                       {"question": "2 + 2?", "options": ["3", "4"], "correct_answer": "4"}]"#;
        exam_domain::QuestionBank::from_json(json.as_bytes(), &exam_domain::ExamId::parse("e1").unwrap(), "<script>x</script>").unwrap()
    }

    fn render(stats: ExamStatistics) -> String {
        Owner::new().with(|| view! { <StatsBody stats /> }.to_html())
    }

    #[test]
    fn the_server_renders_statistics_escaped() {
        let bank = bank();
        let answers = |a: &str, b: &str| {
            [
                (bank.questions[0].id.clone(), exam_domain::OptionId::parse(a).unwrap()),
                (bank.questions[1].id.clone(), exam_domain::OptionId::parse(b).unwrap()),
            ]
            .into_iter()
            .collect()
        };
        let stats = exam_domain::analyse(&bank, 2, &[answers("a", "b"), answers("b", "b"), answers("a", "a")]);
        let html = render(stats);
        assert!(!html.contains("<script>") && !html.contains("<France>"), "{html}");
        for text in [
            "Version 2 · 2 questions",
            "/api/v1/exams/e1/statistics.csv?version=2",
            "Submissions analysed",
            "Reliability (KR-20)",
            "Nobody chose option C (“Nice”) — replace this distractor.",
            "Capital of &lt;France&gt;?",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        let empty = render(exam_domain::analyse(&bank, 1, &[]));
        assert!(empty.contains("Nobody has submitted version 1 yet."), "{empty}");
        assert!(!empty.contains("Download the statistics"));
    }
}
