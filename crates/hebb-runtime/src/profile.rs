//! Where a run's time goes (`hebb run --profile`): wall time per part of
//! the step — each group's step kernel, each projection's `on pre`, and so
//! on — summed over the run. Off by default: timing every call costs two
//! clock reads per part and step.

use hebb_ir::Program;
use std::time::Duration;

/// A part of the time step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    /// A group's step kernel (integration and threshold), by group.
    Step(usize),
    /// A group's spike source (Poisson draws, spike lists, rates).
    Source(usize),
    Reset(usize),
    GroupEvery(usize),
    /// Putting a projection's presynaptic spikes into its delay queue.
    Queue(usize),
    OnPre(usize),
    OnPost(usize),
    /// A projection's continuous equations.
    Continuous(usize),
    ProjectionEvery(usize),
    /// Sampling states and weights, collecting spikes and rates.
    Records,
    /// Phases, presentations, `set`s, decay factors, `abort when`.
    Schedule,
    /// The scan of synaptic state for non-finite values.
    Scan,
}

impl Part {
    fn name(self, program: &Program) -> String {
        let group = |g: usize| &program.groups[g].name;
        let proj = |p: usize| &program.projections[p].name;
        match self {
            Part::Step(g) => format!("step {}", group(g)),
            Part::Source(g) => format!("source {}", group(g)),
            Part::Reset(g) => format!("reset {}", group(g)),
            Part::GroupEvery(g) => format!("every {}", group(g)),
            Part::Queue(p) => format!("queue {}", proj(p)),
            Part::OnPre(p) => format!("on pre {}", proj(p)),
            Part::OnPost(p) => format!("on post {}", proj(p)),
            Part::Continuous(p) => format!("continuous {}", proj(p)),
            Part::ProjectionEvery(p) => format!("every {}", proj(p)),
            Part::Records => "records".into(),
            Part::Schedule => "schedule".into(),
            Part::Scan => "non-finite scan".into(),
        }
    }
}

/// Time and calls per part, in order of first use.
#[derive(Default)]
pub(crate) struct Profile {
    parts: Vec<(Part, Duration, u64)>,
}

impl Profile {
    pub fn add(&mut self, part: Part, took: Duration) {
        match self.parts.iter_mut().find(|(p, _, _)| *p == part) {
            Some((_, total, calls)) => {
                *total += took;
                *calls += 1;
            }
            None => self.parts.push((part, took, 1)),
        }
    }

    /// The parts by name, longest first.
    pub fn entries(&self, program: &Program) -> Vec<ProfileEntry> {
        let mut out: Vec<ProfileEntry> = (self.parts.iter())
            .map(|(part, total, calls)| ProfileEntry {
                name: part.name(program),
                seconds: total.as_secs_f64(),
                calls: *calls,
            })
            .collect();
        out.sort_by(|a, b| b.seconds.total_cmp(&a.seconds).then_with(|| a.name.cmp(&b.name)));
        out
    }
}

/// One part of a run's profile.
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileEntry {
    /// What ran: `step exc`, `on pre input-exc`, `records`, ...
    pub name: String,
    /// Wall time, summed over the run.
    pub seconds: f64,
    /// How many times it ran.
    pub calls: u64,
}
