//! The time step (LANGUAGE.md section 6, Brian2's order) and the delivery
//! of synaptic events.
//!
//! Every kernel call goes through [`Stepper::call`], with arguments built
//! by [`Stepper::group_args`] or [`Stepper::proj_args`] from this
//! simulation's state — which `build` made from the same program the
//! kernels were compiled from.

use crate::error::{RunError, SynapseRef};
use crate::partition::Partition;
use crate::profile::Part;
use crate::state::Source;
use crate::team::Team;
use crate::{Program, State};
use hebb_ir::abi::KernelArgs;
use hebb_ir::{GroupKind, KernelId, Kernels, Stmt, SynVar};
use std::time::Instant;

/// Synaptic state written by event kernels is scanned for non-finite values
/// this often (in steps).
const SCAN_PERIOD: u64 = 100;

/// A simulation's state with its program and kernels, for one call into
/// the step loop.
pub(crate) struct Stepper<'a> {
    pub program: &'a Program,
    pub kernels: &'a dyn Kernels,
    pub st: &'a mut State,
    /// With more than one thread: the team and the threads' shares.
    pub parallel: Option<(&'a Team<'a>, &'a Partition)>,
    /// The argument blocks of split calls, reused from call to call.
    pub args_buf: Vec<KernelArgs>,
}

/// One argument block per thread for a split call, made by `block`, in the
/// reused buffer `buf` (the stepper's `args_buf`; hand it back after the
/// call).
fn split_args(buf: &mut Vec<KernelArgs>, threads: usize, block: impl Fn(usize) -> KernelArgs) -> Vec<KernelArgs> {
    let mut args = std::mem::take(buf);
    args.clear();
    args.extend((0..threads).map(block));
    args
}

impl<'a> Stepper<'a> {
    /// One time step, in the order of LANGUAGE.md section 6.
    pub fn one_step(&mut self) -> Result<(), RunError> {
        let n = self.st.step;
        let t = self.clock();
        self.schedule(n);
        self.update_factors(n as f64 * self.program.dt);
        self.charge(t, Part::Schedule);
        // 1. Records of state at t.
        let t = self.clock();
        self.sample_records(n);
        self.charge(t, Part::Records);
        // 2. Continuous synaptic equations (reading neurons and signals at
        // t), then neurons and signals, whose thresholds are step 3.
        self.continuous_synapses(n)?;
        for g in 0..self.st.groups.len() {
            self.advance_group(g, n)?;
        }
        // 4. Synaptic events: every `on pre` (arrivals of this step), then
        // every `on post` (postsynaptic spikes, after `post_delay`), as in
        // Brian2 where pre pathways run before post pathways.
        for p in 0..self.st.projections.len() {
            self.deliver_pre(p, n)?;
        }
        for p in 0..self.st.projections.len() {
            let t = self.clock();
            self.deliver_post(p, n)?;
            self.charge(t, Part::OnPost(p));
        }
        // 5. Resets.
        self.resets(n)?;
        // 6. `every` blocks whose period divides t + dt: neurons and signals,
        // then synapses.
        self.group_every(n)?;
        self.projection_every(n)?;
        self.end_step(n)
    }

    /// Records spikes, checks aborts, moves to the next step, and scans
    /// synaptic state every `SCAN_PERIOD` steps.
    fn end_step(&mut self, n: u64) -> Result<(), RunError> {
        let t = self.clock();
        self.record_spikes(n);
        self.charge(t, Part::Records);
        let t = self.clock();
        let aborted = self.check_aborts(n);
        self.st.step += 1;
        if self.st.step == self.program.n_steps {
            self.close_phase(self.st.step);
        }
        self.charge(t, Part::Schedule);
        aborted?;
        if self.st.step.is_multiple_of(SCAN_PERIOD) || self.st.step == self.program.n_steps {
            let t = self.clock();
            self.scan_synapses()?;
            self.charge(t, Part::Scan);
        }
        Ok(())
    }

    /// The time now, when profiling.
    fn clock(&self) -> Option<Instant> {
        self.st.profile.as_ref().map(|_| Instant::now())
    }

