//! Kernels that compute in f32 (neuron steps under `precision f32`, see
//! `hebb_ir::SlotTypes::narrow`): four neurons per iteration in `f32x4`,
//! one in the scalar loop. Each expression is computed at its
//! [`Width`]: narrow values are `F32` / `F32X4`; wide ones (time, step
//! counts, indices) `F64`, or with four lanes two `F64X2` halves (lanes
//! 0–1 and 2–3). Conditions are `I8`, or an `I32X4` mask with four lanes.
//! The operations and their order are the interpreter's
//! (`hebb_ir::interp`, `exec_narrow`), so the two agree bit for bit.

use super::{Translator, flags, vflags};
use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{ConstantData, Endianness, InstBuilder, MemFlagsData as MemFlags, Type, Value, types};
use cranelift_frontend::FunctionBuilder;
use hebb_ir::{BinOp, Builtin, Expr, Slot, Stmt, UnOp, Width};

/// A value of a narrow kernel: one Cranelift value, or the two `F64X2`
/// halves of a wide value in the four-lane loop.
#[derive(Clone, Copy, Debug)]
pub(super) enum V {
    One(Value),
    Two(Value, Value),
}

impl V {
    fn one(self) -> Value {
        match self {
            V::One(v) => v,
            V::Two(..) => unreachable!("a wide four-lane value where one vector was expected"),
        }
    }
}

fn lane_cast() -> MemFlags {
    MemFlags::new().with_endianness(Endianness::Little)
}

