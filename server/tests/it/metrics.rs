//! `/metrics`: served on its own listener (never on the main port), in the Prometheus text
//! format, and counting what a real upload → publish → answer → submit flow did, by matched
//! route (never a raw path or an id). Every family in a scrape is one listed in
//! `helm/tests/metric-names.txt`, which the chart's dashboard test reads.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{self, fixture};

/// The families the list says `binary` exports, with their types.
fn listed(binary: &str) -> Vec<(String, String)> {
    let list = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../helm/tests/metric-names.txt")).unwrap();
    list.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let (name, kind) = (words.next()?, words.next()?);
            words.any(|b| b == binary).then(|| (name.to_owned(), kind.to_owned()))
        })
        .collect()
}

/// The `# TYPE` lines of a scrape: (family, type).
fn exported(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .map(|(n, t)| (n.to_owned(), t.to_owned()))
        .collect();
    out.sort();
    out
}

/// The value of one series (`name{labels}` exactly as exported), if present.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')).and_then(|v| v.trim().parse().ok()))
}

async fn scrape(port: u16) -> String {
    let r = reqwest::get(format!("http://127.0.0.1:{port}/metrics")).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    r.text().await.unwrap()
}

/// Scrapes until `series` has `want`, at most 10 s (gauges follow sockets closing).
async fn eventually(port: u16, series: &str, want: f64) -> String {
    for _ in 0..100 {
        let text = scrape(port).await;
        if value(&text, series) == Some(want) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{series} never became {want}:\n{}", scrape(port).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_a_real_flow_by_route_on_their_own_port() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = common::settings(dir.path());
    settings.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    let app = common::spawn_with(settings).await;
    let port = app.metrics_port.expect("a metrics listener");
    assert_ne!(app.url("/").rsplit(':').next().and_then(|p| p.trim_end_matches('/').parse::<u16>().ok()), Some(port));

    // The main port (what the Ingress routes to) does not serve the metrics.
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert!(!r.text().await.unwrap().contains("exam_http_request_duration_seconds"));

    // Only listed families (the unit test in server/src/metrics.rs checks that every listed one
    // is registered), and the sockets' series exist before any socket opens.
    let text = scrape(port).await;
    let want = listed("gateway");
    assert!(exported(&text).iter().all(|f| want.contains(f)), "{text}");
    assert_eq!(value(&text, r#"exam_websockets_open{kind="live"}"#), Some(0.0));

    let live = app.ws("/api/v1/live").await;
    eventually(port, r#"exam_websockets_open{kind="live"}"#, 1.0).await;

    let r = app.upload("lecture.pdf", fixture("lecture.pdf"), &[("mcq", "3"), ("options", "3"), ("true_false", "2")]).await;
    assert_eq!(r.status().as_u16(), 202);
    let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    assert_eq!(app.wait_until_settled(&id).await["status"], "draft");
    let (_, teacher) = app.get_json(&format!("/api/v1/exams/{id}/questions")).await;
    let questions: Vec<(String, String)> = teacher["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| (q["id"].as_str().unwrap().to_owned(), q["correct_option"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(app.post_json(&format!("/api/v1/exams/{id}/publish"), &json!({})).await.0, 200);

    let grace = app.student(&id, "Grace Hopper").await;
    let mut ws = grace.ws(&format!("/api/v1/exams/{id}/attempt")).await;
    assert_eq!(ws.next_json().await.unwrap()["type"], "resumed");
    eventually(port, r#"exam_websockets_open{kind="attempt"}"#, 1.0).await;
    for (q, o) in questions.iter().take(2) {
        ws.send_json(&json!({"type": "answer", "question_id": q, "option_id": o})).await;
        assert_eq!(ws.next_json().await.unwrap()["type"], "saved");
    }
    ws.send_json(&json!({"type": "answer", "question_id": questions[0].0, "option_id": "zz"})).await;
    assert_eq!(ws.next_json().await.unwrap()["type"], "error");
    ws.send_json(&json!({"type": "submit"})).await;
    assert_eq!(ws.next_json().await.unwrap()["type"], "result");
    drop(ws);
    drop(live);
    eventually(port, r#"exam_websockets_open{kind="attempt"}"#, 0.0).await;
    let text = eventually(port, r#"exam_websockets_open{kind="live"}"#, 0.0).await;

    assert!(exported(&text).iter().all(|f| want.contains(f)), "{text}");
    // Requests by route pattern, method and status; no id anywhere (bounded cardinality).
    assert!(!text.contains(&id), "an exam id became a label:\n{text}");
    for (series, n) in [
        (r#"exam_http_request_duration_seconds_count{route="/api/v1/exams",method="POST",status="202"}"#, 1.0),
        (r#"exam_http_request_duration_seconds_count{route="/api/v1/exams/{id}/publish",method="POST",status="200"}"#, 1.0),
        (r#"exam_http_request_duration_seconds_count{route="/api/v1/live",method="GET",status="101"}"#, 1.0),
        (r#"exam_http_request_duration_seconds_count{route="/api/v1/exams/{id}/attempt",method="GET",status="101"}"#, 1.0),
        (r#"exam_http_request_duration_seconds_count{route="/api/v1/exams/{id}/join",method="POST",status="200"}"#, 1.0),
        (r#"exam_http_request_duration_seconds_count{route="fallback",method="GET",status="404"}"#, 1.0),
        (r#"exam_answers_total{outcome="saved"}"#, 2.0),
        (r#"exam_answers_total{outcome="refused"}"#, 1.0),
        (r#"exam_submissions_total{trigger="student"}"#, 1.0),
        (r#"exam_generation_outcomes_total{outcome="generated",generator="builtin"}"#, 1.0),
        (r#"exam_generation_duration_seconds_count{stage="extract",generator="builtin"}"#, 1.0),
        (r#"exam_generation_duration_seconds_count{stage="generate",generator="builtin"}"#, 1.0),
        (r#"exam_generation_duration_seconds_count{stage="total",generator="builtin"}"#, 1.0),
        (r#"exam_pdf_extraction_duration_seconds_count{outcome="ok"}"#, 1.0),
        (r#"exam_store_operation_duration_seconds_count{operation="put_file",outcome="ok"}"#, 1.0),
        (r#"exam_bus_background_backlog"#, 0.0),
    ] {
        assert_eq!(value(&text, series), Some(n), "{series}:\n{text}");
    }
    // The HTTP route is timed too: the sum is positive and the +Inf bucket holds every request.
    let route = r#"route="/api/v1/exams",method="POST",status="202""#;
    assert!(value(&text, &format!("exam_http_request_duration_seconds_sum{{{route}}}")).unwrap() > 0.0);
    assert_eq!(value(&text, &format!(r#"exam_http_request_duration_seconds_bucket{{{route},le="+Inf"}}"#)), Some(1.0));
    // Store operations and publishes, by kind and outcome.
    for series in [
        r#"exam_http_request_duration_seconds_count{route="/api/v1/exams/{id}/questions",method="GET",status="200"}"#,
        r#"exam_store_operation_duration_seconds_count{operation="get",outcome="ok"}"#,
        r#"exam_store_operation_duration_seconds_count{operation="get",outcome="not_found"}"#,
        r#"exam_store_operation_duration_seconds_count{operation="put",outcome="ok"}"#,
        r#"exam_store_operation_duration_seconds_count{operation="list",outcome="ok"}"#,
        r#"exam_bus_publish_duration_seconds_count{topic="exam-announcements",outcome="ok"}"#,
        r#"exam_bus_publish_duration_seconds_count{topic="exam-uploads",outcome="ok"}"#,
        r#"exam_bus_received_total{topic="exam-uploads"}"#,
        r#"exam_bus_received_total{topic="exam-announcements"}"#,
    ] {
        assert!(value(&text, series).is_some_and(|v| v >= 1.0), "{series}:\n{text}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_metrics_address_there_is_no_listener() {
    let app = common::spawn_app().await;
    assert_eq!(app.metrics_port, None);
    assert_eq!(app.client.get(app.url("/metrics")).send().await.unwrap().status().as_u16(), 404);
    app.stop().await;
}
