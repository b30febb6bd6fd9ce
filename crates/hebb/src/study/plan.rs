//! A study's plan: its runs written down before any runs, so that they
//! can run anywhere — in one process (`hebb compare`/`sweep`), or as the
//! tasks of a cluster job array (`hebb run-plan PLAN --index I`) — and be
//! collected afterwards (`hebb collect`).
//!
//! `plan.jsonl` holds one JSON object per line: first the study (model,
//! kind, seeds, duration, contrasts), then one line per run (its label —
//! variant or sweep point —, overrides, seed, directory and hash). The
//! hash covers everything that decides the run's results (the model's
//! files, variant, overrides, seed, duration, starting checkpoint), so a
//! directory that already holds a finished run with the same hash is
//! skipped: a study resumes after preemption.

use crate::output::{WriteError, sha256_hex};
use crate::session::{self, Checked, Error, Observer, Request, RunSummary};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The plan's file name in the study directory.
pub const PLAN_FILE: &str = "plan.jsonl";
/// Written into a run's directory when it finished: its plan hash.
pub const DONE_FILE: &str = "plan-entry.json";

/// A comparison of variants, or a sweep over params.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Compare,
    Sweep,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Compare => "compare",
            Kind::Sweep => "sweep",
        }
    }
}

/// One run of a study.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The variant (`base` for none) or sweep point (`A.x=1,B.y=2`).
    pub label: String,
    pub variant: Option<String>,
    /// Param overrides (`Type.param=value`) of a sweep point.
    pub settings: Vec<String>,
    /// The seed; `None` runs the experiment's own.
    pub seed: Option<u64>,
    /// The run directory, relative to the study's.
    pub dir: String,
    pub hash: String,
}

/// A study: what runs, and how it is compared.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub kind: Kind,
    /// The model file, absolute, so a plan runs from any directory.
    pub model: PathBuf,
    pub duration: Option<f64>,
    pub from: Option<PathBuf>,
    /// The replicate seeds (`--seeds`, or the experiment's `seeds`); `None`
    /// runs each variant or point once, with the experiment's seed.
    pub seeds: Option<Vec<u64>>,
    /// Pairs compared besides each variant against the base: (a, b) is
    /// a − b.
    pub contrasts: Vec<(String, String)>,
    /// A sweep over one numeric param: its name (the plots' x axis).
    pub axis: Option<String>,
    pub entries: Vec<Entry>,
}

/// Why a plan cannot be read or used.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("cannot read `{path}`: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("`{path}` line {line} is not a hebb plan line: {why}")]
    Syntax { path: PathBuf, line: usize, why: String },
    #[error("the plan has {n} runs: index {index} is out of range (0 to {last})", last = n.saturating_sub(1))]
    Index { index: usize, n: usize },
    #[error("`--shard {0}` must be `k/N` with 1 <= k <= N")]
    Shard(String),
}

/// What a study is asked to run, before its entries exist.
pub struct Spec {
    pub kind: Kind,
    pub model: PathBuf,
    pub duration: Option<f64>,
    pub from: Option<PathBuf>,
    pub seeds: Option<Vec<u64>>,
    /// One seed for every run (`--seed`) when there are no replicates.
    pub seed: Option<u64>,
    pub contrasts: Vec<(String, String)>,
    pub axis: Option<String>,
}

