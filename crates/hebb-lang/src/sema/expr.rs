//! Expressions: name resolution and dimension inference, one rule per
//! function. Every expression gets a type; after an error the type is
//! `Unknown`, which is compatible with everything so errors do not cascade.

use super::names::{did_you_mean, suggest};
use crate::diag::Diagnostic;
use crate::hir::*;
use crate::span::Span;
use crate::syntax::ast;
use crate::units::{self, Dim, Ratio};

/// One side of a synapse: the pre or post neuron type of a projection.
#[derive(Clone, Copy)]
pub struct Side<'a> {
    /// Shown in messages: "population `exc` (neuron `LIF`)".
    pub what: &'a str,
    /// `None` when the side is a source (poisson, spike_times), which has no
    /// variables.
    pub dynamics: Option<&'a Dynamics>,
}

/// What names mean where an expression is checked.
pub struct Scope<'a> {
    /// Shown in messages: "neuron `LIF`".
    pub what: String,
    pub own: Option<&'a Dynamics>,
    pub lets: &'a [(String, Expr)],
    pub pre: Option<Side<'a>>,
    pub post: Option<Side<'a>>,
    pub signals: &'a [SignalType],
    pub builtins: &'a [Builtin],
    pub allow_dist: bool,
    pub allow_rand: bool,
    pub allow_reduce: bool,
}

impl<'a> Scope<'a> {
    /// A scope where only constants, units and the given builtins exist.
    pub fn constant(what: impl Into<String>, builtins: &'a [Builtin]) -> Scope<'a> {
        Scope {
            what: what.into(),
            own: None,
            lets: &[],
            pre: None,
            post: None,
            signals: &[],
            builtins,
            allow_dist: false,
            allow_rand: false,
            allow_reduce: false,
        }
    }
}

fn ty_text(ty: Ty) -> String {
    match ty {
        Ty::Num(d) => match d.quantity_name() {
            Some(name) if !d.is_dimensionless() => format!("`{d}` ({name})"),
            _ => format!("`{d}`"),
        },
        Ty::Bool => "a boolean".to_string(),
        Ty::Unknown => "unknown".to_string(),
    }
}

pub fn describe_ty(ty: Ty) -> String {
    ty_text(ty)
}

/// Whether an AST expression is the plain literal `0`, which is compatible
/// with every dimension (`clip(g, 0, g_max)` with `g` in nS).
fn is_bare_zero(e: &ast::Expr) -> bool {
    matches!(e.kind, ast::ExprKind::Number(v) if v == 0.0)
}

/// The unit of a quantity literal or declaration as (SI scale, dimension).
/// Rule: every unit symbol must be one of LANGUAGE.md section 2.
pub fn check_unit(unit: &ast::UnitExpr, diags: &mut Vec<Diagnostic>) -> Option<(f64, Dim)> {
    let mut scale = 1.0;
    let mut dim = Dim::ONE;
    let mut ok = true;
    for f in &unit.factors {
        let power = if f.divide { -f.power } else { f.power };
        let Some(sym) = &f.symbol else { continue };
        if f.power.abs() > 16 {
            diags.push(
                Diagnostic::error(
                    "hebb::units::power",
                    format!("the power {} of `{}` is out of range", f.power, sym.name),
                )
                .label(sym.span, "powers of units are between -16 and 16"),
            );
            ok = false;
            continue;
        }
        match units::lookup(&sym.name) {
            Some(u) => {
                scale *= u.scale.powi(power);
                dim = dim * u.dim.powi(power);
            }
            None => {
                let symbols = units::UNITS.iter().map(|u| u.symbol);
                let help = match suggest(&sym.name, symbols).or_else(|| brian2_unit(&sym.name).map(str::to_string)) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None if sym.name == "pi" => "write `* pi` to multiply by pi".to_string(),
                    None => format!(
                        "known units are {}",
                        units::UNITS.iter().map(|u| format!("`{}`", u.symbol)).collect::<Vec<_>>().join(" ")
                    ),
                };
                diags.push(
                    Diagnostic::error("hebb::units::unknown_unit", format!("unknown unit `{}`", sym.name))
                        .label(sym.span, "not a unit of the language")
                        .help(help),
                );
                ok = false;
            }
        }
    }
    ok.then_some((scale, dim))
}

