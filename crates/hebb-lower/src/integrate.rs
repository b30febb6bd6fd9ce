//! Integrators as data: given the right-hand sides of a group's ODEs (IR
//! expressions over its columns), produce the statements of one time step,
//! and say which method was chosen and why (LANGUAGE.md section 3.1).
//!
//! * `exact`: the system is linear with constant coefficients in the vector
//!   z of its variables and the other columns it reads (states without an
//!   ODE, per-neuron params, which have zero derivative). Then
//!   z(t + dt) = P z(t) + q with [P q; 0 1] = expm([M c; 0 0] dt), computed
//!   once, here. Linearity is decided by symbolic differentiation: every
//!   ∂f_k/∂z_j must fold to a constant.
//! * `exponential_euler`: each f_k = A_k x_k + B_k with A_k, B_k free of
//!   x_k: x ← -B/A + (x + B/A) e^{A dt} (Brian2's form); A_k = 0 falls back
//!   to Euler for that variable.
//! * `euler`, `rk2` (midpoint), `rk4`: explicit Runge-Kutta, as Brian2.
//!
//! `unless refractory`: a frozen variable keeps its value while the neuron is
//! refractory. For Runge-Kutta methods its derivative is zero in every stage
//! (Brian2 multiplies it by `not_refractory`); for `exact` a second
//! propagator with the frozen rows zeroed is used, which is the same thing.

use hebb_ir::symbolic::{diff, fold, reads, simplify, subst, subst_builtin};
use hebb_ir::{Builtin, Expr, IntegratorInfo, Slot, Stmt, UnOp};
use hebb_lang::hir::Method;

pub struct OdeVar {
    pub slot: Slot,
    pub name: String,
    pub rhs: Expr,
    pub frozen_when_refractory: bool,
}

pub struct System<'a> {
    pub vars: Vec<OdeVar>,
    /// `Some(cond)` when the group has a refractory period: true while the
    /// element may integrate its frozen variables.
    pub not_refractory: Option<Expr>,
    pub dt: f64,
    /// Names of own columns, for reports.
    pub column_names: &'a [String],
    /// Synapses: the decay rate r of each scale factor `Slot::Factor(2k)` =
    /// e^{r (t − t_ref)} that the equations read (event-driven variables
    /// stored scaled). A Runge–Kutta stage at t + c reads them times
    /// e^{r c}, so a decaying variable has its value at the stage's time,
    /// as it has when stored unscaled (reading `t`). Empty for neurons.
    pub factor_rates: &'a [f64],
}

/// Allocates local numbers in a kernel body.
#[derive(Default)]
pub struct Locals {
    pub next: u32,
}

impl Locals {
    pub fn fresh(&mut self) -> u32 {
        self.next += 1;
        self.next - 1
    }
}

pub struct Integrated {
    /// Computes the new values and stores them.
    pub stmts: Vec<Stmt>,
    pub info: IntegratorInfo,
}

/// Why an integration method does not apply to a system (the label of a
/// `hebb::method::not_applicable` diagnostic, and part of `auto`'s reason).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum NotApplicable {
    #[error("`d{var}/dt` cannot be integrated exactly: {why}")]
    NotPlain { var: String, why: &'static str },
    #[error("`d{var}/dt` is not differentiable")]
    NotDifferentiable { var: String },
    #[error("`d{var}/dt` is not differentiable in `{var}`")]
    NotDifferentiableInItself { var: String },
    #[error("`d{var}/dt` is not linear in `{other}` with a constant coefficient")]
    NonConstantCoefficient { var: String, other: String },
    #[error("`d{var}/dt` is not linear in `{var}`")]
    NotLinear { var: String },
    #[error("the constant part of `d{var}/dt` is not constant")]
    NonConstantPart { var: String },
    #[error("the propagator is not finite")]
    PropagatorNotFinite,
}

