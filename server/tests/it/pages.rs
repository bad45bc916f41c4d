//! What pages answer for hostile text and for things that do not exist. Text from teachers'
//! files reaches pages as text, never as markup: a hostile exam title and question text (as an
//! imported bank or a lecture PDF could carry) on the student's exam page and the teacher's
//! review and results pages, where Leptos writes `<title>` and `<textarea>` content without
//! escaping it itself. Unknown exams are 404 pages; unknown API routes JSON 404s.

use crate::common;

use common::spawn_app;
use serde_json::{Value, json};

const TITLE: &str = "T</title><script>alert(1)</script>";
const QUESTION: &str = "x </textarea><script>alert(2)</script> y?";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_titles_and_question_texts_are_escaped_on_every_page() {
    let app = spawn_app().await;
    let bank = json!({"title": TITLE, "questions": [
        {"question": QUESTION, "options": ["a <b>", "b"], "correct_answer": "a <b>", "explanation": "</textarea><img src=x onerror=alert(3)>"},
        {"question": "Plain?", "options": ["c", "d"], "correct_answer": "c"}
    ]});
    let part =
        reqwest::multipart::Part::bytes(serde_json::to_vec(&bank).unwrap()).file_name("bank.json").mime_str("application/json").unwrap();
    let r = app.client.post(app.url("/api/v1/exams")).multipart(reqwest::multipart::Form::new().part("file", part)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    assert_eq!(app.client.post(app.url(&format!("/api/v1/exams/{id}/publish"))).send().await.unwrap().status().as_u16(), 200);

    for page in [format!("/exams/{id}"), format!("/teacher/exams/{id}"), format!("/teacher/exams/{id}/results")] {
        let html = app.client.get(app.url(&page)).send().await.unwrap().text().await.unwrap();
        for injected in ["<script>alert(1)", "<script>alert(2)", "<img src=x", "</title><script>", "</textarea><script>"] {
            assert!(!html.contains(injected), "{page} contains {injected:?}");
        }
        assert!(html.contains("<title>T&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;"), "{page}: the title is shown as text");
    }
    let review = app.client.get(app.url(&format!("/teacher/exams/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(
        review.contains("x &lt;/textarea&gt;&lt;script&gt;alert(2)&lt;/script&gt; y?</textarea>"),
        "the question is the textarea's text"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_exams_and_api_routes_are_404s_in_the_format_asked_for() {
    let app = spawn_app().await;
    for page in ["/exams/0123456789abcdef", "/teacher/exams/0123456789abcdef", "/exams/not-an-id"] {
        let r = app.client.get(app.url(page)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 404, "{page}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"), "{page} is a page");
    }
    for path in ["/api/v1/nope", "/api/v1/exams/x/y/z/w", "/api/v2/exams"] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 404, "{path}");
        let body: Value = r.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("no such API route"), "{path}: {body}");
    }
    app.stop().await;
}
