//! The command line (`hebb`, LANGUAGE.md section 7). Reads model files,
//! prints diagnostics and summaries, writes run directories.

use crate::diag::{self, Style};
use crate::driver::{self, Checked};
use crate::ir::{self, Program};
use crate::output;
use crate::runtime::{self, RunError, Simulation};
use crate::units::{Dim, format_quantity};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Prints to stdout, ignoring a closed pipe (`hebb run ... | head`).
macro_rules! out {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Exit codes (LANGUAGE.md section 7).
pub const EXIT_OK: u8 = 0;
pub const EXIT_MODEL: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_RUNTIME: u8 = 3;

#[derive(Parser, Debug)]
#[command(
    name = "hebb",
    version,
    about = "Compile and simulate spiking networks with plastic synapses and homeostasis"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendChoice {
    /// Cranelift-compiled kernels (the default).
    Jit,
    /// The reference interpreter of the IR (slow; for checking the JIT).
    Interp,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check a model and print its diagnostics.
    Check { file: PathBuf },
    /// Run a model's experiment and write a run directory.
    Run {
        file: PathBuf,
        /// Output directory (default: runs/<model>-<timestamp>/).
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        /// Simulated duration, overriding the experiment's (e.g. `2 s`).
        #[arg(long)]
        duration: Option<String>,
        /// Random seed, overriding the experiment's.
        #[arg(long)]
        seed: Option<u64>,
        /// Override a param: `--set 'LIF.tau_m=15 ms'`.
        #[arg(long = "set", value_name = "Type.param=value")]
        set: Vec<String>,
        /// Worker threads (results do not depend on it).
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// Print only errors.
        #[arg(long, short = 'q')]
        quiet: bool,
        /// Which backend runs the kernels.
        #[arg(long, value_enum, default_value_t = BackendChoice::Jit)]
        backend: BackendChoice,
        /// Keep every synaptic variable per synapse (no trace hoisting); for
        /// checking that hoisting does not change results.
        #[arg(long)]
        no_hoist: bool,
    },
    /// Run the base model and its experiment's variants on identical inputs,
    /// in parallel, and compare their metrics.
    Compare {
        file: PathBuf,
        /// Only these variants (comma-separated; the base always runs).
        #[arg(long, value_delimiter = ',')]
        variants: Vec<String>,
        #[command(flatten)]
        study: StudyArgs,
    },
    /// Run a grid over params: `--set 'Type.param=v1,v2,v3'` (repeat for
    /// more axes), and compare the metrics.
    Sweep {
        file: PathBuf,
        /// One axis of the grid: a param and its values, e.g.
        /// `--set 'STDP.beta=0,0.1,0.2'` (values in the language's syntax,
        /// units allowed).
        #[arg(long = "set", value_name = "Type.param=v1,v2,...", required = true)]
        set: Vec<String>,
        #[command(flatten)]
        study: StudyArgs,
    },
    /// Draw a finished run's spike rasters, rates and weight histograms
    /// (SVG and PNG, in RUN_DIR/plots).
    Plot { run_dir: PathBuf },
    /// Explain how a model is compiled: integrators, propagators, memory.
    Explain {
        file: PathBuf,
        /// Also print the IR.
        #[arg(long)]
        ir: bool,
        /// Override a param before compiling: `--set 'LIF.tau_m=15 ms'`.
        #[arg(long = "set", value_name = "Type.param=value")]
        set: Vec<String>,
    },
}

/// What `hebb compare` and `hebb sweep` share: many runs of one model.
#[derive(Args, Debug)]
pub struct StudyArgs {
    /// Parallel runs (default: the number of cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Output directory (default: runs/<model>-compare-<timestamp>/ or
    /// runs/<model>-sweep-<timestamp>/).
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
    /// Simulated duration, overriding the experiment's (e.g. `2 s`);
    /// phases beyond it are cut.
    #[arg(long)]
    duration: Option<String>,
    /// Random seed for every run, overriding the experiment's.
    #[arg(long)]
    seed: Option<u64>,
    /// Print only errors and the table.
    #[arg(long, short = 'q')]
    quiet: bool,
}

fn style() -> Style {
    if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() { Style::Color } else { Style::Plain }
}

/// Loads and checks; prints diagnostics. `Err` carries the exit code.
fn load(file: &Path, settings: &[String], quiet: bool) -> Result<Checked, u8> {
    let checked = match driver::load(file, settings) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", file.display());
            return Err(EXIT_USAGE);
        }
    };
    let shown: Vec<_> = checked.diags.iter().filter(|d| !quiet || d.is_error()).cloned().collect();
    if !shown.is_empty() {
        eprint!("{}", diag::render(&shown, &checked.sources, style()));
    }
    if checked.has_errors() {
        let n = checked.diags.iter().filter(|d| d.is_error()).count();
        eprintln!("error: `{}` has {n} error{}", file.display(), plural(n));
        return Err(EXIT_MODEL);
    }
    Ok(checked)
}

