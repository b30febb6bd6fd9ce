//! What a synapse's text says, before anything is placed: its params
//! (constants or per-synapse columns), the initial value of each state,
//! whether the state's equation is an event-driven decay or is integrated
//! every step, and every assignment to it. Later steps decide from these
//! facts where each state lives.

use super::VarMaps;
use crate::{Ctx, Lowerer, ParamVal, VarMap};
use hebb_ir::symbolic::{diff, fold, simplify, subst};
use hebb_ir::{Builtin, Column, ColumnRole, Expr, Slot, UnOp};
use hebb_lang::diag::Diagnostic;
use hebb_lang::hir::{self, Owner as HOwner, VarKind};

/// How an event-driven variable evolves between events:
/// x(t + Δ) = x_inf + (x(t) - x_inf) e^{rate Δ}, or x + drift Δ when the
/// rate is 0.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Decay {
    pub(super) rate: f64,
    pub(super) x_inf: f64,
    pub(super) drift: f64,
}

impl Decay {
    pub(super) fn trivial(&self) -> bool {
        self.rate == 0.0 && self.drift == 0.0
    }

    /// The value at time `T` of a variable last updated at `lu`.
    pub(super) fn at_t(&self, x: Expr, lu: Expr) -> Expr {
        if self.trivial() {
            return x;
        }
        let elapsed = Expr::sub(Expr::Builtin(Builtin::T), lu);
        if self.rate == 0.0 {
            return Expr::add(x, Expr::mul(Expr::Const(self.drift), elapsed));
        }
        let factor = Expr::un(UnOp::Exp, Expr::mul(Expr::Const(self.rate), elapsed));
        if self.x_inf == 0.0 {
            Expr::mul(x, factor)
        } else {
            Expr::add(Expr::Const(self.x_inf), Expr::mul(Expr::sub(x, Expr::Const(self.x_inf)), factor))
        }
    }
}

/// The blocks of a synapse that can assign its states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Block {
    Pre,
    Post,
    Every,
}

/// One assignment to a synaptic state.
#[derive(Clone, Copy)]
pub(super) struct Write<'h> {
    pub(super) block: Block,
    /// Whether it is a top-level statement of its block (not inside an
    /// `if`): only those can be hoisted.
    pub(super) top_level: bool,
    pub(super) stmt: &'h hir::Stmt,
}

/// What lowering knows about one synaptic state before deciding where it
/// lives.
pub(super) struct StateFacts<'h> {
    /// The folded initial value: the projection's override or the
    /// declaration's.
    pub(super) init: Expr,
    /// Its event-driven equation, when it has one and it is a linear decay.
    pub(super) decay: Option<Decay>,
    /// Whether its equation is `continuous`, integrated every step.
    pub(super) continuous: bool,
    /// Every assignment to it: in `on pre`, then `on post`, then the `every`
    /// blocks, each in statement order.
    pub(super) writes: Vec<Write<'h>>,
}

/// Offset of provisional slots used to analyse right-hand sides.
const PROVISIONAL: u32 = 1 << 20;

/// Why a synaptic equation is not a linear decay (so it cannot be
/// event-driven).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
enum NotADecay {
    #[error("it reads `{0}`")]
    ReadsState(String),
    #[error("it reads a variable that can change")]
    ReadsVariable,
    #[error("it depends on time or on indices")]
    DependsOnTime,
    #[error("it draws random numbers")]
    Random,
    #[error("it is not linear in its variable")]
    NotLinear,
    #[error("its constant part is not constant")]
    NonConstantPart,
}

/// The value a projection gives a param or state: its override, or the
/// declaration's `default`.
fn value_or_override<'h>(
    proj: &'h hir::Projection,
    kind: VarKind,
    index: usize,
    default: &'h hir::Expr,
) -> &'h hir::Expr {
    let ov = proj.overrides.iter().find(|o| o.target.kind == kind && o.target.index == index as u32);
    ov.map(|o| &o.value).unwrap_or(default)
}

