//! An exam's data after the sitting, without HTTP, on the directory store: deleting an exam
//! (everything under its id, idempotent, finished after a crash, not brought back by a late
//! bank), erasing a student (nothing of their name left, statistics kept) and archives (an
//! exam moved to another installation with its versions, settings and submissions; hostile
//! archives refused with nothing written). `server/tests/it/lifecycle.rs` runs the same over
//! HTTP against the S3 server.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use common::{Fixture, owner, platform, platform_in, replica};
use exam_core::bus::EventBus;
use exam_core::service::ServiceError;
use exam_core::store::{self, ObjectStore, PutMode};
use exam_domain::identity::TeacherId;
use exam_domain::records::DeletionRecord;
use exam_domain::{Announcement, ExamId, OptionId, QuestionBank, QuestionId, Student, keys};
use serde_json::json;

fn other_teacher() -> TeacherId {
    TeacherId::parse("fedcba9876543210fedcba9876543210").unwrap()
}

fn student(name: &str) -> Student {
    Student::parse(name).unwrap()
}

/// Opens an attempt for `name`, answers every question with `answers` (option ids in question
/// order) and submits.
async fn sit(f: &Fixture, id: &ExamId, name: &str, answers: &[&str]) {
    let attempts = f.platform.attempts();
    let mut state = attempts.open(id, student(name)).await.unwrap();
    for (i, a) in answers.iter().enumerate() {
        let q = QuestionId::parse(&format!("q{}", i + 1)).unwrap();
        attempts.save_answer(&mut state, q, OptionId::parse(a).unwrap()).await.unwrap();
    }
    attempts.submit(&state, BTreeMap::new(), false).await.unwrap();
}

/// Every object key in the store, and the keys whose key or content mentions `needle`
/// (case-insensitive).
async fn keys_mentioning(store: &dyn ObjectStore, needle: &str) -> (Vec<String>, Vec<String>) {
    let needle = needle.to_lowercase();
    let (mut all, mut hits) = (Vec::new(), Vec::new());
    for info in store.list("").await.unwrap() {
        // Listed, then removed by a deletion running in the background.
        let Some((body, _)) = store.get(&info.key).await.unwrap() else { continue };
        if info.key.to_lowercase().contains(&needle) || String::from_utf8_lossy(&body).to_lowercase().contains(&needle) {
            hits.push(info.key.clone());
        }
        all.push(info.key);
    }
    (all, hits)
}

/// A published exam with a bit of everything: two submissions, an attempt in progress,
/// settings, an accommodation, a join code (regenerated once) and students who joined.
async fn busy_exam(f: &Fixture) -> ExamId {
    let id = f.published(3).await;
    f.settings(&id, json!({"pass_mark": 50})).await;
    let code = f.platform.identity().join.code_of(&id).await.unwrap();
    f.platform.join(&id, &code, &student("Ada Lovelace")).await.unwrap();
    f.platform.regenerate_join_code(&owner(), &id).await.unwrap();
    f.platform.set_override(&id, &student("Ada Lovelace"), serde_json::from_value(json!({"extra_time_secs": 60})).unwrap()).await.unwrap();
    sit(f, &id, "Ada Lovelace", &["a", "a", "b"]).await;
    sit(f, &id, "Bob", &["b", "a", "a"]).await;
    f.platform.attempts().open(&id, student("Carol")).await.unwrap();
    id
}

