//! Neurons, synapses and signals: params, states, lets, ODEs, thresholds,
//! resets, refractoriness, event blocks and `every` blocks.

use super::expr::{self, Checker, Scope, Side, describe_ty, example_unit, expect_dim};
use super::names::{check_declarable, check_unique, did_you_mean, suggest};
use crate::diag::Diagnostic;
use crate::hir::*;
use crate::span::Span;
use crate::syntax::ast::{self, ItemDef, ItemKind, Member};
use crate::units::Dim;

/// Which members an item kind may have.
fn member_allowed(kind: ItemKind, m: &Member) -> bool {
    use Member as M;
    match kind {
        ItemKind::Neuron => matches!(
            m,
            M::Param { .. }
                | M::State { .. }
                | M::Let { .. }
                | M::Ode { .. }
                | M::SpikeWhen { .. }
                | M::Reset { .. }
                | M::Refractory { .. }
                | M::Method { .. }
                | M::Every { .. }
                | M::Error { .. }
        ),
        ItemKind::Synapse => matches!(
            m,
            M::Param { .. }
                | M::State { .. }
                | M::Let { .. }
                | M::Ode { .. }
                | M::OnPre { .. }
                | M::OnPost { .. }
                | M::Method { .. }
                | M::Every { .. }
                | M::Error { .. }
        ),
        ItemKind::Signal => {
            matches!(
                m,
                M::Param { .. }
                    | M::State { .. }
                    | M::Let { .. }
                    | M::Ode { .. }
                    | M::Method { .. }
                    | M::Every { .. }
                    | M::Error { .. }
            )
        }
        ItemKind::Network => matches!(m, M::Population { .. } | M::Connect { .. } | M::Record { .. } | M::Error { .. }),
        ItemKind::Experiment => matches!(
            m,
            M::Assign { .. }
                | M::Stimuli { .. }
                | M::Phase { .. }
                | M::Measure { .. }
                | M::Variant { .. }
                | M::Abort { .. }
                | M::Error { .. }
        ),
    }
}

/// Rule: each item kind admits only its own members (a `population` belongs
/// in a `network`, `spike when` in a `neuron`, ...).
pub fn check_members_allowed(def: &ItemDef, diags: &mut Vec<Diagnostic>) {
    for m in &def.members {
        // `param = 1` parses as an assignment to a variable named `param`.
        if let Member::Assign { target, .. } = m
            && let [kw] = target.parts.as_slice()
            && matches!(kw.name.as_str(), "param" | "state" | "let")
        {
            diags.push(
                Diagnostic::error("hebb::syntax", format!("expected a name after `{}`", kw.name))
                    .label(kw.span, "a name must follow this keyword")
                    .help(format!("write `{} name = value`", kw.name)),
            );
            continue;
        }
        if !member_allowed(def.kind, m) {
            let home = match m {
                Member::SpikeWhen { .. } | Member::Reset { .. } | Member::Refractory { .. } => "a `neuron`",
                Member::OnPre { .. } | Member::OnPost { .. } => "a `synapse`",
                Member::Param { .. }
                | Member::State { .. }
                | Member::Let { .. }
                | Member::Ode { .. }
                | Member::Method { .. } => "a `neuron`, `synapse` or `signal`",
                Member::Every { .. } => "a `neuron`, `synapse` or `signal`",
                Member::Population { .. } | Member::Connect { .. } | Member::Record { .. } => "a `network`",
                Member::Assign { .. } if def.kind != ItemKind::Experiment => "an event block such as `reset { ... }`",
                Member::Stimuli { .. }
                | Member::Phase { .. }
                | Member::Measure { .. }
                | Member::Variant { .. }
                | Member::Abort { .. } => "an `experiment`",
                Member::PlasticityOff { .. } | Member::Present { .. } | Member::Set { .. } => "a `phase`",
                _ => "another kind of item",
            };
            let article = if def.kind == ItemKind::Experiment { "an" } else { "a" };
            diags.push(
                Diagnostic::error(
                    "hebb::member::not_allowed",
                    format!("{} is not allowed in {article} `{}`", m.describe(), def.kind.keyword()),
                )
                .label(m.span(), "not allowed here")
                .help(format!("this belongs in {home}")),
            );
        }
    }
}

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

