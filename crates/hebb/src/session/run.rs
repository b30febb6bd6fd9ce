//! One run into a run directory: records stream to disk as the run goes,
//! `run.json` says `running` from the first step and is replaced
//! atomically at the end, and a run that stops early — a run error, an
//! interruption, a failed write — keeps everything it recorded, readable.
//! Checkpoints (periodic, and always where an interrupted run stopped) let
//! `resume` continue a run to outputs byte-identical to an uninterrupted
//! one, and let a new run start from a learned state (`Request::from`).

use super::{Error, Observer, Progress, Request, build, check, compile, describe};
use crate::metrics::{self, MetricValue};
use crate::output::{self, CHECKPOINT, RunRecord, RunWriter, Timings, WriteError};
use hebb_lang::units::{Dim, format_quantity};
use hebb_runtime::{ProfileEntry, RunError, Simulation};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A population's spikes in a run.
#[derive(Clone, Debug)]
pub struct PopulationSummary {
    pub name: String,
    pub size: usize,
    pub spikes: u64,
}

/// What a finished run reports: how it ended, its metrics, and figures for
/// a summary. Its recordings are in its run directory.
#[derive(Clone, Debug)]
pub struct RunSummary {
    /// `ok`, `failed`, `aborted` or `interrupted` (as in `run.json`).
    pub status: &'static str,
    /// Why it stopped early (empty when it did not).
    pub message: String,
    pub error: Option<RunError>,
    pub metrics: Vec<MetricValue>,
    pub timings: Timings,
    /// Simulated time (seconds).
    pub simulated: f64,
    /// What ran the kernels.
    pub backend: &'static str,
    /// Spiking groups (not signals).
    pub populations: Vec<PopulationSummary>,
    pub synapses: usize,
    pub dir: PathBuf,
    /// Where the time went, longest first (with `Request::profile`).
    pub profile: Vec<ProfileEntry>,
}

impl RunSummary {
    pub fn interrupted(&self) -> bool {
        self.status == "interrupted"
    }
}

/// Why the step loop stopped.
pub(super) enum Stop {
    /// The program's last step ran.
    End,
    Failed(RunError),
    Interrupted,
    WriteFailed(WriteError),
}

/// What `run.json` and checkpoints say about the request, whatever the
/// status.
pub(super) struct About<'a> {
    request: &'a Request,
    request_json: Value,
    model_text: String,
    provenance: Value,
}

impl<'a> About<'a> {
    fn new(request: &'a Request, checked: &super::Checked) -> About<'a> {
        let mut request_json = request.to_json();
        if let Ok(absolute) = request.source.path().canonicalize() {
            request_json["model_absolute"] = json!(absolute.display().to_string());
        }
        let provenance = super::provenance::provenance(checked, request.threads);
        About { request, request_json, model_text: checked.text().to_string(), provenance }
    }

    fn record<'b>(
        &'b self,
        status: &'b str,
        message: &'b str,
        timings: &'b Timings,
        metrics: &'b [MetricValue],
    ) -> RunRecord<'b> {
        RunRecord {
            status,
            message,
            model: self.request.source.path(),
            model_text: &self.model_text,
            request: &self.request_json,
            provenance: &self.provenance,
            timings,
            metrics,
            profile: &[],
        }
    }
}

/// A run directory being written.
pub(super) struct Disk<'a> {
    dir: &'a Path,
    writer: RunWriter,
    /// A checkpoint every this many steps (besides one where an
    /// interrupted run stops).
    every: Option<u64>,
    about: About<'a>,
    /// Time spent writing records and checkpoints (for `--profile`).
    writing: Duration,
    checkpointing: Duration,
}

impl<'a> Disk<'a> {
    fn new(dir: &'a Path, writer: RunWriter, every: Option<u64>, about: About<'a>) -> Disk<'a> {
        Disk { dir, writer, every, about, writing: Duration::ZERO, checkpointing: Duration::ZERO }
    }

    /// Writes what was recorded since the last time.
    fn flush(&mut self, sim: &mut Simulation) -> Result<(), WriteError> {
        let t = Instant::now();
        let data = sim.drain_recordings(false);
        let result = self.writer.append(sim.program(), &data);
        self.writing += t.elapsed();
        result
    }

    /// Flushes, then writes a checkpoint of the simulation as it stands.
    fn checkpoint(&mut self, sim: &mut Simulation) -> Result<(), WriteError> {
        self.flush(sim)?;
        let t = Instant::now();
        let result = self.write_checkpoint(sim);
        self.checkpointing += t.elapsed();
        result
    }

    fn write_checkpoint(&mut self, sim: &Simulation) -> Result<(), WriteError> {
        let header = json!({
            "step": sim.step(),
            "time": sim.time(),
            "positions": self.writer.positions(),
            "request": self.about.request_json,
            "model_sha256": output::sha256_hex(self.about.model_text.as_bytes()),
            "hebb_version": env!("CARGO_PKG_VERSION"),
        });
        output::write_checkpoint(self.dir, &header, &sim.checkpoint())
    }
}

