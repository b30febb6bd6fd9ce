//! Records: `record spikes of P`, `record rate of P bin B`, `record v of
//! P[a..b] every D` (neuron variables) and `record w of A -> B every D
//! sample K` (synaptic variables).

use super::expr::{self, Scope, expect_dim};
use super::names::{did_you_mean, suggest};
use super::network::{Types, pop_sel, positive_integer};
use crate::diag::Diagnostic;
use crate::hir::*;
use crate::span::Span;
use crate::syntax::ast;
use crate::units::Dim;

/// Records. Rules: `spikes` and `rate` name whole populations; state
/// variables are states of the neuron type; synaptic variables are states of
/// the projection's synapse; intervals are positive times.
#[allow(clippy::too_many_arguments)]
pub(super) fn record(
    net: &mut Network,
    vars: &[ast::Ident],
    targets: &[ast::Target],
    every: Option<&ast::Expr>,
    bin: Option<&ast::Expr>,
    sample: Option<&ast::Expr>,
    span: Span,
    types: &Types<'_>,
    diags: &mut Vec<Diagnostic>,
) {
    let dt = types.ctx.dt.unwrap_or(1e-4);
    if let Some(sp) = vars.iter().find(|v| v.name == "spikes" || v.name == "rate") {
        if vars.len() > 1 {
            diags.push(
                Diagnostic::error("hebb::record::mixed", format!("`{}` must be recorded on its own", sp.name))
                    .label(span, "split this into two `record` lines"),
            );
            return;
        }
        record_activity(net, sp, targets, bin, dt, diags);
        return;
    }
    let line = VarRecord {
        vars,
        span,
        every: interval(every, "the interval of a record", dt, diags),
        sample: sample.and_then(|s| positive_integer(s, "`sample`", diags)),
        sample_given: sample.is_some(),
    };
    for t in targets {
        match &t.post {
            None => record_neuron_vars(net, &line, t, types, diags),
            Some(post_ref) => record_synapse_vars(net, &line, t, post_ref, diags),
        }
    }
}

/// Rule: a record interval (`every`, `bin`) is a positive constant time;
/// without one, every step is recorded.
fn interval(e: Option<&ast::Expr>, what: &str, dt: f64, diags: &mut Vec<Diagnostic>) -> Option<f64> {
    let Some(e) = e else { return Some(dt) };
    let v = expr::check(&Scope::constant(what.to_string(), &[]), e, diags);
    if !expect_dim(&v, Dim::TIME, what, diags, false) {
        return None;
    }
    match crate::hir::const_eval(&v, &[]) {
        Some(x) if x > 0.0 && x.is_finite() => Some(x),
        _ => {
            diags.push(
                Diagnostic::error("hebb::record::interval", format!("{what} must be a positive time"))
                    .label(v.span, "not a positive constant time"),
            );
            None
        }
    }
}

/// `record spikes of P` and `record rate of P bin B`. Rule: they name whole
/// populations, not slices or projections.
fn record_activity(
    net: &mut Network,
    sp: &ast::Ident,
    targets: &[ast::Target],
    bin: Option<&ast::Expr>,
    dt: f64,
    diags: &mut Vec<Diagnostic>,
) {
    let bin_s = if sp.name == "rate" { interval(bin, "the bin of a rate record", dt, diags) } else { Some(dt) };
    for t in targets {
        if t.post.is_some() || t.pre.range.is_some() {
            diags.push(
                Diagnostic::error("hebb::record::target", format!("`{}` is recorded for whole populations", sp.name))
                    .label(t.span, "write just the population name"),
            );
            continue;
        }
        let Some(sel) = pop_sel(net, &t.pre, diags) else { continue };
        if sp.name == "spikes" {
            net.records.push(Record::Spikes { pop: sel.pop });
        } else if let Some(bin) = bin_s {
            if net.records.iter().any(|r| matches!(r, Record::Rate { pop, .. } if *pop == sel.pop)) {
                recorded_twice(&format!("the rate of `{}`", t.pre.name.name), t.span, diags);
                continue;
            }
            net.records.push(Record::Rate { pop: sel.pop, bin });
        }
    }
}

/// A record of variables, with its options checked once for all its
/// targets.
struct VarRecord<'a> {
    vars: &'a [ast::Ident],
    span: Span,
    every: Option<f64>,
    sample: Option<usize>,
    sample_given: bool,
}

