//! Network construction: initial values, sources, connectivity (CSR by
//! presynaptic neuron), delays and the post-synaptic index.
//!
//! Every random draw is keyed by (seed, stream, index, counter), so the
//! network is the same whatever order it is built in.

use crate::State;
use crate::input::{Poisson, SpikeList};
use crate::record::Recordings;
use crate::schedule::AbortWindow;
use crate::state::{Columns, GroupState, ProjState, Source};
use hebb_ir::interp::{Element, eval_at};
use hebb_ir::symbolic::fold;
use hebb_ir::{Builtin, ColumnRole, Expr, GroupKind, Program, Rule, SpikeTimes, SynVar, rng, streams};
use std::path::Path;

/// A problem with the data a model refers to (a spike or connection file),
/// or a network that cannot be built as specified.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct BuildError {
    pub message: String,
}

fn err(message: impl Into<String>) -> BuildError {
    BuildError { message: message.into() }
}

/// Builds the network of a program. `read` reads data files.
pub(crate) fn build(program: &Program, read: &dyn Fn(&Path) -> std::io::Result<String>) -> Result<State, BuildError> {
    let mut groups = Vec::new();
    for (g, group) in program.groups.iter().enumerate() {
        groups.push(build_group(program, g, group, read)?);
    }
    let mut projections = Vec::new();
    for p in 0..program.projections.len() {
        projections.push(build_projection(program, p, &groups, read)?);
    }
    let mut recordings = Recordings::new(program);
    for rec in &mut recordings.synapses {
        let ps: &ProjState = &projections[rec.proj as usize];
        let n = ps.n_synapses();
        let chosen: Vec<u32> = match rec.sample {
            Some(k) if k < n => sample_sorted(program.seed, streams::record_sample(rec.proj), n, k),
            _ => (0..n as u32).collect(),
        };
        rec.pre = chosen.iter().map(|&s| ps.pre_of(s)).collect();
        rec.post = chosen.iter().map(|&s| ps.targets[s as usize]).collect();
        rec.synapses = chosen;
    }
    // The active neurons of each pattern, drawn from the seed.
    recordings.patterns = program
        .stimuli
        .iter()
        .enumerate()
        .map(|(s, st)| {
            let n = groups[st.group as usize].size;
            let k = st.active_count(n);
            (0..st.count).map(|p| sample_sorted(program.seed, streams::pattern(s as u32, p as u32), n, k)).collect()
        })
        .collect();
    let base_rates = groups
        .iter()
        .map(|g| match &g.source {
            Source::Poisson(p) => Some(p.rates().to_vec()),
            _ => None,
        })
        .collect();
    let aborts = program
        .aborts
        .iter()
        .map(|_| AbortWindow { counts: vec![0; ((0.1 / program.dt).round() as usize).max(1)], sum: 0 })
        .collect();
    let group_table = groups.iter().map(|g| g.columns.table() as *const *mut f64).collect();
    Ok(State {
        groups,
        projections,
        recordings,
        step: 0,
        group_table,
        plastic: true,
        phase: 0,
        base_rates,
        presenting: None,
        aborts,
    })
}

/// The data lines of a CSV file with their 0-based line numbers, trimmed:
/// blank lines, `#` comments and a header (a first line starting with a
/// letter) are skipped.
fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().map(str::trim).enumerate().filter(|(line_no, line)| {
        !(line.is_empty()
            || line.starts_with('#')
            || (*line_no == 0 && line.chars().next().is_some_and(|c| c.is_alphabetic())))
    })
}

/// `k` distinct values of `0..n`, sorted, chosen by Floyd's algorithm.
fn sample_sorted(seed: u64, stream: u32, n: usize, k: usize) -> Vec<u32> {
    let mut chosen = std::collections::BTreeSet::new();
    for (d, j) in (n - k..n).enumerate() {
        let r = (rng::uniform(seed, stream, 0, d as u64, 0) * (j + 1) as f64) as usize;
        if !chosen.insert(r.min(j) as u32) {
            chosen.insert(j as u32);
        }
    }
    chosen.into_iter().collect()
}

