//! The checker every neuron, synapse and signal shares: params, states,
//! lets, ODEs, the integration method and `every` blocks. (Event blocks are
//! checked by the same checker, in `stmt`.)

use super::dynamics::Ctx;
use super::expr::{self, Scope, Side, describe_ty, example_unit, expect_dim};
use super::names::{check_declarable, check_unique, did_you_mean, suggest};
use crate::diag::Diagnostic;
use crate::hir::*;
use crate::span::Span;
use crate::syntax::ast::{self, ItemDef, ItemKind, Member};
use crate::units::Dim;

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

    pub(super) fn builtins(&self) -> &'static [Builtin] {
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
            let Member::Ode { var, rhs, unless_refractory, continuous, plastic, span } = m else { continue };
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
            self.plastic_in_synapse(*plastic, *span, diags);
            self.dynamics.odes.push(Ode {
                state: k as u32,
                rhs: rhs_e,
                unless_refractory: *unless_refractory,
                continuous: *continuous || self.kind != ItemKind::Synapse,
                plastic: *plastic && self.kind != ItemKind::Synapse,
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

    /// `every D { ... }` blocks. Rule: the period is a positive constant time.
    pub fn every_blocks(&mut self, def: &ItemDef, diags: &mut Vec<Diagnostic>) {
        for m in &def.members {
            let Member::Every { period, body, plastic, span } = m else { continue };
            self.plastic_in_synapse(*plastic, *span, diags);
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
                let plastic = *plastic && self.kind != ItemKind::Synapse;
                self.dynamics.every.push(Every { period, body, plastic, span: *span });
            }
        }
    }

    /// Rule: `plastic` marks neuron and signal equations and `every`
    /// blocks; a synapse's state is all plastic already (a warning).
    fn plastic_in_synapse(&self, plastic: bool, span: Span, diags: &mut Vec<Diagnostic>) {
        if plastic && self.kind == ItemKind::Synapse {
            diags.push(
                Diagnostic::warning("hebb::plastic::synapse", "`plastic` has no meaning in a synapse")
                    .label(span, "every synaptic state is frozen by `plasticity off` already")
                    .help("`plastic` marks the neuron and signal equations that `plasticity off all` stops"),
            );
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
    let want = xd / Dim::TIME;
    if rd == want {
        return;
    }
    let help = if rd == xd {
        format!("divide by a time constant, as in `d{var}/dt = (...) / tau`")
    } else if rd == want / Dim::TIME {
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
