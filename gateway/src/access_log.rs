//! The access log: one JSON line per request, written off the request path.
//!
//! The proxy's `logging` phase only builds a small [`Record`] and offers it to
//! a bounded channel; a thread of its own formats and writes with a buffered
//! writer. When the writer falls behind (a slow disk, a blocked pipe) records
//! are dropped and counted (`gateway_access_log_dropped_total`) rather than
//! making requests wait. Nothing secret is recorded: no cookies, no headers,
//! and the path without its query string (sign-in links carry tickets there).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::time::{Duration, Instant, SystemTime};

use config::AccessLog;

use crate::metrics;

/// Records waiting for the writer at most; beyond that they are dropped.
const QUEUE: usize = 8192;

/// How long the writer rests after each write. While it rests, a request's
/// record is queued without waking it (a wake-up, a context switch and a
/// `write` per request cost more than formatting the line: the log on made each
/// request about 1.4x as costly in CPU). 8192 records in 20 ms is 400 000 a
/// second, far past what one gateway serves.
const REST: Duration = Duration::from_millis(20);

/// One request, as the proxy saw it.
pub struct Record {
    pub time: SystemTime,
    pub client: Option<IpAddr>,
    pub host: String,
    pub method: http::Method,
    /// The path only: a query string may hold a ticket or a code.
    pub path: String,
    pub status: u16,
    /// Response body bytes sent to the client.
    pub bytes: usize,
    pub duration_us: u64,
    /// The decision (`allow`, `deny_path`…), `auth` for the gateway's own
    /// pages, empty when none was taken (health checks, malformed requests).
    pub outcome: &'static str,
    pub user: Option<http::HeaderValue>,
    pub tenant: Option<http::HeaderValue>,
    pub upstream_status: Option<u16>,
    pub upstream_us: Option<u64>,
}

enum Msg {
    Line(Box<Record>),
    Reopen,
    /// Write out everything before this, then answer.
    Flush(SyncSender<()>),
}

static SINK: OnceLock<SyncSender<Msg>> = OnceLock::new();

/// Whether records are wanted: the proxy builds none otherwise.
pub fn enabled() -> bool {
    SINK.get().is_some()
}

/// Starts the writer thread for `target`; nothing when it is `off`. Once per
/// process (a second call keeps the first writer).
pub fn start(target: &AccessLog) -> anyhow::Result<()> {
    let out = match target {
        AccessLog::Off => return Ok(()),
        AccessLog::Stdout => Out::Stdout,
        AccessLog::Stderr => Out::Stderr,
        AccessLog::File(path) => Out::File(path.clone()),
    };
    let writer = out.open()?;
    let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE);
    if SINK.set(tx).is_err() {
        return Ok(());
    }
    std::sync::LazyLock::force(&metrics::ACCESS_LOG_DROPPED);
    std::thread::Builder::new().name("access-log".to_owned()).spawn(move || write_loop(out, writer, rx))?;
    Ok(())
}

/// Hands a record to the writer; drops and counts it when the queue is full.
pub fn push(record: Record) {
    let Some(tx) = SINK.get() else { return };
    match tx.try_send(Msg::Line(Box::new(record))) {
        Ok(()) => {}
        Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => metrics::ACCESS_LOG_DROPPED.inc(),
    }
}

/// Reopens the file (after logrotate moved it away); for SIGHUP.
pub fn reopen() {
    if let Some(tx) = SINK.get() {
        // A full queue will be written to the old file; the reopen is retried
        // by the next SIGHUP at worst.
        let _ = tx.try_send(Msg::Reopen);
    }
}

