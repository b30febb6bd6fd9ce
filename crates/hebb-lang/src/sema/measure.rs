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
        let inputs_given = options.iter().any(|o| matches!(o.name.name.as_str(), "excitatory" | "inhibitory"));
        if inputs_given && !metrics.iter().any(|m| m.name == Metric::Balance.name()) {
            diags.push(
                Diagnostic::error("hebb::measure::option", "no metric of this line takes `excitatory` or `inhibitory`")
                    .label(*span, "only `balance` reads them")
                    .help("write `measure balance of exc { excitatory = g_e; inhibitory = g_i }`"),
            );
        }
        let (inputs, options) = balance_inputs(options, net, target, diags);
        let (target_rate, perturbation, analysis) = measure_options(&options, diags);
        analysis_options_apply(&analysis, metrics, diags);
        let projection = match &target.post {
            Some(post) => match projection(net, target, post, diags) {
                Some(k) => Some(k),
                None => continue,
            },
            None => None,
        };
        let pop = if projection.is_none() { population(net, &target.pre.name, diags) } else { None };
        let line = MeasureLine {
            net,
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
            analysis: &analysis,
            inputs,
            inputs_given,
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

/// An analysis option: its name, dimension, whether it counts (a whole
/// number), the least value it takes (and whether it must exceed it), and
/// the metrics that take it.
struct AnalysisOption {
    name: &'static str,
    dim: Dim,
    whole: bool,
    least: f64,
    strictly: bool,
    /// The largest value it takes (inclusive).
    most: f64,
    metrics: &'static [Metric],
}

const ANALYSIS_OPTIONS: [AnalysisOption; 7] = [
    AnalysisOption {
        name: "bin",
        dim: Dim::TIME,
        whole: false,
        least: 0.0,
        strictly: true,
        most: f64::INFINITY,
        metrics: &[Metric::Fano, Metric::Correlation, Metric::Synchrony, Metric::Spectrum, Metric::Control],
    },
    AnalysisOption {
        name: "pairs",
        dim: Dim::ONE,
        whole: true,
        least: 1.0,
        strictly: false,
        most: f64::INFINITY,
        metrics: &[Metric::Correlation, Metric::NoiseCorrelation],
    },
    AnalysisOption {
        name: "min_isis",
        dim: Dim::ONE,
        whole: true,
        least: 2.0,
        strictly: false,
        most: f64::INFINITY,
        metrics: &[Metric::CvIsi],
    },
    AnalysisOption {
        name: "folds",
        dim: Dim::ONE,
        whole: true,
        least: 2.0,
        strictly: false,
        most: f64::INFINITY,
        metrics: &[Metric::Information, Metric::Decoding, Metric::Recall, Metric::Forgetting],
    },
    AnalysisOption {
        name: "shuffles",
        dim: Dim::ONE,
        whole: true,
        least: 0.0,
        strictly: false,
        most: f64::INFINITY,
        metrics: &[Metric::Information],
    },
    AnalysisOption {
        name: "late",
        dim: Dim::ONE,
        whole: false,
        least: 0.0,
        strictly: true,
        most: 1.0,
        metrics: &[Metric::Control],
    },
    AnalysisOption {
        name: "tolerance",
        dim: Dim::ONE,
        whole: false,
        least: 0.0,
        strictly: true,
        most: f64::INFINITY,
        metrics: &[Metric::Control],
    },
];

/// A measure's options: the target rate, the perturbation time, and the
/// analysis options (name, value in SI, where written).
type Options = (Option<f64>, Option<f64>, Vec<(String, f64, Span)>);

/// Rule: the options of a measure are `target = R` (a rate) and
/// `perturbation = T` (a time) for `control`, and the analysis options of
/// `ANALYSIS_OPTIONS` (positive; whole numbers where counted); each once.
fn measure_options(options: &[ast::Opt], diags: &mut Vec<Diagnostic>) -> Options {
    let (mut target_rate, mut perturbation, mut analysis) = (None, None, Vec::new());
    let names: Vec<&str> =
        ["target", "perturbation"].into_iter().chain(ANALYSIS_OPTIONS.iter().map(|o| o.name)).collect();
    for (k, o) in options.iter().enumerate() {
        if options[..k].iter().any(|p| p.name.name == o.name.name) {
            diags.push(
                Diagnostic::error("hebb::measure::option", format!("the option `{}` is given twice", o.name.name))
                    .label(o.span, "again here"),
            );
            continue;
        }
        let known = ANALYSIS_OPTIONS.iter().find(|x| x.name == o.name.name);
        match (o.name.name.as_str(), &o.value, known) {
            ("target", Some(v), _) => {
                target_rate = constant(v, Dim::HERTZ, "the target rate", diags).filter(|r| *r > 0.0)
            }
            ("perturbation", Some(v), _) => perturbation = constant(v, Dim::TIME, "the perturbation time", diags),
            (name, Some(v), Some(opt)) => {
                let Some(x) = constant(v, opt.dim, &format!("`{name}`"), diags) else { continue };
                let above = if opt.strictly { x > opt.least } else { x >= opt.least };
                if x.is_finite() && above && x <= opt.most && (!opt.whole || x.fract() == 0.0) {
                    analysis.push((name.to_string(), x, o.span));
                } else {
                    let what = if opt.whole { "a whole number" } else { "a number" };
                    let bound = if opt.strictly { "above" } else { "at least" };
                    let upto = if opt.most.is_finite() { format!(" and at most {}", opt.most) } else { String::new() };
                    diags.push(
                        Diagnostic::error(
                            "hebb::measure::option",
                            format!("`{name}` must be {what}, {bound} {}{upto}", opt.least),
                        )
                        .label(v.span, "not allowed"),
                    );
                }
            }
            (other, _, _) => diags.push(
                Diagnostic::error("hebb::measure::option", format!("metrics have no option `{other}`"))
                    .label(o.span, "unknown option")
                    .with_help(did_you_mean(suggest(other, names.iter().copied())).or_else(|| {
                        Some(format!(
                            "the options are {}",
                            names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                        ))
                    })),
            ),
        }
    }
    (target_rate, perturbation, analysis)
}

/// Rule: an analysis option applies to at least one metric of its line.
fn analysis_options_apply(analysis: &[(String, f64, Span)], metrics: &[ast::Ident], diags: &mut Vec<Diagnostic>) {
    for (name, _, span) in analysis {
        let Some(opt) = ANALYSIS_OPTIONS.iter().find(|x| x.name == name) else { continue };
        let applies = metrics.iter().any(|m| opt.metrics.iter().any(|t| t.name() == m.name));
        if !applies {
            let which = opt.metrics.iter().map(|t| format!("`{}`", t.name())).collect::<Vec<_>>().join(", ");
            diags.push(
                Diagnostic::error("hebb::measure::option", format!("no metric of this line takes `{name}`"))
                    .label(*span, "ignored by every metric here")
                    .help(format!("`{name}` is an option of {which}")),
            );
        }
    }
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
    net: &'a Network,
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
    /// Analysis options: name, value (SI), where written.
    analysis: &'a [(String, f64, Span)],
    /// `excitatory = x; inhibitory = y` (state indices), for `balance`.
    inputs: Option<(u32, u32)>,
    /// Whether `excitatory` or `inhibitory` was written (its errors, if any,
    /// are reported already).
    inputs_given: bool,
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
    if metric == Metric::Balance && line.inputs.is_none() {
        if line.inputs_given {
            return None;
        }
        diags.push(
            Diagnostic::error("hebb::measure::balance", "`balance` needs the excitatory and the inhibitory input")
                .label(id.span, "which variables?")
                .help("add `{ excitatory = g_e; inhibitory = g_i }`: states of the population, recorded over time"),
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
        inputs: if metric == Metric::Balance { line.inputs } else { None },
        options: line
            .analysis
            .iter()
            .filter(|(name, _, _)| ANALYSIS_OPTIONS.iter().any(|o| o.name == name && o.metrics.contains(&metric)))
            .map(|(name, x, _)| (name.clone(), *x))
            .collect(),
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
                    .label(span, "only `recall`, `similarity` and `forgetting` compare two phases")
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
                    format!(
                        "`{}` needs the phase its readout is trained in and the phase it is tested in",
                        metric.name()
                    ),
                )
                .label(id.span, "from which phase, in which?")
                .help("write `measure recall of exc about patterns from learn_a in test_b`"),
            );
            false
        }
    }
}

