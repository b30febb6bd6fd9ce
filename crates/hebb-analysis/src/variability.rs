//! Single-neuron variability: coefficient of variation of inter-spike intervals and Fano factor of
//! binned spike counts.

use serde::{Deserialize, Serialize};

use crate::error::{AnalysisError, Result};
use crate::spikes::{CountMoments, SpikeTrains, Window};

/// Default minimum number of ISIs a neuron needs in the window to enter the CV average.
pub const DEFAULT_MIN_ISIS: usize = 5;

/// Default bin width for the Fano factor, in seconds.
pub const DEFAULT_FANO_BIN_S: f64 = 0.1;

/// Result of [`cv_isi`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvStats {
    /// Mean over the qualifying neurons of CVᵢ; `None` when no neuron qualifies.
    pub mean_cv: Option<f64>,
    /// Mean over the same neurons of the local variation measures, which compare each interval
    /// with its neighbour and so are not inflated by slow rate changes (stimulus switches) as
    /// CV is: CV2 = mean of 2|d_{k+1} − d_k| / (d_{k+1} + d_k) (Holt et al. 1996) and
    /// LV = 3/(n−1) Σ ((d_k − d_{k+1}) / (d_k + d_{k+1}))² (Shinomoto et al. 2003). Both are 1 for
    /// a Poisson process and 0 for a regular one.
    pub mean_cv2: Option<f64>,
    pub mean_lv: Option<f64>,
    /// Number of neurons that had at least `min_isis` ISIs in the window.
    pub n_neurons_used: usize,
    pub min_isis: usize,
}

/// Coefficient of variation of inter-spike intervals, averaged over neurons.
///
/// For neuron i with ISIs d₁…d_n (differences of consecutive spikes that both lie in the window;
/// the interval straddling a window edge is not seen):
///
/// ```text
/// μᵢ = (1/n) Σ d_k,   sᵢ² = (1/(n−1)) Σ (d_k − μᵢ)²,   CVᵢ = sᵢ / μᵢ
/// ```
///
/// and the result is the unweighted mean of CVᵢ over neurons with n ≥ `min_isis` (use
/// [`DEFAULT_MIN_ISIS`] = 5). Bias: sᵢ/μᵢ underestimates the true CV by O(1/n), which is why
/// neurons with very few ISIs are excluded rather than averaged in. A neuron whose ISIs are all
/// zero (duplicate spike times) has no defined CV and is skipped. Poisson trains give CV ≈ 1,
/// clock-like trains CV ≈ 0.
///
/// Errors if `min_isis < 2` (a standard deviation needs two intervals).
pub fn cv_isi(spikes: &SpikeTrains, window: Window, min_isis: usize) -> Result<CvStats> {
    if min_isis < 2 {
        return Err(AnalysisError::Invalid(format!("min_isis must be at least 2, got {min_isis}")));
    }
    let (mut sum_cv, mut sum_cv2, mut sum_lv) = (0.0, 0.0, 0.0);
    let mut used = 0usize;
    for train in spikes.per_neuron_times(window) {
        let n = train.len().saturating_sub(1);
        if n < min_isis {
            continue;
        }
        let isis = train.windows(2).map(|w| w[1] - w[0]);
        let mean = isis.clone().sum::<f64>() / n as f64;
        if mean <= 0.0 {
            continue;
        }
        // Two-pass variance: numerically stable for long, nearly regular trains where the
        // one-pass Σd² − nμ² would cancel catastrophically.
        let var = isis.clone().map(|d| (d - mean) * (d - mean)).sum::<f64>() / (n - 1) as f64;
        sum_cv += var.sqrt() / mean;
        let d: Vec<f64> = isis.collect();
        let pairs = d.windows(2).filter(|p| p[0] + p[1] > 0.0);
        let (mut cv2, mut lv) = (0.0, 0.0);
        for p in pairs {
            cv2 += 2.0 * (p[1] - p[0]).abs() / (p[1] + p[0]);
            lv += ((p[0] - p[1]) / (p[0] + p[1])).powi(2);
        }
        sum_cv2 += cv2 / (n - 1) as f64;
        sum_lv += 3.0 * lv / (n - 1) as f64;
        used += 1;
    }
    let mean = |s: f64| (used > 0).then(|| s / used as f64);
    Ok(CvStats {
        mean_cv: mean(sum_cv),
        mean_cv2: mean(sum_cv2),
        mean_lv: mean(sum_lv),
        n_neurons_used: used,
        min_isis,
    })
}

