//! Signing in and out, the setup link, access tokens, sessions across a restart, cross-site
//! refusal and the security headers, against the real gateway on loopback.

use crate::common;

use common::{ADMIN_EMAIL, ADMIN_PASSWORD, bank_json_upload, session_cookie, sign_in, spawn_app, spawn_with};
use serde_json::{Value, json};

fn plain() -> reqwest::Client {
    crate::common::http().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn me(app: &common::TestApp, cookie: &str) -> Value {
    plain().get(app.url("/api/v1/auth/me")).header("cookie", cookie).send().await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teacher_signs_in_and_out_and_a_wrong_password_says_nothing_about_the_account() {
    let app = spawn_app().await;
    let r =
        plain().post(app.url("/api/v1/auth/login")).json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax") && set_cookie.contains("Path=/"), "{set_cookie}");
    assert!(!set_cookie.contains("Secure"), "plain http without EXAM_PUBLIC_URL: {set_cookie}");
    let cookie = session_cookie(&r).unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!((body["role"].as_str(), body["email"].as_str()), (Some("teacher"), Some(ADMIN_EMAIL)));
    assert_eq!(me(&app, &cookie).await["role"], "teacher");
    let r = plain().get(app.url("/api/v1/exams")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "the session works for the API");

    // Wrong password and unknown email: one answer.
    let url = app.url("/api/v1/auth/login");
    let wrong = |email: &'static str| {
        let url = url.clone();
        async move {
            let r = plain().post(url).json(&json!({"email": email, "password": "not the password"})).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap()["error"].as_str().unwrap_or_default().to_owned())
        }
    };
    let (a, b) = (wrong(ADMIN_EMAIL).await, wrong("nobody@school.test").await);
    assert_eq!(a, b);
    assert_eq!(a.0, 401);

    // Signing out deletes the session: the same cookie is anonymous afterwards.
    let r = plain().post(app.url("/api/v1/auth/logout")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(me(&app, &cookie).await["role"], "anonymous");
    let r = plain().get(app.url("/api/v1/exams")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);

    // The browser's form: a redirect to where the teacher was going, or back with the error.
    let r = plain()
        .post(app.url("/api/v1/auth/login"))
        .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD), ("next", "/teacher/exams/x")])
        .send()
        .await
        .unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, "/teacher/exams/x"));
    let r = plain()
        .post(app.url("/api/v1/auth/login"))
        .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD), ("next", "//evil.example")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"].to_str().unwrap(), "/teacher", "no open redirect");
    let r =
        plain().post(app.url("/api/v1/auth/login")).form(&[("email", ADMIN_EMAIL), ("password", "nope nope nope")]).send().await.unwrap();
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/login?error="), "{location}");
    let page = plain().get(app.url(&location)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("The email or the password is not right."), "the error is shown on the page");
    let page = plain().get(app.url("/login?next=%2Fteacher%2Fexams%2Fx")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("value=\"/teacher/exams/x\""), "the form carries `next` before any script runs");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failures_lock_the_account_for_a_while_but_not_the_classroom() {
    let app = spawn_app().await;
    for _ in 0..10 {
        let r = plain()
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"email": ADMIN_EMAIL, "password": "guess guess guess"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401);
    }
    let r =
        plain().post(app.url("/api/v1/auth/login")).json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 429, "even the right password waits once the account is under attack");
    assert!(r.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() > 0);
    // Another account from the same address still signs in.
    app.platform.as_ref().unwrap().identity().accounts.create("colleague@school.test", "Colleague", "colleague password").await.unwrap();
    let r = plain()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "colleague@school.test", "password": "colleague password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_start_prints_a_setup_link_that_creates_the_first_teacher_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = common::settings(dir.path());
    settings.auth.admin = None;
    // An exam from before accounts existed waits for the first teacher.
    let before = spawn_with_token_less(settings.clone()).await;
    let nobody = exam_domain::identity::TeacherId::parse(&"0".repeat(32)).unwrap();
    let bank = br#"[{"question": "Q?", "options": ["a", "b"], "correct_answer": "a"}]"#;
    let old = before.platform.as_ref().unwrap().authoring().import_exam(&nobody, Some("Old".into()), "old.json", bank).await.unwrap();
    before.platform.as_ref().unwrap().identity().access.get(&old.id).await.unwrap();
    std::fs::remove_file(dir.path().join(format!("objects/exams/access/{}.json", old.id))).unwrap();
    before.stop().await;

    let app = spawn_with_token_less(settings).await;
    let link = std::fs::read_to_string(dir.path().join("setup-link.txt")).unwrap();
    let token = link.trim().split("token=").nth(1).unwrap().to_owned();
    assert_eq!(token.len(), 26);
    let page = plain().get(app.url(&format!("/setup?token={token}"))).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Create the first teacher account"));
    assert!(html.contains(&format!("value=\"{token}\"")), "the form carries the token before any script runs");

    let setup = |token: String, password: &'static str| {
        let url = app.url("/api/v1/auth/setup");
        async move {
            plain()
                .post(url)
                .json(&json!({"token": token, "email": "first@school.test", "name": "First", "password": password}))
                .send()
                .await
                .unwrap()
        }
    };
    let r = setup(token.clone(), "short").await;
    assert_eq!(r.status().as_u16(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "password");
    let r = setup("wrong".into(), "long enough password").await;
    assert_eq!(r.status().as_u16(), 403);
    let r = setup(token.clone(), "long enough password").await;
    assert_eq!(r.status().as_u16(), 201);
    let cookie = session_cookie(&r).unwrap();
    assert_eq!(me(&app, &cookie).await["email"], "first@school.test");
    let list: Value = plain().get(app.url("/api/v1/exams")).header("cookie", &cookie).send().await.unwrap().json().await.unwrap();
    assert!(list.as_array().unwrap().iter().any(|e| e["id"] == old.id.as_str()), "the old exam is the first teacher's: {list}");
    assert_eq!(setup(token, "long enough password").await.status().as_u16(), 403, "the link works once");
    app.stop().await;
}

