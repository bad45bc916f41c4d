//! Review, versioning, import and export over the HTTP API: the teacher edits a draft,
//! publishes, edits the published exam (a new draft), publishes version 2; submissions and
//! open attempts keep the version they were started on.

use crate::common;

use common::{fixture, spawn_app};
use serde_json::{Value, json};

async fn upload_json(app: &common::TestApp, name: &str, body: &str, accept: &str) -> reqwest::Response {
    let part = reqwest::multipart::Part::bytes(body.as_bytes().to_vec()).file_name(name.to_owned()).mime_str("application/json").unwrap();
    let form = reqwest::multipart::Form::new().text("title", "").part("file", part);
    let client = common::client_with(&app.token, false);
    client.post(app.url("/api/v1/exams")).header("accept", accept).multipart(form).send().await.unwrap()
}

async fn send(app: &common::TestApp, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut r = app.client.request(method, app.url(path));
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn ids(t: &Value) -> Vec<String> {
    t["questions"].as_array().unwrap().iter().map(|q| q["id"].as_str().unwrap().to_owned()).collect()
}

fn key(t: &Value) -> serde_json::Map<String, Value> {
    t["questions"].as_array().unwrap().iter().map(|q| (q["id"].as_str().unwrap().to_owned(), q["correct_option"].clone())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_publish_edit_again_and_every_attempt_keeps_its_version() {
    let app = spawn_app().await;
    let created: Value = app
        .upload("lecture.pdf", fixture("lecture.pdf"), &[("mcq", "3"), ("options", "4"), ("true_false", "2")])
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(app.wait_until_settled(&id).await["status"], "draft");
    let q = |path: &str| format!("/api/v1/exams/{id}{path}");

    // The generated bank is the first draft.
    let (_, t) = app.get_json(&q("/questions")).await;
    assert_eq!(t["versions"], json!([]));
    assert_eq!(t["draft"]["based_on"], Value::Null);
    assert_eq!(t["revision"], 0);
    assert_eq!(t["can_regenerate"], true);
    let original = ids(&t);
    assert_eq!(original.len(), 5);
    let first_mcq = t["questions"].as_array().unwrap().iter().find(|q| q["kind"] == "multiple_choice").unwrap().clone();
    let mcq_id = first_mcq["id"].as_str().unwrap().to_owned();

    // Edit a multiple-choice question: new text, three options, the third correct.
    let edit = json!({"question": "Which is the third option?", "options": ["One", "Two", "Three"], "correct": 2, "revision": 0});
    let (status, t) = send(&app, reqwest::Method::PUT, &q(&format!("/questions/{mcq_id}")), Some(edit.clone())).await;
    assert_eq!(status, 200, "{t}");
    let edited = t["questions"].as_array().unwrap().iter().find(|x| x["id"] == mcq_id.as_str()).unwrap();
    assert_eq!(edited["question"], "Which is the third option?");
    assert_eq!(edited["correct_answer"], "Three");
    assert_eq!(edited["options"].as_array().unwrap().len(), 3);
    assert_eq!(t["revision"], 1);
    // The same form sent again from a stale tab is refused, not applied twice.
    let (status, body) = send(&app, reqwest::Method::PUT, &q(&format!("/questions/{mcq_id}")), Some(edit)).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"].as_str().unwrap().contains("another tab"));
    // Invalid edits name the field.
    let (status, body) = send(
        &app,
        reqwest::Method::PUT,
        &q(&format!("/questions/{mcq_id}")),
        Some(json!({"question": "x", "options": ["only"], "correct": 0})),
    )
    .await;
    assert_eq!((status, body["field"].as_str()), (422, Some("options")), "{body}");
    assert_eq!(
        send(&app, reqwest::Method::PUT, &q("/questions/q99"), Some(json!({"question": "x", "options": ["a", "b"], "correct": 0}))).await.0,
        404
    );

    // Delete one, move the last to the top.
    let victim = original[1].clone();
    let (status, t) = send(&app, reqwest::Method::DELETE, &q(&format!("/questions/{victim}?revision=1")), None).await;
    assert_eq!(status, 200, "{t}");
    let mut order = ids(&t);
    assert!(!order.contains(&victim));
    order.rotate_right(1);
    let (status, t) = send(&app, reqwest::Method::PUT, &q("/order"), Some(json!({"order": order, "revision": 2}))).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(ids(&t), order);
    let (status, _) = send(&app, reqwest::Method::PUT, &q("/order"), Some(json!({"order": order[..2]}))).await;
    assert_eq!(status, 422);

    // Students see nothing until the draft is published (there is nothing to join); then they
    // get exactly the draft.
    let mut ada = app.browser();
    assert_eq!(ada.join(&app, &id, "Ada").await.0, 404);
    assert_eq!(ada.get_json(&q("")).await.0, 401);
    let (status, published) = app.post_json(&q("/publish"), &json!({})).await;
    assert_eq!((status, published["status"].as_str()), (200, Some("published")));
    assert_eq!(published["question_count"], 4);
    let (_, t) = app.get_json(&q("/questions")).await;
    assert_eq!(t["versions"].as_array().unwrap().len(), 1);
    assert_eq!(t["versions"][0]["version"], 1);
    assert_eq!(t["draft"], Value::Null);
    let v1_key = key(&t);
    let (status, joined) = ada.join(&app, &id, "Ada").await;
    assert_eq!(status, 200, "{joined}");
    let (_, paper) = ada.get_json(&q("")).await;
    assert_eq!(paper["version"], 1);
    let paper_ids: Vec<&str> = paper["questions"].as_array().unwrap().iter().map(|q| q["id"].as_str().unwrap()).collect();
    assert_eq!(paper_ids, order.iter().map(String::as_str).collect::<Vec<_>>());
    // Publishing again with no changes changes nothing.
    app.post_json(&q("/publish"), &json!({})).await;
    assert_eq!(app.get_json(&q("/questions")).await.1["versions"].as_array().unwrap().len(), 1);

    // Ada submits on version 1, all correct. Kim opens an attempt on version 1 and answers one.
    let (status, report) = ada.post_json(&q("/submissions"), &json!({"answers": v1_key})).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!((report["score"].as_u64(), report["total"].as_u64()), (Some(4), Some(4)));
    let kim_browser = app.student(&id, "Kim").await;
    let kim_path = q("/attempt");
    let mut kim = kim_browser.ws(&kim_path).await;
    let resumed = kim.next_json().await.unwrap();
    assert_eq!((resumed["type"].as_str(), resumed["version"].as_u64()), (Some("resumed"), Some(1)));
    kim.send_json(&json!({"type": "answer", "question_id": mcq_id, "option_id": v1_key[&mcq_id]})).await;
    assert_eq!(kim.next_json().await.unwrap()["type"], "saved");
    drop(kim);

    // The teacher edits the published exam: a new draft based on version 1; students still get 1.
    let (status, t) = send(
        &app,
        reqwest::Method::PUT,
        &q(&format!("/questions/{mcq_id}")),
        Some(json!({"question": "Version two wording?", "options": ["Alpha", "Beta"], "correct": 0, "revision": 0})),
    )
    .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["draft"]["based_on"], 1);
    let (_, paper) = ada.get_json(&q("")).await;
    assert_eq!(paper["version"], 1);
    assert!(paper.to_string().contains("Which is the third option?"));
    assert!(!paper.to_string().contains("Version two wording?"));
    // Delete another question in the new draft, then publish version 2.
    let dropped = order[order.len() - 1].clone();
    assert_eq!(send(&app, reqwest::Method::DELETE, &q(&format!("/questions/{dropped}")), None).await.0, 200);
    let (status, published) = app.post_json(&q("/publish"), &json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(published["question_count"], 3);
    let (_, t) = app.get_json(&q("/questions")).await;
    assert_eq!(t["versions"].as_array().unwrap().iter().map(|v| v["version"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 2]);
    let (_, paper) = ada.get_json(&q("")).await;
    assert_eq!(paper["version"], 2);
    assert!(paper.to_string().contains("Version two wording?"));
    // The listing follows the published version.
    let (_, list) = app.get_json("/api/v1/exams").await;
    assert_eq!(list.as_array().unwrap().iter().find(|e| e["id"] == id.as_str()).unwrap()["question_count"], 3);

    // Kim resumes on version 1 (the page loads that paper) and is graded against it.
    let mut kim = kim_browser.ws(&kim_path).await;
    let resumed = kim.next_json().await.unwrap();
    assert_eq!(resumed["version"], 1);
    assert_eq!(resumed["answers"][&mcq_id], v1_key[&mcq_id]);
    // Answers are validated against version 1: the dropped question still exists there.
    kim.send_json(&json!({"type": "answer", "question_id": dropped, "option_id": v1_key[&dropped]})).await;
    assert_eq!(kim.next_json().await.unwrap()["type"], "saved");
    kim.send_json(&json!({"type": "submit"})).await;
    let result = kim.next_json().await.unwrap();
    assert_eq!(result["type"], "result");
    assert_eq!((result["report"]["score"].as_u64(), result["report"]["total"].as_u64()), (Some(2), Some(4)));
    let kim_mcq = result["report"]["results"].as_array().unwrap().iter().find(|r| r["question_id"] == mcq_id.as_str()).unwrap();
    assert_eq!(kim_mcq["question"], "Which is the third option?");
    assert_eq!(kim_mcq["is_correct"], true);
    let (_, v1) = app.get_json(&q("/versions/1")).await;
    assert_eq!(v1["bank"]["questions"].as_array().unwrap().len(), 4);
    assert_eq!(app.get_json(&q("/versions/9")).await.0, 404);

    // A new attempt starts on version 2.
    let bo = app.student(&id, "Bo").await;
    let mut bo_ws = bo.ws(&q("/attempt")).await;
    assert_eq!(bo_ws.next_json().await.unwrap()["version"], 2);
    drop(bo_ws);
    let zed = app.student(&id, "Zed").await;
    let (status, zed) = zed.post_json(&q("/submissions"), &json!({"answers": {}})).await;
    assert_eq!((status, zed["total"].as_u64()), (200, Some(3)));

    // Every stored submission keeps its version and the questions its student saw.
    let (_, subs) = app.get_json(&q("/submissions")).await;
    let by = |name: &str| subs.as_array().unwrap().iter().find(|s| s["student"] == name).unwrap().clone();
    assert_eq!((by("Ada")["version"].as_u64(), by("Ada")["report"]["total"].as_u64()), (Some(1), Some(4)));
    assert_eq!(by("Kim")["version"], 1);
    assert_eq!((by("Zed")["version"].as_u64(), by("Zed")["report"]["total"].as_u64()), (Some(2), Some(3)));
    // Records are compact (answers and score); Ada's review, rebuilt from her answers and
    // version 1, still shows the question as she saw it, after version 2 changed it.
    let (_, status) = ada.get_json(&q("/status")).await;
    let review = status["results"][0]["results"].to_string();
    assert!(review.contains("Which is the third option?") && !review.contains("Version two wording?"), "{status}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_exam_can_discard_changes_and_never_loses_its_last_question() {
    let app = spawn_app().await;
    let body = r#"[{"question": "Only one?", "options": ["Yes", "No"], "correct_answer": "Yes"}]"#;
    let created: Value = upload_json(&app, "one.json", body, "application/json").await.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, body) = send(&app, reqwest::Method::DELETE, &format!("/api/v1/exams/{id}/questions/q1"), None).await;
    assert_eq!(status, 409);
    assert!(body["error"].as_str().unwrap().contains("at least one question"));
    app.post_json(&format!("/api/v1/exams/{id}/publish"), &json!({})).await;
    let edit = json!({"question": "Changed?", "options": ["Yes", "No"], "correct": 1});
    send(&app, reqwest::Method::PUT, &format!("/api/v1/exams/{id}/questions/q1"), Some(edit)).await;
    assert_eq!(app.get_json(&format!("/api/v1/exams/{id}/questions")).await.1["questions"][0]["question"], "Changed?");
    let (status, t) = send(&app, reqwest::Method::DELETE, &format!("/api/v1/exams/{id}/draft"), None).await;
    assert_eq!(status, 200);
    assert_eq!(t["draft"], Value::Null);
    assert_eq!(t["questions"][0]["question"], "Only one?");
    // Imported banks have no document to regenerate from.
    let (status, body) = send(&app, reqwest::Method::POST, &format!("/api/v1/exams/{id}/questions/q1/regenerate"), None).await;
    assert_eq!(status, 409, "{body}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regenerating_a_question_replaces_it_under_a_fresh_id() {
    let app = spawn_app().await;
    let created: Value =
        app.upload("lecture.pdf", fixture("lecture.pdf"), &[("mcq", "2"), ("true_false", "1")]).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    app.wait_until_settled(&id).await;
    let (_, before) = app.get_json(&format!("/api/v1/exams/{id}/questions")).await;
    let old = before["questions"][0].clone();
    let (status, after) = send(
        &app,
        reqwest::Method::POST,
        &format!("/api/v1/exams/{id}/questions/{}/regenerate?revision=0", old["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(status, 200, "{after}");
    let new = &after["questions"][0];
    assert_ne!(new["id"], old["id"]);
    assert_eq!(new["kind"], old["kind"]);
    assert_ne!(new["question"], old["question"]);
    assert!(!ids(&after).contains(&old["id"].as_str().unwrap().to_owned()));
    assert_eq!(ids(&after).len(), 3);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn question_banks_import_as_drafts_with_clear_errors_for_bad_ones() {
    let app = spawn_app().await;
    // The seed's format: lists under `mcq`/`tfq`, answers as text or a letter.
    let seed = r#"{"mcq": [{"question": "Capital of France?", "options": ["A) Paris", "B) Rome", "C) Oslo"], "correct_answer": "A"}],
                   "tfq": [{"question": "Water is wet.", "options": ["True", "False"], "correct_answer": "True"}]}"#;
    let r = upload_json(&app, "Geography quiz.json", seed, "application/json").await;
    assert_eq!(r.status().as_u16(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!((created["status"].as_str(), created["title"].as_str()), (Some("draft"), Some("Geography quiz")));
    let id = created["id"].as_str().unwrap();
    let (_, t) = app.get_json(&format!("/api/v1/exams/{id}/questions")).await;
    assert_eq!(t["questions"].as_array().unwrap().len(), 2);
    assert_eq!(t["questions"][0]["correct_answer"], "Paris");
    assert_eq!(t["can_regenerate"], false);
    // A plain form post lands on the new exam's page.
    let r = upload_json(&app, "b.json", seed, "text/html").await;
    assert_eq!(r.status().as_u16(), 303);
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/teacher/exams/"));

    for (body, says) in [
        (r#"{"questions": [{"question": "Q?", "options": ["a"], "correct_answer": "a"}]}"#, "question 1: needs 2 to 7 options, has 1"),
        (
            r#"[{"question": "Q?", "options": ["a", "b"], "correct_answer": "z"}]"#,
            "question 1: the correct answer does not match any option",
        ),
        (r#"{"questions": []}"#, "no questions found"),
        (r#"{"questions": [ {"question": "#, "not valid JSON"),
    ] {
        let r = upload_json(&app, "bad.json", body, "application/json").await;
        assert_eq!(r.status().as_u16(), 422, "{body}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["field"], "file");
        let msg = e["error"].as_str().unwrap();
        assert!(msg.contains("cannot be imported") && msg.contains(says), "{msg}");
    }
    let r = upload_json(&app, "notes.txt", "just words", "application/json").await;
    assert_eq!(r.status().as_u16(), 415);
    // Nothing was stored for the refused banks.
    let (_, list) = app.get_json("/api/v1/exams").await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_download_with_the_right_types() {
    let app = spawn_app().await;
    let bank = r#"[{"question": "2 + 2 = ?", "options": ["4", "5"], "correct_answer": "4"},
                   {"question": "The sky is green.", "options": ["True", "False"], "correct_answer": "False"}]"#;
    let created: Value = upload_json(&app, "Maths: basics.json", bank, "application/json").await.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    let get = |path: String| {
        let c = app.client.clone();
        let url = app.url(&path);
        async move { c.get(url).send().await.unwrap() }
    };

    let r = get(format!("/api/v1/exams/{id}/export.gift")).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(r.headers()["content-disposition"], "attachment; filename=\"Maths__basics.gift.txt\"");
    let gift = r.text().await.unwrap();
    assert!(gift.contains("::1. 2 + 2 \\= ?::[html]2 + 2 \\= ?{\n\t=4\n\t~5\n}"), "{gift}");
    assert!(gift.contains("{FALSE}"), "{gift}");

    let r = get(format!("/api/v1/exams/{id}/export.xml")).await;
    assert_eq!(r.headers()["content-type"], "application/xml; charset=utf-8");
    let xml = r.text().await.unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<quiz>"));
    assert!(xml.contains("<question type=\"truefalse\">") && xml.contains("<single>true</single>"));

    // A version that does not exist is a 404; the published one exports.
    assert_eq!(get(format!("/api/v1/exams/{id}/export.xml?version=1")).await.status().as_u16(), 404);
    app.post_json(&format!("/api/v1/exams/{id}/publish"), &json!({})).await;
    assert_eq!(get(format!("/api/v1/exams/{id}/export.gift?version=1")).await.status().as_u16(), 200);

    let student = app.student(id, "=cmd|' /C calc'!A0").await;
    let (status, _) = student.post_json(&format!("/api/v1/exams/{id}/submissions"), &json!({"answers": {"q1": "a"}})).await;
    assert_eq!(status, 200);
    let r = get(format!("/api/v1/exams/{id}/results.csv")).await;
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8; header=present");
    assert!(r.headers()["content-disposition"].to_str().unwrap().ends_with(".csv\""));
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[0], "student,attempt,version,submitted_at,score,total,percent,passed");
    assert!(lines[1].starts_with("'=cmd|' /C calc'!A0,1,1,"), "{csv}");
    assert!(lines[1].ends_with(",1,2,50.0,yes"), "{csv}");
    assert_eq!(get("/api/v1/exams/nope/export.gift".to_owned()).await.status().as_u16(), 404);
    app.stop().await;
}
