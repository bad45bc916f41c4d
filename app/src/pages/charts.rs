//! Charts for the statistics page: SVG built with `view!`, so the server renders them and they
//! read without JavaScript. Every chart is a `<figure>` with an `role="img"` SVG named by its
//! `<title>` and `<desc>` (the desc spells out every number the picture shows), a visible
//! `<figcaption>`, and the same numbers as a table under a `<details>` disclosure.
//!
//! No server-only code: the components compile for `ssr` and `hydrate` alike. All text is a
//! child or attribute in `view!`, so it is escaped; nothing here writes raw HTML.

use exam_domain::{ExamStatistics, HistogramBin, ItemStatistics, QuestionKind};
use leptos::prelude::*;

/// The histogram's drawing area, in SVG user units.
const HIST_W: f64 = 480.0;
const HIST_H: f64 = 260.0;
const HIST_LEFT: f64 = 52.0;
const HIST_RIGHT: f64 = 12.0;
const HIST_TOP: f64 = 28.0;
const HIST_BOTTOM: f64 = 56.0;

/// The option bars' drawing area, in SVG user units.
const OPT_W: f64 = 480.0;
const OPT_PAD: f64 = 8.0;
const OPT_ROW: f64 = 46.0;
const OPT_BAR_H: f64 = 16.0;
/// Room right of the longest bar for its "100 % (999)" label.
const OPT_LABEL_ROOM: f64 = 100.0;
/// Longest option text drawn in the SVG; the full text is in the row's `<title>`, the
/// `<desc>` and the data table.
const OPT_TEXT_CHARS: usize = 56;

/// SVG coordinates with one decimal: short, stable markup.
fn coord(v: f64) -> String {
    format!("{v:.1}")
}

/// "3" or "3–5".
fn bin_label(b: &HistogramBin) -> String {
    if b.from == b.to { b.from.to_string() } else { format!("{}–{}", b.from, b.to) }
}

/// "3 points" or "3–5 points".
fn bin_points(b: &HistogramBin) -> String {
    if b.from == b.to { crate::plural(b.from, "point", "points") } else { format!("{}–{} points", b.from, b.to) }
}

/// `0.6` → "60 %"; rounded to whole percent.
fn percent(share: f64) -> String {
    format!("{:.0} %", share * 100.0)
}

fn decimal(v: Option<f64>, places: usize) -> String {
    v.map(|v| format!("{v:.places$}")).unwrap_or_else(|| "–".to_owned())
}

fn truncate(s: &str, max: usize) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > max { format!("{}…", s.chars().take(max - 1).collect::<String>().trim_end()) } else { s }
}

/// "A. Paris" for multiple choice, "True" for true/false.
fn option_label(kind: QuestionKind, index: usize, text: &str) -> String {
    match kind {
        QuestionKind::TrueFalse => text.to_owned(),
        QuestionKind::MultipleChoice => {
            let letter = char::from(b'A' + u8::try_from(index % 26).unwrap_or(0));
            format!("{letter}. {text}")
        }
    }
}

/// A safe `id` fragment (ids are slugs already; this keeps it so whatever they become).
fn id_part(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect()
}

