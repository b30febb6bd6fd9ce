//! Input data model (spike trains, time windows, stimulus presentations) and the binning helpers
//! shared by the metrics.

use serde::{Deserialize, Serialize};

use crate::error::{AnalysisError, Result, check_finite, check_positive};

/// A half-open time window `[t0, t1)` in seconds.
///
/// The fields are private so that every `Window` in existence is valid (finite, `t1 > t0`); the
/// metrics rely on that instead of re-checking.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Window {
    t0: f64,
    t1: f64,
}

impl Window {
    /// Validates and builds `[t0, t1)`. Errors with "window is empty" when `t1 <= t0`.
    pub fn new(t0: f64, t1: f64) -> Result<Self> {
        check_finite(|| "window start".into(), t0)?;
        check_finite(|| "window end".into(), t1)?;
        if t1 <= t0 {
            return Err(AnalysisError::EmptyWindow { t0, t1 });
        }
        Ok(Self { t0, t1 })
    }

    pub fn t0(&self) -> f64 {
        self.t0
    }

    pub fn t1(&self) -> f64 {
        self.t1
    }

    /// `t1 − t0` in seconds (always > 0).
    pub fn duration(&self) -> f64 {
        self.t1 - self.t0
    }

    /// `true` when `t0 <= t < t1`.
    pub fn contains(&self, t: f64) -> bool {
        t >= self.t0 && t < self.t1
    }

    /// Number of *full* bins of width `bin_width` that fit in the window.
    ///
    /// A trailing partial bin is dropped rather than kept short, because a shorter bin has a
    /// smaller expected count and would inflate every variance computed over bins. The ratio is
    /// snapped to the nearest integer when it is within 1e-9 of it, so that e.g. a 1 s window in
    /// 0.1 s bins gives 10 bins despite `1.0 / 0.1` not being exact in binary.
    pub(crate) fn n_full_bins(&self, bin_width: f64) -> usize {
        let ratio = self.duration() / bin_width;
        let nearest = ratio.round();
        let n = if (ratio - nearest).abs() <= 1e-9 * nearest.max(1.0) { nearest } else { ratio.floor() };
        n as usize
    }
}

/// One presentation of stimulus pattern `pattern` during `[t0, t1)` (seconds).
///
/// Pattern ids are arbitrary labels (they need not be contiguous); the analyses map the distinct
/// ids, sorted ascending, to classes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Presentation {
    pub pattern: usize,
    pub t0: f64,
    pub t1: f64,
}

impl Presentation {
    /// The presentation's window, validated.
    pub fn window(&self) -> Result<Window> {
        Window::new(self.t0, self.t1)
            .map_err(|e| AnalysisError::Invalid(format!("presentation of pattern {}: {e}", self.pattern)))
    }
}

/// The spikes of one population: spike `k` was fired by neuron `indices[k]` at `times[k]` seconds.
///
/// Invariants (checked by every constructor, so the metrics can trust them): `times` and `indices`
/// have equal length, every time is finite, times are sorted ascending (ties allowed), and every
/// index is `< n_neurons`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpikeTrains {
    n_neurons: usize,
    times: Vec<f64>,
    indices: Vec<u32>,
}

impl SpikeTrains {
    /// Builds from already time-sorted parallel arrays (the simulator's recording format).
    pub fn new(n_neurons: usize, times: Vec<f64>, indices: Vec<u32>) -> Result<Self> {
        if times.len() != indices.len() {
            return Err(AnalysisError::LengthMismatch {
                what: "spike indices (one per spike time)".into(),
                expected: times.len(),
                found: indices.len(),
            });
        }
        for (k, (&t, &i)) in times.iter().zip(&indices).enumerate() {
            check_finite(|| format!("spike time #{k}"), t)?;
            if i as usize >= n_neurons {
                return Err(AnalysisError::Invalid(format!(
                    "spike #{k} has neuron index {i}, but the population has {n_neurons} neurons"
                )));
            }
            if k > 0 && t < times[k - 1] {
                return Err(AnalysisError::Invalid(format!(
                    "spike times must be sorted ascending: spike #{k} at {t} s comes after {} s",
                    times[k - 1]
                )));
            }
        }
        Ok(Self { n_neurons, times, indices })
    }

    /// Builds from unsorted parallel arrays, sorting by time (ties by neuron index).
    pub fn from_unsorted(n_neurons: usize, times: Vec<f64>, indices: Vec<u32>) -> Result<Self> {
        if times.len() != indices.len() {
            return Err(AnalysisError::LengthMismatch {
                what: "spike indices (one per spike time)".into(),
                expected: times.len(),
                found: indices.len(),
            });
        }
        for (k, &t) in times.iter().enumerate() {
            check_finite(|| format!("spike time #{k}"), t)?;
        }
        let mut pairs: Vec<(f64, u32)> = times.into_iter().zip(indices).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let (times, indices) = pairs.into_iter().unzip();
        Self::new(n_neurons, times, indices)
    }

