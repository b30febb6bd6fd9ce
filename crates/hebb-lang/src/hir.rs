//! The checked model: names resolved to ids, a type (dimension) on every
//! expression, constants in SI. Produced by `sema`, consumed by `ir::lower`.

use crate::span::Span;
pub use crate::syntax::ast::{AssignOp, BinOp};
use crate::units::Dim;

mod measure;
pub use measure::{Measure, MeasureTarget, Metric};

/// The type of an expression. `Unknown` follows an error and unifies with
/// everything, so one mistake is reported once.
/// The name of a synapse's weight: the state a `Static` connection sets,
/// a connection file fills, and `measure weights` reads.
pub const WEIGHT: &str = "w";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Num(Dim),
    Bool,
    Unknown,
}

impl Ty {
    pub const ONE: Ty = Ty::Num(Dim::ONE);

    pub fn dim(self) -> Option<Dim> {
        match self {
            Ty::Num(d) => Some(d),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Func {
    Exp,
    Log,
    Sqrt,
    Abs,
    Sin,
    Cos,
    Tanh,
    /// The logistic function 1 / (1 + e^-x).
    Sigmoid,
    Min,
    Max,
    Clip,
    Pos,
    Step,
    Rand,
    Randn,
}

impl Func {
    pub const ALL: [Func; 15] = [
        Func::Exp,
        Func::Log,
        Func::Sqrt,
        Func::Abs,
        Func::Sin,
        Func::Cos,
        Func::Tanh,
        Func::Sigmoid,
        Func::Min,
        Func::Max,
        Func::Clip,
        Func::Pos,
        Func::Step,
        Func::Rand,
        Func::Randn,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Func::Exp => "exp",
            Func::Log => "log",
            Func::Sqrt => "sqrt",
            Func::Abs => "abs",
            Func::Sin => "sin",
            Func::Cos => "cos",
            Func::Tanh => "tanh",
            Func::Sigmoid => "sigmoid",
            Func::Min => "min",
            Func::Max => "max",
            Func::Clip => "clip",
            Func::Pos => "pos",
            Func::Step => "step",
            Func::Rand => "rand",
            Func::Randn => "randn",
        }
    }

    pub fn arity(self) -> usize {
        match self {
            Func::Rand | Func::Randn => 0,
            Func::Min | Func::Max => 2,
            Func::Clip => 3,
            _ => 1,
        }
    }

    pub fn from_name(name: &str) -> Option<Func> {
        Func::ALL.iter().copied().find(|f| f.name() == name)
    }
}

/// Random distributions, allowed only where values are drawn once: initial
/// values, overrides and connection options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dist {
    /// uniform(a, b): a + (b - a) U, U in [0, 1).
    Uniform,
    /// normal(mu, sigma).
    Normal,
    /// lognormal(mu, sigma): mean mu and standard deviation sigma of the
    /// variable itself (both with its unit).
    LogNormal,
    /// exponential(mean).
    Exponential,
}

impl Dist {
    pub fn name(self) -> &'static str {
        match self {
            Dist::Uniform => "uniform",
            Dist::Normal => "normal",
            Dist::LogNormal => "lognormal",
            Dist::Exponential => "exponential",
        }
    }

    pub fn from_name(name: &str) -> Option<Dist> {
        [Dist::Uniform, Dist::Normal, Dist::LogNormal, Dist::Exponential].into_iter().find(|d| d.name() == name)
    }

