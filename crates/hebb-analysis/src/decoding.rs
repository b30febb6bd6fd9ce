//! Population response vectors per stimulus presentation, and a cross-validated nearest-class-mean
//! decoder of pattern identity.

use serde::{Deserialize, Serialize};

use crate::error::{AnalysisError, Result, check_finite};
use crate::rng::SplitMix64;
use crate::spikes::{Presentation, SpikeTrains};

/// Default number of cross-validation folds.
pub const DEFAULT_FOLDS: usize = 5;

/// Stream id for the fold assignment (see [`SplitMix64::for_purpose`]).
const FOLD_STREAM: u64 = 2;

/// One response vector per trial: `values[t · n_features + i]` is feature i (normally the spike
/// count of neuron i) on trial t, whose stimulus was `patterns[t]`. Trials are in chronological
/// order (which [`crate::drift`] relies on).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Responses {
    n_features: usize,
    values: Vec<f64>,
    patterns: Vec<usize>,
}

impl Responses {
    /// Validates and builds from a row-major trial × feature matrix. Values must be finite; they
    /// need not be counts (rates or any other features work with every analysis here).
    pub fn new(n_features: usize, values: Vec<f64>, patterns: Vec<usize>) -> Result<Self> {
        let expected = patterns.len().checked_mul(n_features).ok_or_else(|| {
            AnalysisError::Invalid(format!("{} trials × {n_features} features overflows", patterns.len()))
        })?;
        if values.len() != expected {
            return Err(AnalysisError::LengthMismatch {
                what: format!("response matrix ({} trials × {n_features} features)", patterns.len()),
                expected,
                found: values.len(),
            });
        }
        for (k, &v) in values.iter().enumerate() {
            check_finite(|| format!("response value #{k}"), v)?;
        }
        Ok(Self { n_features, values, patterns })
    }

    pub fn n_trials(&self) -> usize {
        self.patterns.len()
    }

    pub fn n_features(&self) -> usize {
        self.n_features
    }

    pub fn patterns(&self) -> &[usize] {
        &self.patterns
    }

    /// Response vector of trial `t`, or `None` if `t >= n_trials()`.
    pub fn trial(&self, t: usize) -> Option<&[f64]> {
        (t < self.n_trials()).then(|| self.row(t))
    }

    /// Response vector of trial `t`; callers inside the crate only pass `t < n_trials()`.
    pub(crate) fn row(&self, t: usize) -> &[f64] {
        &self.values[t * self.n_features..(t + 1) * self.n_features]
    }

    /// The same responses with different trial labels (used for the shuffled-label control).
    /// The labels, to permute in place.
    pub(crate) fn patterns_mut(&mut self) -> &mut [usize] {
        &mut self.patterns
    }

    /// The trials `keep` (indices, in order).
    pub(crate) fn subset(&self, keep: &[usize]) -> Self {
        let values = keep.iter().flat_map(|&t| self.row(t).iter().copied()).collect();
        Self { n_features: self.n_features, values, patterns: keep.iter().map(|&t| self.patterns[t]).collect() }
    }

    pub(crate) fn with_patterns(&self, patterns: Vec<usize>) -> Self {
        debug_assert_eq!(patterns.len(), self.patterns.len());
        Self { n_features: self.n_features, values: self.values.clone(), patterns }
    }
}

/// Spike-count response vectors: for each presentation, the number of spikes of every neuron in
/// its window `[t0, t1)`.
///
/// Presentations are sorted by onset `t0` (stably) so trial order is chronological. Raw counts
/// are used, not rates: with presentations of unequal length the count also encodes duration,
/// so give all presentations of an experiment the same length.
///
/// Errors if there are no presentations, if a presentation window is invalid, or if the
/// population has no neurons.
pub fn response_counts(spikes: &SpikeTrains, presentations: &[Presentation]) -> Result<Responses> {
    if presentations.is_empty() {
        return Err(AnalysisError::Invalid("no presentations".into()));
    }
    if spikes.n_neurons() == 0 {
        return Err(AnalysisError::Invalid("population has no neurons".into()));
    }
    let mut order: Vec<&Presentation> = presentations.iter().collect();
    for p in &order {
        p.window()?;
    }
    order.sort_by(|a, b| a.t0.total_cmp(&b.t0));
    let mut values = Vec::with_capacity(order.len() * spikes.n_neurons());
    for p in &order {
        values.extend(spikes.counts_in(p.t0, p.t1).into_iter().map(|c| c as f64));
    }
    Responses::new(spikes.n_neurons(), values, order.iter().map(|p| p.pattern).collect())
}

