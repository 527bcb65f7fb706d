//! The mailer against a real SMTP server: Python's aiosmtpd with its Mailbox
//! handler, which stores what it receives in a maildir we can read back.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use config::{MailSettings, MailTransport, SmtpSettings, SmtpTls};
use gateway::mail::{MailError, Mailer, Notice, decode_message, render};
use gateway::ui::lang::Lang;

const LINK_JA: &str =
    "http://storage.localhost:8080/auth/unlock?ticket=AbC-_09xyzQwErTyUiOpAsDfGhJkLzXcVbNm0123456789-_";
const LINK_EN: &str =
    "http://storage.localhost:8080/auth/password/reset?ticket=Zz9-_Yy8XxWw7VvUu6TtSs5RrQq4PpOo3NnMm2=&lang=en";

/// A running aiosmtpd, killed when dropped.
struct Smtpd {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Smtpd {
    fn maildir(&self) -> PathBuf {
        self.dir.path().join("Maildir")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("smtpd.log")).unwrap_or_default()
    }
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// The Python that has aiosmtpd: Debian's (python3-aiosmtpd, what `make deps`
/// installs) even when a pyenv `python3` comes first in PATH, else `python3`.
fn python() -> Option<&'static str> {
    ["/usr/bin/python3", "python3"].into_iter().find(|py| {
        Command::new(py)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// A port below the kernel's ephemeral range (32768 and up), so no outgoing
/// connection takes it between this check and aiosmtpd's bind.
/// Tests run in parallel: each call starts past the port handed out before,
/// so two servers of this process never get the same one.
fn listener_port() -> u16 {
    static NEXT: std::sync::Mutex<u32> = std::sync::Mutex::new(0);
    let mut next = NEXT.lock().unwrap_or_else(|e| e.into_inner());
    if *next == 0 || *next >= 32_000 {
        *next = 20_000 + (std::process::id() % 6_000) * 2;
    }
    let port = (*next..32_000)
        .chain(20_000..*next)
        .map(|p| p as u16)
        .find(|&p| TcpListener::bind(("127.0.0.1", p)).is_ok())
        .expect("a free port below 32000");
    *next = u32::from(port) + 1;
    port
}

/// `None` (after saying so) when aiosmtpd is missing outside CI.
fn start_smtpd() -> Option<Smtpd> {
    start_smtpd_with(&[])
}

/// [`start_smtpd`] with more command-line options (TLS certificates).
fn start_smtpd_with(options: &[&str]) -> Option<Smtpd> {
    let Some(python) = python() else {
        if in_ci() {
            panic!("aiosmtpd is required in CI (apt-get install python3-aiosmtpd; `make deps` does it)");
        }
        println!("SKIPPED: aiosmtpd not installed");
        return None;
    };
    let port = listener_port();
    let dir = tempfile::tempdir().unwrap();
    let log = std::fs::File::create(dir.path().join("smtpd.log")).unwrap();
    let child = Command::new(python)
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
        .args(options)
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(dir.path().join("Maildir"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut smtpd = Smtpd { child, port, dir };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = smtpd.child.try_wait().unwrap() {
            panic!("aiosmtpd exited ({status}):\n{}", smtpd.log());
        }
        assert!(Instant::now() < deadline, "aiosmtpd did not listen on {port}:\n{}", smtpd.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(smtpd)
}

fn smtp_settings(port: u16) -> MailSettings {
    MailSettings {
        transport: MailTransport::Smtp,
        from: "Acme Drive <noreply@example.net>".to_owned(),
        smtp: Some(SmtpSettings {
            host: "127.0.0.1".to_owned(),
            port,
            tls: SmtpTls::None,
            username: None,
            password: None,
            ca_file: None,
        }),
        ..MailSettings::default()
    }
}

/// The messages in `maildir/new`, raw.
fn delivered(maildir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(maildir.join("new")) else {
        return Vec::new();
    };
    entries.map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap()).collect()
}

fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    raw.lines()
        .take_while(|l| !l.trim().is_empty())
        .find_map(|l| l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim()))
}

#[tokio::test]
async fn sends_japanese_and_english_mail_through_a_real_smtp_server() {
    let Some(smtpd) = start_smtpd() else { return };
    let mailer = Mailer::new(&smtp_settings(smtpd.port)).unwrap();

    let ja = render(&Notice::Locked { unlock_link: LINK_JA }, Lang::Ja, "Acme Drive", 14);
    let en = render(&Notice::Reset { link: LINK_EN }, Lang::En, "Acme Drive", 14);
    mailer.send("taro@example.co.jp", &ja).await.unwrap();
    mailer.send("alice@example.com", &en).await.unwrap();

    let mut mails = delivered(&smtpd.maildir());
    let deadline = Instant::now() + Duration::from_secs(10);
    while mails.len() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        mails = delivered(&smtpd.maildir());
    }
    assert_eq!(mails.len(), 2, "server log:\n{}", smtpd.log());

    for (to, msg, link) in [("taro@example.co.jp", &ja, LINK_JA), ("alice@example.com", &en, LINK_EN)] {
        let raw = mails
            .iter()
            .find(|m| header(m, "X-RcptTo") == Some(to))
            .unwrap_or_else(|| panic!("no mail for {to} in {mails:#?}"));
        assert_eq!(header(raw, "To"), Some(to));
        assert_eq!(header(raw, "X-MailFrom"), Some("noreply@example.net"));
        let (subject, body) = decode_message(raw);
        assert_eq!(subject, msg.subject);
        assert!(body.lines().any(|l| l == link), "{to}: link not on a line of its own:\n{body}");
        assert_eq!(body.trim_end(), msg.text.trim_end());
    }
}

#[tokio::test]
async fn an_unreachable_relay_is_an_error_that_names_no_address() {
    // A port that was free a moment ago: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mailer = Mailer::new(&smtp_settings(port)).unwrap();
    let msg = render(&Notice::PasswordChanged, Lang::En, "Acme Drive", 14);
    let err = mailer.send("someone@example.org", &msg).await.unwrap_err();
    assert!(matches!(err, MailError::Smtp { .. }), "{err:?}");
    assert!(!err.to_string().contains("someone"), "{err}");
}

// ---------------------------------------------------------------------------
// TLS to the relay with a private CA (`mail.smtp.ca_file`)
// ---------------------------------------------------------------------------

#[path = "../../tests/support/test_ca.rs"]
mod test_ca;

/// A relay speaking `tls` (STARTTLS, required, or TLS from the first byte)
/// with a certificate for 127.0.0.1 from `ca`.
fn tls_smtpd(ca: &test_ca::TestCa, tls: SmtpTls) -> Option<Smtpd> {
    let cert = ca.server_cert(&["127.0.0.1"], "relay");
    let (cert, key) = (cert.cert_file.display().to_string(), cert.key_file.display().to_string());
    match tls {
        SmtpTls::Starttls => start_smtpd_with(&["--tlscert", &cert, "--tlskey", &key]),
        SmtpTls::Tls => start_smtpd_with(&["--smtpscert", &cert, "--smtpskey", &key]),
        SmtpTls::None => unreachable!("a TLS relay"),
    }
}

fn tls_settings(port: u16, tls: SmtpTls, ca_file: Option<&Path>) -> MailSettings {
    let mut settings = smtp_settings(port);
    let smtp = settings.smtp.as_mut().unwrap();
    smtp.tls = tls;
    smtp.ca_file = ca_file.map(|f| config::CaFile::read(f).unwrap());
    settings
}

async fn wait_delivered(smtpd: &Smtpd, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mails = delivered(&smtpd.maildir());
        if mails.len() >= n || Instant::now() > deadline {
            return mails;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_relay_with_a_private_ca_is_reached_over_tls_with_the_ca_file() {
    for tls in [SmtpTls::Starttls, SmtpTls::Tls] {
        let ca = test_ca::TestCa::new("Mail test CA");
        let Some(smtpd) = tls_smtpd(&ca, tls) else { return };
        let mailer = Mailer::new(&tls_settings(smtpd.port, tls, Some(&ca.ca_file()))).unwrap();
        let msg = render(&Notice::PasswordChanged, Lang::En, "Acme Drive", 14);
        mailer.send("alice@example.com", &msg).await.unwrap_or_else(|e| panic!("{tls:?}: {e:?}\n{}", smtpd.log()));
        let mails = wait_delivered(&smtpd, 1).await;
        assert_eq!(mails.len(), 1, "{tls:?}: server log:\n{}", smtpd.log());
        assert_eq!(header(&mails[0], "X-RcptTo"), Some("alice@example.com"));
    }
}

#[tokio::test]
async fn a_relay_whose_ca_is_not_trusted_gets_nothing() {
    for tls in [SmtpTls::Starttls, SmtpTls::Tls] {
        let ca = test_ca::TestCa::new("Mail test CA");
        let other = test_ca::TestCa::new("Another CA");
        let Some(smtpd) = tls_smtpd(&ca, tls) else { return };
        // Without a CA file only the public roots are trusted; with another CA, only that one.
        for ca_file in [None, Some(other.ca_file())] {
            let mailer = Mailer::new(&tls_settings(smtpd.port, tls, ca_file.as_deref())).unwrap();
            let msg = render(&Notice::PasswordChanged, Lang::En, "Acme Drive", 14);
            let err = mailer.send("alice@example.com", &msg).await.unwrap_err();
            assert!(
                matches!(&err, MailError::Smtp { .. })
                    && format!("{err:?}").contains("InvalidCertificate(UnknownIssuer)"),
                "{tls:?}, {ca_file:?}: {err:?}"
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(delivered(&smtpd.maildir()).is_empty(), "{tls:?}: a mail went through");
    }
}
