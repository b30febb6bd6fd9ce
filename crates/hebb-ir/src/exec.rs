//! Running kernels: the contract between the runtime, which owns the state
//! and calls kernels, and what executes them — the interpreter here, native
//! code in `hebb-jit`.

use crate::abi::KernelArgs;
use crate::{KernelId, Program, SlotTypes, interp};

/// The kernels of one program, ready to run. The runtime builds a network
/// from `program()` and calls `run` with pointers into that network, so the
/// program and the code that runs must be one: a `Kernels` owns its program
/// and cannot be given another.
///
/// # Safety
///
/// Implementations promise that `program()` returns the same program at
/// every call, and that `run(k, args)` executes kernel `k` of that program
/// with the semantics of [`interp::run`], touching only memory that `args`
/// points to, as [`KernelArgs`] documents for the kernel's kind.
pub unsafe trait Kernels: Send + Sync {
    /// The program these kernels were made from.
    fn program(&self) -> &Program;

    /// Runs kernel `k`; returns the non-finite accumulator (NaN exactly
    /// when a checked store was not finite).
    ///
    /// # Safety
    ///
    /// `args` must be valid for kernel `k` of [`Kernels::program`]: every
    /// pointer the kernel's kind reads points to columns, lists and indices
    /// of the sizes that program gives them (see [`KernelArgs`]).
    unsafe fn run(&self, k: KernelId, args: &mut KernelArgs) -> f64;

    /// What runs the kernels, for summaries: "JIT" or "interpreter".
    fn name(&self) -> &'static str;
}

/// The kernels of a program run by the reference interpreter.
pub struct Interpreted {
    program: Program,
    /// Each kernel's slot types (which columns are f32).
    types: Vec<SlotTypes>,
}

impl Interpreted {
    pub fn new(program: Program) -> Interpreted {
        let types = program.kernels.iter().map(|k| program.slot_types(k)).collect();
        Interpreted { program, types }
    }
}

// SAFETY: `program` is never replaced, and `run` is the interpreter itself.
unsafe impl Kernels for Interpreted {
    fn program(&self) -> &Program {
        &self.program
    }

    unsafe fn run(&self, k: KernelId, args: &mut KernelArgs) -> f64 {
        // SAFETY: the caller guarantees `args` is valid for kernel `k`.
        unsafe { interp::run(self.program.kernel(k), &self.types[k.index()], args) }
    }

    fn name(&self) -> &'static str {
        "interpreter"
    }
}
