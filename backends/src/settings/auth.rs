//! How people sign in: the public URL, the first teacher, sessions, OpenID Connect.

use std::time::Duration;

use anyhow::{Context, bail};

use super::Env;

/// How people sign in (see README, "Identity").
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// `EXAM_PUBLIC_URL` (e.g. `https://exams.school.example`): the origin state-changing
    /// requests must come from, and whether cookies are `Secure` + `__Host-`. Unset: the
    /// request's own `Host` is the origin, cookies are not `Secure` (plain-http embedded use).
    pub public_url: Option<String>,
    /// `EXAM_ADMIN_EMAIL` + `EXAM_ADMIN_PASSWORD_FILE` (+ `EXAM_ADMIN_NAME`): the first teacher,
    /// created at start if missing.
    pub admin: Option<AdminAccount>,
    /// `EXAM_SESSION_IDLE_MINS` (default 480): a session unused this long ends.
    pub session_idle: Duration,
    /// `EXAM_SESSION_MAX_HOURS` (default 168): a session ends this long after sign-in.
    pub session_max: Duration,
    /// `EXAM_TRUST_FORWARDED_FOR` (default false): take the client address for rate limits from
    /// the last `X-Forwarded-For` hop (behind an ingress that sets it).
    pub trust_forwarded_for: bool,
    /// `EXAM_OIDC_*`: sign-in with the institution's OpenID Connect provider; `None`: not offered.
    pub oidc: Option<OidcSettings>,
}

/// Sign-in with an OpenID Connect provider (see `auth::oidc`).
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// `EXAM_OIDC_ISSUER` (e.g. `https://login.school.example/realms/staff`): discovered at
    /// `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    /// `EXAM_OIDC_CLIENT_ID`.
    pub client_id: String,
    /// `EXAM_OIDC_CLIENT_SECRET_FILE` (a mounted Secret) or `EXAM_OIDC_CLIENT_SECRET` (a
    /// `secretKeyRef`); `None`: a public client (PKCE only).
    pub client_secret: Option<exam_core::Secret>,
    /// `EXAM_OIDC_ROLE_CLAIM` (default `groups`): a dotted path into the ID token's claims, or
    /// the userinfo answer's when the ID token lacks it (`realm_access.roles`, `roles`).
    pub role_claim: String,
    /// `EXAM_OIDC_TEACHER_VALUES` (comma-separated, default `teachers`): a user whose role claim
    /// holds one of these is a teacher.
    pub teacher_values: Vec<String>,
    /// `EXAM_OIDC_OTHERS` (`student`, the default, or `refuse`): what everyone else becomes.
    pub others: OidcOthers,
    /// `EXAM_OIDC_SCOPES` (default `openid email profile`).
    pub scopes: Vec<String>,
    /// `EXAM_OIDC_BUTTON` (default "your school account"): the sign-in page's "Sign in with …".
    pub button: String,
}

/// What an OIDC user who is not a teacher becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OidcOthers {
    /// A signed-in student (their name from the provider).
    Student,
    /// Refused (403): only teachers sign in with the provider here.
    Refuse,
}

impl OidcSettings {
    /// The defaults for everything but the provider and the client.
    pub fn new(issuer: impl Into<String>, client_id: impl Into<String>) -> Self {
        OidcSettings {
            issuer: issuer.into(),
            client_id: client_id.into(),
            client_secret: None,
            role_claim: "groups".into(),
            teacher_values: vec!["teachers".into()],
            others: OidcOthers::Student,
            scopes: ["openid", "email", "profile"].map(String::from).to_vec(),
            button: "your school account".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AdminAccount {
    pub email: String,
    pub name: String,
    pub password: exam_core::Secret,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            public_url: None,
            admin: None,
            session_idle: Duration::from_secs(480 * 60),
            session_max: Duration::from_secs(168 * 3600),
            trust_forwarded_for: false,
            oidc: None,
        }
    }
}

impl AuthSettings {
    /// The public origin (`https://host[:port]`), if configured.
    pub fn public_origin(&self) -> Option<String> {
        let url = self.public_url.as_deref()?;
        let (scheme, rest) = url.split_once("://")?;
        let host = rest.split('/').next()?;
        Some(format!("{}://{}", scheme.to_ascii_lowercase(), host.to_ascii_lowercase()))
    }

