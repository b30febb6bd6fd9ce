//! Threads inside one run: a team of workers that run kernel calls in
//! lockstep with the thread that steps the simulation (the leader).
//!
//! The leader runs everything that is not a kernel call split across
//! threads (sources, delivery queues, records, the schedule) on its own, as
//! with one thread. For a split call it publishes one [`KernelArgs`] per
//! thread, runs the first itself, and waits until every worker has run its
//! own; workers wait for the next call by spinning (then yielding), since
//! a time step has several calls and each lasts microseconds: waking a
//! sleeping thread would cost more than the call. There are no locks and
//! no atomics on the path of a synaptic event; the only synchronisation is
//! one release/acquire pair per call and thread.
//!
//! What makes a split call correct is the caller's business (`step.rs`):
//! the threads' arguments must write disjoint memory and read nothing
//! another thread writes during the call. What makes it deterministic is
//! the partition: each thread does the same work, in the same order, that
//! one thread would do for the elements it owns.

use hebb_ir::abi::KernelArgs;
use hebb_ir::{KernelId, Kernels};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// Spins before a waiting thread starts yielding its core, when every
/// thread has a core of its own; with more threads than cores, a spinning
/// thread would hold up the one it waits for, so it yields at once.
const SPINS_BEFORE_YIELD: u32 = 2_000;

/// The call being run: a kernel and a pointer to one argument block per
/// thread (the leader's stack or heap, alive until every worker is done),
/// or a task thread τ runs as `task(τ)` (borrowed from the leader likewise).
#[derive(Clone, Copy)]
enum Call {
    Kernel { kernel: KernelId, args: *mut KernelArgs, results: *mut f64 },
    Task(*const (dyn Fn(usize) + Sync + 'static)),
}

/// What the leader and the workers share.
pub(crate) struct Shared {
    /// Bumped by the leader to publish a call (or the stop).
    epoch: AtomicU64,
    /// Workers done with the current call.
    done: AtomicUsize,
    stop: AtomicBool,
    /// A worker's kernel call panicked (the leader re-raises it).
    panicked: AtomicBool,
    call: UnsafeCell<Call>,
    threads: usize,
    /// Spins before yielding (see `SPINS_BEFORE_YIELD`).
    spins: u32,
    /// Each thread's non-finite accumulator of the current kernel call
    /// (slot τ written by thread τ only), kept so calls allocate nothing.
    results: Box<[UnsafeCell<f64>]>,
}

// SAFETY: `call` is written by the leader only while no worker reads it
// (before the epoch bump that publishes it, after every worker reported the
// previous call done), and read by workers only between the bump and their
// report; the epoch's release/acquire orders the accesses. The pointers in
// it address argument blocks and results the leader keeps alive and does
// not touch until the call is done. Slot τ of `results` is written only
// by thread τ during a call and read by the leader after every worker
// reported done.
unsafe impl Sync for Shared {}

impl Shared {
    pub(crate) fn new(threads: usize) -> Shared {
        Shared {
            epoch: AtomicU64::new(0),
            done: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            panicked: AtomicBool::new(false),
            call: UnsafeCell::new(Call::Kernel {
                kernel: KernelId(0),
                args: std::ptr::null_mut(),
                results: std::ptr::null_mut(),
            }),
            threads,
            results: (0..threads).map(|_| UnsafeCell::new(0.0)).collect(),
            spins: if std::thread::available_parallelism().map_or(1, |n| n.get()) >= threads {
                SPINS_BEFORE_YIELD
            } else {
                0
            },
        }
    }

    /// The loop of worker `index` (1..threads): run each published call's
    /// share until the stop.
    pub(crate) fn work(&self, index: usize, kernels: &dyn Kernels) {
        let mut seen = 0;
        loop {
            seen = wait_until(self.spins, || {
                let e = self.epoch.load(Ordering::Acquire);
                (e != seen).then_some(e)
            });
            if self.stop.load(Ordering::Acquire) {
                return;
            }
            // SAFETY: published by the epoch just read (see `Shared`).
            let call = unsafe { *self.call.get() };
            match call {
                Call::Kernel { kernel, args, results } => {
                    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        // SAFETY: the leader made `args[index]` valid for
                        // this kernel, for this thread's share only (see
                        // `Team::run`).
                        unsafe { kernels.run(kernel, &mut *args.add(index)) }
                    }));
                    let acc = run.unwrap_or_else(|_| {
                        self.panicked.store(true, Ordering::Relaxed);
                        f64::NAN
                    });
                    // SAFETY: each worker writes its own result slot.
                    unsafe { *results.add(index) = acc };
                }
                Call::Task(task) => {
                    // SAFETY: the leader keeps the task alive until every
                    // worker reported it done (see `Team::each`).
                    let task = unsafe { &*task };
                    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| task(index))).is_err() {
                        self.panicked.store(true, Ordering::Relaxed);
                    }
                }
            }
            self.done.fetch_add(1, Ordering::Release);
        }
    }

    /// Tells the workers to return.
    fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        self.epoch.fetch_add(1, Ordering::Release);
    }
}

