//! Metrics of an experiment (`measure ...`), computed over what a run
//! recorded with the `hebb-analysis` crate. Each metric gives one headline
//! value for tables (column `<metric>.<population>`) and details for JSON.
//!
//! Windows: a metric `in PHASE` covers that phase, otherwise the whole run.
//! Parameters (bins, pairs, folds) are fixed here and reported in the
//! details; docs/metrics.md defines every metric.

use hebb_analysis as ha;
use hebb_ir::{BinOp, Expr, GroupId, Measure, MeasureTarget, Metric, Program, ProjectionId, Slot, Stmt, SynVar};
use hebb_runtime::record::Recordings;
use serde_json::{Value, json};

/// The result of one measure.
#[derive(Clone, Debug)]
pub struct MetricValue {
    /// `<metric>.<population>` or `<metric>.<pre>-<post>`, with `.<phase>`
    /// when the measure is restricted to a phase.
    pub column: String,
    pub value: f64,
    pub unit: &'static str,
    pub details: Value,
}

const FANO_BIN_S: f64 = 0.1;
const CORRELATION_BIN_S: f64 = 0.05;
const CORRELATION_PAIRS: usize = 2000;
const SYNCHRONY_BIN_S: f64 = 0.005;
const SPECTRUM_BIN_S: f64 = 0.001;
const CONTROL_BIN_S: f64 = 1.0;
const DRIFT_BLOCKS: usize = 4;
const FOLDS: usize = 5;
const MIN_ISIS: usize = 5;

/// Why a metric has no value (its details say so, and the value is NaN).
#[derive(Debug, thiserror::Error)]
pub enum MetricError {
    #[error("the phase was cut off by `--duration`")]
    PhaseCut,
    #[error("phase `{0}` did not run")]
    PhaseNotRun(String),
    #[error("the population's spikes were not recorded")]
    NotRecorded,
    #[error("no stimuli to be about")]
    NoStimuli,
    #[error("no presentations of the stimuli in the window")]
    NoPresentations,
    #[error("`control` needs a target")]
    NoTarget,
    #[error("no weights were taken at the end of the window")]
    NoWeights,
    #[error("the weights of every synapse were not recorded over the window")]
    NoWeightRecord,
    #[error("projection `{0}` has no synapses")]
    NoSynapses(String),
    #[error("{0}")]
    Analysis(#[from] ha::AnalysisError),
}

/// Computes every measure of the program. Errors of one metric (too few
/// presentations, an empty window, ...) become a NaN value with the reason
/// in its details; they do not stop the others.
pub fn compute(program: &Program, rec: &Recordings, simulated: f64) -> Vec<MetricValue> {
    program.measures.iter().map(|m| one(program, rec, m, simulated)).collect()
}

fn column(program: &Program, m: &Measure) -> String {
    let target = match m.target {
        MeasureTarget::Group(g) => program.groups[g.index()].name.clone(),
        MeasureTarget::Projection(p) => program.projections[p.index()].name.clone(),
    };
    match (&m.train_phase_name, &m.phase_name) {
        (Some(from), Some(ph)) => format!("{}.{target}.{from}-{ph}", m.metric.name()),
        (_, Some(ph)) => format!("{}.{target}.{ph}", m.metric.name()),
        _ => format!("{}.{target}", m.metric.name()),
    }
}

fn unit(metric: Metric) -> &'static str {
    match metric {
        Metric::Rates => "Hz",
        Metric::Spectrum => "Hz",
        Metric::Information => "bit",
        Metric::Decoding | Metric::Recall | Metric::Forgetting => "fraction",
        Metric::Control => "relative error",
        _ => "",
    }
}

fn one(program: &Program, rec: &Recordings, m: &Measure, simulated: f64) -> MetricValue {
    let col = column(program, m);
    let u = unit(m.metric);
    match value(program, rec, m, simulated) {
        Ok((v, details)) => MetricValue { column: col, value: v, unit: u, details },
        Err(e) => MetricValue { column: col, value: f64::NAN, unit: u, details: json!({ "error": e.to_string() }) },
    }
}

/// The measured window: the phase's, or the whole run.
fn window(program: &Program, rec: &Recordings, m: &Measure, simulated: f64) -> Result<ha::Window, MetricError> {
    match m.phase {
        Some(ph) => phase_window(program, rec, ph),
        None => Ok(ha::Window::new(0.0, simulated)?),
    }
}

