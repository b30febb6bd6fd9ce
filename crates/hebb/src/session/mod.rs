//! The one pipeline: check → compile → simulate → metrics, as library
//! calls. The CLI, studies, tests and benchmarks all go through here, so
//! verification and the end of a run (`finish`) cannot differ between
//! them. Nothing here prints: diagnostics and progress go to an
//! [`Observer`], failures come back as [`Error`].
//!
//! This module and [`crate::output`] are where the facade touches the file
//! system: model files and their imports are read here, data files when
//! the network is built, run directories written through `output` by
//! [`run`] (in `run.rs`).

mod provenance;
mod request;
mod run;
mod rundir;

use hebb_ir::{Interpreted, Kernels, Program, VerifyError};
use hebb_jit::JitError;
use hebb_lang::diag::{self, Diagnostic, Style};
use hebb_lang::units::{Dim, format_quantity};
use hebb_lang::{Loaded, MainFile, SourceMap};
use hebb_runtime::{BuildError, RunError, Simulation, SynapseRef};
pub use request::{Backend, ModelSource, Request};
pub use run::{PopulationSummary, RunSummary, recorded_request, resume, run};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A model's diagnostics with the sources they point into.
#[derive(Debug)]
pub struct Diagnostics {
    /// The main file's name as the user gave it.
    pub file: String,
    pub diagnostics: Vec<Diagnostic>,
    pub sources: SourceMap,
}

impl Diagnostics {
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// Every diagnostic (or only the errors), drawn with miette.
    pub fn render(&self, style: Style, errors_only: bool) -> String {
        let shown: Vec<Diagnostic> =
            self.diagnostics.iter().filter(|d| !errors_only || d.is_error()).cloned().collect();
        diag::render(&shown, &self.sources, style)
    }
}

/// Why a request could not be carried out. A run that starts and then
/// fails (a non-finite value, an `abort when`) is not an error: its
/// [`RunSummary`] says so, and what it recorded is kept.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The main model file cannot be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    /// The model has errors (the diagnostics say which).
    #[error("`{}` has {} error{}", .0.file, .0.error_count(), plural(.0.error_count()))]
    Model(Box<Diagnostics>),
    /// A data file the model names is missing or wrong, or the network
    /// cannot be built as specified.
    #[error("{0}")]
    Data(#[from] BuildError),
    #[error("the IR failed verification (this is a bug in hebb): {}", join(.0))]
    Verify(Vec<VerifyError>),
    #[error("JIT compilation failed (this is a bug in hebb): {0}")]
    Jit(#[from] JitError),
    #[error("cannot create output directory `{}`: {source}", path.display())]
    CreateDir { path: PathBuf, source: std::io::Error },
    /// A file of the run directory could not be written (what was written
    /// before stays, readable).
    #[error("{0}")]
    Write(#[from] crate::output::WriteError),
    /// The output directory holds something a run must not overwrite
    /// (without `force`), or another process is writing it.
    #[error("will not write into `{}`: {why}", path.display())]
    OutputExists { path: PathBuf, why: String },
    /// A checkpoint (or the run directory holding it) cannot be used.
    #[error("cannot use `{}`: {why}", path.display())]
    Checkpoint { path: PathBuf, why: String },
    /// The network would not fit: in memory, or in hebb's indices.
    #[error("{0}")]
    TooBig(String),
    /// A checkpoint or a run does not fit this model.
    #[error("{0}")]
    Mismatch(String),
    /// Something that must not happen did (this is a bug in hebb).
    #[error("{0} (this is a bug in hebb)")]
    Internal(String),
}

fn join(errors: &[VerifyError]) -> String {
    errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// How far a simulation is.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Steps done, of `n_steps`.
    pub step: u64,
    pub n_steps: u64,
    pub dt: f64,
    /// Wall-clock time since the simulation started.
    pub elapsed: Duration,
}

/// Receives what a pipeline reports while it works. Both methods do
/// nothing by default.
pub trait Observer {
    /// Diagnostics of a model that checked (warnings), or failed to.
    fn diagnostics(&mut self, _diagnostics: &Diagnostics) {}
    /// Called as the simulation goes (every few tens of milliseconds).
    fn progress(&mut self, _progress: &Progress) {}
    /// Polled as often as `progress`: `true` stops the run at the next step
    /// boundary, keeping what it recorded (`status: "interrupted"`).
    fn interrupted(&mut self) -> bool {
        false
    }
}

/// An observer that ignores everything.
pub struct Silent;

impl Observer for Silent {}

/// The largest model file (or import) hebb reads.
pub const MAX_MODEL_BYTES: u64 = 16 << 20;

/// The largest data file (spike times, connections) hebb reads.
pub const MAX_DATA_BYTES: u64 = 4 << 30;

/// Reads a text file if it is a regular file of at most `limit` bytes: a
/// device (`/dev/zero`), a pipe or a directory would read forever or fail
/// strangely.
fn read_limited(path: &Path, limit: u64) -> std::io::Result<String> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file"));
    }
    if meta.len() > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("it has {} bytes, more than the {limit} hebb reads", meta.len()),
        ));
    }
    std::fs::read_to_string(path)
}

