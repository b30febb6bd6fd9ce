//! A run directory (LANGUAGE.md section 8): NumPy `.npy` arrays in SI
//! units written as the run goes (`writer`, on `npy`), `metrics.json`, and
//! `run.json`, written when the run starts and replaced atomically when it
//! ends; and reading a run directory back.

mod checkpoint;
mod npy;
mod writer;

pub use checkpoint::{CHECKPOINT, read_checkpoint, write_checkpoint};
pub use npy::{Dtype, NpyStream, read_f64, read_u32, write_f64, write_u32};
pub use writer::{FileEntry, RunWriter, WriteError};

use crate::metrics::MetricValue;
use hebb_ir::{GroupKind, Program};
use hebb_runtime::record::{PresentationRecord, Recordings};
use hebb_runtime::{ProfileEntry, Simulation};
use serde_json::{Value, json};
use std::path::Path;
use writer::At;

/// How long each part of a run took (seconds).
#[derive(Clone, Copy, Debug, Default)]
pub struct Timings {
    pub parse_s: f64,
    pub check_s: f64,
    pub compile_s: f64,
    pub build_s: f64,
    pub run_s: f64,
}

/// A number for JSON: NaN and infinities become null.
pub fn json_number(x: f64) -> Value {
    if x.is_finite() { json!(x) } else { Value::Null }
}

/// Writes `metrics.json` into a run directory.
pub fn write_metrics(dir: &Path, metrics: &[MetricValue]) -> Result<(), WriteError> {
    let list: Vec<Value> = metrics
        .iter()
        .map(|m| json!({ "column": m.column, "value": json_number(m.value), "unit": m.unit, "details": m.details }))
        .collect();
    write_json_atomic(&dir.join("metrics.json"), &Value::Array(list))
}

/// What `run.json` records besides the simulation itself.
pub struct RunRecord<'a> {
    /// `running`, `ok`, `failed`, `aborted` or `interrupted`.
    pub status: &'a str,
    /// Why the run stopped early (empty when it did not).
    pub message: &'a str,
    /// The model file as the user named it, and its text.
    pub model: &'a Path,
    pub model_text: &'a str,
    /// What was asked for (model, variant, settings, seed, duration, ...):
    /// enough to run it again.
    pub request: &'a Value,
    /// Resolved params, files with their SHA-256, hebb's build, threads,
    /// host.
    pub provenance: &'a Value,
    pub timings: &'a Timings,
    pub metrics: &'a [MetricValue],
    /// Where the time went (`--profile`); empty otherwise.
    pub profile: &'a [ProfileEntry],
}

/// Writes `value` as `path` atomically (see [`write_atomic`]), pretty,
/// with a final newline.
pub fn write_json_atomic(path: &Path, value: &Value) -> Result<(), WriteError> {
    let text = serde_json::to_string_pretty(value).map_err(std::io::Error::other).at(path)?;
    write_atomic(path, &(text + "\n"))
}

/// Writes `text` as `path` atomically: to a temporary file beside it,
/// then renamed over it, so a reader sees the old or the new file, never
/// half of one.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), WriteError> {
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, text).at(&tmp)?;
    std::fs::rename(&tmp, path).at(path)
}

/// Writes `run.json` for a simulation as it stands (`status` says whether
/// it is still running), with the manifest of the files written so far.
pub fn write_run_json(
    dir: &Path,
    sim: &Simulation,
    record: &RunRecord<'_>,
    manifest: &[FileEntry],
) -> Result<(), WriteError> {
    let mut json = run_json(sim, record);
    json["manifest"] = manifest_json(manifest);
    write_json_atomic(&dir.join("run.json"), &json)
}

fn manifest_json(files: &[FileEntry]) -> Value {
    Value::Array(
        files
            .iter()
            .map(|f| {
                json!({
                    "path": f.path,
                    "kind": f.kind,
                    "of": f.of,
                    "variable": f.variable,
                    "dtype": f.dtype.name(),
                    "shape": f.shape,
                    "unit": f.unit,
                })
            })
            .collect(),
    )
}