/// Waits (up to two seconds) until what was queued before is written: before
/// the process exits, so that the last requests' lines are not lost. A full
/// queue is waited on too (it drains at each rest).
pub fn flush_before_exit() {
    let Some(tx) = SINK.get() else { return };
    let deadline = Instant::now() + Duration::from_secs(2);
    let (done, wait) = std::sync::mpsc::sync_channel(1);
    let mut msg = Msg::Flush(done);
    let queued = loop {
        match tx.try_send(msg) {
            Ok(()) => break true,
            Err(TrySendError::Full(back)) if Instant::now() < deadline => {
                msg = back;
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => break false,
        }
    };
    if !queued || wait.recv_timeout(deadline.saturating_duration_since(Instant::now())).is_err() {
        tracing::warn!("the access log's last lines could not be written before the exit");
    }
}

enum Out {
    Stdout,
    Stderr,
    File(PathBuf),
}

impl Out {
    fn open(&self) -> anyhow::Result<Box<dyn Write + Send>> {
        Ok(match self {
            Out::Stdout => Box::new(std::io::stdout()),
            Out::Stderr => Box::new(std::io::stderr()),
            Out::File(path) => {
                // Client addresses and who signed in: not for every local user.
                use std::os::unix::fs::OpenOptionsExt;
                let f = File::options()
                    .create(true)
                    .append(true)
                    .mode(0o640)
                    .open(path)
                    .map_err(|e| anyhow::anyhow!("cannot open the access log {}: {e}", path.display()))?;
                Box::new(f)
            }
        })
    }
}

fn write_loop(out: Out, writer: Box<dyn Write + Send>, rx: Receiver<Msg>) {
    let mut w = BufWriter::with_capacity(64 * 1024, writer);
    let mut line = String::with_capacity(512);
    loop {
        // Block for the first message, then take what is queued without
        // waiting; flush once the queue is empty and rest (`REST`), so a quiet
        // gateway's line reaches the file at once and a busy one's lines go in
        // one write per rest.
        let Ok(mut msg) = rx.recv() else { return };
        loop {
            match msg {
                Msg::Line(r) => {
                    line.clear();
                    format_json(&r, &mut line);
                    if let Err(e) = w.write_all(line.as_bytes()) {
                        metrics::ACCESS_LOG_DROPPED.inc();
                        tracing::warn!(error = %e, "writing the access log failed");
                    }
                }
                Msg::Reopen => {
                    let _ = w.flush();
                    match out.open() {
                        Ok(new) => w = BufWriter::with_capacity(64 * 1024, new),
                        Err(e) => tracing::error!("{e:#}; the access log stays on the old file"),
                    }
                }
                Msg::Flush(done) => {
                    let _ = w.flush();
                    let _ = done.try_send(());
                }
            }
            match rx.try_recv() {
                Ok(m) => msg = m,
                Err(_) => break,
            }
        }
        if let Err(e) = w.flush() {
            tracing::warn!(error = %e, "writing the access log failed");
        }
        std::thread::sleep(REST);
    }
}

/// One JSON object and a newline.
pub fn format_json(r: &Record, out: &mut String) {
    use std::fmt::Write as _;
    let time: chrono::DateTime<chrono::Utc> = r.time.into();
    let _ = write!(out, "{{\"time\":\"{}\"", time.format("%Y-%m-%dT%H:%M:%S%.3fZ"));
    match r.client {
        Some(ip) => {
            let _ = write!(out, ",\"client\":\"{ip}\"");
        }
        None => out.push_str(",\"client\":null"),
    }
    field(out, "host", &r.host);
    field(out, "method", r.method.as_str());
    field(out, "path", &r.path);
    let _ = write!(out, ",\"status\":{},\"bytes\":{},\"duration_ms\":{:.3}", r.status, r.bytes, ms(r.duration_us));
    field(out, "outcome", r.outcome);
    optional(out, "user", r.user.as_ref());
    optional(out, "tenant", r.tenant.as_ref());
    match r.upstream_status {
        Some(s) => {
            let _ = write!(out, ",\"upstream_status\":{s}");
        }
        None => out.push_str(",\"upstream_status\":null"),
    }
    match r.upstream_us {
        Some(us) => {
            let _ = write!(out, ",\"upstream_ms\":{:.3}", ms(us));
        }
        None => out.push_str(",\"upstream_ms\":null"),
    }
    out.push_str("}\n");
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn field(out: &mut String, name: &str, value: &str) {
    out.push_str(",\"");
    out.push_str(name);
    out.push_str("\":");
    push_json_string(out, value);
}

fn optional(out: &mut String, name: &str, value: Option<&http::HeaderValue>) {
    match value.map(|v| String::from_utf8_lossy(v.as_bytes())) {
        Some(v) => field(out, name, &v),
        None => {
            out.push_str(",\"");
            out.push_str(name);
            out.push_str("\":null");
        }
    }
}

fn push_json_string(out: &mut String, s: &str) {
    // serde_json's escaping, so that a hostile path cannot break the line.
    match serde_json::to_string(s) {
        Ok(quoted) => out.push_str(&quoted),
        Err(_) => out.push_str("\"\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_one_parseable_line_with_hostile_text_escaped() {
        let r = Record {
            time: SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_123),
            client: Some("192.0.2.7".parse().unwrap()),
            host: "storage.example".to_owned(),
            method: http::Method::GET,
            path: "/a\"b\n\\c\u{1}".to_owned(),
            status: 200,
            bytes: 1024,
            duration_us: 1500,
            outcome: "allow",
            user: Some(http::HeaderValue::from_static("a@b.example")),
            tenant: None,
            upstream_status: Some(200),
            upstream_us: Some(900),
        };
        let mut s = String::new();
        format_json(&r, &mut s);
        assert!(s.ends_with('\n') && s.matches('\n').count() == 1, "{s}");
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["time"], "2023-11-14T22:13:20.123Z");
        assert_eq!(v["client"], "192.0.2.7");
        assert_eq!(v["path"], "/a\"b\n\\c\u{1}");
        assert_eq!(v["status"], 200);
        assert_eq!(v["duration_ms"], 1.5);
        assert_eq!(v["user"], "a@b.example");
        assert!(v["tenant"].is_null());
        assert_eq!(v["upstream_ms"], 0.9);
    }

    /// The writer rests between writes, so at exit lines can be waiting in the
    /// queue; `flush_before_exit` must get them into the file. (The only test
    /// in this binary that starts the process-wide writer.)
    #[test]
    fn lines_queued_before_an_exit_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.log");
        start(&AccessLog::File(path.clone())).unwrap();
        for i in 0..200u16 {
            push(Record { path: format!("/files/{i}"), ..sample() });
            if i == 0 {
                // The writer takes the first line at once, then rests.
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        }
        flush_before_exit();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 200, "{text}");
        assert!(text.lines().last().is_some_and(|l| l.contains("/files/199")));

        // More than the queue holds while the writer rests: what is dropped is
        // counted, and everything queued is written even though the flush
        // found the queue full.
        let dropped_before = metrics::ACCESS_LOG_DROPPED.get();
        let burst = (QUEUE + 2000) as u64;
        for i in 0..burst {
            push(Record { path: format!("/burst/{i}"), ..sample() });
        }
        let dropped = metrics::ACCESS_LOG_DROPPED.get() - dropped_before;
        flush_before_exit();
        let lines = std::fs::read_to_string(&path).unwrap().lines().count() as u64;
        assert_eq!(lines, 200 + burst - dropped, "{dropped} dropped");
    }

    fn sample() -> Record {
        Record {
            time: SystemTime::now(),
            client: None,
            host: "storage.example".to_owned(),
            method: http::Method::GET,
            path: String::new(),
            status: 200,
            bytes: 0,
            duration_us: 1,
            outcome: "allow",
            user: None,
            tenant: None,
            upstream_status: None,
            upstream_us: None,
        }
    }
}