/// Evaluates the initial values of `n` elements, column by column; column
/// `c`'s draws use counter `c`.
fn init_columns(
    program: &Program,
    cols: &[hebb_ir::Column],
    n: usize,
    stream: u32,
    element: impl Fn(usize) -> Element,
) -> Vec<Vec<f64>> {
    let mut out: Vec<Vec<f64>> = cols.iter().map(|_| Vec::with_capacity(n)).collect();
    let constants: Vec<Option<f64>> = cols.iter().map(|c| fold(&c.init).as_const()).collect();
    let mut values = Vec::with_capacity(cols.len());
    for i in 0..n {
        values.clear();
        for (c, col) in cols.iter().enumerate() {
            let v = match constants[c] {
                Some(v) => v,
                None => eval_at(&col.init, program.seed, stream, element(i), c as u64, &values, 0.0),
            };
            values.push(v);
            out[c].push(v);
        }
    }
    out
}

fn build_group(
    program: &Program,
    g: usize,
    group: &hebb_ir::Group,
    read: &dyn Fn(&Path) -> std::io::Result<String>,
) -> Result<GroupState, BuildError> {
    let n = group.size;
    let columns = init_columns(program, &group.columns, n, streams::group_init(g as u32), |i| Element {
        own: i as u64,
        key: i as u64,
        ..Element::default()
    });
    let source = match &group.kind {
        GroupKind::Poisson { rate, rate_max, thinning } => {
            if thinning.is_some() {
                let max = match rate_max {
                    Some(m) => *m,
                    None => rate_bound(rate, n, program.dt * program.n_steps as f64).ok_or_else(|| {
                        err(format!(
                            "cannot bound the time-varying rate of poisson source `{}`; give its maximum as `rate_max = ...`",
                            group.name
                        ))
                    })?,
                };
                Source::Poisson(Poisson::new(g as u32, vec![0.0; n], Some(max), program.seed, program.dt))
            } else {
                let rates: Vec<f64> = (0..n)
                    .map(|i| {
                        eval_at(
                            rate,
                            program.seed,
                            streams::poisson(g as u32),
                            Element { own: i as u64, key: i as u64, ..Element::default() },
                            0,
                            &[],
                            0.0,
                        )
                    })
                    .collect();
                if let Some(i) = rates.iter().position(|r| !(r.is_finite() && *r >= 0.0)) {
                    return Err(err(format!(
                        "the rate of neuron {i} of poisson source `{}` is {} Hz; rates must be finite and non-negative",
                        group.name, rates[i]
                    )));
                }
                Source::Poisson(Poisson::new(g as u32, rates, None, program.seed, program.dt))
            }
        }
        GroupKind::SpikeTimes(st) => {
            Source::SpikeTimes(SpikeList::new(spike_events(program, &group.name, n, st, read)?))
        }
        _ => Source::None,
    };
    let lastspike = group.columns.iter().position(|c| c.role == ColumnRole::LastSpike);
    Ok(GroupState { size: n, columns: Columns::new(columns, n), spikes: Vec::with_capacity(n), source, lastspike })
}

/// An upper bound of a rate expression over `t` in [0, T] and `i` in [0, n),
/// by interval arithmetic; `None` when it cannot be bounded.
fn rate_bound(rate: &Expr, n: usize, duration: f64) -> Option<f64> {
    let (_, hi) = hebb_ir::symbolic::interval(rate, &|b| match b {
        Builtin::T | Builtin::Step => Some((0.0, duration)),
        Builtin::Index => Some((0.0, n.saturating_sub(1) as f64)),
        _ => None,
    })?;
    (hi.is_finite() && hi > 0.0).then_some(hi)
}

