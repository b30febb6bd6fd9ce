//! Spike sources: Poisson generators and spike-time lists.
//!
//! A Poisson source costs in proportion to the spikes it emits: each neuron
//! draws exponential inter-spike intervals from its own counter-based
//! stream and waits in a calendar queue until the step its next spike falls
//! in. Counts per step are then exactly Poisson(rate·dt), so rates above
//! 1/dt work (a neuron may fire several times in one step, and each spike is
//! delivered, like Brian2's `PoissonInput`); at ordinary rates this is
//! Brian2's `PoissonGroup` up to O((rate·dt)²). Sources that fire in most
//! steps draw each step's count directly instead. Time-varying rates use
//! thinning (Lewis and Shedler 1979): candidates at `rate_max`, each kept
//! with probability rate(t)/rate_max, where rate(t) of the neurons with a
//! candidate (`due`) is computed by the group's compiled rate kernel.

use crate::codec::{Decoder, Encoder, RestoreError};
use hebb_ir::{GroupId, rng, streams};

/// Buckets of the calendar queue; a spike further ahead than this many
/// steps waits in its bucket for another lap.
const CALENDAR: usize = 4096;

pub struct Poisson {
    /// Rate of each neuron in Hz (of candidates, when thinning).
    rate: Vec<f64>,
    /// Time of each neuron's next spike or candidate; infinite for never.
    next: Vec<f64>,
    /// How many intervals each neuron has drawn: its stream's counter.
    draws: Vec<u64>,
    calendar: Vec<Vec<u32>>,
    spare: Vec<u32>,
    /// `Some(rate_max)` when the rate depends on time.
    thinning: Option<f64>,
    /// When most neurons fire in most steps, each neuron's spike count per
    /// step is drawn directly, Poisson(rate·dt) by inversion (one uniform
    /// per neuron and step instead of one exponential per spike, no queue).
    /// Holds e^{-rate·dt} per neuron.
    dense: Option<Vec<f64>>,
    /// Random words of the dense mode: one Philox block gives the uniforms
    /// of four consecutive steps of a neuron (32 bits each, plenty for the
    /// inversion). `block_of` is the block index they belong to.
    words: Vec<[u32; 4]>,
    block_of: u64,
    seed: u64,
    stream: u32,
    dt: f64,
    /// Per-thread spike lists of a split dense emission (`emit_split`);
    /// scratch, not state.
    split_out: Vec<Vec<u32>>,
}

/// A pointer threads share, each using a disjoint part of what it points to.
#[derive(Clone, Copy)]
struct Shared<T>(*mut T);
// SAFETY: only used by `emit_split`, whose threads touch disjoint elements.
unsafe impl<T> Sync for Shared<T> {}
unsafe impl<T> Send for Shared<T> {}

impl<T> Shared<T> {
    /// The pointer (a method, so closures capture the `Sync` wrapper).
    fn get(&self) -> *mut T {
        self.0
    }
}

/// The dense mode's draw for neurons `range`: refills their random words
/// when a new block of four steps starts, then appends each neuron's count
/// of spikes in `step` to `out`, in neuron order. One function for the
/// single-threaded and the split emission, so both give the same spikes.
#[allow(clippy::too_many_arguments)]
fn dense_counts(
    (seed, stream, dt): (u64, u32, f64),
    rate: &[f64],
    p0: &[f64],
    words: &mut [[u32; 4]],
    range: std::ops::Range<usize>,
    refill: Option<u64>,
    step: u64,
    out: &mut Vec<u32>,
) {
    for (k, i) in range.enumerate() {
        if let Some(block) = refill {
            words[k] = rng::words(seed, stream, i as u64, block, 0);
        }
        let u = words[k][(step % 4) as usize] as f64 * (1.0 / 4294967296.0);
        let c = poisson_count(rate[i] * dt, p0[i], u);
        out.extend(std::iter::repeat_n(i as u32, c as usize));
    }
}

impl Poisson {
    /// `rates` are per-neuron rates in Hz when constant in time; `thinning`
    /// is the bound of a time-varying rate otherwise.
    pub fn new(group: GroupId, rates: Vec<f64>, thinning: Option<f64>, seed: u64, dt: f64) -> Poisson {
        let n = rates.len();
        let rate = match thinning {
            Some(max) => vec![max; n],
            None => rates,
        };
        let mut src = Poisson {
            rate,
            next: vec![f64::INFINITY; n],
            draws: vec![0; n],
            calendar: vec![Vec::new(); CALENDAR],
            spare: Vec::new(),
            thinning,
            dense: None,
            words: Vec::new(),
            block_of: u64::MAX,
            seed,
            stream: streams::poisson(group),
            dt,
            split_out: Vec::new(),
        };
        let mean_per_step = src.rate.iter().sum::<f64>() * dt / n.max(1) as f64;
        if mean_per_step > 0.2 && src.thinning.is_none() {
            src.dense = Some(src.rate.iter().map(|r| (-r * dt).exp()).collect());
            return src;
        }
        for i in 0..n {
            let t = src.interval(i);
            src.next[i] = t;
            if let Some(step) = src.step_of(t) {
                src.calendar[step as usize % CALENDAR].push(i as u32);
            }
        }
        src
    }