/// Checks params, states and lets of an item: the parts every dynamic item
/// shares. `pre` and `post` are only given for synapses.
pub struct DynamicsChecker<'a> {
    pub kind: ItemKind,
    pub what: String,
    pub dynamics: Dynamics,
    pub lets: Vec<(String, Expr)>,
    pub ctx: &'a Ctx<'a>,
    pub pre: Option<(String, Option<Dynamics>)>,
    pub post: Option<(String, Option<Dynamics>)>,
    /// True while checking a synapse type with no projection bound.
    pub wildcard_sides: bool,
    declared: Vec<(String, Span)>,
}

impl<'a> DynamicsChecker<'a> {
    pub fn new(kind: ItemKind, what: String, ctx: &'a Ctx<'a>) -> Self {
        DynamicsChecker {
            kind,
            what,
            dynamics: Dynamics::default(),
            lets: Vec::new(),
            ctx,
            pre: None,
            post: None,
            wildcard_sides: false,
            declared: Vec::new(),
        }
    }

    fn builtins(&self) -> &'static [Builtin] {
        match self.kind {
            ItemKind::Neuron => &[Builtin::T, Builtin::Dt, Builtin::I, Builtin::N, Builtin::LastSpike],
            ItemKind::Synapse => &[Builtin::T, Builtin::Dt, Builtin::I, Builtin::J],
            _ => &[Builtin::T, Builtin::Dt],
        }
    }

    /// A scope over what has been declared so far.
    pub fn scope(
        &self,
        builtins: &'static [Builtin],
        allow_dist: bool,
        allow_rand: bool,
        allow_reduce: bool,
    ) -> Scope<'_> {
        Scope {
            what: self.what.clone(),
            own: Some(&self.dynamics),
            lets: &self.lets,
            pre: side_of(&self.pre),
            post: side_of(&self.post),
            signals: self.ctx.signals,
            builtins,
            allow_dist,
            allow_rand,
            allow_reduce,
        }
    }

    pub fn check(
        &mut self,
        scope_builtins: Option<&'static [Builtin]>,
        e: &ast::Expr,
        diags: &mut Vec<Diagnostic>,
    ) -> Expr {
        let builtins = scope_builtins.unwrap_or_else(|| self.builtins());
        let scope = self.scope(builtins, false, true, false);
        expr::check(&scope, e, diags)
    }

    fn declare(&mut self, what: &str, name: &ast::Ident, diags: &mut Vec<Diagnostic>) -> bool {
        if !check_declarable(name, diags) {
            return false;
        }
        let prev = self.declared.iter().find(|(n, _)| *n == name.name).map(|(_, s)| *s);
        if !check_unique(what, name, prev, diags) {
            return false;
        }
        self.declared.push((name.name.clone(), name.span));
        true
    }

    /// Declares the params, states and lets of the item, in that order
    /// (params may use earlier params; states' initial values params and
    /// earlier states; lets anything declared).
    pub fn declarations(&mut self, def: &ItemDef, diags: &mut Vec<Diagnostic>) {
        for m in &def.members {
            match m {
                Member::Param { name, unit, value, span } => self.param(name, unit.as_ref(), value, *span, diags),
                // A line that failed to parse still declares its name, with an
                // unknown type, so its uses are not reported again.
                Member::Error { declares: Some(name), span } if self.declare("the name", name, &mut Vec::new()) => {
                    let value = Expr::error(*span);
                    self.dynamics.params.push(Param { name: name.name.clone(), ty: Ty::Unknown, value, span: *span });
                }
                _ => {}
            }
        }
        for m in &def.members {
            if let Member::State { name, unit, init, span } = m {
                self.state(name, unit.as_ref(), init.as_ref(), *span, diags);
            }
        }
        for m in &def.members {
            if let Member::Let { name, value, .. } = m
                && self.declare("the name", name, diags)
            {
                let e = self.check(None, value, diags);
                self.lets.push((name.name.clone(), e));
            }
        }
    }

    /// Rule: a param's value is a constant: numbers, units and earlier
    /// params only.
    fn param(
        &mut self,
        name: &ast::Ident,
        unit: Option<&ast::UnitExpr>,
        value: &ast::Expr,
        span: Span,
        diags: &mut Vec<Diagnostic>,
    ) {
        if !self.declare("the name", name, diags) {
            return;
        }
        let scope = Scope { lets: &[], pre: None, post: None, ..self.scope(&[], false, false, false) };
        let scope = Scope { what: format!("the params of {}", self.what), ..scope };
        let mut e = expr::check(&scope, value, diags);
        if e.is_varying() && e.ty != Ty::Unknown {
            diags.push(
                Diagnostic::error("hebb::param::not_constant", format!("param `{}` must be a constant", name.name))
                    .label(e.span, "this can change during the run")
                    .help("use a `state` for values that change"),
            );
            e = Expr::error(e.span);
        }
        let ty = declared_ty(&name.name, unit, &e, diags);
        self.dynamics.params.push(Param { name: name.name.clone(), ty, value: e, span });
    }

    /// Rule: a state's dimension comes from its declared unit or its initial
    /// value, and the two agree when both are given.
    fn state(
        &mut self,
        name: &ast::Ident,
        unit: Option<&ast::UnitExpr>,
        init: Option<&ast::Expr>,
        span: Span,
        diags: &mut Vec<Diagnostic>,
    ) {
        if !self.declare("the name", name, diags) {
            return;
        }
        let builtins: &'static [Builtin] = match self.kind {
            ItemKind::Neuron => &[Builtin::I, Builtin::N],
            ItemKind::Synapse => &[Builtin::I, Builtin::J],
            _ => &[],
        };
        let e = match init {
            Some(init) => {
                let scope = Scope { lets: &[], pre: None, post: None, ..self.scope(builtins, true, true, false) };
                let scope = Scope { what: format!("the initial values of {}", self.what), ..scope };
                expr::check(&scope, init, diags)
            }
            None => match unit {
                Some(u) => match expr::check_unit(u, diags) {
                    Some((_, dim)) => Expr::constant(0.0, dim, u.span),
                    None => Expr::error(u.span),
                },
                None => {
                    diags.push(
                        Diagnostic::error(
                            "hebb::state::no_type",
                            format!("state `{}` has neither a unit nor an initial value", name.name),
                        )
                        .label(name.span, "its dimension cannot be known")
                        .help(format!("write `state {} : mV = 0 mV` (or the unit it has)", name.name)),
                    );
                    Expr::error(name.span)
                }
            },
        };
        if e.ty == Ty::Bool {
            diags.push(
                Diagnostic::error(
                    "hebb::types::bool_state",
                    format!("state `{}` is initialised with a condition", name.name),
                )
                .label(e.span, "states hold numbers"),
            );
        }
        let ty = declared_ty(&name.name, unit, &e, diags);
        self.dynamics.states.push(State { name: name.name.clone(), ty, init: e, span });
    }

    /// ODEs of the item. Rules: the variable is a state of this item, it has
    /// at most one ODE, and `[rhs] = [x]/time`.
    pub fn odes(&mut self, def: &ItemDef, diags: &mut Vec<Diagnostic>) {
        for m in &def.members {
            let Member::Ode { var, rhs, unless_refractory, continuous, span } = m else { continue };
            let Some(k) = self.dynamics.state(&var.name) else {
                let (code, msg, help) = if self.dynamics.param(&var.name).is_some() {
                    (
                        "hebb::ode::not_state",
                        format!("`{}` is a param, so it cannot have a differential equation", var.name),
                        Some(format!("declare it as `state {}` instead", var.name)),
                    )
                } else if self.lets.iter().any(|(n, _)| *n == var.name) {
                    (
                        "hebb::ode::not_state",
                        format!("`{}` is a `let`, so it cannot have a differential equation", var.name),
                        None,
                    )
                } else {
                    let cands = self.dynamics.states.iter().map(|s| s.name.as_str());
                    let help = did_you_mean(suggest(&var.name, cands))
                        .or_else(|| Some(format!("declare it first: `state {} = ...`", var.name)));
                    (
                        "hebb::ode::not_state",
                        format!("differential equation for `{}`, which is not a state", var.name),
                        help,
                    )
                };
                diags.push(Diagnostic::error(code, msg).label(var.span, "not a state of this item").with_help(help));
                continue;
            };
            let rhs_e = self.check(None, rhs, diags);
            if let Some(prev) = self.dynamics.ode_of(k) {
                diags.push(
                    Diagnostic::error("hebb::ode::duplicate", format!("`{}` has two differential equations", var.name))
                        .label(*span, "second equation")
                        .label(prev.span, "first equation")
                        .help("combine them into one right-hand side"),
                );
                continue;
            }
            let x_ty = self.dynamics.states[k].ty;
            check_ode_dim(&var.name, x_ty, &rhs_e, diags);
            if *continuous && self.kind != ItemKind::Synapse {
                diags.push(
                    Diagnostic::warning("hebb::ode::continuous_here", "`continuous` only has a meaning in synapses")
                        .label(*span, "every equation of a neuron or signal is integrated every step"),
                );
            }
            self.dynamics.odes.push(Ode {
                state: k as u32,
                rhs: rhs_e,
                unless_refractory: *unless_refractory,
                continuous: *continuous || self.kind != ItemKind::Synapse,
                span: *span,
            });
        }
    }

    /// Rule: the integration method is one of `auto exact exponential_euler
    /// euler rk2 rk4`, given at most once.
    pub fn method(&mut self, def: &ItemDef, diags: &mut Vec<Diagnostic>) {
        for m in &def.members {
            let Member::Method { name, span } = m else { continue };
            if let Some((_, prev)) = self.dynamics.method {
                diags.push(
                    Diagnostic::error("hebb::member::duplicate", "the integration method is given twice")
                        .label(*span, "second")
                        .label(prev, "first"),
                );
                continue;
            }
            match Method::ALL.iter().find(|mm| mm.name() == name.name) {
                Some(mm) => self.dynamics.method = Some((*mm, *span)),
                None => {
                    let names = Method::ALL.iter().map(|m| m.name());
                    let help = match suggest(&name.name, names) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => {
                            "the methods are `auto`, `exact`, `exponential_euler`, `euler`, `rk2` and `rk4`".to_string()
                        }
                    };
                    diags.push(
                        Diagnostic::error(
                            "hebb::method::unknown",
                            format!("unknown integration method `{}`", name.name),
                        )
                        .label(name.span, "not a method")
                        .help(help),
                    );
                }
            }
        }
    }

    /// Statements of an event block.
    pub fn stmts(&mut self, body: &[ast::Stmt], allow_reduce: bool, diags: &mut Vec<Diagnostic>) -> Vec<Stmt> {
        let builtins = self.builtins();
        let mut out = Vec::new();
        for s in body {
            if let Some(st) = self.stmt(s, builtins, allow_reduce, diags) {
                out.push(st);
            }
        }
        out
    }

    fn stmt(
        &mut self,
        s: &ast::Stmt,
        builtins: &'static [Builtin],
        allow_reduce: bool,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Stmt> {
        match s {
            ast::Stmt::Error(_) => None,
            ast::Stmt::If { cond, then_body, else_body, span } => {
                let scope = self.scope(builtins, false, true, allow_reduce);
                let mut c = Checker { scope: &scope, diags };
                let cond_e = c.expr(cond);
                c.want_bool(&cond_e, "the condition of `if`");
                let then_body = self.stmts(then_body, allow_reduce, diags);
                let else_body = else_body.as_ref().map(|b| self.stmts(b, allow_reduce, diags)).unwrap_or_default();
                Some(Stmt::If { cond: cond_e, then_body, else_body, span: *span })
            }
            ast::Stmt::Assign { target, op, value, span } => {
                let scope = self.scope(builtins, false, true, allow_reduce);
                let value_e = expr::check(&scope, value, diags);
                let (var, ty) = self.assign_target(target, diags)?;
                check_assign_dim(target, *op, ty, &value_e, value, diags);
                Some(Stmt::Assign { target: var, op: *op, value: value_e, span: *span })
            }
        }
    }

    /// Rule: only states can be assigned: an own state, `post.x` in a
    /// synapse, or `signal.x`. Params, lets, built-ins and `pre.x` are
    /// read-only.
    fn assign_target(&mut self, target: &ast::Path, diags: &mut Vec<Diagnostic>) -> Option<(VarRef, Ty)> {
        let span = target.span;
        let read_only = |what: String, help: Option<String>, diags: &mut Vec<Diagnostic>| {
            diags.push(
                Diagnostic::error("hebb::assign::read_only", format!("cannot assign to {what}"))
                    .label(span, "read-only")
                    .with_help(help),
            );
        };
        match target.parts.as_slice() {
            [one] => {
                let name = one.name.as_str();
                if let Some(k) = self.dynamics.state(name) {
                    return Some((
                        VarRef { owner: Owner::Own, kind: VarKind::State, index: k as u32 },
                        self.dynamics.states[k].ty,
                    ));
                }
                if self.dynamics.param(name).is_some() {
                    diags.push(
                        Diagnostic::error("hebb::assign::param", format!("cannot assign to the param `{name}`"))
                            .label(span, "params are constant")
                            .help(format!("declare `{name}` as a `state` if it must change")),
                    );
                    return None;
                }
                if self.lets.iter().any(|(n, _)| n == name) {
                    read_only(
                        format!("`{name}`, which is a `let`"),
                        Some("a `let` is a named expression; assign to a `state`".into()),
                        diags,
                    );
                    return None;
                }
                if super::names::RESERVED.contains(&name) {
                    read_only(format!("the built-in `{name}`"), None, diags);
                    return None;
                }
                let cands = self.dynamics.states.iter().map(|s| s.name.as_str());
                diags.push(
                    Diagnostic::error("hebb::names::unknown", format!("unknown name `{name}`"))
                        .label(span, format!("not a state of {}", self.what))
                        .with_help(did_you_mean(suggest(name, cands))),
                );
                None
            }
            [owner, var] => match owner.name.as_str() {
                "post" => self.side_target(true, var, span, diags),
                "pre" => {
                    if self.kind == ItemKind::Synapse {
                        read_only(
                            format!("`pre.{}`", var.name),
                            Some("synapses write only postsynaptic variables (`post.x`) and their own states".into()),
                            diags,
                        );
                    } else {
                        self.check(None, &ast::Expr { kind: ast::ExprKind::Name(target.clone()), span }, diags);
                    }
                    None
                }
                sig => {
                    if let Some(k) = self.ctx.signals.iter().position(|s| s.name == sig) {
                        let d = &self.ctx.signals[k].dynamics;
                        if let Some(si) = d.state(&var.name) {
                            return Some((
                                VarRef { owner: Owner::Signal(k as u32), kind: VarKind::State, index: si as u32 },
                                d.states[si].ty,
                            ));
                        }
                        if d.param(&var.name).is_some() {
                            diags.push(
                                Diagnostic::error(
                                    "hebb::assign::param",
                                    format!("cannot assign to the param `{sig}.{}`", var.name),
                                )
                                .label(span, "params are constant"),
                            );
                            return None;
                        }
                    }
                    self.check(None, &ast::Expr { kind: ast::ExprKind::Name(target.clone()), span }, diags);
                    None
                }
            },
            _ => {
                self.check(None, &ast::Expr { kind: ast::ExprKind::Name(target.clone()), span }, diags);
                None
            }
        }
    }

    fn side_target(
        &mut self,
        post: bool,
        var: &ast::Ident,
        span: Span,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<(VarRef, Ty)> {
        if self.kind != ItemKind::Synapse {
            diags.push(
                Diagnostic::error("hebb::names::pre_post_outside_synapse", "`post.` can only be used inside a synapse")
                    .label(span, format!("{} has no postsynaptic neuron", self.what)),
            );
            return None;
        }
        if self.wildcard_sides {
            return Some((VarRef { owner: Owner::Post, kind: VarKind::State, index: u32::MAX }, Ty::Unknown));
        }
        let (what, d) = if post { self.post.as_ref()? } else { self.pre.as_ref()? };
        let Some(d) = d else {
            diags.push(
                Diagnostic::error(
                    "hebb::names::source_variable",
                    format!("`post.{}` writes a variable of {what}, which has none", var.name),
                )
                .label(span, "sources have no state variables"),
            );
            return None;
        };
        if let Some(k) = d.state(&var.name) {
            return Some((VarRef { owner: Owner::Post, kind: VarKind::State, index: k as u32 }, d.states[k].ty));
        }
        if d.param(&var.name).is_some() {
            diags.push(
                Diagnostic::error("hebb::assign::param", format!("cannot assign to the param `post.{}`", var.name))
                    .label(span, "params are constant"),
            );
            return None;
        }
        let cands = d.states.iter().map(|s| s.name.as_str());
        diags.push(
            Diagnostic::error("hebb::names::unknown", format!("{what} has no state `{}`", var.name))
                .label(var.span, "unknown variable")
                .with_help(did_you_mean(suggest(&var.name, cands))),
        );
        None
    }

    /// `every D { ... }` blocks. Rule: the period is a positive constant time.
    pub fn every_blocks(&mut self, def: &ItemDef, diags: &mut Vec<Diagnostic>) {
        for m in &def.members {
            let Member::Every { period, body, span } = m else { continue };
            let p = self.check(Some(&[]), period, diags);
            let period_s = if expect_dim(&p, Dim::TIME, "the period of `every`", diags, false) {
                match crate::hir::const_eval(&p, &param_values(&self.dynamics)) {
                    Some(v) if v > 0.0 && v.is_finite() => Some(v),
                    _ => {
                        diags.push(
                            Diagnostic::error(
                                "hebb::every::period",
                                "the period of `every` must be a positive constant time",
                            )
                            .label(p.span, "not a positive constant"),
                        );
                        None
                    }
                }
            } else {
                None
            };
            let reduce = self.kind == ItemKind::Synapse;
            let body = self.stmts(body, reduce, diags);
            if let Some(period) = period_s {
                self.dynamics.every.push(Every { period, body, span: *span });
            }
        }
    }
}

fn side_of(s: &Option<(String, Option<Dynamics>)>) -> Option<Side<'_>> {
    s.as_ref().map(|(what, d)| Side { what: what.as_str(), dynamics: d.as_ref() })
}

