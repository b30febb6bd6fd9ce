//! Where each synaptic state is stored, decided from its facts before any
//! column is numbered: folded into the code as a constant, per synapse, or
//! hoisted to the pre- or postsynaptic neuron (see the parent module for
//! when hoisting is sound).

use super::analysis::{Block, StateFacts};
use crate::{Lowerer, ParamVal, VarMap};
use hebb_ir::Expr;
use hebb_lang::hir::{self, Owner as HOwner, VarKind};

/// The neuron a hoisted variable is stored with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum HoistSide {
    Pre,
    Post,
}

impl HoistSide {
    pub(super) fn other(self) -> Self {
        match self {
            HoistSide::Pre => HoistSide::Post,
            HoistSide::Post => HoistSide::Pre,
        }
    }
}

/// Where one synaptic state is stored.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Placement {
    /// Never written, no equation, one constant for every synapse: folded
    /// into the code, not stored.
    Folded(f64),
    PerSynapse,
    /// Stored once per neuron of that side.
    Hoisted(HoistSide),
}

/// Placements, and for each state kept per synapse why it is not hoisted.
pub(super) struct Placements {
    pub(super) placements: Vec<Placement>,
    pub(super) why_per_synapse: Vec<Option<&'static str>>,
}

impl Lowerer<'_> {
    /// Folds what is constant, then hoists what provably has one value per
    /// neuron (unless the options keep every variable per synapse).
    pub(super) fn placements(&self, proj: &hir::Projection, map: &VarMap, facts: &[StateFacts<'_>]) -> Placements {
        // A connection file may give per-synapse values.
        let from_file = matches!(proj.rule, hir::ConnRule::File { .. });
        let mut placements: Vec<Placement> =
            facts.iter().map(|f| folded_value(f, from_file).map_or(Placement::PerSynapse, Placement::Folded)).collect();
        let why_per_synapse = if self.options.no_hoist {
            placements
                .iter()
                .map(|p| (*p == Placement::PerSynapse).then_some("hoisting is off (`--no-hoist`)"))
                .collect()
        } else {
            hoist(proj, map, facts, &mut placements)
        };
        Placements { placements, why_per_synapse }
    }
}

/// The constant a state can be folded to: never written, no equation, one
/// constant initial value for every synapse.
fn folded_value(fact: &StateFacts<'_>, from_file: bool) -> Option<f64> {
    if fact.writes.is_empty()
        && fact.decay.is_none()
        && !fact.continuous
        && !from_file
        && let Expr::Const(v) = fact.init
    {
        Some(v)
    } else {
        None
    }
}

/// Hoists the candidates of per-synapse states, then drops those whose
/// updates read per-synapse values. Says why each state left per synapse is.
fn hoist(
    proj: &hir::Projection,
    map: &VarMap,
    facts: &[StateFacts<'_>],
    placements: &mut [Placement],
) -> Vec<Option<&'static str>> {
    // One arrival time per presynaptic spike for all its synapses.
    let homogeneous = proj.delay.as_ref().is_none_or(|e| hir::const_eval(e, &[]).is_some());
    let mut why = vec![None; placements.len()];
    for ((placement, fact), why) in placements.iter_mut().zip(facts).zip(&mut why) {
        if *placement == Placement::PerSynapse {
            match hoisting_candidate(fact, homogeneous) {
                Ok(side) => *placement = Placement::Hoisted(side),
                Err(reason) => *why = Some(reason),
            }
        }
    }
    let post_written_in_post = writes_post(&proj.synapse.on_post);
    drop_per_synapse_updates(map, facts, placements, post_written_in_post, &mut why);
    why
}

/// The side a state could be hoisted to, judged by its own facts: a constant
/// initial value, and written (if at all) by top-level statements of `on
/// pre` only (with a homogeneous delay) or of `on post` only.
fn hoisting_candidate(fact: &StateFacts<'_>, homogeneous: bool) -> Result<HoistSide, &'static str> {
    if fact.continuous {
        return Err("it follows a continuous equation");
    }
    if !matches!(fact.init, Expr::Const(_)) {
        return Err("its initial value differs between synapses");
    }
    if fact.decay.is_none() && fact.writes.is_empty() {
        return Err("it is never written");
    }
    if !fact.writes.iter().all(|w| w.top_level) {
        return Err("it is written inside an `if`");
    }
    // A decaying variable that is never written has no write outside `on
    // pre`, so it goes with the presynaptic neuron.
    if fact.writes.iter().all(|w| w.block == Block::Pre) {
        if homogeneous {
            Ok(HoistSide::Pre)
        } else {
            Err("the delays differ between synapses, so each synapse sees a presynaptic spike at its own time")
        }
    } else if fact.writes.iter().all(|w| w.block == Block::Post) {
        Ok(HoistSide::Post)
    } else {
        Err("it is written by more than one of `on pre`, `on post` and `every`")
    }
}

/// Keeps per synapse, until none changes, every hoisted state one of whose
/// updates reads a value that is not the same for all synapses of the
/// neuron (which may be another state this drops).
fn drop_per_synapse_updates(
    map: &VarMap,
    facts: &[StateFacts<'_>],
    placements: &mut [Placement],
    post_written_in_post: bool,
    why: &mut [Option<&'static str>],
) {
    loop {
        let mut changed = false;
        for k in 0..placements.len() {
            let Placement::Hoisted(side) = placements[k] else { continue };
            let per_neuron = facts[k].writes.iter().all(|w| {
                let hir::Stmt::Assign { value, .. } = w.stmt else { return false };
                value_is_per_neuron(value, side, placements, map, post_written_in_post)
            });
            if !per_neuron {
                placements[k] = Placement::PerSynapse;
                why[k] = Some("an update reads a value that differs between synapses");
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

/// Whether a block assigns any postsynaptic variable.
fn writes_post(body: &[hir::Stmt]) -> bool {
    body.iter().any(|s| {
        let mut found = false;
        s.walk_targets(&mut |v, _| found |= v.owner == HOwner::Post);
        found
    })
}

/// Whether a value is the same for every synapse of one neuron of `side`:
/// it reads only constants, constant params, that neuron's variables, time,
/// signals and other variables hoisted to the same side.
fn value_is_per_neuron(
    value: &hir::Expr,
    side: HoistSide,
    placements: &[Placement],
    map: &VarMap,
    post_written: bool,
) -> bool {
    !value.any(|e| match &e.kind {
        hir::ExprKind::Var(v) => match v.owner {
            HOwner::Own => match v.kind {
                VarKind::State => placements.get(v.index as usize) != Some(&Placement::Hoisted(side)),
                VarKind::Param => !matches!(map.params.get(v.index as usize), Some(ParamVal::Const(_))),
                VarKind::LastSpike => true,
            },
            HOwner::Pre => side != HoistSide::Pre,
            HOwner::Post => side != HoistSide::Post || post_written,
            HOwner::Signal(_) => false,
        },
        hir::ExprKind::Builtin(b) => match b {
            hir::Builtin::I => side != HoistSide::Pre,
            hir::Builtin::J => side != HoistSide::Post,
            _ => false,
        },
        hir::ExprKind::Call(f, _) => matches!(f, hir::Func::Rand | hir::Func::Randn),
        hir::ExprKind::Reduce(..) | hir::ExprKind::Dist(..) => true,
        _ => false,
    })
}