impl Lowerer<'_> {
    /// Params: constants, or per-synapse columns when overridden with a
    /// value that differs between synapses. Returns the synapse's map (params
    /// only, so far) and those columns, the first of the projection.
    pub(super) fn synapse_params(&self, proj: &hir::Projection) -> (VarMap, Vec<Column>) {
        let mut map = VarMap::default();
        let mut columns = Vec::new();
        for (k, prm) in proj.synapse.dynamics.params.iter().enumerate() {
            let value = value_or_override(proj, VarKind::Param, k, &prm.value);
            let mut ctx = Ctx { synapse: true, ..self.ctx(&map) };
            match fold(&ctx.expr(value)) {
                Expr::Const(v) => map.params.push(ParamVal::Const(v)),
                init => {
                    map.params.push(ParamVal::Column(columns.len() as u32));
                    columns.push(Column { name: prm.name.clone(), role: ColumnRole::Param, init });
                }
            }
        }
        (map, columns)
    }

    /// The facts about every state of the projection's synapse; an error for
    /// each event-driven equation that is not a linear decay.
    pub(super) fn state_facts<'h>(&mut self, proj: &'h hir::Projection, maps: VarMaps<'_>) -> Vec<StateFacts<'h>> {
        let syn = &proj.synapse;
        let d = &syn.dynamics;
        let mut facts: Vec<StateFacts<'h>> = self
            .initial_values(proj, maps.synapse)
            .into_iter()
            .map(|init| StateFacts { init, decay: None, continuous: false, writes: Vec::new() })
            .collect();
        for ode in &d.odes {
            let k = ode.state as usize;
            if ode.continuous {
                facts[k].continuous = true;
                continue;
            }
            match self.event_driven(maps, d, ode) {
                Ok(decay) => facts[k].decay = Some(decay),
                Err(why) => self.diags.push(
                    Diagnostic::error(
                        "hebb::synapse::event_driven",
                        format!("`d{}/dt` of synapse `{}` is not a linear decay, so it cannot be event-driven", d.states[k].name, syn.name),
                    )
                    .label(ode.span, why.to_string())
                    .help(format!(
                        "event-driven equations have the form `dx/dt = (x_inf - x) / tau` with constants; mark it `continuous d{}/dt = ...` to integrate it every step",
                        d.states[k].name
                    )),
                ),
            }
        }
        for (k, write) in state_writes(syn) {
            facts[k as usize].writes.push(write);
        }
        facts
    }

    /// Initial values, in order: each may read earlier states, which read
    /// as their own initial values.
    fn initial_values(&self, proj: &hir::Projection, map: &VarMap) -> Vec<Expr> {
        let mut inits = Vec::new();
        let mut provisional = map.clone();
        for (k, s) in proj.synapse.dynamics.states.iter().enumerate() {
            let value = value_or_override(proj, VarKind::State, k, &s.init);
            let mut ctx = Ctx { synapse: true, ..self.ctx(&provisional) };
            // Earlier states read in an initial value: their own values.
            ctx.overrides = inits.iter().map(|e: &Expr| Some(e.clone())).collect();
            let init = fold(&ctx.expr(value));
            inits.push(init);
            provisional.states.push(None);
            provisional.folded.push(None);
        }
        inits
    }

    /// Analyses an event-driven equation: it must read only its own variable
    /// and constants, linearly.
    fn event_driven(&self, maps: VarMaps<'_>, d: &hir::Dynamics, ode: &hir::Ode) -> Result<Decay, NotADecay> {
        let k = ode.state;
        let mut ctx = self.syn_ctx(maps);
        ctx.overrides = (0..d.states.len() as u32).map(|j| Some(Expr::Load(Slot::Own(PROVISIONAL + j)))).collect();
        let rhs = fold(&ctx.expr(&ode.rhs));
        let own = Slot::Own(PROVISIONAL + k);
        let mut why = None;
        rhs.walk(&mut |e| match e {
            Expr::Load(s) if *s == own => {}
            Expr::Load(Slot::Own(j)) if *j >= PROVISIONAL => {
                why = Some(NotADecay::ReadsState(d.states[(*j - PROVISIONAL) as usize].name.clone()))
            }
            Expr::Load(_) => why = Some(NotADecay::ReadsVariable),
            Expr::Builtin(_) => why = Some(NotADecay::DependsOnTime),
            Expr::Rand(_) | Expr::Randn(_) => why = Some(NotADecay::Random),
            _ => {}
        });
        if let Some(w) = why {
            return Err(w);
        }
        let rate = diff(&rhs, own).and_then(|a| simplify(&a).as_const()).ok_or(NotADecay::NotLinear)?;
        let b = simplify(&subst(&rhs, &|s| (s == own).then_some(Expr::Const(0.0))))
            .as_const()
            .ok_or(NotADecay::NonConstantPart)?;
        Ok(if rate == 0.0 {
            Decay { rate, x_inf: 0.0, drift: b }
        } else {
            Decay { rate, x_inf: -b / rate, drift: 0.0 }
        })
    }
}

/// Every assignment to an own state in `on pre`, `on post` and the `every`
/// blocks, in that order, with the state's number.
fn state_writes(syn: &hir::SynapseInstance) -> Vec<(u32, Write<'_>)> {
    let blocks = std::iter::once((Block::Pre, syn.on_pre.as_slice()))
        .chain(std::iter::once((Block::Post, syn.on_post.as_slice())))
        .chain(syn.dynamics.every.iter().map(|e| (Block::Every, e.body.as_slice())));
    let mut out = Vec::new();
    for (block, body) in blocks {
        own_writes(block, body, true, &mut out);
    }
    out
}

/// The assignments to own states in `body`; `top_level` says whether its
/// statements are top-level statements of their block.
fn own_writes<'h>(block: Block, body: &'h [hir::Stmt], top_level: bool, out: &mut Vec<(u32, Write<'h>)>) {
    for stmt in body {
        match stmt {
            hir::Stmt::Assign { target, .. } => {
                if target.owner == HOwner::Own && target.kind == VarKind::State {
                    out.push((target.index, Write { block, top_level, stmt }));
                }
            }
            hir::Stmt::If { then_body, else_body, .. } => {
                own_writes(block, then_body, false, out);
                own_writes(block, else_body, false, out);
            }
        }
    }
}