/// Integrates with `method`; `Err` says why the method does not apply.
pub fn integrate(sys: &System<'_>, method: Method, locals: &mut Locals) -> Result<Integrated, NotApplicable> {
    if sys.vars.is_empty() {
        return Ok(Integrated {
            stmts: Vec::new(),
            info: IntegratorInfo {
                method: "none".into(),
                reason: "no differential equations".into(),
                propagator: None,
            },
        });
    }
    match method {
        Method::Auto => {
            if let Ok(mut r) = exact(sys, locals) {
                r.info.reason = "auto: the system is linear with constant coefficients".into();
                return Ok(r);
            }
            let why_not_exact = exact(sys, &mut Locals::default()).err().map(|e| e.to_string()).unwrap_or_default();
            if let Ok(mut r) = exponential_euler(sys, locals) {
                r.info.reason =
                    format!("auto: each equation is linear in its own variable, but not exact: {why_not_exact}");
                return Ok(r);
            }
            let why_not_ee =
                exponential_euler(sys, &mut Locals::default()).err().map(|e| e.to_string()).unwrap_or_default();
            let mut r = runge_kutta(sys, Method::Rk4, locals);
            r.info.reason = format!("auto: not linear ({why_not_ee})");
            Ok(r)
        }
        Method::Exact => exact(sys, locals),
        Method::ExponentialEuler => exponential_euler(sys, locals),
        m => Ok(runge_kutta(sys, m, locals)),
    }
}

fn refr_select(sys: &System<'_>, var: &OdeVar, integrated: Expr, frozen: Expr) -> Expr {
    match (&sys.not_refractory, var.frozen_when_refractory) {
        (Some(nr), true) => Expr::select(nr.clone(), integrated, frozen),
        _ => integrated,
    }
}

/// Stores the locals holding new values, after all of them are computed.
fn store_all(sys: &System<'_>, new: &[u32]) -> Vec<Stmt> {
    sys.vars.iter().zip(new).map(|(v, l)| Stmt::Store(v.slot, Expr::Local(*l))).collect()
}

/// z(t + dt) = P z(t) + q, with P and q computed here, once.
fn exact(sys: &System<'_>, locals: &mut Locals) -> Result<Integrated, NotApplicable> {
    let z = exact_variables(sys)?;
    let mat = linear_system(sys, &z)?;
    let full = expm(&times_dt(&mat, sys.dt));
    if full.iter().flatten().any(|x| !x.is_finite()) {
        return Err(NotApplicable::PropagatorNotFinite);
    }
    let refractory = refractory_propagator(sys, &mat);
    let stmts = propagate(sys, &z, &full, refractory.as_ref(), locals);
    let names: Vec<String> = z.iter().map(|s| slot_name(sys, *s)).collect();
    let (n, m) = (z.len(), sys.vars.len());
    let p: Vec<Vec<f64>> = full[..m].iter().map(|r| r[..n].to_vec()).collect();
    let q: Vec<f64> = full[..m].iter().map(|r| r[n]).collect();
    Ok(Integrated {
        stmts,
        info: IntegratorInfo { method: "exact".into(), reason: "requested".into(), propagator: Some((names, p, q)) },
    })
}

/// z: the ODE variables, then the other own columns the equations read;
/// an error when an equation reads anything else.
#[allow(clippy::collapsible_match)] // a guard would fall through to the next arm
fn exact_variables(sys: &System<'_>) -> Result<Vec<Slot>, NotApplicable> {
    let mut z: Vec<Slot> = sys.vars.iter().map(|v| v.slot).collect();
    for v in &sys.vars {
        let mut bad = None;
        v.rhs.walk(&mut |e| match e {
            // Not a match guard: a column already seen must not fall
            // through to the arm below.
            Expr::Load(s @ Slot::Own(_)) => {
                if !z.contains(s) {
                    z.push(*s);
                }
            }
            Expr::Load(_) => bad = Some("it reads variables of other groups"),
            Expr::Builtin(Builtin::T | Builtin::Step) => bad = Some("it depends on time"),
            Expr::Builtin(_) => bad = Some("it depends on the neuron index"),
            Expr::Rand(_) | Expr::Randn(_) => bad = Some("it draws random numbers"),
            Expr::Local(_) | Expr::Reduce(..) => bad = Some("it is not a plain expression"),
            _ => {}
        });
        if let Some(why) = bad {
            return Err(NotApplicable::NotPlain { var: v.name.clone(), why });
        }
    }
    Ok(z)
}