    fn step_of(&self, t: f64) -> Option<u64> {
        let s = (t / self.dt).floor();
        (s.is_finite() && s < 1e18).then_some(s as u64)
    }

    /// Draws an exponential interval with the neuron's rate.
    fn interval(&mut self, i: usize) -> f64 {
        let r = self.rate[i];
        if r <= 0.0 {
            return f64::INFINITY;
        }
        let k = self.draws[i];
        self.draws[i] += 1;
        // 1 - U is in (0, 1], so the logarithm is finite.
        let u = 1.0 - rng::uniform(self.seed, self.stream, i as u64, k, 0);
        -u.ln() / r
    }

    /// The current rate of each neuron (Hz).
    pub fn rates(&self) -> &[f64] {
        &self.rate
    }

    /// Changes rates from the start of `step` on. A Poisson process has no
    /// memory, so a neuron whose rate changes draws its next spike afresh
    /// from the step's start (from its own stream, so this is
    /// reproducible). Sources with a time-varying rate cannot be changed.
    pub fn set_rates(&mut self, rates: &[f64], step: u64) {
        if self.thinning.is_some() {
            return;
        }
        let t = step as f64 * self.dt;
        let mut changed = false;
        for (i, &r) in rates.iter().enumerate().take(self.rate.len()) {
            if self.rate[i] == r {
                continue;
            }
            self.rate[i] = r;
            changed = true;
            match &mut self.dense {
                Some(p0) => p0[i] = (-r * self.dt).exp(),
                None => {
                    let gap = self.interval(i);
                    self.next[i] = t + gap;
                }
            }
        }
        if changed && self.dense.is_none() {
            // Rebuild the queue: entries for the old spike times are stale.
            for b in &mut self.calendar {
                b.clear();
            }
            for i in 0..self.next.len() {
                if let Some(s) = self.step_of(self.next[i]) {
                    self.calendar[s as usize % CALENDAR].push(i as u32);
                }
            }
        }
    }

    /// For a source with a time-varying rate, the neurons that may have a
    /// candidate spike in `step` (its calendar bucket; a few may be due on
    /// a later lap): their rates at t must be in `emit`'s `rates`.
    pub fn due(&self, step: u64) -> Option<&[u32]> {
        self.thinning.map(|_| self.calendar[step as usize % CALENDAR].as_slice())
    }

    /// Appends the spikes of `step` to `out`: neuron indices in increasing
    /// order, a neuron repeated if it fires more than once. A source with a
    /// time-varying rate reads the rate at t of the neurons `due` listed
    /// from `rates` (indexed by neuron); other sources ignore it.
    pub fn emit(&mut self, step: u64, rates: &[f64], out: &mut Vec<u32>) {
        if let Some(p0) = &self.dense {
            let block = step / 4;
            let refill = (self.block_of != block).then_some(block);
            // Refilled in place: no allocation per block of steps.
            self.words.resize(p0.len(), [0; 4]);
            let key = (self.seed, self.stream, self.dt);
            dense_counts(key, &self.rate, p0, &mut self.words, 0..p0.len(), refill, step, out);
            self.block_of = block;
            return;
        }
        let bucket = step as usize % CALENDAR;
        let first = out.len();
        let mut due = std::mem::replace(&mut self.calendar[bucket], std::mem::take(&mut self.spare));
        for &i in &due {
            let iu = i as usize;
            if self.step_of(self.next[iu]) != Some(step) {
                // Due on a later lap.
                self.calendar[bucket].push(i);
                continue;
            }
            self.fire_due(iu, step, rates, out);
            if let Some(s) = self.step_of(self.next[iu]) {
                self.calendar[s as usize % CALENDAR].push(i);
            }
        }
        due.clear();
        self.spare = due;
        // Canonical order, whatever the queue's: delivery order must not
        // depend on how the source is implemented.
        out[first..].sort_unstable();
    }

    /// Whether each step's counts are drawn per neuron (the dense mode),
    /// which `emit_split` can share among threads.
    pub fn is_dense(&self) -> bool {
        self.dense.is_some()
    }

