//! An exam's data lifecycle over HTTP, on the embedded directory store and on a real S3 server
//! (s3s-fs): a student's data erased (one exam, then everywhere), an exam exported from one
//! installation and imported into another, an exam deleted with nothing of it left in the
//! bucket. The rules themselves are tested without HTTP in `core/tests/lifecycle.rs`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use exam_backends::{BackendSettings, S3Settings, StoreSettings};
use exam_core::store::ObjectStore;
use serde_json::{Value, json};

use crate::common::{self, TestApp, bank_json_upload};
use crate::real;

fn s3_backend(s3: &real::S3, app: &server::Settings) -> BackendSettings {
    BackendSettings {
        store: StoreSettings::S3(S3Settings {
            endpoint: Some(s3.endpoint()),
            bucket: real::BUCKET.into(),
            region: "us-east-1".into(),
            path_style: true,
            create_bucket: true,
            access_key: real::AK.into(),
            secret_key: exam_core::Secret::new(real::SK),
            operation_timeout: Duration::from_secs(10),
        }),
        kafka: None,
        notify_uploads: true,
        uploads_topic: app.process.uploads_topic.clone(),
    }
}

/// A gateway on `backends` (the embedded store when `None`) and a handle on the same store.
async fn gateway(data: &Path, backends: Option<BackendSettings>) -> (TestApp, Arc<dyn ObjectStore>) {
    let mut s = common::settings(data);
    s.process.backends = backends;
    let store_settings = s.process.backend_settings();
    let app = common::spawn_with(s).await;
    let store = exam_backends::connect(&store_settings).await.unwrap().store;
    (app, store)
}

/// Keys whose name or content mentions `needle` (case-insensitive). Two kinds are not the
/// exam's data and are left out: a teacher's own activity log (it records that they deleted an
/// exam) and browser sessions (a student's cookie record lists the exams it joined, under the
/// name it joined with, until it expires; see ARCHITECTURE.md, Known limits).
async fn mentions(store: &dyn ObjectStore, needle: &str) -> Vec<String> {
    let needle = needle.to_lowercase();
    let mut hits = Vec::new();
    for info in store.list("").await.unwrap() {
        let Some((body, _)) = store.get(&info.key).await.unwrap() else { continue };
        let text = String::from_utf8_lossy(&body).to_lowercase();
        let theirs = info.key.starts_with("audit/teachers/") || info.key.starts_with("auth/sessions/");
        if !theirs && (info.key.to_lowercase().contains(&needle) || text.contains(&needle)) {
            hits.push(info.key);
        }
    }
    hits
}

/// A published three-question exam that Ada Lovelace and Bob have each submitted.
async fn sat_exam(app: &TestApp) -> String {
    let id = bank_json_upload(app, &app.client, "Lifecycle.json", 3).await["id"].as_str().unwrap().to_owned();
    assert_eq!(app.client.post(app.url(&format!("/api/v1/exams/{id}/publish"))).send().await.unwrap().status(), 200);
    for (name, answers) in [("Ada Lovelace", json!({"q1": "a", "q2": "a", "q3": "b"})), ("Bob", json!({"q1": "b", "q2": "a", "q3": "a"}))] {
        let student = app.student(&id, name).await;
        let (status, report) = student.post_json(&format!("/api/v1/exams/{id}/submissions"), &json!({"answers": answers})).await;
        assert_eq!(status, 200, "{name} submits: {report}");
    }
    id
}

