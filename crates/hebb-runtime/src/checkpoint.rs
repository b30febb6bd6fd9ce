//! Checkpoints: everything that changes during a run, as bytes, and back.
//! A network built again from the same program has the same structure
//! (connectivity, delays and indices are drawn from the seed), so a
//! checkpoint holds only state: columns, spikes in flight in the delay
//! queues, hoisted traces and their reference times, sources' queues and
//! draw counters, the schedule and the small records kept in memory. The
//! runtime does no IO: the caller writes and reads the bytes.
//!
//! Take a checkpoint after draining the recordings (what was drained is
//! the caller's); restore into a simulation built from the same program.

use crate::codec::{Decoder, Encoder, RestoreError};
use crate::schedule::Presenting;
use crate::state::{Columns, Source};
use crate::{Simulation, State};
use hebb_ir::Program;

const MAGIC: &[u8; 8] = b"HEBBCKPT";
const VERSION: u32 = 1;

/// The structure a checkpoint must match: every group and projection with
/// its size and variables, one per line.
fn structure(program: &Program, st: &State) -> Vec<String> {
    let names = |cols: &[hebb_ir::Column]| cols.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(",");
    let mut out = vec![format!("dt {:e}", program.dt)];
    for g in &program.groups {
        out.push(format!("group {} of {}: {}", g.name, g.size, names(&g.columns)));
    }
    for (p, proj) in program.projections.iter().enumerate() {
        out.push(format!(
            "projection {} of {} synapses: {} | {} | {}",
            proj.name,
            st.projections[p].n_synapses(),
            names(&proj.columns),
            names(&proj.pre_side),
            names(&proj.post_side)
        ));
    }
    out
}

fn encode_columns(e: &mut Encoder, c: &Columns) {
    e.usize(c.count());
    (0..c.count()).for_each(|k| e.f64s(&c.values(k)));
}

fn decode_columns(d: &mut Decoder<'_>, c: &mut Columns, what: &str) -> Result<(), RestoreError> {
    if d.usize()? != c.count() {
        return Err(RestoreError::Mismatch(format!("{what} has another number of variables")));
    }
    for k in 0..c.count() {
        let values = d.f64s()?;
        if values.len() != c.len() {
            return Err(RestoreError::Mismatch(format!("{what} has {} elements, not {}", c.len(), values.len())));
        }
        c.copy_from(k, &values);
    }
    Ok(())
}

impl Simulation {
    /// The state of the simulation at the current step boundary.
    pub fn checkpoint(&self) -> Vec<u8> {
        let st = &self.state;
        let mut e = Encoder::default();
        e.bytes.extend_from_slice(MAGIC);
        e.u32(VERSION);
        let lines = structure(self.program(), st);
        e.usize(lines.len());
        lines.iter().for_each(|l| e.str(l));
        e.u64(st.step);
        e.bool(st.plastic);
        e.usize(st.phase);
        for g in &st.groups {
            encode_columns(&mut e, &g.columns);
            e.u32s(&g.spikes);
            match &g.source {
                Source::Poisson(p) => p.encode(&mut e),
                Source::SpikeTimes(s) => s.encode(&mut e),
                Source::None => {}
            }
        }
        for p in &st.projections {
            encode_columns(&mut e, &p.columns);
            encode_columns(&mut e, &p.pre_side);
            encode_columns(&mut e, &p.post_side);
            e.u32_lists(&p.ring);
            e.u32_lists(&p.post_ring);
            e.f64s(&p.factors);
            e.f64s(&p.t_ref);
        }
        let rec = &st.recordings;
        e.usize(rec.phases.len());
        for (name, t0, t1) in &rec.phases {
            e.str(name);
            e.f64(*t0);
            e.f64(*t1);
        }
        e.u64s(&rec.spike_counts);
        for r in &rec.rates {
            e.u64(r.first_bin);
            e.u64s(&r.counts);
        }
        for b in &st.base_rates {
            e.bool(b.is_some());
            if let Some(b) = b {
                e.f64s(b);
            }
        }
        e.bool(st.presenting.is_some());
        if let Some(pr) = &st.presenting {
            e.u32(pr.stimuli);
            e.u32s(&pr.order);
            e.usize(pr.position);
            e.u64(pr.block);
            e.u64(pr.next);
            e.u64(pr.each);
        }
        for a in &st.aborts {
            e.u64s(&a.counts);
            e.u64(a.sum);
        }
        e.bytes
    }

