//! Lowering of expressions and statements of one item (a neuron type, a
//! signal, a synapse, an experiment's `set`): variables become loads of
//! columns or folded constants, builtins and distributions become IR
//! operations, and each random draw gets the next draw number of its
//! kernel.

use crate::{Lowerer, ParamVal, VarMap, integrate};
use hebb_ir::symbolic::fold;
use hebb_ir::{BinOp, Builtin, Expr, GroupId, Reduce, Slot, Stmt, UnOp};
use hebb_lang::hir::{self, Owner as HOwner, VarKind};

/// Whose variable an expression reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Own,
    Pre,
    Post,
}

/// Context for lowering expressions of one item.
pub(crate) struct Ctx<'a> {
    pub(crate) own: &'a VarMap,
    pub(crate) pre: Option<&'a VarMap>,
    pub(crate) post: Option<&'a VarMap>,
    pub(crate) signals: &'a [(GroupId, VarMap)],
    pub(crate) dt: f64,
    pub(crate) synapse: bool,
    /// Random draws numbered so far; the next draw gets this number.
    pub(crate) draws: u32,
    /// Reads of own states replaced by these expressions (hoisted variables
    /// and event-driven decays in synapse kernels).
    pub(crate) overrides: Vec<Option<Expr>>,
    /// The same inside `in_sum`/`out_sum`, which run before the block.
    pub(crate) reduce_overrides: Option<Vec<Option<Expr>>>,
    /// Own states stored scaled, x = x_inf + S F: their x_inf and the slot
    /// of 1/F. An assignment stores (x - x_inf) / F; reads go through
    /// `overrides`.
    pub(crate) scaled: Vec<Option<(f64, Slot)>>,
}

impl Lowerer<'_> {
    /// A context for expressions of the item whose variables `own` maps.
    pub(crate) fn ctx<'a>(&'a self, own: &'a VarMap) -> Ctx<'a> {
        Ctx {
            own,
            pre: None,
            post: None,
            signals: &self.signals,
            dt: self.program.dt,
            synapse: false,
            draws: 0,
            overrides: Vec::new(),
            reduce_overrides: None,
            scaled: Vec::new(),
        }
    }
}

/// The value an assignment `x op= value` gives `x`, which held `old`.
pub(crate) fn assigned_value(op: hir::AssignOp, old: Expr, value: Expr) -> Expr {
    match op {
        hir::AssignOp::Set => value,
        hir::AssignOp::Add => Expr::add(old, value),
        hir::AssignOp::Sub => Expr::sub(old, value),
        hir::AssignOp::Mul => Expr::mul(old, value),
        hir::AssignOp::Div => Expr::div(old, value),
    }
}

