//! A uniformly sampled population-rate time series (Hz per bin), input to the spectrum and the
//! homeostatic-control metrics.

use crate::error::{AnalysisError, Result, check_finite, check_positive};

/// Rates `rates[k]` in Hz for the bin `[t_start + k·Δ, t_start + (k+1)·Δ)`, Δ = `bin_width` seconds.
///
/// Borrowed, with public fields for convenience; every function that takes one calls
/// [`RateSeries::validate`] first, which is O(len) and negligible next to the analyses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateSeries<'a> {
    pub rates: &'a [f64],
    pub bin_width: f64,
    /// Start time of the first bin, in seconds.
    pub t_start: f64,
}

impl<'a> RateSeries<'a> {
    /// A series whose first bin starts at t = 0.
    pub fn new(rates: &'a [f64], bin_width: f64) -> Self {
        Self { rates, bin_width, t_start: 0.0 }
    }

    /// The same series with its first bin starting at `t_start`.
    pub fn starting_at(self, t_start: f64) -> Self {
        Self { t_start, ..self }
    }

    /// Start time of bin `k`.
    pub fn time_of(&self, k: usize) -> f64 {
        self.t_start + k as f64 * self.bin_width
    }

    /// Checks: non-empty, positive finite bin width, finite start and finite rates.
    pub fn validate(&self) -> Result<()> {
        check_positive("rate-series bin width", self.bin_width)?;
        check_finite(|| "rate-series start time".into(), self.t_start)?;
        if self.rates.is_empty() {
            return Err(AnalysisError::Invalid("rate series is empty".into()));
        }
        for (k, &r) in self.rates.iter().enumerate() {
            check_finite(|| format!("rate sample #{k}"), r)?;
        }
        Ok(())
    }
}

/// Pearson correlation of two equal-length vectors (two-pass); `None` if either is constant.
pub(crate) fn pearson(u: &[f64], v: &[f64]) -> Option<f64> {
    let n = u.len() as f64;
    let (mu, mv) = (u.iter().sum::<f64>() / n, v.iter().sum::<f64>() / n);
    let (mut suv, mut suu, mut svv) = (0.0, 0.0, 0.0);
    for (&a, &b) in u.iter().zip(v) {
        let (da, db) = (a - mu, b - mv);
        suv += da * db;
        suu += da * da;
        svv += db * db;
    }
    (suu > 0.0 && svv > 0.0).then(|| suv / (suu * svv).sqrt())
}
