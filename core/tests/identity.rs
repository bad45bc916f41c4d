//! Identity without HTTP: accounts, the setup link, access tokens and exam ownership, on a
//! directory store and a manual clock.

mod common;

use std::time::Duration;

use common::{bank_json, platform};
use exam_core::service::ServiceError;
use exam_core::store::ObjectStore;

#[tokio::test]
async fn accounts_sign_in_only_with_the_right_password_and_emails_are_unique() {
    let f = platform().await;
    let accounts = &f.platform.identity().accounts;
    assert!(!accounts.any().await.unwrap());
    let ada = accounts.create(" Ada@School.example ", "Ada", "correct horse battery").await.unwrap();
    assert_eq!(ada.email.as_str(), "ada@school.example");
    assert!(accounts.any().await.unwrap());

    let signed_in = accounts.sign_in("ada@school.example", "correct horse battery").await.unwrap();
    assert_eq!(signed_in.map(|t| t.id), Some(ada.id.clone()));
    assert_eq!(accounts.sign_in("ADA@school.example", "wrong password!").await.unwrap(), None);
    assert_eq!(accounts.sign_in("nobody@school.example", "correct horse battery").await.unwrap(), None);
    assert_eq!(accounts.sign_in("not an email", "correct horse battery").await.unwrap(), None);

    let dup = accounts.create("ada@school.example", "Other Ada", "another long password").await.unwrap_err();
    assert!(matches!(dup, ServiceError::Invalid { ref field, .. } if field == "email"), "{dup:?}");
    let short = accounts.create("bob@school.example", "Bob", "short").await.unwrap_err();
    assert!(matches!(short, ServiceError::Invalid { ref field, .. } if field == "password"), "{short:?}");

    // The stored record holds an Argon2id hash, never the password.
    let stored = f.store.list("auth/teachers/").await.unwrap();
    let (bytes, _) = f.store.get(&stored[0].key).await.unwrap().unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(text.contains("$argon2id$") && !text.contains("correct horse"), "{text}");

    // The admin account from the environment: created once, never reset.
    let again = accounts.ensure("ada@school.example", "Ada", "a different password").await.unwrap();
    assert_eq!(again.id, ada.id);
    assert!(accounts.sign_in("ada@school.example", "correct horse battery").await.unwrap().is_some());
}

#[tokio::test]
async fn the_setup_link_works_once_and_only_while_no_teacher_exists() {
    let f = platform().await;
    let identity = f.platform.identity();
    let token = identity.setup.prepare(&identity.accounts).await.unwrap().expect("no teacher yet: a setup token");
    assert_eq!(token.len(), 26, "128 bits in base32");
    assert!(identity.setup.is_valid(&token).await.unwrap());
    assert!(!identity.setup.is_valid("guess").await.unwrap());

    let wrong = identity.setup.complete(&identity.accounts, "guess", "a@x.org", "A", "long enough password").await.unwrap_err();
    assert!(matches!(wrong, ServiceError::Forbidden(_)), "{wrong:?}");
    // A mistake in the form does not use the link up.
    let typo = identity.setup.complete(&identity.accounts, &token, "not-an-email", "A", "long enough password").await.unwrap_err();
    assert!(matches!(typo, ServiceError::Invalid { ref field, .. } if field == "email"));

    let first = identity.setup.complete(&identity.accounts, &token, "a@x.org", "A", "long enough password").await.unwrap();
    assert_eq!(first.email.as_str(), "a@x.org");
    let replay = identity.setup.complete(&identity.accounts, &token, "b@x.org", "B", "long enough password").await.unwrap_err();
    assert!(matches!(replay, ServiceError::Forbidden(_)), "{replay:?}");
    assert_eq!(identity.setup.prepare(&identity.accounts).await.unwrap(), None, "no new link once a teacher exists");
}