/// Reads model files and their imports from the file system.
struct FileSystem;

impl hebb_lang::Files for FileSystem {
    fn read(&self, path: &Path) -> std::io::Result<String> {
        read_limited(path, MAX_MODEL_BYTES)
    }

    fn canonical(&self, path: &Path) -> PathBuf {
        path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
    }
}

fn read_data_file(path: &Path) -> std::io::Result<String> {
    read_limited(path, MAX_DATA_BYTES)
}

/// A checked model: parsed, checked and lowered to the IR when it has no
/// errors. All of its diagnostics, from every phase, are here.
pub struct Checked {
    pub loaded: Loaded,
    /// The program, when checking and lowering found no error.
    program: Option<Program>,
    /// Diagnostics of lowering (after the loaded model's).
    pub lower_diagnostics: Vec<Diagnostic>,
    pub lower_time: Duration,
    backend: Backend,
    max_memory: Option<u64>,
    threads: usize,
    grain: Option<usize>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.program.is_none()
    }

    /// The lowered program, when the model has no errors.
    pub fn program(&self) -> Option<&Program> {
        self.program.as_ref()
    }

    /// Every diagnostic with its sources.
    pub fn diagnostics(&self) -> Diagnostics {
        let mut diagnostics = self.loaded.diags.clone();
        diagnostics.extend(self.lower_diagnostics.iter().cloned());
        Diagnostics { file: self.file().to_string(), diagnostics, sources: self.loaded.sources.clone() }
    }

    /// The main file's name.
    pub fn file(&self) -> &str {
        self.loaded.sources.files().next().map(|(_, f)| f.name.as_str()).unwrap_or("")
    }

    /// The main file's text.
    pub fn text(&self) -> &str {
        self.loaded.sources.files().next().map(|(_, f)| f.text.as_str()).unwrap_or("")
    }
}

/// Parses, checks and lowers the model of a request. `Err` only when the
/// main file cannot be read: model errors are diagnostics in the result.
pub fn check(request: &Request) -> Result<Checked, Error> {
    let (text, path) = match &request.source {
        ModelSource::File(path) => {
            let text =
                read_limited(path, MAX_MODEL_BYTES).map_err(|source| Error::Read { path: path.clone(), source })?;
            (text, path.canonicalize().ok())
        }
        ModelSource::Text { text, path } => (text.clone(), Some(path.clone())),
    };
    let name = request.source.path().display().to_string();
    let main = MainFile { name: &name, path, text: &text };
    let loaded = hebb_lang::load(main, &request.settings, request.variant.as_deref(), &FileSystem);
    let t0 = Instant::now();
    let (program, lower_diagnostics) = if loaded.has_errors() {
        (None, Vec::new())
    } else {
        // Lowering finds what needs the whole network (event-driven
        // equations, integration methods).
        let (program, diags) = hebb_lower::lower(&loaded.model, &request.lower_options());
        ((!diag::has_errors(&diags)).then_some(program), diags)
    };
    Ok(Checked {
        loaded,
        program,
        lower_diagnostics,
        lower_time: t0.elapsed(),
        backend: request.backend,
        max_memory: request.max_memory,
        threads: request.threads,
        grain: request.grain,
    })
}

