//! Synaptic-weight distribution summary: moments, saturation at the bounds, histogram, and change
//! since a previous snapshot.

use serde::{Deserialize, Serialize};

use crate::error::{AnalysisError, Result, check_finite};

/// Default number of histogram bins.
pub const DEFAULT_WEIGHT_BINS: usize = 20;
/// Default relative tolerance for "at a bound", as a fraction of `hi − lo`.
pub const DEFAULT_BOUND_TOL: f64 = 1e-3;

/// Bounds and histogram settings for [`weight_stats`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightConfig {
    /// Lower weight bound.
    pub lo: f64,
    /// Upper weight bound (> lo).
    pub hi: f64,
    /// Number of equal-width histogram bins over [lo, hi].
    pub n_bins: usize,
    /// A weight counts as "at" a bound when within `bound_tol · (hi − lo)` of it.
    pub bound_tol: f64,
}

impl WeightConfig {
    /// Bounds with the default bin count and tolerance.
    pub fn new(lo: f64, hi: f64) -> Self {
        Self { lo, hi, n_bins: DEFAULT_WEIGHT_BINS, bound_tol: DEFAULT_BOUND_TOL }
    }
}

/// Change of every weight relative to a previous snapshot of the same synapses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightChange {
    /// (1/n) Σ |w_k − w_k^prev|
    pub mean_abs_change: f64,
    /// (1/n) Σ (w_k − w_k^prev) — net potentiation (> 0) or depression (< 0).
    pub mean_change: f64,
}

/// Result of [`weight_stats`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightStats {
    pub n: usize,
    pub mean: f64,
    /// Population standard deviation √((1/n) Σ (w − mean)²): the weights are the whole
    /// population of synapses, not a sample.
    pub sd: f64,
    pub fraction_at_lo: f64,
    pub fraction_at_hi: f64,
    /// Bin edges lo + k(hi − lo)/n_bins, k = 0..=n_bins.
    pub bin_edges: Vec<f64>,
    /// Counts per bin; bin k is [edge_k, edge_{k+1}), the last bin also includes hi. Weights
    /// within the bound tolerance outside [lo, hi] are counted in the edge bins.
    pub histogram: Vec<u64>,
    /// Weights further than the tolerance outside [lo, hi] (a plasticity-rule bug, usually);
    /// included in mean and sd but not in the histogram.
    pub n_out_of_range: usize,
    /// `None` when no previous snapshot was given.
    pub change: Option<WeightChange>,
}

