//! Statistics across seeds, for studies (`hebb compare`/`sweep` with
//! several seeds): the mean of a metric with a t-based 95 % confidence
//! interval, and paired comparisons — the mean difference with its 95 %
//! CI, the effect size d_z and an exact (or Monte Carlo) sign-flip
//! permutation p-value — with Holm's correction over a family of
//! comparisons. `docs/statistics.md` gives the formulas and references.
//!
//! Values that cannot be computed from the data (an sd from one seed, a
//! CI from fewer than two) are `None`.

use crate::rng::SplitMix64;

/// The confidence level of every interval.
pub const LEVEL: f64 = 0.95;

/// Above this many pairs the sign-flip test samples `FLIPS` random sign
/// vectors instead of enumerating all 2^n.
pub const EXACT_UP_TO: usize = 20;
pub const FLIPS: usize = 100_000;

/// One metric of one variant over its seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (n − 1).
    pub sd: Option<f64>,
    /// 95 % CI of the mean: mean ± t(0.975, n − 1) sd / √n.
    pub ci: Option<(f64, f64)>,
}

/// Mean, sd and t-based 95 % CI of `xs` (non-finite values are left out
/// by the caller). `None` for no values.
pub fn summarize(xs: &[f64]) -> Option<Summary> {
    let n = xs.len();
    if n == 0 {
        return None;
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return Some(Summary { n, mean, sd: None, ci: None });
    }
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
    let sd = var.sqrt();
    let half = t_quantile(0.5 + LEVEL / 2.0, (n - 1) as f64) * sd / (n as f64).sqrt();
    Some(Summary { n, mean, sd: Some(sd), ci: Some((mean - half, mean + half)) })
}

/// A paired comparison of `a` against `b` over the same seeds: the
/// differences d_i = a_i − b_i.
#[derive(Clone, Debug, PartialEq)]
pub struct Paired {
    pub n: usize,
    /// Mean difference, its sd, and its t-based 95 % CI.
    pub diff: Summary,
    /// Effect size d_z = mean(d) / sd(d) (Cohen 1988; Lakens 2013).
    pub d_z: Option<f64>,
    /// Two-sided sign-flip permutation p-value of mean(d) = 0.
    pub p: Option<f64>,
    /// Whether `p` enumerated every sign vector (else it sampled `FLIPS`).
    pub exact: bool,
    /// The smallest p-value the test can give with n pairs (2 / 2^n when
    /// exact): above 0.05, no difference can be significant.
    pub min_p: f64,
}

/// Compares paired samples; `seed` drives the Monte Carlo sign flips
/// (used only above `EXACT_UP_TO` pairs). `None` for no pairs.
pub fn paired(a: &[f64], b: &[f64], seed: u64) -> Option<Paired> {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let diff = summarize(&d)?;
    let n = d.len();
    let d_z = diff.sd.filter(|s| *s > 0.0).map(|s| diff.mean / s);
    let (p, exact) = sign_flip_p(&d, seed);
    let min_p = if exact { (2.0 / 2f64.powi(n as i32)).min(1.0) } else { 1.0 / (FLIPS + 1) as f64 };
    Some(Paired { n, diff, d_z, p: Some(p), exact, min_p })
}

/// The two-sided sign-flip (paired permutation) p-value of the mean of
/// `d`: the fraction of sign vectors s for which |Σ s_i d_i| ≥ |Σ d_i|.
/// Exact by enumeration for n ≤ `EXACT_UP_TO`; otherwise (1 + count) /
/// (1 + FLIPS) over `FLIPS` random sign vectors (Phipson & Smyth 2010).
/// Returns the p-value and whether it is exact.
pub fn sign_flip_p(d: &[f64], seed: u64) -> (f64, bool) {
    let n = d.len();
    if n == 0 {
        return (1.0, true);
    }
    let observed = d.iter().sum::<f64>().abs();
    // Sums that equal the observed one up to rounding count as reaching it.
    let scale = d.iter().map(|x| x.abs()).sum::<f64>();
    let reaches = |s: f64| s.abs() >= observed - 1e-12 * scale;
    if n <= EXACT_UP_TO {
        let mut count = 0u64;
        for mask in 0u64..(1u64 << n) {
            let s: f64 = d.iter().enumerate().map(|(i, x)| if mask >> i & 1 == 1 { -x } else { *x }).sum();
            count += u64::from(reaches(s));
        }
        return (count as f64 / (1u64 << n) as f64, true);
    }
    let mut g = SplitMix64::for_purpose(seed, 0x5157_4e46_4c49_5053);
    let mut count = 0usize;
    for _ in 0..FLIPS {
        let mut s = 0.0;
        let mut bits = 0u64;
        for (i, x) in d.iter().enumerate() {
            if i % 64 == 0 {
                bits = g.next_u64();
            }
            s += if bits >> (i % 64) & 1 == 1 { -x } else { *x };
        }
        count += usize::from(reaches(s));
    }
    ((1 + count) as f64 / (1 + FLIPS) as f64, false)
}

