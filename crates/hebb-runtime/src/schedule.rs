//! The experiment's schedule: phase boundaries (plasticity on or off,
//! `set`s), stimulus presentations, and what is recorded when a phase ends.

use crate::record::PresentationRecord;
use crate::sample::{Synapse, value_at};
use crate::state::Source;
use crate::step::Stepper;
use hebb_ir::interp::{Element, eval_at};
use hebb_ir::{SetAction, SynVar, rng, streams};

/// A stimulus set being presented.
pub(crate) struct Presenting {
    pub stimuli: u32,
    /// The current block's order of patterns, and the position in it.
    pub order: Vec<u32>,
    pub position: usize,
    pub block: u64,
    /// Step of the next change, and the presentation period.
    pub next: u64,
    pub each: u64,
}

impl Stepper<'_> {
    /// Phase boundaries and stimulus presentations that fall on step `n`.
    pub fn schedule(&mut self, n: u64) {
        if let Some(k) = self.program.phases.iter().position(|p| p.start == n && p.steps > 0) {
            self.start_phase(k, n);
        }
        if self.st.presenting.as_ref().is_some_and(|pr| pr.next == n) {
            self.present_next(n);
        }
    }

    /// Starts phase `k` at step `n`: closes the previous one, switches
    /// plasticity, applies its `set`s and starts its presentations.
    fn start_phase(&mut self, k: usize, n: u64) {
        if n > 0 {
            self.close_phase(n);
        }
        let phase = &self.program.phases[k];
        self.st.phase = k;
        self.st.plastic = phase.plasticity;
        self.st.freeze_neurons = phase.freeze_neurons;
        for set in &phase.sets {
            self.apply_set(set, n);
        }
        self.st.presenting = phase.present.map(|(s, each)| Presenting {
            stimuli: s,
            order: Vec::new(),
            position: 0,
            block: 0,
            next: n,
            each,
        });
        if self.st.presenting.is_none() {
            self.restore_rates(n);
        }
    }

    /// Presents the next pattern of the stimulus set under way from step
    /// `n`, drawing a new block order when the last one is used up.
    fn present_next(&mut self, n: u64) {
        let program = self.program;
        let phase_end = program.phases.get(self.st.phase).map(|p| p.start + p.steps).unwrap_or(program.n_steps);
        let phase = self.st.phase as u64;
        let Some(pr) = &mut self.st.presenting else { return };
        let s = pr.stimuli as usize;
        let stim = &program.stimuli[s];
        if pr.position >= pr.order.len() {
            // A new block: every pattern once, in an order drawn from the
            // seed (Fisher-Yates).
            let mut order: Vec<u32> = (0..stim.count as u32).collect();
            for j in (1..order.len()).rev() {
                let key = pr.block * stim.count as u64 + j as u64;
                let u = rng::uniform(program.seed, streams::presentation_order(s as u32), phase, key, 0);
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
        let g = stim.group.index();
        let mut rates = vec![stim.rest; self.st.groups[g].size];
        let active = &self.st.recordings.patterns[s][pattern as usize];
        let cue = program.phases.get(self.st.phase).map_or(1.0, |p| p.cue);
        if cue >= 1.0 {
            for &i in active {
                rates[i as usize] = stim.rate;
            }
        } else {
            // A partial cue: round(cue × active) of the pattern's neurons,
            // drawn afresh for each presentation (a partial Fisher–Yates
            // keyed by phase, block and position).
            let mut chosen = active.clone();
            let keep = ((cue * chosen.len() as f64).round() as usize).clamp(1, chosen.len());
            let key = pr.block * stim.count as u64 + pr.position as u64;
            for j in 0..keep {
                let u = rng::uniform(program.seed, streams::presentation_cue(s as u32), phase, key, j as u32);
                let pick = j + ((u * (chosen.len() - j) as f64) as usize).min(chosen.len() - j - 1);
                chosen.swap(j, pick);
            }
            for &i in &chosen[..keep] {
                rates[i as usize] = stim.rate;
            }
        }
        if let Source::Poisson(p) = &mut self.st.groups[g].source {
            p.set_rates(&rates, n);
        }
        let dt = program.dt;
        self.st.recordings.presentations.push(PresentationRecord {
            stimuli: s as u32,
            pattern,
            t0: n as f64 * dt,
            t1: end as f64 * dt,
        });
    }

    /// Gives stimulated sources back their own rates.
    fn restore_rates(&mut self, n: u64) {
        for stim in &self.program.stimuli {
            let g = stim.group.index();
            if let (Some(base), Source::Poisson(p)) = (&self.st.base_rates[g], &mut self.st.groups[g].source) {
                p.set_rates(base, n);
            }
        }
    }

    /// A phase's `set`: a source's rate, or a column of every element
    /// (evaluated per element like an initial value).
    fn apply_set(&mut self, set: &SetAction, n: u64) {
        let (seed, dt) = (self.program.seed, self.program.dt);
        match set {
            SetAction::Rate { group, rate } => {
                let g = group.index();
                let size = self.st.groups[g].size;
                self.st.base_rates[g] = Some(vec![*rate; size]);
                if let Source::Poisson(p) = &mut self.st.groups[g].source {
                    p.set_rates(&vec![*rate; size], n);
                }
            }
            SetAction::Column { group, column, value } => {
                let stream = streams::set_values(*group);
                let state = &mut self.st.groups[group.index()];
                for i in 0..state.columns.len() {
                    let el = Element { own: i as u64, key: i as u64, ..Default::default() };
                    let x = eval_at(value, seed, stream, el, n, &[], n as f64 * dt);
                    state.columns.set(*column as usize, i, x);
                }
            }
        }
    }

    /// Records the end of the current phase at step `n`, with the weights
    /// of measured projections.
    pub fn close_phase(&mut self, n: u64) {
        let program = self.program;
        let Some(phase) = program.phases.get(self.st.phase) else { return };
        let dt = program.dt;
        let t0 = phase.start as f64 * dt;
        if self.st.recordings.phases.iter().any(|(name, s, _)| *name == phase.name && *s == t0) {
            return;
        }
        self.st.recordings.phases.push((phase.name.clone(), t0, n as f64 * dt));
        let ph = self.st.phase as u32;
        for p in program.measured_projections() {
            if self.st.recordings.weights_at_phase_end.iter().any(|(q, at, _)| *q == p && *at == ph) {
                continue;
            }
            let w = self.weights(p.index(), n);
            self.st.recordings.weights_at_phase_end.push((p, ph, w));
        }
    }

    /// The weight of every synapse of projection `p` at step `n`: its weight
    /// state, or else its first per-synapse variable.
    fn weights(&self, p: usize, n: u64) -> Vec<f64> {
        let proj = &self.program.projections[p];
        let ps = &self.st.projections[p];
        let t = n as f64 * self.program.dt;
        let var = proj.weight.or(if proj.columns.is_empty() { None } else { Some(SynVar::Column(0)) });
        let Some(var) = var else { return vec![proj.folded.first().map(|f| f.1).unwrap_or(0.0); ps.n_synapses()] };
        let mut pre = 0;
        (0..ps.n_synapses() as u32)
            .map(|index| {
                while ps.row_start[pre as usize + 1] <= index {
                    pre += 1;
                }
                let post = ps.targets[index as usize];
                value_at(proj, ps, var, Synapse { index, pre, post }, t)
            })
            .collect()
    }
}
