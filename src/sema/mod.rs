//! Semantic checks: from the syntax tree to the checked model (`hir`).
//!
//! `check` never stops at the first error. Each rule is a function whose doc
//! comment starts with "Rule:"; each has a bad-model test under `tests/ui/`.

mod dynamics;
mod expr;
mod names;
mod network;

use crate::diag::{self, Diagnostic};
use crate::hir::*;
use crate::source::{SourceMap, Span};
use crate::syntax::ast::{self, Item, ItemDef, ItemKind, Member};
use crate::units::Dim;
use dynamics::{Ctx, SideVars};
pub use expr::Scope;
use expr::expect_dim;
use names::{did_you_mean, suggest};

pub use expr::const_eval;
pub use names::levenshtein;

/// The closest of `candidates` to `name`, for "did you mean" help.
pub fn suggest_name<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    names::suggest(name, candidates)
}

/// A `--set Name.param=value` from the command line, parsed.
#[derive(Clone, Debug)]
pub struct Setting {
    pub path: ast::Path,
    pub value: ast::Expr,
}

/// Checks a model: `files[0]` is the main file, the rest its imports (whose
/// `network` and `experiment` items are not used).
pub fn check(files: &[ast::File], sources: &SourceMap, settings: &[Setting]) -> (Model, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut model = Model::default();
    let items = collect(files, &mut diags);
    for def in items.all() {
        dynamics::check_members_allowed(def, &mut diags);
    }

    let experiment_def = items.experiments.first().copied();
    let dt = experiment_def.and_then(|e| experiment_dt(e, &mut Vec::new()));

    let no_signals: Vec<SignalType> = Vec::new();
    let ctx0 = Ctx { signals: &no_signals, dt };
    for def in &items.signals {
        model.signals.push(dynamics::signal(def, &ctx0, &mut diags));
    }
    let signals = model.signals.clone();
    let ctx = Ctx { signals: &signals, dt };
    for def in &items.neurons {
        model.neurons.push(dynamics::neuron(def, &ctx, &mut diags));
    }
    let mut synapse_defs = Vec::new();
    for (k, def) in items.synapses.iter().enumerate() {
        let inst = dynamics::synapse(def, k as u32, SideVars::Any, SideVars::Any, &ctx, &mut diags);
        let name = inst.name.clone();
        let span = def.name.as_ref().map(|n| n.span).unwrap_or(def.span);
        model.synapses.push(SynapseType { name, span, dynamics: inst.dynamics });
        synapse_defs.push(*def);
    }
    apply_settings(&mut model, settings, &mut diags);
    let synapses: Vec<(SynapseType, &ItemDef)> = model.synapses.iter().cloned().zip(synapse_defs).collect();
    let types = network::Types { neurons: &model.neurons, synapses: &synapses, ctx: &ctx, sources };
    for def in &items.networks {
        model.networks.push(network::network(def, &types, &mut diags));
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
    match experiment_def {
        Some(def) => model.experiment = experiment(def, &model, &items, &mut diags),
        None => {
            let span = files.first().and_then(|f| f.items.first()).map(item_span).unwrap_or_default();
            diags.push(
                Diagnostic::error("hebb::experiment::missing", "the model has no `experiment`")
                    .label(Span { end: span.start, ..span }, "nothing to run")
                    .help("add `experiment { network = NAME; dt = 0.1 ms; duration = 1 s }`"),
            );
        }
    }
    if items.networks.is_empty() {
        let span = files.first().and_then(|f| f.items.first()).map(item_span).unwrap_or_default();
        diags.push(
            Diagnostic::error("hebb::network::missing", "the model has no `network`")
                .label(Span { end: span.start, ..span }, "nothing to simulate")
                .help("add `network NAME { population ... }`"),
        );
    }
    dedupe(&mut diags);
    diag::sort(&mut diags);
    (model, diags)
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

const SETTINGS: [&str; 4] = ["network", "dt", "seed", "duration"];

fn setting<'a>(def: &'a ItemDef, key: &str) -> Option<(&'a ast::Path, &'a ast::Expr)> {
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
fn experiment_dt(def: &ItemDef, diags: &mut Vec<Diagnostic>) -> Option<f64> {
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
                    .label(
                        e.span,
                        format!("this is {}", crate::units::format_quantity(v.unwrap_or(f64::NAN), Dim::TIME)),
                    )
                    .help("the usual time step is `dt = 0.1 ms`"),
            );
            None
        }
    }
}

fn experiment(def: &ItemDef, model: &Model, _items: &Items<'_>, diags: &mut Vec<Diagnostic>) -> Option<Experiment> {
    // Rule: experiment settings are `network`, `dt`, `seed` and `duration`,
    // each given once.
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
    // Rule: the fuller experiment form (phases, stimuli, metrics, variants,
    // aborts) is not simulated by this version; say so instead of ignoring it.
    for m in &def.members {
        if matches!(
            m,
            Member::Stimuli { .. }
                | Member::Phase { .. }
                | Member::Measure { .. }
                | Member::Variant { .. }
                | Member::Abort { .. }
        ) {
            diags.push(
                Diagnostic::error(
                    "hebb::experiment::unsupported",
                    format!("{} is not supported by this version of hebb", m.describe()),
                )
                .label(m.span(), "not simulated")
                .help("use the simple form: `network`, `dt`, `seed` and `duration`"),
            );
        }
    }
    let dt = experiment_dt(def, diags);
    // Rule: `seed` is a non-negative integer.
    let seed = match setting(def, "seed") {
        None => Some(0),
        Some((_, v)) => {
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
    };
    // Rule: `duration` is a positive, finite time.
    let duration = match setting(def, "duration") {
        None => {
            diags.push(
                Diagnostic::error("hebb::experiment::duration", "the experiment has no `duration`")
                    .label(def.kind_span, "how long should it run?")
                    .help("add `duration = 1 s`"),
            );
            None
        }
        Some((_, v)) => {
            let e = expr::check(&Scope::constant("the duration", &[]), v, diags);
            if expect_dim(&e, Dim::TIME, "`duration`", diags, false) {
                match const_eval(&e, &[]) {
                    Some(x) if x > 0.0 && x.is_finite() => Some(x),
                    x => {
                        diags.push(
                            Diagnostic::error(
                                "hebb::experiment::duration",
                                "`duration` must be a positive, finite time",
                            )
                            .label(
                                e.span,
                                format!("this is {}", crate::units::format_quantity(x.unwrap_or(f64::NAN), Dim::TIME)),
                            ),
                        );
                        None
                    }
                }
            } else {
                None
            }
        }
    };
    // Rule: `network` names a network of the main file; it may be left out
    // when there is exactly one.
    let network = match setting(def, "network") {
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
    };
    Some(Experiment {
        name: def.name.as_ref().map(|n| n.name.clone()),
        network: network?,
        dt: dt?,
        seed: seed?,
        duration: duration?,
        span: def.kind_span,
    })
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
            let cands: Vec<&str> = model
                .neurons
                .iter()
                .map(|n| n.name.as_str())
                .chain(model.synapses.iter().map(|n| n.name.as_str()))
                .chain(model.signals.iter().map(|n| n.name.as_str()))
                .collect();
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
        if let Ty::Num(d) = want {
            if !expect_dim(&e, d, &format!("`{}`", s.path.dotted()), diags, true) {
                continue;
            }
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