/// Parameters shared by [`decode`] and [`crate::mutual_information`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecoderConfig {
    /// Number of cross-validation folds k (≥ 2).
    pub n_folds: usize,
    /// Seed of the stratified fold assignment (and, for information, of the label shuffle).
    pub seed: u64,
}

impl Default for DecoderConfig {
    fn default() -> Self {
        Self { n_folds: DEFAULT_FOLDS, seed: 0 }
    }
}

/// Result of [`decode`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecodingResult {
    /// Fraction of trials whose held-out prediction equals the true pattern.
    pub accuracy: f64,
    /// Fraction of the most frequent pattern — the accuracy of always guessing it. Equals 1/K
    /// for balanced designs.
    pub chance_level: f64,
    pub n_trials: usize,
    pub n_patterns: usize,
    pub n_folds: usize,
    /// Pattern id of each class index, ascending.
    pub patterns: Vec<usize>,
    /// `confusion[s][p]` = number of trials of class s predicted as class p.
    pub confusion: Vec<Vec<u64>>,
}

/// k-fold cross-validated nearest-class-mean decoder of pattern identity.
///
/// **Classifier.** For each fold, features are z-scored with the mean μ_i and (population) sd σ_i
/// of the *training* trials only, features with σ_i = 0 in training are dropped, the class means
/// m_c of the z-scored training vectors are formed, and each held-out trial z is assigned to
/// argmin_c ‖z − m_c‖² (ties go to the lower class index). This is a linear classifier — the
/// boundary between two classes is the hyperplane bisecting their means — equivalent to LDA with
/// a diagonal, pooled-total covariance. It needs no regularisation parameter and stays well
/// posed when neurons far outnumber trials, which full LDA does not.
///
/// **Folds.** Stratified and deterministic: within each class (in class order) the trials are
/// shuffled with a generator seeded from `seed`, then dealt round-robin to folds, continuing the
/// dealing position across classes so fold sizes differ by at most one.
///
/// **Chance.** Reported as the majority-class fraction (= 1/K when balanced). Note that held-out
/// nearest-mean decoding is slightly pessimistic on uninformative data (the held-out trial never
/// pulls its own class mean towards itself), so accuracy may fall a little below chance.
///
/// Errors with "need at least 2 patterns" for fewer than 2 distinct patterns, and if `n_folds < 2`
/// or some pattern has fewer than 2 trials (it could then be absent from a training set).
pub fn decode(responses: &Responses, config: &DecoderConfig) -> Result<DecodingResult> {
    let classes = Classes::of(responses.patterns())?;
    if config.n_folds < 2 {
        return Err(AnalysisError::Invalid(format!("need at least 2 folds, got {}", config.n_folds)));
    }
    let folds = stratified_folds(&classes, config.n_folds, config.seed);
    let k = classes.ids.len();
    let mut confusion = vec![vec![0u64; k]; k];
    for f in 0..config.n_folds {
        let (train, test): (Vec<usize>, Vec<usize>) = (0..responses.n_trials()).partition(|&t| folds[t] != f);
        if test.is_empty() {
            continue;
        }
        let model = NearestMean::fit(responses, &classes.of_trial, k, &train);
        for t in test {
            confusion[classes.of_trial[t]][model.predict(responses.row(t))] += 1;
        }
    }
    let n = responses.n_trials();
    let correct: u64 = (0..k).map(|c| confusion[c][c]).sum();
    let largest = classes.sizes.iter().copied().max().unwrap_or(0);
    Ok(DecodingResult {
        accuracy: correct as f64 / n as f64,
        chance_level: largest as f64 / n as f64,
        n_trials: n,
        n_patterns: k,
        n_folds: config.n_folds,
        patterns: classes.ids,
        confusion,
    })
}

