//! Lowering of an experiment's protocol: its phases (with their `set`
//! actions), stimulus sets, abort conditions and measures.

use crate::{Lowerer, ParamVal, VarMap};
use hebb_ir::symbolic::fold;
use hebb_ir::{Abort, GroupId, Measure, MeasureTarget, Metric, Phase, ProjectionId, Record, SetAction, Stimuli};
use hebb_lang::hir;

impl Lowerer<'_> {
    /// Phases, stimuli, aborts and metrics; spikes of measured populations
    /// are recorded.
    pub(crate) fn experiment(&mut self, exp: &hir::Experiment, pop_maps: &[VarMap], duration: Option<f64>) {
        self.phases(exp, pop_maps, duration);
        self.stimuli(exp);
        self.aborts(exp);
        self.measures(exp);
    }

    /// The phases one after another; they set the number of steps unless a
    /// `--duration` does.
    fn phases(&mut self, exp: &hir::Experiment, pop_maps: &[VarMap], duration: Option<f64>) {
        let mut start = 0;
        for ph in &exp.phases {
            let n = self.steps(ph.duration);
            let sets = ph.sets.iter().filter_map(|s| self.set_action(s, pop_maps)).collect();
            self.program.phases.push(Phase {
                name: ph.name.clone(),
                start,
                steps: n,
                plasticity: ph.plasticity,
                freeze_neurons: ph.freeze_neurons,
                present: ph.present.map(|(s, each)| (s, self.steps(each))),
                cue: ph.cue,
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
                freeze_neurons: false,
                present: None,
                cue: 1.0,
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
    }

    /// A `set` at the start of a phase; `None` for a state without a column.
    fn set_action(&self, s: &hir::SetAction, pop_maps: &[VarMap]) -> Option<SetAction> {
        match s {
            hir::SetAction::State { pop, state, value } => {
                let map = &pop_maps[*pop as usize];
                let col = map.states[*state as usize]?;
                let mut ctx = self.ctx(map);
                Some(SetAction::Column { group: GroupId(*pop), column: col, value: fold(&ctx.expr(value)) })
            }
            hir::SetAction::Param { pop, param, value } => {
                let map = &pop_maps[*pop as usize];
                let ParamVal::Column(col) = map.params[*param as usize] else {
                    unreachable!("a param set in a phase is stored per neuron (lower::set_params_per_neuron)")
                };
                let mut ctx = self.ctx(map);
                Some(SetAction::Column { group: GroupId(*pop), column: col, value: fold(&ctx.expr(value)) })
            }
            hir::SetAction::Rate { pop, rate } => Some(SetAction::Rate { group: GroupId(*pop), rate: *rate }),
            hir::SetAction::Signal { signal, state, value } => {
                let (g, map) = &self.signals[*signal as usize];
                let col = map.states[*state as usize]?;
                let mut ctx = self.ctx(map);
                let v = fold(&ctx.expr(value));
                Some(SetAction::Column { group: *g, column: col, value: v })
            }
        }
    }

    fn stimuli(&mut self, exp: &hir::Experiment) {
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
    }

    fn aborts(&mut self, exp: &hir::Experiment) {
        for a in &exp.aborts {
            self.program.aborts.push(Abort {
                group: GroupId(a.pop),
                above: a.above,
                inclusive: a.inclusive,
                threshold: a.threshold,
            });
        }
    }

    /// The measures; each measured population's spikes are recorded (once).
    fn measures(&mut self, exp: &hir::Experiment) {
        for m in &exp.measures {
            // Spikes of the measured population (or of the one whose
            // responses define a projection's assemblies) are recorded.
            let spiking = match m.target {
                hir::MeasureTarget::Population(g) => Some(g),
                hir::MeasureTarget::Projection(p) if m.metric == hir::Metric::Assemblies => {
                    Some(self.program.projections[p as usize].post.group.0)
                }
                hir::MeasureTarget::Projection(_) => None,
            };
            if let Some(g) = spiking
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
                train_phase: m.train_phase,
                train_phase_name: m.train_phase.map(|k| exp.phases[k as usize].name.clone()),
                target_rate: m.target_rate,
                perturbation: m.perturbation,
                options: m.options.clone(),
                inputs: m.inputs.and_then(|(e, i)| {
                    let hir::MeasureTarget::Population(g) = m.target else { return None };
                    let group = &self.program.groups[g as usize];
                    let hir::PopulationKind::Neurons { type_id } =
                        self.model.networks[exp.network as usize].populations[g as usize].kind
                    else {
                        return None;
                    };
                    let states = &self.model.neurons[type_id as usize].dynamics.states;
                    let column = |k: u32| {
                        let name = states[k as usize].name.clone();
                        let c = group.column(&name)? as u32;
                        Some((name, c))
                    };
                    Some((column(e)?, column(i)?))
                }),
            });
        }
    }
}

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
        hir::Metric::Recall => Metric::Recall,
        hir::Metric::Similarity => Metric::Similarity,
        hir::Metric::NoiseCorrelation => Metric::NoiseCorrelation,
        hir::Metric::StimulusFano => Metric::StimulusFano,
        hir::Metric::Forgetting => Metric::Forgetting,
        hir::Metric::Drift => Metric::Drift,
        hir::Metric::Weights => Metric::Weights,
        hir::Metric::SpectralRadius => Metric::SpectralRadius,
        hir::Metric::Assemblies => Metric::Assemblies,
        hir::Metric::Control => Metric::Control,
        hir::Metric::Balance => Metric::Balance,
    }
}