async fn results(app: &TestApp, id: &str) -> String {
    let r = app.client.get(app.url(&format!("/api/v1/exams/{id}/results.csv"))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

/// Erases Ada in the exam, then Bob everywhere; both leave no trace, the results keep their rows.
async fn erase_students(app: &TestApp, store: &dyn ObjectStore, id: &str) {
    let r = app.client.delete(app.url(&format!("/api/v1/exams/{id}/students/ada%20lovelace"))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let erased: Value = r.json().await.unwrap();
    assert_eq!((erased["exam_id"].as_str(), erased["submissions_anonymised"].as_u64()), (Some(id), Some(1)), "{erased}");
    let pseudonym = erased["pseudonym"].as_str().unwrap().to_owned();
    let csv = results(app, id).await;
    assert!(csv.contains(&pseudonym) && !csv.contains("Ada"), "{csv}");
    assert!(mentions(store, "lovelace").await.is_empty(), "nothing in the bucket names Ada");

    let (status, everywhere) = app.post_json("/api/v1/erasures", &json!({"student": "Bob"})).await;
    assert_eq!(status, 200, "{everywhere}");
    assert_eq!(everywhere["exams"].as_array().map(|a| a.iter().map(|e| e["exam_id"].clone()).collect::<Vec<_>>()), Some(vec![json!(id)]));
    assert!(mentions(store, "bob").await.is_empty(), "nothing in the bucket names Bob");
    assert_eq!(results(app, id).await.lines().count(), 3, "a header and two anonymous rows");
    let (status, e) = app.post_json("/api/v1/erasures", &json!({"student": ""})).await;
    assert_eq!((status, e["field"].as_str()), (422, Some("student")));
}

/// Deletes the exam: `204` (twice), gone for its teacher and its students, nothing left.
async fn delete_exam(app: &TestApp, store: &dyn ObjectStore, id: &str) {
    let ada = app.student(id, "Ada").await;
    assert!(mentions(store, id).await.len() > 5);
    for _ in 0..2 {
        let r = app.client.delete(app.url(&format!("/api/v1/exams/{id}"))).send().await.unwrap();
        assert_eq!(r.status(), 204, "deleting, and deleting again");
    }
    assert_eq!(app.get_json(&format!("/api/v1/exams/{id}/questions")).await.0, 404);
    assert_eq!(ada.get_json(&format!("/api/v1/exams/{id}")).await.0, 404, "the joined student's paper is gone");
    let (_, list) = app.get_json("/api/v1/exams").await;
    assert!(!list.to_string().contains(id), "{list}");
    assert_eq!(mentions(store, id).await, vec![format!("deletions/{id}.json")], "only the tombstone is left");
}

async fn import(app: &TestApp, archive: Vec<u8>, accept: Option<&str>) -> reqwest::Response {
    let part = reqwest::multipart::Part::bytes(archive).file_name("exam.tar.gz").mime_str("application/gzip").unwrap();
    // Redirects are the answer being checked: not followed.
    let client = common::client_with(&app.token, false);
    let mut r = client.post(app.url("/api/v1/exams/import")).multipart(reqwest::multipart::Form::new().part("file", part));
    if let Some(a) = accept {
        r = r.header(reqwest::header::ACCEPT, a);
    }
    r.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erase_export_import_and_delete_on_the_directory_store_and_on_s3() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = real::S3::start(&dir.path().join("s3")).await;
    let (local, local_store) = gateway(&dir.path().join("local"), None).await;
    let s3_settings = common::settings(&dir.path().join("cloud"));
    let (cloud, cloud_store) = gateway(&dir.path().join("cloud"), Some(s3_backend(&s3, &s3_settings))).await;

    // Exported from the directory store before anyone is erased…
    let id = sat_exam(&local).await;
    let before = results(&local, &id).await;
    let r = local.client.get(local.url(&format!("/api/v1/exams/{id}/export.tar.gz"))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/gzip");
    assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"exam-Lifecycle"));
    let archive = r.bytes().await.unwrap().to_vec();
    assert_eq!(&archive[..2], &[0x1f, 0x8b], "gzip");

    // …imported on S3: a new exam of the importing teacher, with the same results.
    let r = import(&cloud, archive.clone(), None).await;
    assert_eq!(r.status(), 201);
    let imported: Value = r.json().await.unwrap();
    let copy = imported["id"].as_str().unwrap().to_owned();
    assert_ne!(copy, id);
    assert_eq!((imported["title"].as_str(), imported["status"].as_str()), (Some("Lifecycle"), Some("published")));
    let strip_times =
        |csv: &str| csv.lines().map(|l| l.split(',').filter(|c| !c.contains('T')).collect::<Vec<_>>().join(",")).collect::<Vec<_>>();
    assert_eq!(strip_times(&results(&cloud, &copy).await), strip_times(&before));
    // The same archive from a browser's form lands on the new exam's page; a broken one goes
    // back to the dashboard with the reason (a script gets a 422 naming the field).
    let r = import(&cloud, archive, Some("text/html")).await;
    assert_eq!(r.status(), 303);
    let page = r.headers()["location"].to_str().unwrap().to_owned();
    let second = page.strip_prefix("/teacher/exams/").expect("the new exam's page").to_owned();
    assert_eq!(cloud.client.delete(cloud.url(&format!("/api/v1/exams/{second}"))).send().await.unwrap().status(), 204);
    let r = import(&cloud, b"not an archive".to_vec(), Some("text/html")).await;
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/teacher?import_error="));
    let r = import(&cloud, b"not an archive".to_vec(), None).await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert!(e["field"] == "file" && e["error"].as_str().unwrap().contains("not a readable exam archive"), "{e}");

    // Erasure and deletion, on each store.
    erase_students(&local, local_store.as_ref(), &id).await;
    delete_exam(&local, local_store.as_ref(), &id).await;
    erase_students(&cloud, cloud_store.as_ref(), &copy).await;
    delete_exam(&cloud, cloud_store.as_ref(), &copy).await;
    local.stop().await;
    cloud.stop().await;
}