    /// `emit` of a dense source with its neurons split among a team's
    /// threads: thread τ draws neurons `bounds[τ]..bounds[τ+1]`, and the
    /// lists are joined in thread order, so `out` (and the source's state)
    /// is exactly what `emit` gives.
    pub(crate) fn emit_split(&mut self, step: u64, bounds: &[usize], team: &crate::team::Team<'_>, out: &mut Vec<u32>) {
        let Some(p0) = &self.dense else { return self.emit(step, &[], out) };
        let threads = team.threads();
        assert_eq!(bounds.len(), threads + 1, "one range per thread");
        let block = step / 4;
        let refill = (self.block_of != block).then_some(block);
        self.words.resize(p0.len(), [0; 4]);
        self.split_out.resize_with(threads, Vec::new);
        let key = (self.seed, self.stream, self.dt);
        let rate = &self.rate;
        let (words, outs) = (Shared(self.words.as_mut_ptr()), Shared(self.split_out.as_mut_ptr()));
        team.each(&|tau| {
            let range = bounds[tau]..bounds[tau + 1];
            // SAFETY: thread τ uses only `words[range]` and `outs[τ]`;
            // the ranges of distinct threads are disjoint and in bounds
            // (`bounds` splits `0..n`), and `team.each` returns only when
            // every thread is done.
            let (w, o) = unsafe {
                (std::slice::from_raw_parts_mut(words.get().add(range.start), range.len()), &mut *outs.get().add(tau))
            };
            // Filled through a list of its own: the lists' headers share a
            // cache line, which the threads would pass back and forth.
            let mut mine = std::mem::take(o);
            mine.clear();
            dense_counts(key, rate, p0, w, range, refill, step, &mut mine);
            *o = mine;
        });
        self.block_of = block;
        for o in &self.split_out {
            out.extend_from_slice(o);
        }
    }

    /// Emits every spike of neuron `i` that falls in `step`.
    fn fire_due(&mut self, i: usize, step: u64, rates: &[f64], out: &mut Vec<u32>) {
        let end = (step + 1) as f64 * self.dt;
        while self.next[i] < end && self.step_of(self.next[i]) == Some(step) {
            let fire = match self.thinning {
                None => true,
                Some(max) => {
                    let u = rng::uniform(self.seed, self.stream, i as u64, self.draws[i], 1);
                    u * max < rates[i]
                }
            };
            if fire {
                out.push(i as u32);
            }
            let gap = self.interval(i);
            self.next[i] += gap;
        }
    }
}

/// The most spikes a source may draw for one neuron in one step: rates
/// beyond `MAX_PER_STEP / dt` are refused when the network is built.
pub(crate) const MAX_PER_STEP: f64 = 10_000.0;

/// A Poisson(λ) count by inversion of `u` in [0, 1): the smallest k with
/// u < P(K ≤ k). `p0` is e^-λ. Up to λ = 30 by summing the pmf upwards
/// from 0; beyond (where e^-λ underflows near λ = 745), from the mode in
/// log space, walking down or up, so every rate hebb accepts is drawn
/// exactly.
pub(crate) fn poisson_count(lambda: f64, p0: f64, u: f64) -> u32 {
    if lambda <= 30.0 {
        let (mut k, mut p, mut cdf) = (0u32, p0, p0);
        while u >= cdf && k < 10_000 {
            k += 1;
            p *= lambda / k as f64;
            cdf += p;
            if p == 0.0 {
                break;
            }
        }
        return k;
    }
    let mode = lambda.floor();
    let p_mode = (mode * lambda.ln() - lambda - ln_factorial(mode)).exp();
    // P(K <= mode): the pmf summed down from the mode, until negligible.
    let (mut below, mut p, mut j) = (p_mode, p_mode, mode);
    while j > 0.0 && p > 1e-20 * below {
        p *= j / lambda;
        below += p;
        j -= 1.0;
    }
    let (mut k, mut p, mut cdf) = (mode, p_mode, below);
    if u < cdf {
        // Walk down while u is still below P(K <= k - 1).
        while k > 0.0 && u < cdf - p {
            cdf -= p;
            p *= k / lambda;
            k -= 1.0;
        }
    } else {
        while u >= cdf && p > 0.0 {
            k += 1.0;
            p *= lambda / k;
            cdf += p;
        }
    }
    k as u32
}

/// ln(n!) for n ≥ 30 by Stirling's series (relative error below 1e-16).
fn ln_factorial(n: f64) -> f64 {
    let inv = 1.0 / n;
    let inv2 = inv * inv;
    n * n.ln() - n + 0.5 * (2.0 * std::f64::consts::PI * n).ln() + inv / 12.0 - inv * inv2 / 360.0
        + inv * inv2 * inv2 / 1260.0
}

/// A list of (step, neuron) events in time order.
pub struct SpikeList {
    events: Vec<(u64, u32)>,
    pos: usize,
}

