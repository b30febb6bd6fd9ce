//! Writing a run directory (LANGUAGE.md section 8): NumPy `.npy` arrays in
//! SI units, `metrics.json` and `run.json`; and reading `.npy` files back.

use crate::metrics::MetricValue;
use hebb_ir::{GroupKind, Program};
use hebb_runtime::Simulation;
use hebb_runtime::record::Recordings;
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;

/// Writes a little-endian `.npy` file (format 1.0).
fn write_npy(path: &Path, descr: &str, shape: &[usize], bytes: &[u8]) -> std::io::Result<()> {
    let shape_text = match shape {
        [n] => format!("({n},)"),
        dims => format!("({})", dims.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}");
    // Magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + bytes.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(bytes);
    let mut f = std::fs::File::create(path)?;
    f.write_all(&out)
}

pub fn write_f64(path: &Path, shape: &[usize], data: &[f64]) -> std::io::Result<()> {
    let bytes: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    write_npy(path, "<f8", shape, &bytes)
}

pub fn write_u32(path: &Path, data: &[u32]) -> std::io::Result<()> {
    write_u32_shaped(path, &[data.len()], data)
}

pub fn write_u32_shaped(path: &Path, shape: &[usize], data: &[u32]) -> std::io::Result<()> {
    let bytes: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    write_npy(path, "<u4", shape, &bytes)
}

/// Reads a `.npy` file written by [`write_f64`] (for tests and `hebb plot`).
pub fn read_f64(path: &Path) -> std::io::Result<(Vec<usize>, Vec<f64>)> {
    let bytes = std::fs::read(path)?;
    let bad = || {
        std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{} is not a float64 .npy file", path.display()))
    };
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad());
    }
    let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(bytes.get(10..10 + hlen).ok_or_else(bad)?).map_err(|_| bad())?;
    if !header.contains("'<f8'") {
        return Err(bad());
    }
    let shape_text = header.split("'shape': (").nth(1).and_then(|s| s.split(')').next()).ok_or_else(bad)?;
    let shape: Vec<usize> = shape_text
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let data =
        bytes[10 + hlen..].chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("chunks of 8"))).collect();
    Ok((shape, data))
}

/// Reads a `.npy` file written by [`write_u32`].
pub fn read_u32(path: &Path) -> std::io::Result<Vec<u32>> {
    let bytes = std::fs::read(path)?;
    let bad = || {
        std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{} is not a uint32 .npy file", path.display()))
    };
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad());
    }
    let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    Ok(bytes
        .get(10 + hlen..)
        .ok_or_else(bad)?
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().expect("chunks of 4")))
        .collect())
}

