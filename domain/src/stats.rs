//! Item analysis for one exam version: score distribution, reliability and, per question,
//! difficulty, discrimination and how often each option was chosen.
//!
//! Conventions (the same everywhere in this module):
//!
//! * Every item scores 0 or 1; a response set's *total score* is the number of items answered
//!   correctly. An answer to a question the bank does not have, or an option id that does not
//!   belong to its question, counts as unanswered, exactly as [`crate::grading::grade`] does.
//! * Variances are **population** variances (divide by N, the number of response sets), as
//!   the KR-20 formula conventionally uses; the reported standard deviation is the square root
//!   of that variance, and the point-biserial correlation uses the same N.
//! * Sums are accumulated as integers and divided once, so "zero variance" is detected
//!   exactly rather than by comparing floats to a tolerance.
//!
//! Pure: no IO, no clock, no randomness; ties are broken by the order of the responses given.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::bank::{Question, QuestionBank, QuestionKind};
use crate::ids::{ExamId, OptionId, QuestionId};

/// The share of response sets in each of the upper and lower groups of the upper-lower index
/// (Kelley's 27 %).
pub const UPPER_LOWER_SHARE: f64 = 0.27;

/// Scores up to this maximum get one histogram bin per possible score.
pub const MAX_SCORES_WITH_OWN_BIN: u32 = 20;

/// How many bins a histogram of a longer exam aims for.
pub const TARGET_BINS: u32 = 10;

/// The statistics of one exam version over a set of submissions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExamStatistics {
    pub exam_id: ExamId,
    /// The exam version whose questions were analysed (the caller passes only responses
    /// graded against it).
    pub version: u32,
    /// The bank's title.
    pub title: String,
    /// Number of response sets analysed (N).
    pub submissions: u32,
    /// Number of questions (k): the highest possible total score.
    pub max_score: u32,
    /// Arithmetic mean of the total scores, `Σy / N`; `None` with no submissions.
    pub mean: Option<f64>,
    /// Median of the total scores (the mean of the two middle scores when N is even); `None`
    /// with no submissions.
    pub median: Option<f64>,
    /// Population standard deviation of the total scores, `sqrt(Σ(y − ȳ)² / N)`; `None` with
    /// no submissions (and `Some(0.0)` with one).
    pub std_dev: Option<f64>,
    /// Kuder–Richardson 20 reliability, `k/(k−1) · (1 − Σ pᵢqᵢ / σ²)` with `pᵢ` the item's
    /// facility, `qᵢ = 1 − pᵢ` and `σ²` the population variance of the total scores. `None`
    /// when there are fewer than 2 submissions, fewer than 2 items, or the total scores do
    /// not vary. It can be negative (items that disagree with each other).
    pub kr20: Option<f64>,
    /// Counts of total scores: one bin per possible score `0..=max_score` when `max_score`
    /// is at most [`MAX_SCORES_WITH_OWN_BIN`], else bins of equal width
    /// `ceil((max_score + 1) / TARGET_BINS)` (the last one possibly narrower). Every bin is
    /// present, also when its count is 0.
    pub histogram: Vec<HistogramBin>,
    /// One entry per question, in the bank's order.
    pub questions: Vec<ItemStatistics>,
}

/// How many total scores fall into `from..=to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistogramBin {
    /// Lowest score in the bin (inclusive).
    pub from: u32,
    /// Highest score in the bin (inclusive).
    pub to: u32,
    pub count: u32,
}