/// Brian2's long unit names, so that a Brian2 user gets the short symbol.
fn brian2_unit(name: &str) -> Option<&'static str> {
    const PREFIXES: [(&str, &str); 6] =
        [("k", "kilo"), ("m", "milli"), ("u", "micro"), ("n", "nano"), ("p", "pico"), ("M", "mega")];
    const BASES: [(&str, &str); 7] = [
        ("V", "volt"),
        ("s", "second"),
        ("A", "amp"),
        ("S", "siemens"),
        ("F", "farad"),
        ("Hz", "hertz"),
        ("ohm", "ohm"),
    ];
    let lower = name.to_ascii_lowercase();
    let lower = lower.strip_suffix('s').filter(|_| !lower.ends_with("siemens")).unwrap_or(&lower);
    for (bsym, bname) in BASES {
        if lower == bname {
            return units::UNITS.iter().find(|u| u.symbol == bsym).map(|u| u.symbol);
        }
        for (psym, pname) in PREFIXES {
            let short = format!("{}{}", psym.to_ascii_lowercase(), bname);
            if lower == format!("{pname}{bname}") || lower == short || lower == format!("{}{}", psym, bname) {
                let want = format!("{psym}{bsym}");
                return units::UNITS.iter().find(|u| u.symbol == want).map(|u| u.symbol);
            }
        }
    }
    None
}

pub struct Checker<'s, 'a> {
    pub scope: &'s Scope<'a>,
    pub diags: &'s mut Vec<Diagnostic>,
}

impl Checker<'_, '_> {
    fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    pub fn expr(&mut self, e: &ast::Expr) -> Expr {
        let span = e.span;
        match &e.kind {
            ast::ExprKind::Number(v) => self.number(*v, Dim::ONE, span),
            ast::ExprKind::Error => Expr::error(span),
            ast::ExprKind::Quantity(v, unit) => match check_unit(unit, self.diags) {
                Some((scale, dim)) => self.number(v * scale, dim, span),
                None => Expr::error(span),
            },
            ast::ExprKind::Bool(b) => Expr { kind: ExprKind::Bool(*b), ty: Ty::Bool, span },
            ast::ExprKind::Str(_) => {
                self.err(
                    Diagnostic::error("hebb::types::string", "a string is not allowed here")
                        .label(span, "strings are only file paths, as in `file = \"in.csv\"`"),
                );
                Expr::error(span)
            }
            ast::ExprKind::List(_) => {
                self.err(
                    Diagnostic::error("hebb::types::list", "a list is not allowed here")
                        .label(span, "lists are only spike times, as in `times = [10 ms, 20 ms]`"),
                );
                Expr::error(span)
            }
            ast::ExprKind::Name(path) => self.name(path),
            ast::ExprKind::Call(name, args) => self.call(name, args, span),
            ast::ExprKind::Unary(op, a) => self.unary(*op, a, span),
            ast::ExprKind::Binary(op, a, b) => self.binary(*op, a, b, span),
        }
    }

    /// Rule: numeric literals must be finite (`1e999` is not a number).
    fn number(&mut self, value: f64, dim: Dim, span: Span) -> Expr {
        if !value.is_finite() {
            self.err(
                Diagnostic::error("hebb::literal::not_finite", "this number is too large to represent")
                    .label(span, "not a finite 64-bit float"),
            );
            return Expr::error(span);
        }
        Expr::constant(value, dim, span)
    }

