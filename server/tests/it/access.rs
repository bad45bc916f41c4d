//! The access matrix: every teacher route of the HTTP API, every teacher server function and
//! every teacher page, asked by {anonymous, a joined student, another teacher, the owner}; the
//! student routes by {anonymous, a student of another exam, the joined student}. Real gateway
//! on loopback, real sign-in, real joins.

use crate::common;

use common::{TestApp, bank_json_upload, client_with, spawn_app, token_for};
use leptos::server_fn::ServerFn;
use reqwest::Method;
use serde_json::{Value, json};

/// Every teacher route under `/api/v1/exams/{id}`, with a body the owner's call succeeds with.
/// Destructive ones come last so the owner's pass can run them in order.
fn exam_routes() -> Vec<(Method, &'static str, Option<Value>)> {
    vec![
        (Method::GET, "/questions", None),
        (Method::PUT, "/questions/q1", Some(json!({"question": "Edited?", "options": ["a", "b"], "correct": 0}))),
        (Method::POST, "/questions/q2/regenerate", None),
        (Method::PUT, "/order", Some(json!({"order": ["q2", "q1", "q3"]}))),
        (Method::POST, "/publish", None),
        (Method::GET, "/versions/1", None),
        (Method::GET, "/export.gift", None),
        (Method::GET, "/export.xml", None),
        (Method::GET, "/submissions", None),
        (Method::GET, "/results.csv", None),
        (Method::GET, "/settings", None),
        (Method::PUT, "/settings", Some(json!({"pass_mark": 60}))),
        (Method::GET, "/overrides", None),
        (Method::PUT, "/overrides/Ada", Some(json!({"extra_time_secs": 60}))),
        (Method::DELETE, "/overrides/Ada", None),
        (Method::GET, "/sitting", None),
        (Method::POST, "/attempts/Ada/extend", Some(json!({"secs": 60}))),
        (Method::GET, "/statistics", None),
        (Method::GET, "/statistics.csv", None),
        (Method::POST, "/release", None),
        (Method::GET, "/access", None),
        (Method::GET, "/audit", None),
        (Method::GET, "/join-qr.svg", None),
        (Method::GET, "/export.tar.gz", None),
        (Method::DELETE, "/students/Ada", None),
        (Method::POST, "/join-code", None),
        (Method::POST, "/share", Some(json!({"email": common::ADMIN_EMAIL}))),
        (Method::DELETE, "/share/00000000000000000000000000000000", None),
        (Method::DELETE, "/questions/q3", None),
        (Method::DELETE, "/draft", None),
        (Method::POST, "/close", None),
        (Method::DELETE, "", None),
    ]
}

async fn call(client: &reqwest::Client, app: &TestApp, method: Method, path: &str, body: Option<&Value>) -> (u16, String) {
    call_with(client, app, method, path, body, None).await
}