impl Translator<'_> {
    fn four(&self) -> bool {
        self.lanes == 4
    }

    /// The body for one element (or four), then its non-finite check.
    pub(super) fn narrow_element(&mut self, body: &[Stmt]) {
        self.ncache.clear();
        self.pending.clear();
        self.narrow_stmts(body);
        self.flush_pending();
    }

    fn narrow_stmts(&mut self, body: &[Stmt]) {
        for s in body {
            match s {
                Stmt::Let(k, e) => {
                    let v = self.nexpr_at(e, self.widths[*k as usize]);
                    self.set_local(*k, v);
                }
                Stmt::Store(slot, e) => self.narrow_store(*slot, e),
                Stmt::If(c, a, b) => self.narrow_if(c, a, b),
                Stmt::Spike(c) => {
                    let m = self.nmask(c);
                    self.spike_mask(m);
                }
            }
        }
    }

    fn set_local(&mut self, k: u32, v: V) {
        let k = k as usize;
        match v {
            V::One(x) if self.four() => self.b.def_var(self.nvars4[k].0, x),
            V::One(x) => self.b.def_var(self.nvars[k], x),
            V::Two(x, y) => {
                let (a, b) = self.nvars4[k];
                self.b.def_var(a, x);
                self.b.def_var(b, y);
            }
        }
    }

    fn get_local(&mut self, k: u32) -> V {
        let k = k as usize;
        if !self.four() {
            return V::One(self.b.use_var(self.nvars[k]));
        }
        let (a, b) = self.nvars4[k];
        if self.widths[k] == Width::Wide {
            V::Two(self.b.use_var(a), self.b.use_var(b))
        } else {
            V::One(self.b.use_var(a))
        }
    }

    fn narrow_store(&mut self, slot: Slot, e: &Expr) {
        let w = self.types.width(e, &self.widths).unwrap_or(Width::Narrow);
        let v = self.nexpr_at(e, w);
        if self.check_stores {
            // v - v is NaN iff v is not finite; summed per element in the
            // accumulator's type (f64, or f32x4 with four lanes).
            let d = self.per_part(v, |b, x| b.ins().fsub(x, x));
            let d = if self.four() {
                self.convert(d, w, Width::Narrow).one()
            } else {
                self.convert(d, w, Width::Wide).one()
            };
            self.pending.push(d);
        }
        let addr = self.address(slot);
        let to = if self.types.is_f32(slot) { Width::Narrow } else { Width::Wide };
        let stored = self.convert(v, w, to);
        let fl = if self.four() { vflags() } else { flags() };
        match stored {
            V::One(x) => {
                self.b.ins().store(fl, x, addr, 0);
            }
            V::Two(x, y) => {
                self.b.ins().store(fl, x, addr, 0);
                self.b.ins().store(fl, y, addr, 16);
            }
        }
        if matches!(slot, Slot::Own(_)) {
            self.ncache.insert(slot, stored);
        } else {
            self.ncache.retain(|s, _| matches!(s, Slot::Own(_)));
        }
    }

    /// Only in the scalar loop: vectorized kernels have no branches.
    fn narrow_if(&mut self, c: &Expr, then_body: &[Stmt], else_body: &[Stmt]) {
        self.flush_pending();
        let cond = self.nmask(c);
        self.branches(cond, then_body, else_body, Self::narrow_stmts);
    }

    /// A condition: `I8`, or an `I32X4` mask.
    fn nmask(&mut self, c: &Expr) -> Value {
        self.nexpr_at(c, Width::Narrow).one()
    }

    /// `e` computed at its own width (`at` for constants and conditions),
    /// then brought to `at`.
    fn nexpr_at(&mut self, e: &Expr, at: Width) -> V {
        let w = self.types.width(e, &self.widths).unwrap_or(at);
        let v = self.nexpr_in(e, w);
        self.convert(v, w, at)
    }

    fn nexpr_in(&mut self, e: &Expr, w: Width) -> V {
        match e {
            Expr::Const(c) => self.nconst(*c, w),
            Expr::Bool(b) => V::One(self.bool_const(*b)),
            Expr::Load(slot) => self.nload(*slot),
            Expr::Builtin(b) => self.nbuiltin(*b),
            Expr::Local(k) => self.get_local(*k),
            Expr::Unary(UnOp::Not, a) => {
                let m = self.nmask(a);
                V::One(if self.four() { self.b.ins().bnot(m) } else { self.b.ins().bxor_imm_u(m, 1) })
            }
            Expr::Unary(op, a) => {
                let x = self.nexpr_at(a, w);
                self.nunary(*op, x, w)
            }
            Expr::Binary(op @ (BinOp::And | BinOp::Or), a, b) => {
                let x = self.nmask(a);
                let y = self.nmask(b);
                V::One(if *op == BinOp::And { self.b.ins().band(x, y) } else { self.b.ins().bor(x, y) })
            }
            Expr::Binary(op, a, b) if op.is_comparison() => {
                let ow = self.types.width(a, &self.widths).max(self.types.width(b, &self.widths));
                let ow = ow.unwrap_or(Width::Narrow);
                let x = self.nexpr_at(a, ow);
                let y = self.nexpr_at(b, ow);
                V::One(self.ncompare(*op, x, y))
            }
            Expr::Binary(BinOp::Pow, a, b) => {
                let x = self.nexpr_at(a, w);
                let y = self.nexpr_at(b, w);
                self.ncall("hebb_pow", &[x, y], w)
            }
            Expr::Binary(op, a, b) => {
                let x = self.nexpr_at(a, w);
                let y = self.nexpr_at(b, w);
                self.per_pair(x, y, |b, x, y| match op {
                    BinOp::Add => b.ins().fadd(x, y),
                    BinOp::Sub => b.ins().fsub(x, y),
                    BinOp::Mul => b.ins().fmul(x, y),
                    BinOp::Div => b.ins().fdiv(x, y),
                    BinOp::Min => b.ins().fmin(x, y),
                    _ => b.ins().fmax(x, y),
                })
            }
            Expr::Select(c, a, b) => {
                let m = self.nmask(c);
                let x = self.nexpr_at(a, w);
                let y = self.nexpr_at(b, w);
                self.nselect(m, x, y)
            }
            Expr::Rand(d) => self.ndraw("hebb_rand", *d),
            Expr::Randn(d) => self.ndraw("hebb_randn", *d),
            Expr::Reduce(..) => self.nconst(f64::NAN, w),
        }
    }

    fn nconst(&mut self, c: f64, w: Width) -> V {
        match (w, self.four()) {
            (Width::Narrow, false) => V::One(self.b.ins().f32const(c as f32)),
            (Width::Narrow, true) => {
                let x = self.b.ins().f32const(c as f32);
                V::One(self.b.ins().splat(types::F32X4, x))
            }
            (Width::Wide, false) => V::One(self.b.ins().f64const(c)),
            (Width::Wide, true) => {
                let x = self.b.ins().f64const(c);
                let v = self.b.ins().splat(types::F64X2, x);
                V::Two(v, v)
            }
        }
    }

    /// A slot's value at its own width, from the cache when this element
    /// already loaded or stored it.
    fn nload(&mut self, slot: Slot) -> V {
        if let Some(v) = self.ncache.get(&slot) {
            return *v;
        }
        let addr = self.address(slot);
        let v = if matches!(slot, Slot::Signal(..) | Slot::Factor(_) | Slot::Reduced(_)) {
            // An f64 value read as narrow (one for every element of the
            // four-lane loop: this kernel has no reductions).
            let x = self.b.ins().load(types::F64, flags(), addr, 0);
            let n = self.b.ins().fdemote(types::F32, x);
            V::One(if self.four() { self.b.ins().splat(types::F32X4, n) } else { n })
        } else if self.types.is_f32(slot) {
            V::One(if self.four() {
                self.b.ins().load(types::F32X4, vflags(), addr, 0)
            } else {
                self.b.ins().load(types::F32, flags(), addr, 0)
            })
        } else if self.four() {
            let lo = self.b.ins().load(types::F64X2, vflags(), addr, 0);
            let hi = self.b.ins().load(types::F64X2, vflags(), addr, 16);
            V::Two(lo, hi)
        } else {
            V::One(self.b.ins().load(types::F64, flags(), addr, 0))
        };
        if matches!(slot, Slot::Own(_) | Slot::Signal(..) | Slot::Factor(_)) {
            self.ncache.insert(slot, v);
        }
        v
    }

    /// Time, step and indices: wide.
    fn nbuiltin(&mut self, b: Builtin) -> V {
        let scalar = match b {
            Builtin::T => self.t.expect("t"),
            Builtin::Step => self.step.expect("step"),
            Builtin::Index | Builtin::PreIndex | Builtin::PostIndex => {
                let own = match b {
                    Builtin::Index => self.own,
                    Builtin::PreIndex => self.pre,
                    _ => self.post,
                }
                .expect("element index");
                let f = self.b.ins().fcvt_from_uint(types::F64, own);
                if !self.four() {
                    return V::One(f);
                }
                let mut halves = [f; 2];
                for (h, half) in halves.iter_mut().enumerate() {
                    let mut v = self.b.ins().splat(types::F64X2, f);
                    for lane in 0..2u8 {
                        let k = (2 * h) as f64 + f64::from(lane);
                        if k > 0.0 {
                            let c = self.b.ins().f64const(k);
                            let x = self.b.ins().fadd(f, c);
                            v = self.b.ins().insertlane(v, x, lane);
                        }
                    }
                    *half = v;
                }
                return V::Two(halves[0], halves[1]);
            }
        };
        if self.four() {
            let v = self.b.ins().splat(types::F64X2, scalar);
            V::Two(v, v)
        } else {
            V::One(scalar)
        }
    }

    fn nunary(&mut self, op: UnOp, x: V, w: Width) -> V {
        let name = match op {
            UnOp::Exp => {
                // Inline, in f64 (`crate::math`), rounded back if narrow.
                let wide = self.convert(x, w, Width::Wide);
                let y = self.per_part(wide, crate::math::exp);
                return self.convert(y, Width::Wide, w);
            }
            UnOp::Log => "hebb_log",
            UnOp::Sin => "hebb_sin",
            UnOp::Cos => "hebb_cos",
            UnOp::Tanh => "hebb_tanh",
            _ => {
                return self.per_part(x, |b, x| match op {
                    UnOp::Neg => b.ins().fneg(x),
                    UnOp::Abs => b.ins().fabs(x),
                    UnOp::Sqrt => b.ins().sqrt(x),
                    _ => b.ins().floor(x),
                });
            }
        };
        self.ncall(name, &[x], w)
    }

    fn ncompare(&mut self, op: BinOp, x: V, y: V) -> Value {
        let cc = match op {
            BinOp::Lt => FloatCC::LessThan,
            BinOp::Le => FloatCC::LessThanOrEqual,
            BinOp::Gt => FloatCC::GreaterThan,
            BinOp::Ge => FloatCC::GreaterThanOrEqual,
            BinOp::Eq => FloatCC::Equal,
            _ => FloatCC::NotEqual,
        };
        match self.per_pair(x, y, |b, x, y| b.ins().fcmp(cc, x, y)) {
            V::One(m) => m,
            // Two I64X2 masks: the low 32 bits of each lane make the I32X4.
            V::Two(lo, hi) => self.shuffle32(lo, hi, [0, 2, 4, 6], types::I32X4),
        }
    }

    fn nselect(&mut self, m: Value, x: V, y: V) -> V {
        match (x, y) {
            (V::One(x), V::One(y)) if self.four() => {
                let mask = self.b.ins().bitcast(types::F32X4, lane_cast(), m);
                V::One(self.b.ins().bitselect(mask, x, y))
            }
            (V::One(x), V::One(y)) => V::One(self.b.ins().select(m, x, y)),
            (V::Two(x0, x1), V::Two(y0, y1)) => {
                let mut out = [x0; 2];
                for (h, (x, y)) in [(x0, y0), (x1, y1)].into_iter().enumerate() {
                    let wide = if h == 0 { self.b.ins().swiden_low(m) } else { self.b.ins().swiden_high(m) };
                    let mask = self.b.ins().bitcast(types::F64X2, lane_cast(), wide);
                    out[h] = self.b.ins().bitselect(mask, x, y);
                }
                V::Two(out[0], out[1])
            }
            _ => unreachable!("select of values of different widths"),
        }
    }

    /// Calls a libm wrapper (f64) per lane: narrow arguments are widened
    /// and the result rounded to f32, as the interpreter does.
    fn ncall(&mut self, name: &'static str, args: &[V], w: Width) -> V {
        let f = self.funcs[name];
        let call = |t: &mut Self, xs: &[Value]| -> Value {
            let xs: Vec<Value> =
                xs.iter().map(|x| if w == Width::Narrow { t.b.ins().fpromote(types::F64, *x) } else { *x }).collect();
            let inst = t.b.ins().call(f, &xs);
            let r = t.b.inst_results(inst)[0];
            if w == Width::Narrow { t.b.ins().fdemote(types::F32, r) } else { r }
        };
        if !self.four() {
            let xs: Vec<Value> = args.iter().map(|a| a.one()).collect();
            return V::One(call(self, &xs));
        }
        let lanes = |v: &V, h: usize| match *v {
            V::One(x) => x,
            V::Two(a, b) => [a, b][h],
        };
        let halves = if w == Width::Wide { 2 } else { 1 };
        let per = if w == Width::Wide { 2u8 } else { 4u8 };
        let mut out = [lanes(&args[0], 0); 2];
        for (h, o) in out.iter_mut().enumerate().take(halves) {
            *o = lanes(&args[0], h);
            for lane in 0..per {
                let xs: Vec<Value> = args.iter().map(|a| lanes(a, h)).collect();
                let xs: Vec<Value> = xs.iter().map(|x| self.b.ins().extractlane(*x, lane)).collect();
                let r = call(self, &xs);
                *o = self.b.ins().insertlane(*o, r, lane);
            }
        }
        if w == Width::Wide { V::Two(out[0], out[1]) } else { V::One(out[0]) }
    }

    /// A random draw keyed by (seed, stream, element, step, draw), rounded
    /// to f32.
    fn ndraw(&mut self, name: &'static str, d: u32) -> V {
        let f = self.funcs[name];
        let seed = self.seed.expect("seed");
        let step = self.step.expect("step");
        let stream = self.b.ins().iconst(types::I64, self.stream);
        let draw = self.b.ins().iconst(types::I64, d as i64);
        let own = self.own.expect("element");
        let one = |t: &mut Self, lane: i64| {
            let key = t.b.ins().iadd_imm_s(own, lane);
            let call = t.b.ins().call(f, &[seed, stream, key, step, draw]);
            let r = t.b.inst_results(call)[0];
            t.b.ins().fdemote(types::F32, r)
        };
        if !self.four() {
            return V::One(one(self, 0));
        }
        let zero = self.b.ins().f32const(0.0);
        let mut out = self.b.ins().splat(types::F32X4, zero);
        for lane in 0..4u8 {
            let r = one(self, i64::from(lane));
            out = self.b.ins().insertlane(out, r, lane);
        }
        V::One(out)
    }

    /// Brings `v` from width `from` to `to`.
    fn convert(&mut self, v: V, from: Width, to: Width) -> V {
        match (from, to, v) {
            (a, b, _) if a == b => v,
            (Width::Narrow, _, V::One(x)) if self.four() => {
                let lo = self.b.ins().fvpromote_low(x);
                let high = self.shuffle32(x, x, [2, 3, 2, 3], types::F32X4);
                let hi = self.b.ins().fvpromote_low(high);
                V::Two(lo, hi)
            }
            (Width::Narrow, _, V::One(x)) => V::One(self.b.ins().fpromote(types::F64, x)),
            (Width::Wide, _, V::Two(lo, hi)) => {
                let a = self.b.ins().fvdemote(lo);
                let b = self.b.ins().fvdemote(hi);
                V::One(self.shuffle32(a, b, [0, 1, 4, 5], types::F32X4))
            }
            (Width::Wide, _, V::One(x)) => V::One(self.b.ins().fdemote(types::F32, x)),
            _ => unreachable!("a narrow value in two halves"),
        }
    }

    /// The 32-bit lanes `pick` (0–3 from `a`, 4–7 from `b`) of two
    /// 128-bit vectors, as type `ty`.
    fn shuffle32(&mut self, a: Value, b: Value, pick: [u8; 4], ty: Type) -> Value {
        let bytes: Vec<u8> = pick.iter().flat_map(|l| (0..4).map(move |k| 4 * l + k)).collect();
        let mask = self.b.func.dfg.immediates.push(ConstantData::from(bytes));
        let a = self.b.ins().bitcast(types::I8X16, lane_cast(), a);
        let b = self.b.ins().bitcast(types::I8X16, lane_cast(), b);
        let s = self.b.ins().shuffle(a, b, mask);
        self.b.ins().bitcast(ty, lane_cast(), s)
    }

    fn per_part(&mut self, v: V, mut f: impl FnMut(&mut FunctionBuilder<'_>, Value) -> Value) -> V {
        match v {
            V::One(x) => V::One(f(&mut self.b, x)),
            V::Two(x, y) => {
                let a = f(&mut self.b, x);
                V::Two(a, f(&mut self.b, y))
            }
        }
    }

    fn per_pair(&mut self, x: V, y: V, mut f: impl FnMut(&mut FunctionBuilder<'_>, Value, Value) -> Value) -> V {
        match (x, y) {
            (V::One(x), V::One(y)) => V::One(f(&mut self.b, x, y)),
            (V::Two(x0, x1), V::Two(y0, y1)) => {
                let a = f(&mut self.b, x0, y0);
                V::Two(a, f(&mut self.b, x1, y1))
            }
            _ => unreachable!("an operation on values of different widths"),
        }
    }
}
