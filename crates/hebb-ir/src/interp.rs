//! The reference interpreter of the IR. It runs kernels through the same
//! argument block and loop structure as JIT-compiled code, evaluating each
//! operation exactly as the JIT does (same operators, same libm calls), so
//! the two agree bit for bit. It is the oracle for the JIT, and evaluates
//! initial values and connection rules at construction.

use super::symbolic::{eval_binop, eval_unop};
use super::*;
use crate::abi::KernelArgs;
use crate::rng;

/// The element a body runs for.
#[derive(Clone, Copy, Debug, Default)]
pub struct Element {
    /// Index into own columns (neuron index or synapse id).
    pub own: u64,
    pub pre: u64,
    pub post: u64,
    /// The index random draws are keyed by (the element's id).
    pub key: u64,
}

/// Everything an expression can read.
pub struct Env<'a> {
    pub args: &'a KernelArgs,
    pub el: Element,
    pub stream: u32,
    pub locals: &'a mut [f64],
    /// Kinds of the kernel's reductions (`Slot::Reduced(k)`).
    pub reductions: &'a [Reduce],
    /// Whether stores feed the non-finite check (`ir::checks_stores`).
    pub check_stores: bool,
    /// Which slots hold f32 values (widened on load, rounded on store).
    pub types: &'a SlotTypes,
    /// Widths of the locals when the kernel computes in f32
    /// ([`SlotTypes::narrow`]).
    pub widths: &'a [Width],
}

impl<'a> Env<'a> {
    /// The environment of one element of `kernel`.
    fn for_kernel(
        kernel: &Kernel,
        args: &'a KernelArgs,
        el: Element,
        locals: &'a mut [f64],
        reductions: &'a [Reduce],
        types: &'a SlotTypes,
        widths: &'a [Width],
    ) -> Self {
        let check_stores = checks_stores(kernel.kind);
        Env { args, el, stream: kernel.stream, locals, reductions, check_stores, types, widths }
    }

    /// The value of a slot, widened when it is stored in f32.
    ///
    /// # Safety
    /// As [`Env::slot_ptr`].
    unsafe fn read(&self, s: Slot) -> f64 {
        unsafe {
            let p = self.slot_ptr(s);
            if self.types.is_f32(s) { f64::from(*(p as *const f32)) } else { *p }
        }
    }

    /// Stores `v` into a slot, rounded to the nearest f32 when it is stored
    /// in f32.
    ///
    /// # Safety
    /// As [`Env::slot_ptr`].
    unsafe fn write(&mut self, s: Slot, v: f64) {
        unsafe {
            let p = self.slot_ptr(s);
            if self.types.is_f32(s) {
                *(p as *mut f32) = v as f32;
            } else {
                *p = v;
            }
        }
    }

    /// # Safety
    /// The column pointers in `args` must be valid for the element's indices
    /// (for values of the slot's type: f32 where `types` says so).
    unsafe fn slot_ptr(&self, s: Slot) -> *mut f64 {
        // An element's value is at `base + index * size`, the size of the
        // slot's type.
        let at = |base: *mut f64, index: u64| -> *mut f64 {
            if self.types.is_f32(s) {
                (base as *mut f32).wrapping_add(index as usize) as *mut f64
            } else {
                base.wrapping_add(index as usize)
            }
        };
        unsafe {
            match s {
                Slot::Own(c) => at(*self.args.own.add(c as usize), self.el.own),
                Slot::Pre(c) => at(*self.args.pre.add(c as usize), self.el.pre),
                Slot::Post(c) => at(*self.args.post.add(c as usize), self.el.post),
                Slot::Signal(g, c) => *(*self.args.groups.add(g.index())).add(c as usize),
                Slot::Factor(k) => self.args.factors.add(k as usize) as *mut f64,
                Slot::PreSide(c) => at(*self.args.pre_side.add(c as usize), self.el.pre),
                Slot::PostSide(c) => at(*self.args.post_side.add(c as usize), self.el.post),
                Slot::Reduced(k) => {
                    let at = match self.reductions[k as usize] {
                        Reduce::InSum => self.el.post,
                        Reduce::OutSum => self.el.pre,
                    };
                    self.args.scratch.add(k as usize * self.args.scratch_stride as usize + at as usize)
                }
            }
        }
    }

