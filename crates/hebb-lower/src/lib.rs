//! Lowering: the checked model of one experiment → the unitless [`Program`].
//!
//! Constant params are folded into numbers; params that differ between
//! elements become read-only columns. Integration of each group's ODEs is
//! chosen and emitted by [`crate::integrate`].

mod integrate;
mod synapse;

use hebb_ir::symbolic::fold;
use hebb_ir::*;
use hebb_lang::diag::Diagnostic;
use hebb_lang::hir::{self, Method, Model, Owner as HOwner, VarKind};
use integrate::{Locals, OdeVar, System};

/// Where a param of a group lives.
#[derive(Clone, Copy, Debug)]
enum ParamVal {
    Const(f64),
    Column(u32),
}

/// How the variables of one hir item map to a group's or projection's columns.
#[derive(Clone, Debug, Default)]
struct VarMap {
    params: Vec<ParamVal>,
    /// Column of each state; `None` for folded synapse states.
    states: Vec<Option<u32>>,
    /// Folded synapse states: their constant value.
    folded: Vec<Option<f64>>,
    lastspike: Option<u32>,
    size: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Own,
    Pre,
    Post,
}

/// Context for lowering expressions of one item.
struct Ctx<'a> {
    own: &'a VarMap,
    pre: Option<&'a VarMap>,
    post: Option<&'a VarMap>,
    signals: &'a [(GroupId, VarMap)],
    dt: f64,
    synapse: bool,
    draws: u32,
    /// Reads of own states replaced by these expressions (hoisted variables
    /// and event-driven decays in synapse kernels).
    overrides: Vec<Option<Expr>>,
    /// The same inside `in_sum`/`out_sum`, which run before the block.
    reduce_overrides: Option<Vec<Option<Expr>>>,
}

