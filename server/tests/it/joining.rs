//! Joining an exam with its code: the identity of a student is the browser session that joined,
//! not a name in the URL. Codes are forgiving when typed, regenerable, rate limited on
//! failures, shown only to teachers; two browsers with one name are two students.

use crate::common;

use std::time::Duration;

use common::{StudentBrowser, TestApp, bank_json_upload, spawn_app};
use serde_json::{Value, json};

/// A published exam of `n` questions (q1…qn, the key of each is option `a`).
async fn published(app: &TestApp, name: &str, n: usize) -> String {
    let id = bank_json_upload(app, &app.client, name, n).await["id"].as_str().unwrap().to_owned();
    let (status, body) = app.post_json(&format!("/api/v1/exams/{id}/publish"), &json!({})).await;
    assert_eq!(status, 200, "{body}");
    id
}

/// `POST path {"code", "name"}` from `b`: status, body and headers. A session cookie the
/// answer sets becomes the browser's, and a 200 sets its student.
async fn join_with(b: &mut StudentBrowser, path: &str, code: &str, name: &str) -> (u16, Value, reqwest::header::HeaderMap) {
    let r = b.with_cookie(b.client.post(b.url(path))).json(&json!({"code": code, "name": name})).send().await.unwrap();
    let status = r.status().as_u16();
    if let Some(c) = common::session_cookie(&r) {
        b.cookie = c;
    }
    let headers = r.headers().clone();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    if status == 200 {
        b.student = body["student"].as_str().unwrap_or_default().to_owned();
    }
    (status, body, headers)
}

/// A well-formed code that is not `code` (its last character changed).
fn wrong(code: &str) -> String {
    let last = if code.ends_with('7') { '8' } else { '7' };
    format!("{}{last}", &code[..code.len() - 1])
}

