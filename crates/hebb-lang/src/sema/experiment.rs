//! The experiment: settings, stimuli, phases, metrics, variants and aborts
//! (LANGUAGE.md section 5).

use super::ItemDef;
use super::expr::{self, Scope, expect_dim};
use super::names::{check_unique, did_you_mean, suggest};
use super::network::positive_integer;
use crate::diag::Diagnostic;
use crate::hir::*;
use crate::span::Span;
use crate::syntax::ast::{self, Member};
use crate::units::{Dim, format_quantity};

const SETTINGS: [&str; 4] = ["network", "dt", "seed", "duration"];

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
fn positive_time(e: &ast::Expr, what: &str, diags: &mut Vec<Diagnostic>) -> Option<f64> {
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
fn constant(e: &ast::Expr, dim: Dim, what: &str, diags: &mut Vec<Diagnostic>) -> Option<f64> {
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

pub(super) fn experiment(def: &ItemDef, model: &Model, diags: &mut Vec<Diagnostic>) -> Option<Experiment> {
    settings_are_known(def, diags);
    let dt = experiment_dt(def, diags);
    let seed = seed(def, diags);
    let network = network(def, model, diags);
    let net = network.map(|k| &model.networks[k as usize]);
    let stimuli = stimuli(def, net, diags);
    let phases = phases(def, model, net, &stimuli, diags);
    let duration = duration(def, &phases, diags);
    let measures = measures(def, net, &stimuli, &phases, diags);
    let variants = variants(def, model, net, diags);
    let aborts = aborts(def, net, diags);
    Some(Experiment {
        name: def.name.as_ref().map(|n| n.name.clone()),
        network: network?,
        dt: dt?,
        seed: seed?,
        duration: duration?,
        span: def.kind_span,
        stimuli,
        phases,
        measures,
        variants,
        aborts,
    })
}

/// Rule: experiment settings are `network`, `dt`, `seed` and `duration`,
/// each given once, with `=`.
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
                    .with_help(
                        did_you_mean(suggest(&key, SETTINGS))
                            .or_else(|| Some("the settings are `network`, `dt`, `seed` and `duration`".into())),
                    ),
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

/// Rule: `seed` is a non-negative integer.
fn seed(def: &ItemDef, diags: &mut Vec<Diagnostic>) -> Option<u64> {
    let Some((_, v)) = setting(def, "seed") else { return Some(0) };
    let e = expr::check(&Scope::constant("the seed", &[]), v, diags);
    match const_eval(&e, &[]) {
        Some(x) if e.ty == Ty::ONE && x >= 0.0 && x.fract() == 0.0 && x < 2f64.powi(63) => Some(x as u64),
        _ => {
            diags.push(
                Diagnostic::error("hebb::experiment::seed", "`seed` must be a non-negative integer")
                    .label(e.span, "not a non-negative integer"),
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

fn population(net: &Network, id: &ast::Ident, diags: &mut Vec<Diagnostic>) -> Option<u32> {
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

/// Stimulus sets. Rules: the kind is `random_patterns`; the source is a
/// poisson population with a rate constant in time; `active` is a fraction
/// in (0, 1]; `rate` and `rest` are non-negative rates; names are unique.
fn stimuli(def: &ItemDef, net: Option<&Network>, diags: &mut Vec<Diagnostic>) -> Vec<StimulusSet> {
    let mut out: Vec<StimulusSet> = Vec::new();
    let mut spans: Vec<Span> = Vec::new();
    for m in &def.members {
        let Member::Stimuli { name, count, kind, source, options, span } = m else { continue };
        let prev = out.iter().position(|s| s.name == name.name).map(|k| spans[k]);
        if !check_unique("the stimulus set", name, prev, diags) {
            continue;
        }
        let count = positive_integer(count, "the number of patterns", diags);
        if kind.name != "random_patterns" {
            diags.push(
                Diagnostic::error("hebb::stimuli::kind", format!("unknown kind of stimuli `{}`", kind.name))
                    .label(kind.span, "not a kind of stimuli")
                    .help("the kind is `random_patterns`"),
            );
        }
        let Some(net) = net else { continue };
        let Some(src) = population(net, source, diags) else { continue };
        match &net.populations[src as usize].kind {
            PopulationKind::Poisson { rate, .. } if !rate.any(|e| matches!(e.kind, ExprKind::Builtin(Builtin::T))) => {}
            PopulationKind::Poisson { .. } => {
                diags.push(
                    Diagnostic::error(
                        "hebb::stimuli::source",
                        format!("population `{}` has a time-varying rate", source.name),
                    )
                    .label(source.span, "stimuli set the rates of a source whose rate is constant")
                    .help("give the source a constant rate"),
                );
                continue;
            }
            _ => {
                diags.push(
                    Diagnostic::error(
                        "hebb::stimuli::source",
                        format!("population `{}` is not a poisson source", source.name),
                    )
                    .label(source.span, "stimuli drive a `poisson` population")
                    .help("declare the input as `population NAME = N poisson { rate = ... }`"),
                );
                continue;
            }
        }
        let (mut active, mut rate, mut rest) = (Some(0.2), None, Some(0.0));
        for o in options {
            let Some(v) = &o.value else {
                diags.push(
                    Diagnostic::error("hebb::stimuli::option", format!("`{}` needs a value", o.name.name))
                        .label(o.span, "no value"),
                );
                continue;
            };
            match o.name.name.as_str() {
                "active" => {
                    active = constant(v, Dim::ONE, "`active`", diags);
                    if let Some(a) = active
                        && !(a > 0.0 && a <= 1.0)
                    {
                        diags.push(
                            Diagnostic::error(
                                "hebb::stimuli::active",
                                format!("`active` is the fraction of active neurons, in (0, 1], not {a}"),
                            )
                            .label(v.span, "not a fraction"),
                        );
                        active = None;
                    }
                }
                "rate" | "rest" => {
                    let x = constant(v, Dim::HERTZ, &format!("`{}`", o.name.name), diags)
                        .filter(|x| *x >= 0.0 && x.is_finite());
                    if o.name.name == "rate" { rate = x } else { rest = x }
                }
                other => {
                    let help = did_you_mean(suggest(other, ["active", "rate", "rest"]))
                        .or_else(|| Some("the options are `active`, `rate` and `rest`".into()));
                    diags.push(
                        Diagnostic::error(
                            "hebb::stimuli::option",
                            format!("`random_patterns` has no option `{other}`"),
                        )
                        .label(o.name.span, "unknown option")
                        .with_help(help),
                    );
                }
            }
        }
        if rate.is_none() && !options.iter().any(|o| o.name.name == "rate") {
            diags.push(
                Diagnostic::error("hebb::stimuli::option", "random patterns need a `rate` for their active neurons")
                    .label(*span, "no `rate`")
                    .help("add `{ active = 0.2; rate = 40 Hz; rest = 2 Hz }`"),
            );
        }
        if let (Some(count), Some(active), Some(rate), Some(rest)) = (count, active, rate, rest) {
            out.push(StimulusSet { name: name.name.clone(), source: src, count, active, rate, rest, span: *span });
            spans.push(name.span);
        }
    }
    out
}

/// Phases. Rules: names are unique; durations are positive times; a phase
/// holds only `plasticity off`, `present S each D` (a declared stimulus set,
/// a positive period) and `set X = e` (a population's state, a poisson
/// population's `rate`, or a signal's state).
fn phases(
    def: &ItemDef,
    model: &Model,
    net: Option<&Network>,
    stimuli: &[StimulusSet],
    diags: &mut Vec<Diagnostic>,
) -> Vec<Phase> {
    let mut out: Vec<Phase> = Vec::new();
    let mut spans: Vec<Span> = Vec::new();
    for m in &def.members {
        let Member::Phase { name, duration, members, span } = m else { continue };
        let prev = out.iter().position(|p| p.name == name.name).map(|k| spans[k]);
        check_unique("the phase", name, prev, diags);
        let duration = positive_time(duration, "the duration of a phase", diags);
        let mut phase = Phase {
            name: name.name.clone(),
            duration: duration.unwrap_or(0.0),
            plasticity: true,
            present: None,
            sets: Vec::new(),
            span: *span,
        };
        for pm in members {
            match pm {
                Member::PlasticityOff { .. } => phase.plasticity = false,
                Member::Present { stimuli: s, each, span } => {
                    let each = positive_time(each, "the presentation period", diags);
                    match stimuli.iter().position(|x| x.name == s.name) {
                        Some(k) => {
                            if phase.present.is_some() {
                                diags.push(
                                    Diagnostic::error(
                                        "hebb::phase::present_twice",
                                        "a phase presents one stimulus set",
                                    )
                                    .label(*span, "a second `present`"),
                                );
                            } else if let Some(each) = each {
                                phase.present = Some((k as u32, each));
                            }
                        }
                        None => {
                            let cands = stimuli.iter().map(|x| x.name.as_str());
                            diags.push(
                                Diagnostic::error(
                                    "hebb::names::unknown_stimuli",
                                    format!("unknown stimulus set `{}`", s.name),
                                )
                                .label(s.span, "not declared with `stimuli`")
                                .with_help(did_you_mean(suggest(&s.name, cands))),
                            );
                        }
                    }
                }
                Member::Set { target, value, span } => {
                    if let Some(a) = set_action(model, net, target, value, *span, diags) {
                        phase.sets.push(a);
                    }
                }
                Member::Error { .. } => {}
                other => diags.push(
                    Diagnostic::error(
                        "hebb::member::not_allowed",
                        format!("{} is not allowed in a `phase`", other.describe()),
                    )
                    .label(other.span(), "not allowed here")
                    .help("a phase holds `plasticity off`, `present S each D` and `set X = e`"),
                ),
            }
        }
        if duration.is_some() {
            out.push(phase);
            spans.push(name.span);
        }
    }
    out
}

fn set_action(
    model: &Model,
    net: Option<&Network>,
    target: &ast::Path,
    value: &ast::Expr,
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Option<SetAction> {
    let net = net?;
    let [owner, var] = target.parts.as_slice() else {
        diags.push(
            Diagnostic::error(
                "hebb::phase::set_target",
                format!("`set` needs `population.variable`, not `{}`", target.dotted()),
            )
            .label(target.span, "write `set exc.v = -65 mV` or `set input.rate = 5 Hz`"),
        );
        return None;
    };
    if let Some(k) = model.signal(&owner.name) {
        let d = &model.signals[k].dynamics;
        let Some(s) = d.state(&var.name) else {
            diags.push(
                Diagnostic::error(
                    "hebb::phase::set_target",
                    format!("signal `{}` has no state `{}`", owner.name, var.name),
                )
                .label(var.span, "unknown"),
            );
            return None;
        };
        let e = expr::check(&Scope::constant("a `set` value", &[]), value, diags);
        if let Ty::Num(want) = d.states[s].ty {
            expect_dim(&e, want, &format!("`{}`", target.dotted()), diags, true);
        }
        return Some(SetAction::Signal { signal: k as u32, state: s as u32, value: e });
    }
    let Some(pop) = net.population(&owner.name) else {
        population(net, owner, diags);
        return None;
    };
    match &net.populations[pop].kind {
        PopulationKind::Poisson { .. } => {
            if var.name != "rate" {
                diags.push(
                    Diagnostic::error(
                        "hebb::phase::set_target",
                        format!("a poisson source has only a `rate`, not `{}`", var.name),
                    )
                    .label(var.span, "write `rate`"),
                );
                return None;
            }
            let rate = constant(value, Dim::HERTZ, "the rate", diags)?;
            if !(rate >= 0.0 && rate.is_finite()) {
                diags.push(
                    Diagnostic::error("hebb::network::rate", "a rate must be non-negative and finite")
                        .label(span, "here"),
                );
                return None;
            }
            Some(SetAction::Rate { pop: pop as u32, rate })
        }
        PopulationKind::SpikeTimes(_) => {
            diags.push(
                Diagnostic::error(
                    "hebb::phase::set_target",
                    format!("population `{}` is a spike_times source, with nothing to set", owner.name),
                )
                .label(owner.span, "a source of fixed spike times"),
            );
            None
        }
        PopulationKind::Neurons { type_id } => {
            let d = &model.neurons[*type_id as usize].dynamics;
            let Some(s) = d.state(&var.name) else {
                let cands = d.states.iter().map(|s| s.name.as_str());
                diags.push(
                    Diagnostic::error(
                        "hebb::phase::set_target",
                        format!("population `{}` has no state `{}`", owner.name, var.name),
                    )
                    .label(
                        var.span,
                        if d.param(&var.name).is_some() { "a param: params are constant" } else { "unknown" },
                    )
                    .with_help(did_you_mean(suggest(&var.name, cands))),
                );
                return None;
            };
            let mut scope = Scope::constant("a `set` value", &[Builtin::I, Builtin::N]);
            scope.own = Some(d);
            scope.allow_dist = true;
            scope.allow_rand = true;
            let e = expr::check(&scope, value, diags);
            if let Ty::Num(want) = d.states[s].ty {
                expect_dim(&e, want, &format!("`{}`", target.dotted()), diags, true);
            }
            if e.any(|x| matches!(x.kind, ExprKind::Var(v) if v.kind == VarKind::State)) {
                diags.push(
                    Diagnostic::error("hebb::phase::set_value", "a `set` value cannot read states")
                        .label(e.span, "reads a state")
                        .help("use constants, params, `i`, `N` and distributions"),
                );
                return None;
            }
            Some(SetAction::State { pop: pop as u32, state: s as u32, value: e })
        }
    }
}

/// Metrics. Rules: metric names are known; `weights` measures a projection
/// `A -> B`, the others a population; `information`, `decoding` and `drift`
/// need `about S`; `in PHASE` names a phase; `control` needs `target = R`.
fn measures(
    def: &ItemDef,
    net: Option<&Network>,
    stimuli: &[StimulusSet],
    phases: &[Phase],
    diags: &mut Vec<Diagnostic>,
) -> Vec<Measure> {
    let mut out = Vec::new();
    for m in &def.members {
        let Member::Measure { metrics, target, about, in_phase, options, span } = m else { continue };
        let Some(net) = net else { continue };
        let about_k = about.as_ref().and_then(|a| match stimuli.iter().position(|s| s.name == a.name) {
            Some(k) => Some(k as u32),
            None => {
                let cands = stimuli.iter().map(|s| s.name.as_str());
                diags.push(
                    Diagnostic::error("hebb::names::unknown_stimuli", format!("unknown stimulus set `{}`", a.name))
                        .label(a.span, "not declared with `stimuli`")
                        .with_help(did_you_mean(suggest(&a.name, cands))),
                );
                None
            }
        });
        let phase_k = in_phase.as_ref().and_then(|p| match phases.iter().position(|x| x.name == p.name) {
            Some(k) => Some(k as u32),
            None => {
                let cands = phases.iter().map(|x| x.name.as_str());
                diags.push(
                    Diagnostic::error("hebb::names::unknown_phase", format!("unknown phase `{}`", p.name))
                        .label(p.span, "not a phase of this experiment")
                        .with_help(did_you_mean(suggest(&p.name, cands))),
                );
                None
            }
        });
        let (mut target_rate, mut perturbation) = (None, None);
        for o in options {
            match (o.name.name.as_str(), &o.value) {
                ("target", Some(v)) => {
                    target_rate = constant(v, Dim::HERTZ, "the target rate", diags).filter(|r| *r > 0.0)
                }
                ("perturbation", Some(v)) => perturbation = constant(v, Dim::TIME, "the perturbation time", diags),
                (other, _) => diags.push(
                    Diagnostic::error("hebb::measure::option", format!("metrics have no option `{other}`"))
                        .label(o.span, "unknown option")
                        .help("the options are `target = R` and `perturbation = T` (for `control`)"),
                ),
            }
        }
        let projection = match &target.post {
            Some(post) => {
                let (Some(a), Some(b)) = (net.population(&target.pre.name.name), net.population(&post.name.name))
                else {
                    population(net, &target.pre.name, diags);
                    population(net, &post.name, diags);
                    continue;
                };
                match net.projections.iter().position(|p| p.pre.pop as usize == a && p.post.pop as usize == b) {
                    Some(k) => Some(k as u32),
                    None => {
                        diags.push(
                            Diagnostic::error(
                                "hebb::record::no_projection",
                                format!("there is no projection `{} -> {}`", target.pre.name.name, post.name.name),
                            )
                            .label(target.span, "not connected"),
                        );
                        continue;
                    }
                }
            }
            None => None,
        };
        let pop = if projection.is_none() { population(net, &target.pre.name, diags) } else { None };
        for id in metrics {
            let Some(metric) = Metric::ALL.iter().copied().find(|x| x.name() == id.name) else {
                let names = Metric::ALL.iter().map(|x| x.name());
                diags.push(
                    Diagnostic::error("hebb::measure::unknown", format!("unknown metric `{}`", id.name))
                        .label(id.span, "not a metric")
                        .with_help(did_you_mean(suggest(&id.name, names)).or_else(|| {
                            Some(format!(
                                "the metrics are {}",
                                Metric::ALL.iter().map(|x| format!("`{}`", x.name())).collect::<Vec<_>>().join(", ")
                            ))
                        })),
                );
                continue;
            };
            let target = match (metric, projection, pop) {
                (Metric::Weights, Some(p), _) => MeasureTarget::Projection(p),
                (Metric::Weights, None, _) => {
                    diags.push(
                        Diagnostic::error("hebb::measure::target", "`weights` measures a projection")
                            .label(target.span, "write `weights of A -> B`"),
                    );
                    continue;
                }
                (_, None, Some(p)) => MeasureTarget::Population(p),
                (_, Some(_), _) => {
                    diags.push(
                        Diagnostic::error(
                            "hebb::measure::target",
                            format!("`{}` measures a population, not a projection", metric.name()),
                        )
                        .label(target.span, "write the population's name"),
                    );
                    continue;
                }
                _ => continue,
            };
            if metric.needs_stimuli() && about.is_none() {
                diags.push(
                    Diagnostic::error(
                        "hebb::measure::about",
                        format!("`{}` needs the stimuli it is about", metric.name()),
                    )
                    .label(id.span, "about which stimuli?")
                    .help("write `measure information of exc about patterns in test`"),
                );
                continue;
            }
            if metric == Metric::Control && target_rate.is_none() {
                diags.push(
                    Diagnostic::error("hebb::measure::control_target", "`control` needs the target rate")
                        .label(id.span, "compared with what?")
                        .help("add `{ target = 5 Hz }` after the measure"),
                );
                continue;
            }
            if (about.is_some() && about_k.is_none()) || (in_phase.is_some() && phase_k.is_none()) {
                continue;
            }
            out.push(Measure {
                metric,
                target,
                about: about_k,
                phase: phase_k,
                target_rate,
                perturbation,
                span: *span,
            });
        }
    }
    out
}

/// Variants. Rules: names are unique; a variant holds `Type.param = e`
/// (a param of a declared type, constant, of its dimension),
/// `connect A -> B with T` (an existing projection and a known synapse type)
/// and `population P = N T { ... }` (an existing population, same size).
/// The changes are applied by `check_variant`; here they are validated.
fn variants(def: &ItemDef, model: &Model, net: Option<&Network>, diags: &mut Vec<Diagnostic>) -> Vec<(String, Span)> {
    let mut out: Vec<(String, Span)> = Vec::new();
    for m in &def.members {
        let Member::Variant { name, members, .. } = m else { continue };
        let prev = out.iter().find(|(n, _)| *n == name.name).map(|(_, s)| *s);
        if !check_unique("the variant", name, prev, diags) {
            continue;
        }
        if name.name == "base" {
            diags.push(
                Diagnostic::error("hebb::variant::base", "`base` is the name of the unchanged model")
                    .label(name.span, "reserved")
                    .help("choose another name"),
            );
        }
        for vm in members {
            match vm {
                Member::Assign { target, op: ast::AssignOp::Set, .. } if target.parts.len() == 2 => {
                    let ty = &target.parts[0].name;
                    if model.neuron(ty).is_none() && model.synapse(ty).is_none() && model.signal(ty).is_none() {
                        let cands: Vec<&str> = model
                            .neurons
                            .iter()
                            .map(|n| n.name.as_str())
                            .chain(model.synapses.iter().map(|n| n.name.as_str()))
                            .chain(model.signals.iter().map(|n| n.name.as_str()))
                            .collect();
                        diags.push(
                            Diagnostic::error("hebb::variant::unknown_type", format!("unknown type `{ty}`"))
                                .label(target.parts[0].span, "no neuron, synapse or signal of this name")
                                .with_help(did_you_mean(suggest(ty, cands))),
                        );
                    }
                    // Params and values are checked when the variant is applied.
                }
                Member::Connect { pre, post, .. } => {
                    if let Some(net) = net {
                        let exists = net.projections.iter().any(|p| {
                            net.populations[p.pre.pop as usize].name == pre.name.name
                                && net.populations[p.post.pop as usize].name == post.name.name
                        });
                        if !exists {
                            diags.push(
                                Diagnostic::error(
                                    "hebb::variant::no_projection",
                                    format!(
                                        "the network has no projection `{} -> {}` to change",
                                        pre.name.name, post.name.name
                                    ),
                                )
                                .label(vm.span(), "a variant changes the synapse type of an existing projection"),
                            );
                        }
                    }
                }
                Member::Population { name: p, .. } => {
                    if let Some(net) = net
                        && net.population(&p.name).is_none()
                    {
                        diags.push(
                            Diagnostic::error(
                                "hebb::variant::no_population",
                                format!("the network has no population `{}` to change", p.name),
                            )
                            .label(p.span, "a variant changes the neuron type of an existing population"),
                        );
                    }
                }
                Member::Error { .. } => {}
                other => diags.push(
                    Diagnostic::error(
                        "hebb::member::not_allowed",
                        format!("{} is not allowed in a `variant`", other.describe()),
                    )
                    .label(other.span(), "not allowed here")
                    .help("a variant holds `Type.param = e`, `connect A -> B with T` and `population P = N T`"),
                ),
            }
        }
        out.push((name.name.clone(), name.span));
    }
    out
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
