//! `hebb compare` (the base model and its variants) and `hebb sweep` (a
//! grid over params): many runs in parallel, one table, `compare.json`,
//! `compare.csv` and a plot per metric.

use super::signals::Interrupt;
use super::{
    EXIT_MODEL, EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, StudyArgs, default_run_dir, duration_arg, exit_code, fail,
    model_name, out, plural,
};
use hebb::session::{self, Error, Request};
use hebb::study::{self, Row, StudyRun};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The parsed options of a study and where it writes.
struct Study {
    file: PathBuf,
    jobs: usize,
    duration: Option<f64>,
    seed: Option<u64>,
    quiet: bool,
    force: bool,
    from: Option<PathBuf>,
    dir: PathBuf,
}

impl Study {
    /// Checks the shared options; `kind` names the default directory.
    fn new(file: &Path, args: &StudyArgs, kind: &str) -> Result<Study, u8> {
        let jobs = match args.jobs {
            Some(0) => {
                eprintln!("error: `--jobs` must be at least 1");
                return Err(EXIT_USAGE);
            }
            Some(j) => j,
            None => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        };
        let duration = duration_arg(args.duration.as_deref())?;
        let dir = args.output.clone().unwrap_or_else(|| default_run_dir(&format!("{}-{kind}", model_name(file))));
        Ok(Study {
            file: file.to_path_buf(),
            jobs,
            duration,
            seed: args.seed,
            quiet: args.quiet,
            force: args.force,
            from: args.from.clone(),
            dir,
        })
    }

    /// A request for the study's model with the shared options.
    fn request(&self, variant: Option<String>, settings: Vec<String>) -> Request {
        // Each run writes its own fresh subdirectory of the study's.
        Request {
            variant,
            settings,
            duration: self.duration,
            seed: self.seed,
            force: true,
            from: self.from.clone(),
            ..Request::file(&self.file)
        }
    }

    /// One run of the study, in its own subdirectory.
    fn run_in(&self, subdir: &str, request: Request) -> StudyRun {
        StudyRun { request, dir: self.dir.join(subdir) }
    }

    /// Runs in parallel, writes the study's files and plots, prints its
    /// table; a sweep over one numeric axis is drawn as lines.
    fn run(&self, names: &[String], runs: &[StudyRun], sweep_x: Option<(&str, &[f64])>) -> u8 {
        if let Err(e) = study::claim_dir(&self.dir, self.force) {
            return fail(&e, false);
        }
        let interrupt = Interrupt::install();
        let t0 = Instant::now();
        let results = study::run_all(runs, self.jobs, &|| interrupt.received());
        let elapsed = t0.elapsed().as_secs_f64();
        let mut exit = results.iter().map(run_exit).max().unwrap_or(EXIT_OK);
        for (name, r) in names.iter().zip(&results) {
            if let Some(Err(e)) = r {
                eprintln!("run `{name}`:");
                fail(e, false);
            }
        }
        if interrupt.received() {
            eprintln!(
                "interrupted: the table holds the runs that finished; `hebb resume` continues an interrupted one"
            );
            exit = interrupt.exit_code();
        }
        let rows: Vec<Row> = names.iter().zip(&results).map(|(n, r)| Row::new(n.clone(), r)).collect();
        if let Err(e) = std::fs::create_dir_all(&self.dir).and_then(|_| study::write_study(&self.dir, &rows)) {
            eprintln!("error: cannot write `{}`: {e}", self.dir.display());
            return EXIT_RUNTIME;
        }
        draw(&self.dir.join("plots"), &rows, sweep_x);
        out!("{}", study::table(&rows));
        if !self.quiet {
            out!("{} runs in {elapsed:.1} s; wrote {}", rows.len(), self.dir.display());
        }
        exit
    }
}

/// The exit code a run contributes to its study's.
fn run_exit(r: &study::StudyResult) -> u8 {
    match r {
        Some(Ok(s)) if s.error.is_some() => EXIT_RUNTIME,
        Some(Ok(_)) | None => EXIT_OK,
        Some(Err(e)) => exit_code(e),
    }
}

