//! Networks: the order their members are checked in (populations, then
//! projections, then records), a variant's changes to them, and the helpers
//! those members share (counts, options, population references).

use super::connect::connect;
use super::dynamics::Ctx;
use super::expr::{self, Scope, expect_dim};
use super::names::{check_declarable, check_unique, did_you_mean, suggest};
use super::population::population;
use super::record::record;
use super::variant::NetworkChanges;
use crate::diag::Diagnostic;
use crate::hir::*;
use crate::span::{SourceMap, Span};
use crate::syntax::ast::{self, ItemDef, Member};
use crate::units::Dim;
use std::path::{Path, PathBuf};

/// What the network checker needs from the rest of the model.
pub struct Types<'a> {
    pub neurons: &'a [NeuronType],
    /// Synapse types with the AST they are re-checked from for each projection.
    pub synapses: &'a [(SynapseType, &'a ItemDef)],
    pub ctx: &'a Ctx<'a>,
    pub sources: &'a SourceMap,
}

/// Rule: a count (population size, degree, number of patterns) is a
/// positive integer constant.
pub fn positive_integer(e: &ast::Expr, what: &str, diags: &mut Vec<Diagnostic>) -> Option<usize> {
    let scope = Scope::constant(what.to_string(), &[]);
    let v = expr::check(&scope, e, diags);
    if !expect_dim(&v, Dim::ONE, what, diags, false) {
        return None;
    }
    match crate::hir::const_eval(&v, &[]) {
        Some(x) if x >= 1.0 && x.fract() == 0.0 && x <= u32::MAX as f64 => Some(x as usize),
        Some(x) => {
            diags.push(
                Diagnostic::error("hebb::network::count", format!("{what} must be a positive integer"))
                    .label(v.span, format!("this is {x}")),
            );
            None
        }
        None => {
            diags.push(
                Diagnostic::error("hebb::network::count", format!("{what} must be a constant"))
                    .label(v.span, "not a constant"),
            );
            None
        }
    }
}

/// The directory that relative paths in a file are resolved against.
pub(super) fn base_dir(sources: &SourceMap, span: Span) -> PathBuf {
    sources.get(span.file).path.as_deref().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_default()
}

pub(super) fn string_value(e: &ast::Expr) -> Option<&str> {
    match &e.kind {
        ast::ExprKind::Str(s) => Some(s),
        _ => None,
    }
}

/// Checks a network, with a variant's changes (populations and projections
/// replaced by the variant's versions, keeping the base's connection options
/// unless the variant gives its own).
pub(crate) fn network(
    def: &ItemDef,
    types: &Types<'_>,
    changes: &NetworkChanges<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Network {
    let name = def.name.as_ref().map(|n| n.name.clone()).unwrap_or_default();
    let mut net = Network {
        name,
        span: def.name.as_ref().map(|n| n.span).unwrap_or(def.span),
        populations: Vec::new(),
        projections: Vec::new(),
        records: Vec::new(),
    };
    populations(&mut net, def, types, changes, diags);
    projections(&mut net, def, types, changes, diags);
    for m in &def.members {
        if let Member::Record { vars, targets, every, bin, sample, span } = m {
            record(&mut net, vars, targets, every.as_ref(), bin.as_ref(), sample.as_ref(), *span, types, diags);
        }
    }
    net
}

/// The populations of a network, each replaced by a variant's version of
/// the same name when there is one.
fn populations(
    net: &mut Network,
    def: &ItemDef,
    types: &Types<'_>,
    changes: &NetworkChanges<'_>,
    diags: &mut Vec<Diagnostic>,
) {
    let mut pop_spans: Vec<Span> = Vec::new();
    for m in &def.members {
        if let Member::Population { name, size, type_name, options, span } = variant_population(m, changes) {
            // A reserved name is reported but the population still exists,
            // so its uses are not reported again.
            check_declarable(name, diags);
            let prev = net.population(&name.name).map(|k| pop_spans[k]);
            if !check_unique("population", name, prev, diags) {
                continue;
            }
            if let Some(pop) = population(name, size, type_name, options, *span, types, diags) {
                net.populations.push(pop);
                pop_spans.push(name.span);
            }
        }
    }
}

/// A member of the base network, or the variant's population of the same
/// name that replaces it.
fn variant_population<'m>(m: &'m Member, changes: &NetworkChanges<'m>) -> &'m Member {
    match m {
        Member::Population { name, .. } => changes
            .populations
            .iter()
            .copied()
            .find(|c| matches!(c, Member::Population { name: n, .. } if n.name == name.name))
            .unwrap_or(m),
        _ => m,
    }
}

/// The projections of a network. The first base projection between the
/// same populations takes a variant's `connect A -> B with T`.
fn projections(
    net: &mut Network,
    def: &ItemDef,
    types: &Types<'_>,
    changes: &NetworkChanges<'_>,
    diags: &mut Vec<Diagnostic>,
) {
    let mut swapped = vec![false; changes.connects.len()];
    for m in &def.members {
        if let Member::Connect { pre, post, synapse, type_args, options, span } = m {
            let swap = changes.connects.iter().enumerate().find(|(k, c)| {
                !swapped[*k] && matches!(c, Member::Connect { pre: p2, post: q2, .. } if p2.name.name == pre.name.name && q2.name.name == post.name.name)
            });
            let (synapse, type_args, options) = match swap {
                Some((k, Member::Connect { synapse: s2, type_args: a2, options: o2, .. })) => {
                    swapped[k] = true;
                    (s2, a2, if o2.is_empty() { options } else { o2 })
                }
                _ => (synapse, type_args, options),
            };
            if let Some(p) = connect(net, pre, post, synapse, type_args, options, *span, types, diags) {
                net.projections.push(p);
            }
        }
    }
}

/// Rule: an option given twice is an error.
pub(super) fn unique_options(options: &[ast::Opt], diags: &mut Vec<Diagnostic>) {
    for (k, o) in options.iter().enumerate() {
        if let Some(prev) = options[..k].iter().find(|p| p.name.name == o.name.name) {
            diags.push(
                Diagnostic::error("hebb::names::duplicate", format!("option `{}` is given twice", o.name.name))
                    .label(o.span, "again here")
                    .label(prev.span, "first here"),
            );
        }
    }
}

/// Rule: a type named in a network (neuron type, synapse type) is declared
/// in the model or one of its imports.
pub fn unknown_type<'a>(
    name: &ast::Ident,
    what: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    diags: &mut Vec<Diagnostic>,
) {
    let cands: Vec<&str> = candidates.into_iter().collect();
    let help = did_you_mean(suggest(&name.name, cands.iter().copied())).or_else(|| {
        if cands.is_empty() {
            None
        } else {
            Some(format!(
                "the known ones are {}",
                cands.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
            ))
        }
    });
    diags.push(
        Diagnostic::error("hebb::names::unknown_type", format!("unknown {what} `{}`", name.name))
            .label(name.span, "not declared in this model or its imports")
            .with_help(help),
    );
}

