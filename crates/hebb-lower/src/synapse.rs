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

use super::*;
use hebb_ir::symbolic::{diff, simplify, subst};

/// How an event-driven variable evolves between events:
/// x(t + Δ) = x_inf + (x(t) - x_inf) e^{rate Δ}, or x + drift Δ when the
/// rate is 0.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Decay {
    rate: f64,
    x_inf: f64,
    drift: f64,
}

impl Decay {
    fn trivial(&self) -> bool {
        self.rate == 0.0 && self.drift == 0.0
    }

    /// The value at time `T` of a variable last updated at `lu`.
    fn at_t(&self, x: Expr, lu: Expr) -> Expr {
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HoistSide {
    Pre,
    Post,
}

/// Where a synaptic state lives.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Loc {
    Column(u32),
    Folded(f64),
    Side(HoistSide, u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Block {
    Pre,
    Post,
    Every,
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

/// Every assignment to an own state, with whether it is a top-level
/// statement of its block.
fn own_writes<'h>(body: &'h [hir::Stmt], top: bool, out: &mut Vec<(u32, bool, &'h hir::Stmt)>) {
    for s in body {
        match s {
            hir::Stmt::Assign { target, .. } => {
                if target.owner == HOwner::Own && target.kind == VarKind::State {
                    out.push((target.index, top, s));
                }
            }
            hir::Stmt::If { then_body, else_body, .. } => {
                own_writes(then_body, false, out);
                own_writes(else_body, false, out);
            }
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

/// Replaces reductions by `Slot::Reduced(k)` loads, collecting them.
fn extract_reductions(body: &mut [Stmt]) -> Vec<(Reduce, Expr)> {
    fn in_expr(e: &mut Expr, out: &mut Vec<(Reduce, Expr)>) {
        match e {
            Expr::Reduce(r, a) => {
                let k = out.len() as u32;
                out.push((*r, (**a).clone()));
                *e = Expr::Load(Slot::Reduced(k));
            }
            Expr::Unary(_, a) => in_expr(a, out),
            Expr::Binary(_, a, b) => {
                in_expr(a, out);
                in_expr(b, out);
            }
            Expr::Select(c, a, b) => {
                in_expr(c, out);
                in_expr(a, out);
                in_expr(b, out);
            }
            _ => {}
        }
    }
    fn in_stmts(body: &mut [Stmt], out: &mut Vec<(Reduce, Expr)>) {
        for s in body {
            match s {
                Stmt::Let(_, e) | Stmt::Store(_, e) | Stmt::Spike(e) => in_expr(e, out),
                Stmt::If(c, a, b) => {
                    in_expr(c, out);
                    in_stmts(a, out);
                    in_stmts(b, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    in_stmts(body, &mut out);
    out
}

impl Lowerer<'_> {
    /// A context for a projection's kernels.
    fn syn_ctx<'a>(&'a self, map: &'a VarMap, pre: &'a VarMap, post: &'a VarMap) -> Ctx<'a> {
        Ctx { pre: Some(pre), post: Some(post), synapse: true, ..self.ctx(map) }
    }

    pub(super) fn projection(
        &mut self,
        p: ProjectionId,
        net: &hir::Network,
        proj: &hir::Projection,
        pop_maps: &[VarMap],
    ) {
        let syn = &proj.synapse;
        let d = &syn.dynamics;
        let n_states = d.states.len();
        let pre_map = &pop_maps[proj.pre.pop as usize];
        let post_map = &pop_maps[proj.post.pop as usize];
        let name = net.projection_name(p.index());
        let sel = |s: hir::PopSel| Sel { group: GroupId(s.pop), start: s.start, end: s.end };

        // Params: constants, or per-synapse columns when overridden with a
        // value that differs between synapses.
        let mut map = VarMap::default();
        let mut columns = Vec::new();
        for (k, prm) in d.params.iter().enumerate() {
            let ov = proj.overrides.iter().find(|o| o.target.kind == VarKind::Param && o.target.index == k as u32);
            let value = ov.map(|o| &o.value).unwrap_or(&prm.value);
            let mut ctx = Ctx { synapse: true, ..self.ctx(&map) };
            match fold(&ctx.expr(value)) {
                Expr::Const(v) => map.params.push(ParamVal::Const(v)),
                init => {
                    map.params.push(ParamVal::Column(columns.len() as u32));
                    columns.push(Column { name: prm.name.clone(), role: ColumnRole::Param, init });
                }
            }
        }
        // Initial values, in order (they may read earlier states).
        let mut inits = Vec::new();
        {
            let mut provisional = map.clone();
            for (k, s) in d.states.iter().enumerate() {
                let ov = proj.overrides.iter().find(|o| o.target.kind == VarKind::State && o.target.index == k as u32);
                let value = ov.map(|o| &o.value).unwrap_or(&s.init);
                let mut ctx = Ctx { synapse: true, ..self.ctx(&provisional) };
                // Earlier states read in an initial value: their own values.
                ctx.overrides = inits.iter().map(|e: &Expr| Some(e.clone())).collect();
                let init = fold(&ctx.expr(value));
                inits.push(init);
                provisional.states.push(None);
                provisional.folded.push(None);
            }
        }

        // Event-driven and continuous equations.
        let mut decay: Vec<Option<Decay>> = vec![None; n_states];
        let mut continuous = vec![false; n_states];
        for ode in &d.odes {
            let k = ode.state as usize;
            if ode.continuous {
                continuous[k] = true;
                continue;
            }
            match self.event_driven(&map, pre_map, post_map, d, ode) {
                Ok(dec) => decay[k] = Some(dec),
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

        // Where each state is written.
        let blocks: Vec<(Block, &[hir::Stmt])> = std::iter::once((Block::Pre, syn.on_pre.as_slice()))
            .chain(std::iter::once((Block::Post, syn.on_post.as_slice())))
            .chain(d.every.iter().map(|e| (Block::Every, e.body.as_slice())))
            .collect();
        let mut writes: Vec<Vec<(Block, bool, &hir::Stmt)>> = vec![Vec::new(); n_states];
        for (b, body) in &blocks {
            let mut w = Vec::new();
            own_writes(body, true, &mut w);
            for (k, top, s) in w {
                writes[k as usize].push((*b, top, s));
            }
        }

        // Folding: never written, no equation, one constant for every synapse
        // (and no connection file, which may give per-synapse weights).
        let from_file = matches!(proj.rule, hir::ConnRule::File { .. });
        let mut loc: Vec<Option<Loc>> = vec![None; n_states];
        for k in 0..n_states {
            if writes[k].is_empty()
                && decay[k].is_none()
                && !continuous[k]
                && !from_file
                && let Expr::Const(v) = inits[k]
            {
                loc[k] = Some(Loc::Folded(v));
            }
        }

        let side = self.hoisting(proj, d, &map, &inits, &decay, &continuous, &writes, &loc, syn);

        // Columns.
        let mut pre_side = Vec::new();
        let mut post_side = Vec::new();
        for k in 0..n_states {
            if loc[k].is_some() {
                continue;
            }
            // Hoisted decaying variables are stored relative to their
            // resting value (see `Layout::stored`), at t_ref = 0.
            let init = match (side[k], decay[k], &inits[k]) {
                (Some(_), Some(dd), Expr::Const(x0)) if dd.rate != 0.0 => Expr::Const(x0 - dd.x_inf),
                _ => inits[k].clone(),
            };
            let col = Column { name: d.states[k].name.clone(), role: ColumnRole::State, init };
            loc[k] = Some(match side[k] {
                Some(HoistSide::Pre) => {
                    pre_side.push(col);
                    Loc::Side(HoistSide::Pre, pre_side.len() as u32 - 1)
                }
                Some(HoistSide::Post) => {
                    post_side.push(col);
                    Loc::Side(HoistSide::Post, post_side.len() as u32 - 1)
                }
                None => {
                    columns.push(col);
                    Loc::Column(columns.len() as u32 - 1)
                }
            });
        }
        // Hoisted variables that decay are stored scaled (see `Layout`); only
        // per-synapse variables and hoisted drifting ones need a last update.
        let lazy = |k: usize| decay[k].is_some_and(|dd| !dd.trivial() && (side[k].is_none() || dd.rate == 0.0));
        let needs_lu = |s: Option<HoistSide>| {
            (0..n_states).any(|k| side[k] == s && lazy(k) && !matches!(loc[k], Some(Loc::Folded(_))))
        };
        let mut decay_rates: Vec<f64> = Vec::new();
        let mut factor: Vec<Option<u32>> = vec![None; n_states];
        for k in 0..n_states {
            if let (Some(_), Some(dd)) = (side[k], decay[k])
                && dd.rate != 0.0
            {
                let r = match decay_rates.iter().position(|x| *x == dd.rate) {
                    Some(r) => r,
                    None => {
                        decay_rates.push(dd.rate);
                        decay_rates.len() - 1
                    }
                };
                factor[k] = Some(r as u32);
            }
        }
        let lastupdate = |cols: &mut Vec<Column>| {
            cols.push(Column { name: "lastupdate".into(), role: ColumnRole::LastUpdate, init: Expr::Const(0.0) });
            cols.len() as u32 - 1
        };
        let lu_syn = needs_lu(None).then(|| lastupdate(&mut columns));
        let lu_pre = needs_lu(Some(HoistSide::Pre)).then(|| lastupdate(&mut pre_side));
        let lu_post = needs_lu(Some(HoistSide::Post)).then(|| lastupdate(&mut post_side));
        let unhoisted_columns = map.params.iter().filter(|p| matches!(p, ParamVal::Column(_))).count()
            + loc.iter().filter(|l| !matches!(l, Some(Loc::Folded(_)))).count()
            + usize::from((0..n_states).any(|k| decay[k].is_some_and(|dd| !dd.trivial())));
        for k in 0..n_states {
            match loc[k] {
                Some(Loc::Column(c)) => {
                    map.states.push(Some(c));
                    map.folded.push(None);
                }
                Some(Loc::Folded(v)) => {
                    map.states.push(None);
                    map.folded.push(Some(v));
                }
                _ => {
                    map.states.push(None);
                    map.folded.push(None);
                }
            }
        }
        let folded: Vec<(String, f64)> = (0..n_states)
            .filter_map(|k| if let Some(Loc::Folded(v)) = loc[k] { Some((d.states[k].name.clone(), v)) } else { None })
            .collect();

        let weight = d.states.iter().position(|s| s.name == hir::WEIGHT).and_then(|k| match loc[k]? {
            Loc::Column(c) => Some(SynVar::Column(c)),
            Loc::Folded(v) => Some(SynVar::Folded(v)),
            Loc::Side(HoistSide::Pre, c) => Some(SynVar::PreSide(c)),
            Loc::Side(HoistSide::Post, c) => Some(SynVar::PostSide(c)),
        });
        let lay = Layout { loc: &loc, decay: &decay, factor: &factor, lu_syn, lu_pre, lu_post };
        let scaled: Vec<ScaledColumn> = (0..n_states)
            .filter_map(|k| match (loc[k], factor[k]) {
                (Some(Loc::Side(s, c)), Some(r)) => {
                    Some(ScaledColumn { pre_side: s == HoistSide::Pre, column: c, rate: r })
                }
                _ => None,
            })
            .collect();
        // Kernels.
        let on_pre = self.event_kernel(Block::Pre, &syn.on_pre, &lay, &map, pre_map, post_map);
        let on_post = self.event_kernel(Block::Post, &syn.on_post, &lay, &map, pre_map, post_map);
        let mut every = Vec::new();
        for (i, ev) in d.every.iter().enumerate() {
            let (body, reductions) = self.every_kernel(&ev.body, &lay, &map, pre_map, post_map);
            let steps = ((ev.period / self.program.dt).round() as u64).max(1);
            every.push((steps, body, reductions, i));
        }
        let step = self.continuous_kernel(d, &lay, &map, pre_map, post_map, &syn.name);

        let (delay, post_delay) = {
            let mut ctx = self.syn_ctx(&map, pre_map, post_map);
            let delay = proj.delay.as_ref().map(|e| fold(&ctx.expr(e)));
            let post_delay = proj.post_delay.as_ref().map(|e| fold(&ctx.expr(e)));
            (delay, post_delay)
        };
        let post_delay_steps = match post_delay {
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
        };
        let rule = {
            let mut ctx = self.syn_ctx(&map, pre_map, post_map);
            match &proj.rule {
                hir::ConnRule::Prob(e) => Rule::Prob(fold(&ctx.expr(e))),
                hir::ConnRule::InDegree(k) => Rule::InDegree(*k),
                hir::ConnRule::OutDegree(k) => Rule::OutDegree(*k),
                hir::ConnRule::OneToOne => Rule::OneToOne,
                hir::ConnRule::AllToAll => Rule::AllToAll,
                hir::ConnRule::File { path, .. } => Rule::File(path.clone()),
            }
        };
        self.program.projections.push(Projection {
            name: name.clone(),
            synapse: syn.name.clone(),
            pre: sel(proj.pre),
            post: sel(proj.post),
            rule,
            autapses: proj.autapses,
            delay,
            columns,
            folded,
            pre_side,
            post_side,
            on_pre: None,
            on_post: None,
            frozen_on_pre: None,
            frozen_on_post: None,
            frozen_every: Vec::new(),
            step: None,
            every: Vec::new(),
            post_delay: post_delay_steps,
            weight,
            unhoisted_columns,
            event_driven: (0..n_states)
                .filter_map(|k| {
                    let dd = decay[k]?;
                    if dd.trivial() {
                        return None;
                    }
                    let lu_of = |l: Option<u32>, f: fn(u32) -> SynVar| l.map(f).unwrap_or(SynVar::Folded(0.0));
                    let (value, lu) = match loc[k]? {
                        Loc::Column(c) => (SynVar::Column(c), lu_of(lu_syn, SynVar::Column)),
                        Loc::Side(HoistSide::Pre, c) => (SynVar::PreSide(c), lu_of(lu_pre, SynVar::PreSide)),
                        Loc::Side(HoistSide::Post, c) => (SynVar::PostSide(c), lu_of(lu_post, SynVar::PostSide)),
                        Loc::Folded(_) => return None,
                    };
                    Some(EventDriven {
                        name: d.states[k].name.clone(),
                        value,
                        factor: factor[k],
                        lastupdate: lu,
                        rate: dd.rate,
                        x_inf: dd.x_inf,
                        drift: dd.drift,
                    })
                })
                .collect(),
            decay_rates,
            scaled,
        });
        let owner = Owner::Projection(p);
        // Each event kernel and its frozen twin (no plastic writes), which
        // is the same kernel when nothing in it is plastic.
        let pair = |l: &mut Self,
                    label: &str,
                    kind: KernelKind,
                    prologue: Vec<Stmt>,
                    body: Vec<Stmt>,
                    n: u32,
                    reductions: Vec<(Reduce, Expr)>| {
            let (fp, fb) = (freeze(&prologue), freeze(&body));
            let same = fp == prologue && fb == body;
            let k = l.add_kernel(format!("{name}.{label}"), kind, owner, body, n);
            l.program.kernels[k.index()].prologue = prologue;
            l.program.kernels[k.index()].reductions = reductions.clone();
            if same {
                return (k, k);
            }
            // A frozen every block that no longer reads its sums (they fed
            // only weight updates) need not compute them.
            let mut reads_sums = false;
            for s in fb.iter().chain(&fp) {
                s.walk_exprs(&mut |e| reads_sums |= matches!(e, Expr::Load(Slot::Reduced(_))));
            }
            let f = l.add_kernel(format!("{name}.{label}.frozen"), kind, owner, fb, n);
            l.program.kernels[f.index()].prologue = fp;
            l.program.kernels[f.index()].reductions = if reads_sums { reductions } else { Vec::new() };
            (k, f)
        };
        if let Some((prologue, body, n)) = on_pre {
            let (k, f) = pair(self, "on_pre", KernelKind::OnPre, prologue, body, n, Vec::new());
            self.program.projections[p.index()].on_pre = Some(k);
            self.program.projections[p.index()].frozen_on_pre = Some(f);
        }
        if let Some((prologue, body, n)) = on_post {
            let (k, f) = pair(self, "on_post", KernelKind::OnPost, prologue, body, n, Vec::new());
            self.program.projections[p.index()].on_post = Some(k);
            self.program.projections[p.index()].frozen_on_post = Some(f);
        }
        for (steps, body, reductions, i) in every {
            let (k, f) = pair(self, &format!("every{i}"), KernelKind::Every, Vec::new(), body, 0, reductions);
            self.program.projections[p.index()].every.push((steps, k));
            self.program.projections[p.index()].frozen_every.push((steps, f));
        }
        if let Some((body, n)) = step {
            let k = self.add_kernel(format!("{name}.step"), KernelKind::Step, owner, body, n);
            self.program.projections[p.index()].step = Some(k);
        }
    }

    /// Analyses an event-driven equation: it must read only its own variable
    /// and constants, linearly.
    fn event_driven(
        &self,
        map: &VarMap,
        pre: &VarMap,
        post: &VarMap,
        d: &hir::Dynamics,
        ode: &hir::Ode,
    ) -> Result<Decay, NotADecay> {
        let k = ode.state;
        let mut ctx = self.syn_ctx(map, pre, post);
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

    /// Decides which states are hoisted, and to which side.
    #[allow(clippy::too_many_arguments)]
    fn hoisting(
        &self,
        proj: &hir::Projection,
        d: &hir::Dynamics,
        map: &VarMap,
        inits: &[Expr],
        decay: &[Option<Decay>],
        continuous: &[bool],
        writes: &[Vec<(Block, bool, &hir::Stmt)>],
        loc: &[Option<Loc>],
        syn: &hir::SynapseInstance,
    ) -> Vec<Option<HoistSide>> {
        let n = d.states.len();
        let mut side: Vec<Option<HoistSide>> = vec![None; n];
        if self.options.no_hoist {
            return side;
        }
        // One arrival time per presynaptic spike for all its synapses.
        let homogeneous = proj.delay.as_ref().is_none_or(|e| hir::const_eval(e, &[]).is_some());
        for k in 0..n {
            if loc[k].is_some()
                || continuous[k]
                || !matches!(inits[k], Expr::Const(_))
                || decay[k].is_none() && writes[k].is_empty()
            {
                continue;
            }
            let blocks: Vec<Block> = writes[k].iter().map(|w| w.0).collect();
            let all_top = writes[k].iter().all(|w| w.1);
            if !all_top {
                continue;
            }
            side[k] = if blocks.iter().all(|b| *b == Block::Pre) {
                homogeneous.then_some(HoistSide::Pre)
            } else if blocks.iter().all(|b| *b == Block::Post) {
                Some(HoistSide::Post)
            } else {
                None
            };
        }
        let post_written_in_post = writes_post(&syn.on_post);
        // Drop candidates whose updates read per-synapse values, until none
        // changes.
        loop {
            let mut changed = false;
            for k in 0..n {
                let Some(s) = side[k] else { continue };
                let ok = writes[k].iter().all(|(_, _, stmt)| {
                    let hir::Stmt::Assign { value, .. } = stmt else { return false };
                    value_is_per_neuron(value, s, &side, map, post_written_in_post)
                });
                if !ok {
                    side[k] = None;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        side
    }

    /// `on pre` or `on post`: (prologue, body, number of locals), or `None`
    /// when the block is empty and nothing needs updating.
    fn event_kernel(
        &self,
        block: Block,
        stmts: &[hir::Stmt],
        lay: &Layout<'_>,
        map: &VarMap,
        pre: &VarMap,
        post: &VarMap,
    ) -> Option<(Vec<Stmt>, Vec<Stmt>, u32)> {
        let mine = if block == Block::Pre { HoistSide::Pre } else { HoistSide::Post };
        let other = if mine == HoistSide::Pre { HoistSide::Post } else { HoistSide::Pre };
        let hoisted_mine: Vec<usize> =
            (0..lay.loc.len()).filter(|&k| matches!(lay.loc[k], Some(Loc::Side(s, _)) if s == mine)).collect();
        if stmts.is_empty() {
            return None;
        }
        let mut locals = Locals::default();
        let mut prologue = Vec::new();
        let mut body = Vec::new();
        let n = lay.loc.len();
        // Current version of each hoisted variable of this side.
        let mut version: Vec<Option<Expr>> = vec![None; n];
        for &k in &hoisted_mine {
            let value = lay.at_t(k);
            let l = locals.fresh();
            prologue.push(Stmt::Let(l, fold(&value)));
            version[k] = Some(Expr::Local(l));
        }
        // Per synapse: bring per-synapse event-driven variables to t.
        let per_syn_ed: Vec<usize> = (0..n)
            .filter(|&k| matches!(lay.loc[k], Some(Loc::Column(_))) && lay.decay[k].is_some_and(|dd| !dd.trivial()))
            .collect();
        if let (false, Some(lu)) = (per_syn_ed.is_empty(), lay.lu_syn) {
            for &k in &per_syn_ed {
                let value = lay.decay[k].expect("decay").at_t(lay.load(k), Expr::Load(Slot::Own(lu)));
                let l = locals.fresh();
                body.push(Stmt::Let(l, fold(&value)));
                let Some(Loc::Column(c)) = lay.loc[k] else { unreachable!("per-synapse column") };
                body.push(Stmt::Store(Slot::Own(c), Expr::Local(l)));
            }
            body.push(Stmt::Store(Slot::Own(lu), Expr::Builtin(Builtin::T)));
        }
        // Hoisted variables of the other side, read at t once per synapse.
        let mut other_reads = vec![None; n];
        for k in 0..n {
            if matches!(lay.loc[k], Some(Loc::Side(s, _)) if s == other)
                && stmts.iter().any(|s| stmt_reads_own(s, k as u32))
            {
                let value = lay.at_t(k);
                let l = locals.fresh();
                body.push(Stmt::Let(l, fold(&value)));
                other_reads[k] = Some(Expr::Local(l));
            }
        }
        for s in stmts {
            let overrides: Vec<Option<Expr>> =
                (0..n).map(|k| version[k].clone().or_else(|| other_reads[k].clone())).collect();
            let mut ctx = Ctx { overrides, ..self.syn_ctx(map, pre, post) };
            match s {
                hir::Stmt::Assign { target, op, value, .. }
                    if target.owner == HOwner::Own
                        && target.kind == VarKind::State
                        && version[target.index as usize].is_some() =>
                {
                    let k = target.index as usize;
                    let old = version[k].clone().expect("version");
                    let v = ctx.expr(value);
                    let new = match op {
                        hir::AssignOp::Set => v,
                        hir::AssignOp::Add => Expr::add(old, v),
                        hir::AssignOp::Sub => Expr::sub(old, v),
                        hir::AssignOp::Mul => Expr::mul(old, v),
                        hir::AssignOp::Div => Expr::div(old, v),
                    };
                    let l = locals.fresh();
                    prologue.push(Stmt::Let(l, fold(&new)));
                    version[k] = Some(Expr::Local(l));
                }
                _ => {
                    if let Some(st) = ctx.stmt(s) {
                        body.push(st);
                    }
                }
            }
        }
        // Store the hoisted variables once per spike.
        for &k in &hoisted_mine {
            let Some(Loc::Side(_, c)) = lay.loc[k] else { continue };
            let slot = if mine == HoistSide::Pre { Slot::PreSide(c) } else { Slot::PostSide(c) };
            prologue.push(Stmt::Store(slot, fold(&lay.stored(k, version[k].clone().expect("version")))));
        }
        if let Some(lu) = lay.lu_slot(Some(mine))
            && !hoisted_mine.is_empty()
        {
            prologue.push(Stmt::Store(lu, Expr::Builtin(Builtin::T)));
        }
        Some((prologue, body, locals.next))
    }

    /// A synapse `every` block: per-synapse event-driven variables are brought
    /// to t first; reductions read every variable at t.
    fn every_kernel(
        &self,
        stmts: &[hir::Stmt],
        lay: &Layout<'_>,
        map: &VarMap,
        pre: &VarMap,
        post: &VarMap,
    ) -> (Vec<Stmt>, Vec<(Reduce, Expr)>) {
        let n = lay.loc.len();
        let mut body = Vec::new();
        let at_t = |k: usize| -> Option<Expr> {
            let dd = lay.decay[k]?;
            if dd.trivial() || !matches!(lay.loc[k], Some(Loc::Side(..) | Loc::Column(_))) {
                return None;
            }
            Some(fold(&lay.at_t(k)))
        };
        // Hoisted variables are read at t; per-synapse ones are stored at t.
        let body_overrides: Vec<Option<Expr>> =
            (0..n).map(|k| if matches!(lay.loc[k], Some(Loc::Side(..))) { at_t(k) } else { None }).collect();
        let reduce_overrides: Vec<Option<Expr>> = (0..n).map(at_t).collect();
        if let Some(lu) = lay.lu_syn {
            for k in 0..n {
                if let (Some(Loc::Column(c)), Some(v)) = (lay.loc[k], at_t(k)) {
                    body.push(Stmt::Store(Slot::Own(c), v));
                }
            }
            body.push(Stmt::Store(Slot::Own(lu), Expr::Builtin(Builtin::T)));
        }
        let mut ctx =
            Ctx { overrides: body_overrides, reduce_overrides: Some(reduce_overrides), ..self.syn_ctx(map, pre, post) };
        body.extend(ctx.stmts(stmts));
        let reductions = extract_reductions(&mut body);
        (body, reductions)
    }

    /// Continuous synaptic ODEs: (body, locals) of the per-step kernel.
    fn continuous_kernel(
        &mut self,
        d: &hir::Dynamics,
        lay: &Layout<'_>,
        map: &VarMap,
        pre: &VarMap,
        post: &VarMap,
        name: &str,
    ) -> Option<(Vec<Stmt>, u32)> {
        let odes: Vec<&hir::Ode> = d.odes.iter().filter(|o| o.continuous).collect();
        if odes.is_empty() {
            return None;
        }
        let n = lay.loc.len();
        // Event-driven variables read by a continuous equation: at t.
        let overrides: Vec<Option<Expr>> = (0..n)
            .map(|k| {
                let dd = lay.decay[k]?;
                if dd.trivial() || !matches!(lay.loc[k], Some(Loc::Side(..) | Loc::Column(_))) {
                    return None;
                }
                Some(fold(&lay.at_t(k)))
            })
            .collect();
        let mut ctx = Ctx { overrides, ..self.syn_ctx(map, pre, post) };
        let vars: Vec<OdeVar> = odes
            .iter()
            .filter_map(|o| {
                let Some(Loc::Column(c)) = lay.loc[o.state as usize] else { return None };
                Some(OdeVar {
                    slot: Slot::Own(c),
                    name: d.states[o.state as usize].name.clone(),
                    rhs: fold(&ctx.expr(&o.rhs)),
                    frozen_when_refractory: false,
                })
            })
            .collect();
        let mut names = vec![String::new(); lay.loc.len() + 8];
        for (k, l) in lay.loc.iter().enumerate() {
            if let Some(Loc::Column(c)) = l
                && (*c as usize) < names.len()
            {
                names[*c as usize] = d.states[k].name.clone();
            }
        }
        let sys = System { vars, not_refractory: None, dt: self.program.dt, column_names: &names };
        let (method, span) = d.method.unwrap_or((Method::Auto, Default::default()));
        let mut locals = Locals::default();
        match integrate::integrate(&sys, method, &mut locals) {
            Ok(r) => Some((r.stmts, locals.next)),
            Err(why) => {
                self.diags.push(
                    Diagnostic::error(
                        "hebb::method::not_applicable",
                        format!("method `{}` cannot integrate synapse `{name}`", method.name()),
                    )
                    .label(span, why.to_string())
                    .help("use `method auto` to let hebb choose, or `rk4`"),
                );
                None
            }
        }
    }
}

/// A kernel body without plastic writes: stores to synapse state (per
/// synapse or hoisted) are dropped; writes through `post.` stay.
fn freeze(body: &[Stmt]) -> Vec<Stmt> {
    body.iter()
        .filter_map(|s| match s {
            Stmt::Store(Slot::Own(_) | Slot::PreSide(_) | Slot::PostSide(_), _) => None,
            Stmt::If(c, a, b) => Some(Stmt::If(c.clone(), freeze(a), freeze(b))),
            other => Some(other.clone()),
        })
        .collect()
}

/// Where states live and how they decay, for building kernels.
struct Layout<'a> {
    loc: &'a [Option<Loc>],
    decay: &'a [Option<Decay>],
    /// The factor (rate index) of hoisted variables stored scaled.
    factor: &'a [Option<u32>],
    lu_syn: Option<u32>,
    lu_pre: Option<u32>,
    lu_post: Option<u32>,
}

impl Layout<'_> {
    /// The stored value of state k.
    fn load(&self, k: usize) -> Expr {
        match self.loc[k] {
            Some(Loc::Column(c)) => Expr::Load(Slot::Own(c)),
            Some(Loc::Side(HoistSide::Pre, c)) => Expr::Load(Slot::PreSide(c)),
            Some(Loc::Side(HoistSide::Post, c)) => Expr::Load(Slot::PostSide(c)),
            Some(Loc::Folded(v)) => Expr::Const(v),
            None => Expr::Const(f64::NAN),
        }
    }

    fn lu_slot(&self, side: Option<HoistSide>) -> Option<Slot> {
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
    fn at_t(&self, k: usize) -> Expr {
        let Some(dd) = self.decay[k] else { return self.load(k) };
        if dd.trivial() {
            return self.load(k);
        }
        match (self.factor[k], self.loc[k]) {
            // Scaled: x = x_inf + S F(t).
            (Some(r), _) => {
                let scaled = Expr::mul(self.load(k), Expr::Load(Slot::Factor(2 * r)));
                if dd.x_inf == 0.0 { scaled } else { Expr::add(Expr::Const(dd.x_inf), scaled) }
            }
            (None, Some(Loc::Side(s, _))) => dd.at_t(self.load(k), self.lu(Some(s))),
            (None, _) => dd.at_t(self.load(k), self.lu(None)),
        }
    }

    /// What to store for state k to hold value `v` at the current time.
    fn stored(&self, k: usize, v: Expr) -> Expr {
        match (self.factor[k], self.decay[k]) {
            (Some(r), Some(dd)) => {
                let shifted = if dd.x_inf == 0.0 { v } else { Expr::sub(v, Expr::Const(dd.x_inf)) };
                Expr::mul(shifted, Expr::Load(Slot::Factor(2 * r + 1)))
            }
            _ => v,
        }
    }
}

/// Whether a statement reads own state `k`.
fn stmt_reads_own(s: &hir::Stmt, k: u32) -> bool {
    let mut found = false;
    s.walk_exprs(&mut |e| {
        if let hir::ExprKind::Var(v) = &e.kind {
            found |= v.owner == HOwner::Own && v.kind == VarKind::State && v.index == k;
        }
    });
    found
}

/// Whether a value is the same for every synapse of one neuron of `side`:
/// it reads only constants, constant params, that neuron's variables, time,
/// signals and other variables hoisted to the same side.
fn value_is_per_neuron(
    value: &hir::Expr,
    side: HoistSide,
    hoisted: &[Option<HoistSide>],
    map: &VarMap,
    post_written: bool,
) -> bool {
    !value.any(|e| match &e.kind {
        hir::ExprKind::Var(v) => match v.owner {
            HOwner::Own => match v.kind {
                VarKind::State => hoisted.get(v.index as usize).copied().flatten() != Some(side),
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
