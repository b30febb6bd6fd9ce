//! Writing a run directory (LANGUAGE.md section 8): NumPy `.npy` arrays in
//! SI units and `run.json`. Together with `cli`, the only place that writes
//! files.

use crate::ir::Program;
use crate::runtime::record::Recordings;
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
    let group_name = |g: u32| program.groups[g as usize].name.as_str();
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
        let name = &program.projections[s.proj as usize].name;
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
        let proj = &program.projections[*p as usize].name;
        let ph = &program.phases[*phase as usize].name;
        write_f64(&dir.join(format!("weights/{proj}.phase_{ph}.npy")), &[w.len()], w)?;
    }
    if !rec.rates.is_empty() {
        std::fs::create_dir_all(dir.join("rate"))?;
    }
    for r in &rec.rates {
        let g = &program.groups[r.group as usize];
        let bin_s = r.bin as f64 * program.dt;
        let rates: Vec<f64> = r.counts.iter().map(|&c| c as f64 / (g.size as f64 * bin_s)).collect();
        let starts: Vec<f64> = (0..r.counts.len()).map(|k| k as f64 * bin_s).collect();
        write_f64(&dir.join(format!("rate/{}.npy", g.name)), &[rates.len()], &rates)?;
        write_f64(&dir.join(format!("rate/{}.t.npy", g.name)), &[starts.len()], &starts)?;
    }
    Ok(())
}

/// SHA-256 of a file's bytes, as hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
