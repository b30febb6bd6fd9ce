//! Writing a run's recordings as the run goes: every record is a growing
//! `.npy` array that is valid at every moment, so an interrupted, failed
//! or killed run leaves what it recorded readable, and memory for records
//! stays bounded whatever the duration.

use super::npy::{Dtype, NpyStream, write_f64, write_u32};
use hebb_ir::Program;
use hebb_runtime::record::{RecordChunk, Recordings};
use std::path::{Path, PathBuf};

/// A failed write: which file, and why.
#[derive(Debug, thiserror::Error)]
#[error("cannot write `{}`: {source}", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Attaches the path to an IO result.
pub(crate) trait At<T> {
    fn at(self, path: &Path) -> Result<T, WriteError>;
}

impl<T> At<T> for std::io::Result<T> {
    fn at(self, path: &Path) -> Result<T, WriteError> {
        self.map_err(|source| WriteError { path: path.to_path_buf(), source })
    }
}

/// What a file of the run directory holds, for the manifest.
#[derive(Clone, Debug)]
pub struct FileEntry {
    /// Relative to the run directory.
    pub path: String,
    /// `spikes`, `state`, `weights`, `rate`, `stimuli`.
    pub kind: &'static str,
    /// The population, projection or stimulus set.
    pub of: String,
    /// What it is: `t`, `i`, a variable's name, `index`, `pre`, `post`, ...
    pub variable: String,
    pub dtype: Dtype,
    /// SI unit of the values (empty for indices, counts and dimensionless
    /// values).
    pub unit: String,
    /// The shape of a file written whole; growing arrays say theirs.
    pub shape: Vec<usize>,
}

/// The growing arrays of a population's rate.
struct RateStreams {
    rate: NpyStream,
    t: NpyStream,
    /// Bin width (s) and population size.
    bin_s: f64,
    size: f64,
    /// The index of the next bin to write.
    next_bin: u64,
}

/// Every growing array of a run directory, in the order of the records.
pub struct RunWriter {
    dir: PathBuf,
    spikes: Vec<(NpyStream, NpyStream)>,
    states: Vec<(NpyStream, Vec<NpyStream>)>,
    synapses: Vec<(NpyStream, Vec<NpyStream>)>,
    rates: Vec<RateStreams>,
    /// Per stimulus set: presentation starts, ends and patterns.
    stimuli: Vec<(NpyStream, NpyStream, NpyStream)>,
    files: Vec<FileEntry>,
}

/// How a writer opens its arrays: new and empty, or reopened at the
/// lengths a checkpoint recorded (in the order of [`RunWriter::positions`]).
enum Open<'a> {
    Create,
    Reopen(std::slice::Iter<'a, u64>),
}

impl Open<'_> {
    fn stream(&mut self, path: &Path, dtype: Dtype, row: Option<usize>) -> Result<NpyStream, WriteError> {
        match self {
            Open::Create => NpyStream::create(path, dtype, row).at(path),
            Open::Reopen(lens) => {
                let len = lens.next().copied().ok_or_else(|| WriteError {
                    path: path.to_path_buf(),
                    source: std::io::Error::new(std::io::ErrorKind::InvalidData, "not in the checkpoint"),
                })?;
                NpyStream::reopen(path, dtype, row, len).at(path)
            }
        }
    }
}

impl RunWriter {
    /// Creates the record files of a run in `dir` (which must exist), and
    /// writes what is known before the first step (recorded indices,
    /// stimulus patterns).
    pub fn create(dir: &Path, program: &Program, rec: &Recordings) -> Result<RunWriter, WriteError> {
        RunWriter::open(dir, program, rec, Open::Create)
    }

    /// Reopens the record files of a run at the lengths of a checkpoint.
    pub fn reopen(dir: &Path, program: &Program, rec: &Recordings, positions: &[u64]) -> Result<RunWriter, WriteError> {
        RunWriter::open(dir, program, rec, Open::Reopen(positions.iter()))
    }

