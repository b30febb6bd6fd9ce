//! The storage of a projection's states once placed: per-synapse columns,
//! side columns per pre- or postsynaptic neuron, the scaled storage of
//! hoisted decaying variables, and the last-update times event-driven
//! variables need. [`Layout`] then tells kernels how to read a state at the
//! current time and what to store for it, and tells the IR's `Projection`
//! where the weight and the event-driven variables are.

use super::analysis::{Decay, StateFacts};
use super::placement::{HoistSide, Placement};
use crate::VarMap;
use hebb_ir::{Column, ColumnRole, EventDriven, Expr, ScaledColumn, Slot, SynVar};
use hebb_lang::hir;

/// Where a synaptic state lives.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Loc {
    Column(u32),
    Folded(f64),
    Side(HoistSide, u32),
}

/// One state as stored.
#[derive(Clone, Copy, Debug)]
pub(super) struct StoredState {
    pub(super) loc: Loc,
    pub(super) decay: Option<Decay>,
    /// For a hoisted variable stored scaled: the index of its rate in
    /// [`Layout::decay_rates`] (and of its factor).
    pub(super) factor: Option<u32>,
}

/// Where states live and how they decay, for building kernels.
pub(super) struct Layout {
    /// Per state, in declaration order.
    pub(super) states: Vec<StoredState>,
    /// Decay rates of hoisted variables stored scaled, each once.
    pub(super) decay_rates: Vec<f64>,
    /// The last-update column per synapse, per presynaptic neuron and per
    /// postsynaptic neuron, when something there needs one.
    pub(super) lu_syn: Option<u32>,
    lu_pre: Option<u32>,
    lu_post: Option<u32>,
}

/// A projection's columns.
pub(super) struct ProjectionColumns {
    /// Param columns, then per-synapse states, then the last update.
    pub(super) per_synapse: Vec<Column>,
    /// States hoisted to the presynaptic neuron, then their last update.
    pub(super) pre_side: Vec<Column>,
    /// Likewise for the postsynaptic neuron.
    pub(super) post_side: Vec<Column>,
}

impl ProjectionColumns {
    /// Adds the column of a state (none when it is folded) and says where it
    /// is.
    fn place(&mut self, name: &str, fact: &StateFacts<'_>, placement: Placement, scaled: bool) -> Loc {
        let init = if scaled { scaled_initial_value(fact) } else { fact.init.clone() };
        let column = Column { name: name.to_string(), role: ColumnRole::State, init };
        match placement {
            Placement::Folded(v) => Loc::Folded(v),
            Placement::PerSynapse => {
                self.per_synapse.push(column);
                Loc::Column(self.per_synapse.len() as u32 - 1)
            }
            Placement::Hoisted(side) => {
                let columns = match side {
                    HoistSide::Pre => &mut self.pre_side,
                    HoistSide::Post => &mut self.post_side,
                };
                columns.push(column);
                Loc::Side(side, columns.len() as u32 - 1)
            }
        }
    }
}

/// Variables stored scaled are stored relative to their resting value (see
/// [`Layout::stored`]), at t_ref = 0 where the scale is 1.
fn scaled_initial_value(fact: &StateFacts<'_>) -> Expr {
    match (fact.decay, &fact.init) {
        (Some(dd), _) if dd.x_inf == 0.0 => fact.init.clone(),
        (Some(dd), Expr::Const(x0)) => Expr::Const(x0 - dd.x_inf),
        (Some(dd), init) => Expr::sub(init.clone(), Expr::Const(dd.x_inf)),
        (None, _) => fact.init.clone(),
    }
}

/// Whether a state is stored scaled: it decays exponentially between events
/// and is stored at all, hoisted (always) or per synapse (unless the options
/// say otherwise).
fn is_scaled(fact: &StateFacts<'_>, placement: Placement, per_synapse: bool) -> bool {
    let decays = fact.decay.is_some_and(|dd| dd.rate != 0.0);
    decays
        && match placement {
            Placement::Folded(_) => false,
            Placement::PerSynapse => per_synapse,
            Placement::Hoisted(_) => true,
        }
}

