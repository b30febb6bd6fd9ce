//! The single error type returned by every fallible analysis function.

use thiserror::Error;

/// Why an analysis could not be computed.
///
/// Only *invalid input* is an error. A metric that is merely undefined on valid data (for example
/// the CV of a population in which no neuron fired often enough) is reported as `None` inside the
/// result struct instead, so that a CLI computing many metrics at once does not abort on a silent
/// network.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AnalysisError {
    /// A time window with `t1 <= t0`.
    #[error("window is empty: [{t0}, {t1}) has no duration")]
    EmptyWindow { t0: f64, t1: f64 },

    /// A value that must be a finite number was NaN or infinite.
    #[error("{what} must be finite, got {value}")]
    NonFinite { what: String, value: f64 },

    /// Two inputs that must have matching lengths do not.
    #[error("{what}: expected length {expected}, got {found}")]
    LengthMismatch { what: String, expected: usize, found: usize },

    /// Decoding and information need at least two distinct stimulus patterns.
    #[error("need at least 2 patterns, found {found}")]
    TooFewPatterns { found: usize },

    /// The window is too short for the requested bin width.
    #[error("window of {duration} s holds {n_bins} bin(s) of {bin_width} s; need at least {needed}")]
    TooFewBins { duration: f64, bin_width: f64, n_bins: usize, needed: usize },

    /// Any other invalid argument, with a message naming the argument and the constraint.
    #[error("invalid input: {0}")]
    Invalid(String),
}

/// Shorthand used throughout the crate.
pub type Result<T> = std::result::Result<T, AnalysisError>;

/// Rejects NaN and infinities with a message naming the offending quantity.
pub(crate) fn check_finite(what: impl FnOnce() -> String, value: f64) -> Result<f64> {
    if value.is_finite() { Ok(value) } else { Err(AnalysisError::NonFinite { what: what(), value }) }
}

/// Rejects values that are not finite and strictly positive (bin widths, rates, durations).
pub(crate) fn check_positive(what: &str, value: f64) -> Result<f64> {
    let value = check_finite(|| what.to_string(), value)?;
    if value > 0.0 { Ok(value) } else { Err(AnalysisError::Invalid(format!("{what} must be positive, got {value}"))) }
}