/// Spins `max_spins` times, then yields, until `ready` gives a value.
fn wait_until<T>(max_spins: u32, mut ready: impl FnMut() -> Option<T>) -> T {
    let mut spins = 0u32;
    loop {
        if let Some(v) = ready() {
            return v;
        }
        if spins < max_spins {
            spins += 1;
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}

/// The leader's handle on a team. Dropping it stops the workers (also when
/// the leader unwinds), so the scope that runs them can end.
pub(crate) struct Team<'s> {
    shared: &'s Shared,
}

impl<'s> Team<'s> {
    pub(crate) fn new(shared: &'s Shared) -> Team<'s> {
        Team { shared }
    }

    /// Runs kernel `k` once per thread, thread τ with `args[τ]`, and returns
    /// the threads' non-finite accumulators summed in thread order.
    ///
    /// # Safety
    ///
    /// `args` has one block per thread, each valid for kernel `k` as
    /// `Kernels::run` requires; the blocks write disjoint memory, and none
    /// reads memory another writes.
    pub(crate) unsafe fn run(&self, kernels: &dyn Kernels, k: KernelId, args: &mut [KernelArgs]) -> f64 {
        let threads = self.shared.threads;
        debug_assert_eq!(args.len(), threads);
        // `UnsafeCell<f64>` has the layout of `f64`.
        let results = self.shared.results.as_ptr() as *mut f64;
        // SAFETY: no worker reads `call` now: every one reported the
        // previous call done before the last `run` returned.
        unsafe { *self.shared.call.get() = Call::Kernel { kernel: k, args: args.as_mut_ptr(), results } };
        self.shared.epoch.fetch_add(1, Ordering::Release);
        // SAFETY: the caller's contract for `args[0]`; slot 0 is the
        // leader's.
        unsafe { *results = kernels.run(k, &mut args[0]) };
        wait_until(self.shared.spins, || (self.shared.done.load(Ordering::Acquire) == threads - 1).then_some(()));
        self.shared.done.store(0, Ordering::Relaxed);
        if self.shared.panicked.load(Ordering::Relaxed) {
            panic!("a kernel call panicked on a worker thread");
        }
        // SAFETY: every worker has written its slot and reported done
        // (acquire above); none writes again before the next call.
        (0..threads).map(|t| unsafe { *results.add(t) }).sum()
    }
}

impl Team<'_> {
    /// The number of threads, the leader's included.
    pub(crate) fn threads(&self) -> usize {
        self.shared.threads
    }

    /// Runs `task(τ)` on thread τ, for every τ in `0..threads` (the leader
    /// runs `task(0)`), and returns when all are done. The task must be
    /// safe to run concurrently for distinct τ (it is `Sync`); which data
    /// each τ touches is the task's business.
    pub(crate) fn each(&self, task: &(dyn Fn(usize) + Sync)) {
        let threads = self.shared.threads;
        // SAFETY: the lifetime is erased only for as long as the workers
        // can see the pointer: this function waits until every worker has
        // reported the task done (also when the leader's share panics)
        // before returning.
        let erased: *const (dyn Fn(usize) + Sync + 'static) = unsafe { std::mem::transmute(task) };
        // SAFETY: no worker reads `call` now (see `run`).
        unsafe { *self.shared.call.get() = Call::Task(erased) };
        self.shared.epoch.fetch_add(1, Ordering::Release);
        let mine = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| task(0)));
        wait_until(self.shared.spins, || (self.shared.done.load(Ordering::Acquire) == threads - 1).then_some(()));
        self.shared.done.store(0, Ordering::Relaxed);
        if let Err(p) = mine {
            std::panic::resume_unwind(p);
        }
        if self.shared.panicked.load(Ordering::Relaxed) {
            panic!("a task panicked on a worker thread");
        }
    }
}

impl Drop for Team<'_> {
    fn drop(&mut self) {
        self.shared.stop();
    }
}

/// Splits `0..n` into `parts` contiguous ranges of nearly equal length,
/// each boundary a multiple of `align` (but the last): boundaries
/// `b[0] = 0 <= b[1] <= ... <= b[parts] = n`.
pub(crate) fn split(n: usize, parts: usize, align: usize) -> Vec<usize> {
    let mut b: Vec<usize> = (0..=parts).map(|k| (n * k / parts) / align * align).collect();
    b[parts] = n;
    b
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn splits_cover_the_range_in_order() {
        for n in [0, 1, 7, 8, 100, 4001] {
            for parts in 1..5 {
                let b = split(n, parts, 8);
                assert_eq!(b.len(), parts + 1);
                assert_eq!((b[0], b[parts]), (0, n));
                assert!(b.windows(2).all(|w| w[0] <= w[1]), "{b:?}");
                assert!(b[..parts].iter().all(|x| x % 8 == 0), "{b:?}");
            }
        }
    }
}
