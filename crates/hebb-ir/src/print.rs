//! A stable text form of the IR, for `hebb explain --ir` and for tests.
//! Floats print in their shortest round-trip form.

use super::*;
use std::fmt::{self, Write};

/// Names of the columns a kernel can address.
struct Names<'a> {
    program: &'a Program,
    own: &'a [Column],
    pre: Option<&'a [Column]>,
    post: Option<&'a [Column]>,
    pre_side: &'a [Column],
    post_side: &'a [Column],
}

impl Names<'_> {
    fn slot(&self, s: Slot) -> String {
        let col = |cols: Option<&[Column]>, c: u32| {
            cols.and_then(|cs| cs.get(c as usize)).map(|c| c.name.clone()).unwrap_or(format!("#{c}"))
        };
        match s {
            Slot::Own(c) => col(Some(self.own), c),
            Slot::Pre(c) => format!("pre.{}", col(self.pre, c)),
            Slot::Post(c) => format!("post.{}", col(self.post, c)),
            Slot::Signal(g, c) => {
                let group = self.program.groups.get(g.index());
                format!(
                    "{}.{}",
                    group.map(|g| g.name.as_str()).unwrap_or("?"),
                    col(group.map(|g| g.columns.as_slice()), c)
                )
            }
            Slot::PreSide(c) => format!("pre_side.{}", col(Some(self.pre_side), c)),
            Slot::PostSide(c) => format!("post_side.{}", col(Some(self.post_side), c)),
            Slot::Reduced(k) => format!("reduced#{k}"),
            Slot::Factor(k) => format!("{}#{}", if k % 2 == 0 { "decay" } else { "growth" }, k / 2),
        }
    }
}

fn unop(op: UnOp) -> &'static str {
    match op {
        UnOp::Neg => "-",
        UnOp::Not => "not ",
        UnOp::Exp => "exp",
        UnOp::Log => "log",
        UnOp::Sqrt => "sqrt",
        UnOp::Abs => "abs",
        UnOp::Sin => "sin",
        UnOp::Cos => "cos",
        UnOp::Tanh => "tanh",
        UnOp::Floor => "floor",
    }
}

fn binop(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::Pow => "pow",
        BinOp::Min => "min",
        BinOp::Max => "max",
        BinOp::Lt => "<",
        BinOp::Le => "<=",
        BinOp::Gt => ">",
        BinOp::Ge => ">=",
        BinOp::Eq => "==",
        BinOp::Ne => "!=",
        BinOp::And => "and",
        BinOp::Or => "or",
    }
}

fn expr(e: &Expr, n: &Names<'_>, out: &mut String) {
    match e {
        Expr::Const(v) => {
            let _ = write!(out, "{v:?}");
        }
        Expr::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        Expr::Load(s) => out.push_str(&n.slot(*s)),
        Expr::Builtin(b) => out.push_str(match b {
            Builtin::T => "t",
            Builtin::Step => "step",
            Builtin::Index => "i",
            Builtin::PreIndex => "pre.i",
            Builtin::PostIndex => "post.i",
        }),
        Expr::Local(k) => {
            let _ = write!(out, "%{k}");
        }
        Expr::Unary(UnOp::Neg, a) | Expr::Unary(UnOp::Not, a) => {
            out.push('(');
            out.push_str(unop(if matches!(e, Expr::Unary(UnOp::Neg, _)) { UnOp::Neg } else { UnOp::Not }));
            expr(a, n, out);
            out.push(')');
        }
        Expr::Unary(op, a) => {
            out.push_str(unop(*op));
            out.push('(');
            expr(a, n, out);
            out.push(')');
        }
        Expr::Binary(op @ (BinOp::Pow | BinOp::Min | BinOp::Max), a, b) => {
            out.push_str(binop(*op));
            out.push('(');
            expr(a, n, out);
            out.push_str(", ");
            expr(b, n, out);
            out.push(')');
        }
        Expr::Binary(op, a, b) => {
            out.push('(');
            expr(a, n, out);
            let _ = write!(out, " {} ", binop(*op));
            expr(b, n, out);
            out.push(')');
        }
        Expr::Select(c, a, b) => {
            out.push_str("select(");
            expr(c, n, out);
            out.push_str(", ");
            expr(a, n, out);
            out.push_str(", ");
            expr(b, n, out);
            out.push(')');
        }
        Expr::Rand(k) => {
            let _ = write!(out, "rand#{k}()");
        }
        Expr::Randn(k) => {
            let _ = write!(out, "randn#{k}()");
        }
        Expr::Reduce(r, a) => {
            out.push_str(match r {
                Reduce::InSum => "in_sum(",
                Reduce::OutSum => "out_sum(",
            });
            expr(a, n, out);
            out.push(')');
        }
    }
}

