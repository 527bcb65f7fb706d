//! `tenant lines|networks import|export`: CSV in and out, the per-row report,
//! and progress on standard error while a large file is written.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use gateway::accounts::{Accounts, Actor, BulkOptions, BulkReport, Imported, Mailed, TenantRef, read_rows};

/// Which registry an import or export is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    Lines,
    Networks,
}

/// Reads the whole input: a file, or standard input for `-`.
pub fn read_input(file: &Path) -> anyhow::Result<String> {
    let mut text = String::new();
    if file == Path::new("-") {
        std::io::stdin().lock().read_to_string(&mut text).context("cannot read standard input as UTF-8 text")?;
    } else {
        text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    }
    Ok(text)
}

/// Writes to a file, or standard output for `-` (or no file).
pub fn write_output(file: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match file {
        Some(f) if f != Path::new("-") => {
            std::fs::write(f, text).with_context(|| format!("cannot write {}", f.display()))
        }
        _ => Ok(std::io::stdout().lock().write_all(text.as_bytes())?),
    }
}

/// Progress of the rows written, on standard error: a line redrawn in place on
/// a terminal, otherwise a line every few seconds (logs stay short), and
/// nothing at all for small imports.
pub struct Progress {
    total: usize,
    terminal: bool,
    last: Option<Instant>,
}

impl Progress {
    const QUIET_BELOW: usize = 5000;
    const LOG_EVERY: Duration = Duration::from_secs(5);

    pub fn new(total: usize) -> Progress {
        Progress { total, terminal: std::io::stderr().is_terminal(), last: None }
    }

    pub fn update(&mut self, done: usize) {
        if self.total < Self::QUIET_BELOW {
            return;
        }
        let now = Instant::now();
        let due = match self.last {
            None => true,
            Some(t) if self.terminal => now - t >= Duration::from_millis(100) || done == self.total,
            Some(t) => now - t >= Self::LOG_EVERY || done == self.total,
        };
        if !due {
            return;
        }
        self.last = Some(now);
        let pct = done * 100 / self.total.max(1);
        if self.terminal {
            let width = 30;
            let filled = done * width / self.total.max(1);
            eprint!(
                "\r[{}{}] {done}/{} rows written ({pct}%)",
                "#".repeat(filled),
                "-".repeat(width - filled),
                self.total
            );
            if done == self.total {
                eprintln!();
            }
        } else {
            eprintln!("{done}/{} rows written ({pct}%)", self.total);
        }
    }
}

/// Prints the report: every refused row on standard error, the summary on
/// standard output. Returns the exit code: 1 when rows were refused and
/// nothing was written for it (a dry run with refusals included).
fn report(name: &str, what: What, rep: &BulkReport, opts: BulkOptions) -> ExitCode {
    let noun = match what {
        What::Lines => "line(s)",
        What::Networks => "network(s)",
    };
    let mut err = std::io::stderr().lock();
    for r in &rep.refused {
        let _ = writeln!(err, "{r}");
    }
    let outcome = if opts.dry_run {
        "dry run, nothing written"
    } else if rep.written {
        "written"
    } else if rep.refused.is_empty() {
        "nothing new to write"
    } else {
        "refused rows: nothing written (--skip-invalid writes the others)"
    };
    println!("tenant {name}: {noun}: {} ({outcome})", rep.summary());
    if rep.owner_told == Some(Mailed::Failed) {
        let _ = writeln!(err, "warning: the notice to the owner could not be sent; tell them yourself");
    }
    if !rep.refused.is_empty() && !opts.skip_invalid { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

pub async fn import(
    accounts: &Accounts<'_>,
    by: &Actor<'_>,
    tenant: &TenantRef<'_>,
    what: What,
    file: &Path,
    opts: BulkOptions,
) -> anyhow::Result<Option<ExitCode>> {
    let rows = read_rows(&read_input(file)?);
    let mut progress = Progress::new(rows.len());
    let mut tick = |n: usize| progress.update(n);
    let imported = match what {
        What::Lines => accounts.import_lines(by, tenant, &rows, opts, &mut tick).await?,
        What::Networks => accounts.import_networks(by, tenant, &rows, opts, &mut tick).await?,
    };
    Ok(match imported {
        Imported::Done(rep) => Some(report(tenant.name, what, &rep, opts)),
        Imported::ManagedByFile => None,
    })
}

pub async fn export(accounts: &Accounts<'_>, tenant_id: i64, what: What, file: Option<&Path>) -> anyhow::Result<()> {
    let text = match what {
        What::Lines => accounts.export_lines(tenant_id).await?,
        What::Networks => accounts.export_networks(tenant_id).await?,
    };
    write_output(file, &text)
}
