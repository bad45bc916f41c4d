//! The whole embedded flow over the HTTP contract and the WebSockets: upload → live stages →
//! review → publish → take (autosave, resume) → submit → results.

use crate::common;

use std::collections::HashMap;

use common::{fixture, spawn_app};
use serde_json::{Value, json};

fn correct_answers(questions: &Value) -> HashMap<String, String> {
    questions
        .as_array()
        .unwrap()
        .iter()
        .map(|q| (q["id"].as_str().unwrap().to_owned(), q["correct_option"].as_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teacher_uploads_reviews_publishes_and_sees_a_student_submit() {
    let app = spawn_app().await;
    let mut live = app.ws("/api/v1/live").await;

    let r = app
        .upload(
            "lecture.pdf",
            fixture("lecture.pdf"),
            &[("mcq", "5"), ("options", "4"), ("true_false", "3"), ("title", "History of computing")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 202);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["status"], "generating");
    assert_eq!(created["title"], "History of computing");
    let id = created["id"].as_str().unwrap().to_owned();

    // Every stage is pushed, in order, ending in draft.
    let mut stages = Vec::new();
    let ready = live
        .until(|f| f["type"] == "exam_status" && f["exam_id"] == id.as_str() && matches!(f["stage"].as_str(), Some("ready" | "failed")))
        .await;
    for f in &live.seen {
        let v: Value = serde_json::from_str(f).unwrap();
        if v["exam_id"] == id.as_str() {
            stages.push(v["stage"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(stages, ["stored", "extracting", "generating", "ready"], "{:?}", live.seen);
    assert_eq!(ready["status"], "draft");
    assert_eq!(ready["question_count"], 8);

    let (_, list) = app.get_json("/api/v1/exams").await;
    let entry = list.as_array().unwrap().iter().find(|e| e["id"] == id.as_str()).unwrap();
    assert_eq!(entry["status"], "draft");
    assert_eq!(entry["question_count"], 8);
    assert!(entry["created_at"].as_str().unwrap().starts_with("20"));

    // The teacher sees every question with its key and its source.
    let (status, teacher) = app.get_json(&format!("/api/v1/exams/{id}/questions")).await;
    assert_eq!(status, 200);
    let questions = &teacher["questions"];
    assert_eq!(questions.as_array().unwrap().len(), 8);
    let mcq = questions.as_array().unwrap().iter().filter(|q| q["kind"] == "multiple_choice").count();
    assert_eq!(mcq, 5);
    for q in questions.as_array().unwrap() {
        assert!(q["source"]["page"].as_u64().unwrap() >= 1);
        assert!(!q["source"]["quote"].as_str().unwrap().is_empty());
        let correct = q["correct_option"].as_str().unwrap();
        assert!(q["options"].as_array().unwrap().iter().any(|o| o["id"] == correct));
        if q["kind"] == "multiple_choice" {
            assert_eq!(q["options"].as_array().unwrap().len(), 4);
        }
    }

    // Students cannot see a draft: there is nothing to join yet, and the paper needs a join.
    let mut ada = app.browser();
    assert_eq!(ada.join(&app, &id, "Ada Lovelace").await.0, 404);
    assert_eq!(ada.get_json(&format!("/api/v1/exams/{id}")).await.0, 401);
    let (status, published) = app.post_json(&format!("/api/v1/exams/{id}/publish"), &json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(published["status"], "published");
    live.until(|f| f["exam_id"] == id.as_str() && f["status"] == "published").await;

    // The student joins with the code; their paper carries no key.
    let (status, joined) = ada.join(&app, &id, "Ada Lovelace").await;
    assert_eq!(status, 200, "{joined}");
    let r = ada.get(&format!("/api/v1/exams/{id}")).await;
    assert_eq!(r.status().as_u16(), 200);
    let paper_text = r.text().await.unwrap();
    for leak in ["correct", "source", "quote", "explanation"] {
        assert!(!paper_text.contains(leak), "paper leaks {leak}");
    }
    let paper: Value = serde_json::from_str(&paper_text).unwrap();
    assert_eq!(paper["questions"].as_array().unwrap().len(), 8);

    // A student gets everything right except one.
    let mut answers = correct_answers(questions);
    let (wrong_q, right) = answers.iter().next().map(|(q, o)| (q.clone(), o.clone())).unwrap();
    let wrong_option = questions.as_array().unwrap().iter().find(|q| q["id"] == wrong_q.as_str()).unwrap()["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .find(|o| *o != right)
        .unwrap();
    answers.insert(wrong_q.clone(), wrong_option);
    let (status, result) = ada.post_json(&format!("/api/v1/exams/{id}/submissions"), &json!({"answers": answers})).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!((result["score"].as_u64(), result["total"].as_u64()), (Some(7), Some(8)));
    assert_eq!(result["percent"], 87.5);
    assert_eq!(result["passed"], true);
    assert_eq!(result["attempt"], 1);
    let r = result["results"].as_array().unwrap().iter().find(|r| r["question_id"] == wrong_q.as_str()).unwrap();
    assert_eq!(r["is_correct"], false);
    assert_eq!(r["correct"], right.as_str());

    let sub = live.until(|f| f["type"] == "submission").await;
    assert_eq!(sub["exam_id"], id.as_str());
    // The live feed reaches every browser: it says results changed, never who scored what.
    assert!(sub.get("student").is_none() && sub.get("score").is_none(), "{sub}");
    assert_eq!(sub["attempt"], 1);

    // A second attempt never overwrites the first. The same browser joining again with the name
    // typed differently is still the same student.
    let (status, again) = ada.join(&app, &id, "ada lovelace ").await;
    assert_eq!((status, again["student"].as_str()), (200, Some("Ada Lovelace")), "{again}");
    let (_, second) = ada.post_json(&format!("/api/v1/exams/{id}/submissions"), &json!({"answers": {}})).await;
    assert_eq!(second["attempt"], 2);
    assert_eq!(second["score"], 0);
    assert_eq!(second["passed"], false);
    let (_, subs) = app.get_json(&format!("/api/v1/exams/{id}/submissions")).await;
    let subs = subs.as_array().unwrap();
    assert_eq!(subs.len(), 2);
    assert_eq!(subs[0]["report"]["score"], 7);
    assert_eq!(subs[1]["attempt"], 2);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_student_attempt_autosaves_resumes_and_only_the_result_carries_the_key() {
    let app = spawn_app().await;
    let created: Value = app
        .upload("lecture.pdf", fixture("lecture.pdf"), &[("mcq", "3"), ("options", "3"), ("true_false", "2")])
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(app.wait_until_settled(&id).await["status"], "draft");
    let (_, teacher) = app.get_json(&format!("/api/v1/exams/{id}/questions")).await;
    let key = correct_answers(&teacher["questions"]);

    // Not published yet: nobody can join, so the attempt is refused before the upgrade.
    let mut bo = app.browser();
    assert_eq!(bo.join(&app, &id, "Bo").await.0, 404);
    assert_eq!(bo.try_ws(&format!("/api/v1/exams/{id}/attempt")).await.err(), Some(401));
    app.post_json(&format!("/api/v1/exams/{id}/publish"), &json!({})).await;

    let grace = app.student(&id, "Grace Hopper").await;
    let path = format!("/api/v1/exams/{id}/attempt");
    let mut ws = grace.ws(&path).await;
    let first = ws.next_json().await.unwrap();
    assert_eq!(first["type"], "resumed");
    assert_eq!(first["attempt"], 1);
    assert_eq!(first["answers"], json!({}));
    let (q1, o1) = key.iter().next().unwrap();
    ws.send_json(&json!({"type": "answer", "question_id": q1, "option_id": o1})).await;
    let saved = ws.next_json().await.unwrap();
    assert_eq!(saved, json!({"type": "saved", "question_id": q1, "option_id": o1}));
    // Bad input is an error frame; the connection stays usable.
    ws.send_json(&json!({"type": "answer", "question_id": q1, "option_id": "zz"})).await;
    assert_eq!(ws.next_json().await.unwrap()["type"], "error");
    ws.send_json(&json!({"type": "nonsense"})).await;
    assert_eq!(ws.next_json().await.unwrap()["type"], "error");
    let before_submit: Vec<String> = ws.seen.clone();
    drop(ws);

    // Coming back (another tab, a reload: the same browser) resumes with the saved answer.
    let mut ws = grace.ws(&path).await;
    let resumed = ws.next_json().await.unwrap();
    assert_eq!(resumed["type"], "resumed");
    assert_eq!(resumed["answers"], json!({ q1.clone(): o1 }));
    // Answer the rest correctly and submit.
    for (q, o) in key.iter().skip(1) {
        ws.send_json(&json!({"type": "answer", "question_id": q, "option_id": o})).await;
        assert_eq!(ws.next_json().await.unwrap()["type"], "saved");
    }
    let mut all_before: Vec<String> = before_submit;
    all_before.extend(ws.seen.iter().cloned());
    ws.send_json(&json!({"type": "submit"})).await;
    let result = ws.next_json().await.unwrap();
    assert_eq!(result["type"], "result");
    assert_eq!(result["report"]["score"], 5);
    assert_eq!(result["report"]["passed"], true);

    // Nothing before the result told the browser which option is correct.
    for frame in &all_before {
        assert!(!frame.contains("correct"), "frame before submission leaks the key: {frame}");
    }
    // The submission is stored and the autosave is gone: a new attempt starts fresh.
    let (_, subs) = app.get_json(&format!("/api/v1/exams/{id}/submissions")).await;
    assert_eq!(subs.as_array().unwrap().len(), 1);
    assert_eq!(subs[0]["student"], "Grace Hopper");
    let mut ws = grace.ws(&path).await;
    let again = ws.next_json().await.unwrap();
    assert_eq!(again["attempt"], 2);
    assert_eq!(again["answers"], json!({}));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let app = common::spawn_with(common::settings(dir.path())).await;
    let created: Value =
        app.upload("lecture.pdf", fixture("lecture.pdf"), &[("mcq", "2"), ("true_false", "1")]).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    app.wait_until_settled(&id).await;
    app.post_json(&format!("/api/v1/exams/{id}/publish"), &json!({})).await;
    let alan = app.student(&id, "Alan").await;
    assert_eq!(alan.post_json(&format!("/api/v1/exams/{id}/submissions"), &json!({"answers": {}})).await.0, 200);
    let mut kat = app.student(&id, "Kat").await;
    let mut ws = kat.ws(&format!("/api/v1/exams/{id}/attempt")).await;
    ws.next_json().await;
    ws.send_json(&json!({"type": "answer", "question_id": "q1", "option_id": "a"})).await;
    assert_eq!(ws.next_json().await.unwrap()["type"], "saved");
    drop(ws);
    app.stop().await;

    let app = common::spawn_with(common::settings(dir.path())).await;
    let (_, list) = app.get_json("/api/v1/exams").await;
    let e = list.as_array().unwrap().iter().find(|e| e["id"] == id.as_str()).unwrap().clone();
    assert_eq!(e["status"], "published");
    assert_eq!(e["question_count"], 3);
    assert_eq!(e["submissions"], 1);
    // Kat's browser is still Kat after the restart (the session is in the store), and joining
    // again from it as "kat" stays the same student.
    kat.addr = app.addr.clone();
    let mut ws = kat.ws(&format!("/api/v1/exams/{id}/attempt")).await;
    assert_eq!(ws.next_json().await.unwrap()["answers"], json!({"q1": "a"}));
    drop(ws);
    let (status, again) = kat.join(&app, &id, "kat").await;
    assert_eq!((status, again["student"].as_str()), (200, Some("Kat")), "{again}");
    let mut ws = kat.ws(&format!("/api/v1/exams/{id}/attempt")).await;
    assert_eq!(ws.next_json().await.unwrap()["answers"], json!({"q1": "a"}));
    app.stop().await;
}
