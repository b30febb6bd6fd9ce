//! A projection's kernels: `on pre` and `on post` (built in
//! [`super::event_kernel`]), the `every` blocks, the per-step kernel of
//! continuous ODEs, and the frozen twin of each plastic kernel, which runs
//! while plasticity is off.

use super::VarMaps;
use super::analysis::Block;
use super::layout::{Layout, Loc};
use crate::integrate::{self, Locals, OdeVar, System};
use crate::{Ctx, Lowerer};
use hebb_ir::symbolic::fold;
use hebb_ir::{Builtin, Expr, KernelId, KernelKind, Owner, ProjectionId, Reduce, Slot, Stmt};
use hebb_lang::diag::Diagnostic;
use hebb_lang::hir::{self, Method};

/// The code of one kernel before it is added to the program.
pub(super) struct KernelCode {
    /// Once per spike (event kernels only).
    pub(super) prologue: Vec<Stmt>,
    /// Sums over synapses computed before the body (`every` kernels only).
    pub(super) reductions: Vec<(Reduce, Expr)>,
    pub(super) body: Vec<Stmt>,
    pub(super) n_locals: u32,
}

/// The kernels of one projection, before they are added to the program.
pub(super) struct ProjectionKernels {
    on_pre: Option<KernelCode>,
    on_post: Option<KernelCode>,
    /// Each `every` block with its period in steps.
    every: Vec<(u64, KernelCode)>,
    /// Continuous ODEs.
    step: Option<KernelCode>,
}

/// The numbers of a projection's kernels in the program.
#[derive(Default)]
pub(super) struct ProjectionKernelIds {
    pub(super) on_pre: Option<KernelId>,
    pub(super) frozen_on_pre: Option<KernelId>,
    pub(super) on_post: Option<KernelId>,
    pub(super) frozen_on_post: Option<KernelId>,
    pub(super) every: Vec<(u64, KernelId)>,
    pub(super) frozen_every: Vec<(u64, KernelId)>,
    pub(super) step: Option<KernelId>,
}

