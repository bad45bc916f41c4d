//! The caches of immutable records are bounded in entries and bytes (issue 10, item 11): each
//! import used to add its bank to a map that never shrank.

use std::sync::Arc;

use exam_core::records::{BANK_CACHE, Records};
use exam_core::store::{FsStore, ObjectStore};
use exam_domain::{ExamId, QuestionBank};

fn bank(id: &str, text_chars: usize) -> QuestionBank {
    let q = serde_json::json!([{"question": format!("{}?", "x".repeat(text_chars)), "options": ["a", "b"], "correct_answer": "a"}]);
    QuestionBank::from_json(&serde_json::to_vec(&q).unwrap(), &ExamId::parse(id).unwrap(), "t").unwrap()
}

#[tokio::test]
async fn the_bank_cache_is_bounded_in_entries_and_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(FsStore::open(dir.path(), "exams").await.unwrap());
    let records = Records::new(store);
    for i in 0..BANK_CACHE.entries + 50 {
        records.create_bank(bank(&format!("e{i}"), 10)).await.unwrap();
    }
    let usage = records.cache_usage();
    assert_eq!(usage.banks, BANK_CACHE.entries, "{usage:?}");
    // Evicted banks are read from the store again.
    assert_eq!(records.bank(&ExamId::parse("e0").unwrap()).await.unwrap().questions.len(), 1);
    // 1.5 MiB questions: the byte bound holds long before the entry bound.
    for i in 0..40 {
        records.create_bank(bank(&format!("big{i}"), 3 << 19)).await.unwrap();
    }
    let usage = records.cache_usage();
    assert!(usage.bank_bytes <= BANK_CACHE.bytes, "{usage:?}");
    assert!(usage.banks < BANK_CACHE.entries, "{usage:?}");
}