#[tokio::test]
async fn tokens_resolve_until_they_expire_or_are_revoked_and_only_by_their_owner() {
    let f = platform().await;
    let identity = f.platform.identity();
    let ada = identity.accounts.create("ada@x.org", "Ada", "long enough password").await.unwrap();
    let bob = identity.accounts.create("bob@x.org", "Bob", "long enough password").await.unwrap();
    let (secret, info) = identity.tokens.create(&ada.id, "grading script", 1).await.unwrap();
    assert!(secret.starts_with("exm_") && secret.len() == 36, "{secret}");
    assert_eq!(identity.tokens.resolve(&secret).await.unwrap(), Some(ada.id.clone()));
    assert_eq!(identity.tokens.resolve("exm_notatoken").await.unwrap(), None);
    assert_eq!(identity.tokens.list(&ada.id).await.unwrap(), vec![info.clone()]);
    assert!(identity.tokens.list(&bob.id).await.unwrap().is_empty());
    assert!(matches!(identity.tokens.revoke(&bob.id, &info.id).await, Err(ServiceError::NotFound(_))));

    f.clock.advance(Duration::from_secs(86_401));
    assert_eq!(identity.tokens.resolve(&secret).await.unwrap(), None, "expired");

    let (second, info2) = identity.tokens.create(&ada.id, "another", 30).await.unwrap();
    identity.tokens.revoke(&ada.id, &info2.id).await.unwrap();
    assert_eq!(identity.tokens.resolve(&second).await.unwrap(), None, "revoked");
    assert!(matches!(identity.tokens.create(&ada.id, "", 30).await, Err(ServiceError::Invalid { .. })));
    assert!(matches!(identity.tokens.create(&ada.id, "x", 0).await, Err(ServiceError::Invalid { .. })));
}

#[tokio::test]
async fn an_exam_belongs_to_its_creator_and_old_exams_go_to_the_first_teacher() {
    let f = platform().await;
    let identity = f.platform.identity();
    let ada = identity.accounts.create("ada@x.org", "Ada", "long enough password").await.unwrap();
    f.clock.advance(Duration::from_secs(1));
    let bob = identity.accounts.create("bob@x.org", "Bob", "long enough password").await.unwrap();
    let mine = f.platform.authoring().import_exam(&bob.id, None, "b.json", &bank_json(2)).await.unwrap();
    assert!(identity.access.allows(&bob.id, &mine.id).await.unwrap());
    assert!(matches!(identity.access.check(&ada.id, &mine.id).await, Err(ServiceError::NotFound(_))));
    assert_eq!(f.platform.exams_of(&bob.id).await.unwrap().len(), 1);
    assert!(f.platform.exams_of(&ada.id).await.unwrap().is_empty());

    // An exam from before owners existed (no access record) is given to the oldest account.
    let old = f.platform.authoring().import_exam(&bob.id, None, "old.json", &bank_json(2)).await.unwrap();
    f.store.delete(&exam_domain::keys::access_key(&old.id)).await.unwrap();
    tokio::time::sleep(exam_core::identity::access::ACCESS_TTL).await;
    assert!(!identity.access.allows(&bob.id, &old.id).await.unwrap());
    assert_eq!(identity.adopt_orphans(f.platform.exams().into_iter().map(|e| e.id)).await.unwrap(), 1);
    assert!(identity.access.allows(&ada.id, &old.id).await.unwrap());
    assert_eq!(identity.adopt_orphans(f.platform.exams().into_iter().map(|e| e.id)).await.unwrap(), 0, "idempotent");
}

#[tokio::test]
async fn an_invitation_makes_one_account_once_and_expires_after_a_week() {
    let f = platform().await;
    let identity = f.platform.identity();
    let ada = identity.accounts.create("ada@x.org", "Ada", "long enough password").await.unwrap();
    let (token, record) = identity.invites.create(&ada.id).await.unwrap();
    assert_eq!(record.invited_by, ada.id);
    assert!(identity.invites.live(&token).await.unwrap().is_some());
    let typo = identity.invites.accept(&identity.accounts, &token, "bob@x.org", "Bob", "short").await.unwrap_err();
    assert!(matches!(typo, ServiceError::Invalid { ref field, .. } if field == "password"), "a typo keeps the link: {typo:?}");
    let taken = identity.invites.accept(&identity.accounts, &token, "ada@x.org", "Ada 2", "long enough password").await.unwrap_err();
    assert!(matches!(taken, ServiceError::Invalid { ref field, .. } if field == "email"), "{taken:?}");
    let bob = identity.invites.accept(&identity.accounts, &token, "bob@x.org", "Bob", "long enough password").await.unwrap();
    assert!(identity.accounts.sign_in("bob@x.org", "long enough password").await.unwrap().is_some_and(|t| t.id == bob.id));
    let again = identity.invites.accept(&identity.accounts, &token, "carol@x.org", "Carol", "long enough password").await.unwrap_err();
    assert!(matches!(again, ServiceError::Forbidden(_)), "{again:?}");

    let (late, _) = identity.invites.create(&ada.id).await.unwrap();
    f.clock.advance(Duration::from_secs(7 * 86_400 + 1));
    assert!(identity.invites.live(&late).await.unwrap().is_none());
    assert!(matches!(
        identity.invites.accept(&identity.accounts, &late, "d@x.org", "D", "long enough password").await,
        Err(ServiceError::Forbidden(_))
    ));
}

