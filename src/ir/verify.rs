//! The IR verifier: structural invariants every pass must keep. Run after
//! lowering in debug builds and in tests.

use super::*;

/// Checks that every slot names an existing column of the right group, that
/// locals are defined once and before use, that bool and number operands are
/// not mixed up, that `Spike` only appears in step kernels, that reductions
/// only appear in `every` kernels of projections, and that kernels write no
/// presynaptic column.
pub fn verify(p: &Program) -> Result<(), String> {
    for (k, kernel) in p.kernels.iter().enumerate() {
        let mut ctx = KernelCtx::new(p, kernel).map_err(|e| format!("kernel k{k}: {e}"))?;
        let mut defined = vec![false; kernel.n_locals as usize];
        if !kernel.prologue.is_empty() {
            if !matches!(kernel.kind, KernelKind::OnPre | KernelKind::OnPost) {
                return Err(format!("kernel k{k}: a prologue outside an event kernel"));
            }
            ctx.in_prologue = true;
            ctx.stmts(&kernel.prologue, &mut defined)
                .map_err(|e| format!("kernel k{k} \"{}\" prologue: {e}", kernel.name))?;
            ctx.in_prologue = false;
        }
        for (r, e) in &kernel.reductions {
            let _ = r;
            if kernel.kind != KernelKind::Every || !matches!(kernel.owner, Owner::Projection(_)) {
                return Err(format!("kernel k{k}: reductions outside a projection's every kernel"));
            }
            if ctx.expr(e, &[])? {
                return Err(format!("kernel k{k}: a reduction of a boolean"));
            }
        }
        ctx.stmts(&kernel.body, &mut defined).map_err(|e| format!("kernel k{k} \"{}\": {e}", kernel.name))?;
    }
    for (g, group) in p.groups.iter().enumerate() {
        for (c, col) in group.columns.iter().enumerate() {
            check_init(&col.init, c).map_err(|e| format!("group g{g} column {}: {e}", col.name))?;
        }
        for k in group.step.iter().chain(&group.reset).chain(group.every.iter().map(|(_, k)| k)) {
            if *k as usize >= p.kernels.len() {
                return Err(format!("group g{g} refers to missing kernel k{k}"));
            }
        }
    }
    for (i, proj) in p.projections.iter().enumerate() {
        for sel in [proj.pre, proj.post] {
            let g = p.groups.get(sel.group as usize).ok_or(format!("projection p{i}: no group g{}", sel.group))?;
            if sel.start >= sel.end || sel.end > g.size {
                return Err(format!(
                    "projection p{i}: slice {}..{} out of group of size {}",
                    sel.start, sel.end, g.size
                ));
            }
        }
        for (c, col) in proj.columns.iter().enumerate() {
            check_init(&col.init, c).map_err(|e| format!("projection p{i} column {}: {e}", col.name))?;
        }
    }
    Ok(())
}

/// Initial values read only earlier columns and no locals.
fn check_init(e: &Expr, column: usize) -> Result<(), String> {
    let mut err = None;
    e.walk(&mut |x| match x {
        Expr::Load(Slot::Own(c)) if *c as usize >= column => {
            err = Some(format!("reads column #{c}, not yet initialised"))
        }
        Expr::Load(Slot::Pre(_) | Slot::Post(_)) => err = Some("reads a pre/post column".into()),
        Expr::Local(_) => err = Some("uses a local".into()),
        Expr::Reduce(..) => err = Some("uses a reduction".into()),
        _ => {}
    });
    err.map_or(Ok(()), Err)
}

struct KernelCtx<'a> {
    kernel: &'a Kernel,
    own: usize,
    pre: usize,
    post: usize,
    pre_side: usize,
    post_side: usize,
    program: &'a Program,
    /// Checking a prologue: there is no synapse (and in OnPre no post
    /// neuron, in OnPost no pre neuron).
    in_prologue: bool,
}

impl<'a> KernelCtx<'a> {
    fn new(p: &'a Program, kernel: &'a Kernel) -> Result<Self, String> {
        let (own, pre, post, pre_side, post_side) = match kernel.owner {
            Owner::Group(g) => (p.groups.get(g as usize).ok_or("missing group")?.columns.len(), 0, 0, 0, 0),
            Owner::Projection(i) => {
                let proj = p.projections.get(i as usize).ok_or("missing projection")?;
                (
                    proj.columns.len(),
                    p.groups[proj.pre.group as usize].columns.len(),
                    p.groups[proj.post.group as usize].columns.len(),
                    proj.pre_side.len(),
                    proj.post_side.len(),
                )
            }
        };
        Ok(KernelCtx { kernel, own, pre, post, pre_side, post_side, program: p, in_prologue: false })
    }

