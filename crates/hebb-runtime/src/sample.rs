//! Recording during the run: state and synaptic variables sampled at the
//! start of a step, spikes and rate bins at its end.

use crate::record::SynapseRecord;
use crate::state::ProjState;
use crate::step::Stepper;
use hebb_ir::{Projection, SynVar};

impl Stepper<'_> {
    /// Samples the state and synaptic records due at step `n` (time t).
    pub fn sample_records(&mut self, n: u64) {
        let t = n as f64 * self.program.dt;
        for rec in &mut self.st.recordings.states {
            if !n.is_multiple_of(rec.every) {
                continue;
            }
            rec.times.push(t);
            let cols = &self.st.groups[rec.group.index()].columns;
            for (_, c, data) in &mut rec.vars {
                data.extend(rec.indices.iter().map(|&i| cols.at(*c as usize, i as usize)));
            }
        }
        for rec in &mut self.st.recordings.synapses {
            if n.is_multiple_of(rec.every) {
                let p = rec.proj.index();
                sample_synapses(rec, &self.program.projections[p], &self.st.projections[p], t);
            }
        }
    }

    /// Adds this step's spikes to the spike and rate records.
    pub fn record_spikes(&mut self, n: u64) {
        let t = n as f64 * self.program.dt;
        for rec in &mut self.st.recordings.spikes {
            let spikes = &self.st.groups[rec.group.index()].spikes;
            rec.times.extend(std::iter::repeat_n(t, spikes.len()));
            rec.indices.extend_from_slice(spikes);
        }
        for rec in &mut self.st.recordings.rates {
            let bin = (n / rec.bin - rec.first_bin) as usize;
            if rec.counts.len() <= bin {
                rec.counts.resize(bin + 1, 0);
            }
            rec.counts[bin] += self.st.groups[rec.group.index()].spikes.len() as u64;
        }
    }
}

/// One sample of every variable of a synapse record at time `t`.
fn sample_synapses(rec: &mut SynapseRecord, proj: &Projection, ps: &ProjState, t: f64) {
    rec.times.push(t);
    let at = |k: usize| Synapse { index: rec.synapses[k], pre: rec.pre[k], post: rec.post[k] };
    let n_recorded = rec.synapses.len();
    for (_, v, data) in &mut rec.vars {
        data.extend((0..n_recorded).map(|k| value_at(proj, ps, *v, at(k), t)));
    }
}

/// A synapse, with its pre- and postsynaptic neurons.
#[derive(Clone, Copy)]
pub(crate) struct Synapse {
    pub index: u32,
    pub pre: u32,
    pub post: u32,
}

/// The stored value of a synaptic variable.
fn stored(ps: &ProjState, v: SynVar, s: Synapse) -> f64 {
    match v {
        SynVar::Column(c) => ps.columns.at(c as usize, s.index as usize),
        SynVar::Folded(x) => x,
        SynVar::PreSide(c) => ps.pre_side.at(c as usize, s.pre as usize),
        SynVar::PostSide(c) => ps.post_side.at(c as usize, s.post as usize),
        SynVar::EventDriven(_) => f64::NAN,
    }
}

/// The value of a synaptic variable at time t. Event-driven variables are
/// stored as of their last update, or scaled to a reference time: they are
/// brought to t (whether named as `EventDriven` or by where they are
/// stored).
pub(crate) fn value_at(proj: &Projection, ps: &ProjState, v: SynVar, s: Synapse, t: f64) -> f64 {
    let ed = match v {
        SynVar::EventDriven(e) => &proj.event_driven[e as usize],
        _ => match proj.event_driven.iter().find(|ed| ed.value == v) {
            Some(ed) => ed,
            None => return stored(ps, v, s),
        },
    };
    let x = stored(ps, ed.value, s);
    if let Some(r) = ed.factor {
        return ed.x_inf + x * ps.factors[2 * r as usize];
    }
    let elapsed = t - stored(ps, ed.lastupdate, s);
    if ed.rate != 0.0 { ed.x_inf + (x - ed.x_inf) * (ed.rate * elapsed).exp() } else { x + ed.drift * elapsed }
}
