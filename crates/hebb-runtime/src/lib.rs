//! The runtime: network state in struct-of-arrays columns, synapses in CSR
//! by presynaptic neuron, delay rings, and the time-step loop of
//! LANGUAGE.md section 6 (Brian2's order). It knows the IR and nothing
//! above it: a [`Simulation`] is built from [`Kernels`] — a program and
//! the code that runs its kernels, which it owns — so the kernels always
//! belong to the network they run on.
//!
//! Modules: `state` (columns, groups, projections), `build` (initial
//! values, data files: `init`), `connect` (connection rules), `synapses` (CSR rows, delays,
//! the post index), `input` (Poisson and spike-time sources), `schedule` (phases, presentations, `set`s), `step` (the time
//! step and event delivery), `sample` (recording) and `error`.

mod build;
mod checkpoint;
mod codec;
mod connect;
mod error;
mod estimate;
mod init;
mod input;
mod partition;
mod profile;
pub mod record;
mod sample;
mod schedule;
mod state;
mod step;
mod synapses;
mod team;

pub use codec::RestoreError;
pub use error::{BuildError, RunError, SynapseRef};
pub use estimate::{MemoryEstimate, estimate, expected_synapses};
pub use partition::DEFAULT_GRAIN;
pub use profile::ProfileEntry;
pub use state::{GroupView, ProjectionView};

use hebb_ir::{Kernels, Program};
use partition::Partition;
use record::Recordings;
use schedule::Presenting;
use state::{AbortWindow, GroupState, ProjState};
use std::path::Path;

/// A network being simulated: the kernels (with their program) and the
/// state they run on. The state is private; read it through the accessors.
///
/// Kernels get raw pointers into the state, so nothing outside may swap
/// the kernels for others or change the state under them. Neither
/// compiles:
///
/// ```compile_fail
/// fn swap(sim: &mut hebb_runtime::Simulation, other: Box<dyn hebb_ir::Kernels>) {
///     sim.kernels = other; // private: kernels come with the simulation
/// }
/// ```
///
/// ```compile_fail
/// fn poke(sim: &mut hebb_runtime::Simulation) {
///     sim.projection(0).column(0)[0] = f64::NAN; // views are read-only
/// }
/// ```
pub struct Simulation {
    kernels: Box<dyn Kernels>,
    state: State,
    /// How threads share the work, with more than one.
    partition: Option<Partition>,
}

/// Everything that changes during a run.
struct State {
    groups: Vec<GroupState>,
    projections: Vec<ProjState>,
    recordings: Recordings,
    /// The next step to run.
    step: u64,
    /// Column tables of every group (`KernelArgs::groups`).
    group_table: Vec<*const *mut f64>,
    /// Whether plastic writes happen (false in `plasticity off` phases).
    plastic: bool,
    /// `plasticity off all`: groups run their frozen step and `every` kernels.
    freeze_neurons: bool,
    /// The phase under way.
    phase: usize,
    /// Rates of poisson groups outside presentations.
    base_rates: Vec<Option<Vec<f64>>>,
    presenting: Option<Presenting>,
    aborts: Vec<AbortWindow>,
    /// Time per part of the step, when profiling.
    profile: Option<profile::Profile>,
}

// SAFETY: the raw pointers in `group_table` point into the groups' columns,
// which the state owns; they move with it and are only used under `&mut`.
unsafe impl Send for State {}

impl Simulation {
    /// Builds the network of `kernels`' program: initial values, sources,
    /// connectivity. `read` reads the data files the model names (spike
    /// times, connections).
    pub fn new(
        kernels: Box<dyn Kernels>,
        read: &dyn Fn(&Path) -> std::io::Result<String>,
    ) -> Result<Simulation, BuildError> {
        Simulation::build(kernels, read, 1)
    }

    /// [`Simulation::new`], drawing the connectivity on up to `threads`
    /// threads: the network is the same for every count.
    pub fn build(
        kernels: Box<dyn Kernels>,
        read: &dyn Fn(&Path) -> std::io::Result<String>,
        threads: usize,
    ) -> Result<Simulation, BuildError> {
        let state = build::build(kernels.program(), read, threads)?;
        Ok(Simulation { kernels, state, partition: None })
    }

