//! `hebb compare` (the base model and its variants), `hebb sweep` (a grid
//! over params), each variant or point once per seed, and the pieces they
//! are made of for clusters: `hebb plan` (the run list, and a Slurm job
//! array), `hebb run-plan` (run entries) and `hebb collect` (table,
//! statistics, files and plots from the finished runs).

use super::signals::Interrupt;
use super::{
    EXIT_MODEL, EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, Replicates, StudyArgs, default_run_dir, duration_arg, exit_code,
    fail, model_name, out, plural,
};
use hebb::session::{self, Error, Request};
use hebb::study::collect::{self, Analysis, Row};
use hebb::study::plan::{self, Kind, Plan, Ran, Spec};
use hebb::study::{self, Tally};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// `hebb plan --slurm`: the job array's shape.
pub struct Slurm {
    pub throttle: Option<usize>,
    pub per_task: Option<usize>,
}

/// The options of `hebb plan`.
pub struct PlanArgs {
    pub variants: Vec<String>,
    pub set: Vec<String>,
    pub replicates: Replicates,
    pub output: Option<PathBuf>,
    pub duration: Option<String>,
    pub from: Option<PathBuf>,
    pub force: bool,
    pub slurm: Option<Slurm>,
}

/// The most seeds one study may take.
const MAX_SEEDS: usize = 100_000;

/// Parses `--seeds`: `1..10` (inclusive), `1,2,5`, or both, `1..3,7`.
fn parse_seeds(text: &str) -> Result<Vec<u64>, String> {
    let bad = || format!("`--seeds {text}` must be seeds like `1..10`, `1,2,5` or `1..3,7`");
    let mut out: Vec<u64> = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        let (a, b) = match part.split_once("..") {
            Some((a, b)) => (a.trim().parse::<u64>().map_err(|_| bad())?, b.trim().parse::<u64>().map_err(|_| bad())?),
            None => {
                let x = part.parse::<u64>().map_err(|_| bad())?;
                (x, x)
            }
        };
        if b < a {
            return Err(format!("`--seeds`: the range `{part}` is empty"));
        }
        if (b - a) as usize >= MAX_SEEDS || out.len() + (b - a) as usize >= MAX_SEEDS {
            return Err(format!("`--seeds {text}` asks for more than {MAX_SEEDS} seeds"));
        }
        for s in a..=b {
            if out.contains(&s) {
                return Err(format!("`--seeds {text}` gives seed {s} twice"));
            }
            out.push(s);
        }
    }
    Ok(out)
}

/// Parses `--contrast A,B` (or `A vs B`, for sweep points with commas).
fn parse_contrast(text: &str) -> Result<(String, String), String> {
    let split = text.split_once(" vs ").or_else(|| {
        let parts: Vec<&str> = text.split(',').collect();
        (parts.len() == 2).then(|| (parts[0], parts[1]))
    });
    match split {
        Some((a, b)) if !a.trim().is_empty() && !b.trim().is_empty() => {
            Ok((a.trim().to_string(), b.trim().to_string()))
        }
        _ => Err(format!("`--contrast {text}` must name two variants: `--contrast scaling,intrinsic`")),
    }
}

/// What a plan is built from.
struct Ask<'a> {
    file: &'a Path,
    variants: &'a [String],
    axes: &'a [String],
    replicates: &'a Replicates,
    duration: Option<f64>,
    from: Option<PathBuf>,
    quiet: bool,
}

