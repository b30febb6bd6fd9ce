//! Translates one IR kernel into a Cranelift function. One translator per
//! kernel; every mutable value is a Cranelift `Variable`; blocks are sealed
//! as soon as their predecessors are known.

use super::{EXTERNS, Jit};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{self, FuncRef, InstBuilder, MemFlagsData as MemFlags, Value, types};
use cranelift_frontend::{FunctionBuilder, Variable};
use cranelift_module::Module;
use hebb_ir::abi::offsets;
use hebb_ir::{BinOp, Builtin, Expr, Kernel, KernelKind, Owner, Reduce, Slot, SlotTypes, Stmt, UnOp, Width};
use std::collections::HashMap;

mod narrow;

/// Whether a kernel can run two elements per iteration: a step kernel whose
/// body is straight-line and writes only its own columns.
fn vectorizable(kernel: &Kernel) -> bool {
    if kernel.kind != KernelKind::Step || !matches!(kernel.owner, Owner::Group(_)) {
        return false;
    }
    fn ok(body: &[Stmt]) -> bool {
        body.iter().all(|s| match s {
            Stmt::If(..) => false,
            Stmt::Store(slot, e) => matches!(slot, Slot::Own(_)) && !e.any(&|x| matches!(x, Expr::Reduce(..))),
            Stmt::Let(_, e) | Stmt::Spike(e) => !e.any(&|x| matches!(x, Expr::Reduce(..))),
        })
    }
    ok(&kernel.body)
}

/// Translates `kernel` into `jit.ctx.func`; returns whether it was vectorized.
pub fn translate(jit: &mut Jit, kernel: &Kernel, types: &SlotTypes) -> bool {
    let simd = vectorizable(kernel);
    let narrow = types.narrow();
    let widths = if narrow { types.local_widths(&kernel.body, kernel.n_locals as usize) } else { Vec::new() };
    let mut b = FunctionBuilder::new(&mut jit.ctx.func, &mut jit.builder_ctx);
    let mut funcs = HashMap::new();
    for (k, (name, _)) in EXTERNS.iter().enumerate() {
        let fref = jit.module.declare_func_in_func(jit.externs[k], b.func);
        funcs.insert(*name, fref);
    }
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let args = b.block_params(entry)[0];
    let mut t = Translator {
        b,
        args,
        funcs,
        bases: HashMap::new(),
        locals: Vec::new(),
        local_vars_simd: Vec::new(),
        cache: HashMap::new(),
        lanes: 1,
        own: None,
        pre: None,
        post: None,
        t: None,
        step: None,
        seed: None,
        stream: kernel.stream as i64,
        acc: None,
        acc_simd: None,
        spikes: None,
        pending: Vec::new(),
        check_stores: hebb_ir::checks_stores(kernel.kind),
        reductions: kernel.reductions.iter().map(|(r, _)| *r).collect(),
        synapses: matches!(kernel.owner, Owner::Projection(_)),
        skip_side_stores: None,
        types,
        narrow,
        widths,
        nvars: Vec::new(),
        nvars4: Vec::new(),
        ncache: HashMap::new(),
    };
    t.prologue(kernel);
    match kernel.kind {
        KernelKind::Step | KernelKind::Every => t.range_loop(kernel, simd),
        KernelKind::Listed => t.list_loop(kernel),
        KernelKind::OnPre => t.on_pre_loop(kernel),
        KernelKind::OnPost => t.on_post_loop(kernel),
    }
    t.b.finalize(jit.module.isa().frontend_config());
    simd
}