pub fn main_with(cli: Cli) -> ExitCode {
    let code = match cli.command {
        Command::Check { file } => match load(&file, &[], false) {
            // Lowering finds what needs the whole network (event-driven
            // equations, integration methods): run it too.
            Ok(c) if lower(&c, &ir::lower::Options::default()).is_err() => EXIT_MODEL,
            Ok(c) => {
                let warnings = c.diags.len();
                out!(
                    "{}: ok{}",
                    file.display(),
                    if warnings > 0 { format!(" ({warnings} warning{})", plural(warnings)) } else { String::new() }
                );
                EXIT_OK
            }
            Err(code) => code,
        },
        Command::Run { file, output, duration, seed, set, threads, quiet, backend, no_hoist } => {
            run_command(&RunArgs { file, output, duration, seed, set, threads, quiet, backend, no_hoist })
        }
        Command::Explain { file, ir, set } => explain_command(&file, ir, &set),
        Command::Compare { file, variants, study } => compare_command(&file, &variants, &study),
        Command::Sweep { file, set, study } => sweep_command(&file, &set, &study),
        Command::Plot { run_dir } => plot_command(&run_dir),
    };
    ExitCode::from(code)
}

pub struct RunArgs {
    pub file: PathBuf,
    pub output: Option<PathBuf>,
    pub duration: Option<String>,
    pub seed: Option<u64>,
    pub set: Vec<String>,
    pub threads: usize,
    pub quiet: bool,
    pub backend: BackendChoice,
    pub no_hoist: bool,
}

/// Compiles a checked model: lowering, verification, JIT.
pub struct Compiled {
    pub program: Program,
    pub compile_s: f64,
}

fn lower(checked: &Checked, options: &ir::lower::Options) -> Result<Program, u8> {
    let (program, diags) = ir::lower::lower(&checked.model, options);
    if !diags.is_empty() {
        eprint!("{}", diag::render(&diags, &checked.sources, style()));
        if diag::has_errors(&diags) {
            return Err(EXIT_MODEL);
        }
    }
    if cfg!(debug_assertions)
        && let Err(e) = ir::verify(&program)
    {
        eprintln!("error: the IR failed verification (this is a bug in hebb): {e}");
        return Err(EXIT_RUNTIME);
    }
    Ok(program)
}

fn parse_duration(text: &str) -> Result<f64, String> {
    let (v, dim) = driver::parse_quantity(text)?;
    if dim != Dim::TIME {
        return Err(format!("`{text}` is not a time (it has dimension `{dim}`)"));
    }
    if !(v > 0.0 && v.is_finite()) {
        return Err(format!("`{text}` is not a positive duration"));
    }
    Ok(v)
}

fn run_command(args: &RunArgs) -> u8 {
    let duration = match args.duration.as_deref().map(parse_duration).transpose() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: invalid value for `--duration`: {e}");
            return EXIT_USAGE;
        }
    };
    if args.threads == 0 {
        eprintln!("error: `--threads` must be at least 1");
        return EXIT_USAGE;
    }
    let model_name = args.file.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_else(|| "model".into());
    let spec = Spec {
        file: args.file.clone(),
        variant: None,
        settings: args.set.clone(),
        duration,
        seed: args.seed,
        dir: args.output.clone().unwrap_or_else(|| default_run_dir(&model_name)),
        backend: args.backend,
        no_hoist: args.no_hoist,
        progress: !args.quiet && std::io::stderr().is_terminal(),
        quiet: args.quiet,
    };
    match execute(&spec) {
        Ok(done) => {
            if !args.quiet && done.exit == EXIT_OK {
                out!("{}", done.summary);
                if !done.metrics.is_empty() {
                    out!("{}", crate::study::metrics_table(&done.metrics));
                }
                out!("wrote {}", spec.dir.display());
            }
            done.exit
        }
        Err(code) => code,
    }
}