    fn open(dir: &Path, program: &Program, rec: &Recordings, mut open: Open<'_>) -> Result<RunWriter, WriteError> {
        let mut w = RunWriter {
            dir: dir.to_path_buf(),
            spikes: Vec::new(),
            states: Vec::new(),
            synapses: Vec::new(),
            rates: Vec::new(),
            stimuli: Vec::new(),
            files: Vec::new(),
        };
        let group_name = |g: hebb_ir::GroupId| program.groups[g.index()].name.clone();
        for s in &rec.spikes {
            let name = group_name(s.group);
            let t = w.stream(&mut open, "spikes", &name, "t", Dtype::F64, None, "s")?;
            let i = w.stream(&mut open, "spikes", &name, "i", Dtype::U32, None, "")?;
            w.spikes.push((t, i));
        }
        for s in &rec.states {
            let name = group_name(s.group);
            let group = &program.groups[s.group.index()];
            let t = w.stream(&mut open, "state", &name, "t", Dtype::F64, None, "s")?;
            w.whole_u32("state", &name, "index", &[s.indices.len()], &s.indices)?;
            let mut vars = Vec::new();
            for (var, c, _) in &s.vars {
                let unit = column_unit(group, &group.columns[*c as usize]);
                vars.push(w.stream(&mut open, "state", &name, var, Dtype::F64, Some(s.indices.len()), unit)?);
            }
            w.states.push((t, vars));
        }
        for s in &rec.synapses {
            let proj = &program.projections[s.proj.index()];
            let name = proj.name.clone();
            let t = w.stream(&mut open, "weights", &name, "t", Dtype::F64, None, "s")?;
            w.whole_u32("weights", &name, "pre", &[s.pre.len()], &s.pre)?;
            w.whole_u32("weights", &name, "post", &[s.post.len()], &s.post)?;
            let mut vars = Vec::new();
            for (var, _, _) in &s.vars {
                let unit = proj.unit_of(var);
                vars.push(w.stream(&mut open, "weights", &name, var, Dtype::F64, Some(s.synapses.len()), unit)?);
            }
            w.synapses.push((t, vars));
        }
        for r in &rec.rates {
            let g = &program.groups[r.group.index()];
            let rate = w.stream_at(&mut open, "rate", &g.name, "rate", &format!("rate/{}.npy", g.name), "Hz")?;
            let t = w.stream(&mut open, "rate", &g.name, "t", Dtype::F64, None, "s")?;
            let next_bin = t.len();
            w.rates.push(RateStreams { rate, t, bin_s: r.bin as f64 * program.dt, size: g.size as f64, next_bin });
        }
        for (s, st) in program.stimuli.iter().enumerate() {
            let pats = &rec.patterns[s];
            let k = pats.first().map(|p| p.len()).unwrap_or(0);
            let flat: Vec<u32> = pats.iter().flatten().copied().collect();
            w.whole_u32("stimuli", &st.name, "patterns", &[pats.len(), k], &flat)?;
            let t0 = w.stream(&mut open, "stimuli", &st.name, "t0", Dtype::F64, None, "s")?;
            let t1 = w.stream(&mut open, "stimuli", &st.name, "t1", Dtype::F64, None, "s")?;
            let pattern = w.stream(&mut open, "stimuli", &st.name, "pattern", Dtype::U32, None, "")?;
            w.stimuli.push((t0, t1, pattern));
        }
        Ok(w)
    }

    /// A growing array `<kind>/<of>.<variable>.npy`.
    #[allow(clippy::too_many_arguments)]
    fn stream(
        &mut self,
        open: &mut Open<'_>,
        kind: &'static str,
        of: &str,
        variable: &str,
        dtype: Dtype,
        row: Option<usize>,
        unit: &str,
    ) -> Result<NpyStream, WriteError> {
        let rel = format!("{kind}/{of}.{variable}.npy");
        self.stream_with(open, kind, of, variable, rel, dtype, row, unit)
    }

    /// A growing float64 array at a path of its own (`rate/<pop>.npy`).
    fn stream_at(
        &mut self,
        open: &mut Open<'_>,
        kind: &'static str,
        of: &str,
        variable: &str,
        rel: &str,
        unit: &str,
    ) -> Result<NpyStream, WriteError> {
        self.stream_with(open, kind, of, variable, rel.to_string(), Dtype::F64, None, unit)
    }

    #[allow(clippy::too_many_arguments)]
    fn stream_with(
        &mut self,
        open: &mut Open<'_>,
        kind: &'static str,
        of: &str,
        variable: &str,
        rel: String,
        dtype: Dtype,
        row: Option<usize>,
        unit: &str,
    ) -> Result<NpyStream, WriteError> {
        let sub = self.dir.join(kind);
        std::fs::create_dir_all(&sub).at(&sub)?;
        let stream = open.stream(&self.dir.join(&rel), dtype, row)?;
        self.files.push(FileEntry {
            path: rel,
            kind,
            of: of.to_string(),
            variable: variable.to_string(),
            dtype,
            unit: unit.to_string(),
            shape: Vec::new(),
        });
        Ok(stream)
    }

    /// A whole uint32 array written once.
    fn whole_u32(
        &mut self,
        kind: &'static str,
        of: &str,
        variable: &str,
        shape: &[usize],
        data: &[u32],
    ) -> Result<(), WriteError> {
        let rel = format!("{kind}/{of}.{variable}.npy");
        let path = self.dir.join(&rel);
        std::fs::create_dir_all(self.dir.join(kind)).at(&path)?;
        write_u32(&path, shape, data).at(&path)?;
        self.files.push(FileEntry {
            path: rel,
            kind,
            of: of.to_string(),
            variable: variable.to_string(),
            dtype: Dtype::U32,
            unit: String::new(),
            shape: shape.to_vec(),
        });
        Ok(())
    }

