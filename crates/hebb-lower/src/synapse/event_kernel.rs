//! The `on pre` and `on post` kernels. Hoisted variables of the kernel's
//! own side are updated once per spike, in the prologue, through versions
//! held in locals: each statement of the block sees the version current at
//! its place. Everything else runs once per synapse, in the body, after the
//! synapse's event-driven variables are brought to the current time.

use super::VarMaps;
use super::analysis::Block;
use super::kernels::KernelCode;
use super::layout::{Layout, Loc};
use super::placement::HoistSide;
use crate::expression::assigned_value;
use crate::integrate::Locals;
use crate::{Ctx, Lowerer};
use hebb_ir::symbolic::fold;
use hebb_ir::{Builtin, Expr, Slot, Stmt};
use hebb_lang::hir::{self, Owner as HOwner, VarKind};

/// An event kernel being built. Locals are numbered in the order the steps
/// run: versions of own-side variables, per-synapse catch-up, other-side
/// reads, then the block's statements.
struct EventKernelBuilder {
    /// The side whose spikes run the kernel.
    side: HoistSide,
    locals: Locals,
    /// Once per spike.
    prologue: Vec<Stmt>,
    /// Once per synapse.
    body: Vec<Stmt>,
    /// Per state hoisted to the kernel's side: the local holding its value
    /// current at this point of the block.
    current: Vec<Option<Expr>>,
    /// Per state hoisted to the other side and read by the block: the local
    /// holding its value at t.
    other_side_at_t: Vec<Option<Expr>>,
    /// Per per-synapse state stored scaled: its value at t, read from the
    /// column.
    scaled_at_t: Vec<Option<Expr>>,
}

impl Lowerer<'_> {
    /// `on pre` or `on post`, or `None` when the block is empty and nothing
    /// needs updating.
    pub(super) fn event_kernel(
        &self,
        block: Block,
        stmts: &[hir::Stmt],
        lay: &Layout,
        maps: VarMaps<'_>,
    ) -> Option<KernelCode> {
        if stmts.is_empty() {
            return None;
        }
        let side = if block == Block::Pre { HoistSide::Pre } else { HoistSide::Post };
        let mut kernel = EventKernelBuilder::new(side, lay.states.len());
        kernel.read_own_side(lay);
        kernel.catch_up_per_synapse(lay);
        kernel.read_other_side(lay, stmts);
        for s in stmts {
            let ctx = Ctx { overrides: kernel.overrides(), scaled: lay.scaled_stores(), ..self.syn_ctx(maps) };
            kernel.statement(s, ctx);
        }
        kernel.store_own_side(lay);
        Some(kernel.finish())
    }
}

impl EventKernelBuilder {
    fn new(side: HoistSide, n_states: usize) -> Self {
        EventKernelBuilder {
            side,
            locals: Locals::default(),
            prologue: Vec::new(),
            body: Vec::new(),
            current: vec![None; n_states],
            other_side_at_t: vec![None; n_states],
            scaled_at_t: vec![None; n_states],
        }
    }

    /// Reads each variable hoisted to the kernel's side at t, once per
    /// spike: its first version.
    fn read_own_side(&mut self, lay: &Layout) {
        for k in lay.hoisted_to(self.side) {
            let value = lay.at_t(k);
            let l = self.locals.fresh();
            self.prologue.push(Stmt::Let(l, fold(&value)));
            self.current[k] = Some(Expr::Local(l));
        }
    }

