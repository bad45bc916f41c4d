//! The S3 object store (aws-sdk-s3): MinIO, RustFS, Garage, Ceph RGW, AWS S3.
//!
//! * Endpoint override, path-style addressing and static credentials for S3-compatible stores.
//! * Uploads stream from the spool file: one `PutObject` up to 16 MiB, multipart above, each
//!   part read from disk as it is sent; nothing holds the whole document in memory.
//! * `PutMode::CreateNew` sends `If-None-Match: *` (atomic on stores that support conditional
//!   writes) after a `HeadObject` check (which also covers stores that ignore the header).
//! * Every call has a connect timeout and an overall deadline, so a store that is down yields
//!   `StoreError::Unavailable` quickly instead of a hang.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;
use exam_core::store::{ObjectInfo, ObjectMeta, ObjectStore, PutMode, StoreError};

/// Objects up to this size go in one request; larger ones as multipart uploads.
const MULTIPART_THRESHOLD: u64 = 16 * 1024 * 1024;
const PART_SIZE: u64 = 8 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct S3Settings {
    /// `S3_ENDPOINT`, e.g. `http://minio.exams.svc:9000`; `None` for AWS itself.
    pub endpoint: Option<String>,
    /// `S3_BUCKET` (default `exams`).
    pub bucket: String,
    /// `S3_REGION` / `AWS_REGION` (default `us-east-1`).
    pub region: String,
    /// `S3_FORCE_PATH_STYLE` (default true: what MinIO-style stores need).
    pub path_style: bool,
    /// `S3_CREATE_BUCKET` (default true): create the bucket at start if it is missing.
    pub create_bucket: bool,
    /// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (from a Kubernetes Secret).
    pub access_key: String,
    pub secret_key: exam_core::Secret,
    /// Deadline for one whole operation (retries included).
    pub operation_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
}

fn unavailable<E: std::error::Error + Send + Sync + 'static, R: std::fmt::Debug>(what: &str, e: SdkError<E, R>) -> StoreError {
    let detail = match &e {
        SdkError::ServiceError(s) => format!("{}", s.err()),
        SdkError::TimeoutError(_) => "timed out".to_owned(),
        SdkError::DispatchFailure(d) => format!("cannot connect ({:?})", d.as_connector_error().map(|c| c.to_string())),
        other => other.to_string(),
    };
    StoreError::Unavailable(format!("{what}: {detail}"))
}

