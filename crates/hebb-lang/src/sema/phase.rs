//! Phases, `phase NAME DURATION { ... }`: `plasticity off`, `present S
//! each D` and `set X = e`.

use super::ItemDef;
use super::experiment::{constant, population, positive_time};
use super::expr::{self, Scope, expect_dim};
use super::names::{check_unique, did_you_mean, suggest};
use super::stimuli::stimulus_set;
use crate::diag::Diagnostic;
use crate::hir::*;
use crate::span::Span;
use crate::syntax::ast::{self, Member};
use crate::units::Dim;

/// Phases. Rules: names are unique; durations are positive times; a phase
/// holds only `plasticity off`, `present S each D` and `set X = e`.
pub(super) fn phases(
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
            freeze_neurons: false,
            present: None,
            cue: 1.0,
            sets: Vec::new(),
            span: *span,
        };
        for pm in members {
            match pm {
                Member::PlasticityOff { all, .. } => {
                    phase.plasticity = false;
                    phase.freeze_neurons |= *all;
                }
                Member::Present { stimuli: s, each, cue, span } => {
                    present(&mut phase, s, each, *span, stimuli, diags);
                    if let Some(c) = cue {
                        phase.cue = cue_fraction(c, diags).unwrap_or(1.0);
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

/// Rule: `present S each D` names a declared stimulus set and a positive
/// period, and a phase presents one stimulus set.
fn present(
    phase: &mut Phase,
    s: &ast::Ident,
    each: &ast::Expr,
    span: Span,
    stimuli: &[StimulusSet],
    diags: &mut Vec<Diagnostic>,
) {
    let each = positive_time(each, "the presentation period", diags);
    let Some(k) = stimulus_set(stimuli, s, diags) else { return };
    if phase.present.is_some() {
        diags.push(
            Diagnostic::error("hebb::phase::present_twice", "a phase presents one stimulus set")
                .label(span, "a second `present`"),
        );
    } else if let Some(each) = each {
        phase.present = Some((k, each));
    }
}

/// Rule: `cue f` is a constant fraction in (0, 1].
fn cue_fraction(c: &ast::Expr, diags: &mut Vec<Diagnostic>) -> Option<f64> {
    let f = constant(c, Dim::ONE, "the cue", diags)?;
    if f > 0.0 && f <= 1.0 {
        return Some(f);
    }
    diags.push(
        Diagnostic::error("hebb::phase::cue", "a cue is a fraction of the pattern, in (0, 1]")
            .label(c.span, format!("{f} is not"))
            .help("write `present A each 200 ms cue 0.5` to present half of each pattern"),
    );
    None
}

/// Rule: `set X = e` sets `population.variable`: a signal's state, a
/// poisson population's `rate`, or a state of a population's neurons.
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
        return set_signal(model, k, owner, var, target, value, diags);
    }
    let Some(pop) = net.population(&owner.name) else {
        population(net, owner, diags);
        return None;
    };
    match &net.populations[pop].kind {
        PopulationKind::Poisson { .. } => set_rate(pop, var, value, span, diags),
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
            set_state(pop, d, owner, var, target, value, diags)
        }
    }
}

/// Rule: `set signal.x = e` sets a state of the signal to a constant of its
/// dimension.
fn set_signal(
    model: &Model,
    k: usize,
    owner: &ast::Ident,
    var: &ast::Ident,
    target: &ast::Path,
    value: &ast::Expr,
    diags: &mut Vec<Diagnostic>,
) -> Option<SetAction> {
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
    Some(SetAction::Signal { signal: k as u32, state: s as u32, value: e })
}

/// Rule: `set P.rate = R` of a poisson population sets its only variable,
/// `rate`, to a non-negative finite rate.
fn set_rate(
    pop: usize,
    var: &ast::Ident,
    value: &ast::Expr,
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Option<SetAction> {
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
            Diagnostic::error("hebb::network::rate", "a rate must be non-negative and finite").label(span, "here"),
        );
        return None;
    }
    Some(SetAction::Rate { pop: pop as u32, rate })
}

/// Rule: `set P.x = e` sets a state or a param of the population's neurons
/// to a value of its dimension that reads no states.
fn set_state(
    pop: usize,
    d: &Dynamics,
    owner: &ast::Ident,
    var: &ast::Ident,
    target: &ast::Path,
    value: &ast::Expr,
    diags: &mut Vec<Diagnostic>,
) -> Option<SetAction> {
    let (s, want) = match (d.state(&var.name), d.param(&var.name)) {
        (Some(s), _) => (Ok(s), d.states[s].ty),
        (None, Some(k)) => (Err(k), d.params[k].ty),
        (None, None) => {
            let cands = d.states.iter().map(|s| s.name.as_str()).chain(d.params.iter().map(|p| p.name.as_str()));
            diags.push(
                Diagnostic::error(
                    "hebb::phase::set_target",
                    format!("population `{}` has no state or param `{}`", owner.name, var.name),
                )
                .label(var.span, "unknown")
                .with_help(did_you_mean(suggest(&var.name, cands))),
            );
            return None;
        }
    };
    let mut scope = Scope::constant("a `set` value", &[Builtin::I, Builtin::N]);
    scope.own = Some(d);
    scope.allow_dist = true;
    scope.allow_rand = true;
    let e = expr::check(&scope, value, diags);
    if let Ty::Num(want) = want {
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
    Some(match s {
        Ok(s) => SetAction::State { pop: pop as u32, state: s as u32, value: e },
        Err(k) => SetAction::Param { pop: pop as u32, param: k as u32, value: e },
    })
}