/// One run to execute: a model, optionally one of its variants, settings,
/// and where to write.
#[derive(Clone, Debug)]
pub struct Spec {
    pub file: PathBuf,
    pub variant: Option<String>,
    pub settings: Vec<String>,
    pub duration: Option<f64>,
    pub seed: Option<u64>,
    pub dir: PathBuf,
    pub backend: BackendChoice,
    pub no_hoist: bool,
    pub progress: bool,
    pub quiet: bool,
}

/// What an executed run gives back.
pub struct Done {
    pub status: &'static str,
    pub message: String,
    pub metrics: Vec<crate::metrics::MetricValue>,
    pub timings: Timings,
    /// The printed summary (populations, rates, timings).
    pub summary: String,
    pub exit: u8,
}

/// Loads, compiles, builds, runs and writes one run directory with its
/// metrics. `Err` carries the exit code when the model or a data file is
/// wrong (diagnostics are printed).
pub fn execute(spec: &Spec) -> Result<Done, u8> {
    let checked = match driver::load_variant(&spec.file, &spec.settings, spec.variant.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", spec.file.display());
            return Err(EXIT_USAGE);
        }
    };
    let shown: Vec<_> = checked.diags.iter().filter(|d| !spec.quiet || d.is_error()).cloned().collect();
    if !shown.is_empty() {
        eprint!("{}", diag::render(&shown, &checked.sources, style()));
    }
    if checked.has_errors() {
        let n = checked.diags.iter().filter(|d| d.is_error()).count();
        eprintln!("error: `{}` has {n} error{}", spec.file.display(), plural(n));
        return Err(EXIT_MODEL);
    }
    let t_compile = Instant::now();
    let program =
        lower(&checked, &ir::lower::Options { duration: spec.duration, seed: spec.seed, no_hoist: spec.no_hoist })?;
    let jit = match spec.backend {
        BackendChoice::Jit => match crate::jit::compile(&program) {
            Ok(j) => Some(j),
            Err(e) => {
                eprintln!("error: JIT compilation failed (this is a bug in hebb): {e}");
                return Err(EXIT_RUNTIME);
            }
        },
        BackendChoice::Interp => None,
    };
    let compile_s = t_compile.elapsed().as_secs_f64();
    let t_build = Instant::now();
    let read = |p: &Path| std::fs::read_to_string(p);
    let mut sim = match runtime::build(&program, &read) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Err(EXIT_MODEL);
        }
    };
    if let Some(j) = &jit {
        sim.set_backend(Box::new(j.backend()));
    }
    let build_s = t_build.elapsed().as_secs_f64();
    if let Err(e) = std::fs::create_dir_all(&spec.dir) {
        eprintln!("error: cannot create output directory `{}`: {e}", spec.dir.display());
        return Err(EXIT_USAGE);
    }
    let t_run = Instant::now();
    let result = run_with_progress(&mut sim, spec.progress);
    sim.finish();
    let run_s = t_run.elapsed().as_secs_f64();
    let timings = Timings {
        parse_s: checked.parse_time.as_secs_f64(),
        check_s: checked.check_time.as_secs_f64(),
        compile_s,
        build_s,
        run_s,
    };
    let (status, message) = match &result {
        Ok(()) => ("ok", String::new()),
        Err(e) => (e.status(), e.to_string()),
    };
    let simulated = sim.step as f64 * program.dt;
    let metrics = crate::metrics::compute(&program, &sim.recordings, simulated);
    let bytes = std::fs::read(&spec.file).unwrap_or_default();
    let write = output::write_recordings(&spec.dir, &program, &sim.recordings)
        .and_then(|_| crate::study::write_metrics(&spec.dir, &metrics))
        .and_then(|_| {
            write_run_json(
                &spec.dir,
                &spec.file,
                &bytes,
                &program,
                &sim,
                &timings,
                status,
                &message,
                &metrics,
                spec.variant.as_deref(),
            )
        });
    if let Err(e) = write {
        eprintln!("error: cannot write the run directory `{}`: {e}", spec.dir.display());
        return Err(EXIT_RUNTIME);
    }
    let exit = match &result {
        Ok(()) => EXIT_OK,
        Err(e) => {
            let what = if status == "aborted" { "the simulation was stopped" } else { "the simulation failed" };
            eprintln!("error: {what}: {e}");
            eprintln!("note: what was recorded until then is in `{}`", spec.dir.display());
            EXIT_RUNTIME
        }
    };
    let summary = summary(&sim, &timings);
    Ok(Done { status, message, metrics, timings, summary, exit })
}

