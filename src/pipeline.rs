//! The whole pipeline as library calls, for tests, benchmarks and tools:
//! text → checked model → IR → built network → recordings.

use crate::diag::{self, Style};
use crate::driver;
use crate::ir::{self, Program};
use crate::runtime::record::Recordings;
use crate::runtime::{self, RunError};
use std::path::{Path, PathBuf};

/// Which backend runs the kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Jit,
    Interpreter,
}

/// Checks and lowers model text; `Err` holds the rendered diagnostics.
/// `path` is where the text notionally lives (imports and data files are
/// resolved next to it).
pub fn compile(text: &str, path: &Path, settings: &[String], options: &ir::lower::Options) -> Result<Program, String> {
    let read = |p: &Path| std::fs::read_to_string(p);
    let checked = driver::load_text(&path.display().to_string(), Some(path.to_path_buf()), text, settings, &read);
    if checked.has_errors() {
        return Err(diag::render(&checked.diags, &checked.sources, Style::Plain));
    }
    let (program, diags) = ir::lower::lower(&checked.model, options);
    if diag::has_errors(&diags) {
        return Err(diag::render(&diags, &checked.sources, Style::Plain));
    }
    ir::verify(&program).map_err(|e| format!("IR verification failed: {e}"))?;
    Ok(program)
}

/// Compiles the model file at `path`.
pub fn compile_file(path: &Path, settings: &[String], options: &ir::lower::Options) -> Result<Program, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    compile(&text, path, settings, options)
}

/// The outcome of a simulation: what was recorded, and how it ended.
pub struct Outcome {
    pub recordings: Recordings,
    pub result: Result<(), RunError>,
    /// Synapses per projection.
    pub synapses: Vec<usize>,
    pub steps: u64,
}

/// Builds and runs a program to its end.
pub fn simulate(program: &Program, backend: Backend) -> Result<Outcome, String> {
    let compiled = match backend {
        Backend::Jit => Some(crate::jit::compile(program)?),
        Backend::Interpreter => None,
    };
    let read = |p: &Path| std::fs::read_to_string(p);
    let mut sim = runtime::build(program, &read).map_err(|e| e.message)?;
    if let Some(c) = &compiled {
        sim.set_backend(Box::new(c.backend()));
    }
    let result = sim.run_steps(program.n_steps);
    let synapses = sim.projections.iter().map(|p| p.n_synapses()).collect();
    let steps = sim.step;
    let recordings = std::mem::take(&mut sim.recordings);
    Ok(Outcome { recordings, result, synapses, steps })
}

/// The directory of the shipped models (`models/`), for tests and benches.
pub fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}
