//! `exp` emitted inline, for `F64` or two lanes of `F64X2`: the operations
//! of `hebb_ir::math::exp`, in its order, so JIT and interpreter agree bit
//! for bit. No call, so nothing is spilled around it and both lanes are
//! computed at once.

use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{InstBuilder, MemFlagsData as MemFlags, Value, types};
use cranelift_frontend::FunctionBuilder;
use hebb_ir::math::{LN2_HI, LN2_LO, LOG2E, OVERFLOW, SHIFT, TAYLOR, UNDERFLOW};

/// e^x for `x` of type `F64` or `F64X2`.
pub fn exp(b: &mut FunctionBuilder<'_>, x: Value) -> Value {
    let vector = b.func.dfg.value_type(x) == types::F64X2;
    let (fty, ity) = if vector { (types::F64X2, types::I64X2) } else { (types::F64, types::I64) };
    let fc = |b: &mut FunctionBuilder<'_>, v: f64| {
        let c = b.ins().f64const(v);
        if vector { b.ins().splat(fty, c) } else { c }
    };
    let ic = |b: &mut FunctionBuilder<'_>, v: i64| {
        let c = b.ins().iconst(types::I64, v);
        if vector { b.ins().splat(ity, c) } else { c }
    };
    let log2e = fc(b, LOG2E);
    let shift = fc(b, SHIFT);
    let t = b.ins().fmul(x, log2e);
    let t = b.ins().fadd(t, shift);
    let nf = b.ins().fsub(t, shift);
    let tbits = b.ins().bitcast(ity, MemFlags::new(), t);
    let sbits = ic(b, SHIFT.to_bits() as i64);
    let n = b.ins().isub(tbits, sbits);
    let hi = fc(b, LN2_HI);
    let lo = fc(b, LN2_LO);
    let a = b.ins().fmul(nf, hi);
    let r = b.ins().fsub(x, a);
    let a = b.ins().fmul(nf, lo);
    let r = b.ins().fsub(r, a);
    // Estrin's scheme, as `hebb_ir::math::estrin`.
    let fma = |b: &mut FunctionBuilder<'_>, a: Value, c: Value, x: Value| {
        let m = b.ins().fmul(c, x);
        b.ins().fadd(a, m)
    };
    let e = &TAYLOR[1..];
    let q: Vec<Value> = (0..7)
        .map(|j| {
            if j == 6 {
                return fc(b, e[12]);
            }
            let a = fc(b, e[2 * j]);
            let c = fc(b, e[2 * j + 1]);
            fma(b, a, c, r)
        })
        .collect();
    let r2 = b.ins().fmul(r, r);
    let s = [fma(b, q[0], q[1], r2), fma(b, q[2], q[3], r2), fma(b, q[4], q[5], r2), q[6]];
    let r4 = b.ins().fmul(r2, r2);
    let u = [fma(b, s[0], s[1], r4), fma(b, s[2], s[3], r4)];
    let r8 = b.ins().fmul(r4, r4);
    let poly = fma(b, u[0], u[1], r8);
    let one = fc(b, 1.0);
    let p = fma(b, one, r, poly);
    // n1 = ((n + 2048) >> 1) - 1024 (logical shift), n2 = n - n1.
    let c2048 = ic(b, 2048);
    let n1 = b.ins().iadd(n, c2048);
    let one = b.ins().iconst(types::I64, 1);
    let n1 = b.ins().ushr(n1, one);
    let c1024 = ic(b, 1024);
    let n1 = b.ins().isub(n1, c1024);
    let n2 = b.ins().isub(n, n1);
    let bias = ic(b, 1023);
    let fifty_two = b.ins().iconst(types::I64, 52);
    let mut y = p;
    for k in [n1, n2] {
        let e = b.ins().iadd(k, bias);
        let e = b.ins().ishl(e, fifty_two);
        let s = b.ins().bitcast(fty, MemFlags::new(), e);
        y = b.ins().fmul(y, s);
    }
    let inf = fc(b, f64::INFINITY);
    let zero = fc(b, 0.0);
    let over = fc(b, OVERFLOW);
    let under = fc(b, UNDERFLOW);
    let big = b.ins().fcmp(FloatCC::GreaterThan, x, over);
    let small = b.ins().fcmp(FloatCC::LessThan, x, under);
    if vector {
        let small = b.ins().bitcast(fty, MemFlags::new(), small);
        let y = b.ins().bitselect(small, zero, y);
        let big = b.ins().bitcast(fty, MemFlags::new(), big);
        b.ins().bitselect(big, inf, y)
    } else {
        let y = b.ins().select(small, zero, y);
        b.ins().select(big, inf, y)
    }
}
