//! `exam-extract`: the child side of isolated PDF extraction (PDF on stdin, JSON on stdout).
//! Tests use it through `env!("CARGO_BIN_EXE_exam-extract")`; servers call
//! [`exam_generator::run_extract_child`] from a hidden subcommand of their own binary instead.

use std::process::ExitCode;

fn main() -> ExitCode {
    exam_generator::run_extract_child()
}