    /// Evaluates an expression; booleans are 1.0 or 0.0.
    ///
    /// # Safety
    /// As [`Env::slot_ptr`].
    pub unsafe fn eval(&mut self, e: &Expr) -> f64 {
        unsafe {
            match e {
                Expr::Const(v) => *v,
                Expr::Bool(b) => f64::from(*b),
                Expr::Load(s) => self.read(*s),
                Expr::Builtin(b) => match b {
                    Builtin::T => self.args.t,
                    Builtin::Step => self.args.step,
                    Builtin::Index => self.el.own as f64,
                    Builtin::PreIndex => self.el.pre as f64,
                    Builtin::PostIndex => self.el.post as f64,
                },
                Expr::Local(k) => self.locals[*k as usize],
                Expr::Unary(op, a) => eval_unop(*op, self.eval(a)),
                Expr::Binary(BinOp::And, a, b) => f64::from(self.eval(a) != 0.0 && self.eval(b) != 0.0),
                Expr::Binary(BinOp::Or, a, b) => f64::from(self.eval(a) != 0.0 || self.eval(b) != 0.0),
                Expr::Binary(op, a, b) => {
                    let x = self.eval(a);
                    let y = self.eval(b);
                    eval_binop(*op, x, y)
                }
                Expr::Select(c, a, b) => {
                    let c = self.eval(c);
                    let a = self.eval(a);
                    let b = self.eval(b);
                    if c != 0.0 { a } else { b }
                }
                Expr::Rand(d) => rng::uniform(self.args.seed, self.stream, self.el.key, self.args.step as u64, *d),
                Expr::Randn(d) => rng::normal(self.args.seed, self.stream, self.el.key, self.args.step as u64, *d),
                Expr::Reduce(..) => f64::NAN,
            }
        }
    }

    /// Runs statements; returns the non-finite accumulator contribution and
    /// whether a `Spike` fired.
    ///
    /// # Safety
    /// As [`Env::slot_ptr`].
    pub unsafe fn exec(&mut self, body: &[Stmt], acc: &mut f64, spiked: &mut bool) {
        if self.types.narrow() {
            return unsafe { self.exec_narrow(body, acc, spiked) };
        }
        unsafe {
            for s in body {
                match s {
                    Stmt::Let(k, e) => self.locals[*k as usize] = self.eval(e),
                    Stmt::Store(slot, e) => {
                        let v = self.eval(e);
                        // The value computed is checked (as the JIT does),
                        // not the f32 it may be rounded to.
                        self.write(*slot, v);
                        if self.check_stores {
                            // v - v is 0 for finite v and NaN otherwise: the
                            // same non-finite check as the JIT's.
                            #[allow(clippy::eq_op)]
                            let probe = v - v;
                            *acc += probe;
                        }
                    }
                    Stmt::If(c, a, b) => {
                        if self.eval(c) != 0.0 {
                            self.exec(a, acc, spiked)
                        } else {
                            self.exec(b, acc, spiked)
                        }
                    }
                    Stmt::Spike(c) => {
                        if self.eval(c) != 0.0 {
                            *spiked = true;
                        }
                    }
                }
            }
        }
    }