fn stmts(body: &[Stmt], n: &Names<'_>, indent: usize, out: &mut String) {
    for s in body {
        out.push_str(&"    ".repeat(indent));
        match s {
            Stmt::Let(k, e) => {
                let _ = write!(out, "%{k} = ");
                expr(e, n, out);
            }
            Stmt::Store(slot, e) => {
                let _ = write!(out, "{} := ", n.slot(*slot));
                expr(e, n, out);
            }
            Stmt::Spike(c) => {
                out.push_str("spike if ");
                expr(c, n, out);
            }
            Stmt::If(c, a, b) => {
                out.push_str("if ");
                expr(c, n, out);
                out.push_str(" {\n");
                stmts(a, n, indent + 1, out);
                out.push_str(&"    ".repeat(indent));
                out.push('}');
                if !b.is_empty() {
                    out.push_str(" else {\n");
                    stmts(b, n, indent + 1, out);
                    out.push_str(&"    ".repeat(indent));
                    out.push('}');
                }
            }
        }
        out.push('\n');
    }
}

/// One expression in text form, with the columns of `own` named.
pub fn expr_text(program: &Program, own: &[Column], e: &Expr) -> String {
    let mut out = String::new();
    expr(e, &Names { program, own, pre: None, post: None, pre_side: &[], post_side: &[] }, &mut out);
    out
}

/// A kernel in text form.
pub fn kernel_text(program: &Program, k: u32) -> String {
    let kernel = &program.kernels[k as usize];
    let (pre, post, pre_side, post_side) = match kernel.owner {
        Owner::Projection(p) => {
            let proj = &program.projections[p.index()];
            (
                Some(program.groups[proj.pre.group.index()].columns.as_slice()),
                Some(program.groups[proj.post.group.index()].columns.as_slice()),
                proj.pre_side.as_slice(),
                proj.post_side.as_slice(),
            )
        }
        Owner::Group(_) => (None, None, &[][..], &[][..]),
    };
    let names = Names { program, own: program.own_columns(kernel), pre, post, pre_side, post_side };
    let kind = match kernel.kind {
        KernelKind::Step => "step",
        KernelKind::Listed => "listed",
        KernelKind::OnPre => "on_pre",
        KernelKind::OnPost => "on_post",
        KernelKind::Every => "every",
    };
    let mut out = format!("kernel k{k} {kind} \"{}\" (locals {}) {{\n", kernel.name, kernel.n_locals);
    for (i, (r, e)) in kernel.reductions.iter().enumerate() {
        let mut text = String::new();
        expr(e, &names, &mut text);
        let which = if *r == Reduce::InSum { "in_sum" } else { "out_sum" };
        out.push_str(&format!("    reduced#{i} = {which}({text})\n"));
    }
    if !kernel.prologue.is_empty() {
        out.push_str("    once per spike {\n");
        stmts(&kernel.prologue, &names, 2, &mut out);
        out.push_str("    }\n");
    }
    stmts(&kernel.body, &names, 1, &mut out);
    out.push_str("}\n");
    out
}

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "program dt={:?} seed={} steps={}", self.dt, self.seed, self.n_steps)?;
        for (g, group) in self.groups.iter().enumerate() {
            let kind = match &group.kind {
                GroupKind::Neurons { type_name } => format!("neurons {type_name}"),
                GroupKind::Poisson { .. } => "poisson".to_string(),
                GroupKind::SpikeTimes(_) => "spike_times".to_string(),
                GroupKind::Signal => "signal".to_string(),
            };
            writeln!(f, "group g{g} \"{}\" size={} {kind}", group.name, group.size)?;
            if let GroupKind::Poisson { rate, .. } = &group.kind {
                writeln!(f, "    rate = {}", expr_text(self, &group.columns, rate))?;
            }
            for c in &group.columns {
                let role = match c.role {
                    ColumnRole::State => "state",
                    ColumnRole::Param => "param",
                    ColumnRole::LastSpike => "lastspike",
                    ColumnRole::LastUpdate => "lastupdate",
                };
                writeln!(f, "    {role} {} init {}", c.name, expr_text(self, &group.columns, &c.init))?;
            }
        }
        for (p, proj) in self.projections.iter().enumerate() {
            writeln!(
                f,
                "projection p{p} \"{}\" {} g{}[{}..{}] -> g{}[{}..{}]",
                proj.name,
                proj.synapse,
                proj.pre.group,
                proj.pre.start,
                proj.pre.end,
                proj.post.group,
                proj.post.start,
                proj.post.end
            )?;
            for c in &proj.columns {
                writeln!(f, "    synapse state {} init {}", c.name, expr_text(self, &proj.columns, &c.init))?;
            }
            for (name, v) in &proj.folded {
                writeln!(f, "    folded {name} = {v:?}")?;
            }
            for c in &proj.pre_side {
                writeln!(f, "    per pre neuron {} init {}", c.name, expr_text(self, &proj.pre_side, &c.init))?;
            }
            for c in &proj.post_side {
                writeln!(f, "    per post neuron {} init {}", c.name, expr_text(self, &proj.post_side, &c.init))?;
            }
        }
        for k in 0..self.kernels.len() {
            f.write_str(&kernel_text(self, k as u32))?;
        }
        Ok(())
    }
}
