//! Isolated extraction: the PDF library runs in a child process with a time budget, so a
//! panic, abort, stack overflow or endless loop in it cannot take a server down.
//!
//! Protocol: the parent writes the PDF to the child's stdin and closes it; the child prints one
//! JSON `Result<Document, ExtractError>` to stdout and exits 0 (an `ExtractError` is a normal
//! answer). Anything else is [`ExtractError::Crashed`]; running past the budget is
//! [`ExtractError::Timeout`] and the child is killed.
//!
//! Limits, so that no PDF can take the server's memory: the child first limits itself
//! (`setrlimit`: data segment and address space to its `--memory-mb`, CPU to its
//! `--cpu-secs`; [`ExtractCommand::limited`] passes the settings `EXAM_EXTRACT_MEMORY_MB` and
//! `EXAM_EXTRACT_TIMEOUT_SECS` + 1 s); it
//! answers at most [`MAX_ANSWER_BYTES`]; the parent reads at most that much of its stdout (and
//! the last 4 KiB of its stderr), streamed, and kills it past that. A child that ran out of
//! memory is [`ExtractError::TooLarge`].

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::extract::{Document, ExtractError, MAX_DOCUMENT_TEXT_BYTES, extract_pages};

/// The largest JSON answer the parent reads from the child: the capped text, escaped.
pub const MAX_ANSWER_BYTES: usize = 2 * MAX_DOCUMENT_TEXT_BYTES + (64 << 10);
/// Memory the child may use unless its `--memory-mb` says otherwise.
pub const DEFAULT_MEMORY_MB: u64 = 256;
/// CPU seconds the child may use unless its `--cpu-secs` says otherwise.
const DEFAULT_CPU_SECS: u64 = 61;
/// How much of the child's stderr is kept (its last line explains a crash).
const STDERR_TAIL_BYTES: usize = 4 << 10;

/// The command that runs the child side ([`run_extract_child`]), e.g. the server's own binary
/// with its hidden subcommand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractCommand {
    pub program: PathBuf,
    pub args: Vec<String>,
}

impl ExtractCommand {
    /// `program [subcommand] --memory-mb M --cpu-secs S`: the reader limited to `memory_mb`
    /// (at least 32) and to the CPU time of `budget` + 1 s.
    pub fn limited(program: impl Into<PathBuf>, subcommand: Option<&str>, memory_mb: u64, budget: Duration) -> Self {
        let mut args: Vec<String> = subcommand.map(str::to_owned).into_iter().collect();
        let cpu = budget.as_secs().max(1) + 1;
        args.extend(["--memory-mb".into(), memory_mb.max(32).to_string(), "--cpu-secs".into(), cpu.to_string()]);
        ExtractCommand { program: program.into(), args }
    }

    /// The memory limit this command gives the child (for the error message).
    fn memory_mb(&self) -> u64 {
        flag_value(&self.args, "--memory-mb").unwrap_or(DEFAULT_MEMORY_MB)
    }
}

/// The number after `flag` in `args`.
fn flag_value(args: &[String], flag: &str) -> Option<u64> {
    args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok())
}

/// Runs `cmd` as a child process, writes `pdf` to its stdin and reads its JSON answer.
/// The child is killed once `budget` has passed (then [`ExtractError::Timeout`]) or once it
/// writes more than [`MAX_ANSWER_BYTES`]; a crash or non-zero exit is [`ExtractError::Crashed`]
/// with the last line the child wrote to stderr, running out of memory
/// [`ExtractError::TooLarge`].
pub async fn extract_isolated(cmd: &ExtractCommand, pdf: &[u8], budget: Duration) -> Result<Document, ExtractError> {
    let mut child = tokio::process::Command::new(&cmd.program)
        .args(&cmd.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| ExtractError::Crashed(format!("could not start {}: {e}", cmd.program.display())))?;
    let (mut stdin, stdout, stderr) = (child.stdin.take(), child.stdout.take(), child.stderr.take());
    let feed = async move {
        if let Some(stdin) = stdin.as_mut() {
            // A child that exits without reading (broken pipe) is judged by its exit status.
            let _ = stdin.write_all(pdf).await;
            let _ = stdin.shutdown().await;
        }
        drop(stdin);
    };
    let read_answer = async move {
        let mut answer = Vec::new();
        if let Some(stdout) = stdout {
            stdout.take(MAX_ANSWER_BYTES as u64 + 1).read_to_end(&mut answer).await?;
        }
        Ok::<_, std::io::Error>(answer)
    };
    let child = &mut child;
    let run = async move {
        let ((), answer) = tokio::join!(feed, read_answer);
        let answer = answer?;
        if answer.len() > MAX_ANSWER_BYTES {
            // It would block on a full pipe; nothing it says next is read.
            let _ = child.start_kill();
        }
        let status = child.wait().await?;
        Ok::<_, std::io::Error>((answer, status))
    };
    // Dropping these futures on timeout leaves the child to `kill_on_drop`.
    let (output, tail) = match tokio::time::timeout(budget, async { tokio::join!(run, stderr_tail(stderr)) }).await {
        Err(_) => return Err(ExtractError::Timeout(budget.as_secs_f64().ceil().max(1.0) as u64)),
        Ok(both) => both,
    };
    let (answer, status) = output.map_err(|e| ExtractError::Crashed(format!("lost contact with the reader process: {e}")))?;
    if answer.len() > MAX_ANSWER_BYTES {
        return Err(ExtractError::TooLarge(format!("its text is larger than the {} MiB a document may have", MAX_ANSWER_BYTES >> 20)));
    }
    if !status.success() {
        let stderr = String::from_utf8_lossy(&tail);
        if stderr.contains("memory allocation of") {
            return Err(out_of_memory(cmd.memory_mb()));
        }
        if killed_by(&status, 24) {
            // SIGXCPU: the child's own CPU limit.
            return Err(ExtractError::Timeout(budget.as_secs_f64().ceil().max(1.0) as u64));
        }
        let detail = stderr.lines().map(str::trim).rfind(|l| !l.is_empty()).map(str::to_owned).unwrap_or_else(|| describe_status(&status));
        return Err(ExtractError::Crashed(detail));
    }
    serde_json::from_slice::<Result<Document, ExtractError>>(&answer)
        .map_err(|e| ExtractError::Crashed(format!("the reader process gave an unreadable answer ({e})")))?
}