/// Summary statistics of a weight vector against its bounds, optionally against `previous`.
///
/// Errors if there are no weights, any weight is not finite, `lo >= hi`, `n_bins == 0`,
/// `bound_tol` is negative or not finite, or `previous` differs in length.
pub fn weight_stats(weights: &[f64], config: &WeightConfig, previous: Option<&[f64]>) -> Result<WeightStats> {
    let WeightConfig { lo, hi, n_bins, bound_tol } = *config;
    check_finite(|| "lower weight bound".into(), lo)?;
    check_finite(|| "upper weight bound".into(), hi)?;
    if lo >= hi {
        return Err(AnalysisError::Invalid(format!("weight bounds must satisfy lo < hi, got [{lo}, {hi}]")));
    }
    if n_bins == 0 {
        return Err(AnalysisError::Invalid("histogram needs at least 1 bin".into()));
    }
    if !(bound_tol.is_finite() && bound_tol >= 0.0) {
        return Err(AnalysisError::Invalid(format!("bound tolerance must be >= 0, got {bound_tol}")));
    }
    if weights.is_empty() {
        return Err(AnalysisError::Invalid("no weights".into()));
    }
    for (k, &w) in weights.iter().enumerate() {
        check_finite(|| format!("weight #{k}"), w)?;
    }
    let n = weights.len() as f64;
    let mean = weights.iter().sum::<f64>() / n;
    let sd = (weights.iter().map(|w| (w - mean) * (w - mean)).sum::<f64>() / n).sqrt();

    let range = hi - lo;
    let tol = bound_tol * range;
    let fraction_at_lo = weights.iter().filter(|&&w| (w - lo).abs() <= tol).count() as f64 / n;
    let fraction_at_hi = weights.iter().filter(|&&w| (w - hi).abs() <= tol).count() as f64 / n;

    let bin_edges: Vec<f64> = (0..=n_bins).map(|k| lo + range * k as f64 / n_bins as f64).collect();
    let mut histogram = vec![0u64; n_bins];
    let mut n_out_of_range = 0;
    for &w in weights {
        if w < lo - tol || w > hi + tol {
            n_out_of_range += 1;
            continue;
        }
        // bin = ⌊(w − lo)/(hi − lo) · n_bins⌋, clamped so hi (and tolerated overshoot) lands in
        // the last bin and tolerated undershoot in the first.
        let b = ((w - lo) / range * n_bins as f64).floor().clamp(0.0, (n_bins - 1) as f64) as usize;
        histogram[b] += 1;
    }

    let change = match previous {
        None => None,
        Some(prev) => {
            if prev.len() != weights.len() {
                return Err(AnalysisError::LengthMismatch {
                    what: "previous weight snapshot".into(),
                    expected: weights.len(),
                    found: prev.len(),
                });
            }
            for (k, &w) in prev.iter().enumerate() {
                check_finite(|| format!("previous weight #{k}"), w)?;
            }
            let (abs, net) =
                weights.iter().zip(prev).fold((0.0, 0.0), |(a, s), (&w, &p)| (a + (w - p).abs(), s + (w - p)));
            Some(WeightChange { mean_abs_change: abs / n, mean_change: net / n })
        }
    };

    Ok(WeightStats {
        n: weights.len(),
        mean,
        sd,
        fraction_at_lo,
        fraction_at_hi,
        bin_edges,
        histogram,
        n_out_of_range,
        change,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::assert_close;

    #[test]
    fn hand_computed_weights() {
        // w = (0, 0.25, 0.5, 1, 1): mean 0.55; deviations −.55, −.3, −.05, .45, .45 → Σd² = 0.8,
        // var 0.16, sd 0.4. One of five at lo, two at hi. Four bins of 0.25: 0 | 0.25 | 0.5 | 1, 1.
        // Previous (0.1, 0, 0.5, 0.5, 1): Δ = (−.1, .25, 0, .5, 0) → mean .13, mean |Δ| .17.
        let w = [0.0, 0.25, 0.5, 1.0, 1.0];
        let prev = [0.1, 0.0, 0.5, 0.5, 1.0];
        let cfg = WeightConfig { n_bins: 4, ..WeightConfig::new(0.0, 1.0) };
        let s = weight_stats(&w, &cfg, Some(&prev)).unwrap();
        assert_close(s.mean, 0.55, 1e-12);
        assert_close(s.sd, 0.4, 1e-12);
        assert_close(s.fraction_at_lo, 0.2, 1e-12);
        assert_close(s.fraction_at_hi, 0.4, 1e-12);
        assert_eq!(s.histogram, vec![1, 1, 1, 2]);
        assert_eq!(s.bin_edges, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(s.n_out_of_range, 0);
        let c = s.change.unwrap();
        assert_close(c.mean_change, 0.13, 1e-12);
        assert_close(c.mean_abs_change, 0.17, 1e-12);
    }

    #[test]
    fn tolerance_and_out_of_range() {
        // Range 2, tol 1e-3 → ±0.002: −0.001 is "at lo" and goes in bin 0; 2.0015 "at hi", last
        // bin; 2.5 is out of range.
        let w = [-0.001, 0.7, 2.0015, 2.5];
        let s = weight_stats(&w, &WeightConfig { n_bins: 2, ..WeightConfig::new(0.0, 2.0) }, None).unwrap();
        assert_close(s.fraction_at_lo, 0.25, 1e-12);
        assert_close(s.fraction_at_hi, 0.25, 1e-12);
        assert_eq!(s.histogram, vec![2, 1]);
        assert_eq!(s.n_out_of_range, 1);
        assert_eq!(s.change, None);
    }

    #[test]
    fn invalid_inputs() {
        let cfg = WeightConfig::new(0.0, 1.0);
        assert_eq!(weight_stats(&[], &cfg, None).unwrap_err().to_string(), "invalid input: no weights");
        assert!(weight_stats(&[f64::NAN], &cfg, None).is_err());
        assert!(weight_stats(&[0.5], &WeightConfig::new(1.0, 1.0), None).is_err());
        assert!(weight_stats(&[0.5], &WeightConfig { n_bins: 0, ..cfg.clone() }, None).is_err());
        assert!(weight_stats(&[0.5], &cfg, Some(&[0.1, 0.2])).is_err());
    }
}