/// A bar chart (or, for a sweep, a line) per metric, in SVG and PNG.
fn draw(plots: &Path, rows: &[Row], sweep_x: Option<(&str, &[f64])>) {
    if let Err(e) = std::fs::create_dir_all(plots) {
        eprintln!("warning: cannot create `{}`: {e}", plots.display());
        return;
    }
    let labels: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
    for (c, unit) in study::columns(rows) {
        let values: Vec<f64> = rows.iter().map(|r| r.value(&c)).collect();
        let title = study::header(&c, unit);
        let base = plots.join(c.replace(['/', ' '], "_"));
        let drawn = match sweep_x {
            Some((x_label, xs)) => crate::plot::sweep_line(&base, &title, x_label, xs, &values),
            None => crate::plot::bars(&base, &title, &labels, &values),
        };
        if let Err(e) = drawn {
            eprintln!("warning: could not draw {}: {e}", base.display());
        }
    }
}

pub fn compare(file: &Path, only: &[String], args: &StudyArgs) -> u8 {
    let study = match Study::new(file, args, "compare") {
        Ok(s) => s,
        Err(code) => return code,
    };
    let checked = match session::check(&study.request(None, Vec::new())) {
        Ok(c) => c,
        Err(e) => return fail(&e, false),
    };
    let diagnostics = checked.diagnostics();
    super::print_diagnostics(&diagnostics, study.quiet);
    if checked.has_errors() {
        let n = diagnostics.error_count();
        eprintln!("error: `{}` has {n} error{}", file.display(), plural(n));
        return EXIT_MODEL;
    }
    let Some(exp) = &checked.loaded.model.experiment else { return EXIT_MODEL };
    let declared: Vec<String> = exp.variants.iter().map(|(n, _)| n.clone()).collect();
    for v in only {
        if !declared.contains(v) {
            let help = hebb::lang::suggest::suggest(v, declared.iter().map(|s| s.as_str()))
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            eprintln!("error: the experiment has no variant `{v}`{help}; its variants are: {}", declared.join(", "));
            return EXIT_USAGE;
        }
    }
    let mut names = vec!["base".to_string()];
    names.extend(declared.into_iter().filter(|v| only.is_empty() || only.contains(v)));
    let runs: Vec<StudyRun> =
        names.iter().map(|n| study.run_in(n, study.request((n != "base").then(|| n.clone()), Vec::new()))).collect();
    if !study.quiet {
        eprintln!("running {} on {} thread{}: {}", names.len(), study.jobs, plural(study.jobs), names.join(", "));
    }
    study.run(&names, &runs, None)
}

pub fn sweep(file: &Path, axes: &[String], args: &StudyArgs) -> u8 {
    let study = match Study::new(file, args, "sweep") {
        Ok(s) => s,
        Err(code) => return code,
    };
    let grid = match study::grid(axes) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let settings: Vec<Vec<String>> =
        grid.iter().map(|point| point.iter().map(|(p, v)| format!("{p}={v}")).collect()).collect();
    // Check every point first: a bad value is a model error, reported once.
    for s in &settings {
        match session::check(&study.request(None, s.clone())) {
            Ok(c) if c.has_errors() => return fail(&Error::Model(Box::new(c.diagnostics())), false),
            Ok(_) => {}
            Err(e) => return fail(&e, false),
        }
    }
    let names: Vec<String> = settings.iter().map(|s| s.join(",")).collect();
    let runs: Vec<StudyRun> = names
        .iter()
        .zip(settings)
        .map(|(name, s)| study.run_in(&name.replace([' ', '/'], ""), study.request(None, s)))
        .collect();
    if !study.quiet {
        eprintln!("running {} grid points on {} thread{}", runs.len(), study.jobs, plural(study.jobs));
    }
    // A single axis with numeric values is drawn as a line.
    let xs: Option<Vec<f64>> = (axes.len() == 1)
        .then(|| grid.iter().map(|p| hebb::lang::load::parse_quantity(&p[0].1).map(|(v, _)| v).ok()).collect())
        .flatten();
    let x_label = grid.first().and_then(|p| p.first()).map(|(k, _)| k.clone()).unwrap_or_default();
    study.run(&names, &runs, xs.as_deref().map(|x| (x_label.as_str(), x)))
}