/// [M c; 0 0] of dz/dt = M z + c (rows of the other columns are zero),
/// when every coefficient and the constant part fold to constants.
fn linear_system(sys: &System<'_>, z: &[Slot]) -> Result<Vec<Vec<f64>>, NotApplicable> {
    let n = z.len();
    let mut mat = vec![vec![0.0; n + 1]; n + 1];
    for (k, v) in sys.vars.iter().enumerate() {
        for (j, zj) in z.iter().enumerate() {
            let d = diff(&v.rhs, *zj).ok_or_else(|| NotApplicable::NotDifferentiable { var: v.name.clone() })?;
            match d.as_const() {
                Some(c) => mat[k][j] = c,
                None => {
                    let other = slot_name(sys, *zj);
                    return Err(NotApplicable::NonConstantCoefficient { var: v.name.clone(), other });
                }
            }
        }
        let c0 = simplify(&subst(&v.rhs, &|s| z.contains(&s).then_some(Expr::Const(0.0))));
        match c0.as_const() {
            Some(c) => mat[k][n] = c,
            None => return Err(NotApplicable::NonConstantPart { var: v.name.clone() }),
        }
    }
    Ok(mat)
}

fn times_dt(a: &[Vec<f64>], dt: f64) -> Vec<Vec<f64>> {
    a.iter().map(|r| r.iter().map(|x| x * dt).collect()).collect()
}

/// The propagator while refractory: frozen variables' rows zeroed. `None`
/// when nothing is frozen.
fn refractory_propagator(sys: &System<'_>, mat: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let frozen: Vec<bool> = sys.vars.iter().map(|v| v.frozen_when_refractory && sys.not_refractory.is_some()).collect();
    if !frozen.iter().any(|f| *f) {
        return None;
    }
    let mut mr = mat.to_vec();
    for (k, f) in frozen.iter().enumerate() {
        if *f {
            mr[k].iter_mut().for_each(|x| *x = 0.0);
        }
    }
    Some(expm(&times_dt(&mr, sys.dt)))
}

/// The statements of one step: each new value into a local, selecting the
/// refractory propagator's while refractory where it differs, then every
/// store.
fn propagate(
    sys: &System<'_>,
    z: &[Slot],
    full: &[Vec<f64>],
    refractory: Option<&Vec<Vec<f64>>>,
    locals: &mut Locals,
) -> Vec<Stmt> {
    let mut stmts = Vec::new();
    let mut new = Vec::new();
    for (k, v) in sys.vars.iter().enumerate() {
        let full_value = affine(full, z, k);
        let value = match refractory {
            Some(er) => {
                let r = affine(er, z, k);
                if r == full_value { full_value } else { refr_select(sys, v, full_value, r) }
            }
            None => full_value,
        };
        let l = locals.fresh();
        stmts.push(Stmt::Let(l, fold(&value)));
        new.push(l);
    }
    stmts.extend(store_all(sys, &new));
    stmts
}

/// x_k(t+dt) = sum_j P_kj z_j + q_k, in a fixed order.
fn affine(e: &[Vec<f64>], z: &[Slot], k: usize) -> Expr {
    let n = z.len();
    let mut acc: Option<Expr> = None;
    for (j, zj) in z.iter().enumerate() {
        let p = e[k][j];
        if p == 0.0 {
            continue;
        }
        let term = if p == 1.0 { Expr::Load(*zj) } else { Expr::mul(Expr::Const(p), Expr::Load(*zj)) };
        acc = Some(match acc {
            None => term,
            Some(a) => Expr::add(a, term),
        });
    }
    let q = e[k][n];
    match (acc, q) {
        (None, q) => Expr::Const(q),
        (Some(a), 0.0) => a,
        (Some(a), q) => Expr::add(a, Expr::Const(q)),
    }
}

fn slot_name(sys: &System<'_>, s: Slot) -> String {
    match s {
        Slot::Own(c) => sys.column_names.get(c as usize).cloned().unwrap_or(format!("#{c}")),
        other => format!("{other:?}"),
    }
}

