//! Trial-to-trial variability of stimulus responses: signal and noise
//! correlations, and the across-repetition Fano factor per stimulus.
//!
//! Both work on [`Responses`] (one spike-count vector per presentation) and
//! separate what a neuron's response owes to the stimulus (its mean
//! response to each pattern, the *signal*) from what varies between
//! repetitions of the same pattern (the *noise*). Counting over time bins
//! across a whole window, as `correlation` and `fano` do, mixes the two:
//! two neurons that prefer the same patterns look correlated even if their
//! trial-to-trial fluctuations are independent, and a neuron that responds
//! to some patterns and not others looks over-dispersed.

use serde::{Deserialize, Serialize};

use crate::decoding::Responses;
use crate::error::{AnalysisError, Result};
use crate::rng::SplitMix64;
use crate::series::pearson;

/// Stream id of the pair sample (distinct from the other seeded analyses).
const PAIR_STREAM: u64 = 11;
/// Stream id of the mean-matching subsample.
const MATCH_STREAM: u64 = 12;

/// Result of [`signal_noise_correlations`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalNoise {
    /// Mean over pairs of the Pearson correlation, across trials, of the
    /// two neurons' residuals (count minus their mean for that pattern).
    pub noise_correlation: Option<f64>,
    /// Mean over pairs of the Pearson correlation, across patterns, of the
    /// two neurons' mean responses (tuning similarity).
    pub signal_correlation: Option<f64>,
    /// Pearson correlation, across pairs, of the signal and the noise
    /// correlation (positive when similarly tuned neurons share noise).
    pub signal_noise_relation: Option<f64>,
    pub n_pairs: usize,
    pub n_neurons_used: usize,
    pub n_trials: usize,
    pub n_patterns: usize,
}

/// Signal and noise correlations over up to `max_pairs` distinct pairs of
/// neurons drawn with `seed` (all pairs when there are fewer). A pair is
/// used when both neurons vary across patterns (their signal correlation is
/// defined) and across repetitions (their noise correlation is). Needs at
/// least two patterns, each presented at least twice.
pub fn signal_noise_correlations(r: &Responses, max_pairs: usize, seed: u64) -> Result<SignalNoise> {
    let (means, counts) = pattern_means(r)?;
    let (k, n) = (means.len(), r.n_features());
    // Residuals per neuron over trials, and the tuning curve per neuron.
    let resid: Vec<Vec<f64>> =
        (0..n).map(|i| (0..r.n_trials()).map(|t| r.row(t)[i] - means[r.patterns()[t]][i]).collect()).collect();
    let tuning: Vec<Vec<f64>> =
        (0..n).map(|i| (0..k).filter(|&s| counts[s] > 0).map(|s| means[s][i]).collect()).collect();
    let usable: Vec<usize> = (0..n).filter(|&i| variance(&resid[i]) > 0.0 && variance(&tuning[i]) > 0.0).collect();
    let pairs = sample_pairs(usable.len(), max_pairs, seed);
    let (mut noise, mut signal) = (Vec::with_capacity(pairs.len()), Vec::with_capacity(pairs.len()));
    for (a, b) in pairs {
        let (i, j) = (usable[a], usable[b]);
        noise.push(pearson(&resid[i], &resid[j]).unwrap_or(f64::NAN));
        signal.push(pearson(&tuning[i], &tuning[j]).unwrap_or(f64::NAN));
    }
    // Defined from 3 pairs on (pearson is None when either side is constant).
    let relation = if noise.len() >= 3 { pearson(&signal, &noise) } else { None };
    Ok(SignalNoise {
        noise_correlation: mean(&noise),
        signal_correlation: mean(&signal),
        signal_noise_relation: relation,
        n_pairs: noise.len(),
        n_neurons_used: usable.len(),
        n_trials: r.n_trials(),
        n_patterns: counts.iter().filter(|c| **c > 0).count(),
    })
}

