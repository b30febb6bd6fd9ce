//! Quality of homeostatic rate control: tracking error against a target rate, and recovery time
//! after a perturbation.

use serde::{Deserialize, Serialize};

use crate::error::{AnalysisError, Result, check_finite, check_positive};
use crate::series::RateSeries;
use crate::spikes::Window;

/// Default half-width of the "back at target" band, relative to the target (10 %).
pub const DEFAULT_RECOVERY_TOLERANCE: f64 = 0.1;

/// Parameters of [`control_quality`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlConfig {
    /// Target rate r* in Hz (> 0).
    pub target_hz: f64,
    /// Window over which the tracking error is averaged (samples whose start time lies in it).
    pub window: Window,
    /// Perturbation onset; `None` skips the recovery analysis.
    pub perturbation_time_s: Option<f64>,
    /// Band half-width ε relative to target: "within band" means |r − r*| ≤ ε r*.
    pub tolerance: f64,
    /// The rate must stay in the band for at least this long to count as returned (0 = first
    /// re-entry). Use it for noisy rates, where single samples graze the band.
    pub hold_s: f64,
}

impl ControlConfig {
    /// Target and error window with a 10 % band, no hold and no perturbation.
    pub fn new(target_hz: f64, window: Window) -> Self {
        Self { target_hz, window, perturbation_time_s: None, tolerance: DEFAULT_RECOVERY_TOLERANCE, hold_s: 0.0 }
    }

    pub fn with_perturbation(self, t: f64) -> Self {
        Self { perturbation_time_s: Some(t), ..self }
    }
}

/// Recovery after the perturbation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recovery {
    pub perturbation_time_s: f64,
    /// Whether the rate left the band at or after the perturbation at all.
    pub left_band: bool,
    /// Time from the perturbation to the start of the first sample, after the rate left the
    /// band, that begins an in-band stretch of at least `hold_s` (and ≥ 1 sample). `Some(0.0)`
    /// if the rate never left the band; `None` if it never returned before the series ended.
    pub time_to_return_s: Option<f64>,
}

/// Result of [`control_quality`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlStats {
    /// (1/n) Σ_k |r_k − r*| / r* over the n samples in the window.
    pub mean_rel_error: f64,
    pub n_samples: usize,
    /// `None` when no perturbation time was given.
    pub recovery: Option<Recovery>,
}

/// Homeostatic control quality of a population-rate series against a target rate.
///
/// Sample k stands for time t_k = t_start + kΔ (its bin start). The tracking error is
///
/// ```text
/// E = (1/n) Σ_{k: t_k ∈ [t0, t1)} |r_k − r*| / r*
/// ```
///
/// It is not bias-corrected: Poisson noise in the rate estimate adds to E even under perfect
/// control (roughly √(2/π)·√(r*/(N Δ))/r* for N neurons and bin Δ), so use wide enough bins.
///
/// Recovery: from the first sample with t_k ≥ t_p, find the first sample outside the band
/// |r − r*| ≤ ε r* (the departure), then the first later sample j that starts a run of
/// max(1, ⌈hold/Δ⌉) in-band samples; the recovery time is t_j − t_p. Looking for the departure
/// first avoids reporting 0 when the perturbation's effect takes a few bins to show.
///
/// Errors if the series is invalid, the target is not positive, the tolerance or hold is
/// negative, no sample lies in the window, or the perturbation time is after the last sample.
pub fn control_quality(series: RateSeries<'_>, config: &ControlConfig) -> Result<ControlStats> {
    series.validate()?;
    let target = check_positive("target rate", config.target_hz)?;
    let eps = config.tolerance;
    if !(eps.is_finite() && eps >= 0.0) {
        return Err(AnalysisError::Invalid(format!("tolerance must be >= 0, got {eps}")));
    }
    let hold = config.hold_s;
    if !(hold.is_finite() && hold >= 0.0) {
        return Err(AnalysisError::Invalid(format!("hold time must be >= 0, got {hold}")));
    }
    let r = series.rates;

    let errs: Vec<f64> = (0..r.len())
        .filter(|&k| config.window.contains(series.time_of(k)))
        .map(|k| (r[k] - target).abs() / target)
        .collect();
    if errs.is_empty() {
        return Err(AnalysisError::Invalid(format!(
            "no rate sample falls in the window [{}, {})",
            config.window.t0(),
            config.window.t1()
        )));
    }
    let mean_rel_error = errs.iter().sum::<f64>() / errs.len() as f64;

    let recovery = match config.perturbation_time_s {
        None => None,
        Some(tp) => {
            let tp = check_finite(|| "perturbation time".into(), tp)?;
            let start = (0..r.len()).find(|&k| series.time_of(k) >= tp).ok_or_else(|| {
                AnalysisError::Invalid(format!(
                    "perturbation time {tp} s is after the last rate sample at {} s",
                    series.time_of(r.len() - 1)
                ))
            })?;
            let in_band = |k: usize| (r[k] - target).abs() <= eps * target;
            // Samples needed in a row; the small slack keeps e.g. hold = 0.3 s, Δ = 0.1 s at 3.
            let hold_bins = ((hold / series.bin_width - 1e-9).ceil() as usize).max(1);
            let departure = (start..r.len()).find(|&k| !in_band(k));
            let time_to_return_s = match departure {
                None => Some(0.0),
                Some(d) => (d + 1..r.len())
                    .find(|&j| j + hold_bins <= r.len() && (j..j + hold_bins).all(in_band))
                    .map(|j| series.time_of(j) - tp),
            };
            Some(Recovery { perturbation_time_s: tp, left_band: departure.is_some(), time_to_return_s })
        }
    };
    Ok(ControlStats { mean_rel_error, n_samples: errs.len(), recovery })
}

