//! The Cranelift JIT: one native function per IR kernel, with the same loop
//! structure and operation order as the interpreter (`hebb_ir::interp`), so
//! the two agree bit for bit. This is the only crate that knows Cranelift.
//!
//! Step kernels are vectorized over pairs of neurons with 128-bit `f64x2`
//! values (Cranelift does not auto-vectorize), or over four with `f32x4`
//! under `precision f32`; a scalar loop handles the last neurons. Calls to libm functions and random draws are made per
//! lane, to the same Rust functions the interpreter uses.

mod math;
mod storage;
mod translate;

use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{Context, ir::AbiParam, ir::types};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module};
use hebb_ir::abi::KernelArgs;
use hebb_ir::{KernelId, Kernels, Program, rng, symbolic};

/// Why a program could not be compiled. Every one is a bug in hebb or an
/// unsupported machine, never a problem with the model.
#[derive(Debug, thiserror::Error)]
pub enum JitError {
    #[error("this machine is not supported by Cranelift: {0}")]
    UnsupportedMachine(String),
    #[error("Cranelift setting `{name}`: {message}")]
    Setting { name: &'static str, message: String },
    #[error("kernel \"{kernel}\": {message}")]
    Kernel { kernel: String, message: String },
    #[error("{0}")]
    Module(String),
}

/// What to produce besides the code.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Keep the Cranelift IR and machine code of every kernel as text
    /// ([`Jitted::dump`]).
    pub dump: bool,
}

/// A compiled kernel: `fn(args) -> non-finite accumulator`.
type KernelFn = unsafe extern "C" fn(*mut KernelArgs) -> f64;

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
pub(crate) struct Jit {
    /// Reused by every function builder, to keep its allocations.
    builder_ctx: FunctionBuilderContext,
    /// The codegen context: holds one function while it is compiled.
    ctx: Context,
    /// Owns the compiled code; freed by [`Jitted`]'s drop.
    module: JITModule,
    /// Ids of the declared external functions, in `EXTERNS` order.
    externs: Vec<FuncId>,
}

impl Jit {
    fn new() -> Result<Jit, JitError> {
        let mut flags = settings::builder();
        let set = |f: &mut settings::Builder, name: &'static str, v: &str| {
            f.set(name, v).map_err(|e| JitError::Setting { name, message: e.to_string() })
        };
        set(&mut flags, "opt_level", "speed")?;
        // The verifier costs 40-60 % of compile time: on in debug builds and
        // tests, off in release.
        set(&mut flags, "enable_verifier", if cfg!(debug_assertions) { "true" } else { "false" })?;
        set(&mut flags, "use_colocated_libcalls", "false")?;
        set(&mut flags, "is_pic", "false")?;
        let isa_builder = cranelift_native::builder().map_err(|e| JitError::UnsupportedMachine(e.to_string()))?;
        let isa =
            isa_builder.finish(settings::Flags::new(flags)).map_err(|e| JitError::UnsupportedMachine(e.to_string()))?;
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
            externs.push(module.declare_function(name, Linkage::Import, &sig).map_err(module_error)?);
        }
        let ctx = module.make_context();
        Ok(Jit { builder_ctx: FunctionBuilderContext::new(), ctx, module, externs })
    }
}

fn module_error(e: cranelift_module::ModuleError) -> JitError {
    JitError::Module(e.to_string())
}

/// Where one kernel's machine code is, for profilers' symbol maps.
#[derive(Clone, Debug)]
pub struct CodeRange {
    pub kernel: String,
    pub address: usize,
    pub size: usize,
}

/// A program with its kernels compiled to native code. It owns both, so
/// the code always belongs to the program it runs on; dropping it frees the
/// code.
pub struct Jitted {
    program: Program,
    module: Option<JITModule>,
    fns: Vec<KernelFn>,
    sizes: Vec<usize>,
    vectorized: Vec<bool>,
    dump: Option<String>,
}

