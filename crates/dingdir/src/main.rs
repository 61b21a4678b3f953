//! `dingdir`: a self-hosted server that speaks DingTalk's contact and token APIs.
//!
//! `main` parses the command line and calls one function per subcommand; [`config`] applies the
//! precedence flags > `DINGDIR_*` environment > TOML file.

mod call;
mod cli;
mod commands;
mod config;
mod faults;
mod generate;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("dingdir: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dingdir: {e:#}");
            ExitCode::FAILURE
        }
    }
}