/// Everything that can fail before step 0, without running: checks the
/// model and each of its experiment's variants (each is a model of its
/// own: unknown names, dimensions), then builds the network — reading and
/// validating its data files — and drops it. `Ok` holds the warnings; a
/// model error anywhere is `Err(Error::Model)` with every diagnostic.
pub fn validate(request: &Request) -> Result<Diagnostics, Error> {
    let checked = check(request)?;
    let mut diagnostics = checked.diagnostics();
    let variants: Vec<String> = match (&request.variant, &checked.loaded.model.experiment) {
        (None, Some(exp)) => exp.variants.iter().map(|(name, _)| name.clone()).collect(),
        _ => Vec::new(),
    };
    for variant in variants {
        let other = check(&Request { variant: Some(variant), ..request.clone() })?.diagnostics();
        for d in other.diagnostics {
            if !diagnostics.diagnostics.contains(&d) {
                diagnostics.diagnostics.push(d);
            }
        }
    }
    if diagnostics.error_count() > 0 {
        diag::sort(&mut diagnostics.diagnostics);
        return Err(Error::Model(Box::new(diagnostics)));
    }
    // The interpreter: building needs the program, not native code.
    let compiled = compile(Checked { backend: Backend::Interpreter, ..checked })?;
    build(compiled)?;
    Ok(diagnostics)
}

/// A program ready to run: its kernels with the program they belong to.
pub struct Compiled {
    pub kernels: Box<dyn Kernels>,
    /// Lowering, verification and JIT compilation.
    pub compile_time: Duration,
    /// The most memory the network may take (bytes); else what the
    /// machine has available.
    pub max_memory: Option<u64>,
    /// Threads the run uses (results do not depend on it).
    pub threads: usize,
    /// See `Request::grain`.
    pub grain: Option<usize>,
}

impl Compiled {
    pub fn program(&self) -> &Program {
        self.kernels.program()
    }
}

/// Verifies a checked model's program (always: a broken IR is a bug that
/// must not run) and compiles it for the request's backend.
pub fn compile(checked: Checked) -> Result<Compiled, Error> {
    let diagnostics = checked.diagnostics();
    let Checked { program, lower_time, backend, max_memory, threads, grain, .. } = checked;
    let program = program.ok_or_else(|| Error::Model(Box::new(diagnostics)))?;
    let t0 = Instant::now();
    hebb_ir::verify(&program).map_err(Error::Verify)?;
    let kernels: Box<dyn Kernels> = match backend {
        Backend::Jit => Box::new(jit(program)?),
        Backend::Interpreter => Box::new(Interpreted::new(program)),
    };
    Ok(Compiled { kernels, compile_time: lower_time + t0.elapsed(), max_memory, threads, grain })
}

/// Compiles a program to native code. For developers, two environment
/// variables keep what the JIT made: `HEBB_JIT_DUMP=FILE` writes every
/// kernel's Cranelift IR and machine code to FILE, and `HEBB_PERF_MAP=1`
/// appends the kernels' addresses to `/tmp/perf-<pid>.map`, where `perf
/// report` finds their names. Failing to write either is not an error.
fn jit(program: Program) -> Result<hebb_jit::Jitted, Error> {
    let dump_to = std::env::var_os("HEBB_JIT_DUMP").map(PathBuf::from);
    let jitted = hebb_jit::compile(program, &hebb_jit::Options { dump: dump_to.is_some() })?;
    if let (Some(path), Some(text)) = (dump_to, jitted.dump()) {
        let _ = std::fs::write(path, text);
    }
    if std::env::var_os("HEBB_PERF_MAP").is_some() {
        write_perf_map(&jitted.code_ranges());
    }
    Ok(jitted)
}

