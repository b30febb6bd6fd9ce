//! The unitless IR: kernels over struct-of-arrays columns, with every unit
//! scale and constant param folded into numbers (SI values).
//!
//! A [`Program`] is everything the runtime needs: groups (neuron populations,
//! sources, signals) with their columns and initial-value expressions,
//! projections with connection rules, kernels, and records. Kernels are
//! straight-line bodies run once per element (neuron, spiking neuron,
//! synapse event); the loop around them is fixed by the kernel's kind, and is
//! the same in the interpreter and the JIT.

pub mod abi;
mod exec;
pub mod interp;
pub mod math;
mod measure;
mod print;
pub mod rng;
mod storage;
pub mod symbolic;
mod verify;

pub use abi::KernelArgs;
pub use exec::{Interpreted, Kernels};
pub use measure::{Measure, MeasureTarget, Metric};
pub use print::{expr_text, kernel_text};
pub use storage::{Precision, SlotTypes, Width, round32};
pub use verify::{VerifyError, verify};

/// Ids of the program's groups, projections and kernels: positions in
/// `Program::groups`, `Program::projections` and `Program::kernels`.
macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);

        impl $name {
            /// The position in the program's list.
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id!(
    /// A group: a population of neurons, a source or a signal.
    GroupId
);
id!(
    /// A projection: the synapses of one `connect`.
    ProjectionId
);
id!(
    /// A kernel.
    KernelId
);

/// The name of a synapse's weight (`hir::WEIGHT` in the language).
pub const WEIGHT: &str = "w";

/// A variable read or written by a kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Slot {
    /// Column of the kernel's own group (its neuron, synapse or signal).
    Own(u32),
    /// Column of the presynaptic group, at the synapse's presynaptic index.
    Pre(u32),
    /// Column of the postsynaptic group, at the synapse's postsynaptic index.
    Post(u32),
    /// Column of a signal group (which has one element).
    Signal(GroupId, u32),
    /// A hoisted synaptic variable stored once per presynaptic neuron: column
    /// of the projection's pre-side table, at the presynaptic index.
    PreSide(u32),
    /// Likewise once per postsynaptic neuron.
    PostSide(u32),
    /// Decay factor `k` of the projection for the current step (read-only):
    /// entry 2r is e^{rate_r (t - t_ref_r)}, entry 2r + 1 its inverse (see
    /// `Projection::decay_rates`).
    Factor(u32),
    /// The value of reduction `k` of an `every` kernel for this synapse: the
    /// sum over its postsynaptic neuron's synapses (`in_sum`) or its
    /// presynaptic neuron's (`out_sum`). Read-only.
    Reduced(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// Current time in seconds (`step * dt`).
    T,
    /// Current step number, as a float (exact below 2^53).
    Step,
    /// Index of the element (neuron index; synapse id in synapse kernels).
    Index,
    /// Presynaptic neuron index (synapse kernels).
    PreIndex,
    /// Postsynaptic neuron index (synapse kernels).
    PostIndex,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnOp {
    Neg,
    Not,
    Exp,
    Log,
    Sqrt,
    Abs,
    Sin,
    Cos,
    Tanh,
    Floor,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    /// `pow(x, y)` from libm; integer powers are lowered to multiplications.
    Pow,
    /// IEEE minimum as Cranelift's `fmin`: NaN if either is NaN, -0 < +0.
    Min,
    Max,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

impl BinOp {
    pub fn is_comparison(self) -> bool {
        matches!(self, BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne)
    }

    pub fn is_logical(self) -> bool {
        matches!(self, BinOp::And | BinOp::Or)
    }
}

/// Sums over the synapses of a projection (in `every` kernels).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reduce {
    InSum,
    OutSum,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Const(f64),
    Bool(bool),
    Load(Slot),
    Builtin(Builtin),
    Local(u32),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `if c then a else b`, both evaluated (no side effects exist).
    Select(Box<Expr>, Box<Expr>, Box<Expr>),
    /// A uniform draw in [0, 1); the number tells draws of one element and
    /// step apart, so every call site has its own stream.
    Rand(u32),
    /// A standard normal draw.
    Randn(u32),
    Reduce(Reduce, Box<Expr>),
}

// `add`, `mul`, ... build IR nodes; they are not arithmetic on values, so
// they are not the operator traits.
#[allow(clippy::should_implement_trait)]
impl Expr {
    pub fn un(op: UnOp, a: Expr) -> Expr {
        Expr::Unary(op, Box::new(a))
    }

    pub fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
        Expr::Binary(op, Box::new(a), Box::new(b))
    }

    pub fn select(c: Expr, a: Expr, b: Expr) -> Expr {
        Expr::Select(Box::new(c), Box::new(a), Box::new(b))
    }

    pub fn add(a: Expr, b: Expr) -> Expr {
        Expr::bin(BinOp::Add, a, b)
    }

    pub fn sub(a: Expr, b: Expr) -> Expr {
        Expr::bin(BinOp::Sub, a, b)
    }

    pub fn mul(a: Expr, b: Expr) -> Expr {
        Expr::bin(BinOp::Mul, a, b)
    }

    pub fn div(a: Expr, b: Expr) -> Expr {
        Expr::bin(BinOp::Div, a, b)
    }

    pub fn as_const(&self) -> Option<f64> {
        match self {
            Expr::Const(v) => Some(*v),
            _ => None,
        }
    }

    /// Visits every sub-expression, this one first.
    pub fn walk(&self, f: &mut impl FnMut(&Expr)) {
        f(self);
        match self {
            Expr::Unary(_, a) | Expr::Reduce(_, a) => a.walk(f),
            Expr::Binary(_, a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Expr::Select(c, a, b) => {
                c.walk(f);
                a.walk(f);
                b.walk(f);
            }
            _ => {}
        }
    }

    pub fn any(&self, pred: &impl Fn(&Expr) -> bool) -> bool {
        let mut found = false;
        self.walk(&mut |e| found |= pred(e));
        found
    }

    pub fn is_bool(&self) -> bool {
        match self {
            Expr::Bool(_) => true,
            Expr::Unary(UnOp::Not, _) => true,
            Expr::Binary(op, ..) => op.is_comparison() || op.is_logical(),
            Expr::Select(_, a, _) => a.is_bool(),
            _ => false,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    /// Defines a local (each local is defined exactly once per body).
    Let(u32, Expr),
    Store(Slot, Expr),
    If(Expr, Vec<Stmt>, Vec<Stmt>),
    /// Step kernels only: the element spikes in this step if the condition holds.
    Spike(Expr),
}

impl Stmt {
    pub fn walk_exprs(&self, f: &mut impl FnMut(&Expr)) {
        match self {
            Stmt::Let(_, e) | Stmt::Store(_, e) | Stmt::Spike(e) => e.walk(f),
            Stmt::If(c, a, b) => {
                c.walk(f);
                a.iter().chain(b).for_each(|s| s.walk_exprs(f));
            }
        }
    }
}

/// Whether a kernel's stores feed its non-finite return value. Synaptic
/// event kernels do not: their stores hit scattered memory, and a chain
/// through every stored value would serialize the cache misses. The runtime
/// scans synaptic state periodically instead, and whatever they write into
/// neurons is checked when the neurons integrate it.
pub fn checks_stores(kind: KernelKind) -> bool {
    !matches!(kind, KernelKind::OnPre | KernelKind::OnPost)
}

/// What a kernel runs over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelKind {
    /// Every element of a group, every step: integration and threshold.
    Step,
    /// The elements the runtime lists this step: the neurons that spiked
    /// (resets), the neurons of a source with a candidate spike (rates).
    Listed,
    /// Every synapse reached by an arriving presynaptic spike.
    OnPre,
    /// Every synapse of a postsynaptic neuron that spiked.
    OnPost,
    /// Every element, every period.
    Every,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Kernel {
    pub name: String,
    pub kind: KernelKind,
    /// OnPre and OnPost kernels: statements run once per arriving spike
    /// (per presynaptic segment, per postsynaptic neuron) before the body
    /// runs for each of its synapses: the updates of hoisted variables.
    /// Locals it defines are visible in the body.
    pub prologue: Vec<Stmt>,
    /// `every` kernels of projections: the sums `in_sum(e)` / `out_sum(e)`
    /// the body reads as `Slot::Reduced(k)`, computed over all synapses
    /// (in synapse order) before the body runs.
    pub reductions: Vec<(Reduce, Expr)>,
    /// The group (Step, Reset, group Every) or projection (OnPre, OnPost,
    /// synapse Every) it belongs to.
    pub owner: Owner,
    pub body: Vec<Stmt>,
    pub n_locals: u32,
    /// Random stream of the kernel's draws.
    pub stream: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    Group(GroupId),
    Projection(ProjectionId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnRole {
    State,
    /// A param that differs between elements (a random override).
    Param,
    /// The step of the neuron's last spike, as a float.
    LastSpike,
    /// The time (s) a synapse's (or a hoisted side's) event-driven
    /// variables were last brought up to date.
    LastUpdate,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    pub role: ColumnRole,
    /// Evaluated once per element at construction, in column order; may read
    /// earlier columns (`Load(Own)`), `Index`, and draw random numbers.
    pub init: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub enum GroupKind {
    Neurons {
        type_name: String,
    },
    /// `rate` in Hz may read `T` and `Index`.
    Poisson {
        rate: Expr,
        rate_max: Option<f64>,
        /// A rate that depends on time is evaluated by a `Listed` kernel
        /// (kernel, column): each step, for the neurons with a candidate
        /// spike, it stores `rate` at t into the column; the source keeps a
        /// candidate with probability rate / rate_max (thinning).
        thinning: Option<(KernelId, u32)>,
    },
    SpikeTimes(SpikeTimes),
    Signal,
}

/// The exact integrator's update `z(t + dt) = P z(t) + q`: the variables
/// z, the propagator P and the affine part q.
pub type Propagator = (Vec<String>, Vec<Vec<f64>>, Vec<f64>);

/// How a group's ODEs are integrated, for `hebb explain`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct IntegratorInfo {
    pub method: String,
    pub reason: String,
    /// For `exact`: the variables, the propagator P and the affine part q of
    /// `z(t + dt) = P z(t) + q`.
    pub propagator: Option<Propagator>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub name: String,
    pub size: usize,
    pub kind: GroupKind,
    pub columns: Vec<Column>,
    pub step: Option<KernelId>,
    pub reset: Option<KernelId>,
    /// `every` kernels and their period in steps.
    pub every: Vec<(u64, KernelId)>,
    /// `plasticity off all`: the step without the `plastic` equations (None
    /// when it has none), and the `every` kernels that are not `plastic`.
    pub frozen_step: Option<KernelId>,
    pub frozen_every: Vec<(u64, KernelId)>,
    pub integrator: Option<IntegratorInfo>,
    /// Whether elements of this group can spike.
    pub spikes: bool,
    /// The SI unit of each param and state, by name (empty when
    /// dimensionless), for the manifest of record files.
    pub units: Vec<(String, String)>,
}

impl Group {
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The SI unit of a param or state (empty when dimensionless or
    /// unknown).
    pub fn unit_of(&self, name: &str) -> &str {
        unit_in(&self.units, name)
    }
}

fn unit_in<'a>(units: &'a [(String, String)], name: &str) -> &'a str {
    units.iter().find(|(n, _)| n == name).map_or("", |(_, u)| u.as_str())
}

/// A group, or the slice `[start, end)` of one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sel {
    pub group: GroupId,
    pub start: usize,
    pub end: usize,
}

impl Sel {
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Rule {
    /// Probability of each pair; may read `PreIndex` and `PostIndex`.
    Prob(Expr),
    InDegree(usize),
    OutDegree(usize),
    OneToOne,
    AllToAll,
    File(std::path::PathBuf),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    pub name: String,
    pub synapse: String,
    pub pre: Sel,
    pub post: Sel,
    pub rule: Rule,
    pub autapses: bool,
    /// Seconds; may read `PreIndex`, `PostIndex` and draw random numbers.
    pub delay: Option<Expr>,
    /// Per-synapse columns. Initial values may read `PreIndex`, `PostIndex`.
    pub columns: Vec<Column>,
    /// Synapse states that are never written and start at one constant for
    /// every synapse: folded into the kernels instead of stored.
    pub folded: Vec<(String, f64)>,
    /// Hoisted variables stored once per presynaptic (`pre_side`) or
    /// postsynaptic (`post_side`) neuron; initial values are constants.
    pub pre_side: Vec<Column>,
    pub post_side: Vec<Column>,
    pub on_pre: Option<KernelId>,
    pub on_post: Option<KernelId>,
    /// The same without plastic writes (`plasticity off`): the synaptic
    /// effect stays, no synapse state changes.
    pub frozen_on_pre: Option<KernelId>,
    pub frozen_on_post: Option<KernelId>,
    pub frozen_every: Vec<(u64, KernelId)>,
    /// Continuous synaptic ODEs, integrated every step.
    pub step: Option<KernelId>,
    /// `every` kernels and their periods in steps.
    pub every: Vec<(u64, KernelId)>,
    /// Postsynaptic delay in steps (what `on post` sees).
    pub post_delay: u64,
    /// Memory per synapse without hoisting, for `hebb explain`.
    pub unhoisted_columns: usize,
    /// Event-driven variables: stored values are as of their last update,
    /// so records bring them to the sampling time with this.
    pub event_driven: Vec<EventDriven>,
    /// Decay rates of event-driven variables stored scaled. A variable with
    /// rate r is stored scaled to a reference time,
    /// S = (x - x_inf) e^{-r (t - t_ref)}, so reading it at any t costs one
    /// multiplication by the step's factor e^{r (t - t_ref)}
    /// (`Slot::Factor`), not an exponential per synapse or event. The
    /// runtime moves t_ref forward (rescaling S) before factors get extreme.
    pub decay_rates: Vec<f64>,
    /// The columns stored scaled (per synapse or per neuron of a side), with
    /// the index of their rate.
    pub scaled: Vec<ScaledColumn>,
    /// Per state stored per synapse, why it is not hoisted (for `hebb
    /// explain`).
    pub per_synapse_why: Vec<(String, String)>,
    /// Where the synapse's weight (its state `w`) is, if it has one.
    pub weight: Option<SynVar>,
    /// The SI unit of each synaptic param and state, by name.
    pub units: Vec<(String, String)>,
}

impl Projection {
    /// The SI unit of a synaptic param or state (empty when dimensionless
    /// or unknown).
    pub fn unit_of(&self, name: &str) -> &str {
        unit_in(&self.units, name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaledColumn {
    /// `Column`, `PreSide` or `PostSide`.
    pub var: SynVar,
    pub rate: u32,
}

/// How to read an event-driven variable at time t:
/// x_inf + (x - x_inf) e^{rate (t - lastupdate)}, or x + drift (t - lastupdate).
#[derive(Clone, Debug, PartialEq)]
pub struct EventDriven {
    pub name: String,
    pub value: SynVar,
    /// For a variable stored scaled, its rate index: x = x_inf + S F_r(t).
    pub factor: Option<u32>,
    pub lastupdate: SynVar,
    pub rate: f64,
    pub x_inf: f64,
    pub drift: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    Spikes {
        group: GroupId,
    },
    State {
        sel: Sel,
        columns: Vec<(String, u32)>,
        every: u64,
    },
    /// Synaptic variables: a column, or a constant for folded ones.
    Synapses {
        proj: ProjectionId,
        vars: Vec<(String, SynVar)>,
        every: u64,
        sample: Option<usize>,
    },
    Rate {
        group: GroupId,
        bin: u64,
    },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SynVar {
    Column(u32),
    Folded(f64),
    /// A hoisted variable: the value of the synapse's pre or post neuron.
    PreSide(u32),
    PostSide(u32),
    /// An event-driven variable (index into `Projection::event_driven`),
    /// brought to the sampling time.
    EventDriven(u32),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    pub dt: f64,
    pub seed: u64,
    /// How state columns are stored (see [`Precision`]).
    pub precision: Precision,
    /// Number of steps to simulate.
    pub n_steps: u64,
    pub groups: Vec<Group>,
    pub projections: Vec<Projection>,
    pub kernels: Vec<Kernel>,
    pub records: Vec<Record>,
    /// Phases in order (at least one), covering all `n_steps`.
    pub phases: Vec<Phase>,
    pub stimuli: Vec<Stimuli>,
    pub aborts: Vec<Abort>,
    pub measures: Vec<Measure>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Phase {
    pub name: String,
    pub start: u64,
    pub steps: u64,
    pub plasticity: bool,
    /// `plasticity off all`: groups run their frozen step and every kernels.
    pub freeze_neurons: bool,
    /// A stimulus set and its presentation period in steps.
    pub present: Option<(u32, u64)>,
    /// The fraction of each pattern's active neurons presented (1: all).
    pub cue: f64,
    pub sets: Vec<SetAction>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SetAction {
    /// Column of every element of a group; the value is evaluated per
    /// element like an initial value (counter: the phase's start step).
    Column { group: GroupId, column: u32, value: Expr },
    /// The rate (Hz) of a poisson group.
    Rate { group: GroupId, rate: f64 },
}

/// K random patterns over a poisson group: each pattern makes a fraction
/// `active` of its neurons fire at `rate`, the others at `rest`.
#[derive(Clone, Debug, PartialEq)]
pub struct Stimuli {
    pub name: String,
    pub group: GroupId,
    pub count: usize,
    pub active: f64,
    pub rate: f64,
    pub rest: f64,
}

impl Stimuli {
    /// How many of the source's `n` neurons a pattern makes active:
    /// the fraction `active` of them, rounded, at least one.
    pub fn active_count(&self, n: usize) -> usize {
        ((self.active * n as f64).round() as usize).clamp(1, n.max(1))
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Abort {
    pub group: GroupId,
    pub above: bool,
    pub inclusive: bool,
    pub threshold: f64,
}

impl Abort {
    /// The comparison as written: `>`, `>=`, `<` or `<=`.
    pub fn op(&self) -> &'static str {
        match (self.above, self.inclusive) {
            (true, false) => ">",
            (true, true) => ">=",
            (false, false) => "<",
            (false, true) => "<=",
        }
    }

    /// Whether a rate (Hz) stops the run.
    pub fn hit(&self, rate: f64) -> bool {
        match (self.above, self.inclusive) {
            (true, false) => rate > self.threshold,
            (true, true) => rate >= self.threshold,
            (false, false) => rate < self.threshold,
            (false, true) => rate <= self.threshold,
        }
    }
}

/// Spike times of a `spike_times` source.
#[derive(Clone, Debug, PartialEq)]
pub enum SpikeTimes {
    /// Every neuron of the source fires at these times (seconds).
    Inline(Vec<f64>),
    /// A CSV file of `i,t` rows (t in seconds), read when the network is built.
    File(std::path::PathBuf),
}

impl Program {
    pub fn group(&self, name: &str) -> Option<usize> {
        self.groups.iter().position(|g| g.name == name)
    }

    /// The projections whose weights a `measure` looks at, in the order
    /// of the measures (a projection measured twice comes twice).
    pub fn measured_projections(&self) -> impl Iterator<Item = ProjectionId> + '_ {
        self.measures.iter().filter_map(|m| match m.target {
            MeasureTarget::Projection(p) => Some(p),
            MeasureTarget::Group(_) => None,
        })
    }

    /// The group whose columns `Own` slots of this kernel index.
    pub fn own_columns(&self, kernel: &Kernel) -> &[Column] {
        match kernel.owner {
            Owner::Group(g) => &self.groups[g.index()].columns,
            Owner::Projection(p) => &self.projections[p.index()].columns,
        }
    }

    pub fn kernel(&self, k: KernelId) -> &Kernel {
        &self.kernels[k.index()]
    }
}

/// Random stream ids: every consumer of random numbers has its own.
pub mod streams {
    use super::{GroupId, KernelId, ProjectionId};

    /// Initial values of group `g`.
    pub fn group_init(g: GroupId) -> u32 {
        0x1000_0000 | g.0
    }
    /// Per-synapse initial values and delays of projection `p`.
    pub fn synapse_init(p: ProjectionId) -> u32 {
        0x2000_0000 | p.0
    }
    /// Connectivity of projection `p`.
    pub fn connect(p: ProjectionId) -> u32 {
        0x3000_0000 | p.0
    }
    /// Spikes of poisson group `g`.
    pub fn poisson(g: GroupId) -> u32 {
        0x4000_0000 | g.0
    }
    /// Draws made in kernel `k`.
    pub fn kernel(k: KernelId) -> u32 {
        0x5000_0000 | k.0
    }
    /// The active neurons of pattern `pattern` of stimulus set `s`.
    pub fn pattern(s: u32, pattern: u32) -> u32 {
        0x6000_0000 | (s << 16) | pattern
    }
    /// Values a phase's `set` gives the columns of group `g`.
    pub fn set_values(g: GroupId) -> u32 {
        0x6800_0000 | g.0
    }
    /// The order in which stimulus set `s` presents its patterns.
    pub fn presentation_order(s: u32) -> u32 {
        0x7000_0000 | s
    }
    /// Which active neurons a partial cue of stimulus set `s` presents.
    pub fn presentation_cue(s: u32) -> u32 {
        0x7100_0000 | s
    }
    /// The synapses a `record ... sample K` of projection `p` picks.
    pub fn record_sample(p: ProjectionId) -> u32 {
        synapse_init(p) ^ 0x00ff_0000
    }
}
