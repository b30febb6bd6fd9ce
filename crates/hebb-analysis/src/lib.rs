//! Coding-reliability metrics over recorded spike data for the hebb spiking-network simulator.
//!
//! # Conventions
//!
//! * **Time** is in seconds, rates in Hz. Windows are half-open, `[t0, t1)`; a spike at exactly
//!   `t1` belongs to the next window.
//! * **Binning** uses only the ⌊(t1 − t0)/Δ⌋ *full* bins of width Δ; a trailing partial bin is
//!   dropped because its smaller expected count would inflate variances.
//! * **Errors vs. undefined values.** Invalid input (empty window, non-finite numbers, fewer than
//!   2 patterns, …) returns [`AnalysisError`]. A metric that is merely undefined on valid data
//!   (e.g. CV of a silent population) is `None` in its result struct.
//! * **Determinism.** Every random choice (pair sampling, cross-validation folds, label
//!   shuffles) comes from a seed in the config through a built-in SplitMix64 generator, so results
//!   are bit-reproducible.
//! * **Variances** are unbiased (n − 1) where the quantity is an estimate from samples of a
//!   process (ISI CV, Fano factor) and population (n) where the formula is a ratio in which the
//!   normalisation cancels (correlation, χ) or the data are the whole population (weights).
//!
//! # Metrics
//!
//! | metric | function |
//! | --- | --- |
//! | rates | [`rates`], [`per_neuron_rates`], [`population_rate`] |
//! | ISI CV | [`cv_isi`] |
//! | Fano factor | [`fano`]; across repetitions, mean-matched: [`stimulus_fano`] |
//! | pairwise correlation | [`correlation`]; signal and noise: [`signal_noise_correlations`] |
//! | synchrony χ | [`synchrony`] |
//! | Welch spectrum | [`spectrum`] |
//! | decoding | [`response_counts`], [`decode`], [`decoding`] |
//! | mutual information | [`mutual_information`], [`information`], [`confusion_mi`] |
//! | representational drift | [`drift`], [`drift_responses`] |
//! | weights | [`weight_stats`] |
//! | homeostatic control | [`control_quality`], [`per_neuron_control`] |
//! | recurrent stability | [`spectral_radius`]; assemblies: [`assembly_weights`] |
//! | E/I balance | [`ei_balance`] |
//! | statistics across seeds | [`stats`] |
//!
//! ```
//! use hebb_analysis::{SpikeTrains, Window, rates};
//!
//! let spikes = SpikeTrains::from_per_neuron(&[vec![0.1, 0.4], vec![]])?;
//! let r = rates(&spikes, Window::new(0.0, 1.0)?)?;
//! assert_eq!((r.mean_hz, r.fraction_silent), (1.0, 0.5));
//! # Ok::<(), hebb_analysis::AnalysisError>(())
//! ```

mod balance;
mod control;
mod correlation;
mod decoding;
mod drift;
mod error;
mod information;
mod matrix;
mod rates;
mod rng;
mod series;
mod similarity;
mod spectrum;
mod spikes;
pub mod stats;
#[cfg(test)]
mod test_support;
mod trials;
mod variability;
mod weights;

pub use balance::{Balance, ei_balance};
pub use control::{
    ControlConfig, ControlStats, DEFAULT_RECOVERY_TOLERANCE, PerNeuronControl, Recovery, Settling, control_quality,
    per_neuron_control, per_neuron_settling,
};
pub use correlation::{
    CorrelationConfig, CorrelationStats, DEFAULT_CORRELATION_BIN_S, DEFAULT_CORRELATION_PAIRS, DEFAULT_SYNCHRONY_BIN_S,
    SynchronyStats, correlation, synchrony,
};
pub use decoding::{
    DEFAULT_FOLDS, DecoderConfig, DecodingResult, PosteriorInformation, ReadoutResult, Responses, decode, decoding,
    fixed_readout, posterior_information, response_counts,
};
pub use drift::{DriftResult, drift, drift_responses};
pub use error::{AnalysisError, Result};
pub use information::{
    DEFAULT_SHUFFLES, InformationResult, MiEstimate, TRIALS_PER_PATTERN_FACTOR, bayes_count, confusion_mi, information,
    mutual_information, mutual_information_with,
};
pub use matrix::{SpectralRadius, spectral_radius};
pub use rates::{RateStats, per_neuron_rates, rates};
pub use series::RateSeries;
pub use similarity::{SimilarityResult, pattern_similarity};
pub use spectrum::{BandPower, Spectrum, spectrum};
pub use spikes::{Presentation, SpikeTrains, Window, population_rate};
pub use trials::{
    AssemblyWeights, SignalNoise, StimulusFano, assembly_weights, signal_noise_correlations, stimulus_fano,
};
pub use variability::{CvStats, DEFAULT_FANO_BIN_S, DEFAULT_MIN_ISIS, FanoStats, cv_isi, fano};
pub use weights::{DEFAULT_BOUND_TOL, DEFAULT_WEIGHT_BINS, WeightChange, WeightConfig, WeightStats, weight_stats};