impl Plan {
    /// The plan of `spec` over `points` — (label, variant, overrides) —
    /// each run once per seed. `checked` is the checked model: its files
    /// enter every run's hash.
    pub fn new(spec: Spec, checked: &Checked, points: Vec<(String, Option<String>, Vec<String>)>) -> Plan {
        let mut sources = String::new();
        for (_, f) in checked.loaded.sources.files() {
            sources.push_str(&sha256_hex(f.text.as_bytes()));
        }
        let model = std::fs::canonicalize(&spec.model).unwrap_or(spec.model);
        let seeds: Vec<Option<u64>> = match &spec.seeds {
            Some(s) => s.iter().map(|x| Some(*x)).collect(),
            None => vec![spec.seed],
        };
        let mut entries = Vec::new();
        for (label, variant, settings) in points {
            let safe = label.replace([' ', '/'], "");
            for &seed in &seeds {
                let dir = match seed {
                    Some(s) if spec.seeds.is_some() => format!("{safe}/seed-{s}"),
                    _ => safe.clone(),
                };
                let identity = json!({
                    "sources": sources,
                    "variant": variant,
                    "settings": settings,
                    "seed": seed,
                    "duration": spec.duration,
                    "from": spec.from.as_ref().map(|p| p.display().to_string()),
                });
                let hash = sha256_hex(identity.to_string().as_bytes())[..16].to_string();
                entries.push(Entry {
                    label: label.clone(),
                    variant: variant.clone(),
                    settings: settings.clone(),
                    seed,
                    dir,
                    hash,
                });
            }
        }
        Plan {
            kind: spec.kind,
            model,
            duration: spec.duration,
            from: spec.from,
            seeds: spec.seeds,
            contrasts: spec.contrasts,
            axis: spec.axis,
            entries,
        }
    }

    /// The labels in plan order, each once.
    pub fn labels(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for e in &self.entries {
            if !out.contains(&e.label) {
                out.push(e.label.clone());
            }
        }
        out
    }

    /// The request that runs `entry`.
    pub fn request(&self, entry: &Entry) -> Request {
        Request {
            variant: entry.variant.clone(),
            settings: entry.settings.clone(),
            duration: self.duration,
            seed: entry.seed,
            // A rerun replaces an unfinished run in the same directory.
            force: true,
            from: self.from.clone(),
            threads: 1,
            ..Request::file(&self.model)
        }
    }

    /// Writes `plan.jsonl` into `dir` (which must exist).
    pub fn write(&self, dir: &Path) -> Result<(), WriteError> {
        let head = json!({
            "hebb_plan": 1,
            "kind": self.kind.name(),
            "model": self.model.display().to_string(),
            "duration": self.duration,
            "from": self.from.as_ref().map(|p| p.display().to_string()),
            "seeds": self.seeds,
            "contrasts": self.contrasts.iter().map(|(a, b)| json!([a, b])).collect::<Vec<_>>(),
            "axis": self.axis,
            "runs": self.entries.len(),
        });
        let mut text = head.to_string() + "\n";
        for (k, e) in self.entries.iter().enumerate() {
            let line = json!({
                "index": k,
                "label": e.label,
                "variant": e.variant,
                "settings": e.settings,
                "seed": e.seed,
                "dir": e.dir,
                "hash": e.hash,
            });
            text.push_str(&line.to_string());
            text.push('\n');
        }
        crate::output::write_atomic(&dir.join(PLAN_FILE), &text)
    }