/// What metrics need of a run whose records went to disk: the spikes of
/// measured groups, presentations and phase-end weights, read back from
/// `dir`, with the phases and counts the simulation kept.
pub fn read_back(dir: &Path, program: &Program, kept: &Recordings) -> std::io::Result<Recordings> {
    let mut rec = Recordings {
        phases: kept.phases.clone(),
        spike_counts: kept.spike_counts.clone(),
        patterns: kept.patterns.clone(),
        ..Recordings::default()
    };
    // Only the spikes of measured groups: memory for the rest stays bounded.
    let measured = |g: hebb_ir::GroupId| {
        program.measures.iter().any(|m| match m.target {
            hebb_ir::MeasureTarget::Group(h) => h == g,
            hebb_ir::MeasureTarget::Projection(p) => {
                m.metric == hebb_ir::Metric::Assemblies && program.projections[p.index()].post.group == g
            }
        })
    };
    for s in kept.spikes.iter().filter(|s| measured(s.group)) {
        let name = &program.groups[s.group.index()].name;
        let (_, times) = read_f64(&dir.join(format!("spikes/{name}.t.npy")))?;
        let (_, indices) = read_u32(&dir.join(format!("spikes/{name}.i.npy")))?;
        let n = times.len().min(indices.len());
        rec.spikes.push(hebb_runtime::record::SpikeRecord {
            group: s.group,
            times: times[..n].to_vec(),
            indices: indices[..n].to_vec(),
        });
    }
    for (s, st) in program.stimuli.iter().enumerate() {
        let (_, t0) = read_f64(&dir.join(format!("stimuli/{}.t0.npy", st.name)))?;
        let (_, t1) = read_f64(&dir.join(format!("stimuli/{}.t1.npy", st.name)))?;
        let (_, pattern) = read_u32(&dir.join(format!("stimuli/{}.pattern.npy", st.name)))?;
        for k in 0..t0.len().min(t1.len()).min(pattern.len()) {
            rec.presentations.push(PresentationRecord { stimuli: s as u32, pattern: pattern[k], t0: t0[k], t1: t1[k] });
        }
    }
    rec.presentations.sort_by(|a, b| a.t0.total_cmp(&b.t0).then(a.stimuli.cmp(&b.stimuli)));
    read_back_weight_records(dir, program, kept, &mut rec)?;
    read_back_balance_records(dir, program, kept, &mut rec)?;
    for p in program.measured_projections() {
        let proj = &program.projections[p.index()];
        for (k, phase) in program.phases.iter().enumerate() {
            let path = dir.join(format!("weights/{}.phase_{}.npy", proj.name, phase.name));
            if rec.weights_at_phase_end.iter().any(|(q, ph, _)| *q == p && *ph == k as u32) || !path.exists() {
                continue;
            }
            rec.weights_at_phase_end.push((p, k as u32, read_f64(&path)?.1));
        }
    }
    Ok(rec)
}

/// The weight records of projections measured with `spectral_radius`
/// (every synapse, over time).
fn read_back_weight_records(
    dir: &Path,
    program: &Program,
    kept: &Recordings,
    rec: &mut Recordings,
) -> std::io::Result<()> {
    let measured = |p: hebb_ir::ProjectionId| {
        program.measures.iter().any(|m| {
            matches!(m.metric, hebb_ir::Metric::SpectralRadius | hebb_ir::Metric::Assemblies)
                && m.target == hebb_ir::MeasureTarget::Projection(p)
        })
    };
    for r in kept.synapses.iter().filter(|r| measured(r.proj) && r.sample.is_none()) {
        let Some((name, var, _)) = r.vars.iter().find(|v| v.0 == hebb_ir::WEIGHT) else { continue };
        let base = format!("weights/{}", program.projections[r.proj.index()].name);
        let (_, times) = read_f64(&dir.join(format!("{base}.t.npy")))?;
        let (_, values) = read_f64(&dir.join(format!("{base}.{name}.npy")))?;
        let samples = times.len().min(values.len() / r.pre.len().max(1));
        rec.synapses.push(hebb_runtime::record::SynapseRecord {
            times: times[..samples].to_vec(),
            vars: vec![(name.clone(), *var, values[..samples * r.pre.len()].to_vec())],
            ..r.clone()
        });
    }
    Ok(())
}

