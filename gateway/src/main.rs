//! `gateway`: the command line. See `gateway --help`.

use std::process::ExitCode;

use clap::Parser;

mod cli;

// The proxy allocates on every request, mostly inside Pingora (header maps and
// their case maps, buffers); jemalloc's thread caches cost less CPU per request
// than glibc malloc here (README, Performance: both measured side by side).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            cli::exit_code_for(&e)
        }
    }
}