    /// Adds the time since `t` (from [`Stepper::clock`]) to `part`.
    fn charge(&mut self, t: Option<Instant>, part: Part) {
        if let (Some(t), Some(profile)) = (t, &mut self.st.profile) {
            profile.add(part, t.elapsed());
        }
    }

    /// Runs kernel `k`; a NaN accumulator becomes an error naming the first
    /// non-finite value of group `blame` (or of any projection).
    fn call(&self, k: KernelId, args: &mut KernelArgs, blame: usize, n: u64) -> Result<(), RunError> {
        // SAFETY: `args` comes from `group_args` or `proj_args` plus the
        // lists, ranges and buffers each caller documents; all of it is
        // this simulation's state, built by `build` from `self.program`,
        // which is `self.kernels`' own program. So every column table has
        // the program's columns with one value per element, and every index
        // a kernel of kind `k` reads is in range.
        let acc = unsafe { self.kernels.run(k, args) };
        if acc.is_nan() { Err(self.non_finite(blame, n)) } else { Ok(()) }
    }

    /// The team and partition, if kernel `k` may be split and `work`
    /// elements are enough to pay for it.
    fn split(&self, k: KernelId, work: usize) -> Option<(&'a Team<'a>, &'a Partition)> {
        let (team, part) = self.parallel?;
        (part.splittable[k.index()] && work >= part.grain * part.threads).then_some((team, part))
    }

    /// Runs kernel `k` split across the team over element ranges, thread τ
    /// over `bounds[τ]..bounds[τ + 1]` with the arguments `base` otherwise.
    ///
    /// # Safety
    /// As [`Stepper::call_split`]: the ranges are disjoint, and the kernel
    /// writes its own element only.
    unsafe fn call_ranges(
        &mut self,
        team: &Team<'_>,
        k: KernelId,
        bounds: &[usize],
        base: KernelArgs,
        blame: usize,
        n: u64,
    ) -> Result<(), RunError> {
        let mut args = split_args(&mut self.args_buf, bounds.len() - 1, |tau| KernelArgs {
            start: bounds[tau] as u64,
            end: bounds[tau + 1] as u64,
            ..base
        });
        // SAFETY: the caller's contract.
        let result = unsafe { self.call_split(team, k, &mut args, blame, n) };
        self.args_buf = args;
        result
    }

    /// Runs kernel `k` split across the team, thread τ with `args[τ]`; a
    /// NaN accumulator becomes an error as in [`Stepper::call`].
    ///
    /// # Safety
    ///
    /// Each block is valid for kernel `k` (as for `call`), and the blocks
    /// share the work as `partition` describes: kernel `k` is splittable,
    /// and each block covers only elements (neurons, synapses, postsynaptic
    /// neurons) of one thread.
    unsafe fn call_split(
        &self,
        team: &Team<'_>,
        k: KernelId,
        args: &mut [KernelArgs],
        blame: usize,
        n: u64,
    ) -> Result<(), RunError> {
        if let Some((_, part)) = self.parallel {
            part.split_calls.set(part.split_calls.get() + 1);
        }
        // SAFETY: the caller's contract.
        let acc = unsafe { team.run(self.kernels, k, args) };
        if acc.is_nan() { Err(self.non_finite(blame, n)) } else { Ok(()) }
    }

    /// Arguments every kernel call starts from: time, seed and the group
    /// table (signals).
    fn args(&self) -> KernelArgs {
        let t = self.st.step as f64 * self.program.dt;
        KernelArgs {
            groups: self.st.group_table.as_ptr(),
            t,
            step: self.st.step as f64,
            seed: self.program.seed,
            ..KernelArgs::default()
        }
    }

    /// Arguments for a kernel of group `g`: its columns.
    fn group_args(&self, g: usize) -> KernelArgs {
        KernelArgs { own: self.st.groups[g].columns.table(), ..self.args() }
    }

