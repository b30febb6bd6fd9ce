//! Representational similarity of two sets of responses to the same patterns (two phases, or two
//! halves of one), with the grand mean removed and a split-half noise ceiling.

use serde::{Deserialize, Serialize};

use crate::decoding::Responses;
use crate::error::{AnalysisError, Result};

/// Result of [`pattern_similarity`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimilarityResult {
    /// Mean over patterns of the correlation, across neurons, of the pattern's mean response in
    /// the two sets, each with its grand mean (the mean over patterns) removed. `None` if no
    /// pattern has a defined correlation.
    pub similarity: Option<f64>,
    /// The noise ceiling: the similarity two sets of the same code would reach given the trial
    /// noise, √(r_a r_b) with r the Spearman–Brown-corrected split-half (odd vs even trials)
    /// similarity within each set. `None` when a set has fewer than 2 trials of some pattern.
    pub ceiling: Option<f64>,
    /// `similarity / ceiling` (1: as similar as the noise allows).
    pub normalized: Option<f64>,
    pub n_patterns: usize,
}

/// Pattern means of `r`'s trials `keep(t)`, in the order of `ids`, with the grand mean removed.
fn centred_means(r: &Responses, ids: &[usize], keep: &dyn Fn(usize) -> bool) -> Vec<Option<Vec<f64>>> {
    let nf = r.n_features();
    let mut sums = vec![(vec![0.0; nf], 0usize); ids.len()];
    let mut rank = vec![0usize; ids.len()];
    for t in 0..r.n_trials() {
        let Some(s) = ids.iter().position(|&id| id == r.patterns()[t]) else { continue };
        let take = keep(rank[s]);
        rank[s] += 1;
        if take {
            let (acc, n) = &mut sums[s];
            acc.iter_mut().zip(r.row(t)).for_each(|(a, &x)| *a += x);
            *n += 1;
        }
    }
    let means: Vec<Option<Vec<f64>>> =
        sums.into_iter().map(|(acc, n)| (n > 0).then(|| acc.into_iter().map(|a| a / n as f64).collect())).collect();
    let present: Vec<&Vec<f64>> = means.iter().flatten().collect();
    if present.is_empty() {
        return means;
    }
    let grand: Vec<f64> = (0..nf).map(|i| present.iter().map(|m| m[i]).sum::<f64>() / present.len() as f64).collect();
    means.into_iter().map(|m| m.map(|v| v.iter().zip(&grand).map(|(x, g)| x - g).collect())).collect()
}

/// Mean over patterns of the Pearson correlation of two sets of centred means.
fn mean_correlation(a: &[Option<Vec<f64>>], b: &[Option<Vec<f64>>]) -> Option<f64> {
    let rs: Vec<f64> = a
        .iter()
        .zip(b)
        .filter_map(|(u, v)| match (u, v) {
            (Some(u), Some(v)) => crate::series::pearson(u, v),
            _ => None,
        })
        .collect();
    (!rs.is_empty()).then(|| rs.iter().sum::<f64>() / rs.len() as f64)
}

/// Split-half reliability of a set: odd vs even trials of each pattern, Spearman–Brown corrected
/// to the full set, 2r / (1 + r).
fn reliability(r: &Responses, ids: &[usize]) -> Option<f64> {
    let odd = centred_means(r, ids, &|k| k % 2 == 1);
    let even = centred_means(r, ids, &|k| k % 2 == 0);
    if odd.iter().chain(&even).any(Option::is_none) {
        return None;
    }
    mean_correlation(&odd, &even).map(|h| 2.0 * h / (1.0 + h))
}

