//! The runtime: network state in struct-of-arrays columns, synapses in CSR
//! by presynaptic neuron, delay rings, and the time-step loop of
//! LANGUAGE.md section 6 (Brian2's order). Kernels run through a
//! [`Backend`]: the IR interpreter or JIT-compiled code.

mod build;
pub mod record;
mod source;

pub use build::{BuildError, active_count, build};

use crate::abi::KernelArgs;
use crate::ir::{self, GroupKind, Program};
use record::Recordings;
use source::{Poisson, SpikeList};

/// Runs kernels. Implemented by the interpreter and by the JIT.
pub trait Backend {
    /// Runs kernel `k` with `args`; returns the non-finite accumulator.
    ///
    /// # Safety
    /// `args` must be valid for kernel `k` (see [`KernelArgs`]).
    unsafe fn run(&self, k: u32, args: &mut KernelArgs) -> f64;
    fn name(&self) -> &'static str;
}

/// The reference interpreter as a backend.
pub struct Interpreter<'p> {
    pub program: &'p Program,
}

impl Backend for Interpreter<'_> {
    unsafe fn run(&self, k: u32, args: &mut KernelArgs) -> f64 {
        // SAFETY: forwarded from the caller.
        unsafe { ir::interp::run(&self.program.kernels[k as usize], args) }
    }

    fn name(&self) -> &'static str {
        "interpreter"
    }
}

pub enum Source {
    None,
    Poisson(Poisson),
    SpikeTimes(SpikeList),
}

pub struct GroupState {
    pub size: usize,
    /// Struct-of-arrays state; never reallocated after construction, so the
    /// column pointers handed to kernels stay valid.
    pub columns: Vec<Vec<f64>>,
    /// Neurons that spiked in the current step, in index order.
    pub spikes: Vec<u32>,
    pub source: Source,
    pub lastspike: Option<usize>,
    ptrs: Vec<*mut f64>,
}

/// Synapses of one projection, stored by presynaptic neuron.
pub struct ProjState {
    /// `row_start[i]..row_start[i+1]` are the synapses of presynaptic neuron
    /// `i` (over the whole presynaptic group).
    pub row_start: Vec<u32>,
    /// Postsynaptic neuron of each synapse.
    pub targets: Vec<u32>,
    pub columns: Vec<Vec<f64>>,
    /// Rows split by delay: segment `s` is synapses
    /// `seg_start[s]..seg_start[s+1]` of neuron `seg_pre[s]` with delay
    /// `seg_delay[s]`; `pre_seg[i]..pre_seg[i+1]` are neuron i's segments.
    /// Empty when every synapse has the same delay (segments are rows).
    pub seg_start: Vec<u32>,
    pub seg_pre: Vec<u32>,
    pub seg_delay: Vec<u32>,
    pub pre_seg: Vec<u32>,
    /// `0..n_pre`: the presynaptic neuron of each row, passed as `seg_pre`
    /// when segments are rows.
    pub identity: Vec<u32>,
    /// The delay in steps when it is homogeneous.
    pub delay: u32,
    /// Pending segments (or presynaptic neurons) by arrival step modulo
    /// `ring.len()`.
    ring: Vec<Vec<u32>>,
    /// Post-synaptic index for `on post`: synapses of postsynaptic neuron j
    /// are the pairs (synapse, presynaptic neuron) at
    /// `post_syn[2 k], post_syn[2 k + 1]` for k in `post_start[j]..post_start[j+1]`.
    pub post_start: Vec<u32>,
    pub post_syn: Vec<u32>,
    /// Presynaptic neuron of each synapse (for `on post`, continuous ODEs and
    /// `every` blocks).
    pub syn_pre: Vec<u32>,
    /// Hoisted variables, one value per pre / post neuron.
    pub pre_side: Vec<Vec<f64>>,
    pub post_side: Vec<Vec<f64>>,
    /// Postsynaptic spikes waiting for `post_delay`, by step modulo length.
    post_ring: Vec<Vec<u32>>,
    /// Room for the reductions of `every` kernels.
    scratch: Vec<f64>,
    /// Decay factors of the current step (`Slot::Factor`) and the reference
    /// time of each decay rate.
    factors: Vec<f64>,
    t_ref: Vec<f64>,
    ptrs: Vec<*mut f64>,
    pre_side_ptrs: Vec<*mut f64>,
    post_side_ptrs: Vec<*mut f64>,
}