#[tokio::test]
async fn deleting_an_exam_removes_everything_under_its_id_and_is_idempotent() {
    let f = platform().await;
    let id = busy_exam(&f).await;
    let kept = f.published(2).await;
    let (before, _) = keys_mentioning(f.store.as_ref(), id.as_str()).await;
    assert!(before.len() > 15, "the exam has records of many kinds: {before:?}");

    // Only the creator deletes: a teacher it is shared with is told why, anyone else learns nothing.
    f.platform.identity().access.share(&id, &owner(), &other_teacher()).await.unwrap();
    let shared = f.platform.lifecycle().delete_exam(&other_teacher(), &id).await.unwrap_err();
    assert!(matches!(shared, ServiceError::Forbidden(ref m) if m.contains("created")), "{shared:?}");
    let stranger = TeacherId::parse("11111111111111111111111111111111").unwrap();
    assert!(matches!(f.platform.lifecycle().delete_exam(&stranger, &id).await, Err(ServiceError::NotFound(_))));

    f.platform.lifecycle().delete_exam(&owner(), &id).await.unwrap();
    // Join codes point at their exam in their content, so they are covered too.
    // The teacher's own activity log keeps that they deleted it.
    let (_, left) = keys_mentioning(f.store.as_ref(), id.as_str()).await;
    let left: Vec<String> = left.into_iter().filter(|k| !k.starts_with("audit/teachers/")).collect();
    assert_eq!(left, vec![keys::deletion_key(&id)], "only the tombstone names the exam");
    let log = f.platform.identity().audit.read(exam_core::identity::audit::Scope::Teacher(&owner())).await.unwrap();
    assert!(log.iter().any(|e| e.action == "exam_deleted" && e.exam.as_ref() == Some(&id) && e.detail == "Sitting"), "{log:?}");
    let tombstone: DeletionRecord = store::get_json(f.store.as_ref(), &keys::deletion_key(&id)).await.unwrap().unwrap();
    assert!(tombstone.done);
    assert!(matches!(f.platform.exam(&id), Err(ServiceError::NotFound(_))));
    let listed: Vec<ExamId> = f.platform.exams_of(&owner()).await.unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(listed, vec![kept.clone()], "the other exam is untouched");
    assert_eq!(f.platform.submissions(&kept).await.unwrap().len(), 0);

    // A retried request succeeds; the exam stays gone after a restart.
    f.platform.lifecycle().delete_exam(&owner(), &id).await.unwrap();
    let restarted = platform_in(f.dir).await;
    assert!(restarted.platform.exam(&id).is_err());
    assert!(restarted.platform.exam(&kept).is_ok());
}