impl Ctx<'_> {
    fn var(&self, side: Side, kind: VarKind, index: u32) -> Expr {
        if side == Side::Own
            && kind == VarKind::State
            && let Some(Some(e)) = self.overrides.get(index as usize)
        {
            return e.clone();
        }
        let (map, slot): (&VarMap, fn(u32) -> Slot) = match side {
            Side::Own => (self.own, Slot::Own),
            Side::Pre => (self.pre.expect("pre exists in synapse context"), Slot::Pre),
            Side::Post => (self.post.expect("post exists in synapse context"), Slot::Post),
        };
        match kind {
            VarKind::Param => match map.params.get(index as usize) {
                Some(ParamVal::Const(v)) => Expr::Const(*v),
                Some(ParamVal::Column(c)) => Expr::Load(slot(*c)),
                None => Expr::Const(f64::NAN),
            },
            VarKind::State => match (map.states.get(index as usize), map.folded.get(index as usize)) {
                (Some(Some(c)), _) => Expr::Load(slot(*c)),
                (_, Some(Some(v))) => Expr::Const(*v),
                _ => Expr::Const(f64::NAN),
            },
            VarKind::LastSpike => match map.lastspike {
                Some(c) => Expr::mul(Expr::Load(slot(c)), Expr::Const(self.dt)),
                None => Expr::Const(-1e300),
            },
        }
    }

    fn expr(&mut self, e: &hir::Expr) -> Expr {
        use hir::ExprKind as K;
        match &e.kind {
            K::Const(v) => Expr::Const(*v),
            K::Bool(b) => Expr::Bool(*b),
            K::Var(v) => match v.owner {
                HOwner::Own => self.var(Side::Own, v.kind, v.index),
                HOwner::Pre => self.var(Side::Pre, v.kind, v.index),
                HOwner::Post => self.var(Side::Post, v.kind, v.index),
                HOwner::Signal(s) => {
                    let (g, map) = &self.signals[s as usize];
                    match v.kind {
                        VarKind::Param => match map.params[v.index as usize] {
                            ParamVal::Const(x) => Expr::Const(x),
                            ParamVal::Column(c) => Expr::Load(Slot::Signal(*g, c)),
                        },
                        _ => match map.states[v.index as usize] {
                            Some(c) => Expr::Load(Slot::Signal(*g, c)),
                            None => Expr::Const(f64::NAN),
                        },
                    }
                }
            },
            K::Builtin(b) => match b {
                hir::Builtin::T => Expr::Builtin(Builtin::T),
                hir::Builtin::Dt => Expr::Const(self.dt),
                hir::Builtin::I => Expr::Builtin(if self.synapse { Builtin::PreIndex } else { Builtin::Index }),
                hir::Builtin::J => Expr::Builtin(Builtin::PostIndex),
                hir::Builtin::N => Expr::Const(self.own.size as f64),
                hir::Builtin::LastSpike => self.var(Side::Own, VarKind::LastSpike, 0),
            },
            K::Unary(op, a) => {
                let a = self.expr(a);
                match op {
                    hir::UnOp::Neg => Expr::un(UnOp::Neg, a),
                    hir::UnOp::Not => Expr::un(UnOp::Not, a),
                }
            }
            K::Binary(op, a, b) => {
                let (x, y) = (self.expr(a), self.expr(b));
                use hir::BinOp as H;
                let op2 = match op {
                    H::Add => BinOp::Add,
                    H::Sub => BinOp::Sub,
                    H::Mul => BinOp::Mul,
                    H::Div => BinOp::Div,
                    H::Pow => {
                        // Small integer powers are multiplications, as a C
                        // compiler would emit them.
                        if let Some(n) = fold(&y).as_const()
                            && n.fract() == 0.0
                            && n.abs() <= 4.0
                        {
                            return integrate::integer_power(x, n as i32);
                        }
                        BinOp::Pow
                    }
                    H::Lt => BinOp::Lt,
                    H::Le => BinOp::Le,
                    H::Gt => BinOp::Gt,
                    H::Ge => BinOp::Ge,
                    H::Eq => BinOp::Eq,
                    H::Ne => BinOp::Ne,
                    H::And => BinOp::And,
                    H::Or => BinOp::Or,
                };
                Expr::bin(op2, x, y)
            }
            K::Call(f, args) => {
                let mut a: Vec<Expr> = args.iter().map(|x| self.expr(x)).collect();
                use hir::Func as F;
                let un = |op, a: &mut Vec<Expr>| Expr::un(op, a.remove(0));
                match f {
                    F::Exp => un(UnOp::Exp, &mut a),
                    F::Log => un(UnOp::Log, &mut a),
                    F::Sqrt => un(UnOp::Sqrt, &mut a),
                    F::Abs => un(UnOp::Abs, &mut a),
                    F::Sin => un(UnOp::Sin, &mut a),
                    F::Cos => un(UnOp::Cos, &mut a),
                    F::Tanh => un(UnOp::Tanh, &mut a),
                    // 1 / (1 + e^-x): existing operations, so neither the
                    // IR, the interpreter nor the JIT needs to know it.
                    F::Sigmoid => {
                        let e = Expr::un(UnOp::Exp, Expr::un(UnOp::Neg, a.remove(0)));
                        Expr::div(Expr::Const(1.0), Expr::add(Expr::Const(1.0), e))
                    }
                    F::Min => Expr::bin(BinOp::Min, a.remove(0), a.remove(0)),
                    F::Max => Expr::bin(BinOp::Max, a.remove(0), a.remove(0)),
                    F::Clip => {
                        let (x, lo, hi) = (a.remove(0), a.remove(0), a.remove(0));
                        Expr::bin(BinOp::Min, Expr::bin(BinOp::Max, x, lo), hi)
                    }
                    F::Pos => Expr::bin(BinOp::Max, a.remove(0), Expr::Const(0.0)),
                    F::Step => Expr::select(
                        Expr::bin(BinOp::Gt, a.remove(0), Expr::Const(0.0)),
                        Expr::Const(1.0),
                        Expr::Const(0.0),
                    ),
                    F::Rand => {
                        self.draws += 1;
                        Expr::Rand(self.draws - 1)
                    }
                    F::Randn => {
                        self.draws += 1;
                        Expr::Randn(self.draws - 1)
                    }
                }
            }
            K::Dist(d, args) => {
                let mut a: Vec<Expr> = args.iter().map(|x| self.expr(x)).collect();
                self.draws += 1;
                let draw = self.draws - 1;
                match d {
                    hir::Dist::Uniform => {
                        let (lo, hi) = (a.remove(0), a.remove(0));
                        Expr::add(lo.clone(), Expr::mul(Expr::sub(hi, lo), Expr::Rand(draw)))
                    }
                    hir::Dist::Normal => {
                        let (mu, sigma) = (a.remove(0), a.remove(0));
                        Expr::add(mu, Expr::mul(sigma, Expr::Randn(draw)))
                    }
                    hir::Dist::Exponential => {
                        let mean = a.remove(0);
                        Expr::mul(
                            Expr::un(UnOp::Neg, mean),
                            Expr::un(UnOp::Log, Expr::sub(Expr::Const(1.0), Expr::Rand(draw))),
                        )
                    }
                    hir::Dist::LogNormal => {
                        // Mean m and standard deviation s of the variable:
                        // s2 = ln(1 + s²/m²), X = exp(ln m - s2/2 + sqrt(s2) Z).
                        let (m, s) = (a.remove(0), a.remove(0));
                        let ratio = Expr::div(s, m.clone());
                        let s2 = Expr::un(UnOp::Log, Expr::add(Expr::Const(1.0), Expr::mul(ratio.clone(), ratio)));
                        let mu = Expr::sub(Expr::un(UnOp::Log, m), Expr::div(s2.clone(), Expr::Const(2.0)));
                        Expr::un(UnOp::Exp, Expr::add(mu, Expr::mul(Expr::un(UnOp::Sqrt, s2), Expr::Randn(draw))))
                    }
                }
            }
            K::Reduce(r, a) => {
                let saved = match &self.reduce_overrides {
                    Some(o) => Some(std::mem::replace(&mut self.overrides, o.clone())),
                    None => None,
                };
                let a = self.expr(a);
                if let Some(s) = saved {
                    self.overrides = s;
                }
                Expr::Reduce(if *r == hir::Reduce::InSum { Reduce::InSum } else { Reduce::OutSum }, Box::new(a))
            }
            K::Error => Expr::Const(f64::NAN),
        }
    }

    fn stmts(&mut self, body: &[hir::Stmt]) -> Vec<Stmt> {
        body.iter().filter_map(|s| self.stmt(s)).collect()
    }

    fn stmt(&mut self, s: &hir::Stmt) -> Option<Stmt> {
        match s {
            hir::Stmt::Assign { target, op, value, .. } => {
                let v = self.expr(value);
                let place = match target.owner {
                    HOwner::Own => Slot::Own(self.own.states.get(target.index as usize).copied().flatten()?),
                    HOwner::Post => Slot::Post(self.post?.states.get(target.index as usize).copied().flatten()?),
                    HOwner::Pre => Slot::Pre(self.pre?.states.get(target.index as usize).copied().flatten()?),
                    HOwner::Signal(k) => {
                        let (g, map) = &self.signals[k as usize];
                        Slot::Signal(*g, map.states[target.index as usize]?)
                    }
                };
                let old = Expr::Load(place);
                let value = match op {
                    hir::AssignOp::Set => v,
                    hir::AssignOp::Add => Expr::add(old, v),
                    hir::AssignOp::Sub => Expr::sub(old, v),
                    hir::AssignOp::Mul => Expr::mul(old, v),
                    hir::AssignOp::Div => Expr::div(old, v),
                };
                Some(Stmt::Store(place, fold(&value)))
            }
            hir::Stmt::If { cond, then_body, else_body, .. } => {
                let c = fold(&self.expr(cond));
                let a = self.stmts(then_body);
                let b = self.stmts(else_body);
                Some(Stmt::If(c, a, b))
            }
        }
    }
}