/// Checks the model and builds the study's plan: the variants (or the
/// grid's points), each once per seed. Errors are printed; the exit code
/// is returned.
fn make_plan(ask: &Ask<'_>) -> Result<Plan, u8> {
    let usage = |msg: String| {
        eprintln!("error: {msg}");
        EXIT_USAGE
    };
    let base_request = Request { duration: ask.duration, from: ask.from.clone(), ..Request::file(ask.file) };
    let checked = session::check(&base_request).map_err(|e| fail(&e, false))?;
    let diagnostics = checked.diagnostics();
    super::print_diagnostics(&diagnostics, ask.quiet);
    if checked.has_errors() {
        let n = diagnostics.error_count();
        eprintln!("error: `{}` has {n} error{}", ask.file.display(), plural(n));
        return Err(EXIT_MODEL);
    }
    let exp = checked.loaded.model.experiment.as_ref();
    let seeds = match &ask.replicates.seeds {
        Some(text) => Some(parse_seeds(text).map_err(usage)?),
        None if ask.replicates.seed.is_none() => exp.and_then(|e| e.seeds.clone()),
        None => None,
    };
    let (kind, points, axis) = if ask.axes.is_empty() {
        let Some(exp) = exp else {
            return Err(usage(format!("`{}` has no experiment, so no variants to compare", ask.file.display())));
        };
        let declared: Vec<String> = exp.variants.iter().map(|(n, _)| n.clone()).collect();
        for v in ask.variants {
            if !declared.contains(v) {
                let help = hebb::lang::suggest::suggest(v, declared.iter().map(|s| s.as_str()))
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                return Err(usage(format!(
                    "the experiment has no variant `{v}`{help}; its variants are: {}",
                    declared.join(", ")
                )));
            }
        }
        let mut names = vec!["base".to_string()];
        names.extend(declared.into_iter().filter(|v| ask.variants.is_empty() || ask.variants.contains(v)));
        let points = names.into_iter().map(|n| (n.clone(), (n != "base").then_some(n), Vec::new())).collect();
        (Kind::Compare, points, None)
    } else {
        let grid = study::grid(ask.axes).map_err(|e| usage(e.to_string()))?;
        let settings: Vec<Vec<String>> =
            grid.iter().map(|point| point.iter().map(|(p, v)| format!("{p}={v}")).collect()).collect();
        // Check every point first: a bad value is a model error, reported once.
        for s in &settings {
            match session::check(&Request { settings: s.clone(), ..base_request.clone() }) {
                Ok(c) if c.has_errors() => return Err(fail(&Error::Model(Box::new(c.diagnostics())), false)),
                Ok(_) => {}
                Err(e) => return Err(fail(&e, false)),
            }
        }
        // A single axis with numeric values is drawn as a line.
        let numeric = ask.axes.len() == 1 && grid.iter().all(|p| hebb::lang::load::parse_quantity(&p[0].1).is_ok());
        let axis = numeric.then(|| grid[0][0].0.clone());
        let points = settings.into_iter().map(|s| (s.join(","), None, s)).collect();
        (Kind::Sweep, points, axis)
    };
    let spec = Spec {
        kind,
        model: ask.file.to_path_buf(),
        duration: ask.duration,
        from: ask.from.clone(),
        seeds,
        seed: ask.replicates.seed,
        contrasts: Vec::new(),
        axis,
    };
    let mut plan = Plan::new(spec, &checked, points);
    let labels = plan.labels();
    for text in &ask.replicates.contrast {
        let (a, b) = parse_contrast(text).map_err(usage)?;
        for x in [&a, &b] {
            if !labels.contains(x) {
                let help = hebb::lang::suggest::suggest(x, labels.iter().map(|s| s.as_str()))
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                return Err(usage(format!("`--contrast`: the study has no variant or point `{x}`{help}")));
            }
        }
        if a == b {
            return Err(usage(format!("`--contrast {text}` compares `{a}` with itself")));
        }
        plan.contrasts.push((a, b));
    }
    Ok(plan)
}

/// How many runs, of how many variants and seeds.
fn describe(plan: &Plan) -> String {
    let labels = plan.labels().len();
    let what = if plan.kind == Kind::Compare { "variant" } else { "point" };
    match &plan.seeds {
        Some(s) => format!(
            "{} runs ({labels} {what}{} × {} seed{})",
            plan.entries.len(),
            plural(labels),
            s.len(),
            plural(s.len())
        ),
        None => {
            format!("{} run{} ({what}s: {})", plan.entries.len(), plural(plan.entries.len()), plan.labels().join(", "))
        }
    }
}

/// A live line on stderr while runs go: done, running, failed, simulated
/// time per second, ETA. Only on a terminal.
fn show_progress(tally: &Tally, total: usize, stop: &AtomicBool, t0: Instant) {
    let mut err = std::io::stderr();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(250));
        let (done, running, failed, skipped) = (
            tally.done.load(Ordering::Relaxed),
            tally.running.load(Ordering::Relaxed),
            tally.failed.load(Ordering::Relaxed),
            tally.skipped.load(Ordering::Relaxed),
        );
        let elapsed = t0.elapsed().as_secs_f64();
        let rate = tally.simulated_us.load(Ordering::Relaxed) as f64 * 1e-6 / elapsed.max(1e-9);
        let ran = done + failed;
        let left = total.saturating_sub(ran + skipped);
        let eta = if ran > 0 { format_secs(elapsed / ran as f64 * left as f64) } else { "-".to_string() };
        let skip = if skipped > 0 { format!(", {skipped} skipped") } else { String::new() };
        use std::io::Write as _;
        let _ = write!(
            err,
            "\r\x1b[K{}/{total} done, {running} running, {failed} failed{skip}; {rate:.1} simulated s per s; ETA {eta}",
            done + failed + skipped
        );
        let _ = err.flush();
    }
    use std::io::Write as _;
    let _ = write!(err, "\r\x1b[K");
}