    /// Resolves a plain or dotted name. Rule: every name must be declared in
    /// the enclosing item, be a built-in allowed here, a unit symbol, `pi`,
    /// `pre.x`/`post.x` in a synapse, or `signal.x`.
    fn name(&mut self, path: &ast::Path) -> Expr {
        let span = path.span;
        match path.parts.as_slice() {
            [one] => self.simple_name(one),
            [owner, var] => self.dotted_name(owner, var, span),
            _ => {
                self.err(
                    Diagnostic::error("hebb::names::unknown", format!("unknown name `{}`", path.dotted()))
                        .label(span, "names have at most one `.`"),
                );
                Expr::error(span)
            }
        }
    }

    fn simple_name(&mut self, id: &ast::Ident) -> Expr {
        let span = id.span;
        let name = id.name.as_str();
        if let Some((_, e)) = self.scope.lets.iter().find(|(n, _)| n == name) {
            let mut e = e.clone();
            e.span = span;
            return e;
        }
        if let Some(own) = self.scope.own {
            if let Some(k) = own.state(name) {
                let ty = own.states[k].ty;
                return Expr {
                    kind: ExprKind::Var(VarRef { owner: Owner::Own, kind: VarKind::State, index: k as u32 }),
                    ty,
                    span,
                };
            }
            if let Some(k) = own.param(name) {
                let ty = own.params[k].ty;
                return Expr {
                    kind: ExprKind::Var(VarRef { owner: Owner::Own, kind: VarKind::Param, index: k as u32 }),
                    ty,
                    span,
                };
            }
        }
        let builtin = match name {
            "t" => Some(Builtin::T),
            "dt" => Some(Builtin::Dt),
            "i" => Some(Builtin::I),
            "j" => Some(Builtin::J),
            "N" => Some(Builtin::N),
            "lastspike" => Some(Builtin::LastSpike),
            _ => None,
        };
        if let Some(b) = builtin {
            if self.scope.builtins.contains(&b) {
                let ty = match b {
                    Builtin::T | Builtin::Dt | Builtin::LastSpike => Ty::Num(Dim::TIME),
                    _ => Ty::ONE,
                };
                return Expr { kind: ExprKind::Builtin(b), ty, span };
            }
            if b != Builtin::J {
                self.err(
                    Diagnostic::error("hebb::names::builtin_here", format!("`{name}` cannot be used here"))
                        .label(span, format!("not available in {}", self.scope.what)),
                );
                return Expr::error(span);
            }
        }
        if let Some(u) = units::lookup(name) {
            return Expr::constant(u.scale, u.dim, span);
        }
        if name == "pi" {
            return Expr::constant(std::f64::consts::PI, Dim::ONE, span);
        }
        self.unknown_name(id)
    }

