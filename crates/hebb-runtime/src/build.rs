//! Network construction: the state of every group (initial values,
//! sources) and projection (`connect`, `synapses`), the recordings and
//! the stimulus patterns.
//!
//! Every random draw is keyed by (seed, stream, index, counter), so the
//! network is the same whatever order it is built in.

use crate::State;
use crate::error::{BuildError, err};
use crate::init::{data_lines, init_columns, sample_sorted};
use crate::input::{MAX_PER_STEP, Poisson, SpikeList};
use crate::record::Recordings;
use crate::state::{AbortWindow, Columns, GroupState, ProjState, Source};
use hebb_ir::interp::{Element, eval_at};
use hebb_ir::{Builtin, ColumnRole, Expr, GroupId, GroupKind, Program, SpikeTimes, streams};
use std::path::Path;

/// Builds the network of a program on up to `threads` threads (the network
/// does not depend on it). `read` reads data files.
pub(crate) fn build(
    program: &Program,
    read: &dyn Fn(&Path) -> std::io::Result<String>,
    threads: usize,
) -> Result<State, BuildError> {
    check_stimulus_rates(program)?;
    let mut groups = Vec::new();
    for (g, group) in program.groups.iter().enumerate() {
        groups.push(build_group(program, g, group, read)?);
    }
    let mut projections = Vec::new();
    for p in 0..program.projections.len() {
        projections.push(crate::synapses::build_projection(program, p, &groups, read, threads)?);
    }
    let mut recordings = Recordings::new(program);
    for rec in &mut recordings.synapses {
        let ps: &ProjState = &projections[rec.proj.index()];
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
            let n = groups[st.group.index()].size;
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
    let group_table = groups.iter().map(|g| g.columns.table()).collect();
    Ok(State {
        groups,
        projections,
        recordings,
        step: 0,
        group_table,
        plastic: true,
        freeze_neurons: false,
        phase: 0,
        base_rates,
        presenting: None,
        aborts,
        profile: None,
    })
}

fn build_group(
    program: &Program,
    g: usize,
    group: &hebb_ir::Group,
    read: &dyn Fn(&Path) -> std::io::Result<String>,
) -> Result<GroupState, BuildError> {
    let n = group.size;
    let elements = (0..n).map(|i| Element { own: i as u64, key: i as u64, ..Element::default() });
    let columns = init_columns(program, &group.columns, n, streams::group_init(GroupId(g as u32)), elements);
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
                check_rate(max, program.dt, || format!("the maximum rate of `{}`", group.name))?;
                Source::Poisson(Box::new(Poisson::new(
                    GroupId(g as u32),
                    vec![0.0; n],
                    Some(max),
                    program.seed,
                    program.dt,
                )))
            } else {
                let rates: Vec<f64> = (0..n)
                    .map(|i| {
                        eval_at(
                            rate,
                            program.seed,
                            streams::poisson(GroupId(g as u32)),
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
                let max = rates.iter().copied().fold(0.0, f64::max);
                check_rate(max, program.dt, || format!("the rate of `{}`", group.name))?;
                Source::Poisson(Box::new(Poisson::new(GroupId(g as u32), rates, None, program.seed, program.dt)))
            }
        }
        GroupKind::SpikeTimes(st) => {
            Source::SpikeTimes(SpikeList::new(spike_events(program, &group.name, n, st, read)?))
        }
        _ => Source::None,
    };
    let lastspike = group.columns.iter().position(|c| c.role == ColumnRole::LastSpike);
    let f32 =
        (0..group.columns.len()).map(|c| program.group_column_precision(g, c) == hebb_ir::Precision::F32).collect();
    let columns = Columns::with_precision(columns, n, f32);
    Ok(GroupState { size: n, columns, spikes: Vec::with_capacity(n), source, lastspike })
}

/// Refuses a rate (Hz) no source can draw at this dt: more than
/// `MAX_PER_STEP` spikes per neuron per step.
fn check_rate(rate: f64, dt: f64, what: impl Fn() -> String) -> Result<(), BuildError> {
    if rate * dt > MAX_PER_STEP {
        return Err(err(format!(
            "{} is {rate} Hz: {} spikes per neuron in each time step of {dt} s, more than the {MAX_PER_STEP} a source draws; lower the rate or dt",
            what(),
            rate * dt
        )));
    }
    Ok(())
}

/// The rates stimuli and phases give sources.
fn check_stimulus_rates(program: &Program) -> Result<(), BuildError> {
    for s in &program.stimuli {
        check_rate(s.rate.max(s.rest), program.dt, || format!("a rate of stimulus set `{}`", s.name))?;
    }
    for ph in &program.phases {
        for set in &ph.sets {
            if let hebb_ir::SetAction::Rate { group, rate } = set {
                let name = &program.groups[group.index()].name;
                check_rate(*rate, program.dt, || format!("the rate phase `{}` gives `{name}`", ph.name))?;
            }
        }
    }
    Ok(())
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
            let mut steps: Vec<(u64, f64)> = times.iter().map(|&t| (step_of(t), t)).collect();
            steps.sort_by_key(|s| s.0);
            if let Some(w) = steps.windows(2).find(|w| w[0].0 == w[1].0) {
                return Err(err(format!(
                    "the spike times of `{name}` put two spikes in one time step ({} s and {} s at dt = {} s); a neuron fires at most once per step",
                    w[0].1, w[1].1, program.dt
                )));
            }
            Ok(steps.iter().flat_map(|&(s, _)| (0..n as u32).map(move |i| (s, i))).collect())
        }
        SpikeTimes::File(path) => {
            let text = read(path)
                .map_err(|e| err(format!("cannot read spike file `{}` of source `{name}`: {e}", path.display())))?;
            // (step, neuron, line) of every row, to find two in one step.
            let mut events: Vec<(u64, u32, usize)> = Vec::new();
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
                events.push((step_of(t), i as u32, line_no + 1));
            }
            events.sort_unstable();
            if let Some(w) = events.windows(2).find(|w| (w[0].0, w[0].1) == (w[1].0, w[1].1)) {
                return Err(err(format!(
                    "{}:{}: neuron {} fires twice in one time step (again on line {}, dt = {} s); a neuron fires at most once per step",
                    path.display(),
                    w[0].2.min(w[1].2),
                    w[0].1,
                    w[0].2.max(w[1].2),
                    program.dt
                )));
            }
            Ok(events.into_iter().map(|(s, i, _)| (s, i)).collect())
        }
    }
}