/// Result of [`stimulus_fano`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StimulusFano {
    /// Σ var / Σ mean over (neuron, pattern) cells with a non-zero mean:
    /// the slope through the origin of variance against mean (Churchland et
    /// al. 2010's regression, unweighted); 1 for Poisson counts.
    pub fano: Option<f64>,
    /// The same after mean-matching across patterns: cells are binned by
    /// their mean count, each pattern keeps (drawn with the seed) only as
    /// many cells per bin as the pattern with the fewest there has, so that
    /// every pattern contributes the same distribution of means; the slope
    /// is then averaged over patterns. Differences in Fano between patterns
    /// are then not differences in rate.
    pub mean_matched_fano: Option<f64>,
    /// The mean over cells of var / mean (more sensitive to low counts).
    pub mean_of_ratios: Option<f64>,
    /// Per pattern, the slope before matching.
    pub per_pattern: Vec<Option<f64>>,
    pub n_cells: usize,
    pub n_cells_matched: usize,
    pub mean_bins: usize,
}

/// Number of bins of mean count used for mean-matching.
const MATCH_BINS: usize = 10;

/// The across-repetition Fano factor per stimulus: for every neuron and
/// pattern, the unbiased variance and the mean of its spike count over the
/// presentations of that pattern. Needs at least one pattern presented at
/// least twice.
pub fn stimulus_fano(r: &Responses, seed: u64) -> Result<StimulusFano> {
    let (means, counts) = pattern_means(r)?;
    let (k, n) = (means.len(), r.n_features());
    let mut sq = vec![vec![0.0; n]; k];
    for t in 0..r.n_trials() {
        let s = r.patterns()[t];
        for (i, x) in r.row(t).iter().enumerate() {
            sq[s][i] += (x - means[s][i]).powi(2);
        }
    }
    // Cells (pattern, mean, variance) with a non-zero mean.
    let mut cells: Vec<(usize, f64, f64)> = Vec::new();
    for s in (0..k).filter(|&s| counts[s] >= 2) {
        let (m, v, dof) = (&means[s], &sq[s], (counts[s] - 1) as f64);
        cells.extend((0..n).filter(|&i| m[i] > 0.0).map(|i| (s, m[i], v[i] / dof)));
    }
    let slope = |c: &[(usize, f64, f64)]| -> Option<f64> {
        let den: f64 = c.iter().map(|x| x.1).sum();
        (den > 0.0).then(|| c.iter().map(|x| x.2).sum::<f64>() / den)
    };
    let per_pattern: Vec<Option<f64>> =
        (0..k).map(|s| slope(&cells.iter().copied().filter(|c| c.0 == s).collect::<Vec<_>>())).collect();
    let ratios: Vec<f64> = cells.iter().map(|c| c.2 / c.1).collect();
    let matched = mean_matched(&cells, k, seed);
    let n_cells_matched = matched.len();
    let matched_slopes: Vec<f64> =
        (0..k).filter_map(|s| slope(&matched.iter().copied().filter(|c| c.0 == s).collect::<Vec<_>>())).collect();
    Ok(StimulusFano {
        fano: slope(&cells),
        mean_matched_fano: mean(&matched_slopes),
        mean_of_ratios: mean(&ratios),
        per_pattern,
        n_cells: cells.len(),
        n_cells_matched,
        mean_bins: MATCH_BINS,
    })
}

/// The greatest common distribution of mean counts over the patterns that
/// have cells: per bin of mean count, each pattern keeps a random subset of
/// the size of the smallest pattern's.
fn mean_matched(cells: &[(usize, f64, f64)], k: usize, seed: u64) -> Vec<(usize, f64, f64)> {
    let present: Vec<usize> = (0..k).filter(|s| cells.iter().any(|c| c.0 == *s)).collect();
    let top = cells.iter().map(|c| c.1).fold(0.0f64, f64::max);
    if present.is_empty() || top <= 0.0 {
        return Vec::new();
    }
    let bin = |m: f64| (((m / top) * MATCH_BINS as f64) as usize).min(MATCH_BINS - 1);
    let mut rng = SplitMix64::for_purpose(seed, MATCH_STREAM);
    let mut out = Vec::new();
    for b in 0..MATCH_BINS {
        let per: Vec<Vec<(usize, f64, f64)>> =
            present.iter().map(|&s| cells.iter().copied().filter(|c| c.0 == s && bin(c.1) == b).collect()).collect();
        let keep = per.iter().map(Vec::len).min().unwrap_or(0);
        for mut group in per {
            // Partial Fisher–Yates: the first `keep` of a seeded shuffle.
            for a in 0..keep {
                let pick = a + (rng.next_u64() % (group.len() - a) as u64) as usize;
                group.swap(a, pick);
            }
            out.extend_from_slice(&group[..keep]);
        }
    }
    out
}