/// How well each neuron is held at the target: homeostatic rules act per neuron, so a
/// population whose mean is on target can still be far from it (half silent, half at twice the
/// target).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerNeuronControl {
    /// Mean over neurons of |r_i − R| / R, each neuron's rate r_i over the late window.
    pub mean_rel_error: f64,
    /// Fraction of neurons with |r_i − R| / R ≤ `tolerance`.
    pub fraction_within: f64,
    pub tolerance: f64,
    /// The late window: the last fraction of the measured one (after the transient).
    pub t0: f64,
    pub t1: f64,
    pub n_neurons: usize,
}

/// Per-neuron control over the last `late` fraction of `window` (the rest is left to the
/// transient; 0.5: the second half). Errors if the population has no neurons, the target is not
/// positive or `late` is not in (0, 1].
pub fn per_neuron_control(
    spikes: &crate::SpikeTrains,
    window: Window,
    target_hz: f64,
    tolerance: f64,
    late: f64,
) -> Result<PerNeuronControl> {
    if !(late > 0.0 && late <= 1.0) {
        return Err(AnalysisError::Invalid(format!("the late fraction must be in (0, 1], got {late}")));
    }
    if !(target_hz > 0.0 && target_hz.is_finite()) {
        return Err(AnalysisError::Invalid(format!("target rate must be positive, got {target_hz}")));
    }
    let n = spikes.n_neurons();
    if n == 0 {
        return Err(AnalysisError::Invalid("population has no neurons".into()));
    }
    let late = Window::new(window.t1() - late * window.duration(), window.t1())?;
    let errors: Vec<f64> =
        crate::per_neuron_rates(spikes, late).iter().map(|r| (r - target_hz).abs() / target_hz).collect();
    Ok(PerNeuronControl {
        mean_rel_error: errors.iter().sum::<f64>() / n as f64,
        fraction_within: errors.iter().filter(|e| **e <= tolerance).count() as f64 / n as f64,
        tolerance,
        t0: late.t0(),
        t1: late.t1(),
        n_neurons: n,
    })
}

/// Bins averaged for a neuron's settling (10 bins of the default 1 s: 10 s).
pub const SETTLING_BINS: usize = 10;

/// When each neuron settled at the target after a perturbation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settling {
    /// Median over the neurons that settled of their settling time (s after
    /// the perturbation); `None` when none did.
    pub median_s: Option<f64>,
    /// The 90th percentile over the neurons that settled.
    pub p90_s: Option<f64>,
    /// Fraction of neurons that settled within the window.
    pub fraction_settled: f64,
    pub bin_s: f64,
    /// The averaging time T (`SETTLING_BINS` bins).
    pub averaging_s: f64,
    pub perturbation_time_s: f64,
    pub n_neurons: usize,
}