impl ProjState {
    pub fn n_synapses(&self) -> usize {
        self.targets.len()
    }

    pub fn heterogeneous(&self) -> bool {
        !self.seg_start.is_empty()
    }

    /// Bytes of memory per synapse in this projection's storage.
    pub fn bytes_per_synapse(&self) -> f64 {
        let n = self.n_synapses().max(1) as f64;
        let per_syn = 4
            + 8 * self.columns.len()
            + 8 * usize::from(!self.post_syn.is_empty())
            + 4 * usize::from(!self.syn_pre.is_empty());
        let sides = 8
            * (self.pre_side.iter().map(Vec::len).sum::<usize>() + self.post_side.iter().map(Vec::len).sum::<usize>());
        let rows = 4 * self.row_start.len()
            + 4 * (self.seg_start.len() + self.seg_pre.len() + self.seg_delay.len() + self.pre_seg.len())
            + 4 * self.post_start.len();
        per_syn as f64 + (rows + sides) as f64 / n
    }

    /// The presynaptic neuron of a synapse, by binary search in the rows.
    pub fn pre_of(&self, syn: u32) -> u32 {
        (self.row_start.partition_point(|&s| s <= syn) - 1) as u32
    }
}

/// Why a run stopped early.
#[derive(Clone, Debug, PartialEq)]
pub enum RunError {
    NonFinite {
        group: String,
        variable: String,
        index: usize,
        time: f64,
    },
    /// Found by the periodic scan of synaptic state, at or before `time`.
    NonFiniteSynapse {
        projection: String,
        variable: String,
        which: String,
        time: f64,
    },
    /// An `abort when` condition held.
    Aborted {
        message: String,
    },
}

impl RunError {
    /// `run.json`'s status for this outcome.
    pub fn status(&self) -> &'static str {
        match self {
            RunError::Aborted { .. } => "aborted",
            _ => "failed",
        }
    }
}

/// Synaptic state written by event kernels is scanned for non-finite values
/// this often (in steps).
const SCAN_PERIOD: u64 = 100;

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::NonFinite { group, variable, index, time } => write!(
                f,
                "`{variable}` of neuron {index} in population `{group}` became non-finite at t = {}",
                crate::units::format_quantity(*time, crate::units::Dim::TIME)
            ),
            RunError::Aborted { message } => f.write_str(message),
            RunError::NonFiniteSynapse { projection, variable, which, time } => write!(
                f,
                "`{variable}` of {which} in projection `{projection}` became non-finite (found at t = {})",
                crate::units::format_quantity(*time, crate::units::Dim::TIME)
            ),
        }
    }
}

pub struct Simulation<'p> {
    pub program: &'p Program,
    pub groups: Vec<GroupState>,
    pub projections: Vec<ProjState>,
    pub recordings: Recordings,
    /// The next step to run.
    pub step: u64,
    group_table: Vec<*const *mut f64>,
    backend: Box<dyn Backend + 'p>,
    /// Whether plastic writes happen (false in `plasticity off` phases).
    pub plastic: bool,
    /// The phase under way.
    phase: usize,
    /// Rates of poisson groups outside presentations.
    base_rates: Vec<Option<Vec<f64>>>,
    presenting: Option<Presenting>,
    aborts: Vec<AbortWindow>,
}

/// A stimulus set being presented.
struct Presenting {
    stimuli: u32,
    /// The current block's order of patterns, and the position in it.
    order: Vec<u32>,
    position: usize,
    block: u64,
    /// Step of the next change, and the presentation period.
    next: u64,
    each: u64,
}

/// Spike counts of the last 100 ms, for `abort when`.
struct AbortWindow {
    counts: Vec<u64>,
    sum: u64,
}

