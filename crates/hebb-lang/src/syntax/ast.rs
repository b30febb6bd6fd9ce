//! The untyped syntax tree: names and spans, no meaning yet.
//!
//! Every node carries the byte span of its text. Members of every item kind
//! share one [`Member`] type because the grammar is permissive; `sema` decides
//! which members each item may have.

use crate::span::Span;

#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A dotted name: `v`, `post.g_e`, `dopamine.d`, `STDP.A_pre`.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    pub parts: Vec<Ident>,
    pub span: Span,
}

impl Path {
    pub fn dotted(&self) -> String {
        self.parts.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(".")
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Import {
        path: String,
        span: Span,
    },
    Def(ItemDef),
    /// A part of the file that could not be parsed; its diagnostic was emitted.
    Error(Span),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    Neuron,
    Synapse,
    Signal,
    Network,
    Experiment,
}

impl ItemKind {
    pub fn keyword(self) -> &'static str {
        match self {
            ItemKind::Neuron => "neuron",
            ItemKind::Synapse => "synapse",
            ItemKind::Signal => "signal",
            ItemKind::Network => "network",
            ItemKind::Experiment => "experiment",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ItemDef {
    pub kind: ItemKind,
    pub kind_span: Span,
    pub name: Option<Ident>,
    pub members: Vec<Member>,
    pub span: Span,
}

/// A unit written after a number or after `:` in a declaration: a product of
/// unit symbols with integer powers (`mV`, `nS/ms`, `1/s`, `m^2`).
#[derive(Clone, Debug, PartialEq)]
pub struct UnitExpr {
    pub factors: Vec<UnitFactor>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct UnitFactor {
    /// `None` for the literal `1`.
    pub symbol: Option<Ident>,
    pub power: i32,
    /// Whether the factor follows a `/`.
    pub divide: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Plus,
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
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
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Pow => "^",
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

    pub fn is_comparison(self) -> bool {
        matches!(self, BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Number(f64),
    /// A number directly followed by a unit: `20 ms`.
    Quantity(f64, UnitExpr),
    Bool(bool),
    Str(String),
    List(Vec<Expr>),
    Name(Path),
    Call(Ident, Vec<Expr>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// What the parser could not make an expression of; its diagnostic is
    /// already given, so checks stay silent about it.
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignOp {
    Set,
    Add,
    Sub,
    Mul,
    Div,
}

impl AssignOp {
    pub fn symbol(self) -> &'static str {
        match self {
            AssignOp::Set => "=",
            AssignOp::Add => "+=",
            AssignOp::Sub => "-=",
            AssignOp::Mul => "*=",
            AssignOp::Div => "/=",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    Assign {
        target: Path,
        op: AssignOp,
        value: Expr,
        span: Span,
    },
    If {
        cond: Expr,
        then_body: Vec<Stmt>,
        else_body: Option<Vec<Stmt>>,
        span: Span,
    },
    /// A statement that could not be parsed; its diagnostic was emitted.
    Error(Span),
}

/// `name` or `name = value` inside `{ }` option blocks and `Static(...)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Opt {
    pub name: Ident,
    pub value: Option<Expr>,
    pub span: Span,
}

/// A population, optionally sliced: `exc`, `exc[0..10]`.
#[derive(Clone, Debug, PartialEq)]
pub struct PopRef {
    pub name: Ident,
    pub range: Option<(Expr, Expr)>,
    pub span: Span,
}

/// A population or a projection `A -> B`.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub pre: PopRef,
    pub post: Option<PopRef>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Member {
    Param {
        name: Ident,
        unit: Option<UnitExpr>,
        value: Expr,
        span: Span,
    },
    State {
        name: Ident,
        unit: Option<UnitExpr>,
        init: Option<Expr>,
        span: Span,
    },
    Let {
        name: Ident,
        value: Expr,
        span: Span,
    },
    Ode {
        var: Ident,
        rhs: Expr,
        unless_refractory: bool,
        continuous: bool,
        /// `plastic`: frozen by `plasticity off all`.
        plastic: bool,
        span: Span,
    },
    SpikeWhen {
        cond: Expr,
        span: Span,
    },
    Reset {
        body: Vec<Stmt>,
        span: Span,
    },
    Refractory {
        value: Expr,
        span: Span,
    },
    Method {
        name: Ident,
        span: Span,
    },
    OnPre {
        body: Vec<Stmt>,
        span: Span,
    },
    OnPost {
        body: Vec<Stmt>,
        span: Span,
    },
    Every {
        period: Expr,
        body: Vec<Stmt>,
        /// `plastic every`: skipped by `plasticity off all`.
        plastic: bool,
        span: Span,
    },
    Population {
        name: Ident,
        size: Expr,
        type_name: Ident,
        options: Vec<Opt>,
        span: Span,
    },
    Connect {
        pre: PopRef,
        post: PopRef,
        synapse: Ident,
        type_args: Vec<Opt>,
        options: Vec<Opt>,
        span: Span,
    },
    Record {
        vars: Vec<Ident>,
        targets: Vec<Target>,
        every: Option<Expr>,
        bin: Option<Expr>,
        sample: Option<Expr>,
        span: Span,
    },
    Stimuli {
        name: Ident,
        count: Expr,
        kind: Ident,
        source: Ident,
        options: Vec<Opt>,
        span: Span,
    },
    Phase {
        name: Ident,
        duration: Expr,
        members: Vec<Member>,
        span: Span,
    },
    Measure {
        metrics: Vec<Ident>,
        target: Target,
        about: Option<Ident>,
        /// `from PHASE`: where `recall`'s readout is trained.
        from_phase: Option<Ident>,
        in_phase: Option<Ident>,
        options: Vec<Opt>,
        span: Span,
    },
    Variant {
        name: Ident,
        members: Vec<Member>,
        span: Span,
    },
    Abort {
        population: Ident,
        op: CmpOp,
        threshold: Expr,
        span: Span,
    },
    PlasticityOff {
        /// `plasticity off all`: neuron-level plasticity too.
        all: bool,
        span: Span,
    },
    Present {
        stimuli: Ident,
        each: Expr,
        /// `cue f`: only a fraction f of each pattern's active neurons.
        cue: Option<Expr>,
        span: Span,
    },
    Set {
        target: Path,
        value: Expr,
        span: Span,
    },
    /// `key = value` (experiment settings, variant overrides) or `x += e`.
    Assign {
        target: Path,
        op: AssignOp,
        value: Expr,
        span: Span,
    },
    /// A member that could not be parsed; its diagnostic was emitted.
    /// `declares` is the name a broken `param`/`state`/`let` line meant to
    /// declare.
    Error {
        span: Span,
        declares: Option<Ident>,
    },
}

impl Member {
    pub fn span(&self) -> Span {
        match self {
            Member::Param { span, .. }
            | Member::State { span, .. }
            | Member::Let { span, .. }
            | Member::Ode { span, .. }
            | Member::SpikeWhen { span, .. }
            | Member::Reset { span, .. }
            | Member::Refractory { span, .. }
            | Member::Method { span, .. }
            | Member::OnPre { span, .. }
            | Member::OnPost { span, .. }
            | Member::Every { span, .. }
            | Member::Population { span, .. }
            | Member::Connect { span, .. }
            | Member::Record { span, .. }
            | Member::Stimuli { span, .. }
            | Member::Phase { span, .. }
            | Member::Measure { span, .. }
            | Member::Variant { span, .. }
            | Member::Abort { span, .. }
            | Member::PlasticityOff { span, .. }
            | Member::Present { span, .. }
            | Member::Set { span, .. }
            | Member::Assign { span, .. } => *span,
            Member::Error { span, .. } => *span,
        }
    }

    /// A short description for "not allowed here" diagnostics.
    pub fn describe(&self) -> &'static str {
        match self {
            Member::Param { .. } => "a `param`",
            Member::State { .. } => "a `state`",
            Member::Let { .. } => "a `let`",
            Member::Ode { .. } => "a differential equation",
            Member::SpikeWhen { .. } => "a `spike when` threshold",
            Member::Reset { .. } => "a `reset` block",
            Member::Refractory { .. } => "a `refractory` period",
            Member::Method { .. } => "a `method`",
            Member::OnPre { .. } => "an `on pre` block",
            Member::OnPost { .. } => "an `on post` block",
            Member::Every { .. } => "an `every` block",
            Member::Population { .. } => "a `population`",
            Member::Connect { .. } => "a `connect`",
            Member::Record { .. } => "a `record`",
            Member::Stimuli { .. } => "a `stimuli` set",
            Member::Phase { .. } => "a `phase`",
            Member::Measure { .. } => "a `measure`",
            Member::Variant { .. } => "a `variant`",
            Member::Abort { .. } => "an `abort when`",
            Member::PlasticityOff { .. } => "`plasticity off`",
            Member::Present { .. } => "a `present`",
            Member::Set { .. } => "a `set`",
            Member::Assign { .. } => "an assignment",
            Member::Error { .. } => "a malformed member",
        }
    }
}
