//! Shared harness: starts the real gateway (embedded mode) on port 0 with its own data dir.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use exam_core::pipeline::Extractor;
use exam_generator::ExtractCommand;
use futures_util::StreamExt;
use serde_json::Value;
use server::{Application, Settings};
use tokio_tungstenite::tungstenite::Message;

pub struct TestApp {
    pub addr: String,
    pub client: reqwest::Client,
    pub data: PathBuf,
    _dir: Option<tempfile::TempDir>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

pub fn fixture(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../generator/tests/fixtures").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub fn settings(data: &Path) -> Settings {
    Settings {
        addr: "127.0.0.1:0".parse().unwrap(),
        data_dir: data.to_path_buf(),
        site_root: data.join("site"),
        spool_dir: data.to_path_buf(),
        ..Settings::default()
    }
}

/// The isolated extractor, as in production: the real binary's `extract-pdf` subcommand.
pub fn extractor() -> Extractor {
    Extractor::Isolated(ExtractCommand { program: env!("CARGO_BIN_EXE_server").into(), args: vec!["extract-pdf".into()] })
}

pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let mut app = spawn_with(settings(&data)).await;
    app._dir = Some(dir);
    app
}

pub async fn spawn_with(settings: Settings) -> TestApp {
    let data = settings.data_dir.clone();
    let app = Application::build(settings, extractor()).await.expect("app builds");
    let addr = format!("127.0.0.1:{}", app.port());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        app.run_until_stopped(async move {
            let _ = rx.await;
        })
        .await
        .expect("server runs");
    });
    TestApp { addr, client: reqwest::Client::new(), data, _dir: None, shutdown: Some(tx), handle: Some(handle) }
}

impl TestApp {
    /// A client for a gateway running as a separate process.
    pub fn remote(addr: &str) -> TestApp {
        TestApp { addr: addr.to_owned(), client: reqwest::Client::new(), data: PathBuf::new(), _dir: None, shutdown: None, handle: None }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
    }

    pub async fn upload(&self, file_name: &str, bytes: Vec<u8>, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        let part = reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned()).mime_str("application/pdf").unwrap();
        form = form.part("file", part);
        self.client.post(self.url("/api/v1/exams")).multipart(form).send().await.expect("upload request")
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let r = self.client.get(self.url(path)).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self.client.post(self.url(path)).json(body).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn ws(&self, path: &str) -> Ws {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{}{path}", self.addr)).await.expect("websocket connects");
        Ws { inner: ws, seen: Vec::new() }
    }

    /// Waits (generously; generation is real work) until the exam leaves `generating`.
    pub async fn wait_until_settled(&self, id: &str) -> Value {
        for _ in 0..600 {
            let (_, list) = self.get_json("/api/v1/exams").await;
            if let Some(e) = list.as_array().and_then(|a| a.iter().find(|e| e["id"] == id))
                && e["status"] != "generating"
            {
                return e.clone();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("exam {id} never left generating");
    }
}

pub struct Ws {
    inner: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    /// Every text frame received so far.
    pub seen: Vec<String>,
}

impl Ws {
    /// Next JSON text frame, or `None` after 60 s of silence or on close.
    pub async fn next_json(&mut self) -> Option<Value> {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(60), self.inner.next()).await.ok()??.ok()?;
            match msg {
                Message::Text(t) => {
                    self.seen.push(t.to_string());
                    return serde_json::from_str(&t).ok();
                }
                Message::Close(_) => return None,
                _ => {}
            }
        }
    }

    /// Reads frames until one satisfies `pred`.
    pub async fn until(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        while let Some(v) = self.next_json().await {
            if pred(&v) {
                return v;
            }
        }
        panic!("websocket ended before the expected frame; saw {:?}", self.seen);
    }

    pub async fn send_json(&mut self, v: &Value) {
        use futures_util::SinkExt;
        self.inner.send(Message::Text(v.to_string().into())).await.expect("send");
    }
}
