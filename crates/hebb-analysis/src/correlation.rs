//! Population co-variability: mean pairwise count correlation and the Golomb synchrony measure χ.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::rng::SplitMix64;
use crate::spikes::{CountMoments, SpikeTrains, Window, sparse_dot};

/// Default count-correlation bin width, in seconds.
pub const DEFAULT_CORRELATION_BIN_S: f64 = 0.05;
/// Default number of sampled neuron pairs.
pub const DEFAULT_CORRELATION_PAIRS: usize = 2000;
/// Default bin width for the synchrony measure χ, in seconds.
pub const DEFAULT_SYNCHRONY_BIN_S: f64 = 0.005;

/// Stream id so the pair sample does not share random numbers with other seeded analyses.
const PAIR_SAMPLING_STREAM: u64 = 1;

/// Parameters of [`correlation`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorrelationConfig {
    /// Bin width Δ in seconds.
    pub bin_width_s: f64,
    /// Number of distinct pairs to sample; all pairs are used when there are no more than this.
    pub n_pairs: usize,
    /// Seed of the pair sample.
    pub seed: u64,
}

impl Default for CorrelationConfig {
    fn default() -> Self {
        Self { bin_width_s: DEFAULT_CORRELATION_BIN_S, n_pairs: DEFAULT_CORRELATION_PAIRS, seed: 0 }
    }
}

/// Result of [`correlation`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorrelationStats {
    /// Mean of r_ij over the sampled pairs; `None` with fewer than 2 active neurons.
    pub mean_correlation: Option<f64>,
    /// Standard deviation of r_ij over the sampled pairs (population sd); `None` as above.
    pub sd_correlation: Option<f64>,
    pub n_pairs_used: usize,
    /// Neurons whose binned count has nonzero variance (the candidates for pairs).
    pub n_neurons_active: usize,
    pub n_bins: usize,
    pub bin_width_s: f64,
}

/// Mean pairwise Pearson correlation of binned spike counts.
///
/// Counts xᵢ(t) in n = ⌊(t1 − t0)/Δ⌋ full bins; for a pair (i, j):
///
/// ```text
/// r_ij = (n Σ xᵢxⱼ − Σxᵢ Σxⱼ) / √[(n Σxᵢ² − (Σxᵢ)²)(n Σxⱼ² − (Σxⱼ)²)]
/// ```
///
/// (numerator and both variance terms are computed exactly in integers). Neurons whose count
/// has zero variance — silent ones, and any that fire the same number of spikes in every bin —
/// have an undefined r and are skipped. From the A active neurons, `n_pairs` distinct unordered
/// pairs are drawn uniformly without replacement (Floyd's algorithm on the A(A−1)/2 pair indices,
/// seeded by `seed`); if there are no more pairs than that, all are used.
///
/// Bias: r_ij is biased towards 0 by O(1/n) and its noise floor is ≈ 1/√n per pair, so compare
/// values only at equal bin width and window length. The value depends strongly on Δ.
///
/// Errors if the window holds fewer than 2 bins or the bin width is not positive.
pub fn correlation(spikes: &SpikeTrains, window: Window, config: &CorrelationConfig) -> Result<CorrelationStats> {
    let binned = spikes.bin_sparse(window, config.bin_width_s, 2)?;
    let n = binned.n_bins;
    let active: Vec<(usize, CountMoments)> = binned
        .rows
        .iter()
        .enumerate()
        .map(|(i, row)| (i, CountMoments::of(row)))
        .filter(|(_, m)| m.n2_var(n) > 0)
        .collect();
    let a = active.len() as u64;
    let total_pairs = a * a.saturating_sub(1) / 2;
    let pair_ids: Vec<u64> = if total_pairs <= config.n_pairs as u64 {
        (0..total_pairs).collect()
    } else {
        sample_distinct(total_pairs, config.n_pairs, &mut SplitMix64::for_purpose(config.seed, PAIR_SAMPLING_STREAM))
    };
    let rs: Vec<f64> = pair_ids
        .into_iter()
        .map(|id| {
            let (p, q) = pair_from_index(id);
            let (i, mi) = active[p as usize];
            let (j, mj) = active[q as usize];
            let cov = n as i128 * sparse_dot(&binned.rows[i], &binned.rows[j]) as i128 - (mi.sum * mj.sum) as i128;
            cov as f64 / (mi.n2_var(n) as f64 * mj.n2_var(n) as f64).sqrt()
        })
        .collect();
    let (mean, sd) = mean_and_sd(&rs);
    Ok(CorrelationStats {
        mean_correlation: mean,
        sd_correlation: sd,
        n_pairs_used: rs.len(),
        n_neurons_active: active.len(),
        n_bins: n,
        bin_width_s: binned.bin_width,
    })
}