    /// Arguments for a kernel of projection `p`: its columns, those of its
    /// pre and post groups, its hoisted tables, indices and decay factors.
    fn proj_args(&self, p: usize) -> KernelArgs {
        let proj = &self.program.projections[p];
        let ps = &self.st.projections[p];
        KernelArgs {
            own: ps.columns.table(),
            pre: self.st.groups[proj.pre.group.index()].columns.table(),
            post: self.st.groups[proj.post.group.index()].columns.table(),
            pre_side: ps.pre_side.table(),
            post_side: ps.post_side.table(),
            targets: ps.targets.as_ptr(),
            syn_pre: ps.syn_pre.as_ptr(),
            post_start: ps.post_start.as_ptr(),
            post_syn: ps.post_syn.as_ptr(),
            factors: ps.factors.as_ptr(),
            ..self.args()
        }
    }

    /// Continuous synaptic equations, over every synapse (plastic phases
    /// only).
    fn continuous_synapses(&mut self, n: u64) -> Result<(), RunError> {
        if !self.st.plastic {
            return Ok(());
        }
        for (p, proj) in self.program.projections.iter().enumerate() {
            if let Some(k) = proj.step {
                let t = self.clock();
                self.over_synapses(p, k, n)?;
                self.charge(t, Part::Continuous(p));
            }
        }
        Ok(())
    }

    /// Runs a projection's kernel over every synapse (continuous equations,
    /// `every` blocks without reductions), split by synapse ranges when it
    /// may be: each synapse is its own element.
    fn over_synapses(&mut self, p: usize, k: KernelId, n: u64) -> Result<(), RunError> {
        let blame = self.program.projections[p].post.group.index();
        let n_syn = self.st.projections[p].n_synapses();
        if let Some((team, part)) = self.split(k, n_syn) {
            let b = crate::team::split(n_syn, part.threads, 8);
            let base = self.proj_args(p);
            // SAFETY: disjoint synapse ranges of a splittable kernel, which
            // writes its own synapse only.
            return unsafe { self.call_ranges(team, k, &b, base, blame, n) };
        }
        // Synapses `0..n_synapses`; `syn_pre` and `targets` give their
        // neurons.
        let mut args = KernelArgs { start: 0, end: n_syn as u64, ..self.proj_args(p) };
        self.call(k, &mut args, blame, n)
    }

    /// A group's sources and step kernel: rates, input spikes, integration
    /// and threshold; then last-spike times and spike counts.
    fn advance_group(&mut self, g: usize, n: u64) -> Result<(), RunError> {
        let group = &self.program.groups[g];
        let t = self.clock();
        self.source_rates(g, n)?;
        let state = &mut self.st.groups[g];
        state.spikes.clear();
        match &mut state.source {
            Source::Poisson(p) => match self.parallel {
                // Dense sources draw per neuron: split like a step kernel.
                Some((team, part)) if p.is_dense() && state.size >= part.grain * part.threads => {
                    p.emit_split(n, &part.groups[g], team, &mut state.spikes)
                }
                _ => {
                    let rates = match group.kind {
                        GroupKind::Poisson { thinning: Some((_, c)), .. } => state.columns.f64s(c as usize),
                        _ => &[],
                    };
                    p.emit(n, rates, &mut state.spikes)
                }
            },
            Source::SpikeTimes(s) => s.emit(n, &mut state.spikes),
            Source::None => {}
        }
        self.charge(t, Part::Source(g));
        let step = if self.st.freeze_neurons { group.frozen_step.or(group.step) } else { group.step };
        if let Some(k) = step {
            let t = self.clock();
            self.step_kernel(g, k, n)?;
            self.charge(t, Part::Step(g));
        }
        let state = &mut self.st.groups[g];
        if let Some(ls) = state.lastspike {
            let col = state.columns.f64s_mut(ls);
            for &i in &state.spikes {
                col[i as usize] = n as f64;
            }
        }
        self.st.recordings.spike_counts[g] += state.spikes.len() as u64;
        Ok(())
    }

