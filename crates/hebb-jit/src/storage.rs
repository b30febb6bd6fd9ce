//! Loads and stores of f32 columns (`precision f32`): values are widened
//! to f64 when loaded and rounded to the nearest f32 when stored, one lane
//! or two at a time, as the interpreter does (`hebb_ir::interp`).

use cranelift_codegen::ir::{Endianness, InstBuilder, MemFlagsData as MemFlags, Value, types};
use cranelift_frontend::FunctionBuilder;

fn lane_cast() -> MemFlags {
    MemFlags::new().with_endianness(Endianness::Little)
}

/// Loads the f32 value(s) at `addr` widened to F64 (lanes 1) or F64X2.
pub fn load_f32(b: &mut FunctionBuilder<'_>, lanes: u8, flags: MemFlags, addr: Value) -> Value {
    if lanes == 2 {
        // Two f32 are 8 bytes: load them as one f64 straight into a vector
        // register (nothing past the second is read, no trip through an
        // integer register), then widen the low two lanes.
        let bits = b.ins().load(types::F64, flags, addr, 0);
        let v = b.ins().scalar_to_vector(types::F64X2, bits);
        let v = b.ins().bitcast(types::F32X4, lane_cast(), v);
        b.ins().fvpromote_low(v)
    } else {
        let x = b.ins().load(types::F32, flags, addr, 0);
        b.ins().fpromote(types::F64, x)
    }
}

/// Stores `v` (F64 or F64X2) rounded to f32 at `addr`; returns the value
/// stored, widened again (what a later load reads).
pub fn store_f32(b: &mut FunctionBuilder<'_>, lanes: u8, flags: MemFlags, v: Value, addr: Value) -> Value {
    if lanes == 2 {
        let narrow = b.ins().fvdemote(v);
        let bits = b.ins().bitcast(types::F64X2, lane_cast(), narrow);
        let low = b.ins().extractlane(bits, 0);
        b.ins().store(flags, low, addr, 0);
        b.ins().fvpromote_low(narrow)
    } else {
        let narrow = b.ins().fdemote(types::F32, v);
        b.ins().store(flags, narrow, addr, 0);
        b.ins().fpromote(types::F64, narrow)
    }
}
