//! The directory store's contract: what `ObjectStore` promises, on a temporary directory.

use super::*;

async fn store() -> (tempfile::TempDir, FsStore) {
    let dir = tempfile::tempdir().unwrap();
    let s = FsStore::open(dir.path(), "exams").await.unwrap();
    (dir, s)
}

#[tokio::test]
async fn put_get_head_list_delete() {
    let (_d, s) = store().await;
    let mut meta = ObjectMeta::json();
    meta.user.insert("n_mcq".into(), "5".into());
    s.put_bytes("exams/e1/a.pdf", Bytes::from_static(b"%PDF-1"), &meta, PutMode::Overwrite).await.unwrap();
    s.put_bytes("question_bank/e1.json", Bytes::from_static(b"{}"), &ObjectMeta::json(), PutMode::Overwrite).await.unwrap();
    let (bytes, info) = s.get("exams/e1/a.pdf").await.unwrap().unwrap();
    assert_eq!(&bytes[..], b"%PDF-1");
    assert_eq!(info.meta.get("N_MCQ"), Some("5"));
    assert_eq!(s.head("exams/e1/a.pdf").await.unwrap().unwrap().size, 6);
    let keys: Vec<_> = s.list("exams/").await.unwrap().into_iter().map(|i| i.key).collect();
    assert_eq!(keys, ["exams/e1/a.pdf"]);
    assert_eq!(s.list("").await.unwrap().len(), 2);
    assert_eq!(s.list("question_bank/e").await.unwrap().len(), 1);
    s.delete("exams/e1/a.pdf").await.unwrap();
    assert!(s.get("exams/e1/a.pdf").await.unwrap().is_none());
    s.delete("exams/e1/a.pdf").await.unwrap();
}

#[tokio::test]
async fn json_records_need_no_metadata_file_but_keep_explicit_metadata() {
    let (d, s) = store().await;
    s.put_bytes("attempts/e/a.json", Bytes::from_static(b"{}"), &ObjectMeta::json(), PutMode::Overwrite).await.unwrap();
    assert!(!d.path().join("meta/exams/attempts/e/a.json.json").exists());
    assert_eq!(s.head("attempts/e/a.json").await.unwrap().unwrap().meta, ObjectMeta::json());
    let mut tagged = ObjectMeta::json();
    tagged.user.insert("x".into(), "1".into());
    s.put_bytes("attempts/e/a.json", Bytes::from_static(b"{}"), &tagged, PutMode::Overwrite).await.unwrap();
    assert_eq!(s.head("attempts/e/a.json").await.unwrap().unwrap().meta, tagged);
    // Rewriting without it drops the stale metadata.
    s.put_bytes("attempts/e/a.json", Bytes::from_static(b"{}"), &ObjectMeta::json(), PutMode::Overwrite).await.unwrap();
    assert_eq!(s.head("attempts/e/a.json").await.unwrap().unwrap().meta, ObjectMeta::json());
}

#[tokio::test]
async fn create_new_never_overwrites() {
    let (_d, s) = store().await;
    s.put_bytes("submissions/e/a/0001.json", Bytes::from_static(b"1"), &ObjectMeta::json(), PutMode::CreateNew).await.unwrap();
    let err =
        s.put_bytes("submissions/e/a/0001.json", Bytes::from_static(b"2"), &ObjectMeta::json(), PutMode::CreateNew).await.unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists(_)));
    assert_eq!(&s.get("submissions/e/a/0001.json").await.unwrap().unwrap().0[..], b"1");
}