async fn regenerate(app: &TestApp, id: &str) -> String {
    let (status, body) = app.post_json(&format!("/api/v1/exams/{id}/join-code"), &json!({})).await;
    assert_eq!(status, 200, "{body}");
    body["join_code"].as_str().expect("the new code").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joining_with_the_right_code_gives_a_session_that_opens_the_exam() {
    let app = spawn_app().await;
    let id = published(&app, "Join.json", 2).await;
    let code = app.join_code(&id).await;
    assert_eq!(code.len(), 8, "{code}");
    let status_path = format!("/api/v1/exams/{id}/status");

    let mut ada = app.browser();
    assert_eq!(ada.get_json(&status_path).await.0, 401, "not joined yet");
    let (status, body, _) = join_with(&mut ada, &format!("/api/v1/exams/{id}/join"), &code, "Ada").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"role": "student", "exam_id": id, "student": "Ada", "via": "join"}));
    assert!(!ada.cookie.is_empty(), "the join sets a session cookie");
    let (status, st) = ada.get_json(&status_path).await;
    assert_eq!(status, 200, "{st}");
    assert_eq!(st["can_start"], true, "{st}");
    let (status, paper) = ada.get_json(&format!("/api/v1/exams/{id}")).await;
    assert_eq!((status, paper["questions"].as_array().map(Vec::len)), (200, Some(2)), "{paper}");
    let mut ws = ada.ws(&format!("/api/v1/exams/{id}/attempt")).await;
    assert_eq!(ws.until(|f| f["type"] == "resumed").await["attempt"], 1);
    // The session says who the browser is.
    let (_, me) = ada.get_json("/api/v1/auth/me").await;
    assert_eq!(me["role"], "student", "{me}");
    // Without the cookie, nothing.
    assert_eq!(app.browser().get_json(&status_path).await.0, 401);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_and_malformed_codes_and_empty_names_name_the_field() {
    let app = spawn_app().await;
    let id = published(&app, "Fields.json", 1).await;
    let code = app.join_code(&id).await;
    let path = format!("/api/v1/exams/{id}/join");
    let mut b = app.browser();

    let (status, body, _) = join_with(&mut b, &path, &wrong(&code), "Ada").await;
    assert_eq!((status, body["field"].as_str()), (403, Some("code")), "wrong code: {body}");
    for malformed in ["", "ABC", "ABCDEFGHJ", "ABCD-EFGU", "ABCD*EFG", "ÄBCDEFGH"] {
        let (status, body, _) = join_with(&mut b, &path, malformed, "Ada").await;
        assert_eq!((status, body["field"].as_str()), (422, Some("code")), "{malformed:?}: {body}");
    }
    for empty in ["", "   ", "\u{200B}"] {
        let (status, body, _) = join_with(&mut b, &path, &code, empty).await;
        assert_eq!((status, body["field"].as_str()), (422, Some("name")), "{empty:?}: {body}");
    }
    // None of that joined anything.
    assert_eq!(b.get_json(&format!("/api/v1/exams/{id}/status")).await.0, 401);
    let (_, subs) = app.get_json(&format!("/api/v1/exams/{id}/submissions")).await;
    assert_eq!(subs, json!([]));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_code_is_forgiving_when_typed() {
    let app = spawn_app().await;
    let id = published(&app, "Forgiving.json", 1).await;
    let path = format!("/api/v1/exams/{id}/join");
    // A code with a 0 in it (about one in five has one), to type it with the letter O.
    let mut code = app.join_code(&id).await;
    for _ in 0..500 {
        if code.contains('0') {
            break;
        }
        code = regenerate(&app, &id).await;
    }
    assert!(code.contains('0'), "no code with a 0 in 500 draws: {code}");
    let typed = [
        code.to_lowercase(),
        format!("{}-{}", &code[..4], &code[4..]),
        format!(" {} {} ", &code[..4].to_lowercase(), &code[4..]),
        code.replace('0', "O"),
        code.replace('0', "o"),
    ];
    for (i, t) in typed.iter().enumerate() {
        let mut b = app.browser();
        let (status, body, _) = join_with(&mut b, &path, t, &format!("Student {i}")).await;
        assert_eq!(status, 200, "{t:?} for {code}: {body}");
        assert_eq!(b.get_json(&format!("/api/v1/exams/{id}/status")).await.0, 200, "{t:?}");
    }
    // And I or L for 1.
    for _ in 0..500 {
        if code.contains('1') {
            break;
        }
        code = regenerate(&app, &id).await;
    }
    assert!(code.contains('1'), "no code with a 1 in 500 draws: {code}");
    for (i, t) in [code.replace('1', "I"), code.replace('1', "l"), code.replace('1', "L")].iter().enumerate() {
        let mut b = app.browser();
        let (status, body, _) = join_with(&mut b, &path, t, &format!("One {i}")).await;
        assert_eq!(status, 200, "{t:?} for {code}: {body}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_code_alone_finds_the_exam() {
    let app = spawn_app().await;
    let _other = published(&app, "Other.json", 1).await;
    let id = published(&app, "Found.json", 1).await;
    let code = app.join_code(&id).await;
    let mut b = app.browser();
    let (status, body, _) = join_with(&mut b, "/api/v1/join", &format!("{}-{}", &code[..4].to_lowercase(), &code[4..]), "Ada").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"role": "student", "exam_id": id, "student": "Ada", "via": "join"}));
    assert_eq!(b.get_json(&format!("/api/v1/exams/{id}/status")).await.0, 200);
    assert_eq!(b.get_json(&format!("/api/v1/exams/{_other}/status")).await.0, 401, "only the exam of the code");
    let (status, body, _) = join_with(&mut app.browser(), "/api/v1/join", &wrong(&code), "Ada").await;
    assert_eq!((status, body["field"].as_str()), (403, Some("code")), "{body}");
    let (status, body, _) = join_with(&mut app.browser(), "/api/v1/join", "nope", "Ada").await;
    assert_eq!((status, body["field"].as_str()), (422, Some("code")), "{body}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_browsers_with_one_name_are_two_students_with_their_own_attempts() {
    let app = spawn_app().await;
    let id = published(&app, "Namesakes.json", 2).await;
    let r = app.client.put(app.url(&format!("/api/v1/exams/{id}/settings"))).json(&json!({"attempts_allowed": 1})).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let first = app.student(&id, "Ada").await;
    let second = app.student(&id, "Ada").await;
    assert_eq!((first.student.as_str(), second.student.as_str()), ("Ada", "Ada (2)"));
    let third = app.student(&id, "ada").await;
    assert_eq!(third.student, "ada (3)", "the name is taken whatever its case");

    let attempt = format!("/api/v1/exams/{id}/attempt");
    let mut ws = first.ws(&attempt).await;
    ws.until(|f| f["type"] == "resumed").await;
    ws.send_json(&json!({"type": "answer", "question_id": "q1", "option_id": "a"})).await;
    ws.until(|f| f["type"] == "saved").await;
    drop(ws);
    let mut ws2 = second.ws(&attempt).await;
    let resumed = ws2.until(|f| f["type"] == "resumed").await;
    assert_eq!(resumed["answers"], json!({}), "Ada's answers are not in Ada (2)'s attempt");
    ws2.send_json(&json!({"type": "answer", "question_id": "q2", "option_id": "b"})).await;
    ws2.until(|f| f["type"] == "saved").await;
    drop(ws2);
    let mut ws = first.ws(&attempt).await;
    assert_eq!(ws.until(|f| f["type"] == "resumed").await["answers"], json!({"q1": "a"}));
    drop(ws);
    let (_, sitting) = app.get_json(&format!("/api/v1/exams/{id}/sitting")).await;
    let mut running: Vec<&str> = sitting["in_progress"].as_array().unwrap().iter().map(|a| a["student"].as_str().unwrap()).collect();
    running.sort_unstable();
    assert_eq!(running, ["Ada", "Ada (2)"], "{sitting}");

    // The teacher's per-student routes take the key of the name: Ada (2) may sit twice.
    let r = app
        .client
        .put(app.url(&format!("/api/v1/exams/{id}/overrides/ada%20%282%29")))
        .json(&json!({"attempts_allowed": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let submit = format!("/api/v1/exams/{id}/submissions");
    for _ in 0..2 {
        let (status, report) = second.post_json(&submit, &json!({})).await;
        assert_eq!(status, 200, "{report}");
    }
    assert_eq!(first.post_json(&submit, &json!({})).await.0, 200);
    assert_eq!(first.post_json(&submit, &json!({})).await.0, 409, "Ada has no accommodation");
    let (_, subs) = app.get_json(&submit).await;
    let mut by: Vec<&str> = subs.as_array().unwrap().iter().map(|s| s["student"].as_str().unwrap()).collect();
    by.sort_unstable();
    assert_eq!(by, ["Ada", "Ada (2)", "Ada (2)"], "{subs}");
    app.stop().await;
}

/// Names that only look alike are one name: full-width letters, zero-width and bidi characters
/// and the Kelvin sign are normalised before the name is taken, so no second "Ada" appears
/// beside the first in the teacher's lists (issue 10, item 8).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn look_alike_names_are_the_name_they_look_like() {
    let app = spawn_app().await;
    let id = published(&app, "Lookalikes.json", 1).await;
    assert_eq!(app.student(&id, "Ada").await.student, "Ada");
    for (typed, shown) in
        [("\u{FF21}\u{FF44}\u{FF41}", "Ada (2)"), ("A\u{200B}da", "Ada (3)"), ("\u{202E}Ada", "Ada (4)"), ("\u{212A}im", "Kim")]
    {
        assert_eq!(app.student(&id, typed).await.student, shown, "{typed:?}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_browser_joining_again_is_the_same_student() {
    let app = spawn_app().await;
    let id = published(&app, "Again.json", 2).await;
    let mut ada = app.student(&id, "Ada").await;
    let attempt = format!("/api/v1/exams/{id}/attempt");
    let mut ws = ada.ws(&attempt).await;
    ws.until(|f| f["type"] == "resumed").await;
    ws.send_json(&json!({"type": "answer", "question_id": "q1", "option_id": "b"})).await;
    ws.until(|f| f["type"] == "saved").await;
    drop(ws);
    for name in ["Ada", "ADA", " ada "] {
        let (status, body) = ada.join(&app, &id, name).await;
        assert_eq!((status, body["student"].as_str()), (200, Some("Ada")), "{name:?}: {body}");
        let mut ws = ada.ws(&attempt).await;
        let resumed = ws.until(|f| f["type"] == "resumed").await;
        assert_eq!((resumed["attempt"].as_u64(), &resumed["answers"]), (Some(1), &json!({"q1": "b"})), "{name:?}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_regenerated_code_works_the_old_one_does_not_and_joined_students_stay() {
    let app = spawn_app().await;
    let id = published(&app, "Regenerate.json", 1).await;
    let old = app.join_code(&id).await;
    let before = app.student(&id, "Early").await;
    let new = regenerate(&app, &id).await;
    assert_ne!(new, old);
    assert_eq!(app.join_code(&id).await, new, "the teacher's view shows the new code");
    let path = format!("/api/v1/exams/{id}/join");
    for route in [path.as_str(), "/api/v1/join"] {
        let (status, body, _) = join_with(&mut app.browser(), route, &old, "Late").await;
        assert_eq!((status, body["field"].as_str()), (403, Some("code")), "{route} with the old code: {body}");
    }
    let mut late = app.browser();
    let (status, body, _) = join_with(&mut late, &path, &new, "Late").await;
    assert_eq!(status, 200, "{body}");
    let (status, body, _) = join_with(&mut app.browser(), "/api/v1/join", &new, "Later").await;
    assert_eq!(status, 200, "{body}");
    // Who joined before keeps their place.
    assert_eq!(before.get_json(&format!("/api/v1/exams/{id}/status")).await.0, 200);
    let mut ws = before.ws(&format!("/api/v1/exams/{id}/attempt")).await;
    ws.until(|f| f["type"] == "resumed").await;
    // Only the owner regenerates.
    assert_eq!(before.post_json(&format!("/api/v1/exams/{id}/join-code"), &json!({})).await.0, 401);
    assert_eq!(app.browser().post_json(&format!("/api/v1/exams/{id}/join-code"), &json!({})).await.0, 401);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpublished_exam_cannot_be_joined() {
    let app = spawn_app().await;
    let id = bank_json_upload(&app, &app.client, "Draft.json", 1).await["id"].as_str().unwrap().to_owned();
    let code = app.join_code(&id).await;
    let mut b = app.browser();
    let (status, body, _) = join_with(&mut b, &format!("/api/v1/exams/{id}/join"), &code, "Ada").await;
    assert_eq!(status, 404, "{body}");
    let (status, body, _) = join_with(&mut b, "/api/v1/join", &code, "Ada").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(b.get_json(&format!("/api/v1/exams/{id}/status")).await.0, 401);
    // Published, the same code opens it.
    app.post_json(&format!("/api/v1/exams/{id}/publish"), &json!({})).await;
    let (status, body, _) = join_with(&mut b, &format!("/api/v1/exams/{id}/join"), &code, "Ada").await;
    assert_eq!(status, 200, "{body}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_wrong_codes_from_one_address_and_the_next_try_waits() {
    let app = spawn_app().await;
    let id = published(&app, "Limited.json", 1).await;
    let code = app.join_code(&id).await;
    let path = format!("/api/v1/exams/{id}/join");
    let bad = wrong(&code);
    for i in 1..=29 {
        let (status, body, _) = join_with(&mut app.browser(), &path, &bad, "Guess").await;
        assert_eq!(status, 403, "wrong code {i}: {body}");
    }
    // Successes do not count: the class behind one address joins.
    for i in 0..5 {
        let (status, body, _) = join_with(&mut app.browser(), &path, &code, &format!("Pupil {i}")).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body, _) = join_with(&mut app.browser(), &path, &bad, "Guess").await;
    assert_eq!(status, 403, "wrong code 30: {body}");
    let (status, body, headers) = join_with(&mut app.browser(), &path, &bad, "Guess").await;
    assert_eq!(status, 429, "wrong code 31: {body}");
    let retry: u64 = headers.get(reqwest::header::RETRY_AFTER).expect("Retry-After").to_str().unwrap().parse().unwrap();
    assert!((1..=15 * 60).contains(&retry), "{retry}");
    assert!(body["error"].as_str().unwrap().contains("Too many"), "{body}");
    // The address waits, whatever it tries now and wherever.
    let (status, _, _) = join_with(&mut app.browser(), &path, &code, "Pupil 9").await;
    assert_eq!(status, 429);
    let (status, _, _) = join_with(&mut app.browser(), "/api/v1/join", &code, "Pupil 9").await;
    assert_eq!(status, 429);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teacher_joining_is_sent_to_a_private_window() {
    let app = spawn_app().await;
    let id = published(&app, "Teacher.json", 1).await;
    let code = app.join_code(&id).await;
    let (status, body) = app.post_json(&format!("/api/v1/exams/{id}/join"), &json!({"code": code, "name": "Me"})).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"].as_str().unwrap().contains("private window"), "{body}");
    let (status, _) = app.post_json("/api/v1/join", &json!({"code": code, "name": "Me"})).await;
    assert_eq!(status, 409);
    // A teacher signed in with a session cookie too.
    let cookie = common::sign_in(&app.addr, common::ADMIN_EMAIL, common::ADMIN_PASSWORD).await;
    let r = crate::common::http()
        .build()
        .unwrap()
        .post(app.url(&format!("/api/v1/exams/{id}/join")))
        .header(reqwest::header::COOKIE, cookie)
        .json(&json!({"code": code, "name": "Me"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 409);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_qr_code_is_an_svg_for_the_owner_only() {
    let app = spawn_app().await;
    let id = published(&app, "Projector.json", 1).await;
    let path = format!("/api/v1/exams/{id}/join-qr.svg");
    let r = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("image/svg+xml"), "{:?}", r.headers());
    let svg = r.text().await.unwrap();
    assert!(svg.contains("<svg") && svg.contains("</svg>"), "{svg}");
    assert_eq!(app.browser().get(&path).await.status().as_u16(), 401, "anonymous");
    let student = app.student(&id, "Ada").await;
    assert_eq!(student.get(&path).await.status().as_u16(), 401, "a student");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_join_code_is_shown_to_teachers_and_to_no_student() {
    let app = spawn_app().await;
    let id = published(&app, "Secret code.json", 2).await;
    let code = app.join_code(&id).await;
    let (_, list) = app.get_json("/api/v1/exams").await;
    let entry = list.as_array().unwrap().iter().find(|e| e["id"] == id.as_str()).unwrap();
    assert_eq!(entry["join_code"], code.as_str(), "in the teacher's list");
    let (_, view) = app.get_json(&format!("/api/v1/exams/{id}/questions")).await;
    assert_eq!(view["join_code"], code.as_str(), "in the teacher's view");

    // Everything a student's browser receives.
    let mut seen: Vec<String> = Vec::new();
    let mut ada = app.browser();
    let (status, joined, _) = join_with(&mut ada, &format!("/api/v1/exams/{id}/join"), &code, "Ada").await;
    assert_eq!(status, 200);
    seen.push(joined.to_string());
    let mut live = ada.ws("/api/v1/live").await;
    seen.push(ada.get_json(&format!("/api/v1/exams/{id}")).await.1.to_string());
    seen.push(ada.get_json(&format!("/api/v1/exams/{id}/status")).await.1.to_string());
    let mut ws = ada.ws(&format!("/api/v1/exams/{id}/attempt")).await;
    ws.until(|f| f["type"] == "resumed").await;
    ws.send_json(&json!({"type": "answer", "question_id": "q1", "option_id": "a"})).await;
    ws.until(|f| f["type"] == "saved").await;
    ws.send_json(&json!({"type": "submit"})).await;
    ws.until(|f| f["type"] == "result").await;
    seen.extend(ws.seen.clone());
    let (status, report) = ada.post_json(&format!("/api/v1/exams/{id}/submissions"), &json!({"answers": {"q2": "a"}})).await;
    assert_eq!(status, 200, "{report}");
    seen.push(report.to_string());
    seen.push(ada.get_json(&format!("/api/v1/exams/{id}/status")).await.1.to_string());
    seen.push(ada.get_json("/api/v1/auth/me").await.1.to_string());
    // A new version: the student's live feed carries its status.
    let edit = json!({"question": "Edited?", "options": ["a", "b"], "correct": 0});
    assert_eq!(app.client.put(app.url(&format!("/api/v1/exams/{id}/questions/q1"))).json(&edit).send().await.unwrap().status(), 200);
    app.post_json(&format!("/api/v1/exams/{id}/publish"), &json!({})).await;
    live.until(|f| f["exam_id"] == id.as_str() && f["type"] == "exam_status").await;
    seen.extend(live.seen.clone());
    assert!(seen.len() >= 10, "{seen:?}");
    for text in &seen {
        assert!(!text.contains("join_code") && !text.contains(&code), "a student sees the code: {text}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_student_named_in_the_body_or_the_query_is_not_who_submits() {
    let app = spawn_app().await;
    let id = published(&app, "Impostor.json", 1).await;
    let ada = app.student(&id, "Ada").await;
    let bo = app.student(&id, "Bo").await;
    let (status, report) =
        bo.post_json(&format!("/api/v1/exams/{id}/submissions"), &json!({"student": "Ada", "answers": {"q1": "a"}})).await;
    assert_eq!(status, 200, "{report}");
    let (_, subs) = app.get_json(&format!("/api/v1/exams/{id}/submissions")).await;
    let names: Vec<&str> = subs.as_array().unwrap().iter().map(|s| s["student"].as_str().unwrap()).collect();
    assert_eq!(names, ["Bo"], "filed under the session's student: {subs}");
    // Ada has no result, whatever the query says; her attempt is hers.
    let (status, st) = ada.get_json(&format!("/api/v1/exams/{id}/status?student=Bo")).await;
    assert_eq!(status, 200);
    assert_eq!(st["results"], json!([]), "{st}");
    let mut ws = ada.ws(&format!("/api/v1/exams/{id}/attempt?student=Bo")).await;
    let resumed = ws.until(|f| f["type"] == "resumed").await;
    assert_eq!((resumed["attempt"].as_u64(), &resumed["answers"]), (Some(1), &json!({})), "{resumed}");
    ws.send_json(&json!({"type": "submit"})).await;
    ws.until(|f| f["type"] == "result").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (_, subs) = app.get_json(&format!("/api/v1/exams/{id}/submissions")).await;
    let mut names: Vec<&str> = subs.as_array().unwrap().iter().map(|s| s["student"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["Ada", "Bo"], "{subs}");
    app.stop().await;
}
