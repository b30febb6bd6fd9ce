//! Symbolic work on IR expressions: evaluation of operators (shared by
//! constant folding, the interpreter and the JIT's calls, so that all three
//! round identically), constant folding, simplification, substitution and
//! differentiation (which decides linearity for the integrators).

use super::*;

/// IEEE minimum with Cranelift's `fmin` semantics: NaN if either operand is
/// NaN, and -0 below +0. Rust's `f64::min` ignores NaNs, so it is not used.
pub fn fmin(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a < b {
        a
    } else if b < a {
        b
    } else if a.is_sign_negative() {
        a
    } else {
        b
    }
}

/// IEEE maximum with Cranelift's `fmax` semantics (see [`fmin`]).
pub fn fmax(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a > b {
        a
    } else if b > a {
        b
    } else if a.is_sign_positive() {
        a
    } else {
        b
    }
}

/// The libm functions the JIT calls out to; the interpreter calls the same.
pub extern "C" fn call_exp(x: f64) -> f64 {
    crate::math::exp(x)
}
pub extern "C" fn call_log(x: f64) -> f64 {
    x.ln()
}
pub extern "C" fn call_sin(x: f64) -> f64 {
    x.sin()
}
pub extern "C" fn call_cos(x: f64) -> f64 {
    x.cos()
}
pub extern "C" fn call_tanh(x: f64) -> f64 {
    x.tanh()
}
pub extern "C" fn call_pow(x: f64, y: f64) -> f64 {
    x.powf(y)
}

pub fn eval_unop(op: UnOp, x: f64) -> f64 {
    match op {
        UnOp::Neg => -x,
        UnOp::Not => f64::from(x == 0.0),
        UnOp::Exp => call_exp(x),
        UnOp::Log => call_log(x),
        UnOp::Sqrt => x.sqrt(),
        UnOp::Abs => x.abs(),
        UnOp::Sin => call_sin(x),
        UnOp::Cos => call_cos(x),
        UnOp::Tanh => call_tanh(x),
        UnOp::Floor => x.floor(),
    }
}

/// Arithmetic operators on numbers; comparisons and logic return 1 or 0.
pub fn eval_binop(op: BinOp, x: f64, y: f64) -> f64 {
    match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => x / y,
        BinOp::Pow => call_pow(x, y),
        BinOp::Min => fmin(x, y),
        BinOp::Max => fmax(x, y),
        BinOp::Lt => f64::from(x < y),
        BinOp::Le => f64::from(x <= y),
        BinOp::Gt => f64::from(x > y),
        BinOp::Ge => f64::from(x >= y),
        BinOp::Eq => f64::from(x == y),
        BinOp::Ne => f64::from(x != y),
        BinOp::And => f64::from(x != 0.0 && y != 0.0),
        BinOp::Or => f64::from(x != 0.0 || y != 0.0),
    }
}

/// Folds subtrees made of constants only, evaluating them exactly as the
/// interpreter and the JIT would. Nothing else changes, so the folded
/// expression rounds like the original.
pub fn fold(e: &Expr) -> Expr {
    match e {
        Expr::Unary(op, a) => {
            let a = fold(a);
            match (&a, op) {
                (Expr::Const(x), UnOp::Not) => Expr::Bool(*x == 0.0),
                (Expr::Bool(b), UnOp::Not) => Expr::Bool(!b),
                (Expr::Const(x), _) => Expr::Const(eval_unop(*op, *x)),
                _ => Expr::un(*op, a),
            }
        }
        Expr::Binary(op, a, b) => {
            let (a, b) = (fold(a), fold(b));
            match (&a, &b) {
                (Expr::Const(x), Expr::Const(y)) => {
                    let v = eval_binop(*op, *x, *y);
                    if op.is_comparison() { Expr::Bool(v != 0.0) } else { Expr::Const(v) }
                }
                (Expr::Bool(x), Expr::Bool(y)) if op.is_logical() => {
                    Expr::Bool(if *op == BinOp::And { *x && *y } else { *x || *y })
                }
                _ => Expr::bin(*op, a, b),
            }
        }
        Expr::Select(c, a, b) => {
            let (c, a, b) = (fold(c), fold(a), fold(b));
            match c {
                Expr::Bool(true) => a,
                Expr::Bool(false) => b,
                _ => Expr::select(c, a, b),
            }
        }
        Expr::Reduce(r, a) => Expr::Reduce(*r, Box::new(fold(a))),
        other => other.clone(),
    }
}