/// Per neuron, the time after `perturbation_s` from which its rate stays
/// near the target R: the rate is averaged over a sliding run of
/// `SETTLING_BINS` bins of `bin_s` (so stimulus switches and Poisson noise
/// average out), and must stay within max(`tolerance` · R, 2 √(R / T)),
/// T the averaging time — the relative band, widened to two Poisson
/// standard deviations of a rate counted over T when that is wider (a
/// neuron firing exactly at R as a Poisson process then stays in the band
/// about 95 % of the time). A neuron settles at the start of the first
/// averaging run after which every run is in the band; it needs at least
/// two runs in the band.
pub fn per_neuron_settling(
    spikes: &crate::SpikeTrains,
    window: Window,
    perturbation_s: f64,
    target_hz: f64,
    tolerance: f64,
    bin_s: f64,
) -> Result<Settling> {
    check_positive("bin width", bin_s)?;
    check_positive("target rate", target_hz)?;
    let n = spikes.n_neurons();
    let start = perturbation_s.max(window.t0());
    let n_bins = ((window.t1() - start) / bin_s + 1e-9).floor() as usize;
    let runs = n_bins.saturating_sub(SETTLING_BINS - 1);
    if runs < 2 {
        return Err(AnalysisError::TooFewBins {
            duration: window.t1() - start,
            bin_width: bin_s,
            n_bins,
            needed: SETTLING_BINS + 1,
        });
    }
    let averaging = SETTLING_BINS as f64 * bin_s;
    let band = (tolerance * target_hz).max(2.0 * (target_hz / averaging).sqrt());
    let mut counts = vec![vec![0u32; n_bins]; n];
    for (&t, &i) in spikes.times().iter().zip(spikes.indices()) {
        if t >= start {
            let b = ((t - start) / bin_s) as usize;
            if b < n_bins {
                counts[i as usize][b] += 1;
            }
        }
    }
    let mut times: Vec<f64> = counts
        .iter()
        .filter_map(|c| {
            let sums: Vec<u32> = c.windows(SETTLING_BINS).map(|w| w.iter().sum()).collect();
            let ok = |b: usize| (sums[b] as f64 / averaging - target_hz).abs() <= band;
            // The earliest run from which all later runs are in the band.
            let mut first = runs;
            while first > 0 && ok(first - 1) {
                first -= 1;
            }
            (first + 1 < runs).then_some(first as f64 * bin_s + (start - perturbation_s))
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let quantile = |q: f64| (!times.is_empty()).then(|| times[((times.len() - 1) as f64 * q).round() as usize]);
    Ok(Settling {
        median_s: quantile(0.5),
        p90_s: quantile(0.9),
        fraction_settled: if n == 0 { 0.0 } else { times.len() as f64 / n as f64 },
        bin_s,
        averaging_s: averaging,
        perturbation_time_s: perturbation_s,
        n_neurons: n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::assert_close;

    #[test]
    fn each_neuron_settles_when_its_rate_returns() {
        // Neuron k fires regularly at 40 Hz until t = k s, then at 5 Hz
        // (target 5 Hz, 1 s bins averaged over 10 s, band max(0.5,
        // 2√(5/10) ≈ 1.4) Hz): it settles at k s after the perturbation at
        // 0 (the first 10 s run starting at k s is all at 5 Hz; one starting
        // a bin earlier holds a bin at 40 Hz: mean 8.5 Hz). Neuron 4 never
        // returns.
        let mut per = Vec::new();
        for k in 0..4 {
            let mut t = Vec::new();
            let mut x = 0.0125;
            while x < 20.0 {
                t.push(x);
                x += if x < k as f64 { 1.0 / 40.0 } else { 1.0 / 5.0 };
            }
            per.push(t);
        }
        per.push((0..800).map(|j| 0.0125 + j as f64 / 40.0).collect());
        let st = crate::SpikeTrains::from_per_neuron(&per).unwrap();
        let s = per_neuron_settling(&st, w(0.0, 20.0), 0.0, 5.0, 0.1, 1.0).unwrap();
        assert_eq!(s.fraction_settled, 0.8);
        assert_eq!(s.median_s, Some(2.0));
        assert_eq!(s.p90_s, Some(3.0));
        assert_eq!(s.averaging_s, 10.0);
        assert!(per_neuron_settling(&st, w(0.0, 20.0), 10.5, 5.0, 0.1, 1.0).is_err());
    }

    fn w(t0: f64, t1: f64) -> Window {
        Window::new(t0, t1).unwrap()
    }

    #[test]
    fn hand_computed_control() {
        // Target 10 Hz, Δ = 1 s. Window [0, 3): errors 0, 0.15, 0.05 → mean 0.2/3.
        // Perturbation at t = 3: departs at once (20 Hz), 15 and 12 are outside ±1 Hz, 10.5 at
        // t = 6 is back inside → 3 s. With hold 2 s the run must be 2 samples: 10.5 then 12 breaks
        // it, 10 and 9.5 (t = 8, 9) qualify → 5 s.
        let rates = [10.0, 11.5, 9.5, 20.0, 15.0, 12.0, 10.5, 12.0, 10.0, 9.5];
        let series = RateSeries::new(&rates, 1.0);
        let cfg = ControlConfig::new(10.0, w(0.0, 3.0)).with_perturbation(3.0);
        let c = control_quality(series, &cfg).unwrap();
        assert_close(c.mean_rel_error, 0.2 / 3.0, 1e-12);
        assert_eq!(c.n_samples, 3);
        let rec = c.recovery.unwrap();
        assert!(rec.left_band);
        assert_close(rec.time_to_return_s.unwrap(), 3.0, 1e-12);
        let c = control_quality(series, &ControlConfig { hold_s: 2.0, ..cfg.clone() }).unwrap();
        assert_close(c.recovery.unwrap().time_to_return_s.unwrap(), 5.0, 1e-12);
        // Needing 3 in-band samples in a row: only 10, 9.5 remain at the end → never returns.
        let c = control_quality(series, &ControlConfig { hold_s: 3.0, ..cfg }).unwrap();
        assert_eq!(c.recovery.unwrap().time_to_return_s, None);
    }

    #[test]
    fn delayed_effect_and_offset_start() {
        // Series starting at t = 100 s with Δ = 0.5 s; perturbation at 100.5 s but the rate only
        // leaves the band at 101.5 s and re-enters at 102.5 s → 2 s, not 0.
        let rates = [5.0, 5.0, 5.1, 8.0, 7.0, 5.2, 5.0];
        let series = RateSeries::new(&rates, 0.5).starting_at(100.0);
        let cfg = ControlConfig::new(5.0, w(100.0, 101.0)).with_perturbation(100.5);
        let c = control_quality(series, &cfg).unwrap();
        assert_close(c.mean_rel_error, 0.0, 1e-12);
        assert_close(c.recovery.unwrap().time_to_return_s.unwrap(), 2.0, 1e-12);
        // A rate that never leaves the band: recovered immediately, flagged as never left.
        let flat = [5.0; 6];
        let c =
            control_quality(RateSeries::new(&flat, 1.0), &ControlConfig::new(5.0, w(0.0, 6.0)).with_perturbation(2.0))
                .unwrap();
        let rec = c.recovery.unwrap();
        assert!(!rec.left_band);
        assert_eq!(rec.time_to_return_s, Some(0.0));
    }

    #[test]
    fn invalid_inputs() {
        let rates = [1.0, 2.0];
        let s = RateSeries::new(&rates, 1.0);
        assert!(control_quality(s, &ControlConfig::new(0.0, w(0.0, 2.0))).is_err());
        assert!(control_quality(s, &ControlConfig::new(1.0, w(5.0, 6.0))).is_err());
        assert!(control_quality(s, &ControlConfig::new(1.0, w(0.0, 2.0)).with_perturbation(3.0)).is_err());
        assert!(
            control_quality(s, &ControlConfig { tolerance: -0.1, ..ControlConfig::new(1.0, w(0.0, 2.0)) }).is_err()
        );
        assert!(control_quality(RateSeries::new(&[], 1.0), &ControlConfig::new(1.0, w(0.0, 2.0))).is_err());
    }

    /// Half the neurons silent, half at twice the target: the population rate is on target
    /// (error 0), but every neuron is 100 % off.
    #[test]
    fn per_neuron_error_sees_what_the_population_mean_hides() {
        let trains: Vec<Vec<f64>> = (0..10)
            .map(|i| if i % 2 == 0 { Vec::new() } else { (0..40).map(|k| k as f64 * 0.1 + 0.05).collect() })
            .collect();
        let spikes = crate::SpikeTrains::from_per_neuron(&trains).unwrap();
        // 40 spikes in 4 s = 10 Hz for the odd neurons; target 5 Hz; mean rate 5 Hz.
        let window = w(0.0, 4.0);
        let pop = crate::rates(&spikes, window).unwrap();
        assert_close(pop.mean_hz, 5.0, 1e-12);
        let c = per_neuron_control(&spikes, window, 5.0, 0.1, 0.5).unwrap();
        assert_close(c.mean_rel_error, 1.0, 1e-12);
        assert_eq!((c.fraction_within, c.n_neurons, c.t0), (0.0, 10, 2.0));
        // The last quarter of the window: [3, 4).
        assert_eq!(per_neuron_control(&spikes, window, 5.0, 0.1, 0.25).unwrap().t0, 3.0);
        assert!(per_neuron_control(&spikes, window, 0.0, 0.1, 0.5).is_err());
        assert!(per_neuron_control(&spikes, window, 5.0, 0.1, 1.5).is_err());
    }
}