/// How similar the code for the same patterns is in `a` and `b`.
///
/// For each pattern s, the mean response vectors u_s (over its trials in `a`) and v_s (in `b`)
/// have the grand means ū = mean_s u_s and v̄ removed — what every pattern evokes (the rate
/// profile of the population) says nothing about the code, and left in, it makes unrelated codes
/// look similar. The similarity is the mean over patterns of the Pearson correlation across
/// neurons of u_s − ū and v_s − v̄. Trial noise lowers it even for an unchanged code, so the noise
/// ceiling √(r_a r_b) (split-half reliabilities) is reported with it, and the ratio.
///
/// Errors if the sets have different numbers of features or fewer than 2 patterns in common.
pub fn pattern_similarity(a: &Responses, b: &Responses) -> Result<SimilarityResult> {
    if a.n_features() != b.n_features() {
        return Err(AnalysisError::LengthMismatch {
            what: "response vectors of the second set".into(),
            expected: a.n_features(),
            found: b.n_features(),
        });
    }
    let mut ids: Vec<usize> = a.patterns().iter().copied().filter(|p| b.patterns().contains(p)).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() < 2 {
        return Err(AnalysisError::TooFewPatterns { found: ids.len() });
    }
    let (ua, ub) = (centred_means(a, &ids, &|_| true), centred_means(b, &ids, &|_| true));
    let similarity = mean_correlation(&ua, &ub);
    let ceiling = match (reliability(a, &ids), reliability(b, &ids)) {
        (Some(x), Some(y)) if x > 0.0 && y > 0.0 => Some((x * y).sqrt()),
        _ => None,
    };
    let normalized = match (similarity, ceiling) {
        (Some(s), Some(c)) => Some(s / c),
        _ => None,
    };
    Ok(SimilarityResult { similarity, ceiling, normalized, n_patterns: ids.len() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    /// 8 patterns × 60 neurons; every pattern adds a shared profile (the rate profile the grand
    /// mean removes) and its own random code, plus trial noise.
    fn code(g: &mut SplitMix64, codes: &[Vec<f64>], per: usize, noise: f64) -> Responses {
        let profile: Vec<f64> = (0..60).map(|i| 10.0 + (i % 7) as f64 * 3.0).collect();
        let mut values = Vec::new();
        let mut labels = Vec::new();
        for t in 0..codes.len() * per {
            let s = t % codes.len();
            labels.push(s);
            values.extend((0..60).map(|i| profile[i] + codes[s][i] + noise * (g.next_f64() - 0.5)));
        }
        Responses::new(60, values, labels).unwrap()
    }

    fn random_codes(g: &mut SplitMix64) -> Vec<Vec<f64>> {
        (0..8).map(|_| (0..60).map(|_| 4.0 * (g.next_f64() - 0.5)).collect()).collect()
    }

    #[test]
    fn identical_codes_are_similar_and_unrelated_ones_are_not() {
        let mut g = SplitMix64::new(3);
        let codes = random_codes(&mut g);
        // Noise-free: identical codes correlate perfectly.
        let s = pattern_similarity(&code(&mut g, &codes, 4, 0.0), &code(&mut g, &codes, 4, 0.0)).unwrap();
        assert!((s.similarity.unwrap() - 1.0).abs() < 1e-12, "{s:?}");
        // Noisy: below 1, but at the ceiling.
        let s = pattern_similarity(&code(&mut g, &codes, 20, 6.0), &code(&mut g, &codes, 20, 6.0)).unwrap();
        assert!(s.similarity.unwrap() < 0.95, "{s:?}");
        assert!((s.normalized.unwrap() - 1.0).abs() < 0.1, "{s:?}");
        // Unrelated codes: ~0 once the shared profile (grand mean) is removed, although the raw
        // responses share it.
        let other = random_codes(&mut g);
        let s = pattern_similarity(&code(&mut g, &codes, 20, 6.0), &code(&mut g, &other, 20, 6.0)).unwrap();
        assert!(s.similarity.unwrap().abs() < 0.1, "{s:?}");
        assert_eq!(s.n_patterns, 8);
    }

    #[test]
    fn invalid_inputs() {
        let mut g = SplitMix64::new(4);
        let codes = random_codes(&mut g);
        let a = code(&mut g, &codes, 2, 1.0);
        let one = Responses::new(60, vec![1.0; 60], vec![0]).unwrap();
        assert!(pattern_similarity(&a, &one).is_err());
        assert!(pattern_similarity(&a, &Responses::new(3, vec![1.0; 6], vec![0, 1]).unwrap()).is_err());
    }
}
