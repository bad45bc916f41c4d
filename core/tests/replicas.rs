//! Two gateway replicas working on one student's attempt at the same instant: each has its
//! own per-attempt lock, so only the store's conditional writes keep them from losing each
//! other's acknowledged answers. A gate in front of one replica's store holds its write of the
//! attempt document until the other replica has acted: the interleaving that lost answers.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use common::{ada, o, platform, q, replica_on};
use exam_core::service::ServiceError;
use exam_core::store::{ObjectInfo, ObjectMeta, ObjectStore, PutMode, StoreError};

use tokio::sync::{Notify, oneshot};

/// Passes everything through, except that while armed, the next write of an attempt
/// document says it has arrived and waits to be let through.
struct Gated {
    inner: Arc<dyn ObjectStore>,
    armed: Mutex<Option<(Arc<Notify>, oneshot::Receiver<()>)>>,
}

impl Gated {
    fn new(inner: Arc<dyn ObjectStore>) -> Arc<Self> {
        Arc::new(Gated { inner, armed: Mutex::new(None) })
    }

    /// Arms the gate: returns (the write has arrived, let it through).
    fn arm(&self) -> (Arc<Notify>, oneshot::Sender<()>) {
        let (tx, rx) = oneshot::channel();
        let arrived = Arc::new(Notify::new());
        *self.armed.lock().unwrap() = Some((arrived.clone(), rx));
        (arrived, tx)
    }
}

#[async_trait]
impl ObjectStore for Gated {
    async fn put_bytes(&self, key: &str, body: Bytes, meta: &ObjectMeta, mode: PutMode) -> Result<ObjectInfo, StoreError> {
        let gate = if key.starts_with("attempts/") { self.armed.lock().unwrap().take() } else { None };
        if let Some((arrived, release)) = gate {
            arrived.notify_one();
            let _ = release.await;
        }
        self.inner.put_bytes(key, body, meta, mode).await
    }
    async fn put_file(&self, key: &str, path: &Path, meta: &ObjectMeta) -> Result<ObjectInfo, StoreError> {
        self.inner.put_file(key, path, meta).await
    }
    async fn get(&self, key: &str) -> Result<Option<(Bytes, ObjectInfo)>, StoreError> {
        self.inner.get(key).await
    }
    async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        self.inner.head(key).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError> {
        self.inner.list(prefix).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }
    async fn check(&self) -> Result<(), StoreError> {
        self.inner.check().await
    }
    fn bucket(&self) -> &str {
        self.inner.bucket()
    }
}

#[tokio::test]
async fn two_tabs_on_two_replicas_keep_both_acknowledged_answers() {
    let f = platform().await;
    let id = f.published(3).await;
    let gated = Gated::new(f.store.clone());
    let other = replica_on(&f, gated.clone()).await;
    let mut tab_a = f.platform.attempts().open(&id, ada()).await.unwrap();
    let mut tab_b = other.attempts().open(&id, ada()).await.unwrap();
    assert_eq!(tab_a.attempt, tab_b.attempt, "one attempt, two tabs");

    // Tab B's replica has read the document and is about to write it back...
    let (arrived, release) = gated.arm();
    let b = tokio::spawn(async move {
        let saved = other.attempts().save_answer(&mut tab_b, q("q2"), o("b")).await;
        (saved, tab_b)
    });
    arrived.notified().await;
    // ...when tab A saves q1 on the first replica, and is told it is saved.
    f.platform.attempts().save_answer(&mut tab_a, q("q1"), o("a")).await.unwrap();
    release.send(()).unwrap();
    let (saved, _) = b.await.unwrap();
    saved.unwrap();

    let stored = f.platform.attempts().open(&id, ada()).await.unwrap();
    assert_eq!(
        stored.answers,
        BTreeMap::from([(q("q1"), o("a")), (q("q2"), o("b"))]),
        "both acknowledged answers are in the stored attempt"
    );
    let submitted = f.platform.attempts().submit(&stored, BTreeMap::new(), false).await.unwrap();
    assert_eq!(submitted.record.answers.len(), 2);
}

#[tokio::test]
async fn an_answer_racing_a_submit_on_another_replica_is_refused_not_lost() {
    let f = platform().await;
    let id = f.published(3).await;
    let gated = Gated::new(f.store.clone());
    let other = replica_on(&f, gated.clone()).await;
    let mut tab_a = f.platform.attempts().open(&id, ada()).await.unwrap();
    f.platform.attempts().save_answer(&mut tab_a, q("q1"), o("a")).await.unwrap();
    let mut stale = other.attempts().open(&id, ada()).await.unwrap();

    // The other replica's socket has read the attempt and is about to save q2...
    let (arrived, release) = gated.arm();
    let late = tokio::spawn(async move { other.attempts().save_answer(&mut stale, q("q2"), o("b")).await });
    arrived.notified().await;
    // ...when tab A submits on the first replica.
    let submitted = f.platform.attempts().submit(&tab_a, BTreeMap::new(), false).await.unwrap();
    assert!(submitted.new);
    release.send(()).unwrap();

    let refused = late.await.unwrap().unwrap_err();
    assert!(matches!(refused, ServiceError::Conflict(ref m) if m.contains("submitted")), "{refused:?}");
    assert_eq!(submitted.record.answers, BTreeMap::from([(q("q1"), o("a"))]));
    assert!(
        f.store.get(&exam_domain::keys::attempt_key(&id, &ada().key())).await.unwrap().is_none(),
        "the late answer did not bring the submitted attempt back"
    );
    let status = f.platform.attempts().status(&id, &ada()).await.unwrap();
    assert!(status.in_progress.is_none(), "nothing in progress after the submit");
    assert_eq!(f.platform.submissions(&id).await.unwrap().len(), 1);
}
