//! The WebSocket protocol of `GET /api/v1/exams/{id}/attempt?student=...`, one JSON text
//! frame per message. Every answer is stored on the server before it is acknowledged, so a
//! reload (or another device) resumes from the last `saved` frame.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::grading::GradeReport;
use crate::ids::{OptionId, QuestionId};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// Choose (or change) the answer to one question.
    Answer { question_id: QuestionId, option_id: OptionId },
    /// Finish: grade the saved answers and store the submission.
    Submit,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// First frame: the attempt this connection continues, with the answers saved so far.
    /// `version` is the exam version the attempt is bound to: a page showing another version's
    /// paper must load this one (an attempt keeps its version when a newer one is published).
    Resumed {
        attempt: u32,
        #[serde(default = "crate::versions::first_version")]
        version: u32,
        answers: BTreeMap<QuestionId, OptionId>,
    },
    /// The answer is durably stored.
    Saved { question_id: QuestionId, option_id: OptionId },
    /// The submission is stored and graded; only now does the key reach the browser.
    Result { attempt: u32, report: GradeReport },
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
