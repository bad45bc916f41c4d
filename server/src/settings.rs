//! The gateway's settings: defined with the generator function's in
//! [`exam_backends::settings`], the one module that reads the environment.

pub use exam_backends::settings::{AdminAccount, AuthSettings, Env, OidcOthers, OidcSettings, ProcessSettings, Settings};