pub(super) fn unknown_option(o: &ast::Opt, name: &str, known: &[&str], what: &str, diags: &mut Vec<Diagnostic>) {
    let help = did_you_mean(suggest(name, known.iter().copied())).or_else(|| {
        Some(format!("the options are {}", known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")))
    });
    diags.push(
        Diagnostic::error("hebb::network::unknown_option", format!("{what} has no option `{name}`"))
            .label(o.span, if o.value.is_none() { "unknown option (or missing `= value`)" } else { "unknown option" })
            .with_help(help),
    );
}

/// Resolves `pop` or `pop[a..b]`. Rules: the population exists; a slice has
/// constant integer bounds with `0 <= a < b <= size`.
pub(super) fn pop_sel(net: &Network, r: &ast::PopRef, diags: &mut Vec<Diagnostic>) -> Option<PopSel> {
    let Some(k) = net.population(&r.name.name) else {
        let cands = net.populations.iter().map(|p| p.name.as_str());
        diags.push(
            Diagnostic::error("hebb::names::unknown_population", format!("unknown population `{}`", r.name.name))
                .label(r.name.span, format!("not a population of network `{}`", net.name))
                .with_help(did_you_mean(suggest(&r.name.name, cands))),
        );
        return None;
    };
    let size = net.populations[k].size;
    let Some((a, b)) = &r.range else { return Some(PopSel { pop: k as u32, start: 0, end: size }) };
    let bound = |e: &ast::Expr, diags: &mut Vec<Diagnostic>| -> Option<usize> {
        let v = expr::check(&Scope::constant("a slice bound", &[]), e, diags);
        match crate::hir::const_eval(&v, &[]) {
            Some(x) if x >= 0.0 && x.fract() == 0.0 && v.ty == Ty::ONE => Some(x as usize),
            _ => {
                diags.push(
                    Diagnostic::error("hebb::network::slice", "slice bounds must be non-negative integer constants")
                        .label(v.span, "here"),
                );
                None
            }
        }
    };
    let (start, end) = (bound(a, diags)?, bound(b, diags)?);
    if start >= end || end > size {
        let message = if start >= end {
            format!("the slice `[{start}..{end}]` of population `{}` is empty", r.name.name)
        } else {
            format!("the slice `[{start}..{end}]` is not within population `{}` of size {size}", r.name.name)
        };
        diags.push(
            Diagnostic::error("hebb::network::slice", message)
                .label(r.span, if start >= end { "no neurons selected" } else { "out of range" })
                .help(format!("use bounds with 0 <= start < end <= {size}")),
        );
        return None;
    }
    Some(PopSel { pop: k as u32, start, end })
}