/// Spike events (step, neuron) of a spike_times source.
fn spike_events(
    program: &Program,
    name: &str,
    n: usize,
    st: &SpikeTimes,
    read: &dyn Fn(&Path) -> std::io::Result<String>,
) -> Result<Vec<(u64, u32)>, BuildError> {
    let step_of = |t: f64| (t / program.dt).round() as u64;
    match st {
        SpikeTimes::Inline(times) => {
            Ok(times.iter().flat_map(|&t| (0..n as u32).map(move |i| (step_of(t), i))).collect())
        }
        SpikeTimes::File(path) => {
            let text = read(path)
                .map_err(|e| err(format!("cannot read spike file `{}` of source `{name}`: {e}", path.display())))?;
            let mut events = Vec::new();
            for (line_no, line) in data_lines(&text) {
                let bad = |what: &str| {
                    err(format!(
                        "{}:{}: {what} (expected `i,t`: a neuron index and a time in seconds)",
                        path.display(),
                        line_no + 1
                    ))
                };
                let mut fields = line.split(',').map(str::trim);
                let (Some(i), Some(t), None) = (fields.next(), fields.next(), fields.next()) else {
                    return Err(bad("not two fields"));
                };
                let i: usize = i.parse().map_err(|_| bad(&format!("`{i}` is not a neuron index")))?;
                let t: f64 = t.parse().map_err(|_| bad(&format!("`{t}` is not a time")))?;
                if i >= n {
                    return Err(bad(&format!("neuron {i} does not exist in source `{name}` of size {n}")));
                }
                if !(t.is_finite() && t >= 0.0) {
                    return Err(bad(&format!("time {t} is not a non-negative number of seconds")));
                }
                events.push((step_of(t), i as u32));
            }
            Ok(events)
        }
    }
}

