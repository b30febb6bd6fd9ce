//! Projections, `connect A -> B with T { ... }`: the synapse (a declared
//! type checked against the two populations, or `Static(target = x)`), the
//! connection rule, autapses, delays and overrides of the synapse.

use super::dynamics::{self, SideVars};
use super::expr::{self, Scope, expect_dim};
use super::names::{did_you_mean, suggest};
use super::network::{
    Types, base_dir, pop_sel, positive_integer, string_value, unique_options, unknown_option, unknown_type,
};
use super::population::one_override;
use crate::diag::Diagnostic;
use crate::hir::*;
use crate::span::Span;
use crate::syntax::ast;
use crate::units::Dim;

const RULES: [&str; 6] = ["p", "indegree", "outdegree", "one_to_one", "all_to_all", "file"];

/// Checks one projection.
#[allow(clippy::too_many_arguments)]
pub(super) fn connect(
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
    let instance = synapse_instance(net, pre, post, synapse, type_args, types, diags)?;
    let ends = Ends { pre, post, pre_ref, post_ref };
    let mut given =
        ConnOptions { rule: None, autapses: pre.pop != post.pop, delay: None, post_delay: None, overrides: Vec::new() };
    for o in options {
        given.option(o, &ends, &instance, types, diags);
    }
    let ConnOptions { rule, autapses, delay, post_delay, overrides } = given;
    let rule = connection_rule(rule, options, span, diags)?;
    if !static_weight_given(&instance, &rule, &overrides, span, diags) {
        return None;
    }
    Some(Projection { pre, post, synapse: instance, rule, autapses, delay, post_delay, overrides, span })
}