impl Lowerer<'_> {
    /// Every kernel of a projection's synapse.
    pub(super) fn projection_kernels(
        &mut self,
        syn: &hir::SynapseInstance,
        lay: &Layout,
        maps: VarMaps<'_>,
    ) -> ProjectionKernels {
        let d = &syn.dynamics;
        let on_pre = self.event_kernel(Block::Pre, &syn.on_pre, lay, maps);
        let on_post = self.event_kernel(Block::Post, &syn.on_post, lay, maps);
        let every =
            (d.every.iter()).map(|ev| (self.steps(ev.period), self.every_kernel(&ev.body, lay, maps))).collect();
        let step = self.continuous_kernel(d, lay, maps, &syn.name);
        ProjectionKernels { on_pre, on_post, every, step }
    }

    /// A synapse `every` block: per-synapse event-driven variables are brought
    /// to t first; reductions read every variable at t.
    fn every_kernel(&self, stmts: &[hir::Stmt], lay: &Layout, maps: VarMaps<'_>) -> KernelCode {
        let n = lay.states.len();
        let mut body = Vec::new();
        // Hoisted variables and those stored scaled are read at t; other
        // per-synapse ones are stored at t first.
        let read_at_t = |k: usize| matches!(lay.states[k].loc, Loc::Side(..)) || lay.scaled_per_synapse(k);
        let body_overrides: Vec<Option<Expr>> =
            (0..n).map(|k| if read_at_t(k) { decayed_at_t(lay, k) } else { None }).collect();
        let reduce_overrides: Vec<Option<Expr>> = (0..n).map(|k| decayed_at_t(lay, k)).collect();
        if let Some(lu) = lay.lu_syn {
            for k in (0..n).filter(|&k| !read_at_t(k)) {
                if let (Loc::Column(c), Some(v)) = (lay.states[k].loc, decayed_at_t(lay, k)) {
                    body.push(Stmt::Store(Slot::Own(c), v));
                }
            }
            body.push(Stmt::Store(Slot::Own(lu), Expr::Builtin(Builtin::T)));
        }
        let mut ctx = Ctx {
            overrides: body_overrides,
            reduce_overrides: Some(reduce_overrides),
            scaled: lay.scaled_stores(),
            ..self.syn_ctx(maps)
        };
        body.extend(ctx.stmts(stmts));
        let reductions = extract_reductions(&mut body);
        KernelCode { prologue: Vec::new(), reductions, body, n_locals: 0 }
    }

    /// Continuous synaptic ODEs: the per-step kernel, or `None` when there
    /// are none or they cannot be integrated (an error).
    fn continuous_kernel(
        &mut self,
        d: &hir::Dynamics,
        lay: &Layout,
        maps: VarMaps<'_>,
        name: &str,
    ) -> Option<KernelCode> {
        let odes: Vec<&hir::Ode> = d.odes.iter().filter(|o| o.continuous).collect();
        if odes.is_empty() {
            return None;
        }
        // Event-driven variables read by a continuous equation: at t.
        let overrides: Vec<Option<Expr>> = (0..lay.states.len()).map(|k| decayed_at_t(lay, k)).collect();
        let mut ctx = Ctx { overrides, ..self.syn_ctx(maps) };
        let vars: Vec<OdeVar> = odes
            .iter()
            .filter_map(|o| {
                let Loc::Column(c) = lay.states[o.state as usize].loc else { return None };
                Some(OdeVar {
                    slot: Slot::Own(c),
                    name: d.states[o.state as usize].name.clone(),
                    rhs: fold(&ctx.expr(&o.rhs)),
                    frozen_when_refractory: false,
                })
            })
            .collect();
        let names = state_column_names(d, lay);
        let sys = System {
            vars,
            not_refractory: None,
            dt: self.program.dt,
            column_names: &names,
            factor_rates: &lay.decay_rates,
        };
        let (method, span) = d.method.unwrap_or((Method::Auto, Default::default()));
        let mut locals = Locals::default();
        match integrate::integrate(&sys, method, &mut locals) {
            Ok(r) => {
                Some(KernelCode { prologue: Vec::new(), reductions: Vec::new(), body: r.stmts, n_locals: locals.next })
            }
            Err(why) => {
                self.diags.push(
                    Diagnostic::error(
                        "hebb::method::not_applicable",
                        format!("method `{}` cannot integrate synapse `{name}`", method.name()),
                    )
                    .label(span, why.to_string())
                    .help("use `method auto` to let hebb choose, or `rk4`"),
                );
                None
            }
        }
    }

    /// Adds a projection's kernels to the program, in a fixed order: `on
    /// pre`, `on post`, the `every` blocks (each followed by its frozen twin
    /// when it differs), then the continuous step.
    pub(super) fn add_projection_kernels(
        &mut self,
        p: ProjectionId,
        name: &str,
        kernels: ProjectionKernels,
    ) -> ProjectionKernelIds {
        let owner = Owner::Projection(p);
        let mut ids = ProjectionKernelIds::default();
        if let Some(code) = kernels.on_pre {
            let (k, f) = self.add_with_frozen_twin(format!("{name}.on_pre"), KernelKind::OnPre, owner, code);
            ids.on_pre = Some(k);
            ids.frozen_on_pre = Some(f);
        }
        if let Some(code) = kernels.on_post {
            let (k, f) = self.add_with_frozen_twin(format!("{name}.on_post"), KernelKind::OnPost, owner, code);
            ids.on_post = Some(k);
            ids.frozen_on_post = Some(f);
        }
        for (i, (steps, code)) in kernels.every.into_iter().enumerate() {
            let (k, f) = self.add_with_frozen_twin(format!("{name}.every{i}"), KernelKind::Every, owner, code);
            ids.every.push((steps, k));
            ids.frozen_every.push((steps, f));
        }
        if let Some(code) = kernels.step {
            ids.step = Some(self.add_kernel(format!("{name}.step"), KernelKind::Step, owner, code.body, code.n_locals));
        }
        ids
    }

    /// Adds a kernel and its frozen twin (no plastic writes), which is the
    /// same kernel when nothing in it is plastic.
    fn add_with_frozen_twin(
        &mut self,
        name: String,
        kind: KernelKind,
        owner: Owner,
        code: KernelCode,
    ) -> (KernelId, KernelId) {
        let KernelCode { prologue, reductions, body, n_locals } = code;
        let (frozen_prologue, frozen_body) = (freeze(&prologue), freeze(&body));
        let same = frozen_prologue == prologue && frozen_body == body;
        let k = self.add_kernel(name.clone(), kind, owner, body, n_locals);
        self.program.kernels[k.index()].prologue = prologue;
        self.program.kernels[k.index()].reductions = reductions.clone();
        if same {
            return (k, k);
        }
        // A frozen every block that no longer reads its sums (they fed
        // only weight updates) need not compute them.
        let mut reads_sums = false;
        for s in frozen_body.iter().chain(&frozen_prologue) {
            s.walk_exprs(&mut |e| reads_sums |= matches!(e, Expr::Load(Slot::Reduced(_))));
        }
        let f = self.add_kernel(format!("{name}.frozen"), kind, owner, frozen_body, n_locals);
        self.program.kernels[f.index()].prologue = frozen_prologue;
        self.program.kernels[f.index()].reductions = if reads_sums { reductions } else { Vec::new() };
        (k, f)
    }
}