/// Appends kernels to `/tmp/perf-<pid>.map` (perf's JIT symbol map: start
/// address, size and name in hex, one function per line).
fn write_perf_map(ranges: &[hebb_jit::CodeRange]) {
    use std::io::Write;
    let path = std::env::temp_dir().join(format!("perf-{}.map", std::process::id()));
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        for r in ranges {
            let _ = writeln!(f, "{:x} {:x} hebb_kernel_{}", r.address, r.size, r.kernel);
        }
    }
}

/// A finished simulation: the network as it ended, and how it ended.
pub struct Outcome {
    pub simulation: Simulation,
    pub result: Result<(), RunError>,
    pub build_time: Duration,
    pub run_time: Duration,
}

impl Outcome {
    pub fn recordings(&self) -> &hebb_runtime::record::Recordings {
        self.simulation.recordings()
    }

    /// Synapses per projection.
    pub fn synapses(&self) -> Vec<usize> {
        (0..self.simulation.program().projections.len()).map(|p| self.simulation.projection(p).n_synapses()).collect()
    }

    /// Simulated time (seconds).
    pub fn simulated(&self) -> f64 {
        self.simulation.time()
    }
}

/// Builds the network of a compiled program (reading its data files),
/// after checking that it fits in memory.
pub fn build(compiled: Compiled) -> Result<(Simulation, Duration), Error> {
    fits_in_memory(compiled.program(), compiled.max_memory)?;
    let t0 = Instant::now();
    let mut simulation = Simulation::build(compiled.kernels, &read_data_file, compiled.threads.max(1))?;
    simulation.set_threads(compiled.threads.max(1), compiled.grain.unwrap_or(hebb_runtime::DEFAULT_GRAIN));
    Ok((simulation, t0.elapsed()))
}

/// The memory available to a run (bytes), from the kernel's estimate of
/// what can be allocated without swapping.
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Refuses a network whose estimated peak memory exceeds `max_memory` (or
/// the memory available), or a projection with more synapses than hebb
/// indexes (2^32 - 1).
fn fits_in_memory(program: &Program, max_memory: Option<u64>) -> Result<(), Error> {
    let estimate = hebb_runtime::estimate(program);
    if let Some((name, n)) = &estimate.largest_projection
        && *n >= u32::MAX as f64
    {
        return Err(Error::TooBig(format!(
            "projection `{name}` would have about {n:.3e} synapses, more than the 2^32 - 1 one projection can hold; split it or make it sparser"
        )));
    }
    let (limit, whose) = match max_memory {
        Some(m) => (m as f64, "`--max-memory`"),
        None => match available_memory() {
            Some(m) => (m as f64, "the memory available"),
            None => return Ok(()),
        },
    };
    let total = estimate.total();
    if total > limit {
        let (what, bytes) = estimate.parts.first().cloned().unwrap_or_default();
        return Err(Error::TooBig(format!(
            "the network needs about {} ({what} alone {}), more than {whose} ({}); make it smaller, or allow more with `--max-memory`",
            bytes_text(total),
            bytes_text(bytes),
            bytes_text(limit)
        )));
    }
    Ok(())
}

/// Bytes in the largest fitting unit (decimal: kB, MB, GB, TB).
pub fn bytes_text(bytes: f64) -> String {
    let units = [("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)];
    match units.iter().find(|(_, scale)| bytes >= *scale) {
        Some((unit, scale)) => format!("{:.1} {unit}", bytes / scale),
        None => format!("{bytes:.0} bytes"),
    }
}

/// Parses a memory size: `8 GB`, `512MB`, `2GiB`, `1e9` (bytes).
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| c.is_alphabetic()).unwrap_or(t.len());
    let (number, unit) = (t[..split].trim(), t[split..].trim());
    let value: f64 = number.parse().map_err(|_| format!("`{text}` is not a memory size such as `8 GB`"))?;
    let scale = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0f64.powi(4),
        _ => return Err(format!("`{unit}` is not a unit of memory (B, kB, MB, GB, TB, KiB, MiB, GiB, TiB)")),
    };
    let bytes = value * scale;
    if !(bytes.is_finite() && bytes >= 1.0) {
        return Err(format!("`{text}` is not a positive memory size"));
    }
    Ok(bytes as u64)
}

