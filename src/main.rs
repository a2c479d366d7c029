//! The `tinylab` binary: parses arguments, then opens the window or runs a CLI command.

use clap::Parser;
use tinylab::cli::{Cli, CliCommand};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => tinylab::ui::run(None).map_err(window_error),
        Some(CliCommand::Gui { project }) => tinylab::ui::run(project).map_err(window_error),
        Some(command) => tinylab::cli::run(command),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// eframe's error is not `Send`, so it is turned into words here.
fn window_error(e: eframe::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "could not open the window: {e} (is a display available? run under Xvfb for headless use)"
    )
}