    /// Reads a plan file (or the plan of a study directory).
    pub fn read(path: &Path) -> Result<Plan, PlanError> {
        let path = if path.is_dir() { path.join(PLAN_FILE) } else { path.to_path_buf() };
        let text = std::fs::read_to_string(&path).map_err(|source| PlanError::Read { path: path.clone(), source })?;
        let syntax = |line: usize, why: &str| PlanError::Syntax { path: path.clone(), line, why: why.to_string() };
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
        let (_, head) = lines.next().ok_or_else(|| syntax(1, "the file is empty"))?;
        let head: Value = serde_json::from_str(head).map_err(|e| syntax(1, &e.to_string()))?;
        if head["hebb_plan"] != 1 {
            return Err(syntax(1, "no `hebb_plan` header (version 1)"));
        }
        let kind = match head["kind"].as_str() {
            Some("compare") => Kind::Compare,
            Some("sweep") => Kind::Sweep,
            _ => return Err(syntax(1, "`kind` is `compare` or `sweep`")),
        };
        let strings = |v: &Value| -> Option<Vec<String>> {
            v.as_array()?.iter().map(|x| x.as_str().map(str::to_string)).collect()
        };
        let contrasts = head["contrasts"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| strings(p).filter(|v| v.len() == 2).map(|v| (v[0].clone(), v[1].clone())))
                    .collect()
            })
            .unwrap_or_default();
        let seeds = head["seeds"].as_array().map(|a| a.iter().filter_map(Value::as_u64).collect());
        let mut entries = Vec::new();
        for (n, line) in lines {
            let v: Value = serde_json::from_str(line).map_err(|e| syntax(n + 1, &e.to_string()))?;
            let (Some(label), Some(dir), Some(hash)) = (v["label"].as_str(), v["dir"].as_str(), v["hash"].as_str())
            else {
                return Err(syntax(n + 1, "a run needs `label`, `dir` and `hash`"));
            };
            if Path::new(dir).is_absolute() || dir.split('/').any(|c| c == "..") {
                return Err(syntax(n + 1, "a run's `dir` must lie inside the study directory"));
            }
            entries.push(Entry {
                label: label.to_string(),
                variant: v["variant"].as_str().map(str::to_string),
                settings: strings(&v["settings"]).unwrap_or_default(),
                seed: v["seed"].as_u64(),
                dir: dir.to_string(),
                hash: hash.to_string(),
            });
        }
        Ok(Plan {
            kind,
            model: PathBuf::from(head["model"].as_str().ok_or_else(|| syntax(1, "no `model`"))?),
            duration: head["duration"].as_f64(),
            from: head["from"].as_str().map(PathBuf::from),
            seeds,
            contrasts,
            axis: head["axis"].as_str().map(str::to_string),
            entries,
        })
    }

    /// The entries of `--index I` or `--shard k/N` (every N-th entry from
    /// the k-th, 1-based).
    pub fn select(&self, index: Option<usize>, shard: Option<&str>) -> Result<Vec<usize>, PlanError> {
        let n = self.entries.len();
        if let Some(i) = index {
            return if i < n { Ok(vec![i]) } else { Err(PlanError::Index { index: i, n }) };
        }
        let Some(text) = shard else { return Ok((0..n).collect()) };
        let bad = || PlanError::Shard(text.to_string());
        let (k, of) = text.split_once('/').ok_or_else(bad)?;
        let (k, of): (usize, usize) = (k.trim().parse().map_err(|_| bad())?, of.trim().parse().map_err(|_| bad())?);
        if k == 0 || k > of {
            return Err(bad());
        }
        Ok((k - 1..n).step_by(of).collect())
    }
}

/// Whether `entry`'s directory holds a finished run of the same hash.
pub fn is_done(study: &Path, entry: &Entry) -> bool {
    let path = study.join(&entry.dir).join(DONE_FILE);
    let Ok(text) = std::fs::read_to_string(path) else { return false };
    serde_json::from_str::<Value>(&text).is_ok_and(|v| v["hash"] == entry.hash.as_str())
}

/// How `run_entry` went.
pub enum Ran {
    /// Already finished with the same hash: not run again.
    Skipped,
    /// Ran (to the end, or stopped early).
    Ran(Box<Result<RunSummary, Error>>),
}

/// Runs one entry of `plan` into its directory under `study`, unless it
/// already finished; marks it finished (`DONE_FILE`) when it ran to an
/// end — `ok`, `aborted` by the experiment, or `failed` at run time, all
/// of which a rerun would repeat — but not when it was interrupted.
pub fn run_entry(plan: &Plan, study: &Path, entry: &Entry, observer: &mut dyn Observer) -> Ran {
    if is_done(study, entry) {
        return Ran::Skipped;
    }
    let dir = study.join(&entry.dir);
    let _ = std::fs::remove_file(dir.join(DONE_FILE));
    let result = session::run(&plan.request(entry), &dir, observer);
    if let Ok(summary) = &result
        && !summary.interrupted()
    {
        let mark = json!({ "hash": entry.hash, "label": entry.label, "seed": entry.seed, "status": summary.status });
        if let Err(e) = crate::output::write_json_atomic(&dir.join(DONE_FILE), &mark) {
            return Ran::Ran(Box::new(Err(Error::Write(e))));
        }
    }
    Ran::Ran(Box::new(result))
}