#[tokio::test]
async fn the_owner_shares_an_exam_and_every_change_is_in_its_audit_log() {
    let f = platform().await;
    let identity = f.platform.identity();
    let ada = identity.accounts.create("ada@x.org", "Ada", "long enough password").await.unwrap();
    let bob = identity.accounts.create("bob@x.org", "Bob", "long enough password").await.unwrap();
    let carol = identity.accounts.create("carol@x.org", "Carol", "long enough password").await.unwrap();
    let exam = f.platform.authoring().import_exam(&ada.id, None, "a.json", &bank_json(2)).await.unwrap();

    let access = identity.share(&exam.id, &ada.id, "BOB@x.org").await.unwrap();
    assert_eq!(access.shared_with, vec![bob.id.clone()]);
    assert_eq!(identity.share(&exam.id, &ada.id, "bob@x.org").await.unwrap().shared_with.len(), 1, "twice is once");
    let unknown = identity.share(&exam.id, &ada.id, "nobody@x.org").await.unwrap_err();
    assert!(matches!(unknown, ServiceError::Invalid { ref field, .. } if field == "email"), "{unknown:?}");
    assert!(identity.access.allows(&bob.id, &exam.id).await.unwrap());
    assert_eq!(f.platform.exams_of(&bob.id).await.unwrap().len(), 1);
    // A sharer works on the exam but does not hand it on; a stranger does not learn it exists.
    assert!(matches!(identity.share(&exam.id, &bob.id, "carol@x.org").await, Err(ServiceError::Forbidden(_))));
    assert!(matches!(identity.share(&exam.id, &carol.id, "carol@x.org").await, Err(ServiceError::NotFound(_))));
    f.platform.publish_as(&bob.id, &exam.id).await.unwrap();
    identity.unshare(&exam.id, &ada.id, &bob.id).await.unwrap();
    assert!(!identity.access.allows(&bob.id, &exam.id).await.unwrap());

    let log = identity.audit.read(exam_core::identity::audit::Scope::Exam(&exam.id)).await.unwrap();
    let actions: Vec<(&str, Option<&str>)> = log.iter().map(|e| (e.action.as_str(), e.actor.as_ref().map(|t| t.as_str()))).collect();
    let (a, b) = (Some(ada.id.as_str()), Some(bob.id.as_str()));
    assert_eq!(actions, vec![("share", a), ("share", a), ("publish", b), ("unshare", a)]);
    assert!(log.windows(2).all(|w| w[0].at <= w[1].at), "oldest first");
}

#[tokio::test]
async fn an_oidc_teacher_links_to_the_account_with_their_email_or_gets_one_without_a_password() {
    let f = platform().await;
    let accounts = &f.platform.identity().accounts;
    let iss = "https://login.school.example";
    let ada = accounts.create("ada@school.example", "Ada", "correct horse battery").await.unwrap();
    // The same verified email: the existing account, which keeps its password.
    let linked = accounts.ensure_external(iss, "sub-ada", "Ada@School.example", "Ada L.").await.unwrap();
    assert_eq!(linked.id, ada.id);
    assert!(accounts.sign_in("ada@school.example", "correct horse battery").await.unwrap().is_some());
    // The link is by (issuer, subject): a changed email at the provider finds the same account.
    let again = accounts.ensure_external(iss, "sub-ada", "ada.lovelace@school.example", "Ada").await.unwrap();
    assert_eq!(again.id, ada.id);

    // A new teacher: an account without a password, which a password sign-in never opens.
    let bob = accounts.ensure_external(iss, "sub-bob", "bob@school.example", "Bob").await.unwrap();
    assert_eq!((bob.email.as_str(), bob.name.as_str()), ("bob@school.example", "Bob"));
    for guess in ["", "correct horse battery", "bob@school.example"] {
        assert_eq!(accounts.sign_in("bob@school.example", guess).await.unwrap(), None);
    }
    assert_eq!(accounts.ensure_external(iss, "sub-bob", "bob@school.example", "Bob").await.unwrap().id, bob.id);
    // Another provider's subject of the same name is another identity (linked by email here).
    assert_eq!(accounts.ensure_external("https://other.example", "sub-bob", "bob@school.example", "Bob").await.unwrap().id, bob.id);
    // An empty display name falls back to the email's local part.
    let cy = accounts.ensure_external(iss, "sub-cy", "cy@school.example", "").await.unwrap();
    assert_eq!(cy.name, "cy");
    let stored = String::from_utf8(f.store.get(&format!("auth/teachers/{}.json", bob.id)).await.unwrap().unwrap().0.to_vec()).unwrap();
    assert!(!stored.contains("password"), "{stored}");
}