    /// [`Env::exec`] of a kernel that computes in f32: every value is
    /// computed at its [`Width`] and rounded to f32 when narrow (an f64
    /// operation on f32 operands rounded to f32 is the f32 operation, for
    /// `+ - * /` and `sqrt`).
    ///
    /// # Safety
    /// As [`Env::slot_ptr`].
    unsafe fn exec_narrow(&mut self, body: &[Stmt], acc: &mut f64, spiked: &mut bool) {
        unsafe {
            for s in body {
                match s {
                    Stmt::Let(k, e) => self.locals[*k as usize] = self.eval_at(e, self.widths[*k as usize]),
                    Stmt::Store(slot, e) => {
                        let w = self.types.width(e, self.widths).unwrap_or(Width::Narrow);
                        let v = self.eval_at(e, w);
                        self.write(*slot, v);
                        if self.check_stores {
                            #[allow(clippy::eq_op)]
                            let probe = v - v;
                            *acc += probe;
                        }
                    }
                    Stmt::If(c, a, b) => {
                        if self.eval_at(c, Width::Narrow) != 0.0 {
                            self.exec_narrow(a, acc, spiked)
                        } else {
                            self.exec_narrow(b, acc, spiked)
                        }
                    }
                    Stmt::Spike(c) => {
                        if self.eval_at(c, Width::Narrow) != 0.0 {
                            *spiked = true;
                        }
                    }
                }
            }
        }
    }

    /// `e` computed at its own width (`at` for constants) and then brought
    /// to `at`: rounded when wide and `at` is narrow; narrow values are
    /// exact in f64.
    ///
    /// # Safety
    /// As [`Env::slot_ptr`].
    unsafe fn eval_at(&mut self, e: &Expr, at: Width) -> f64 {
        let w = self.types.width(e, self.widths).unwrap_or(at);
        let v = unsafe { self.eval_in(e, w) };
        if at == Width::Narrow && w == Width::Wide { round32(v) } else { v }
    }

    /// # Safety
    /// As [`Env::slot_ptr`].
    unsafe fn eval_in(&mut self, e: &Expr, w: Width) -> f64 {
        let r = |x: f64| if w == Width::Narrow { round32(x) } else { x };
        unsafe {
            match e {
                Expr::Const(v) => r(*v),
                Expr::Load(s) => r(self.read(*s)),
                Expr::Bool(_) | Expr::Builtin(_) | Expr::Local(_) | Expr::Reduce(..) => self.eval(e),
                Expr::Unary(UnOp::Not, a) => eval_unop(UnOp::Not, self.eval_at(a, Width::Narrow)),
                Expr::Unary(op, a) => r(eval_unop(*op, self.eval_at(a, w))),
                Expr::Binary(BinOp::And, a, b) => f64::from(self.eval_at(a, w) != 0.0 && self.eval_at(b, w) != 0.0),
                Expr::Binary(BinOp::Or, a, b) => f64::from(self.eval_at(a, w) != 0.0 || self.eval_at(b, w) != 0.0),
                Expr::Binary(op, a, b) if op.is_comparison() => {
                    let ow = self.types.width(a, self.widths).max(self.types.width(b, self.widths));
                    let ow = ow.unwrap_or(Width::Narrow);
                    let x = self.eval_at(a, ow);
                    let y = self.eval_at(b, ow);
                    eval_binop(*op, x, y)
                }
                Expr::Binary(op, a, b) => {
                    let x = self.eval_at(a, w);
                    let y = self.eval_at(b, w);
                    r(eval_binop(*op, x, y))
                }
                Expr::Select(c, a, b) => {
                    let c = self.eval_at(c, Width::Narrow);
                    let a = self.eval_at(a, w);
                    let b = self.eval_at(b, w);
                    if c != 0.0 { a } else { b }
                }
                Expr::Rand(_) | Expr::Randn(_) => r(self.eval(e)),
            }
        }
    }
}