    /// Rule: an unknown name is reported with the closest declared name.
    fn unknown_name(&mut self, id: &ast::Ident) -> Expr {
        let mut candidates: Vec<&str> = Vec::new();
        candidates.extend(self.scope.lets.iter().map(|(n, _)| n.as_str()));
        if let Some(own) = self.scope.own {
            candidates.extend(own.states.iter().map(|s| s.name.as_str()));
            candidates.extend(own.params.iter().map(|p| p.name.as_str()));
        }
        candidates.extend(self.scope.builtins.iter().map(|b| b.name()));
        let mut d = Diagnostic::error("hebb::names::unknown", format!("unknown name `{}`", id.name))
            .label(id.span, format!("not declared in {}", self.scope.what));
        let side_has = |side: Option<Side<'_>>| {
            side.and_then(|s| s.dynamics).is_some_and(|d| d.state(&id.name).is_some() || d.param(&id.name).is_some())
        };
        let side_hint = if side_has(self.scope.post) {
            Some(format!("`{0}` is a variable of the postsynaptic neuron: write `post.{0}`", id.name))
        } else if side_has(self.scope.pre) {
            Some(format!("`{0}` is a variable of the presynaptic neuron: write `pre.{0}`", id.name))
        } else {
            None
        };
        d = d.with_help(side_hint.or_else(|| did_you_mean(suggest(&id.name, candidates))));
        if d.help.is_none() && self.scope.own.is_none() && self.scope.pre.is_some() {
            d = d.help("read neuron variables as `pre.x` or `post.x`");
        }
        self.err(d);
        Expr::error(id.span)
    }

    fn dotted_name(&mut self, owner: &ast::Ident, var: &ast::Ident, span: Span) -> Expr {
        let (side, which) = match owner.name.as_str() {
            "pre" => (self.scope.pre, Owner::Pre),
            "post" => (self.scope.post, Owner::Post),
            other => {
                if let Some(k) = self.scope.signals.iter().position(|s| s.name == other) {
                    let sig = &self.scope.signals[k];
                    return self.var_of(
                        &sig.dynamics,
                        Owner::Signal(k as u32),
                        var,
                        span,
                        &format!("signal `{other}`"),
                    );
                }
                let candidates = self.scope.signals.iter().map(|s| s.name.as_str());
                let mut d = Diagnostic::error("hebb::names::unknown", format!("unknown name `{other}`"))
                    .label(owner.span, "not a signal, `pre` or `post`");
                d = d.with_help(did_you_mean(suggest(other, candidates)));
                self.err(d);
                return Expr::error(span);
            }
        };
        match side {
            Some(Side { what, dynamics: Some(dynamics) }) => {
                if var.name == "lastspike" {
                    return Expr {
                        kind: ExprKind::Var(VarRef { owner: which, kind: VarKind::LastSpike, index: 0 }),
                        ty: Ty::Num(Dim::TIME),
                        span,
                    };
                }
                let what = what.to_string();
                self.var_of(dynamics, which, var, span, &what)
            }
            Some(Side { what, dynamics: None }) => {
                self.err(
                    Diagnostic::error(
                        "hebb::names::source_variable",
                        format!("`{}.{}` reads a variable of {what}, which has none", owner.name, var.name),
                    )
                    .label(span, "sources have no state variables")
                    .help("only neuron populations have variables to read"),
                );
                Expr::error(span)
            }
            None => {
                self.err(
                    Diagnostic::error(
                        "hebb::names::pre_post_outside_synapse",
                        format!("`{}.` can only be used inside a synapse", owner.name),
                    )
                    .label(owner.span, format!("{} has no {}synaptic neuron", self.scope.what, owner.name)),
                );
                Expr::error(span)
            }
        }
    }

    fn var_of(&mut self, dynamics: &Dynamics, owner: Owner, var: &ast::Ident, span: Span, what: &str) -> Expr {
        if let Some(k) = dynamics.state(&var.name) {
            let ty = dynamics.states[k].ty;
            return Expr { kind: ExprKind::Var(VarRef { owner, kind: VarKind::State, index: k as u32 }), ty, span };
        }
        if let Some(k) = dynamics.param(&var.name) {
            let ty = dynamics.params[k].ty;
            return Expr { kind: ExprKind::Var(VarRef { owner, kind: VarKind::Param, index: k as u32 }), ty, span };
        }
        let candidates =
            dynamics.states.iter().map(|s| s.name.as_str()).chain(dynamics.params.iter().map(|p| p.name.as_str()));
        let d = Diagnostic::error("hebb::names::unknown", format!("{what} has no variable `{}`", var.name))
            .label(var.span, "unknown variable")
            .with_help(did_you_mean(suggest(&var.name, candidates)));
        self.err(d);
        Expr::error(span)
    }

    /// Rule: a boolean cannot be used as a number, nor a number as a condition.
    fn want_num(&mut self, e: &Expr, context: &str) -> bool {
        match e.ty {
            Ty::Bool => {
                self.err(
                    Diagnostic::error(
                        "hebb::types::bool_as_number",
                        format!("a condition is used as a number in {context}"),
                    )
                    .label(e.span, "this is true or false")
                    .help("use `step(x)` for 1 if x > 0 else 0"),
                );
                false
            }
            Ty::Num(_) => true,
            Ty::Unknown => false,
        }
    }

    pub fn want_bool(&mut self, e: &Expr, context: &str) -> bool {
        match e.ty {
            Ty::Num(d) => {
                self.err(
                    Diagnostic::error(
                        "hebb::types::not_bool",
                        format!("{context} must be true or false, not a number"),
                    )
                    .label(e.span, format!("this is a number with dimension {}", ty_text(Ty::Num(d))))
                    .help("compare it, as in `v > v_th`"),
                );
                false
            }
            Ty::Bool => true,
            Ty::Unknown => false,
        }
    }

    fn unary(&mut self, op: ast::UnOp, a: &ast::Expr, span: Span) -> Expr {
        let inner = self.expr(a);
        match op {
            ast::UnOp::Plus => {
                self.want_num(&inner, "`+`");
                Expr { span, ..inner }
            }
            ast::UnOp::Neg => {
                let ty = if self.want_num(&inner, "`-`") { inner.ty } else { Ty::Unknown };
                Expr { kind: ExprKind::Unary(UnOp::Neg, Box::new(inner)), ty, span }
            }
            ast::UnOp::Not => {
                let ty = if self.want_bool(&inner, "the operand of `not`") { Ty::Bool } else { Ty::Unknown };
                Expr { kind: ExprKind::Unary(UnOp::Not, Box::new(inner)), ty, span }
            }
        }
    }

    /// Rule: `+ - < > <= >= == !=` need operands of one dimension. The
    /// literal `0` fits any dimension.
    fn same_dim(&mut self, what: &str, a: &Expr, a_ast: &ast::Expr, b: &Expr, b_ast: &ast::Expr) -> Option<Dim> {
        let (Ty::Num(da), Ty::Num(db)) = (a.ty, b.ty) else { return None };
        if da == db {
            return Some(da);
        }
        if is_bare_zero(a_ast) {
            return Some(db);
        }
        if is_bare_zero(b_ast) {
            return Some(da);
        }
        let subject = if what.starts_with("the ") { what.to_string() } else { format!("the operands of {what}") };
        let mut d = Diagnostic::error(
            "hebb::units::mismatch",
            format!("{subject} have different dimensions: `{da}` and `{db}`"),
        )
        .label(a.span, format!("this has dimension {}", ty_text(a.ty)))
        .label(b.span, format!("this has dimension {}", ty_text(b.ty)));
        d = d.with_help(mismatch_help(da, db));
        self.err(d);
        None
    }

    fn binary(&mut self, op: ast::BinOp, a_ast: &ast::Expr, b_ast: &ast::Expr, span: Span) -> Expr {
        use ast::BinOp as B;
        let a = self.expr(a_ast);
        let b = self.expr(b_ast);
        let ty = match op {
            B::Add | B::Sub => {
                let ok_a = self.want_num(&a, &format!("`{}`", op.symbol()));
                let ok_b = self.want_num(&b, &format!("`{}`", op.symbol()));
                match (ok_a && ok_b).then(|| self.same_dim(&format!("`{}`", op.symbol()), &a, a_ast, &b, b_ast)) {
                    Some(Some(d)) => Ty::Num(d),
                    _ => Ty::Unknown,
                }
            }
            B::Mul | B::Div => {
                let ok_a = self.want_num(&a, &format!("`{}`", op.symbol()));
                let ok_b = self.want_num(&b, &format!("`{}`", op.symbol()));
                match (ok_a && ok_b, a.ty, b.ty) {
                    (true, Ty::Num(da), Ty::Num(db)) => Ty::Num(if op == B::Mul { da * db } else { da / db }),
                    _ => Ty::Unknown,
                }
            }
            B::Pow => self.power(&a, &b, b_ast),
            B::Lt | B::Le | B::Gt | B::Ge | B::Eq | B::Ne => {
                let what = format!("`{}`", op.symbol());
                let ok_a = self.want_num(&a, &what);
                let ok_b = self.want_num(&b, &what);
                if ok_a && ok_b {
                    self.same_dim(&format!("the operands of the comparison {what}"), &a, a_ast, &b, b_ast);
                }
                Ty::Bool
            }
            B::And | B::Or => {
                let what = format!("the operands of `{}`", op.symbol());
                self.want_bool(&a, &what);
                self.want_bool(&b, &what);
                Ty::Bool
            }
        };
        Expr { kind: ExprKind::Binary(op, Box::new(a), Box::new(b)), ty, span }
    }

    /// Rule: the exponent of `^` is dimensionless; a dimensioned base needs an
    /// integer literal exponent (`x^2`, `x^-1`).
    fn power(&mut self, a: &Expr, b: &Expr, b_ast: &ast::Expr) -> Ty {
        if !(self.want_num(a, "`^`") & self.want_num(b, "`^`")) {
            return Ty::Unknown;
        }
        let (Ty::Num(da), Ty::Num(db)) = (a.ty, b.ty) else { return Ty::Unknown };
        if !db.is_dimensionless() {
            self.err(
                Diagnostic::error(
                    "hebb::units::not_dimensionless",
                    format!("the exponent of `^` has dimension `{db}`"),
                )
                .label(b.span, "exponents must be dimensionless"),
            );
            return Ty::Unknown;
        }
        if da.is_dimensionless() {
            return Ty::ONE;
        }
        let literal = match &b_ast.kind {
            ast::ExprKind::Number(v) => Some(*v),
            ast::ExprKind::Unary(ast::UnOp::Neg, inner) => match inner.kind {
                ast::ExprKind::Number(v) => Some(-v),
                _ => None,
            },
            _ => None,
        };
        match literal {
            Some(v) if v.fract() == 0.0 && v.abs() <= 16.0 => Ty::Num(da.powi(v as i32)),
            _ => {
                self.err(
                    Diagnostic::error(
                        "hebb::units::power",
                        format!("a quantity with dimension `{da}` can only be raised to an integer literal power"),
                    )
                    .label(a.span, format!("this has dimension {}", ty_text(a.ty)))
                    .label(b.span, "this power is not an integer literal")
                    .help("make the base dimensionless (divide it by its unit), or use `sqrt`"),
                );
                Ty::Unknown
            }
        }
    }

    fn call(&mut self, name: &ast::Ident, args_ast: &[ast::Expr], span: Span) -> Expr {
        let args: Vec<Expr> = args_ast.iter().map(|a| self.expr(a)).collect();
        if let Some(f) = Func::from_name(&name.name) {
            return self.builtin_call(f, name, args, args_ast, span);
        }
        if let Some(d) = Dist::from_name(&name.name) {
            return self.distribution(d, name, args, args_ast, span);
        }
        if name.name == "in_sum" || name.name == "out_sum" {
            return self.reduction(name, args, span);
        }
        let mut names: Vec<&str> = Func::ALL.iter().map(|f| f.name()).collect();
        names.extend(["uniform", "normal", "lognormal", "exponential", "in_sum", "out_sum"]);
        let help = match suggest(&name.name, names.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => {
                format!("the functions are {}", names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "))
            }
        };
        self.err(
            Diagnostic::error("hebb::names::unknown_function", format!("unknown function `{}`", name.name))
                .label(name.span, "not a function of the language")
                .help(help),
        );
        Expr::error(span)
    }

    /// Rule: a function gets exactly its number of arguments.
    fn arity(&mut self, name: &ast::Ident, expected: usize, got: usize, span: Span) -> bool {
        if expected == got {
            return true;
        }
        let plural = if expected == 1 { "" } else { "s" };
        let verb = if got == 1 { "was" } else { "were" };
        self.err(
            Diagnostic::error(
                "hebb::call::arity",
                format!("`{}` takes {expected} argument{plural} but {got} {verb} given", name.name),
            )
            .label(span, format!("expected {expected} argument{plural}")),
        );
        false
    }

    /// Rule: `exp log sin cos tanh` need dimensionless arguments; `sqrt`
    /// halves exponents; `min max clip` need one dimension; `rand()` and
    /// `randn()` only where random draws are allowed.
    fn builtin_call(
        &mut self,
        f: Func,
        name: &ast::Ident,
        args: Vec<Expr>,
        args_ast: &[ast::Expr],
        span: Span,
    ) -> Expr {
        if !self.arity(name, f.arity(), args.len(), span) {
            return Expr::error(span);
        }
        let mut ok = true;
        for a in &args {
            ok &= self.want_num(a, &format!("`{}`", f.name()));
        }
        let ty = if !ok {
            Ty::Unknown
        } else {
            match f {
                Func::Exp | Func::Log | Func::Sin | Func::Cos | Func::Tanh | Func::Sigmoid => {
                    let d = args[0].ty.dim().unwrap_or(Dim::ONE);
                    if !d.is_dimensionless() {
                        let help = Some(format!(
                            "divide the argument by a quantity with dimension `{d}`, as in `{}(x / {})`",
                            f.name(),
                            example_unit(d)
                        ));
                        self.err(
                            Diagnostic::error(
                                "hebb::units::not_dimensionless",
                                format!("the argument of `{}` must be dimensionless", f.name()),
                            )
                            .label(args[0].span, format!("this has dimension {}", ty_text(args[0].ty)))
                            .with_help(help),
                        );
                        Ty::Unknown
                    } else {
                        Ty::ONE
                    }
                }
                Func::Sqrt => Ty::Num(args[0].ty.dim().unwrap_or(Dim::ONE).powr(Ratio::new(1, 2))),
                Func::Abs | Func::Pos => args[0].ty,
                Func::Step => Ty::ONE,
                Func::Min | Func::Max => {
                    match self.same_dim(
                        &format!("the arguments of `{}`", f.name()),
                        &args[0],
                        &args_ast[0],
                        &args[1],
                        &args_ast[1],
                    ) {
                        Some(d) => Ty::Num(d),
                        None => Ty::Unknown,
                    }
                }
                Func::Clip => {
                    let lo = self.same_dim("the arguments of `clip`", &args[0], &args_ast[0], &args[1], &args_ast[1]);
                    let hi = self.same_dim("the arguments of `clip`", &args[0], &args_ast[0], &args[2], &args_ast[2]);
                    match (lo, hi) {
                        (Some(d), Some(_)) => Ty::Num(d),
                        _ => Ty::Unknown,
                    }
                }
                Func::Rand | Func::Randn => {
                    if !self.scope.allow_rand {
                        self.err(
                            Diagnostic::error("hebb::call::rand_here", format!("`{}()` cannot be used here", f.name()))
                                .label(span, format!("{} must be the same on every evaluation", self.scope.what)),
                        );
                        Ty::Unknown
                    } else {
                        Ty::ONE
                    }
                }
            }
        };
        Expr { kind: ExprKind::Call(f, args), ty, span }
    }

    /// Rule: distributions (`uniform`, `normal`, ...) are only allowed where
    /// a value is drawn once (initial values, overrides, connection options),
    /// and their arguments share one dimension.
    fn distribution(
        &mut self,
        d: Dist,
        name: &ast::Ident,
        args: Vec<Expr>,
        args_ast: &[ast::Expr],
        span: Span,
    ) -> Expr {
        if !self.scope.allow_dist {
            self.err(
                Diagnostic::error("hebb::call::distribution_here", format!("`{}` cannot be used here", d.name()))
                    .label(span, "distributions are drawn once, at network construction")
                    .help("use them for initial values, population overrides and connection options; use `rand()` or `randn()` in event blocks"),
            );
            return Expr::error(span);
        }
        if !self.arity(name, d.arity(), args.len(), span) {
            return Expr::error(span);
        }
        let mut ty = args[0].ty;
        if !self.want_num(&args[0], &format!("`{}`", d.name())) {
            ty = Ty::Unknown;
        }
        if args.len() == 2 {
            if self.want_num(&args[1], &format!("`{}`", d.name())) {
                match self.same_dim(
                    &format!("the arguments of `{}`", d.name()),
                    &args[0],
                    &args_ast[0],
                    &args[1],
                    &args_ast[1],
                ) {
                    Some(dim) => ty = Ty::Num(dim),
                    None => ty = Ty::Unknown,
                }
            } else {
                ty = Ty::Unknown;
            }
        }
        Expr { kind: ExprKind::Dist(d, args), ty, span }
    }

    /// Rule: `in_sum(e)` and `out_sum(e)` only inside a synapse's `every` block.
    fn reduction(&mut self, name: &ast::Ident, mut args: Vec<Expr>, span: Span) -> Expr {
        if !self.arity(name, 1, args.len(), span) {
            return Expr::error(span);
        }
        if !self.scope.allow_reduce {
            self.err(
                Diagnostic::error(
                    "hebb::call::reduction_here",
                    format!("`{}` can only be used in a synapse's `every` block", name.name),
                )
                .label(span, "no set of synapses to sum over here"),
            );
            return Expr::error(span);
        }
        let arg = args.remove(0);
        let ty = if self.want_num(&arg, &format!("`{}`", name.name)) { arg.ty } else { Ty::Unknown };
        let which = if name.name == "in_sum" { Reduce::InSum } else { Reduce::OutSum };
        Expr { kind: ExprKind::Reduce(which, Box::new(arg)), ty, span }
    }
}

