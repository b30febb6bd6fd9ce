//! Representational drift: how similar each pattern's mean population response stays across
//! consecutive blocks of presentations.

use crate::series::pearson;
use serde::{Deserialize, Serialize};

use crate::decoding::{Responses, response_counts};
use crate::error::{AnalysisError, Result};
use crate::spikes::{Presentation, SpikeTrains};

/// Result of [`drift`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftResult {
    pub n_blocks: usize,
    /// Number of distinct patterns.
    pub n_patterns: usize,
    /// Mean over patterns of ρ(first block, last block); `None` if no pattern has a defined ρ.
    pub first_last: Option<f64>,
    /// Mean over patterns and b = 0..B−2 of ρ(block b, block b+1); `None` if none is defined.
    pub adjacent: Option<f64>,
    /// `similarity[b][b']` = mean over patterns of ρ(b, b') (symmetric, 1 on the diagonal where
    /// defined); `None` where no pattern has a defined correlation.
    pub similarity: Vec<Vec<Option<f64>>>,
}

/// Representational drift across `n_blocks` consecutive blocks of presentations.
///
/// The trials (in chronological order) are split into B = `n_blocks` blocks of near-equal size,
/// block b holding trials [⌊bT/B⌋, ⌊(b+1)T/B⌋). For every pattern s and block b the mean response
/// vector v_{s,b} = mean over the block's trials of s is formed, and the similarity of two blocks
/// for that pattern is the Pearson correlation across neurons
///
/// ```text
/// ρ_s(b, b') = Σ_i (v_{s,b,i} − v̄_{s,b})(v_{s,b',i} − v̄_{s,b'}) / √[Σ_i (v_{s,b,i} − v̄_{s,b})² Σ_i (v_{s,b',i} − v̄_{s,b'})²]
/// ```
///
/// ρ is undefined (and skipped) when the pattern is absent from a block or a vector is constant
/// across neurons. Bias: each v is a mean of noisy trials, so even a perfectly stable code gives
/// ρ < 1, more so with few trials per block; compare first-vs-last with adjacent (both have the
/// same block sizes) rather than reading absolute values — a drifting code shows first_last <
/// adjacent, a stable but noisy one first_last ≈ adjacent.
///
/// Errors if `n_blocks < 2` or there are fewer trials than blocks.
pub fn drift_responses(responses: &Responses, n_blocks: usize) -> Result<DriftResult> {
    let t = responses.n_trials();
    if n_blocks < 2 {
        return Err(AnalysisError::Invalid(format!("need at least 2 blocks, got {n_blocks}")));
    }
    if t < n_blocks {
        return Err(AnalysisError::Invalid(format!("{t} trials cannot fill {n_blocks} blocks")));
    }
    let mut ids = responses.patterns().to_vec();
    ids.sort_unstable();
    ids.dedup();
    let nf = responses.n_features();
    // means[b][s] = mean response vector of pattern s in block b, if it occurs there.
    let means: Vec<Vec<Option<Vec<f64>>>> = (0..n_blocks)
        .map(|b| {
            let (lo, hi) = (b * t / n_blocks, (b + 1) * t / n_blocks);
            let mut sums = vec![(vec![0.0; nf], 0usize); ids.len()];
            for trial in lo..hi {
                let s = ids.partition_point(|&id| id < responses.patterns()[trial]);
                let (acc, n) = &mut sums[s];
                acc.iter_mut().zip(responses.row(trial)).for_each(|(a, &x)| *a += x);
                *n += 1;
            }
            sums.into_iter().map(|(acc, n)| (n > 0).then(|| acc.into_iter().map(|a| a / n as f64).collect())).collect()
        })
        .collect();
    let block_similarity = |b: usize, c: usize| -> Option<f64> {
        let rs: Vec<f64> = (0..ids.len())
            .filter_map(|s| match (&means[b][s], &means[c][s]) {
                (Some(u), Some(v)) => pearson(u, v),
                _ => None,
            })
            .collect();
        (!rs.is_empty()).then(|| rs.iter().sum::<f64>() / rs.len() as f64)
    };
    let similarity: Vec<Vec<Option<f64>>> =
        (0..n_blocks).map(|b| (0..n_blocks).map(|c| block_similarity(b, c)).collect()).collect();
    // Adjacent: average of the per-(pattern, b) values, i.e. weight each block pair by how many
    // patterns defined it.
    let mut adj = (0.0, 0usize);
    for pair in means.windows(2) {
        for (u, v) in pair[0].iter().zip(&pair[1]) {
            if let (Some(u), Some(v)) = (u, v)
                && let Some(r) = pearson(u, v)
            {
                adj = (adj.0 + r, adj.1 + 1);
            }
        }
    }
    Ok(DriftResult {
        n_blocks,
        n_patterns: ids.len(),
        first_last: similarity[0][n_blocks - 1],
        adjacent: (adj.1 > 0).then(|| adj.0 / adj.1 as f64),
        similarity,
    })
}

