//! The experiment: its settings (`network`, `dt`, `seed`, `duration`) and
//! aborts, and the order its parts are checked in; stimuli, phases,
//! metrics and variants have modules of their own (LANGUAGE.md section 5).

use super::ItemDef;
use super::expr::{self, Scope, expect_dim};
use super::measure::measures;
use super::names::{did_you_mean, suggest};
use super::phase::phases;
use super::stimuli::stimuli;
use super::variant::variants;
use crate::diag::Diagnostic;
use crate::hir::*;
use crate::span::{SourceMap, Span};
use crate::syntax::ast::{self, Member};
use crate::units::{Dim, format_quantity};

const SETTINGS: [&str; 6] = ["network", "dt", "seed", "seeds", "duration", "precision"];

pub(super) fn setting<'a>(def: &'a ItemDef, key: &str) -> Option<(&'a ast::Path, &'a ast::Expr)> {
    def.members.iter().find_map(|m| match m {
        Member::Assign { target, op: ast::AssignOp::Set, value, .. }
            if target.parts.len() == 1 && target.parts[0].name == key =>
        {
            Some((target, value))
        }
        _ => None,
    })
}

/// Rule: `dt` is a positive time (default 0.1 ms, as in Brian2).
pub(super) fn experiment_dt(def: &ItemDef, diags: &mut Vec<Diagnostic>) -> Option<f64> {
    let Some((_, value)) = setting(def, "dt") else { return Some(1e-4) };
    let e = expr::check(&Scope::constant("the time step", &[]), value, diags);
    if !expect_dim(&e, Dim::TIME, "`dt`", diags, false) {
        return None;
    }
    match const_eval(&e, &[]) {
        Some(v) if v > 0.0 && v.is_finite() => Some(v),
        v => {
            diags.push(
                Diagnostic::error("hebb::experiment::dt", "`dt` must be a positive time")
                    .label(e.span, format!("this is {}", format_quantity(v.unwrap_or(f64::NAN), Dim::TIME)))
                    .help("the usual time step is `dt = 0.1 ms`"),
            );
            None
        }
    }
}

/// A positive constant time, for durations and periods.
pub(super) fn positive_time(e: &ast::Expr, what: &str, diags: &mut Vec<Diagnostic>) -> Option<f64> {
    let v = expr::check(&Scope::constant(what.to_string(), &[]), e, diags);
    if !expect_dim(&v, Dim::TIME, what, diags, false) {
        return None;
    }
    match const_eval(&v, &[]) {
        Some(x) if x > 0.0 && x.is_finite() => Some(x),
        x => {
            diags.push(
                Diagnostic::error("hebb::experiment::duration", format!("{what} must be a positive, finite time"))
                    .label(v.span, format!("this is {}", format_quantity(x.unwrap_or(f64::NAN), Dim::TIME))),
            );
            None
        }
    }
}

/// A constant of a dimension, for options such as rates.
pub(super) fn constant(e: &ast::Expr, dim: Dim, what: &str, diags: &mut Vec<Diagnostic>) -> Option<f64> {
    let v = expr::check(&Scope::constant(what.to_string(), &[]), e, diags);
    if !expect_dim(&v, dim, what, diags, true) {
        return None;
    }
    let x = const_eval(&v, &[]);
    if x.is_none() {
        diags.push(
            Diagnostic::error("hebb::experiment::not_constant", format!("{what} must be a constant"))
                .label(v.span, "not a constant"),
        );
    }
    x
}