fn default_run_dir(model: &str) -> PathBuf {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    // UTC date and time from the Unix epoch (civil-from-days algorithm).
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    PathBuf::from("runs").join(format!(
        "{model}-{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    ))
}

/// Runs to the end, drawing a progress bar on a terminal.
pub fn run_with_progress(sim: &mut Simulation<'_>, progress: bool) -> Result<(), RunError> {
    let total = sim.program.n_steps;
    let dt = sim.program.dt;
    let t0 = Instant::now();
    let chunk = (total / 200).max(1);
    let mut last_draw = Instant::now();
    while !sim.finished() {
        sim.run_steps(chunk)?;
        if progress && last_draw.elapsed().as_millis() >= 100 {
            last_draw = Instant::now();
            let done = sim.step as f64 / total as f64;
            let sim_t = sim.step as f64 * dt;
            let speed = sim_t / t0.elapsed().as_secs_f64().max(1e-9);
            let width = 30;
            let filled = (done * width as f64) as usize;
            eprint!(
                "\r[{}{}] {} / {}  ({speed:.2}× real time)   ",
                "=".repeat(filled),
                " ".repeat(width - filled),
                format_quantity(sim_t, Dim::TIME),
                format_quantity(total as f64 * dt, Dim::TIME)
            );
            let _ = std::io::stderr().flush();
        }
    }
    if progress {
        eprint!("\r{}\r", " ".repeat(80));
    }
    Ok(())
}

pub struct Timings {
    pub parse_s: f64,
    pub check_s: f64,
    pub compile_s: f64,
    pub build_s: f64,
    pub run_s: f64,
}

#[allow(clippy::too_many_arguments)]
fn write_run_json(
    dir: &Path,
    model: &Path,
    model_bytes: &[u8],
    program: &Program,
    sim: &Simulation<'_>,
    t: &Timings,
    status: &str,
    message: &str,
    metrics: &[crate::metrics::MetricValue],
    variant: Option<&str>,
) -> std::io::Result<()> {
    let simulated = sim.step as f64 * program.dt;
    let mut pops = serde_json::Map::new();
    for (g, group) in program.groups.iter().enumerate() {
        if matches!(group.kind, ir::GroupKind::Signal) {
            continue;
        }
        let spikes = sim.recordings.spike_counts[g];
        let rate = if simulated > 0.0 { spikes as f64 / group.size as f64 / simulated } else { 0.0 };
        pops.insert(
            group.name.clone(),
            serde_json::json!({ "size": group.size, "spikes": spikes, "mean_rate_hz": rate }),
        );
    }
    let projections: Vec<serde_json::Value> = program
        .projections
        .iter()
        .zip(&sim.projections)
        .map(|(p, s)| {
            // Statistics of every per-synapse variable at the end of the run.
            let mut stats = serde_json::Map::new();
            for (c, col) in p.columns.iter().zip(&s.columns) {
                if col.is_empty() || c.name == "lastupdate" {
                    continue;
                }
                let n = col.len() as f64;
                let mean = col.iter().sum::<f64>() / n;
                let sd = (col.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n).sqrt();
                let min = col.iter().copied().fold(f64::INFINITY, f64::min);
                let max = col.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                stats.insert(c.name.clone(), serde_json::json!({ "mean": mean, "sd": sd, "min": min, "max": max }));
            }
            serde_json::json!({
                "name": p.name,
                "synapse": p.synapse,
                "synapses": s.n_synapses(),
                "bytes_per_synapse": s.bytes_per_synapse(),
                "final": stats,
            })
        })
        .collect();
    let json = serde_json::json!({
        "status": status,
        "message": message,
        "model": model.display().to_string(),
        "model_sha256": output::sha256_hex(model_bytes),
        "seed": program.seed,
        "dt": program.dt,
        "duration": program.n_steps as f64 * program.dt,
        "simulated": simulated,
        "hebb_version": env!("CARGO_PKG_VERSION"),
        "backend": sim.backend_name(),
        "timings": { "parse_s": t.parse_s, "check_s": t.check_s, "compile_s": t.compile_s, "build_s": t.build_s, "run_s": t.run_s },
        "populations": pops,
        "projections": projections,
        "variant": variant.unwrap_or("base"),
        "phases": sim.recordings.phases.iter().map(|(n, t0, t1)| serde_json::json!({ "name": n, "t0": t0, "t1": t1 })).collect::<Vec<_>>(),
        "metrics": metrics.iter().map(|m| (m.column.clone(), crate::study::json_number(m.value))).collect::<serde_json::Map<_, _>>(),
    });
    let text = serde_json::to_string_pretty(&json).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("run.json"), text + "\n")
}

fn summary(sim: &Simulation<'_>, t: &Timings) -> String {
    use std::fmt::Write as _;
    let program = sim.program;
    let simulated = sim.step as f64 * program.dt;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "simulated {} in {:.3} s ({:.1}× real time) with the {}",
        format_quantity(simulated, Dim::TIME),
        t.run_s,
        simulated / t.run_s.max(1e-9),
        sim.backend_name()
    );
    for (g, group) in program.groups.iter().enumerate() {
        if matches!(group.kind, ir::GroupKind::Signal) {
            continue;
        }
        let spikes = sim.recordings.spike_counts[g];
        let _ = writeln!(
            s,
            "  {:<12} {:>7} neurons {:>10} spikes {:>9.2} Hz",
            group.name,
            group.size,
            spikes,
            spikes as f64 / group.size as f64 / simulated.max(1e-12)
        );
    }
    let n_syn: usize = sim.projections.iter().map(|p| p.n_synapses()).sum();
    let _ = write!(
        s,
        "  {n_syn} synapses; parse {:.1} ms, check {:.1} ms, compile {:.1} ms, build {:.1} ms",
        t.parse_s * 1e3,
        t.check_s * 1e3,
        t.compile_s * 1e3,
        t.build_s * 1e3
    );
    s
}

