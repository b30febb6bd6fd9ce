//! Excitation–inhibition balance from two recorded input variables per
//! neuron (conductances or currents), sampled over time.

use serde::{Deserialize, Serialize};

use crate::error::{AnalysisError, Result, check_finite};
use crate::series::pearson;

/// Result of [`ei_balance`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Balance {
    /// Pearson correlation across neurons of each neuron's mean excitatory
    /// and mean inhibitory input: close to 1 when every neuron's inhibition
    /// matches its excitation (as inhibitory plasticity arranges, Vogels et
    /// al. 2011), near 0 when inhibition ignores how excited a neuron is.
    pub across_neurons: Option<f64>,
    /// Mean over neurons of their mean I / mean E (the global ratio).
    pub mean_ratio: Option<f64>,
    /// Standard deviation over neurons of that ratio.
    pub sd_ratio: Option<f64>,
    /// Mean over neurons of the Pearson correlation in time of E(t) and
    /// I(t) (how closely inhibition tracks excitation from moment to moment).
    pub in_time: Option<f64>,
    pub n_neurons: usize,
    pub n_samples: usize,
}

/// E/I balance of `n` neurons from `e` and `i`, both row-major samples × n.
/// Neurons whose mean excitation is 0 have no ratio; a neuron whose E or I
/// is constant in time has no temporal correlation.
pub fn ei_balance(e: &[f64], i: &[f64], n: usize) -> Result<Balance> {
    if e.len() != i.len() || n == 0 || !e.len().is_multiple_of(n) {
        return Err(AnalysisError::LengthMismatch {
            what: "excitatory and inhibitory samples (samples × neurons)".into(),
            expected: e.len(),
            found: i.len(),
        });
    }
    for (k, x) in e.iter().chain(i).enumerate() {
        check_finite(|| format!("input sample #{k}"), *x)?;
    }
    let samples = e.len() / n;
    if samples == 0 {
        return Err(AnalysisError::Invalid("no samples in the window".into()));
    }
    let column = |x: &[f64], j: usize| -> Vec<f64> { (0..samples).map(|t| x[t * n + j]).collect() };
    let (mut me, mut mi, mut ratios, mut in_time) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for j in 0..n {
        let (ej, ij) = (column(e, j), column(i, j));
        let (a, b) = (mean(&ej), mean(&ij));
        me.push(a);
        mi.push(b);
        if a != 0.0 {
            ratios.push(b / a);
        }
        if let Some(r) = pearson(&ej, &ij) {
            in_time.push(r);
        }
    }
    Ok(Balance {
        across_neurons: pearson(&me, &mi),
        mean_ratio: (!ratios.is_empty()).then(|| mean(&ratios)),
        sd_ratio: (ratios.len() > 1).then(|| {
            let m = mean(&ratios);
            (ratios.iter().map(|r| (r - m).powi(2)).sum::<f64>() / (ratios.len() - 1) as f64).sqrt()
        }),
        in_time: (!in_time.is_empty()).then(|| mean(&in_time)),
        n_neurons: n,
        n_samples: samples,
    })
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inhibition_proportional_to_excitation_is_balanced() {
        // 3 neurons, 4 samples; I = 2 E for every neuron and sample, with
        // different E per neuron: correlation 1 across neurons and in time,
        // ratio 2 with sd 0.
        let e = [1.0, 2.0, 3.0, 2.0, 4.0, 6.0, 1.5, 3.0, 4.5, 2.5, 5.0, 7.5];
        let i: Vec<f64> = e.iter().map(|x| 2.0 * x).collect();
        let b = ei_balance(&e, &i, 3).unwrap();
        assert!((b.across_neurons.unwrap() - 1.0).abs() < 1e-12);
        assert!((b.in_time.unwrap() - 1.0).abs() < 1e-12);
        assert!((b.mean_ratio.unwrap() - 2.0).abs() < 1e-12 && b.sd_ratio.unwrap().abs() < 1e-12);
        assert_eq!((b.n_neurons, b.n_samples), (3, 4));
    }

    #[test]
    fn inhibition_against_excitation_is_anticorrelated() {
        // Neuron means: E 1, 2, 3; I 3, 2, 1 → across-neuron correlation −1.
        // In time I is constant for every neuron: no temporal correlation.
        let e = [1.0, 2.0, 3.0, 1.0, 2.0, 3.0];
        let i = [3.0, 2.0, 1.0, 3.0, 2.0, 1.0];
        let b = ei_balance(&e, &i, 3).unwrap();
        assert!((b.across_neurons.unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(b.in_time, None);
        assert!(ei_balance(&e, &i[..4], 3).is_err());
        assert!(ei_balance(&[f64::NAN], &[1.0], 1).is_err());
    }
}