/// Variables of a population (or a slice of it). Rules: they are states or
/// params of its neuron type (a source has none); `sample` is only for
/// synaptic variables.
fn record_neuron_vars(
    net: &mut Network,
    line: &VarRecord<'_>,
    t: &ast::Target,
    types: &Types<'_>,
    diags: &mut Vec<Diagnostic>,
) {
    let Some(sel) = pop_sel(net, &t.pre, diags) else { return };
    let pop = &net.populations[sel.pop as usize];
    let PopulationKind::Neurons { type_id } = pop.kind else {
        diags.push(
            Diagnostic::error(
                "hebb::record::source",
                format!("population `{}` is a source and has no variables", pop.name),
            )
            .label(t.span, "only `spikes` and `rate` can be recorded from a source"),
        );
        return;
    };
    let d = &types.neurons[type_id as usize].dynamics;
    let mut rv = Vec::new();
    for v in line.vars {
        if let Some(k) = d.state(&v.name) {
            rv.push((v.name.clone(), VarRef { owner: Owner::Own, kind: VarKind::State, index: k as u32 }));
        } else if let Some(k) = d.param(&v.name) {
            rv.push((v.name.clone(), VarRef { owner: Owner::Own, kind: VarKind::Param, index: k as u32 }));
        } else {
            let cands = d.states.iter().map(|s| s.name.as_str());
            diags.push(
                Diagnostic::error(
                    "hebb::record::unknown_var",
                    format!("population `{}` has no variable `{}`", pop.name, v.name),
                )
                .label(v.span, "unknown variable")
                .with_help(
                    did_you_mean(suggest(&v.name, cands))
                        .or_else(|| Some("record `spikes`, `rate` or a state variable".into())),
                ),
            );
        }
    }
    if line.sample_given {
        diags.push(
            Diagnostic::error("hebb::record::sample", "`sample` is for synaptic variables")
                .label(line.span, "select neurons with a slice, as in `exc[0..10]`"),
        );
    }
    if net.records.iter().any(|r| matches!(r, Record::State { sel: s, .. } if s.pop == sel.pop)) {
        recorded_twice(&format!("the variables of `{}`", pop.name), t.span, diags);
        return;
    }
    if !names_fit_the_layout(line.vars, &["t", "index"], "state", &pop.name, diags) {
        return;
    }
    if let (Some(every), false) = (line.every, rv.is_empty())
        && rv.len() == line.vars.len()
    {
        net.records.push(Record::State { sel, vars: rv, every });
    }
}

/// Rule: one `record` line per population's (or projection's) variables
/// and rate: two would write the same files.
fn recorded_twice(what: &str, span: Span, diags: &mut Vec<Diagnostic>) {
    diags.push(
        Diagnostic::error("hebb::record::twice", format!("{what} would be recorded twice"))
            .label(span, "recorded again here")
            .help("record them in one `record` line (its files would overwrite the other's)"),
    );
}

/// Rule: a recorded variable may not have the name of a file the run
/// directory already gives its record (`t`, `index`; `pre`, `post` and
/// `phase_...` for synapses).
fn names_fit_the_layout(
    vars: &[ast::Ident],
    taken: &[&str],
    kind: &str,
    of: &str,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let mut ok = true;
    for v in
        vars.iter().filter(|v| taken.contains(&v.name.as_str()) || (kind == "weights" && v.name.starts_with("phase_")))
    {
        diags.push(
            Diagnostic::error("hebb::record::file_name", format!("`{}` cannot be recorded under its name", v.name))
                .label(v.span, format!("`{kind}/{of}.{}.npy` is a file of the record itself", v.name))
                .help("rename the variable"),
        );
        ok = false;
    }
    ok
}

/// Variables of the synapses of a projection `A -> B`. Rules: the
/// projection exists; the variables are states of its synapse.
fn record_synapse_vars(
    net: &mut Network,
    line: &VarRecord<'_>,
    t: &ast::Target,
    post_ref: &ast::PopRef,
    diags: &mut Vec<Diagnostic>,
) {
    let (Some(pre), Some(post)) = (pop_sel(net, &t.pre, diags), pop_sel(net, post_ref, diags)) else {
        return;
    };
    let Some(k) = net.projections.iter().position(|p| p.pre.pop == pre.pop && p.post.pop == post.pop) else {
        diags.push(
            Diagnostic::error(
                "hebb::record::no_projection",
                format!("there is no projection `{} -> {}`", t.pre.name.name, post_ref.name.name),
            )
            .label(t.span, "not connected"),
        );
        return;
    };
    let d = &net.projections[k].synapse.dynamics;
    let mut rv = Vec::new();
    for v in line.vars {
        match d.state(&v.name) {
            Some(s) => rv.push((v.name.clone(), s as u32)),
            None => {
                let cands = d.states.iter().map(|s| s.name.as_str());
                diags.push(
                    Diagnostic::error(
                        "hebb::record::unknown_var",
                        format!(
                            "the synapses `{} -> {}` have no state `{}`",
                            t.pre.name.name, post_ref.name.name, v.name
                        ),
                    )
                    .label(v.span, "unknown variable")
                    .with_help(did_you_mean(suggest(&v.name, cands))),
                );
            }
        }
    }
    if net.records.iter().any(|r| matches!(r, Record::Synapses { proj, .. } if *proj == k as u32)) {
        recorded_twice(&format!("the synapses `{} -> {}`", t.pre.name.name, post_ref.name.name), t.span, diags);
        return;
    }
    let name = net.projection_name(k);
    if !names_fit_the_layout(line.vars, &["t", "pre", "post"], "weights", &name, diags) {
        return;
    }
    if let (Some(every), true) = (line.every, rv.len() == line.vars.len()) {
        net.records.push(Record::Synapses { proj: k as u32, vars: rv, every, sample: line.sample });
    }
}