/// Options that change lowering (for tests and benchmarks).
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Overrides the experiment's duration (seconds).
    pub duration: Option<f64>,
    /// Overrides the experiment's seed.
    pub seed: Option<u64>,
    /// Keep every synaptic variable per synapse (for testing hoisting).
    pub no_hoist: bool,
}

struct Lowerer<'m> {
    model: &'m Model,
    program: Program,
    signals: Vec<(GroupId, VarMap)>,
    diags: Vec<Diagnostic>,
    options: Options,
}

/// Lowers the model's experiment. The model must have no errors.
pub fn lower(model: &Model, options: &Options) -> (Program, Vec<Diagnostic>) {
    let exp = model.experiment.as_ref().expect("lowering needs a checked experiment");
    let net = &model.networks[exp.network as usize];
    let duration = options.duration.unwrap_or(exp.duration);
    let program = Program {
        dt: exp.dt,
        seed: options.seed.unwrap_or(exp.seed),
        n_steps: (duration / exp.dt).round() as u64,
        groups: Vec::new(),
        projections: Vec::new(),
        kernels: Vec::new(),
        records: Vec::new(),
        phases: Vec::new(),
        stimuli: Vec::new(),
        aborts: Vec::new(),
        measures: Vec::new(),
    };
    let mut l = Lowerer { model, program, signals: Vec::new(), diags: Vec::new(), options: options.clone() };
    let mut pop_maps = Vec::new();
    for pop in &net.populations {
        pop_maps.push(l.population(pop));
    }
    for (k, sig) in model.signals.iter().enumerate() {
        let map = l.signal(k, sig);
        let g = GroupId(l.program.groups.len() as u32 - 1);
        l.signals.push((g, map));
    }
    // Kernels of groups are made after signals exist (they may read them).
    for (g, pop) in net.populations.iter().enumerate() {
        if let hir::PopulationKind::Neurons { type_id } = pop.kind {
            l.neuron_kernels(GroupId(g as u32), &model.neurons[type_id as usize], &pop_maps[g]);
        }
    }
    for k in 0..model.signals.len() {
        let (g, map) = l.signals[k].clone();
        l.signal_kernels(g, &model.signals[k], &map);
    }
    for (p, proj) in net.projections.iter().enumerate() {
        l.projection(ProjectionId(p as u32), net, proj, &pop_maps);
    }
    for r in &net.records {
        l.record(r, &mut pop_maps);
    }
    l.experiment(exp, &pop_maps, options.duration);
    (l.program, l.diags)
}

