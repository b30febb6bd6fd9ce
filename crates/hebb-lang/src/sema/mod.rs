//! Semantic checks: from the syntax tree to the checked model (`hir`).
//!
//! `check` never stops at the first error. Each rule is a function whose doc
//! comment starts with "Rule:"; each has a bad-model test under `tests/ui/`.

mod checker;
mod connect;
mod dynamics;
mod experiment;
mod expr;
mod measure;
mod members;
mod names;
mod network;
mod phase;
mod population;
mod record;
mod stimuli;
mod stmt;
mod variant;

use crate::diag::{self, Diagnostic};
use crate::hir::*;
use crate::span::{SourceMap, Span};
use crate::syntax::ast::{self, Item, ItemDef, ItemKind};
use dynamics::{Ctx, SideVars};
pub use expr::Scope;
use expr::expect_dim;
use names::{did_you_mean, suggest};
use variant::NetworkChanges;

use crate::hir::const_eval;

/// A `--set Name.param=value` from the command line, parsed.
#[derive(Clone, Debug)]
pub struct Setting {
    pub path: ast::Path,
    pub value: ast::Expr,
}

/// Checks a model: `files[0]` is the main file, the rest its imports (whose
/// `network` and `experiment` items are not used).
pub fn check(files: &[ast::File], sources: &SourceMap, settings: &[Setting]) -> (Model, Vec<Diagnostic>) {
    check_with(files, sources, settings, None)
}

/// Checks a model with the changes of one of its experiment's variants
/// applied. An unknown variant is an error.
pub fn check_variant(
    files: &[ast::File],
    sources: &SourceMap,
    settings: &[Setting],
    variant: &str,
) -> (Model, Vec<Diagnostic>) {
    check_with(files, sources, settings, Some(variant))
}

/// Checks a model, with the changes of `variant` when one is named.
fn check_with(
    files: &[ast::File],
    sources: &SourceMap,
    settings: &[Setting],
    variant: Option<&str>,
) -> (Model, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut model = Model::default();
    let items = collect(files, &mut diags);
    for def in items.all() {
        members::check_members_allowed(def, &mut diags);
    }
    let experiment_def = items.experiments.first().copied();
    let dt = experiment_def.and_then(|e| experiment::experiment_dt(e, &mut Vec::new()));
    let (settings, changes) = variant::changes(experiment_def, variant, settings, &mut diags);

    model.signals = signal_types(&items, dt, &mut diags);
    let signals = model.signals.clone();
    let ctx = Ctx { signals: &signals, dt };
    neuron_and_synapse_types(&items, &ctx, &mut model, &mut diags);
    apply_settings(&mut model, &settings, &mut diags);
    networks(&items, &ctx, sources, &changes, &mut model, &mut diags);
    params_are_finite(&model, &mut diags);
    match experiment_def {
        Some(def) => model.experiment = experiment::experiment(def, &model, sources, &mut diags),
        None => diags.push(
            Diagnostic::error("hebb::experiment::missing", "the model has no `experiment`")
                .label(start_of_model(files), "nothing to run")
                .help("add `experiment { network = NAME; dt = 0.1 ms; duration = 1 s }`"),
        ),
    }
    if items.networks.is_empty() {
        diags.push(
            Diagnostic::error("hebb::network::missing", "the model has no `network`")
                .label(start_of_model(files), "nothing to simulate")
                .help("add `network NAME { population ... }`"),
        );
    }
    dedupe(&mut diags);
    diag::sort(&mut diags);
    (model, diags)
}

/// Checks the signal types; signals do not see each other.
fn signal_types(items: &Items<'_>, dt: Option<f64>, diags: &mut Vec<Diagnostic>) -> Vec<SignalType> {
    let no_signals: Vec<SignalType> = Vec::new();
    let ctx0 = Ctx { signals: &no_signals, dt };
    let mut signals = Vec::new();
    for def in &items.signals {
        signals.push(dynamics::signal(def, &ctx0, diags));
    }
    signals
}

/// Checks the neuron types, and the synapse types on their own (each
/// projection checks its synapse type again, with its populations).
fn neuron_and_synapse_types(items: &Items<'_>, ctx: &Ctx<'_>, model: &mut Model, diags: &mut Vec<Diagnostic>) {
    for def in &items.neurons {
        model.neurons.push(dynamics::neuron(def, ctx, diags));
    }
    for (k, def) in items.synapses.iter().enumerate() {
        let inst = dynamics::synapse(def, k as u32, SideVars::Any, SideVars::Any, ctx, diags);
        let name = inst.name.clone();
        let span = def.name.as_ref().map(|n| n.span).unwrap_or(def.span);
        model.synapses.push(SynapseType { name, span, dynamics: inst.dynamics });
    }
}