struct Translator<'a> {
    b: FunctionBuilder<'a>,
    args: Value,
    funcs: HashMap<&'static str, FuncRef>,
    /// Base pointer of each column the kernel uses, loaded once on entry.
    bases: HashMap<Slot, Value>,
    /// Scalar variables of IR locals.
    locals: Vec<Variable>,
    /// Vector variables of IR locals.
    local_vars_simd: Vec<Variable>,
    /// Values of own columns already loaded or stored for this element.
    cache: HashMap<Slot, Value>,
    lanes: u8,
    /// Own element index (i64).
    own: Option<Value>,
    pre: Option<Value>,
    post: Option<Value>,
    t: Option<Value>,
    step: Option<Value>,
    seed: Option<Value>,
    stream: i64,
    /// Scalar non-finite accumulator.
    acc: Option<Variable>,
    acc_simd: Option<Variable>,
    /// Number of spikes written so far (i64).
    spikes: Option<Variable>,
    /// `v - v` of the values stored for the current element.
    pending: Vec<Value>,
    /// Whether stored values feed the non-finite check (see
    /// `ir::checks_stores`).
    check_stores: bool,
    /// Kinds of the kernel's reductions.
    reductions: Vec<Reduce>,
    /// Whether elements are synapses (a projection's step or every kernel).
    synapses: bool,
    /// `on pre`: nonzero when the prologue's stores are to be skipped
    /// (`KernelArgs::skip_side_stores`).
    skip_side_stores: Option<Value>,
    /// Which slots are stored in f32.
    types: &'a SlotTypes,
    /// Whether the kernel computes in f32 (see `narrow`): four lanes in
    /// the vector loop instead of two.
    narrow: bool,
    /// Widths of the locals of a narrow kernel.
    widths: Vec<Width>,
    /// A narrow kernel's locals in the scalar loop (F32 or F64).
    nvars: Vec<Variable>,
    /// ... and in the four-lane loop (F32X4, or two F64X2 halves).
    nvars4: Vec<(Variable, Variable)>,
    /// Values of own columns a narrow kernel already loaded or stored for
    /// this element.
    ncache: HashMap<Slot, narrow::V>,
}

fn flags() -> MemFlags {
    MemFlags::trusted()
}

fn vflags() -> MemFlags {
    MemFlags::new().with_notrap()
}