/// The state records that `balance` measures read: the two input
/// variables of each measured population, over time.
fn read_back_balance_records(
    dir: &Path,
    program: &Program,
    kept: &Recordings,
    rec: &mut Recordings,
) -> std::io::Result<()> {
    for m in program.measures.iter().filter(|m| m.metric == hebb_ir::Metric::Balance) {
        let (hebb_ir::MeasureTarget::Group(g), Some(((e, ec), (i, ic)))) = (m.target, &m.inputs) else { continue };
        if rec.states.iter().any(|r| r.group == g) {
            continue;
        }
        let Some(r) = kept.states.iter().find(|r| r.group == g && r.vars.iter().any(|v| v.1 == *ec)) else { continue };
        let base = format!("state/{}", program.groups[g.index()].name);
        let (_, times) = read_f64(&dir.join(format!("{base}.t.npy")))?;
        let n = r.indices.len().max(1);
        let mut vars = Vec::new();
        for (name, col) in [(e, ec), (i, ic)] {
            let (_, values) = read_f64(&dir.join(format!("{base}.{name}.npy")))?;
            vars.push((name.clone(), *col, values));
        }
        let samples = vars.iter().map(|v| v.2.len() / n).min().unwrap_or(0).min(times.len());
        for v in &mut vars {
            v.2.truncate(samples * n);
        }
        rec.states.push(hebb_runtime::record::StateRecord { times: times[..samples].to_vec(), vars, ..r.clone() });
    }
    Ok(())
}

/// `run.json`: how the run was made and how it ended.
fn run_json(sim: &Simulation, r: &RunRecord<'_>) -> Value {
    let program = sim.program();
    let simulated = sim.time();
    let t = r.timings;
    let mut v = json!({
        "status": r.status,
        "message": r.message,
        "model": r.model.display().to_string(),
        "model_sha256": sha256_hex(r.model_text.as_bytes()),
        "seed": program.seed,
        "dt": program.dt,
        "duration": program.n_steps as f64 * program.dt,
        "simulated": simulated,
        "hebb_version": env!("CARGO_PKG_VERSION"),
        "backend": sim.kernels_name(),
        "timings": { "parse_s": t.parse_s, "check_s": t.check_s, "compile_s": t.compile_s, "build_s": t.build_s, "run_s": t.run_s },
        "populations": populations_json(sim, simulated),
        "projections": projections_json(sim),
        "variant": r.request["variant"].as_str().unwrap_or("base"),
        "request": r.request,
        "provenance": r.provenance,
        "phases": sim.recordings().phases.iter().map(|(n, t0, t1)| json!({ "name": n, "t0": t0, "t1": t1 })).collect::<Vec<_>>(),
        "metrics": r.metrics.iter().map(|m| (m.column.clone(), json_number(m.value))).collect::<serde_json::Map<_, _>>(),
    });
    if !r.profile.is_empty() {
        let total: f64 = r.profile.iter().map(|e| e.seconds).sum();
        v["profile"] = r
            .profile
            .iter()
            .map(|e| json!({ "part": e.name, "seconds": e.seconds, "calls": e.calls, "share": e.seconds / total.max(1e-300) }))
            .collect();
    }
    v
}

/// Size, spike count and mean rate of every spiking group.
fn populations_json(sim: &Simulation, simulated: f64) -> serde_json::Map<String, Value> {
    let mut pops = serde_json::Map::new();
    for (g, group) in sim.program().groups.iter().enumerate() {
        if matches!(group.kind, GroupKind::Signal) {
            continue;
        }
        let spikes = sim.recordings().spike_counts[g];
        let rate = if simulated > 0.0 { spikes as f64 / group.size as f64 / simulated } else { 0.0 };
        pops.insert(group.name.clone(), json!({ "size": group.size, "spikes": spikes, "mean_rate_hz": rate }));
    }
    pops
}

/// Every projection's size, memory, and the statistics of each of its
/// per-synapse variables at the end of the run.
fn projections_json(sim: &Simulation) -> Vec<Value> {
    let program = sim.program();
    program
        .projections
        .iter()
        .enumerate()
        .map(|(p, proj)| {
            let view = sim.projection(p);
            let mut stats = serde_json::Map::new();
            for (c, column) in proj.columns.iter().enumerate() {
                let col = view.column(c);
                if col.is_empty() || column.role == hebb_ir::ColumnRole::LastUpdate {
                    continue;
                }
                let n = col.len() as f64;
                let mean = col.iter().sum::<f64>() / n;
                let sd = (col.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n).sqrt();
                let min = col.iter().copied().fold(f64::INFINITY, f64::min);
                let max = col.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                stats.insert(column.name.clone(), json!({ "mean": mean, "sd": sd, "min": min, "max": max }));
            }
            json!({
                "name": proj.name,
                "synapse": proj.synapse,
                "synapses": view.n_synapses(),
                "bytes_per_synapse": view.bytes_per_synapse(),
                "final": stats,
            })
        })
        .collect()
}

/// SHA-256 of a file's bytes, as hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
