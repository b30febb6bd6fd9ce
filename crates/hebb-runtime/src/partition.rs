//! How a run's work is shared among threads, decided once per network.
//!
//! Neurons are split into contiguous ranges, one per thread, in every
//! group; synapses belong to the thread of their postsynaptic neuron (as
//! NEST updates plastic synapses on the thread of their target). Since the
//! synapses of a presynaptic row (of one delay) are sorted by target, a
//! thread's synapses in a row are one contiguous run, whose bounds are
//! kept here per row (or segment) and boundary. A thread then does exactly
//! what one thread does, in the same order, restricted to what it owns: its
//! neurons' input is summed in the same order whatever the thread count, so
//! results are bit-identical for any number of threads.
//!
//! A kernel is split only if that is correct: it writes nothing another
//! thread reads or writes (see [`splittable`]). Anything else runs on one
//! thread, as do calls too small to pay for the handover.

use crate::state::{GroupState, ProjState};
use hebb_ir::{Expr, Kernel, KernelKind, Owner, Program, Slot, Stmt};

/// Ranges are aligned to this many elements (a cache line of `f64`).
const ALIGN: usize = 8;

/// The default grain: a call is split only if it has at least this many
/// elements (neurons, or synapses reached) per thread.
pub const DEFAULT_GRAIN: usize = 256;

/// The threads' shares of one network.
pub(crate) struct Partition {
    pub threads: usize,
    /// Minimum work per thread for a call to be split.
    pub grain: usize,
    /// Per group: `threads + 1` boundaries of the threads' neuron ranges.
    pub groups: Vec<Vec<usize>>,
    /// Per projection: the threads' bounds in each row or segment, when its
    /// rows are sorted by target (else `None`: `on pre` runs on one thread).
    pub projections: Vec<Option<RowSplits>>,
    /// Per kernel: whether it may be split.
    pub splittable: Vec<bool>,
    /// Kernel calls split so far (the leader counts them).
    pub split_calls: std::cell::Cell<u64>,
}

/// For each inner boundary τ (1..threads) and each row or segment s, the
/// first synapse of s whose target is in thread τ's range or beyond.
pub(crate) struct RowSplits {
    pub inner: Vec<Vec<u32>>,
    /// Synapses per row or segment, on average (to size a call).
    pub mean_length: f64,
}

impl Partition {
    pub fn new(
        program: &Program,
        groups: &[GroupState],
        projections: &[ProjState],
        threads: usize,
        grain: usize,
    ) -> Partition {
        let bounds: Vec<Vec<usize>> = groups.iter().map(|g| crate::team::split(g.size, threads, ALIGN)).collect();
        let projections = (program.projections.iter().zip(projections))
            .map(|(proj, ps)| row_splits(ps, &bounds[proj.post.group.index()]))
            .collect();
        let splittable = program.kernels.iter().map(|k| splittable(program, k)).collect();
        Partition { threads, grain, groups: bounds, projections, splittable, split_calls: Default::default() }
    }
}

/// The threads' bounds in every row (or segment) of a projection, if each
/// is sorted by target.
fn row_splits(ps: &ProjState, post_bounds: &[usize]) -> Option<RowSplits> {
    let starts = if ps.heterogeneous() { &ps.seg_start } else { &ps.row_start };
    let rows = starts.len().saturating_sub(1);
    let sorted = (0..rows).all(|s| {
        let run = &ps.targets[starts[s] as usize..starts[s + 1] as usize];
        run.windows(2).all(|w| w[0] <= w[1])
    });
    if !sorted {
        return None;
    }
    let threads = post_bounds.len() - 1;
    let inner = (1..threads)
        .map(|tau| {
            let boundary = post_bounds[tau] as u32;
            (0..rows)
                .map(|s| {
                    let (a, b) = (starts[s] as usize, starts[s + 1] as usize);
                    (a + ps.targets[a..b].partition_point(|&j| j < boundary)) as u32
                })
                .collect()
        })
        .collect();
    Some(RowSplits { inner, mean_length: ps.n_synapses() as f64 / rows.max(1) as f64 })
}

/// Whether a kernel may run split across threads: each thread's share
/// writes only what that thread owns (its neurons, its synapses, the
/// hoisted values of its postsynaptic neurons), and reads nothing another
/// thread writes.
///
/// * Step and every kernels of groups write their own element only.
/// * A projection's step and every kernels (over synapses) write their own
///   synapse only, and have no `in_sum`/`out_sum`.
/// * `on pre` writes its synapses and their postsynaptic neurons (and
///   hoisted presynaptic values in its prologue, which one thread stores
///   after the others are done); `on post` writes its synapses, its
///   postsynaptic neuron and that neuron's hoisted values.
/// * No kernel that writes a signal, nor one that reads through `pre.` a
///   column it writes through `post.` of the same group, is split.
pub(crate) fn splittable(program: &Program, kernel: &Kernel) -> bool {
    if !kernel.reductions.is_empty() {
        return false;
    }
    let mut stores = Vec::new();
    for s in &kernel.body {
        collect_stores(s, &mut stores);
    }
    if kernel.kind == KernelKind::OnPost {
        // Its prologue runs per postsynaptic neuron, on that neuron's thread.
        for s in &kernel.prologue {
            collect_stores(s, &mut stores);
        }
    }
    let writes_only = |allowed: &dyn Fn(Slot) -> bool| stores.iter().all(|s| allowed(*s));
    match (kernel.owner, kernel.kind) {
        (Owner::Group(_), KernelKind::Step | KernelKind::Every) => writes_only(&|s| matches!(s, Slot::Own(_))),
        (Owner::Projection(_), KernelKind::Step | KernelKind::Every) => writes_only(&|s| matches!(s, Slot::Own(_))),
        (Owner::Projection(p), KernelKind::OnPre) => {
            // The prologue: computations, then stores of hoisted
            // presynaptic values only.
            let prologue_ok = kernel.prologue.iter().all(|s| match s {
                Stmt::Let(..) => true,
                Stmt::Store(slot, _) => matches!(slot, Slot::PreSide(_)),
                _ => false,
            });
            prologue_ok
                && writes_only(&|s| matches!(s, Slot::Own(_) | Slot::Post(_)))
                && !reads_what_post_writes(program, p.index(), kernel, &stores)
        }
        (Owner::Projection(p), KernelKind::OnPost) => {
            writes_only(&|s| matches!(s, Slot::Own(_) | Slot::Post(_) | Slot::PostSide(_)))
                && !reads_what_post_writes(program, p.index(), kernel, &stores)
        }
        _ => false,
    }
}

/// Whether a projection within one group reads through `pre.` a column it
/// writes through `post.` (a thread would read what another writes).
fn reads_what_post_writes(program: &Program, p: usize, kernel: &Kernel, stores: &[Slot]) -> bool {
    let proj = &program.projections[p];
    if proj.pre.group != proj.post.group {
        return false;
    }
    let mut reads_pre = Vec::new();
    for s in kernel.prologue.iter().chain(&kernel.body) {
        s.walk_exprs(&mut |e| {
            if let Expr::Load(Slot::Pre(c)) = e {
                reads_pre.push(*c);
            }
        });
    }
    stores.iter().any(|s| matches!(s, Slot::Post(c) if reads_pre.contains(c)))
}

fn collect_stores(s: &Stmt, out: &mut Vec<Slot>) {
    match s {
        Stmt::Store(slot, _) => out.push(*slot),
        Stmt::If(_, a, b) => {
            for s in a.iter().chain(b) {
                collect_stores(s, out);
            }
        }
        Stmt::Let(..) | Stmt::Spike(_) => {}
    }
}
