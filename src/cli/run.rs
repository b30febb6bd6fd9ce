//! `hebb run FILE`: one run of a model's experiment into a run directory,
//! with a progress bar on a terminal and a summary at the end.

use super::signals::Interrupt;
use super::{EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, backend_arg, default_run_dir, duration_arg, fail, model_name, out};
use hebb::ir::Precision;
use hebb::lang::units::{Dim, format_quantity};
use hebb::session::{self, Backend, Diagnostics, Observer, Progress, Request, RunSummary};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The model (not with `--replay`, which names its own).
    #[arg(required_unless_present = "replay")]
    file: Option<PathBuf>,
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
    /// Run one of the experiment's variants instead of the base model.
    #[arg(long)]
    variant: Option<String>,
    /// Run again exactly what a run directory records (its model, variant,
    /// settings, seed and duration), into a new directory.
    #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["file", "set", "variant", "seed", "duration", "from", "no_hoist", "no_scale", "precision"])]
    replay: Option<PathBuf>,
    /// Threads for the run (default: every core). Results are bit-identical
    /// for any number.
    #[arg(long)]
    threads: Option<usize>,
    /// Print only errors.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Which backend runs the kernels.
    #[arg(long, value_parser = backend_arg(), default_value = "jit")]
    backend: Backend,
    /// Keep every synaptic variable per synapse (no trace hoisting); for
    /// checking that hoisting does not change results.
    #[arg(long)]
    no_hoist: bool,
    /// Store decaying per-synapse variables as of their last update (an
    /// exponential per event) instead of scaled to a reference time; for
    /// checking that scaling does not change results.
    #[arg(long)]
    no_scale: bool,
    /// Store neuron states and synaptic variables in `f32` (arithmetic
    /// stays f64) or `f64`, overriding the experiment's `precision`. f32
    /// halves memory traffic; results agree with f64 statistically, not
    /// bit for bit.
    #[arg(long, value_name = "f64|f32", value_parser = ["f64", "f32"])]
    precision: Option<String>,
    /// Print where the time went (each kernel by name, sources, records,
    /// writing) and keep it in run.json under "profile".
    #[arg(long)]
    profile: bool,
    /// Write a checkpoint this often (simulated time, e.g. `10 s`), for
    /// `hebb resume` after a crash. An interrupted run always writes one.
    #[arg(long, value_name = "D")]
    checkpoint_every: Option<String>,
    /// Start from the state in a checkpoint (a run directory or its
    /// `checkpoint.hebb`) of the same network, at the time it was taken.
    #[arg(long, value_name = "CHECKPOINT")]
    from: Option<PathBuf>,
    /// Write into an output directory that holds another run (replacing
    /// it); without it, only a new, empty or unfinished run's directory of
    /// the same model is written.
    #[arg(long)]
    force: bool,
    /// The most memory the network may take (e.g. `8 GB`); by default,
    /// what the machine has available.
    #[arg(long, value_name = "SIZE")]
    max_memory: Option<String>,
}

pub fn run(args: &RunArgs) -> u8 {
    let duration = match duration_arg(args.duration.as_deref()) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let checkpoint_every = match duration_arg(args.checkpoint_every.as_deref()) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let max_memory = match args.max_memory.as_deref().map(session::parse_bytes).transpose() {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: invalid value for `--max-memory`: {e}");
            return EXIT_USAGE;
        }
    };
    if args.threads == Some(0) {
        eprintln!("error: `--threads` must be at least 1");
        return EXIT_USAGE;
    }
    let file = match (&args.replay, &args.file) {
        (Some(dir), _) => return replay(args, dir),
        (None, Some(file)) => file,
        (None, None) => return EXIT_USAGE,
    };
    let request = Request {
        variant: args.variant.clone(),
        settings: args.set.clone(),
        duration,
        seed: args.seed,
        backend: args.backend,
        no_hoist: args.no_hoist,
        no_scale: args.no_scale,
        precision: args.precision.as_deref().and_then(Precision::parse),
        checkpoint_every,
        from: args.from.clone(),
        force: args.force,
        max_memory,
        threads: args.threads.unwrap_or_else(all_cores),
        profile: args.profile,
        ..Request::file(file)
    };
    let dir = args.output.clone().unwrap_or_else(|| default_run_dir(&model_name(file)));
    let mut terminal = Terminal::new(args.quiet, Interrupt::install());
    let result = session::run(&request, &dir, &mut terminal);
    finish(result, &mut terminal, args.quiet)
}

/// `hebb run --replay RUN_DIR`: the recorded request, into a new
/// directory; the model file must be the one the run used.
fn replay(args: &RunArgs, from: &std::path::Path) -> u8 {
    let request = match session::recorded_request(from) {
        Ok(r) => r,
        Err(e) => return fail(&e, false),
    };
    let name = format!("{}-replay", model_name(request.source.path()));
    let dir = args.output.clone().unwrap_or_else(|| default_run_dir(&name));
    let request = Request {
        force: args.force,
        threads: args.threads.unwrap_or(request.threads),
        profile: args.profile,
        ..request
    };
    let mut terminal = Terminal::new(args.quiet, Interrupt::install());
    let result = session::run(&request, &dir, &mut terminal);
    finish(result, &mut terminal, args.quiet)
}

