//! How state columns are stored: f64 everywhere (the default), or, with
//! `precision f32`, neuron states and params and synaptic variables in f32.
//!
//! Synaptic kernels compute in f64: they widen each f32 value they load
//! (exactly) and round each value they store to the nearest f32. Neuron
//! step kernels compute in f32 ([`SlotTypes::narrow`]), four neurons per
//! vector in the JIT, except for what involves time: each expression has
//! a [`Width`] — time, step counts and indices are wide (f64), states,
//! params, signals and random draws narrow (f32) — and an operation is
//! done at the wider of its operands' widths, constants adopting the other
//! operand's. Both backends follow these rules, so they agree bit for bit.
//! Time, step counts (`lastspike`, `lastupdate`), sources, signals, decay
//! factors and reductions are stored in f64.

use super::*;

/// The storage precision of state columns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Precision {
    #[default]
    F64,
    F32,
}

impl Precision {
    pub fn name(self) -> &'static str {
        match self {
            Precision::F64 => "f64",
            Precision::F32 => "f32",
        }
    }

    /// `f64` or `f32`.
    pub fn parse(text: &str) -> Option<Precision> {
        match text {
            "f64" => Some(Precision::F64),
            "f32" => Some(Precision::F32),
            _ => None,
        }
    }

    /// Bytes per stored value of a column stored at this precision.
    pub fn bytes(self) -> usize {
        match self {
            Precision::F64 => 8,
            Precision::F32 => 4,
        }
    }
}

/// Whether a column with this role may be stored in f32: states and
/// per-element params, not times and step counts.
fn narrowable(role: ColumnRole) -> bool {
    matches!(role, ColumnRole::State | ColumnRole::Param)
}

impl Program {
    /// The storage precision of column `c` of group `g`.
    pub fn group_column_precision(&self, g: usize, c: usize) -> Precision {
        let group = &self.groups[g];
        if matches!(group.kind, GroupKind::Neurons { .. }) && narrowable(group.columns[c].role) {
            self.precision
        } else {
            Precision::F64
        }
    }

    /// The storage precision of a projection's column `c`, of its
    /// pre-side column (`side == Some(true)`) or post-side column.
    pub fn projection_column_precision(&self, p: usize, side: Option<bool>, c: usize) -> Precision {
        let proj = &self.projections[p];
        let col = match side {
            None => &proj.columns[c],
            Some(true) => &proj.pre_side[c],
            Some(false) => &proj.post_side[c],
        };
        if narrowable(col.role) { self.precision } else { Precision::F64 }
    }

    /// Which slots of `kernel` are stored in f32.
    pub fn slot_types(&self, kernel: &Kernel) -> SlotTypes {
        if self.precision == Precision::F64 {
            return SlotTypes::default();
        }
        let f32 = |p: Precision| p == Precision::F32;
        let group =
            |g: usize| (0..self.groups[g].columns.len()).map(|c| f32(self.group_column_precision(g, c))).collect();
        let proj = |p: usize, side: Option<bool>, n: usize| {
            (0..n).map(|c| f32(self.projection_column_precision(p, side, c))).collect::<Vec<bool>>()
        };
        let mut t = SlotTypes { groups: (0..self.groups.len()).map(group).collect(), ..SlotTypes::default() };
        match kernel.owner {
            Owner::Group(g) => {
                t.own = t.groups[g.index()].clone();
                t.narrow =
                    kernel.kind == KernelKind::Step && matches!(self.groups[g.index()].kind, GroupKind::Neurons { .. });
            }
            Owner::Projection(p) => {
                let pr = &self.projections[p.index()];
                t.own = proj(p.index(), None, pr.columns.len());
                t.pre_side = proj(p.index(), Some(true), pr.pre_side.len());
                t.post_side = proj(p.index(), Some(false), pr.post_side.len());
                t.pre = t.groups[pr.pre.group.index()].clone();
                t.post = t.groups[pr.post.group.index()].clone();
            }
        }
        t
    }
}