    /// Served over https: `Secure` cookies with the `__Host-` prefix, and HSTS.
    pub fn https(&self) -> bool {
        self.public_origin().is_some_and(|o| o.starts_with("https://"))
    }
}

impl AuthSettings {
    pub(super) fn read(env: &Env) -> anyhow::Result<AuthSettings> {
        let mut a = AuthSettings::default();
        if let Some(url) = env.get("EXAM_PUBLIC_URL") {
            a.public_url = Some(url.trim_end_matches('/').to_owned());
            if a.public_origin().is_none_or(|o| !(o.starts_with("https://") || o.starts_with("http://"))) {
                bail!("EXAM_PUBLIC_URL={url:?}: expected http(s)://host[:port]");
            }
        }
        match (env.get("EXAM_ADMIN_EMAIL"), env.get("EXAM_ADMIN_PASSWORD_FILE")) {
            (None, None) => {}
            (Some(email), Some(file)) => {
                let password =
                    std::fs::read_to_string(&file).with_context(|| format!("EXAM_ADMIN_PASSWORD_FILE={file}: cannot read it"))?;
                let password = password.trim_end_matches(['\n', '\r']).to_owned();
                a.admin = Some(AdminAccount {
                    email,
                    name: env.get("EXAM_ADMIN_NAME").unwrap_or_else(|| "Administrator".into()),
                    password: exam_core::Secret::new(password),
                });
            }
            _ => bail!("EXAM_ADMIN_EMAIL and EXAM_ADMIN_PASSWORD_FILE go together"),
        }
        if let Some(m) = env.parse::<u64>("EXAM_SESSION_IDLE_MINS")? {
            a.session_idle = Duration::from_secs(m.clamp(5, 60 * 24 * 30) * 60);
        }
        if let Some(h) = env.parse::<u64>("EXAM_SESSION_MAX_HOURS")? {
            a.session_max = Duration::from_secs(h.clamp(1, 24 * 90) * 3600);
        }
        a.trust_forwarded_for = env.flag("EXAM_TRUST_FORWARDED_FOR")?.unwrap_or(false);
        a.oidc = read_oidc(env)?;
        Ok(a)
    }
}

fn read_oidc(env: &Env) -> anyhow::Result<Option<OidcSettings>> {
    let (issuer, client_id) = match (env.get("EXAM_OIDC_ISSUER"), env.get("EXAM_OIDC_CLIENT_ID")) {
        (None, None) => return Ok(None),
        (Some(i), Some(c)) => (i, c),
        _ => bail!("EXAM_OIDC_ISSUER and EXAM_OIDC_CLIENT_ID go together"),
    };
    if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
        bail!("EXAM_OIDC_ISSUER={issuer:?}: expected an http(s) URL");
    }
    let mut o = OidcSettings::new(issuer, client_id);
    o.client_secret = match (env.get("EXAM_OIDC_CLIENT_SECRET_FILE"), env.get("EXAM_OIDC_CLIENT_SECRET")) {
        (Some(_), Some(_)) => bail!("set EXAM_OIDC_CLIENT_SECRET_FILE or EXAM_OIDC_CLIENT_SECRET, not both"),
        (Some(file), None) => {
            let secret = std::fs::read_to_string(&file).with_context(|| format!("EXAM_OIDC_CLIENT_SECRET_FILE={file}: cannot read it"))?;
            Some(exam_core::Secret::new(secret.trim_end_matches(['\n', '\r'])))
        }
        (None, Some(secret)) => Some(exam_core::Secret::new(secret)),
        (None, None) => None,
    };
    if let Some(v) = env.get("EXAM_OIDC_ROLE_CLAIM") {
        o.role_claim = v;
    }
    if let Some(v) = env.get("EXAM_OIDC_TEACHER_VALUES") {
        o.teacher_values = v.split(',').map(str::trim).filter(|v| !v.is_empty()).map(String::from).collect();
    }
    o.others = match env.get("EXAM_OIDC_OTHERS").as_deref() {
        None | Some("student") => OidcOthers::Student,
        Some("refuse") => OidcOthers::Refuse,
        Some(other) => bail!("EXAM_OIDC_OTHERS={other:?}: expected student or refuse"),
    };
    if let Some(v) = env.get("EXAM_OIDC_SCOPES") {
        o.scopes = v.split([' ', ',']).filter(|s| !s.is_empty()).map(String::from).collect();
    }
    if let Some(v) = env.get("EXAM_OIDC_BUTTON") {
        o.button = v;
    }
    Ok(Some(o))
}
