//! Shell completions and man pages, generated from the clap definition so they
//! cannot drift from the commands; the Debian package installs their output.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;

#[derive(clap::Args)]
pub struct CompletionsArgs {
    /// The shell to write the script for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

#[derive(clap::Args)]
pub struct ManArgs {
    /// Write gateway.1 and one page per subcommand (gateway-serve.1, …) into this
    /// folder instead of printing gateway.1.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
}

pub fn completions(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut cmd = super::Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut cmd, "gateway", &mut out);
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub fn man(args: ManArgs) -> anyhow::Result<ExitCode> {
    let mut cmd = super::Cli::command().disable_help_subcommand(true);
    cmd.build();
    match args.out_dir {
        None => {
            let mut out = std::io::stdout().lock();
            page(cmd).render(&mut out)?;
            out.flush()?;
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
            let written = write_pages(cmd, &dir)?;
            eprintln!("{written} page(s) written to {}", dir.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The build date, not today's, so the same commit gives the same pages.
fn page(cmd: clap::Command) -> clap_mangen::Man {
    clap_mangen::Man::new(cmd)
        .date(env!("GATEWAY_BUILD_DATE"))
        .source(format!("gateway {}", env!("CARGO_PKG_VERSION")))
        .manual("System Administration")
}

fn write_pages(cmd: clap::Command, dir: &Path) -> anyhow::Result<usize> {
    let mut written = 0;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned() {
        written += write_pages(sub, dir)?;
    }
    let man = page(cmd);
    let path = dir.join(man.get_filename());
    let mut file = std::fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?;
    man.render(&mut file)?;
    file.flush()?;
    Ok(written + 1)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every visible argument and subcommand explains itself in `--help` (and so
    /// in the man page and the completions' descriptions).
    #[test]
    fn every_argument_and_subcommand_has_a_description() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} <{id}>"));
                }
            }
            for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
                let here = format!("{path} {}", sub.get_name());
                if sub.get_about().is_none() && sub.get_long_about().is_none() {
                    missing.push(here.clone());
                }
                walk(sub, &here, missing);
            }
        }
        let mut cmd = super::super::Cli::command();
        cmd.build();
        let mut missing = Vec::new();
        walk(&cmd, "gateway", &mut missing);
        assert!(missing.is_empty(), "without a description: {missing:#?}");
    }

    #[test]
    fn help_shows_examples_and_exit_codes() {
        let help = super::super::Cli::command().render_long_help().to_string();
        assert!(help.contains("Examples:") && help.contains("gateway tenant create"), "{help}");
        assert!(help.contains("78") && help.contains("bad configuration"), "{help}");
        assert!(help.contains("2   bad usage"), "{help}");
    }

    #[test]
    fn version_names_commit_and_build_date() {
        let v = super::super::VERSION;
        assert!(v.starts_with(env!("CARGO_PKG_VERSION")), "{v}");
        let date = env!("GATEWAY_BUILD_DATE");
        assert!(v.contains(&format!("built {date}")), "{v}");
        assert_eq!(date.len(), 10, "{date}");
        assert!(date.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() }));
        let commit = env!("GATEWAY_COMMIT");
        assert!(commit == "unknown" || commit.bytes().all(|b| b.is_ascii_hexdigit()), "{commit}");
    }
}
