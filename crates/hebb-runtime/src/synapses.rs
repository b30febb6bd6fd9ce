//! A projection's synapse store: CSR rows by presynaptic neuron, delays
//! (rows split into segments of one delay when they differ), initial
//! values, and the postsynaptic index that `on post` needs.

use crate::connect::{Connections, Rows, connect};
use crate::error::{BuildError, err};
use crate::init::init_columns;
use crate::state::{Columns, GroupState, ProjState};
use hebb_ir::interp::{Element, eval_at};
use hebb_ir::symbolic::fold;
use hebb_ir::{Expr, Precision, Program, Projection, ProjectionId, SynVar, streams};
use std::path::Path;

/// Builds projection `p`'s synapses, drawing them on up to `threads`
/// threads.
pub(crate) fn build_projection(
    program: &Program,
    p: usize,
    groups: &[GroupState],
    read: &dyn Fn(&Path) -> std::io::Result<String>,
    threads: usize,
) -> Result<ProjState, BuildError> {
    let proj = &program.projections[p];
    let n_pre = groups[proj.pre.group.index()].size;
    let n_post = groups[proj.post.group.index()].size;
    let Connections { mut rows, mut file_extra } = connect(program, p, n_pre, read, threads)?;
    let stream = streams::synapse_init(ProjectionId(p as u32));
    let Delays { mut per_synapse, mut delay } = delays(program, proj, &rows, &file_extra, stream)?;
    // Within each row, order synapses by delay so a row splits into segments.
    if let Some(ds) = &mut per_synapse {
        sort_rows_by_delay(&mut rows, ds, &mut file_extra);
        if ds.iter().all(|&d| d == ds[0]) {
            delay = ds.first().copied().unwrap_or(0);
        }
    }
    let mut columns = init_columns(
        program,
        &proj.columns,
        rows.len(),
        stream,
        rows.synapses().map(|(s, i, j)| Element { own: s as u64, pre: i as u64, post: j as u64, key: s as u64 }),
    );
    file_weights(proj, &file_extra, &mut columns)?;
    let Rows { row_start, targets } = rows;
    let heterogeneous = per_synapse.as_ref().is_some_and(|ds| ds.iter().any(|&d| d != delay));
    let segments = match (&per_synapse, heterogeneous) {
        (Some(ds), true) => Segments::of_rows(&row_start, ds),
        _ => Segments::default(),
    };
    let max_delay = segments.delay.iter().copied().fold(delay, u32::max);
    // The presynaptic neuron of each synapse where a kernel runs per
    // synapse; the post-synaptic index only where `on post` needs it.
    let syn_pre = if proj.step.is_some() || !proj.every.is_empty() {
        (0..n_pre).flat_map(|i| std::iter::repeat_n(i as u32, (row_start[i + 1] - row_start[i]) as usize)).collect()
    } else {
        Vec::new()
    };
    let (post_start, post_syn) =
        if proj.on_post.is_some() { post_index(&row_start, &targets, n_post) } else { Default::default() };
    let f32 = |side: Option<bool>, n: usize| -> Vec<bool> {
        (0..n).map(|c| program.projection_column_precision(p, side, c) == Precision::F32).collect()
    };
    let side = |pre: bool, cols: &[hebb_ir::Column], n: usize| -> Columns {
        let values = cols.iter().map(|c| vec![fold(&c.init).as_const().unwrap_or(0.0); n]).collect();
        Columns::with_precision(values, n, f32(Some(pre), cols.len()))
    };
    let n_synapses = targets.len();
    Ok(ProjState {
        row_start,
        targets,
        columns: Columns::with_precision(columns, n_synapses, f32(None, proj.columns.len())),
        seg_start: segments.start,
        seg_pre: segments.pre,
        seg_delay: segments.delay,
        pre_seg: segments.of_pre,
        identity: if heterogeneous { Vec::new() } else { (0..n_pre as u32).collect() },
        delay,
        ring: vec![Vec::new(); max_delay as usize + 1],
        post_start,
        post_syn,
        syn_pre,
        pre_side: side(true, &proj.pre_side, n_pre),
        post_side: side(false, &proj.post_side, n_post),
        post_ring: vec![Vec::new(); proj.post_delay as usize + 1],
        scratch: Vec::new(),
        factors: vec![1.0; 2 * proj.decay_rates.len()],
        t_ref: vec![0.0; proj.decay_rates.len()],
    })
}

/// A projection's axonal delays in steps: one for all synapses, or one per
/// synapse when they may differ.
struct Delays {
    per_synapse: Option<Vec<u32>>,
    delay: u32,
}

