//! Error messages say what is actually refused (issue 10, item 13).

use exam_domain::Student;

/// Names may be in any script; only control characters are refused, and the message says so
/// (it used to say "may contain only a-z, 0-9, '-' and '_'").
#[test]
fn the_student_name_error_does_not_claim_names_are_ascii() {
    assert!(Student::parse("Zoë Ångström 山田").is_ok());
    let err = Student::parse("Ada\u{7}Lovelace").unwrap_err().to_string();
    assert_eq!(err, "student name must not contain control characters (tabs, line breaks)");
    assert!(!err.contains("a-z"));
}