/// An app without the admin (so without a token for the harness).
async fn spawn_with_token_less(settings: server::Settings) -> common::TestApp {
    common::spawn_bare(settings).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_tokens_are_shown_once_listed_without_the_secret_and_revocable() {
    let app = spawn_app().await;
    let cookie = sign_in(&app.addr, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let r = plain()
        .post(app.url("/api/v1/tokens"))
        .header("cookie", &cookie)
        .json(&json!({"name": "grades export", "expires_in_days": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let created: Value = r.json().await.unwrap();
    let secret = created["token"].as_str().unwrap().to_owned();
    let script = common::client_with(&secret, false);
    assert_eq!(script.get(app.url("/api/v1/exams")).send().await.unwrap().status().as_u16(), 200);
    let listed = script.get(app.url("/api/v1/tokens")).send().await.unwrap().text().await.unwrap();
    assert!(listed.contains("grades export") && !listed.contains(&secret), "{listed}");
    let r = script.delete(app.url(&format!("/api/v1/tokens/{}", created["id"].as_str().unwrap()))).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let r = script.get(app.url("/api/v1/exams")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401, "a revoked token is refused, not treated as anonymous");
    assert!(r.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));
    let r = plain()
        .post(app.url("/api/v1/tokens"))
        .header("cookie", &cookie)
        .json(&json!({"name": "x", "expires_in_days": 1000}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_survive_a_restart_because_they_live_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_with(common::settings(dir.path())).await;
    let cookie = sign_in(&app.addr, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.stop().await;
    let app = spawn_with(common::settings(dir.path())).await;
    assert_eq!(me(&app, &cookie).await["role"], "teacher");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_from_other_sites_are_refused_and_pages_carry_security_headers() {
    let app = spawn_app().await;
    let cookie = sign_in(&app.addr, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let id = bank_json_upload(&app, &app.client, "x.json", 1).await["id"].as_str().unwrap().to_owned();
    let publish = |headers: Vec<(&'static str, String)>| {
        let mut r = plain().post(app.url(&format!("/api/v1/exams/{id}/publish"))).header("cookie", cookie.clone());
        for (k, v) in headers {
            r = r.header(k, v);
        }
        async move { r.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(publish(vec![("sec-fetch-site", "cross-site".into())]).await, 403);
    assert_eq!(publish(vec![("origin", "http://evil.example".into())]).await, 403);
    assert_eq!(publish(vec![("sec-fetch-site", "same-origin".into()), ("origin", format!("http://{}", app.addr))]).await, 200);
    // The sign-in form itself: a login CSRF is refused too.
    let r = plain()
        .post(app.url("/api/v1/auth/login"))
        .header("origin", "http://evil.example")
        .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // Cross-site WebSocket hijacking: the upgrade is refused before it happens.
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://{}/api/v1/live", app.addr).into_client_request().unwrap();
    req.headers_mut().insert("origin", "http://evil.example".parse().unwrap());
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    let refused = tokio_tungstenite::connect_async(req).await.unwrap_err();
    assert!(refused.to_string().contains("403"), "{refused}");

    // A page: its CSP allows exactly the scripts carrying this response's nonce.
    let r = plain().get(app.url("/exams")).send().await.unwrap();
    let h = r.headers().clone();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    let csp = h["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("object-src 'none'"), "{csp}");
    let nonce = csp.split("'nonce-").nth(1).and_then(|s| s.split('\'').next()).expect("a nonce").to_owned();
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "the hydration script carries the nonce");
    let scripts = html.matches("<script").count();
    assert_eq!(scripts, html.matches(&format!("nonce=\"{nonce}\"")).count(), "every inline script carries it");
    assert!(h.get("strict-transport-security").is_none(), "no HSTS over plain http");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_https_cookies_are_secure_host_cookies_and_hsts_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = common::settings(dir.path());
    settings.auth.public_url = Some("https://exams.school.test".into());
    let app = spawn_with(settings).await;
    let r =
        plain().post(app.url("/api/v1/auth/login")).json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})).send().await.unwrap();
    let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.starts_with("__Host-exam_session=") && set_cookie.contains("Secure"), "{set_cookie}");
    assert!(r.headers()["strict-transport-security"].to_str().unwrap().contains("max-age="));
    // The public origin is the only one state changes are taken from.
    let r = app.client.post(app.url("/api/v1/auth/logout")).header("origin", format!("http://{}", app.addr)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = app.client.post(app.url("/api/v1/auth/logout")).header("origin", "https://exams.school.test").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 204);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invited_teacher_joins_gets_an_exam_shared_and_both_see_it_in_the_audit_logs() {
    let app = spawn_app().await;
    let r = app.client.post(app.url("/api/v1/invites")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let link = r.json::<Value>().await.unwrap()["link"].as_str().unwrap().to_owned();
    let token = link.split("token=").nth(1).unwrap().to_owned();
    let page = plain().get(app.url(&format!("/invite?token={token}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Join as a teacher"));

    // The browser's form: a mistake comes back next to its field and keeps the link usable.
    let form = |password: &'static str| {
        let (url, token) = (app.url("/api/v1/auth/accept-invite"), token.clone());
        async move {
            plain()
                .post(url)
                .form(&[("token", token.as_str()), ("email", "new@school.test"), ("name", "New"), ("password", password)])
                .send()
                .await
                .unwrap()
        }
    };
    let r = form("short").await;
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/invite?token=") && location.contains("field=password"), "{location}");
    let page = plain().get(app.url(&location)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"password-error\""), "the error sits under the password field");
    let r = form("a long new password").await;
    assert_eq!(r.headers()["location"], "/teacher");
    let cookie = session_cookie(&r).unwrap();
    assert_eq!(me(&app, &cookie).await["email"], "new@school.test");
    assert!(form("a long new password").await.headers()["location"].to_str().unwrap().contains("error="), "once only");

    // Shared by the owner: the new teacher sees and edits it, but cannot pass it on.
    let id = bank_json_upload(&app, &app.client, "Shared.json", 2).await["id"].as_str().unwrap().to_owned();
    let with_cookie = |method: reqwest::Method, path: String| plain().request(method, app.url(&path)).header("cookie", cookie.clone());
    assert_eq!(with_cookie(reqwest::Method::GET, format!("/api/v1/exams/{id}/questions")).send().await.unwrap().status().as_u16(), 404);
    let r = app.client.post(app.url(&format!("/api/v1/exams/{id}/share"))).json(&json!({"email": "NEW@school.test"})).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let access: Value = r.json().await.unwrap();
    assert_eq!((access["owner"]["email"].as_str(), access["shared_with"][0]["name"].as_str()), (Some(ADMIN_EMAIL), Some("New")));
    let r =
        app.client.post(app.url(&format!("/api/v1/exams/{id}/share"))).json(&json!({"email": "ghost@school.test"})).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.json::<Value>().await.unwrap()["field"].as_str()), (422, Some("email")));
    tokio::time::sleep(exam_core::identity::access::ACCESS_TTL).await;
    assert_eq!(with_cookie(reqwest::Method::GET, format!("/api/v1/exams/{id}/questions")).send().await.unwrap().status().as_u16(), 200);
    assert_eq!(with_cookie(reqwest::Method::POST, format!("/api/v1/exams/{id}/publish")).send().await.unwrap().status().as_u16(), 200);
    let r =
        with_cookie(reqwest::Method::POST, format!("/api/v1/exams/{id}/share")).json(&json!({"email": ADMIN_EMAIL})).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403, "only the owner shares");

    let log: Value = app.client.get(app.url(&format!("/api/v1/exams/{id}/audit"))).send().await.unwrap().json().await.unwrap();
    let actions: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["share", "publish"], "{log}");
    let mine: Value = plain().get(app.url("/api/v1/audit")).header("cookie", &cookie).send().await.unwrap().json().await.unwrap();
    assert!(mine.as_array().unwrap().iter().any(|e| e["action"] == "joined"), "{mine}");
    // A failed sign-in on an existing account is in its owner's log, with the address.
    plain()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "new@school.test", "password": "wrong wrong wrong"}))
        .send()
        .await
        .unwrap();
    let mine: Value = plain().get(app.url("/api/v1/audit")).header("cookie", &cookie).send().await.unwrap().json().await.unwrap();
    let failed = mine.as_array().unwrap().iter().find(|e| e["action"] == "sign_in_failed").expect("logged");
    assert_eq!(failed["from"], "127.0.0.1");
    app.stop().await;
}
