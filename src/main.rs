//! The `hebb` command.

use clap::Parser;

fn main() -> std::process::ExitCode {
    hebb::cli::main_with(hebb::cli::Cli::parse())
}
