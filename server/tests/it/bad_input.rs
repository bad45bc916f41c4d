//! Bad input gets a clear error and loses nothing.

use crate::common;
use crate::hostile;

use common::{fixture, spawn_app};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_validated_with_readable_errors() {
    let app = spawn_app().await;

    let r = app.upload("notes.pdf", b"just some text, not a PDF at all".to_vec(), &[]).await;
    assert_eq!(r.status().as_u16(), 415);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("not a PDF"));

    for (field, value) in [("mcq", "21"), ("options", "1"), ("true_false", "x")] {
        let r = app.upload("a.pdf", fixture("lecture.pdf"), &[(field, value)]).await;
        assert_eq!(r.status().as_u16(), 422, "{field}={value}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["field"], field);
        assert!(body["error"].as_str().unwrap().starts_with(field));
    }
    let r = app.upload("a.pdf", fixture("lecture.pdf"), &[("mcq", "0"), ("true_false", "0")]).await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("at least one"));

    let form = reqwest::multipart::Form::new().text("mcq", "3");
    let r = app.client.post(app.url("/api/v1/exams")).multipart(form).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("Choose a PDF"));

    // Nothing was stored for any refused upload.
    let (_, list) = app.get_json("/api/v1/exams").await;
    assert_eq!(list.as_array().unwrap().len(), 0);
    assert!(!app.data.join("objects/exams/exams").exists());
    app.stop().await;
}

/// A client that announces a too-large body (curl does, with `Expect: 100-continue`) gets the
/// 413 before sending it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_uploads_are_refused_before_the_body_is_sent() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let mut s = common::settings(dir.path());
    s.max_upload_bytes = 1024 * 1024;
    let app = common::spawn_with(s).await;
    let mut tcp = tokio::net::TcpStream::connect(&app.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/exams HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        app.addr,
        app.token,
        3 * 1024 * 1024
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), tcp.read_to_end(&mut response)).await;
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("larger than the 1 MiB limit"), "{text}");
    let (_, list) = app.get_json("/api/v1/exams").await;
    assert_eq!(list.as_array().unwrap().len(), 0);
    app.stop().await;
}

