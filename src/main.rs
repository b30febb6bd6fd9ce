//! The `hebb` command: compile and simulate spiking networks with plastic
//! synapses and homeostasis. Everything it does goes through the `hebb`
//! library's `session`; this crate parses arguments, prints, draws plots
//! and chooses exit codes.

mod cli;
mod plot;

use clap::Parser;

fn main() -> std::process::ExitCode {
    cli::main_with(cli::Cli::parse())
}