/// Names of per-synapse state columns by column number, for reports of
/// the integrator (other columns stay unnamed).
fn state_column_names(d: &hir::Dynamics, lay: &Layout) -> Vec<String> {
    let mut names = vec![String::new(); lay.states.len() + 8];
    for (k, state) in lay.states.iter().enumerate() {
        if let Loc::Column(c) = state.loc
            && (c as usize) < names.len()
        {
            names[c as usize] = d.states[k].name.clone();
        }
    }
    names
}

/// The value at t of state k when it is stored (not folded) and changes
/// between events; `None` when the stored value is already current.
fn decayed_at_t(lay: &Layout, k: usize) -> Option<Expr> {
    if !lay.decays(k) || matches!(lay.states[k].loc, Loc::Folded(_)) {
        return None;
    }
    Some(fold(&lay.at_t(k)))
}

/// A kernel body without plastic writes: stores to synapse state (per
/// synapse or hoisted) are dropped; writes through `post.` stay.
fn freeze(body: &[Stmt]) -> Vec<Stmt> {
    body.iter()
        .filter_map(|s| match s {
            Stmt::Store(Slot::Own(_) | Slot::PreSide(_) | Slot::PostSide(_), _) => None,
            Stmt::If(c, a, b) => Some(Stmt::If(c.clone(), freeze(a), freeze(b))),
            other => Some(other.clone()),
        })
        .collect()
}

/// Replaces reductions by `Slot::Reduced(k)` loads, collecting them.
fn extract_reductions(body: &mut [Stmt]) -> Vec<(Reduce, Expr)> {
    fn in_expr(e: &mut Expr, out: &mut Vec<(Reduce, Expr)>) {
        match e {
            Expr::Reduce(r, a) => {
                let k = out.len() as u32;
                out.push((*r, (**a).clone()));
                *e = Expr::Load(Slot::Reduced(k));
            }
            Expr::Unary(_, a) => in_expr(a, out),
            Expr::Binary(_, a, b) => {
                in_expr(a, out);
                in_expr(b, out);
            }
            Expr::Select(c, a, b) => {
                in_expr(c, out);
                in_expr(a, out);
                in_expr(b, out);
            }
            _ => {}
        }
    }
    fn in_stmts(body: &mut [Stmt], out: &mut Vec<(Reduce, Expr)>) {
        for s in body {
            match s {
                Stmt::Let(_, e) | Stmt::Store(_, e) | Stmt::Spike(e) => in_expr(e, out),
                Stmt::If(c, a, b) => {
                    in_expr(c, out);
                    in_stmts(a, out);
                    in_stmts(b, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    in_stmts(body, &mut out);
    out
}