impl Translator<'_> {
    fn field(&mut self, ty: ir::Type, offset: i32) -> Value {
        self.b.ins().load(ty, flags(), self.args, offset)
    }

    /// Loads everything the body needs that does not change per element.
    fn prologue(&mut self, kernel: &Kernel) {
        let mut slots = Vec::new();
        for s in kernel.body.iter().chain(&kernel.prologue) {
            s.walk_exprs(&mut |e| {
                if let Expr::Load(slot) = e {
                    slots.push(*slot);
                }
            });
            collect_stores(s, &mut slots);
        }
        for (k, (_, e)) in kernel.reductions.iter().enumerate() {
            // The sum is accumulated into its slot even if the body ignores it.
            slots.push(Slot::Reduced(k as u32));
            e.walk(&mut |x| {
                if let Expr::Load(slot) = x {
                    slots.push(*slot);
                }
            });
        }
        slots.sort();
        slots.dedup();
        let own = self.field(types::I64, offsets::OWN);
        let pre = self.field(types::I64, offsets::PRE);
        let post = self.field(types::I64, offsets::POST);
        let groups = self.field(types::I64, offsets::GROUPS);
        let pre_side = self.field(types::I64, offsets::PRE_SIDE);
        let post_side = self.field(types::I64, offsets::POST_SIDE);
        let scratch = self.field(types::I64, offsets::SCRATCH);
        let stride = self.field(types::I64, offsets::SCRATCH_STRIDE);
        let factors = self.field(types::I64, offsets::FACTORS);
        for slot in slots {
            let base = match slot {
                Slot::Own(c) => self.b.ins().load(types::I64, flags(), own, 8 * c as i32),
                Slot::Pre(c) => self.b.ins().load(types::I64, flags(), pre, 8 * c as i32),
                Slot::Post(c) => self.b.ins().load(types::I64, flags(), post, 8 * c as i32),
                Slot::Signal(g, c) => {
                    let cols = self.b.ins().load(types::I64, flags(), groups, 8 * g.0 as i32);
                    self.b.ins().load(types::I64, flags(), cols, 8 * c as i32)
                }
                Slot::Factor(k) => self.b.ins().iadd_imm_s(factors, 8 * k as i64),
                Slot::PreSide(c) => self.b.ins().load(types::I64, flags(), pre_side, 8 * c as i32),
                Slot::PostSide(c) => self.b.ins().load(types::I64, flags(), post_side, 8 * c as i32),
                Slot::Reduced(k) => {
                    // scratch + k * stride * 8
                    let off = self.b.ins().imul_imm_s(stride, 8 * k as i64);
                    self.b.ins().iadd(scratch, off)
                }
            };
            self.bases.insert(slot, base);
        }
        self.t = Some(self.field(types::F64, offsets::T));
        self.step = Some(self.field(types::F64, offsets::STEP));
        self.seed = Some(self.field(types::I64, offsets::SEED));
        for k in 0..kernel.n_locals as usize {
            let v = self.b.declare_var(types::F64);
            self.locals.push(v);
            let w = self.b.declare_var(types::F64X2);
            self.local_vars_simd.push(w);
            if self.narrow {
                let wide = self.widths[k] == Width::Wide;
                let n = self.b.declare_var(if wide { types::F64 } else { types::F32 });
                self.nvars.push(n);
                let a = self.b.declare_var(if wide { types::F64X2 } else { types::F32X4 });
                let b = self.b.declare_var(types::F64X2);
                self.nvars4.push((a, b));
            }
        }
        let acc = self.b.declare_var(types::F64);
        let zero = self.b.ins().f64const(0.0);
        self.b.def_var(acc, zero);
        self.acc = Some(acc);
        // A narrow kernel's vector loop checks four f32 lanes.
        let (acc_ty, zv) = if self.narrow {
            let z = self.b.ins().f32const(0.0);
            (types::F32X4, self.b.ins().splat(types::F32X4, z))
        } else {
            (types::F64X2, self.b.ins().splat(types::F64X2, zero))
        };
        let acc_simd = self.b.declare_var(acc_ty);
        self.b.def_var(acc_simd, zv);
        self.acc_simd = Some(acc_simd);
        let spikes = self.b.declare_var(types::I64);
        let z = self.b.ins().iconst(types::I64, 0);
        self.b.def_var(spikes, z);
        self.spikes = Some(spikes);
    }

    /// Returns the accumulated non-finite check and writes the spike count.
    fn epilogue(&mut self) {
        let acc = self.b.use_var(self.acc.expect("acc"));
        let accv = self.b.use_var(self.acc_simd.expect("acc"));
        let mut s = acc;
        for lane in 0..if self.narrow { 4 } else { 2 } {
            let mut l = self.b.ins().extractlane(accv, lane);
            if self.narrow {
                l = self.b.ins().fpromote(types::F64, l);
            }
            s = self.b.ins().fadd(s, l);
        }
        let n = self.b.use_var(self.spikes.expect("spikes"));
        self.b.ins().store(flags(), n, self.args, offsets::N_SPIKES);
        self.b.ins().return_(&[s]);
    }

    /// `for i in start..end { body }`, two elements at a time when `simd`
    /// (four when the kernel computes in f32).
    fn range_loop(&mut self, kernel: &Kernel, simd: bool) {
        let start = self.field(types::I64, offsets::START);
        let end = self.field(types::I64, offsets::END);
        let i = self.b.declare_var(types::I64);
        self.b.def_var(i, start);
        if simd {
            let header = self.b.create_block();
            let body = self.b.create_block();
            let done = self.b.create_block();
            self.b.ins().jump(header, &[]);
            self.b.switch_to_block(header);
            let lanes = if self.narrow { 4 } else { 2 };
            let iv = self.b.use_var(i);
            let next = self.b.ins().iadd_imm_s(iv, lanes);
            let fits = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, next, end);
            self.b.ins().brif(fits, body, &[], done, &[]);
            self.b.switch_to_block(body);
            self.b.seal_block(body);
            self.lanes = lanes as u8;
            self.own = Some(iv);
            self.element(&kernel.body);
            let iv = self.b.use_var(i);
            let next = self.b.ins().iadd_imm_s(iv, lanes);
            self.b.def_var(i, next);
            self.b.ins().jump(header, &[]);
            self.b.seal_block(header);
            self.b.switch_to_block(done);
            self.b.seal_block(done);
            self.lanes = 1;
        }
        // Reductions of a projection's every kernel: one pass over the
        // synapses per reduction, in synapse order, before the body.
        for (k, (r, e)) in kernel.reductions.iter().enumerate() {
            let iv0 = self.b.use_var(i);
            self.counted(iv0, end, |t, syn| {
                t.synapse_element(syn);
                t.cache.clear();
                let v = t.expr(e);
                let at = if *r == Reduce::InSum { t.post } else { t.pre }.expect("index");
                let base = t.bases[&Slot::Reduced(k as u32)];
                let off = t.b.ins().ishl_imm_u(at, 3);
                let addr = t.b.ins().iadd(base, off);
                let old = t.b.ins().load(types::F64, flags(), addr, 0);
                let new = t.b.ins().fadd(old, v);
                t.b.ins().store(flags(), new, addr, 0);
            });
        }
        let header = self.b.create_block();
        let body = self.b.create_block();
        let exit = self.b.create_block();
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(header);
        let iv = self.b.use_var(i);
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, iv, end);
        self.b.ins().brif(more, body, &[], exit, &[]);
        self.b.switch_to_block(body);
        self.b.seal_block(body);
        if self.synapses {
            self.synapse_element(iv);
        } else {
            self.own = Some(iv);
        }
        self.element(&kernel.body);
        let iv = self.b.use_var(i);
        let next = self.b.ins().iadd_imm_s(iv, 1);
        self.b.def_var(i, next);
        self.b.ins().jump(header, &[]);
        self.b.seal_block(header);
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
        self.epilogue();
    }

    /// Sets the element to synapse `syn` with its pre and post neurons.
    fn synapse_element(&mut self, syn: Value) {
        let syn_pre = self.field(types::I64, offsets::SYN_PRE);
        let targets = self.field(types::I64, offsets::TARGETS);
        let pre = self.load_u32(syn_pre, syn);
        let post = self.load_u32(targets, syn);
        self.own = Some(syn);
        self.pre = Some(pre);
        self.post = Some(post);
    }

    /// The once-per-spike statements of an event kernel.
    fn prologue_stmts(&mut self, kernel: &Kernel) {
        if kernel.prologue.is_empty() {
            return;
        }
        self.cache.clear();
        self.pending.clear();
        let Some(skip) = self.skip_side_stores else {
            self.stmts(&kernel.prologue);
            self.flush_pending();
            self.cache.clear();
            return;
        };
        // Each run of top-level stores only if they are not skipped.
        let mut k = 0;
        while k < kernel.prologue.len() {
            let stores = kernel.prologue[k..].iter().take_while(|s| matches!(s, Stmt::Store(..))).count();
            if stores == 0 {
                self.stmt(&kernel.prologue[k]);
                k += 1;
                continue;
            }
            self.flush_pending();
            let store_block = self.b.create_block();
            let after = self.b.create_block();
            self.b.ins().brif(skip, after, &[], store_block, &[]);
            self.b.switch_to_block(store_block);
            self.b.seal_block(store_block);
            self.stmts(&kernel.prologue[k..k + stores]);
            self.flush_pending();
            self.b.ins().jump(after, &[]);
            self.b.switch_to_block(after);
            self.b.seal_block(after);
            self.cache.clear();
            k += stores;
        }
        self.flush_pending();
        self.cache.clear();
    }

    /// A counted loop `for k in 0..n { f(k) }` built from blocks.
    fn counted(&mut self, from: Value, to: Value, mut body: impl FnMut(&mut Self, Value)) {
        let k = self.b.declare_var(types::I64);
        self.b.def_var(k, from);
        let header = self.b.create_block();
        let block = self.b.create_block();
        let exit = self.b.create_block();
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(header);
        let kv = self.b.use_var(k);
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, kv, to);
        self.b.ins().brif(more, block, &[], exit, &[]);
        self.b.switch_to_block(block);
        self.b.seal_block(block);
        body(self, kv);
        let kv = self.b.use_var(k);
        let next = self.b.ins().iadd_imm_s(kv, 1);
        self.b.def_var(k, next);
        self.b.ins().jump(header, &[]);
        self.b.seal_block(header);
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
    }

    /// Loads `ptr[idx]` of a u32 array as i64.
    fn load_u32(&mut self, ptr: Value, idx: Value) -> Value {
        let off = self.b.ins().ishl_imm_u(idx, 2);
        let addr = self.b.ins().iadd(ptr, off);
        let v = self.b.ins().load(types::I32, flags(), addr, 0);
        self.b.ins().uextend(types::I64, v)
    }

    fn list_loop(&mut self, kernel: &Kernel) {
        let list = self.field(types::I64, offsets::LIST);
        let len = self.field(types::I64, offsets::LIST_LEN);
        let zero = self.b.ins().iconst(types::I64, 0);
        self.counted(zero, len, |t, k| {
            let i = t.load_u32(list, k);
            t.own = Some(i);
            t.element(&kernel.body);
        });
        self.epilogue();
    }

    fn on_pre_loop(&mut self, kernel: &Kernel) {
        let list = self.field(types::I64, offsets::LIST);
        let len = self.field(types::I64, offsets::LIST_LEN);
        let seg_start = self.field(types::I64, offsets::SEG_START);
        let seg_end = self.field(types::I64, offsets::SEG_END);
        let seg_pre = self.field(types::I64, offsets::SEG_PRE);
        let targets = self.field(types::I64, offsets::TARGETS);
        if !kernel.prologue.is_empty() {
            self.skip_side_stores = Some(self.field(types::I64, offsets::SKIP_SIDE_STORES));
        }
        let zero = self.b.ins().iconst(types::I64, 0);
        self.counted(zero, len, |t, k| {
            let seg = t.load_u32(list, k);
            let pre = t.load_u32(seg_pre, seg);
            let a = t.load_u32(seg_start, seg);
            let b = t.load_u32(seg_end, seg);
            t.pre = Some(pre);
            t.own = None;
            t.post = None;
            t.prologue_stmts(kernel);
            t.counted(a, b, |t, syn| {
                let post = t.load_u32(targets, syn);
                t.own = Some(syn);
                t.pre = Some(pre);
                t.post = Some(post);
                t.element(&kernel.body);
            });
        });
        self.epilogue();
    }

    fn on_post_loop(&mut self, kernel: &Kernel) {
        let list = self.field(types::I64, offsets::LIST);
        let len = self.field(types::I64, offsets::LIST_LEN);
        let post_start = self.field(types::I64, offsets::POST_START);
        let post_syn = self.field(types::I64, offsets::POST_SYN);
        let zero = self.b.ins().iconst(types::I64, 0);
        self.counted(zero, len, |t, k| {
            let post = t.load_u32(list, k);
            let a = t.load_u32(post_start, post);
            let post1 = t.b.ins().iadd_imm_s(post, 1);
            let b = t.load_u32(post_start, post1);
            t.post = Some(post);
            t.own = None;
            t.pre = None;
            t.prologue_stmts(kernel);
            t.counted(a, b, |t, p| {
                // Entries are (synapse, presynaptic neuron) pairs, read in
                // order: no dependent load of the synapse's pre neuron.
                let p2 = t.b.ins().ishl_imm_u(p, 1);
                let syn = t.load_u32(post_syn, p2);
                let p21 = t.b.ins().iadd_imm_s(p2, 1);
                let pre = t.load_u32(post_syn, p21);
                t.own = Some(syn);
                t.pre = Some(pre);
                t.post = Some(post);
                t.element(&kernel.body);
            });
        });
        self.epilogue();
    }

    /// The body for one element (or one pair), then the non-finite check.
    fn element(&mut self, body: &[Stmt]) {
        if self.narrow {
            return self.narrow_element(body);
        }
        self.cache.clear();
        self.pending.clear();
        self.stmts(body);
        self.flush_pending();
    }

    /// Adds the pending `v - v` terms to the accumulator as a balanced sum.
    fn flush_pending(&mut self) {
        let mut terms = std::mem::take(&mut self.pending);
        if terms.is_empty() {
            return;
        }
        while terms.len() > 1 {
            let mut next = Vec::with_capacity(terms.len().div_ceil(2));
            for pair in terms.chunks(2) {
                next.push(if pair.len() == 2 { self.b.ins().fadd(pair[0], pair[1]) } else { pair[0] });
            }
            terms = next;
        }
        let acc = if self.lanes > 1 { self.acc_simd } else { self.acc }.expect("acc");
        let a = self.b.use_var(acc);
        let a = self.b.ins().fadd(a, terms[0]);
        self.b.def_var(acc, a);
    }

    fn stmts(&mut self, body: &[Stmt]) {
        for s in body {
            self.stmt(s);
        }
    }

    fn stmt(&mut self, s: &Stmt) {
        match s {
            Stmt::Let(k, e) => {
                let v = self.expr(e);
                let var = if self.lanes == 2 { self.local_vars_simd[*k as usize] } else { self.locals[*k as usize] };
                self.b.def_var(var, v);
            }
            Stmt::Store(slot, e) => self.store(*slot, e),
            Stmt::If(c, then_body, else_body) => self.if_else(c, then_body, else_body),
            Stmt::Spike(c) => self.spike(c),
        }
    }

    fn store(&mut self, slot: Slot, e: &Expr) {
        let v = self.expr(e);
        // Non-finite check: v - v is NaN iff v is not finite. The
        // differences are summed per element and added to the
        // accumulator once, to keep the loop-carried chain short. (It
        // checks the value computed: one that overflows f32 is stored as
        // inf and caught when the next step stores what it makes of it.)
        if self.check_stores {
            let d = self.b.ins().fsub(v, v);
            self.pending.push(d);
        }
        let addr = self.address(slot);
        let fl = if self.lanes == 2 { vflags() } else { flags() };
        let v = if self.types.is_f32(slot) {
            crate::storage::store_f32(&mut self.b, self.lanes, fl, v, addr)
        } else {
            self.b.ins().store(fl, v, addr, 0);
            v
        };
        if matches!(slot, Slot::Own(_)) {
            self.cache.insert(slot, v);
        } else {
            // Pre and post columns may alias each other (autapses).
            self.cache.retain(|s, _| matches!(s, Slot::Own(_)));
        }
    }

    fn if_else(&mut self, c: &Expr, then_body: &[Stmt], else_body: &[Stmt]) {
        self.flush_pending();
        let cond = self.expr(c);
        self.branches(cond, then_body, else_body, Self::stmts);
    }

    /// `if cond { then_body } else { else_body }` (scalar), the bodies
    /// translated by `body`. Values loaded or computed in a branch are not
    /// available after it.
    fn branches(&mut self, cond: Value, then_body: &[Stmt], else_body: &[Stmt], body: fn(&mut Self, &[Stmt])) {
        let then_block = self.b.create_block();
        let else_block = self.b.create_block();
        let merge = self.b.create_block();
        self.b.ins().brif(cond, then_block, &[], else_block, &[]);
        self.b.switch_to_block(then_block);
        self.b.seal_block(then_block);
        let saved = (self.cache.clone(), self.ncache.clone());
        body(self, then_body);
        self.flush_pending();
        self.b.ins().jump(merge, &[]);
        self.b.switch_to_block(else_block);
        self.b.seal_block(else_block);
        (self.cache, self.ncache) = saved;
        body(self, else_body);
        self.flush_pending();
        self.b.ins().jump(merge, &[]);
        self.b.switch_to_block(merge);
        self.b.seal_block(merge);
        self.cache.clear();
        self.ncache.clear();
    }

    fn spike(&mut self, c: &Expr) {
        let cond = self.expr(c);
        self.spike_mask(cond);
    }

    /// Records the element(s) whose lane of `cond` is set.
    fn spike_mask(&mut self, cond: Value) {
        if self.lanes == 1 {
            self.record_spikes(cond);
            return;
        }
        // Several lanes: most do not spike, so test them at once (one
        // movmsk) and record only when one did.
        let bits = self.b.ins().vhigh_bits(types::I8, cond);
        let fired = self.b.create_block();
        let merge = self.b.create_block();
        self.b.ins().brif(bits, fired, &[], merge, &[]);
        self.b.switch_to_block(fired);
        self.b.seal_block(fired);
        self.record_spikes(cond);
        self.b.ins().jump(merge, &[]);
        self.b.switch_to_block(merge);
        self.b.seal_block(merge);
    }

    /// Appends the element(s) whose lane of `cond` is set to the spike list.
    fn record_spikes(&mut self, cond: Value) {
        let out = self.field(types::I64, offsets::SPIKES_OUT);
        let own = self.own.expect("own index");
        let spikes = self.spikes.expect("spikes");
        // Branch-free: write the index at the next free place and
        // advance by one only if the neuron spiked. The place is
        // never beyond the neuron's own index, so it is in bounds.
        for lane in 0..self.lanes {
            let fired = if self.lanes > 1 {
                let m = self.b.ins().extractlane(cond, lane);
                let m = self.b.ins().band_imm_u(m, 1);
                if self.b.func.dfg.value_type(m) == types::I64 { m } else { self.b.ins().uextend(types::I64, m) }
            } else {
                self.b.ins().uextend(types::I64, cond)
            };
            let n = self.b.use_var(spikes);
            let idx = self.b.ins().iadd_imm_s(own, lane as i64);
            let idx32 = self.b.ins().ireduce(types::I32, idx);
            let off = self.b.ins().ishl_imm_u(n, 2);
            let addr = self.b.ins().iadd(out, off);
            self.b.ins().store(flags(), idx32, addr, 0);
            let n2 = self.b.ins().iadd(n, fired);
            self.b.def_var(spikes, n2);
        }
    }

    /// Address of a slot for the current element.
    fn address(&mut self, slot: Slot) -> Value {
        let base = self.bases[&slot];
        let index = match slot {
            Slot::Own(_) => self.own,
            Slot::Pre(_) => self.pre,
            Slot::Post(_) => self.post,
            Slot::Signal(..) | Slot::Factor(_) => return base,
            Slot::PreSide(_) => self.pre,
            Slot::PostSide(_) => self.post,
            Slot::Reduced(k) => match self.reductions[k as usize] {
                Reduce::InSum => self.post,
                Reduce::OutSum => self.pre,
            },
        }
        .expect("element index");
        let shift = if self.types.is_f32(slot) { 2 } else { 3 };
        let off = self.b.ins().ishl_imm_u(index, shift);
        self.b.ins().iadd(base, off)
    }

    fn fconst(&mut self, v: f64) -> Value {
        let c = self.b.ins().f64const(v);
        if self.lanes == 2 { self.b.ins().splat(types::F64X2, c) } else { c }
    }

    fn splat(&mut self, v: Value) -> Value {
        if self.lanes == 2 { self.b.ins().splat(types::F64X2, v) } else { v }
    }

    /// Numbers are F64 (or F64X2); conditions are I8 (or an I64X2 mask).
    /// Operands are translated left to right.
    fn expr(&mut self, e: &Expr) -> Value {
        match e {
            Expr::Const(v) => self.fconst(*v),
            Expr::Bool(b) => self.bool_const(*b),
            Expr::Load(slot) => self.load(*slot),
            Expr::Builtin(b) => self.builtin(*b),
            Expr::Local(k) => {
                let var = if self.lanes == 2 { self.local_vars_simd[*k as usize] } else { self.locals[*k as usize] };
                self.b.use_var(var)
            }
            Expr::Unary(op, a) => {
                let x = self.expr(a);
                self.unary(*op, x)
            }
            Expr::Binary(op, a, b) => {
                let x = self.expr(a);
                let y = self.expr(b);
                self.binary(*op, x, y)
            }
            Expr::Select(c, a, b) => {
                let c = self.expr(c);
                let x = self.expr(a);
                let y = self.expr(b);
                self.select(c, x, y)
            }
            Expr::Rand(d) => self.draw("hebb_rand", *d),
            Expr::Randn(d) => self.draw("hebb_randn", *d),
            // Reductions are rejected by the verifier outside every-kernels
            // of projections, which this build does not compile to reductions.
            Expr::Reduce(..) => self.fconst(f64::NAN),
        }
    }

    fn bool_const(&mut self, b: bool) -> Value {
        if self.lanes == 4 {
            let v = self.b.ins().iconst(types::I32, if b { -1 } else { 0 });
            self.b.ins().splat(types::I32X4, v)
        } else if self.lanes == 2 {
            let v = self.b.ins().iconst(types::I64, if b { -1 } else { 0 });
            self.b.ins().splat(types::I64X2, v)
        } else {
            self.b.ins().iconst(types::I8, i64::from(b))
        }
    }

    /// A slot's value for the current element, from the cache when this
    /// element already loaded or stored it.
    fn load(&mut self, slot: Slot) -> Value {
        if let Some(v) = self.cache.get(&slot) {
            return *v;
        }
        let addr = self.address(slot);
        let v = if self.lanes == 2 && matches!(slot, Slot::Signal(..) | Slot::Factor(_)) {
            // One value for every element: load once, splat.
            let x = self.b.ins().load(types::F64, flags(), addr, 0);
            self.b.ins().splat(types::F64X2, x)
        } else if self.types.is_f32(slot) {
            let fl = if self.lanes == 2 { vflags() } else { flags() };
            crate::storage::load_f32(&mut self.b, self.lanes, fl, addr)
        } else if self.lanes == 2 {
            self.b.ins().load(types::F64X2, vflags(), addr, 0)
        } else {
            self.b.ins().load(types::F64, flags(), addr, 0)
        };
        if matches!(slot, Slot::Own(_) | Slot::Signal(..) | Slot::Factor(_)) {
            self.cache.insert(slot, v);
        }
        v
    }

    fn builtin(&mut self, b: Builtin) -> Value {
        match b {
            Builtin::T => {
                let t = self.t.expect("t");
                self.splat(t)
            }
            Builtin::Step => {
                let s = self.step.expect("step");
                self.splat(s)
            }
            Builtin::Index => self.index_value(self.own),
            Builtin::PreIndex => self.index_value(self.pre),
            Builtin::PostIndex => self.index_value(self.post),
        }
    }

    /// Exp, Log, Sin, Cos and Tanh call the functions the interpreter
    /// calls (`symbolic::call_*`), so the two agree bit for bit.
    fn unary(&mut self, op: UnOp, x: Value) -> Value {
        match op {
            UnOp::Neg => self.b.ins().fneg(x),
            UnOp::Abs => self.b.ins().fabs(x),
            UnOp::Sqrt => self.b.ins().sqrt(x),
            UnOp::Floor => self.b.ins().floor(x),
            UnOp::Not => {
                if self.lanes == 2 {
                    self.b.ins().bnot(x)
                } else {
                    self.b.ins().bxor_imm_u(x, 1)
                }
            }
            UnOp::Exp => crate::math::exp(&mut self.b, x),
            UnOp::Log => self.call1("hebb_log", x),
            UnOp::Sin => self.call1("hebb_sin", x),
            UnOp::Cos => self.call1("hebb_cos", x),
            UnOp::Tanh => self.call1("hebb_tanh", x),
        }
    }

    fn binary(&mut self, op: BinOp, x: Value, y: Value) -> Value {
        match op {
            BinOp::Add => self.b.ins().fadd(x, y),
            BinOp::Sub => self.b.ins().fsub(x, y),
            BinOp::Mul => self.b.ins().fmul(x, y),
            BinOp::Div => self.b.ins().fdiv(x, y),
            BinOp::Min => self.b.ins().fmin(x, y),
            BinOp::Max => self.b.ins().fmax(x, y),
            BinOp::Pow => self.call2("hebb_pow", x, y),
            BinOp::And => self.b.ins().band(x, y),
            BinOp::Or => self.b.ins().bor(x, y),
            BinOp::Lt => self.b.ins().fcmp(FloatCC::LessThan, x, y),
            BinOp::Le => self.b.ins().fcmp(FloatCC::LessThanOrEqual, x, y),
            BinOp::Gt => self.b.ins().fcmp(FloatCC::GreaterThan, x, y),
            BinOp::Ge => self.b.ins().fcmp(FloatCC::GreaterThanOrEqual, x, y),
            BinOp::Eq => self.b.ins().fcmp(FloatCC::Equal, x, y),
            BinOp::Ne => self.b.ins().fcmp(FloatCC::NotEqual, x, y),
        }
    }

    /// `c ? x : y`; with two lanes, a bit select by the lane mask (cast to
    /// the values' type when they are numbers).
    fn select(&mut self, c: Value, x: Value, y: Value) -> Value {
        if self.lanes == 2 {
            let ty = self.b.func.dfg.value_type(x);
            let mask = if ty == types::F64X2 { self.b.ins().bitcast(types::F64X2, MemFlags::new(), c) } else { c };
            self.b.ins().bitselect(mask, x, y)
        } else {
            self.b.ins().select(c, x, y)
        }
    }

    fn index_value(&mut self, idx: Option<Value>) -> Value {
        let i = idx.expect("element index");
        let f = self.b.ins().fcvt_from_uint(types::F64, i);
        if self.lanes == 2 {
            let one = self.b.ins().f64const(1.0);
            let f1 = self.b.ins().fadd(f, one);
            let v = self.b.ins().splat(types::F64X2, f);
            self.b.ins().insertlane(v, f1, 1)
        } else {
            f
        }
    }

    /// Calls a scalar function per lane.
    fn call1(&mut self, name: &'static str, x: Value) -> Value {
        let f = self.funcs[name];
        if self.lanes == 1 {
            let call = self.b.ins().call(f, &[x]);
            return self.b.inst_results(call)[0];
        }
        let mut out = x;
        for lane in 0..2u8 {
            let xl = self.b.ins().extractlane(x, lane);
            let call = self.b.ins().call(f, &[xl]);
            let r = self.b.inst_results(call)[0];
            out = self.b.ins().insertlane(out, r, lane);
        }
        out
    }

    fn call2(&mut self, name: &'static str, x: Value, y: Value) -> Value {
        let f = self.funcs[name];
        if self.lanes == 1 {
            let call = self.b.ins().call(f, &[x, y]);
            return self.b.inst_results(call)[0];
        }
        let mut out = x;
        for lane in 0..2u8 {
            let xl = self.b.ins().extractlane(x, lane);
            let yl = self.b.ins().extractlane(y, lane);
            let call = self.b.ins().call(f, &[xl, yl]);
            let r = self.b.inst_results(call)[0];
            out = self.b.ins().insertlane(out, r, lane);
        }
        out
    }

    /// A random draw keyed by (seed, stream, element, step, draw).
    fn draw(&mut self, name: &'static str, d: u32) -> Value {
        let f = self.funcs[name];
        let seed = self.seed.expect("seed");
        let step = self.step.expect("step");
        let stream = self.b.ins().iconst(types::I64, self.stream);
        let draw = self.b.ins().iconst(types::I64, d as i64);
        let own = self.own.expect("element");
        if self.lanes == 1 {
            let call = self.b.ins().call(f, &[seed, stream, own, step, draw]);
            return self.b.inst_results(call)[0];
        }
        let zero = self.b.ins().f64const(0.0);
        let mut out = self.b.ins().splat(types::F64X2, zero);
        for lane in 0..2u8 {
            let key = self.b.ins().iadd_imm_s(own, lane as i64);
            let call = self.b.ins().call(f, &[seed, stream, key, step, draw]);
            let r = self.b.inst_results(call)[0];
            out = self.b.ins().insertlane(out, r, lane);
        }
        out
    }
}

fn collect_stores(s: &Stmt, out: &mut Vec<Slot>) {
    match s {
        Stmt::Store(slot, _) => out.push(*slot),
        Stmt::If(_, a, b) => a.iter().chain(b).for_each(|x| collect_stores(x, out)),
        _ => {}
    }
}
