//! The IR verifier: structural invariants every pass must keep. Run after
//! lowering in debug builds and in tests.

use super::*;

/// A broken invariant of the IR: where it is, and what is wrong. Lowering
/// never produces one; if it does, that is a bug in hebb.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct VerifyError {
    pub location: Location,
    pub message: String,
}

/// Where in a program a [`VerifyError`] is.
#[derive(Clone, Debug, PartialEq)]
pub enum Location {
    Kernel { kernel: u32, name: String, part: KernelPart },
    Group(u32),
    GroupColumn { group: u32, column: String },
    Projection(u32),
    ProjectionColumn { projection: u32, column: String },
}

/// The part of a kernel an error is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelPart {
    Whole,
    Prologue,
    Reductions,
    Body,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Kernel { kernel, name, part } => match part {
                KernelPart::Whole | KernelPart::Reductions => write!(f, "kernel k{kernel}"),
                KernelPart::Prologue => write!(f, "kernel k{kernel} \"{name}\" prologue"),
                KernelPart::Body => write!(f, "kernel k{kernel} \"{name}\""),
            },
            Location::Group(g) => write!(f, "group g{g}"),
            Location::GroupColumn { group, column } => write!(f, "group g{group} column {column}"),
            Location::Projection(p) => write!(f, "projection p{p}"),
            Location::ProjectionColumn { projection, column } => write!(f, "projection p{projection} column {column}"),
        }
    }
}

/// Checks that every slot names an existing column of the right group, that
/// locals are defined once and before use, that bool and number operands are
/// not mixed up, that `Spike` only appears in step kernels, that reductions
/// only appear in `every` kernels of projections, and that kernels write no
/// presynaptic column. Returns every problem found, not only the first.
pub fn verify(p: &Program) -> Result<(), Vec<VerifyError>> {
    let mut errors = Vec::new();
    for (k, kernel) in p.kernels.iter().enumerate() {
        verify_kernel(p, k as u32, kernel, &mut errors);
    }
    for (g, group) in p.groups.iter().enumerate() {
        for (c, col) in group.columns.iter().enumerate() {
            if let Err(message) = check_init(&col.init, c) {
                let location = Location::GroupColumn { group: g as u32, column: col.name.clone() };
                errors.push(VerifyError { location, message });
            }
        }
        let every = group.every.iter().chain(&group.frozen_every).map(|(_, k)| k);
        for k in group.step.iter().chain(&group.frozen_step).chain(&group.reset).chain(every) {
            if k.index() >= p.kernels.len() {
                let message = format!("refers to missing kernel k{k}");
                errors.push(VerifyError { location: Location::Group(g as u32), message });
            }
        }
    }
    for (i, proj) in p.projections.iter().enumerate() {
        let location = Location::Projection(i as u32);
        for sel in [proj.pre, proj.post] {
            match p.groups.get(sel.group.index()) {
                None => {
                    errors.push(VerifyError { location: location.clone(), message: format!("no group g{}", sel.group) })
                }
                Some(g) if sel.start >= sel.end || sel.end > g.size => errors.push(VerifyError {
                    location: location.clone(),
                    message: format!("slice {}..{} out of group of size {}", sel.start, sel.end, g.size),
                }),
                Some(_) => {}
            }
        }
        for (c, col) in proj.columns.iter().enumerate() {
            if let Err(message) = check_init(&col.init, c) {
                let location = Location::ProjectionColumn { projection: i as u32, column: col.name.clone() };
                errors.push(VerifyError { location, message });
            }
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// Checks one kernel: its prologue, reductions and body.
fn verify_kernel(p: &Program, k: u32, kernel: &Kernel, errors: &mut Vec<VerifyError>) {
    let at = |part: KernelPart| Location::Kernel { kernel: k, name: kernel.name.clone(), part };
    let mut ctx = match KernelCtx::new(p, kernel) {
        Ok(ctx) => ctx,
        Err(message) => {
            errors.push(VerifyError { location: at(KernelPart::Whole), message });
            return;
        }
    };
    let mut defined = vec![false; kernel.n_locals as usize];
    if !kernel.prologue.is_empty() {
        if !matches!(kernel.kind, KernelKind::OnPre | KernelKind::OnPost) {
            let message = "a prologue outside an event kernel".to_string();
            errors.push(VerifyError { location: at(KernelPart::Whole), message });
        }
        ctx.in_prologue = true;
        for message in ctx.stmts(&kernel.prologue, &mut defined) {
            errors.push(VerifyError { location: at(KernelPart::Prologue), message });
        }
        ctx.in_prologue = false;
    }
    if !kernel.reductions.is_empty()
        && (kernel.kind != KernelKind::Every || !matches!(kernel.owner, Owner::Projection(_)))
    {
        let message = "reductions outside a projection's every kernel".to_string();
        errors.push(VerifyError { location: at(KernelPart::Reductions), message });
    }
    for (_, e) in &kernel.reductions {
        match ctx.expr(e, &[]) {
            Ok(false) => {}
            Ok(true) => errors
                .push(VerifyError { location: at(KernelPart::Reductions), message: "a reduction of a boolean".into() }),
            Err(message) => errors.push(VerifyError { location: at(KernelPart::Reductions), message }),
        }
    }
    for message in ctx.stmts(&kernel.body, &mut defined) {
        errors.push(VerifyError { location: at(KernelPart::Body), message });
    }
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
            Owner::Group(g) => (p.groups.get(g.index()).ok_or("missing group")?.columns.len(), 0, 0, 0, 0),
            Owner::Projection(i) => {
                let proj = p.projections.get(i.index()).ok_or("missing projection")?;
                (
                    proj.columns.len(),
                    p.groups[proj.pre.group.index()].columns.len(),
                    p.groups[proj.post.group.index()].columns.len(),
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
                .get(g.index())
                .is_some_and(|grp| grp.kind == GroupKind::Signal && (c as usize) < grp.columns.len()),
            Slot::PreSide(c) => (c as usize) < self.pre_side,
            Slot::PostSide(c) => (c as usize) < self.post_side,
            Slot::Reduced(k) => !write && (k as usize) < self.kernel.reductions.len() && !self.in_prologue,
            Slot::Factor(k) => {
                !write
                    && match self.kernel.owner {
                        Owner::Projection(p) => {
                            (k as usize) < 2 * self.program.projections[p.index()].decay_rates.len()
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
            let bad = matches!(
                (self.kernel.kind, s),
                (_, Slot::Own(_))
                    | (KernelKind::OnPre, Slot::Post(_) | Slot::PostSide(_))
                    | (KernelKind::OnPost, Slot::Pre(_) | Slot::PreSide(_))
            );
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

    /// Checks statements; returns one message per broken statement.
    fn stmts(&self, body: &[Stmt], defined: &mut [bool]) -> Vec<String> {
        let mut errors = Vec::new();
        for s in body {
            if let Err(e) = self.stmt(s, defined, &mut errors) {
                errors.push(e);
            }
        }
        errors
    }

    fn stmt(&self, s: &Stmt, defined: &mut [bool], errors: &mut Vec<String>) -> Result<(), String> {
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
                let mut da = defined.to_vec();
                errors.extend(self.stmts(a, &mut da));
                let mut db = defined.to_vec();
                errors.extend(self.stmts(b, &mut db));
                for k in 0..defined.len() {
                    if (da[k] || db[k]) && !defined[k] {
                        // Mark as defined so a second definition is caught.
                        defined[k] = da[k] && db[k];
                    }
                }
            }
        }
        Ok(())
    }
}