/// The window phase `ph` ran in.
fn phase_window(program: &Program, rec: &Recordings, ph: u32) -> Result<ha::Window, MetricError> {
    let name = &program.phases.get(ph as usize).ok_or(MetricError::PhaseCut)?.name;
    let (_, t0, t1) =
        rec.phases.iter().find(|(n, _, _)| n == name).ok_or_else(|| MetricError::PhaseNotRun(name.clone()))?;
    Ok(ha::Window::new(*t0, *t1)?)
}

fn spikes(program: &Program, rec: &Recordings, g: GroupId) -> Result<ha::SpikeTrains, MetricError> {
    let n = program.groups[g.index()].size;
    let s = rec.spikes.iter().find(|s| s.group == g).ok_or(MetricError::NotRecorded)?;
    Ok(ha::SpikeTrains::new(n, s.times.clone(), s.indices.clone())?)
}

fn presentations(rec: &Recordings, stimuli: u32, w: ha::Window) -> Vec<ha::Presentation> {
    rec.presentations
        .iter()
        .filter(|p| p.stimuli == stimuli && p.t0 >= w.t0() && p.t1 <= w.t1() + 1e-12 && p.t1 > p.t0)
        .map(|p| ha::Presentation { pattern: p.pattern as usize, t0: p.t0, t1: p.t1 })
        .collect()
}

fn opt(x: Option<f64>) -> f64 {
    x.unwrap_or(f64::NAN)
}

/// A metric's headline value and its details.
type Measured = Result<(f64, Value), MetricError>;

fn value(program: &Program, rec: &Recordings, m: &Measure, simulated: f64) -> Measured {
    let w = window(program, rec, m, simulated)?;
    let seed = program.seed;
    let g = match m.target {
        MeasureTarget::Group(g) => g,
        MeasureTarget::Projection(p) if m.metric == Metric::SpectralRadius => {
            return spectral_radius(program, rec, p, w);
        }
        MeasureTarget::Projection(p) if m.metric == Metric::Assemblies => {
            return assemblies(program, rec, m, p, w);
        }
        MeasureTarget::Projection(p) => return weights(program, rec, m, p),
    };
    let st = spikes(program, rec, g)?;
    match m.metric {
        Metric::Rates => {
            let r = ha::rates(&st, w)?;
            Ok((r.mean_hz, json!(r)))
        }
        Metric::CvIsi => {
            let r = ha::cv_isi(&st, w, m.option("min_isis", MIN_ISIS as f64) as usize)?;
            Ok((opt(r.mean_cv), json!(r)))
        }
        Metric::Fano => {
            let r = ha::fano(&st, w, m.option("bin", FANO_BIN_S))?;
            Ok((opt(r.mean_fano), json!(r)))
        }
        Metric::Correlation => {
            let cfg = ha::CorrelationConfig {
                bin_width_s: m.option("bin", CORRELATION_BIN_S),
                n_pairs: m.option("pairs", CORRELATION_PAIRS as f64) as usize,
                seed,
            };
            let r = ha::correlation(&st, w, &cfg)?;
            Ok((opt(r.mean_correlation), json!(r)))
        }
        Metric::Synchrony => {
            let r = ha::synchrony(&st, w, m.option("bin", SYNCHRONY_BIN_S))?;
            Ok((opt(r.chi), json!(r)))
        }
        Metric::Spectrum => spectrum(&st, w, m.option("bin", SPECTRUM_BIN_S)),
        Metric::Information | Metric::Decoding | Metric::Drift | Metric::NoiseCorrelation | Metric::StimulusFano => {
            coding(rec, m, &st, w, seed)
        }
        Metric::Recall | Metric::Similarity | Metric::Forgetting => across_phases(program, rec, m, &st, w, seed),
        Metric::Control => control(m, &st, w),
        Metric::Balance => balance(rec, m, g, w),
        Metric::Weights | Metric::SpectralRadius | Metric::Assemblies => {
            unreachable!("weights, spectral radii and assemblies measure projections")
        }
    }
}

/// The population rate's spectrum: its peak and the power in the usual
/// bands.
fn spectrum(st: &ha::SpikeTrains, w: ha::Window, bin: f64) -> Measured {
    let rate = ha::population_rate(st, w, bin)?;
    // Segments of about 1 s (resolution 1 Hz), fewer bins for short windows.
    let seg = (rate.len() / 2).clamp(16, 1024);
    let bands = [(1.0, 4.0), (4.0, 8.0), (8.0, 13.0), (13.0, 30.0), (30.0, 80.0), (80.0, 200.0)];
    let s = ha::spectrum(ha::RateSeries::new(&rate, bin).starting_at(w.t0()), seg, &bands)?;
    let band_powers: Vec<Value> =
        s.band_powers.iter().map(|b| json!({ "lo_hz": b.lo_hz, "hi_hz": b.hi_hz, "power": b.power })).collect();
    Ok((
        opt(s.peak_frequency_hz),
        json!({ "peak_frequency_hz": s.peak_frequency_hz, "band_powers": band_powers, "resolution_hz": s.resolution_hz, "segments": s.n_segments }),
    ))
}

