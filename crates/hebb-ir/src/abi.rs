//! The calling convention shared by the interpreter and JIT-compiled
//! kernels: one `#[repr(C)]` argument block per call. Both backends run the
//! same loop over the same arguments, so they can be swapped and compared.

/// Arguments of one kernel call. Which fields matter depends on the kernel
/// kind (see `ir::KernelKind`):
///
/// * Step: elements `start..end`; writes the spiking ones to `spikes_out`
///   and their count to `n_spikes`.
/// * Reset: the `list_len` neurons in `list`.
/// * OnPre: the `list_len` segments in `list`; segment `s` is synapses
///   `seg_start[s]..seg_end[s]` of presynaptic neuron `seg_pre[s]` (or `s`
///   itself when `seg_pre` is null), with targets `targets[syn]`. (Usually
///   `seg_end` is `seg_start + 1`; a thread given part of every segment
///   gets its own bounds.) With `skip_side_stores` set, the prologue's
///   stores (of hoisted variables) are skipped: threads sharing a list run
///   the body, then one thread runs the prologue alone (empty segments).
/// * OnPost: the `list_len` postsynaptic neurons in `list`; neuron `j` has
///   synapses and presynaptic neurons in the pairs
///   `post_syn[2k], post_syn[2k+1]` for k in `post_start[j]..post_start[j+1]`.
/// * Every: elements `start..end`. For a projection's Step (continuous
///   ODEs) and Every kernels, elements are synapses with presynaptic neuron
///   `syn_pre[syn]` and postsynaptic neuron `targets[syn]`.
///
/// Kernels return the sum of `x - x` over every value they store, which is
/// NaN exactly when one of them is not finite.
#[repr(C)]
#[derive(Debug)]
pub struct KernelArgs {
    pub own: *const *mut f64,
    pub pre: *const *mut f64,
    pub post: *const *mut f64,
    /// Column pointers of every group, indexed by group id (signals use it).
    pub groups: *const *const *mut f64,
    pub t: f64,
    pub step: f64,
    pub seed: u64,
    pub start: u64,
    pub end: u64,
    pub list: *const u32,
    pub list_len: u64,
    pub seg_start: *const u32,
    pub seg_end: *const u32,
    pub seg_pre: *const u32,
    pub targets: *const u32,
    pub post_start: *const u32,
    pub post_syn: *const u32,
    pub syn_pre: *const u32,
    pub spikes_out: *mut u32,
    pub n_spikes: u64,
    /// Hoisted columns of the projection, indexed by pre / post neuron.
    pub pre_side: *const *mut f64,
    pub post_side: *const *mut f64,
    /// Reduction `k` of an every kernel sums into `scratch[k * stride + x]`
    /// (x the post or pre neuron); zeroed by the caller.
    pub scratch: *mut f64,
    pub scratch_stride: u64,
    /// The projection's decay factors for this step (`Slot::Factor`).
    pub factors: *const f64,
    /// Nonzero: an `on pre` kernel computes its prologue but does not store
    /// it.
    pub skip_side_stores: u64,
}

impl Default for KernelArgs {
    fn default() -> Self {
        KernelArgs {
            own: std::ptr::null(),
            pre: std::ptr::null(),
            post: std::ptr::null(),
            groups: std::ptr::null(),
            t: 0.0,
            step: 0.0,
            seed: 0,
            start: 0,
            end: 0,
            list: std::ptr::null(),
            list_len: 0,
            seg_start: std::ptr::null(),
            seg_end: std::ptr::null(),
            seg_pre: std::ptr::null(),
            targets: std::ptr::null(),
            post_start: std::ptr::null(),
            post_syn: std::ptr::null(),
            syn_pre: std::ptr::null(),
            spikes_out: std::ptr::null_mut(),
            n_spikes: 0,
            pre_side: std::ptr::null(),
            post_side: std::ptr::null(),
            scratch: std::ptr::null_mut(),
            scratch_stride: 0,
            factors: std::ptr::null(),
            skip_side_stores: 0,
        }
    }
}

/// Byte offsets of the fields, for the JIT's loads.
pub mod offsets {
    use super::KernelArgs;
    use std::mem::offset_of;
    pub const OWN: i32 = offset_of!(KernelArgs, own) as i32;
    pub const PRE: i32 = offset_of!(KernelArgs, pre) as i32;
    pub const POST: i32 = offset_of!(KernelArgs, post) as i32;
    pub const GROUPS: i32 = offset_of!(KernelArgs, groups) as i32;
    pub const T: i32 = offset_of!(KernelArgs, t) as i32;
    pub const STEP: i32 = offset_of!(KernelArgs, step) as i32;
    pub const SEED: i32 = offset_of!(KernelArgs, seed) as i32;
    pub const START: i32 = offset_of!(KernelArgs, start) as i32;
    pub const END: i32 = offset_of!(KernelArgs, end) as i32;
    pub const LIST: i32 = offset_of!(KernelArgs, list) as i32;
    pub const LIST_LEN: i32 = offset_of!(KernelArgs, list_len) as i32;
    pub const SEG_START: i32 = offset_of!(KernelArgs, seg_start) as i32;
    pub const SEG_END: i32 = offset_of!(KernelArgs, seg_end) as i32;
    pub const SEG_PRE: i32 = offset_of!(KernelArgs, seg_pre) as i32;
    pub const TARGETS: i32 = offset_of!(KernelArgs, targets) as i32;
    pub const POST_START: i32 = offset_of!(KernelArgs, post_start) as i32;
    pub const POST_SYN: i32 = offset_of!(KernelArgs, post_syn) as i32;
    pub const SYN_PRE: i32 = offset_of!(KernelArgs, syn_pre) as i32;
    pub const SPIKES_OUT: i32 = offset_of!(KernelArgs, spikes_out) as i32;
    pub const N_SPIKES: i32 = offset_of!(KernelArgs, n_spikes) as i32;
    pub const PRE_SIDE: i32 = offset_of!(KernelArgs, pre_side) as i32;
    pub const POST_SIDE: i32 = offset_of!(KernelArgs, post_side) as i32;
    pub const SCRATCH: i32 = offset_of!(KernelArgs, scratch) as i32;
    pub const SCRATCH_STRIDE: i32 = offset_of!(KernelArgs, scratch_stride) as i32;
    pub const FACTORS: i32 = offset_of!(KernelArgs, factors) as i32;
    pub const SKIP_SIDE_STORES: i32 = offset_of!(KernelArgs, skip_side_stores) as i32;
}
