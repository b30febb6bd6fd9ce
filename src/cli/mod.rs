//! The command line (`hebb`, LANGUAGE.md section 7): arguments, printing
//! and exit codes. One file per subcommand; the work itself is the `hebb`
//! library's `session`.

mod check;
mod explain;
mod plot;
mod run;
mod signals;
mod study;

use clap::{Args, Parser, Subcommand};
use hebb::lang::Style;
use hebb::session::{Backend, Diagnostics, Error};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Prints a line to stdout, ignoring a closed pipe (`hebb run ... | head`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}
pub(crate) use out;

/// Exit codes (LANGUAGE.md section 7); an interrupted run exits with 130
/// (SIGINT) or 143 (SIGTERM), see `signals`.
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

/// `--backend`: the command-line names of [`Backend`].
fn backend_arg() -> clap::builder::ValueParser {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new([
        clap::builder::PossibleValue::new("jit").help("Cranelift-compiled kernels (the default)"),
        clap::builder::PossibleValue::new("interp")
            .help("The reference interpreter of the IR (slow; for checking the JIT)"),
    ])
    .map(|s| if s == "interp" { Backend::Interpreter } else { Backend::Jit })
    .into()
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check a model and print its diagnostics.
    Check { file: PathBuf },
    /// Serve the Language Server Protocol on stdin/stdout for editors:
    /// diagnostics as you type, hover, go to definition, completion and
    /// document symbols.
    Lsp,
    /// Run a model's experiment and write a run directory.
    Run(run::RunArgs),
    /// Continue an interrupted or failed run from its checkpoint; the
    /// outputs are the same as if it had not stopped.
    Resume {
        run_dir: PathBuf,
        /// Print only errors.
        #[arg(long, short = 'q')]
        quiet: bool,
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
    /// Write a study's run list (plan.jsonl) without running it: the
    /// variants (or, with `--set`, the grid points), each once per seed.
    /// `--slurm` also writes a job-array script for `sbatch`.
    Plan {
        file: PathBuf,
        /// Only these variants besides the base (comma-separated).
        #[arg(long, value_delimiter = ',', conflicts_with = "set")]
        variants: Vec<String>,
        /// A sweep axis instead of the variants: `--set 'Type.param=v1,v2'`.
        #[arg(long = "set", value_name = "Type.param=v1,v2,...")]
        set: Vec<String>,
        #[command(flatten)]
        replicates: Replicates,
        /// Output (study) directory.
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        /// Simulated duration, overriding the experiment's (e.g. `2 s`).
        #[arg(long)]
        duration: Option<String>,
        /// Start every run from this checkpoint.
        #[arg(long, value_name = "CHECKPOINT")]
        from: Option<PathBuf>,
        /// Write into a study directory that is not empty.
        #[arg(long)]
        force: bool,
        /// Also write `submit.sbatch`: a Slurm job array, one task per run
        /// (or per `--per-task` runs).
        #[arg(long)]
        slurm: bool,
        /// At most this many array tasks at once (`--array=...%N`).
        #[arg(long, value_name = "N", requires = "slurm")]
        throttle: Option<usize>,
        /// Runs per array task (tasks take every K-th run; default 1).
        #[arg(long, value_name = "K", requires = "slurm")]
        per_task: Option<usize>,
    },
    /// Run entries of a study's plan into the study directory, skipping
    /// those already finished: all of them, `--index I` (0-based, e.g.
    /// `$SLURM_ARRAY_TASK_ID`) or `--shard k/N` (every N-th from the k-th).
    RunPlan {
        plan: PathBuf,
        #[arg(long, conflicts_with = "shard")]
        index: Option<usize>,
        #[arg(long, value_name = "k/N")]
        shard: Option<String>,
        /// Parallel runs (default: the number of cores; 1 with --index).
        #[arg(long)]
        jobs: Option<usize>,
        #[arg(long, short = 'q')]
        quiet: bool,
    },
    /// Build a study's table, statistics, files and plots from its finished
    /// runs (after `hebb plan` and `hebb run-plan`).
    Collect {
        study_dir: PathBuf,
        #[arg(long, short = 'q')]
        quiet: bool,
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
        /// Explain the storage of this precision (memory per neuron and
        /// per synapse), overriding the experiment's `precision`.
        #[arg(long, value_name = "f64|f32", value_parser = ["f64", "f32"])]
        precision: Option<String>,
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
    #[command(flatten)]
    replicates: Replicates,
    /// Print only errors and the table.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Write into an output directory that is not empty (its runs are
    /// replaced).
    #[arg(long)]
    force: bool,
    /// Start every run from the state in this checkpoint (a run directory
    /// or its `checkpoint.hebb`): learn once, then test each variant.
    #[arg(long, value_name = "CHECKPOINT")]
    from: Option<PathBuf>,
}

/// Seeds and contrasts of a study.
#[derive(Args, Debug)]
pub struct Replicates {
    /// Random seed for every run, overriding the experiment's.
    #[arg(long, conflicts_with = "seeds")]
    seed: Option<u64>,
    /// Run every variant or point once per seed: `1..10`, `1,2,5` or
    /// `1..3,7` (overrides the experiment's `seeds`).
    #[arg(long, value_name = "SEEDS")]
    seeds: Option<String>,
    /// Also compare these two variants or points, paired by seed:
    /// `--contrast scaling,intrinsic` (or `'A.x=1 vs A.x=2'`). Repeatable.
    #[arg(long, value_name = "A,B")]
    contrast: Vec<String>,
}

pub fn main_with(cli: Cli) -> ExitCode {
    let code = match cli.command {
        Command::Check { file } => check::check(&file),
        Command::Lsp => match crate::lsp::serve() {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("error: hebb lsp: {e}");
                EXIT_RUNTIME
            }
        },
        Command::Run(args) => run::run(&args),
        Command::Resume { run_dir, quiet } => run::resume(&run_dir, quiet),
        Command::Explain { file, ir, set, precision } => {
            explain::explain(&file, ir, &set, precision.as_deref().and_then(hebb::ir::Precision::parse))
        }
        Command::Compare { file, variants, study } => study::compare(&file, &variants, &study),
        Command::Sweep { file, set, study } => study::sweep(&file, &set, &study),
        Command::Plan { file, variants, set, replicates, output, duration, from, force, slurm, throttle, per_task } => {
            let slurm = slurm.then_some(study::Slurm { throttle, per_task });
            let args = study::PlanArgs { variants, set, replicates, output, duration, from, force, slurm };
            study::plan(&file, &args)
        }
        Command::RunPlan { plan, index, shard, jobs, quiet } => {
            study::run_plan(&plan, index, shard.as_deref(), jobs, quiet)
        }
        Command::Collect { study_dir, quiet } => study::collect(&study_dir, quiet),
        Command::Plot { run_dir } => plot::plot(&run_dir),
    };
    ExitCode::from(code)
}

/// Colour on a terminal, plain text in pipes and when `NO_COLOR` is set.
fn style() -> Style {
    if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() { Style::Color } else { Style::Plain }
}

/// Prints a model's diagnostics to stderr (only its errors when `quiet`).
fn print_diagnostics(d: &Diagnostics, quiet: bool) {
    let text = d.render(style(), quiet);
    if !text.is_empty() {
        eprint!("{text}");
    }
}

/// The exit code of a failed request.
fn exit_code(e: &Error) -> u8 {
    match e {
        Error::Read { .. } | Error::CreateDir { .. } | Error::Checkpoint { .. } | Error::OutputExists { .. } => {
            EXIT_USAGE
        }
        Error::Model(_) | Error::Data(_) | Error::Mismatch(_) | Error::TooBig(_) => EXIT_MODEL,
        Error::Verify(_) | Error::Jit(_) | Error::Write(_) | Error::Internal(_) => EXIT_RUNTIME,
    }
}

/// Reports a failed request on stderr and gives its exit code. A model's
/// diagnostics are printed first unless they already were.
fn fail(e: &Error, diagnostics_shown: bool) -> u8 {
    if let Error::Model(d) = e
        && !diagnostics_shown
    {
        print_diagnostics(d, true);
    }
    eprintln!("error: {e}");
    if let Error::OutputExists { .. } = e {
        eprintln!("help: choose another directory with `-o`, or pass `--force` to replace what is there");
    }
    exit_code(e)
}

/// `--duration`, checked: a positive time.
fn duration_arg(text: Option<&str>) -> Result<Option<f64>, u8> {
    text.map(hebb::session::parse_duration).transpose().map_err(|e| {
        eprintln!("error: invalid value for `--duration`: {e}");
        EXIT_USAGE
    })
}

/// The name of a model file without its extension, for directory names.
fn model_name(file: &std::path::Path) -> String {
    file.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_else(|| "model".into())
}

/// `runs/<name>-<UTC date>-<time>`.
fn default_run_dir(name: &str) -> PathBuf {
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
        "{name}-{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    ))
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
