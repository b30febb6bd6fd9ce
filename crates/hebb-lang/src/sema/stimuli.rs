//! Stimulus sets, `stimuli S = K random_patterns of P { ... }`: patterns of
//! active neurons that phases present through a poisson source.

use super::ItemDef;
use super::experiment::{constant, population};
use super::names::{check_unique, did_you_mean, suggest};
use super::network::positive_integer;
use crate::diag::Diagnostic;
use crate::hir::*;
use crate::span::Span;
use crate::syntax::ast::{self, Member};
use crate::units::Dim;

/// Stimulus sets. Rules: the kind is `random_patterns`; names are unique.
pub(super) fn stimuli(def: &ItemDef, net: Option<&Network>, diags: &mut Vec<Diagnostic>) -> Vec<StimulusSet> {
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
        let Some(src) = stimulus_source(net, source, diags) else { continue };
        let (active, rate, rest) = pattern_options(options, *span, diags);
        if let (Some(count), Some(active), Some(rate), Some(rest)) = (count, active, rate, rest) {
            out.push(StimulusSet { name: name.name.clone(), source: src, count, active, rate, rest, span: *span });
            spans.push(name.span);
        }
    }
    out
}

/// Rule: the source of stimuli is a poisson population with a rate
/// constant in time.
fn stimulus_source(net: &Network, source: &ast::Ident, diags: &mut Vec<Diagnostic>) -> Option<u32> {
    let src = population(net, source, diags)?;
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
            return None;
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
            return None;
        }
    }
    Some(src)
}

/// The options of random patterns: `(active, rate, rest)`. Rules: `active`
/// is a fraction in (0, 1]; `rate` is given; `rate` and `rest` are
/// non-negative rates.
fn pattern_options(
    options: &[ast::Opt],
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> (Option<f64>, Option<f64>, Option<f64>) {
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
                    Diagnostic::error("hebb::stimuli::option", format!("`random_patterns` has no option `{other}`"))
                        .label(o.name.span, "unknown option")
                        .with_help(help),
                );
            }
        }
    }
    if rate.is_none() && !options.iter().any(|o| o.name.name == "rate") {
        diags.push(
            Diagnostic::error("hebb::stimuli::option", "random patterns need a `rate` for their active neurons")
                .label(span, "no `rate`")
                .help("add `{ active = 0.2; rate = 40 Hz; rest = 2 Hz }`"),
        );
    }
    (active, rate, rest)
}

/// Rule: a stimulus set named by `present S` or `about S` is declared with
/// `stimuli`.
pub(super) fn stimulus_set(stimuli: &[StimulusSet], s: &ast::Ident, diags: &mut Vec<Diagnostic>) -> Option<u32> {
    match stimuli.iter().position(|x| x.name == s.name) {
        Some(k) => Some(k as u32),
        None => {
            let cands = stimuli.iter().map(|x| x.name.as_str());
            diags.push(
                Diagnostic::error("hebb::names::unknown_stimuli", format!("unknown stimulus set `{}`", s.name))
                    .label(s.span, "not declared with `stimuli`")
                    .with_help(did_you_mean(suggest(&s.name, cands))),
            );
            None
        }
    }
}
