//! The `hebb` command: compile and simulate spiking networks with plastic
//! synapses and homeostasis. Everything it does goes through the `hebb`
//! library's `session`; this crate parses arguments, prints, draws plots
//! and chooses exit codes.

mod cli;
mod lsp;
mod plot;

use clap::Parser;

/// Compiling recurses over a model's nesting (bounded by the parser's
/// limits); the main thread's 8 MiB would be tight in debug builds.
const STACK: usize = 64 << 20;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    match std::thread::Builder::new().name("hebb".into()).stack_size(STACK).spawn(move || cli::main_with(cli)) {
        Ok(thread) => thread.join().unwrap_or(std::process::ExitCode::from(cli::EXIT_RUNTIME)),
        Err(_) => std::process::ExitCode::from(cli::EXIT_RUNTIME),
    }
}
