use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use config::{MailSettings, MailTransport};
use lettre::message::Mailbox;

use super::*;
use crate::ui::lang::Lang;

// Long enough for quoted-printable soft breaks, with the characters that QP
// and URL syntax both care about.
const LINK: &str =
    "http://storage.localhost:8080/auth/unlock?ticket=AbC-_09xyzQwErTyUiOpAsDfGhJkLzXcVbNm0123456789-_=&lang=ja";

fn all_notices() -> Vec<(Notice<'static>, Option<&'static str>)> {
    vec![
        (Notice::Locked { unlock_link: LINK }, Some(LINK)),
        (Notice::Reset { link: LINK }, Some(LINK)),
        (Notice::Invite { link: LINK, tenant: "Example Corp" }, Some(LINK)),
        (Notice::InviteHasAccount { tenant: "Example Corp" }, None),
        (Notice::EmailChangeConfirm { link: LINK, new_email: "new@example.com" }, Some(LINK)),
        (Notice::EmailChanged { new_email: "new@example.com" }, None),
        (Notice::PasswordChanged, None),
        (Notice::LoginMethodChanged { method: "Google" }, None),
        (Notice::LoginMethodLink { link: LINK }, Some(LINK)),
        (Notice::SecondFactorEnrolled { method: "sms" }, None),
        (Notice::SecondFactorReset, None),
        (Notice::RecoveryCodeUsed, None),
        (Notice::SecondFactorLocked { unlock_link: LINK }, Some(LINK)),
        (Notice::BreakGlassCode { code: "123456" }, None),
        (Notice::BreakGlassUsed { owner: "boss@example.com", from: "192.0.2.1" }, None),
    ]
}

#[test]
fn every_notice_renders_in_both_languages() {
    for lang in [Lang::Ja, Lang::En] {
        for (notice, link) in all_notices() {
            let m = render(&notice, lang, "Acme Drive", 14);
            let what = format!("{} {lang:?}", notice.name());
            assert!(m.subject.contains("Acme Drive"), "{what}: subject {}", m.subject);
            assert!(m.subject.chars().count() <= "Acme Drive".len() + 30, "{what}: subject too long: {}", m.subject);
            assert!(m.text.contains("Acme Drive"), "{what}");
            if let Some(link) = link {
                assert_eq!(m.text.lines().filter(|l| *l == link).count(), 1, "{what}: link on its own line");
                let validity = if lang == Lang::Ja { "14日間" } else { "14 days" };
                assert!(m.text.contains(validity), "{what}: validity");
            } else {
                assert!(!m.text.contains("http"), "{what}: no link expected");
            }
            match lang {
                Lang::Ja => assert!(m.text.contains("お心当たり"), "{what}: what if it was not you"),
                Lang::En => assert!(m.text.contains("If you did not") || m.text.contains("If not"), "{what}"),
            }
        }
    }
}

#[test]
fn notice_texts_name_their_details() {
    let m = render(&Notice::Invite { link: LINK, tenant: "Example Corp" }, Lang::Ja, "P", 14);
    assert!(m.text.contains("Example Corp"));
    let m = render(&Notice::EmailChanged { new_email: "new@example.com" }, Lang::En, "P", 14);
    assert!(m.text.contains("new@example.com"));
    assert!(render(&Notice::Reset { link: LINK }, Lang::En, "P", 1).text.contains("valid for 1 day "));
}

#[test]
fn a_line_break_in_a_value_cannot_move_the_link() {
    let m = render(&Notice::Reset { link: "http://x/a\nb" }, Lang::En, "P\nQ", 14);
    assert!(m.text.lines().any(|l| l == "http://x/a b"));
    assert!(!m.subject.contains('\n'));
}

fn built(msg: &Message) -> String {
    let from: Mailbox = "Acme Drive <noreply@example.net>".parse().unwrap();
    let email = transport::build(&from, "taro@example.co.jp", msg).unwrap();
    String::from_utf8(email.formatted()).unwrap()
}

#[test]
fn decode_round_trips_the_builders_output() {
    let mut encodings = std::collections::BTreeSet::new();
    for lang in [Lang::Ja, Lang::En] {
        for (notice, _) in all_notices() {
            let msg = render(&notice, lang, "Acme Drive", 14);
            let raw = built(&msg);
            for e in ["base64", "quoted-printable", "7bit"] {
                if raw.contains(&format!("Content-Transfer-Encoding: {e}")) {
                    encodings.insert(e);
                }
            }
            let (subject, body) = decode_message(&raw);
            assert_eq!(subject, msg.subject, "{}", notice.name());
            assert_eq!(body.trim_end(), msg.text.trim_end(), "{}", notice.name());
        }
    }
    // Japanese goes out as base64 and English with a long link as
    // quoted-printable: both decoders must have been exercised.
    assert!(encodings.contains("base64") && encodings.contains("quoted-printable"), "{encodings:?}");
}