/// Result of [`synchrony`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynchronyStats {
    /// χ = √χ²; `None` when no neuron has nonzero count variance.
    pub chi: Option<f64>,
    pub chi_squared: Option<f64>,
    pub n_neurons_used: usize,
    pub n_bins: usize,
    pub bin_width_s: f64,
}

/// Golomb (2007) synchrony measure χ on binned spike counts.
///
/// With xᵢ(t) the count of neuron i in bin t (n full bins of width Δ) and V(t) = (1/N) Σᵢ xᵢ(t)
/// the population-mean signal over the N neurons used:
///
/// ```text
/// χ² = Var_t[V(t)] / ((1/N) Σᵢ Var_t[xᵢ(t)]),      χ = √χ²
/// ```
///
/// with population (1/n) variances over bins, evaluated as exact integer sums. χ = 1 when all
/// neurons are identical and χ ≈ 1/√N for N independent neurons (finite-size floor; no
/// correction is applied, so compare χ only across populations of similar size). Neurons with
/// zero count variance (e.g. silent) are excluded from both V and the denominator, so that a
/// partly silent but otherwise perfectly synchronous population still gives χ = 1. Golomb used
/// membrane potentials; binned counts are the spike-only analogue and depend on Δ.
///
/// Errors if the window holds fewer than 2 bins or the bin width is not positive.
pub fn synchrony(spikes: &SpikeTrains, window: Window, bin_width: f64) -> Result<SynchronyStats> {
    let binned = spikes.bin_sparse(window, bin_width, 2)?;
    let n = binned.n_bins;
    // S(t) = Σᵢ xᵢ(t) over used neurons, and Σᵢ n²Var(xᵢ).
    let mut pop = vec![0u64; n];
    let mut sum_n2_var: u128 = 0;
    let mut used = 0usize;
    for row in &binned.rows {
        let v = CountMoments::of(row).n2_var(n);
        if v == 0 {
            continue;
        }
        for &(b, c) in row {
            pop[b as usize] += u64::from(c);
        }
        sum_n2_var += v;
        used += 1;
    }
    let chi_squared = (used > 0).then(|| {
        let (s, s2) =
            pop.iter().fold((0u128, 0u128), |(s, s2), &x| (s + u128::from(x), s2 + u128::from(x) * u128::from(x)));
        // V = S/N, so n²Var(V) = (n Σ S² − (Σ S)²)/N², and the denominator is (1/N) Σᵢ n²Var(xᵢ)
        // (the common n² cancels): χ² = (n ΣS² − (ΣS)²) / (N · Σᵢ n²Var(xᵢ)).
        let num = n as u128 * s2 - s * s;
        num as f64 / (used as f64 * sum_n2_var as f64)
    });
    Ok(SynchronyStats {
        chi: chi_squared.map(f64::sqrt),
        chi_squared,
        n_neurons_used: used,
        n_bins: n,
        bin_width_s: binned.bin_width,
    })
}

/// Floyd's algorithm: `k` distinct values uniformly from [0, n) in exactly k draws, returned sorted
/// so the order of summation (and hence the floating-point result) depends only on the sample.
fn sample_distinct(n: u64, k: usize, g: &mut SplitMix64) -> Vec<u64> {
    let k = (k as u64).min(n);
    let mut chosen = HashSet::with_capacity(k as usize);
    for j in (n - k)..n {
        let t = g.below(j + 1);
        if !chosen.insert(t) {
            chosen.insert(j);
        }
    }
    let mut out: Vec<u64> = chosen.into_iter().collect();
    out.sort_unstable();
    out
}

/// Maps a linear pair index m ∈ [0, A(A−1)/2) to (q, p) with q < p: pairs are enumerated row by
/// row of the strict lower triangle, p = ⌊(1 + √(1 + 8m))/2⌋, q = m − p(p−1)/2.
fn pair_from_index(m: u64) -> (u64, u64) {
    let mut p = ((1.0 + (1.0 + 8.0 * m as f64).sqrt()) / 2.0).floor() as u64;
    // The float estimate can be off by one for large m; fix it exactly.
    while p * (p - 1) / 2 > m {
        p -= 1;
    }
    while (p + 1) * p / 2 <= m {
        p += 1;
    }
    (m - p * (p - 1) / 2, p)
}