    /// Appends what a run recorded since the last drain.
    pub fn append(&mut self, program: &Program, chunk: &RecordChunk) -> Result<(), WriteError> {
        for ((t, i), (times, indices)) in self.spikes.iter_mut().zip(&chunk.spikes) {
            t.append_f64(times).at(t.path())?;
            i.append_u32(indices).at(i.path())?;
        }
        for ((t, vars), (times, data)) in
            self.states.iter_mut().chain(self.synapses.iter_mut()).zip(chunk.states.iter().chain(&chunk.synapses))
        {
            t.append_f64(times).at(t.path())?;
            for (v, d) in vars.iter_mut().zip(data) {
                v.append_f64(d).at(v.path())?;
            }
        }
        for (r, counts) in self.rates.iter_mut().zip(&chunk.rates) {
            let rates: Vec<f64> = counts.iter().map(|&c| c as f64 / (r.size * r.bin_s)).collect();
            let starts: Vec<f64> = (0..counts.len() as u64).map(|k| (r.next_bin + k) as f64 * r.bin_s).collect();
            r.next_bin += counts.len() as u64;
            r.rate.append_f64(&rates).at(r.rate.path())?;
            r.t.append_f64(&starts).at(r.t.path())?;
        }
        for (s, (t0, t1, pattern)) in self.stimuli.iter_mut().enumerate() {
            let mine: Vec<_> = chunk.presentations.iter().filter(|p| p.stimuli == s as u32).collect();
            t0.append_f64(&mine.iter().map(|p| p.t0).collect::<Vec<_>>()).at(t0.path())?;
            t1.append_f64(&mine.iter().map(|p| p.t1).collect::<Vec<_>>()).at(t1.path())?;
            pattern.append_u32(&mine.iter().map(|p| p.pattern).collect::<Vec<_>>()).at(pattern.path())?;
        }
        for (p, phase, w) in &chunk.weights_at_phase_end {
            let proj = &program.projections[p.index()];
            let ph = &program.phases[*phase as usize].name;
            let rel = format!("weights/{}.phase_{ph}.npy", proj.name);
            let path = self.dir.join(&rel);
            std::fs::create_dir_all(self.dir.join("weights")).at(&path)?;
            write_f64(&path, &[w.len()], w).at(&path)?;
            self.files.push(FileEntry {
                path: rel,
                kind: "weights",
                of: proj.name.clone(),
                variable: format!("phase_{ph}"),
                dtype: Dtype::F64,
                unit: proj.unit_of(hebb_ir::WEIGHT).to_string(),
                shape: vec![w.len()],
            });
        }
        Ok(())
    }

    /// The lengths of every growing array, in a fixed order: what a
    /// checkpoint needs to reopen them.
    pub fn positions(&self) -> Vec<u64> {
        let mut out = Vec::new();
        for (t, i) in &self.spikes {
            out.extend([t.len(), i.len()]);
        }
        for (t, vars) in self.states.iter().chain(&self.synapses) {
            out.push(t.len());
            out.extend(vars.iter().map(|v| v.len()));
        }
        for r in &self.rates {
            out.extend([r.rate.len(), r.t.len()]);
        }
        for (t0, t1, p) in &self.stimuli {
            out.extend([t0.len(), t1.len(), p.len()]);
        }
        out
    }

    /// Every file written, with its shape now.
    pub fn manifest(&self) -> Vec<FileEntry> {
        let streams: Vec<&NpyStream> = self.streams().collect();
        self.files
            .iter()
            .map(|f| {
                let path = self.dir.join(&f.path);
                match streams.iter().find(|s| s.path() == path) {
                    Some(s) => FileEntry { shape: s.shape(), ..f.clone() },
                    None => f.clone(),
                }
            })
            .collect()
    }

    fn streams(&self) -> impl Iterator<Item = &NpyStream> {
        self.spikes
            .iter()
            .flat_map(|(a, b)| [a, b])
            .chain(self.states.iter().chain(&self.synapses).flat_map(|(t, v)| std::iter::once(t).chain(v)))
            .chain(self.rates.iter().flat_map(|r| [&r.rate, &r.t]))
            .chain(self.stimuli.iter().flat_map(|(a, b, c)| [a, b, c]))
    }

    /// Makes the data durable.
    pub fn sync(&self) -> Result<(), WriteError> {
        for s in self.streams() {
            s.sync().at(s.path())?;
        }
        Ok(())
    }
}

/// The SI unit of a recorded column: a param's or state's, or that of the
/// columns hebb adds (the last spike, as a step number; a source's rate).
fn column_unit<'a>(group: &'a hebb_ir::Group, column: &'a hebb_ir::Column) -> &'a str {
    match column.role {
        hebb_ir::ColumnRole::LastSpike => "step",
        hebb_ir::ColumnRole::LastUpdate => "s",
        _ if matches!(group.kind, hebb_ir::GroupKind::Poisson { .. }) && column.name == "rate" => "Hz",
        _ => group.unit_of(&column.name),
    }
}