impl Drop for Jitted {
    fn drop(&mut self) {
        if let Some(module) = self.module.take() {
            // SAFETY: the function pointers into the module live in `self`
            // and are dropped with it; nothing else holds them.
            unsafe { module.free_memory() };
        }
    }
}

impl Jitted {
    /// Whether kernel `k`'s step loop was vectorized (two neurons per
    /// iteration).
    pub fn vectorized(&self, k: KernelId) -> bool {
        self.vectorized[k.index()]
    }

    /// The Cranelift IR and machine code of every kernel, when compiled
    /// with [`Options::dump`].
    pub fn dump(&self) -> Option<&str> {
        self.dump.as_deref()
    }

    /// Where each kernel's code is (for `perf`'s JIT symbol map).
    pub fn code_ranges(&self) -> Vec<CodeRange> {
        self.fns
            .iter()
            .zip(&self.sizes)
            .zip(&self.program.kernels)
            .map(|((f, size), kernel)| CodeRange { kernel: kernel.name.clone(), address: *f as usize, size: *size })
            .collect()
    }
}

// SAFETY: `program` is never replaced; `fns[k]` was compiled from
// `program.kernels[k]` by `translate`, which keeps the interpreter's
// semantics and memory accesses.
unsafe impl Kernels for Jitted {
    fn program(&self) -> &Program {
        &self.program
    }

    unsafe fn run(&self, k: KernelId, args: &mut KernelArgs) -> f64 {
        // SAFETY: the caller guarantees `args` is valid for kernel `k`, and
        // `fns[k]` is that kernel's code.
        unsafe { (self.fns[k.index()])(args) }
    }

    fn name(&self) -> &'static str {
        "JIT"
    }
}

// SAFETY: the code is immutable once finalized and may run on any thread;
// the module is only touched again by `drop`.
unsafe impl Send for Jitted {}
// SAFETY: as for `Send`; `run` only reads `fns`.
unsafe impl Sync for Jitted {}

/// Compiles every kernel of a program.
pub fn compile(program: Program, options: &Options) -> Result<Jitted, JitError> {
    let mut jit = Jit::new()?;
    let mut ids = Vec::new();
    let mut vectorized = Vec::new();
    let mut sizes = Vec::new();
    let mut dump = options.dump.then(String::new);
    for (k, kernel) in program.kernels.iter().enumerate() {
        let mut sig = jit.module.make_signature();
        sig.params.push(AbiParam::new(types::I64));
        sig.returns.push(AbiParam::new(types::F64));
        let id = jit.module.declare_function(&format!("k{k}"), Linkage::Local, &sig).map_err(module_error)?;
        jit.ctx.func.signature = sig;
        let types = program.slot_types(kernel);
        vectorized.push(translate::translate(&mut jit, kernel, &types));
        if let Some(text) = &mut dump {
            jit.ctx.set_disasm(true);
            text.push_str(&format!("; kernel k{k} \"{}\"\n{}\n", kernel.name, jit.ctx.func.display()));
        }
        jit.module
            .define_function(id, &mut jit.ctx)
            .map_err(|e| JitError::Kernel { kernel: kernel.name.clone(), message: format!("{e:?}") })?;
        if let Some(text) = &mut dump
            && let Some(code) = jit.ctx.compiled_code().and_then(|c| c.vcode.clone())
        {
            text.push_str(&code);
            text.push('\n');
        }
        sizes.push(jit.ctx.compiled_code().map(|c| c.code_buffer().len()).unwrap_or(0));
        jit.module.clear_context(&mut jit.ctx);
        ids.push(id);
    }
    jit.module.finalize_definitions().map_err(module_error)?;
    let fns: Vec<KernelFn> = ids
        .iter()
        .map(|id| {
            let ptr = jit.module.get_finalized_function(*id);
            // SAFETY: every kernel was declared with the signature (i64) -> f64.
            unsafe { std::mem::transmute::<*const u8, KernelFn>(ptr) }
        })
        .collect();
    Ok(Jitted { program, module: Some(jit.module), fns, sizes, vectorized, dump })
}