/// Runs a simulation until its end, an error, an interruption or a failed
/// write, in chunks of a few tens of milliseconds: after each, what was
/// recorded goes to disk (when there is one), progress is reported and the
/// observer may interrupt. Chunking does not change results.
pub(super) fn run_chunks(sim: &mut Simulation, mut disk: Option<&mut Disk<'_>>, observer: &mut dyn Observer) -> Stop {
    let (n_steps, dt) = (sim.program().n_steps, sim.program().dt);
    let every = disk.as_ref().and_then(|d| d.every);
    let t0 = Instant::now();
    let mut chunk = 1u64;
    while !sim.finished() {
        if observer.interrupted() {
            if let Some(d) = disk.as_deref_mut()
                && let Err(e) = d.checkpoint(sim)
            {
                return Stop::WriteFailed(e);
            }
            return Stop::Interrupted;
        }
        let t = Instant::now();
        let steps = every.map_or(chunk, |e| chunk.min(e - sim.step() % e));
        let result = sim.run_steps(steps);
        if let Some(d) = disk.as_deref_mut()
            && let Err(e) = d.flush(sim)
        {
            return Stop::WriteFailed(e);
        }
        observer.progress(&Progress { step: sim.step(), n_steps, dt, elapsed: t0.elapsed() });
        if let Err(e) = result {
            return Stop::Failed(e);
        }
        if let (Some(d), Some(e)) = (disk.as_deref_mut(), every)
            && sim.step().is_multiple_of(e)
            && !sim.finished()
            && let Err(err) = d.checkpoint(sim)
        {
            return Stop::WriteFailed(err);
        }
        // Aim at 10-40 ms per chunk: fast reactions, little overhead.
        let took = t.elapsed();
        if took < Duration::from_millis(10) {
            chunk = chunk.saturating_mul(2);
        } else if took > Duration::from_millis(40) && chunk > 1 {
            chunk /= 2;
        }
    }
    Stop::End
}

/// Spare bytes kept on the run's disk: when a write fails because the disk
/// is full, freeing them leaves room for the final `run.json`.
struct Reserve(PathBuf);

impl Reserve {
    const BYTES: usize = 256 * 1024;

    fn create(dir: &Path) -> Reserve {
        let path = dir.join(".hebb-reserve");
        // Best effort: without it, a full disk may keep the final run.json
        // from being written (the one written at the start stays).
        let _ = std::fs::write(&path, vec![0u8; Reserve::BYTES]);
        Reserve(path)
    }