/// The default values of params, evaluated in order (non-constant ones NaN).
pub fn param_values(d: &Dynamics) -> Vec<f64> {
    let mut vals = Vec::new();
    for p in &d.params {
        let v = crate::hir::const_eval(&p.value, &vals).unwrap_or(f64::NAN);
        vals.push(v);
    }
    vals
}

/// The type of a declaration: the declared unit when given (and checked
/// against the value), else the value's type.
fn declared_ty(name: &str, unit: Option<&ast::UnitExpr>, value: &Expr, diags: &mut Vec<Diagnostic>) -> Ty {
    let Some(unit) = unit else { return value.ty };
    let Some((_, dim)) = expr::check_unit(unit, diags) else { return Ty::Unknown };
    if let Ty::Num(vd) = value.ty {
        let zero = matches!(value.kind, ExprKind::Const(v) if v == 0.0);
        if vd != dim && !zero {
            diags.push(
                Diagnostic::error(
                    "hebb::units::declared",
                    format!("`{name}` is declared in `{dim}` but its value has dimension `{vd}`"),
                )
                .label(unit.span, format!("declared as `{dim}`"))
                .label(value.span, format!("this has dimension {}", describe_ty(value.ty)))
                .with_help(Some(format!("write the value with a unit of `{dim}`, e.g. `{}`", example_unit(dim)))),
            );
        }
    }
    Ty::Num(dim)
}