#[tokio::test]
async fn a_deletion_stopped_halfway_is_finished_at_the_next_start() {
    let f = platform().await;
    let id = busy_exam(&f).await;
    // As if the process died right after writing the tombstone.
    let tombstone = DeletionRecord {
        exam_id: id.clone(),
        by: owner().as_str().to_owned(),
        requested_at: common::START.into(),
        join_code: None,
        done: false,
    };
    store::put_json(f.store.as_ref(), &keys::deletion_key(&id), &tombstone, PutMode::Overwrite).await.unwrap();
    drop(f.platform);

    let restarted = platform_in(f.dir).await;
    assert!(restarted.platform.exam(&id).is_err(), "a tombstoned exam is never loaded");
    let mut left = Vec::new();
    for _ in 0..200 {
        left = keys_mentioning(restarted.store.as_ref(), id.as_str()).await.1;
        if left == vec![keys::deletion_key(&id)] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(left, vec![keys::deletion_key(&id)]);
    let t: DeletionRecord = store::get_json(restarted.store.as_ref(), &keys::deletion_key(&id)).await.unwrap().unwrap();
    assert!(t.done);
}

#[tokio::test]
async fn a_deletion_on_one_replica_removes_the_exam_from_the_others() {
    let f = platform().await;
    let id = f.published(2).await;
    let other = replica(&f).await;
    assert!(other.exam(&id).is_ok(), "the other replica loaded the exam");
    f.platform.lifecycle().delete_exam(&owner(), &id).await.unwrap();
    let mut gone = false;
    for _ in 0..200 {
        if other.exam(&id).is_err() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone, "the announcement reaches the other replica's catalog");
    assert!(other.exams_of(&owner()).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_bank_written_late_for_a_deleted_exam_is_removed_not_resurrected() {
    let f = platform().await;
    let id = f.published(2).await;
    f.platform.lifecycle().delete_exam(&owner(), &id).await.unwrap();

    // A generation that was still running finishes: it writes the bank and announces it.
    let bank = QuestionBank::from_json(&common::bank_json(2), &id, "Late").unwrap();
    store::put_json(f.store.as_ref(), &keys::bank_key(&id), &bank, PutMode::CreateNew).await.unwrap();
    let ready = serde_json::to_vec(&Announcement::ready(&bank, common::START.into())).unwrap();
    f.bus.publish("announcements", id.as_str(), Bytes::from(ready)).await.unwrap();

    let mut gone = false;
    for _ in 0..200 {
        if f.store.head(&keys::bank_key(&id)).await.unwrap().is_none() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone, "the late bank is removed");
    assert!(f.platform.exam(&id).is_err(), "and the exam does not come back");
}

#[tokio::test]
async fn erasing_a_student_leaves_nothing_of_their_name_and_keeps_the_statistics() {
    let f = platform().await;
    let id = busy_exam(&f).await;
    sit(&f, &id, "Ada Lovelace", &["a", "b", "a"]).await;
    f.platform.attempts().open(&id, student("Ada Lovelace")).await.unwrap();
    let other = f.published(2).await;
    sit(&f, &other, "Ada Lovelace", &["a", "a"]).await;
    let before = f.platform.statistics(&id, None).await.unwrap();
    assert_eq!(before.submissions, 2, "one kept submission per student: Ada and Bob");

    f.platform.identity().access.share(&id, &owner(), &other_teacher()).await.unwrap();
    let shared = f.platform.lifecycle().erase_student(&other_teacher(), &id, &student("Ada Lovelace")).await.unwrap_err();
    assert!(matches!(shared, ServiceError::Forbidden(_)), "{shared:?}");

    let erased = f.platform.lifecycle().erase_student(&owner(), &id, &student("ada lovelace")).await.unwrap();
    assert_eq!((erased.attempts_deleted, erased.submissions_anonymised), (1, 2));
    let pseudonym = erased.pseudonym.clone().unwrap();
    assert!(pseudonym.starts_with("Erased "), "{pseudonym}");

    let after = f.platform.statistics(&id, None).await.unwrap();
    assert_eq!((after.submissions, after.mean, after.median), (before.submissions, before.mean, before.median));
    let mut students: Vec<String> = f.platform.submissions(&id).await.unwrap().into_iter().map(|s| s.student).collect();
    students.sort();
    assert_eq!(students, vec!["Bob".to_owned(), pseudonym.clone(), pseudonym.clone()]);
    assert!(f.platform.overrides(&id).await.unwrap().students.is_empty());
    assert!(f.platform.attempts().status(&id, &student("Ada Lovelace")).await.unwrap().results.is_empty());

    // Still there in the other exam until erased everywhere.
    let (_, hits) = keys_mentioning(f.store.as_ref(), "lovelace").await;
    assert!(!hits.is_empty() && hits.iter().all(|k| k.contains(other.as_str())), "{hits:?}");
    let everywhere = f.platform.lifecycle().erase_everywhere(&owner(), &student("Ada Lovelace")).await.unwrap();
    assert_eq!(everywhere.iter().map(|e| e.exam_id.clone()).collect::<Vec<_>>(), vec![other.clone()]);
    let (_, hits) = keys_mentioning(f.store.as_ref(), "lovelace").await;
    assert!(hits.is_empty(), "nothing in the store names the student: {hits:?}");
    // Erasing again finds nothing to do.
    assert!(f.platform.lifecycle().erase_everywhere(&owner(), &student("Ada Lovelace")).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_exported_exam_imports_elsewhere_with_its_versions_settings_and_submissions() {
    let f = platform().await;
    let id = busy_exam(&f).await;
    let archive = f.platform.lifecycle().export(&id).await.unwrap();
    assert!(archive.file_name.starts_with("exam-Sitting") && archive.file_name.ends_with(".tar.gz"), "{}", archive.file_name);

    let g = platform().await;
    let imported = g.platform.lifecycle().import(&other_teacher(), Bytes::from(archive.bytes)).await.unwrap();
    assert_ne!(imported.id, id);
    assert_eq!((imported.title.as_str(), imported.status, imported.submissions), ("Sitting", exam_domain::ExamStatus::Published, 2));
    let new = imported.id.clone();
    assert!(g.platform.identity().access.get(&new).await.unwrap().is_some_and(|a| a.owner == other_teacher()));

    let subs = g.platform.submissions(&new).await.unwrap();
    assert_eq!(subs.len(), 2);
    assert!(subs.iter().all(|s| s.exam_id == new));
    assert_eq!(g.platform.settings(&new).await.unwrap(), f.platform.settings(&id).await.unwrap());
    assert_eq!(g.platform.overrides(&new).await.unwrap().students.len(), 1);
    assert_eq!(g.platform.version(&new, 1).await.unwrap().bank.exam_id, new);
    let (a, b) = (f.platform.statistics(&id, None).await.unwrap(), g.platform.statistics(&new, None).await.unwrap());
    assert_eq!((a.submissions, a.mean, a.kr20), (b.submissions, b.mean, b.kr20));
    // Attempts in progress and the join code stay behind; the import gets a code of its own.
    let (_, carol) = keys_mentioning(g.store.as_ref(), "carol").await;
    assert!(carol.is_empty(), "{carol:?}");
    let code = g.platform.identity().join.code_of(&new).await.unwrap();
    assert_ne!(Some(code), f.platform.identity().join.current(&id).await.unwrap());
    // Students sit the imported exam as any other.
    sit(&g, &new, "Dan", &["a", "a", "a"]).await;
    assert_eq!(g.platform.submissions(&new).await.unwrap().len(), 3);
}

/// A `.tar.gz` of the given entries (manifest included only if given).
fn tar_gz(entries: &[(&str, &[u8])]) -> Bytes {
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    for (name, body) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        // `append_data` refuses `..`; a hostile archive writes the raw name.
        let raw = h.as_old_mut();
        raw.name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        tar.append(&h, *body).unwrap();
    }
    Bytes::from(tar.into_inner().unwrap().finish().unwrap())
}

#[tokio::test]
async fn hostile_or_broken_archives_are_refused_with_the_reason_and_nothing_is_written() {
    let g = platform().await;
    let manifest =
        serde_json::to_vec(&json!({"format": "exam-archive", "version": 1, "exam_id": "old", "title": "T", "exported_at": common::START}))
            .unwrap();
    let bank = common::bank_json(2);
    let cases: Vec<(Bytes, &str)> = vec![
        (Bytes::from_static(b"definitely not gzip"), "not a readable exam archive"),
        (tar_gz(&[("question_bank.json", bank.as_slice())]), "no manifest.json"),
        (
            tar_gz(&[("manifest.json", b"{\"format\":\"zip\",\"version\":1,\"exam_id\":\"o\",\"title\":\"t\",\"exported_at\":\"\"}")]),
            "not an exam archive",
        ),
        (tar_gz(&[("manifest.json", manifest.as_slice()), ("../auth/setup.json", b"{}")]), "not an entry of an exam archive"),
        (tar_gz(&[("manifest.json", manifest.as_slice()), ("access.json", b"{}")]), "not an entry of an exam archive"),
        (
            tar_gz(&[
                ("manifest.json", manifest.as_slice()),
                ("question_bank.json", bank.as_slice()),
                ("submissions/ada/0001.json", b"{\"nope\":1}"),
            ]),
            "submissions/ada/0001.json",
        ),
        (tar_gz(&[("manifest.json", manifest.as_slice()), ("question_bank.json", b"[")]), "question_bank.json: not JSON"),
        (tar_gz(&[("manifest.json", manifest.as_slice())]), "neither a document nor a question bank"),
    ];
    for (archive, why) in cases {
        let e = g.platform.lifecycle().import(&owner(), archive).await.unwrap_err();
        match e {
            ServiceError::Invalid { field, message } => {
                assert_eq!(field, "file");
                assert!(message.contains(why), "expected {why:?} in {message:?}");
            }
            other => panic!("expected a 422 for {why}, got {other:?}"),
        }
    }
    let (all, _) = keys_mentioning(g.store.as_ref(), "").await;
    assert!(all.iter().all(|k| !k.starts_with("question_bank/") && !k.starts_with("submissions/")), "{all:?}");
    assert!(g.platform.exams().is_empty());
}
