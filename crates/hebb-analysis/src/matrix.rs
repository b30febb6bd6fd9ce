//! The spectral radius of a non-negative connectivity matrix (an excitatory
//! projection of a population onto itself), by power iteration with
//! Collatz–Wielandt bounds.
//!
//! For a non-negative matrix W the spectral radius ρ is itself an
//! eigenvalue (Perron–Frobenius), and for every positive vector x
//! `min_i (Wx)_i / x_i ≤ ρ ≤ max_i (Wx)_i / x_i`. Iterating x ← Wx
//! narrows the two bounds onto ρ; the iteration runs on W + cI with c the
//! mean row sum, so that x stays positive and a periodic matrix (a ring)
//! converges too. ρ is where recurrent excitation becomes unstable in a
//! linearised rate model (ρ > 1 in units of the gain), and it grows with the
//! structure learning builds (loops, assemblies) even when the mean weight
//! barely moves, so it is tracked over time next to the mean.

use serde::{Deserialize, Serialize};

use crate::error::{AnalysisError, Result};

/// Result of [`spectral_radius`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpectralRadius {
    /// ρ: the midpoint of the final bounds (or the power-iteration estimate
    /// when they did not meet).
    pub radius: f64,
    /// Collatz–Wielandt bounds at the end. `upper` is always ≥ ρ; `lower`
    /// is taken over the entries of x above 1e-9 of its largest, so it is a
    /// bound only for irreducible matrices.
    pub lower: f64,
    pub upper: f64,
    pub iterations: usize,
    /// `upper − lower ≤ 1e-12 · upper` was reached.
    pub converged: bool,
    /// Σ w / n: the spectral radius the same total weight would have if it
    /// were spread evenly (every row sum equal).
    pub mean_row_sum: f64,
    /// radius / mean_row_sum: 1 for homogeneous weights, larger when
    /// learning concentrates weight in loops.
    pub structure: Option<f64>,
}

/// Relative gap between the bounds at which the iteration stops.
const RELATIVE_GAP: f64 = 1e-12;
/// Iterations before the power iteration gives up on meeting the bounds.
const MAX_ITERATIONS: usize = 20_000;

