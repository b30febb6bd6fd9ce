//! The network's state: columns of neurons and synapses, synapses in CSR
//! by presynaptic neuron, delay rings and the post-synaptic index.
//!
//! Kernels get raw pointers to columns, so column memory must never move
//! while a simulation lives. [`Columns`] makes that a property of the type:
//! a column is allocated once, with a fixed length, and only freed on drop.

use crate::input::{Poisson, SpikeList};

/// Struct-of-arrays columns of `len` values each, allocated once, each
/// stored as f64 or (with `precision f32`) as f32. Rust code reads and
/// writes them through the same pointers the kernels get, so the pointers
/// stay valid for the whole life of the value.
pub(crate) struct Columns {
    /// One pointer per column to `len` initialised values, owned by `self`
    /// (from `Box::<[f64]>::into_raw` or `Box::<[f32]>::into_raw`: see
    /// `f32`). Kernels take the table as `*mut f64` and read f32 columns
    /// through it as the program's slot types say.
    ptrs: Vec<*mut f64>,
    /// Whether each column holds f32 values.
    f32: Vec<bool>,
    len: usize,
}

// SAFETY: `Columns` owns its memory exclusively (like `Vec<Box<[f64]>>`);
// the raw pointers are never shared outside a `&mut` borrow of the owner.
unsafe impl Send for Columns {}
// SAFETY: `&Columns` only gives shared slices.
unsafe impl Sync for Columns {}

impl Columns {
    /// Takes columns that all have length `len`; those with `f32[c]` set
    /// are stored rounded to f32.
    pub fn with_precision(columns: Vec<Vec<f64>>, len: usize, f32: Vec<bool>) -> Columns {
        assert_eq!(columns.len(), f32.len(), "one precision per column");
        let ptrs = columns
            .into_iter()
            .zip(&f32)
            .map(|(c, &narrow)| {
                assert_eq!(c.len(), len, "every column of a group has one value per element");
                if narrow {
                    let v: Box<[f32]> = c.into_iter().map(|x| x as f32).collect();
                    Box::into_raw(v) as *mut f32 as *mut f64
                } else {
                    Box::into_raw(c.into_boxed_slice()) as *mut f64
                }
            })
            .collect();
        Columns { ptrs, f32, len }
    }

    /// Values per column.
    pub fn len(&self) -> usize {
        self.len
    }

    /// How many columns.
    pub fn count(&self) -> usize {
        self.ptrs.len()
    }

    /// Bytes of storage per element, over all columns.
    pub fn bytes_per_element(&self) -> usize {
        self.f32.iter().map(|&n| if n { 4 } else { 8 }).sum()
    }

    fn slice(&self, c: usize) -> Column<'_> {
        // SAFETY: `ptrs[c]` points to `len` initialised values of the
        // type `f32[c]` says, owned by `self`; `&self` excludes writes
        // (kernels run under `&mut`).
        unsafe {
            if self.f32[c] {
                Column::F32(std::slice::from_raw_parts(self.ptrs[c] as *const f32, self.len))
            } else {
                Column::F64(std::slice::from_raw_parts(self.ptrs[c], self.len))
            }
        }
    }

    fn slice_mut(&mut self, c: usize) -> ColumnMut<'_> {
        // SAFETY: as in `slice`; `&mut self` makes this the only access.
        unsafe {
            if self.f32[c] {
                ColumnMut::F32(std::slice::from_raw_parts_mut(self.ptrs[c] as *mut f32, self.len))
            } else {
                ColumnMut::F64(std::slice::from_raw_parts_mut(self.ptrs[c], self.len))
            }
        }
    }

    /// Column `c` as f64 values (borrowed, or widened from f32).
    pub fn values(&self, c: usize) -> std::borrow::Cow<'_, [f64]> {
        match self.slice(c) {
            Column::F64(v) => std::borrow::Cow::Borrowed(v),
            Column::F32(v) => std::borrow::Cow::Owned(v.iter().map(|&x| f64::from(x)).collect()),
        }
    }

    /// Element `i` of column `c`.
    pub fn at(&self, c: usize, i: usize) -> f64 {
        match self.slice(c) {
            Column::F64(v) => v[i],
            Column::F32(v) => f64::from(v[i]),
        }
    }

    /// Sets element `i` of column `c` (rounded to f32 in an f32 column).
    pub fn set(&mut self, c: usize, i: usize, x: f64) {
        match self.slice_mut(c) {
            ColumnMut::F64(v) => v[i] = x,
            ColumnMut::F32(v) => v[i] = x as f32,
        }
    }

    /// Copies `values` (one per element) into column `c`.
    pub fn copy_from(&mut self, c: usize, values: &[f64]) {
        match self.slice_mut(c) {
            ColumnMut::F64(v) => v.copy_from_slice(values),
            ColumnMut::F32(v) => v.iter_mut().zip(values).for_each(|(x, &y)| *x = y as f32),
        }
    }

    /// Multiplies every value of column `c` by `f`.
    pub fn scale(&mut self, c: usize, f: f64) {
        match self.slice_mut(c) {
            ColumnMut::F64(v) => v.iter_mut().for_each(|x| *x *= f),
            ColumnMut::F32(v) => v.iter_mut().for_each(|x| *x = (f64::from(*x) * f) as f32),
        }
    }

    /// The first element of column `c` that is not finite.
    pub fn first_non_finite(&self, c: usize) -> Option<usize> {
        match self.slice(c) {
            Column::F64(v) => first_non_finite(v),
            Column::F32(v) => v.iter().position(|x| !x.is_finite()),
        }
    }

    /// Column `c`, which the program stores in f64 (step counts, source
    /// rates): a broken invariant otherwise.
    pub fn f64s(&self, c: usize) -> &[f64] {
        match self.slice(c) {
            Column::F64(v) => v,
            Column::F32(_) => panic!("column {c} is stored in f32, not f64"),
        }
    }

    pub fn f64s_mut(&mut self, c: usize) -> &mut [f64] {
        match self.slice_mut(c) {
            ColumnMut::F64(v) => v,
            ColumnMut::F32(_) => panic!("column {c} is stored in f32, not f64"),
        }
    }

    /// The pointer table kernels index by column (`KernelArgs::own` and
    /// friends). Valid as long as `self`; writing through it needs `&mut
    /// self` for the duration.
    pub fn table(&self) -> *const *mut f64 {
        self.ptrs.as_ptr()
    }
}

