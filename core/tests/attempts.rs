//! The attempts half of core, without HTTP: deadlines, windows, attempt limits,
//! accommodations, shuffling, review policy and exactly-once submission, with a clock the tests
//! move instead of sleeping.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{ada, o, platform, q};
use exam_core::service::ServiceError;
use exam_domain::Student;
use exam_domain::sitting::StudentOverride;
use serde_json::json;

#[tokio::test]
async fn an_expired_attempt_is_submitted_once_by_the_server_and_late_answers_are_refused() {
    let f = platform().await;
    let id = f.published(3).await;
    f.settings(&id, json!({"time_limit_secs": 60, "grace_secs": 10})).await;
    let attempts = f.platform.attempts();
    let mut state = attempts.open(&id, ada()).await.unwrap();
    assert_eq!(state.deadline.as_deref(), Some("2026-12-01T09:01:00.000Z"));
    attempts.save_answer(&mut state, q("q1"), o("a")).await.unwrap();

    f.clock.advance(Duration::from_secs(65));
    // In the grace period: an answer in flight is still taken, nothing is submitted yet.
    attempts.save_answer(&mut state, q("q2"), o("b")).await.unwrap();
    assert_eq!(attempts.sweep().await, 0);

    f.clock.advance(Duration::from_secs(6));
    let late = attempts.save_answer(&mut state, q("q3"), o("a")).await.unwrap_err();
    assert!(matches!(late, ServiceError::Conflict(ref m) if m.contains("Time is up")), "{late:?}");
    assert_eq!(attempts.sweep().await, 1);
    assert_eq!(attempts.sweep().await, 0, "a second sweep (or replica) submits nothing more");

    let subs = f.platform.submissions(&id).await.unwrap();
    assert_eq!(subs.len(), 1);
    assert!(subs[0].auto_submitted);
    assert_eq!(subs[0].answers.len(), 2, "answers saved before the deadline + grace count; unanswered score zero");
    assert_eq!((subs[0].report.score, subs[0].report.total), (1, 3));
    // The student's own submit racing the sweeper gets the same, single submission.
    let again = attempts.submit(&state, BTreeMap::new(), false).await.unwrap();
    assert!(!again.new);
    assert_eq!(f.platform.submissions(&id).await.unwrap().len(), 1);
    let status = attempts.status(&id, &ada()).await.unwrap();
    assert!(status.in_progress.is_none());
    assert!(status.results[0].auto_submitted);
}

#[tokio::test]
async fn the_window_keeps_attempts_out_before_it_opens_and_closes_running_ones() {
    let f = platform().await;
    let id = f.published(2).await;
    f.settings(&id, json!({"opens_at": "2026-12-01T10:00:00Z", "closes_at": "2026-12-01T11:00:00+00:00", "grace_secs": 0})).await;
    let attempts = f.platform.attempts();
    let early = attempts.open(&id, ada()).await.unwrap_err();
    assert!(early.to_string().contains("opens at 2026-12-01T10:00:00.000Z"), "{early}");
    assert!(!attempts.status(&id, &ada()).await.unwrap().can_start);

    f.clock.advance(Duration::from_secs(3600 + 1800));
    let mut state = attempts.open(&id, ada()).await.unwrap();
    assert_eq!(state.deadline.as_deref(), Some("2026-12-01T11:00:00.000Z"), "untimed, but the close time ends it");
    attempts.save_answer(&mut state, q("q1"), o("a")).await.unwrap();

    f.clock.advance(Duration::from_secs(1801));
    assert_eq!(attempts.sweep().await, 1, "the attempt running at close time is submitted");
    let late = attempts.open(&id, Student::parse("Bo").unwrap()).await.unwrap_err();
    assert!(late.to_string().contains("closed"), "{late}");
    // A student with a later close time (an accommodation) can still start.
    let bo = Student::parse("Bo").unwrap();
    f.platform
        .set_override(&id, &bo, StudentOverride { closes_at: Some("2026-12-01T12:00:00Z".into()), ..Default::default() })
        .await
        .unwrap();
    attempts.open(&id, bo).await.unwrap();
}

#[tokio::test]
async fn attempts_run_out_unless_an_override_gives_more() {
    let f = platform().await;
    let id = f.published(2).await;
    f.settings(&id, json!({"attempts_allowed": 1})).await;
    let attempts = f.platform.attempts();
    let state = attempts.open(&id, ada()).await.unwrap();
    attempts.submit(&state, BTreeMap::new(), false).await.unwrap();
    let refused = attempts.open(&id, ada()).await.unwrap_err();
    assert!(refused.to_string().contains("used all 1 attempt"), "{refused}");
    // The HTTP path obeys the same limit.
    let refused = attempts.submit_answers(&id, ada(), BTreeMap::new()).await.unwrap_err();
    assert!(matches!(refused, ServiceError::Conflict(_)));
    let status = attempts.status(&id, &ada()).await.unwrap();
    assert_eq!((status.attempts_used, status.attempts_left, status.can_start), (1, Some(0), false));

    f.platform.set_override(&id, &ada(), StudentOverride { attempts_allowed: Some(2), ..Default::default() }).await.unwrap();
    let second = attempts.open(&id, ada()).await.unwrap();
    assert_eq!(second.attempt, 2);
}