fn status_of<E>(e: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

impl S3Store {
    pub async fn connect(s: &S3Settings) -> Result<Self, StoreError> {
        let mut conf = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(s.region.clone()))
            .force_path_style(s.path_style)
            .credentials_provider(Credentials::new(s.access_key.clone(), s.secret_key.expose().to_owned(), None, None, "environment"))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3))
                    .operation_attempt_timeout(s.operation_timeout / 2)
                    .operation_timeout(s.operation_timeout)
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(3));
        if let Some(ep) = &s.endpoint {
            conf = conf.endpoint_url(ep);
        }
        let store = S3Store { client: Client::from_conf(conf.build()), bucket: s.bucket.clone() };
        if s.create_bucket {
            store.ensure_bucket().await?;
        }
        Ok(store)
    }

    async fn ensure_bucket(&self) -> Result<(), StoreError> {
        match self.client.head_bucket().bucket(&self.bucket).send().await {
            Ok(_) => Ok(()),
            Err(e) if status_of(&e) == Some(404) => {
                tracing::info!(bucket = %self.bucket, "creating the bucket");
                match self.client.create_bucket().bucket(&self.bucket).send().await {
                    Ok(_) => Ok(()),
                    // Another replica created it meanwhile.
                    Err(e) if matches!(e.code(), Some("BucketAlreadyOwnedByYou" | "BucketAlreadyExists")) => Ok(()),
                    Err(e) => Err(unavailable("create bucket", e)),
                }
            }
            Err(e) => Err(unavailable("head bucket", e)),
        }
    }

    /// Points the bucket's object-created notifications under `prefix` at `queue_arn` (MinIO:
    /// `arn:minio:sqs::<target id>:kafka`, the Kafka target configured on the server). This is
    /// S3's `PutBucketNotificationConfiguration`: it replaces the bucket's notification
    /// configuration as a whole, so running it again is harmless.
    pub async fn configure_upload_notifications(&self, queue_arn: &str, prefix: &str) -> Result<(), StoreError> {
        use aws_sdk_s3::types::{
            Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter, QueueConfiguration, S3KeyFilter,
        };
        let filter = NotificationConfigurationFilter::builder()
            .key(S3KeyFilter::builder().filter_rules(FilterRule::builder().name(FilterRuleName::Prefix).value(prefix).build()).build())
            .build();
        let queue = QueueConfiguration::builder()
            .id("exam-uploads")
            .queue_arn(queue_arn)
            .events(Event::S3ObjectCreated)
            .filter(filter)
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        self.client
            .put_bucket_notification_configuration()
            .bucket(&self.bucket)
            .notification_configuration(NotificationConfiguration::builder().queue_configurations(queue).build())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable("put bucket notification configuration", e))
    }

    fn info(
        key: &str,
        size: Option<i64>,
        e_tag: Option<&str>,
        modified: Option<&aws_smithy_types::DateTime>,
        meta: ObjectMeta,
    ) -> ObjectInfo {
        ObjectInfo {
            key: key.to_owned(),
            size: size.and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
            e_tag: e_tag.unwrap_or_default().trim_matches('"').to_owned(),
            last_modified: modified.and_then(|d| std::time::SystemTime::try_from(*d).ok()),
            meta,
        }
    }

    fn meta_of(content_type: Option<&str>, user: Option<&HashMap<String, String>>) -> ObjectMeta {
        ObjectMeta {
            content_type: content_type.unwrap_or_default().to_owned(),
            user: user.map(|m| m.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect::<BTreeMap<_, _>>()).unwrap_or_default(),
        }
    }

    async fn put_stream(&self, key: &str, body: ByteStream, len: u64, meta: &ObjectMeta, mode: &PutMode) -> Result<ObjectInfo, StoreError> {
        let mut req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_length(i64::try_from(len).unwrap_or(i64::MAX))
            .set_metadata(Some(meta.user.iter().map(|(k, v)| (k.clone(), v.clone())).collect()))
            .body(body);
        if !meta.content_type.is_empty() {
            req = req.content_type(&meta.content_type);
        }
        match mode {
            PutMode::Overwrite => {}
            PutMode::CreateNew => req = req.if_none_match("*"),
            PutMode::IfMatch(tag) => req = req.if_match(format!("\"{tag}\"")),
        }
        match (req.send().await, mode) {
            (Ok(out), _) => Ok(Self::info(key, i64::try_from(len).ok(), out.e_tag(), None, meta.clone())),
            (Err(e), PutMode::CreateNew) if status_of(&e) == Some(412) => Err(StoreError::AlreadyExists(key.to_owned())),
            // 412: another version; 404: gone; 409: a concurrent conditional write won (AWS).
            (Err(e), PutMode::IfMatch(_)) if matches!(status_of(&e), Some(404 | 409 | 412)) => Err(StoreError::Changed(key.to_owned())),
            (Err(e), _) => Err(unavailable(&format!("put {key}"), e)),
        }
    }

    async fn put_multipart(&self, key: &str, path: &Path, len: u64, meta: &ObjectMeta) -> Result<ObjectInfo, StoreError> {
        let mut create = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .set_metadata(Some(meta.user.iter().map(|(k, v)| (k.clone(), v.clone())).collect()));
        if !meta.content_type.is_empty() {
            create = create.content_type(&meta.content_type);
        }
        let upload = create.send().await.map_err(|e| unavailable(&format!("start multipart {key}"), e))?;
        let upload_id = upload.upload_id().unwrap_or_default().to_owned();
        let result = async {
            let mut parts = Vec::new();
            let mut offset = 0;
            let mut number = 1;
            while offset < len {
                let size = PART_SIZE.min(len - offset);
                let body = ByteStream::read_from()
                    .path(path)
                    .offset(offset)
                    .length(Length::Exact(size))
                    .build()
                    .await
                    .map_err(|e| StoreError::Unavailable(format!("read spool file: {e}")))?;
                let out = self
                    .client
                    .upload_part()
                    .bucket(&self.bucket)
                    .key(key)
                    .upload_id(&upload_id)
                    .part_number(number)
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| unavailable(&format!("upload part {number} of {key}"), e))?;
                parts.push(CompletedPart::builder().part_number(number).set_e_tag(out.e_tag().map(str::to_owned)).build());
                offset += size;
                number += 1;
            }
            let done = self
                .client
                .complete_multipart_upload()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(&upload_id)
                .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
                .send()
                .await
                .map_err(|e| unavailable(&format!("complete multipart {key}"), e))?;
            Ok(Self::info(key, i64::try_from(len).ok(), done.e_tag(), None, meta.clone()))
        }
        .await;
        if result.is_err() {
            let _ = self.client.abort_multipart_upload().bucket(&self.bucket).key(key).upload_id(&upload_id).send().await;
        }
        result
    }
}

