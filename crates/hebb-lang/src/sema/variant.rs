//! Variants, `variant NAME { ... }` in the experiment: each is validated
//! with the experiment, and the chosen one's changes are applied by
//! `check_variant` (its params become settings, the rest changes the
//! network as it is checked).

use super::names::{check_unique, did_you_mean, suggest};
use super::{ItemDef, Setting};
use crate::diag::Diagnostic;
use crate::hir::*;
use crate::span::Span;
use crate::syntax::ast::{self, Member};

/// What a variant changes in the network.
#[derive(Default)]
pub(crate) struct NetworkChanges<'a> {
    pub connects: Vec<&'a Member>,
    pub populations: Vec<&'a Member>,
}

/// The settings and network changes of the chosen variant, if any: its
/// `Type.param = e` are added to `settings`. Rule: the variant exists.
pub(super) fn changes<'a>(
    experiment_def: Option<&'a ItemDef>,
    variant: Option<&str>,
    settings: &[Setting],
    diags: &mut Vec<Diagnostic>,
) -> (Vec<Setting>, NetworkChanges<'a>) {
    let mut settings = settings.to_vec();
    let mut changes = NetworkChanges::default();
    let Some(name) = variant else { return (settings, changes) };
    let members = experiment_def.and_then(|def| {
        def.members.iter().find_map(|m| match m {
            Member::Variant { name: n, members, .. } if n.name == name => Some(members),
            _ => None,
        })
    });
    match members {
        Some(members) => {
            for m in members {
                match m {
                    Member::Assign { target, op: ast::AssignOp::Set, value, .. } => {
                        settings.push(Setting { path: target.clone(), value: value.clone() })
                    }
                    Member::Connect { .. } => changes.connects.push(m),
                    Member::Population { .. } => changes.populations.push(m),
                    _ => {}
                }
            }
        }
        None => diags.push(
            Diagnostic::error("hebb::variant::unknown", format!("the experiment has no variant `{name}`"))
                .label(experiment_def.map(|d| d.kind_span).unwrap_or_default(), "its variants are declared here"),
        ),
    }
    (settings, changes)
}

/// Variants. Rules: names are unique (and not `base`); a variant holds
/// `Type.param = e` (a param of a declared type, constant, of its dimension),
/// `connect A -> B with T` (an existing projection and a known synapse type)
/// and `population P = N T { ... }` (an existing population, same size).
/// The changes are applied by `check_variant`; here they are validated.
pub(super) fn variants(
    def: &ItemDef,
    model: &Model,
    net: Option<&Network>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<(String, Span)> {
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
                    param_type(target, model, diags)
                }
                Member::Connect { pre, post, .. } => {
                    if let Some(net) = net {
                        projection(net, vm, pre, post, diags);
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

/// Rule: a variant's `Type.param = e` names a declared neuron, synapse or
/// signal type. (The param and its value are checked when the variant is
/// applied.)
fn param_type(target: &ast::Path, model: &Model, diags: &mut Vec<Diagnostic>) {
    let ty = &target.parts[0].name;
    if model.neuron(ty).is_none() && model.synapse(ty).is_none() && model.signal(ty).is_none() {
        let cands = model.type_names();
        diags.push(
            Diagnostic::error("hebb::variant::unknown_type", format!("unknown type `{ty}`"))
                .label(target.parts[0].span, "no neuron, synapse or signal of this name")
                .with_help(did_you_mean(suggest(ty, cands))),
        );
    }
}

/// Rule: a variant's `connect A -> B with T` changes an existing
/// projection. (The synapse type is checked when the variant is applied.)
fn projection(net: &Network, vm: &Member, pre: &ast::PopRef, post: &ast::PopRef, diags: &mut Vec<Diagnostic>) {
    let exists = net.projections.iter().any(|p| {
        net.populations[p.pre.pop as usize].name == pre.name.name
            && net.populations[p.post.pop as usize].name == post.name.name
    });
    if !exists {
        diags.push(
            Diagnostic::error(
                "hebb::variant::no_projection",
                format!("the network has no projection `{} -> {}` to change", pre.name.name, post.name.name),
            )
            .label(vm.span(), "a variant changes the synapse type of an existing projection"),
        );
    }
}