/// The synapse of a projection: `Static(target = x)` or a declared type.
fn synapse_instance(
    net: &Network,
    pre: PopSel,
    post: PopSel,
    synapse: &ast::Ident,
    type_args: &[ast::Opt],
    types: &Types<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<SynapseInstance> {
    if synapse.name == "Static" {
        return static_synapse(net, post, type_args, synapse, types, diags);
    }
    declared_synapse(net, pre, post, synapse, type_args, types, diags)
}

/// A declared synapse type, checked again against the variables of the two
/// populations it connects. Rule: a declared synapse type takes no
/// arguments.
fn declared_synapse(
    net: &Network,
    pre: PopSel,
    post: PopSel,
    synapse: &ast::Ident,
    type_args: &[ast::Opt],
    types: &Types<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<SynapseInstance> {
    let pre_what = format!("population `{}`", net.populations[pre.pop as usize].name);
    let post_what = format!("population `{}`", net.populations[post.pop as usize].name);
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
    Some(inst)
}

fn side_vars<'a>(net: &'a Network, types: &'a Types<'a>, sel: PopSel, what: &'a str) -> SideVars<'a> {
    match net.populations[sel.pop as usize].kind {
        PopulationKind::Neurons { type_id } => SideVars::Vars(what, &types.neurons[type_id as usize].dynamics),
        _ => SideVars::Source(what),
    }
}

/// The two populations (or slices) a projection connects, as resolved and
/// as written.
struct Ends<'a> {
    pre: PopSel,
    post: PopSel,
    pre_ref: &'a ast::PopRef,
    post_ref: &'a ast::PopRef,
}

/// What the options of a projection give.
struct ConnOptions {
    rule: Option<(ConnRule, Span)>,
    autapses: bool,
    delay: Option<Expr>,
    post_delay: Option<Expr>,
    overrides: Vec<Override>,
}

impl ConnOptions {
    /// One option: a connection rule, `autapses`, a delay, or a param or
    /// state of the synapse. Rule: a connection rule other than
    /// `one_to_one` and `all_to_all` has a value.
    fn option(
        &mut self,
        o: &ast::Opt,
        ends: &Ends<'_>,
        instance: &SynapseInstance,
        types: &Types<'_>,
        diags: &mut Vec<Diagnostic>,
    ) {
        let name = o.name.name.as_str();
        let is_flag = matches!(name, "one_to_one" | "all_to_all");
        if RULES.contains(&name) && o.value.is_none() && !is_flag {
            diags.push(
                Diagnostic::error("hebb::network::option_value", format!("`{name}` needs a value"))
                    .label(o.span, format!("write `{name} = ...`")),
            );
            return;
        }
        match name {
            "p" => {
                if let Some(e) = probability(o, types, diags) {
                    self.set_rule(ConnRule::Prob(e), o, diags);
                }
            }
            "indegree" | "outdegree" => self.degree(name, o, ends, diags),
            "one_to_one" | "all_to_all" => self.flag(name, o, ends, diags),
            "file" => self.file(o, types, diags),
            "autapses" => match o.value.as_ref().map(|v| &v.kind) {
                Some(ast::ExprKind::Bool(b)) => self.autapses = *b,
                None => self.autapses = true,
                Some(_) => diags.push(
                    Diagnostic::error("hebb::network::autapses", "`autapses` is `true` or `false`")
                        .label(o.span, "not a boolean"),
                ),
            },
            "delay" | "post_delay" => {
                if let Some(e) = delay_option(o, types, diags) {
                    if name == "delay" {
                        self.delay = Some(e);
                    } else {
                        self.post_delay = Some(e);
                    }
                }
            }
            _ => self.synapse_override(name, o, instance, types, diags),
        }
    }

    /// Rule: a connection has at most one connection rule.
    fn set_rule(&mut self, r: ConnRule, o: &ast::Opt, diags: &mut Vec<Diagnostic>) {
        if let Some((_, prev)) = &self.rule {
            diags.push(
                Diagnostic::error("hebb::network::connection_rule", "a connection has more than one rule")
                    .label(o.span, "second rule")
                    .label(*prev, "first rule")
                    .help("keep one of `p`, `indegree`, `outdegree`, `one_to_one`, `all_to_all` and `file`"),
            );
        } else {
            self.rule = Some((r, o.span));
        }
    }

    /// Rule: `indegree` (`outdegree`) is a positive integer, at most the
    /// number of presynaptic (postsynaptic) neurons.
    fn degree(&mut self, name: &str, o: &ast::Opt, ends: &Ends<'_>, diags: &mut Vec<Diagnostic>) {
        let Some(k) = o.value.as_ref().and_then(|v| positive_integer(v, &format!("`{name}`"), diags)) else {
            return;
        };
        let (pre, post) = (ends.pre, ends.post);
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
            self.set_rule(if name == "indegree" { ConnRule::InDegree(k) } else { ConnRule::OutDegree(k) }, o, diags);
        }
    }

    /// Rule: `one_to_one` and `all_to_all` take no value, and `one_to_one`
    /// connects populations of one size.
    fn flag(&mut self, name: &str, o: &ast::Opt, ends: &Ends<'_>, diags: &mut Vec<Diagnostic>) {
        let (pre, post) = (ends.pre, ends.post);
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
                .label(ends.pre_ref.span, format!("{} neurons", pre.end - pre.start))
                .label(ends.post_ref.span, format!("{} neurons", post.end - post.start)),
            );
            return;
        }
        self.set_rule(if name == "one_to_one" { ConnRule::OneToOne } else { ConnRule::AllToAll }, o, diags);
    }

    /// Rule: a connection `file` is a path in double quotes.
    fn file(&mut self, o: &ast::Opt, types: &Types<'_>, diags: &mut Vec<Diagnostic>) {
        match o.value.as_ref().and_then(string_value) {
            Some(path) => {
                let v = o.value.as_ref().map(|v| v.span).unwrap_or(o.span);
                self.set_rule(ConnRule::File { path: base_dir(types.sources, v).join(path), span: v }, o, diags);
            }
            None => diags.push(
                Diagnostic::error("hebb::network::file_option", "`file` must be a path in double quotes")
                    .label(o.span, "not a string")
                    .help("write `file = \"connections.csv\"`"),
            ),
        }
    }

    /// Rule: any other option of a connection names a param or state of its
    /// synapse, and overrides it.
    fn synapse_override(
        &mut self,
        name: &str,
        o: &ast::Opt,
        instance: &SynapseInstance,
        types: &Types<'_>,
        diags: &mut Vec<Diagnostic>,
    ) {
        let what = format!("synapse `{}`", instance.name);
        if instance.dynamics.param(name).is_none() && instance.dynamics.state(name).is_none() {
            let mut known: Vec<&str> = RULES.to_vec();
            known.extend(["autapses", "delay", "post_delay"]);
            known.extend(instance.dynamics.params.iter().map(|p| p.name.as_str()));
            known.extend(instance.dynamics.states.iter().map(|s| s.name.as_str()));
            unknown_option(o, name, &known, "a connection", diags);
            return;
        }
        if let Some(ov) = one_override(&instance.dynamics, &what, o, &[Builtin::I, Builtin::J], types.ctx, diags) {
            self.overrides.push(ov);
        }
    }
}

/// Rule: a connection has a connection rule. (A rule that was given but
/// rejected has been reported already.)
fn connection_rule(
    rule: Option<(ConnRule, Span)>,
    options: &[ast::Opt],
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Option<ConnRule> {
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
    Some(rule)
}

/// Rule: a `Static` connection has a weight `w`, in its options or (with a
/// connection file) in the file.
fn static_weight_given(
    instance: &SynapseInstance,
    rule: &ConnRule,
    overrides: &[Override],
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> bool {
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
        return false;
    }
    true
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