fn explain_command(file: &Path, show_ir: bool, set: &[String]) -> u8 {
    let checked = match load(file, set, false) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let program = match lower(&checked, &ir::lower::Options::default()) {
        Ok(p) => p,
        Err(code) => return code,
    };
    print!("{}", crate::explain::explain(&program));
    if let Some(exp) = checked.model.experiment.as_ref().filter(|e| !e.variants.is_empty()) {
        let names: Vec<&str> = exp.variants.iter().map(|(n, _)| n.as_str()).collect();
        out!("  variants: {} (`hebb compare` runs them beside the base)", names.join(", "));
    }
    if show_ir {
        out!("\n# IR\n{program}");
    }
    EXIT_OK
}

fn jobs_or_cores(jobs: Option<usize>) -> Result<usize, u8> {
    match jobs {
        Some(0) => {
            eprintln!("error: `--jobs` must be at least 1");
            Err(EXIT_USAGE)
        }
        Some(j) => Ok(j),
        None => Ok(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)),
    }
}

fn study_rows(names: &[String], results: Vec<Result<Done, u8>>) -> (Vec<crate::study::Row>, u8) {
    let mut rows = Vec::new();
    let mut exit = EXIT_OK;
    for (name, r) in names.iter().zip(results) {
        let name = name.clone();
        match r {
            Ok(done) => {
                exit = exit.max(done.exit);
                rows.push(crate::study::Row { name, status: done.status, metrics: done.metrics });
            }
            Err(code) => {
                exit = exit.max(code);
                rows.push(crate::study::Row { name, status: "error", metrics: Vec::new() });
            }
        }
    }
    (rows, exit)
}