    /// Builds from one list of spike times per neuron (`per_neuron[i]` = times of neuron `i`, in
    /// any order). The population size is `per_neuron.len()`.
    pub fn from_per_neuron(per_neuron: &[Vec<f64>]) -> Result<Self> {
        if per_neuron.len() > u32::MAX as usize {
            return Err(AnalysisError::Invalid(format!("{} neurons exceed the u32 index range", per_neuron.len())));
        }
        let total = per_neuron.iter().map(Vec::len).sum();
        let mut times = Vec::with_capacity(total);
        let mut indices = Vec::with_capacity(total);
        for (i, train) in per_neuron.iter().enumerate() {
            times.extend_from_slice(train);
            indices.extend(std::iter::repeat_n(i as u32, train.len()));
        }
        Self::from_unsorted(per_neuron.len(), times, indices)
    }

    /// A population of `n_neurons` that never fired.
    pub fn empty(n_neurons: usize) -> Self {
        Self { n_neurons, times: Vec::new(), indices: Vec::new() }
    }

    pub fn n_neurons(&self) -> usize {
        self.n_neurons
    }

    pub fn times(&self) -> &[f64] {
        &self.times
    }

    pub fn indices(&self) -> &[u32] {
        &self.indices
    }

    /// Total number of spikes.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    pub fn into_parts(self) -> (usize, Vec<f64>, Vec<u32>) {
        (self.n_neurons, self.times, self.indices)
    }

    /// Index range of the spikes with `t0 <= t < t1`, found by binary search on the sorted times.
    pub(crate) fn range_in(&self, t0: f64, t1: f64) -> std::ops::Range<usize> {
        let start = self.times.partition_point(|&t| t < t0);
        let end = start + self.times[start..].partition_point(|&t| t < t1);
        start..end
    }

    /// Spike count of every neuron in `window`.
    pub(crate) fn counts_in(&self, t0: f64, t1: f64) -> Vec<u64> {
        let mut counts = vec![0u64; self.n_neurons];
        for &i in &self.indices[self.range_in(t0, t1)] {
            counts[i as usize] += 1;
        }
        counts
    }

    /// Spike times of every neuron inside `window`, each list ascending.
    pub(crate) fn per_neuron_times(&self, window: Window) -> Vec<Vec<f64>> {
        let mut out = vec![Vec::new(); self.n_neurons];
        let r = self.range_in(window.t0, window.t1);
        for (&t, &i) in self.times[r.clone()].iter().zip(&self.indices[r]) {
            out[i as usize].push(t);
        }
        out
    }

    /// Bins the spikes in `window` into full bins of `bin_width` (see [`Window::n_full_bins`]),
    /// stored sparsely: memory is proportional to the number of spikes, not neurons × bins.
    pub(crate) fn bin_sparse(&self, window: Window, bin_width: f64, min_bins: usize) -> Result<SparseBinned> {
        let bin_width = check_positive("bin width", bin_width)?;
        let n_bins = window.n_full_bins(bin_width);
        if n_bins < min_bins {
            return Err(AnalysisError::TooFewBins { duration: window.duration(), bin_width, n_bins, needed: min_bins });
        }
        if n_bins > u32::MAX as usize {
            return Err(AnalysisError::Invalid(format!("{n_bins} bins is too many; use a wider bin")));
        }
        let mut rows: Vec<Vec<(u32, u32)>> = vec![Vec::new(); self.n_neurons];
        let r = self.range_in(window.t0, window.t1);
        for (&t, &i) in self.times[r.clone()].iter().zip(&self.indices[r]) {
            let b = ((t - window.t0) / bin_width).floor();
            // Spikes in the dropped partial bin at the end (and, defensively, any rounding
            // artefact just below 0) are skipped.
            if b < 0.0 || b >= n_bins as f64 {
                continue;
            }
            let b = b as u32;
            let row = &mut rows[i as usize];
            // Times are sorted, so within a neuron bins arrive non-decreasing: either extend the
            // last entry or append a new one.
            match row.last_mut() {
                Some(last) if last.0 == b => last.1 += 1,
                _ => row.push((b, 1)),
            }
        }
        Ok(SparseBinned { n_bins, bin_width, rows })
    }
}

/// Binned spike counts: `rows[i]` lists `(bin, count)` for the non-empty bins of neuron `i`,
/// ascending by bin.
pub(crate) struct SparseBinned {
    pub(crate) n_bins: usize,
    pub(crate) bin_width: f64,
    pub(crate) rows: Vec<Vec<(u32, u32)>>,
}

/// Exact integer moments of one neuron's binned counts over all `n_bins` bins (empty bins count
/// as zeros). Kept as integers so that "zero variance" is detected exactly and the identical-train
/// case of the synchrony measure comes out as exactly 1.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CountMoments {
    /// Σ_t x(t)
    pub(crate) sum: u128,
    /// Σ_t x(t)²
    pub(crate) sum_sq: u128,
}

impl CountMoments {
    pub(crate) fn of(row: &[(u32, u32)]) -> Self {
        row.iter().fold(Self::default(), |m, &(_, c)| {
            let c = u128::from(c);
            Self { sum: m.sum + c, sum_sq: m.sum_sq + c * c }
        })
    }

