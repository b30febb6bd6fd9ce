//! Networks: populations, sources, projections and records.

use super::dynamics::{self, Ctx, SideVars};
use super::expr::{self, Scope, expect_dim};
use super::names::{check_declarable, check_unique, did_you_mean, suggest};
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

const SOURCES: [&str; 2] = ["poisson", "spike_times"];

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
fn base_dir(sources: &SourceMap, span: Span) -> PathBuf {
    sources.get(span.file).path.as_deref().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_default()
}

fn string_value(e: &ast::Expr) -> Option<&str> {
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
    changes: &super::NetworkChanges<'_>,
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
    let mut pop_spans: Vec<Span> = Vec::new();
    for m in &def.members {
        let m = match m {
            Member::Population { name, .. } => changes
                .populations
                .iter()
                .copied()
                .find(|c| matches!(c, Member::Population { name: n, .. } if n.name == name.name))
                .unwrap_or(m),
            _ => m,
        };
        if let Member::Population { name, size, type_name, options, span } = m {
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
    let mut swapped = vec![false; changes.connects.len()];
    for m in &def.members {
        if let Member::Connect { pre, post, synapse, type_args, options, span } = m {
            // The first base projection between the same populations takes a
            // variant's `connect A -> B with T`.
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
            if let Some(p) = connect(&net, pre, post, synapse, type_args, options, *span, types, diags) {
                net.projections.push(p);
            }
        }
    }
    for m in &def.members {
        if let Member::Record { vars, targets, every, bin, sample, span } = m {
            record(&mut net, vars, targets, every.as_ref(), bin.as_ref(), sample.as_ref(), *span, types, diags);
        }
    }
    net
}

/// Rule: an option given twice is an error.
fn unique_options(options: &[ast::Opt], diags: &mut Vec<Diagnostic>) {
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

fn population(
    name: &ast::Ident,
    size: &ast::Expr,
    type_name: &ast::Ident,
    options: &[ast::Opt],
    span: Span,
    types: &Types<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Population> {
    let size = positive_integer(size, "the size of a population", diags);
    unique_options(options, diags);
    let kind_and_overrides = match type_name.name.as_str() {
        "poisson" => poisson(options, type_name.span, types, diags).map(|k| (k, Vec::new())),
        "spike_times" => spike_times(options, type_name.span, types, diags).map(|k| (k, Vec::new())),
        other => match types.neurons.iter().position(|n| n.name == other) {
            Some(k) => {
                let ov = overrides(
                    &types.neurons[k].dynamics,
                    &format!("neuron `{other}`"),
                    options,
                    &[Builtin::I, Builtin::N],
                    types.ctx,
                    diags,
                );
                Some((PopulationKind::Neurons { type_id: k as u32 }, ov))
            }
            None => {
                unknown_type(
                    type_name,
                    "neuron type",
                    types.neurons.iter().map(|n| n.name.as_str()).chain(SOURCES),
                    diags,
                );
                None
            }
        },
    };
    let (kind, overrides) = kind_and_overrides?;
    Some(Population { name: name.name.clone(), size: size?, kind, overrides, span })
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

/// Rule: an override names a param or state of the type, and its value has
/// that variable's dimension.
fn overrides(
    dynamics: &Dynamics,
    what: &str,
    options: &[ast::Opt],
    builtins: &'static [Builtin],
    ctx: &Ctx<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Override> {
    let mut out = Vec::new();
    for o in options {
        if let Some(ov) = one_override(dynamics, what, o, builtins, ctx, diags) {
            out.push(ov);
        }
    }
    out
}

fn one_override(
    dynamics: &Dynamics,
    what: &str,
    o: &ast::Opt,
    builtins: &'static [Builtin],
    ctx: &Ctx<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Override> {
    let (target, ty) = if let Some(k) = dynamics.param(&o.name.name) {
        (VarRef { owner: Owner::Own, kind: VarKind::Param, index: k as u32 }, dynamics.params[k].ty)
    } else if let Some(k) = dynamics.state(&o.name.name) {
        (VarRef { owner: Owner::Own, kind: VarKind::State, index: k as u32 }, dynamics.states[k].ty)
    } else {
        let cands =
            dynamics.params.iter().map(|p| p.name.as_str()).chain(dynamics.states.iter().map(|s| s.name.as_str()));
        diags.push(
            Diagnostic::error(
                "hebb::network::unknown_override",
                format!("{what} has no param or state `{}`", o.name.name),
            )
            .label(o.name.span, "nothing to override")
            .with_help(did_you_mean(suggest(&o.name.name, cands))),
        );
        return None;
    };
    let Some(value) = &o.value else {
        diags.push(
            Diagnostic::error("hebb::network::override_value", format!("`{}` needs a value", o.name.name))
                .label(o.span, format!("write `{} = ...`", o.name.name)),
        );
        return None;
    };
    // Overrides see the type's params (at their defaults) and the built-ins.
    let scope = Scope {
        what: format!("an override of {what}"),
        own: Some(dynamics),
        lets: &[],
        pre: None,
        post: None,
        signals: ctx.signals,
        builtins,
        allow_dist: true,
        allow_rand: true,
        allow_reduce: false,
    };
    let e = expr::check(&scope, value, diags);
    if let (Ty::Num(want), Ty::Num(_)) = (ty, e.ty) {
        let bare_zero = matches!(value.kind, ast::ExprKind::Number(v) if v == 0.0);
        if !bare_zero {
            expect_dim(&e, want, &format!("the value of `{}`", o.name.name), diags, false);
        }
    }
    if target.kind == VarKind::State && e.any(|x| matches!(x.kind, ExprKind::Var(v) if v.kind == VarKind::State)) {
        diags.push(
            Diagnostic::error("hebb::network::override_state", "an initial value cannot read other states")
                .label(e.span, "reads a state")
                .help("use params, `i`, `N` and distributions"),
        );
        return None;
    }
    Some(Override { target, value: e, span: o.span })
}

/// Rule: a poisson source has a `rate` in Hz, which may use `t` and `i`.
fn poisson(options: &[ast::Opt], at: Span, types: &Types<'_>, diags: &mut Vec<Diagnostic>) -> Option<PopulationKind> {
    let mut rate = None;
    let mut rate_max = None;
    let mut ok = true;
    for o in options {
        match (o.name.name.as_str(), &o.value) {
            ("rate", Some(v)) => {
                let scope = Scope {
                    signals: types.ctx.signals,
                    ..Scope::constant("the rate of a poisson source", &[Builtin::T, Builtin::I, Builtin::N])
                };
                let e = expr::check(&scope, v, diags);
                ok &= expect_dim(&e, Dim::HERTZ, "the rate of a poisson source", diags, true);
                if let Some(r) = crate::hir::const_eval(&e, &[])
                    && !(r >= 0.0 && r.is_finite())
                {
                    diags.push(
                        Diagnostic::error(
                            "hebb::network::rate",
                            "the rate of a poisson source must be a non-negative finite rate",
                        )
                        .label(e.span, format!("this is {r} Hz")),
                    );
                    ok = false;
                }
                rate = Some(e);
            }
            ("rate_max", Some(v)) => {
                let e = expr::check(&Scope::constant("`rate_max`", &[]), v, diags);
                ok &= expect_dim(&e, Dim::HERTZ, "`rate_max`", diags, false);
                match crate::hir::const_eval(&e, &[]) {
                    Some(r) if r > 0.0 && r.is_finite() => rate_max = Some(r),
                    _ => {
                        diags.push(
                            Diagnostic::error("hebb::network::rate", "`rate_max` must be a positive constant rate")
                                .label(e.span, "here"),
                        );
                        ok = false;
                    }
                }
            }
            (other, _) => {
                unknown_option(o, other, &["rate", "rate_max"], "a poisson source", diags);
                ok = false;
            }
        }
    }
    let Some(rate) = rate else {
        diags.push(
            Diagnostic::error("hebb::network::missing_option", "a poisson source needs a `rate`")
                .label(at, "no `rate` given")
                .help("write `poisson { rate = 10 Hz }`"),
        );
        return None;
    };
    ok.then_some(PopulationKind::Poisson { rate, rate_max })
}

fn unknown_option(o: &ast::Opt, name: &str, known: &[&str], what: &str, diags: &mut Vec<Diagnostic>) {
    let help = did_you_mean(suggest(name, known.iter().copied())).or_else(|| {
        Some(format!("the options are {}", known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")))
    });
    diags.push(
        Diagnostic::error("hebb::network::unknown_option", format!("{what} has no option `{name}`"))
            .label(o.span, if o.value.is_none() { "unknown option (or missing `= value`)" } else { "unknown option" })
            .with_help(help),
    );
}

/// Rule: a spike_times source has exactly one of `file = "x.csv"` and
/// `times = [...]` (times, non-negative).
fn spike_times(
    options: &[ast::Opt],
    at: Span,
    types: &Types<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<PopulationKind> {
    let mut found: Option<PopulationKind> = None;
    for o in options {
        let kind = match (o.name.name.as_str(), &o.value) {
            ("file", Some(v)) => match string_value(v) {
                Some(path) => Some(PopulationKind::SpikeTimes(SpikeTimes::File {
                    path: base_dir(types.sources, v.span).join(path),
                    span: v.span,
                })),
                None => {
                    diags.push(
                        Diagnostic::error("hebb::network::file_option", "`file` must be a path in double quotes")
                            .label(v.span, "not a string")
                            .help("write `file = \"spikes.csv\"`"),
                    );
                    None
                }
            },
            ("times", Some(v)) => {
                let items: Vec<&ast::Expr> = match &v.kind {
                    ast::ExprKind::List(items) => items.iter().collect(),
                    _ => vec![v],
                };
                let mut times = Vec::new();
                let mut ok = true;
                for item in items {
                    let e = expr::check(&Scope::constant("spike times", &[]), item, diags);
                    if !expect_dim(&e, Dim::TIME, "a spike time", diags, true) {
                        ok = false;
                        continue;
                    }
                    match crate::hir::const_eval(&e, &[]) {
                        Some(t) if t >= 0.0 && t.is_finite() => times.push(t),
                        _ => {
                            diags.push(
                                Diagnostic::error(
                                    "hebb::network::spike_time",
                                    "spike times must be non-negative constants",
                                )
                                .label(e.span, "here"),
                            );
                            ok = false;
                        }
                    }
                }
                times.sort_by(f64::total_cmp);
                ok.then_some(PopulationKind::SpikeTimes(SpikeTimes::Inline(times)))
            }
            (other, _) => {
                unknown_option(o, other, &["file", "times"], "a spike_times source", diags);
                None
            }
        };
        if let Some(k) = kind {
            if found.is_some() {
                diags.push(
                    Diagnostic::error(
                        "hebb::network::spike_times_twice",
                        "a spike_times source takes `file` or `times`, not both",
                    )
                    .label(o.span, "second source of spike times"),
                );
            }
            found = Some(k);
        }
    }
    if found.is_none() && !options.iter().any(|o| o.name.name == "file" || o.name.name == "times") {
        diags.push(
            Diagnostic::error("hebb::network::missing_option", "a spike_times source needs `file` or `times`")
                .label(at, "no spike times given")
                .help("write `spike_times { times = [10 ms, 20 ms] }` or `spike_times { file = \"in.csv\" }`"),
        );
    }
    found
}

/// Resolves `pop` or `pop[a..b]`. Rules: the population exists; a slice has
/// constant integer bounds with `0 <= a < b <= size`.
fn pop_sel(net: &Network, r: &ast::PopRef, diags: &mut Vec<Diagnostic>) -> Option<PopSel> {
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

fn side_vars<'a>(net: &'a Network, types: &'a Types<'a>, sel: PopSel, what: &'a str) -> SideVars<'a> {
    match net.populations[sel.pop as usize].kind {
        PopulationKind::Neurons { type_id } => SideVars::Vars(what, &types.neurons[type_id as usize].dynamics),
        _ => SideVars::Source(what),
    }
}

const RULES: [&str; 6] = ["p", "indegree", "outdegree", "one_to_one", "all_to_all", "file"];

#[allow(clippy::too_many_arguments)]
fn connect(
    net: &Network,
    pre_ref: &ast::PopRef,
    post_ref: &ast::PopRef,
    synapse: &ast::Ident,
    type_args: &[ast::Opt],
    options: &[ast::Opt],
    span: Span,
    types: &Types<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Projection> {
    let pre = pop_sel(net, pre_ref, diags);
    let post = pop_sel(net, post_ref, diags);
    unique_options(options, diags);
    let (pre, post) = (pre?, post?);
    let pre_what = format!("population `{}`", net.populations[pre.pop as usize].name);
    let post_what = format!("population `{}`", net.populations[post.pop as usize].name);
    let instance = if synapse.name == "Static" {
        static_synapse(net, post, type_args, synapse, types, diags)?
    } else {
        let Some(k) = types.synapses.iter().position(|(s, _)| s.name == synapse.name) else {
            let mut cands: Vec<&str> = types.synapses.iter().map(|(s, _)| s.name.as_str()).collect();
            cands.push("Static");
            unknown_type(synapse, "synapse type", cands, diags);
            return None;
        };
        if let Some(a) = type_args.first() {
            diags.push(
                Diagnostic::error("hebb::network::type_args", format!("synapse `{}` takes no arguments", synapse.name))
                    .label(a.span, "only `Static(target = x)` takes arguments")
                    .help("give params and initial values in the options block `{ w = ... }`"),
            );
        }
        let def = types.synapses[k].1;
        let mut local = Vec::new();
        let inst = dynamics::synapse(
            def,
            k as u32,
            side_vars(net, types, pre, &pre_what),
            side_vars(net, types, post, &post_what),
            types.ctx,
            &mut local,
        );
        // Errors in the synapse's own declarations were reported when the
        // type was checked alone; report only what this projection adds.
        for d in local {
            if !diags.contains(&d) {
                diags.push(d);
            }
        }
        inst
    };
    let mut rule: Option<(ConnRule, Span)> = None;
    let mut autapses = pre.pop != post.pop;
    let mut delay = None;
    let mut post_delay = None;
    let mut overrides = Vec::new();
    let mut set_rule = |r: ConnRule, o: &ast::Opt, diags: &mut Vec<Diagnostic>| {
        if let Some((_, prev)) = &rule {
            diags.push(
                Diagnostic::error("hebb::network::connection_rule", "a connection has more than one rule")
                    .label(o.span, "second rule")
                    .label(*prev, "first rule")
                    .help("keep one of `p`, `indegree`, `outdegree`, `one_to_one`, `all_to_all` and `file`"),
            );
        } else {
            rule = Some((r, o.span));
        }
    };
    for o in options {
        let name = o.name.name.as_str();
        let is_flag = matches!(name, "one_to_one" | "all_to_all");
        if RULES.contains(&name) && o.value.is_none() && !is_flag {
            diags.push(
                Diagnostic::error("hebb::network::option_value", format!("`{name}` needs a value"))
                    .label(o.span, format!("write `{name} = ...`")),
            );
            continue;
        }
        match name {
            "p" => {
                if let Some(e) = probability(o, types, diags) {
                    set_rule(ConnRule::Prob(e), o, diags);
                }
            }
            "indegree" | "outdegree" => {
                if let Some(k) = o.value.as_ref().and_then(|v| positive_integer(v, &format!("`{name}`"), diags)) {
                    let (limit, side) = if name == "indegree" {
                        (pre.end - pre.start, "presynaptic")
                    } else {
                        (post.end - post.start, "postsynaptic")
                    };
                    if k > limit {
                        diags.push(
                            Diagnostic::error(
                                "hebb::network::degree",
                                format!("`{name} = {k}` is more than the {limit} {side} neurons"),
                            )
                            .label(o.span, "too many"),
                        );
                    } else {
                        set_rule(
                            if name == "indegree" { ConnRule::InDegree(k) } else { ConnRule::OutDegree(k) },
                            o,
                            diags,
                        );
                    }
                }
            }
            "one_to_one" | "all_to_all" => {
                if o.value.is_some() {
                    diags.push(
                        Diagnostic::error("hebb::network::flag_value", format!("`{name}` takes no value"))
                            .label(o.span, format!("write just `{name}`")),
                    );
                }
                if name == "one_to_one" && pre.end - pre.start != post.end - post.start {
                    diags.push(
                        Diagnostic::error(
                            "hebb::network::one_to_one",
                            format!(
                                "`one_to_one` needs populations of one size, but they have {} and {}",
                                pre.end - pre.start,
                                post.end - post.start
                            ),
                        )
                        .label(o.span, "sizes differ")
                        .label(pre_ref.span, format!("{} neurons", pre.end - pre.start))
                        .label(post_ref.span, format!("{} neurons", post.end - post.start)),
                    );
                    continue;
                }
                set_rule(if name == "one_to_one" { ConnRule::OneToOne } else { ConnRule::AllToAll }, o, diags);
            }
            "file" => match o.value.as_ref().and_then(string_value) {
                Some(path) => {
                    let v = o.value.as_ref().map(|v| v.span).unwrap_or(o.span);
                    set_rule(ConnRule::File { path: base_dir(types.sources, v).join(path), span: v }, o, diags);
                }
                None => diags.push(
                    Diagnostic::error("hebb::network::file_option", "`file` must be a path in double quotes")
                        .label(o.span, "not a string")
                        .help("write `file = \"connections.csv\"`"),
                ),
            },
            "autapses" => match o.value.as_ref().map(|v| &v.kind) {
                Some(ast::ExprKind::Bool(b)) => autapses = *b,
                None => autapses = true,
                Some(_) => diags.push(
                    Diagnostic::error("hebb::network::autapses", "`autapses` is `true` or `false`")
                        .label(o.span, "not a boolean"),
                ),
            },
            "delay" | "post_delay" => {
                if let Some(e) = delay_option(o, types, diags) {
                    if name == "delay" {
                        delay = Some(e);
                    } else {
                        post_delay = Some(e);
                    }
                }
            }
            _ => {
                let what = format!("synapse `{}`", instance.name);
                if instance.dynamics.param(name).is_none() && instance.dynamics.state(name).is_none() {
                    let mut known: Vec<&str> = RULES.to_vec();
                    known.extend(["autapses", "delay", "post_delay"]);
                    known.extend(instance.dynamics.params.iter().map(|p| p.name.as_str()));
                    known.extend(instance.dynamics.states.iter().map(|s| s.name.as_str()));
                    unknown_option(o, name, &known, "a connection", diags);
                    continue;
                }
                if let Some(ov) =
                    one_override(&instance.dynamics, &what, o, &[Builtin::I, Builtin::J], types.ctx, diags)
                {
                    overrides.push(ov);
                }
            }
        }
    }
    let rule_given = options.iter().any(|o| RULES.contains(&o.name.name.as_str()));
    let Some((rule, _)) = rule else {
        if rule_given {
            return None;
        }
        diags.push(
            Diagnostic::error("hebb::network::connection_rule", "this connection has no connection rule")
                .label(span, "which pairs are connected?")
                .help("add one of `p = 0.1`, `indegree = 80`, `outdegree = 80`, `one_to_one`, `all_to_all` or `file = \"conn.csv\"`"),
        );
        return None;
    };
    // A connection file may give the weights instead.
    let weights_from_file = matches!(rule, ConnRule::File { .. });
    if instance.type_id.is_none()
        && !weights_from_file
        && !overrides.iter().any(|o| {
            instance.dynamics.states.get(o.target.index as usize).is_some_and(|s| s.name == WEIGHT)
                && o.target.kind == VarKind::State
        })
    {
        diags.push(
            Diagnostic::error("hebb::network::static_weight", "a `Static` connection needs a weight `w`")
                .label(span, "no `w` given")
                .help("add `w = ...` to the options, in the unit of the target variable"),
        );
        return None;
    }
    Some(Projection { pre, post, synapse: instance, rule, autapses, delay, post_delay, overrides, span })
}

/// `Static(target = x)`: a non-plastic synapse whose `on pre` is
/// `post.x += w`. Rule: `x` is a state of the postsynaptic neuron type.
fn static_synapse(
    net: &Network,
    post: PopSel,
    type_args: &[ast::Opt],
    synapse: &ast::Ident,
    types: &Types<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<SynapseInstance> {
    let target = type_args.iter().find(|a| a.name.name == "target");
    for a in type_args.iter().filter(|a| a.name.name != "target") {
        diags.push(
            Diagnostic::error("hebb::network::type_args", format!("`Static` has no argument `{}`", a.name.name))
                .label(a.span, "only `target` is known"),
        );
    }
    let Some(target) = target else {
        diags.push(
            Diagnostic::error("hebb::network::static_target", "`Static` needs a target variable")
                .label(synapse.span, "which postsynaptic variable does a spike increment?")
                .help("write `Static(target = g_e)`"),
        );
        return None;
    };
    let var = match target.value.as_ref().map(|v| &v.kind) {
        Some(ast::ExprKind::Name(p)) if p.parts.len() == 1 => &p.parts[0],
        _ => {
            diags.push(
                Diagnostic::error("hebb::network::static_target", "the target of `Static` must be a variable name")
                    .label(target.span, "write `target = g_e`"),
            );
            return None;
        }
    };
    let post_pop = &net.populations[post.pop as usize];
    let PopulationKind::Neurons { type_id } = post_pop.kind else {
        diags.push(
            Diagnostic::error(
                "hebb::network::static_target",
                format!("population `{}` is a source and has no variables", post_pop.name),
            )
            .label(var.span, "sources cannot receive synapses"),
        );
        return None;
    };
    let nt = &types.neurons[type_id as usize];
    let Some(k) = nt.dynamics.state(&var.name) else {
        let cands = nt.dynamics.states.iter().map(|s| s.name.as_str());
        let msg = if nt.dynamics.param(&var.name).is_some() {
            format!("`{}` is a param of neuron `{}`; a synapse target must be a state", var.name, nt.name)
        } else {
            format!("neuron `{}` has no state `{}`", nt.name, var.name)
        };
        diags.push(
            Diagnostic::error("hebb::network::static_target", msg)
                .label(var.span, "not a state of the postsynaptic neuron")
                .with_help(did_you_mean(suggest(&var.name, cands))),
        );
        return None;
    };
    let ty = nt.dynamics.states[k].ty;
    let span = synapse.span;
    let w = State { name: WEIGHT.into(), ty, init: Expr { kind: ExprKind::Const(0.0), ty, span }, span };
    let on_pre = vec![Stmt::Assign {
        target: VarRef { owner: Owner::Post, kind: VarKind::State, index: k as u32 },
        op: AssignOp::Add,
        value: Expr { kind: ExprKind::Var(VarRef { owner: Owner::Own, kind: VarKind::State, index: 0 }), ty, span },
        span,
    }];
    Some(SynapseInstance {
        type_id: None,
        name: format!("Static(target = {})", var.name),
        dynamics: Dynamics { states: vec![w], ..Dynamics::default() },
        on_pre,
        on_post: Vec::new(),
    })
}

/// Rule: a connection probability is dimensionless, may use `i` and `j`,
/// and lies in [0, 1] when constant.
fn probability(o: &ast::Opt, types: &Types<'_>, diags: &mut Vec<Diagnostic>) -> Option<Expr> {
    let v = o.value.as_ref()?;
    let scope =
        Scope { signals: types.ctx.signals, ..Scope::constant("a connection probability", &[Builtin::I, Builtin::J]) };
    let e = expr::check(&scope, v, diags);
    if !expect_dim(&e, Dim::ONE, "a connection probability", diags, false) {
        return None;
    }
    if let Some(p) = crate::hir::const_eval(&e, &[])
        && !(0.0..=1.0).contains(&p)
    {
        diags.push(
            Diagnostic::error(
                "hebb::network::probability",
                format!("the connection probability {p} is outside [0, 1]"),
            )
            .label(e.span, "not a probability")
            .help("use a value between 0 and 1"),
        );
        return None;
    }
    Some(e)
}

/// Rule: a delay is a time, constant or a distribution, non-negative and
/// finite; a constant delay that is not a multiple of `dt` is rounded (a
/// warning says so).
fn delay_option(o: &ast::Opt, types: &Types<'_>, diags: &mut Vec<Diagnostic>) -> Option<Expr> {
    let v = o.value.as_ref()?;
    let mut scope = Scope::constant("a delay", &[Builtin::I, Builtin::J]);
    scope.allow_dist = true;
    let e = expr::check(&scope, v, diags);
    if !expect_dim(&e, Dim::TIME, &format!("`{}`", o.name.name), diags, true) {
        return None;
    }
    if let Some(d) = crate::hir::const_eval(&e, &[]) {
        if !(d >= 0.0 && d.is_finite()) {
            diags.push(
                Diagnostic::error(
                    "hebb::network::delay",
                    format!("`{}` must be a non-negative finite time", o.name.name),
                )
                .label(e.span, format!("this is {}", crate::units::format_quantity(d, Dim::TIME))),
            );
            return None;
        }
        if let Some(dt) = types.ctx.dt {
            let steps = d / dt;
            if (steps - steps.round()).abs() > 1e-6 {
                diags.push(
                    Diagnostic::warning(
                        "hebb::network::delay_rounded",
                        format!("`{}` is not a multiple of `dt` and is rounded", o.name.name),
                    )
                    .label(
                        e.span,
                        format!(
                            "rounded to {} steps = {}",
                            steps.round(),
                            crate::units::format_quantity(steps.round() * dt, Dim::TIME)
                        ),
                    )
                    .help("use a multiple of the time step"),
                );
            }
        }
    }
    Some(e)
}

/// Records. Rules: `spikes` and `rate` name whole populations; state
/// variables are states of the neuron type; synaptic variables are states of
/// the projection's synapse; intervals are positive times.
#[allow(clippy::too_many_arguments)]
fn record(
    net: &mut Network,
    vars: &[ast::Ident],
    targets: &[ast::Target],
    every: Option<&ast::Expr>,
    bin: Option<&ast::Expr>,
    sample: Option<&ast::Expr>,
    span: Span,
    types: &Types<'_>,
    diags: &mut Vec<Diagnostic>,
) {
    let dt = types.ctx.dt.unwrap_or(1e-4);
    let interval = |e: Option<&ast::Expr>, what: &str, diags: &mut Vec<Diagnostic>| -> Option<f64> {
        let Some(e) = e else { return Some(dt) };
        let v = expr::check(&Scope::constant(what.to_string(), &[]), e, diags);
        if !expect_dim(&v, Dim::TIME, what, diags, false) {
            return None;
        }
        match crate::hir::const_eval(&v, &[]) {
            Some(x) if x > 0.0 && x.is_finite() => Some(x),
            _ => {
                diags.push(
                    Diagnostic::error("hebb::record::interval", format!("{what} must be a positive time"))
                        .label(v.span, "not a positive constant time"),
                );
                None
            }
        }
    };
    let special = vars.iter().find(|v| v.name == "spikes" || v.name == "rate");
    if let Some(sp) = special {
        if vars.len() > 1 {
            diags.push(
                Diagnostic::error("hebb::record::mixed", format!("`{}` must be recorded on its own", sp.name))
                    .label(span, "split this into two `record` lines"),
            );
            return;
        }
        let bin_s = if sp.name == "rate" { interval(bin, "the bin of a rate record", diags) } else { Some(dt) };
        for t in targets {
            if t.post.is_some() || t.pre.range.is_some() {
                diags.push(
                    Diagnostic::error(
                        "hebb::record::target",
                        format!("`{}` is recorded for whole populations", sp.name),
                    )
                    .label(t.span, "write just the population name"),
                );
                continue;
            }
            let Some(sel) = pop_sel(net, &t.pre, diags) else { continue };
            if sp.name == "spikes" {
                net.records.push(Record::Spikes { pop: sel.pop });
            } else if let Some(bin) = bin_s {
                net.records.push(Record::Rate { pop: sel.pop, bin });
            }
        }
        return;
    }
    let every_s = interval(every, "the interval of a record", diags);
    let sample_n = sample.and_then(|s| positive_integer(s, "`sample`", diags));
    for t in targets {
        match &t.post {
            None => {
                let Some(sel) = pop_sel(net, &t.pre, diags) else { continue };
                let pop = &net.populations[sel.pop as usize];
                let PopulationKind::Neurons { type_id } = pop.kind else {
                    diags.push(
                        Diagnostic::error(
                            "hebb::record::source",
                            format!("population `{}` is a source and has no variables", pop.name),
                        )
                        .label(t.span, "only `spikes` and `rate` can be recorded from a source"),
                    );
                    continue;
                };
                let d = &types.neurons[type_id as usize].dynamics;
                let mut rv = Vec::new();
                for v in vars {
                    if let Some(k) = d.state(&v.name) {
                        rv.push((v.name.clone(), VarRef { owner: Owner::Own, kind: VarKind::State, index: k as u32 }));
                    } else if let Some(k) = d.param(&v.name) {
                        rv.push((v.name.clone(), VarRef { owner: Owner::Own, kind: VarKind::Param, index: k as u32 }));
                    } else {
                        let cands = d.states.iter().map(|s| s.name.as_str());
                        diags.push(
                            Diagnostic::error(
                                "hebb::record::unknown_var",
                                format!("population `{}` has no variable `{}`", pop.name, v.name),
                            )
                            .label(v.span, "unknown variable")
                            .with_help(
                                did_you_mean(suggest(&v.name, cands))
                                    .or_else(|| Some("record `spikes`, `rate` or a state variable".into())),
                            ),
                        );
                    }
                }
                if sample.is_some() {
                    diags.push(
                        Diagnostic::error("hebb::record::sample", "`sample` is for synaptic variables")
                            .label(span, "select neurons with a slice, as in `exc[0..10]`"),
                    );
                }
                if let (Some(every), false) = (every_s, rv.is_empty())
                    && rv.len() == vars.len()
                {
                    net.records.push(Record::State { sel, vars: rv, every });
                }
            }
            Some(post_ref) => {
                let (Some(pre), Some(post)) = (pop_sel(net, &t.pre, diags), pop_sel(net, post_ref, diags)) else {
                    continue;
                };
                let Some(k) = net.projections.iter().position(|p| p.pre.pop == pre.pop && p.post.pop == post.pop)
                else {
                    diags.push(
                        Diagnostic::error(
                            "hebb::record::no_projection",
                            format!("there is no projection `{} -> {}`", t.pre.name.name, post_ref.name.name),
                        )
                        .label(t.span, "not connected"),
                    );
                    continue;
                };
                let d = &net.projections[k].synapse.dynamics;
                let mut rv = Vec::new();
                for v in vars {
                    match d.state(&v.name) {
                        Some(s) => rv.push((v.name.clone(), s as u32)),
                        None => {
                            let cands = d.states.iter().map(|s| s.name.as_str());
                            diags.push(
                                Diagnostic::error(
                                    "hebb::record::unknown_var",
                                    format!(
                                        "the synapses `{} -> {}` have no state `{}`",
                                        t.pre.name.name, post_ref.name.name, v.name
                                    ),
                                )
                                .label(v.span, "unknown variable")
                                .with_help(did_you_mean(suggest(&v.name, cands))),
                            );
                        }
                    }
                }
                if let (Some(every), true) = (every_s, rv.len() == vars.len()) {
                    net.records.push(Record::Synapses { proj: k as u32, vars: rv, every, sample: sample_n });
                }
            }
        }
    }
}