/// [`call`], with a session cookie (`name=value`) when `cookie` is given.
async fn call_with(
    client: &reqwest::Client,
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<&Value>,
    cookie: Option<&str>,
) -> (u16, String) {
    let mut r = client.request(method, app.url(path));
    if let Some(c) = cookie {
        r = r.header(reqwest::header::COOKIE, c);
    }
    if let Some(b) = body {
        r = r.json(b);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

async fn other_teacher(app: &TestApp) -> reqwest::Client {
    let platform_token = {
        // A second account, made the way an invitation would: directly in the core here.
        let r = crate::common::http()
            .build()
            .unwrap()
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"email": "other@school.test", "password": "another long password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401, "no such account yet");
        app.platform
            .as_ref()
            .expect("in-process app")
            .identity()
            .accounts
            .create("other@school.test", "Other", "another long password")
            .await
            .unwrap();
        token_for(app.platform.as_ref().unwrap(), "other@school.test").await
    };
    client_with(&platform_token, false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_teacher_route_refuses_anonymous_callers_students_and_other_teachers() {
    let app = spawn_app().await;
    let anonymous = crate::common::http().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let other = other_teacher(&app).await;
    let owner = client_with(&app.token, false);
    let r = bank_json_upload(&app, &owner, "mine.json", 3).await;
    let id = r["id"].as_str().unwrap().to_owned();
    // A student who joined this very exam: joining makes nobody a teacher of it. (Joining needs
    // a published exam; the owner's pass below publishes it again with no changes.)
    assert_eq!(call(&owner, &app, Method::POST, &format!("/api/v1/exams/{id}/publish"), None).await.0, 200);
    let student = app.student(&id, "Ada").await;

    for (method, suffix, body) in exam_routes() {
        let path = format!("/api/v1/exams/{id}{suffix}");
        let (status, text) = call(&anonymous, &app, method.clone(), &path, body.as_ref()).await;
        assert_eq!(status, 401, "anonymous {method} {path}: {text}");
        let (status, text) = call_with(&student.client, &app, method.clone(), &path, body.as_ref(), Some(&student.cookie)).await;
        assert_eq!(status, 401, "a joined student {method} {path}: {text}");
        assert!(!text.contains("correct"), "nothing of the key leaks to a student: {text}");
        let (status, text) = call(&other, &app, method.clone(), &path, body.as_ref()).await;
        assert_eq!(status, 404, "another teacher {method} {path}: {text}");
        assert!(!text.contains("correct"), "nothing of the exam leaks to another teacher: {text}");
    }
    for (method, suffix, body) in exam_routes() {
        let path = format!("/api/v1/exams/{id}{suffix}");
        let (status, text) = call(&owner, &app, method.clone(), &path, body.as_ref()).await;
        // An imported bank has no document to regenerate from (409); everything else works.
        let expected = match (suffix, &method) {
            (s, _) if s.ends_with("/regenerate") => 409,
            ("", &Method::DELETE) => 204,
            _ => 200,
        };
        assert_eq!(status, expected, "owner {method} {path}: {text}");
    }

    // The list: only one's own exams (the owner's pass ended by deleting that one); creating
    // needs a teacher.
    let kept = bank_json_upload(&app, &owner, "kept.json", 1).await["id"].as_str().unwrap().to_owned();
    let (status, list) = call(&other, &app, Method::GET, "/api/v1/exams", None).await;
    assert_eq!((status, list.as_str()), (200, "[]"));
    let (status, list) = call(&owner, &app, Method::GET, "/api/v1/exams", None).await;
    assert!(status == 200 && list.contains(&kept) && !list.contains(&id), "{list}");
    assert_eq!(call(&anonymous, &app, Method::GET, "/api/v1/exams", None).await.0, 401);
    let (status, list) = call_with(&student.client, &app, Method::GET, "/api/v1/exams", None, Some(&student.cookie)).await;
    assert_eq!(status, 401, "a joined student lists no exams: {list}");
    let form =
        || reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(common::fixture("lecture.pdf")).file_name("x.pdf"));
    assert_eq!(anonymous.post(app.url("/api/v1/exams")).multipart(form()).send().await.unwrap().status().as_u16(), 401);
    let r = student.with_cookie(student.client.post(app.url("/api/v1/exams"))).multipart(form()).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401, "a joined student creates no exam");
    for (method, path) in [
        (Method::GET, "/api/v1/tokens"),
        (Method::POST, "/api/v1/tokens"),
        (Method::DELETE, "/api/v1/tokens/abc"),
        (Method::POST, "/api/v1/invites"),
        (Method::GET, "/api/v1/audit"),
        (Method::POST, "/api/v1/erasures"),
        (Method::POST, "/api/v1/exams/import"),
    ] {
        assert_eq!(call(&anonymous, &app, method.clone(), path, Some(&json!({"name": "x"}))).await.0, 401, "{method} {path}");
        let (status, text) =
            call_with(&student.client, &app, method.clone(), path, Some(&json!({"name": "x"})), Some(&student.cookie)).await;
        assert_eq!(status, 401, "a joined student {method} {path}: {text}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teacher_server_functions_and_pages_check_who_is_asking() {
    let app = spawn_app().await;
    let anonymous = crate::common::http().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let other = other_teacher(&app).await;
    let owner = client_with(&app.token, false);
    let id = bank_json_upload(&app, &owner, "mine.json", 2).await["id"].as_str().unwrap().to_owned();
    // Two published exams: a student of each (joining needs a published exam).
    app.client.post(app.url(&format!("/api/v1/exams/{id}/publish"))).send().await.unwrap();
    let elsewhere = bank_json_upload(&app, &owner, "elsewhere.json", 1).await["id"].as_str().unwrap().to_owned();
    app.client.post(app.url(&format!("/api/v1/exams/{elsewhere}/publish"))).send().await.unwrap();
    let student = app.student(&id, "Ada").await;
    let stranger = app.student(&elsewhere, "Bo").await;
    let no_redirects = crate::common::http().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    // Every registered teacher server function refuses an anonymous caller and a student.
    let teacher_fns: Vec<_> = leptos::server_fn::axum::server_fn_paths().filter(|(p, _)| p.starts_with("/sfn/teacher/")).collect();
    assert!(teacher_fns.len() >= 15, "{teacher_fns:?}");
    for (path, _) in &teacher_fns {
        let r = anonymous.post(app.url(path)).form(&[("id", id.as_str())]).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 401, "anonymous {path}");
        let r = student.with_cookie(no_redirects.post(app.url(path))).form(&[("id", id.as_str())]).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 401, "a joined student {path}");
    }
    // Inside the function too: another teacher is told the exam does not exist.
    for path in [
        app::server_fns::LoadTeacherExam::PATH,
        app::server_fns::PublishExam::PATH,
        app::server_fns::LoadSettings::PATH,
        app::server_fns::LoadResults::PATH,
    ] {
        let r = other.post(app.url(path)).form(&[("id", id.as_str())]).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 404, "another teacher {path}");
        let r = owner.post(app.url(path)).form(&[("id", id.as_str())]).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "owner {path}");
    }

    // Pages: anonymous visitors are sent to sign in (and back afterwards); another teacher
    // gets a 404 page; the owner the page.
    for page in [
        "/teacher".to_owned(),
        format!("/teacher/exams/{id}"),
        format!("/teacher/exams/{id}/results"),
        format!("/teacher/exams/{id}/settings"),
        format!("/teacher/exams/{id}/sitting"),
        format!("/teacher/exams/{id}/statistics"),
    ] {
        let r = anonymous.get(app.url(&page)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 303, "{page}");
        let location = r.headers()["location"].to_str().unwrap();
        assert!(location.starts_with("/login?next=%2Fteacher"), "{location}");
        let r = student.with_cookie(no_redirects.get(app.url(&page))).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 303, "a joined student {page}");
        let r = owner.get(app.url(&page)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "owner {page}");
    }
    let r = other.get(app.url(&format!("/teacher/exams/{id}"))).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert!(!r.text().await.unwrap().contains("mine"), "no title of another teacher's exam");

    // Student routes: only for a browser that joined the exam (the student comes from the
    // session; a `student` parameter or field is no identity), never with the key.
    let student_routes = [
        (Method::GET, format!("/api/v1/exams/{id}"), None),
        (Method::GET, format!("/api/v1/exams/{id}/status"), None),
        (Method::GET, format!("/api/v1/exams/{id}/status?student=Ada"), None),
        (Method::POST, format!("/api/v1/exams/{id}/submissions"), Some(json!({"student": "Ada", "answers": {"q1": "a"}}))),
    ];
    for (method, path, body) in &student_routes {
        let (status, text) = call(&anonymous, &app, method.clone(), path, body.as_ref()).await;
        assert_eq!(status, 401, "anonymous {method} {path}: {text}");
        let (status, text) = call_with(&stranger.client, &app, method.clone(), path, body.as_ref(), Some(&stranger.cookie)).await;
        assert_eq!(status, 401, "a student of another exam {method} {path}: {text}");
    }
    for (method, path, body) in &student_routes {
        let (status, text) = call_with(&student.client, &app, method.clone(), path, body.as_ref(), Some(&student.cookie)).await;
        assert_eq!(status, 200, "the joined student {method} {path}: {text}");
        if !path.ends_with("/submissions") {
            assert!(!text.contains("correct"), "{text}");
        }
    }
    // The attempt socket: refused before the upgrade unless the browser joined the exam.
    let attempt = format!("/api/v1/exams/{id}/attempt");
    assert_eq!(app.browser().try_ws(&attempt).await.err(), Some(401), "anonymous attempt");
    assert_eq!(app.browser().try_ws(&format!("{attempt}?student=Ada")).await.err(), Some(401), "anonymous ?student=Ada");
    assert_eq!(stranger.try_ws(&attempt).await.err(), Some(401), "a student of another exam");
    let mut ws = student.try_ws(&attempt).await.expect("the joined student's attempt opens");
    assert_eq!(ws.next_json().await.unwrap()["type"], "resumed");
    drop(ws);
    // The stranger's own exam is theirs: the refusals above were about the exam, not the browser.
    assert_eq!(stranger.get_json(&format!("/api/v1/exams/{elsewhere}/status")).await.0, 200);
    for page in ["/", "/exams", "/login"] {
        assert_eq!(anonymous.get(app.url(page)).send().await.unwrap().status().as_u16(), 200, "{page}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_feed_tells_each_teacher_only_about_their_exams_and_students_only_about_published_ones_they_joined() {
    let app = spawn_app().await;
    let other = other_teacher(&app).await;
    let owner = client_with(&app.token, false);
    let mut mine = app.ws("/api/v1/live").await;
    let mut anonymous = app.ws_anonymous("/api/v1/live").await;
    // A student of one published exam, listening before the next exam exists.
    let joined = bank_json_upload(&app, &owner, "Joined.json", 1).await["id"].as_str().unwrap().to_owned();
    owner.post(app.url(&format!("/api/v1/exams/{joined}/publish"))).send().await.unwrap();
    let mut student = app.student(&joined, "Ada").await;
    let mut student_live = student.ws("/api/v1/live").await;

    let id = bank_json_upload(&app, &owner, "Secret draft title.json", 2).await["id"].as_str().unwrap().to_owned();
    mine.until(|f| f["exam_id"] == id.as_str() && f["status"] == "draft").await;
    owner.post(app.url(&format!("/api/v1/exams/{id}/publish"))).send().await.unwrap();
    mine.until(|f| f["exam_id"] == id.as_str() && f["status"] == "published").await;
    // A new version of the joined exam: the student hears of it, after everything above.
    let edit = json!({"question": "Edited?", "options": ["a", "b"], "correct": 0});
    assert_eq!(owner.put(app.url(&format!("/api/v1/exams/{joined}/questions/q1"))).json(&edit).send().await.unwrap().status(), 200);
    owner.post(app.url(&format!("/api/v1/exams/{joined}/publish"))).send().await.unwrap();
    let first = student_live.until(|f| f["exam_id"].is_string()).await;
    assert_eq!((first["exam_id"].as_str(), first["status"].as_str()), (Some(joined.as_str()), Some("published")), "{first}");
    assert!(!student_live.seen.iter().any(|f| f.contains(&id) || f.contains("Secret draft title")), "{:?}", student_live.seen);

    // Joining the exam later: a socket opened afterwards hears its published status (not a draft).
    student.join(&app, &id, "Ada").await;
    let mut student_live = student.ws("/api/v1/live").await;
    assert_eq!(owner.put(app.url(&format!("/api/v1/exams/{id}/questions/q1"))).json(&edit).send().await.unwrap().status(), 200);
    owner.post(app.url(&format!("/api/v1/exams/{id}/publish"))).send().await.unwrap();
    let frame = student_live.until(|f| f["exam_id"] == id.as_str()).await;
    assert_eq!((frame["type"].as_str(), frame["status"].as_str()), (Some("exam_status"), Some("published")), "{frame}");
    mine.until(|f| f["exam_id"] == id.as_str() && f["status"] == "published").await;

    // A browser that joined nothing hears no exam at all: only `resync`, if anything.
    let _ = tokio::time::timeout(std::time::Duration::from_millis(500), anonymous.next_json()).await;
    for f in &anonymous.seen {
        let v: Value = serde_json::from_str(f).unwrap();
        assert_eq!(v["type"], "resync", "an anonymous browser heard {f}");
    }
    // Another teacher's exam: their feed stays silent about it.
    let other_id = bank_json_upload(&app, &other, "Theirs.json", 2).await["id"].as_str().unwrap().to_owned();
    let marker = bank_json_upload(&app, &owner, "Marker.json", 1).await["id"].as_str().unwrap().to_owned();
    mine.until(|f| f["exam_id"] == marker.as_str()).await;
    assert!(!mine.seen.iter().any(|f| f.contains(&other_id)), "{:?}", mine.seen);
    app.stop().await;
}