    fn slot(&self, s: Slot, write: bool) -> Result<(), String> {
        let ok = match s {
            Slot::Own(c) => (c as usize) < self.own,
            Slot::Pre(c) => !write && (c as usize) < self.pre,
            Slot::Post(c) => (c as usize) < self.post,
            Slot::Signal(g, c) => self
                .program
                .groups
                .get(g as usize)
                .is_some_and(|grp| grp.kind == GroupKind::Signal && (c as usize) < grp.columns.len()),
            Slot::PreSide(c) => (c as usize) < self.pre_side,
            Slot::PostSide(c) => (c as usize) < self.post_side,
            Slot::Reduced(k) => !write && (k as usize) < self.kernel.reductions.len() && !self.in_prologue,
            Slot::Factor(k) => {
                !write
                    && match self.kernel.owner {
                        Owner::Projection(p) => {
                            (k as usize) < 2 * self.program.projections[p as usize].decay_rates.len()
                        }
                        Owner::Group(_) => false,
                    }
            }
        };
        if !ok {
            return Err(format!("bad {} of slot {s:?}", if write { "write" } else { "read" }));
        }
        if matches!(s, Slot::Pre(_) | Slot::Post(_) | Slot::PreSide(_) | Slot::PostSide(_))
            && matches!(self.kernel.owner, Owner::Group(_))
        {
            return Err(format!("slot {s:?} outside a synapse kernel"));
        }
        if self.in_prologue {
            let bad = match (self.kernel.kind, s) {
                (_, Slot::Own(_)) => true,
                (KernelKind::OnPre, Slot::Post(_) | Slot::PostSide(_)) => true,
                (KernelKind::OnPost, Slot::Pre(_) | Slot::PreSide(_)) => true,
                _ => false,
            };
            if bad {
                return Err(format!("slot {s:?} in a once-per-spike prologue"));
            }
        }
        Ok(())
    }

    /// Checks an expression; returns whether it is boolean.
    fn expr(&self, e: &Expr, defined: &[bool]) -> Result<bool, String> {
        let num = |b: bool, what: &str| if b { Err(format!("boolean operand of {what}")) } else { Ok(()) };
        Ok(match e {
            Expr::Const(_) | Expr::Builtin(_) | Expr::Rand(_) | Expr::Randn(_) => false,
            Expr::Bool(_) => true,
            Expr::Load(s) => {
                self.slot(*s, false)?;
                false
            }
            Expr::Local(k) => {
                if !defined.get(*k as usize).copied().unwrap_or(false) {
                    return Err(format!("local %{k} used before definition"));
                }
                false
            }
            Expr::Unary(UnOp::Not, a) => {
                if !self.expr(a, defined)? {
                    return Err("`not` of a number".into());
                }
                true
            }
            Expr::Unary(op, a) => {
                num(self.expr(a, defined)?, &format!("{op:?}"))?;
                false
            }
            Expr::Binary(op, a, b) => {
                let (ba, bb) = (self.expr(a, defined)?, self.expr(b, defined)?);
                if op.is_logical() {
                    if !(ba && bb) {
                        return Err(format!("number operand of {op:?}"));
                    }
                } else {
                    num(ba || bb, &format!("{op:?}"))?;
                }
                op.is_comparison() || op.is_logical()
            }
            Expr::Select(c, a, b) => {
                if !self.expr(c, defined)? {
                    return Err("select on a number".into());
                }
                let (ba, bb) = (self.expr(a, defined)?, self.expr(b, defined)?);
                if ba != bb {
                    return Err("select arms of different types".into());
                }
                ba
            }
            Expr::Reduce(..) => return Err("an unlowered reduction (lowering makes them `Slot::Reduced`)".into()),
        })
    }

    fn stmts(&self, body: &[Stmt], defined: &mut Vec<bool>) -> Result<(), String> {
        for s in body {
            match s {
                Stmt::Let(k, e) => {
                    if self.expr(e, defined)? {
                        return Err(format!("local %{k} holds a boolean"));
                    }
                    let slot = defined.get_mut(*k as usize).ok_or(format!("local %{k} beyond n_locals"))?;
                    if *slot {
                        return Err(format!("local %{k} defined twice"));
                    }
                    *slot = true;
                }
                Stmt::Store(slot, e) => {
                    self.slot(*slot, true)?;
                    if self.expr(e, defined)? {
                        return Err("store of a boolean".into());
                    }
                }
                Stmt::Spike(c) => {
                    if self.kernel.kind != KernelKind::Step {
                        return Err("spike outside a step kernel".into());
                    }
                    if !self.expr(c, defined)? {
                        return Err("spike condition is a number".into());
                    }
                }
                Stmt::If(c, a, b) => {
                    if !self.expr(c, defined)? {
                        return Err("if on a number".into());
                    }
                    // Locals defined inside a branch are not visible after it.
                    let mut da = defined.clone();
                    self.stmts(a, &mut da)?;
                    let mut db = defined.clone();
                    self.stmts(b, &mut db)?;
                    for k in 0..defined.len() {
                        if (da[k] || db[k]) && !defined[k] {
                            // Mark as defined so a second definition is caught.
                            defined[k] = da[k] && db[k];
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
