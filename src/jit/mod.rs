//! The Cranelift JIT: one native function per IR kernel, with the same loop
//! structure and operation order as the interpreter (`ir::interp`), so the
//! two agree bit for bit.
//!
//! Step kernels are vectorized over pairs of neurons with 128-bit `f64x2`
//! values (Cranelift does not auto-vectorize); a scalar loop handles the
//! last odd neuron. Calls to libm functions and random draws are made per
//! lane, to the same Rust functions the interpreter uses.

mod translate;

use crate::abi::KernelArgs;
use crate::ir::{Program, symbolic};
use crate::rng;
use crate::runtime::Backend;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{Context, ir::AbiParam, ir::types};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module};

/// A compiled kernel: `fn(args) -> non-finite accumulator`.
pub type KernelFn = unsafe extern "C" fn(*mut KernelArgs) -> f64;

/// External functions JIT code may call, by symbol name.
pub(crate) const EXTERNS: [(&str, usize); 8] = [
    ("hebb_exp", 1),
    ("hebb_log", 1),
    ("hebb_sin", 1),
    ("hebb_cos", 1),
    ("hebb_tanh", 1),
    ("hebb_pow", 2),
    ("hebb_rand", 5),
    ("hebb_randn", 5),
];

extern "C" fn jit_rand(seed: u64, stream: u64, index: u64, step: f64, draw: u64) -> f64 {
    rng::uniform(seed, stream as u32, index, step as u64, draw as u32)
}

extern "C" fn jit_randn(seed: u64, stream: u64, index: u64, step: f64, draw: u64) -> f64 {
    rng::normal(seed, stream as u32, index, step as u64, draw as u32)
}

fn extern_ptr(name: &str) -> *const u8 {
    match name {
        "hebb_exp" => symbolic::call_exp as *const u8,
        "hebb_log" => symbolic::call_log as *const u8,
        "hebb_sin" => symbolic::call_sin as *const u8,
        "hebb_cos" => symbolic::call_cos as *const u8,
        "hebb_tanh" => symbolic::call_tanh as *const u8,
        "hebb_pow" => symbolic::call_pow as *const u8,
        "hebb_rand" => jit_rand as *const u8,
        _ => jit_randn as *const u8,
    }
}

/// The long-lived JIT state, as in cranelift-jit-demo.
pub struct Jit {
    /// Reused by every function builder, to keep its allocations.
    builder_ctx: FunctionBuilderContext,
    /// The codegen context: holds one function while it is compiled.
    ctx: Context,
    /// Owns the compiled code; freed by [`CompiledProgram`]'s drop.
    module: JITModule,
    /// Ids of the declared external functions, in `EXTERNS` order.
    externs: Vec<FuncId>,
}

impl Jit {
    pub fn new() -> Result<Jit, String> {
        let mut flags = settings::builder();
        let set = |f: &mut settings::Builder, k: &str, v: &str| f.set(k, v).map_err(|e| format!("{k}: {e}"));
        set(&mut flags, "opt_level", "speed")?;
        // The verifier costs 40-60 % of compile time: on in debug builds and
        // tests, off in release.
        set(&mut flags, "enable_verifier", if cfg!(debug_assertions) { "true" } else { "false" })?;
        set(&mut flags, "use_colocated_libcalls", "false")?;
        set(&mut flags, "is_pic", "false")?;
        let isa_builder =
            cranelift_native::builder().map_err(|e| format!("this machine is not supported by Cranelift: {e}"))?;
        let isa = isa_builder.finish(settings::Flags::new(flags)).map_err(|e| e.to_string())?;
        let mut builder = JITBuilder::with_isa(isa, cranelift_module::default_libcall_names());
        for (name, _) in EXTERNS {
            builder.symbol(name, extern_ptr(name));
        }
        let mut module = JITModule::new(builder);
        let mut externs = Vec::new();
        for (name, arity) in EXTERNS {
            let mut sig = module.make_signature();
            if name.starts_with("hebb_rand") {
                for ty in [types::I64, types::I64, types::I64, types::F64, types::I64] {
                    sig.params.push(AbiParam::new(ty));
                }
            } else {
                for _ in 0..arity {
                    sig.params.push(AbiParam::new(types::F64));
                }
            }
            sig.returns.push(AbiParam::new(types::F64));
            externs.push(module.declare_function(name, Linkage::Import, &sig).map_err(|e| e.to_string())?);
        }
        let ctx = module.make_context();
        Ok(Jit { builder_ctx: FunctionBuilderContext::new(), ctx, module, externs })
    }
}