/// Writes every recording of a run into `dir` (which must exist).
pub fn write_recordings(dir: &Path, program: &Program, rec: &Recordings) -> std::io::Result<()> {
    let group_name = |g: hebb_ir::GroupId| program.groups[g.index()].name.as_str();
    if !rec.spikes.is_empty() {
        std::fs::create_dir_all(dir.join("spikes"))?;
    }
    for s in &rec.spikes {
        let name = group_name(s.group);
        write_f64(&dir.join(format!("spikes/{name}.t.npy")), &[s.times.len()], &s.times)?;
        write_u32(&dir.join(format!("spikes/{name}.i.npy")), &s.indices)?;
    }
    if !rec.states.is_empty() {
        std::fs::create_dir_all(dir.join("state"))?;
    }
    for s in &rec.states {
        let name = group_name(s.group);
        write_f64(&dir.join(format!("state/{name}.t.npy")), &[s.times.len()], &s.times)?;
        write_u32(&dir.join(format!("state/{name}.index.npy")), &s.indices)?;
        for (var, _, data) in &s.vars {
            write_f64(&dir.join(format!("state/{name}.{var}.npy")), &[s.times.len(), s.indices.len()], data)?;
        }
    }
    if !rec.synapses.is_empty() {
        std::fs::create_dir_all(dir.join("weights"))?;
    }
    for s in &rec.synapses {
        let name = &program.projections[s.proj.index()].name;
        write_f64(&dir.join(format!("weights/{name}.t.npy")), &[s.times.len()], &s.times)?;
        write_u32(&dir.join(format!("weights/{name}.pre.npy")), &s.pre)?;
        write_u32(&dir.join(format!("weights/{name}.post.npy")), &s.post)?;
        for (var, _, data) in &s.vars {
            write_f64(&dir.join(format!("weights/{name}.{var}.npy")), &[s.times.len(), s.synapses.len()], data)?;
        }
    }
    // Stimuli: the patterns (active neurons) and every presentation.
    if !program.stimuli.is_empty() {
        std::fs::create_dir_all(dir.join("stimuli"))?;
    }
    for (s, st) in program.stimuli.iter().enumerate() {
        let pats = &rec.patterns[s];
        let k = pats.first().map(|p| p.len()).unwrap_or(0);
        let flat: Vec<u32> = pats.iter().flatten().copied().collect();
        write_u32_shaped(&dir.join(format!("stimuli/{}.patterns.npy", st.name)), &[pats.len(), k], &flat)?;
        let pres: Vec<_> = rec.presentations.iter().filter(|p| p.stimuli == s as u32).collect();
        let t0: Vec<f64> = pres.iter().map(|p| p.t0).collect();
        let t1: Vec<f64> = pres.iter().map(|p| p.t1).collect();
        let pattern: Vec<u32> = pres.iter().map(|p| p.pattern).collect();
        write_f64(&dir.join(format!("stimuli/{}.t0.npy", st.name)), &[t0.len()], &t0)?;
        write_f64(&dir.join(format!("stimuli/{}.t1.npy", st.name)), &[t1.len()], &t1)?;
        write_u32(&dir.join(format!("stimuli/{}.pattern.npy", st.name)), &pattern)?;
    }
    // Weights of measured projections at the end of each phase.
    for (p, phase, w) in &rec.weights_at_phase_end {
        std::fs::create_dir_all(dir.join("weights"))?;
        let proj = &program.projections[p.index()].name;
        let ph = &program.phases[*phase as usize].name;
        write_f64(&dir.join(format!("weights/{proj}.phase_{ph}.npy")), &[w.len()], w)?;
    }
    if !rec.rates.is_empty() {
        std::fs::create_dir_all(dir.join("rate"))?;
    }
    for r in &rec.rates {
        let g = &program.groups[r.group.index()];
        let bin_s = r.bin as f64 * program.dt;
        let rates: Vec<f64> = r.counts.iter().map(|&c| c as f64 / (g.size as f64 * bin_s)).collect();
        let starts: Vec<f64> = (0..r.counts.len()).map(|k| k as f64 * bin_s).collect();
        write_f64(&dir.join(format!("rate/{}.npy", g.name)), &[rates.len()], &rates)?;
        write_f64(&dir.join(format!("rate/{}.t.npy", g.name)), &[starts.len()], &starts)?;
    }
    Ok(())
}

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
pub fn write_metrics(dir: &Path, metrics: &[MetricValue]) -> std::io::Result<()> {
    let list: Vec<Value> = metrics
        .iter()
        .map(|m| json!({ "column": m.column, "value": json_number(m.value), "unit": m.unit, "details": m.details }))
        .collect();
    let text = serde_json::to_string_pretty(&list).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("metrics.json"), text + "\n")
}

/// What `run.json` records besides the simulation itself.
pub struct RunRecord<'a> {
    /// `ok`, `failed` or `aborted`.
    pub status: &'a str,
    /// Why the run stopped early (empty when it did not).
    pub message: &'a str,
    /// The model file as the user named it, and its text.
    pub model: &'a Path,
    pub model_text: &'a str,
    pub variant: Option<&'a str>,
    pub timings: &'a Timings,
    pub metrics: &'a [MetricValue],
}

/// Writes a finished simulation's run directory `dir` (which must exist):
/// its recordings, `metrics.json` and `run.json`.
pub fn write_run(dir: &Path, sim: &Simulation, record: &RunRecord<'_>) -> std::io::Result<()> {
    write_recordings(dir, sim.program(), sim.recordings())?;
    write_metrics(dir, record.metrics)?;
    let text = serde_json::to_string_pretty(&run_json(sim, record)).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("run.json"), text + "\n")
}

/// `run.json`: how the run was made and how it ended.
fn run_json(sim: &Simulation, r: &RunRecord<'_>) -> Value {
    let program = sim.program();
    let simulated = sim.time();
    let t = r.timings;
    json!({
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
        "variant": r.variant.unwrap_or("base"),
        "phases": sim.recordings().phases.iter().map(|(n, t0, t1)| json!({ "name": n, "t0": t0, "t1": t1 })).collect::<Vec<_>>(),
        "metrics": r.metrics.iter().map(|m| (m.column.clone(), json_number(m.value))).collect::<serde_json::Map<_, _>>(),
    })
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
