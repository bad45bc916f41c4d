//! A class's results through the real gateway: submission records stay compact whatever the
//! exam (answers and score, no question text; the review is rebuilt from the graded version),
//! the API slices them, and the teacher's results page shows 50 to a page with the summary
//! over all of them (issue 10, item 10: 311 submissions used to make a 2.2 MB page).

use crate::common;

use common::spawn_app;
use serde_json::{Value, json};

/// 20 questions with long texts: a record that carried the report would repeat them.
fn bank() -> Vec<u8> {
    let long = "a question text long enough to notice when a record repeats it ".repeat(8);
    let qs: Vec<Value> = (1..=20)
        .map(|i| json!({"question": format!("{i}: {long}?"), "options": [format!("right {i}"), "w1", "w2", "w3"], "correct_answer": format!("right {i}"), "explanation": long}))
        .collect();
    serde_json::to_vec(&json!({"title": "Results", "questions": qs})).unwrap()
}

fn rows(html: &str) -> usize {
    html.split("<tbody>").nth(1).and_then(|b| b.split("</tbody>").next()).map_or(0, |b| b.matches("<tr").count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_are_compact_and_results_come_in_pages() {
    let app = spawn_app().await;
    let r = app.upload("bank.json", bank(), &[]).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    assert_eq!(app.post_json(&format!("/api/v1/exams/{id}/publish"), &json!({})).await.0, 200);
    let mut first = None;
    for i in 0..55 {
        let student = app.student(&id, &format!("Student {i:02}")).await;
        // Even students answer everything right, odd ones nothing.
        let answers: serde_json::Map<String, Value> =
            if i % 2 == 0 { (1..=20).map(|q| (format!("q{q}"), json!("a"))).collect() } else { Default::default() };
        let (status, report) = student.post_json(&format!("/api/v1/exams/{id}/submissions"), &json!({"answers": answers})).await;
        assert_eq!(status, 200, "{report}");
        if i == 0 {
            // The answer to the submit still carries the whole review (default policy: correct).
            assert_eq!(report["results"].as_array().map(Vec::len), Some(20), "{report}");
            first = Some(student);
        }
    }

    // The stored records: answers and score, none of the exam's text.
    let r = app.client.get(app.url(&format!("/api/v1/exams/{id}/submissions"))).send().await.unwrap();
    assert_eq!(r.headers()["x-total-count"], "55");
    let body = r.text().await.unwrap();
    let subs: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(subs.len(), 55);
    assert!(!body.contains("long enough") && !body.contains("right 1"), "a record repeats the exam's text");
    let full = serde_json::to_string(&subs[0]).unwrap();
    assert!(full.len() < 1024, "a record of 20 answers is {} bytes: {full}", full.len());
    assert_eq!((subs[0]["report"]["score"].as_u64(), subs[0]["answers"]["q20"].as_str()), (Some(20), Some("a")));
    assert!(subs[0]["report"].get("results").is_none());
    // A slice, oldest first.
    let (status, slice) = app.get_json(&format!("/api/v1/exams/{id}/submissions?offset=50&limit=10")).await;
    assert_eq!((status, slice.as_array().map(Vec::len)), (200, Some(5)), "{slice}");
    assert_eq!(slice[4]["student"], "Student 54");

    // The student's review, later, is rebuilt from the answers and the version.
    let (_, status) = first.unwrap().get_json(&format!("/api/v1/exams/{id}/status")).await;
    let review = &status["results"][0]["results"];
    assert_eq!(review.as_array().map(Vec::len), Some(20), "{status}");
    assert_eq!((review[19]["correct_text"].as_str(), review[19]["is_correct"].as_bool()), (Some("right 20"), Some(true)));

    // The results page: newest first, 50 rows, the summary over all 55, a link to the rest.
    let page = |n: Option<u32>| {
        let path = match n {
            Some(n) => format!("/teacher/exams/{id}/results?page={n}"),
            None => format!("/teacher/exams/{id}/results"),
        };
        let url = app.url(&path);
        let client = app.client.clone();
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let one = page(None).await;
    assert_eq!(rows(&one), 50);
    assert!(one.contains("55 submissions · 28 passed · average 50.9 %"), "the summary counts every submission");
    assert!(one.find("Student 54").unwrap() < one.find("Student 05").unwrap(), "newest first");
    assert!(!one.contains(">Student 04<"), "the oldest are on page 2");
    assert!(one.contains("Page 1 of 2") && one.contains("?page=2\" rel=\"next\""), "a link to page 2");
    let two = page(Some(2)).await;
    assert_eq!(rows(&two), 5);
    assert!(two.contains(">Student 00<") && two.contains("rel=\"prev\""));
    assert!(one.len() < 40_000, "page 1 is {} bytes", one.len());
    assert_eq!(rows(&page(Some(9)).await), 5, "past the end: the last page");
    app.stop().await;
}