/// Folds constants and applies algebraic identities (`0 x = 0`, `1 x = x`,
/// `x + 0 = x`, ...). Used on derived expressions (derivatives, integrator
/// coefficients), where the identities are exact for finite values.
pub fn simplify(e: &Expr) -> Expr {
    let e = match e {
        Expr::Unary(op, a) => Expr::un(*op, simplify(a)),
        Expr::Binary(op, a, b) => Expr::bin(*op, simplify(a), simplify(b)),
        Expr::Select(c, a, b) => Expr::select(simplify(c), simplify(a), simplify(b)),
        other => other.clone(),
    };
    let e = fold(&e);
    let is = |x: &Expr, v: f64| x.as_const() == Some(v);
    match e {
        Expr::Binary(BinOp::Mul, a, b) if is(&a, 0.0) || is(&b, 0.0) => Expr::Const(0.0),
        Expr::Binary(BinOp::Mul, a, b) if is(&a, 1.0) => *b,
        Expr::Binary(BinOp::Mul, a, b) if is(&b, 1.0) => *a,
        Expr::Binary(BinOp::Mul, a, b) if is(&a, -1.0) => simplify(&Expr::un(UnOp::Neg, *b)),
        Expr::Binary(BinOp::Mul, a, b) if is(&b, -1.0) => simplify(&Expr::un(UnOp::Neg, *a)),
        Expr::Binary(BinOp::Add, a, b) if is(&a, 0.0) => *b,
        Expr::Binary(BinOp::Add, a, b) if is(&b, 0.0) => *a,
        Expr::Binary(BinOp::Sub, a, b) if is(&b, 0.0) => *a,
        Expr::Binary(BinOp::Sub, a, b) if is(&a, 0.0) => simplify(&Expr::un(UnOp::Neg, *b)),
        Expr::Binary(BinOp::Div, a, b) if is(&b, 1.0) => *a,
        Expr::Binary(BinOp::Div, a, _) if is(&a, 0.0) => Expr::Const(0.0),
        Expr::Unary(UnOp::Neg, a) => match *a {
            Expr::Unary(UnOp::Neg, inner) => *inner,
            Expr::Const(v) => Expr::Const(-v),
            other => Expr::un(UnOp::Neg, other),
        },
        other => other,
    }
}

/// Replaces loads of slots by expressions.
pub fn subst(e: &Expr, f: &impl Fn(Slot) -> Option<Expr>) -> Expr {
    match e {
        Expr::Load(s) => f(*s).unwrap_or_else(|| e.clone()),
        Expr::Unary(op, a) => Expr::un(*op, subst(a, f)),
        Expr::Binary(op, a, b) => Expr::bin(*op, subst(a, f), subst(b, f)),
        Expr::Select(c, a, b) => Expr::select(subst(c, f), subst(a, f), subst(b, f)),
        Expr::Reduce(r, a) => Expr::Reduce(*r, Box::new(subst(a, f))),
        other => other.clone(),
    }
}

/// Replaces a builtin (used to evaluate right-hand sides at `t + dt/2`).
pub fn subst_builtin(e: &Expr, b: Builtin, by: &Expr) -> Expr {
    match e {
        Expr::Builtin(x) if *x == b => by.clone(),
        Expr::Unary(op, a) => Expr::un(*op, subst_builtin(a, b, by)),
        Expr::Binary(op, a, c) => Expr::bin(*op, subst_builtin(a, b, by), subst_builtin(c, b, by)),
        Expr::Select(c, a, x) => {
            Expr::select(subst_builtin(c, b, by), subst_builtin(a, b, by), subst_builtin(x, b, by))
        }
        Expr::Reduce(r, a) => Expr::Reduce(*r, Box::new(subst_builtin(a, b, by))),
        other => other.clone(),
    }
}

pub fn reads(e: &Expr, slot: Slot) -> bool {
    e.any(&|x| *x == Expr::Load(slot))
}

