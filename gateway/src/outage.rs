//! Logging a dependency that keeps failing: one warning when it goes down,
//! repeats only with back-off (1 s, 2 s, 4 s … at most a minute apart, each
//! saying how many failures it stands for), one info line when it is back.
//! A loop that retries four times a second would otherwise fill the log for
//! as long as the outage lasts.

use std::fmt::Display;
use std::time::{Duration, Instant};

const FIRST_REPEAT: Duration = Duration::from_secs(1);
const LONGEST_REPEAT: Duration = Duration::from_secs(60);

/// The state of one thing that can fail (the change log read, the listener,
/// the health check), as its one loop sees it.
#[derive(Debug)]
pub struct Outage {
    what: &'static str,
    down: Option<Down>,
}

#[derive(Debug)]
struct Down {
    since: Instant,
    next_report: Instant,
    gap: Duration,
    /// Failures since the last line logged.
    unreported: u64,
}

/// What a failure or a success should log; [`Outage`] logs it itself, this
/// is for the tests.
#[derive(Debug, PartialEq, Eq)]
pub enum Report {
    Nothing,
    WentDown,
    StillDown { failures: u64 },
    Back,
}

impl Outage {
    pub const fn new(what: &'static str) -> Outage {
        Outage { what, down: None }
    }

    pub fn is_down(&self) -> bool {
        self.down.is_some()
    }

    /// One more failure; logged when it starts an outage or a back-off step is due.
    pub fn failed(&mut self, error: &dyn Display) -> Report {
        let report = self.failed_at(Instant::now());
        match report {
            Report::WentDown => {
                tracing::warn!(error = %error, "{} failed; further failures are logged with back-off", self.what)
            }
            Report::StillDown { failures } => {
                let secs = self.down.as_ref().map_or(0, |d| d.since.elapsed().as_secs());
                tracing::warn!(error = %error, failures, down_for_seconds = secs, "{} still failing", self.what)
            }
            Report::Nothing | Report::Back => {}
        }
        report
    }

    /// A success; logged once when it ends an outage.
    pub fn ok(&mut self) -> Report {
        let Some(down) = self.down.take() else { return Report::Nothing };
        tracing::info!(down_for_seconds = down.since.elapsed().as_secs(), "{} works again", self.what);
        Report::Back
    }

    fn failed_at(&mut self, now: Instant) -> Report {
        match &mut self.down {
            None => {
                self.down =
                    Some(Down { since: now, next_report: now + FIRST_REPEAT, gap: FIRST_REPEAT, unreported: 0 });
                Report::WentDown
            }
            Some(d) => {
                d.unreported += 1;
                if now < d.next_report {
                    return Report::Nothing;
                }
                d.gap = (d.gap * 2).min(LONGEST_REPEAT);
                d.next_report = now + d.gap;
                Report::StillDown { failures: std::mem::take(&mut d.unreported) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_failures_a_second_for_ten_minutes_log_a_dozen_lines() {
        let mut o = Outage::new("test");
        let t0 = Instant::now();
        let mut lines = Vec::new();
        for i in 0..(4 * 600) {
            let r = o.failed_at(t0 + Duration::from_millis(250 * i));
            if r != Report::Nothing {
                lines.push((i, r));
            }
        }
        assert_eq!(lines[0], (0, Report::WentDown));
        assert_eq!(lines[1], (4, Report::StillDown { failures: 4 }), "after a second");
        assert_eq!(lines[2], (12, Report::StillDown { failures: 8 }), "two seconds later");
        // 1, 2, 4, 8, 16, 32, then every 60 s: about 6 + 9 repeats in 600 s.
        assert!(lines.len() <= 20, "{} lines: {lines:?}", lines.len());
        let total: u64 =
            lines.iter().map(|(_, r)| if let Report::StillDown { failures } = r { *failures } else { 1 }).sum();
        assert!(total <= 2400, "each failure counted once at most");
        assert_eq!(o.ok(), Report::Back);
        assert_eq!(o.ok(), Report::Nothing, "back once");
        assert_eq!(o.failed_at(Instant::now()), Report::WentDown, "a new outage is reported at once");
    }
}