/// The delays of the pairs: a constant, an expression drawn per synapse,
/// and the delays a connection file gives.
fn delays(
    program: &Program,
    proj: &Projection,
    rows: &Rows,
    file_extra: &[(Option<f64>, Option<f64>)],
    stream: u32,
) -> Result<Delays, BuildError> {
    let steps = |d: f64| -> Result<u32, BuildError> {
        if !(d.is_finite() && d >= 0.0) {
            return Err(err(format!("a delay of `{}` is {d} s; delays must be finite and non-negative", proj.name)));
        }
        let s = (d / program.dt).round();
        if s > 1e7 {
            return Err(err(format!("a delay of `{}` is {d} s, more than 10^7 steps", proj.name)));
        }
        Ok(s as u32)
    };
    let mut per_synapse: Option<Vec<u32>> = None;
    let mut delay = 0u32;
    match proj.delay.as_ref().map(fold).map(|e| e.as_const()) {
        None => {}
        Some(Some(d)) => delay = steps(d)?,
        Some(None) => {
            let e = proj.delay.as_ref().map(fold).unwrap_or(Expr::Const(0.0));
            let mut ds = Vec::with_capacity(rows.len());
            for (s, i, j) in rows.synapses() {
                let element = Element { own: s as u64, pre: i as u64, post: j as u64, key: s as u64 };
                ds.push(steps(eval_at(&e, program.seed, stream, element, u32::MAX as u64, &[], 0.0))?);
            }
            per_synapse = Some(ds);
        }
    }
    if file_extra.iter().any(|(_, d)| d.is_some()) {
        let mut ds = per_synapse.unwrap_or_else(|| vec![delay; rows.len()]);
        for (k, (_, d)) in file_extra.iter().enumerate() {
            if let Some(d) = d {
                ds[k] = steps(*d)?;
            }
        }
        per_synapse = Some(ds);
    }
    Ok(Delays { per_synapse, delay })
}

/// Weights a connection file gives go into the weight column.
fn file_weights(
    proj: &Projection,
    file_extra: &[(Option<f64>, Option<f64>)],
    columns: &mut [Vec<f64>],
) -> Result<(), BuildError> {
    if let Some(SynVar::Column(wc)) = proj.weight {
        // A weight stored scaled is stored relative to its resting value
        // (the scale is 1 at t = 0).
        let x_inf = (proj.event_driven.iter())
            .find(|ed| ed.value == SynVar::Column(wc) && ed.factor.is_some())
            .map_or(0.0, |ed| ed.x_inf);
        for (k, (w, _)) in file_extra.iter().enumerate() {
            if let Some(w) = w {
                columns[wc as usize][k] = *w - x_inf;
            }
        }
    } else if file_extra.iter().any(|(w, _)| w.is_some()) {
        return Err(err(format!(
            "the connection file of `{}` gives weights, but its synapses have no state `w`",
            proj.name
        )));
    }
    Ok(())
}

/// CSR starts from sorted keys: `starts[k]..starts[k+1]` are the entries
/// with key k (`n` keys).
fn counts_to_starts(keys: impl Iterator<Item = u32>, n: usize) -> Vec<u32> {
    let mut starts = vec![0u32; n + 1];
    for k in keys {
        starts[k as usize + 1] += 1;
    }
    for k in 0..n {
        starts[k + 1] += starts[k];
    }
    starts
}

/// Rows split by delay: segment `s` is synapses `start[s]..start[s+1]` of
/// neuron `pre[s]` with delay `delay[s]`; `of_pre[i]..of_pre[i+1]` are
/// neuron i's segments.
#[derive(Default)]
struct Segments {
    start: Vec<u32>,
    pre: Vec<u32>,
    delay: Vec<u32>,
    of_pre: Vec<u32>,
}

impl Segments {
    /// The segments of rows whose synapses are sorted by delay.
    fn of_rows(row_start: &[u32], delays: &[u32]) -> Segments {
        let mut seg = Segments { of_pre: vec![0], ..Segments::default() };
        for i in 0..row_start.len() - 1 {
            let (a, b) = (row_start[i] as usize, row_start[i + 1] as usize);
            let mut s = a;
            while s < b {
                let d = delays[s];
                seg.start.push(s as u32);
                seg.pre.push(i as u32);
                seg.delay.push(d);
                while s < b && delays[s] == d {
                    s += 1;
                }
            }
            seg.of_pre.push(seg.start.len() as u32);
        }
        seg.start.push(delays.len() as u32);
        seg
    }
}

/// The postsynaptic index: `post_start` by postsynaptic neuron, and
/// (synapse, presynaptic neuron) pairs grouped by postsynaptic neuron.
fn post_index(row_start: &[u32], targets: &[u32], n_post: usize) -> (Vec<u32>, Vec<u32>) {
    let post_start = counts_to_starts(targets.iter().copied(), n_post);
    let mut fill = post_start.clone();
    let mut post_syn = vec![0u32; 2 * targets.len()];
    for i in 0..row_start.len() - 1 {
        for s in row_start[i]..row_start[i + 1] {
            let j = targets[s as usize] as usize;
            let at = 2 * fill[j] as usize;
            post_syn[at] = s;
            post_syn[at + 1] = i as u32;
            fill[j] += 1;
        }
    }
    (post_start, post_syn)
}

/// Orders each row's synapses by delay, then target (stably), with their
/// delays and file values, so that a row splits into segments of one delay.
fn sort_rows_by_delay(rows: &mut Rows, ds: &mut [u32], file_extra: &mut [(Option<f64>, Option<f64>)]) {
    let mut order: Vec<usize> = Vec::new();
    for i in 0..rows.row_start.len() - 1 {
        let (a, b) = (rows.row_start[i] as usize, rows.row_start[i + 1] as usize);
        if ds[a..b].windows(2).all(|w| w[0] <= w[1]) {
            continue;
        }
        order.clear();
        order.extend(a..b);
        order.sort_by_key(|&s| (ds[s], rows.targets[s]));
        let targets: Vec<u32> = order.iter().map(|&s| rows.targets[s]).collect();
        let delays: Vec<u32> = order.iter().map(|&s| ds[s]).collect();
        rows.targets[a..b].copy_from_slice(&targets);
        ds[a..b].copy_from_slice(&delays);
        if !file_extra.is_empty() {
            let extra: Vec<_> = order.iter().map(|&s| file_extra[s]).collect();
            file_extra[a..b].copy_from_slice(&extra);
        }
    }
}