/// Stimulus coding over the window's presentations: information,
/// decoding accuracy or drift.
fn coding(rec: &Recordings, m: &Measure, st: &ha::SpikeTrains, w: ha::Window, seed: u64) -> Measured {
    let about = m.about.ok_or(MetricError::NoStimuli)?;
    let pres = presentations(rec, about, w);
    if pres.is_empty() {
        return Err(MetricError::NoPresentations);
    }
    let cfg = ha::DecoderConfig { n_folds: m.option("folds", FOLDS as f64) as usize, seed };
    Ok(match m.metric {
        Metric::Information => {
            let shuffles = m.option("shuffles", ha::DEFAULT_SHUFFLES as f64) as usize;
            let r = ha::mutual_information_with(&ha::response_counts(st, &pres)?, &cfg, shuffles)?;
            let mut details = json!(r);
            if r.few_trials {
                details["warning"] = json!(format!(
                    "{:.1} test trials per pattern for {} patterns (fewer than {} × patterns): the bias \
                     corrections are unreliable; the shuffle-corrected value is reported",
                    r.trials_per_pattern,
                    r.n_patterns,
                    ha::TRIALS_PER_PATTERN_FACTOR
                ));
            }
            (r.mi_bits, details)
        }
        Metric::NoiseCorrelation => {
            let pairs = m.option("pairs", CORRELATION_PAIRS as f64) as usize;
            let r = ha::signal_noise_correlations(&ha::response_counts(st, &pres)?, pairs, seed)?;
            (opt(r.noise_correlation), json!(r))
        }
        Metric::StimulusFano => {
            let r = ha::stimulus_fano(&ha::response_counts(st, &pres)?, seed)?;
            (opt(r.mean_matched_fano), json!(r))
        }
        Metric::Decoding => {
            let r = ha::decoding(st, &pres, &cfg)?;
            (
                r.accuracy,
                json!({ "accuracy": r.accuracy, "chance_level": r.chance_level, "n_trials": r.n_trials, "n_patterns": r.n_patterns, "n_folds": r.n_folds }),
            )
        }
        _ => {
            // The similarity of the code in the first and second half of
            // the window's presentations (grand mean removed, with its
            // noise ceiling); the raw block correlations in details.
            let half = pres.len() / 2;
            let (a, b) = (ha::response_counts(st, &pres[..half])?, ha::response_counts(st, &pres[half..])?);
            let s = ha::pattern_similarity(&a, &b)?;
            let blocks = ha::drift(st, &pres, DRIFT_BLOCKS).ok();
            let mut details = json!(s);
            details["raw_blocks"] = json!(
                blocks.map(|r| json!({ "first_last": r.first_last, "adjacent": r.adjacent, "n_blocks": r.n_blocks }))
            );
            (opt(s.similarity), details)
        }
    })
}

/// `recall` (a readout fixed in the `from` phase, tested in the measured
/// one; the test phase's own cross-validated accuracy beside it) and
/// `similarity` (of the code in the two phases).
fn across_phases(
    program: &Program,
    rec: &Recordings,
    m: &Measure,
    st: &ha::SpikeTrains,
    w: ha::Window,
    seed: u64,
) -> Measured {
    let about = m.about.ok_or(MetricError::NoStimuli)?;
    let train_w = phase_window(program, rec, m.train_phase.ok_or(MetricError::PhaseCut)?)?;
    let (train, test) = (presentations(rec, about, train_w), presentations(rec, about, w));
    if train.is_empty() || test.is_empty() {
        return Err(MetricError::NoPresentations);
    }
    let (train, test) = (ha::response_counts(st, &train)?, ha::response_counts(st, &test)?);
    if m.metric == Metric::Similarity {
        let r = ha::pattern_similarity(&train, &test)?;
        return Ok((opt(r.similarity), json!(r)));
    }
    let r = ha::fixed_readout(&train, &test)?;
    let folds = m.option("folds", FOLDS as f64) as usize;
    let cfg = ha::DecoderConfig { n_folds: folds, seed };
    if m.metric == Metric::Forgetting {
        // What the code lost: its accuracy when the readout was fitted
        // (cross-validated within the `from` phase) minus the readout's
        // accuracy later.
        let before = ha::decode(&train, &cfg)?.accuracy;
        return Ok((
            before - r.accuracy,
            json!({
                "accuracy_before": before, "recall": r.accuracy, "chance_level": r.chance_level,
                "n_train": r.n_train, "n_test": r.n_test, "n_patterns": r.n_patterns,
            }),
        ));
    }
    let within = ha::decode(&test, &cfg).ok().map(|d| d.accuracy);
    Ok((
        r.accuracy,
        json!({
            "accuracy": r.accuracy, "chance_level": r.chance_level, "n_train": r.n_train, "n_test": r.n_test,
            "n_patterns": r.n_patterns, "within_phase_accuracy": within,
        }),
    ))
}

