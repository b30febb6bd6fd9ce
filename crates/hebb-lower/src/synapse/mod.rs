//! Lowering of projections: per-synapse state, event-driven decays,
//! hoisting of traces to the pre- or postsynaptic neuron, the `on pre`,
//! `on post` and `every` kernels, and continuous synaptic ODEs.
//!
//! Event-driven variables (`dx/dt = (x_inf - x)/tau`, the default for
//! synapses) are advanced lazily, exactly: at an event,
//! x ← x_inf + (x - x_inf) e^{-(t - t_last)/tau}, with `t_last` the time of
//! the previous update (Brian2's `lastupdate`).
//!
//! Hoisting: a variable that provably has the same value in every synapse of
//! one presynaptic neuron (same constant initial value; written only in
//! `on pre`, by top-level statements whose values read only constants, the
//! presynaptic neuron and other such variables; one homogeneous delay) is
//! stored once per presynaptic neuron, and its updates run once per spike
//! (the kernel's prologue) instead of once per synapse. Likewise on the
//! postsynaptic side with `on post`. Statements of the body that read the
//! variable see the version current at their place in the block, so "a
//! trace read before its increment sees the old value" still holds.
//!
//! One projection is lowered in steps, each in its own module:
//! 1. [`analysis`]: params, initial values, and what the synapse says about
//!    each state (its decay, every write) as [`analysis::StateFacts`];
//! 2. [`placement`]: which states are folded into the code and which are
//!    hoisted;
//! 3. [`layout`]: the columns, scaled storage of hoisted decays and
//!    last-update times, as a [`layout::Layout`];
//! 4. [`event_kernel`] and [`kernels`]: the kernels and their frozen twins.
//!
//! This file runs the steps in order and assembles the IR's [`Projection`].
//! The order matters: diagnostics, kernel numbers and column numbers follow
//! it, and run outputs are compared byte for byte.

mod analysis;
mod event_kernel;
mod kernels;
mod layout;
mod placement;

use crate::{Ctx, Lowerer, ParamVal, VarMap};
use hebb_ir::symbolic::fold;
use hebb_ir::{Expr, GroupId, Projection, ProjectionId, Rule, Sel};
use hebb_lang::diag::Diagnostic;
use hebb_lang::hir;
use layout::Layout;
use placement::Placements;

/// The variables a projection's expressions can read: the synapse's own and
/// those of its pre- and postsynaptic groups.
#[derive(Clone, Copy)]
struct VarMaps<'a> {
    synapse: &'a VarMap,
    pre: &'a VarMap,
    post: &'a VarMap,
}

/// How a projection connects, apart from its synapses' variables.
struct Connection {
    rule: Rule,
    /// Seconds; may differ between synapses.
    delay: Option<Expr>,
    /// One constant for the whole projection, in steps.
    post_delay_steps: u64,
}