#[tokio::test]
async fn if_match_replaces_only_the_version_that_was_read() {
    let (_d, s) = store().await;
    let key = "attempts/e/ada.json";
    let first = s.put_bytes(key, Bytes::from_static(b"{\"a\":1}"), &ObjectMeta::json(), PutMode::Overwrite).await.unwrap();
    let (_, read) = s.get(key).await.unwrap().unwrap();
    assert_eq!(read.e_tag, first.e_tag, "get and put agree on the tag");
    // Same size, written within the same timestamp tick: still a different tag.
    let second =
        s.put_bytes(key, Bytes::from_static(b"{\"a\":2}"), &ObjectMeta::json(), PutMode::IfMatch(read.e_tag.clone())).await.unwrap();
    assert_ne!(second.e_tag, read.e_tag);
    let stale = s.put_bytes(key, Bytes::from_static(b"{\"a\":3}"), &ObjectMeta::json(), PutMode::IfMatch(read.e_tag)).await;
    assert!(matches!(stale, Err(StoreError::Changed(_))), "{stale:?}");
    assert_eq!(&s.get(key).await.unwrap().unwrap().0[..], b"{\"a\":2}");
    s.delete(key).await.unwrap();
    let gone = s.put_bytes(key, Bytes::from_static(b"{}"), &ObjectMeta::json(), PutMode::IfMatch(second.e_tag)).await;
    assert!(matches!(gone, Err(StoreError::Changed(_))), "a deleted object is not recreated: {gone:?}");
    assert!(s.get(key).await.unwrap().is_none());
}

#[tokio::test]
async fn keys_cannot_escape_the_bucket() {
    let (_d, s) = store().await;
    for key in ["../x", "a/../../x", "/etc/passwd", "a//b", "a\\b", "", ".tmp-x", "attempts/e/.tmp-a"] {
        let r = s.put_bytes(key, Bytes::new(), &ObjectMeta::default(), PutMode::Overwrite).await;
        assert!(matches!(r, Err(StoreError::InvalidKey(_))), "{key}");
    }
}

#[tokio::test]
async fn put_file_copies_without_consuming_the_source() {
    let (d, s) = store().await;
    let src = d.path().join("upload.pdf");
    std::fs::write(&src, b"%PDF-1.7 body").unwrap();
    let info = s.put_file("exams/e/x.pdf", &src, &ObjectMeta::default()).await.unwrap();
    assert_eq!(info.size, 13);
    assert!(src.exists());
}

#[tokio::test]
async fn if_match_notices_a_record_replaced_behind_the_stores_back() {
    let (d, s) = store().await;
    let key = "attempts/e/ada.json";
    let first = s.put_bytes(key, Bytes::from_static(b"{\"a\":1}"), &ObjectMeta::json(), PutMode::Overwrite).await.unwrap();
    assert_eq!(s.inner.tags.len(), 1, "the write remembered its tag");
    // A restore copies another version in (same size; a new file renamed into place).
    let path = d.path().join("objects/exams").join(key);
    let restored = d.path().join("restored.json");
    std::fs::write(&restored, b"{\"a\":9}").unwrap();
    std::fs::rename(&restored, &path).unwrap();
    let r = s.put_bytes(key, Bytes::from_static(b"{\"a\":2}"), &ObjectMeta::json(), PutMode::IfMatch(first.e_tag)).await;
    assert!(matches!(r, Err(StoreError::Changed(_))), "{r:?}");
    // The restored version's tag, as a reader gets it, is the one that matches.
    let (bytes, read) = s.get(key).await.unwrap().unwrap();
    assert_eq!(&bytes[..], b"{\"a\":9}");
    s.put_bytes(key, Bytes::from_static(b"{\"a\":2}"), &ObjectMeta::json(), PutMode::IfMatch(read.e_tag)).await.unwrap();
    assert_eq!(&s.get(key).await.unwrap().unwrap().0[..], b"{\"a\":2}");
}

#[tokio::test]
async fn staging_files_beside_objects_are_not_objects() {
    let (d, s) = store().await;
    s.put_bytes("attempts/e/a.json", Bytes::from_static(b"{}"), &ObjectMeta::json(), PutMode::Overwrite).await.unwrap();
    // What a crash in the middle of a write leaves behind.
    std::fs::write(d.path().join("objects/exams/attempts/e/.tmp-x1y2"), b"{\"half").unwrap();
    let keys: Vec<_> = s.list("attempts/").await.unwrap().into_iter().map(|i| i.key).collect();
    assert_eq!(keys, ["attempts/e/a.json"]);
    // Nothing else is left beside the object by a write.
    let names: Vec<_> = std::fs::read_dir(d.path().join("objects/exams/attempts/e")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
}