/// Result of [`fixed_readout`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadoutResult {
    /// Fraction of test trials whose prediction equals the true pattern.
    pub accuracy: f64,
    /// Majority-class fraction of the test trials (1/K when balanced).
    pub chance_level: f64,
    pub n_train: usize,
    pub n_test: usize,
    pub n_patterns: usize,
}

/// A readout fixed in one phase and tested in another: the nearest-class-mean decoder of
/// [`decode`] (z-scored with the training trials' means and sds) fitted on *all* of `train`, then
/// applied unchanged to every trial of `test`. Recall of a code learnt earlier: an unchanged code
/// keeps its within-phase accuracy, a code that moved falls towards chance.
///
/// Test trials of a pattern absent from `train` count as errors. Errors as [`decode`] for the
/// training labels, and if `test` has no trials or a different number of features.
pub fn fixed_readout(train: &Responses, test: &Responses) -> Result<ReadoutResult> {
    let classes = Classes::of(train.patterns())?;
    if test.n_trials() == 0 {
        return Err(AnalysisError::Invalid("the test phase has no presentations".into()));
    }
    if test.n_features() != train.n_features() {
        return Err(AnalysisError::LengthMismatch {
            what: "test response vectors".into(),
            expected: train.n_features(),
            found: test.n_features(),
        });
    }
    let k = classes.ids.len();
    let all: Vec<usize> = (0..train.n_trials()).collect();
    let model = NearestMean::fit(train, &classes.of_trial, k, &all);
    let mut correct = 0usize;
    let mut counts: Vec<(usize, usize)> = Vec::new();
    for t in 0..test.n_trials() {
        let truth = test.patterns()[t];
        if classes.ids[model.predict(test.row(t))] == truth {
            correct += 1;
        }
        match counts.iter_mut().find(|(p, _)| *p == truth) {
            Some((_, n)) => *n += 1,
            None => counts.push((truth, 1)),
        }
    }
    let largest = counts.iter().map(|(_, n)| *n).max().unwrap_or(0);
    Ok(ReadoutResult {
        accuracy: correct as f64 / test.n_trials() as f64,
        chance_level: largest as f64 / test.n_trials() as f64,
        n_train: train.n_trials(),
        n_test: test.n_trials(),
        n_patterns: k,
    })
}

/// Convenience: [`response_counts`] followed by [`decode`].
pub fn decoding(
    spikes: &SpikeTrains,
    presentations: &[Presentation],
    config: &DecoderConfig,
) -> Result<DecodingResult> {
    decode(&response_counts(spikes, presentations)?, config)
}

/// Pattern ids mapped to dense class indices.
pub(crate) struct Classes {
    /// Distinct pattern ids, ascending; class c has id `ids[c]`.
    pub(crate) ids: Vec<usize>,
    /// Class index of every trial.
    pub(crate) of_trial: Vec<usize>,
    /// Number of trials per class.
    pub(crate) sizes: Vec<usize>,
}

impl Classes {
    /// Validates the labels for decoding: ≥ 2 patterns, each with ≥ 2 trials.
    pub(crate) fn of(patterns: &[usize]) -> Result<Self> {
        let mut ids = patterns.to_vec();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() < 2 {
            return Err(AnalysisError::TooFewPatterns { found: ids.len() });
        }
        let of_trial: Vec<usize> = patterns.iter().map(|p| ids.partition_point(|id| id < p)).collect();
        let mut sizes = vec![0usize; ids.len()];
        for &c in &of_trial {
            sizes[c] += 1;
        }
        if let Some(c) = sizes.iter().position(|&s| s < 2) {
            return Err(AnalysisError::Invalid(format!(
                "pattern {} has only {} presentation(s); need at least 2 per pattern for cross-validation",
                ids[c], sizes[c]
            )));
        }
        Ok(Self { ids, of_trial, sizes })
    }
}

/// Fold index of every trial (see [`decode`] for the scheme).
fn stratified_folds(classes: &Classes, n_folds: usize, seed: u64) -> Vec<usize> {
    let mut g = SplitMix64::for_purpose(seed, FOLD_STREAM);
    let mut folds = vec![0usize; classes.of_trial.len()];
    let mut deal = 0usize;
    for c in 0..classes.ids.len() {
        let mut members: Vec<usize> = (0..classes.of_trial.len()).filter(|&t| classes.of_trial[t] == c).collect();
        g.shuffle(&mut members);
        for t in members {
            folds[t] = deal % n_folds;
            deal += 1;
        }
    }
    folds
}