#[tokio::test]
async fn an_exam_has_one_join_code_that_opens_it_until_regenerated() {
    use exam_domain::identity::JoinCode;
    let f = platform().await;
    let id = f.published(2).await;
    let join = &f.platform.identity().join;
    // Two replicas asking for the first code at once agree on one.
    let (a, b) = tokio::join!(join.code_of(&id), join.code_of(&id));
    let code = a.unwrap();
    assert_eq!(code, b.unwrap());
    assert_eq!(f.platform.exam_for_code(&code).await.unwrap(), id);
    let listed = f.platform.exams_of(&common::owner()).await.unwrap();
    assert_eq!(listed[0].join_code.as_deref(), Some(code.as_str()), "in the teacher's list");
    assert_eq!(f.platform.teacher_exam(&id).await.unwrap().join_code.as_deref(), Some(code.as_str()));

    let fresh = f.platform.regenerate_join_code(&common::owner(), &id).await.unwrap();
    assert_ne!(fresh, code);
    assert!(matches!(f.platform.exam_for_code(&code).await, Err(ServiceError::Forbidden(_))), "the old code opens nothing");
    assert_eq!(f.platform.exam_for_code(&fresh).await.unwrap(), id);
    let wrong = JoinCode::parse("ZZZZZZZZ").unwrap();
    let name = exam_domain::Student::parse("Ada").unwrap();
    assert!(matches!(f.platform.join(&id, &wrong, &name).await, Err(ServiceError::Forbidden(_))));
    assert!(matches!(f.platform.join(&id, &code, &name).await, Err(ServiceError::Forbidden(_))), "the old code is refused");
    assert_eq!(f.platform.join(&id, &fresh, &name).await.unwrap().as_str(), "Ada");

    // A draft cannot be joined.
    let draft = f.platform.authoring().import_exam(&common::owner(), Some("Draft".into()), "bank.json", &bank_json(1)).await.unwrap();
    let draft_code = join.code_of(&draft.id).await.unwrap();
    assert!(matches!(f.platform.join(&draft.id, &draft_code, &name).await, Err(ServiceError::NotFound(_))));
    assert!(matches!(f.platform.exam_for_code(&draft_code).await, Err(ServiceError::NotFound(_))));
}

#[tokio::test]
async fn the_same_name_from_another_browser_is_another_student() {
    use exam_domain::Student;
    let f = platform().await;
    let id = f.published(1).await;
    let code = f.platform.identity().join.code_of(&id).await.unwrap();
    let ada = Student::parse("Ada").unwrap();
    // Three browsers join as "Ada" at the same moment: three students.
    let (a, b, c) = tokio::join!(f.platform.join(&id, &code, &ada), f.platform.join(&id, &code, &ada), f.platform.join(&id, &code, &ada));
    let mut names: Vec<String> = [a, b, c].into_iter().map(|s| s.unwrap().to_string()).collect();
    names.sort();
    assert_eq!(names, ["Ada", "Ada (2)", "Ada (3)"]);
    // Case does not make a new name: "ADA" is taken as "ada" is.
    assert_eq!(f.platform.join(&id, &code, &Student::parse("ADA").unwrap()).await.unwrap().as_str(), "ADA (4)");

    // A name with an attempt from before join codes existed counts as taken.
    let other = f.published(1).await;
    let other_code = f.platform.identity().join.code_of(&other).await.unwrap();
    let grace = Student::parse("Grace").unwrap();
    f.platform.attempts().open(&other, grace.clone()).await.unwrap();
    assert_eq!(f.platform.join(&other, &other_code, &grace).await.unwrap().as_str(), "Grace (2)");
}