/// Result of [`fano`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FanoStats {
    /// Mean over neurons with a nonzero mean count of Fᵢ; `None` if every neuron is silent.
    pub mean_fano: Option<f64>,
    pub n_neurons_used: usize,
    pub n_bins: usize,
    pub bin_width_s: f64,
}

/// Fano factor of spike counts in consecutive bins of `bin_width` seconds (default
/// [`DEFAULT_FANO_BIN_S`] = 100 ms), averaged over neurons.
///
/// The window is cut into n = ⌊(t1 − t0)/Δ⌋ full bins (a trailing partial bin is dropped). For
/// neuron i with counts x₁…x_n:
///
/// ```text
/// mᵢ = (1/n) Σ x_t,   sᵢ² = (1/(n−1)) Σ (x_t − mᵢ)² = (n Σx² − (Σx)²) / (n (n−1)),   Fᵢ = sᵢ² / mᵢ
/// ```
///
/// using the unbiased (n−1) variance so that a Poisson process gives `E[sᵢ²] = mᵢ` exactly and
/// F ≈ 1 without a small-sample downward bias. The result is the unweighted mean over neurons
/// with mᵢ > 0. Note that this is a time-binned Fano factor of ongoing activity, not the
/// across-trial Fano factor of stimulus-locked responses.
///
/// Errors if the window holds fewer than 2 bins.
pub fn fano(spikes: &SpikeTrains, window: Window, bin_width: f64) -> Result<FanoStats> {
    let binned = spikes.bin_sparse(window, bin_width, 2)?;
    let n = binned.n_bins;
    let mut sum_f = 0.0;
    let mut used = 0usize;
    for row in &binned.rows {
        let m = CountMoments::of(row);
        if m.sum == 0 {
            continue;
        }
        // Fᵢ = (n Σx² − (Σx)²) / ((n−1) Σx), numerator exact in integers.
        sum_f += m.n2_var(n) as f64 / ((n - 1) as f64 * m.sum as f64);
        used += 1;
    }
    Ok(FanoStats {
        mean_fano: (used > 0).then(|| sum_f / used as f64),
        n_neurons_used: used,
        n_bins: n,
        bin_width_s: binned.bin_width,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{assert_close, poisson_population, regular_population};

    #[test]
    fn poisson_cv_and_fano_are_one() {
        // 100 neurons × 20 Hz × 50 s: ≈1000 ISIs per neuron, so each CVᵢ has sd ≈ 1/√1000 ≈ 0.03
        // and the mean over 100 neurons ≈ 0.003; with 500 bins of 100 ms (mean count 2) each Fᵢ
        // has sd ≈ √(2/499) ≈ 0.06 and the mean ≈ 0.006. ±0.05 is therefore > 8 sd for both —
        // reliably true for any seed, not just this one.
        let s = poisson_population(100, 20.0, 50.0, 42);
        let w = Window::new(0.0, 50.0).unwrap();
        let cv = cv_isi(&s, w, DEFAULT_MIN_ISIS).unwrap();
        assert_eq!(cv.n_neurons_used, 100);
        assert_close(cv.mean_cv.unwrap(), 1.0, 0.05);
        // CV2 and LV are 1 for Poisson too (their per-neuron sds are of the same order as CV's).
        assert_close(cv.mean_cv2.unwrap(), 1.0, 0.05);
        assert_close(cv.mean_lv.unwrap(), 1.0, 0.05);
        let f = fano(&s, w, DEFAULT_FANO_BIN_S).unwrap();
        assert_eq!((f.n_neurons_used, f.n_bins), (100, 500));
        assert_close(f.mean_fano.unwrap(), 1.0, 0.05);
    }

    #[test]
    fn regular_trains_have_zero_cv() {
        // Exactly periodic trains: ISIs differ only by floating-point rounding (~1e-15 relative).
        let s = regular_population(20, 10.0, 10.0);
        let cv = cv_isi(&s, Window::new(0.0, 10.0).unwrap(), DEFAULT_MIN_ISIS).unwrap();
        assert_eq!(cv.n_neurons_used, 20);
        assert!(cv.mean_cv.unwrap() < 0.01);
        assert!(cv.mean_cv2.unwrap() < 0.01 && cv.mean_lv.unwrap() < 0.01);
    }

    /// A neuron switching between 5 and 50 Hz Poisson every second (as a stimulus switch does):
    /// CV is inflated well above 1, CV2 and LV stay near 1.
    #[test]
    fn local_variation_ignores_rate_switches() {
        let mut g = crate::rng::SplitMix64::new(9);
        let mut train = Vec::new();
        let mut t = 0.0;
        while t < 200.0 {
            let rate = if (t as u64).is_multiple_of(2) { 5.0 } else { 50.0 };
            t += -(1.0 - g.next_f64()).ln() / rate;
            train.push(t);
        }
        train.pop();
        let s = SpikeTrains::from_per_neuron(&[train]).unwrap();
        let cv = cv_isi(&s, Window::new(0.0, 200.0).unwrap(), DEFAULT_MIN_ISIS).unwrap();
        assert!(cv.mean_cv.unwrap() > 1.4, "{cv:?}");
        assert!((cv.mean_cv2.unwrap() - 1.0).abs() < 0.15 && (cv.mean_lv.unwrap() - 1.0).abs() < 0.2, "{cv:?}");
    }

    #[test]
    fn hand_computed_cv_and_fano() {
        // ISIs 1, 1, 1, 1, 2, 2 → μ = 8/6, s² = Σ(d−μ)²/5 = (4·(1/9) + 2·(4/9))/5 = (12/9)/5 = 4/15.
        let s = SpikeTrains::from_per_neuron(&[vec![0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0], vec![0.5]]).unwrap();
        let cv = cv_isi(&s, Window::new(0.0, 10.0).unwrap(), 5).unwrap();
        assert_eq!(cv.n_neurons_used, 1);
        assert_close(cv.mean_cv.unwrap(), (4.0f64 / 15.0).sqrt() / (8.0 / 6.0), 1e-12);
        // Bins of 2 s over [0, 10): neuron 0 counts 2,2,1,1,1 (Σ=7, Σx²=11): F = (5·11 − 49)/(4·7) = 6/28.
        // Neuron 1 counts 1,0,0,0,0 (Σ=1, Σx²=1): F = (5 − 1)/(4·1) = 1.
        let f = fano(&s, Window::new(0.0, 10.0).unwrap(), 2.0).unwrap();
        assert_eq!(f.n_neurons_used, 2);
        assert_close(f.mean_fano.unwrap(), (6.0 / 28.0 + 1.0) / 2.0, 1e-12);
    }

    #[test]
    fn undefined_cases_and_errors() {
        let s = SpikeTrains::from_per_neuron(&[vec![0.1, 0.2], vec![]]).unwrap();
        let w = Window::new(0.0, 1.0).unwrap();
        assert_eq!(cv_isi(&s, w, 5).unwrap().mean_cv, None);
        assert!(cv_isi(&s, w, 1).is_err());
        assert!(matches!(fano(&s, w, 0.6), Err(AnalysisError::TooFewBins { .. })));
        assert!(fano(&s, w, 0.0).is_err());
        assert_eq!(fano(&SpikeTrains::empty(3), w, 0.1).unwrap().mean_fano, None);
    }
}
