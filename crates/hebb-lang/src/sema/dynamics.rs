//! Neurons, synapses and signals: each is checked by a `DynamicsChecker`,
//! then its own members (threshold, reset and refractoriness; `on pre` and
//! `on post`, per projection).

use super::checker::{DynamicsChecker, param_values};
use super::expr::{Checker, expect_dim};
use crate::diag::Diagnostic;
use crate::hir::*;
use crate::span::Span;
use crate::syntax::ast::{self, ItemDef, ItemKind, Member};
use crate::units::Dim;

/// The neuron-like variables a synapse's `pre.`/`post.` side can read while
/// its type is checked on its own, before any `connect` binds it.
pub enum SideVars<'a> {
    Vars(&'a str, &'a Dynamics),
    Source(&'a str),
    /// Checking the synapse type on its own: any variable is accepted.
    Any,
}

pub struct Ctx<'a> {
    pub signals: &'a [SignalType],
    pub dt: Option<f64>,
}

/// Checks a neuron type.
pub fn neuron(def: &ItemDef, ctx: &Ctx<'_>, diags: &mut Vec<Diagnostic>) -> NeuronType {
    let name = def.name.as_ref().map(|n| n.name.clone()).unwrap_or_default();
    let mut c = DynamicsChecker::new(ItemKind::Neuron, format!("neuron `{name}`"), ctx);
    c.declarations(def, diags);
    c.odes(def, diags);
    c.method(def, diags);
    let mut threshold = None;
    let mut reset = Vec::new();
    let mut refractory: Option<Expr> = None;
    let mut seen: Vec<(&str, Span)> = Vec::new();
    for m in &def.members {
        match m {
            Member::SpikeWhen { cond, span } if once("spike when", *span, &mut seen, diags) => {
                let e = c.check(None, cond, diags);
                let scope = c.scope(&[], false, false, false);
                let mut ch = Checker { scope: &scope, diags };
                ch.want_bool(&e, "the threshold `spike when`");
                threshold = Some(e);
            }
            Member::Reset { body, span } if once("reset", *span, &mut seen, diags) => {
                reset = c.stmts(body, false, diags);
            }
            Member::Refractory { value, span } if once("refractory", *span, &mut seen, diags) => {
                refractory = check_refractory(&mut c, value, diags);
            }
            _ => {}
        }
    }
    c.every_blocks(def, diags);
    check_unless_refractory(&c.dynamics, refractory.is_some(), diags);
    NeuronType {
        name,
        span: def.name.as_ref().map(|n| n.span).unwrap_or(def.span),
        dynamics: c.dynamics,
        threshold,
        reset,
        refractory,
    }
}

/// Rule: `spike when`, `reset` and `refractory` appear at most once.
fn once<'m>(what: &'m str, span: Span, seen: &mut Vec<(&'m str, Span)>, diags: &mut Vec<Diagnostic>) -> bool {
    if let Some((_, prev)) = seen.iter().find(|(w, _)| *w == what) {
        diags.push(
            Diagnostic::error("hebb::member::duplicate", format!("`{what}` is given twice"))
                .label(span, "second")
                .label(*prev, "first")
                .help("combine them into one"),
        );
        return false;
    }
    seen.push((what, span));
    true
}

/// Rule: the refractory period is a non-negative time made of constants and
/// params.
fn check_refractory(c: &mut DynamicsChecker<'_>, value: &ast::Expr, diags: &mut Vec<Diagnostic>) -> Option<Expr> {
    let e = c.check(Some(&[]), value, diags);
    if !expect_dim(&e, Dim::TIME, "the refractory period", diags, true) {
        return None;
    }
    if e.is_varying() {
        diags.push(
            Diagnostic::error("hebb::refractory::not_constant", "the refractory period must be a constant or a param")
                .label(e.span, "this can change during the run"),
        );
        return None;
    }
    if let Some(v) = crate::hir::const_eval(&e, &param_values(&c.dynamics))
        && !(v >= 0.0 && v.is_finite())
    {
        diags.push(
            Diagnostic::error("hebb::refractory::negative", "the refractory period must be a non-negative time")
                .label(e.span, format!("this is {}", crate::units::format_quantity(v, Dim::TIME))),
        );
        return None;
    }
    Some(e)
}