/// How well the population rate is held at its target.
fn control(m: &Measure, st: &ha::SpikeTrains, w: ha::Window) -> Measured {
    let target = m.target_rate.ok_or(MetricError::NoTarget)?;
    let bin = m.option("bin", CONTROL_BIN_S);
    let tolerance = m.option("tolerance", 0.1);
    let rate = ha::population_rate(st, w, bin)?;
    let cfg = ha::ControlConfig {
        target_hz: target,
        window: w,
        perturbation_time_s: Some(m.perturbation.unwrap_or(w.t0())),
        tolerance,
        hold_s: 0.0,
    };
    let r = ha::control_quality(ha::RateSeries::new(&rate, bin).starting_at(w.t0()), &cfg)?;
    // The value: each neuron's error over the late half of the window
    // (homeostatic rules target each neuron); the population's in details.
    let per = ha::per_neuron_control(st, w, target, tolerance, m.option("late", 0.5))?;
    let mut details = json!(r);
    details["population_mean_rel_error"] = json!(r.mean_rel_error);
    details["per_neuron"] = json!(per);
    let t_p = m.perturbation.unwrap_or(w.t0());
    details["settling"] = json!(ha::per_neuron_settling(st, w, t_p, target, tolerance, bin).ok());
    Ok((per.mean_rel_error, details))
}

/// The constant `hi` of a `w = min(max(..., lo), hi)` (a `clip`) in the
/// projection's kernels, if any.
fn clip_bound(program: &Program, p: ProjectionId) -> Option<f64> {
    let proj = &program.projections[p.index()];
    let Some(SynVar::Column(wcol)) = proj.weight else { return None };
    let mut found = None;
    for k in [proj.on_pre, proj.on_post].into_iter().flatten().chain(proj.every.iter().map(|e| e.1)) {
        for s in &program.kernels[k.index()].body {
            if let Stmt::Store(Slot::Own(c), Expr::Binary(BinOp::Min, _, hi)) = s
                && *c == wcol
                && let Some(h) = hi.as_const()
            {
                found = Some(found.map_or(h, |f: f64| f.max(h)));
            }
        }
    }
    found
}

/// Weights at the end of the window (a phase's end, or the run's), with
/// the change since the previous phase.
fn weights(program: &Program, rec: &Recordings, m: &Measure, p: ProjectionId) -> Result<(f64, Value), MetricError> {
    let snaps: Vec<&(ProjectionId, u32, Vec<f64>)> =
        rec.weights_at_phase_end.iter().filter(|(q, _, _)| *q == p).collect();
    let at = match m.phase {
        Some(ph) => snaps.iter().position(|s| s.1 == ph),
        None => snaps.len().checked_sub(1),
    }
    .ok_or(MetricError::NoWeights)?;
    let w = &snaps[at].2;
    let previous = at.checked_sub(1).map(|k| snaps[k].2.as_slice());
    let proj = &program.projections[p.index()];
    // Bounds: the upper bound the rule clips the weight to, else the range.
    let max = w.iter().copied().fold(0.0f64, f64::max);
    let hi = clip_bound(program, p).filter(|b| *b >= max).unwrap_or(if max > 0.0 { max } else { 1.0 });
    let cfg = ha::WeightConfig { lo: 0.0, hi, n_bins: 20, bound_tol: 1e-3 };
    if w.is_empty() {
        return Err(MetricError::NoSynapses(proj.name.clone()));
    }
    let r = ha::weight_stats(w, &cfg, previous)?;
    Ok((r.mean, json!(r)))
}

/// The full weight record of projection `p` (every synapse): the record
/// and its weight values, samples × synapses.
fn weight_record(
    rec: &Recordings,
    p: ProjectionId,
) -> Result<(&hebb_runtime::record::SynapseRecord, &[f64]), MetricError> {
    rec.synapses
        .iter()
        .filter(|r| r.proj == p && r.sample.is_none())
        .find_map(|r| r.vars.iter().find(|v| v.0 == hebb_ir::WEIGHT).map(|v| (r, v.2.as_slice())))
        .ok_or(MetricError::NoWeightRecord)
}