/// Checks the networks, with a variant's changes.
fn networks(
    items: &Items<'_>,
    ctx: &Ctx<'_>,
    sources: &SourceMap,
    changes: &NetworkChanges<'_>,
    model: &mut Model,
    diags: &mut Vec<Diagnostic>,
) {
    let synapses: Vec<(SynapseType, &ItemDef)> =
        model.synapses.iter().cloned().zip(items.synapses.iter().copied()).collect();
    let types = network::Types { neurons: &model.neurons, synapses: &synapses, ctx, sources };
    for def in &items.networks {
        model.networks.push(network::network(def, &types, changes, diags));
    }
    // Projections check their synapse type again from its source: give
    // them the `--set` values too.
    for net in &mut model.networks {
        for proj in &mut net.projections {
            let Some(k) = proj.synapse.type_id else { continue };
            for (param, set) in proj.synapse.dynamics.params.iter_mut().zip(&model.synapses[k as usize].dynamics.params)
            {
                param.value = set.value.clone();
            }
        }
    }
}

/// An empty span at the start of the main file's first item, for what the
/// whole model lacks.
fn start_of_model(files: &[ast::File]) -> Span {
    let span = files.first().and_then(|f| f.items.first()).map(item_span).unwrap_or_default();
    Span { end: span.start, ..span }
}

fn item_span(item: &Item) -> Span {
    match item {
        Item::Import { span, .. } | Item::Error(span) => *span,
        Item::Def(d) => d.span,
    }
}

/// Diagnostics can be found twice (a synapse checked per projection).
fn dedupe(diags: &mut Vec<Diagnostic>) {
    let mut seen: Vec<Diagnostic> = Vec::new();
    diags.retain(|d| {
        if seen.contains(d) {
            false
        } else {
            seen.push(d.clone());
            true
        }
    });
}

struct Items<'a> {
    neurons: Vec<&'a ItemDef>,
    synapses: Vec<&'a ItemDef>,
    signals: Vec<&'a ItemDef>,
    networks: Vec<&'a ItemDef>,
    experiments: Vec<&'a ItemDef>,
}

impl<'a> Items<'a> {
    fn all(&self) -> impl Iterator<Item = &&'a ItemDef> {
        self.neurons.iter().chain(&self.synapses).chain(&self.signals).chain(&self.networks).chain(&self.experiments)
    }
}

/// Collects items. Rules: every item but `experiment` has a name; type,
/// signal and network names are unique across the model and its imports;
/// there is at most one `experiment`.
fn collect<'a>(files: &'a [ast::File], diags: &mut Vec<Diagnostic>) -> Items<'a> {
    let mut items = Items { neurons: vec![], synapses: vec![], signals: vec![], networks: vec![], experiments: vec![] };
    let mut declared: Vec<(String, Span)> = Vec::new();
    for (k, file) in files.iter().enumerate() {
        for item in &file.items {
            let Item::Def(def) = item else { continue };
            if k > 0 && matches!(def.kind, ItemKind::Network | ItemKind::Experiment) {
                continue;
            }
            match (&def.name, def.kind) {
                (None, ItemKind::Experiment) => {}
                (None, kind) => {
                    diags.push(
                        Diagnostic::error("hebb::names::missing", format!("this `{}` has no name", kind.keyword()))
                            .label(def.kind_span, "name expected after this")
                            .help(format!("write `{} Name {{ ... }}`", kind.keyword())),
                    );
                    continue;
                }
                (Some(name), kind) => {
                    // A reserved name is reported, and the item is still
                    // checked so its other mistakes show too.
                    names::check_declarable(name, diags);
                    if kind != ItemKind::Experiment {
                        let prev = declared.iter().find(|(n, _)| *n == name.name).map(|(_, s)| *s);
                        if !names::check_unique("the item", name, prev, diags) {
                            continue;
                        }
                        declared.push((name.name.clone(), name.span));
                    }
                    if matches!(name.name.as_str(), "Static" | "poisson" | "spike_times") {
                        diags.push(
                            Diagnostic::error(
                                "hebb::names::builtin_type",
                                format!("`{}` is a built-in type and cannot be declared", name.name),
                            )
                            .label(name.span, "reserved")
                            .help("choose another name"),
                        );
                        continue;
                    }
                }
            }
            match def.kind {
                ItemKind::Neuron => items.neurons.push(def),
                ItemKind::Synapse => items.synapses.push(def),
                ItemKind::Signal => items.signals.push(def),
                ItemKind::Network => items.networks.push(def),
                ItemKind::Experiment => {
                    if let Some(first) = items.experiments.first() {
                        diags.push(
                            Diagnostic::error("hebb::experiment::duplicate", "the model has two experiments")
                                .label(def.kind_span, "second experiment")
                                .label(first.kind_span, "first experiment")
                                .help("keep one; compare alternatives with `variant` blocks"),
                        );
                    } else {
                        items.experiments.push(def);
                    }
                }
            }
        }
    }
    items
}