fn format_secs(s: f64) -> String {
    if s < 60.0 {
        format!("{s:.0} s")
    } else if s < 3600.0 {
        format!("{:.0} min {:.0} s", (s / 60.0).floor(), s % 60.0)
    } else {
        format!("{:.0} h {:.0} min", (s / 3600.0).floor(), (s % 3600.0) / 60.0)
    }
}

/// Runs `indices` of the plan on `jobs` threads with a progress line;
/// prints each failure; returns the exit code the runs make.
fn execute(plan: &Plan, dir: &Path, indices: &[usize], jobs: usize, quiet: bool) -> u8 {
    let interrupt = Interrupt::install();
    let tally = Tally::default();
    let stop = AtomicBool::new(false);
    let live = !quiet && std::io::stderr().is_terminal();
    let t0 = Instant::now();
    let results = std::thread::scope(|s| {
        if live {
            s.spawn(|| show_progress(&tally, indices.len(), &stop, t0));
        }
        let r = study::run_plan(plan, dir, indices, jobs, &|| interrupt.received(), &tally);
        stop.store(true, Ordering::Relaxed);
        r
    });
    let mut exit = EXIT_OK;
    for (&k, r) in indices.iter().zip(&results) {
        let e = &plan.entries[k];
        let name = match e.seed {
            Some(s) => format!("{} (seed {s})", e.label),
            None => e.label.clone(),
        };
        match r {
            Some(Ran::Ran(result)) => match &**result {
                Ok(s) if s.error.is_some() => exit = exit.max(EXIT_RUNTIME),
                Ok(_) => {}
                Err(err) => {
                    eprintln!("run {k} `{name}`:");
                    exit = exit.max(exit_code(err));
                    fail(err, false);
                }
            },
            Some(Ran::Skipped) | None => {}
        }
    }
    let skipped = tally.skipped.load(Ordering::Relaxed);
    if skipped > 0 && !quiet {
        eprintln!("{skipped} run{} had finished earlier (same plan hash): not run again", plural(skipped));
    }
    if interrupt.received() {
        eprintln!("interrupted: runs that finished are kept; run the same command again to finish the others");
        exit = interrupt.exit_code();
    }
    exit
}

/// Collects the study in `dir`: files, plots, the table. Returns an exit
/// code for a failure to write.
fn finish(dir: &Path, plan: &Plan, quiet: bool) -> u8 {
    let rows = collect::read_rows(plan, dir);
    let analysis = collect::analyse(plan, &rows);
    if let Err(e) = collect::write(dir, plan, &rows, &analysis) {
        eprintln!("error: {e}");
        return EXIT_RUNTIME;
    }
    draw(&dir.join("plots"), plan, &rows, &analysis);
    out!("{}", collect::table(plan, &rows, &analysis).trim_end());
    let unfinished = rows.iter().filter(|r| r.status != "ok").count();
    if unfinished > 0 {
        eprintln!(
            "note: {unfinished} of {} runs did not finish (`not run`, `failed`, `aborted` or `interrupted`); the statistics use the others",
            rows.len()
        );
    }
    if !quiet {
        out!("wrote {}", dir.display());
    }
    EXIT_OK
}

/// A chart per metric: bars of the means with their CIs and each seed's
/// value, or for a sweep over one numeric param, the mean curve with a CI
/// band.
fn draw(plots: &Path, plan: &Plan, rows: &[Row], analysis: &Analysis) {
    if let Err(e) = std::fs::create_dir_all(plots) {
        eprintln!("warning: cannot create `{}`: {e}", plots.display());
        return;
    }
    let xs: Option<Vec<f64>> = plan.axis.as_ref().and_then(|_| {
        analysis
            .labels
            .iter()
            .map(|l| l.split_once('=').and_then(|(_, v)| hebb::lang::load::parse_quantity(v).ok()).map(|(x, _)| x))
            .collect()
    });
    for (c, unit) in &analysis.columns {
        let stats: Vec<crate::plot::Stat> = analysis
            .labels
            .iter()
            .map(|l| {
                let s = analysis.stats.iter().find(|s| &s.label == l && &s.column == c).and_then(|s| s.summary.clone());
                let values =
                    rows.iter().filter(|r| &r.label == l && r.usable()).map(|r| r.value(c)).filter(|v| v.is_finite());
                crate::plot::Stat {
                    mean: s.as_ref().map_or(f64::NAN, |s| s.mean),
                    ci: s.and_then(|s| s.ci),
                    values: values.collect(),
                }
            })
            .collect();
        let title = study::header(c, unit);
        let base = plots.join(c.replace(['/', ' '], "_"));
        let drawn = match (&xs, &plan.axis) {
            (Some(xs), Some(axis)) => crate::plot::sweep_line(&base, &title, axis, xs, &stats),
            _ => crate::plot::bars(&base, &title, &analysis.labels, &stats),
        };
        if let Err(e) = drawn {
            eprintln!("warning: could not draw {}: {e}", base.display());
        }
    }
}