/// The distribution of total scores: one bar per [`HistogramBin`], its count above it, the
/// score range below it, and axis titles.
#[component]
pub fn ScoreHistogram(stats: ExamStatistics) -> impl IntoView {
    let base = format!("chart-hist-{}-v{}", id_part(stats.exam_id.as_str()), stats.version);
    let title_id = format!("{base}-title");
    let desc_id = format!("{base}-desc");
    let labelledby = format!("{title_id} {desc_id}");
    let n = stats.submissions;
    let max_count = stats.histogram.iter().map(|b| b.count).max().unwrap_or(0).max(1);
    let plot_w = HIST_W - HIST_LEFT - HIST_RIGHT;
    let plot_h = HIST_H - HIST_TOP - HIST_BOTTOM;
    let baseline = HIST_TOP + plot_h;
    let slot = plot_w / stats.histogram.len().max(1) as f64;
    let bar_w = (slot * 0.8).max(1.0);
    // Label every bin when they fit, else every second one (counts stay on every bar).
    let label_every = if slot < 22.0 { 2 } else { 1 };

    let title = format!("Score distribution: {}", stats.title);
    let summary = if n == 0 {
        "No submissions yet.".to_owned()
    } else {
        format!(
            "{}, scored out of {}. Mean {}, median {}, standard deviation {}.",
            crate::plural(n, "submission", "submissions"),
            stats.max_score,
            decimal(stats.mean, 2),
            decimal(stats.median, 1),
            decimal(stats.std_dev, 2),
        )
    };
    let desc = format!(
        "Bar chart of how many submissions reached each total score. {summary} {}",
        stats
            .histogram
            .iter()
            .map(|b| format!("{}: {}", bin_points(b), crate::plural(b.count, "submission", "submissions")))
            .collect::<Vec<_>>()
            .join("; ")
            + "."
    );
    let caption = if n == 0 {
        "Score distribution: no submissions yet.".to_owned()
    } else {
        format!(
            "Score distribution of {} (out of {}). Mean {} · median {} · SD {} · KR-20 reliability {}.",
            crate::plural(n, "submission", "submissions"),
            stats.max_score,
            decimal(stats.mean, 2),
            decimal(stats.median, 1),
            decimal(stats.std_dev, 2),
            decimal(stats.kr20, 2),
        )
    };

    let bars = stats
        .histogram
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let h = plot_h * f64::from(b.count) / f64::from(max_count);
            let x = HIST_LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
            let cx = x + bar_w / 2.0;
            let tip = format!("{}: {}", bin_points(b), crate::plural(b.count, "submission", "submissions"));
            let label = (i % label_every == 0 || i + 1 == stats.histogram.len()).then(|| bin_label(b));
            view! {
                <g class="chart-bar" class:chart-bar-empty=b.count == 0>
                    <title>{tip}</title>
                    <rect x=coord(x) y=coord(baseline - h) width=coord(bar_w) height=coord(h) rx="2"></rect>
                    <text class="chart-count" x=coord(cx) y=coord(baseline - h - 6.0) text-anchor="middle">{b.count}</text>
                    {label.map(|l| view! {
                        <text class="chart-tick" x=coord(cx) y=coord(baseline + 18.0) text-anchor="middle">{l}</text>
                    })}
                </g>
            }
        })
        .collect_view();

    let rows = stats.histogram.iter().map(|b| view! { <tr><th scope="row">{bin_points(b)}</th><td>{b.count}</td></tr> }).collect_view();
    let x_axis_title = format!("Total score (out of {})", stats.max_score);
    let y_mid = coord(HIST_TOP + plot_h / 2.0);

    view! {
        <figure class="chart chart-histogram">
            <svg
                class="chart-svg"
                viewBox=format!("0 0 {HIST_W} {HIST_H}")
                role="img"
                aria-labelledby=labelledby
                preserveAspectRatio="xMidYMid meet"
            >
                <title id=title_id>{title}</title>
                <desc id=desc_id>{desc}</desc>
                <line class="chart-axis" x1=coord(HIST_LEFT) y1=coord(HIST_TOP) x2=coord(HIST_LEFT) y2=coord(baseline)></line>
                <line class="chart-axis" x1=coord(HIST_LEFT) y1=coord(baseline) x2=coord(HIST_W - HIST_RIGHT) y2=coord(baseline)></line>
                <text class="chart-tick" x=coord(HIST_LEFT - 6.0) y=coord(baseline + 4.0) text-anchor="end">"0"</text>
                <text class="chart-tick" x=coord(HIST_LEFT - 6.0) y=coord(HIST_TOP + 4.0) text-anchor="end">{max_count}</text>
                <line class="chart-grid" x1=coord(HIST_LEFT) y1=coord(HIST_TOP) x2=coord(HIST_W - HIST_RIGHT) y2=coord(HIST_TOP)></line>
                {bars}
                <text class="chart-axis-title" x=coord(HIST_LEFT + plot_w / 2.0) y=coord(HIST_H - 10.0) text-anchor="middle">{x_axis_title}</text>
                <text
                    class="chart-axis-title"
                    x="0"
                    y="0"
                    text-anchor="middle"
                    transform=format!("translate(16 {y_mid}) rotate(-90)")
                >
                    "Submissions"
                </text>
            </svg>
            <figcaption>{caption}</figcaption>
            <details class="chart-data">
                <summary>"Show the numbers as a table"</summary>
                <table class="chart-table">
                    <thead><tr><th scope="col">"Total score"</th><th scope="col">"Submissions"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </details>
        </figure>
    }
}

