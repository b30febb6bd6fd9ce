//! Metrics, `measure M, ... of TARGET about S in PHASE { ... }`: each
//! metric of a line becomes one measure.

use super::ItemDef;
use super::experiment::{constant, population};
use super::names::{did_you_mean, suggest};
use super::stimuli::stimulus_set;
use crate::diag::Diagnostic;
use crate::hir::*;
use crate::span::Span;
use crate::syntax::ast::{self, Member};
use crate::units::Dim;

/// Metrics: each metric of each `measure` line, for its population or
/// projection, about its stimuli, in its phase.
pub(super) fn measures(
    def: &ItemDef,
    net: Option<&Network>,
    stimuli: &[StimulusSet],
    phases: &[Phase],
    diags: &mut Vec<Diagnostic>,
) -> Vec<Measure> {
    let mut out = Vec::new();
    for m in &def.members {
        let Member::Measure { metrics, target, about, from_phase, in_phase, options, span } = m else { continue };
        let Some(net) = net else { continue };
        let about_k = about.as_ref().and_then(|a| stimulus_set(stimuli, a, diags));
        let phase_k = in_phase.as_ref().and_then(|p| phase(phases, p, diags));
        let from_k = from_phase.as_ref().and_then(|p| phase(phases, p, diags));
        let (target_rate, perturbation) = measure_options(options, diags);
        let projection = match &target.post {
            Some(post) => match projection(net, target, post, diags) {
                Some(k) => Some(k),
                None => continue,
            },
            None => None,
        };
        let pop = if projection.is_none() { population(net, &target.pre.name, diags) } else { None };
        let line = MeasureLine {
            target,
            projection,
            pop,
            about: about_k,
            about_given: about.is_some(),
            phase: phase_k,
            phase_given: in_phase.is_some(),
            from: from_k,
            from_span: from_phase.as_ref().map(|p| p.span),
            target_rate,
            perturbation,
            span: *span,
        };
        for id in metrics {
            if let Some(measure) = measure(&line, id, diags) {
                out.push(measure);
            }
        }
    }
    out
}

/// Rule: `in PHASE` names a phase of the experiment.
fn phase(phases: &[Phase], p: &ast::Ident, diags: &mut Vec<Diagnostic>) -> Option<u32> {
    match phases.iter().position(|x| x.name == p.name) {
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
    }
}

/// Rule: the options of a measure are `target = R` (a rate) and
/// `perturbation = T` (a time).
fn measure_options(options: &[ast::Opt], diags: &mut Vec<Diagnostic>) -> (Option<f64>, Option<f64>) {
    let (mut target_rate, mut perturbation) = (None, None);
    for o in options {
        match (o.name.name.as_str(), &o.value) {
            ("target", Some(v)) => target_rate = constant(v, Dim::HERTZ, "the target rate", diags).filter(|r| *r > 0.0),
            ("perturbation", Some(v)) => perturbation = constant(v, Dim::TIME, "the perturbation time", diags),
            (other, _) => diags.push(
                Diagnostic::error("hebb::measure::option", format!("metrics have no option `{other}`"))
                    .label(o.span, "unknown option")
                    .help("the options are `target = R` and `perturbation = T` (for `control`)"),
            ),
        }
    }
    (target_rate, perturbation)
}

/// Rule: a measured projection `A -> B` exists.
fn projection(net: &Network, target: &ast::Target, post: &ast::PopRef, diags: &mut Vec<Diagnostic>) -> Option<u32> {
    let (Some(a), Some(b)) = (net.population(&target.pre.name.name), net.population(&post.name.name)) else {
        population(net, &target.pre.name, diags);
        population(net, &post.name, diags);
        return None;
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
            None
        }
    }
}

/// What a `measure` line gives each of its metrics.
struct MeasureLine<'a> {
    target: &'a ast::Target,
    projection: Option<u32>,
    pop: Option<u32>,
    about: Option<u32>,
    about_given: bool,
    phase: Option<u32>,
    phase_given: bool,
    /// `from PHASE` (resolved), and where it was written.
    from: Option<u32>,
    from_span: Option<Span>,
    target_rate: Option<f64>,
    perturbation: Option<f64>,
    span: Span,
}