/// Rule: an ODE `dx/dt = e` needs `[e] = [x]/time`; when `[e] = [x]`, the
/// help suggests dividing by a time constant.
pub fn check_ode_dim(var: &str, x_ty: Ty, rhs: &Expr, diags: &mut Vec<Diagnostic>) {
    let (Ty::Num(xd), Ty::Num(rd)) = (x_ty, rhs.ty) else {
        if rhs.ty == Ty::Bool {
            diags.push(
                Diagnostic::error(
                    "hebb::types::bool_as_number",
                    format!("the right-hand side of `d{var}/dt` is a condition"),
                )
                .label(rhs.span, "this is true or false"),
            );
        }
        return;
    };
    let want = xd.div(Dim::TIME);
    if rd == want {
        return;
    }
    let help = if rd == xd {
        format!("divide by a time constant, as in `d{var}/dt = (...) / tau`")
    } else if rd == want.div(Dim::TIME) {
        "the right-hand side has one time too few: multiply by a time constant".to_string()
    } else {
        format!("`{var}` has dimension `{xd}`, so its derivative must have dimension `{want}`")
    };
    diags.push(
        Diagnostic::error(
            "hebb::units::ode",
            format!("the right-hand side of `d{var}/dt` has dimension `{rd}`, but it must be `{want}`"),
        )
        .label(rhs.span, format!("this has dimension {}", describe_ty(rhs.ty)))
        .help(help),
    );
}