/// Every core of the machine.
fn all_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `hebb resume RUN_DIR`.
pub fn resume(dir: &std::path::Path, quiet: bool) -> u8 {
    let mut terminal = Terminal::new(quiet, Interrupt::install());
    let result = session::resume(dir, &mut terminal);
    finish(result, &mut terminal, quiet)
}

/// Reports how a run ended and gives its exit code.
fn finish(result: Result<RunSummary, session::Error>, terminal: &mut Terminal, quiet: bool) -> u8 {
    terminal.clear();
    match result {
        Ok(summary) => {
            let code = report(&summary, quiet);
            if summary.interrupted() { terminal.interrupt.exit_code() } else { code }
        }
        Err(e) => fail(&e, terminal.diagnostics_shown),
    }
}

/// Prints how a run ended: its summary and metrics, or why it stopped.
fn report(summary: &RunSummary, quiet: bool) -> u8 {
    if summary.interrupted() {
        eprintln!("{}; what was recorded until then is in `{}`", summary.message, summary.dir.display());
        eprintln!("note: `hebb resume {}` continues it", summary.dir.display());
        return EXIT_RUNTIME;
    }
    if summary.error.is_some() {
        let what = if summary.status == "aborted" { "the simulation was stopped" } else { "the simulation failed" };
        eprintln!("error: {what}: {}", summary.message);
        eprintln!("note: what was recorded until then is in `{}`", summary.dir.display());
        return EXIT_RUNTIME;
    }
    if !quiet {
        out!("{}", text(summary));
        if !summary.metrics.is_empty() {
            out!("{}", hebb::study::metrics_table(&summary.metrics));
        }
        if !summary.profile.is_empty() {
            out!("{}", profile_table(summary));
        }
        out!("wrote {}", summary.dir.display());
    }
    EXIT_OK
}

/// Where the time went, longest first, with each part's share of the total
/// and its time per call.
fn profile_table(summary: &RunSummary) -> String {
    let total: f64 = summary.profile.iter().map(|e| e.seconds).sum();
    let width = summary.profile.iter().map(|e| e.name.len()).max().unwrap_or(0).max(4);
    let mut out = format!("where the time went ({total:.3} s profiled):\n");
    for e in &summary.profile {
        let per_call = e.seconds / e.calls.max(1) as f64;
        out += &format!(
            "  {:width$}  {:>9.3} s  {:>5.1} %  {:>10} calls  {:>9.2} µs/call\n",
            e.name,
            e.seconds,
            100.0 * e.seconds / total.max(1e-300),
            e.calls,
            per_call * 1e6,
        );
    }
    out.trim_end().to_string()
}

/// The summary of a finished run: speed, populations, synapses, timings.
fn text(s: &RunSummary) -> String {
    use std::fmt::Write as _;
    let t = &s.timings;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "simulated {} in {:.3} s ({:.1}× real time) with the {}",
        format_quantity(s.simulated, Dim::TIME),
        t.run_s,
        s.simulated / t.run_s.max(1e-9),
        s.backend
    );
    for p in &s.populations {
        let _ = writeln!(
            out,
            "  {:<12} {:>7} neurons {:>10} spikes {:>9.2} Hz",
            p.name,
            p.size,
            p.spikes,
            p.spikes as f64 / p.size as f64 / s.simulated.max(1e-12)
        );
    }
    let _ = write!(
        out,
        "  {} synapses; parse {:.1} ms, check {:.1} ms, compile {:.1} ms, build {:.1} ms",
        s.synapses,
        t.parse_s * 1e3,
        t.check_s * 1e3,
        t.compile_s * 1e3,
        t.build_s * 1e3
    );
    out
}

/// Diagnostics and a progress bar on stderr.
struct Terminal {
    quiet: bool,
    /// Whether to draw a progress bar (a terminal, not quiet).
    bar: bool,
    last_draw: Instant,
    drawn: bool,
    diagnostics_shown: bool,
    interrupt: Interrupt,
}

impl Terminal {
    fn new(quiet: bool, interrupt: Interrupt) -> Terminal {
        let bar = !quiet && std::io::stderr().is_terminal();
        Terminal { quiet, bar, last_draw: Instant::now(), drawn: false, diagnostics_shown: false, interrupt }
    }

    /// Erases the progress bar.
    fn clear(&mut self) {
        if self.drawn {
            eprint!("\r{}\r", " ".repeat(80));
            self.drawn = false;
        }
    }
}

impl Observer for Terminal {
    fn diagnostics(&mut self, d: &Diagnostics) {
        super::print_diagnostics(d, self.quiet);
        self.diagnostics_shown = true;
    }

    fn interrupted(&mut self) -> bool {
        self.interrupt.received()
    }

    fn progress(&mut self, p: &Progress) {
        if !self.bar || self.last_draw.elapsed().as_millis() < 100 {
            return;
        }
        self.last_draw = Instant::now();
        let done = p.step as f64 / p.n_steps.max(1) as f64;
        let sim_t = p.step as f64 * p.dt;
        let speed = sim_t / p.elapsed.as_secs_f64().max(1e-9);
        let width = 30;
        let filled = ((done * width as f64) as usize).min(width);
        eprint!(
            "\r[{}{}] {} / {}  ({speed:.2}× real time)   ",
            "=".repeat(filled),
            " ".repeat(width - filled),
            format_quantity(sim_t, Dim::TIME),
            format_quantity(p.n_steps as f64 * p.dt, Dim::TIME)
        );
        let _ = std::io::stderr().flush();
        self.drawn = true;
    }
}