/// Rule: `unless refractory` needs a `refractory` period (warning).
fn check_unless_refractory(d: &Dynamics, has_refractory: bool, diags: &mut Vec<Diagnostic>) {
    if has_refractory {
        return;
    }
    for ode in d.odes.iter().filter(|o| o.unless_refractory) {
        diags.push(
            Diagnostic::warning(
                "hebb::refractory::missing",
                "`unless refractory` has no effect without a `refractory` period",
            )
            .label(ode.span, "this variable is never frozen")
            .help("add `refractory 2 ms` (or the period you want) to the neuron"),
        );
    }
}

/// Checks a signal.
pub fn signal(def: &ItemDef, ctx: &Ctx<'_>, diags: &mut Vec<Diagnostic>) -> SignalType {
    let name = def.name.as_ref().map(|n| n.name.clone()).unwrap_or_default();
    let mut c = DynamicsChecker::new(ItemKind::Signal, format!("signal `{name}`"), ctx);
    c.declarations(def, diags);
    c.odes(def, diags);
    c.method(def, diags);
    c.every_blocks(def, diags);
    SignalType { name, span: def.name.as_ref().map(|n| n.span).unwrap_or(def.span), dynamics: c.dynamics }
}

/// Checks a synapse type against the neuron types of one projection (or,
/// with `SideVars::Any`, on its own).
pub fn synapse(
    def: &ItemDef,
    type_id: u32,
    pre: SideVars<'_>,
    post: SideVars<'_>,
    ctx: &Ctx<'_>,
    diags: &mut Vec<Diagnostic>,
) -> SynapseInstance {
    let name = def.name.as_ref().map(|n| n.name.clone()).unwrap_or_default();
    let mut c = DynamicsChecker::new(ItemKind::Synapse, format!("synapse `{name}`"), ctx);
    let mut local = Vec::new();
    let side = |s: SideVars<'_>| match s {
        SideVars::Vars(what, d) => Some((what.to_string(), Some(d.clone()))),
        SideVars::Source(what) => Some((what.to_string(), None)),
        SideVars::Any => None,
    };
    c.wildcard_sides = matches!(pre, SideVars::Any) || matches!(post, SideVars::Any);
    c.pre = side(pre);
    c.post = side(post);
    if c.wildcard_sides {
        // Without a projection, `pre.x`/`post.x` cannot be resolved: check
        // the rest and drop what depends on them.
        c.pre = Some(("the presynaptic neuron".into(), Some(Dynamics::default())));
        c.post = Some(("the postsynaptic neuron".into(), Some(Dynamics::default())));
    }
    c.declarations(def, &mut local);
    c.odes(def, &mut local);
    c.method(def, &mut local);
    let mut on_pre = Vec::new();
    let mut on_post = Vec::new();
    let mut seen: Vec<(&str, Span)> = Vec::new();
    for m in &def.members {
        match m {
            Member::OnPre { body, span } if once("on pre", *span, &mut seen, &mut local) => {
                on_pre = c.stmts(body, false, &mut local);
            }
            Member::OnPost { body, span } if once("on post", *span, &mut seen, &mut local) => {
                on_post = c.stmts(body, false, &mut local);
            }
            _ => {}
        }
    }
    c.every_blocks(def, &mut local);
    if c.wildcard_sides {
        local.retain(|d| {
            !d.message.contains("the presynaptic neuron") && !d.message.contains("the postsynaptic neuron")
        });
        local.retain(|d| d.code != "hebb::units::assign" || !d.message.starts_with("`post."));
    }
    diags.extend(local);
    SynapseInstance { type_id: Some(type_id), name, dynamics: c.dynamics, on_pre, on_post }
}