    /// A group's step kernel: integration and threshold, its spikes in
    /// index order. Split, each thread writes its neurons' spikes at its
    /// range's start; they are then moved together, in thread order.
    fn step_kernel(&mut self, g: usize, k: KernelId, n: u64) -> Result<(), RunError> {
        let state = &mut self.st.groups[g];
        let size = state.size;
        state.spikes.clear();
        state.spikes.reserve(size);
        let out = state.spikes.as_mut_ptr();
        let (result, n_spikes) = if let Some((team, part)) = self.split(k, size) {
            let b = &part.groups[g];
            // Thread τ: neurons `b[τ]..b[τ+1]`, room for as many spikes at
            // `out + b[τ]`.
            let base = self.group_args(g);
            let mut args = split_args(&mut self.args_buf, part.threads, |tau| KernelArgs {
                start: b[tau] as u64,
                end: b[tau + 1] as u64,
                spikes_out: out.wrapping_add(b[tau]),
                ..base
            });
            // SAFETY: disjoint neuron ranges of a splittable kernel (which
            // writes its own neuron only), and disjoint spike buffers.
            let result = unsafe { self.call_split(team, k, &mut args, g, n) };
            let mut len = 0;
            for (tau, a) in args.iter().enumerate() {
                let m = (a.n_spikes as usize).min(b[tau + 1] - b[tau]);
                // SAFETY: thread τ wrote `m` indices at `out + b[τ]`, inside
                // the capacity reserved above; `len <= b[τ]`, and `copy`
                // allows the overlap.
                unsafe { std::ptr::copy(out.add(b[tau]), out.add(len), m) };
                len += m;
            }
            self.args_buf = args;
            (result, len)
        } else {
            // Elements `0..size`; `spikes_out` has room for `size` indices.
            let mut args = KernelArgs { start: 0, end: size as u64, spikes_out: out, ..self.group_args(g) };
            let result = self.call(k, &mut args, g, n);
            (result, (args.n_spikes as usize).min(size))
        };
        // SAFETY: the kernel wrote `n_spikes` (at most `size`) indices into
        // the capacity reserved above, from its start.
        unsafe { self.st.groups[g].spikes.set_len(n_spikes) };
        result
    }

    /// The time-varying rates of a poisson group's neurons with a candidate
    /// spike in step `n`, by its compiled rate kernel (rates draw no random
    /// numbers: sema rejects them).
    fn source_rates(&mut self, g: usize, n: u64) -> Result<(), RunError> {
        let GroupKind::Poisson { thinning: Some((k, _)), .. } = self.program.groups[g].kind else { return Ok(()) };
        let Source::Poisson(p) = &self.st.groups[g].source else { return Ok(()) };
        let Some(due) = p.due(n).filter(|d| !d.is_empty()) else { return Ok(()) };
        // The listed neurons are valid indices of the group.
        let mut args = KernelArgs { list: due.as_ptr(), list_len: due.len() as u64, ..self.group_args(g) };
        self.call(k, &mut args, g, n)
    }

    /// Resets of the neurons that spiked.
    fn resets(&mut self, n: u64) -> Result<(), RunError> {
        for (g, group) in self.program.groups.iter().enumerate() {
            let Some(k) = group.reset else { continue };
            let spikes = &self.st.groups[g].spikes;
            if spikes.is_empty() {
                continue;
            }
            // The spiking neurons: valid indices of the group.
            let t = self.clock();
            let mut args = KernelArgs { list: spikes.as_ptr(), list_len: spikes.len() as u64, ..self.group_args(g) };
            self.call(k, &mut args, g, n)?;
            self.charge(t, Part::Reset(g));
        }
        Ok(())
    }

    /// `every` blocks of neurons and signals due at the end of step `n`.
    fn group_every(&mut self, n: u64) -> Result<(), RunError> {
        for (g, group) in self.program.groups.iter().enumerate() {
            let every = if self.st.freeze_neurons { &group.frozen_every } else { &group.every };
            for &(period, k) in every {
                if !(n + 1).is_multiple_of(period) {
                    continue;
                }
                let size = self.st.groups[g].size;
                let t = self.clock();
                if let Some((team, part)) = self.split(k, size) {
                    let base = self.group_args(g);
                    // SAFETY: disjoint neuron ranges of a splittable kernel.
                    unsafe { self.call_ranges(team, k, &part.groups[g], base, g, n) }?;
                } else {
                    // Elements `0..size`; every kernels write no spikes.
                    let mut args = KernelArgs { end: size as u64, ..self.group_args(g) };
                    self.call(k, &mut args, g, n)?;
                }
                self.charge(t, Part::GroupEvery(g));
            }
        }
        Ok(())
    }

