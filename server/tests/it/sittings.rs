//! Exam sittings through the real gateway (HTTP + WebSockets): time limits submitted by the
//! server with no browser connected (also with two gateways racing on one store), answers after
//! the deadline, the window, attempt limits, accommodations, shuffles, the review policy in
//! every student-facing frame and response, and item statistics.

use crate::common;

use std::time::Duration;

use common::{StudentBrowser, TestApp, spawn_app, spawn_with};
use serde_json::{Value, json};

/// `n` four-option questions; the key of each is "right <i>", a text no distractor contains.
fn bank(n: usize) -> Vec<u8> {
    let qs: Vec<Value> = (1..=n)
        .map(|i| json!({"question": format!("Question {i}?"), "options": [format!("right {i}"), "w1", "w2", "w3"], "correct_answer": format!("right {i}")}))
        .collect();
    serde_json::to_vec(&qs).unwrap()
}

async fn published(app: &TestApp, n: usize) -> String {
    let r = app.upload("bank.json", bank(n), &[]).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let (status, _) = app.post_json(&format!("/api/v1/exams/{id}/publish"), &json!({})).await;
    assert_eq!(status, 200);
    id
}

async fn put(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    let r = app.client.put(app.url(path)).json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn settings(app: &TestApp, id: &str, body: Value) {
    let (status, v) = put(app, &format!("/api/v1/exams/{id}/settings"), body).await;
    assert_eq!(status, 200, "{v}");
}

/// Submits an attempt with no answers as the student `who`'s browser joined `id` as.
async fn submit(who: &StudentBrowser, id: &str) -> (u16, Value) {
    who.post_json(&format!("/api/v1/exams/{id}/submissions"), &json!({})).await
}

async fn wait_for_submissions(app: &TestApp, id: &str, n: usize) -> Vec<Value> {
    for _ in 0..150 {
        let (_, subs) = app.get_json(&format!("/api/v1/exams/{id}/submissions")).await;
        if subs.as_array().is_some_and(|a| a.len() >= n) {
            return subs.as_array().unwrap().clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("fewer than {n} submissions after 15 s");
}

#[tokio::test]
async fn a_five_second_limit_is_submitted_by_the_server_with_no_browser_connected() {
    let app = spawn_app().await;
    let id = published(&app, 3).await;
    settings(&app, &id, json!({"time_limit_secs": 5, "grace_secs": 0})).await;
    let ada = app.student(&id, "Ada").await;
    let mut ws = ada.ws(&format!("/api/v1/exams/{id}/attempt")).await;
    let resumed = ws.until(|v| v["type"] == "resumed").await;
    let deadline = resumed["deadline"].as_str().expect("a timed attempt has a deadline").to_owned();
    assert!(resumed["server_time"].as_str().unwrap() < deadline.as_str());
    ws.send_json(&json!({"type": "answer", "question_id": "q1", "option_id": "a"})).await;
    ws.until(|v| v["type"] == "saved").await;
    drop(ws);

    let subs = wait_for_submissions(&app, &id, 1).await;
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0]["auto_submitted"], true);
    assert_eq!((subs[0]["report"]["score"].as_u64(), subs[0]["report"]["total"].as_u64()), (Some(1), Some(3)));
    assert!(subs[0]["submitted_at"].as_str().unwrap() >= deadline.as_str());
    // Coming back (the same browser), the student sees the automatic submission and its result.
    let (_, status) = ada.get_json(&format!("/api/v1/exams/{id}/status")).await;
    assert!(status["in_progress"].is_null(), "{status}");
    assert_eq!(status["results"][0]["auto_submitted"], true);
    assert_eq!(status["results"][0]["score"], 1);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(wait_for_submissions(&app, &id, 1).await.len(), 1, "submitted exactly once");
}

#[tokio::test]
async fn two_gateways_racing_on_one_store_submit_an_expired_attempt_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = common::settings(dir.path());
    s.sweep_interval = Duration::from_millis(200);
    let a = spawn_with(s.clone()).await;
    let id = published(&a, 2).await;
    settings(&a, &id, json!({"time_limit_secs": 2, "grace_secs": 0})).await;
    // The second replica starts after publication, so its catalog (rebuilt from the store)
    // knows the exam; both sweep the same attempts every 200 ms.
    let b = spawn_with(s).await;
    let grace = b.student(&id, "Grace").await;
    let mut ws = grace.ws(&format!("/api/v1/exams/{id}/attempt")).await;
    ws.until(|v| v["type"] == "resumed").await;
    drop(ws);
    let subs = wait_for_submissions(&a, &id, 1).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (_, all) = b.get_json(&format!("/api/v1/exams/{id}/submissions")).await;
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");
    assert_eq!(subs[0]["auto_submitted"], true);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_connected_student_gets_the_result_when_time_is_up_and_late_answers_do_not_count() {
    let app = spawn_app().await;
    let id = published(&app, 2).await;
    settings(&app, &id, json!({"time_limit_secs": 2, "grace_secs": 0, "attempts_allowed": 1})).await;
    let alan = app.student(&id, "Alan").await;
    let mut ws = alan.ws(&format!("/api/v1/exams/{id}/attempt")).await;
    ws.until(|v| v["type"] == "resumed").await;
    ws.send_json(&json!({"type": "answer", "question_id": "q1", "option_id": "a"})).await;
    ws.until(|v| v["type"] == "saved").await;
    let result = ws.until(|v| v["type"] == "result").await;
    assert_eq!(result["report"]["auto_submitted"], true);
    assert_eq!(result["report"]["score"], 1);
    // A script posting every answer after the deadline changes nothing.
    let (status, body) = alan.post_json(&format!("/api/v1/exams/{id}/submissions"), &json!({"answers": {"q1": "a", "q2": "a"}})).await;
    assert_eq!(status, 409, "{body}");
    let subs = wait_for_submissions(&app, &id, 1).await;
    assert_eq!((subs.len(), subs[0]["answers"].as_object().unwrap().len()), (1, 1));
}

#[tokio::test]
async fn the_window_and_the_attempt_limit_refuse_with_reasons() {
    let app = spawn_app().await;
    let id = published(&app, 1).await;
    settings(&app, &id, json!({"opens_at": "2999-01-01T09:00:00+01:00"})).await;
    // A student can join before the window opens, but not start.
    let ada = app.student(&id, "Ada").await;
    let attempt = format!("/api/v1/exams/{id}/attempt");
    let r = ada.get(&attempt).await;
    assert_eq!(r.status(), 409);
    assert!(r.json::<Value>().await.unwrap()["error"].as_str().unwrap().contains("opens at 2999-01-01T08:00:00.000Z"));
    let (_, status) = ada.get_json(&format!("/api/v1/exams/{id}/status")).await;
    assert_eq!((status["window"]["state"].as_str(), status["can_start"].as_bool()), (Some("not_yet_open"), Some(false)));

    settings(&app, &id, json!({"opens_at": null, "closes_at": "2001-01-01T00:00:00Z"})).await;
    let (code, body) = ada.post_json(&format!("/api/v1/exams/{id}/submissions"), &json!({})).await;
    assert_eq!(code, 409, "{body}");
    assert!(body["error"].as_str().unwrap().contains("closed"));

    settings(&app, &id, json!({"closes_at": null, "attempts_allowed": 1})).await;
    let bo = app.student(&id, "Bo").await;
    assert_eq!(submit(&ada, &id).await.0, 200);
    let (code, body) = submit(&ada, &id).await;
    assert_eq!(code, 409);
    assert!(body["error"].as_str().unwrap().contains("used all 1 attempt"));
    // An accommodation: Ada may sit twice.
    let (code, o) = put(&app, &format!("/api/v1/exams/{id}/overrides/Ada"), json!({"attempts_allowed": 2})).await;
    assert_eq!(code, 200, "{o}");
    assert_eq!(submit(&ada, &id).await.0, 200);
    assert_eq!(submit(&bo, &id).await.0, 200);
    assert_eq!(submit(&bo, &id).await.0, 409);
}

#[tokio::test]
async fn settings_errors_name_the_field() {
    let app = spawn_app().await;
    let id = published(&app, 1).await;
    for (body, field) in [
        (json!({"time_limit_secs": 0}), "time_limit_secs"),
        (json!({"review": {"when": "later"}}), "review.when"),
        (json!({"pass_mark": 200}), "pass_mark"),
        (json!({"opens_at": "yesterday"}), "opens_at"),
        (json!({"shuffle_questions": "yes"}), "shuffle_questions"),
    ] {
        let (code, v) = put(&app, &format!("/api/v1/exams/{id}/settings"), body).await;
        assert_eq!((code, v["field"].as_str()), (422, Some(field)), "{v}");
    }
    let (_, s) = app.get_json(&format!("/api/v1/exams/{id}/settings")).await;
    assert_eq!(
        s,
        json!({"time_limit_secs": null, "grace_secs": 30, "opens_at": null, "closes_at": null, "attempts_allowed": null,
        "grade": "highest", "shuffle_questions": false, "shuffle_options": false, "review": {"show": "correct", "when": "immediately"}, "pass_mark": 50,
        "require_sign_in": false})
    );
}

#[tokio::test]
async fn extending_a_running_attempt_moves_its_deadline_live() {
    let app = spawn_app().await;
    let id = published(&app, 1).await;
    settings(&app, &id, json!({"time_limit_secs": 600})).await;
    let ada = app.student(&id, "Ada").await;
    let mut ws = ada.ws(&format!("/api/v1/exams/{id}/attempt")).await;
    let first = ws.until(|v| v["type"] == "resumed").await["deadline"].as_str().unwrap().to_owned();
    let (code, _) = app.post_json(&format!("/api/v1/exams/{id}/attempts/Ada/extend"), &json!({"secs": 300})).await;
    assert_eq!(code, 200);
    let moved = ws.until(|v| v["type"] == "deadline").await;
    let later = moved["deadline"].as_str().unwrap();
    assert!(later > first.as_str(), "{first} → {later}");
    let (_, sitting) = app.get_json(&format!("/api/v1/exams/{id}/sitting")).await;
    assert_eq!(sitting["in_progress"][0]["student"], "Ada");
    assert!(sitting["in_progress"][0]["seconds_left"].as_i64().unwrap() > 850);
    // Closing the exam ends the attempt now (grace 30 s): the deadline moves to the close time.
    let (code, _) = app.post_json(&format!("/api/v1/exams/{id}/close"), &json!({})).await;
    assert_eq!(code, 200);
    let closed = ws.until(|v| v["type"] == "deadline").await;
    assert!(closed["deadline"].as_str().unwrap() < first.as_str());
}

#[tokio::test]
async fn shuffles_are_stable_per_attempt_and_differ_across_attempts() {
    let app = spawn_app().await;
    let id = published(&app, 12).await;
    settings(&app, &id, json!({"shuffle_questions": true, "shuffle_options": true})).await;
    let ada = app.student(&id, "Ada").await;
    let path = format!("/api/v1/exams/{id}/attempt");
    let mut ws = ada.ws(&path).await;
    let one = ws.until(|v| v["type"] == "resumed").await;
    drop(ws);
    let mut again = ada.ws(&path).await;
    let same = again.until(|v| v["type"] == "resumed").await;
    assert_eq!(one["question_order"], same["question_order"]);
    assert_eq!(one["option_order"], same["option_order"]);
    let order: Vec<&str> = one["question_order"].as_array().unwrap().iter().map(|q| q.as_str().unwrap()).collect();
    let mut sorted = order.clone();
    sorted.sort_unstable();
    let mut all: Vec<String> = (1..=12).map(|i| format!("q{i}")).collect();
    all.sort_unstable();
    assert_eq!(sorted, all.iter().map(String::as_str).collect::<Vec<_>>());
    again.send_json(&json!({"type": "submit"})).await;
    again.until(|v| v["type"] == "result").await;
    let mut second = ada.ws(&path).await;
    let next = second.until(|v| v["type"] == "resumed").await;
    assert_eq!(next["attempt"], 2);
    assert_ne!(next["question_order"], one["question_order"]);
}

/// Every frame and response a student's browser can receive, as text (`who` submits over the
/// socket, a second browser joined as "<name> 2" over HTTP).
async fn student_sees(app: &TestApp, id: &str, who: &StudentBrowser) -> Vec<String> {
    let mut seen = Vec::new();
    let (_, paper) = who.get_json(&format!("/api/v1/exams/{id}")).await;
    seen.push(paper.to_string());
    let mut ws = who.ws(&format!("/api/v1/exams/{id}/attempt")).await;
    ws.until(|v| v["type"] == "resumed").await;
    for q in 1..=3 {
        ws.send_json(&json!({"type": "answer", "question_id": format!("q{q}"), "option_id": "a"})).await;
        ws.until(|v| v["type"] == "saved").await;
    }
    ws.send_json(&json!({"type": "submit"})).await;
    ws.until(|v| v["type"] == "result").await;
    seen.extend(ws.seen.clone());
    let (_, status) = who.get_json(&format!("/api/v1/exams/{id}/status")).await;
    seen.push(status.to_string());
    let other = app.student(id, &format!("{} 2", who.student)).await;
    let (_, http) = other.post_json(&format!("/api/v1/exams/{id}/submissions"), &json!({"answers": {"q1": "b"}})).await;
    seen.push(http.to_string());
    let page = who.get(&format!("/exams/{id}")).await.text().await.unwrap();
    seen.push(page);
    seen
}

#[tokio::test]
async fn the_review_policy_holds_in_every_student_facing_frame_and_response() {
    let app = spawn_app().await;
    let id = published(&app, 3).await;
    settings(&app, &id, json!({"review": {"show": "answers", "when": "on_release"}})).await;
    let mut live = app.ws("/api/v1/live").await;
    let ada = app.student(&id, "Ada").await;
    let before = student_sees(&app, &id, &ada).await;
    for text in &before {
        assert!(!text.contains("\"score\""), "a score before release: {text}");
        assert!(!text.contains("correct"), "a key field before release: {text}");
        // The students chose "right 1" (option a) themselves, but the frames only echo ids.
        assert!(!text.contains("right 2\",\"is_correct") && !text.contains("correct_text"), "{text}");
    }
    let (code, _) = app.post_json(&format!("/api/v1/exams/{id}/release"), &json!({})).await;
    assert_eq!(code, 200);
    let (_, status) = ada.get_json(&format!("/api/v1/exams/{id}/status")).await;
    let r = &status["results"][0];
    assert_eq!((r["released"].as_bool(), r["score"].as_u64()), (Some(true), Some(3)));
    assert_eq!(r["results"][0]["chosen_text"], "right 1");
    assert!(r["results"][0].get("correct_text").is_none(), "show = answers: never the key");
    // Submission frames on the shared live feed never carried answers either.
    let _ = tokio::time::timeout(Duration::from_millis(300), live.next_json()).await;
    assert!(live.seen.iter().all(|f| !f.contains("right ")), "{:?}", live.seen);

    settings(&app, &id, json!({"review": {"show": "correct", "when": "immediately"}})).await;
    let (_, status) = ada.get_json(&format!("/api/v1/exams/{id}/status")).await;
    assert_eq!(status["results"][0]["results"][1]["correct_text"], "right 2");
}

#[tokio::test]
async fn statistics_of_seeded_submissions() {
    let app = spawn_app().await;
    let id = published(&app, 2).await;
    // Four students: q1 right for the two strongest, q2 right for everyone but one.
    for (who, answers) in [
        ("S1", json!({"q1": "a", "q2": "a"})),
        ("S2", json!({"q1": "a", "q2": "a"})),
        ("S3", json!({"q1": "b", "q2": "a"})),
        ("S4", json!({"q1": "c", "q2": "b"})),
    ] {
        let student = app.student(&id, who).await;
        let (code, _) = student.post_json(&format!("/api/v1/exams/{id}/submissions"), &json!({"answers": answers})).await;
        assert_eq!(code, 200);
    }
    let (code, stats) = app.get_json(&format!("/api/v1/exams/{id}/statistics")).await;
    assert_eq!(code, 200, "{stats}");
    assert_eq!((stats["submissions"].as_u64(), stats["max_score"].as_u64(), stats["version"].as_u64()), (Some(4), Some(2), Some(1)));
    assert_eq!(stats["mean"], 1.25);
    let q1 = &stats["questions"][0];
    assert_eq!(q1["facility"], 0.5);
    let chosen: Vec<u64> = q1["options"].as_array().unwrap().iter().map(|o| o["chosen"].as_u64().unwrap()).collect();
    assert_eq!(chosen, vec![2, 1, 1, 0]);
    assert!(q1["flags"].as_array().unwrap().iter().any(|f| f["type"] == "unused_distractor" && f["option_id"] == "d"));
    assert_eq!(stats["histogram"].as_array().unwrap().iter().map(|b| b["count"].as_u64().unwrap()).collect::<Vec<_>>(), vec![1, 1, 2]);
    let csv = app.client.get(app.url(&format!("/api/v1/exams/{id}/statistics.csv"))).send().await.unwrap();
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    assert!(text.starts_with("position,question_id,question,facility"), "{text}");
    assert_eq!(text.lines().count(), 3);
}
