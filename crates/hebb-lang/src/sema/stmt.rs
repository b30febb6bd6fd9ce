//! Statements of event blocks (`reset`, `on pre`, `on post`, `every`):
//! `if` and assignments, whose targets must be writable states.

use super::checker::DynamicsChecker;
use super::expr::{self, Checker, describe_ty};
use super::names::{did_you_mean, suggest};
use crate::diag::Diagnostic;
use crate::hir::*;
use crate::span::Span;
use crate::syntax::ast::{self, ItemKind};
use crate::units::Dim;

impl DynamicsChecker<'_> {
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
        match target.parts.as_slice() {
            [one] => self.own_target(&one.name, span, diags),
            [owner, var] => match owner.name.as_str() {
                "post" => self.side_target(true, var, span, diags),
                "pre" => {
                    self.pre_target(target, var, diags);
                    None
                }
                sig => self.signal_target(sig, var, target, diags),
            },
            _ => {
                self.check_as_name(target, diags);
                None
            }
        }
    }

    /// Checks an assignment target that is not writable as the name it is,
    /// so that it gets the diagnostics of reading it.
    fn check_as_name(&mut self, target: &ast::Path, diags: &mut Vec<Diagnostic>) {
        self.check(None, &ast::Expr { kind: ast::ExprKind::Name(target.clone()), span: target.span }, diags);
    }

    /// An assignment to a name of the item itself: one of its states.
    fn own_target(&self, name: &str, span: Span, diags: &mut Vec<Diagnostic>) -> Option<(VarRef, Ty)> {
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
                span,
                format!("`{name}`, which is a `let`"),
                Some("a `let` is a named expression; assign to a `state`".into()),
                diags,
            );
            return None;
        }
        if super::names::RESERVED.contains(&name) {
            read_only(span, format!("the built-in `{name}`"), None, diags);
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

    /// An assignment to `pre.x`, which is never writable: read-only in a
    /// synapse, and reported as a read would be elsewhere.
    fn pre_target(&mut self, target: &ast::Path, var: &ast::Ident, diags: &mut Vec<Diagnostic>) {
        if self.kind == ItemKind::Synapse {
            read_only(
                target.span,
                format!("`pre.{}`", var.name),
                Some("synapses write only postsynaptic variables (`post.x`) and their own states".into()),
                diags,
            );
        } else {
            self.check_as_name(target, diags);
        }
    }

    /// An assignment to `signal.x`: a state of a signal.
    fn signal_target(
        &mut self,
        sig: &str,
        var: &ast::Ident,
        target: &ast::Path,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<(VarRef, Ty)> {
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
                    .label(target.span, "params are constant"),
                );
                return None;
            }
        }
        self.check_as_name(target, diags);
        None
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
}

/// Reports an assignment to a variable that can only be read.
fn read_only(span: Span, what: String, help: Option<String>, diags: &mut Vec<Diagnostic>) {
    diags.push(
        Diagnostic::error("hebb::assign::read_only", format!("cannot assign to {what}"))
            .label(span, "read-only")
            .with_help(help),
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