    /// `every` blocks of projections due at the end of step `n`, with their
    /// `in_sum`/`out_sum` reductions in a scratch buffer.
    fn projection_every(&mut self, n: u64) -> Result<(), RunError> {
        for (p, proj) in self.program.projections.iter().enumerate() {
            let every = if self.st.plastic { &proj.every } else { &proj.frozen_every };
            for &(period, k) in every {
                if !(n + 1).is_multiple_of(period) {
                    continue;
                }
                let n_red = self.program.kernels[k.index()].reductions.len();
                let t = self.clock();
                if n_red == 0 {
                    self.over_synapses(p, k, n)?;
                    self.charge(t, Part::ProjectionEvery(p));
                    continue;
                }
                let stride =
                    self.st.groups[proj.pre.group.index()].size.max(self.st.groups[proj.post.group.index()].size);
                let ps = &mut self.st.projections[p];
                ps.scratch.clear();
                ps.scratch.resize(n_red * stride, 0.0);
                let scratch = ps.scratch.as_mut_ptr();
                // Synapses `0..n_synapses`; the scratch buffer holds
                // `n_red * stride` zeros.
                let mut args = KernelArgs {
                    start: 0,
                    end: ps.n_synapses() as u64,
                    scratch,
                    scratch_stride: stride as u64,
                    ..self.proj_args(p)
                };
                self.call(k, &mut args, proj.post.group.index(), n)?;
                self.charge(t, Part::ProjectionEvery(p));
            }
        }
        Ok(())
    }

    /// Sets the decay factors of variables stored scaled for time t. When a
    /// factor gets small, the stored values are rescaled to the current
    /// time (F = 1), so neither F nor 1/F ever leaves [e^-30, e^30].
    fn update_factors(&mut self, t: f64) {
        for (p, proj) in self.program.projections.iter().enumerate() {
            let ps = &mut self.st.projections[p];
            for (r, &rate) in proj.decay_rates.iter().enumerate() {
                let mut x = rate * (t - ps.t_ref[r]);
                if x < -30.0 {
                    let f = x.exp();
                    for s in proj.scaled.iter().filter(|s| s.rate as usize == r) {
                        match s.var {
                            SynVar::Column(c) => ps.columns.scale(c as usize, f),
                            SynVar::PreSide(c) => ps.pre_side.scale(c as usize, f),
                            SynVar::PostSide(c) => ps.post_side.scale(c as usize, f),
                            SynVar::Folded(_) | SynVar::EventDriven(_) => continue,
                        }
                    }
                    ps.t_ref[r] = t;
                    x = 0.0;
                }
                ps.factors[2 * r] = x.exp();
                ps.factors[2 * r + 1] = (-x).exp();
            }
        }
    }

    /// Queues this step's presynaptic spikes and runs `on pre` for those
    /// arriving now.
    fn deliver_pre(&mut self, p: usize, n: u64) -> Result<(), RunError> {
        let proj = &self.program.projections[p];
        let t = self.clock();
        self.queue_pre_spikes(p, n);
        self.charge(t, Part::Queue(p));
        let slot = (n % self.st.projections[p].ring.len() as u64) as usize;
        let on_pre = if self.st.plastic { proj.on_pre } else { proj.frozen_on_pre };
        if let Some(k) = on_pre
            && !self.st.projections[p].ring[slot].is_empty()
        {
            let t = self.clock();
            self.on_pre(p, k, slot, n)?;
            self.charge(t, Part::OnPre(p));
        }
        self.st.projections[p].ring[slot].clear();
        Ok(())
    }