/// Per pattern, each neuron's mean response, and the number of trials.
/// Errors unless some pattern was presented at least twice.
fn pattern_means(r: &Responses) -> Result<(Vec<Vec<f64>>, Vec<usize>)> {
    let (means, counts) = means_per_pattern(r);
    if !counts.iter().any(|c| *c >= 2) {
        return Err(AnalysisError::Invalid("trial-to-trial variability needs a pattern presented twice".into()));
    }
    Ok((means, counts))
}

/// Per pattern, each neuron's mean response (0 for patterns never
/// presented), and the number of trials.
fn means_per_pattern(r: &Responses) -> (Vec<Vec<f64>>, Vec<usize>) {
    let k = r.patterns().iter().copied().max().map_or(0, |m| m + 1);
    let n = r.n_features();
    let mut sums = vec![vec![0.0; n]; k];
    let mut counts = vec![0usize; k];
    for t in 0..r.n_trials() {
        let s = r.patterns()[t];
        counts[s] += 1;
        for (acc, x) in sums[s].iter_mut().zip(r.row(t)) {
            *acc += x;
        }
    }
    for (row, c) in sums.iter_mut().zip(&counts) {
        if *c > 0 {
            row.iter_mut().for_each(|x| *x /= *c as f64);
        }
    }
    (sums, counts)
}

/// Up to `max` distinct unordered pairs of `0..n`, all of them when there
/// are no more than `max`, else a seeded sample.
fn sample_pairs(n: usize, max: usize, seed: u64) -> Vec<(usize, usize)> {
    let total = n * n.saturating_sub(1) / 2;
    if total <= max {
        return (0..n).flat_map(|a| (a + 1..n).map(move |b| (a, b))).collect();
    }
    let mut rng = SplitMix64::for_purpose(seed, PAIR_STREAM);
    let mut seen = std::collections::HashSet::with_capacity(max);
    let mut out = Vec::with_capacity(max);
    while out.len() < max {
        let a = (rng.next_u64() % n as u64) as usize;
        let b = (rng.next_u64() % n as u64) as usize;
        let pair = (a.min(b), a.max(b));
        if a != b && seen.insert(pair) {
            out.push(pair);
        }
    }
    out
}

fn mean(x: &[f64]) -> Option<f64> {
    (!x.is_empty()).then(|| x.iter().sum::<f64>() / x.len() as f64)
}