/// The rate index of each variable stored scaled, with the distinct rates
/// in order of first use.
fn scale_factors(facts: &[StateFacts<'_>], scaled: &[bool]) -> (Vec<f64>, Vec<Option<u32>>) {
    let mut decay_rates: Vec<f64> = Vec::new();
    let mut factors = vec![None; facts.len()];
    for (k, fact) in facts.iter().enumerate() {
        if let (true, Some(dd)) = (scaled[k], fact.decay) {
            let r = match decay_rates.iter().position(|x| *x == dd.rate) {
                Some(r) => r,
                None => {
                    decay_rates.push(dd.rate);
                    decay_rates.len() - 1
                }
            };
            factors[k] = Some(r as u32);
        }
    }
    (decay_rates, factors)
}

/// Whether a state needs the last-update time kept with the synapse (`at`
/// `None`) or with the neuron of side `at`: variables that change between
/// events and are not stored scaled (those that drift, and per-synapse ones
/// when scaling is off).
fn needs_last_update(placement: Placement, decay: Option<Decay>, scaled: bool, at: Option<HoistSide>) -> bool {
    if scaled || decay.is_none_or(|dd| dd.trivial()) {
        return false;
    }
    match placement {
        Placement::Folded(_) => false,
        Placement::PerSynapse => at.is_none(),
        Placement::Hoisted(side) => at == Some(side),
    }
}

fn push_last_update(columns: &mut Vec<Column>) -> u32 {
    columns.push(Column { name: "lastupdate".into(), role: ColumnRole::LastUpdate, init: Expr::Const(0.0) });
    columns.len() as u32 - 1
}

impl Layout {
    /// Numbers the columns of placed states: after the param columns, each
    /// state in order, then the last-update columns. Per-synapse variables
    /// that decay are stored scaled if `scale_per_synapse`.
    pub(super) fn new(
        d: &hir::Dynamics,
        facts: &[StateFacts<'_>],
        placements: &[Placement],
        param_columns: Vec<Column>,
        scale_per_synapse: bool,
    ) -> (Layout, ProjectionColumns) {
        let mut columns = ProjectionColumns { per_synapse: param_columns, pre_side: Vec::new(), post_side: Vec::new() };
        let scaled: Vec<bool> =
            facts.iter().zip(placements).map(|(f, p)| is_scaled(f, *p, scale_per_synapse)).collect();
        let locs: Vec<Loc> = (d.states.iter().zip(facts).zip(placements).zip(&scaled))
            .map(|(((state, fact), placement), scaled)| columns.place(&state.name, fact, *placement, *scaled))
            .collect();
        let (decay_rates, factors) = scale_factors(facts, &scaled);
        let needs = |at: Option<HoistSide>| {
            (facts.iter().zip(placements).zip(&scaled)).any(|((f, p), s)| needs_last_update(*p, f.decay, *s, at))
        };
        let lu_syn = needs(None).then(|| push_last_update(&mut columns.per_synapse));
        let lu_pre = needs(Some(HoistSide::Pre)).then(|| push_last_update(&mut columns.pre_side));
        let lu_post = needs(Some(HoistSide::Post)).then(|| push_last_update(&mut columns.post_side));
        let states = locs
            .into_iter()
            .zip(facts)
            .zip(factors)
            .map(|((loc, fact), factor)| StoredState { loc, decay: fact.decay, factor })
            .collect();
        (Layout { states, decay_rates, lu_syn, lu_pre, lu_post }, columns)
    }

    /// Gives the synapse's map its states: a column or a folded constant
    /// (neither for hoisted ones, which kernels read through overrides).
    pub(super) fn fill_var_map(&self, map: &mut VarMap) {
        for state in &self.states {
            match state.loc {
                Loc::Column(c) => {
                    map.states.push(Some(c));
                    map.folded.push(None);
                }
                Loc::Folded(v) => {
                    map.states.push(None);
                    map.folded.push(Some(v));
                }
                Loc::Side(..) => {
                    map.states.push(None);
                    map.folded.push(None);
                }
            }
        }
    }

    /// The states hoisted to `side`.
    pub(super) fn hoisted_to(&self, side: HoistSide) -> Vec<usize> {
        (0..self.states.len()).filter(|&k| matches!(self.states[k].loc, Loc::Side(s, _) if s == side)).collect()
    }

    /// Whether state k changes between events (its decay is not trivial).
    pub(super) fn decays(&self, k: usize) -> bool {
        self.states[k].decay.is_some_and(|dd| !dd.trivial())
    }

    /// The stored value of state k.
    pub(super) fn load(&self, k: usize) -> Expr {
        match self.states[k].loc {
            Loc::Column(c) => Expr::Load(Slot::Own(c)),
            Loc::Side(HoistSide::Pre, c) => Expr::Load(Slot::PreSide(c)),
            Loc::Side(HoistSide::Post, c) => Expr::Load(Slot::PostSide(c)),
            Loc::Folded(v) => Expr::Const(v),
        }
    }

    /// The last-update slot of a side's (or, for `None`, a synapse's)
    /// variables.
    pub(super) fn lu_slot(&self, side: Option<HoistSide>) -> Option<Slot> {
        match side {
            None => self.lu_syn.map(Slot::Own),
            Some(HoistSide::Pre) => self.lu_pre.map(Slot::PreSide),
            Some(HoistSide::Post) => self.lu_post.map(Slot::PostSide),
        }
    }

    /// The time of the last update of a side's (or a synapse's) variables.
    fn lu(&self, side: Option<HoistSide>) -> Expr {
        self.lu_slot(side).map(Expr::Load).unwrap_or(Expr::Const(0.0))
    }

    /// The value of state k at the current time.
    pub(super) fn at_t(&self, k: usize) -> Expr {
        let state = &self.states[k];
        let Some(dd) = state.decay else { return self.load(k) };
        if dd.trivial() {
            return self.load(k);
        }
        match (state.factor, state.loc) {
            // Scaled: x = x_inf + S F(t).
            (Some(r), _) => {
                let scaled = Expr::mul(self.load(k), Expr::Load(Slot::Factor(2 * r)));
                if dd.x_inf == 0.0 { scaled } else { Expr::add(Expr::Const(dd.x_inf), scaled) }
            }
            (None, Loc::Side(s, _)) => dd.at_t(self.load(k), self.lu(Some(s))),
            (None, _) => dd.at_t(self.load(k), self.lu(None)),
        }
    }

    /// What to store for state k to hold value `v` at the current time.
    pub(super) fn stored(&self, k: usize, v: Expr) -> Expr {
        let state = &self.states[k];
        match (state.factor, state.decay) {
            (Some(r), Some(dd)) => {
                let shifted = if dd.x_inf == 0.0 { v } else { Expr::sub(v, Expr::Const(dd.x_inf)) };
                Expr::mul(shifted, Expr::Load(Slot::Factor(2 * r + 1)))
            }
            _ => v,
        }
    }

    /// For lowering statements: per own state stored scaled in a per-synapse
    /// column, its x_inf and the slot of 1/F (see `Ctx::scaled`).
    pub(super) fn scaled_stores(&self) -> Vec<Option<(f64, Slot)>> {
        (self.states.iter())
            .map(|s| match (s.loc, s.factor, s.decay) {
                (Loc::Column(_), Some(r), Some(dd)) => Some((dd.x_inf, Slot::Factor(2 * r + 1))),
                _ => None,
            })
            .collect()
    }

    /// Whether state k is a per-synapse column stored scaled.
    pub(super) fn scaled_per_synapse(&self, k: usize) -> bool {
        matches!(self.states[k].loc, Loc::Column(_)) && self.states[k].factor.is_some()
    }

    /// The folded states with their constants, for the IR's `Projection`.
    pub(super) fn folded(&self, states: &[hir::State]) -> Vec<(String, f64)> {
        (self.states.iter().zip(states))
            .filter_map(|(s, decl)| if let Loc::Folded(v) = s.loc { Some((decl.name.clone(), v)) } else { None })
            .collect()
    }

    /// Where the synapse's weight (its state `w`) is, if it has one.
    pub(super) fn weight(&self, states: &[hir::State]) -> Option<SynVar> {
        let k = states.iter().position(|s| s.name == hir::WEIGHT)?;
        Some(match self.states[k].loc {
            Loc::Column(c) => SynVar::Column(c),
            Loc::Folded(v) => SynVar::Folded(v),
            Loc::Side(HoistSide::Pre, c) => SynVar::PreSide(c),
            Loc::Side(HoistSide::Post, c) => SynVar::PostSide(c),
        })
    }

    /// The columns stored scaled, with the index of their rate.
    pub(super) fn scaled_columns(&self) -> Vec<ScaledColumn> {
        self.states
            .iter()
            .filter_map(|s| match (s.loc, s.factor) {
                (Loc::Column(c), Some(rate)) => Some(ScaledColumn { var: SynVar::Column(c), rate }),
                (Loc::Side(HoistSide::Pre, c), Some(rate)) => Some(ScaledColumn { var: SynVar::PreSide(c), rate }),
                (Loc::Side(HoistSide::Post, c), Some(rate)) => Some(ScaledColumn { var: SynVar::PostSide(c), rate }),
                _ => None,
            })
            .collect()
    }

    /// How records read each event-driven variable at the sampling time.
    pub(super) fn event_driven(&self, states: &[hir::State]) -> Vec<EventDriven> {
        (self.states.iter().zip(states))
            .filter_map(|(s, decl)| {
                let dd = s.decay?;
                if dd.trivial() {
                    return None;
                }
                let lu_of = |l: Option<u32>, f: fn(u32) -> SynVar| l.map(f).unwrap_or(SynVar::Folded(0.0));
                let (value, lu) = match s.loc {
                    Loc::Column(c) => (SynVar::Column(c), lu_of(self.lu_syn, SynVar::Column)),
                    Loc::Side(HoistSide::Pre, c) => (SynVar::PreSide(c), lu_of(self.lu_pre, SynVar::PreSide)),
                    Loc::Side(HoistSide::Post, c) => (SynVar::PostSide(c), lu_of(self.lu_post, SynVar::PostSide)),
                    Loc::Folded(_) => return None,
                };
                Some(EventDriven {
                    name: decl.name.clone(),
                    value,
                    factor: s.factor,
                    lastupdate: lu,
                    rate: dd.rate,
                    x_inf: dd.x_inf,
                    drift: dd.drift,
                })
            })
            .collect()
    }
}