/// Rule: every constant param is a finite number (`1 ms / 0`, `log(0)` or
/// an overflow is not), whether declared, set with `--set` or overridden
/// in a population or connection.
fn params_are_finite(model: &Model, diags: &mut Vec<Diagnostic>) {
    let mut check = |name: &str, value: &Expr, params: &[f64]| {
        if let Some(v) = const_eval(value, params)
            && !v.is_finite()
        {
            diags.push(
                Diagnostic::error("hebb::param::not_finite", format!("param `{name}` is {v}"))
                    .label(value.span, "this is not a finite number")
                    .help("a division by zero, an overflow or `log` of 0 gives this; give a finite value"),
            );
        }
    };
    let all = model
        .neurons
        .iter()
        .map(|n| &n.dynamics)
        .chain(model.synapses.iter().map(|s| &s.dynamics))
        .chain(model.signals.iter().map(|s| &s.dynamics));
    for d in all {
        let values = checker::param_values(d);
        for (k, p) in d.params.iter().enumerate() {
            check(&p.name, &p.value, &values[..k]);
        }
    }
    for net in &model.networks {
        let pops = net.populations.iter().filter_map(|p| match p.kind {
            PopulationKind::Neurons { type_id } => Some((&p.overrides, &model.neurons[type_id as usize].dynamics)),
            _ => None,
        });
        let projs = net.projections.iter().map(|p| (&p.overrides, &p.synapse.dynamics));
        for (overrides, d) in pops.chain(projs) {
            let values = checker::param_values(d);
            for o in overrides.iter().filter(|o| o.target.kind == VarKind::Param) {
                if let Some(p) = d.params.get(o.target.index as usize) {
                    check(&p.name, &o.value, &values);
                }
            }
        }
    }
}

/// Applies `--set Type.param=value`. Rule: the type and param exist and the
/// value is a constant of the param's dimension.
fn apply_settings(model: &mut Model, settings: &[Setting], diags: &mut Vec<Diagnostic>) {
    for s in settings {
        let [ty, param] = s.path.parts.as_slice() else {
            diags.push(
                Diagnostic::error("hebb::set::path", format!("`--set {}` must name `Type.param`", s.path.dotted()))
                    .label(s.path.span, "expected `Type.param`"),
            );
            continue;
        };
        let dynamics = if let Some(k) = model.neuron(&ty.name) {
            &mut model.neurons[k].dynamics
        } else if let Some(k) = model.synapse(&ty.name) {
            &mut model.synapses[k].dynamics
        } else if let Some(k) = model.signal(&ty.name) {
            &mut model.signals[k].dynamics
        } else {
            let cands = model.type_names();
            diags.push(
                Diagnostic::error("hebb::set::unknown", format!("unknown type `{}`", ty.name))
                    .label(ty.span, "no neuron, synapse or signal of this name")
                    .with_help(did_you_mean(suggest(&ty.name, cands))),
            );
            continue;
        };
        let Some(k) = dynamics.param(&param.name) else {
            let cands: Vec<&str> = dynamics.params.iter().map(|p| p.name.as_str()).collect();
            let list = format!(
                "the params of `{}` are {}",
                ty.name,
                cands.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
            );
            diags.push(
                Diagnostic::error("hebb::set::unknown", format!("`{}` has no param `{}`", ty.name, param.name))
                    .label(param.span, "unknown param")
                    .with_help(did_you_mean(suggest(&param.name, cands.iter().copied())).or(Some(list))),
            );
            continue;
        };
        let e = expr::check(&Scope::constant("a `--set` value", &[]), &s.value, diags);
        let want = dynamics.params[k].ty;
        if let Ty::Num(d) = want
            && !expect_dim(&e, d, &format!("`{}`", s.path.dotted()), diags, true)
        {
            continue;
        }
        if const_eval(&e, &[]).is_none() {
            diags.push(
                Diagnostic::error("hebb::set::not_constant", "a `--set` value must be a constant")
                    .label(e.span, "not a constant"),
            );
            continue;
        }
        dynamics.params[k].value = e;
    }
}

/// A scope with only constants and units, for command-line values.
pub fn constant_scope() -> Scope<'static> {
    Scope::constant("a command-line value", &[])
}

/// Checks one expression in a scope (for command-line values).
pub fn check_expr(scope: &Scope<'_>, e: &ast::Expr, diags: &mut Vec<Diagnostic>) -> Expr {
    expr::check(scope, e, diags)
}