/// Rule: `weights` and `spectral_radius` measure a projection `A -> B`,
/// the other metrics a population.
fn measure_target(metric: Metric, line: &MeasureLine<'_>, diags: &mut Vec<Diagnostic>) -> Option<MeasureTarget> {
    match (metric, line.projection, line.pop) {
        (Metric::Weights, Some(p), _) => Some(MeasureTarget::Projection(p)),
        (Metric::SpectralRadius | Metric::Assemblies, Some(p), _) => spectral_radius_target(metric, line, p, diags),
        (Metric::Weights | Metric::SpectralRadius | Metric::Assemblies, None, _) => {
            diags.push(
                Diagnostic::error("hebb::measure::target", format!("`{}` measures a projection", metric.name()))
                    .label(line.target.span, format!("write `{} of A -> B`", metric.name())),
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

/// Rule: `spectral_radius` and `assemblies` measure a projection of a
/// population onto itself (a square matrix) whose weight `w` is recorded
/// over time for every synapse (`record w of A -> A every D`, without
/// `sample`).
fn spectral_radius_target(
    metric: Metric,
    line: &MeasureLine<'_>,
    p: u32,
    diags: &mut Vec<Diagnostic>,
) -> Option<MeasureTarget> {
    let proj = &line.net.projections[p as usize];
    if proj.pre.pop != proj.post.pop {
        diags.push(
            Diagnostic::error(
                "hebb::measure::spectral_radius",
                format!("`{}` needs a recurrent projection", metric.name()),
            )
            .label(line.target.span, "connects two different populations: its matrix is not square")
            .help("measure it on a projection of a population onto itself, such as `exc -> exc`"),
        );
        return None;
    }
    let recorded = line.net.records.iter().any(|r| {
        matches!(r, Record::Synapses { proj, vars, sample: None, .. } if *proj == p && vars.iter().any(|(n, _)| n == WEIGHT))
    });
    if !recorded {
        let pop = &line.net.populations[proj.pre.pop as usize].name;
        let name = format!("{pop} -> {pop}");
        diags.push(
            Diagnostic::error(
                "hebb::measure::spectral_radius",
                format!("`{}` is computed from the weights recorded over time", metric.name()),
            )
            .label(line.target.span, "its `w` is not recorded for every synapse")
            .help(format!("add `record w of {name} every 1 s` (without `sample`) to the network")),
        );
        return None;
    }
    Some(MeasureTarget::Projection(p))
}

/// Rule: `excitatory = x` and `inhibitory = y` (the inputs `balance`
/// compares) name states of the measured population's neurons that are
/// recorded over time (`record x, y of P every D`); both or neither. The
/// other options are returned for `measure_options`.
fn balance_inputs(
    options: &[ast::Opt],
    net: &Network,
    target: &ast::Target,
    diags: &mut Vec<Diagnostic>,
) -> (Option<(u32, u32)>, Vec<ast::Opt>) {
    let is_input = |o: &ast::Opt| matches!(o.name.name.as_str(), "excitatory" | "inhibitory");
    let rest: Vec<ast::Opt> = options.iter().filter(|o| !is_input(o)).cloned().collect();
    let given: Vec<&ast::Opt> = options.iter().filter(|o| is_input(o)).collect();
    if given.is_empty() {
        return (None, rest);
    }
    let pop = net.population(&target.pre.name.name);
    let mut found = [None, None];
    for o in &given {
        let slot = usize::from(o.name.name == "inhibitory");
        let name = match o.value.as_ref().map(|v| &v.kind) {
            Some(ast::ExprKind::Name(path)) if path.parts.len() == 1 => path.parts[0].name.clone(),
            _ => {
                diags.push(
                    Diagnostic::error("hebb::measure::balance", format!("`{}` names a state", o.name.name))
                        .label(o.span, "not a name")
                        .help("write `excitatory = g_e`"),
                );
                continue;
            }
        };
        let recorded = pop.and_then(|p| {
            net.records.iter().find_map(|r| match r {
                Record::State { sel, vars, .. } if sel.pop as usize == p => {
                    vars.iter().find(|(n, v)| *n == name && v.kind == VarKind::State).map(|(_, v)| v.index)
                }
                _ => None,
            })
        });
        match recorded {
            Some(k) => found[slot] = Some(k),
            None => diags.push(
                Diagnostic::error(
                    "hebb::measure::balance",
                    format!("`{name}` is not a state of `{}` recorded over time", target.pre.name.name),
                )
                .label(o.span, "balance reads the recorded values")
                .help(format!("add `record {name} of {} every 1 ms` to the network", target.pre.name.name)),
            ),
        }
    }
    for (k, name) in ["excitatory", "inhibitory"].into_iter().enumerate() {
        if !given.iter().any(|o| o.name.name == name) {
            let other = given[0];
            diags.push(
                Diagnostic::error("hebb::measure::balance", format!("`balance` needs `{name}` too"))
                    .label(other.span, "given alone")
                    .help(if k == 0 { "add `excitatory = g_e`" } else { "add `inhibitory = g_i`" }),
            );
        }
    }
    match found {
        [Some(e), Some(i)] => (Some((e, i)), rest),
        _ => (None, rest),
    }
}