/// One metric of a `measure` line. Rules: the metric is known;
/// `information`, `decoding` and `drift` need `about S`; `control` needs
/// `target = R`.
fn measure(line: &MeasureLine<'_>, id: &ast::Ident, diags: &mut Vec<Diagnostic>) -> Option<Measure> {
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
        return None;
    };
    let target = measure_target(metric, line, diags)?;
    if metric.needs_stimuli() && !line.about_given {
        diags.push(
            Diagnostic::error("hebb::measure::about", format!("`{}` needs the stimuli it is about", metric.name()))
                .label(id.span, "about which stimuli?")
                .help("write `measure information of exc about patterns in test`"),
        );
        return None;
    }
    if metric == Metric::Control && line.target_rate.is_none() {
        diags.push(
            Diagnostic::error("hebb::measure::control_target", "`control` needs the target rate")
                .label(id.span, "compared with what?")
                .help("add `{ target = 5 Hz }` after the measure"),
        );
        return None;
    }
    if (line.about_given && line.about.is_none()) || (line.phase_given && line.phase.is_none()) {
        return None;
    }
    if !recall_phases(metric, line, id, diags) {
        return None;
    }
    Some(Measure {
        metric,
        target,
        about: line.about,
        phase: line.phase,
        train_phase: if metric.across_phases() { line.from } else { None },
        target_rate: line.target_rate,
        perturbation: line.perturbation,
        span: line.span,
    })
}

/// Rule: `recall` and `similarity` compare two different phases (`from A
/// in B`); `from` belongs to them only.
fn recall_phases(metric: Metric, line: &MeasureLine<'_>, id: &ast::Ident, diags: &mut Vec<Diagnostic>) -> bool {
    if !metric.across_phases() {
        if let (Some(span), false) = (line.from_span, line.from.is_none()) {
            diags.push(
                Diagnostic::error("hebb::measure::from", format!("`{}` has no `from` phase", metric.name()))
                    .label(span, "only `recall` and `similarity` compare two phases")
                    .help("write `measure recall of exc about patterns from learn_a in test_b`"),
            );
            return false;
        }
        return true;
    }
    match (line.from, line.phase) {
        (Some(a), Some(b)) if a == b => {
            diags.push(
                Diagnostic::error("hebb::measure::recall", format!("`{}` compares a phase with itself", metric.name()))
                    .label(line.from_span.unwrap_or(id.span), "the same phase as `in`")
                    .help("to decode within one phase, measure `decoding`"),
            );
            false
        }
        (Some(_), Some(_)) => true,
        _ if line.from_span.is_some() && line.from.is_none() => false,
        _ => {
            diags.push(
                Diagnostic::error(
                    "hebb::measure::recall",
                    "`recall` needs the phase its readout is trained in and the phase it is tested in",
                )
                .label(id.span, "from which phase, in which?")
                .help("write `measure recall of exc about patterns from learn_a in test_b`"),
            );
            false
        }
    }
}

/// Rule: `weights` measures a projection `A -> B`, the other metrics a
/// population.
fn measure_target(metric: Metric, line: &MeasureLine<'_>, diags: &mut Vec<Diagnostic>) -> Option<MeasureTarget> {
    match (metric, line.projection, line.pop) {
        (Metric::Weights, Some(p), _) => Some(MeasureTarget::Projection(p)),
        (Metric::Weights, None, _) => {
            diags.push(
                Diagnostic::error("hebb::measure::target", "`weights` measures a projection")
                    .label(line.target.span, "write `weights of A -> B`"),
            );
            None
        }
        (_, None, Some(p)) => Some(MeasureTarget::Population(p)),
        (_, Some(_), _) => {
            diags.push(
                Diagnostic::error(
                    "hebb::measure::target",
                    format!("`{}` measures a population, not a projection", metric.name()),
                )
                .label(line.target.span, "write the population's name"),
            );
            None
        }
        _ => None,
    }
}