    pub fn arity(self) -> usize {
        match self {
            Dist::Exponential => 1,
            _ => 2,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// Current time.
    T,
    Dt,
    /// Index in the population (in a synapse: the presynaptic index).
    I,
    /// In a synapse or a connection probability: the postsynaptic index.
    J,
    /// Size of the population.
    N,
    /// Time of the last spike of this neuron.
    LastSpike,
}

impl Builtin {
    pub fn name(self) -> &'static str {
        match self {
            Builtin::T => "t",
            Builtin::Dt => "dt",
            Builtin::I => "i",
            Builtin::J => "j",
            Builtin::N => "N",
            Builtin::LastSpike => "lastspike",
        }
    }
}

/// Whose variable an expression reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Owner {
    /// The enclosing neuron, synapse or signal.
    Own,
    /// The presynaptic neuron of a synapse.
    Pre,
    /// The postsynaptic neuron of a synapse.
    Post,
    Signal(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VarKind {
    Param,
    State,
    /// `lastspike` of a pre or post neuron.
    LastSpike,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VarRef {
    pub owner: Owner,
    pub kind: VarKind,
    pub index: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduce {
    /// Sum over the synapses of this projection sharing the postsynaptic neuron.
    InSum,
    /// Sum over the synapses sharing the presynaptic neuron.
    OutSum,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Ty,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A value in SI units.
    Const(f64),
    Bool(bool),
    Var(VarRef),
    Builtin(Builtin),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
    Dist(Dist, Vec<Expr>),
    Reduce(Reduce, Box<Expr>),
    /// Stands in for an expression that had an error.
    Error,
}

impl Expr {
    pub fn constant(value: f64, dim: Dim, span: Span) -> Expr {
        Expr { kind: ExprKind::Const(value), ty: Ty::Num(dim), span }
    }

    pub fn error(span: Span) -> Expr {
        Expr { kind: ExprKind::Error, ty: Ty::Unknown, span }
    }

    /// Visits every sub-expression, this one first.
    pub fn walk(&self, f: &mut impl FnMut(&Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Unary(_, a) | ExprKind::Reduce(_, a) => a.walk(f),
            ExprKind::Binary(_, a, b) => {
                a.walk(f);
                b.walk(f);
            }
            ExprKind::Call(_, args) | ExprKind::Dist(_, args) => args.iter().for_each(|a| a.walk(f)),
            _ => {}
        }
    }

    pub fn any(&self, pred: impl Fn(&Expr) -> bool) -> bool {
        let mut found = false;
        self.walk(&mut |e| found |= pred(e));
        found
    }

    /// Whether the value can vary between elements or over time (reads a
    /// state, a builtin other than `dt`, a random draw or a distribution).
    pub fn is_varying(&self) -> bool {
        self.any(|e| match &e.kind {
            ExprKind::Var(v) => v.kind != VarKind::Param || v.owner != Owner::Own,
            ExprKind::Builtin(b) => *b != Builtin::Dt,
            ExprKind::Call(f, _) => matches!(f, Func::Rand | Func::Randn),
            ExprKind::Dist(..) | ExprKind::Reduce(..) => true,
            _ => false,
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    Assign { target: VarRef, op: AssignOp, value: Expr, span: Span },
    If { cond: Expr, then_body: Vec<Stmt>, else_body: Vec<Stmt>, span: Span },
}

impl Stmt {
    pub fn walk_exprs(&self, f: &mut impl FnMut(&Expr)) {
        match self {
            Stmt::Assign { value, .. } => value.walk(f),
            Stmt::If { cond, then_body, else_body, .. } => {
                cond.walk(f);
                then_body.iter().chain(else_body).for_each(|s| s.walk_exprs(f));
            }
        }
    }

    pub fn walk_targets(&self, f: &mut impl FnMut(VarRef, Span)) {
        match self {
            Stmt::Assign { target, span, .. } => f(*target, *span),
            Stmt::If { then_body, else_body, .. } => then_body.iter().chain(else_body).for_each(|s| s.walk_targets(f)),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: String,
    pub ty: Ty,
    /// The default value; may refer to earlier params.
    pub value: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct State {
    pub name: String,
    pub ty: Ty,
    pub init: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Ode {
    pub state: u32,
    pub rhs: Expr,
    pub unless_refractory: bool,
    /// Synapses only: integrated every step rather than lazily at events.
    pub continuous: bool,
    /// Neurons and signals: not integrated in a `plasticity off all` phase.
    pub plastic: bool,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Auto,
    Exact,
    ExponentialEuler,
    Euler,
    Rk2,
    Rk4,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Auto => "auto",
            Method::Exact => "exact",
            Method::ExponentialEuler => "exponential_euler",
            Method::Euler => "euler",
            Method::Rk2 => "rk2",
            Method::Rk4 => "rk4",
        }
    }

    pub const ALL: [Method; 6] =
        [Method::Auto, Method::Exact, Method::ExponentialEuler, Method::Euler, Method::Rk2, Method::Rk4];
}

#[derive(Clone, Debug, PartialEq)]
pub struct Every {
    /// The period in seconds.
    pub period: f64,
    pub body: Vec<Stmt>,
    /// Neurons and signals: skipped in a `plasticity off all` phase.
    pub plastic: bool,
    pub span: Span,
}

/// The dynamics shared by neurons, synapses and signals.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Dynamics {
    pub params: Vec<Param>,
    pub states: Vec<State>,
    pub odes: Vec<Ode>,
    pub method: Option<(Method, Span)>,
    pub every: Vec<Every>,
}

impl Dynamics {
    pub fn param(&self, name: &str) -> Option<usize> {
        self.params.iter().position(|p| p.name == name)
    }

    pub fn state(&self, name: &str) -> Option<usize> {
        self.states.iter().position(|s| s.name == name)
    }

    pub fn ode_of(&self, state: usize) -> Option<&Ode> {
        self.odes.iter().find(|o| o.state as usize == state)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct NeuronType {
    pub name: String,
    pub span: Span,
    pub dynamics: Dynamics,
    pub threshold: Option<Expr>,
    pub reset: Vec<Stmt>,
    /// The refractory period (a time); `None` means no refractoriness.
    pub refractory: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SignalType {
    pub name: String,
    pub span: Span,
    pub dynamics: Dynamics,
}

/// A synapse type as declared, with its blocks checked once per projection
/// (they read the pre and post neuron types, which only a `connect` fixes).
#[derive(Clone, Debug, PartialEq)]
pub struct SynapseType {
    pub name: String,
    pub span: Span,
    pub dynamics: Dynamics,
}

/// A synapse type bound to one projection: its blocks resolved against the
/// projection's pre and post neuron types.
#[derive(Clone, Debug, PartialEq)]
pub struct SynapseInstance {
    /// `None` for the built-in `Static(target = X)`.
    pub type_id: Option<u32>,
    pub name: String,
    pub dynamics: Dynamics,
    pub on_pre: Vec<Stmt>,
    pub on_post: Vec<Stmt>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PopulationKind {
    Neurons {
        type_id: u32,
    },
    /// `rate` may use `t` and `i`.
    Poisson {
        rate: Expr,
        rate_max: Option<f64>,
    },
    SpikeTimes(SpikeTimes),
}

#[derive(Clone, Debug, PartialEq)]
pub enum SpikeTimes {
    /// Every neuron of the source fires at these times (seconds).
    Inline(Vec<f64>),
    /// A CSV file `i,t` (t in seconds), resolved relative to the model file.
    File { path: std::path::PathBuf, span: Span },
}

/// A per-population override of a param or of a state's initial value.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    pub target: VarRef,
    pub value: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Population {
    pub name: String,
    pub size: usize,
    pub kind: PopulationKind,
    pub overrides: Vec<Override>,
    pub span: Span,
}

/// A population, or the slice `[start, end)` of one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PopSel {
    pub pop: u32,
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ConnRule {
    /// Each pair independently with this probability (may use `i`, `j`).
    Prob(Expr),
    InDegree(usize),
    OutDegree(usize),
    OneToOne,
    AllToAll,
    /// CSV `pre,post[,w[,delay]]`.
    File {
        path: std::path::PathBuf,
        span: Span,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    pub pre: PopSel,
    pub post: PopSel,
    pub synapse: SynapseInstance,
    pub rule: ConnRule,
    pub autapses: bool,
    /// Axonal delay in seconds (constant or a distribution); `None` is zero.
    pub delay: Option<Expr>,
    /// Delay of what `on post` sees, in seconds.
    pub post_delay: Option<Expr>,
    /// Initial values of synapse states and per-projection params.
    pub overrides: Vec<Override>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    Spikes { pop: u32 },
    State { sel: PopSel, vars: Vec<(String, VarRef)>, every: f64 },
    Synapses { proj: u32, vars: Vec<(String, u32)>, every: f64, sample: Option<usize> },
    Rate { pop: u32, bin: f64 },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    pub name: String,
    pub span: Span,
    pub populations: Vec<Population>,
    pub projections: Vec<Projection>,
    pub records: Vec<Record>,
}

impl Network {
    pub fn population(&self, name: &str) -> Option<usize> {
        self.populations.iter().position(|p| p.name == name)
    }

    /// A projection's name, which its record files carry: `pre-post`, and
    /// `pre-post_2`, `pre-post_3`, ... for further projections between the
    /// same populations, in the order of the `connect`s.
    pub fn projection_name(&self, proj: usize) -> String {
        let p = &self.projections[proj];
        let base =
            format!("{}-{}", self.populations[p.pre.pop as usize].name, self.populations[p.post.pop as usize].name);
        let earlier =
            self.projections[..proj].iter().filter(|q| q.pre.pop == p.pre.pop && q.post.pop == p.post.pop).count();
        if earlier == 0 { base } else { format!("{base}_{}", earlier + 1) }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Experiment {
    pub name: Option<String>,
    pub network: u32,
    /// Time step in seconds.
    pub dt: f64,
    pub seed: u64,
    /// `seeds = [...]`: the replicates of `hebb compare` and `hebb sweep`.
    pub seeds: Option<Vec<u64>>,
    /// `precision = f32`: states and synaptic variables stored in f32.
    pub f32: bool,
    /// Total duration in seconds (the sum of the phases when there are any).
    pub duration: f64,
    pub span: Span,
    pub stimuli: Vec<StimulusSet>,
    /// Phases in order; none means one phase of `duration`, plastic.
    pub phases: Vec<Phase>,
    pub measures: Vec<Measure>,
    /// Variant names (their changes are applied by `sema::check_variant`).
    pub variants: Vec<(String, Span)>,
    pub aborts: Vec<Abort>,
}

/// `stimuli NAME = K random_patterns of SOURCE { active; rate; rest }`.
#[derive(Clone, Debug, PartialEq)]
pub struct StimulusSet {
    pub name: String,
    /// A poisson population with a constant rate.
    pub source: u32,
    pub count: usize,
    /// Fraction of the source's neurons active in each pattern.
    pub active: f64,
    /// Rates (Hz) of active and of other neurons during a presentation.
    pub rate: f64,
    pub rest: f64,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Phase {
    pub name: String,
    /// Seconds.
    pub duration: f64,
    pub plasticity: bool,
    /// `plasticity off all`: `plastic` equations and `every` blocks of
    /// neurons and signals stop too.
    pub freeze_neurons: bool,
    /// Cycle through a stimulus set, one pattern every `each` seconds.
    pub present: Option<(u32, f64)>,
    /// The fraction of each pattern's active neurons presented (`cue f`;
    /// 1 without it): a partial cue, for pattern completion.
    pub cue: f64,
    pub sets: Vec<SetAction>,
    pub span: Span,
}

/// `set X = e` at the start of a phase.
#[derive(Clone, Debug, PartialEq)]
pub enum SetAction {
    /// A state of every neuron of a population (`e` may use `i`, `N`,
    /// distributions).
    State { pop: u32, state: u32, value: Expr },
    /// A param of every neuron of a population, from the phase's start on
    /// (the same values as a state's; the param is then stored per neuron).
    Param { pop: u32, param: u32, value: Expr },
    /// The rate of a poisson population (Hz, constant).
    Rate { pop: u32, rate: f64 },
    /// A state of a signal.
    Signal { signal: u32, state: u32, value: Expr },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Abort {
    pub pop: u32,
    /// True for `>`/`>=`, false for `<`/`<=`.
    pub above: bool,
    pub inclusive: bool,
    /// Hz.
    pub threshold: f64,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Model {
    pub neurons: Vec<NeuronType>,
    pub synapses: Vec<SynapseType>,
    pub signals: Vec<SignalType>,
    pub networks: Vec<Network>,
    pub experiment: Option<Experiment>,
}

impl Model {
    pub fn neuron(&self, name: &str) -> Option<usize> {
        self.neurons.iter().position(|n| n.name == name)
    }

    pub fn synapse(&self, name: &str) -> Option<usize> {
        self.synapses.iter().position(|n| n.name == name)
    }

    pub fn signal(&self, name: &str) -> Option<usize> {
        self.signals.iter().position(|n| n.name == name)
    }

    /// The names of every neuron, synapse and signal type, for "did you
    /// mean" suggestions.
    pub fn type_names(&self) -> Vec<&str> {
        let neurons = self.neurons.iter().map(|n| n.name.as_str());
        let synapses = self.synapses.iter().map(|s| s.name.as_str());
        neurons.chain(synapses).chain(self.signals.iter().map(|s| s.name.as_str())).collect()
    }
}

/// Evaluates an expression made of constants only (after sema resolved
/// names), for sizes, delays, durations and the like.
pub fn const_eval(e: &Expr, params: &[f64]) -> Option<f64> {
    Some(match &e.kind {
        ExprKind::Const(v) => *v,
        ExprKind::Var(VarRef { owner: Owner::Own, kind: VarKind::Param, index }) => *params.get(*index as usize)?,
        ExprKind::Unary(UnOp::Neg, a) => -const_eval(a, params)?,
        ExprKind::Binary(op, a, b) => {
            let (x, y) = (const_eval(a, params)?, const_eval(b, params)?);
            match op {
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
                BinOp::Mul => x * y,
                BinOp::Div => x / y,
                BinOp::Pow => x.powf(y),
                _ => return None,
            }
        }
        ExprKind::Call(f, args) => {
            let v: Option<Vec<f64>> = args.iter().map(|a| const_eval(a, params)).collect();
            let v = v?;
            match f {
                Func::Exp => v[0].exp(),
                Func::Log => v[0].ln(),
                Func::Sqrt => v[0].sqrt(),
                Func::Abs => v[0].abs(),
                Func::Sin => v[0].sin(),
                Func::Cos => v[0].cos(),
                Func::Tanh => v[0].tanh(),
                Func::Sigmoid => 1.0 / (1.0 + (-v[0]).exp()),
                Func::Min => v[0].min(v[1]),
                Func::Max => v[0].max(v[1]),
                Func::Clip => v[0].max(v[1]).min(v[2]),
                Func::Pos => v[0].max(0.0),
                Func::Step => f64::from(v[0] > 0.0),
                Func::Rand | Func::Randn => return None,
            }
        }
        _ => return None,
    })
}
