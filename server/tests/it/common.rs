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

pub const ADMIN_EMAIL: &str = "teacher@school.test";
pub const ADMIN_PASSWORD: &str = "a long test password";

pub struct TestApp {
    pub addr: String,
    /// Signed in as the admin teacher (a bearer token), the way a script is.
    pub client: reqwest::Client,
    /// The admin's access token.
    pub token: String,
    /// The use-cases of an in-process app (`None` for a separate process).
    pub platform: Option<std::sync::Arc<exam_core::service::Platform>>,
    pub data: PathBuf,
    /// The metrics listener's port (`Settings::metrics_addr`), if one was asked for.
    pub metrics_port: Option<u16>,
    _dir: Option<tempfile::TempDir>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

/// Imports a JSON bank of `n` questions (ids q1…qn) with `client`; the `201` body.
pub async fn bank_json_upload(app: &TestApp, client: &reqwest::Client, name: &str, n: usize) -> Value {
    let qs: Vec<Value> = (1..=n)
        .map(|i| serde_json::json!({"question": format!("Question {i}?"), "options": [format!("right {i}"), "w1", "w2", "w3"], "correct_answer": format!("right {i}")}))
        .collect();
    let part =
        reqwest::multipart::Part::bytes(serde_json::to_vec(&qs).unwrap()).file_name(name.to_owned()).mime_str("application/json").unwrap();
    let r = client.post(app.url("/api/v1/exams")).multipart(reqwest::multipart::Form::new().part("file", part)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 201, "import {name}");
    r.json().await.unwrap()
}

pub fn fixture(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../generator/tests/fixtures").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Embedded settings on `data`, with the admin teacher created at start.
pub fn settings(data: &Path) -> Settings {
    let mut s = Settings {
        addr: "127.0.0.1:0".parse().unwrap(),
        process: server::settings::ProcessSettings::embedded(data),
        site_root: data.join("site"),
        spool_dir: data.to_path_buf(),
        ..Settings::default()
    };
    s.auth.admin = Some(server::settings::AdminAccount {
        email: ADMIN_EMAIL.into(),
        name: "Test Teacher".into(),
        password: exam_core::Secret::new(ADMIN_PASSWORD),
    });
    s
}

/// A client that sends `token` on every request.
/// How long a test's request may wait for its answer. Far above any request here; a request
/// the gateway never answers then fails the test, naming its URL, instead of hanging the run.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Every test's HTTP client starts here.
pub fn http() -> reqwest::ClientBuilder {
    reqwest::Client::builder().timeout(REQUEST_TIMEOUT)
}

pub fn client_with(token: &str, redirects: bool) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
    let policy = if redirects { reqwest::redirect::Policy::default() } else { reqwest::redirect::Policy::none() };
    crate::common::http().default_headers(headers).redirect(policy).build().unwrap()
}

/// An access token for `email`'s account (which must exist), made directly in the core.
pub async fn token_for(platform: &exam_core::service::Platform, email: &str) -> String {
    let identity = platform.identity();
    let account =
        identity.accounts.by_email(&exam_domain::identity::Email::parse(email).unwrap()).await.unwrap().expect("the account exists");
    identity.tokens.create(&account.id, "tests", 1).await.unwrap().0
}

/// Signs in over HTTP (`POST /api/v1/auth/login`) and returns the session cookie (`name=value`).
pub async fn sign_in(addr: &str, email: &str, password: &str) -> String {
    let r = crate::common::http()
        .build()
        .unwrap()
        .post(format!("http://{addr}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "sign-in as {email}");
    session_cookie(&r).expect("a session cookie")
}

/// The `name=value` of the session cookie a response sets.
pub fn session_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("exam_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
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

/// An app whose harness holds no token (for apps without the admin account).
pub async fn spawn_bare(settings: Settings) -> TestApp {
    let data = settings.process.data_dir.clone();
    let app = Application::build(settings, extractor()).await.expect("app builds");
    let addr = format!("127.0.0.1:{}", app.port());
    let platform = app.platform();
    let metrics_port = app.metrics_port();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        app.run_until_stopped(async move {
            let _ = rx.await;
        })
        .await
        .expect("server runs");
    });
    TestApp {
        addr,
        client: crate::common::http().build().unwrap(),
        token: String::new(),
        platform: Some(platform),
        data,
        metrics_port,
        _dir: None,
        shutdown: Some(tx),
        handle: Some(handle),
    }
}

/// The app on `settings`, with the harness signed in as the admin teacher (a token).
pub async fn spawn_with(settings: Settings) -> TestApp {
    let mut app = spawn_bare(settings).await;
    app.token = token_for(app.platform.as_ref().expect("in-process"), ADMIN_EMAIL).await;
    app.client = client_with(&app.token, true);
    app
}

impl TestApp {
    /// A client for a gateway running as a separate process, signed in as the admin teacher
    /// (`EXAM_ADMIN_*`): it signs in over HTTP and creates an access token with the session.
    pub async fn remote(addr: &str) -> TestApp {
        let cookie = sign_in(addr, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let r = crate::common::http()
            .build()
            .unwrap()
            .post(format!("http://{addr}/api/v1/tokens"))
            .header(reqwest::header::COOKIE, cookie)
            .json(&serde_json::json!({"name": "tests", "expires_in_days": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let token = r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
        TestApp {
            addr: addr.to_owned(),
            client: client_with(&token, true),
            token,
            platform: None,
            data: PathBuf::new(),
            metrics_port: None,
            _dir: None,
            shutdown: None,
            handle: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends the shutdown signal (as SIGTERM would) without waiting for the gateway to stop.
    pub fn signal_stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Waits until the gateway has stopped, at most `limit`; whether it did.
    pub async fn stopped_within(&mut self, limit: Duration) -> bool {
        match self.handle.take() {
            Some(h) => tokio::time::timeout(limit, h).await.is_ok(),
            None => true,
        }
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

    /// A WebSocket as the signed-in teacher (the live feed then carries their exams' frames).
    pub async fn ws(&self, path: &str) -> Ws {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = format!("ws://{}{path}", self.addr).into_client_request().unwrap();
        req.headers_mut().insert("authorization", format!("Bearer {}", self.token).parse().unwrap());
        let (ws, _) = tokio_tungstenite::connect_async(req).await.expect("websocket connects");
        Ws { inner: ws, seen: Vec::new() }
    }

    /// A WebSocket with no credentials (a student's browser).
    pub async fn ws_anonymous(&self, path: &str) -> Ws {
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

/// A student's browser: the session cookie from joining an exam with its code.
pub struct StudentBrowser {
    pub addr: String,
    /// `name=value` of the session cookie.
    pub cookie: String,
    /// The student the join made (`Ada`, or `Ada (2)` when the name was taken).
    pub student: String,
    pub client: reqwest::Client,
}

impl StudentBrowser {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `r` with this browser's session cookie, if it has one.
    pub fn with_cookie(&self, r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if self.cookie.is_empty() { r } else { r.header(reqwest::header::COOKIE, &self.cookie) }
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let r = self.with_cookie(self.client.get(self.url(path))).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self.with_cookie(self.client.post(self.url(path))).json(body).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// A GET with this browser's session cookie (for status codes, headers and pages).
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.with_cookie(self.client.get(self.url(path))).send().await.unwrap()
    }

    /// A WebSocket with this browser's session cookie.
    pub async fn ws(&self, path: &str) -> Ws {
        self.try_ws(path).await.expect("websocket connects")
    }

    /// A WebSocket, or the HTTP status the upgrade was refused with.
    pub async fn try_ws(&self, path: &str) -> Result<Ws, u16> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = format!("ws://{}{path}", self.addr).into_client_request().unwrap();
        if !self.cookie.is_empty() {
            req.headers_mut().insert("cookie", self.cookie.parse().unwrap());
        }
        match tokio_tungstenite::connect_async(req).await {
            Ok((ws, _)) => Ok(Ws { inner: ws, seen: Vec::new() }),
            Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Err(r.status().as_u16()),
            Err(e) => panic!("websocket: {e}"),
        }
    }

    /// Joins another exam from this browser (the session grows; its cookie may change).
    pub async fn join(&mut self, app: &TestApp, id: &str, name: &str) -> (u16, Value) {
        let code = app.join_code(id).await;
        let r = self
            .with_cookie(self.client.post(self.url(&format!("/api/v1/exams/{id}/join"))))
            .json(&serde_json::json!({"code": code, "name": name}))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        if let Some(c) = session_cookie(&r) {
            self.cookie = c;
        }
        let body: Value = r.json().await.unwrap_or(Value::Null);
        if status == 200 {
            self.student = body["student"].as_str().unwrap_or_default().to_owned();
        }
        (status, body)
    }
}

impl TestApp {
    /// The exam's join code, as its teacher sees it.
    pub async fn join_code(&self, id: &str) -> String {
        let (status, exam) = self.get_json(&format!("/api/v1/exams/{id}/questions")).await;
        assert_eq!(status, 200, "teacher view of {id}: {exam}");
        exam["join_code"].as_str().expect("the teacher view carries the join code").to_owned()
    }

    /// A new browser that has joined nothing yet (no cookie).
    pub fn browser(&self) -> StudentBrowser {
        StudentBrowser {
            addr: self.addr.clone(),
            cookie: String::new(),
            student: String::new(),
            client: crate::common::http().build().unwrap(),
        }
    }

    /// A new browser that joins exam `id` as `name` with its code (`POST /api/v1/exams/{id}/join`).
    pub async fn student(&self, id: &str, name: &str) -> StudentBrowser {
        let mut browser = self.browser();
        let (status, body) = browser.join(self, id, name).await;
        assert_eq!(status, 200, "{name} joins {id}: {body}");
        browser
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

    /// The close frame's code, skipping anything else, within `limit` (`None`: no close frame).
    pub async fn close_code(&mut self, limit: Duration) -> Option<u16> {
        let wait = async {
            while let Some(Ok(msg)) = self.inner.next().await {
                if let Message::Close(frame) = msg {
                    return frame.map(|f| u16::from(f.code));
                }
            }
            None
        };
        tokio::time::timeout(limit, wait).await.ok().flatten()
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

    /// Sends, reporting instead of panicking when the server has already closed the socket.
    pub async fn try_send_json(&mut self, v: &Value) -> Result<(), tokio_tungstenite::tungstenite::Error> {
        use futures_util::SinkExt;
        self.inner.send(Message::Text(v.to_string().into())).await
    }
}
