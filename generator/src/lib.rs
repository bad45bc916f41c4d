//! Built-in offline question generator: PDF bytes -> text per page -> multiple-choice and
//! true/false questions with their source quotes.
//!
//! * [`extract_pages`] reads a PDF in-process; [`extract_isolated`] runs the same in a child
//!   process ([`run_extract_child`], binary `exam-extract`) with a time budget.
//! * [`generate`] turns a [`Document`] into questions, deterministically and offline.

mod english;
mod extract;
mod filter;
mod generate;
mod isolate;
mod repair;
mod text;

pub use extract::{
    Document, ExtractError, MAX_DOCUMENT_TEXT_BYTES, MAX_PAGE_TEXT_BYTES, MAX_STREAM_BYTES, extract_pages, extract_pages_unrepaired,
    normalise_page,
};
pub use generate::{GenerateError, Generated, generate};
pub use isolate::{DEFAULT_MEMORY_MB, ExtractCommand, MAX_ANSWER_BYTES, extract_isolated, run_extract_child};