/// Checks the experiment, each part in the order of the rules it depends on.
pub(super) fn experiment(
    def: &ItemDef,
    model: &Model,
    sources: &SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> Option<Experiment> {
    settings_are_known(def, diags);
    let dt = experiment_dt(def, diags);
    let seed = seed(def, sources, diags);
    let seeds = seeds(def, sources, diags);
    let f32 = precision(def, diags);
    let network = network(def, model, diags);
    let net = network.map(|k| &model.networks[k as usize]);
    let stimuli = stimuli(def, net, diags);
    let phases = phases(def, model, net, &stimuli, diags);
    let duration = duration(def, &phases, diags);
    let measures = measures(def, net, &stimuli, &phases, diags);
    let variants = variants(def, model, net, diags);
    let aborts = aborts(def, net, diags);
    if let (Some(dt), Some(duration)) = (dt, duration) {
        at_least_one_step(def, dt, duration, &phases, diags);
        not_too_many_steps(def, dt, duration, net, diags);
    }
    Some(Experiment {
        name: def.name.as_ref().map(|n| n.name.clone()),
        network: network?,
        dt: dt?,
        seed: seed?,
        seeds: seeds?,
        f32: f32?,
        duration: duration?,
        span: def.kind_span,
        stimuli,
        phases,
        measures,
        variants,
        aborts,
    })
}

/// Rule: the experiment, and each of its phases, lasts at least one time
/// step (`dt` longer than the run would simulate nothing).
fn at_least_one_step(def: &ItemDef, dt: f64, duration: f64, phases: &[Phase], diags: &mut Vec<Diagnostic>) {
    let short = |t: f64| (t / dt).round() < 1.0;
    let dt_text = format_quantity(dt, Dim::TIME);
    for ph in phases.iter().filter(|p| p.duration > 0.0 && short(p.duration)) {
        diags.push(
            Diagnostic::error(
                "hebb::experiment::too_short",
                format!("phase `{}` is shorter than one time step", ph.name),
            )
            .label(ph.span, format!("lasts {}, and dt is {dt_text}", format_quantity(ph.duration, Dim::TIME)))
            .help("make the phase longer, or dt shorter"),
        );
    }
    if phases.is_empty() && duration > 0.0 && short(duration) {
        let span = setting(def, "duration").map(|(t, _)| t.span).unwrap_or(def.kind_span);
        diags.push(
            Diagnostic::error("hebb::experiment::too_short", "the experiment is shorter than one time step")
                .label(span, format!("lasts {}, and dt is {dt_text}", format_quantity(duration, Dim::TIME)))
                .help("make `duration` longer, or `dt` shorter"),
        );
    }
}

/// Steps beyond which a run gets a warning with an estimate of its time.
const MANY_STEPS: f64 = 1e9;

/// Rule: a run has at most 2^53 steps (the step counter is exact below);
/// past a billion steps, a warning says how long the run would take at
/// least (a few nanoseconds per neuron and step, and a microsecond per
/// step: real networks take longer).
fn not_too_many_steps(def: &ItemDef, dt: f64, duration: f64, net: Option<&Network>, diags: &mut Vec<Diagnostic>) {
    let steps = duration / dt;
    let span = setting(def, "duration").or(setting(def, "dt")).map(|(t, _)| t.span).unwrap_or(def.kind_span);
    if steps > 2f64.powi(53) {
        diags.push(
            Diagnostic::error("hebb::experiment::too_long", format!("the experiment has {steps:.3e} time steps"))
                .label(span, "more than 2^53 steps, which hebb cannot count exactly")
                .help("shorten `duration`, or make `dt` longer"),
        );
    } else if steps > MANY_STEPS {
        let neurons: f64 = net.map_or(0.0, |n| n.populations.iter().map(|p| p.size as f64).sum());
        let seconds = steps * (1e-6 + 2e-9 * neurons);
        diags.push(
            Diagnostic::warning("hebb::experiment::long", format!("the experiment has {steps:.3e} time steps"))
                .label(span, format!("at least {} of computing", wall_time(seconds)))
                .help("`hebb run --checkpoint-every` keeps such a run resumable"),
        );
    }
}

/// A wall-clock time in the unit a person would use.
fn wall_time(seconds: f64) -> String {
    match seconds {
        s if s >= 2.0 * 86400.0 => format!("{:.0} days", s / 86400.0),
        s if s >= 2.0 * 3600.0 => format!("{:.0} hours", s / 3600.0),
        s if s >= 120.0 => format!("{:.0} minutes", s / 60.0),
        s => format!("{s:.0} s"),
    }
}

/// Rule: experiment settings are `network`, `dt`, `seed`, `seeds`,
/// `duration` and `precision`, each given once, with `=`.
fn settings_are_known(def: &ItemDef, diags: &mut Vec<Diagnostic>) {
    let mut seen: Vec<(&str, Span)> = Vec::new();
    for m in &def.members {
        let Member::Assign { target, op, span, .. } = m else { continue };
        let key = target.dotted();
        if *op != ast::AssignOp::Set && SETTINGS.contains(&key.as_str()) {
            diags.push(
                Diagnostic::error(
                    "hebb::experiment::setting_op",
                    format!("`{key}` is set with `=`, not `{}`", op.symbol()),
                )
                .label(*span, "settings are not variables")
                .help(format!("write `{key} = ...`")),
            );
            continue;
        }
        if !SETTINGS.contains(&key.as_str()) {
            diags.push(
                Diagnostic::error("hebb::experiment::unknown_setting", format!("unknown experiment setting `{key}`"))
                    .label(target.span, "not a setting")
                    .with_help(did_you_mean(suggest(&key, SETTINGS)).or_else(|| {
                        Some("the settings are `network`, `dt`, `seed`, `seeds`, `duration` and `precision`".into())
                    })),
            );
            continue;
        }
        let key_static = SETTINGS.iter().find(|s| **s == key).copied().unwrap_or("");
        if let Some((_, prev)) = seen.iter().find(|(k, _)| *k == key_static) {
            diags.push(
                Diagnostic::error("hebb::names::duplicate", format!("`{key}` is set twice"))
                    .label(*span, "again here")
                    .label(*prev, "first here"),
            );
        }
        seen.push((key_static, *span));
    }
}

/// Rule: `seed` is a non-negative integer below 2^64. A literal is read
/// exactly, as `--seed` is (a float would round above 2^53).
fn seed(def: &ItemDef, sources: &SourceMap, diags: &mut Vec<Diagnostic>) -> Option<u64> {
    let Some((_, v)) = setting(def, "seed") else { return Some(0) };
    if let ast::ExprKind::Number(_) = v.kind
        && let Some(text) = sources.get(v.span.file).text.get(v.span.start as usize..v.span.end as usize)
        && let Ok(exact) = text.trim().parse::<u64>()
    {
        return Some(exact);
    }
    let e = expr::check(&Scope::constant("the seed", &[]), v, diags);
    match const_eval(&e, &[]) {
        Some(x) if e.ty == Ty::ONE && x >= 0.0 && x.fract() == 0.0 && x < 2f64.powi(53) => Some(x as u64),
        _ => {
            diags.push(
                Diagnostic::error("hebb::experiment::seed", "`seed` must be a non-negative integer")
                    .label(e.span, "not a non-negative integer"),
            );
            None
        }
    }
}

/// Rule: `seeds` (the replicates `hebb compare` and `hebb sweep` run) is a
/// non-empty list of distinct non-negative integers, `[1, 2, 3]`.
fn seeds(def: &ItemDef, sources: &SourceMap, diags: &mut Vec<Diagnostic>) -> Option<Option<Vec<u64>>> {
    let Some((_, v)) = setting(def, "seeds") else { return Some(None) };
    let bad = |span: Span, why: &str| {
        Diagnostic::error("hebb::experiment::seeds", "`seeds` must be a list of distinct non-negative integers")
            .label(span, why.to_string())
            .help("for example `seeds = [1, 2, 3, 4, 5]`; `hebb compare --seeds 1..5` overrides it")
    };
    let ast::ExprKind::List(items) = &v.kind else {
        diags.push(bad(v.span, "not a list"));
        return None;
    };
    if items.is_empty() {
        diags.push(bad(v.span, "no seeds"));
        return None;
    }
    let mut out: Vec<u64> = Vec::new();
    for item in items {
        let text = sources.get(item.span.file).text.get(item.span.start as usize..item.span.end as usize);
        let value = match (&item.kind, text.map(|t| t.trim().parse::<u64>())) {
            (ast::ExprKind::Number(_), Some(Ok(x))) => x,
            _ => {
                diags.push(bad(item.span, "not a non-negative integer"));
                return None;
            }
        };
        if out.contains(&value) {
            diags.push(bad(item.span, "given twice"));
            return None;
        }
        out.push(value);
    }
    Some(Some(out))
}

/// Rule: `precision` is `f64` (the default) or `f32`; returns whether it
/// is `f32`.
fn precision(def: &ItemDef, diags: &mut Vec<Diagnostic>) -> Option<bool> {
    let Some((_, v)) = setting(def, "precision") else { return Some(false) };
    match &v.kind {
        ast::ExprKind::Name(p) if p.parts.len() == 1 && p.parts[0].name == "f64" => Some(false),
        ast::ExprKind::Name(p) if p.parts.len() == 1 && p.parts[0].name == "f32" => Some(true),
        _ => {
            diags.push(
                Diagnostic::error("hebb::experiment::precision", "`precision` is `f64` or `f32`")
                    .label(v.span, "not a precision")
                    .help("`precision = f32` stores states and synaptic variables in single precision"),
            );
            None
        }
    }
}

/// Rule: `network` names a network of the main file; it may be left out
/// when there is exactly one.
fn network(def: &ItemDef, model: &Model, diags: &mut Vec<Diagnostic>) -> Option<u32> {
    match setting(def, "network") {
        Some((_, v)) => match &v.kind {
            ast::ExprKind::Name(p) if p.parts.len() == 1 => {
                let name = &p.parts[0].name;
                match model.networks.iter().position(|n| &n.name == name) {
                    Some(k) => Some(k as u32),
                    None => {
                        let cands = model.networks.iter().map(|n| n.name.as_str());
                        diags.push(
                            Diagnostic::error("hebb::names::unknown_network", format!("unknown network `{name}`"))
                                .label(v.span, "not a network of this file")
                                .with_help(did_you_mean(suggest(name, cands))),
                        );
                        None
                    }
                }
            }
            _ => {
                diags.push(
                    Diagnostic::error("hebb::experiment::network", "`network` must name a network")
                        .label(v.span, "write `network = NAME`"),
                );
                None
            }
        },
        None if model.networks.len() == 1 => Some(0),
        None => {
            if !model.networks.is_empty() {
                diags.push(
                    Diagnostic::error("hebb::experiment::network", "the experiment does not say which network to run")
                        .label(def.kind_span, "several networks are declared")
                        .help(format!("add `network = {}`", model.networks[0].name)),
                );
            }
            None
        }
    }
}

/// Rule: the duration is a positive time given by `duration`, or the sum of
/// the phases (not both).
fn duration(def: &ItemDef, phases: &[Phase], diags: &mut Vec<Diagnostic>) -> Option<f64> {
    let given = setting(def, "duration");
    let has_phases = def.members.iter().any(|m| matches!(m, Member::Phase { .. }));
    match (given, has_phases) {
        (Some((target, _)), true) => {
            diags.push(
                Diagnostic::error(
                    "hebb::experiment::duration_and_phases",
                    "an experiment with phases has no `duration`",
                )
                .label(target.span, "the duration is the sum of the phases")
                .help("remove `duration`, or the phases"),
            );
            None
        }
        (None, true) => {
            let total: f64 = phases.iter().map(|p| p.duration).sum();
            (phases.len() == def.members.iter().filter(|m| matches!(m, Member::Phase { .. })).count()).then_some(total)
        }
        (Some((_, v)), false) => positive_time(v, "`duration`", diags),
        (None, false) => {
            diags.push(
                Diagnostic::error("hebb::experiment::duration", "the experiment has no `duration`")
                    .label(def.kind_span, "how long should it run?")
                    .help("add `duration = 1 s`, or phases"),
            );
            None
        }
    }
}

/// Resolves a population of the experiment's network.
pub(super) fn population(net: &Network, id: &ast::Ident, diags: &mut Vec<Diagnostic>) -> Option<u32> {
    match net.population(&id.name) {
        Some(k) => Some(k as u32),
        None => {
            let cands = net.populations.iter().map(|p| p.name.as_str());
            diags.push(
                Diagnostic::error("hebb::names::unknown_population", format!("unknown population `{}`", id.name))
                    .label(id.span, format!("not a population of network `{}`", net.name))
                    .with_help(did_you_mean(suggest(&id.name, cands))),
            );
            None
        }
    }
}

/// Rule: `abort when rate of P > R` names a population and a rate.
fn aborts(def: &ItemDef, net: Option<&Network>, diags: &mut Vec<Diagnostic>) -> Vec<Abort> {
    let mut out = Vec::new();
    for m in &def.members {
        let Member::Abort { population: p, op, threshold, span } = m else { continue };
        let Some(net) = net else { continue };
        let pop = population(net, p, diags);
        let th = constant(threshold, Dim::HERTZ, "the abort threshold", diags);
        if let (Some(pop), Some(threshold)) = (pop, th) {
            let (above, inclusive) = match op {
                ast::CmpOp::Gt => (true, false),
                ast::CmpOp::Ge => (true, true),
                ast::CmpOp::Lt => (false, false),
                ast::CmpOp::Le => (false, true),
            };
            out.push(Abort { pop, above, inclusive, threshold, span: *span });
        }
    }
    out
}
