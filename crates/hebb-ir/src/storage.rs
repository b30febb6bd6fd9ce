//! How state columns are stored: f64 everywhere (the default), or, with
//! `precision f32`, neuron states and params and synaptic variables in f32.
//!
//! Arithmetic stays in f64 in both backends: a kernel widens each f32 value
//! it loads (exactly) and rounds each value it stores to the nearest f32.
//! So memory traffic halves, the interpreter and the JIT still agree bit
//! for bit, and only the stored values lose precision. Time, step counts
//! (`lastspike`, `lastupdate`), sources, signals, decay factors and
//! reductions stay f64.

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
            Owner::Group(g) => t.own = t.groups[g.index()].clone(),
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
}