#[tokio::test]
async fn accommodations_and_live_extensions_move_a_running_deadline() {
    let f = platform().await;
    let id = f.published(2).await;
    f.settings(&id, json!({"time_limit_secs": 600})).await;
    let attempts = f.platform.attempts();
    f.platform.set_override(&id, &ada(), StudentOverride { time_multiplier: Some(1.5), ..Default::default() }).await.unwrap();
    let state = attempts.open(&id, ada()).await.unwrap();
    let deadline = |s| exam_domain::sitting::format_time(s);
    assert_eq!(attempts.deadline(&state).await.unwrap().map(deadline).as_deref(), Some("2026-12-01T09:15:00.000Z"));
    f.platform.extend(&id, &ada(), 120).await.unwrap();
    assert_eq!(attempts.deadline(&state).await.unwrap().map(deadline).as_deref(), Some("2026-12-01T09:17:00.000Z"));
    // The teacher raising the exam's limit does not change an attempt already running.
    f.settings(&id, json!({"time_limit_secs": 6000})).await;
    assert_eq!(attempts.deadline(&state).await.unwrap().map(deadline).as_deref(), Some("2026-12-01T09:17:00.000Z"));
    let sitting = f.platform.attempts().sitting(&id).await.unwrap();
    assert_eq!(sitting.in_progress.len(), 1);
    assert_eq!(sitting.in_progress[0].seconds_left, Some(17 * 60));
}

#[tokio::test]
async fn shuffles_are_stable_for_an_attempt_and_differ_between_attempts() {
    let f = platform().await;
    let id = f.published(12).await;
    f.settings(&id, json!({"shuffle_questions": true, "shuffle_options": true})).await;
    let attempts = f.platform.attempts();
    let first = attempts.open(&id, ada()).await.unwrap();
    let again = attempts.open(&id, ada()).await.unwrap();
    assert_eq!(first.question_order, again.question_order, "a reload resumes the same order");
    assert_eq!(first.question_order.len(), 12);
    let paper = attempts.attempt_paper(&first).await.unwrap();
    assert_eq!(paper.questions.iter().map(|q| q.id.clone()).collect::<Vec<_>>(), first.question_order);
    attempts.submit(&first, BTreeMap::new(), false).await.unwrap();
    let second = attempts.open(&id, ada()).await.unwrap();
    assert_ne!(first.question_order, second.question_order);
    // Grading is by ids: answering the first option of the shuffled paper is graded by its id.
    let mut s = second.clone();
    let shown = attempts.attempt_paper(&second).await.unwrap();
    for pq in &shown.questions {
        attempts.save_answer(&mut s, pq.id.clone(), o("a")).await.unwrap();
    }
    let done = attempts.submit(&s, BTreeMap::new(), false).await.unwrap();
    assert_eq!(done.record.report.score, 12);
}

#[tokio::test]
async fn results_stay_hidden_until_the_teacher_releases_them() {
    let f = platform().await;
    let id = f.published(2).await;
    f.settings(&id, json!({"review": {"show": "answers", "when": "on_release"}})).await;
    let attempts = f.platform.attempts();
    let mut state = attempts.open(&id, ada()).await.unwrap();
    attempts.save_answer(&mut state, q("q1"), o("a")).await.unwrap();
    let done = attempts.submit(&state, BTreeMap::new(), false).await.unwrap();
    let hidden = serde_json::to_string(&done.report).unwrap();
    assert!(!done.report.released && done.report.score.is_none() && done.report.results.is_empty(), "{hidden}");
    assert!(!hidden.contains("right 1"), "{hidden}");
    let status = serde_json::to_string(&attempts.status(&id, &ada()).await.unwrap()).unwrap();
    assert!(!status.contains("\"score\"") && !status.contains("right"), "{status}");

    f.platform.release_results(&id).await.unwrap();
    let shown = &attempts.status(&id, &ada()).await.unwrap().results[0];
    assert_eq!(shown.score, Some(1));
    assert_eq!(shown.results[0].chosen_text.as_deref(), Some("right 1"));
    assert_eq!(shown.results[1].correct_text, None, "answers, not the key");
}

