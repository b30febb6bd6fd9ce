//! Recorders: spikes, sampled state variables, sampled synaptic variables
//! and population rates, in SI units. They accumulate in memory until
//! drained: the `hebb` crate's `output` drains them to disk as the run
//! goes (so memory for records stays bounded); tests that keep a
//! simulation in memory never drain.

use hebb_ir::{GroupId, Program, ProjectionId, Record, SynVar};

#[derive(Clone, Debug)]
pub struct SpikeRecord {
    pub group: GroupId,
    pub times: Vec<f64>,
    pub indices: Vec<u32>,
}

#[derive(Clone, Debug)]
pub struct StateRecord {
    pub group: GroupId,
    pub indices: Vec<u32>,
    pub every: u64,
    pub times: Vec<f64>,
    /// Per variable: its name, its column, and samples row-major
    /// (n_samples × n_indices).
    pub vars: Vec<(String, u32, Vec<f64>)>,
}

#[derive(Clone, Debug)]
pub struct SynapseRecord {
    pub proj: ProjectionId,
    pub every: u64,
    /// Recorded synapse ids with their pre and post neurons.
    pub synapses: Vec<u32>,
    pub pre: Vec<u32>,
    pub post: Vec<u32>,
    pub times: Vec<f64>,
    pub vars: Vec<(String, SynVar, Vec<f64>)>,
    /// Sample count requested (None = all).
    pub sample: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct RateRecord {
    pub group: GroupId,
    /// Bin width in steps.
    pub bin: u64,
    /// Spike counts of bins `first_bin`, `first_bin + 1`, ... (earlier bins
    /// were drained).
    pub counts: Vec<u64>,
    pub first_bin: u64,
}

/// One presentation of a stimulus pattern.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PresentationRecord {
    pub stimuli: u32,
    pub pattern: u32,
    pub t0: f64,
    pub t1: f64,
}

/// Everything recorded in a run.
#[derive(Clone, Debug, Default)]
pub struct Recordings {
    /// Presentations of stimulus patterns, in time order.
    pub presentations: Vec<PresentationRecord>,
    /// Phases that were run: name, start and end (s).
    pub phases: Vec<(String, f64, f64)>,
    /// The `w` (or first) column of measured projections at the end of each
    /// phase: (projection, phase, values).
    pub weights_at_phase_end: Vec<(ProjectionId, u32, Vec<f64>)>,
    /// Active neurons of each pattern of each stimulus set.
    pub patterns: Vec<Vec<Vec<u32>>>,
    pub spikes: Vec<SpikeRecord>,
    pub states: Vec<StateRecord>,
    pub synapses: Vec<SynapseRecord>,
    pub rates: Vec<RateRecord>,
    /// Spike counts of every group (always kept, for the summary).
    pub spike_counts: Vec<u64>,
}

impl Recordings {
    pub fn new(program: &Program) -> Recordings {
        let mut r = Recordings { spike_counts: vec![0; program.groups.len()], ..Default::default() };
        for rec in &program.records {
            match rec {
                Record::Spikes { group } => {
                    if !r.spikes.iter().any(|s| s.group == *group) {
                        r.spikes.push(SpikeRecord { group: *group, times: Vec::new(), indices: Vec::new() })
                    }
                }
                Record::State { sel, columns, every } => r.states.push(StateRecord {
                    group: sel.group,
                    indices: (sel.start as u32..sel.end as u32).collect(),
                    every: *every,
                    times: Vec::new(),
                    vars: columns.iter().map(|(n, c)| (n.clone(), *c, Vec::new())).collect(),
                }),
                Record::Synapses { proj, vars, every, sample } => r.synapses.push(SynapseRecord {
                    proj: *proj,
                    every: *every,
                    vars: vars.iter().map(|(n, v)| (n.clone(), *v, Vec::new())).collect(),
                    sample: *sample,
                    synapses: Vec::new(),
                    pre: Vec::new(),
                    post: Vec::new(),
                    times: Vec::new(),
                }),
                Record::Rate { group, bin } => {
                    r.rates.push(RateRecord { group: *group, bin: *bin, counts: Vec::new(), first_bin: 0 })
                }
            }
        }
        r
    }

    /// Takes the data recorded since the last drain, leaving what is
    /// recorded (indices, names) and what stays small in memory: phases,
    /// spike counts and patterns. A rate bin still filling stays unless
    /// `end` (the run is over: the last bin is as full as it gets).
    pub fn drain(&mut self, end: bool) -> RecordChunk {
        let take = |v: &mut Vec<f64>| std::mem::take(v);
        RecordChunk {
            spikes: self.spikes.iter_mut().map(|s| (take(&mut s.times), std::mem::take(&mut s.indices))).collect(),
            states: self
                .states
                .iter_mut()
                .map(|s| (take(&mut s.times), s.vars.iter_mut().map(|(_, _, d)| take(d)).collect()))
                .collect(),
            synapses: self
                .synapses
                .iter_mut()
                .map(|s| (take(&mut s.times), s.vars.iter_mut().map(|(_, _, d)| take(d)).collect()))
                .collect(),
            rates: self
                .rates
                .iter_mut()
                .map(|r| {
                    let keep = usize::from(!end && !r.counts.is_empty());
                    let done: Vec<u64> = r.counts.drain(..r.counts.len() - keep).collect();
                    r.first_bin += done.len() as u64;
                    done
                })
                .collect(),
            presentations: std::mem::take(&mut self.presentations),
            weights_at_phase_end: std::mem::take(&mut self.weights_at_phase_end),
        }
    }
}

/// Data recorded between two drains, in the order of the records of
/// [`Recordings`].
#[derive(Clone, Debug, Default)]
pub struct RecordChunk {
    /// Per spike record: times and neuron indices.
    pub spikes: Vec<(Vec<f64>, Vec<u32>)>,
    /// Per state record: sample times and, per variable, samples
    /// row-major (n_samples × n_indices).
    pub states: Vec<(Vec<f64>, Vec<Vec<f64>>)>,
    /// Per synapse record: the same over recorded synapses.
    pub synapses: Vec<(Vec<f64>, Vec<Vec<f64>>)>,
    /// Per rate record: counts of the bins completed since the last drain.
    pub rates: Vec<Vec<u64>>,
    pub presentations: Vec<PresentationRecord>,
    pub weights_at_phase_end: Vec<(ProjectionId, u32, Vec<f64>)>,
}