/// Runs a kernel over the elements its arguments name.
///
/// # Safety
/// All pointers in `args` must be valid for the kernel's kind (see
/// [`KernelArgs`]): columns long enough for every index reached, lists of
/// `list_len` entries, `spikes_out` room for `end - start` entries, and
/// `scratch` room for every reduction.
pub unsafe fn run(kernel: &Kernel, types: &SlotTypes, args: &mut KernelArgs) -> f64 {
    let widths = if types.narrow() { types.local_widths(&kernel.body, kernel.n_locals as usize) } else { Vec::new() };
    let mut runner = Runner {
        kernel,
        types,
        widths,
        locals: vec![0.0; kernel.n_locals as usize],
        acc: 0.0,
        reductions: kernel.reductions.iter().map(|(r, _)| *r).collect(),
    };
    unsafe {
        match kernel.kind {
            KernelKind::Step | KernelKind::Every => runner.range(args),
            KernelKind::Listed => runner.listed(args),
            KernelKind::OnPre => runner.on_pre(args),
            KernelKind::OnPost => runner.on_post(args),
        }
    }
    runner.acc
}

/// One run of a kernel: the loop over its elements for each kernel kind,
/// in the order the JIT's loops take them. Locals are shared by every
/// element, as in JIT-compiled code.
struct Runner<'k> {
    kernel: &'k Kernel,
    types: &'k SlotTypes,
    /// Widths of the locals of a kernel that computes in f32.
    widths: Vec<Width>,
    locals: Vec<f64>,
    /// The non-finite accumulator.
    acc: f64,
    /// Kinds of the kernel's reductions.
    reductions: Vec<Reduce>,
}

impl Runner<'_> {
    /// Runs `body` for one element; returns whether a `Spike` fired.
    ///
    /// # Safety
    /// As [`run`].
    unsafe fn exec(&mut self, args: &KernelArgs, el: Element, body: &[Stmt]) -> bool {
        let mut spiked = false;
        let mut env =
            Env::for_kernel(self.kernel, args, el, &mut self.locals, &self.reductions, self.types, &self.widths);
        unsafe { env.exec(body, &mut self.acc, &mut spiked) };
        spiked
    }

    /// Element `i` of a range: a neuron, or a synapse with its pre and post
    /// neurons.
    ///
    /// # Safety
    /// As [`run`].
    unsafe fn range_element(&self, args: &KernelArgs, i: u64) -> Element {
        if matches!(self.kernel.owner, Owner::Projection(_)) {
            let (pre, post) = unsafe { (*args.syn_pre.add(i as usize) as u64, *args.targets.add(i as usize) as u64) };
            Element { own: i, pre, post, key: i }
        } else {
            Element { own: i, pre: 0, post: 0, key: i }
        }
    }

    /// Step and every kernels: reductions first, over every synapse in
    /// order, then the body for `start..end`, collecting spikes.
    ///
    /// # Safety
    /// As [`run`].
    unsafe fn range(&mut self, args: &mut KernelArgs) {
        unsafe {
            for (k, (r, e)) in self.kernel.reductions.iter().enumerate() {
                for i in args.start..args.end {
                    let el = self.range_element(args, i);
                    let mut env = Env::for_kernel(
                        self.kernel,
                        args,
                        el,
                        &mut self.locals,
                        &self.reductions,
                        self.types,
                        &self.widths,
                    );
                    let v = env.eval(e);
                    let at = if *r == Reduce::InSum { el.post } else { el.pre };
                    *args.scratch.add(k * args.scratch_stride as usize + at as usize) += v;
                }
            }
            let mut n = 0u64;
            for i in args.start..args.end {
                let el = self.range_element(args, i);
                if self.exec(args, el, &self.kernel.body) {
                    *args.spikes_out.add(n as usize) = i as u32;
                    n += 1;
                }
            }
            args.n_spikes = n;
        }
    }

    /// Listed kernels (resets, rates): the body for each listed neuron.
    ///
    /// # Safety
    /// As [`run`].
    unsafe fn listed(&mut self, args: &KernelArgs) {
        unsafe {
            for k in 0..args.list_len as usize {
                let i = *args.list.add(k) as u64;
                self.exec(args, Element { own: i, pre: 0, post: 0, key: i }, &self.kernel.body);
            }
        }
    }

    /// `on pre`: for each listed segment (one presynaptic neuron's synapses
    /// with one delay), the prologue once (without its top-level stores if
    /// `skip_side_stores`), then the body per synapse.
    ///
    /// # Safety
    /// As [`run`].
    unsafe fn on_pre(&mut self, args: &KernelArgs) {
        unsafe {
            for k in 0..args.list_len as usize {
                let seg = *args.list.add(k) as usize;
                let pre = if args.seg_pre.is_null() { seg as u64 } else { *args.seg_pre.add(seg) as u64 };
                let (a, b) = (*args.seg_start.add(seg), *args.seg_end.add(seg));
                if !self.kernel.prologue.is_empty() {
                    let el = Element { own: 0, pre, post: 0, key: pre };
                    if args.skip_side_stores != 0 {
                        for s in self.kernel.prologue.iter().filter(|s| !matches!(s, Stmt::Store(..))) {
                            self.exec(args, el, std::slice::from_ref(s));
                        }
                    } else {
                        self.exec(args, el, &self.kernel.prologue);
                    }
                }
                for syn in a..b {
                    let post = *args.targets.add(syn as usize) as u64;
                    self.exec(args, Element { own: syn as u64, pre, post, key: syn as u64 }, &self.kernel.body);
                }
            }
        }
    }

    /// `on post`: for each listed postsynaptic neuron, the prologue once,
    /// then the body per incoming synapse.
    ///
    /// # Safety
    /// As [`run`].
    unsafe fn on_post(&mut self, args: &KernelArgs) {
        unsafe {
            for k in 0..args.list_len as usize {
                let post = *args.list.add(k) as usize;
                let (a, b) = (*args.post_start.add(post), *args.post_start.add(post + 1));
                if !self.kernel.prologue.is_empty() {
                    let el = Element { own: 0, pre: 0, post: post as u64, key: post as u64 };
                    self.exec(args, el, &self.kernel.prologue);
                }
                for p in a..b {
                    let syn = *args.post_syn.add(2 * p as usize) as u64;
                    let pre = *args.post_syn.add(2 * p as usize + 1) as u64;
                    self.exec(args, Element { own: syn, pre, post: post as u64, key: syn }, &self.kernel.body);
                }
            }
        }
    }
}