/// Connection pairs (pre, post) in CSR order: by pre, then by post.
fn connect(
    program: &Program,
    p: usize,
    read: &dyn Fn(&Path) -> std::io::Result<String>,
    file_extra: &mut Vec<(Option<f64>, Option<f64>)>,
) -> Result<Vec<(u32, u32)>, BuildError> {
    let proj = &program.projections[p];
    let (pre, post) = (proj.pre, proj.post);
    let same = pre.group == post.group;
    let allowed = |i: usize, j: usize| proj.autapses || !same || i != j;
    let seed = program.seed;
    let stream = streams::connect(p as u32);
    let mut pairs = Vec::new();
    match &proj.rule {
        Rule::AllToAll => {
            for i in pre.start..pre.end {
                for j in post.start..post.end {
                    if allowed(i, j) {
                        pairs.push((i as u32, j as u32));
                    }
                }
            }
        }
        Rule::OneToOne => {
            for k in 0..pre.len() {
                let (i, j) = (pre.start + k, post.start + k);
                if allowed(i, j) {
                    pairs.push((i as u32, j as u32));
                }
            }
        }
        Rule::Prob(e) => match fold(e).as_const() {
            Some(prob) => {
                // Geometric skipping: the gap to the next connected target
                // is geometric, so the cost is O(synapses), not O(pairs).
                if prob > 0.0 {
                    let log_q = (-prob).ln_1p();
                    for i in pre.start..pre.end {
                        let mut j = post.start as f64 - 1.0;
                        let mut k = 0u64;
                        loop {
                            let skip = if prob >= 1.0 {
                                0.0
                            } else {
                                let u = 1.0 - rng::uniform(seed, stream, i as u64, k, 0);
                                k += 1;
                                (u.ln() / log_q).floor()
                            };
                            j += skip + 1.0;
                            if j >= post.end as f64 {
                                break;
                            }
                            let ju = j as usize;
                            if allowed(i, ju) {
                                pairs.push((i as u32, ju as u32));
                            }
                        }
                    }
                }
            }
            None => {
                // A probability that depends on i and j: one draw per pair.
                let expr = e.clone();
                for i in pre.start..pre.end {
                    for j in post.start..post.end {
                        if !allowed(i, j) {
                            continue;
                        }
                        let pr = eval_at(
                            &expr,
                            seed,
                            stream,
                            Element { own: 0, pre: i as u64, post: j as u64, key: i as u64 },
                            j as u64,
                            &[],
                            0.0,
                        );
                        let u = rng::uniform(seed, stream, i as u64, j as u64, 1);
                        if u < pr {
                            pairs.push((i as u32, j as u32));
                        }
                    }
                }
            }
        },
        Rule::OutDegree(k) => {
            let mut chooser = Chooser::new(post.len());
            for i in pre.start..pre.end {
                let excluded = (!allowed(i, i)).then_some(i).filter(|x| (post.start..post.end).contains(x));
                for j in chooser.choose(seed, stream, i as u64, post, excluded, *k, "outdegree", &proj.name)? {
                    pairs.push((i as u32, j));
                }
            }
        }
        Rule::InDegree(k) => {
            // Drawn per postsynaptic neuron, then put in CSR order by a
            // counting sort on the presynaptic neuron (stable, so targets
            // stay in increasing order within each row).
            let mut chooser = Chooser::new(pre.len());
            let mut by_post = Vec::with_capacity(post.len() * k);
            for j in post.start..post.end {
                let excluded = (!allowed(j, j)).then_some(j).filter(|x| (pre.start..pre.end).contains(x));
                for i in chooser.choose(seed, stream, j as u64, pre, excluded, *k, "indegree", &proj.name)? {
                    by_post.push((i, j as u32));
                }
            }
            let mut count = vec![0usize; pre.end + 1];
            for &(i, _) in &by_post {
                count[i as usize + 1] += 1;
            }
            for x in 1..count.len() {
                count[x] += count[x - 1];
            }
            pairs = vec![(0, 0); by_post.len()];
            for &(i, j) in &by_post {
                pairs[count[i as usize]] = (i, j);
                count[i as usize] += 1;
            }
        }
        Rule::File(path) => {
            let text = read(path).map_err(|e| {
                err(format!("cannot read connection file `{}` of `{}`: {e}", path.display(), proj.name))
            })?;
            let mut rows = Vec::new();
            for (line_no, line) in data_lines(&text) {
                let bad = |what: String| {
                    err(format!("{}:{}: {what} (expected `pre,post[,w[,delay]]`)", path.display(), line_no + 1))
                };
                let fields: Vec<&str> = line.split(',').map(str::trim).collect();
                if !(2..=4).contains(&fields.len()) {
                    return Err(bad(format!("{} fields", fields.len())));
                }
                let i: usize = fields[0].parse().map_err(|_| bad(format!("`{}` is not a neuron index", fields[0])))?;
                let j: usize = fields[1].parse().map_err(|_| bad(format!("`{}` is not a neuron index", fields[1])))?;
                if i < pre.start || i >= pre.end || j < post.start || j >= post.end {
                    return Err(bad(format!("pair ({i}, {j}) is outside the populations")));
                }
                let num = |k: usize| -> Result<Option<f64>, BuildError> {
                    match fields.get(k) {
                        None => Ok(None),
                        Some(s) => s
                            .parse::<f64>()
                            .ok()
                            .filter(|v| v.is_finite())
                            .map(Some)
                            .ok_or_else(|| bad(format!("`{s}` is not a number"))),
                    }
                };
                let w = num(2)?;
                let d = num(3)?;
                if d.is_some_and(|d| d < 0.0) {
                    return Err(bad("negative delay".into()));
                }
                rows.push(((i as u32, j as u32), (w, d)));
            }
            rows.sort_by_key(|r| r.0);
            for (pair, extra) in rows {
                pairs.push(pair);
                file_extra.push(extra);
            }
        }
    }
    Ok(pairs)
}

/// Draws fixed numbers of distinct partners, reusing its marks.
struct Chooser {
    marks: Vec<bool>,
    picked: Vec<u32>,
}

impl Chooser {
    fn new(n: usize) -> Chooser {
        Chooser { marks: vec![false; n], picked: Vec::new() }
    }

