//! The caches of immutable records are bounded in entries and bytes (issue 10, item 11): each
//! import used to add its bank to a map that never shrank.

use std::sync::Arc;

use exam_core::metrics::{CoreMetrics, MeteredStore};
use exam_core::records::{BANK_CACHE, Records};
use exam_core::rules::{RULES_TTL, Rules};
use exam_core::store::{FsStore, ObjectStore};
use exam_domain::{ExamId, PassMark, QuestionBank};

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

/// A class answering at once when an exam's cached rules expire: one of them reads the
/// settings again and the others get its result (every answer needs the rules; 200 students
/// used to read the two records 200 times each second).
#[tokio::test]
async fn expired_rules_are_read_once_for_many_waiting_answers() {
    let dir = tempfile::tempdir().unwrap();
    let id = ExamId::parse("e1").unwrap();
    let metrics = CoreMetrics::default();
    let mut registry = prometheus_client::registry::Registry::default();
    metrics.register(&mut registry);
    let fs: Arc<dyn ObjectStore> = Arc::new(FsStore::open(dir.path(), "exams").await.unwrap());
    let records = Arc::new(Records::new(Arc::new(MeteredStore::new(fs, metrics))));
    let rules = Rules::new(records, Arc::new(exam_core::clock::SystemClock), PassMark::default());
    rules.put_settings(&id, &serde_json::json!({"time_limit_secs": 600})).await.unwrap();
    // Store reads so far (a load reads the settings and the accommodations).
    let reads = || {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        text.lines()
            .filter(|l| l.contains("operation_duration_seconds_count") && l.contains(r#"operation="get""#))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum::<u64>()
    };
    let after_write = reads();
    // Cached: no read.
    assert_eq!(rules.get(&id).await.unwrap().settings.time_limit_secs, Some(600));
    assert_eq!(reads(), after_write);
    tokio::time::sleep(RULES_TTL + std::time::Duration::from_millis(100)).await;
    let all = futures_util::future::join_all((0..50).map(|_| rules.get(&id))).await;
    assert!(all.iter().all(|r| r.as_ref().unwrap().settings.time_limit_secs == Some(600)));
    assert_eq!(reads(), after_write + 2, "50 answers waiting on expired rules load them once (two reads)");
}
