//! The authoring half of core, without HTTP: import, edit the draft, publish versions, stale
//! revisions, exports.

mod common;

use common::{bank_json, owner, platform};
use exam_core::service::ServiceError;
use exam_domain::{ExamStatus, QuestionEdit, QuestionId};

#[tokio::test]
async fn import_edit_publish_and_edit_again_make_consecutive_versions() {
    let f = platform().await;
    let a = f.platform.authoring();
    let exam = a.import_exam(&owner(), None, "notes/Week 3.json", &bank_json(3)).await.unwrap();
    assert_eq!((exam.title.as_str(), exam.status), ("Week 3", ExamStatus::Draft));
    let first = a.teacher_exam(&exam.id).await.unwrap();
    assert!(first.versions.is_empty() && first.draft.is_some());

    let q1 = QuestionId::parse("q1").unwrap();
    let edit = QuestionEdit { question: "Edited?".into(), options: vec!["x".into(), "y".into()], correct: 1, explanation: None };
    let edited = a.edit_question(&exam.id, &q1, edit.clone(), Some(first.revision)).await.unwrap();
    assert_eq!(edited.questions[0].question, "Edited?");
    // A stale revision (another tab) is refused, not silently overwritten.
    let stale = a.edit_question(&exam.id, &q1, edit, Some(first.revision)).await.unwrap_err();
    assert!(matches!(stale, ServiceError::Conflict(_)));

    let published = a.publish(&exam.id).await.unwrap();
    assert_eq!((published.status, published.question_count), (ExamStatus::Published, 3));
    assert_eq!(a.publish(&exam.id).await.unwrap().question_count, 3, "nothing unpublished: no new version");
    let t = a.teacher_exam(&exam.id).await.unwrap();
    assert_eq!(t.versions.iter().map(|v| v.version).collect::<Vec<_>>(), vec![1]);
    assert!(t.draft.is_none());

    let q2 = QuestionId::parse("q2").unwrap();
    a.delete_question(&exam.id, &q2, Some(t.revision)).await.unwrap();
    assert_eq!(f.platform.attempts().paper(&exam.id).await.unwrap().questions.len(), 3, "students keep version 1 until publishing");
    a.publish(&exam.id).await.unwrap();
    let paper = f.platform.attempts().paper(&exam.id).await.unwrap();
    assert_eq!((paper.version, paper.questions.len()), (2, 2));
    let v1 = a.export_bank(&exam.id, Some(1)).await.unwrap();
    assert_eq!(v1.questions.len(), 3);
}

#[tokio::test]
async fn a_title_from_a_long_file_name_is_shortened_and_a_bad_bank_names_the_file_field() {
    let f = platform().await;
    let a = f.platform.authoring();
    let long = format!("{}.json", "n".repeat(5000));
    let exam = a.import_exam(&owner(), None, &long, &bank_json(1)).await.unwrap();
    assert_eq!(exam.title.chars().count(), 200);
    let e = a.import_exam(&owner(), None, "x.json", b"{\"questions\": []}").await.unwrap_err();
    assert!(matches!(e, ServiceError::Invalid { ref field, .. } if field == "file"), "{e:?}");
}
