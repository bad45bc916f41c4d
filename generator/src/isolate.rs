//! Isolated extraction: the PDF library runs in a child process with a time budget, so a
//! panic, abort, stack overflow or endless loop in it cannot take a server down.
//!
//! Protocol: the parent writes the PDF to the child's stdin and closes it; the child prints one
//! JSON `Result<Document, ExtractError>` to stdout and exits 0 (an `ExtractError` is a normal
//! answer). Anything else is [`ExtractError::Crashed`]; running past the budget is
//! [`ExtractError::Timeout`] and the child is killed.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::extract::{Document, ExtractError, extract_pages};

/// The command that runs the child side ([`run_extract_child`]), e.g. the server's own binary
/// with its hidden subcommand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractCommand {
    pub program: PathBuf,
    pub args: Vec<String>,
}

/// Runs `cmd` as a child process, writes `pdf` to its stdin and reads its JSON answer.
/// The child is killed once `budget` has passed (then [`ExtractError::Timeout`]); a crash or
/// non-zero exit is [`ExtractError::Crashed`] with the last line the child wrote to stderr.
pub async fn extract_isolated(cmd: &ExtractCommand, pdf: &[u8], budget: Duration) -> Result<Document, ExtractError> {
    let mut child = tokio::process::Command::new(&cmd.program)
        .args(&cmd.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| ExtractError::Crashed(format!("could not start {}: {e}", cmd.program.display())))?;
    let mut stdin = child.stdin.take();
    let feed = async move {
        if let Some(stdin) = stdin.as_mut() {
            // A child that exits without reading (broken pipe) is judged by its exit status.
            let _ = stdin.write_all(pdf).await;
            let _ = stdin.shutdown().await;
        }
        drop(stdin);
    };
    // Dropping this future on timeout drops the child, and kill_on_drop kills it.
    let run = async move {
        let ((), output) = tokio::join!(feed, child.wait_with_output());
        output
    };
    let output = match tokio::time::timeout(budget, run).await {
        Err(_) => return Err(ExtractError::Timeout(budget.as_secs_f64().ceil().max(1.0) as u64)),
        Ok(Err(e)) => return Err(ExtractError::Crashed(format!("lost contact with the reader process: {e}"))),
        Ok(Ok(output)) => output,
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let detail =
            stderr.lines().map(str::trim).rfind(|l| !l.is_empty()).map(str::to_owned).unwrap_or_else(|| describe_status(&output.status));
        return Err(ExtractError::Crashed(detail));
    }
    serde_json::from_slice::<Result<Document, ExtractError>>(&output.stdout)
        .map_err(|e| ExtractError::Crashed(format!("the reader process gave an unreadable answer ({e})")))?
}

fn describe_status(status: &std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return format!("the reader process was killed by signal {sig}");
        }
    }
    match status.code() {
        Some(code) => format!("the reader process exited with status {code}"),
        None => "the reader process ended abnormally".to_owned(),
    }
}

/// The child side: reads all of stdin, extracts, prints the JSON result to stdout. Exits 0 for
/// any answer, an [`ExtractError`] included; non-zero only if the answer cannot be written.
pub fn run_extract_child() -> ExitCode {
    let mut pdf = Vec::new();
    let result = match std::io::stdin().lock().read_to_end(&mut pdf) {
        Ok(_) => extract_pages(&pdf),
        Err(e) => Err(ExtractError::Crashed(format!("could not read the PDF from stdin: {e}"))),
    };
    let json = match serde_json::to_vec(&result) {
        Ok(json) => json,
        Err(e) => {
            eprintln!("could not encode the result: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(&json).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("could not write the result: {e}");
            ExitCode::FAILURE
        }
    }
}
