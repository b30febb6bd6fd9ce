//! Deterministic synthetic spike data with known statistics, for the crate's unit tests only.

use crate::rng::SplitMix64;
use crate::spikes::{Presentation, SpikeTrains};

/// Exponential variate with the given rate: −ln(1 − u) / λ, u ∈ [0, 1) so the log is finite.
pub(crate) fn exponential(g: &mut SplitMix64, rate: f64) -> f64 {
    -(1.0 - g.next_f64()).ln() / rate
}

/// One homogeneous Poisson train on [t0, t1) built from exponential ISIs.
pub(crate) fn poisson_train(g: &mut SplitMix64, rate: f64, t0: f64, t1: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut t = t0 + exponential(g, rate);
    while t < t1 {
        out.push(t);
        t += exponential(g, rate);
    }
    out
}

/// `n` independent homogeneous Poisson trains at `rate` Hz on [0, duration).
pub(crate) fn poisson_population(n: usize, rate: f64, duration: f64, seed: u64) -> SpikeTrains {
    let mut g = SplitMix64::new(seed);
    let trains: Vec<Vec<f64>> = (0..n).map(|_| poisson_train(&mut g, rate, 0.0, duration)).collect();
    SpikeTrains::from_per_neuron(&trains).expect("synthetic trains are valid")
}

/// `n` perfectly regular trains at `rate` Hz on [0, duration), each with its own phase.
pub(crate) fn regular_population(n: usize, rate: f64, duration: f64) -> SpikeTrains {
    let period = 1.0 / rate;
    let trains: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            let phase = period * (i as f64 + 0.5) / n as f64;
            // t_k = phase + k·T computed from k (not by accumulation) so every ISI is T up to one ulp.
            (0u64..).map(|k| phase + k as f64 * period).take_while(|&t| t < duration).collect()
        })
        .collect();
    SpikeTrains::from_per_neuron(&trains).expect("synthetic trains are valid")
}

/// Inhomogeneous Poisson trains with rate λ(t) = base · (1 + depth · sin(2π f t)), by thinning
/// (Lewis & Shedler): draw at λ_max = base(1 + depth) and keep each spike with prob λ(t)/λ_max.
pub(crate) fn modulated_population(
    n: usize,
    base: f64,
    depth: f64,
    freq: f64,
    duration: f64,
    seed: u64,
) -> SpikeTrains {
    let mut g = SplitMix64::new(seed);
    let lambda_max = base * (1.0 + depth);
    let trains: Vec<Vec<f64>> = (0..n)
        .map(|_| {
            poisson_train(&mut g, lambda_max, 0.0, duration)
                .into_iter()
                .filter(|&t| {
                    let lambda = base * (1.0 + depth * (2.0 * std::f64::consts::PI * freq * t).sin());
                    g.next_f64() * lambda_max < lambda
                })
                .collect()
        })
        .collect();
    SpikeTrains::from_per_neuron(&trains).expect("synthetic trains are valid")
}

/// Back-to-back presentations of `duration` s separated by `gap` s, cycling through `n_patterns`
/// patterns in a seeded random order (balanced: every pattern appears `per_pattern` times).
pub(crate) fn presentations(
    n_patterns: usize,
    per_pattern: usize,
    duration: f64,
    gap: f64,
    seed: u64,
) -> Vec<Presentation> {
    let mut order: Vec<usize> = (0..n_patterns).flat_map(|p| std::iter::repeat_n(p, per_pattern)).collect();
    SplitMix64::new(seed).shuffle(&mut order);
    order
        .into_iter()
        .enumerate()
        .map(|(k, pattern)| {
            let t0 = k as f64 * (duration + gap);
            Presentation { pattern, t0, t1: t0 + duration }
        })
        .collect()
}

/// Asserts `|actual − expected| <= tol` with a readable message.
#[track_caller]
pub(crate) fn assert_close(actual: f64, expected: f64, tol: f64) {
    assert!((actual - expected).abs() <= tol, "expected {expected} ± {tol}, got {actual}");
}