/// The parsed options of a study and where it writes.
struct Study {
    jobs: usize,
    duration: Option<f64>,
    seed: Option<u64>,
    quiet: bool,
    dir: PathBuf,
}

impl Study {
    /// Checks the shared options; `kind` names the default directory.
    fn new(file: &Path, args: &StudyArgs, kind: &str) -> Result<Study, u8> {
        let jobs = jobs_or_cores(args.jobs)?;
        let duration = args.duration.as_deref().map(parse_duration).transpose().map_err(|e| {
            eprintln!("error: invalid value for `--duration`: {e}");
            EXIT_USAGE
        })?;
        let model = file.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_else(|| "model".into());
        let dir = args.output.clone().unwrap_or_else(|| default_run_dir(&format!("{model}-{kind}")));
        Ok(Study { jobs, duration, seed: args.seed, quiet: args.quiet, dir })
    }

    /// One run of the study, in its own subdirectory.
    fn spec(&self, file: &Path, subdir: &str, variant: Option<String>, settings: Vec<String>) -> Spec {
        Spec {
            file: file.to_path_buf(),
            variant,
            settings,
            duration: self.duration,
            seed: self.seed,
            dir: self.dir.join(subdir),
            backend: BackendChoice::Jit,
            no_hoist: false,
            progress: false,
            quiet: true,
        }
    }