enum Column<'a> {
    F64(&'a [f64]),
    F32(&'a [f32]),
}

enum ColumnMut<'a> {
    F64(&'a mut [f64]),
    F32(&'a mut [f32]),
}

impl Drop for Columns {
    fn drop(&mut self) {
        for (&p, &narrow) in self.ptrs.iter().zip(&self.f32) {
            // SAFETY: `p` came from `Box::into_raw` of a slice of `len`
            // values of the type `narrow` says, and is freed exactly once,
            // here.
            unsafe {
                if narrow {
                    drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(p as *mut f32, self.len)));
                } else {
                    drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, self.len)));
                }
            }
        }
    }
}

/// Where a group's spikes come from, besides its own threshold.
pub(crate) enum Source {
    None,
    Poisson(Box<Poisson>),
    SpikeTimes(SpikeList),
}

/// One group's state.
pub(crate) struct GroupState {
    pub size: usize,
    pub columns: Columns,
    /// Neurons that spiked in the current step, in index order.
    pub spikes: Vec<u32>,
    pub source: Source,
    /// The column holding each neuron's last spike step, if any.
    pub lastspike: Option<usize>,
}

/// Synapses of one projection, stored by presynaptic neuron.
pub(crate) struct ProjState {
    /// `row_start[i]..row_start[i+1]` are the synapses of presynaptic neuron
    /// `i` (over the whole presynaptic group).
    pub row_start: Vec<u32>,
    /// Postsynaptic neuron of each synapse.
    pub targets: Vec<u32>,
    pub columns: Columns,
    /// Rows split by delay: segment `s` is synapses
    /// `seg_start[s]..seg_start[s+1]` of neuron `seg_pre[s]` with delay
    /// `seg_delay[s]`; `pre_seg[i]..pre_seg[i+1]` are neuron i's segments.
    /// Empty when every synapse has the same delay (segments are rows).
    pub seg_start: Vec<u32>,
    pub seg_pre: Vec<u32>,
    pub seg_delay: Vec<u32>,
    pub pre_seg: Vec<u32>,
    /// `0..n_pre`: the presynaptic neuron of each row, passed as `seg_pre`
    /// when segments are rows.
    pub identity: Vec<u32>,
    /// The delay in steps when it is homogeneous.
    pub delay: u32,
    /// Pending segments (or presynaptic neurons) by arrival step modulo
    /// `ring.len()`.
    pub ring: Vec<Vec<u32>>,
    /// Post-synaptic index for `on post`: synapses of postsynaptic neuron j
    /// are the pairs (synapse, presynaptic neuron) at
    /// `post_syn[2 k], post_syn[2 k + 1]` for k in `post_start[j]..post_start[j+1]`.
    pub post_start: Vec<u32>,
    pub post_syn: Vec<u32>,
    /// Presynaptic neuron of each synapse (for continuous ODEs and `every`
    /// blocks).
    pub syn_pre: Vec<u32>,
    /// Hoisted variables, one value per pre / post neuron.
    pub pre_side: Columns,
    pub post_side: Columns,
    /// Postsynaptic spikes waiting for `post_delay`, by step modulo length.
    pub post_ring: Vec<Vec<u32>>,
    /// Room for the reductions of `every` kernels.
    pub scratch: Vec<f64>,
    /// Decay factors of the current step (`Slot::Factor`) and the reference
    /// time of each decay rate.
    pub factors: Vec<f64>,
    pub t_ref: Vec<f64>,
}

