//! `hebb explain`: for every group, the integrator chosen and why, the
//! propagator of exact ones, and memory per neuron and per synapse.

use hebb_ir::{ColumnRole, Group, GroupId, GroupKind, MeasureTarget, Metric, Precision, Program, Projection, SynVar};
use hebb_lang::units::{Dim, format_quantity};
use std::fmt::Write;

pub fn explain(program: &Program) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "time step {} ms, {} steps, seed {}", program.dt * 1e3, program.n_steps, program.seed);
    if program.precision == Precision::F32 {
        let _ = writeln!(out, "precision f32: neuron states and synaptic variables stored in single precision");
    }
    for (g, group) in program.groups.iter().enumerate() {
        explain_group(program, g, group, &mut out);
    }
    for (p, proj) in program.projections.iter().enumerate() {
        explain_projection(program, p, proj, &mut out);
    }
    experiment(program, &mut out);
    out
}

/// A group: what it is, its integrator (with the propagator of an exact
/// one) and its memory per neuron.
fn explain_group(program: &Program, g: usize, group: &Group, out: &mut String) {
    let kind = match &group.kind {
        GroupKind::Neurons { type_name } => format!("{} neurons of type `{type_name}`", group.size),
        GroupKind::Poisson { rate_max, .. } => format!(
            "poisson source of {} neurons (cost per spike{})",
            group.size,
            rate_max.map(|m| format!("; thinning at {m} Hz")).unwrap_or_default()
        ),
        GroupKind::SpikeTimes(_) => format!("spike_times source of {} neurons", group.size),
        GroupKind::Signal => "signal (one global set of variables)".to_string(),
    };
    let _ = writeln!(out, "\n{}: {kind}", group.name);
    if let Some(info) = &group.integrator {
        let _ = writeln!(out, "  integrator: {} ({})", info.method, info.reason);
        if let Some((names, p, q)) = &info.propagator {
            let _ = writeln!(
                out,
                "  propagator: [{}](t+dt) = P [{}](t) + q",
                names[..p.len()].join(", "),
                names.join(", ")
            );
            for (k, row) in p.iter().enumerate() {
                let cells: Vec<String> = row.iter().map(|x| format!("{x:>12.6e}")).collect();
                let _ = writeln!(out, "    {:<8} | {} | {:>12.6e}", names[k], cells.join(" "), q[k]);
            }
        }
    }
    let states = group.columns.iter().filter(|c| c.role == ColumnRole::State).count();
    let params = group.columns.iter().filter(|c| c.role == ColumnRole::Param).count();
    if !group.columns.is_empty() {
        let _ = writeln!(
            out,
            "  memory: {} bytes per neuron ({states} state{}, {params} per-neuron param{}{})",
            (0..group.columns.len()).map(|c| program.group_column_precision(g, c).bytes()).sum::<usize>(),
            if states == 1 { "" } else { "s" },
            if params == 1 { "" } else { "s" },
            if group.columns.iter().any(|c| c.role == ColumnRole::LastSpike) { ", last spike" } else { "" }
        );
    }
}