#[tokio::test]
async fn after_close_results_appear_when_the_exam_closes() {
    let f = platform().await;
    let id = f.published(1).await;
    f.settings(&id, json!({"review": {"show": "correct", "when": "after_close"}})).await;
    let attempts = f.platform.attempts();
    let state = attempts.open(&id, ada()).await.unwrap();
    let done = attempts.submit(&state, BTreeMap::new(), false).await.unwrap();
    assert!(!done.report.released);
    f.platform.close_now(&id).await.unwrap();
    let r = &attempts.status(&id, &ada()).await.unwrap().results[0];
    assert!(r.released);
    assert_eq!(r.results[0].correct_text.as_deref(), Some("right 1"));
}

#[tokio::test]
async fn two_tabs_keep_each_others_answers_and_submit_once() {
    let f = platform().await;
    let id = f.published(3).await;
    let attempts = f.platform.attempts();
    let mut tab_a = attempts.open(&id, ada()).await.unwrap();
    let mut tab_b = attempts.open(&id, ada()).await.unwrap();
    attempts.save_answer(&mut tab_a, q("q1"), o("a")).await.unwrap();
    attempts.save_answer(&mut tab_b, q("q2"), o("a")).await.unwrap();
    let reloaded = attempts.open(&id, ada()).await.unwrap();
    assert_eq!(reloaded.answers.len(), 2, "both acknowledged answers are stored");
    let (a, b) = tokio::join!(attempts.submit(&tab_a, BTreeMap::new(), false), attempts.submit(&tab_b, BTreeMap::new(), false));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(u8::from(a.new) + u8::from(b.new), 1);
    assert_eq!(a.record.attempt, b.record.attempt);
    assert_eq!(f.platform.submissions(&id).await.unwrap().len(), 1);
    // A stale tab cannot answer into the submitted attempt or recreate it.
    let stale = attempts.save_answer(&mut tab_a, q("q3"), o("a")).await.unwrap_err();
    assert!(stale.to_string().contains("already been submitted"), "{stale}");
    assert!(attempts.status(&id, &ada()).await.unwrap().in_progress.is_none());
}

#[tokio::test]
async fn the_http_submit_checks_answers_against_the_paper() {
    let f = platform().await;
    let id = f.published(2).await;
    let attempts = f.platform.attempts();
    let bad = [(q("q9"), o("a"))].into_iter().collect();
    let e = attempts.submit_answers(&id, ada(), bad).await.unwrap_err();
    assert!(matches!(e, ServiceError::Invalid { ref field, .. } if field == "answers"), "{e:?}");
    let good = [(q("q1"), o("a"))].into_iter().collect();
    let done = attempts.submit_answers(&id, ada(), good).await.unwrap();
    assert_eq!(done.record.report.score, 1);
    assert_eq!(done.report.score, Some(1));
}

#[tokio::test]
async fn the_kept_grade_follows_the_grade_policy() {
    let f = platform().await;
    let id = f.published(2).await;
    let attempts = f.platform.attempts();
    for answers in [vec![("q1", "a")], vec![("q1", "a"), ("q2", "a")], vec![]] {
        let a = answers.into_iter().map(|(x, y)| (q(x), o(y))).collect();
        attempts.submit_answers(&id, ada(), a).await.unwrap();
    }
    let subs = f.platform.submissions(&id).await.unwrap();
    let kept = |f: &common::Fixture| {
        let subs = subs.clone();
        let p = f.platform.clone();
        let id = id.clone();
        async move { p.kept(&id, &subs).await.unwrap().into_iter().map(|(_, a)| a).collect::<Vec<_>>() }
    };
    assert_eq!(kept(&f).await, vec![2], "highest by default");
    f.settings(&id, json!({"grade": "latest"})).await;
    assert_eq!(kept(&f).await, vec![3]);
    f.settings(&id, json!({"grade": "first"})).await;
    assert_eq!(kept(&f).await, vec![1]);
}

#[tokio::test]
async fn settings_are_validated_and_name_the_field() {
    let f = platform().await;
    let id = f.published(1).await;
    let e = f.platform.put_settings(&id, &json!({"grace_secs": -1})).await.unwrap_err();
    assert!(matches!(e, ServiceError::Invalid { ref field, .. } if field == "grace_secs"), "{e:?}");
    let s = f.platform.settings(&id).await.unwrap();
    assert_eq!((s.grace_secs, s.pass_mark, s.time_limit_secs), (30, 50, None), "defaults");
    // The exam's pass mark grades its submissions.
    f.settings(&id, json!({"pass_mark": 100})).await;
    let done = f.platform.attempts().submit_answers(&id, ada(), BTreeMap::new()).await.unwrap();
    assert_eq!(done.record.report.pass_mark, 100);
}
