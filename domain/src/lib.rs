//! Exam platform domain: the values every other crate agrees on.
//!
//! * [`bank`]: question banks (the generator's output, stored as JSON), the student's
//!   key-free [`bank::ExamPaper`], and loading of the seed system's bank format.
//! * [`grading`]: server-side grading that compares option ids, never display strings.
//! * [`params`]: generation parameters parsed at the boundary ("parse, don't validate").
//! * [`events`]: the message contracts on the bus and the live WebSocket, and the
//!   MinIO/S3 bucket-notification shape that starts generation.
//! * [`keys`]: the object layout in the bucket, identical in embedded and cluster mode.
//! * [`attempt`]: the WebSocket protocol a student's browser speaks while taking an exam.
//! * [`versions`]: review and versioning: the teacher's draft, frozen published versions and
//!   the rules that bind an attempt to the version it was opened on.
//! * [`export`]: Moodle GIFT and Moodle XML for question banks, CSV for results.
//! * [`records`]: the stored record types, one per object kind of [`keys`].
//! * [`sitting`]: how an exam is sat (time limit, window, attempts, shuffling, review policy,
//!   accommodations) and the pure rules over it.
//! * [`identity`]: teacher accounts, the identity a request carries, who may change an exam.
//! * [`validate`]: the one validator every generated question passes before it is stored.
//!
//! Architecture invariant: this crate performs no IO, reads no clock and draws no random
//! numbers; it compiles to `wasm32-unknown-unknown` and is shared by the server and the
//! hydrated front end.

pub mod attempt;
pub mod bank;
pub mod events;
pub mod export;
pub mod grading;
pub mod identity;
pub mod ids;
pub mod keys;
pub mod params;
pub mod records;
pub mod sitting;
pub mod stats;
pub mod validate;
pub mod versions;
pub mod views;
pub mod wire;

pub use bank::{AnswerOption, ExamPaper, PaperQuestion, Question, QuestionBank, QuestionKind, SourceRef};
pub use events::{Announcement, ExamStatus, Stage};
pub use grading::{GradeReport, PassMark, QuestionResult, grade, regrade_results};
pub use ids::{ExamId, IdError, OptionId, QuestionId, Student};
pub use params::{GenerationParams, ParamError};
pub use records::{AttemptState, FailureRecord, Publication};
pub use sitting::{ExamSettings, GradePolicy, ReviewPolicy, ReviewShow, ReviewWhen, StudentOverride, StudentReport};
pub use stats::{ExamStatistics, HistogramBin, ItemFlag, ItemStatistics, OptionStatistics, analyse};
pub use versions::{Draft, PublishedVersion, QuestionEdit, VersionInfo};
pub use views::{DraftInfo, ExamSummary, InProgress, ResultRow, ResultsPage, SittingView, StudentStatus, SubmissionRecord, TeacherExam};