    /// Runs `on pre` kernel `k` for the segments arriving in ring slot
    /// `slot`. Split, each thread runs its part of every segment (the
    /// synapses onto its neurons) with the prologue computed but not
    /// stored; then one thread runs the prologue alone, storing it.
    fn on_pre(&mut self, p: usize, k: KernelId, slot: usize, n: u64) -> Result<(), RunError> {
        let blame = self.program.projections[p].post.group.index();
        let ps = &self.st.projections[p];
        let list = &ps.ring[slot];
        // The arriving segments: each indexes a run of valid synapses
        // (`starts[s]..starts[s+1]`) of a valid presynaptic neuron
        // (`seg_pre`).
        let (starts, seg_pre) = if ps.heterogeneous() {
            (&ps.seg_start, ps.seg_pre.as_ptr())
        } else {
            (&ps.row_start, ps.identity.as_ptr())
        };
        let base = KernelArgs {
            list: list.as_ptr(),
            list_len: list.len() as u64,
            seg_start: starts.as_ptr(),
            seg_end: starts[1..].as_ptr(),
            seg_pre,
            ..self.proj_args(p)
        };
        let splits = self.parallel.and_then(|(_, part)| part.projections[p].as_ref());
        let work = splits.map_or(0, |s| (list.len() as f64 * s.mean_length) as usize);
        let (Some((team, part)), Some(splits)) = (self.split(k, work), splits) else {
            return self.call(k, &mut KernelArgs { ..base }, blame, n);
        };
        let stores_side = self.program.kernels[k.index()].prologue.iter().any(|s| matches!(s, Stmt::Store(..)));
        let threads = part.threads;
        let mut args = split_args(&mut self.args_buf, threads, |tau| KernelArgs {
            seg_start: if tau == 0 { base.seg_start } else { splits.inner[tau - 1].as_ptr() },
            seg_end: if tau + 1 == threads { base.seg_end } else { splits.inner[tau].as_ptr() },
            skip_side_stores: u64::from(stores_side),
            ..base
        });
        // SAFETY: thread τ's bounds cover, in every segment, the synapses
        // onto its postsynaptic neurons (`Partition`), and the kernel is
        // splittable: it writes those synapses and neurons only; hoisted
        // values are not stored here.
        let result = unsafe { self.call_split(team, k, &mut args, blame, n) };
        self.args_buf = args;
        result?;
        if !stores_side {
            return Ok(());
        }
        // The prologue alone: every segment empty.
        self.call(k, &mut KernelArgs { seg_end: base.seg_start, ..base }, blame, n)
    }

