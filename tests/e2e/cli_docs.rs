//! What an operator reads and scripts against: --version, --help, the exit
//! statuses, the completions and man pages generated from the CLI definition.

use std::process::{Command, Output, Stdio};

use crate::support::bin;

fn run(args: &[&str]) -> Output {
    Command::new(bin()).args(args).stdin(Stdio::null()).output().expect("run gateway")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn version_names_the_commit_and_build_date() {
    let out = run(&["--version"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.starts_with("gateway 0."), "{text}");
    assert!(text.contains("(commit ") && text.contains(", built 20"), "{text}");
}

#[test]
fn help_describes_and_shows_examples() {
    let text = stdout(&run(&["--help"]));
    for expected in
        ["serve", "check-config", "completions", "man", "Examples:", "Exit status:", "78", "--config <FILE>"]
    {
        assert!(text.contains(expected), "{expected:?} missing:\n{text}");
    }
    let text = stdout(&run(&["tenant", "create", "--help"]));
    assert!(text.contains("The owner's email address"), "{text}");
}

#[test]
fn bad_usage_exits_2_and_a_bad_configuration_78() {
    let out = run(&["--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = run(&["no-such-command"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gateway.yaml");
    std::fs::write(&config, "listen: \"127.0.0.1:8080\"\nlisten_typo: 1\n").unwrap();
    let config = config.to_str().unwrap();
    for command in [&["check-config"][..], &["serve"], &["migrate"], &["tenant", "invite-owner", "x"]] {
        let out = run(&[&["--config", config][..], command].concat());
        assert_eq!(out.status.code(), Some(78), "{command:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("gateway.yaml:2:1"), "{command:?}: {}", stderr(&out));
    }
    // A missing file is a configuration problem too.
    let missing = dir.path().join("nope.yaml");
    let out = run(&["--config", missing.to_str().unwrap(), "check-config"]);
    assert_eq!(out.status.code(), Some(78), "{}", stderr(&out));
    // A bad policy file, at start-up as in check-config.
    std::fs::write(dir.path().join("gateway.yaml"), "policy_file: policy.yaml\nmetrics:\n  listen: off\n").unwrap();
    std::fs::write(dir.path().join("policy.yaml"), "paths:\n  - prefix: nope\n    action: deny\n").unwrap();
    for command in ["check-config", "serve"] {
        let out = run(&["--config", config, command]);
        assert_eq!(out.status.code(), Some(78), "{command}: {}", stderr(&out));
        assert!(stderr(&out).contains("policy.yaml:2:"), "{command}: {}", stderr(&out));
    }
}

#[test]
fn completions_cover_every_shell_and_subcommand() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = run(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let text = stdout(&out);
        for sub in ["serve", "check-config", "migrate", "tenant", "user", "audit", "completions"] {
            assert!(text.contains(sub), "{shell}: {sub} missing");
        }
    }
    let out = run(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn man_pages_are_generated() {
    let out = run(&["man"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = stdout(&out);
    assert!(page.starts_with(".ie \\n(.g .ds Aq") || page.contains(".TH gateway 1"), "{page}");
    assert!(page.contains(".TH gateway 1") && page.contains("check\\-config"), "{page}");
    assert!(page.contains("Exit status:"), "{page}");

    let dir = tempfile::tempdir().unwrap();
    let out = run(&["man", "--out-dir", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    for name in ["gateway.1", "gateway-serve.1", "gateway-tenant.1", "gateway-tenant-create.1", "gateway-man.1"] {
        let text = std::fs::read_to_string(dir.path().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(text.contains(".TH gateway"), "{name}");
    }
    assert!(!dir.path().join("gateway-demo-origin.1").exists(), "a page for a hidden command");
}
