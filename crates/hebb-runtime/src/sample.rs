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
                let col = cols.get(*c as usize);
                data.extend(rec.indices.iter().map(|&i| col[i as usize]));
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
    // The stored value of a synaptic variable of recorded synapse k.
    let stored = |v: SynVar, k: usize| -> f64 {
        match v {
            SynVar::Column(c) => ps.columns.get(c as usize)[rec.synapses[k] as usize],
            SynVar::Folded(x) => x,
            SynVar::PreSide(c) => ps.pre_side.get(c as usize)[rec.pre[k] as usize],
            SynVar::PostSide(c) => ps.post_side.get(c as usize)[rec.post[k] as usize],
            SynVar::EventDriven(_) => f64::NAN,
        }
    };
    let n_recorded = rec.synapses.len();
    for (_, v, data) in &mut rec.vars {
        let SynVar::EventDriven(e) = *v else {
            data.extend((0..n_recorded).map(|k| stored(*v, k)));
            continue;
        };
        // An event-driven variable is stored as of its last update: bring
        // it to t.
        let ed = &proj.event_driven[e as usize];
        if let Some(r) = ed.factor {
            let f = ps.factors[2 * r as usize];
            data.extend((0..n_recorded).map(|k| ed.x_inf + stored(ed.value, k) * f));
            continue;
        }
        for k in 0..n_recorded {
            let (x, lu) = (stored(ed.value, k), stored(ed.lastupdate, k));
            let elapsed = t - lu;
            data.push(if ed.rate != 0.0 {
                ed.x_inf + (x - ed.x_inf) * (ed.rate * elapsed).exp()
            } else {
                x + ed.drift * elapsed
            });
        }
    }
}