/// ρ of the n × n matrix with entries `w[k]` at row `post[k]`, column
/// `pre[k]` (repeated pairs add up). Errors on indices out of range,
/// mismatched lengths, and negative or non-finite weights (ρ is then not
/// the Perron root this method finds).
pub fn spectral_radius(n: usize, pre: &[u32], post: &[u32], w: &[f64]) -> Result<SpectralRadius> {
    if pre.len() != w.len() || post.len() != w.len() {
        return Err(AnalysisError::LengthMismatch {
            what: "pre, post and weight arrays".into(),
            expected: w.len(),
            found: pre.len().min(post.len()),
        });
    }
    if n == 0 {
        return Err(AnalysisError::Invalid("a spectral radius needs at least one neuron".into()));
    }
    if let Some(k) = pre.iter().zip(post).position(|(&i, &j)| i as usize >= n || j as usize >= n) {
        return Err(AnalysisError::Invalid(format!("synapse {k} connects neurons outside 0..{n}")));
    }
    if let Some(&x) = w.iter().find(|x| !x.is_finite() || **x < 0.0) {
        return Err(AnalysisError::Invalid(format!(
            "weights must be finite and non-negative for the Perron root, found {x}"
        )));
    }
    let total: f64 = w.iter().sum();
    let mean_row_sum = total / n as f64;
    if total == 0.0 {
        let zero = SpectralRadius {
            radius: 0.0,
            lower: 0.0,
            upper: 0.0,
            iterations: 0,
            converged: true,
            mean_row_sum,
            structure: None,
        };
        return Ok(zero);
    }
    let shift = mean_row_sum;
    let mut x = vec![1.0; n];
    let mut y = vec![0.0; n];
    let (mut lower, mut upper, mut estimate) = (0.0, f64::INFINITY, 0.0);
    let mut iterations = 0;
    let mut converged = false;
    while iterations < MAX_ITERATIONS {
        iterations += 1;
        for (yi, xi) in y.iter_mut().zip(&x) {
            *yi = shift * xi;
        }
        for k in 0..w.len() {
            y[post[k] as usize] += w[k] * x[pre[k] as usize];
        }
        let x_max = x.iter().copied().fold(0.0f64, f64::max);
        let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
        for (yi, xi) in y.iter().zip(&x) {
            let r = yi / xi;
            hi = hi.max(r);
            if *xi > 1e-9 * x_max {
                lo = lo.min(r);
            }
        }
        let (norm_y, norm_x) = (norm(&y), norm(&x));
        estimate = norm_y / norm_x - shift;
        (lower, upper) = ((lo - shift).max(0.0), hi - shift);
        if upper - lower <= RELATIVE_GAP * upper.max(f64::MIN_POSITIVE) {
            converged = true;
            break;
        }
        let y_max = y.iter().copied().fold(0.0f64, f64::max);
        for (xi, yi) in x.iter_mut().zip(&y) {
            // Keep x positive: an entry that underflows would stop bounding ρ.
            *xi = (yi / y_max).max(f64::MIN_POSITIVE);
        }
    }
    let radius = if converged { 0.5 * (lower + upper) } else { estimate.clamp(lower, upper) };
    Ok(SpectralRadius {
        radius,
        lower,
        upper,
        iterations,
        converged,
        mean_row_sum,
        structure: (mean_row_sum > 0.0).then(|| radius / mean_row_sum),
    })
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dense row-major matrix to (pre, post, w) triplets.
    fn triplets(m: &[&[f64]]) -> (Vec<u32>, Vec<u32>, Vec<f64>) {
        let (mut pre, mut post, mut w) = (vec![], vec![], vec![]);
        for (row, r) in m.iter().enumerate() {
            for (col, &x) in r.iter().enumerate() {
                if x != 0.0 {
                    post.push(row as u32);
                    pre.push(col as u32);
                    w.push(x);
                }
            }
        }
        (pre, post, w)
    }

    fn rho(m: &[&[f64]]) -> SpectralRadius {
        let (pre, post, w) = triplets(m);
        spectral_radius(m.len(), &pre, &post, &w).unwrap()
    }

    #[test]
    fn known_matrices_to_1e_9() {
        // Tridiagonal Toeplitz [1 2 1]·0.5: eigenvalues 1 + cos(kπ/4), ρ = 1 + √2/2.
        let r = rho(&[&[1.0, 0.5, 0.0], &[0.5, 1.0, 0.5], &[0.0, 0.5, 1.0]]);
        assert!((r.radius - (1.0 + 0.5 * 2f64.sqrt())).abs() < 1e-9, "{r:?}");
        assert!(r.converged && r.lower <= r.radius && r.radius <= r.upper);
        // Non-symmetric: [[0, 2], [8, 0]] has eigenvalues ±4 (periodic: the shift makes it converge).
        let r = rho(&[&[0.0, 2.0], &[8.0, 0.0]]);
        assert!((r.radius - 4.0).abs() < 1e-9, "{r:?}");
        // A directed ring of 5 with weight 0.3: eigenvalues 0.3·e^{2πik/5}, ρ = 0.3.
        let ring: Vec<Vec<f64>> =
            (0..5).map(|i| (0..5).map(|j| if j == (i + 1) % 5 { 0.3 } else { 0.0 }).collect()).collect();
        let rows: Vec<&[f64]> = ring.iter().map(|r| r.as_slice()).collect();
        let r = rho(&rows);
        assert!((r.radius - 0.3).abs() < 1e-9, "{r:?}");
        // [[1, 1], [0, 2]]: upper triangular, ρ = 2 (reducible).
        let r = rho(&[&[1.0, 1.0], &[0.0, 2.0]]);
        assert!((r.radius - 2.0).abs() < 1e-9, "{r:?}");
    }

    #[test]
    fn constant_row_sums_give_the_row_sum_and_structure_one() {
        // A random sparse matrix whose rows each sum to 1.7: ρ = 1.7 exactly.
        let n = 300;
        let mut rng = crate::rng::SplitMix64::new(7);
        let (mut pre, mut post, mut w) = (vec![], vec![], vec![]);
        for row in 0..n {
            let cols: Vec<u32> = (0..n as u32).filter(|_| rng.next_f64() < 0.1).collect();
            let raw: Vec<f64> = cols.iter().map(|_| rng.next_f64() + 0.1).collect();
            let s: f64 = raw.iter().sum();
            for (c, x) in cols.into_iter().zip(raw) {
                pre.push(c);
                post.push(row as u32);
                w.push(1.7 * x / s);
            }
        }
        let r = spectral_radius(n, &pre, &post, &w).unwrap();
        assert!((r.radius - 1.7).abs() < 1e-9, "{r:?}");
        assert!((r.structure.unwrap() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn an_assembly_raises_the_radius_more_than_the_mean() {
        // 100 neurons, uniform 0.01 all-to-all (ρ = 1); then move weight into
        // a 10-neuron assembly keeping the total: ρ rises, the mean does not.
        let n = 100usize;
        let uniform: Vec<(u32, u32, f64)> =
            (0..n).flat_map(|i| (0..n).map(move |j| (j as u32, i as u32, 0.01))).collect();
        let r0 = spectral_radius(
            n,
            &uniform.iter().map(|e| e.0).collect::<Vec<_>>(),
            &uniform.iter().map(|e| e.1).collect::<Vec<_>>(),
            &uniform.iter().map(|e| e.2).collect::<Vec<_>>(),
        )
        .unwrap();
        assert!((r0.radius - 1.0).abs() < 1e-9);
        let inside = |i: u32, j: u32| i < 10 && j < 10;
        let moved: Vec<f64> =
            uniform.iter().map(|&(j, i, w)| if inside(i, j) { w + 0.05 } else { w - 5.0 / 9900.0 }).collect();
        let r1 = spectral_radius(
            n,
            &uniform.iter().map(|e| e.0).collect::<Vec<_>>(),
            &uniform.iter().map(|e| e.1).collect::<Vec<_>>(),
            &moved,
        )
        .unwrap();
        assert!((r1.mean_row_sum - r0.mean_row_sum).abs() < 1e-12);
        // An equitable partition (assembly A of 10, rest B of 90): ρ(W) is
        // the largest eigenvalue of the 2 × 2 quotient of block row sums.
        let b: f64 = 0.01 - 5.0 / 9900.0;
        let (qaa, qab, qba, qbb) = (10.0f64 * 0.06, 90.0 * b, 10.0 * b, 90.0 * b);
        let (tr, det) = (qaa + qbb, qaa * qbb - qab * qba);
        let expected = 0.5 * (tr + (tr * tr - 4.0 * det).sqrt());
        assert!((r1.radius - expected).abs() < 1e-9, "{r1:?} vs {expected}");
        assert!(r1.radius > 1.03 && r1.structure.unwrap() > 1.03, "{r1:?}");
    }

    #[test]
    fn invalid_input_is_an_error() {
        assert!(spectral_radius(2, &[0], &[1], &[-1.0]).is_err());
        assert!(spectral_radius(2, &[0], &[2], &[1.0]).is_err());
        assert!(spectral_radius(2, &[0, 1], &[1], &[1.0, 1.0]).is_err());
        assert!(spectral_radius(0, &[], &[], &[]).is_err());
        assert_eq!(spectral_radius(3, &[], &[], &[]).unwrap().radius, 0.0);
    }
}
