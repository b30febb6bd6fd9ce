//! How much memory a network will take, from its program alone, before
//! anything is allocated: so that a model too big for the machine is
//! refused with a message instead of failing in the allocator.

use hebb_ir::symbolic::{fold, interval};
use hebb_ir::{Builtin, GroupKind, Program, Rule};

/// The memory a network will need at its peak (while its synapses are
/// built), part by part.
#[derive(Clone, Debug, PartialEq)]
pub struct MemoryEstimate {
    /// What (a population or a projection) and its bytes, largest first.
    pub parts: Vec<(String, f64)>,
    /// Synapses of the largest projection.
    pub largest_projection: Option<(String, f64)>,
}

impl MemoryEstimate {
    pub fn total(&self) -> f64 {
        self.parts.iter().map(|(_, b)| b).sum()
    }
}

/// Expected synapses of projection `p` (an upper bound for a probability
/// that depends on the neurons; unknown — 0 — for a connection file, whose
/// size is limited when it is read).
pub fn expected_synapses(program: &Program, p: usize) -> f64 {
    let proj = &program.projections[p];
    let (n_pre, n_post) = (proj.pre.len() as f64, proj.post.len() as f64);
    match &proj.rule {
        Rule::AllToAll => n_pre * n_post,
        Rule::OneToOne => n_pre,
        Rule::InDegree(k) => *k as f64 * n_post,
        Rule::OutDegree(k) => *k as f64 * n_pre,
        Rule::Prob(e) => {
            let e = fold(e);
            let p = e.as_const().or_else(|| {
                interval(&e, &|b| match b {
                    Builtin::PreIndex => Some((proj.pre.start as f64, proj.pre.end as f64)),
                    Builtin::PostIndex => Some((proj.post.start as f64, proj.post.end as f64)),
                    _ => None,
                })
                .map(|(_, hi)| hi)
            });
            p.unwrap_or(1.0).clamp(0.0, 1.0) * n_pre * n_post
        }
        Rule::File(_) => 0.0,
    }
}

/// Estimates the peak memory of building and running a program's network.
pub fn estimate(program: &Program) -> MemoryEstimate {
    let mut parts = Vec::new();
    for g in &program.groups {
        // Columns, the spike buffer, and a Poisson source's queue.
        let source = if matches!(g.kind, GroupKind::Poisson { .. }) { 32.0 } else { 0.0 };
        let per_neuron = 8.0 * g.columns.len() as f64 + 4.0 + source;
        parts.push((format!("population `{}`", g.name), per_neuron * g.size as f64));
    }
    let mut largest: Option<(String, f64)> = None;
    for (p, proj) in program.projections.iter().enumerate() {
        let n = expected_synapses(program, p);
        // The store: targets (4), columns, the post index (8) and the
        // presynaptic index (4); while building, delays that vary (4) and
        // the values a connection file gives (24).
        let per_synapse_loops = proj.step.is_some() || !proj.every.is_empty();
        let store = 4.0
            + 8.0 * proj.columns.len() as f64
            + if proj.on_post.is_some() { 8.0 } else { 0.0 }
            + if per_synapse_loops { 4.0 } else { 0.0 };
        let delays = proj.delay.as_ref().map_or(0.0, |d| if fold(d).as_const().is_some() { 0.0 } else { 4.0 });
        let file = if matches!(proj.rule, Rule::File(_)) { 24.0 } else { 0.0 };
        parts.push((format!("projection `{}`", proj.name), n * (store + delays + file)));
        if largest.as_ref().is_none_or(|(_, m)| n > *m) {
            largest = Some((proj.name.clone(), n));
        }
    }
    parts.sort_by(|a, b| b.1.total_cmp(&a.1));
    MemoryEstimate { parts, largest_projection: largest }
}