fn variance(x: &[f64]) -> f64 {
    let Some(m) = mean(x) else { return 0.0 };
    x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / x.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Poisson(λ) by inversion (small λ).
    fn poisson(rng: &mut SplitMix64, lambda: f64) -> f64 {
        let (mut k, mut p, u) = (0.0, (-lambda).exp(), rng.next_f64());
        let mut cdf = p;
        while u > cdf && k < 1000.0 {
            k += 1.0;
            p *= lambda / k;
            cdf += p;
        }
        k
    }

    /// `n` neurons, `k` patterns × `reps` repetitions; neuron i's rate for
    /// pattern s from `tuning(i, s)`, and a shared gain per trial (noise
    /// common to all neurons) of relative size `shared`.
    fn responses(n: usize, k: usize, reps: usize, shared: f64, tuning: impl Fn(usize, usize) -> f64) -> Responses {
        let mut rng = SplitMix64::new(3);
        let (mut values, mut patterns) = (Vec::new(), Vec::new());
        for rep in 0..reps {
            for s in 0..k {
                let _ = rep;
                let gain = 1.0 + shared * (2.0 * rng.next_f64() - 1.0);
                for i in 0..n {
                    values.push(poisson(&mut rng, tuning(i, s) * gain));
                }
                patterns.push(s);
            }
        }
        Responses::new(n, values, patterns).unwrap()
    }

    #[test]
    fn independent_poisson_neurons_have_no_noise_correlation_and_fano_one() {
        // Tuning: neurons 0..20 prefer pattern 0, 20..40 pattern 1, so the
        // signal correlations are ±1-ish, the noise ones ~0. Tolerances: the
        // sd of a correlation over 400 trials is ~0.05, averaged over ~780 pairs.
        let r = responses(40, 2, 200, 0.0, |i, s| if (i < 20) == (s == 0) { 8.0 } else { 2.0 });
        let c = signal_noise_correlations(&r, 2000, 1).unwrap();
        assert!(c.noise_correlation.unwrap().abs() < 0.01, "{c:?}");
        // Half the pairs share their preference (r = 1), half do not (r = −1): mean ~ −0.03 (19/39 vs 20/39).
        assert!((c.signal_correlation.unwrap() - (-1.0 / 39.0)).abs() < 0.02, "{c:?}");
        let f = stimulus_fano(&r, 1).unwrap();
        // Poisson counts: var = mean; sd of the estimate ~ 0.01 over 80 cells × 200 trials.
        assert!((f.fano.unwrap() - 1.0).abs() < 0.03, "{f:?}");
        assert!((f.mean_matched_fano.unwrap() - 1.0).abs() < 0.05, "{f:?}");
        assert!((f.mean_of_ratios.unwrap() - 1.0).abs() < 0.05, "{f:?}");
    }

    #[test]
    fn a_shared_gain_makes_noise_correlated_and_overdispersed() {
        // A trial gain uniform in [0.4, 1.6] multiplies every neuron's rate:
        // noise correlation > 0; var = m + m²·Var(gain) = m + 0.12 m², so the
        // Fano factor at m = 8 and 2 exceeds 1 clearly.
        let r = responses(40, 2, 200, 0.6, |i, s| if (i < 20) == (s == 0) { 8.0 } else { 2.0 });
        let c = signal_noise_correlations(&r, 2000, 1).unwrap();
        assert!(c.noise_correlation.unwrap() > 0.15, "{c:?}");
        let f = stimulus_fano(&r, 1).unwrap();
        assert!(f.fano.unwrap() > 1.5, "{f:?}");
    }

    #[test]
    fn mean_matching_removes_a_rate_difference_between_patterns() {
        // Pattern 0 drives neurons 0..20 hard (mean 20, gain noise makes
        // Fano grow with the mean); pattern 1 weakly (mean 2). Unmatched,
        // pattern 0's Fano is much larger; matched, only cells of similar
        // means are compared, so the two patterns' slopes come closer.
        let r = responses(60, 2, 200, 0.5, |i, s| match (s, i) {
            (0, i) if i < 20 => 20.0,
            (0, _) => 2.0,
            (_, i) if i < 40 => 2.0,
            _ => 3.0,
        });
        let f = stimulus_fano(&r, 1).unwrap();
        let (p0, p1) = (f.per_pattern[0].unwrap(), f.per_pattern[1].unwrap());
        assert!(p0 > 2.0 * p1, "{f:?}");
        assert!(f.mean_matched_fano.unwrap() < f.fano.unwrap(), "{f:?}");
        assert!(f.n_cells_matched < f.n_cells);
    }

    #[test]
    fn single_presentations_are_an_error() {
        let r = Responses::new(2, vec![1.0, 2.0, 3.0, 4.0], vec![0, 1]).unwrap();
        assert!(signal_noise_correlations(&r, 10, 0).is_err());
        assert!(stimulus_fano(&r, 0).is_err());
    }
}

/// Result of [`assembly_weights`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssemblyWeights {
    /// within / between: how much stronger the recurrent weights are inside
    /// the assemblies than across them (1 when learning built none).
    pub ratio: Option<f64>,
    /// Mean weight of synapses whose two neurons prefer the same pattern.
    pub within: Option<f64>,
    /// Mean weight of synapses between neurons preferring different patterns.
    pub between: Option<f64>,
    pub n_within: usize,
    pub n_between: usize,
    /// Neurons preferring each pattern (assembly sizes).
    pub assembly_sizes: Vec<usize>,
    /// Neurons that responded to no pattern (left out).
    pub n_unassigned: usize,
}