impl<'p> Simulation<'p> {
    pub fn backend_name(&self) -> &'static str {
        self.backend.name()
    }

    pub fn set_backend(&mut self, backend: Box<dyn Backend + 'p>) {
        self.backend = backend;
    }

    fn args(&self) -> KernelArgs {
        let t = self.step as f64 * self.program.dt;
        KernelArgs {
            groups: self.group_table.as_ptr(),
            t,
            step: self.step as f64,
            seed: self.program.seed,
            ..KernelArgs::default()
        }
    }

    /// The time-varying rates of a poisson group's neurons with a candidate
    /// spike in step `n`, by its compiled rate kernel (rates draw no random
    /// numbers: sema rejects them).
    fn source_rates(&mut self, g: usize, n: u64) -> Result<(), RunError> {
        let GroupKind::Poisson { thinning: Some((k, _)), .. } = self.program.groups[g].kind else { return Ok(()) };
        let state = &self.groups[g];
        let Source::Poisson(p) = &state.source else { return Ok(()) };
        let Some(due) = p.due(n).filter(|d| !d.is_empty()) else { return Ok(()) };
        let mut args = self.args();
        args.own = state.ptrs.as_ptr();
        args.list = due.as_ptr();
        args.list_len = due.len() as u64;
        // SAFETY: the list holds valid neuron indices of the group, whose
        // own columns the kernel writes.
        let acc = unsafe { self.backend.run(k, &mut args) };
        if acc.is_nan() {
            return Err(self.non_finite(g, n));
        }
        Ok(())
    }

    /// Runs `n` steps (or up to the end of the program).
    pub fn run_steps(&mut self, n: u64) -> Result<(), RunError> {
        let end = (self.step + n).min(self.program.n_steps);
        while self.step < end {
            self.one_step()?;
        }
        Ok(())
    }

    pub fn finished(&self) -> bool {
        self.step >= self.program.n_steps
    }

    /// Sets the decay factors of scaled hoisted variables for time t. When a
    /// factor gets small, the stored values are rescaled to the current
    /// time (F = 1), so neither F nor 1/F ever leaves [e^-30, e^30].
    fn update_factors(&mut self, t: f64) {
        for (p, proj) in self.program.projections.iter().enumerate() {
            let ps = &mut self.projections[p];
            for (r, &rate) in proj.decay_rates.iter().enumerate() {
                let mut x = rate * (t - ps.t_ref[r]);
                if x < -30.0 {
                    let f = x.exp();
                    for s in proj.scaled.iter().filter(|s| s.rate as usize == r) {
                        let col = if s.pre_side {
                            &mut ps.pre_side[s.column as usize]
                        } else {
                            &mut ps.post_side[s.column as usize]
                        };
                        col.iter_mut().for_each(|v| *v *= f);
                    }
                    ps.t_ref[r] = t;
                    x = 0.0;
                }
                ps.factors[2 * r] = x.exp();
                ps.factors[2 * r + 1] = (-x).exp();
            }
        }
    }

    /// Phase boundaries and stimulus presentations that fall on step `n`.
    fn schedule(&mut self, n: u64) {
        let program = self.program;
        if let Some(k) = program.phases.iter().position(|p| p.start == n && p.steps > 0) {
            if n > 0 {
                self.close_phase(n);
            }
            self.phase = k;
            let phase = &program.phases[k];
            self.plastic = phase.plasticity;
            for set in &phase.sets {
                self.apply_set(set, n);
            }
            self.presenting = phase.present.map(|(s, each)| Presenting {
                stimuli: s,
                order: Vec::new(),
                position: 0,
                block: 0,
                next: n,
                each,
            });
            if self.presenting.is_none() {
                self.restore_rates(n);
            }
        }
        let phase_end = program.phases.get(self.phase).map(|p| p.start + p.steps).unwrap_or(program.n_steps);
        let Some(pr) = &mut self.presenting else { return };
        if pr.next != n {
            return;
        }
        let s = pr.stimuli as usize;
        let stim = &program.stimuli[s];
        if pr.position >= pr.order.len() {
            // A new block: every pattern once, in an order drawn from the
            // seed (Fisher-Yates).
            let mut order: Vec<u32> = (0..stim.count as u32).collect();
            for j in (1..order.len()).rev() {
                let key = pr.block * stim.count as u64 + j as u64;
                let u = crate::rng::uniform(program.seed, 0x7000_0000 | s as u32, self.phase as u64, key, 0);
                order.swap(j, ((u * (j + 1) as f64) as usize).min(j));
            }
            pr.order = order;
            pr.position = 0;
            pr.block += 1;
        }
        let pattern = pr.order[pr.position];
        pr.position += 1;
        pr.next = n + pr.each;
        let end = pr.next.min(phase_end);
        let g = stim.group as usize;
        let mut rates = vec![stim.rest; self.groups[g].size];
        for &i in &self.recordings.patterns[s][pattern as usize] {
            rates[i as usize] = stim.rate;
        }
        if let Source::Poisson(p) = &mut self.groups[g].source {
            p.set_rates(&rates, n);
        }
        let dt = program.dt;
        self.recordings.presentations.push(record::PresentationRecord {
            stimuli: s as u32,
            pattern,
            t0: n as f64 * dt,
            t1: end as f64 * dt,
        });
    }

    /// Gives stimulated sources back their own rates.
    fn restore_rates(&mut self, n: u64) {
        for stim in &self.program.stimuli {
            let g = stim.group as usize;
            if let (Some(base), Source::Poisson(p)) = (&self.base_rates[g], &mut self.groups[g].source) {
                p.set_rates(base, n);
            }
        }
    }

    fn apply_set(&mut self, set: &ir::SetAction, n: u64) {
        let seed = self.program.seed;
        match set {
            ir::SetAction::Rate { group, rate } => {
                let g = *group as usize;
                let size = self.groups[g].size;
                self.base_rates[g] = Some(vec![*rate; size]);
                if let Source::Poisson(p) = &mut self.groups[g].source {
                    p.set_rates(&vec![*rate; size], n);
                }
            }
            ir::SetAction::Column { group, column, value } => {
                let g = *group as usize;
                let stream = 0x6800_0000 | *group;
                for i in 0..self.groups[g].size {
                    let el = ir::interp::Element { own: i as u64, key: i as u64, ..Default::default() };
                    let v = ir::interp::eval_at(value, seed, stream, el, n, &[], n as f64 * self.program.dt);
                    self.groups[g].columns[*column as usize][i] = v;
                }
            }
        }
    }

    /// Records the end of the current phase at step `n`, with the weights
    /// of measured projections.
    fn close_phase(&mut self, n: u64) {
        let program = self.program;
        let Some(phase) = program.phases.get(self.phase) else { return };
        let dt = program.dt;
        let t0 = phase.start as f64 * dt;
        if self.recordings.phases.iter().any(|(name, s, _)| *name == phase.name && *s == t0) {
            return;
        }
        self.recordings.phases.push((phase.name.clone(), t0, n as f64 * dt));
        for m in &program.measures {
            let crate::hir::MeasureTarget::Projection(p) = m.target else { continue };
            if self.recordings.weights_at_phase_end.iter().any(|(q, ph, _)| *q == p && *ph == self.phase as u32) {
                continue;
            }
            let proj = &program.projections[p as usize];
            let ps = &self.projections[p as usize];
            let column = proj.columns.iter().position(|c| c.name == "w").or(if proj.columns.is_empty() {
                None
            } else {
                Some(0)
            });
            let w = match column {
                Some(c) => ps.columns[c].clone(),
                None => vec![proj.folded.first().map(|f| f.1).unwrap_or(0.0); ps.n_synapses()],
            };
            self.recordings.weights_at_phase_end.push((p, self.phase as u32, w));
        }
    }

    /// After an early stop: closes the current phase, so that what was
    /// recorded has consistent windows.
    pub fn finish(&mut self) {
        self.close_phase(self.step);
    }

    /// `abort when`: the rate of the last 100 ms against its threshold.
    fn check_aborts(&mut self, n: u64) -> Result<(), RunError> {
        let program = self.program;
        for (k, a) in program.aborts.iter().enumerate() {
            let g = a.group as usize;
            let count = self.groups[g].spikes.len() as u64;
            let w = &mut self.aborts[k];
            let len = w.counts.len();
            let slot = (n as usize) % len;
            w.sum = w.sum - w.counts[slot] + count;
            w.counts[slot] = count;
            if (n as usize) + 1 < len {
                continue;
            }
            let rate = w.sum as f64 / (self.groups[g].size as f64 * len as f64 * program.dt);
            if a.hit(rate) {
                let t = (n + 1) as f64 * program.dt;
                let op = a.op();
                return Err(RunError::Aborted {
                    message: format!(
                        "aborted at t = {}: the rate of `{}` over the last 100 ms was {rate:.1} Hz ({op} {} Hz)",
                        crate::units::format_quantity(t, crate::units::Dim::TIME),
                        program.groups[g].name,
                        a.threshold
                    ),
                });
            }
        }
        Ok(())
    }

    /// One time step, in the order of LANGUAGE.md section 6.
    fn one_step(&mut self) -> Result<(), RunError> {
        let n = self.step;
        let program = self.program;
        self.schedule(n);
        self.update_factors(n as f64 * program.dt);
        // 1. Records of state at t.
        self.sample_records(n);
        // 2. Continuous synaptic equations (reading neurons and signals at
        // t), then neurons and signals, whose thresholds are step 3.
        for p in 0..self.projections.len() {
            if let (Some(k), true) = (program.projections[p].step, self.plastic) {
                let mut args = self.proj_args(p);
                args.start = 0;
                args.end = self.projections[p].n_synapses() as u64;
                // SAFETY: synapse indices are within the projection's columns,
                // and syn_pre/targets give valid neuron indices.
                let acc = unsafe { self.backend.run(k, &mut args) };
                if acc.is_nan() {
                    return Err(self.non_finite(program.projections[p].post.group as usize, n));
                }
            }
        }
        for g in 0..self.groups.len() {
            let group = &program.groups[g];
            self.source_rates(g, n)?;
            let state = &mut self.groups[g];
            state.spikes.clear();
            match &mut state.source {
                Source::Poisson(p) => {
                    let rates = match group.kind {
                        GroupKind::Poisson { thinning: Some((_, c)), .. } => state.columns[c as usize].as_slice(),
                        _ => &[],
                    };
                    p.emit(n, rates, &mut state.spikes)
                }
                Source::SpikeTimes(s) => s.emit(n, &mut state.spikes),
                Source::None => {}
            }
            if let Some(k) = group.step {
                let mut args = self.args();
                let state = &mut self.groups[g];
                state.spikes.clear();
                state.spikes.reserve(state.size);
                args.own = state.ptrs.as_ptr();
                args.start = 0;
                args.end = state.size as u64;
                args.spikes_out = state.spikes.as_mut_ptr();
                // SAFETY: own columns have `size` elements and `spikes` room
                // for `size` indices.
                let acc = unsafe { self.backend.run(k, &mut args) };
                let state = &mut self.groups[g];
                let n_spikes = (args.n_spikes as usize).min(state.size);
                // SAFETY: the kernel wrote `n_spikes` indices into the
                // reserved capacity.
                unsafe { state.spikes.set_len(n_spikes) };
                if acc.is_nan() {
                    return Err(self.non_finite(g, n));
                }
            }
            let state = &mut self.groups[g];
            if let Some(ls) = state.lastspike {
                let col = &mut state.columns[ls];
                for &i in &state.spikes {
                    col[i as usize] = n as f64;
                }
            }
            self.recordings.spike_counts[g] += state.spikes.len() as u64;
        }
        // 4. Synaptic events: every `on pre` (arrivals of this step), then
        // every `on post` (postsynaptic spikes, after `post_delay`), as in
        // Brian2 where pre pathways run before post pathways.
        for p in 0..self.projections.len() {
            self.deliver_pre(p, n)?;
        }
        for p in 0..self.projections.len() {
            self.deliver_post(p, n)?;
        }
        // 5. Resets.
        for g in 0..self.groups.len() {
            if let Some(k) = program.groups[g].reset {
                if self.groups[g].spikes.is_empty() {
                    continue;
                }
                let mut args = self.args();
                let state = &self.groups[g];
                args.own = state.ptrs.as_ptr();
                args.list = state.spikes.as_ptr();
                args.list_len = state.spikes.len() as u64;
                // SAFETY: the list holds valid neuron indices.
                let acc = unsafe { self.backend.run(k, &mut args) };
                if acc.is_nan() {
                    return Err(self.non_finite(g, n));
                }
            }
        }
        // 6. `every` blocks whose period divides t + dt: neurons and signals,
        // then synapses.
        for g in 0..self.groups.len() {
            for &(period, k) in &program.groups[g].every {
                if (n + 1).is_multiple_of(period) {
                    let mut args = self.args();
                    let state = &self.groups[g];
                    args.own = state.ptrs.as_ptr();
                    args.end = state.size as u64;
                    // SAFETY: every kernels write no spikes.
                    let acc = unsafe { self.backend.run(k, &mut args) };
                    if acc.is_nan() {
                        return Err(self.non_finite(g, n));
                    }
                }
            }
        }
        for p in 0..self.projections.len() {
            let every = if self.plastic { &program.projections[p].every } else { &program.projections[p].frozen_every };
            for &(period, k) in every {
                if !(n + 1).is_multiple_of(period) {
                    continue;
                }
                let n_red = program.kernels[k as usize].reductions.len();
                let stride = self.groups[program.projections[p].pre.group as usize]
                    .size
                    .max(self.groups[program.projections[p].post.group as usize].size);
                let ps = &mut self.projections[p];
                ps.scratch.clear();
                ps.scratch.resize(n_red * stride, 0.0);
                let mut args = self.proj_args(p);
                args.start = 0;
                args.end = self.projections[p].n_synapses() as u64;
                args.scratch = self.projections[p].scratch.as_mut_ptr();
                args.scratch_stride = stride as u64;
                // SAFETY: as for continuous kernels; the scratch buffer holds
                // `n_red * stride` values.
                let acc = unsafe { self.backend.run(k, &mut args) };
                if acc.is_nan() {
                    return Err(self.non_finite(program.projections[p].post.group as usize, n));
                }
            }
        }
        self.record_spikes(n);
        let aborted = self.check_aborts(n);
        self.step += 1;
        if self.step == program.n_steps {
            self.close_phase(self.step);
        }
        aborted?;
        if self.step.is_multiple_of(SCAN_PERIOD) || self.step == program.n_steps {
            self.scan_synapses()?;
        }
        Ok(())
    }

    /// Looks for non-finite synaptic state (event kernels do not check
    /// their stores; see `ir::checks_stores`).
    fn scan_synapses(&self) -> Result<(), RunError> {
        let t = self.step as f64 * self.program.dt;
        for (p, ps) in self.projections.iter().enumerate() {
            let proj = &self.program.projections[p];
            for (c, col) in ps.columns.iter().enumerate() {
                if all_finite(col) {
                    continue;
                }
                if let Some(s) = col.iter().position(|v| !v.is_finite()) {
                    return Err(RunError::NonFiniteSynapse {
                        projection: proj.name.clone(),
                        variable: proj.columns[c].name.clone(),
                        which: format!("the synapse {} -> {}", ps.pre_of(s as u32), ps.targets[s]),
                        time: t,
                    });
                }
            }
            for (side, cols, names) in [(true, &ps.pre_side, &proj.pre_side), (false, &ps.post_side, &proj.post_side)] {
                for (c, col) in cols.iter().enumerate() {
                    if all_finite(col) {
                        continue;
                    }
                    if let Some(i) = col.iter().position(|v| !v.is_finite()) {
                        return Err(RunError::NonFiniteSynapse {
                            projection: proj.name.clone(),
                            variable: names[c].name.clone(),
                            which: format!("the synapses of {}synaptic neuron {i}", if side { "pre" } else { "post" }),
                            time: t,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Arguments for a kernel of projection `p`.
    fn proj_args(&self, p: usize) -> KernelArgs {
        let proj = &self.program.projections[p];
        let ps = &self.projections[p];
        let mut args = self.args();
        args.own = ps.ptrs.as_ptr();
        args.pre = self.groups[proj.pre.group as usize].ptrs.as_ptr();
        args.post = self.groups[proj.post.group as usize].ptrs.as_ptr();
        args.pre_side = ps.pre_side_ptrs.as_ptr();
        args.post_side = ps.post_side_ptrs.as_ptr();
        args.targets = ps.targets.as_ptr();
        args.syn_pre = ps.syn_pre.as_ptr();
        args.post_start = ps.post_start.as_ptr();
        args.post_syn = ps.post_syn.as_ptr();
        args.factors = ps.factors.as_ptr();
        args
    }

    /// Queues this step's presynaptic spikes and runs `on pre` for those
    /// arriving now.
    fn deliver_pre(&mut self, p: usize, n: u64) -> Result<(), RunError> {
        let program = self.program;
        let proj = &program.projections[p];
        let pre_g = proj.pre.group as usize;
        {
            let (groups, projs) = (&self.groups, &mut self.projections);
            let ps = &mut projs[p];
            let len = ps.ring.len() as u64;
            let spikes = &groups[pre_g].spikes;
            if ps.heterogeneous() {
                for &i in spikes {
                    let i = i as usize;
                    for s in ps.pre_seg[i]..ps.pre_seg[i + 1] {
                        let slot = ((n + ps.seg_delay[s as usize] as u64) % len) as usize;
                        ps.ring[slot].push(s);
                    }
                }
            } else {
                let slot = ((n + ps.delay as u64) % len) as usize;
                for &i in spikes {
                    if ps.row_start[i as usize] != ps.row_start[i as usize + 1] {
                        ps.ring[slot].push(i);
                    }
                }
            }
        }
        let slot = (n % self.projections[p].ring.len() as u64) as usize;
        let on_pre = if self.plastic { proj.on_pre } else { proj.frozen_on_pre };
        if let Some(k) = on_pre
            && !self.projections[p].ring[slot].is_empty()
        {
            let mut args = self.proj_args(p);
            let ps = &self.projections[p];
            args.list = ps.ring[slot].as_ptr();
            args.list_len = ps.ring[slot].len() as u64;
            if ps.heterogeneous() {
                args.seg_start = ps.seg_start.as_ptr();
                args.seg_pre = ps.seg_pre.as_ptr();
            } else {
                args.seg_start = ps.row_start.as_ptr();
                args.seg_pre = ps.identity.as_ptr();
            }
            // SAFETY: segments index valid synapses, targets valid post
            // neurons, and pre indices valid pre neurons.
            let acc = unsafe { self.backend.run(k, &mut args) };
            if acc.is_nan() {
                return Err(self.non_finite(proj.post.group as usize, n));
            }
        }
        self.projections[p].ring[slot].clear();
        Ok(())
    }

    /// Runs `on post` for the postsynaptic spikes it sees now (those of
    /// `post_delay` steps ago).
    fn deliver_post(&mut self, p: usize, n: u64) -> Result<(), RunError> {
        let program = self.program;
        let proj = &program.projections[p];
        let Some(k) = (if self.plastic { proj.on_post } else { proj.frozen_on_post }) else { return Ok(()) };
        let post_g = proj.post.group as usize;
        let sel = proj.post;
        let len = self.projections[p].post_ring.len() as u64;
        let arrive = ((n + proj.post_delay) % len) as usize;
        {
            let (groups, projs) = (&self.groups, &mut self.projections);
            let spikes = &groups[post_g].spikes;
            projs[p].post_ring[arrive]
                .extend(spikes.iter().copied().filter(|&j| (j as usize) >= sel.start && (j as usize) < sel.end));
        }
        let now = (n % len) as usize;
        if !self.projections[p].post_ring[now].is_empty() {
            let mut args = self.proj_args(p);
            let ps = &self.projections[p];
            args.list = ps.post_ring[now].as_ptr();
            args.list_len = ps.post_ring[now].len() as u64;
            // SAFETY: as for `on pre`, through the post index.
            let acc = unsafe { self.backend.run(k, &mut args) };
            if acc.is_nan() {
                return Err(self.non_finite(post_g, n));
            }
        }
        self.projections[p].post_ring[now].clear();
        Ok(())
    }

    /// Finds the first non-finite value of a group for the error message.
    fn non_finite(&self, g: usize, n: u64) -> RunError {
        let group = &self.program.groups[g];
        for (c, col) in self.groups[g].columns.iter().enumerate() {
            if let Some(i) = col.iter().position(|v| !v.is_finite()) {
                return RunError::NonFinite {
                    group: group.name.clone(),
                    variable: group.columns[c].name.clone(),
                    index: i,
                    time: n as f64 * self.program.dt,
                };
            }
        }
        // A projection's own column (a synaptic variable).
        for (p, ps) in self.projections.iter().enumerate() {
            for (c, col) in ps.columns.iter().enumerate() {
                if let Some(i) = col.iter().position(|v| !v.is_finite()) {
                    let proj = &self.program.projections[p];
                    return RunError::NonFinite {
                        group: proj.name.clone(),
                        variable: proj.columns[c].name.clone(),
                        index: i,
                        time: n as f64 * self.program.dt,
                    };
                }
            }
        }
        RunError::NonFinite {
            group: group.name.clone(),
            variable: "?".into(),
            index: 0,
            time: n as f64 * self.program.dt,
        }
    }

    fn sample_records(&mut self, n: u64) {
        let t = n as f64 * self.program.dt;
        for rec in &mut self.recordings.states {
            if !n.is_multiple_of(rec.every) {
                continue;
            }
            rec.times.push(t);
            let cols = &self.groups[rec.group as usize].columns;
            for (_, c, data) in &mut rec.vars {
                let col = &cols[*c as usize];
                data.extend(rec.indices.iter().map(|&i| col[i as usize]));
            }
        }
        for rec in &mut self.recordings.synapses {
            if !n.is_multiple_of(rec.every) {
                continue;
            }
            rec.times.push(t);
            let ps = &self.projections[rec.proj as usize];
            let cols = &ps.columns;
            // The value of a synaptic variable of recorded synapse k.
            let value = |v: ir::SynVar, k: usize| -> f64 {
                match v {
                    ir::SynVar::Column(c) => cols[c as usize][rec.synapses[k] as usize],
                    ir::SynVar::Folded(x) => x,
                    ir::SynVar::PreSide(c) => ps.pre_side[c as usize][rec.pre[k] as usize],
                    ir::SynVar::PostSide(c) => ps.post_side[c as usize][rec.post[k] as usize],
                    ir::SynVar::EventDriven(_) => f64::NAN,
                }
            };
            let proj = &self.program.projections[rec.proj as usize];
            for (_, v, data) in &mut rec.vars {
                if let ir::SynVar::EventDriven(e) = v {
                    let ed = &proj.event_driven[*e as usize];
                    if let Some(r) = ed.factor {
                        let f = ps.factors[2 * r as usize];
                        data.extend((0..rec.synapses.len()).map(|k| ed.x_inf + value(ed.value, k) * f));
                        continue;
                    }
                    for k in 0..rec.synapses.len() {
                        let (x, lu) = (value(ed.value, k), value(ed.lastupdate, k));
                        let elapsed = t - lu;
                        data.push(if ed.rate != 0.0 {
                            ed.x_inf + (x - ed.x_inf) * (ed.rate * elapsed).exp()
                        } else {
                            x + ed.drift * elapsed
                        });
                    }
                    continue;
                }
                match v {
                    ir::SynVar::Column(c) => {
                        let col = &cols[*c as usize];
                        data.extend(rec.synapses.iter().map(|&s| col[s as usize]));
                    }
                    ir::SynVar::Folded(x) => data.extend(rec.synapses.iter().map(|_| *x)),
                    ir::SynVar::PreSide(c) => {
                        let col = &self.projections[rec.proj as usize].pre_side[*c as usize];
                        data.extend(rec.pre.iter().map(|&i| col[i as usize]));
                    }
                    ir::SynVar::PostSide(c) => {
                        let col = &self.projections[rec.proj as usize].post_side[*c as usize];
                        data.extend(rec.post.iter().map(|&j| col[j as usize]));
                    }
                    ir::SynVar::EventDriven(_) => {}
                }
            }
        }
    }

    fn record_spikes(&mut self, n: u64) {
        let t = n as f64 * self.program.dt;
        for rec in &mut self.recordings.spikes {
            let spikes = &self.groups[rec.group as usize].spikes;
            rec.times.extend(std::iter::repeat_n(t, spikes.len()));
            rec.indices.extend_from_slice(spikes);
        }
        for rec in &mut self.recordings.rates {
            let bin = (n / rec.bin) as usize;
            if rec.counts.len() <= bin {
                rec.counts.resize(bin + 1, 0);
            }
            rec.counts[bin] += self.groups[rec.group as usize].spikes.len() as u64;
        }
    }

    /// Group kinds, for summaries.
    pub fn is_neuron_group(&self, g: usize) -> bool {
        matches!(
            self.program.groups[g].kind,
            GroupKind::Neurons { .. } | GroupKind::Poisson { .. } | GroupKind::SpikeTimes(_)
        )
    }
}

/// Whether every value is finite: `x * 0` is 0 for finite x and NaN
/// otherwise, summed in independent lanes the compiler vectorizes (a
/// branch per element costs ~10x more on the synapse scan).
fn all_finite(col: &[f64]) -> bool {
    let mut acc = [0.0f64; 8];
    let chunks = col.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..8 {
            acc[k] += c[k] * 0.0;
        }
    }
    rest.iter().all(|v| v.is_finite()) && acc.iter().sum::<f64>() == 0.0
}

#[cfg(test)]
mod tests {
    #[test]
    fn all_finite_finds_every_non_finite_value() {
        let mut v: Vec<f64> = (0..37).map(|k| k as f64 * -1.5e300).collect();
        assert!(super::all_finite(&v));
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            for at in [0, 7, 8, 31, 32, 36] {
                let old = v[at];
                v[at] = bad;
                assert!(!super::all_finite(&v), "{bad} at {at}");
                v[at] = old;
            }
        }
        assert!(super::all_finite(&[]));
    }
}