    /// Runs the specs in parallel, writes the study's files and prints
    /// its table; a sweep over one numeric axis is drawn as lines.
    fn run(&self, names: &[String], specs: &[Spec], sweep_x: Option<(&str, &[f64])>) -> u8 {
        let t0 = Instant::now();
        let results = crate::study::run_all(specs, self.jobs);
        let elapsed = t0.elapsed().as_secs_f64();
        let (rows, exit) = study_rows(names, results);
        if let Err(e) =
            std::fs::create_dir_all(&self.dir).and_then(|_| crate::study::write_study(&self.dir, &rows, sweep_x))
        {
            eprintln!("error: cannot write `{}`: {e}", self.dir.display());
            return EXIT_RUNTIME;
        }
        out!("{}", crate::study::table(&rows));
        if !self.quiet {
            out!("{} runs in {elapsed:.1} s; wrote {}", rows.len(), self.dir.display());
        }
        exit
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn compare_command(file: &Path, only: &[String], args: &StudyArgs) -> u8 {
    let study = match Study::new(file, args, "compare") {
        Ok(s) => s,
        Err(code) => return code,
    };
    let checked = match load(file, &[], study.quiet) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let Some(exp) = &checked.model.experiment else { return EXIT_MODEL };
    let declared: Vec<String> = exp.variants.iter().map(|(n, _)| n.clone()).collect();
    for v in only {
        if !declared.contains(v) {
            let help = crate::sema::suggest_name(v, declared.iter().map(|s| s.as_str()))
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            eprintln!("error: the experiment has no variant `{v}`{help}; its variants are: {}", declared.join(", "));
            return EXIT_USAGE;
        }
    }
    let mut names = vec!["base".to_string()];
    names.extend(declared.into_iter().filter(|v| only.is_empty() || only.contains(v)));
    let specs: Vec<Spec> =
        names.iter().map(|n| study.spec(file, n, (n != "base").then(|| n.clone()), Vec::new())).collect();
    if !study.quiet {
        eprintln!("running {} on {} thread{}: {}", names.len(), study.jobs, plural(study.jobs), names.join(", "));
    }
    study.run(&names, &specs, None)
}

fn sweep_command(file: &Path, axes: &[String], args: &StudyArgs) -> u8 {
    let study = match Study::new(file, args, "sweep") {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut grid: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for axis in axes {
        let Some((path, values)) = crate::study::sweep_values(axis) else {
            eprintln!("error: `--set {axis}` must be `Type.param=v1,v2,...`");
            return EXIT_USAGE;
        };
        let mut next = Vec::new();
        for point in &grid {
            for v in &values {
                let mut p = point.clone();
                p.push((path.clone(), v.clone()));
                next.push(p);
            }
        }
        grid = next;
    }
    let settings: Vec<Vec<String>> =
        grid.iter().map(|point| point.iter().map(|(p, v)| format!("{p}={v}")).collect()).collect();
    // Check every point first: a bad value is a model error, reported once.
    for s in &settings {
        if let Err(code) = load(file, s, true) {
            return code;
        }
    }
    let names: Vec<String> = settings.iter().map(|s| s.join(",")).collect();
    let specs: Vec<Spec> =
        names.iter().zip(settings).map(|(name, s)| study.spec(file, &name.replace([' ', '/'], ""), None, s)).collect();
    if !study.quiet {
        eprintln!("running {} grid points on {} thread{}", specs.len(), study.jobs, plural(study.jobs));
    }
    // A single axis with numeric values is drawn as a line.
    let xs: Option<Vec<f64>> = (axes.len() == 1)
        .then(|| grid.iter().map(|p| driver::parse_quantity(&p[0].1).map(|(v, _)| v).ok()).collect())
        .flatten();
    let x_label = grid.first().and_then(|p| p.first()).map(|(k, _)| k.clone()).unwrap_or_default();
    study.run(&names, &specs, xs.as_deref().map(|x| (x_label.as_str(), x)))
}

fn plot_command(dir: &Path) -> u8 {
    let json: serde_json::Value = match std::fs::read_to_string(dir.join("run.json"))
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(j) => j,
        Err(e) => {
            eprintln!("error: `{}` is not a run directory (cannot read run.json: {e})", dir.display());
            return EXIT_USAGE;
        }
    };
    let plots = dir.join("plots");
    if let Err(e) = std::fs::create_dir_all(&plots) {
        eprintln!("error: cannot create `{}`: {e}", plots.display());
        return EXIT_RUNTIME;
    }
    let duration = json["simulated"].as_f64().unwrap_or(0.0);
    let mut drawn = 0;
    if let Some(pops) = json["populations"].as_object() {
        for (name, info) in pops {
            let (tp, ip) = (dir.join(format!("spikes/{name}.t.npy")), dir.join(format!("spikes/{name}.i.npy")));
            let (Ok((_, t)), Ok(i)) = (output::read_f64(&tp), output::read_u32(&ip)) else { continue };
            let n = info["size"].as_u64().unwrap_or(1) as usize;
            match crate::plot::raster(
                &plots.join(format!("raster_{name}")),
                &format!("{name}: spikes and population rate"),
                &t,
                &i,
                n,
                duration.max(1e-9),
            ) {
                Ok(()) => drawn += 1,
                Err(e) => eprintln!("warning: raster of `{name}`: {e}"),
            }
        }
    }
    // Weight histograms per phase, from weights/<proj>.phase_<phase>.npy.
    let mut by_proj: std::collections::BTreeMap<String, Vec<(String, Vec<f64>)>> = Default::default();
    if let Ok(entries) = std::fs::read_dir(dir.join("weights")) {
        let mut files: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for f in files {
            let name = f.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            if let Some((proj, rest)) = name.split_once(".phase_")
                && let (Some(phase), Ok((_, w))) = (rest.strip_suffix(".npy"), output::read_f64(&f))
            {
                by_proj.entry(proj.to_string()).or_default().push((phase.to_string(), w));
            }
        }
    }
    let order: Vec<String> = json["phases"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p["name"].as_str().map(String::from)).collect())
        .unwrap_or_default();
    for (proj, mut phases) in by_proj {
        phases.sort_by_key(|(p, _)| order.iter().position(|o| o == p).unwrap_or(usize::MAX));
        match crate::plot::weight_histograms(
            &plots.join(format!("weights_{proj}")),
            &format!("weights of {proj} at the end of each phase"),
            &phases,
        ) {
            Ok(()) => drawn += 1,
            Err(e) => eprintln!("warning: weights of `{proj}`: {e}"),
        }
    }
    out!("drew {drawn} plot{} (SVG and PNG) in {}", plural(drawn), plots.display());
    EXIT_OK
}
