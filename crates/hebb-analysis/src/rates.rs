//! Firing-rate summary of a population over a window: mean, median, fraction silent.

use serde::{Deserialize, Serialize};

use crate::error::{AnalysisError, Result};
use crate::spikes::{SpikeTrains, Window};

/// Rate summary over one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateStats {
    /// Mean over neurons of rᵢ = nᵢ / (t1 − t0), in Hz (silent neurons included as 0 Hz).
    pub mean_hz: f64,
    /// Median over neurons of rᵢ, in Hz (mean of the two middle values for even N).
    pub median_hz: f64,
    /// Fraction of neurons with no spike in the window.
    pub fraction_silent: f64,
    pub n_neurons: usize,
    pub duration_s: f64,
}

/// Per-neuron rate rᵢ = nᵢ / (t1 − t0) in Hz, where nᵢ counts spikes with t0 ≤ t < t1.
pub fn per_neuron_rates(spikes: &SpikeTrains, window: Window) -> Vec<f64> {
    let d = window.duration();
    spikes.counts_in(window.t0(), window.t1()).into_iter().map(|n| n as f64 / d).collect()
}

/// Mean rate, median rate and fraction silent over `window`.
///
/// No bias correction is needed: nᵢ / T is an unbiased estimate of a stationary neuron's rate.
/// Errors if the population has no neurons.
pub fn rates(spikes: &SpikeTrains, window: Window) -> Result<RateStats> {
    let n = spikes.n_neurons();
    if n == 0 {
        return Err(AnalysisError::Invalid("population has no neurons".into()));
    }
    let mut r = per_neuron_rates(spikes, window);
    let mean_hz = r.iter().sum::<f64>() / n as f64;
    let fraction_silent = r.iter().filter(|&&x| x == 0.0).count() as f64 / n as f64;
    r.sort_by(f64::total_cmp);
    let median_hz = if n % 2 == 1 { r[n / 2] } else { 0.5 * (r[n / 2 - 1] + r[n / 2]) };
    Ok(RateStats { mean_hz, median_hz, fraction_silent, n_neurons: n, duration_s: window.duration() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{assert_close, poisson_population};

    #[test]
    fn hand_computed_rates() {
        // Window 2 s. Neuron 0: 4 spikes (2 Hz), neuron 1: 1 spike in window (0.5 Hz; the one at
        // t = 2.0 is outside the half-open window), neuron 2 silent, neuron 3: 2 spikes (1 Hz).
        let s =
            SpikeTrains::from_per_neuron(&[vec![0.1, 0.5, 1.0, 1.5], vec![0.2, 2.0], vec![], vec![0.3, 1.9]]).unwrap();
        let st = rates(&s, Window::new(0.0, 2.0).unwrap()).unwrap();
        assert_close(st.mean_hz, (2.0 + 0.5 + 0.0 + 1.0) / 4.0, 1e-12);
        assert_close(st.median_hz, 0.75, 1e-12);
        assert_close(st.fraction_silent, 0.25, 1e-12);
    }

    #[test]
    fn poisson_mean_rate() {
        // 200 neurons × 10 Hz × 20 s = 40 000 expected spikes: the relative sd of the total is
        // 1/√40000 = 0.5 %, so ±3 % (0.3 Hz) is six standard deviations.
        let s = poisson_population(200, 10.0, 20.0, 11);
        let st = rates(&s, Window::new(0.0, 20.0).unwrap()).unwrap();
        assert_close(st.mean_hz, 10.0, 0.3);
        assert_eq!(st.fraction_silent, 0.0);
    }

    #[test]
    fn empty_population_is_an_error() {
        assert!(rates(&SpikeTrains::empty(0), Window::new(0.0, 1.0).unwrap()).is_err());
    }
}