    /// `k` distinct members of `sel` other than `excluded`, in increasing
    /// order, by Floyd's algorithm with draws keyed by `index`.
    #[allow(clippy::too_many_arguments)]
    fn choose(
        &mut self,
        seed: u64,
        stream: u32,
        index: u64,
        sel: hebb_ir::Sel,
        excluded: Option<usize>,
        k: usize,
        what: &str,
        proj: &str,
    ) -> Result<Vec<u32>, BuildError> {
        let n = sel.len() - usize::from(excluded.is_some());
        if k > n {
            return Err(err(format!(
                "`{what} = {k}` in `{proj}` needs {k} distinct partners but only {n} are allowed (autapses excluded)"
            )));
        }
        self.picked.clear();
        for (d, j) in (n - k..n).enumerate() {
            let r = ((rng::uniform(seed, stream, index, d as u64, 0) * (j + 1) as f64) as usize).min(j);
            let pick = if self.marks[r] { j } else { r };
            self.marks[pick] = true;
            self.picked.push(pick as u32);
        }
        self.picked.sort_unstable();
        let mut out = Vec::with_capacity(k);
        for &p in &self.picked {
            self.marks[p as usize] = false;
            // Positions skip the excluded neuron.
            let mut x = sel.start + p as usize;
            if excluded.is_some_and(|e| x >= e) {
                x += 1;
            }
            out.push(x as u32);
        }
        Ok(out)
    }
}