#[test]
fn built_message_has_the_required_headers() {
    let raw = built(&render(&Notice::Reset { link: LINK }, Lang::Ja, "Acme Drive", 14));
    let head = &raw[..raw.find("\r\n\r\n").unwrap()];
    for h in [
        "From: ",
        "To: taro@example.co.jp",
        "Subject: ",
        "Date: ",
        "Message-ID: <",
        "Content-Type: text/plain; charset=utf-8",
    ] {
        assert!(head.contains(h), "missing {h:?} in\n{head}");
    }
    assert!(head.contains("@example.net>"), "Message-ID uses the sender's domain");
}

#[test]
fn decode_reads_quoted_printable_and_encoded_words() {
    let raw = "Subject: =?utf-8?q?caf=C3=A9?= =?UTF-8?B?44Ot44OD44Kv?=\n and more\n\
               Content-Transfer-Encoding: quoted-printable\n\n\
               a=3Db soft=\n  \nhttp://h/p?t=3DAbC-_09xyz=\n&x=3Dy\nend\n";
    let (subject, body) = decode_message(raw);
    assert_eq!(subject, "caféロック and more");
    assert_eq!(body, "a=b soft\nhttp://h/p?t=AbC-_09xyz&x=y\nend\n");
}

#[test]
fn decode_leaves_plain_bodies_alone() {
    let (subject, body) = decode_message("Subject: hello =? world\r\n\r\nline 1\r\nline=2\r\n");
    assert_eq!(subject, "hello =? world");
    assert_eq!(body, "line 1\nline=2\n");
}

#[test]
fn message_debug_hides_the_body() {
    let msg = Message { subject: "s".into(), text: LINK.into() };
    assert!(!format!("{msg:?}").contains("ticket"));
}

fn file_settings(dir: &Path) -> MailSettings {
    MailSettings {
        transport: MailTransport::File,
        dir: dir.to_owned(),
        from: "noreply@example.net".to_owned(),
        smtp: None,
    }
}

fn eml_files(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect()
}

#[tokio::test]
async fn file_transport_writes_one_eml_into_a_new_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("not/yet/there");
    let mailer = Mailer::new(&file_settings(&dir)).unwrap();
    std::fs::remove_dir_all(tmp.path().join("not")).unwrap(); // and again at send time
    let msg = render(&Notice::Locked { unlock_link: LINK }, Lang::Ja, "Acme Drive", 14);
    mailer.send("hanako@example.jp", &msg).await.unwrap();

    let files = eml_files(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    let raw = std::fs::read_to_string(&files[0]).unwrap();
    assert!(raw.contains("To: hanako@example.jp"));
    let (subject, body) = decode_message(&raw);
    assert_eq!(subject, msg.subject);
    assert_eq!(body.trim_end(), msg.text.trim_end());
    assert!(body.lines().any(|l| l == LINK));
}

#[tokio::test]
async fn send_later_delivers_in_the_background() {
    let tmp = tempfile::tempdir().unwrap();
    let mailer = Arc::new(Mailer::new(&file_settings(tmp.path())).unwrap());
    let msg = render(&Notice::PasswordChanged, Lang::En, "Acme Drive", 14);
    mailer.send_later("a@example.com".to_owned(), msg.clone());
    for _ in 0..200 {
        if let [file] = eml_files(tmp.path()).as_slice() {
            let (subject, _) = decode_message(&std::fs::read_to_string(file).unwrap());
            assert_eq!(subject, msg.subject);
            let sent = prometheus::gather()
                .into_iter()
                .find(|f| f.name() == "gateway_mail_total")
                .expect("gateway_mail_total registered");
            assert!(!sent.get_metric().is_empty());
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no mail written");
}

#[tokio::test]
async fn bad_addresses_and_settings_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let mailer = Mailer::new(&file_settings(tmp.path())).unwrap();
    let msg = render(&Notice::PasswordChanged, Lang::En, "P", 14);
    let err = mailer.send("not an address", &msg).await.unwrap_err();
    assert!(matches!(err, MailError::InvalidRecipient(_)), "{err}");
    assert!(eml_files(tmp.path()).is_empty());

    let mut s = file_settings(tmp.path());
    s.from = "nobody".into();
    assert!(matches!(Mailer::new(&s), Err(MailError::InvalidSender(_))));
    s.from = "noreply@example.net".into();
    s.transport = MailTransport::Smtp;
    assert!(matches!(Mailer::new(&s), Err(MailError::MissingSmtp)));
}

#[test]
fn the_directory_notice_gives_the_id_and_both_urls_on_their_own_lines() {
    let (ordinary, line_auth) = (
        "https://storage.example/auth/ad/adfs-abc123def456ghi789",
        "https://line.example/auth/ad/adfs-abc123def456ghi789",
    );
    for lang in [Lang::Ja, Lang::En] {
        let notice = Notice::DirectoryCreated {
            connection_id: "adfs-abc123def456ghi789",
            ordinary_url: ordinary,
            line_auth_url: line_auth,
        };
        let m = render(&notice, lang, "Acme Drive", 14);
        assert!(m.subject.contains("Acme Drive") && m.subject.contains("Active Directory"), "{}", m.subject);
        assert!(m.text.contains("adfs-abc123def456ghi789"));
        for url in [ordinary, line_auth] {
            assert_eq!(m.text.lines().filter(|l| *l == url).count(), 1, "{lang:?}: {url} on its own line");
        }
    }
}