impl Ctx<'_> {
    /// Sub-expressions are lowered left to right, each before the draw of
    /// the call or distribution that takes them, so draw numbers follow the
    /// text.
    pub(crate) fn expr(&mut self, e: &hir::Expr) -> Expr {
        use hir::ExprKind as K;
        match &e.kind {
            K::Const(v) => Expr::Const(*v),
            K::Bool(b) => Expr::Bool(*b),
            K::Var(v) => self.variable(v),
            K::Builtin(b) => self.builtin(*b),
            K::Unary(op, a) => {
                let a = self.expr(a);
                match op {
                    hir::UnOp::Neg => Expr::un(UnOp::Neg, a),
                    hir::UnOp::Not => Expr::un(UnOp::Not, a),
                }
            }
            K::Binary(op, a, b) => {
                let (x, y) = (self.expr(a), self.expr(b));
                binary(*op, x, y)
            }
            K::Call(f, args) => {
                let a: Vec<Expr> = args.iter().map(|x| self.expr(x)).collect();
                self.call(*f, a)
            }
            K::Dist(d, args) => {
                let a: Vec<Expr> = args.iter().map(|x| self.expr(x)).collect();
                let draw = self.next_draw();
                distribution(*d, a, draw)
            }
            K::Reduce(r, a) => self.reduction(*r, a),
            K::Error => Expr::Const(f64::NAN),
        }
    }

    pub(crate) fn stmts(&mut self, body: &[hir::Stmt]) -> Vec<Stmt> {
        body.iter().filter_map(|s| self.stmt(s)).collect()
    }

    /// A statement; `None` for an assignment to a variable that is not
    /// stored (a folded or hoisted synapse state, which kernels handle).
    pub(crate) fn stmt(&mut self, s: &hir::Stmt) -> Option<Stmt> {
        match s {
            hir::Stmt::Assign { target, op, value, .. } => {
                let v = self.expr(value);
                if target.owner == HOwner::Own
                    && let Some(Some((x_inf, inverse))) = self.scaled.get(target.index as usize)
                {
                    let c = self.own.states[target.index as usize]?;
                    let new = assigned_value(*op, self.var(Side::Own, VarKind::State, target.index), v);
                    let shifted = if *x_inf == 0.0 { new } else { Expr::sub(new, Expr::Const(*x_inf)) };
                    return Some(Stmt::Store(Slot::Own(c), fold(&Expr::mul(shifted, Expr::Load(*inverse)))));
                }
                let place = match target.owner {
                    HOwner::Own => Slot::Own(self.own.states.get(target.index as usize).copied().flatten()?),
                    HOwner::Post => Slot::Post(self.post?.states.get(target.index as usize).copied().flatten()?),
                    HOwner::Pre => Slot::Pre(self.pre?.states.get(target.index as usize).copied().flatten()?),
                    HOwner::Signal(k) => {
                        let (g, map) = &self.signals[k as usize];
                        Slot::Signal(*g, map.states[target.index as usize]?)
                    }
                };
                Some(Stmt::Store(place, fold(&assigned_value(*op, Expr::Load(place), v))))
            }
            hir::Stmt::If { cond, then_body, else_body, .. } => {
                let c = fold(&self.expr(cond));
                let a = self.stmts(then_body);
                let b = self.stmts(else_body);
                Some(Stmt::If(c, a, b))
            }
        }
    }

    /// The number of the next random draw.
    fn next_draw(&mut self) -> u32 {
        self.draws += 1;
        self.draws - 1
    }

    fn variable(&self, v: &hir::VarRef) -> Expr {
        match v.owner {
            HOwner::Own => self.var(Side::Own, v.kind, v.index),
            HOwner::Pre => self.var(Side::Pre, v.kind, v.index),
            HOwner::Post => self.var(Side::Post, v.kind, v.index),
            HOwner::Signal(s) => {
                let (g, map) = &self.signals[s as usize];
                match v.kind {
                    VarKind::Param => match map.params[v.index as usize] {
                        ParamVal::Const(x) => Expr::Const(x),
                        ParamVal::Column(c) => Expr::Load(Slot::Signal(*g, c)),
                    },
                    _ => match map.states[v.index as usize] {
                        Some(c) => Expr::Load(Slot::Signal(*g, c)),
                        None => Expr::Const(f64::NAN),
                    },
                }
            }
        }
    }

    /// A variable of the item itself or of a synapse's pre- or postsynaptic
    /// group.
    fn var(&self, side: Side, kind: VarKind, index: u32) -> Expr {
        if side == Side::Own
            && kind == VarKind::State
            && let Some(Some(e)) = self.overrides.get(index as usize)
        {
            return e.clone();
        }
        let (map, slot): (&VarMap, fn(u32) -> Slot) = match side {
            Side::Own => (self.own, Slot::Own),
            Side::Pre => (self.pre.expect("pre exists in synapse context"), Slot::Pre),
            Side::Post => (self.post.expect("post exists in synapse context"), Slot::Post),
        };
        match kind {
            VarKind::Param => match map.params.get(index as usize) {
                Some(ParamVal::Const(v)) => Expr::Const(*v),
                Some(ParamVal::Column(c)) => Expr::Load(slot(*c)),
                None => Expr::Const(f64::NAN),
            },
            VarKind::State => match (map.states.get(index as usize), map.folded.get(index as usize)) {
                (Some(Some(c)), _) => Expr::Load(slot(*c)),
                (_, Some(Some(v))) => Expr::Const(*v),
                _ => Expr::Const(f64::NAN),
            },
            VarKind::LastSpike => match map.lastspike {
                Some(c) => Expr::mul(Expr::Load(slot(c)), Expr::Const(self.dt)),
                None => Expr::Const(-1e300),
            },
        }
    }

    fn builtin(&self, b: hir::Builtin) -> Expr {
        match b {
            hir::Builtin::T => Expr::Builtin(Builtin::T),
            hir::Builtin::Dt => Expr::Const(self.dt),
            hir::Builtin::I => Expr::Builtin(if self.synapse { Builtin::PreIndex } else { Builtin::Index }),
            hir::Builtin::J => Expr::Builtin(Builtin::PostIndex),
            hir::Builtin::N => Expr::Const(self.own.size as f64),
            hir::Builtin::LastSpike => self.var(Side::Own, VarKind::LastSpike, 0),
        }
    }

    /// A call of a builtin function on lowered arguments.
    fn call(&mut self, f: hir::Func, mut a: Vec<Expr>) -> Expr {
        use hir::Func as F;
        let un = |op, a: &mut Vec<Expr>| Expr::un(op, a.remove(0));
        match f {
            F::Exp => un(UnOp::Exp, &mut a),
            F::Log => un(UnOp::Log, &mut a),
            F::Sqrt => un(UnOp::Sqrt, &mut a),
            F::Abs => un(UnOp::Abs, &mut a),
            F::Sin => un(UnOp::Sin, &mut a),
            F::Cos => un(UnOp::Cos, &mut a),
            F::Tanh => un(UnOp::Tanh, &mut a),
            // 1 / (1 + e^-x): existing operations, so neither the
            // IR, the interpreter nor the JIT needs to know it.
            F::Sigmoid => {
                let e = Expr::un(UnOp::Exp, Expr::un(UnOp::Neg, a.remove(0)));
                Expr::div(Expr::Const(1.0), Expr::add(Expr::Const(1.0), e))
            }
            F::Min => Expr::bin(BinOp::Min, a.remove(0), a.remove(0)),
            F::Max => Expr::bin(BinOp::Max, a.remove(0), a.remove(0)),
            F::Clip => {
                let (x, lo, hi) = (a.remove(0), a.remove(0), a.remove(0));
                Expr::bin(BinOp::Min, Expr::bin(BinOp::Max, x, lo), hi)
            }
            F::Pos => Expr::bin(BinOp::Max, a.remove(0), Expr::Const(0.0)),
            F::Step => {
                Expr::select(Expr::bin(BinOp::Gt, a.remove(0), Expr::Const(0.0)), Expr::Const(1.0), Expr::Const(0.0))
            }
            F::Rand => Expr::Rand(self.next_draw()),
            F::Randn => Expr::Randn(self.next_draw()),
        }
    }

    /// `in_sum`/`out_sum`: the argument reads states through the reduction
    /// overrides, when there are any.
    fn reduction(&mut self, r: hir::Reduce, a: &hir::Expr) -> Expr {
        let saved = match &self.reduce_overrides {
            Some(o) => Some(std::mem::replace(&mut self.overrides, o.clone())),
            None => None,
        };
        let a = self.expr(a);
        if let Some(s) = saved {
            self.overrides = s;
        }
        Expr::Reduce(if r == hir::Reduce::InSum { Reduce::InSum } else { Reduce::OutSum }, Box::new(a))
    }
}

