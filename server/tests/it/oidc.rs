//! Sign-in with OpenID Connect against a real provider on loopback: npm oauth2-mock-server
//! (`tests/oidc/provider.mjs`, installed by `scripts/ensure-tools.sh test`), the real gateway
//! on port 0, and a browser played by reqwest that follows no redirect by itself and carries
//! the gateway's cookie.

use crate::common;

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp};
use exam_core::store::{FsStore, ObjectStore};
use reqwest::Url;
use serde_json::{Value, json};
use server::auth::oidc::OidcStudent;
use server::settings::{OidcOthers, OidcSettings};

/// The provider process; stopped when dropped.
struct Provider {
    child: Child,
    issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn provider() -> Provider {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc");
    assert!(
        dir.join("node_modules/oauth2-mock-server").is_dir(),
        "the OIDC test provider is not installed: run `scripts/ensure-tools.sh test` (or `npm ci` in {})",
        dir.display()
    );
    let mut child = Command::new("node")
        .arg("provider.mjs")
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node runs");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("the provider prints its issuer");
    let issuer = serde_json::from_str::<Value>(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"))["issuer"].as_str().unwrap().to_owned();
    Provider { child, issuer }
}

struct Fixture {
    app: TestApp,
    provider: Provider,
    _dir: tempfile::TempDir,
}

async fn fixture(configure: impl FnOnce(&mut OidcSettings)) -> Fixture {
    let provider = provider();
    let dir = tempfile::tempdir().unwrap();
    let mut s = common::settings(dir.path());
    let mut o = OidcSettings::new(provider.issuer.clone(), "exam-gateway");
    o.client_secret = Some(exam_core::Secret::new("the client secret"));
    configure(&mut o);
    s.auth.oidc = Some(o);
    let app = common::spawn_with(s).await;
    Fixture { app, provider, _dir: dir }
}

/// A browser: no automatic redirects, the gateway's session cookie carried by hand.
struct Browser {
    http: reqwest::Client,
    gateway: String,
    cookie: Option<String>,
}

impl Browser {
    fn new(app: &TestApp) -> Self {
        Browser {
            http: crate::common::http().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
            gateway: format!("http://{}", app.addr),
            cookie: None,
        }
    }

    async fn get(&mut self, url: &str) -> reqwest::Response {
        let url = if url.starts_with('/') { format!("{}{url}", self.gateway) } else { url.to_owned() };
        let mut req = self.http.get(&url);
        let to_gateway = url.starts_with(&self.gateway);
        if to_gateway && let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let r = req.send().await.unwrap();
        if to_gateway && let Some(c) = common::session_cookie(&r) {
            self.cookie = Some(c);
        }
        r
    }

    async fn post_json(&mut self, path: &str, body: &Value) -> (u16, Value) {
        let mut req = self.http.post(format!("{}{path}", self.gateway)).json(body);
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let r = req.send().await.unwrap();
        if let Some(c) = common::session_cookie(&r) {
            self.cookie = Some(c);
        }
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn me(&mut self) -> Value {
        self.get("/api/v1/auth/me").await.json().await.unwrap()
    }
}

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").unwrap_or_else(|| panic!("no Location in a {} answer", r.status())).to_str().unwrap().to_owned()
}

fn param(url: &str, name: &str) -> Option<String> {
    Url::parse(url).unwrap().query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

fn with_params(url: &str, extra: &[(&str, &str)]) -> String {
    let mut u = Url::parse(url).unwrap();
    for (k, v) in extra {
        u.query_pairs_mut().append_pair(k, v);
    }
    u.to_string()
}

/// `/start` → the provider's authorize endpoint (as `claims`, optionally signing `nonce`) →
/// the callback URL the provider sends the browser back to (not yet opened).
async fn to_provider_and_back(b: &mut Browser, next: Option<&str>, claims: &Value, nonce: Option<&str>) -> String {
    let start = match next {
        Some(n) => format!("/api/v1/auth/oidc/start?next={}", percent_encoding::utf8_percent_encode(n, percent_encoding::NON_ALPHANUMERIC)),
        None => "/api/v1/auth/oidc/start".into(),
    };
    let r = b.get(&start).await;
    assert_eq!(r.status().as_u16(), 303, "start: {:?}", r.text().await);
    let authorize = location(&r);
    let mut extra = vec![("mock_claims", claims.to_string())];
    if let Some(n) = nonce {
        extra.push(("mock_nonce", n.to_owned()));
    }
    let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = b.get(&with_params(&authorize, &extra)).await;
    assert_eq!(r.status().as_u16(), 302, "authorize: {:?}", r.text().await);
    location(&r)
}

fn teacher_claims(sub: &str, email: &str) -> Value {
    json!({"sub": sub, "email": email, "email_verified": true, "name": "Grace Hopper", "groups": ["staff", "teachers"]})
}

fn student_claims(sub: &str) -> Value {
    json!({"sub": sub, "email": format!("{sub}@pupils.school.test"), "email_verified": true, "name": "Sam Student", "groups": ["year-9"]})
}

/// The session record behind a cookie, straight from the store.
async fn session_record(f: &Fixture, cookie: &str) -> Value {
    let store = FsStore::open(&f.app.data, "exams").await.unwrap();
    let id = cookie.split_once('=').unwrap().1;
    let key = format!("auth/sessions/{}.json", exam_core::identity::secrets::digest(id));
    let (bytes, _) = store.get(&key).await.unwrap().expect("the session is stored");
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn the_authorize_request_carries_pkce_state_nonce_and_the_callback() {
    let f = fixture(|_| {}).await;
    let mut b = Browser::new(&f.app);
    let r = b.get("/api/v1/auth/oidc/start?next=/teacher").await;
    assert_eq!(r.status().as_u16(), 303);
    let url = location(&r);
    assert!(url.starts_with(&format!("{}/authorize?", f.provider.issuer)), "{url}");
    assert_eq!(param(&url, "response_type").as_deref(), Some("code"));
    assert_eq!(param(&url, "client_id").as_deref(), Some("exam-gateway"));
    assert_eq!(param(&url, "code_challenge_method").as_deref(), Some("S256"));
    assert!(param(&url, "code_challenge").is_some_and(|c| c.len() >= 43));
    assert!(param(&url, "state").is_some_and(|s| s.len() >= 16));
    assert!(param(&url, "nonce").is_some_and(|s| s.len() >= 16));
    assert_eq!(param(&url, "redirect_uri"), Some(format!("http://{}/api/v1/auth/oidc/callback", f.app.addr)));
    let scopes = param(&url, "scope").unwrap();
    assert!(["openid", "email", "profile"].iter().all(|s| scopes.split(' ').any(|x| x == *s)), "{scopes}");
    // The pending sign-in lives in the session (a cookie was set), not in the URL.
    assert!(b.cookie.is_some());
    assert!(!url.contains("verifier"));
}

#[tokio::test]
async fn a_teacher_by_groups_gets_an_account_without_a_password_and_is_signed_in() {
    let f = fixture(|_| {}).await;
    let mut b = Browser::new(&f.app);
    let callback = to_provider_and_back(&mut b, Some("/teacher/account"), &teacher_claims("grace-1", "grace@school.test"), None).await;
    let before = b.cookie.clone().unwrap();
    let r = b.get(&callback).await;
    assert_eq!(r.status().as_u16(), 303, "{:?}", r.text().await);
    assert_eq!(location(&r), "/teacher/account");
    assert_ne!(b.cookie.as_deref(), Some(before.as_str()), "a new session id at sign-in");
    let me = b.me().await;
    assert_eq!(
        (me["role"].as_str(), me["via"].as_str(), me["email"].as_str()),
        (Some("teacher"), Some("session"), Some("grace@school.test")),
        "{me}"
    );
    assert_eq!(me["name"], "Grace Hopper");
    // The teacher's pages open.
    assert_eq!(b.get("/teacher").await.status().as_u16(), 200);

    // The account has no password: no password opens it.
    for password in ["", ADMIN_PASSWORD, "a long guessed password"] {
        let r = crate::common::http()
            .build()
            .unwrap()
            .post(f.app.url("/api/v1/auth/login"))
            .json(&json!({"email": "grace@school.test", "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401, "password {password:?}");
    }

    // The sign-in is audited like a password sign-in, with `oidc` and the address.
    let platform = f.app.platform.as_ref().unwrap();
    let id = exam_domain::identity::TeacherId::parse(me["id"].as_str().unwrap()).unwrap();
    let events = platform.identity().audit.read(exam_core::identity::audit::Scope::Teacher(&id)).await.unwrap();
    let sign_in = events.iter().find(|e| e.action == "sign_in").expect("a sign_in event");
    assert_eq!((sign_in.detail.as_str(), sign_in.from.as_deref()), ("oidc", Some("127.0.0.1")));

    // Signing in again (another browser) is the same account.
    let mut other = Browser::new(&f.app);
    let callback = to_provider_and_back(&mut other, None, &teacher_claims("grace-1", "grace@school.test"), None).await;
    let r = other.get(&callback).await;
    assert_eq!(location(&r), "/teacher", "a teacher's default");
    assert_eq!(other.me().await["id"], me["id"]);
}

#[tokio::test]
async fn an_existing_account_is_linked_by_its_verified_email_and_keeps_its_password() {
    let f = fixture(|_| {}).await;
    let platform = f.app.platform.as_ref().unwrap();
    let admin = platform.identity().accounts.by_email(&exam_domain::identity::Email::parse(ADMIN_EMAIL).unwrap()).await.unwrap().unwrap();

    // An unverified email links nothing and signs nobody in.
    let mut b = Browser::new(&f.app);
    let mut claims = teacher_claims("admin-sub", ADMIN_EMAIL);
    claims["email_verified"] = json!(false);
    let callback = to_provider_and_back(&mut b, None, &claims, None).await;
    let r = b.get(&callback).await;
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(b.me().await["role"], "anonymous");

    let mut b = Browser::new(&f.app);
    let callback = to_provider_and_back(&mut b, None, &teacher_claims("admin-sub", &ADMIN_EMAIL.to_uppercase()), None).await;
    let r = b.get(&callback).await;
    assert_eq!(r.status().as_u16(), 303);
    let me = b.me().await;
    assert_eq!((me["role"].as_str(), me["id"].as_str()), (Some("teacher"), Some(admin.id.as_str())), "{me}");
    // The password still works.
    common::sign_in(&f.app.addr, ADMIN_EMAIL, ADMIN_PASSWORD).await;
}

#[tokio::test]
async fn someone_who_is_not_a_teacher_becomes_a_signed_in_student() {
    let f = fixture(|_| {}).await;
    let mut b = Browser::new(&f.app);
    // A teacher page as `next` would only bounce a student to the sign-in page: `/` instead.
    let callback = to_provider_and_back(&mut b, Some("/teacher/exams/x"), &student_claims("sam-1"), None).await;
    let r = b.get(&callback).await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(location(&r), "/");
    let record = session_record(&f, b.cookie.as_deref().unwrap()).await;
    let student: OidcStudent = serde_json::from_value(record["data"]["oidc_student"].clone()).expect("an oidc_student record");
    assert_eq!(student.issuer, f.provider.issuer);
    assert_eq!((student.subject.as_str(), student.name.as_str()), ("sam-1", "Sam Student"));
    assert_eq!(student.email.as_deref(), Some("sam-1@pupils.school.test"));
    assert!(student.at > 0);
    assert!(record["data"].get("signed_in").is_none() && record["data"].get("oidc_pending").is_none(), "{record}");
    // `auth::resolve` makes the request's identity that student.
    let me = b.me().await;
    assert_eq!(
        (me["role"].as_str(), me["name"].as_str(), me["via"].as_str()),
        (Some("student"), Some("Sam Student"), Some("oidc")),
        "{me}"
    );
    assert_eq!(b.get("/teacher").await.status().as_u16(), 303, "a student does not get the teacher pages");

    // A student `next` is kept.
    let mut b = Browser::new(&f.app);
    let callback = to_provider_and_back(&mut b, Some("/exams"), &student_claims("sam-2"), None).await;
    assert_eq!(location(&b.get(&callback).await), "/exams");
}

#[tokio::test]
async fn with_refuse_someone_who_is_not_a_teacher_is_refused() {
    let f = fixture(|o| {
        o.others = OidcOthers::Refuse;
        o.role_claim = "realm_access.roles".into();
        o.teacher_values = vec!["exam-teacher".into()];
    })
    .await;
    let mut b = Browser::new(&f.app);
    let callback = to_provider_and_back(&mut b, None, &json!({"sub": "x", "realm_access": {"roles": ["pupil"]}}), None).await;
    let r = b.http.get(&callback).header("cookie", b.cookie.clone().unwrap()).header("accept", "text/html").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let page = r.text().await.unwrap();
    assert!(page.contains("your account is not a teacher account here"), "{page}");
    assert_eq!(b.me().await["role"], "anonymous");

    // The same provider, the configured claim (Keycloak's realm roles): a teacher.
    let mut b = Browser::new(&f.app);
    let claims = json!({"sub": "k", "email": "k@school.test", "email_verified": true, "realm_access": {"roles": ["exam-teacher"]}});
    let callback = to_provider_and_back(&mut b, None, &claims, None).await;
    assert_eq!(b.get(&callback).await.status().as_u16(), 303);
    assert_eq!(b.me().await["role"], "teacher");
}

#[tokio::test]
async fn a_bad_state_a_bad_nonce_and_a_replayed_code_sign_nobody_in() {
    let f = fixture(|_| {}).await;

    // State: altered, or from another browser.
    let mut b = Browser::new(&f.app);
    let callback = to_provider_and_back(&mut b, None, &teacher_claims("t", "t@school.test"), None).await;
    let state = param(&callback, "state").unwrap();
    let forged = callback.replace(&format!("state={state}"), "state=forged-state");
    let r = b.get(&forged).await;
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.json::<Value>().await.unwrap()["error"].as_str().unwrap().contains("start again"));
    let mut stranger = Browser::new(&f.app);
    assert_eq!(stranger.get(&callback).await.status().as_u16(), 400);
    assert_eq!(stranger.me().await["role"], "anonymous");
    assert_eq!(b.me().await["role"], "anonymous");

    // Nonce: the provider signs a different one.
    let mut b = Browser::new(&f.app);
    let callback = to_provider_and_back(&mut b, None, &teacher_claims("t", "t@school.test"), Some("not-the-nonce-we-sent")).await;
    let r = b.get(&callback).await;
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.json::<Value>().await.unwrap()["error"].as_str().unwrap().contains("could not be verified"));
    assert_eq!(b.me().await["role"], "anonymous");
    let platform = f.app.platform.as_ref().unwrap();
    assert!(platform.identity().accounts.by_email(&exam_domain::identity::Email::parse("t@school.test").unwrap()).await.unwrap().is_none());

    // A replayed code: the callback works once.
    let mut b = Browser::new(&f.app);
    let callback = to_provider_and_back(&mut b, None, &teacher_claims("t", "t@school.test"), None).await;
    assert_eq!(b.get(&callback).await.status().as_u16(), 303);
    assert_eq!(b.get(&callback).await.status().as_u16(), 400, "the same callback again");
    let mut thief = Browser::new(&f.app);
    assert_eq!(thief.get(&callback).await.status().as_u16(), 400);
    assert_eq!(thief.me().await["role"], "anonymous");
    // The used code with a fresh, valid state: the provider refuses it (PKCE, used code).
    let fresh = b.get("/api/v1/auth/oidc/start").await;
    let fresh_state = param(&location(&fresh), "state").unwrap();
    let code = param(&callback, "code").unwrap();
    let r = thief.get(&format!("/api/v1/auth/oidc/callback?code={code}&state={fresh_state}")).await;
    assert_eq!(r.status().as_u16(), 400, "a state from another browser");
    let r = b.get(&format!("/api/v1/auth/oidc/callback?code={code}&state={fresh_state}")).await;
    assert_eq!(r.status().as_u16(), 400, "the used code in a new sign-in");
}

#[tokio::test]
async fn next_is_only_ever_a_local_path_and_provider_errors_go_back_to_the_sign_in_page() {
    let f = fixture(|_| {}).await;
    for evil in ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"] {
        let mut b = Browser::new(&f.app);
        let callback = to_provider_and_back(&mut b, Some(evil), &teacher_claims("t2", "t2@school.test"), None).await;
        let r = b.get(&callback).await;
        assert_eq!(location(&r), "/teacher", "next={evil}");
    }

    // The provider says the user said no: back to the sign-in page with a message.
    let mut b = Browser::new(&f.app);
    let r = b.get("/api/v1/auth/oidc/start?next=/teacher/account").await;
    let state = param(&location(&r), "state").unwrap();
    let r = b.get(&format!("/api/v1/auth/oidc/callback?error=access_denied&error_description=nope&state={state}")).await;
    assert_eq!(r.status().as_u16(), 303);
    let to = location(&r);
    assert!(to.starts_with("/login?error="), "{to}");
    let message = param(&format!("http://x{to}"), "error").unwrap();
    assert!(message.contains("cancelled"), "{message}");
    assert_eq!(param(&format!("http://x{to}"), "next").as_deref(), Some("/teacher/account"));
    assert_eq!(b.me().await["role"], "anonymous");
}

#[tokio::test]
async fn the_sign_in_page_offers_the_provider_and_a_provider_that_is_down_stops_nothing_else() {
    let f = fixture(|o| o.button = "Springfield High".into()).await;
    let page = reqwest::get(f.app.url("/login?next=/teacher/account")).await.unwrap().text().await.unwrap();
    assert!(page.contains("Sign in with Springfield High"), "{page}");
    assert!(page.contains("href=\"/api/v1/auth/oidc/start?next=/teacher/account\""), "{page}");

    // Not configured: no link, no routes.
    let plain = common::spawn_app().await;
    let page = reqwest::get(plain.url("/login")).await.unwrap().text().await.unwrap();
    assert!(!page.contains("/api/v1/auth/oidc/start"));
    assert_eq!(reqwest::get(plain.url("/api/v1/auth/oidc/start")).await.unwrap().status().as_u16(), 404);

    // A provider that is down: the gateway starts, OIDC answers 503 readably, passwords work.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let mut s = common::settings(dir.path());
    s.auth.oidc = Some(OidcSettings::new(issuer, "exam-gateway"));
    let down = common::spawn_with(s).await;
    let r = crate::common::http()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(down.url("/api/v1/auth/oidc/start"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("not available right now"), "{body}");
    common::sign_in(&down.addr, ADMIN_EMAIL, ADMIN_PASSWORD).await;
}

#[tokio::test]
async fn a_signed_in_student_joins_with_the_code_alone_and_is_one_student_on_every_device() {
    let f = fixture(|_| {}).await;
    let bank = serde_json::to_vec(&json!([{"question": "Two plus two?", "options": ["4", "5"], "correct_answer": "4"}])).unwrap();
    let part = reqwest::multipart::Part::bytes(bank).file_name("bank.json").mime_str("application/json").unwrap();
    let r =
        f.app.client.post(f.app.url("/api/v1/exams")).multipart(reqwest::multipart::Form::new().part("file", part)).send().await.unwrap();
    let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    assert_eq!(f.app.client.post(f.app.url(&format!("/api/v1/exams/{id}/publish"))).send().await.unwrap().status().as_u16(), 200);
    let code = f.app.join_code(&id).await;
    let r =
        f.app.client.put(f.app.url(&format!("/api/v1/exams/{id}/settings"))).json(&json!({"require_sign_in": true})).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);

    // A code and a name are not enough for this exam.
    let mut anonymous = Browser::new(&f.app);
    let (status, body) = anonymous.post_json(&format!("/api/v1/exams/{id}/join"), &json!({"code": code, "name": "Sam"})).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"].as_str().unwrap().contains("sign in"), "{body}");

    // Signed in, the code alone joins, as the person's email; from a second device, the same student.
    let mut laptop = Browser::new(&f.app);
    let callback = to_provider_and_back(&mut laptop, Some("/exams"), &student_claims("sam-9"), None).await;
    laptop.get(&callback).await;
    let (status, joined) = laptop.post_json(&format!("/api/v1/exams/{id}/join"), &json!({"code": code})).await;
    assert_eq!(status, 200, "{joined}");
    assert_eq!((joined["student"].as_str(), joined["via"].as_str()), (Some("sam-9@pupils.school.test"), Some("oidc")));
    assert_eq!(laptop.me().await["exams"][&id], "sam-9@pupils.school.test");
    let mut phone = Browser::new(&f.app);
    let callback = to_provider_and_back(&mut phone, None, &student_claims("sam-9"), None).await;
    phone.get(&callback).await;
    let (status, again) = phone.post_json("/api/v1/join", &json!({"code": code})).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["student"], joined["student"], "one person, one student");
    // A wrong code is still a wrong code.
    let (status, wrong) = phone.post_json(&format!("/api/v1/exams/{id}/join"), &json!({"code": "ZZZZZZZZ"})).await;
    assert_eq!((status, wrong["field"].as_str()), (403, Some("code")), "{wrong}");
}