impl Lowerer<'_> {
    /// A context for a projection's expressions.
    fn syn_ctx<'a>(&'a self, maps: VarMaps<'a>) -> Ctx<'a> {
        Ctx { pre: Some(maps.pre), post: Some(maps.post), synapse: true, ..self.ctx(maps.synapse) }
    }

    /// Lowers one projection: adds its kernels and then the projection to
    /// the program.
    pub(super) fn projection(
        &mut self,
        p: ProjectionId,
        net: &hir::Network,
        proj: &hir::Projection,
        pop_maps: &[VarMap],
    ) {
        let syn = &proj.synapse;
        let pre = &pop_maps[proj.pre.pop as usize];
        let post = &pop_maps[proj.post.pop as usize];
        // Facts and placement read the synapse's params only; its states
        // enter the map once they have columns.
        let (mut map, param_columns) = self.synapse_params(proj);
        let facts = self.state_facts(proj, VarMaps { synapse: &map, pre, post });
        let Placements { placements, why_per_synapse } = self.placements(proj, &map, &facts);
        let (layout, columns) = Layout::new(&syn.dynamics, &facts, &placements, param_columns, !self.options.no_scale);
        let unhoisted_columns = unhoisted_columns(&map, &layout, !self.options.no_scale);
        layout.fill_var_map(&mut map);
        let maps = VarMaps { synapse: &map, pre, post };
        let kernels = self.projection_kernels(syn, &layout, maps);
        let connection = self.connection(proj, maps);
        // Kernel numbers depend only on the kernels added before, so adding
        // them before the projection gives the numbers they always had.
        let name = net.projection_name(p.index());
        let ids = self.add_projection_kernels(p, &name, kernels);
        let states = &syn.dynamics.states;
        self.program.projections.push(Projection {
            name,
            synapse: syn.name.clone(),
            pre: selection(proj.pre),
            post: selection(proj.post),
            rule: connection.rule,
            autapses: proj.autapses,
            delay: connection.delay,
            columns: columns.per_synapse,
            folded: layout.folded(states),
            pre_side: columns.pre_side,
            post_side: columns.post_side,
            on_pre: ids.on_pre,
            on_post: ids.on_post,
            frozen_on_pre: ids.frozen_on_pre,
            frozen_on_post: ids.frozen_on_post,
            frozen_every: ids.frozen_every,
            step: ids.step,
            every: ids.every,
            post_delay: connection.post_delay_steps,
            weight: layout.weight(states),
            units: crate::units_of(&syn.dynamics),
            unhoisted_columns,
            event_driven: layout.event_driven(states),
            decay_rates: layout.decay_rates.clone(),
            scaled: layout.scaled_columns(),
            per_synapse_why: (states.iter().zip(&why_per_synapse))
                .filter_map(|(s, why)| Some((s.name.clone(), why.as_ref()?.to_string())))
                .collect(),
        });
    }

    /// The connection rule, the delay and the postsynaptic delay.
    fn connection(&mut self, proj: &hir::Projection, maps: VarMaps<'_>) -> Connection {
        // One context for both delays: draws of `post_delay` are numbered
        // after those of `delay`.
        let (delay, post_delay) = {
            let mut ctx = self.syn_ctx(maps);
            let delay = proj.delay.as_ref().map(|e| fold(&ctx.expr(e)));
            let post_delay = proj.post_delay.as_ref().map(|e| fold(&ctx.expr(e)));
            (delay, post_delay)
        };
        let post_delay_steps = self.post_delay_steps(proj, post_delay);
        let rule = {
            let mut ctx = self.syn_ctx(maps);
            match &proj.rule {
                hir::ConnRule::Prob(e) => Rule::Prob(fold(&ctx.expr(e))),
                hir::ConnRule::InDegree(k) => Rule::InDegree(*k),
                hir::ConnRule::OutDegree(k) => Rule::OutDegree(*k),
                hir::ConnRule::OneToOne => Rule::OneToOne,
                hir::ConnRule::AllToAll => Rule::AllToAll,
                hir::ConnRule::File { path, .. } => Rule::File(path.clone()),
            }
        };
        Connection { rule, delay, post_delay_steps }
    }

    /// `post_delay` in steps; an error unless it is one constant.
    fn post_delay_steps(&mut self, proj: &hir::Projection, post_delay: Option<Expr>) -> u64 {
        match post_delay {
            None => 0,
            Some(Expr::Const(v)) => (v / self.program.dt).round().max(0.0) as u64,
            Some(_) => {
                self.diags.push(
                    Diagnostic::error(
                        "hebb::network::post_delay",
                        "`post_delay` must be one constant for the whole projection",
                    )
                    .label(proj.span, "this projection has a varying `post_delay`")
                    .help("give `post_delay` a constant time; per-synapse delays are available for `delay`"),
                );
                0
            }
        }
    }
}

fn selection(s: hir::PopSel) -> Sel {
    Sel { group: GroupId(s.pop), start: s.start, end: s.end }
}

/// Columns per synapse if nothing were hoisted or folded, for `hebb
/// explain`: param columns, every unfolded state, and one last update when
/// any state decays.
fn unhoisted_columns(map: &VarMap, layout: &Layout, scale: bool) -> usize {
    map.params.iter().filter(|p| matches!(p, ParamVal::Column(_))).count()
        + layout.states.iter().filter(|s| !matches!(s.loc, layout::Loc::Folded(_))).count()
        + usize::from(
            layout.states.iter().any(|s| s.decay.is_some_and(|dd| !dd.trivial() && (dd.rate == 0.0 || !scale))),
        )
}