/// Within- and between-assembly weights of a recurrent projection at the
/// last recorded sample in the window, the assemblies from the responses
/// to the stimuli presented in the window.
fn assemblies(program: &Program, rec: &Recordings, m: &Measure, p: ProjectionId, w: ha::Window) -> Measured {
    let proj = &program.projections[p.index()];
    let st = spikes(program, rec, proj.post.group)?;
    let about = m.about.ok_or(MetricError::NoStimuli)?;
    let pres = presentations(rec, about, w);
    if pres.is_empty() {
        return Err(MetricError::NoPresentations);
    }
    let (r, values) = weight_record(rec, p)?;
    let n = r.pre.len();
    let k = r
        .times
        .iter()
        .rposition(|t| *t >= w.t0() - 1e-12 && *t <= w.t1() + 1e-12)
        .filter(|k| values.len() >= (k + 1) * n)
        .ok_or(MetricError::NoWeightRecord)?;
    let a = ha::assembly_weights(&ha::response_counts(&st, &pres)?, &r.pre, &r.post, &values[k * n..(k + 1) * n])?;
    let mut details = json!(a);
    details["t"] = json!(r.times[k]);
    Ok((opt(a.ratio), details))
}

/// The spectral radius of a recurrent projection's weight matrix at every
/// recorded sample in the window (the headline: the last), with the mean
/// weight and the fraction of weights at the upper bound at each sample.
fn spectral_radius(program: &Program, rec: &Recordings, p: ProjectionId, w: ha::Window) -> Measured {
    let proj = &program.projections[p.index()];
    let n = program.groups[proj.post.group.index()].size;
    let (r, values) = weight_record(rec, p)?;
    let m = r.pre.len();
    if m == 0 {
        return Err(MetricError::NoSynapses(proj.name.clone()));
    }
    let hi = clip_bound(program, p);
    let (mut times, mut radii, mut structure, mut means, mut at_bound, mut converged) =
        (vec![], vec![], vec![], vec![], vec![], true);
    for (k, &t) in r.times.iter().enumerate() {
        if t < w.t0() - 1e-12 || t > w.t1() + 1e-12 || values.len() < (k + 1) * m {
            continue;
        }
        let row = &values[k * m..(k + 1) * m];
        let s = ha::spectral_radius(n, &r.pre, &r.post, row)?;
        converged &= s.converged;
        times.push(t);
        radii.push(s.radius);
        structure.push(s.structure);
        means.push(row.iter().sum::<f64>() / m as f64);
        at_bound.push(hi.map(|h| row.iter().filter(|x| **x >= h * (1.0 - 1e-3)).count() as f64 / m as f64));
    }
    let last = *radii.last().ok_or(MetricError::NoWeightRecord)?;
    Ok((
        last,
        json!({
            "t": times, "radius": radii, "structure": structure, "mean_weight": means,
            "upper_bound": hi, "fraction_at_upper_bound": at_bound, "converged": converged,
            "neurons": n, "synapses": m,
        }),
    ))
}

/// E/I balance of a population from its two recorded input variables,
/// over the samples in the window.
fn balance(rec: &Recordings, m: &Measure, g: GroupId, w: ha::Window) -> Measured {
    let ((e_name, e_col), (i_name, i_col)) = m.inputs.clone().ok_or(MetricError::NotRecorded)?;
    let (r, e, i) = rec
        .states
        .iter()
        .filter(|r| r.group == g)
        .find_map(|r| {
            let e = r.vars.iter().find(|v| v.1 == e_col)?;
            let i = r.vars.iter().find(|v| v.1 == i_col)?;
            Some((r, &e.2, &i.2))
        })
        .ok_or(MetricError::NotRecorded)?;
    let n = r.indices.len();
    let rows: Vec<usize> = (0..r.times.len())
        .filter(|&k| w.contains(r.times[k]) && e.len() >= (k + 1) * n && i.len() >= (k + 1) * n)
        .collect();
    let pick = |x: &[f64]| rows.iter().flat_map(|&k| x[k * n..(k + 1) * n].iter().copied()).collect::<Vec<f64>>();
    let b = ha::ei_balance(&pick(e), &pick(i), n)?;
    let mut details = json!(b);
    details["excitatory"] = json!(e_name);
    details["inhibitory"] = json!(i_name);
    Ok((opt(b.across_neurons), details))
}