/// A streamed body without a length is cut off at the limit while it is read, not buffered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_streamed_uploads_are_cut_off_at_the_limit() {
    use tower::ServiceExt;
    let dir = tempfile::tempdir().unwrap();
    let mut s = common::settings(dir.path());
    s.max_upload_bytes = 1024 * 1024;
    let app = server::Application::build(s, common::extractor()).await.unwrap();
    let token = common::token_for(&app.platform(), common::ADMIN_EMAIL).await;
    let head =
        "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n";
    let chunks = std::iter::once(Ok::<_, std::io::Error>(bytes::Bytes::from(head)))
        .chain(std::iter::repeat_with(|| Ok(bytes::Bytes::from(vec![b' '; 64 * 1024]))).take(48));
    let req = axum::http::Request::post("/api/v1/exams")
        .header("content-type", "multipart/form-data; boundary=x")
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::from_stream(futures_util::stream::iter(chunks)))
        .unwrap();
    let res = app.router().oneshot(req).await.unwrap();
    assert_eq!(res.status().as_u16(), 413);
    let body = axum::body::to_bytes(res.into_body(), 1 << 16).await.unwrap();
    assert!(String::from_utf8_lossy(&body).contains("1 MiB"));
    assert!(app.platform().exams().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_pdfs_fail_with_a_reason_and_the_upload_is_kept() {
    let app = spawn_app().await;
    let good = fixture("lecture.pdf");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated.pdf", good[..good.len() / 2].to_vec(), "damaged"),
        ("garbage.pdf", [b"%PDF-1.4\n".as_slice(), &[0x9c; 4000]].concat(), "damaged"),
        ("encrypted.pdf", fixture("encrypted.pdf"), "password"),
        ("scan.pdf", fixture("image-only.pdf"), "no extractable text"),
    ];
    let mut ids = Vec::new();
    for (name, bytes, _) in &cases {
        let r = app.upload(name, bytes.clone(), &[]).await;
        assert_eq!(r.status().as_u16(), 202, "{name}");
        ids.push(r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
    }
    for ((name, _, needle), id) in cases.iter().zip(&ids) {
        let e = app.wait_until_settled(id).await;
        assert_eq!(e["status"], "failed", "{name}");
        let err = e["error"].as_str().unwrap();
        assert!(err.contains(needle), "{name}: {err}");
        // The document itself is kept.
        let folder = app.data.join("objects/exams/exams").join(id);
        assert!(std::fs::read_dir(&folder).unwrap().count() == 1, "{name}");
    }
    // The process is up and other uploads still work.
    let r = app.upload("lecture.pdf", good, &[("mcq", "1"), ("true_false", "0")]).await;
    let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    assert_eq!(app.wait_until_settled(&id).await["status"], "draft");
    app.stop().await;
}

/// Decompression bombs (issue 10, item 3): a 0.44 MiB PDF whose content inflates to 128 MiB of
/// text operators, and a 1 MiB PDF of 1 GiB of zeros, once took the reader to 5.4 and 2.1 GB
/// and the gateway to 1.5 GB. Now each exam fails with a readable reason, nothing of their
/// text is stored, and the gateway goes on serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decompression_bombs_fail_the_exam_with_a_reason() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for (name, pdf) in [("bomb.pdf", hostile::text_bomb()), ("zeros.pdf", hostile::zeros_bomb())] {
        assert!(pdf.len() <= 1100 << 10, "{name}: {} bytes", pdf.len());
        let r = app.upload(name, pdf, &[]).await;
        assert_eq!(r.status().as_u16(), 202, "{name}");
        ids.push(r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        let e = app.wait_until_settled(id).await;
        assert_eq!(e["status"], "failed", "{e}");
        let err = e["error"].as_str().unwrap();
        assert!(err.starts_with("The PDF is too large to read: "), "{err}");
        assert!(!app.data.join(format!("objects/exams/text/{id}.json")).exists());
    }
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = app.upload("lecture.pdf", fixture("lecture.pdf"), &[("mcq", "1"), ("true_false", "0")]).await;
    let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    assert_eq!(app.wait_until_settled(&id).await["status"], "draft");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_file_names_are_stored_safely() {
    let app = spawn_app().await;
    let r = app.upload("../../Über Vorlesung 3.pdf", fixture("lecture.pdf"), &[("mcq", "1"), ("true_false", "1")]).await;
    assert_eq!(r.status().as_u16(), 202);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["title"], "Über Vorlesung 3");
    let id = created["id"].as_str().unwrap();
    let stored: Vec<String> = std::fs::read_dir(app.data.join("objects/exams/exams").join(id))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(stored, ["_ber_Vorlesung_3.pdf"]);
    assert_eq!(app.wait_until_settled(id).await["title"], "Über Vorlesung 3");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submissions_are_checked() {
    let app = spawn_app().await;
    // No exam `nope`: nothing to join, and no submission to it from a browser that joined nothing.
    let mut nobody = app.browser();
    let r =
        nobody.client.post(nobody.url("/api/v1/exams/nope/join")).json(&serde_json::json!({"code": "ABCD-EFGH", "name": "A"})).send().await;
    assert_eq!(r.unwrap().status().as_u16(), 404);
    let (status, _) = nobody.post_json("/api/v1/exams/nope/submissions", &serde_json::json!({"answers": {}})).await;
    assert_eq!(status, 401);
    let created: Value = app.upload("l.pdf", fixture("lecture.pdf"), &[("mcq", "1"), ("true_false", "0")]).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    app.wait_until_settled(id).await;
    app.post_json(&format!("/api/v1/exams/{id}/publish"), &serde_json::json!({})).await;
    // The name is checked when joining (a blank one names the field); a joined browser
    // submitting to another exam is refused.
    let (status, body) = nobody.join(&app, id, "  ").await;
    assert_eq!((status, body["field"].as_str()), (422, Some("name")), "{body}");
    let a = app.student(id, "A").await;
    let (status, _) = a.post_json("/api/v1/exams/nope/submissions", &serde_json::json!({"answers": {}})).await;
    assert_eq!(status, 401);
    let (status, body) = a.post_json(&format!("/api/v1/exams/{id}/submissions"), &serde_json::json!({"answers": {"../q": "a"}})).await;
    assert_eq!((status, body["field"].as_str()), (422, Some("answers")));
    let r = a
        .with_cookie(a.client.post(a.url(&format!("/api/v1/exams/{id}/submissions"))))
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    // Nothing refused was filed.
    let (_, subs) = app.get_json(&format!("/api/v1/exams/{id}/submissions")).await;
    assert_eq!(subs.as_array().map(Vec::len), Some(0), "{subs}");
    app.stop().await;
}

/// A 120-character name in a non-Latin script (over 1,000 bytes percent-encoded) joins, takes
/// and submits an exam on the embedded store, whose keys are file names of at most 255 bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_non_latin_student_name_can_take_an_exam() {
    let app = spawn_app().await;
    let id = common::bank_json_upload(&app, &app.client, "Names.json", 1).await["id"].as_str().unwrap().to_owned();
    app.post_json(&format!("/api/v1/exams/{id}/publish"), &serde_json::json!({})).await;
    let name = "山".repeat(120);
    let student = app.student(&id, &name).await;
    assert_eq!(student.student, name);
    let mut ws = student.ws(&format!("/api/v1/exams/{id}/attempt")).await;
    let resumed = ws.until(|f| f["type"] == "resumed").await;
    let q = resumed["question_order"][0].as_str().unwrap().to_owned();
    ws.send_json(&serde_json::json!({"type": "answer", "question_id": q, "option_id": "a"})).await;
    ws.until(|f| f["type"] == "saved").await;
    ws.send_json(&serde_json::json!({"type": "submit"})).await;
    let result = ws.until(|f| f["type"] == "result").await;
    assert_eq!(result["report"]["score"], 1, "{result}");
    let (_, subs) = app.get_json(&format!("/api/v1/exams/{id}/submissions")).await;
    assert_eq!(subs[0]["student"], name.as_str());
    app.stop().await;
}