/// Builds and runs a compiled program to its end (or to its first error),
/// then finishes it.
pub fn simulate(compiled: Compiled, observer: &mut dyn Observer) -> Result<Outcome, Error> {
    let (mut simulation, build_time) = build(compiled)?;
    let t0 = Instant::now();
    let result = match run::run_chunks(&mut simulation, None, observer) {
        run::Stop::End | run::Stop::Interrupted | run::Stop::WriteFailed(_) => Ok(()),
        run::Stop::Failed(e) => Err(e),
    };
    simulation.finish();
    Ok(Outcome { simulation, result, build_time, run_time: t0.elapsed() })
}

/// A run error in words, with times in units.
pub fn describe(e: &RunError) -> String {
    let time = |t: f64| format_quantity(t, Dim::TIME);
    match e {
        RunError::NonFinite { group, variable, index, time: t } => {
            format!("`{variable}` of neuron {index} in population `{group}` became non-finite at t = {}", time(*t))
        }
        RunError::NonFiniteSynapse { projection, variable, which, time: t } => {
            let which = match which {
                SynapseRef::Synapse { pre, post } => format!("the synapse {pre} -> {post}"),
                SynapseRef::OfPre(i) => format!("the synapses of presynaptic neuron {i}"),
                SynapseRef::OfPost(j) => format!("the synapses of postsynaptic neuron {j}"),
            };
            format!(
                "`{variable}` of {which} in projection `{projection}` became non-finite (found at t = {})",
                time(*t)
            )
        }
        RunError::Aborted { group, rate, op, threshold, window, time: t } => format!(
            "aborted at t = {}: the rate of `{group}` over the last {} was {rate:.1} Hz ({op} {threshold} Hz)",
            time(*t),
            time(*window)
        ),
    }
}

/// Parses a quantity in the language's syntax (`2 s`, `15 ms`) for
/// command-line options; `Err` says what is wrong.
pub fn parse_duration(text: &str) -> Result<f64, String> {
    let (v, dim) = hebb_lang::load::parse_quantity(text)?;
    if dim != Dim::TIME {
        return Err(format!("`{text}` is not a time (it has dimension `{dim}`)"));
    }
    if !(v > 0.0 && v.is_finite()) {
        return Err(format!("`{text}` is not a positive duration"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODEL: &str = "neuron Cell {\n state v = 0\n dv/dt = -v / (10 ms)\n}\nnetwork n {\n population p = 3 Cell\n}\nexperiment { network = n; duration = 1 ms }\n";

    #[test]
    fn compile_always_verifies() {
        let mut checked = check(&Request::text(MODEL, "model.hebb")).expect("reads");
        // A store into a column that does not exist: lowering never makes
        // one, so break the program by hand.
        let program = checked.program.as_mut().expect("lowers");
        let k = (program.groups[0].step.expect("a step kernel")).index();
        program.kernels[k].body.push(hebb_ir::Stmt::Store(hebb_ir::Slot::Own(99), hebb_ir::Expr::Const(0.0)));
        match compile(checked) {
            Err(Error::Verify(errors)) => {
                assert!(errors.iter().any(|e| e.message.contains("bad write")), "{errors:?}")
            }
            Err(e) => panic!("expected a verification error, got {e}"),
            Ok(_) => panic!("a broken program compiled"),
        }
    }
}