impl SpikeList {
    /// Events in any order; `build` has refused two of one neuron in one
    /// step, so none is merged.
    pub fn new(mut events: Vec<(u64, u32)>) -> SpikeList {
        events.sort_unstable();
        SpikeList { events, pos: 0 }
    }

    pub fn emit(&mut self, step: u64, out: &mut Vec<u32>) {
        while self.pos < self.events.len() && self.events[self.pos].0 < step {
            self.pos += 1;
        }
        while self.pos < self.events.len() && self.events[self.pos].0 == step {
            out.push(self.events[self.pos].1);
            self.pos += 1;
        }
    }
}

impl Poisson {
    /// What changes while a run goes (the rest is the same in a network
    /// built from the same program): rates, queue, draw counters, words.
    pub(crate) fn encode(&self, e: &mut Encoder) {
        e.f64s(&self.rate);
        e.f64s(&self.next);
        e.u64s(&self.draws);
        e.u32_lists(&self.calendar);
        e.bool(self.dense.is_some());
        if let Some(p0) = &self.dense {
            e.f64s(p0);
        }
        e.usize(self.words.len());
        for w in &self.words {
            w.iter().for_each(|x| e.u32(*x));
        }
        e.u64(self.block_of);
    }

    pub(crate) fn decode(&mut self, d: &mut Decoder<'_>) -> Result<(), RestoreError> {
        let n = self.rate.len();
        let same = |v: usize, what: &str| {
            if v == n { Ok(()) } else { Err(RestoreError::Mismatch(format!("a source has {v} {what}, this one {n}"))) }
        };
        self.rate = d.f64s()?;
        same(self.rate.len(), "rates")?;
        self.next = d.f64s()?;
        same(self.next.len(), "neurons")?;
        self.draws = d.u64s()?;
        same(self.draws.len(), "neurons")?;
        let calendar = d.u32_lists()?;
        if calendar.len() != CALENDAR || calendar.iter().flatten().any(|&i| i as usize >= n) {
            return Err(RestoreError::Mismatch("a source's queue does not fit".into()));
        }
        self.calendar = calendar;
        self.dense = if d.bool()? { Some(d.f64s()?) } else { None };
        let words = d.usize()?;
        self.words = (0..words).map(|_| Ok([d.u32()?, d.u32()?, d.u32()?, d.u32()?])).collect::<Result<_, _>>()?;
        self.block_of = d.u64()?;
        let dense_ok = match &self.dense {
            Some(p0) => p0.len() == n && (self.words.len() == n || self.block_of == u64::MAX),
            None => true,
        };
        if !dense_ok {
            return Err(RestoreError::Mismatch("a source's random words do not fit".into()));
        }
        Ok(())
    }
}

impl SpikeList {
    pub(crate) fn encode(&self, e: &mut Encoder) {
        e.usize(self.pos);
    }

    pub(crate) fn decode(&mut self, d: &mut Decoder<'_>) -> Result<(), RestoreError> {
        self.pos = d.usize()?.min(self.events.len());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mean and variance of Poisson counts drawn by inversion of a fine
    /// grid of uniforms: both must be λ (to the grid's resolution).
    fn moments(lambda: f64) -> (f64, f64) {
        let n = 200_000;
        let p0 = (-lambda).exp();
        let counts: Vec<f64> = (0..n).map(|k| poisson_count(lambda, p0, (k as f64 + 0.5) / n as f64) as f64).collect();
        let mean = counts.iter().sum::<f64>() / n as f64;
        let var = counts.iter().map(|c| (c - mean) * (c - mean)).sum::<f64>() / n as f64;
        (mean, var)
    }

    #[test]
    fn counts_have_the_poisson_mean_and_variance_at_any_rate() {
        // 0.5 and 20 per step take the upward sum; 31, 745 (where e^-λ
        // underflows) and 9000 the walk from the mode.
        for lambda in [0.5, 20.0, 31.0, 745.0, 9000.0] {
            let (mean, var) = moments(lambda);
            // The grid's quadrature error is far below these tolerances.
            assert!((mean / lambda - 1.0).abs() < 1e-3, "λ = {lambda}: mean {mean}");
            assert!((var / lambda - 1.0).abs() < 1e-2, "λ = {lambda}: variance {var}");
        }
    }

    #[test]
    fn the_two_methods_agree_where_they_meet() {
        // At λ = 30 the upward sum still works; the walk from the mode must
        // give the same counts.
        let lambda = 30.0f64;
        let p0 = (-lambda).exp();
        let mut differ = 0;
        for k in 0..100_000 {
            let u = (k as f64 + 0.5) / 100_000.0;
            let by_sum = poisson_count(lambda, p0, u);
            let by_mode = poisson_count(lambda + 1e-12, p0, u);
            differ += usize::from(by_sum != by_mode);
        }
        assert!(differ < 5, "{differ} of 100000 differ");
    }
}
