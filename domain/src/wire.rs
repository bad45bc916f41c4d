//! How the internally tagged enums a browser receives are read: [`ServerMsg`] (the attempt
//! socket's frames) and [`WindowState`] (`"state"`).
//!
//! serde's derived reader for an internally tagged enum buffers the whole object into its
//! `Content` tree, finds the tag, then reads the variant from the buffer: a second,
//! generic deserialiser, monomorphised for every variant's fields, in every binary that reads
//! one, the student's WebAssembly included. Read instead as one flat object (the tag and every
//! variant's fields, each optional) and checked per variant here, the frames are read in one
//! pass by serde_json itself. The wire format is unchanged: the enums still serialise with
//! their derived, tagged `Serialize`, and the tests below read back every variant.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::attempt::ServerMsg;
use crate::ids::{OptionId, QuestionId};
use crate::sitting::{StudentReport, WindowState};

fn required<T>(value: Option<T>, field: &str) -> Result<T, String> {
    value.ok_or_else(|| format!("missing field `{field}`"))
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ServerKind {
    Resumed,
    Deadline,
    Saved,
    Result,
    Error,
}

/// A [`ServerMsg`] as read: `type` and the fields of every variant.
#[derive(Deserialize)]
pub struct ServerFrame {
    #[serde(rename = "type")]
    kind: ServerKind,
    attempt: Option<u32>,
    version: Option<u32>,
    answers: Option<BTreeMap<QuestionId, OptionId>>,
    deadline: Option<String>,
    server_time: Option<String>,
    #[serde(default)]
    question_order: Vec<QuestionId>,
    #[serde(default)]
    option_order: BTreeMap<QuestionId, Vec<OptionId>>,
    question_id: Option<QuestionId>,
    option_id: Option<OptionId>,
    report: Option<StudentReport>,
    message: Option<String>,
}

impl TryFrom<ServerFrame> for ServerMsg {
    type Error = String;

    fn try_from(f: ServerFrame) -> Result<Self, String> {
        Ok(match f.kind {
            ServerKind::Resumed => ServerMsg::Resumed {
                attempt: required(f.attempt, "attempt")?,
                version: f.version.unwrap_or_else(crate::versions::first_version),
                answers: required(f.answers, "answers")?,
                deadline: f.deadline,
                server_time: f.server_time.unwrap_or_default(),
                question_order: f.question_order,
                option_order: f.option_order,
            },
            ServerKind::Deadline => ServerMsg::Deadline { deadline: f.deadline, server_time: required(f.server_time, "server_time")? },
            ServerKind::Saved => {
                ServerMsg::Saved { question_id: required(f.question_id, "question_id")?, option_id: required(f.option_id, "option_id")? }
            }
            ServerKind::Result => ServerMsg::Result { attempt: required(f.attempt, "attempt")?, report: required(f.report, "report")? },
            ServerKind::Error => ServerMsg::Error { message: required(f.message, "message")? },
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum WindowKind {
    NotYetOpen,
    Open,
    Closed,
}

/// A [`WindowState`] as read: `state` and the fields of every variant.
#[derive(Deserialize)]
pub struct WindowObject {
    state: WindowKind,
    opens_at: Option<String>,
    closes_at: Option<String>,
    closed_at: Option<String>,
}

impl TryFrom<WindowObject> for WindowState {
    type Error = String;

    fn try_from(w: WindowObject) -> Result<Self, String> {
        Ok(match w.state {
            WindowKind::NotYetOpen => WindowState::NotYetOpen { opens_at: required(w.opens_at, "opens_at")? },
            WindowKind::Open => WindowState::Open { closes_at: w.closes_at },
            WindowKind::Closed => WindowState::Closed { closed_at: required(w.closed_at, "closed_at")? },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sitting::{ReviewShow, ReviewWhen};

    fn q(id: &str) -> QuestionId {
        QuestionId::parse(id).unwrap()
    }

    fn o(id: &str) -> OptionId {
        OptionId::parse(id).unwrap()
    }

    #[test]
    fn every_frame_reads_back_as_it_was_written() {
        let frames = [
            ServerMsg::Resumed {
                attempt: 2,
                version: 3,
                answers: BTreeMap::from([(q("q1"), o("b"))]),
                deadline: Some("2026-12-03T10:30:00.000Z".into()),
                server_time: "2026-12-03T10:00:00.000Z".into(),
                question_order: vec![q("q2"), q("q1")],
                option_order: BTreeMap::from([(q("q1"), vec![o("b"), o("a")])]),
            },
            ServerMsg::Resumed {
                attempt: 1,
                version: 1,
                answers: BTreeMap::new(),
                deadline: None,
                server_time: String::new(),
                question_order: vec![],
                option_order: BTreeMap::new(),
            },
            ServerMsg::Deadline { deadline: None, server_time: "2026-12-03T10:00:00.000Z".into() },
            ServerMsg::Deadline { deadline: Some("2026-12-03T11:00:00.000Z".into()), server_time: "t".into() },
            ServerMsg::Saved { question_id: q("q1"), option_id: o("a") },
            ServerMsg::Result {
                attempt: 1,
                report: StudentReport {
                    attempt: 1,
                    version: 1,
                    submitted_at: "2026-12-03T10:20:00.000Z".into(),
                    auto_submitted: true,
                    released: true,
                    show: ReviewShow::Score,
                    available: ReviewWhen::Immediately,
                    score: Some(1),
                    total: Some(2),
                    percent: Some(50.0),
                    passed: Some(false),
                    pass_mark: Some(60),
                    results: vec![],
                },
            },
            ServerMsg::Error { message: "The exam is closed.".into() },
        ];
        for frame in frames {
            let text = serde_json::to_string(&frame).unwrap();
            assert_eq!(serde_json::from_str::<ServerMsg>(&text).unwrap(), frame, "{text}");
        }
    }

    #[test]
    fn frames_keep_the_defaults_and_refusals_of_the_tagged_form() {
        // An older server's `resumed`: no version, clock or orders.
        let old: ServerMsg = serde_json::from_str(r#"{"type":"resumed","attempt":1,"answers":{"q1":"a"}}"#).unwrap();
        assert!(
            matches!(old, ServerMsg::Resumed { version: 1, ref server_time, ref question_order, .. } if server_time.is_empty() && question_order.is_empty())
        );
        // Fields of other variants are ignored, as the tagged reader ignores unknown fields.
        let saved: ServerMsg = serde_json::from_str(r#"{"type":"saved","question_id":"q1","option_id":"a","message":"x"}"#).unwrap();
        assert_eq!(saved, ServerMsg::Saved { question_id: q("q1"), option_id: o("a") });
        for bad in [
            r#"{"type":"resumed","answers":{}}"#,
            r#"{"type":"saved","question_id":"q1"}"#,
            r#"{"type":"saved","question_id":"../x","option_id":"a"}"#,
            r#"{"type":"deadline","deadline":null}"#,
            r#"{"type":"result","attempt":1}"#,
            r#"{"type":"error"}"#,
            r#"{"type":"bogus"}"#,
            r#"{"message":"no type"}"#,
            r#"{"type":"error","message":"a","message":"b"}"#,
        ] {
            assert!(serde_json::from_str::<ServerMsg>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn window_states_read_back_and_refuse_what_is_missing() {
        for w in [
            WindowState::NotYetOpen { opens_at: "2026-12-03T10:00:00.000Z".into() },
            WindowState::Open { closes_at: None },
            WindowState::Open { closes_at: Some("2026-12-03T12:00:00.000Z".into()) },
            WindowState::Closed { closed_at: "2026-12-03T12:00:00.000Z".into() },
        ] {
            let text = serde_json::to_string(&w).unwrap();
            assert_eq!(serde_json::from_str::<WindowState>(&text).unwrap(), w, "{text}");
        }
        assert_eq!(serde_json::to_string(&WindowState::Open { closes_at: None }).unwrap(), r#"{"state":"open","closes_at":null}"#);
        for bad in [r#"{"state":"not_yet_open"}"#, r#"{"state":"closed"}"#, r#"{"state":"ajar"}"#, r#"{}"#] {
            assert!(serde_json::from_str::<WindowState>(bad).is_err(), "{bad}");
        }
    }
}