/// A fitted nearest-class-mean model in z-scored feature space.
struct NearestMean {
    /// Kept features with their training mean and 1/sd.
    features: Vec<(usize, f64, f64)>,
    /// Class means over kept features (row per class); `None` if the class has no training trial.
    means: Vec<Option<Vec<f64>>>,
}

impl NearestMean {
    fn fit(r: &Responses, class_of: &[usize], k: usize, train: &[usize]) -> Self {
        let nf = r.n_features();
        let n = train.len() as f64;
        // μ_i and σ_i² = (1/n) Σ (x_i − μ_i)² over training trials (two passes for stability).
        let mut mu = vec![0.0; nf];
        for &t in train {
            for (m, &x) in mu.iter_mut().zip(r.row(t)) {
                *m += x;
            }
        }
        mu.iter_mut().for_each(|m| *m /= n);
        let mut var = vec![0.0; nf];
        for &t in train {
            for ((v, &x), &m) in var.iter_mut().zip(r.row(t)).zip(&mu) {
                *v += (x - m) * (x - m);
            }
        }
        let features: Vec<(usize, f64, f64)> = (0..nf)
            .filter_map(|i| {
                let sd = (var[i] / n).sqrt();
                // A feature constant over training trials carries no information and cannot be
                // z-scored; the relative threshold guards against rounding residue.
                (sd > 1e-12 * (mu[i].abs() + 1.0)).then(|| (i, mu[i], 1.0 / sd))
            })
            .collect();
        let mut sums = vec![vec![0.0; features.len()]; k];
        let mut counts = vec![0usize; k];
        for &t in train {
            let c = class_of[t];
            counts[c] += 1;
            let x = r.row(t);
            for (s, &(i, m, inv_sd)) in sums[c].iter_mut().zip(&features) {
                *s += (x[i] - m) * inv_sd;
            }
        }
        let means = sums
            .into_iter()
            .zip(counts)
            .map(|(s, c)| (c > 0).then(|| s.into_iter().map(|v| v / c as f64).collect()))
            .collect();
        Self { features, means }
    }

    /// Squared distance of `x` (z-scored) to each class mean; `None` for
    /// a class without training trials.
    fn distances(&self, x: &[f64]) -> Vec<Option<f64>> {
        let z: Vec<f64> = self.features.iter().map(|&(i, m, inv_sd)| (x[i] - m) * inv_sd).collect();
        self.means
            .iter()
            .map(|mean| mean.as_ref().map(|mean| z.iter().zip(mean).map(|(a, b)| (a - b) * (a - b)).sum()))
            .collect()
    }

    fn predict(&self, x: &[f64]) -> usize {
        let z: Vec<f64> = self.features.iter().map(|&(i, m, inv_sd)| (x[i] - m) * inv_sd).collect();
        let mut best = (0usize, f64::INFINITY);
        for (c, mean) in self.means.iter().enumerate() {
            let Some(mean) = mean else { continue };
            let d: f64 = z.iter().zip(mean).map(|(a, b)| (a - b) * (a - b)).sum();
            if d < best.1 {
                best = (c, d);
            }
        }
        best.0
    }
}

/// Result of [`posterior_information`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PosteriorInformation {
    /// H(S) + ⟨log₂ q(s_true | r)⟩ over cross-validated test trials, bits:
    /// for any model posterior q this is, in expectation, a lower bound on
    /// I(S; R) (Barber & Agakov 2003), since the cross-entropy of q is at
    /// least the true conditional entropy H(S | R). It can be negative when
    /// q is badly calibrated.
    pub bound_bits: f64,
    /// ⟨Σ_s q(s | r) log₂ [q(s | r) / p(s)]⟩ over test trials, bits: the
    /// information the posterior itself carries (Quian Quiroga & Panzeri
    /// 2009); it equals I(S; R) only if q is the true posterior and is not
    /// a bound.
    pub posterior_bits: f64,
    /// H(S) of the presented labels, bits.
    pub entropy_bits: f64,
    /// The inverse temperature β of q(s | r) ∝ exp(−β d²(r, μ_s) / 2),
    /// averaged over folds (each fitted on its training trials).
    pub mean_beta: f64,
}