/// A projection: memory per synapse, folded and hoisted variables, and the
/// work its event kernels do per spike and per synapse.
fn explain_projection(program: &Program, p: usize, proj: &Projection, out: &mut String) {
    let _ = writeln!(out, "\n{}: synapses `{}`", proj.name, proj.synapse);
    let bytes: Vec<usize> =
        (0..proj.columns.len()).map(|c| program.projection_column_precision(p, None, c).bytes()).collect();
    let sizes = if bytes.iter().all(|&b| b == 8) {
        "× 8".to_string()
    } else {
        format!("of {} bytes", bytes.iter().map(|b| b.to_string()).collect::<Vec<_>>().join(" + "))
    };
    let cols: Vec<&str> = proj.columns.iter().map(|c| c.name.as_str()).collect();
    let per_synapse_loops = proj.step.is_some() || !proj.every.is_empty();
    let index = 4 + if proj.on_post.is_some() { 8 } else { 0 } + if per_synapse_loops { 4 } else { 0 };
    let index_text = match (proj.on_post.is_some(), per_synapse_loops) {
        (true, true) => "target 4, post index 8, presynaptic index 4",
        (true, false) => "target 4, post index 8",
        (false, true) => "target 4, presynaptic index 4",
        _ => "target index 4",
    };
    let _ = writeln!(
        out,
        "  memory: {} bytes per synapse ({index_text} + {} per-synapse variable{} {sizes}){}",
        index + bytes.iter().sum::<usize>(),
        cols.len(),
        if cols.len() == 1 { "" } else { "s" },
        if cols.is_empty() { String::new() } else { format!(": {}", cols.join(", ")) }
    );
    for (name, v) in &proj.folded {
        let _ = writeln!(out, "  `{name}` = {v} for every synapse: folded into the code, not stored");
    }
    let hoisted: Vec<String> = proj
        .pre_side
        .iter()
        .filter(|c| c.role != ColumnRole::LastUpdate)
        .map(|c| format!("`{}` per presynaptic neuron", c.name))
        .chain(
            proj.post_side
                .iter()
                .filter(|c| c.role != ColumnRole::LastUpdate)
                .map(|c| format!("`{}` per postsynaptic neuron", c.name)),
        )
        .collect();
    if !hoisted.is_empty() {
        let _ = writeln!(
            out,
            "  hoisted: {}; without hoisting {} bytes per synapse",
            hoisted.join(", "),
            index + 8 * proj.unhoisted_columns
        );
    }
    for (name, why) in &proj.per_synapse_why {
        let _ = writeln!(out, "  `{name}` per synapse: {why}");
    }
    let scaled: Vec<&str> = (proj.scaled.iter())
        .filter_map(|s| match s.var {
            SynVar::Column(c) => Some(proj.columns[c as usize].name.as_str()),
            _ => None,
        })
        .collect();
    if !scaled.is_empty() {
        let _ = writeln!(
            out,
            "  stored scaled to a reference time (a multiplication per event, no exponential): {}",
            scaled.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
        );
    }
    let kernels = [(proj.on_pre, "on pre"), (proj.on_post, "on post"), (proj.step, "continuous equations")];
    for (k, what) in kernels {
        if let Some(k) = k {
            let kernel = &program.kernels[k.index()];
            if !kernel.prologue.is_empty() {
                let _ = writeln!(
                    out,
                    "  {what}: {} statements once per spike, {} per synapse",
                    kernel.prologue.len(),
                    kernel.body.len()
                );
            }
        }
    }
}

/// The experiment's schedule: stimulus sets, phases, stops and metrics.
fn experiment(program: &Program, out: &mut String) {
    if program.phases.len() <= 1 && program.stimuli.is_empty() && program.measures.is_empty() {
        return;
    }
    let secs = |steps: u64| format_quantity(steps as f64 * program.dt, Dim::TIME);
    let group = |g: GroupId| program.groups[g.index()].name.as_str();
    let _ = writeln!(out, "\nexperiment");
    for s in &program.stimuli {
        let n = program.groups[s.group.index()].size;
        let _ = writeln!(
            out,
            "  stimuli {}: {} random patterns of `{}`, each {} of {n} neurons at {} Hz, the rest at {} Hz",
            s.name,
            s.count,
            group(s.group),
            s.active_count(n),
            s.rate,
            s.rest
        );
    }
    for ph in &program.phases {
        let mut what = Vec::new();
        if ph.freeze_neurons {
            what.push("plasticity off all".to_string());
        } else if !ph.plasticity {
            what.push("plasticity off".to_string());
        }
        if let Some((s, period)) = ph.present {
            what.push(format!("present {} each {}", program.stimuli[s as usize].name, secs(period)));
        }
        if !ph.sets.is_empty() {
            what.push(format!("{} set{} at the start", ph.sets.len(), if ph.sets.len() == 1 { "" } else { "s" }));
        }
        let _ = writeln!(
            out,
            "  phase {}: {} from {}{}",
            ph.name,
            secs(ph.steps),
            secs(ph.start),
            if what.is_empty() { String::new() } else { format!("; {}", what.join("; ")) }
        );
    }
    for a in &program.aborts {
        let op = a.op();
        let _ =
            writeln!(out, "  abort when the rate of `{}` over the last 100 ms {op} {} Hz", group(a.group), a.threshold);
    }
    for m in &program.measures {
        let target = match m.target {
            MeasureTarget::Group(g) => group(g).to_string(),
            MeasureTarget::Projection(p) => program.projections[p.index()].name.clone(),
        };
        let _ = writeln!(
            out,
            "  measure {} of {target}{}{}",
            m.metric.name(),
            m.about.map(|s| format!(" about {}", program.stimuli[s as usize].name)).unwrap_or_default(),
            match (&m.phase_name, m.metric == Metric::Weights) {
                (Some(p), false) => format!(" in {p}"),
                (Some(p), true) => format!(" at the end of {p}"),
                (None, false) => " over the whole run".into(),
                (None, true) => " at the end of the run".into(),
            }
        );
    }
}
