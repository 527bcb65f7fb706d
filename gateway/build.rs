//! Build information for `gateway --version` and the build-info metric:
//! `GATEWAY_COMMIT` (short hash, or "unknown" outside a git checkout) and
//! `GATEWAY_BUILD_DATE` (UTC, YYYY-MM-DD; from SOURCE_DATE_EPOCH when set, so a
//! package build is reproducible).
//!
//! Reruns only when HEAD moves (or the variables change), not on every build:
//! the date is therefore the day the commit was first built, which is what
//! "built" means for a binary made from that commit.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rerun-if-env-changed=GATEWAY_COMMIT");
    println!("cargo:rerun-if-env-changed=GATEWAY_BUILD_DATE");

    // A build from a source tarball (e.g. a distribution's) may name its commit itself.
    let commit = std::env::var("GATEWAY_COMMIT").ok().filter(|c| !c.is_empty()).unwrap_or_else(|| {
        watch_git_head();
        git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".to_owned())
    });
    let date = std::env::var("GATEWAY_BUILD_DATE").ok().filter(|d| !d.is_empty()).unwrap_or_else(build_date);
    println!("cargo:rustc-env=GATEWAY_COMMIT={commit}");
    println!("cargo:rustc-env=GATEWAY_BUILD_DATE={date}");
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// Asks cargo to rerun when HEAD or the branch it points at moves. Only files
/// that exist are named: cargo reruns every time for a path that is missing.
fn watch_git_head() {
    let Some(git_dir) = git(&["rev-parse", "--path-format=absolute", "--git-dir"]).map(PathBuf::from) else {
        return;
    };
    // In a worktree, HEAD is in the worktree's folder and branches in the common one.
    let common =
        git(&["rev-parse", "--path-format=absolute", "--git-common-dir"]).map_or(git_dir.clone(), PathBuf::from);
    let head = git_dir.join("HEAD");
    watch(&head);
    if let Ok(text) = std::fs::read_to_string(&head)
        && let Some(reference) = text.trim().strip_prefix("ref: ")
    {
        watch(&git_dir.join(reference));
        watch(&common.join(reference));
        watch(&common.join("packed-refs"));
    }
}

fn watch(path: &Path) {
    if path.is_file() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

fn build_date() -> String {
    let secs =
        std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|s| s.trim().parse::<i64>().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
        });
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm);
/// a build script has no date library at hand.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}