fn exponential_euler(sys: &System<'_>, locals: &mut Locals) -> Result<Integrated, NotApplicable> {
    let mut stmts = Vec::new();
    let mut new = Vec::new();
    for v in &sys.vars {
        let a = diff(&v.rhs, v.slot).ok_or_else(|| NotApplicable::NotDifferentiableInItself { var: v.name.clone() })?;
        if reads(&a, v.slot) {
            return Err(NotApplicable::NotLinear { var: v.name.clone() });
        }
        let x = Expr::Load(v.slot);
        let integrated = if a.as_const() == Some(0.0) {
            Expr::add(x.clone(), Expr::mul(Expr::Const(sys.dt), v.rhs.clone()))
        } else {
            let b = simplify(&subst(&v.rhs, &|s| (s == v.slot).then_some(Expr::Const(0.0))));
            let ba = locals.fresh();
            stmts.push(Stmt::Let(ba, fold(&Expr::div(b, a.clone()))));
            let growth = Expr::un(UnOp::Exp, Expr::mul(a, Expr::Const(sys.dt)));
            Expr::add(Expr::un(UnOp::Neg, Expr::Local(ba)), Expr::mul(Expr::add(x.clone(), Expr::Local(ba)), growth))
        };
        let l = locals.fresh();
        stmts.push(Stmt::Let(l, fold(&refr_select(sys, v, integrated, x))));
        new.push(l);
    }
    stmts.extend(store_all(sys, &new));
    Ok(Integrated {
        stmts,
        info: IntegratorInfo { method: "exponential_euler".into(), reason: "requested".into(), propagator: None },
    })
}

fn runge_kutta(sys: &System<'_>, method: Method, locals: &mut Locals) -> Integrated {
    let dt = Expr::Const(sys.dt);
    // f_k evaluated at the given values of the variables and time offset.
    let f = |k: usize, at: &[Expr], t_offset: f64| -> Expr {
        let v = &sys.vars[k];
        let rhs = subst(&v.rhs, &|s| sys.vars.iter().position(|w| w.slot == s).map(|j| at[j].clone()));
        let rhs = if t_offset != 0.0 {
            let shifted = subst(&rhs, &|s| match s {
                Slot::Factor(j) if j % 2 == 0 && (j as usize / 2) < sys.factor_rates.len() => {
                    Some(Expr::mul(Expr::Load(s), Expr::Const((sys.factor_rates[j as usize / 2] * t_offset).exp())))
                }
                _ => None,
            });
            subst_builtin(&shifted, Builtin::T, &Expr::add(Expr::Builtin(Builtin::T), Expr::Const(t_offset)))
        } else {
            rhs
        };
        refr_select(sys, v, rhs, Expr::Const(0.0))
    };
    let x: Vec<Expr> = sys.vars.iter().map(|v| Expr::Load(v.slot)).collect();
    let n = sys.vars.len();
    let mut stmts = Vec::new();
    // k_i = dt * f(...), each stored in a local.
    let stage = |at: &[Expr], t_offset: f64, stmts: &mut Vec<Stmt>, locals: &mut Locals| -> Vec<u32> {
        (0..n)
            .map(|k| {
                let l = locals.fresh();
                stmts.push(Stmt::Let(l, fold(&Expr::mul(dt.clone(), f(k, at, t_offset)))));
                l
            })
            .collect()
    };
    let plus = |ks: &[u32], factor: f64| -> Vec<Expr> {
        (0..n)
            .map(|k| {
                let kk = Expr::Local(ks[k]);
                let inc = if factor == 1.0 { kk } else { Expr::div(kk, Expr::Const(1.0 / factor)) };
                Expr::add(x[k].clone(), inc)
            })
            .collect()
    };
    let finals: Vec<Expr> = match method {
        Method::Euler => {
            let k1 = stage(&x, 0.0, &mut stmts, locals);
            (0..n).map(|k| Expr::add(x[k].clone(), Expr::Local(k1[k]))).collect()
        }
        Method::Rk2 => {
            let k1 = stage(&x, 0.0, &mut stmts, locals);
            let k2 = stage(&plus(&k1, 0.5), 0.5 * sys.dt, &mut stmts, locals);
            (0..n).map(|k| Expr::add(x[k].clone(), Expr::Local(k2[k]))).collect()
        }
        _ => {
            let k1 = stage(&x, 0.0, &mut stmts, locals);
            let k2 = stage(&plus(&k1, 0.5), 0.5 * sys.dt, &mut stmts, locals);
            let k3 = stage(&plus(&k2, 0.5), 0.5 * sys.dt, &mut stmts, locals);
            let k4 = stage(&plus(&k3, 1.0), sys.dt, &mut stmts, locals);
            (0..n)
                .map(|k| {
                    let two = |l: u32| Expr::mul(Expr::Const(2.0), Expr::Local(l));
                    let sum =
                        Expr::add(Expr::add(Expr::add(Expr::Local(k1[k]), two(k2[k])), two(k3[k])), Expr::Local(k4[k]));
                    Expr::add(x[k].clone(), Expr::div(sum, Expr::Const(6.0)))
                })
                .collect()
        }
    };
    let mut new = Vec::new();
    for e in finals {
        let l = locals.fresh();
        stmts.push(Stmt::Let(l, fold(&e)));
        new.push(l);
    }
    stmts.extend(store_all(sys, &new));
    let name = match method {
        Method::Euler => "euler",
        Method::Rk2 => "rk2",
        _ => "rk4",
    };
    Integrated { stmts, info: IntegratorInfo { method: name.into(), reason: "requested".into(), propagator: None } }
}

