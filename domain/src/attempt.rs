//! The WebSocket protocol of `GET /api/v1/exams/{id}/attempt?student=...`, one JSON text
//! frame per message. Every answer is stored on the server before it is acknowledged, so a
//! reload (or another device) resumes from the last `saved` frame.
//!
//! Timed attempts: `resumed` carries the deadline and the server's clock, so the page can count
//! down in server time whatever the browser's clock says; a `deadline` frame follows whenever
//! the deadline changes (the teacher extended the student's time or closed the exam). When time
//! is up the server submits the attempt itself and sends `result` (with `auto_submitted`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{OptionId, QuestionId};
use crate::sitting::StudentReport;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// Choose (or change) the answer to one question.
    Answer { question_id: QuestionId, option_id: OptionId },
    /// Finish: grade the saved answers and store the submission.
    Submit,
}

/// Read through [`crate::wire`] (one pass, no buffer); written tagged, as derived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", try_from = "crate::wire::ServerFrame")]
pub enum ServerMsg {
    /// First frame: the attempt this connection continues, with the answers saved so far.
    /// `version` is the exam version the attempt is bound to: a page showing another version's
    /// paper must load this one (an attempt keeps its version when a newer one is published).
    Resumed {
        attempt: u32,
        version: u32,
        answers: BTreeMap<QuestionId, OptionId>,
        /// When time is up (RFC 3339), or `null` for an untimed attempt in an open-ended exam.
        deadline: Option<String>,
        /// The server's clock when the frame was sent (RFC 3339).
        server_time: String,
        /// The order to show the questions in (every question id once).
        question_order: Vec<QuestionId>,
        /// The order to show each question's options in (every option id once).
        option_order: BTreeMap<QuestionId, Vec<OptionId>>,
    },
    /// The deadline changed while the attempt runs.
    Deadline { deadline: Option<String>, server_time: String },
    /// The answer is durably stored.
    Saved { question_id: QuestionId, option_id: OptionId },
    /// The submission is stored and graded. `report` holds what the exam's review policy lets
    /// the student see now: possibly only that it was submitted, never the key before the
    /// policy allows.
    Result { attempt: u32, report: StudentReport },
    /// Something the student should read; the connection stays usable unless it closes.
    Error { message: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shapes() {
        let m: ClientMsg = serde_json::from_str(r#"{"type":"answer","question_id":"q1","option_id":"b"}"#).unwrap();
        assert!(matches!(m, ClientMsg::Answer { .. }));
        assert_eq!(serde_json::from_str::<ClientMsg>(r#"{"type":"submit"}"#).unwrap(), ClientMsg::Submit);
        assert!(serde_json::from_str::<ClientMsg>(r#"{"type":"answer","question_id":"../x","option_id":"b"}"#).is_err());
        let s = serde_json::to_string(&ServerMsg::Error { message: "x".into() }).unwrap();
        assert_eq!(s, r#"{"type":"error","message":"x"}"#);
    }
}