/// Assemblies of a recurrent projection: each neuron is assigned to the
/// pattern it responds to most (its largest mean count over that pattern's
/// presentations; ties go to the lower pattern, silent neurons to none),
/// and the weights `w` of synapses `pre[k] → post[k]` (neuron indices of
/// the responding population) are averaged within and between those
/// assemblies.
pub fn assembly_weights(r: &Responses, pre: &[u32], post: &[u32], w: &[f64]) -> Result<AssemblyWeights> {
    if pre.len() != w.len() || post.len() != w.len() {
        return Err(AnalysisError::LengthMismatch {
            what: "pre, post and weight arrays".into(),
            expected: w.len(),
            found: pre.len().min(post.len()),
        });
    }
    // One presentation per pattern is enough to assign preferences.
    let (means, counts) = means_per_pattern(r);
    let n = r.n_features();
    let k = means.len();
    let preferred: Vec<Option<usize>> = (0..n)
        .map(|i| {
            let mut best: Option<(usize, f64)> = None;
            for s in (0..k).filter(|&s| counts[s] > 0) {
                if means[s][i] > best.map_or(0.0, |b| b.1) {
                    best = Some((s, means[s][i]));
                }
            }
            best.map(|b| b.0)
        })
        .collect();
    if let Some(x) = pre.iter().chain(post).find(|x| **x as usize >= n) {
        return Err(AnalysisError::Invalid(format!("synapse neuron {x} outside the population of {n}")));
    }
    let (mut within, mut between) = (Vec::new(), Vec::new());
    for ((&a, &b), &x) in pre.iter().zip(post).zip(w) {
        match (preferred[a as usize], preferred[b as usize]) {
            (Some(p), Some(q)) if p == q => within.push(x),
            (Some(_), Some(_)) => between.push(x),
            _ => {}
        }
    }
    let (mw, mb) = (mean(&within), mean(&between));
    let mut sizes = vec![0; k];
    preferred.iter().flatten().for_each(|&s| sizes[s] += 1);
    Ok(AssemblyWeights {
        ratio: match (mw, mb) {
            (Some(a), Some(b)) if b > 0.0 => Some(a / b),
            _ => None,
        },
        within: mw,
        between: mb,
        n_within: within.len(),
        n_between: between.len(),
        assembly_sizes: sizes,
        n_unassigned: preferred.iter().filter(|p| p.is_none()).count(),
    })
}

#[cfg(test)]
mod assembly_tests {
    use super::*;

    #[test]
    fn weights_inside_assemblies_against_across_them() {
        // 6 neurons: 0-2 respond to pattern 0, 3-4 to pattern 1, 5 to none.
        let rows = [[5.0, 4.0, 6.0, 0.0, 1.0, 0.0], [1.0, 0.0, 1.0, 7.0, 6.0, 0.0]];
        let values: Vec<f64> = (0..4).flat_map(|t| rows[t % 2]).collect();
        let r = Responses::new(6, values, vec![0, 1, 0, 1]).unwrap();
        // Within: 0→1 (0.9), 3→4 (0.7); between: 1→3 (0.1), 4→2 (0.3); 5→0 ignored.
        let (pre, post, w) = (vec![0, 3, 1, 4, 5], vec![1, 4, 3, 2, 0], vec![0.9, 0.7, 0.1, 0.3, 5.0]);
        let a = assembly_weights(&r, &pre, &post, &w).unwrap();
        assert_eq!((a.n_within, a.n_between, a.n_unassigned), (2, 2, 1));
        assert_eq!(a.assembly_sizes, vec![3, 2]);
        assert!((a.within.unwrap() - 0.8).abs() < 1e-12 && (a.between.unwrap() - 0.2).abs() < 1e-12);
        assert!((a.ratio.unwrap() - 4.0).abs() < 1e-12);
        assert!(assembly_weights(&r, &[0], &[9], &[1.0]).is_err());
    }
}