/// `hebb compare` and `hebb sweep`: plan, run on a thread pool, collect.
fn study(file: &Path, variants: &[String], axes: &[String], args: &StudyArgs) -> u8 {
    let jobs = match args.jobs {
        Some(0) => {
            eprintln!("error: `--jobs` must be at least 1");
            return EXIT_USAGE;
        }
        Some(j) => j,
        None => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    };
    let duration = match duration_arg(args.duration.as_deref()) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let kind = if axes.is_empty() { "compare" } else { "sweep" };
    let dir = args.output.clone().unwrap_or_else(|| default_run_dir(&format!("{}-{kind}", model_name(file))));
    let ask = Ask {
        file,
        variants,
        axes,
        replicates: &args.replicates,
        duration,
        from: args.from.clone(),
        quiet: args.quiet,
    };
    let plan = match make_plan(&ask) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if let Err(e) = study::claim_dir(&dir, args.force) {
        return fail(&e, false);
    }
    if let Err(e) = plan.write(&dir) {
        eprintln!("error: {e}");
        return EXIT_RUNTIME;
    }
    if !args.quiet {
        eprintln!("running {} on {jobs} thread{}", describe(&plan), plural(jobs));
    }
    let t0 = Instant::now();
    let all: Vec<usize> = (0..plan.entries.len()).collect();
    let exit = execute(&plan, &dir, &all, jobs, args.quiet);
    let elapsed = t0.elapsed().as_secs_f64();
    let written = finish(&dir, &plan, true);
    if !args.quiet {
        out!("{} runs in {elapsed:.1} s; wrote {}", plan.entries.len(), dir.display());
    }
    exit.max(written)
}

pub fn compare(file: &Path, only: &[String], args: &StudyArgs) -> u8 {
    study(file, only, &[], args)
}

pub fn sweep(file: &Path, axes: &[String], args: &StudyArgs) -> u8 {
    study(file, &[], axes, args)
}

/// A path in single quotes for a shell script.
fn quoted(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

/// `submit.sbatch`: a Slurm job array over the plan.
fn slurm_script(plan: &Plan, dir: &Path, slurm: &Slurm) -> std::io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = std::fs::canonicalize(dir)?;
    let plan_file = dir.join(plan::PLAN_FILE);
    let n = plan.entries.len();
    let per = slurm.per_task.unwrap_or(1).max(1);
    let tasks = n.div_ceil(per);
    let throttle = slurm.throttle.map(|t| format!("%{}", t.max(1))).unwrap_or_default();
    let (array, command) = if per == 1 {
        (format!("0-{}", n.saturating_sub(1)), "--index \"$SLURM_ARRAY_TASK_ID\"".to_string())
    } else {
        (format!("1-{tasks}"), format!("--shard \"$SLURM_ARRAY_TASK_ID/{tasks}\" --jobs 1"))
    };
    let logs = dir.join("slurm");
    std::fs::create_dir_all(&logs)?;
    let name: String =
        model_name(&plan.model).chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
    let script = format!(
        "#!/bin/bash\n\
         # The study in {dir}, as a Slurm job array, written by `hebb plan --slurm`:\n\
         # {n} runs, {per} per task. Submit with `sbatch {script}`; when every task\n\
         # is done, `hebb collect {dir}` builds the table, statistics and plots.\n\
         # A task skips runs that finished earlier with the same plan hash, so\n\
         # submitting again after preemption runs only what is missing.\n\
         #SBATCH --job-name=hebb-{name}\n\
         #SBATCH --array={array}{throttle}\n\
         #SBATCH --ntasks=1\n\
         #SBATCH --cpus-per-task=1\n\
         #SBATCH --output={logs}/%A_%a.out\n\
         set -eu\n\
         exec {exe} run-plan {plan_file} {command} --quiet\n",
        dir = dir.display(),
        script = dir.join("submit.sbatch").display(),
        logs = logs.display(),
        exe = quoted(&exe),
        plan_file = quoted(&plan_file),
    );
    let path = dir.join("submit.sbatch");
    std::fs::write(&path, script)?;
    Ok(path)
}

