//! The exponential both backends compute: the same IEEE operations in the
//! same order, so the JIT (which emits them inline, two lanes at a time)
//! and the interpreter agree bit for bit, without a libm call per lane.
//!
//! `exp(x) = 2^n · e^r` with `n = round(x / ln 2)` and `r = x − n ln 2`
//! (Cody–Waite: `ln 2` split in two so `n · LN2_HI` is exact), `|r| ≤ ln 2 / 2`,
//! and `e^r` by its Taylor polynomial of degree 13 (truncation error below
//! 1e-17 relative), evaluated by Estrin's scheme: a dependency chain of 5
//! multiply-adds instead of Horner's 13, which is what limits a neuron
//! step that calls `exp`. `2^n` is applied as two powers of two
//! built from their bits, so results down to the subnormal range are
//! rounded once. Against libm: within 1 ulp (a test checks it).

/// 1 / ln 2.
pub const LOG2E: f64 = std::f64::consts::LOG2_E;
/// 1.5 · 2^52: adding it rounds to an integer held in the low bits.
pub const SHIFT: f64 = 6_755_399_441_055_744.0;
/// ln 2 with its last 21 bits zero, and the rest.
pub const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
pub const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
/// Above this, `exp` is `inf`; below `UNDERFLOW`, 0.
pub const OVERFLOW: f64 = 709.8;
pub const UNDERFLOW: f64 = -745.2;

/// 1/k! for k = 0 to 13.
pub const TAYLOR: [f64; 14] = [
    1.0,
    1.0,
    0.5,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5_040.0,
    1.0 / 40_320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
    1.0 / 6_227_020_800.0,
];

/// `Σ TAYLOR[k] r^k` as `1 + r E(r)` (the leading 1 added last keeps the
/// result within 1 ulp), with `E(r) = Σ TAYLOR[k+1] r^k` by Estrin's
/// scheme, in this order: pairs `q_j = e_2j + e_2j+1 r` (the last `e`
/// alone), then `s_j = q_2j + q_2j+1 r²`, then `u_j = s_2j + s_2j+1 r⁴`
/// (the last `s` alone), then `u_0 + u_1 r⁸`.
pub fn estrin(r: f64) -> f64 {
    let e = &TAYLOR[1..];
    let q: [f64; 7] = std::array::from_fn(|j| if j < 6 { e[2 * j] + e[2 * j + 1] * r } else { e[12] });
    let r2 = r * r;
    let s = [q[0] + q[1] * r2, q[2] + q[3] * r2, q[4] + q[5] * r2, q[6]];
    let r4 = r2 * r2;
    let u = [s[0] + s[1] * r4, s[2] + s[3] * r4];
    let r8 = r4 * r4;
    1.0 + r * (u[0] + u[1] * r8)
}

/// e^x; NaN for NaN.
pub fn exp(x: f64) -> f64 {
    let t = x * LOG2E + SHIFT;
    let nf = t - SHIFT;
    let n = (t.to_bits() as i64).wrapping_sub(SHIFT.to_bits() as i64);
    let r = (x - nf * LN2_HI) - nf * LN2_LO;
    let p = estrin(r);
    // n = n1 + n2 with both halves in the normal exponent range.
    let n1 = ((n.wrapping_add(2048) as u64) >> 1) as i64 - 1024;
    let n2 = n.wrapping_sub(n1);
    let pow2 = |k: i64| f64::from_bits((k.wrapping_add(1023) as u64) << 52);
    let y = p * pow2(n1) * pow2(n2);
    if x > OVERFLOW {
        f64::INFINITY
    } else if x < UNDERFLOW {
        0.0
    } else {
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units in the last place.
    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64).abs_diff(b.to_bits() as i64)
    }

    #[test]
    fn within_one_ulp_of_libm_over_the_whole_range() {
        let mut worst = 0;
        let n = 2_000_000;
        for k in 0..=n {
            // Dense near 0 (where models live) and over the whole range.
            for x in [-745.0 + 1455.0 * k as f64 / n as f64, -2.0 + 4.0 * k as f64 / n as f64] {
                let (a, b) = (exp(x), x.exp());
                if b > f64::MIN_POSITIVE {
                    worst = worst.max(ulps(a, b));
                } else {
                    // Subnormal results: within one subnormal step.
                    assert!((a - b).abs() <= 5e-324, "exp({x}) = {a}, libm {b}");
                }
            }
        }
        assert!(worst <= 1, "worst {worst} ulp");
    }

    #[test]
    fn special_values() {
        assert_eq!(exp(0.0), 1.0);
        assert!(ulps(exp(1.0), std::f64::consts::E) <= 1);
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp(710.0), f64::INFINITY);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp(-746.0), 0.0);
        assert!(exp(f64::NAN).is_nan());
        assert!(exp(709.7).is_finite());
        assert!(exp(-745.0) > 0.0);
    }
}