/// Compiled kernels of one program. Dropping it frees the code.
pub struct CompiledProgram {
    module: Option<JITModule>,
    fns: Vec<KernelFn>,
    /// Kernels whose step loop was vectorized.
    pub vectorized: Vec<bool>,
}

impl Drop for CompiledProgram {
    fn drop(&mut self) {
        if let Some(module) = self.module.take() {
            // SAFETY: no function pointer into the module outlives `self`:
            // backends borrow `self`.
            unsafe { module.free_memory() };
        }
    }
}

impl CompiledProgram {
    /// A backend running these kernels.
    pub fn backend(&self) -> JitBackend<'_> {
        JitBackend { fns: &self.fns }
    }
}

pub struct JitBackend<'c> {
    fns: &'c [KernelFn],
}

impl Backend for JitBackend<'_> {
    unsafe fn run(&self, k: u32, args: &mut KernelArgs) -> f64 {
        // SAFETY: forwarded from the caller; the function was compiled for
        // kernel `k` of the program the arguments were built for.
        unsafe { (self.fns[k as usize])(args) }
    }

    fn name(&self) -> &'static str {
        "JIT"
    }
}

/// Compiles every kernel of a program.
pub fn compile(program: &Program) -> Result<CompiledProgram, String> {
    let mut jit = Jit::new()?;
    let mut ids = Vec::new();
    let mut vectorized = Vec::new();
    let mut sizes = Vec::new();
    for (k, kernel) in program.kernels.iter().enumerate() {
        let mut sig = jit.module.make_signature();
        sig.params.push(AbiParam::new(types::I64));
        sig.returns.push(AbiParam::new(types::F64));
        let id = jit.module.declare_function(&format!("k{k}"), Linkage::Local, &sig).map_err(|e| e.to_string())?;
        jit.ctx.func.signature = sig;
        let simd = translate::translate(&mut jit, program, kernel)?;
        vectorized.push(simd);
        let dump = std::env::var_os("HEBB_JIT_DUMP").is_some();
        if dump {
            jit.ctx.set_disasm(true);
            eprintln!("; kernel k{k} \"{}\"\n{}", kernel.name, jit.ctx.func.display());
        }
        jit.module.define_function(id, &mut jit.ctx).map_err(|e| format!("kernel \"{}\": {e:?}", kernel.name))?;
        if dump && let Some(code) = jit.ctx.compiled_code().and_then(|c| c.vcode.clone()) {
            eprintln!("{code}");
        }
        let size = jit.ctx.compiled_code().map(|c| c.code_buffer().len()).unwrap_or(0);
        sizes.push(size);
        jit.module.clear_context(&mut jit.ctx);
        ids.push(id);
    }
    jit.module.finalize_definitions().map_err(|e| e.to_string())?;
    let fns: Vec<KernelFn> = ids
        .iter()
        .map(|id| {
            let ptr = jit.module.get_finalized_function(*id);
            // SAFETY: every kernel was declared with the signature (i64) -> f64.
            unsafe { std::mem::transmute::<*const u8, KernelFn>(ptr) }
        })
        .collect();
    if std::env::var_os("HEBB_PERF_MAP").is_some() {
        write_perf_map(program, &fns, &sizes);
    }
    Ok(CompiledProgram { module: Some(jit.module), fns, vectorized })
}

/// Writes `/tmp/perf-<pid>.map` so that `perf report` names JIT kernels.
fn write_perf_map(program: &Program, fns: &[KernelFn], sizes: &[usize]) {
    use std::io::Write;
    let path = format!("/tmp/perf-{}.map", std::process::id());
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        for (k, (func, size)) in fns.iter().zip(sizes).enumerate() {
            let _ = writeln!(f, "{:x} {:x} hebb_kernel_{}", *func as usize, size, program.kernels[k].name);
        }
    }
}