/// `hebb plan`: writes the run list (and a Slurm script) without running.
pub fn plan(file: &Path, args: &PlanArgs) -> u8 {
    let duration = match duration_arg(args.duration.as_deref()) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let ask = Ask {
        file,
        variants: &args.variants,
        axes: &args.set,
        replicates: &args.replicates,
        duration,
        from: args.from.clone(),
        quiet: false,
    };
    let plan = match make_plan(&ask) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let kind = plan.kind.name();
    let dir = args.output.clone().unwrap_or_else(|| default_run_dir(&format!("{}-{kind}", model_name(file))));
    if let Err(e) = study::claim_dir(&dir, args.force) {
        return fail(&e, false);
    }
    if let Err(e) = plan.write(&dir) {
        eprintln!("error: {e}");
        return EXIT_RUNTIME;
    }
    let plan_file = dir.join(plan::PLAN_FILE);
    out!("{}: wrote {}", describe(&plan), plan_file.display());
    if let Some(slurm) = &args.slurm {
        match slurm_script(&plan, &dir, slurm) {
            Ok(path) => out!("submit with: sbatch {}", path.display()),
            Err(e) => {
                eprintln!("error: cannot write the Slurm script into `{}`: {e}", dir.display());
                return EXIT_RUNTIME;
            }
        }
    } else {
        out!(
            "run entry I (0 to {}) with: hebb run-plan {} --index I",
            plan.entries.len().saturating_sub(1),
            plan_file.display()
        );
    }
    out!("then: hebb collect {}", dir.display());
    EXIT_OK
}

/// The study directory of a plan path (the plan file's directory).
fn study_dir(plan_path: &Path) -> PathBuf {
    if plan_path.is_dir() {
        plan_path.to_path_buf()
    } else {
        plan_path.parent().map(Path::to_path_buf).filter(|p| !p.as_os_str().is_empty()).unwrap_or_else(|| ".".into())
    }
}

/// `hebb run-plan`: runs entries of a plan, skipping finished ones.
pub fn run_plan(plan_path: &Path, index: Option<usize>, shard: Option<&str>, jobs: Option<usize>, quiet: bool) -> u8 {
    let plan = match Plan::read(plan_path) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let indices = match plan.select(index, shard) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let jobs = match jobs {
        Some(0) => {
            eprintln!("error: `--jobs` must be at least 1");
            return EXIT_USAGE;
        }
        Some(j) => j,
        None if index.is_some() => 1,
        None => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    };
    let dir = study_dir(plan_path);
    if !quiet {
        eprintln!("running {} of the {} runs of {}", indices.len(), plan.entries.len(), plan_path.display());
    }
    execute(&plan, &dir, &indices, jobs, quiet)
}

/// `hebb collect`: the study's files, plots and table from its runs.
pub fn collect(dir: &Path, quiet: bool) -> u8 {
    let plan = match Plan::read(dir) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    finish(&study_dir(dir), &plan, quiet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_ranges_and_lists() {
        assert_eq!(parse_seeds("1..5"), Ok(vec![1, 2, 3, 4, 5]));
        assert_eq!(parse_seeds("1..3,7"), Ok(vec![1, 2, 3, 7]));
        assert_eq!(parse_seeds(" 4 , 2"), Ok(vec![4, 2]));
        assert!(parse_seeds("3..1").is_err());
        assert!(parse_seeds("1..3,2").unwrap_err().contains("twice"));
        assert!(parse_seeds("a").is_err());
        assert!(parse_seeds("0..1000000").unwrap_err().contains("more than"));
    }

    #[test]
    fn contrasts_name_two() {
        assert_eq!(parse_contrast("a,b"), Ok(("a".into(), "b".into())));
        assert_eq!(parse_contrast("A.x=1,B.y=2 vs A.x=2,B.y=2"), Ok(("A.x=1,B.y=2".into(), "A.x=2,B.y=2".into())));
        assert!(parse_contrast("a").is_err());
        assert!(parse_contrast("a,b,c").is_err());
    }
}
