use std::collections::BTreeSet;

use super::*;

fn env(pairs: &[(&str, &str)]) -> Env {
    Env::from_pairs(pairs.iter().map(|(k, v)| (*k, *v)))
}

fn err_of<T: std::fmt::Debug>(r: anyhow::Result<T>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => format!("{e:#}"),
    }
}

#[test]
fn nothing_set_is_the_embedded_default() -> anyhow::Result<()> {
    let s = Settings::read(&env(&[]))?;
    assert_eq!(s.addr.to_string(), "127.0.0.1:3000");
    let b = s.process.backend_settings();
    assert!(matches!(&b.store, StoreSettings::Dir { root, bucket } if root == &PathBuf::from("data") && bucket == "exams"));
    assert!(b.kafka.is_none() && b.notify_uploads);
    assert!(s.process.generation.llm.is_none());
    assert_eq!(s.process.generation.extract_memory_mb, 256);
    Ok(())
}

#[test]
fn both_binaries_read_the_store_and_bus_alike() -> anyhow::Result<()> {
    let vars = [
        ("S3_ENDPOINT", "http://127.0.0.1:9000"),
        ("S3_BUCKET", "school"),
        ("AWS_ACCESS_KEY_ID", "id"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        ("KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
        ("EXAM_NOTIFY_UPLOADS", "true"),
        ("EXAM_EXTRACT_TIMEOUT_SECS", "5"),
        ("EXAM_EXTRACT_MEMORY_MB", "8"),
        ("HOSTNAME", "gateway-7"),
    ];
    let gateway = Settings::read(&env(&vars))?.process;
    let function = FunctionSettings::read(&env(&vars))?;
    for p in [&gateway, &function.process] {
        let b = p.backend_settings();
        assert!(
            matches!(&b.store, StoreSettings::S3(s3) if s3.bucket == "school" && s3.endpoint.as_deref() == Some("http://127.0.0.1:9000"))
        );
        let k = b.kafka.as_ref().map(|k| (k.properties.clone(), k.client_id.clone()));
        assert_eq!(
            k,
            Some((
                vec![("bootstrap.servers".into(), "127.0.0.1:9092".into()), ("security.protocol".into(), "SASL_SSL".into())],
                "gateway-7".into()
            ))
        );
        assert_eq!(p.generation.extract_budget, Duration::from_secs(5));
        assert_eq!(p.generation.extract_memory_mb, 32, "at least 32 MiB");
    }
    // Only the gateway announces uploads (the function never stores one).
    assert!(gateway.backend_settings().notify_uploads);
    assert!(!function.process.backend_settings().notify_uploads);
    assert_eq!(function.addr.to_string(), "0.0.0.0:8080");
    Ok(())
}

#[test]
fn malformed_values_are_refused_with_the_variable_named() {
    assert!(err_of(Settings::read(&env(&[("EXAM_SWEEP_SECS", "0")]))).contains("EXAM_SWEEP_SECS"));
    assert!(err_of(Settings::read(&env(&[("EXAM_STORE", "tape")]))).contains("EXAM_STORE"));
    assert!(err_of(Settings::read(&env(&[("EXAM_STORE", "s3")]))).contains("AWS_ACCESS_KEY_ID"));
    let s3 = [("EXAM_STORE", "s3"), ("AWS_ACCESS_KEY_ID", "id"), ("AWS_SECRET_ACCESS_KEY", "k"), ("S3_TIMEOUT_SECS", "soon")];
    assert!(err_of(Settings::read(&env(&s3))).contains("S3_TIMEOUT_SECS"));
    assert!(err_of(Settings::read(&env(&[("EXAM_EMBEDDED_GENERATOR", "maybe")]))).contains("EXAM_EMBEDDED_GENERATOR"));
    assert!(err_of(Settings::read(&env(&[("EXAM_OIDC_ISSUER", "https://id.example")]))).contains("EXAM_OIDC_CLIENT_ID"));
    assert!(err_of(FunctionSettings::read(&env(&[("PORT", "http")]))).contains("PORT"));
    assert!(err_of(FunctionSettings::read(&env(&[("HOST", "::x")]))).contains("HOST"));
}

/// The variables named in the first column of README.md's configuration table.
fn documented() -> BTreeSet<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap_or_default();
    let table = readme.split("\n## Configuration\n").nth(1).and_then(|t| t.split("\n## ").next()).unwrap_or_default();
    let mut names = BTreeSet::new();
    for row in table.lines().filter(|l| l.starts_with("| `")) {
        let first = row.split('|').nth(1).unwrap_or_default();
        for (i, part) in first.split('`').enumerate() {
            if i % 2 == 1 && part.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '*') {
                names.insert(part.to_owned());
            }
        }
    }
    names
}

/// Every variable the binaries read is in README's table, and every row of the table is read
/// here or by the library it names.
#[test]
fn readme_documents_every_variable_read() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("exam-settings-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let secret = dir.join("secret");
    std::fs::write(&secret, "pw\n")?;
    let secret = secret.to_string_lossy().into_owned();
    let full = env(&[
        ("EXAM_STORE", "s3"),
        ("AWS_ACCESS_KEY_ID", "id"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("KAFKA_BOOTSTRAP_SERVERS", "k:9092"),
        ("EXAM_LLM_BASE_URL", "http://127.0.0.1:1/v1"),
        ("EXAM_LLM_MODEL", "m"),
        ("EXAM_ADMIN_EMAIL", "a@school.example"),
        ("EXAM_ADMIN_PASSWORD_FILE", &secret),
        ("EXAM_OIDC_ISSUER", "https://id.example"),
        ("EXAM_OIDC_CLIENT_ID", "exams"),
        ("EXAM_OIDC_CLIENT_SECRET_FILE", &secret),
    ]);
    Settings::read(&full)?;
    FunctionSettings::read(&full)?;
    let empty = env(&[]);
    Settings::read(&empty)?;
    let mut read = full.names_read();
    read.extend(empty.names_read());
    // The secret from a variable is asked for only when there is no file; same for AWS_REGION.
    let other = env(&[("EXAM_OIDC_ISSUER", "https://id.example"), ("EXAM_OIDC_CLIENT_ID", "exams"), ("EXAM_OIDC_CLIENT_SECRET", "s")]);
    Settings::read(&other)?;
    read.extend(other.names_read());
    let _ = std::fs::remove_dir_all(&dir);

    let documented = documented();
    let undocumented: Vec<_> = read.difference(&documented).collect();
    assert!(undocumented.is_empty(), "read but not in README's configuration table: {undocumented:?}");
    // Read by glibc, tracing's filter, exam-telemetry (before settings, to log their errors)
    // and the OpenTelemetry SDK, not by these settings.
    let by_libraries = ["MALLOC_ARENA_MAX", "RUST_LOG", "EXAM_LOG_FORMAT"];
    let prefixes: Vec<&str> = read.iter().filter_map(|n| n.strip_suffix('*')).collect();
    let unread: Vec<_> = documented
        .iter()
        .filter(|n| !read.contains(*n) && !by_libraries.contains(&n.as_str()) && !n.starts_with("OTEL_"))
        .filter(|n| !prefixes.iter().any(|p| n.starts_with(p)))
        .collect();
    assert!(unread.is_empty(), "in README's configuration table but never read: {unread:?}");
    Ok(())
}