    /// Puts this step's spikes of projection `p`'s presynaptic group into
    /// the delay ring, by segment when delays differ.
    fn queue_pre_spikes(&mut self, p: usize, n: u64) {
        let pre_g = self.program.projections[p].pre.group.index();
        let spikes = &self.st.groups[pre_g].spikes;
        let ps = &mut self.st.projections[p];
        let len = ps.ring.len() as u64;
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

    /// Runs `on post` for the postsynaptic spikes it sees now (those of
    /// `post_delay` steps ago).
    fn deliver_post(&mut self, p: usize, n: u64) -> Result<(), RunError> {
        let proj = &self.program.projections[p];
        let Some(k) = (if self.st.plastic { proj.on_post } else { proj.frozen_on_post }) else { return Ok(()) };
        let post_g = proj.post.group.index();
        let sel = proj.post;
        let len = self.st.projections[p].post_ring.len() as u64;
        let arrive = ((n + proj.post_delay) % len) as usize;
        let spikes = &self.st.groups[post_g].spikes;
        self.st.projections[p].post_ring[arrive]
            .extend(spikes.iter().copied().filter(|&j| (j as usize) >= sel.start && (j as usize) < sel.end));
        let now = (n % len) as usize;
        if !self.st.projections[p].post_ring[now].is_empty() {
            self.on_post(p, k, now, n)?;
        }
        self.st.projections[p].post_ring[now].clear();
        Ok(())
    }

    /// Runs `on post` kernel `k` for the postsynaptic neurons in ring slot
    /// `now` (in increasing order). Split, each thread takes the neurons of
    /// its range.
    fn on_post(&mut self, p: usize, k: KernelId, now: usize, n: u64) -> Result<(), RunError> {
        let post_g = self.program.projections[p].post.group.index();
        let ps = &self.st.projections[p];
        let list = &ps.post_ring[now];
        // Valid postsynaptic neurons, whose synapses the post index lists.
        let base = KernelArgs { list: list.as_ptr(), list_len: list.len() as u64, ..self.proj_args(p) };
        let mean_in = ps.n_synapses() as f64 / self.st.groups[post_g].size.max(1) as f64;
        let Some((team, part)) = self.split(k, (list.len() as f64 * mean_in) as usize) else {
            return self.call(k, &mut KernelArgs { ..base }, post_g, n);
        };
        debug_assert!(list.windows(2).all(|w| w[0] < w[1]), "postsynaptic spikes in order");
        let b = &part.groups[post_g];
        let at = |tau: usize| list.partition_point(|&j| (j as usize) < b[tau]);
        let mut args = split_args(&mut self.args_buf, part.threads, |tau| {
            let (lo, hi) = (at(tau), if tau + 1 == part.threads { list.len() } else { at(tau + 1) });
            KernelArgs { list: list[lo..].as_ptr(), list_len: (hi - lo) as u64, ..base }
        });
        // SAFETY: thread τ gets the listed neurons of its range, and the
        // kernel is splittable: it writes their synapses, the neurons and
        // their hoisted values only.
        let result = unsafe { self.call_split(team, k, &mut args, post_g, n) };
        self.args_buf = args;
        result
    }

    /// `abort when`: the rate of the last 100 ms against its threshold.
    fn check_aborts(&mut self, n: u64) -> Result<(), RunError> {
        let program = self.program;
        for (k, a) in program.aborts.iter().enumerate() {
            let g = a.group.index();
            let count = self.st.groups[g].spikes.len() as u64;
            let w = &mut self.st.aborts[k];
            let len = w.counts.len();
            let slot = (n as usize) % len;
            w.sum = w.sum - w.counts[slot] + count;
            w.counts[slot] = count;
            if (n as usize) + 1 < len {
                continue;
            }
            let rate = w.sum as f64 / (self.st.groups[g].size as f64 * len as f64 * program.dt);
            if a.hit(rate) {
                return Err(RunError::Aborted {
                    group: program.groups[g].name.clone(),
                    rate,
                    op: a.op(),
                    threshold: a.threshold,
                    window: len as f64 * program.dt,
                    time: (n + 1) as f64 * program.dt,
                });
            }
        }
        Ok(())
    }

    /// Looks for non-finite synaptic state (event kernels do not check
    /// their stores; see `ir::checks_stores`).
    fn scan_synapses(&self) -> Result<(), RunError> {
        let time = self.st.step as f64 * self.program.dt;
        for (p, ps) in self.st.projections.iter().enumerate() {
            let proj = &self.program.projections[p];
            for c in 0..ps.columns.count() {
                if let Some(s) = ps.columns.first_non_finite(c) {
                    return Err(RunError::NonFiniteSynapse {
                        projection: proj.name.clone(),
                        variable: proj.columns[c].name.clone(),
                        which: SynapseRef::Synapse { pre: ps.pre_of(s as u32), post: ps.targets[s] },
                        time,
                    });
                }
            }
            for (side, cols, names) in [(true, &ps.pre_side, &proj.pre_side), (false, &ps.post_side, &proj.post_side)] {
                for (c, column) in names.iter().enumerate() {
                    if let Some(i) = cols.first_non_finite(c) {
                        let which = if side { SynapseRef::OfPre(i as u32) } else { SynapseRef::OfPost(i as u32) };
                        return Err(RunError::NonFiniteSynapse {
                            projection: proj.name.clone(),
                            variable: column.name.clone(),
                            which,
                            time,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Finds the first non-finite value of a group (else of a projection)
    /// for the error message.
    fn non_finite(&self, g: usize, n: u64) -> RunError {
        let time = n as f64 * self.program.dt;
        let group = &self.program.groups[g];
        let columns = &self.st.groups[g].columns;
        for c in 0..columns.count() {
            if let Some(index) = columns.first_non_finite(c) {
                return RunError::NonFinite {
                    group: group.name.clone(),
                    variable: group.columns[c].name.clone(),
                    index,
                    time,
                };
            }
        }
        // A projection's own column (a synaptic variable).
        for (p, ps) in self.st.projections.iter().enumerate() {
            for c in 0..ps.columns.count() {
                if let Some(index) = ps.columns.first_non_finite(c) {
                    let proj = &self.program.projections[p];
                    return RunError::NonFinite {
                        group: proj.name.clone(),
                        variable: proj.columns[c].name.clone(),
                        index,
                        time,
                    };
                }
            }
        }
        RunError::NonFinite { group: group.name.clone(), variable: "?".into(), index: 0, time }
    }
}