/// ∂e/∂(slot), simplified; `None` where e is not differentiable in it
/// (`abs`, `min`, comparisons, ... of an expression that reads it).
pub fn diff(e: &Expr, x: Slot) -> Option<Expr> {
    if !reads(e, x) {
        return Some(Expr::Const(0.0));
    }
    let d = match e {
        Expr::Load(s) => Expr::Const(if *s == x { 1.0 } else { 0.0 }),
        Expr::Unary(op, a) => {
            let da = diff(a, x)?;
            let a = (**a).clone();
            match op {
                UnOp::Neg => Expr::un(UnOp::Neg, da),
                UnOp::Exp => Expr::mul(Expr::un(UnOp::Exp, a), da),
                UnOp::Log => Expr::div(da, a),
                UnOp::Sqrt => Expr::div(da, Expr::mul(Expr::Const(2.0), Expr::un(UnOp::Sqrt, a))),
                UnOp::Sin => Expr::mul(Expr::un(UnOp::Cos, a), da),
                UnOp::Cos => Expr::un(UnOp::Neg, Expr::mul(Expr::un(UnOp::Sin, a), da)),
                UnOp::Tanh => {
                    let t = Expr::un(UnOp::Tanh, a);
                    Expr::mul(Expr::sub(Expr::Const(1.0), Expr::mul(t.clone(), t)), da)
                }
                UnOp::Abs | UnOp::Floor | UnOp::Not => return None,
            }
        }
        Expr::Binary(op, a, b) => {
            let (da, db) = (diff(a, x)?, diff(b, x)?);
            let (a, b) = ((**a).clone(), (**b).clone());
            match op {
                BinOp::Add => Expr::add(da, db),
                BinOp::Sub => Expr::sub(da, db),
                BinOp::Mul => Expr::add(Expr::mul(da, b), Expr::mul(a, db)),
                BinOp::Div => Expr::div(Expr::sub(Expr::mul(da, b.clone()), Expr::mul(a, db)), Expr::mul(b.clone(), b)),
                BinOp::Pow => match simplify(&b).as_const() {
                    Some(n) => Expr::mul(Expr::mul(Expr::Const(n), Expr::bin(BinOp::Pow, a, Expr::Const(n - 1.0))), da),
                    None => {
                        let p = Expr::bin(BinOp::Pow, a.clone(), b.clone());
                        Expr::mul(
                            p,
                            Expr::add(Expr::mul(db, Expr::un(UnOp::Log, a.clone())), Expr::div(Expr::mul(b, da), a)),
                        )
                    }
                },
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(simplify(&d))
}

/// Bounds of an expression by interval arithmetic, given bounds of the
/// builtins it reads; `None` when it reads anything else or is unbounded.
pub fn interval(e: &Expr, builtin: &impl Fn(Builtin) -> Option<(f64, f64)>) -> Option<(f64, f64)> {
    let mono = |f: fn(f64) -> f64, (lo, hi): (f64, f64)| Some((f(lo), f(hi)));
    let r = match e {
        Expr::Const(v) => (*v, *v),
        Expr::Builtin(b) => builtin(*b)?,
        Expr::Rand(_) => (0.0, 1.0),
        Expr::Unary(op, a) => {
            let x = interval(a, builtin)?;
            match op {
                UnOp::Neg => (-x.1, -x.0),
                UnOp::Exp => mono(f64::exp, x)?,
                UnOp::Tanh => mono(f64::tanh, x)?,
                UnOp::Floor => mono(f64::floor, x)?,
                UnOp::Log if x.0 > 0.0 => mono(f64::ln, x)?,
                UnOp::Sqrt if x.0 >= 0.0 => mono(f64::sqrt, x)?,
                UnOp::Sin | UnOp::Cos => (-1.0, 1.0),
                UnOp::Abs => {
                    if x.0 >= 0.0 {
                        x
                    } else if x.1 <= 0.0 {
                        (-x.1, -x.0)
                    } else {
                        (0.0, x.1.max(-x.0))
                    }
                }
                _ => return None,
            }
        }
        Expr::Binary(op, a, b) => {
            let (x, y) = (interval(a, builtin)?, interval(b, builtin)?);
            let corners = |f: fn(f64, f64) -> f64| {
                let c = [f(x.0, y.0), f(x.0, y.1), f(x.1, y.0), f(x.1, y.1)];
                (c.iter().copied().fold(f64::INFINITY, f64::min), c.iter().copied().fold(f64::NEG_INFINITY, f64::max))
            };
            match op {
                BinOp::Add => (x.0 + y.0, x.1 + y.1),
                BinOp::Sub => (x.0 - y.1, x.1 - y.0),
                BinOp::Mul => corners(|a, b| a * b),
                BinOp::Div if y.0 > 0.0 || y.1 < 0.0 => corners(|a, b| a / b),
                BinOp::Min => (x.0.min(y.0), x.1.min(y.1)),
                BinOp::Max => (x.0.max(y.0), x.1.max(y.1)),
                _ => return None,
            }
        }
        Expr::Select(_, a, b) => {
            let (x, y) = (interval(a, builtin)?, interval(b, builtin)?);
            (x.0.min(y.0), x.1.max(y.1))
        }
        _ => return None,
    };
    (r.0.is_finite() && r.1.is_finite()).then_some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v() -> Expr {
        Expr::Load(Slot::Own(0))
    }

    #[test]
    fn linear_rhs_has_constant_derivative() {
        // (v_rest - v) / tau with v_rest = -0.07, tau = 0.02
        let rhs = Expr::div(Expr::sub(Expr::Const(-0.07), v()), Expr::Const(0.02));
        assert_eq!(diff(&rhs, Slot::Own(0)), Some(Expr::Const(-1.0 / 0.02)));
    }

    #[test]
    fn nonlinear_rhs_has_varying_derivative() {
        let rhs = Expr::mul(Expr::Const(0.04), Expr::mul(v(), v()));
        let d = diff(&rhs, Slot::Own(0)).unwrap();
        assert!(reads(&d, Slot::Own(0)));
    }

    #[test]
    fn min_and_max_follow_cranelift() {
        assert!(fmin(f64::NAN, 1.0).is_nan());
        assert!(fmin(0.0, -0.0).is_sign_negative());
        assert!(fmax(-0.0, 0.0).is_sign_positive());
        assert_eq!(fmax(2.0, 3.0), 3.0);
    }
}