    /// n² · Var_t(x) = n Σx² − (Σx)², exact (population variance scaled by n²).
    pub(crate) fn n2_var(&self, n: usize) -> u128 {
        // Cauchy–Schwarz guarantees n Σx² >= (Σx)², so this never underflows.
        (n as u128) * self.sum_sq - self.sum * self.sum
    }
}

/// Σ_t x(t) y(t) for two sparse rows, by merging their sorted bin lists.
pub(crate) fn sparse_dot(a: &[(u32, u32)], b: &[(u32, u32)]) -> u128 {
    let (mut i, mut j, mut acc) = (0, 0, 0u128);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                acc += u128::from(a[i].1) * u128::from(b[j].1);
                i += 1;
                j += 1;
            }
        }
    }
    acc
}

/// Population rate in Hz per neuron: r(t) = (Σ_i count_i(t)) / (N · Δ) for full bins of width Δ
/// in `window`. This is the series that [`crate::spectrum`] and [`crate::control_quality`] expect.
pub fn population_rate(spikes: &SpikeTrains, window: Window, bin_width: f64) -> Result<Vec<f64>> {
    if spikes.n_neurons() == 0 {
        return Err(AnalysisError::Invalid("population has no neurons".into()));
    }
    let binned = spikes.bin_sparse(window, bin_width, 1)?;
    let mut total = vec![0u64; binned.n_bins];
    for row in &binned.rows {
        for &(b, c) in row {
            total[b as usize] += u64::from(c);
        }
    }
    let scale = 1.0 / (spikes.n_neurons() as f64 * binned.bin_width);
    Ok(total.into_iter().map(|c| c as f64 * scale).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_rejects_empty_and_non_finite() {
        assert!(matches!(Window::new(1.0, 1.0), Err(AnalysisError::EmptyWindow { .. })));
        assert!(matches!(Window::new(2.0, 1.0), Err(AnalysisError::EmptyWindow { .. })));
        assert!(matches!(Window::new(f64::NAN, 1.0), Err(AnalysisError::NonFinite { .. })));
        assert_eq!(Window::new(1.0, 1.0).unwrap_err().to_string(), "window is empty: [1, 1) has no duration");
    }

    #[test]
    fn full_bins_snap_to_integer() {
        let w = Window::new(0.0, 1.0).unwrap();
        assert_eq!(w.n_full_bins(0.1), 10);
        assert_eq!(w.n_full_bins(0.3), 3);
        let w = Window::new(0.3, 0.7).unwrap();
        assert_eq!(w.n_full_bins(0.1), 4);
    }

    #[test]
    fn constructors_validate_and_sort() {
        let s = SpikeTrains::from_per_neuron(&[vec![0.3, 0.1], vec![0.2]]).unwrap();
        assert_eq!(s.times(), &[0.1, 0.2, 0.3]);
        assert_eq!(s.indices(), &[0, 1, 0]);
        assert!(SpikeTrains::new(2, vec![0.2, 0.1], vec![0, 1]).is_err());
        assert!(SpikeTrains::new(2, vec![0.1], vec![2]).is_err());
        assert!(SpikeTrains::new(2, vec![0.1], vec![]).is_err());
        assert!(SpikeTrains::new(2, vec![f64::INFINITY], vec![0]).is_err());
    }

    #[test]
    fn range_and_binning_are_half_open() {
        let s = SpikeTrains::new(2, vec![0.0, 0.05, 0.1, 0.15, 0.2], vec![0, 0, 1, 0, 1]).unwrap();
        assert_eq!(s.range_in(0.05, 0.2), 1..4);
        let w = Window::new(0.0, 0.2).unwrap();
        let b = s.bin_sparse(w, 0.1, 2).unwrap();
        assert_eq!(b.n_bins, 2);
        assert_eq!(b.rows[0], vec![(0, 2), (1, 1)]);
        assert_eq!(b.rows[1], vec![(1, 1)]);
        assert_eq!(sparse_dot(&b.rows[0], &b.rows[1]), 1);
        let m = CountMoments::of(&b.rows[0]);
        assert_eq!((m.sum, m.sum_sq, m.n2_var(2)), (3, 5, 1));
        assert!(matches!(s.bin_sparse(w, 0.15, 2), Err(AnalysisError::TooFewBins { .. })));
    }

    #[test]
    fn population_rate_is_per_neuron_hz() {
        let s = SpikeTrains::new(2, vec![0.01, 0.02, 0.12], vec![0, 1, 1]).unwrap();
        let r = population_rate(&s, Window::new(0.0, 0.2).unwrap(), 0.1).unwrap();
        // bin 0: 2 spikes / (2 neurons × 0.1 s) = 10 Hz; bin 1: 1 / 0.2 = 5 Hz.
        assert_eq!(r.len(), 2);
        assert!((r[0] - 10.0).abs() < 1e-12 && (r[1] - 5.0).abs() < 1e-12);
    }
}