    /// Restores a checkpoint taken from a simulation of the same network.
    /// On an error the simulation may be half restored: build a new one.
    pub fn restore(&mut self, bytes: &[u8]) -> Result<(), RestoreError> {
        let mut d = Decoder::new(bytes);
        let program = self.kernels.program();
        let st = &mut self.state;
        if bytes.len() < 12 || &bytes[..8] != MAGIC {
            return Err(RestoreError::NotACheckpoint);
        }
        d.u64()?;
        let version = d.u32()?;
        if version != VERSION {
            return Err(RestoreError::Version(version));
        }
        check_structure(&mut d, program, st)?;
        st.step = d.u64()?;
        st.plastic = d.bool()?;
        st.phase = d.usize()?;
        // Derived from the phase (not stored: checkpoints keep their format).
        st.freeze_neurons = program.phases.get(st.phase).is_some_and(|p| p.freeze_neurons);
        decode_groups(&mut d, program, st)?;
        decode_projections(&mut d, program, st)?;
        decode_records_and_schedule(&mut d, st)?;
        if !d.is_empty() {
            return Err(RestoreError::NotACheckpoint);
        }
        Ok(())
    }
}

/// The checkpoint's structure must be this network's, line for line.
fn check_structure(d: &mut Decoder<'_>, program: &Program, st: &State) -> Result<(), RestoreError> {
    let n_lines = d.usize()?;
    let lines = (0..n_lines).map(|_| d.string()).collect::<Result<Vec<_>, _>>()?;
    let ours = structure(program, st);
    if let Some((theirs, mine)) = lines.iter().zip(&ours).find(|(a, b)| a != b) {
        return Err(RestoreError::Mismatch(format!("it has `{theirs}` where this network has `{mine}`")));
    }
    if lines.len() != ours.len() {
        return Err(RestoreError::Mismatch("it has another number of groups or projections".into()));
    }
    Ok(())
}

/// Columns, the last step's spikes and the sources of every group.
fn decode_groups(d: &mut Decoder<'_>, program: &Program, st: &mut State) -> Result<(), RestoreError> {
    for (g, group) in st.groups.iter_mut().zip(&program.groups) {
        decode_columns(d, &mut g.columns, &group.name)?;
        g.spikes = d.u32s()?;
        if g.spikes.iter().any(|&i| i as usize >= g.size) {
            return Err(RestoreError::Mismatch(format!("spikes of `{}` outside the population", group.name)));
        }
        match &mut g.source {
            Source::Poisson(p) => p.decode(d)?,
            Source::SpikeTimes(s) => s.decode(d)?,
            Source::None => {}
        }
    }
    Ok(())
}

/// Synaptic state and spikes in flight of every projection.
fn decode_projections(d: &mut Decoder<'_>, program: &Program, st: &mut State) -> Result<(), RestoreError> {
    for (p, proj) in st.projections.iter_mut().zip(&program.projections) {
        decode_columns(d, &mut p.columns, &proj.name)?;
        decode_columns(d, &mut p.pre_side, &proj.name)?;
        decode_columns(d, &mut p.post_side, &proj.name)?;
        // Spikes in flight are indices kernels follow: each must be a
        // segment (or row) of this projection, each ring as long.
        let ring = d.u32_lists()?;
        let post_ring = d.u32_lists()?;
        let factors = d.f64s()?;
        let t_ref = d.f64s()?;
        let n_segments = if p.heterogeneous() { p.seg_pre.len() } else { p.row_start.len() - 1 };
        let fits = ring.len() == p.ring.len()
            && ring.iter().flatten().all(|&s| (s as usize) < n_segments)
            && post_ring.len() == p.post_ring.len()
            && post_ring.iter().flatten().all(|&j| (j as usize) >= proj.post.start && (j as usize) < proj.post.end)
            && factors.len() == p.factors.len()
            && t_ref.len() == p.t_ref.len();
        if !fits {
            return Err(RestoreError::Mismatch(format!("the synaptic events of `{}` do not fit", proj.name)));
        }
        (p.ring, p.post_ring, p.factors, p.t_ref) = (ring, post_ring, factors, t_ref);
    }
    Ok(())
}

/// The records kept in memory, source rates, presentations and aborts.
fn decode_records_and_schedule(d: &mut Decoder<'_>, st: &mut State) -> Result<(), RestoreError> {
    let rec = &mut st.recordings;
    let n_phases = d.usize()?;
    rec.phases = (0..n_phases).map(|_| Ok((d.string()?, d.f64()?, d.f64()?))).collect::<Result<_, _>>()?;
    rec.spike_counts = d.u64s()?;
    for r in &mut rec.rates {
        r.first_bin = d.u64()?;
        r.counts = d.u64s()?;
    }
    for b in &mut st.base_rates {
        *b = if d.bool()? { Some(d.f64s()?) } else { None };
    }
    st.presenting = if d.bool()? {
        Some(Presenting {
            stimuli: d.u32()?,
            order: d.u32s()?,
            position: d.usize()?,
            block: d.u64()?,
            next: d.u64()?,
            each: d.u64()?,
        })
    } else {
        None
    };
    for a in &mut st.aborts {
        a.counts = d.u64s()?;
        a.sum = d.u64()?;
    }
    Ok(())
}