impl ProjState {
    pub fn n_synapses(&self) -> usize {
        self.targets.len()
    }

    pub fn heterogeneous(&self) -> bool {
        !self.seg_start.is_empty()
    }

    /// Bytes of memory per synapse in this projection's storage.
    pub fn bytes_per_synapse(&self) -> f64 {
        let n = self.n_synapses().max(1) as f64;
        let per_syn = 4
            + self.columns.bytes_per_element()
            + 8 * usize::from(!self.post_syn.is_empty())
            + 4 * usize::from(!self.syn_pre.is_empty());
        let sides = self.pre_side.bytes_per_element() * self.pre_side.len()
            + self.post_side.bytes_per_element() * self.post_side.len();
        let rows = 4 * self.row_start.len()
            + 4 * (self.seg_start.len() + self.seg_pre.len() + self.seg_delay.len() + self.pre_seg.len())
            + 4 * self.post_start.len();
        per_syn as f64 + (rows + sides) as f64 / n
    }

    /// The presynaptic neuron of a synapse, by binary search in the rows.
    pub fn pre_of(&self, syn: u32) -> u32 {
        (self.row_start.partition_point(|&s| s <= syn) - 1) as u32
    }
}

/// Spike counts of the last 100 ms, for `abort when`.
pub(crate) struct AbortWindow {
    pub counts: Vec<u64>,
    pub sum: u64,
}

/// A read-only view of one group of a simulation.
#[derive(Clone, Copy)]
pub struct GroupView<'a> {
    pub(crate) state: &'a GroupState,
}

impl<'a> GroupView<'a> {
    pub fn size(&self) -> usize {
        self.state.size
    }

    /// Column `c` (in the order of `ir::Group::columns`), as f64 values
    /// (widened when the column is stored in f32).
    pub fn column(&self, c: usize) -> std::borrow::Cow<'a, [f64]> {
        self.state.columns.values(c)
    }

    /// The neurons that spiked in the last step, in index order.
    pub fn spikes(&self) -> &'a [u32] {
        &self.state.spikes
    }
}

/// A read-only view of one projection of a simulation.
#[derive(Clone, Copy)]
pub struct ProjectionView<'a> {
    pub(crate) state: &'a ProjState,
}

impl<'a> ProjectionView<'a> {
    pub fn n_synapses(&self) -> usize {
        self.state.n_synapses()
    }

    /// Per-synapse column `c` (in the order of `ir::Projection::columns`),
    /// as f64 values (widened when the column is stored in f32).
    pub fn column(&self, c: usize) -> std::borrow::Cow<'a, [f64]> {
        self.state.columns.values(c)
    }

    /// The postsynaptic neuron of each synapse.
    pub fn targets(&self) -> &'a [u32] {
        &self.state.targets
    }

    /// The presynaptic neuron of a synapse.
    pub fn pre_of(&self, syn: u32) -> u32 {
        self.state.pre_of(syn)
    }

    /// Memory per synapse, indices and hoisted tables included.
    pub fn bytes_per_synapse(&self) -> f64 {
        self.state.bytes_per_synapse()
    }
}

/// The first value that is not finite, checked fast first: `x * 0` is 0
/// for finite x and NaN otherwise, summed in independent lanes the compiler
/// vectorizes (a branch per element costs ~10x more on the synapse scan).
fn first_non_finite(col: &[f64]) -> Option<usize> {
    if all_finite(col) { None } else { col.iter().position(|v| !v.is_finite()) }
}

fn all_finite(col: &[f64]) -> bool {
    let mut acc = [0.0f64; 8];
    let chunks = col.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..8 {
            acc[k] += c[k] * 0.0;
        }
    }
    rest.iter().all(|v| v.is_finite()) && acc.iter().sum::<f64>() == 0.0
}

#[cfg(test)]
mod tests {
    #[test]
    fn all_finite_finds_every_non_finite_value() {
        let mut v: Vec<f64> = (0..37).map(|k| k as f64 * -1.5e300).collect();
        assert!(super::all_finite(&v));
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            for at in [0, 7, 8, 31, 32, 36] {
                let old = v[at];
                v[at] = bad;
                assert!(!super::all_finite(&v), "{bad} at {at}");
                assert_eq!(super::first_non_finite(&v), Some(at));
                v[at] = old;
            }
        }
        assert!(super::all_finite(&[]));
    }
}
