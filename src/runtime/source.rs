//! Spike sources: Poisson generators and spike-time lists.
//!
//! A Poisson source costs in proportion to the spikes it emits: each neuron
//! draws the step of its next spike from its own counter-based stream
//! (geometric gaps, which is exactly a Bernoulli trial with p = rate·dt per
//! step, as in Brian2) and waits in a calendar queue. Time-varying rates are
//! handled by thinning: candidates at `rate_max` are kept with probability
//! rate(t)/rate_max.

use crate::ir::interp::{self, Element};
use crate::ir::{Expr, streams};
use crate::rng;

/// Buckets of the calendar queue; a spike further ahead than this many
/// steps waits in its bucket for another lap.
const CALENDAR: usize = 4096;

pub struct Poisson {
    /// Probability of a spike per step (or of a candidate, when thinning).
    p: Vec<f64>,
    /// Step of each neuron's next spike or candidate; `u64::MAX` for never.
    next: Vec<u64>,
    /// How many gaps each neuron has drawn: the counter of its stream.
    draws: Vec<u64>,
    calendar: Vec<Vec<u32>>,
    spare: Vec<u32>,
    /// `Some` when the rate depends on time: (rate expression, rate_max).
    thinning: Option<(Expr, f64)>,
    seed: u64,
    stream: u32,
    dt: f64,
}

impl Poisson {
    /// `rates` are per-neuron rates in Hz when constant in time; `thinning`
    /// gives the time-varying rate and its bound otherwise.
    pub fn new(group: u32, rates: Vec<f64>, thinning: Option<(Expr, f64)>, seed: u64, dt: f64) -> Poisson {
        let n = rates.len();
        let p: Vec<f64> = match &thinning {
            Some((_, max)) => vec![(max * dt).min(1.0); n],
            None => rates.iter().map(|r| (r * dt).clamp(0.0, 1.0)).collect(),
        };
        let mut src = Poisson {
            p,
            next: vec![u64::MAX; n],
            draws: vec![0; n],
            calendar: vec![Vec::new(); CALENDAR],
            spare: Vec::new(),
            thinning,
            seed,
            stream: streams::poisson(group),
            dt,
        };
        for i in 0..n {
            // The first spike is the first success counting from step 0.
            let first = src.gap(i);
            if first != u64::MAX {
                src.next[i] = first - 1;
                src.calendar[(first - 1) as usize % CALENDAR].push(i as u32);
            }
        }
        src
    }

    /// Draws the number of steps to the next success (>= 1), or `u64::MAX`.
    fn gap(&mut self, i: usize) -> u64 {
        let p = self.p[i];
        if p <= 0.0 {
            return u64::MAX;
        }
        let k = self.draws[i];
        self.draws[i] += 1;
        if p >= 1.0 {
            return 1;
        }
        // U in (0, 1]: 1 + floor(ln U / ln(1 - p)) is geometric on {1, 2, ...}.
        let u = 1.0 - rng::uniform(self.seed, self.stream, i as u64, k, 0);
        let g = 1.0 + (u.ln() / (-p).ln_1p()).floor();
        if g >= 1e18 { u64::MAX } else { g as u64 }
    }

    /// Appends the neurons spiking at `step` to `out`, in index order.
    pub fn emit(&mut self, step: u64, out: &mut Vec<u32>) {
        let bucket = step as usize % CALENDAR;
        let mut due = std::mem::replace(&mut self.calendar[bucket], std::mem::take(&mut self.spare));
        for &i in &due {
            let iu = i as usize;
            if self.next[iu] != step {
                // Due on a later lap.
                self.calendar[bucket].push(i);
                continue;
            }
            let fire = match &self.thinning {
                None => true,
                Some((rate, max)) => {
                    let t = step as f64 * self.dt;
                    let r = interp::eval_at(rate, self.seed, self.stream, Element { own: iu as u64, key: iu as u64, ..Element::default() }, 0, &[], t);
                    let k = self.draws[iu];
                    let u = rng::uniform(self.seed, self.stream, iu as u64, k, 1);
                    u * max < r
                }
            };
            if fire {
                out.push(i);
            }
            let g = self.gap(iu);
            if g != u64::MAX {
                self.next[iu] = step + g;
                self.calendar[(step + g) as usize % CALENDAR].push(i);
            } else {
                self.next[iu] = u64::MAX;
            }
        }
        due.clear();
        self.spare = due;
    }
}

/// A list of (step, neuron) events in time order.
pub struct SpikeList {
    events: Vec<(u64, u32)>,
    pos: usize,
}

impl SpikeList {
    pub fn new(mut events: Vec<(u64, u32)>) -> SpikeList {
        events.sort_unstable();
        events.dedup();
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