/// Which of a kernel's slots hold f32 values (see [`Program::slot_types`]);
/// the default says none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SlotTypes {
    own: Vec<bool>,
    pre: Vec<bool>,
    post: Vec<bool>,
    pre_side: Vec<bool>,
    post_side: Vec<bool>,
    groups: Vec<Vec<bool>>,
    /// Whether the kernel computes in f32 (a neuron step under `precision
    /// f32`).
    narrow: bool,
}

impl SlotTypes {
    pub fn is_f32(&self, slot: Slot) -> bool {
        let at = |v: &[bool], c: u32| v.get(c as usize).copied().unwrap_or(false);
        match slot {
            Slot::Own(c) => at(&self.own, c),
            Slot::Pre(c) => at(&self.pre, c),
            Slot::Post(c) => at(&self.post, c),
            Slot::Signal(g, c) => self.groups.get(g.index()).is_some_and(|v| at(v, c)),
            Slot::PreSide(c) => at(&self.pre_side, c),
            Slot::PostSide(c) => at(&self.post_side, c),
            Slot::Factor(_) | Slot::Reduced(_) => false,
        }
    }

    /// Whether the kernel computes in f32, by the [`Width`] rules.
    pub fn narrow(&self) -> bool {
        self.narrow
    }

    /// The width of `e` in a narrow kernel, `None` for constants and
    /// conditions (which have none). `locals` are the widths of the
    /// kernel's locals ([`SlotTypes::local_widths`]).
    pub fn width(&self, e: &Expr, locals: &[Width]) -> Option<Width> {
        self.width_with(e, &|k| locals.get(k as usize).copied())
    }

    fn width_with(&self, e: &Expr, local: &impl Fn(u32) -> Option<Width>) -> Option<Width> {
        match e {
            Expr::Const(_) | Expr::Bool(_) => None,
            // Columns kept in f64 in a narrow kernel hold times and step
            // counts; signals, factors and sums are values like states.
            Expr::Load(s) => Some(match s {
                Slot::Own(_) | Slot::Pre(_) | Slot::Post(_) | Slot::PreSide(_) | Slot::PostSide(_)
                    if !self.is_f32(*s) =>
                {
                    Width::Wide
                }
                _ => Width::Narrow,
            }),
            Expr::Builtin(_) => Some(Width::Wide),
            Expr::Local(k) => local(*k),
            Expr::Unary(UnOp::Not, _) => None,
            Expr::Unary(_, a) => self.width_with(a, local),
            Expr::Binary(op, a, b) => {
                if op.is_comparison() || op.is_logical() {
                    None
                } else {
                    self.width_with(a, local).max(self.width_with(b, local))
                }
            }
            Expr::Select(_, a, b) => self.width_with(a, local).max(self.width_with(b, local)),
            Expr::Rand(_) | Expr::Randn(_) | Expr::Reduce(..) => Some(Width::Narrow),
        }
    }

    /// The width of each of a kernel's `n` locals: the widest value any
    /// `Let` assigns it (narrow if only constants).
    pub fn local_widths(&self, body: &[Stmt], n: usize) -> Vec<Width> {
        fn lets(body: &[Stmt], out: &mut Vec<(u32, Expr)>) {
            for s in body {
                match s {
                    Stmt::Let(k, e) => out.push((*k, e.clone())),
                    Stmt::If(_, a, b) => {
                        lets(a, out);
                        lets(b, out);
                    }
                    _ => {}
                }
            }
        }
        let mut all = Vec::new();
        lets(body, &mut all);
        let mut w: Vec<Option<Width>> = vec![None; n];
        // Widths only grow, so this ends after at most 2n rounds.
        loop {
            let mut changed = false;
            for (k, e) in &all {
                let new = self.width_with(e, &|j| w.get(j as usize).copied().flatten());
                let slot = &mut w[*k as usize];
                if new > *slot {
                    *slot = new;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        w.into_iter().map(|x| x.unwrap_or(Width::Narrow)).collect()
    }
}

/// The precision an expression of a narrow kernel is computed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Width {
    /// f32: states, params, signals, random draws.
    Narrow,
    /// f64: time, step counts, indices.
    Wide,
}

/// `x` rounded to the nearest f32 (as a Cranelift `fdemote`), in f64.
pub fn round32(x: f64) -> f64 {
    f64::from(x as f32)
}
