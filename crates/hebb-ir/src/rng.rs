//! Counter-based random numbers: Philox4x32-10 (Salmon et al. 2011, the
//! generator of Random123, cuRAND and JAX). A draw is a pure function of
//! (seed, stream, index, counter, draw), so results do not depend on the
//! order in which elements are processed nor on the number of threads.

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

fn mulhilo(a: u32, b: u32) -> (u32, u32) {
    let p = a as u64 * b as u64;
    ((p >> 32) as u32, p as u32)
}

/// Philox4x32 with 10 rounds.
pub fn philox(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let mut c = counter;
    let mut k = key;
    for round in 0..10 {
        if round > 0 {
            k[0] = k[0].wrapping_add(W0);
            k[1] = k[1].wrapping_add(W1);
        }
        let (hi0, lo0) = mulhilo(M0, c[0]);
        let (hi1, lo1) = mulhilo(M1, c[2]);
        c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0];
    }
    c
}

/// Four 32-bit words for (seed, stream, index, counter, draw). `counter` is
/// the time step in kernels; other users take it as a sequence number.
/// `draw` tells apart the draws one element makes at one counter value.
#[inline]
pub fn words(seed: u64, stream: u32, index: u64, counter: u64, draw: u32) -> [u32; 4] {
    // Mix the stream and the high index bits into the key so that the
    // counter can hold index, counter and draw in full.
    let key = [
        (seed as u32) ^ stream.rotate_left(16),
        ((seed >> 32) as u32) ^ ((index >> 32) as u32).wrapping_mul(0x9E37_79B9),
    ];
    philox(
        [index as u32, counter as u32, (counter >> 32) as u32, draw.wrapping_add(stream.wrapping_mul(0x85EB_CA6B))],
        key,
    )
}

/// Uniform in [0, 1) with 53 random bits.
#[inline]
pub fn uniform(seed: u64, stream: u32, index: u64, counter: u64, draw: u32) -> f64 {
    let w = words(seed, stream, index, counter, draw);
    let bits = ((w[0] as u64) << 32 | w[1] as u64) >> 11;
    bits as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Standard normal by Box-Muller on two uniforms from one block.
#[inline]
pub fn normal(seed: u64, stream: u32, index: u64, counter: u64, draw: u32) -> f64 {
    let w = words(seed, stream, index, counter, draw);
    let u1 = (((w[0] as u64) << 32 | w[1] as u64) >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
    let u2 = (((w[2] as u64) << 32 | w[3] as u64) >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
    // 1 - u1 is in (0, 1], so the logarithm is finite.
    (-2.0 * (1.0 - u1).ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// The entry points JIT code calls for `rand()` and `randn()`.
pub extern "C" fn jit_rand(seed: u64, stream: u64, index: u64, step: u64, draw: u64) -> f64 {
    uniform(seed, stream as u32, index, step, draw as u32)
}

pub extern "C" fn jit_randn(seed: u64, stream: u64, index: u64, step: u64, draw: u64) -> f64 {
    normal(seed, stream as u32, index, step, draw as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn philox_matches_random123_known_answer() {
        // Known-answer vectors from Random123's kat_vectors for philox4x32_10.
        assert_eq!(philox([0, 0, 0, 0], [0, 0]), [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
        assert_eq!(philox([0xffffffff; 4], [0xffffffff, 0xffffffff]), [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]);
        assert_eq!(
            philox([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]),
            [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]
        );
    }

    #[test]
    fn uniform_moments() {
        let n = 200_000;
        let mut sum = 0.0;
        let mut sq = 0.0;
        for i in 0..n {
            let u = uniform(7, 3, i, 0, 0);
            assert!((0.0..1.0).contains(&u));
            sum += u;
            sq += u * u;
        }
        let mean = sum / n as f64;
        let var = sq / n as f64 - mean * mean;
        // Standard error of the mean is 0.29/sqrt(n) = 6.5e-4; allow 5 of them.
        assert!((mean - 0.5).abs() < 3.3e-3, "{mean}");
        assert!((var - 1.0 / 12.0).abs() < 2e-3, "{var}");
    }

    #[test]
    fn streams_differ() {
        assert_ne!(uniform(1, 0, 5, 9, 0), uniform(1, 1, 5, 9, 0));
        assert_ne!(uniform(1, 0, 5, 9, 0), uniform(1, 0, 5, 9, 1));
        assert_ne!(uniform(1, 0, 5, 9, 0), uniform(2, 0, 5, 9, 0));
        assert_ne!(uniform(1, 0, 1 << 32, 9, 0), uniform(1, 0, 0, 9, 0));
    }
}