fn build_projection(
    program: &Program,
    p: usize,
    groups: &[GroupState],
    read: &dyn Fn(&Path) -> std::io::Result<String>,
) -> Result<ProjState, BuildError> {
    let proj = &program.projections[p];
    let mut file_extra = Vec::new();
    let mut pairs = connect(program, p, read, &mut file_extra)?;
    let n_pre = groups[proj.pre.group as usize].size;
    let n_post = groups[proj.post.group as usize].size;
    let dt = program.dt;
    let stream = streams::synapse_init(p as u32);
    // Delays in steps, per synapse when they differ.
    let steps = |d: f64| -> Result<u32, BuildError> {
        if !(d.is_finite() && d >= 0.0) {
            return Err(err(format!("a delay of `{}` is {d} s; delays must be finite and non-negative", proj.name)));
        }
        let s = (d / dt).round();
        if s > 1e7 {
            return Err(err(format!("a delay of `{}` is {d} s, more than 10^7 steps", proj.name)));
        }
        Ok(s as u32)
    };
    let constant_delay = proj.delay.as_ref().map(fold).map(|e| e.as_const());
    let mut delays: Option<Vec<u32>> = None;
    let mut delay = 0u32;
    match constant_delay {
        None => {}
        Some(Some(d)) => delay = steps(d)?,
        Some(None) => {
            let e = proj.delay.as_ref().map(fold).unwrap_or(Expr::Const(0.0));
            let mut ds = Vec::with_capacity(pairs.len());
            for (s, &(i, j)) in pairs.iter().enumerate() {
                let d = eval_at(
                    &e,
                    program.seed,
                    stream,
                    Element { own: s as u64, pre: i as u64, post: j as u64, key: s as u64 },
                    u32::MAX as u64,
                    &[],
                    0.0,
                );
                ds.push(steps(d)?);
            }
            delays = Some(ds);
        }
    }
    if file_extra.iter().any(|(_, d)| d.is_some()) {
        let mut ds = delays.unwrap_or_else(|| vec![delay; pairs.len()]);
        for (k, (_, d)) in file_extra.iter().enumerate() {
            if let Some(d) = d {
                ds[k] = steps(*d)?;
            }
        }
        delays = Some(ds);
    }
    // Within each row, order synapses by delay so a row splits into segments.
    if let Some(ds) = &mut delays {
        let mut order: Vec<usize> = (0..pairs.len()).collect();
        order.sort_by_key(|&k| (pairs[k].0, ds[k], pairs[k].1));
        pairs = order.iter().map(|&k| pairs[k]).collect();
        *ds = order.iter().map(|&k| ds[k]).collect();
        file_extra = order.iter().filter_map(|&k| file_extra.get(k).copied()).collect();
        if ds.iter().all(|&d| d == ds[0]) {
            delay = ds.first().copied().unwrap_or(0);
        }
    }
    if pairs.len() > u32::MAX as usize - 1 {
        return Err(err(format!("`{}` has {} synapses, more than 2^32", proj.name, pairs.len())));
    }
    let mut row_start = vec![0u32; n_pre + 1];
    for &(i, _) in &pairs {
        row_start[i as usize + 1] += 1;
    }
    for i in 0..n_pre {
        row_start[i + 1] += row_start[i];
    }
    let targets: Vec<u32> = pairs.iter().map(|&(_, j)| j).collect();
    let mut columns = init_columns(program, &proj.columns, pairs.len(), stream, |s| {
        let (i, j) = pairs[s];
        Element { own: s as u64, pre: i as u64, post: j as u64, key: s as u64 }
    });
    if let Some(SynVar::Column(wc)) = proj.weight {
        let wc = wc as usize;
        for (k, (w, _)) in file_extra.iter().enumerate() {
            if let Some(w) = w {
                columns[wc][k] = *w;
            }
        }
    } else if file_extra.iter().any(|(w, _)| w.is_some()) {
        return Err(err(format!(
            "the connection file of `{}` gives weights, but its synapses have no state `w`",
            proj.name
        )));
    }
    let (mut seg_start, mut seg_pre, mut seg_delay, mut pre_seg) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let heterogeneous = delays.as_ref().is_some_and(|ds| ds.iter().any(|&d| d != delay));
    let mut max_delay = delay;
    if heterogeneous {
        let ds = delays.as_ref().expect("heterogeneous delays exist");
        pre_seg.push(0);
        for i in 0..n_pre {
            let (a, b) = (row_start[i] as usize, row_start[i + 1] as usize);
            let mut s = a;
            while s < b {
                let d = ds[s];
                seg_start.push(s as u32);
                seg_pre.push(i as u32);
                seg_delay.push(d);
                max_delay = max_delay.max(d);
                while s < b && ds[s] == d {
                    s += 1;
                }
            }
            pre_seg.push(seg_start.len() as u32);
        }
        seg_start.push(pairs.len() as u32);
    }
    // The post-synaptic index, only where `on post` needs it; the
    // presynaptic neuron of each synapse where a kernel runs per synapse.
    let (mut post_start, mut post_syn, mut syn_pre) = (Vec::new(), Vec::new(), Vec::new());
    if proj.step.is_some() || !proj.every.is_empty() {
        syn_pre = pairs.iter().map(|&(i, _)| i).collect();
    }
    if proj.on_post.is_some() {
        post_start = vec![0u32; n_post + 1];
        for &j in &targets {
            post_start[j as usize + 1] += 1;
        }
        for j in 0..n_post {
            post_start[j + 1] += post_start[j];
        }
        let mut fill = post_start.clone();
        // (synapse, presynaptic neuron) pairs, grouped by postsynaptic neuron.
        post_syn = vec![0u32; 2 * targets.len()];
        for (s, &j) in targets.iter().enumerate() {
            post_syn[2 * fill[j as usize] as usize] = s as u32;
            post_syn[2 * fill[j as usize] as usize + 1] = pairs[s].0;
            fill[j as usize] += 1;
        }
    }
    let side = |cols: &[hebb_ir::Column], n: usize| -> Columns {
        Columns::new(cols.iter().map(|c| vec![fold(&c.init).as_const().unwrap_or(0.0); n]).collect(), n)
    };
    let n_synapses = targets.len();
    Ok(ProjState {
        row_start,
        targets,
        columns: Columns::new(columns, n_synapses),
        seg_start,
        seg_pre,
        seg_delay,
        pre_seg,
        identity: if heterogeneous { Vec::new() } else { (0..n_pre as u32).collect() },
        delay,
        ring: vec![Vec::new(); max_delay as usize + 1],
        post_start,
        post_syn,
        syn_pre,
        pre_side: side(&proj.pre_side, n_pre),
        post_side: side(&proj.post_side, n_post),
        post_ring: vec![Vec::new(); proj.post_delay as usize + 1],
        scratch: Vec::new(),
        factors: vec![1.0; 2 * proj.decay_rates.len()],
        t_ref: vec![0.0; proj.decay_rates.len()],
    })
}