#[async_trait]
impl ObjectStore for S3Store {
    async fn put_bytes(&self, key: &str, body: Bytes, meta: &ObjectMeta, mode: PutMode) -> Result<ObjectInfo, StoreError> {
        if mode == PutMode::CreateNew && self.head(key).await?.is_some() {
            return Err(StoreError::AlreadyExists(key.to_owned()));
        }
        let len = body.len() as u64;
        self.put_stream(key, ByteStream::from(body), len, meta, &mode).await
    }

    async fn put_file(&self, key: &str, path: &Path, meta: &ObjectMeta) -> Result<ObjectInfo, StoreError> {
        let len = tokio::fs::metadata(path).await.map_err(|e| StoreError::Unavailable(format!("spool file: {e}")))?.len();
        if len > MULTIPART_THRESHOLD {
            return self.put_multipart(key, path, len, meta).await;
        }
        let body = ByteStream::from_path(path).await.map_err(|e| StoreError::Unavailable(format!("spool file: {e}")))?;
        self.put_stream(key, body, len, meta, &PutMode::Overwrite).await
    }

    async fn get(&self, key: &str) -> Result<Option<(Bytes, ObjectInfo)>, StoreError> {
        match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => {
                let meta = Self::meta_of(out.content_type(), out.metadata());
                let info = Self::info(key, out.content_length(), out.e_tag(), out.last_modified(), meta);
                let bytes = out.body.collect().await.map_err(|e| StoreError::Unavailable(format!("read {key}: {e}")))?.into_bytes();
                Ok(Some((bytes, info)))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) || status_of(&e) == Some(404) => Ok(None),
            Err(e) => Err(unavailable(&format!("get {key}"), e)),
        }
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => {
                let meta = Self::meta_of(out.content_type(), out.metadata());
                Ok(Some(Self::info(key, out.content_length(), out.e_tag(), out.last_modified(), meta)))
            }
            Err(e) if status_of(&e) == Some(404) => Ok(None),
            Err(e) => Err(unavailable(&format!("head {key}"), e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| unavailable(&format!("list {prefix}"), e))?;
            for o in page.contents() {
                if let Some(k) = o.key() {
                    out.push(Self::info(k, o.size(), o.e_tag(), o.last_modified(), ObjectMeta::default()));
                }
            }
            match page.next_continuation_token() {
                Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_owned()),
                _ => break,
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match self.client.delete_object().bucket(&self.bucket).key(key).send().await {
            Ok(_) => Ok(()),
            Err(e) if status_of(&e) == Some(404) => Ok(()),
            Err(e) => Err(unavailable(&format!("delete {key}"), e)),
        }
    }

    async fn check(&self) -> Result<(), StoreError> {
        self.client.head_bucket().bucket(&self.bucket).send().await.map(|_| ()).map_err(|e| unavailable("head bucket", e))
    }

    fn bucket(&self) -> &str {
        &self.bucket
    }
}