/// Information from the decoder's posterior: the nearest-class-mean decoder
/// of [`decode`] (same folds) turned into a probabilistic one, q(s | r) ∝
/// exp(−β d²/2) with d² the squared z-scored distance to class s's mean
/// (a Gaussian likelihood with equal, isotropic covariance), β chosen per
/// fold to maximise the training trials' log-likelihood over a grid of 61
/// values from 10⁻⁴ to 10². Errors as [`decode`].
pub fn posterior_information(responses: &Responses, config: &DecoderConfig) -> Result<PosteriorInformation> {
    let classes = Classes::of(responses.patterns())?;
    if config.n_folds < 2 {
        return Err(AnalysisError::Invalid(format!("need at least 2 folds, got {}", config.n_folds)));
    }
    let folds = stratified_folds(&classes, config.n_folds, config.seed);
    let k = classes.ids.len();
    let n = responses.n_trials() as f64;
    let prior: Vec<f64> = classes.sizes.iter().map(|&c| c as f64 / n).collect();
    let entropy = -prior.iter().filter(|p| **p > 0.0).map(|p| p * p.log2()).sum::<f64>();
    let (mut log_q, mut post, mut betas, mut tested) = (0.0, 0.0, Vec::new(), 0usize);
    for f in 0..config.n_folds {
        let (train, test): (Vec<usize>, Vec<usize>) = (0..responses.n_trials()).partition(|&t| folds[t] != f);
        if test.is_empty() {
            continue;
        }
        let model = NearestMean::fit(responses, &classes.of_trial, k, &train);
        let d_train: Vec<Vec<Option<f64>>> = train.iter().map(|&t| model.distances(responses.row(t))).collect();
        let log_lik = |beta: f64| -> f64 {
            d_train.iter().zip(&train).map(|(d, &t)| log_softmax(d, beta, classes.of_trial[t])).sum()
        };
        let beta = (0..=60)
            .map(|j| 10f64.powf(-4.0 + j as f64 / 10.0))
            .max_by(|a, b| log_lik(*a).total_cmp(&log_lik(*b)))
            .unwrap_or(1.0);
        betas.push(beta);
        for t in test {
            let d = model.distances(responses.row(t));
            log_q += log_softmax(&d, beta, classes.of_trial[t]) / std::f64::consts::LN_2;
            post += (0..k)
                .filter_map(|s| {
                    let q = log_softmax(&d, beta, s).exp();
                    (q > 0.0 && prior[s] > 0.0).then(|| q * (q / prior[s]).log2())
                })
                .sum::<f64>();
            tested += 1;
        }
    }
    let m = tested.max(1) as f64;
    Ok(PosteriorInformation {
        bound_bits: entropy + log_q / m,
        posterior_bits: post / m,
        entropy_bits: entropy,
        mean_beta: betas.iter().sum::<f64>() / betas.len().max(1) as f64,
    })
}