/// The matrix exponential by scaling and squaring with a Taylor series:
/// scale A by 2^-s so that ‖A‖₁ ≤ 1/2, sum 24 terms (the remainder is below
/// 1e-30), then square s times. Matrices here are small (a few variables).
pub fn expm(a: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = a.len();
    let norm = (0..n).map(|j| (0..n).map(|i| a[i][j].abs()).sum::<f64>()).fold(0.0, f64::max);
    let mut s = 0;
    while norm / 2f64.powi(s) > 0.5 && s < 1000 {
        s += 1;
    }
    let scaled: Vec<Vec<f64>> = a.iter().map(|r| r.iter().map(|x| x / 2f64.powi(s)).collect()).collect();
    let ident = |n: usize| (0..n).map(|i| (0..n).map(|j| f64::from(i == j)).collect()).collect::<Vec<Vec<f64>>>();
    let matmul = |x: &Vec<Vec<f64>>, y: &Vec<Vec<f64>>| -> Vec<Vec<f64>> {
        (0..n).map(|i| (0..n).map(|j| (0..n).map(|k| x[i][k] * y[k][j]).sum()).collect()).collect()
    };
    // Horner: I + A(I + A/2(I + A/3(...))).
    let mut result = ident(n);
    for k in (1..=24).rev() {
        let t = matmul(&scaled, &result);
        result = ident(n);
        for i in 0..n {
            for j in 0..n {
                result[i][j] += t[i][j] / k as f64;
            }
        }
    }
    for _ in 0..s {
        result = matmul(&result, &result);
    }
    result
}

/// Used by `BinOp` lowering of integer powers.
pub fn integer_power(base: Expr, n: i32) -> Expr {
    if n == 0 {
        return Expr::Const(1.0);
    }
    let mut acc = base.clone();
    for _ in 1..n.abs() {
        acc = Expr::mul(acc, base.clone());
    }
    if n < 0 { Expr::div(Expr::Const(1.0), acc) } else { acc }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expm_of_scalar_is_exp() {
        for a in [-0.005, -1.0, 3.0, -40.0] {
            let e = expm(&[vec![a]]);
            // Scaling and squaring keeps a few ulps of relative error.
            assert!((e[0][0] - a.exp()).abs() <= 1e-14 * a.exp(), "{a}: {} vs {}", e[0][0], a.exp());
        }
    }

    #[test]
    fn expm_of_rotation() {
        let e = expm(&[vec![0.0, 1.0], vec![-1.0, 0.0]]);
        assert!((e[0][0] - 1f64.cos()).abs() < 1e-14);
        assert!((e[0][1] - 1f64.sin()).abs() < 1e-14);
    }
}
