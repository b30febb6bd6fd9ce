//! Lowering: the checked model of one experiment → the unitless [`Program`].
//!
//! Constant params are folded into numbers; params that differ between
//! elements become read-only columns. Integration of each group's ODEs is
//! chosen and emitted by [`crate::integrate`].
//!
//! This file lowers groups (neuron populations and signals) and records;
//! expressions are lowered by the `expression` module, projections by
//! `synapse` and the experiment's protocol by `experiment`.

mod experiment;
mod expression;
mod integrate;
mod synapse;

use expression::Ctx;
use hebb_ir::symbolic::fold;
use hebb_ir::*;
use hebb_lang::diag::Diagnostic;
use hebb_lang::hir::{self, Method, Model, VarKind};
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

/// Options that change lowering (for tests and benchmarks).
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Overrides the experiment's duration (seconds).
    pub duration: Option<f64>,
    /// Overrides the experiment's seed.
    pub seed: Option<u64>,
    /// Keep every synaptic variable per synapse (for testing hoisting).
    pub no_hoist: bool,
    /// Store per-synapse variables that decay as of their last update (an
    /// exponential per event) instead of scaled (for testing scaling).
    pub no_scale: bool,
    /// Overrides the experiment's `precision`.
    pub precision: Option<Precision>,
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
        precision: options.precision.unwrap_or(if exp.f32 { Precision::F32 } else { Precision::F64 }),
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
    for (g, pop) in net.populations.iter().enumerate() {
        if let hir::PopulationKind::Poisson { rate, .. } = &pop.kind {
            l.poisson_rate(g, &pop.name, rate, &pop_maps[g]);
        }
    }
    l.set_params_per_neuron(exp, &mut pop_maps);
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
    /// Params and states of a neuron population as columns.
    /// A poisson source's rate. One that depends on time or on a signal is
    /// evaluated each step by a `Listed` kernel for the candidate spikes
    /// (thinning); a constant one once, at construction.
    fn poisson_rate(&mut self, g: usize, name: &str, rate: &hir::Expr, map: &VarMap) {
        let rate = fold(&self.ctx(map).expr(rate));
        let varies = rate.any(&|e| matches!(e, Expr::Builtin(Builtin::T) | Expr::Load(Slot::Signal(..))));
        let rate_max = match self.program.groups[g].kind {
            GroupKind::Poisson { rate_max, .. } => rate_max,
            _ => unreachable!("a poisson population is a poisson group"),
        };
        let thinning = varies.then(|| {
            let columns = &mut self.program.groups[g].columns;
            let column = columns.len() as u32;
            columns.push(Column { name: "rate".into(), role: ColumnRole::State, init: Expr::Const(0.0) });
            let body = vec![Stmt::Store(Slot::Own(column), rate.clone())];
            let k =
                self.add_kernel(format!("{name}.rate"), KernelKind::Listed, Owner::Group(GroupId(g as u32)), body, 0);
            (k, column)
        });
        self.program.groups[g].kind = GroupKind::Poisson { rate, rate_max, thinning };
    }

    fn population(&mut self, pop: &hir::Population) -> VarMap {
        let mut group = Group {
            name: pop.name.clone(),
            size: pop.size,
            kind: GroupKind::Signal,
            columns: Vec::new(),
            step: None,
            reset: None,
            every: Vec::new(),
            frozen_step: None,
            frozen_every: Vec::new(),
            integrator: None,
            spikes: true,
            units: Vec::new(),
        };
        let mut map = VarMap { size: pop.size, ..VarMap::default() };
        match &pop.kind {
            hir::PopulationKind::Neurons { type_id } => {
                let nt = &self.model.neurons[*type_id as usize];
                group.kind = GroupKind::Neurons { type_name: nt.name.clone() };
                group.units = units_of(&nt.dynamics);
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
            hir::PopulationKind::Poisson { rate_max, .. } => {
                // The rate may read signals: lowered once they exist
                // (`poisson_rate`).
                group.kind = GroupKind::Poisson { rate: Expr::Const(0.0), rate_max: *rate_max, thinning: None };
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
        let (step, info) = self.neuron_step(g, nt, &nt.dynamics, map, format!("{name}.step"));
        self.program.groups[g.index()].step = Some(step);
        self.program.groups[g.index()].integrator = Some(info);
        if let Some(frozen) = without_plastic(&nt.dynamics) {
            let (k, _) = self.neuron_step(g, nt, &frozen, map, format!("{name}.step_frozen"));
            self.program.groups[g.index()].frozen_step = Some(k);
        }
        if !nt.reset.is_empty() {
            let mut ctx = self.ctx(map);
            let body = ctx.stmts(&nt.reset);
            let k = self.add_kernel(format!("{name}.reset"), KernelKind::Listed, Owner::Group(g), body, 0);
            self.program.groups[g.index()].reset = Some(k);
        }
        self.every_kernels(g, &nt.dynamics, map, &name);
    }

    /// A neuron step kernel over dynamics `d` (the type's, or the type's
    /// without its `plastic` equations): integration and threshold.
    fn neuron_step(
        &mut self,
        g: GroupId,
        nt: &hir::NeuronType,
        d: &hir::Dynamics,
        map: &VarMap,
        kernel: String,
    ) -> (KernelId, IntegratorInfo) {
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
        let mut diags = Vec::new();
        let info = integrate_into(
            &mut ctx,
            d,
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
        self.diags.extend(diags);
        (self.add_kernel(kernel, KernelKind::Step, Owner::Group(g), body, locals.next), info)
    }

    fn every_kernels(&mut self, g: GroupId, d: &hir::Dynamics, map: &VarMap, name: &str) {
        for (i, ev) in d.every.iter().enumerate() {
            let mut ctx = self.ctx(map);
            let body = ctx.stmts(&ev.body);
            let steps = ((ev.period / self.program.dt).round() as u64).max(1);
            let k = self.add_kernel(format!("{name}.every{i}"), KernelKind::Every, Owner::Group(g), body, 0);
            let group = &mut self.program.groups[g.index()];
            group.every.push((steps, k));
            if !ev.plastic {
                group.frozen_every.push((steps, k));
            }
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
    let sys = System { vars, not_refractory, dt: ctx.dt, column_names: &names, factor_rates: &[] };
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
            frozen_step: None,
            frozen_every: Vec::new(),
            integrator: None,
            spikes: false,
            units: units_of(&sig.dynamics),
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
            if let Some(frozen) = without_plastic(&sig.dynamics) {
                let (mut ctx, mut body, mut locals, mut diags) =
                    (self.ctx(map), Vec::new(), Locals::default(), Vec::new());
                let what = format!("signal `{}`", sig.name);
                integrate_into(&mut ctx, &frozen, map, None, &mut body, &mut locals, &what, &mut diags);
                let name = format!("{}.step_frozen", sig.name);
                let k = self.add_kernel(name, KernelKind::Step, Owner::Group(g), body, locals.next);
                self.program.groups[g.index()].frozen_step = Some(k);
            }
        }
        self.every_kernels(g, &sig.dynamics, map, &sig.name);
    }

    /// The column of param `k` of group `g`, made (holding its constant)
    /// if the param was folded.
    fn param_column(&mut self, g: usize, k: usize, name: &str, map: &mut VarMap) -> u32 {
        match map.params[k] {
            ParamVal::Column(c) => c,
            ParamVal::Const(x) => {
                let group = &mut self.program.groups[g];
                let c = group.columns.len() as u32;
                group.columns.push(Column { name: name.to_string(), role: ColumnRole::Param, init: Expr::Const(x) });
                map.params[k] = ParamVal::Column(c);
                c
            }
        }
    }

    /// Params that a phase sets are stored per neuron (a column the phase
    /// writes), before any kernel reads them.
    fn set_params_per_neuron(&mut self, exp: &hir::Experiment, pop_maps: &mut [VarMap]) {
        for set in exp.phases.iter().flat_map(|ph| &ph.sets) {
            if let hir::SetAction::Param { pop, param, .. } = set {
                let hir::PopulationKind::Neurons { type_id } =
                    self.model.networks[exp.network as usize].populations[*pop as usize].kind
                else {
                    continue;
                };
                let name = self.model.neurons[type_id as usize].dynamics.params[*param as usize].name.clone();
                self.param_column(*pop as usize, *param as usize, &name, &mut pop_maps[*pop as usize]);
            }
        }
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
                        // A constant param gets a column so it can be recorded.
                        _ => Some(self.param_column(g, v.index as usize, name, &mut pop_maps[g])),
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

/// The dynamics without their `plastic` equations (what a `plasticity off
/// all` phase integrates), or None when no equation is `plastic`.
fn without_plastic(d: &hir::Dynamics) -> Option<hir::Dynamics> {
    d.odes
        .iter()
        .any(|o| o.plastic)
        .then(|| hir::Dynamics { odes: d.odes.iter().filter(|o| !o.plastic).cloned().collect(), ..d.clone() })
}

/// `lastspike` (in steps) of a neuron that has not spiked yet: far enough in
/// the past that it is never refractory and `exp(-(t - lastspike)/tau)` is 0.
pub const NEVER_SPIKED: f64 = -1e12;

/// The SI unit of every param and state of some dynamics, by name (empty
/// for dimensionless ones).
pub(crate) fn units_of(d: &hir::Dynamics) -> Vec<(String, String)> {
    let unit = |ty: hir::Ty| match ty.dim() {
        Some(dim) if !dim.is_dimensionless() => dim.to_string(),
        _ => String::new(),
    };
    d.params
        .iter()
        .map(|p| (p.name.clone(), unit(p.ty)))
        .chain(d.states.iter().map(|s| (s.name.clone(), unit(s.ty))))
        .collect()
}