/// Convenience: [`response_counts`] (which orders trials by onset) followed by [`drift_responses`].
pub fn drift(spikes: &SpikeTrains, presentations: &[Presentation], n_blocks: usize) -> Result<DriftResult> {
    drift_responses(&response_counts(spikes, presentations)?, n_blocks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::assert_close;

    #[test]
    fn hand_computed_drift() {
        // Two patterns, 3 features, 6 trials in 3 blocks of 2 (one trial of each pattern per block).
        // Pattern 0: (1,2,3) → (1,2,3) → (3,2,1): ρ01 = 1, ρ12 = −1, ρ02 = −1.
        // Pattern 5: (0,1,0) → (0,1,0) → (0,1,0): ρ = 1 throughout.
        let rows = [[1., 2., 3.], [0., 1., 0.], [1., 2., 3.], [0., 1., 0.], [3., 2., 1.], [0., 1., 0.]];
        let r = Responses::new(3, rows.concat(), vec![0, 5, 0, 5, 0, 5]).unwrap();
        let d = drift_responses(&r, 3).unwrap();
        assert_eq!(d.n_patterns, 2);
        assert_close(d.first_last.unwrap(), 0.0, 1e-12);
        assert_close(d.adjacent.unwrap(), (1.0 + 1.0 - 1.0 + 1.0) / 4.0, 1e-12);
        assert_close(d.similarity[0][1].unwrap(), 1.0, 1e-12);
        assert_close(d.similarity[1][1].unwrap(), 1.0, 1e-12);
    }

    #[test]
    fn stable_code_does_not_drift() {
        // Noise-free deterministic code: every block's mean vector equals the pattern's template,
        // so every defined ρ is exactly 1 (up to rounding).
        let (s, pres) = crate::decoding::tests::deterministic_code(20, 4, 40);
        let d = drift(&s, &pres, 4).unwrap();
        assert_close(d.first_last.unwrap(), 1.0, 1e-12);
        assert_close(d.adjacent.unwrap(), 1.0, 1e-12);
    }

    #[test]
    fn drifting_code_decorrelates_with_distance() {
        // Pattern s's response morphs linearly over the experiment from template a_s to an
        // unrelated template b_s: v(t) = (1 − α) a_s + α b_s, α = t/(T − 1). Distant blocks must be
        // less similar than adjacent ones, and similarity must fall monotonically with distance.
        let (nf, n_trials) = (30usize, 120usize);
        let a = |s: usize, i: usize| ((i * 7 + s * 3) % 11) as f64;
        let b = |s: usize, i: usize| ((i * i + 5 * s) % 13) as f64;
        let mut values = Vec::new();
        let patterns: Vec<usize> = (0..n_trials).map(|t| t % 3).collect();
        for (t, &s) in patterns.iter().enumerate() {
            let alpha = t as f64 / (n_trials - 1) as f64;
            values.extend((0..nf).map(|i| (1.0 - alpha) * a(s, i) + alpha * b(s, i)));
        }
        let d = drift_responses(&Responses::new(nf, values, patterns).unwrap(), 4).unwrap();
        let (fl, adj) = (d.first_last.unwrap(), d.adjacent.unwrap());
        assert!(fl < adj - 0.2, "first-last {fl} vs adjacent {adj}");
        let row0: Vec<f64> = d.similarity[0].iter().map(|x| x.unwrap()).collect();
        assert!(row0.windows(2).all(|w| w[1] < w[0]), "{row0:?}");
    }

    #[test]
    fn undefined_and_invalid() {
        // Pattern 1 appears only in the last block, and pattern 0's vectors are constant.
        let r = Responses::new(2, vec![1., 1., 1., 1., 0., 3.], vec![0, 0, 1]).unwrap();
        let d = drift_responses(&r, 3).unwrap();
        assert_eq!((d.first_last, d.adjacent), (None, None));
        assert!(drift_responses(&r, 1).is_err());
        assert!(drift_responses(&r, 4).is_err());
    }
}