/// Mean and population sd of a sample; `None` for an empty one.
fn mean_and_sd(xs: &[f64]) -> (Option<f64>, Option<f64>) {
    if xs.is_empty() {
        return (None, None);
    }
    let mean = xs.iter().sum::<f64>() / xs.len() as f64;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / xs.len() as f64;
    (Some(mean), Some(var.sqrt()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{assert_close, poisson_population, poisson_train};

    #[test]
    fn pair_index_round_trip() {
        let mut m = 0;
        for p in 1..60u64 {
            for q in 0..p {
                assert_eq!(pair_from_index(m), (q, p));
                m += 1;
            }
        }
    }

    #[test]
    fn floyd_sample_is_distinct_and_in_range() {
        let mut g = SplitMix64::new(5);
        let s = sample_distinct(100, 60, &mut g);
        assert_eq!(s.len(), 60);
        assert!(s.windows(2).all(|w| w[0] < w[1]) && *s.last().unwrap() < 100);
    }

    #[test]
    fn independent_poisson_is_uncorrelated_and_asynchronous() {
        // 400 independent neurons at 10 Hz for 50 s. Correlation: 1000 bins of 50 ms, so each r_ij
        // has sd ≈ 1/√1000 ≈ 0.032 and the mean of 2000 pairs ≈ 0.001 (pairs share neurons, so
        // somewhat more): |mean| < 0.02 is > 10 sd. Synchrony: χ² ≈ 1/N = 0.0025, χ ≈ 0.05, so
        // the bound χ < 0.1 leaves a factor of 2 for fluctuations.
        let s = poisson_population(400, 10.0, 50.0, 7);
        let w = Window::new(0.0, 50.0).unwrap();
        let c = correlation(&s, w, &CorrelationConfig::default()).unwrap();
        assert_eq!(c.n_pairs_used, DEFAULT_CORRELATION_PAIRS);
        assert_eq!(c.n_neurons_active, 400);
        assert!(c.mean_correlation.unwrap().abs() < 0.02, "{c:?}");
        let sy = synchrony(&s, w, DEFAULT_SYNCHRONY_BIN_S).unwrap();
        assert!(sy.chi.unwrap() < 0.1, "{sy:?}");
        assert_close(sy.chi_squared.unwrap(), 1.0 / 400.0, 0.002);
    }

    #[test]
    fn identical_trains_are_fully_synchronous_and_correlated() {
        // Every neuron fires the same Poisson train: V(t) = x(t) exactly, so χ² = Var/Var = 1 and
        // every r_ij = 1; the integer arithmetic makes both exact up to one division (tol 1e-9).
        let mut g = SplitMix64::new(9);
        let train = poisson_train(&mut g, 15.0, 0.0, 20.0);
        let mut trains = vec![train; 50];
        trains.push(Vec::new()); // a silent neuron must not dilute χ
        let s = SpikeTrains::from_per_neuron(&trains).unwrap();
        let w = Window::new(0.0, 20.0).unwrap();
        let sy = synchrony(&s, w, 0.01).unwrap();
        assert_eq!(sy.n_neurons_used, 50);
        assert_close(sy.chi.unwrap(), 1.0, 1e-9);
        let c = correlation(&s, w, &CorrelationConfig { n_pairs: 100, ..Default::default() }).unwrap();
        assert_close(c.mean_correlation.unwrap(), 1.0, 1e-9);
    }

    #[test]
    fn hand_computed_correlation() {
        // Bins of 1 s over [0, 4): x = (1,0,1,0), y = (1,0,0,0) → n Σxy − ΣxΣy = 4·1 − 2·1 = 2,
        // n Σx² − (Σx)² = 8 − 4 = 4, n Σy² − (Σy)² = 4 − 1 = 3 → r = 2/√12.
        let s = SpikeTrains::from_per_neuron(&[vec![0.5, 2.5], vec![0.2], vec![]]).unwrap();
        let c = correlation(
            &s,
            Window::new(0.0, 4.0).unwrap(),
            &CorrelationConfig { bin_width_s: 1.0, ..Default::default() },
        )
        .unwrap();
        assert_eq!((c.n_pairs_used, c.n_neurons_active), (1, 2));
        assert_close(c.mean_correlation.unwrap(), 2.0 / 12f64.sqrt(), 1e-12);
    }

    #[test]
    fn sampling_is_deterministic_per_seed() {
        let s = poisson_population(60, 10.0, 10.0, 3);
        let w = Window::new(0.0, 10.0).unwrap();
        let cfg = CorrelationConfig { n_pairs: 50, seed: 4, ..Default::default() };
        let a = correlation(&s, w, &cfg).unwrap();
        assert_eq!(a, correlation(&s, w, &cfg).unwrap());
        assert_ne!(
            a.mean_correlation,
            correlation(&s, w, &CorrelationConfig { seed: 5, ..cfg }).unwrap().mean_correlation
        );
    }

    #[test]
    fn silent_population_gives_none() {
        let w = Window::new(0.0, 1.0).unwrap();
        let s = SpikeTrains::empty(10);
        assert_eq!(correlation(&s, w, &CorrelationConfig::default()).unwrap().mean_correlation, None);
        assert_eq!(synchrony(&s, w, 0.1).unwrap().chi, None);
    }
}