/// ln q(s | r) for q ∝ exp(−β d²/2) over the classes with a distance
/// (−∞ for a class without one).
fn log_softmax(d: &[Option<f64>], beta: f64, s: usize) -> f64 {
    let Some(ds) = d[s] else { return f64::NEG_INFINITY };
    let min = d.iter().flatten().copied().fold(f64::INFINITY, f64::min);
    let z: f64 = d.iter().flatten().map(|x| (-0.5 * beta * (x - min)).exp()).sum();
    -0.5 * beta * (ds - min) - z.ln()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::test_support::{assert_close, poisson_population, presentations};

    /// Spike trains in which neuron i fires exactly c(i, s) = 1 + 2·((i + s) mod K) evenly spaced
    /// spikes in every presentation of pattern s: the response determines the pattern exactly.
    pub(crate) fn deterministic_code(
        n_neurons: usize,
        n_patterns: usize,
        per_pattern: usize,
    ) -> (SpikeTrains, Vec<Presentation>) {
        let pres = presentations(n_patterns, per_pattern, 0.1, 0.05, 17);
        let mut trains = vec![Vec::new(); n_neurons];
        for p in &pres {
            for (i, train) in trains.iter_mut().enumerate() {
                let c = 1 + 2 * ((i + p.pattern) % n_patterns);
                train.extend((0..c).map(|j| p.t0 + (j as f64 + 0.5) * (p.t1 - p.t0) / c as f64));
            }
        }
        (SpikeTrains::from_per_neuron(&trains).unwrap(), pres)
    }

    /// Homogeneous Poisson spikes (same rate whatever the pattern) under balanced presentations.
    pub(crate) fn uninformative_code(
        n_neurons: usize,
        n_patterns: usize,
        per_pattern: usize,
    ) -> (SpikeTrains, Vec<Presentation>) {
        let pres = presentations(n_patterns, per_pattern, 0.1, 0.0, 23);
        let end = pres.iter().map(|p| p.t1).fold(0.0, f64::max);
        (poisson_population(n_neurons, 20.0, end, 29), pres)
    }

    #[test]
    fn deterministic_code_decodes_perfectly() {
        let (s, pres) = deterministic_code(20, 4, 50);
        let d = decoding(&s, &pres, &DecoderConfig::default()).unwrap();
        assert_eq!(d.accuracy, 1.0);
        assert_eq!((d.n_trials, d.n_patterns, d.patterns.clone()), (200, 4, vec![0, 1, 2, 3]));
        assert_close(d.chance_level, 0.25, 1e-12);
        assert_eq!(d.confusion[2], vec![0, 0, 50, 0]);
    }

    #[test]
    fn uninformative_code_decodes_at_chance() {
        // 4 balanced patterns, 800 trials: under the null the accuracy has sd √(¼·¾/800) ≈ 0.015,
        // so chance ± 0.05 is > 3 sd (and the small negative held-out bias is ~1/160 per class).
        let (s, pres) = uninformative_code(50, 4, 200);
        let d = decoding(&s, &pres, &DecoderConfig::default()).unwrap();
        assert_close(d.chance_level, 0.25, 1e-12);
        assert_close(d.accuracy, d.chance_level, 0.05);
    }

    #[test]
    fn folds_are_stratified_balanced_and_seeded() {
        let labels: Vec<usize> = (0..23).map(|t| [3, 8, 8, 5][t % 4]).collect();
        let classes = Classes::of(&labels).unwrap();
        assert_eq!(classes.ids, vec![3, 5, 8]);
        let folds = stratified_folds(&classes, 5, 1);
        let mut sizes = [0usize; 5];
        folds.iter().for_each(|&f| sizes[f] += 1);
        assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1, "{sizes:?}");
        for c in 0..3 {
            let mut per_fold = [0usize; 5];
            (0..23).filter(|&t| classes.of_trial[t] == c).for_each(|t| per_fold[folds[t]] += 1);
            assert!(per_fold.iter().max().unwrap() - per_fold.iter().min().unwrap() <= 1);
        }
        assert_eq!(folds, stratified_folds(&classes, 5, 1));
        assert_ne!(folds, stratified_folds(&classes, 5, 2));
    }

    #[test]
    fn label_errors() {
        let r = Responses::new(1, vec![1.0, 2.0, 3.0], vec![0, 0, 0]).unwrap();
        let e = decode(&r, &DecoderConfig::default()).unwrap_err();
        assert_eq!(e.to_string(), "need at least 2 patterns, found 1");
        let r = Responses::new(1, vec![1.0, 2.0, 3.0], vec![0, 0, 1]).unwrap();
        assert!(decode(&r, &DecoderConfig::default()).unwrap_err().to_string().contains("pattern 1 has only 1"));
        let r = Responses::new(1, vec![1.0, 2.0, 3.0, 4.0], vec![0, 0, 1, 1]).unwrap();
        assert!(decode(&r, &DecoderConfig { n_folds: 1, seed: 0 }).is_err());
        assert!(Responses::new(2, vec![1.0, 2.0, 3.0], vec![0, 1]).is_err());
        assert!(response_counts(&SpikeTrains::empty(3), &[]).is_err());
        let bad = [Presentation { pattern: 0, t0: 1.0, t1: 0.5 }];
        assert!(response_counts(&SpikeTrains::empty(3), &bad).is_err());
    }

    #[test]
    fn response_counts_are_chronological() {
        let s = SpikeTrains::from_per_neuron(&[vec![0.1, 1.1, 1.2], vec![1.5]]).unwrap();
        let pres = [Presentation { pattern: 7, t0: 1.0, t1: 2.0 }, Presentation { pattern: 3, t0: 0.0, t1: 1.0 }];
        let r = response_counts(&s, &pres).unwrap();
        assert_eq!(r.patterns(), &[3, 7]);
        assert_eq!(r.trial(0), Some(&[1.0, 0.0][..]));
        assert_eq!(r.trial(1), Some(&[2.0, 1.0][..]));
        assert_eq!(r.trial(2), None);
    }

    /// Noisy codes: each pattern drives its own 5 of 40 neurons (Poisson 4.5 vs 3).
    fn noisy_code(g: &mut SplitMix64, patterns: usize, per: usize, perm: &[usize]) -> Responses {
        let mut values = Vec::new();
        let mut labels = Vec::new();
        for t in 0..patterns * per {
            let s = t % patterns;
            labels.push(s);
            let code = perm[s];
            for i in 0..40 {
                let mean: f64 = if i / 5 == code { 4.5 } else { 3.0 };
                // Poisson by inversion.
                let u = g.next_f64();
                let (mut k, mut p) = (0.0f64, (-mean).exp());
                let mut c = p;
                while u > c && k < 100.0 {
                    k += 1.0;
                    p *= mean / k;
                    c += p;
                }
                values.push(k);
            }
        }
        Responses::new(40, values, labels).unwrap()
    }

    /// A readout fixed in one phase: on an unchanged code it keeps the within-phase accuracy
    /// (±5 %); on a permuted code (the responses assigned to the patterns at random) it falls to
    /// chance (±5 %), and on a code whose patterns swapped their neurons, below chance.
    #[test]
    fn a_fixed_readout_recalls_an_unchanged_code_and_not_a_permuted_one() {
        let mut g = SplitMix64::new(5);
        let same: Vec<usize> = (0..8).collect();
        let train = noisy_code(&mut g, 8, 100, &same);
        let test = noisy_code(&mut g, 8, 100, &same);
        let within = decode(&test, &DecoderConfig::default()).unwrap().accuracy;
        let recall = fixed_readout(&train, &test).unwrap();
        assert!(within > 0.5 && within < 0.99, "a noisy code: {within}");
        assert!((recall.accuracy - within).abs() < 0.05, "{} vs {within}", recall.accuracy);
        let fresh = noisy_code(&mut g, 8, 100, &same);
        let mut labels = fresh.patterns().to_vec();
        g.shuffle(&mut labels);
        let permuted = fixed_readout(&train, &fresh.with_patterns(labels)).unwrap();
        assert!((permuted.accuracy - permuted.chance_level).abs() < 0.05, "{permuted:?}");
        assert_close(permuted.chance_level, 0.125, 1e-12);
        let swapped: Vec<usize> = (0..8).map(|s| (s + 3) % 8).collect();
        let moved = fixed_readout(&train, &noisy_code(&mut g, 8, 100, &swapped)).unwrap();
        assert!(moved.accuracy < moved.chance_level, "{moved:?}");
        assert!(fixed_readout(&train, &Responses::new(3, vec![], vec![]).unwrap()).is_err());
    }

    /// The posterior bound of a deterministic code approaches log2 K, of an uninformative one
    /// stays at or below 0 (tolerance 0.1: 8 patterns × 20 trials, cross-validated).
    #[test]
    fn posterior_information_bounds() {
        let (st, pres) = deterministic_code(12, 8, 20);
        let r = response_counts(&st, &pres).unwrap();
        let p = posterior_information(&r, &DecoderConfig::default()).unwrap();
        assert!((p.entropy_bits - 3.0).abs() < 1e-12);
        assert!(p.bound_bits > 2.9 && p.bound_bits <= 3.0 + 1e-9, "{p:?}");
        let (st, pres) = uninformative_code(12, 8, 20);
        let r = response_counts(&st, &pres).unwrap();
        let p = posterior_information(&r, &DecoderConfig::default()).unwrap();
        assert!(p.bound_bits < 0.1, "{p:?}");
    }
}