/// Holm's step-down adjustment (Holm 1979) of a family of p-values: the
/// adjusted p-values, in the input's order; `None` stays `None` and does
/// not count towards the family.
pub fn holm(ps: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut order: Vec<usize> = (0..ps.len()).filter(|&k| ps[k].is_some()).collect();
    order.sort_by(|&x, &y| ps[x].partial_cmp(&ps[y]).unwrap_or(std::cmp::Ordering::Equal));
    let m = order.len();
    let mut out = vec![None; ps.len()];
    let mut running: f64 = 0.0;
    for (rank, &k) in order.iter().enumerate() {
        let adjusted = ((m - rank) as f64 * ps[k].unwrap_or(1.0)).min(1.0);
        running = running.max(adjusted);
        out[k] = Some(running);
    }
    out
}

/// The quantile function of Student's t distribution with `df` degrees of
/// freedom: the t with P(T ≤ t) = p, by bisection then Newton steps on
/// [`t_cdf`] (accurate to ~1e-12).
pub fn t_quantile(p: f64, df: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) || df <= 0.0 || p.is_nan() {
        return f64::NAN;
    }
    if p == 0.5 {
        return 0.0;
    }
    if p < 0.5 {
        return -t_quantile(1.0 - p, df);
    }
    let (mut lo, mut hi) = (0.0, 1.0);
    while t_cdf(hi, df) < p {
        lo = hi;
        hi *= 2.0;
        if hi > 1e12 {
            return f64::INFINITY;
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-14 * hi.max(1.0) {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// P(T ≤ t) for Student's t with `df` degrees of freedom, through the
/// regularized incomplete beta function: P(|T| > |t|) = I_x(df/2, 1/2)
/// with x = df / (df + t²).
pub fn t_cdf(t: f64, df: f64) -> f64 {
    let x = df / (df + t * t);
    let tail = 0.5 * inc_beta(0.5 * df, 0.5, x);
    if t >= 0.0 { 1.0 - tail } else { tail }
}

/// The regularized incomplete beta function I_x(a, b), by its continued
/// fraction (modified Lentz), using the symmetry I_x(a,b) = 1 − I_{1−x}(b,a)
/// where the fraction converges slowly.
fn inc_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front = (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; ~1e-15 relative).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (k, g) in G.iter().enumerate().skip(1) {
        a += g / (x + k as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Standard normal draws (Box–Muller) from a seeded stream.
    fn normals(g: &mut SplitMix64, n: usize) -> Vec<f64> {
        (0..n)
            .map(|_| {
                let u = 1.0 - g.next_f64();
                let v = g.next_f64();
                (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
            })
            .collect()
    }

    #[test]
    fn t_quantiles_match_tables() {
        // Two-sided 95 % critical values (any statistics table).
        for (df, t) in [(1.0, 12.706_204_736), (2.0, 4.302_652_730), (4.0, 2.776_445_105), (9.0, 2.262_157_163)] {
            assert!((t_quantile(0.975, df) - t).abs() < 1e-8, "df {df}: {}", t_quantile(0.975, df));
        }
        assert!((t_quantile(0.975, 1e6) - 1.959_966).abs() < 1e-5);
        assert_eq!(t_quantile(0.5, 3.0), 0.0);
        assert!((t_quantile(0.025, 9.0) + 2.262_157_163).abs() < 1e-8);
    }

    /// Over 1,000 simulated studies of n = 10 seeds, the 95 % CI of the
    /// mean covers the true mean in 93–97 % of them.
    #[test]
    fn confidence_intervals_cover_the_true_mean_95_percent_of_the_time() {
        let mut g = SplitMix64::new(11);
        let studies = 1000;
        let mut covered = 0;
        for _ in 0..studies {
            let xs: Vec<f64> = normals(&mut g, 10).iter().map(|z| 3.0 + 2.0 * z).collect();
            let (lo, hi) = summarize(&xs).unwrap().ci.unwrap();
            covered += usize::from(lo <= 3.0 && 3.0 <= hi);
        }
        let rate = covered as f64 / studies as f64;
        assert!((0.93..=0.97).contains(&rate), "coverage {rate}");
    }

    /// Under the null the p-values are uniform: 3–7 % below 0.05, and the
    /// empirical CDF within 0.06 of the diagonal (the exact test with
    /// n = 10 takes multiples of 1/512, so the CDF is a staircase).
    #[test]
    fn paired_p_values_are_uniform_under_the_null() {
        let mut g = SplitMix64::new(12);
        let studies = 1000;
        let mut ps: Vec<f64> = (0..studies)
            .map(|_| {
                let a = normals(&mut g, 10);
                let b = normals(&mut g, 10);
                paired(&a, &b, 1).unwrap().p.unwrap()
            })
            .collect();
        ps.sort_by(f64::total_cmp);
        let below = ps.iter().filter(|p| **p < 0.05).count() as f64 / studies as f64;
        assert!((0.03..=0.07).contains(&below), "{below} below 0.05");
        let ks = ps.iter().enumerate().map(|(k, p)| ((k + 1) as f64 / studies as f64 - p).abs()).fold(0.0, f64::max);
        assert!(ks < 0.06, "KS distance {ks}");
    }

    /// A known effect of d_z = 1.5 with n = 10 is found (p < 0.05) in at
    /// least 80 % of studies.
    #[test]
    fn a_large_paired_effect_is_found_in_most_studies() {
        let mut g = SplitMix64::new(13);
        let studies = 1000;
        let mut found = 0;
        for _ in 0..studies {
            let b = normals(&mut g, 10);
            let noise = normals(&mut g, 10);
            // d = a - b = 1.5 + noise: d_z = 1.5.
            let a: Vec<f64> = b.iter().zip(&noise).map(|(x, e)| x + 1.5 + e).collect();
            found += usize::from(paired(&a, &b, 1).unwrap().p.unwrap() < 0.05);
        }
        let power = found as f64 / studies as f64;
        assert!(power >= 0.8, "power {power}");
    }

    #[test]
    fn the_monte_carlo_test_agrees_with_the_exact_one() {
        let mut g = SplitMix64::new(14);
        let d: Vec<f64> = normals(&mut g, 20).iter().map(|z| z + 0.4).collect();
        let (exact, is_exact) = sign_flip_p(&d, 3);
        assert!(is_exact);
        let mut more = d.clone();
        more.push(0.0); // 21 pairs: sampled; a zero difference changes nothing.
        let (sampled, is_exact) = sign_flip_p(&more, 3);
        assert!(!is_exact);
        // Binomial sd of the estimate: sqrt(p(1-p)/FLIPS) < 0.0016.
        assert!((exact - sampled).abs() < 0.008, "{exact} vs {sampled}");
    }

    #[test]
    fn holm_adjusts_step_down_and_keeps_order() {
        let adj = holm(&[Some(0.01), Some(0.04), None, Some(0.03), Some(0.005)]);
        // Sorted: 0.005 ×4 = 0.02, 0.01 ×3 = 0.03, 0.03 ×2 = 0.06, 0.04 ×1 → max(0.06, 0.04).
        let want = [Some(0.03), Some(0.06), None, Some(0.06), Some(0.02)];
        for (a, w) in adj.iter().zip(want) {
            match (a, w) {
                (Some(a), Some(w)) => assert!((a - w).abs() < 1e-12, "{adj:?}"),
                (None, None) => {}
                _ => panic!("{adj:?}"),
            }
        }
    }

    #[test]
    fn small_samples_say_what_cannot_be_computed() {
        let one = summarize(&[2.0]).unwrap();
        assert_eq!((one.sd, one.ci), (None, None));
        assert!(summarize(&[]).is_none());
        let p = paired(&[1.0, 2.0, 3.0], &[0.0, 1.0, 2.5], 1).unwrap();
        assert!(p.exact && (p.min_p - 0.25).abs() < 1e-15, "{p:?}");
        // All differences equal: sd 0, d_z undefined, and every flip that
        // keeps all signs reaches the observed sum.
        let same = paired(&[1.0, 1.0, 1.0], &[0.0, 0.0, 0.0], 1).unwrap();
        assert_eq!(same.d_z, None);
        assert!((same.p.unwrap() - 0.25).abs() < 1e-15);
    }
}