fn out_of_memory(memory_mb: u64) -> ExtractError {
    ExtractError::TooLarge(format!("reading it needs more than the {memory_mb} MiB of memory the PDF reader may use"))
}

/// The last [`STDERR_TAIL_BYTES`] the child writes to stderr, read as it comes.
async fn stderr_tail(stderr: Option<tokio::process::ChildStderr>) -> Vec<u8> {
    let mut tail = Vec::new();
    let Some(mut stderr) = stderr else { return tail };
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = stderr.read(&mut buf).await {
        tail.extend_from_slice(&buf[..n]);
        if tail.len() > STDERR_TAIL_BYTES {
            tail.drain(..tail.len() - STDERR_TAIL_BYTES);
        }
    }
    tail
}

fn killed_by(status: &std::process::ExitStatus, signal: i32) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        status.signal() == Some(signal)
    }
    #[cfg(not(unix))]
    {
        let _ = (status, signal);
        false
    }
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

/// The child side: limits its own memory and CPU, reads all of stdin, extracts, prints the
/// JSON result to stdout. Exits 0 for any answer, an [`ExtractError`] included; non-zero only
/// if the answer cannot be written (or the process is killed by its limits: an allocation
/// past the memory limit aborts).
pub fn run_extract_child() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    limit_self(
        flag_value(&args, "--memory-mb").map_or(DEFAULT_MEMORY_MB, |mb| mb.max(32)),
        flag_value(&args, "--cpu-secs").unwrap_or(DEFAULT_CPU_SECS).max(1),
    );
    let mut pdf = Vec::new();
    let result = match std::io::stdin().lock().read_to_end(&mut pdf) {
        Ok(_) => extract_pages(&pdf),
        Err(e) => Err(ExtractError::Crashed(format!("could not read the PDF from stdin: {e}"))),
    };
    drop(pdf);
    let json = match serde_json::to_vec(&result) {
        Ok(json) if json.len() > MAX_ANSWER_BYTES => serde_json::to_vec(&Err::<Document, _>(ExtractError::TooLarge(format!(
            "its text is larger than the {} MiB a document may have",
            MAX_ANSWER_BYTES >> 20
        ))))
        .unwrap_or_default(),
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

/// `setrlimit` on the child itself, first thing: data (heap and anonymous mappings, Linux ≥
/// 4.7) to `memory_mb`, the address space to what is mapped now (the binary, its
/// libraries, the stack) plus that, and CPU seconds to `cpu` (the time budget + 1: SIGXCPU,
/// then SIGKILL a second later; the parent normally kills it first). Failures are reported on
/// stderr and the child goes on: the parent's timeout and output cap still hold.
fn limit_self(memory_mb: u64, cpu: u64) {
    #[cfg(unix)]
    {
        use rlimit::Resource;
        let memory = memory_mb << 20;
        let mapped = std::fs::read_to_string("/proc/self/status").ok().and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("VmSize:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        });
        let limits = [
            ("memory", Resource::DATA, Some((memory, memory))),
            ("address space", Resource::AS, mapped.map(|kib| ((kib << 10) + memory, (kib << 10) + memory))),
            ("CPU time", Resource::CPU, Some((cpu, cpu + 1))),
        ];
        for (what, resource, limit) in limits {
            let Some((soft, hard)) = limit else { continue };
            // Never above a hard limit already set (raising it is not allowed).
            let current = rlimit::getrlimit(resource).map_or(u64::MAX, |(_, hard)| hard);
            if let Err(e) = rlimit::setrlimit(resource, soft.min(current), hard.min(current)) {
                eprintln!("could not limit the reader's {what}: {e}");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (memory_mb, cpu);
}