/// The analysis of one question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemStatistics {
    pub question_id: QuestionId,
    /// 1-based position in the bank.
    pub position: u32,
    /// The question text.
    pub question: String,
    pub kind: QuestionKind,
    /// Response sets with a valid option for this question.
    pub answered: u32,
    /// Response sets without one (missing, or an option of another question).
    pub unanswered: u32,
    /// Facility (difficulty index) `p = correct / N`, unanswered counting as wrong; `None`
    /// with no submissions.
    pub facility: Option<f64>,
    /// Corrected item–total correlation: the point-biserial (Pearson) correlation between the
    /// item score `x` (0/1) and the *rest score* `r = total − x`,
    /// `(N·Σxr − Σx·Σr) / sqrt((N·Σx² − (Σx)²) · (N·Σr² − (Σr)²))`. `None` when either
    /// variable has zero variance (everyone right, everyone wrong, or equal rest scores),
    /// which includes fewer than 2 submissions.
    pub discrimination: Option<f64>,
    /// Upper–lower discrimination index `D = p(upper) − p(lower)`: the facility in the group
    /// of the `n` highest total scores minus that in the `n` lowest, with
    /// `n = round(0.27 · N)` clamped to `1..=N/2`. Response sets are ranked by total score,
    /// highest first, ties kept in the order given (a stable sort); the upper group is the
    /// first `n` of that ranking, the lower group the last `n`. `None` with fewer than 2
    /// submissions.
    pub upper_lower: Option<f64>,
    /// One entry per option, in the question's order.
    pub options: Vec<OptionStatistics>,
    /// What the teacher should look at, in this order: negative discrimination first, then
    /// unused distractors in option order.
    pub flags: Vec<ItemFlag>,
}

/// How often one option was chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptionStatistics {
    pub option_id: OptionId,
    /// The option's text as the students saw it.
    pub text: String,
    /// Whether this is the key.
    pub correct: bool,
    /// Response sets that chose this option.
    pub chosen: u32,
    /// `chosen / N`, over all submissions (so the shares of a question's options add up to
    /// its answered share, not necessarily 1); `0.0` with no submissions.
    pub share: f64,
}

/// Something about an item worth a teacher's look.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ItemFlag {
    /// The corrected item–total correlation ([`ItemStatistics::discrimination`]) is below 0:
    /// students who did worse on the rest of the exam got this item right more often, which
    /// usually means a wrong key or a misleading question.
    NegativeDiscrimination,
    /// A wrong option nobody chose (raised only when there is at least one submission): it
    /// does not work as a distractor.
    UnusedDistractor { option_id: OptionId },
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// `num / den` for integers, as `f64`.
fn ratio(num: i128, den: i128) -> f64 {
    num as f64 / den as f64
}

/// The valid option of `q` chosen in `answers`, if any (the rule of [`crate::grading::grade`]).
fn chosen<'a>(q: &Question, answers: &'a BTreeMap<QuestionId, OptionId>) -> Option<&'a OptionId> {
    answers.get(&q.id).filter(|o| q.option_text(o).is_some())
}

/// Pearson correlation from integer sums, `None` when either variable does not vary.
fn pearson(n: i128, sx: i128, sxx: i128, sy: i128, syy: i128, sxy: i128) -> Option<f64> {
    let vx = n * sxx - sx * sx;
    let vy = n * syy - sy * sy;
    if vx <= 0 || vy <= 0 {
        return None;
    }
    let r = (n * sxy - sx * sy) as f64 / ((vx as f64) * (vy as f64)).sqrt();
    Some(r.clamp(-1.0, 1.0))
}

fn histogram(max_score: u32, totals: &[u32]) -> Vec<HistogramBin> {
    let width = if max_score <= MAX_SCORES_WITH_OWN_BIN { 1 } else { (max_score + 1).div_ceil(TARGET_BINS) };
    let mut bins: Vec<HistogramBin> = (0..=max_score)
        .step_by(width as usize)
        .map(|from| HistogramBin { from, to: from.saturating_add(width - 1).min(max_score), count: 0 })
        .collect();
    for &t in totals {
        let i = (t.min(max_score) / width) as usize;
        bins[i].count += 1;
    }
    bins
}

fn median(totals: &[u32]) -> Option<f64> {
    let mut sorted = totals.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(f64::from(sorted[n / 2])),
        _ => Some((f64::from(sorted[n / 2 - 1]) + f64::from(sorted[n / 2])) / 2.0),
    }
}