/// Server functions called with missing or undecodable arguments answer 400, not 500
/// (issue 10, item 13).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_function_argument_errors_are_400() {
    use leptos::server_fn::ServerFn;
    let app = spawn_app().await;
    let teacher_fn = app.url(app::server_fns::LoadTeacherExam::PATH);
    let student_fn = app.url(app::server_fns::LoadExamPaperVersion::PATH);
    let cases = [
        (app.client.post(&teacher_fn).form(&[("nothing", "here")]), "a missing argument"),
        (app.client.post(&teacher_fn).header("content-type", "application/x-www-form-urlencoded").body(""), "an empty body"),
        (crate::common::http().build().unwrap().post(&student_fn).form(&[("id", "x"), ("version", "not a number")]), "a mistyped argument"),
    ];
    for (request, what) in cases {
        let r = request.send().await.unwrap();
        let status = r.status().as_u16();
        let body = r.text().await.unwrap();
        assert_eq!(status, 400, "{what}: {body}");
    }
    // A server function's own failure is still an error of the server's choosing, not a 400.
    let r = app.client.post(&teacher_fn).form(&[("id", "no-such-exam")]).send().await.unwrap();
    assert_ne!(r.status().as_u16(), 400);
    app.stop().await;
}

/// A 5 KB file name and no title: the exam is made with a title shortened from the file name,
/// not refused with "title: must be at most 200 characters" (issue 10, item 13).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_very_long_file_name_gives_a_shortened_title() {
    let app = spawn_app().await;
    let name = format!("{}.pdf", "Lecture notes on the history of computing ".repeat(120));
    assert!(name.len() > 5000);
    let r = app.upload(&name, fixture("lecture.pdf"), &[("mcq", "1"), ("true_false", "0")]).await;
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 202, "{body}");
    let title = body["title"].as_str().unwrap();
    assert!(title.chars().count() <= 200 && title.starts_with("Lecture notes on the history"), "{title}");
    let id = body["id"].as_str().unwrap();
    assert_eq!(app.wait_until_settled(id).await["status"], "draft");
    // The same for an imported bank.
    let json_name = format!("{}.json", "Bank ".repeat(1200));
    let created = common::bank_json_upload(&app, &app.client, &json_name, 1).await;
    assert!(created["title"].as_str().unwrap().chars().count() <= 200);
    app.stop().await;
}

/// An imported bank gets the limits an edit has (issue 10, item 11): a question of megabytes
/// was accepted, stored and cached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_banks_have_the_text_limits_of_edits() {
    let app = spawn_app().await;
    for (question, option) in [("Q".repeat(2_001), "a".to_owned()), ("Fine?".to_owned(), "o".repeat(1 << 20))] {
        let qs = serde_json::json!([{"question": question, "options": [option.clone(), "b"], "correct_answer": option}]);
        let part =
            reqwest::multipart::Part::bytes(serde_json::to_vec(&qs).unwrap()).file_name("big.json").mime_str("application/json").unwrap();
        let r =
            app.client.post(app.url("/api/v1/exams")).multipart(reqwest::multipart::Form::new().part("file", part)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 422);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["field"], "file");
        assert!(body["error"].as_str().unwrap().contains("at most 2000 characters"), "{body}");
    }
    let (_, list) = app.get_json("/api/v1/exams").await;
    assert_eq!(list.as_array().unwrap().len(), 0);
    app.stop().await;
}