    /// Per synapse: variables stored scaled are read at t through their
    /// factor; other event-driven variables are brought to t and their last
    /// update set.
    fn catch_up_per_synapse(&mut self, lay: &Layout) {
        for k in (0..lay.states.len()).filter(|&k| lay.scaled_per_synapse(k)) {
            self.scaled_at_t[k] = Some(fold(&lay.at_t(k)));
        }
        let decaying: Vec<usize> = (0..lay.states.len())
            .filter(|&k| matches!(lay.states[k].loc, Loc::Column(_)) && lay.decays(k) && !lay.scaled_per_synapse(k))
            .collect();
        let (false, Some(lu)) = (decaying.is_empty(), lay.lu_syn) else { return };
        for k in decaying {
            let value = lay.states[k].decay.expect("decay").at_t(lay.load(k), Expr::Load(Slot::Own(lu)));
            let l = self.locals.fresh();
            self.body.push(Stmt::Let(l, fold(&value)));
            let Loc::Column(c) = lay.states[k].loc else { unreachable!("per-synapse column") };
            self.body.push(Stmt::Store(Slot::Own(c), Expr::Local(l)));
        }
        self.body.push(Stmt::Store(Slot::Own(lu), Expr::Builtin(Builtin::T)));
    }

    /// Hoisted variables of the other side that the block reads: at t, once
    /// per synapse.
    fn read_other_side(&mut self, lay: &Layout, stmts: &[hir::Stmt]) {
        let other = self.side.other();
        for k in 0..lay.states.len() {
            if matches!(lay.states[k].loc, Loc::Side(s, _) if s == other)
                && stmts.iter().any(|s| stmt_reads_own(s, k as u32))
            {
                let value = lay.at_t(k);
                let l = self.locals.fresh();
                self.body.push(Stmt::Let(l, fold(&value)));
                self.other_side_at_t[k] = Some(Expr::Local(l));
            }
        }
    }

    /// What reads of own states see at this point of the block.
    fn overrides(&self) -> Vec<Option<Expr>> {
        (self.current.iter().zip(&self.other_side_at_t).zip(&self.scaled_at_t))
            .map(|((current, other), scaled)| current.clone().or(other.clone()).or(scaled.clone()))
            .collect()
    }

    /// One statement of the block: an update of an own-side hoisted variable
    /// makes its next version in the prologue; anything else runs per
    /// synapse.
    fn statement(&mut self, s: &hir::Stmt, mut ctx: Ctx<'_>) {
        match s {
            hir::Stmt::Assign { target, op, value, .. }
                if target.owner == HOwner::Own
                    && target.kind == VarKind::State
                    && self.current[target.index as usize].is_some() =>
            {
                let k = target.index as usize;
                let old = self.current[k].clone().expect("version");
                let new = assigned_value(*op, old, ctx.expr(value));
                let l = self.locals.fresh();
                self.prologue.push(Stmt::Let(l, fold(&new)));
                self.current[k] = Some(Expr::Local(l));
            }
            _ => {
                if let Some(st) = ctx.stmt(s) {
                    self.body.push(st);
                }
            }
        }
    }

    /// Stores the last version of each own-side hoisted variable, once per
    /// spike, and their last update.
    fn store_own_side(&mut self, lay: &Layout) {
        let hoisted = lay.hoisted_to(self.side);
        for &k in &hoisted {
            let Loc::Side(_, c) = lay.states[k].loc else { continue };
            let slot = if self.side == HoistSide::Pre { Slot::PreSide(c) } else { Slot::PostSide(c) };
            let last = self.current[k].clone().expect("version");
            self.prologue.push(Stmt::Store(slot, fold(&lay.stored(k, last))));
        }
        if let Some(lu) = lay.lu_slot(Some(self.side))
            && !hoisted.is_empty()
        {
            self.prologue.push(Stmt::Store(lu, Expr::Builtin(Builtin::T)));
        }
    }

    fn finish(self) -> KernelCode {
        KernelCode { prologue: self.prologue, reductions: Vec::new(), body: self.body, n_locals: self.locals.next }
    }
}

/// Whether a statement reads own state `k`.
fn stmt_reads_own(s: &hir::Stmt, k: u32) -> bool {
    let mut found = false;
    s.walk_exprs(&mut |e| {
        if let hir::ExprKind::Var(v) = &e.kind {
            found |= v.owner == HOwner::Own && v.kind == VarKind::State && v.index == k;
        }
    });
    found
}