/// Rule: `x = e`, `x += e` and `x -= e` need `[e] = [x]`; `*=` and `/=` need
/// a dimensionless `e`.
fn check_assign_dim(
    target: &ast::Path,
    op: AssignOp,
    ty: Ty,
    value: &Expr,
    value_ast: &ast::Expr,
    diags: &mut Vec<Diagnostic>,
) {
    let (Ty::Num(td), Ty::Num(vd)) = (ty, value.ty) else {
        if value.ty == Ty::Bool {
            diags.push(
                Diagnostic::error(
                    "hebb::types::bool_as_number",
                    format!("`{}` is assigned a condition", target.dotted()),
                )
                .label(value.span, "this is true or false")
                .help("use `step(x)` for 1 if x > 0 else 0"),
            );
        }
        return;
    };
    let bare_zero = matches!(value_ast.kind, ast::ExprKind::Number(v) if v == 0.0);
    let want = match op {
        AssignOp::Mul | AssignOp::Div => Dim::ONE,
        _ => td,
    };
    if vd == want || bare_zero {
        return;
    }
    let message = if matches!(op, AssignOp::Mul | AssignOp::Div) {
        format!("`{}` needs a dimensionless factor, but this has dimension `{vd}`", op.symbol())
    } else {
        format!(
            "`{}` has dimension `{td}` but `{}` assigns a value with dimension `{vd}`",
            target.dotted(),
            op.symbol()
        )
    };
    let mut d = Diagnostic::error("hebb::units::assign", message)
        .label(target.span, format!("dimension {}", describe_ty(ty)))
        .label(value.span, format!("dimension {}", describe_ty(value.ty)));
    if matches!(op, AssignOp::Mul | AssignOp::Div) {
        d = d.help(format!("`{}` scales `{}` by a plain number; remove the unit", op.symbol(), target.dotted()));
    } else {
        d = d.with_help(expr::mismatch_help(td, vd));
    }
    diags.push(d);
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