    fn release(&self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl Drop for Reserve {
    fn drop(&mut self) {
        self.release();
    }
}

/// Everything for one run: checks, compiles, builds (and restores the
/// state of `request.from`), runs while writing the run directory `dir`
/// (records as they come, `run.json` at the start and the end), measures.
/// Diagnostics of a model that checks (warnings) go to the observer
/// before the run starts. A run that stops early is not an `Err`: its
/// summary says how it ended; `Err` means it could not start, or its
/// directory could not be written.
pub fn run(request: &Request, dir: &Path, observer: &mut dyn Observer) -> Result<RunSummary, Error> {
    let (mut sim, about, timings) = start(request, observer)?;
    if let Some(from) = &request.from {
        let (_, state) = read_checkpoint_at(from)?;
        sim.restore(&state).map_err(|e| Error::Mismatch(format!("cannot start from `{}`: {e}", from.display())))?;
    }
    let _lock = super::rundir::claim(dir, &output::sha256_hex(about.model_text.as_bytes()), request.force)?;
    let writer = RunWriter::create(dir, sim.program(), sim.recordings())?;
    let every = checkpoint_steps(request, &sim);
    go(sim, Disk::new(dir, writer, every, about), timings, observer)
}

/// The request a run directory records, to run it again: the model where
/// it was (checked against the SHA-256 the run recorded), with its variant,
/// settings, seed, duration and backend.
pub fn recorded_request(dir: &Path) -> Result<Request, Error> {
    let not_a_run = |why: String| Error::Checkpoint { path: dir.to_path_buf(), why };
    let text = std::fs::read_to_string(dir.join("run.json"))
        .map_err(|e| not_a_run(format!("it has no readable run.json ({e})")))?;
    let run: Value = serde_json::from_str(&text).map_err(|e| not_a_run(format!("its run.json is not JSON ({e})")))?;
    let mut request = Request::from_json(&run["request"]).map_err(|e| not_a_run(format!("its run.json: {e}")))?;
    if let Some(absolute) = run["request"]["model_absolute"].as_str()
        && !request.source.path().exists()
    {
        request.source = super::ModelSource::File(absolute.into());
    }
    let model = super::read_limited(request.source.path(), super::MAX_MODEL_BYTES)
        .map_err(|source| Error::Read { path: request.source.path().to_path_buf(), source })?;
    if run["model_sha256"].as_str() != Some(output::sha256_hex(model.as_bytes()).as_str()) {
        return Err(Error::Mismatch(format!(
            "`{}` changed since the run started (in `{}`): it would not be the same run",
            request.source.path().display(),
            dir.display()
        )));
    }
    Ok(request)
}

/// Continues the interrupted or failed run in `dir` from its checkpoint:
/// the same request (from its `run.json`), the same model (checked by its
/// SHA-256), the record files cut back to where the checkpoint was taken.
pub fn resume(dir: &Path, observer: &mut dyn Observer) -> Result<RunSummary, Error> {
    let not_resumable = |why: String| Error::Checkpoint { path: dir.to_path_buf(), why };
    let request = recorded_request(dir)?;
    let status = std::fs::read_to_string(dir.join("run.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|run| run["status"].as_str().map(String::from));
    if status.as_deref() == Some("ok") {
        return Err(not_resumable("the run finished".into()));
    }
    let (header, state) = read_checkpoint_at(dir)?;
    let (mut sim, about, timings) = start(&request, observer)?;
    let sha = output::sha256_hex(about.model_text.as_bytes());
    if header["model_sha256"].as_str() != Some(sha.as_str()) {
        return Err(Error::Mismatch(format!(
            "`{}` changed since the run started: it cannot be resumed with another model",
            request.source.path().display()
        )));
    }
    sim.restore(&state).map_err(|e| Error::Mismatch(format!("cannot resume `{}`: {e}", dir.display())))?;
    let positions: Vec<u64> = header["positions"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .ok_or_else(|| not_resumable("its checkpoint has no record positions".into()))?;
    let _lock = super::rundir::lock(dir)?;
    let writer = RunWriter::reopen(dir, sim.program(), sim.recordings(), &positions)?;
    let every = checkpoint_steps(&request, &sim);
    go(sim, Disk::new(dir, writer, every, about), timings, observer)
}

/// Checks, compiles and builds a request, reporting its diagnostics.
fn start<'a>(request: &'a Request, observer: &mut dyn Observer) -> Result<(Simulation, About<'a>, Timings), Error> {
    let checked = check(request)?;
    let diagnostics = checked.diagnostics();
    if !diagnostics.diagnostics.is_empty() {
        observer.diagnostics(&diagnostics);
    }
    let (parse_s, check_s) = (checked.loaded.parse_time.as_secs_f64(), checked.loaded.check_time.as_secs_f64());
    let about = About::new(request, &checked);
    let compiled = compile(checked)?;
    let compile_s = compiled.compile_time.as_secs_f64();
    let (mut sim, build_time) = build(compiled)?;
    sim.set_profiling(request.profile);
    Ok((sim, about, Timings { parse_s, check_s, compile_s, build_s: build_time.as_secs_f64(), run_s: 0.0 }))
}

/// The checkpoint period in steps (at least one).
fn checkpoint_steps(request: &Request, sim: &Simulation) -> Option<u64> {
    request.checkpoint_every.map(|s| ((s / sim.program().dt).round() as u64).max(1))
}

/// A checkpoint file, or the one in a run directory.
fn read_checkpoint_at(path: &Path) -> Result<(Value, Vec<u8>), Error> {
    let file = if path.is_dir() { path.join(CHECKPOINT) } else { path.to_path_buf() };
    output::read_checkpoint(&file).map_err(|e| Error::Checkpoint { path: file, why: e.to_string() })
}

/// Runs to the end (or an early stop) while writing the run directory,
/// then writes the end: the last records, metrics, the final `run.json`.
fn go(
    mut sim: Simulation,
    mut disk: Disk<'_>,
    mut timings: Timings,
    observer: &mut dyn Observer,
) -> Result<RunSummary, Error> {
    let dir = disk.dir;
    output::write_run_json(dir, &sim, &disk.about.record("running", "", &timings, &[]), &disk.writer.manifest())?;
    let reserve = Reserve::create(dir);
    let t0 = Instant::now();
    let mut stop = run_chunks(&mut sim, Some(&mut disk), observer);
    // A run that checkpoints leaves its final state too, for `--from`.
    if matches!(stop, Stop::End)
        && disk.every.is_some()
        && let Err(e) = disk.checkpoint(&mut sim)
    {
        stop = Stop::WriteFailed(e);
    }
    sim.finish();
    if !matches!(stop, Stop::WriteFailed(_)) {
        let rest = sim.drain_recordings(true);
        if let Err(e) = disk.writer.append(sim.program(), &rest).and_then(|_| disk.writer.sync()) {
            stop = Stop::WriteFailed(e);
        }
    }
    timings.run_s = t0.elapsed().as_secs_f64();
    let t_metrics = Instant::now();
    let (status, message, error) = match &stop {
        Stop::End => ("ok", String::new(), None),
        Stop::Failed(e) => (e.status(), describe(e), Some(e.clone())),
        Stop::Interrupted => {
            ("interrupted", format!("interrupted at t = {}", format_quantity(sim.time(), Dim::TIME)), None)
        }
        Stop::WriteFailed(e) => ("failed", e.to_string(), None),
    };
    let metrics = match &stop {
        Stop::WriteFailed(_) => Vec::new(),
        _ => match output::read_back(dir, sim.program(), sim.recordings()) {
            Ok(rec) => metrics::compute(sim.program(), &rec, sim.time()),
            Err(e) => {
                stop = Stop::WriteFailed(WriteError { path: dir.to_path_buf(), source: e });
                Vec::new()
            }
        },
    };
    if let Stop::WriteFailed(e) = stop {
        // Make room, then say why in run.json (best effort: the disk may
        // still refuse).
        reserve.release();
        let why = e.to_string();
        let _ = output::write_run_json(
            dir,
            &sim,
            &disk.about.record("failed", &why, &timings, &[]),
            &disk.writer.manifest(),
        );
        return Err(Error::Write(e));
    }
    reserve.release();
    output::write_metrics(dir, &metrics)?;
    let profile = if disk.about.request.profile { profile(&sim, &disk, t_metrics.elapsed()) } else { Vec::new() };
    let record = RunRecord { profile: &profile, ..disk.about.record(status, &message, &timings, &metrics) };
    output::write_run_json(dir, &sim, &record, &disk.writer.manifest())?;
    Ok(RunSummary { profile, ..summarize(&sim, status, message, error, metrics, timings, dir) })
}

/// Where the run's time went: the simulation's parts, writing records and
/// checkpoints, and computing metrics; longest first.
fn profile(sim: &Simulation, disk: &Disk<'_>, metrics: Duration) -> Vec<ProfileEntry> {
    let mut out = sim.profile();
    for (name, took) in [("write records", disk.writing), ("checkpoints", disk.checkpointing), ("metrics", metrics)] {
        if !took.is_zero() {
            out.push(ProfileEntry { name: name.into(), seconds: took.as_secs_f64(), calls: 1 });
        }
    }
    out.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
    out
}

fn summarize(
    sim: &Simulation,
    status: &'static str,
    message: String,
    error: Option<RunError>,
    metrics: Vec<MetricValue>,
    timings: Timings,
    dir: &Path,
) -> RunSummary {
    let program = sim.program();
    let populations = program
        .groups
        .iter()
        .enumerate()
        .filter(|(_, g)| !matches!(g.kind, hebb_ir::GroupKind::Signal))
        .map(|(g, group)| PopulationSummary {
            name: group.name.clone(),
            size: group.size,
            spikes: sim.recordings().spike_counts[g],
        })
        .collect();
    RunSummary {
        status,
        message,
        error,
        metrics,
        timings,
        simulated: sim.time(),
        backend: sim.kernels_name(),
        populations,
        synapses: (0..program.projections.len()).map(|p| sim.projection(p).n_synapses()).sum(),
        dir: dir.to_path_buf(),
        profile: Vec::new(),
    }
}