fn binary(op: hir::BinOp, x: Expr, y: Expr) -> Expr {
    use hir::BinOp as H;
    let op = match op {
        H::Add => BinOp::Add,
        H::Sub => BinOp::Sub,
        H::Mul => BinOp::Mul,
        H::Div => BinOp::Div,
        H::Pow => {
            // Small integer powers are multiplications, as a C
            // compiler would emit them.
            if let Some(n) = fold(&y).as_const()
                && n.fract() == 0.0
                && n.abs() <= 4.0
            {
                return integrate::integer_power(x, n as i32);
            }
            BinOp::Pow
        }
        H::Lt => BinOp::Lt,
        H::Le => BinOp::Le,
        H::Gt => BinOp::Gt,
        H::Ge => BinOp::Ge,
        H::Eq => BinOp::Eq,
        H::Ne => BinOp::Ne,
        H::And => BinOp::And,
        H::Or => BinOp::Or,
    };
    Expr::bin(op, x, y)
}

/// A draw from a distribution, by transforming uniform or normal draw
/// number `draw`.
fn distribution(d: hir::Dist, mut a: Vec<Expr>, draw: u32) -> Expr {
    match d {
        hir::Dist::Uniform => {
            let (lo, hi) = (a.remove(0), a.remove(0));
            Expr::add(lo.clone(), Expr::mul(Expr::sub(hi, lo), Expr::Rand(draw)))
        }
        hir::Dist::Normal => {
            let (mu, sigma) = (a.remove(0), a.remove(0));
            Expr::add(mu, Expr::mul(sigma, Expr::Randn(draw)))
        }
        hir::Dist::Exponential => {
            let mean = a.remove(0);
            Expr::mul(Expr::un(UnOp::Neg, mean), Expr::un(UnOp::Log, Expr::sub(Expr::Const(1.0), Expr::Rand(draw))))
        }
        hir::Dist::LogNormal => {
            // Mean m and standard deviation s of the variable:
            // s2 = ln(1 + s²/m²), X = exp(ln m - s2/2 + sqrt(s2) Z).
            let (m, s) = (a.remove(0), a.remove(0));
            let ratio = Expr::div(s, m.clone());
            let s2 = Expr::un(UnOp::Log, Expr::add(Expr::Const(1.0), Expr::mul(ratio.clone(), ratio)));
            let mu = Expr::sub(Expr::un(UnOp::Log, m), Expr::div(s2.clone(), Expr::Const(2.0)));
            Expr::un(UnOp::Exp, Expr::add(mu, Expr::mul(Expr::un(UnOp::Sqrt, s2), Expr::Randn(draw))))
        }
    }
}