/// How often each option of one question was chosen: one horizontal bar per option (share of
/// all submissions, count in brackets), the key marked with ✓, "correct" in words and its own
/// class, and a row for submissions that left the question unanswered.
#[component]
pub fn OptionBars(item: ItemStatistics) -> impl IntoView {
    let base = format!("chart-opt-{}-{}", id_part(item.question_id.as_str()), item.position);
    let title_id = format!("{base}-title");
    let desc_id = format!("{base}-desc");
    let labelledby = format!("{title_id} {desc_id}");
    let total = item.answered + item.unanswered;
    let none_share = if total == 0 { 0.0 } else { f64::from(item.unanswered) / f64::from(total) };

    struct Row {
        label: String,
        chosen: u32,
        share: f64,
        correct: bool,
        none: bool,
    }
    let mut rows: Vec<Row> = item
        .options
        .iter()
        .enumerate()
        .map(|(i, o)| Row { label: option_label(item.kind, i, &o.text), chosen: o.chosen, share: o.share, correct: o.correct, none: false })
        .collect();
    if item.unanswered > 0 {
        rows.push(Row { label: "No answer".to_owned(), chosen: item.unanswered, share: none_share, correct: false, none: true });
    }

    let describe = |r: &Row| {
        format!(
            "{}{}: {} ({})",
            r.label,
            if r.correct { " (correct answer)" } else { "" },
            percent(r.share),
            crate::plural(r.chosen, "submission", "submissions")
        )
    };
    let title = format!("Answers to question {}", item.position);
    let desc = if total == 0 {
        "No submissions yet.".to_owned()
    } else {
        let each = rows.iter().map(describe).collect::<Vec<_>>().join("; ");
        format!("Share of {} choosing each option. {each}.", crate::plural(total, "submission", "submissions"))
    };
    let caption = match item.facility {
        Some(f) => format!("Question {}: {} answered correctly.", item.position, percent(f)),
        None => format!("Question {}: no submissions yet.", item.position),
    };

    let height = OPT_PAD * 2.0 + OPT_ROW * rows.len() as f64;
    let bar_room = OPT_W - OPT_PAD * 2.0 - OPT_LABEL_ROOM;
    let bars = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let y = OPT_PAD + OPT_ROW * i as f64;
            let w = bar_room * r.share.clamp(0.0, 1.0);
            let text = if r.correct { format!("✓ {} (correct)", r.label) } else { r.label.clone() };
            let shown = truncate(&text, OPT_TEXT_CHARS);
            let value = format!("{} ({})", percent(r.share), r.chosen);
            view! {
                <g class="chart-option" class:chart-option-correct=r.correct class:chart-option-none=r.none>
                    <title>{describe(r)}</title>
                    <text class="chart-option-label" x=coord(OPT_PAD) y=coord(y + 14.0)>{shown}</text>
                    <rect class="chart-track" x=coord(OPT_PAD) y=coord(y + 20.0) width=coord(bar_room) height=coord(OPT_BAR_H) rx="3"></rect>
                    <rect class="chart-fill" x=coord(OPT_PAD) y=coord(y + 20.0) width=coord(w) height=coord(OPT_BAR_H) rx="3"></rect>
                    <text class="chart-value" x=coord(OPT_PAD + bar_room + 8.0) y=coord(y + 33.0)>{value}</text>
                </g>
            }
        })
        .collect_view();

    let table_rows = rows
        .iter()
        .map(|r| {
            view! {
                <tr class:chart-option-correct=r.correct>
                    <th scope="row">{r.label.clone()}{r.correct.then_some(" ✓ correct")}</th>
                    <td>{r.chosen}</td>
                    <td>{percent(r.share)}</td>
                </tr>
            }
        })
        .collect_view();

    view! {
        <figure class="chart chart-options">
            <svg
                class="chart-svg"
                viewBox=format!("0 0 {OPT_W} {}", coord(height))
                role="img"
                aria-labelledby=labelledby
                preserveAspectRatio="xMidYMid meet"
            >
                <title id=title_id>{title}</title>
                <desc id=desc_id>{desc}</desc>
                {bars}
            </svg>
            <figcaption>{caption}</figcaption>
            <details class="chart-data">
                <summary>"Show the numbers as a table"</summary>
                <table class="chart-table">
                    <thead><tr><th scope="col">"Option"</th><th scope="col">"Chosen"</th><th scope="col">"Share"</th></tr></thead>
                    <tbody>{table_rows}</tbody>
                </table>
            </details>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(bin_label(&HistogramBin { from: 3, to: 3, count: 0 }), "3");
        assert_eq!(bin_points(&HistogramBin { from: 1, to: 1, count: 0 }), "1 point");
        assert_eq!(bin_points(&HistogramBin { from: 3, to: 5, count: 0 }), "3–5 points");
        assert_eq!(option_label(QuestionKind::MultipleChoice, 2, "Rome"), "C. Rome");
        assert_eq!(option_label(QuestionKind::TrueFalse, 0, "True"), "True");
        assert_eq!(percent(0.666), "67 %");
        assert_eq!(truncate("a  b", 10), "a b");
        assert_eq!(truncate("abcdefghij", 5), "abcd…");
        assert_eq!(id_part("q1 x"), "q1-x");
    }
}