/// Evaluates a construction-time expression (an initial value, a
/// connection probability, a delay, a source's rate) for one element.
/// `Load(Own(c))` reads `own_values[c]` (the element's earlier columns);
/// `Index` is `el.own`; draws are keyed by `el.key` at counter `counter`.
pub fn eval_at(e: &Expr, seed: u64, stream: u32, el: Element, counter: u64, own_values: &[f64], t: f64) -> f64 {
    let out_of_range = e.any(&|x| match x {
        Expr::Load(Slot::Own(c)) => *c as usize >= own_values.len(),
        Expr::Load(_) | Expr::Local(_) | Expr::Reduce(..) => true,
        _ => false,
    });
    if out_of_range {
        return f64::NAN;
    }
    let ptrs: Vec<*mut f64> = own_values.iter().map(|v| v as *const f64 as *mut f64).collect();
    let args = KernelArgs { own: ptrs.as_ptr(), seed, t, step: counter as f64, ..KernelArgs::default() };
    let e = symbolic::subst_builtin(e, Builtin::Index, &Expr::Const(el.own as f64));
    // Own columns are one-value arrays, so the element's offset is 0.
    let mut env = Env {
        args: &args,
        el: Element { own: 0, ..el },
        stream,
        locals: &mut [],
        reductions: &[],
        check_stores: true,
        types: &SlotTypes::default(),
        widths: &[],
    };
    // SAFETY: every own column pointer addresses one valid f64, and loads of
    // anything else were rejected above.
    unsafe { env.eval(&e) }
}