/// A help line for a dimension mismatch, when a likely fix exists.
pub fn mismatch_help(a: Dim, b: Dim) -> Option<String> {
    if a / b == Dim::TIME || b / a == Dim::TIME {
        Some("one side is a rate of change of the other: multiply or divide by a time constant".to_string())
    } else if a.is_dimensionless() || b.is_dimensionless() {
        let d = if a.is_dimensionless() { b } else { a };
        Some(format!("give the dimensionless side a unit, e.g. multiply it by a quantity in `{d}`"))
    } else {
        None
    }
}

/// Checks an expression in a scope.
pub fn check(scope: &Scope<'_>, e: &ast::Expr, diags: &mut Vec<Diagnostic>) -> Expr {
    Checker { scope, diags }.expr(e)
}

/// Rule: a value must have the expected dimension (a delay is a time, a rate
/// is in Hz, an initial value has its state's dimension...).
pub fn expect_dim(e: &Expr, want: Dim, what: &str, diags: &mut Vec<Diagnostic>, zero_ok: bool) -> bool {
    match e.ty {
        Ty::Num(d) if d == want => true,
        Ty::Num(_) if zero_ok && matches!(e.kind, ExprKind::Const(v) if v == 0.0) => true,
        Ty::Unknown => false,
        ty => {
            let help = match ty {
                Ty::Num(d) if d.is_dimensionless() && !want.is_dimensionless() => {
                    Some(format!("add a unit, e.g. `{}`", example_unit(want)))
                }
                Ty::Num(_) if want.is_dimensionless() => Some("this is a plain number: remove the unit".to_string()),
                Ty::Num(d) => mismatch_help(d, want),
                _ => None,
            };
            diags.push(
                Diagnostic::error("hebb::units::expected", format!("{what} must have dimension `{want}`"))
                    .label(e.span, format!("this has dimension {}", ty_text(ty)))
                    .with_help(help),
            );
            false
        }
    }
}

/// An example quantity in a dimension, for help lines.
pub fn example_unit(d: Dim) -> String {
    let sym =
        units::UNITS.iter().find(|u| u.dim == d && u.scale != 1.0).or_else(|| units::UNITS.iter().find(|u| u.dim == d));
    match sym {
        Some(u) => format!("1 {}", u.symbol),
        None => format!("1 {d}"),
    }
}