impl Lowerer<'_> {
    /// Phases, stimuli, aborts and metrics; spikes of measured populations
    /// are recorded.
    fn experiment(&mut self, exp: &hir::Experiment, pop_maps: &[VarMap], duration: Option<f64>) {
        let dt = self.program.dt;
        let steps = |s: f64| ((s / dt).round() as u64).max(1);
        let mut start = 0;
        for ph in &exp.phases {
            let n = steps(ph.duration);
            let mut sets = Vec::new();
            for s in &ph.sets {
                match s {
                    hir::SetAction::State { pop, state, value } => {
                        let map = &pop_maps[*pop as usize];
                        if let Some(col) = map.states[*state as usize] {
                            let mut ctx = self.ctx(map);
                            sets.push(SetAction::Column {
                                group: GroupId(*pop),
                                column: col,
                                value: fold(&ctx.expr(value)),
                            });
                        }
                    }
                    hir::SetAction::Rate { pop, rate } => {
                        sets.push(SetAction::Rate { group: GroupId(*pop), rate: *rate })
                    }
                    hir::SetAction::Signal { signal, state, value } => {
                        let (g, map) = &self.signals[*signal as usize];
                        if let Some(col) = map.states[*state as usize] {
                            let mut ctx = self.ctx(map);
                            let v = fold(&ctx.expr(value));
                            sets.push(SetAction::Column { group: *g, column: col, value: v });
                        }
                    }
                }
            }
            self.program.phases.push(Phase {
                name: ph.name.clone(),
                start,
                steps: n,
                plasticity: ph.plasticity,
                present: ph.present.map(|(s, each)| (s, steps(each))),
                sets,
            });
            start += n;
        }
        if self.program.phases.is_empty() {
            self.program.phases = vec![Phase {
                name: "run".into(),
                start: 0,
                steps: self.program.n_steps,
                plasticity: true,
                present: None,
                sets: Vec::new(),
            }];
        } else if duration.is_some() {
            // A `--duration` cuts the phases short (or extends the last one).
            let end = self.program.n_steps;
            self.program.phases.retain(|p| p.start < end);
            if let Some(last) = self.program.phases.last_mut() {
                last.steps = end - last.start;
            }
        } else {
            self.program.n_steps = start;
        }
        for s in &exp.stimuli {
            self.program.stimuli.push(Stimuli {
                name: s.name.clone(),
                group: GroupId(s.source),
                count: s.count,
                active: s.active,
                rate: s.rate,
                rest: s.rest,
            });
        }
        for a in &exp.aborts {
            self.program.aborts.push(Abort {
                group: GroupId(a.pop),
                above: a.above,
                inclusive: a.inclusive,
                threshold: a.threshold,
            });
        }
        for m in &exp.measures {
            if let hir::MeasureTarget::Population(g) = m.target
                && !self.program.records.iter().any(|r| matches!(r, Record::Spikes { group } if *group == GroupId(g)))
            {
                self.program.records.push(Record::Spikes { group: GroupId(g) });
            }
            self.program.measures.push(Measure {
                metric: metric(m.metric),
                target: match m.target {
                    hir::MeasureTarget::Population(g) => MeasureTarget::Group(GroupId(g)),
                    hir::MeasureTarget::Projection(p) => MeasureTarget::Projection(ProjectionId(p)),
                },
                about: m.about,
                phase: m.phase,
                phase_name: m.phase.map(|k| exp.phases[k as usize].name.clone()),
                target_rate: m.target_rate,
                perturbation: m.perturbation,
            });
        }
    }

    fn ctx<'a>(&'a self, own: &'a VarMap) -> Ctx<'a> {
        Ctx {
            own,
            pre: None,
            post: None,
            signals: &self.signals,
            dt: self.program.dt,
            synapse: false,
            draws: 0,
            overrides: Vec::new(),
            reduce_overrides: None,
        }
    }

    /// Params and states of a neuron population as columns.
    fn population(&mut self, pop: &hir::Population) -> VarMap {
        let g = self.program.groups.len() as u32;
        let mut group = Group {
            name: pop.name.clone(),
            size: pop.size,
            kind: GroupKind::Signal,
            columns: Vec::new(),
            step: None,
            reset: None,
            every: Vec::new(),
            integrator: None,
            spikes: true,
        };
        let mut map = VarMap { size: pop.size, ..VarMap::default() };
        match &pop.kind {
            hir::PopulationKind::Neurons { type_id } => {
                let nt = &self.model.neurons[*type_id as usize];
                group.kind = GroupKind::Neurons { type_name: nt.name.clone() };
                self.columns(&nt.dynamics, &pop.overrides, &mut group.columns, &mut map, false);
                if nt.threshold.is_some() {
                    map.lastspike = Some(group.columns.len() as u32);
                    group.columns.push(Column {
                        name: "lastspike".into(),
                        role: ColumnRole::LastSpike,
                        init: Expr::Const(NEVER_SPIKED),
                    });
                } else {
                    group.spikes = false;
                }
            }
            hir::PopulationKind::Poisson { rate, rate_max } => {
                let rate = fold(&self.ctx(&map).expr(rate));
                let thinning = rate.any(&|e| matches!(e, Expr::Builtin(Builtin::T))).then(|| {
                    let column = group.columns.len() as u32;
                    group.columns.push(Column { name: "rate".into(), role: ColumnRole::State, init: Expr::Const(0.0) });
                    let body = vec![Stmt::Store(Slot::Own(column), rate.clone())];
                    let k = self.add_kernel(
                        format!("{}.rate", pop.name),
                        KernelKind::Listed,
                        Owner::Group(GroupId(g)),
                        body,
                        0,
                    );
                    (k, column)
                });
                group.kind = GroupKind::Poisson { rate, rate_max: *rate_max, thinning };
            }
            hir::PopulationKind::SpikeTimes(st) => {
                group.kind = GroupKind::SpikeTimes(match st {
                    hir::SpikeTimes::Inline(times) => SpikeTimes::Inline(times.clone()),
                    hir::SpikeTimes::File { path, .. } => SpikeTimes::File(path.clone()),
                })
            }
        }
        self.program.groups.push(group);
        map
    }

    /// Columns for params (only those that differ between elements) and
    /// states, with their initial values.
    fn columns(
        &mut self,
        d: &hir::Dynamics,
        overrides: &[hir::Override],
        columns: &mut Vec<Column>,
        map: &mut VarMap,
        synapse: bool,
    ) {
        for (k, p) in d.params.iter().enumerate() {
            let ov = overrides.iter().find(|o| o.target.kind == VarKind::Param && o.target.index == k as u32);
            let value = ov.map(|o| &o.value).unwrap_or(&p.value);
            let mut ctx = Ctx { synapse, ..self.ctx(map) };
            let e = fold(&ctx.expr(value));
            match e {
                Expr::Const(v) => map.params.push(ParamVal::Const(v)),
                init => {
                    map.params.push(ParamVal::Column(columns.len() as u32));
                    columns.push(Column { name: p.name.clone(), role: ColumnRole::Param, init });
                }
            }
        }
        for (k, s) in d.states.iter().enumerate() {
            let ov = overrides.iter().find(|o| o.target.kind == VarKind::State && o.target.index == k as u32);
            let value = ov.map(|o| &o.value).unwrap_or(&s.init);
            let mut ctx = Ctx { synapse, ..self.ctx(map) };
            let init = fold(&ctx.expr(value));
            map.states.push(Some(columns.len() as u32));
            map.folded.push(None);
            columns.push(Column { name: s.name.clone(), role: ColumnRole::State, init });
        }
    }

    fn add_kernel(&mut self, name: String, kind: KernelKind, owner: Owner, body: Vec<Stmt>, n_locals: u32) -> KernelId {
        let k = KernelId(self.program.kernels.len() as u32);
        self.program.kernels.push(Kernel {
            name,
            kind,
            owner,
            prologue: Vec::new(),
            reductions: Vec::new(),
            body,
            n_locals,
            stream: streams::kernel(k),
        });
        k
    }

    /// The step kernel: integration and threshold; the reset kernel; `every`.
    fn neuron_kernels(&mut self, g: GroupId, nt: &hir::NeuronType, map: &VarMap) {
        let name = self.program.groups[g.index()].name.clone();
        let mut ctx = self.ctx(map);
        let not_refractory = nt.refractory.as_ref().and_then(|r| {
            let r = fold(&ctx.expr(r));
            let ls = map.lastspike?;
            // Brian2's timestep(): steps = floor(x / dt + 1e-3), so 2 ms at
            // 0.1 ms is 20 steps despite rounding in 2e-3 / 1e-4.
            let steps =
                fold(&Expr::un(UnOp::Floor, Expr::add(Expr::div(r, Expr::Const(self.program.dt)), Expr::Const(1e-3))));
            Some(Expr::bin(BinOp::Ge, Expr::sub(Expr::Builtin(Builtin::Step), Expr::Load(Slot::Own(ls))), steps))
        });
        let mut body = Vec::new();
        let mut locals = Locals::default();
        let draws_before = ctx.draws;
        let mut diags = Vec::new();
        let info = integrate_into(
            &mut ctx,
            &nt.dynamics,
            map,
            not_refractory.clone(),
            &mut body,
            &mut locals,
            &format!("neuron `{}`", nt.name),
            &mut diags,
        );
        if let Some(th) = &nt.threshold {
            let cond = ctx.expr(th);
            let cond = match &not_refractory {
                Some(nr) => Expr::bin(BinOp::And, cond, nr.clone()),
                None => cond,
            };
            body.push(Stmt::Spike(fold(&cond)));
        }
        let _ = draws_before;
        self.diags.extend(diags);
        let step = self.add_kernel(format!("{name}.step"), KernelKind::Step, Owner::Group(g), body, locals.next);
        self.program.groups[g.index()].step = Some(step);
        self.program.groups[g.index()].integrator = Some(info);
        if !nt.reset.is_empty() {
            let mut ctx = self.ctx(map);
            let body = ctx.stmts(&nt.reset);
            let k = self.add_kernel(format!("{name}.reset"), KernelKind::Listed, Owner::Group(g), body, 0);
            self.program.groups[g.index()].reset = Some(k);
        }
        self.every_kernels(g, &nt.dynamics, map, &name);
    }

    fn every_kernels(&mut self, g: GroupId, d: &hir::Dynamics, map: &VarMap, name: &str) {
        for (i, ev) in d.every.iter().enumerate() {
            let mut ctx = self.ctx(map);
            let body = ctx.stmts(&ev.body);
            let steps = ((ev.period / self.program.dt).round() as u64).max(1);
            let k = self.add_kernel(format!("{name}.every{i}"), KernelKind::Every, Owner::Group(g), body, 0);
            self.program.groups[g.index()].every.push((steps, k));
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn integrate_into(
    ctx: &mut Ctx<'_>,
    d: &hir::Dynamics,
    map: &VarMap,
    not_refractory: Option<Expr>,
    body: &mut Vec<Stmt>,
    locals: &mut Locals,
    what: &str,
    diags: &mut Vec<Diagnostic>,
) -> IntegratorInfo {
    let vars: Vec<OdeVar> = d
        .odes
        .iter()
        .filter_map(|o| {
            let col = map.states[o.state as usize]?;
            Some(OdeVar {
                slot: Slot::Own(col),
                name: d.states[o.state as usize].name.clone(),
                rhs: fold(&ctx.expr(&o.rhs)),
                frozen_when_refractory: o.unless_refractory,
            })
        })
        .collect();
    let names: Vec<String> = column_names(map, d);
    let sys = System { vars, not_refractory, dt: ctx.dt, column_names: &names };
    let (method, span) = d.method.unwrap_or((Method::Auto, Default::default()));
    match integrate::integrate(&sys, method, locals) {
        Ok(r) => {
            body.extend(r.stmts);
            r.info
        }
        Err(why) => {
            diags.push(
                Diagnostic::error(
                    "hebb::method::not_applicable",
                    format!("method `{}` cannot integrate {what}", method.name()),
                )
                .label(span, why.to_string())
                .help("use `method auto` to let hebb choose, or `rk4`"),
            );
            IntegratorInfo::default()
        }
    }
}

fn column_names(map: &VarMap, d: &hir::Dynamics) -> Vec<String> {
    let n = map.states.iter().flatten().chain(map.params.iter().filter_map(|p| match p {
        ParamVal::Column(c) => Some(c),
        _ => None,
    }));
    let max = n.copied().max().map(|m| m + 1).unwrap_or(0) as usize + 1;
    let mut names = vec![String::new(); max];
    for (k, s) in d.states.iter().enumerate() {
        if let Some(Some(c)) = map.states.get(k) {
            names[*c as usize] = s.name.clone();
        }
    }
    for (k, p) in d.params.iter().enumerate() {
        if let Some(ParamVal::Column(c)) = map.params.get(k) {
            names[*c as usize] = p.name.clone();
        }
    }
    names
}

impl Lowerer<'_> {
    fn signal(&mut self, _k: usize, sig: &hir::SignalType) -> VarMap {
        let mut group = Group {
            name: sig.name.clone(),
            size: 1,
            kind: GroupKind::Signal,
            columns: Vec::new(),
            step: None,
            reset: None,
            every: Vec::new(),
            integrator: None,
            spikes: false,
        };
        let mut map = VarMap { size: 1, ..VarMap::default() };
        self.columns(&sig.dynamics, &[], &mut group.columns, &mut map, false);
        self.program.groups.push(group);
        map
    }

    fn signal_kernels(&mut self, g: GroupId, sig: &hir::SignalType, map: &VarMap) {
        if !sig.dynamics.odes.is_empty() {
            let mut ctx = self.ctx(map);
            let mut body = Vec::new();
            let mut locals = Locals::default();
            let mut diags = Vec::new();
            let info = integrate_into(
                &mut ctx,
                &sig.dynamics,
                map,
                None,
                &mut body,
                &mut locals,
                &format!("signal `{}`", sig.name),
                &mut diags,
            );
            self.diags.extend(diags);
            let k = self.add_kernel(format!("{}.step", sig.name), KernelKind::Step, Owner::Group(g), body, locals.next);
            self.program.groups[g.index()].step = Some(k);
            self.program.groups[g.index()].integrator = Some(info);
        }
        self.every_kernels(g, &sig.dynamics, map, &sig.name);
    }

    fn steps(&self, seconds: f64) -> u64 {
        ((seconds / self.program.dt).round() as u64).max(1)
    }

    fn record(&mut self, r: &hir::Record, pop_maps: &mut [VarMap]) {
        let rec = match r {
            hir::Record::Spikes { pop } => Record::Spikes { group: GroupId(*pop) },
            hir::Record::Rate { pop, bin } => Record::Rate { group: GroupId(*pop), bin: self.steps(*bin) },
            hir::Record::State { sel, vars, every } => {
                let g = sel.pop as usize;
                let mut cols = Vec::new();
                for (name, v) in vars {
                    let col = match v.kind {
                        VarKind::State => pop_maps[g].states[v.index as usize],
                        _ => match pop_maps[g].params[v.index as usize] {
                            ParamVal::Column(c) => Some(c),
                            ParamVal::Const(x) => {
                                // A constant param gets a column so it can be recorded.
                                let group = &mut self.program.groups[g];
                                let c = group.columns.len() as u32;
                                group.columns.push(Column {
                                    name: name.clone(),
                                    role: ColumnRole::Param,
                                    init: Expr::Const(x),
                                });
                                pop_maps[g].params[v.index as usize] = ParamVal::Column(c);
                                Some(c)
                            }
                        },
                    };
                    if let Some(c) = col {
                        cols.push((name.clone(), c));
                    }
                }
                Record::State {
                    sel: Sel { group: GroupId(sel.pop), start: sel.start, end: sel.end },
                    columns: cols,
                    every: self.steps(*every),
                }
            }
            hir::Record::Synapses { proj, vars, every, sample } => {
                let pr = &self.program.projections[*proj as usize];
                let mut out = Vec::new();
                for (name, _) in vars {
                    if let Some(k) = pr.event_driven.iter().position(|e| &e.name == name) {
                        out.push((name.clone(), SynVar::EventDriven(k as u32)));
                    } else if let Some(c) = pr.columns.iter().position(|c| &c.name == name) {
                        out.push((name.clone(), SynVar::Column(c as u32)));
                    } else if let Some((_, v)) = pr.folded.iter().find(|(n, _)| n == name) {
                        out.push((name.clone(), SynVar::Folded(*v)));
                    } else if let Some(c) = pr.pre_side.iter().position(|c| &c.name == name) {
                        out.push((name.clone(), SynVar::PreSide(c as u32)));
                    } else if let Some(c) = pr.post_side.iter().position(|c| &c.name == name) {
                        out.push((name.clone(), SynVar::PostSide(c as u32)));
                    }
                }
                Record::Synapses { proj: ProjectionId(*proj), vars: out, every: self.steps(*every), sample: *sample }
            }
        };
        self.program.records.push(rec);
    }
}

/// `lastspike` (in steps) of a neuron that has not spiked yet: far enough in
/// the past that it is never refractory and `exp(-(t - lastspike)/tau)` is 0.
pub const NEVER_SPIKED: f64 = -1e12;

/// The IR's name for a metric.
fn metric(m: hir::Metric) -> Metric {
    match m {
        hir::Metric::Rates => Metric::Rates,
        hir::Metric::CvIsi => Metric::CvIsi,
        hir::Metric::Fano => Metric::Fano,
        hir::Metric::Correlation => Metric::Correlation,
        hir::Metric::Synchrony => Metric::Synchrony,
        hir::Metric::Spectrum => Metric::Spectrum,
        hir::Metric::Information => Metric::Information,
        hir::Metric::Decoding => Metric::Decoding,
        hir::Metric::Drift => Metric::Drift,
        hir::Metric::Weights => Metric::Weights,
        hir::Metric::Control => Metric::Control,
    }
}