    /// Runs on `threads` threads from now on (1: the calling thread only).
    /// Results do not depend on it: every thread count gives bit-identical
    /// results. A kernel call is split across threads only if it has at
    /// least `grain` elements (neurons, synapses reached) per thread
    /// ([`DEFAULT_GRAIN`]; smaller calls cost more to hand over than they
    /// save).
    pub fn set_threads(&mut self, threads: usize, grain: usize) {
        self.partition = (threads > 1).then(|| {
            Partition::new(self.kernels.program(), &self.state.groups, &self.state.projections, threads, grain)
        });
    }

    /// The threads a run uses.
    pub fn threads(&self) -> usize {
        self.partition.as_ref().map_or(1, |p| p.threads)
    }

    /// Times every part of the step from now on (see [`Simulation::profile`]).
    pub fn set_profiling(&mut self, on: bool) {
        if on != self.state.profile.is_some() {
            self.state.profile = on.then(Default::default);
        }
    }

    /// Where the time went since profiling started, longest first (empty
    /// when not profiling).
    pub fn profile(&self) -> Vec<ProfileEntry> {
        self.state.profile.as_ref().map_or_else(Vec::new, |p| p.entries(self.program()))
    }

    /// How many kernel calls ran split across threads so far.
    pub fn split_calls(&self) -> u64 {
        self.partition.as_ref().map_or(0, |p| p.split_calls.get())
    }

    /// The program being run.
    pub fn program(&self) -> &Program {
        self.kernels.program()
    }

    /// What runs the kernels: "JIT" or "interpreter".
    pub fn kernels_name(&self) -> &'static str {
        self.kernels.name()
    }

    /// The next step to run (the number of steps run so far).
    pub fn step(&self) -> u64 {
        self.state.step
    }

    /// Simulated time so far (seconds).
    pub fn time(&self) -> f64 {
        self.state.step as f64 * self.program().dt
    }

    pub fn finished(&self) -> bool {
        self.state.step >= self.program().n_steps
    }

    /// Runs `n` steps (or up to the end of the program). An error stops
    /// the run where it happened; what was recorded so far is kept.
    pub fn run_steps(&mut self, n: u64) -> Result<(), RunError> {
        let end = (self.state.step + n).min(self.program().n_steps);
        let Some(partition) = &self.partition else {
            let mut stepper = self.stepper();
            while stepper.st.step < end {
                stepper.one_step()?;
            }
            return Ok(());
        };
        // The workers live for this call: between calls nothing spins.
        let shared = team::Shared::new(partition.threads);
        let kernels = &*self.kernels;
        std::thread::scope(|scope| {
            for w in 1..partition.threads {
                let shared = &shared;
                scope.spawn(move || shared.work(w, kernels));
            }
            // Dropping the team (at the end, or on an error or a panic)
            // stops the workers, so the scope can join them.
            let team = team::Team::new(&shared);
            let mut stepper = step::Stepper {
                program: kernels.program(),
                kernels,
                st: &mut self.state,
                parallel: Some((&team, partition)),
                args_buf: Vec::new(),
            };
            while stepper.st.step < end {
                stepper.one_step()?;
            }
            Ok(())
        })
    }

    /// Ends the run where it is: closes the current phase (recording its
    /// end and the weights measured then), so what was recorded has
    /// consistent windows after an early stop too.
    pub fn finish(&mut self) {
        let step = self.state.step;
        self.stepper().close_phase(step);
    }

    pub fn recordings(&self) -> &Recordings {
        &self.state.recordings
    }

    /// Takes the data recorded since the last drain (see
    /// [`Recordings::drain`]); `end` when the run is over.
    pub fn drain_recordings(&mut self, end: bool) -> record::RecordChunk {
        self.state.recordings.drain(end)
    }

    /// Group `g` (in the program's order).
    pub fn group(&self, g: usize) -> GroupView<'_> {
        GroupView { state: &self.state.groups[g] }
    }

    /// Projection `p` (in the program's order).
    pub fn projection(&self, p: usize) -> ProjectionView<'_> {
        ProjectionView { state: &self.state.projections[p] }
    }

    fn stepper(&mut self) -> step::Stepper<'_> {
        step::Stepper {
            program: self.kernels.program(),
            kernels: &*self.kernels,
            st: &mut self.state,
            parallel: None,
            args_buf: Vec::new(),
        }
    }
}