/// The size of each of the upper and lower groups for `n` response sets (`n ≥ 2`).
fn group_size(n: usize) -> usize {
    ((n as f64 * UPPER_LOWER_SHARE).round() as usize).clamp(1, n / 2)
}

/// Analyses `responses` (one map of answers per submission) against `bank`, the questions of
/// exam version `version`. See the module documentation and each field for the formulas.
pub fn analyse(bank: &QuestionBank, version: u32, responses: &[BTreeMap<QuestionId, OptionId>]) -> ExamStatistics {
    let n = responses.len();
    let k = bank.questions.len();
    // correct[i][s]: whether submission s answered item i correctly.
    let correct: Vec<Vec<bool>> =
        bank.questions.iter().map(|q| responses.iter().map(|a| chosen(q, a) == Some(&q.correct_option)).collect()).collect();
    let totals: Vec<u32> = (0..n).map(|s| count(correct.iter().filter(|item| item[s]).count())).collect();

    let nn = n as i128;
    let sum_y: i128 = totals.iter().map(|&t| i128::from(t)).sum();
    let sum_yy: i128 = totals.iter().map(|&t| i128::from(t) * i128::from(t)).sum();
    // N²·σ² (population variance of the totals, scaled to stay an integer).
    let n2_var = nn * sum_yy - sum_y * sum_y;
    let mean = (n > 0).then(|| ratio(sum_y, nn));
    let std_dev = (n > 0).then(|| (n2_var as f64).sqrt() / n as f64);
    let kr20 = (n >= 2 && k >= 2 && n2_var > 0).then(|| {
        // Σ pᵢqᵢ · N² = Σ cᵢ(N − cᵢ), with cᵢ the number correct on item i.
        let n2_pq: i128 = correct
            .iter()
            .map(|item| {
                let c = item.iter().filter(|&&x| x).count() as i128;
                c * (nn - c)
            })
            .sum();
        let kk = k as f64;
        kk / (kk - 1.0) * (1.0 - ratio(n2_pq, n2_var))
    });

    // Ranking for the upper-lower index: highest total first, stable for ties.
    let mut ranking: Vec<usize> = (0..n).collect();
    ranking.sort_by(|&a, &b| totals[b].cmp(&totals[a]));
    let groups = (n >= 2).then(|| {
        let g = group_size(n);
        (&ranking[..g], &ranking[n - g..])
    });

    let questions = bank
        .questions
        .iter()
        .zip(&correct)
        .enumerate()
        .map(|(i, (q, item))| {
            let answered = count(responses.iter().filter(|a| chosen(q, a).is_some()).count());
            let c = item.iter().filter(|&&x| x).count();
            let facility = (n > 0).then(|| ratio(c as i128, nn));
            let (mut sx, mut sr, mut srr, mut sxr) = (0i128, 0i128, 0i128, 0i128);
            for (s, &x) in item.iter().enumerate() {
                let x = i128::from(x);
                let r = i128::from(totals[s]) - x;
                sx += x;
                sr += r;
                srr += r * r;
                sxr += x * r;
            }
            // x is 0/1, so Σx² = Σx.
            let discrimination = pearson(nn, sx, sx, sr, srr, sxr);
            let upper_lower = groups.map(|(upper, lower)| {
                let right = |group: &[usize]| group.iter().filter(|&&s| item[s]).count() as i128;
                let g = upper.len() as i128;
                ratio(right(upper) - right(lower), g)
            });
            let options: Vec<OptionStatistics> = q
                .options
                .iter()
                .map(|o| {
                    let picked = count(responses.iter().filter(|a| chosen(q, a) == Some(&o.id)).count());
                    OptionStatistics {
                        option_id: o.id.clone(),
                        text: o.text.clone(),
                        correct: o.id == q.correct_option,
                        chosen: picked,
                        share: if n == 0 { 0.0 } else { ratio(i128::from(picked), nn) },
                    }
                })
                .collect();
            let mut flags = Vec::new();
            if discrimination.is_some_and(|d| d < 0.0) {
                flags.push(ItemFlag::NegativeDiscrimination);
            }
            if n > 0 {
                flags.extend(
                    options
                        .iter()
                        .filter(|o| !o.correct && o.chosen == 0)
                        .map(|o| ItemFlag::UnusedDistractor { option_id: o.option_id.clone() }),
                );
            }
            ItemStatistics {
                question_id: q.id.clone(),
                position: count(i + 1),
                question: q.question.clone(),
                kind: q.kind,
                answered,
                unanswered: count(n) - answered,
                facility,
                discrimination,
                upper_lower,
                options,
                flags,
            }
        })
        .collect();

    let max_score = count(k);
    ExamStatistics {
        exam_id: bank.exam_id.clone(),
        version,
        title: bank.title.clone(),
        submissions: count(n),
        max_score,
        mean,
        median: median(&totals),
        std_dev,
        kr20,
        histogram: histogram(max_score, &totals),
        questions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bank(n_questions: usize) -> QuestionBank {
        let items: Vec<String> =
            (0..n_questions).map(|i| format!(r#"{{"question": "Q{i}?", "options": ["w", "x", "y"], "correct_answer": "x"}}"#)).collect();
        let json = format!("[{}]", items.join(","));
        QuestionBank::from_json(json.as_bytes(), &ExamId::parse("e").unwrap(), "t").unwrap()
    }

    #[test]
    fn histogram_bins_cover_every_score() {
        let short = histogram(3, &[0, 3, 3]);
        assert_eq!(
            short,
            vec![
                HistogramBin { from: 0, to: 0, count: 1 },
                HistogramBin { from: 1, to: 1, count: 0 },
                HistogramBin { from: 2, to: 2, count: 0 },
                HistogramBin { from: 3, to: 3, count: 2 },
            ]
        );
        assert_eq!(histogram(20, &[]).len(), 21);
        // 0..=25 in bins of ceil(26/10) = 3: 0-2, 3-5, …, 24-25.
        let long = histogram(25, &[0, 2, 3, 25, 24]);
        assert_eq!(long.len(), 9);
        assert_eq!((long[0].from, long[0].to, long[0].count), (0, 2, 2));
        assert_eq!((long[1].from, long[1].to, long[1].count), (3, 5, 1));
        assert_eq!((long[8].from, long[8].to, long[8].count), (24, 25, 2));
        let hundred = histogram(100, &[100]);
        assert_eq!(hundred.len(), 10);
        assert_eq!((hundred[9].from, hundred[9].to, hundred[9].count), (99, 100, 1));
        assert_eq!(histogram(0, &[0]), vec![HistogramBin { from: 0, to: 0, count: 1 }]);
    }

    #[test]
    fn group_sizes_follow_27_percent_with_at_least_one() {
        assert_eq!(group_size(2), 1);
        assert_eq!(group_size(3), 1);
        assert_eq!(group_size(10), 3);
        assert_eq!(group_size(100), 27);
    }

    #[test]
    fn empty_bank_and_no_responses_do_not_panic() {
        let mut b = bank(1);
        b.questions.clear();
        let s = analyse(&b, 1, &[BTreeMap::new()]);
        assert_eq!((s.max_score, s.submissions), (0, 1));
        assert_eq!(s.histogram, vec![HistogramBin { from: 0, to: 0, count: 1 }]);
        assert_eq!(s.kr20, None);
        assert!(serde_json::to_string(&s).is_ok());
    }

    fn answers(pairs: &[(&str, &str)]) -> BTreeMap<QuestionId, OptionId> {
        pairs.iter().map(|(q, o)| (QuestionId::parse(q).unwrap(), OptionId::parse(o).unwrap())).collect()
    }

    #[test]
    fn zero_submissions() {
        let s = analyse(&bank(3), 1, &[]);
        assert_eq!((s.submissions, s.max_score), (0, 3));
        assert_eq!((s.mean, s.median, s.std_dev, s.kr20), (None, None, None, None));
        assert_eq!(s.histogram.len(), 4);
        assert!(s.histogram.iter().all(|b| b.count == 0));
        for q in &s.questions {
            assert_eq!((q.answered, q.unanswered), (0, 0));
            assert_eq!((q.facility, q.discrimination, q.upper_lower), (None, None, None));
            assert!(q.options.iter().all(|o| o.chosen == 0 && o.share == 0.0));
            // No submissions, no evidence that a distractor does not work.
            assert!(q.flags.is_empty());
        }
    }

    #[test]
    fn one_submission() {
        let s = analyse(&bank(2), 1, &[answers(&[("q1", "b"), ("q2", "a")])]);
        assert_eq!((s.mean, s.median, s.std_dev, s.kr20), (Some(1.0), Some(1.0), Some(0.0), None));
        let q1 = &s.questions[0];
        assert_eq!((q1.facility, q1.discrimination, q1.upper_lower), (Some(1.0), None, None));
        assert_eq!(
            q1.flags,
            vec![
                ItemFlag::UnusedDistractor { option_id: OptionId::parse("a").unwrap() },
                ItemFlag::UnusedDistractor { option_id: OptionId::parse("c").unwrap() }
            ]
        );
        let q2 = &s.questions[1];
        assert_eq!(q2.facility, Some(0.0));
        assert_eq!(q2.flags, vec![ItemFlag::UnusedDistractor { option_id: OptionId::parse("c").unwrap() }]);
    }

    #[test]
    fn everyone_right_has_no_variance() {
        let all = answers(&[("q1", "b"), ("q2", "b"), ("q3", "b")]);
        let s = analyse(&bank(3), 1, &[all.clone(), all.clone(), all]);
        assert_eq!((s.mean, s.std_dev, s.kr20), (Some(3.0), Some(0.0), None));
        for q in &s.questions {
            assert_eq!(q.facility, Some(1.0));
            assert_eq!(q.discrimination, None);
            // Upper and lower groups are both right: D is defined and 0.
            assert_eq!(q.upper_lower, Some(0.0));
            assert!(!q.flags.contains(&ItemFlag::NegativeDiscrimination));
        }
    }

    #[test]
    fn unknown_questions_and_foreign_options_count_as_unanswered() {
        let mut tf = bank(1);
        tf.questions[0].options[2].id = OptionId::parse("z").unwrap();
        // "true" is no option of q1, q7 does not exist, "c" is no longer an option of q1.
        let rs = [answers(&[("q1", "true")]), answers(&[("q7", "b")]), answers(&[("q1", "c")]), answers(&[("q1", "b")])];
        let s = analyse(&tf, 1, &rs);
        let q = &s.questions[0];
        assert_eq!((q.answered, q.unanswered), (1, 3));
        assert_eq!(q.facility, Some(0.25));
        assert_eq!(q.options.iter().map(|o| o.chosen).collect::<Vec<_>>(), vec![0, 1, 0]);
        assert_eq!(s.histogram, vec![HistogramBin { from: 0, to: 0, count: 3 }, HistogramBin { from: 1, to: 1, count: 1 }]);
    }

    #[test]
    fn a_negative_correlation_is_flagged() {
        // q1 is right exactly for those who got q2 and q3 wrong.
        let rs = [
            answers(&[("q1", "a"), ("q2", "b"), ("q3", "b")]),
            answers(&[("q1", "a"), ("q2", "b"), ("q3", "b")]),
            answers(&[("q1", "b"), ("q2", "a"), ("q3", "c")]),
            answers(&[("q1", "b"), ("q2", "c"), ("q3", "a")]),
        ];
        let s = analyse(&bank(3), 1, &rs);
        let q1 = &s.questions[0];
        assert!(q1.discrimination.unwrap() < 0.0);
        assert_eq!(
            q1.flags,
            vec![ItemFlag::NegativeDiscrimination, ItemFlag::UnusedDistractor { option_id: OptionId::parse("c").unwrap() }]
        );
        assert_eq!(q1.upper_lower, Some(-1.0));
    }
}
