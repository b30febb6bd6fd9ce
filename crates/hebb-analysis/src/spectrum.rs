//! Welch power spectral density of a population rate series, with peak frequency and band powers.

use rustfft::FftPlanner;
use rustfft::num_complex::Complex;
use serde::{Deserialize, Serialize};

use crate::error::{AnalysisError, Result, check_finite};
use crate::series::RateSeries;

/// Power of the PSD integrated over one frequency band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BandPower {
    pub lo_hz: f64,
    pub hi_hz: f64,
    /// Σ_{k: lo ≤ f_k < hi} P_k · Δf, in Hz² (the series' variance attributable to the band).
    pub power: f64,
}

/// Result of [`spectrum`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spectrum {
    /// f_k = k · f_s / L for k = 0..=L/2.
    pub frequencies_hz: Vec<f64>,
    /// One-sided PSD P_k in Hz²/Hz (rate units squared per Hz).
    pub psd: Vec<f64>,
    /// Frequency of the largest P_k with k ≥ 1 (DC excluded); `None` if the PSD is zero there.
    pub peak_frequency_hz: Option<f64>,
    pub band_powers: Vec<BandPower>,
    /// Σ_{k≥0} P_k · Δf ≈ variance of the (segment-detrended) series, in Hz².
    pub total_power: f64,
    pub n_segments: usize,
    pub segment_len: usize,
    /// Frequency spacing Δf = f_s / L.
    pub resolution_hz: f64,
}

/// Welch PSD of a rate series: Hann window, 50 % overlap, segments of `segment_len` samples.
///
/// With sampling rate f_s = 1/Δ, segment length L and hop L/2 (integer division), the
/// M = 1 + ⌊(len − L)/(L/2)⌋ segments x_m (samples past the last full segment are dropped) are
/// each mean-subtracted ("constant" detrend, as in SciPy's default), multiplied by the periodic
/// Hann window `w[n] = ½(1 − cos(2πn/L))`, and transformed, `X_m[k] = Σ_n w[n] x_m[n] e^{−2πikn/L}`.
/// The one-sided density is
///
/// ```text
/// P_k = c_k / (M · f_s · Σ_n w[n]²) · Σ_m |X_m[k]|²,   c_k = 1 for k = 0 and k = L/2 (L even), else 2
/// ```
///
/// which integrates to the variance: Σ_k P_k Δf ≈ Var(x) (Parseval). Because every segment is
/// mean-subtracted, P_0 carries only within-segment drift; it is excluded from the peak search.
/// Band powers use the rectangle rule over bins with lo ≤ f_k < hi. The frequency resolution is
/// f_s / L; the Hann main lobe is ±2 bins wide, so a pure tone is spread over ~3 bins and its
/// peak lands within one bin of the true frequency.
///
/// Errors if `segment_len < 4`, if the series is shorter than one segment, or if a band is not
/// `0 <= lo < hi` with finite bounds.
pub fn spectrum(series: RateSeries<'_>, segment_len: usize, bands: &[(f64, f64)]) -> Result<Spectrum> {
    series.validate()?;
    let x = series.rates;
    let l = segment_len;
    check_spectrum_input(x.len(), l, bands)?;
    let fs = 1.0 / series.bin_width;
    let (psd, n_segments) = welch_psd(x, l, fs);
    let df = fs / l as f64;
    let frequencies_hz: Vec<f64> = (0..psd.len()).map(|k| k as f64 * df).collect();

    let peak_frequency_hz = psd
        .iter()
        .enumerate()
        .skip(1)
        .fold(None::<(usize, f64)>, |best, (k, &p)| match best {
            Some((_, bp)) if bp >= p => best,
            _ => Some((k, p)),
        })
        .filter(|&(_, p)| p > 0.0)
        .map(|(k, _)| frequencies_hz[k]);

    let band_powers = bands
        .iter()
        .map(|&(lo, hi)| BandPower {
            lo_hz: lo,
            hi_hz: hi,
            power: frequencies_hz.iter().zip(&psd).filter(|&(&f, _)| f >= lo && f < hi).map(|(_, &p)| p * df).sum(),
        })
        .collect();
    let total_power = psd.iter().sum::<f64>() * df;

    Ok(Spectrum {
        frequencies_hz,
        psd,
        peak_frequency_hz,
        band_powers,
        total_power,
        n_segments,
        segment_len: l,
        resolution_hz: df,
    })
}

/// Errors for a segment length under 4, a series shorter than one segment,
/// and bands that are not `0 <= lo < hi` with finite bounds.
fn check_spectrum_input(len: usize, l: usize, bands: &[(f64, f64)]) -> Result<()> {
    if l < 4 {
        return Err(AnalysisError::Invalid(format!("segment length must be at least 4 samples, got {l}")));
    }
    if len < l {
        return Err(AnalysisError::Invalid(format!("rate series has {len} samples, shorter than one segment of {l}")));
    }
    for &(lo, hi) in bands {
        check_finite(|| "band lower edge".into(), lo)?;
        check_finite(|| "band upper edge".into(), hi)?;
        if !(lo >= 0.0 && lo < hi) {
            return Err(AnalysisError::Invalid(format!("band [{lo}, {hi}) Hz must satisfy 0 <= lo < hi")));
        }
    }
    Ok(())
}

/// The one-sided Welch PSD of `x` (segments of `l` samples, half
/// overlapping, Hann window, each segment's mean removed) at sampling rate
/// `fs`, and the number of segments.
fn welch_psd(x: &[f64], l: usize, fs: f64) -> (Vec<f64>, usize) {
    let hop = l / 2;
    let n_segments = 1 + (x.len() - l) / hop;
    let window: Vec<f64> =
        (0..l).map(|n| 0.5 * (1.0 - (2.0 * std::f64::consts::PI * n as f64 / l as f64).cos())).collect();
    let window_power: f64 = window.iter().map(|w| w * w).sum();
    let fft = FftPlanner::<f64>::new().plan_fft_forward(l);
    let mut acc = vec![0.0; l / 2 + 1];
    let mut buf = vec![Complex::new(0.0, 0.0); l];
    for m in 0..n_segments {
        let seg = &x[m * hop..m * hop + l];
        let mean = seg.iter().sum::<f64>() / l as f64;
        for ((b, &v), &w) in buf.iter_mut().zip(seg).zip(&window) {
            *b = Complex::new((v - mean) * w, 0.0);
        }
        fft.process(&mut buf);
        for (a, b) in acc.iter_mut().zip(&buf) {
            *a += b.norm_sqr();
        }
    }
    let scale = 1.0 / (n_segments as f64 * fs * window_power);
    let psd = acc
        .iter()
        .enumerate()
        .map(|(k, &a)| {
            let one_sided = if k == 0 || (l.is_multiple_of(2) && k == l / 2) { 1.0 } else { 2.0 };
            one_sided * a * scale
        })
        .collect();
    (psd, n_segments)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;
    use crate::spikes::{Window, population_rate};
    use crate::test_support::{assert_close, modulated_population};

    #[test]
    fn pure_tone_peak_and_power() {
        // 10 + 5 sin(2π·8t) sampled at 1 kHz for 10 s, L = 1024 (Δf ≈ 0.977 Hz). The tone's power
        // is A²/2 = 12.5 Hz²; the Hann main lobe (±2 bins) lies inside [5, 11) Hz, and the window's
        // sidelobes leak < 0.1 %, so 2 % tolerance on the band and total power only absorbs the
        // non-integer number of cycles per segment.
        let rates: Vec<f64> =
            (0..10_000).map(|k| 10.0 + 5.0 * (2.0 * std::f64::consts::PI * 8.0 * k as f64 * 1e-3).sin()).collect();
        let sp = spectrum(RateSeries::new(&rates, 1e-3), 1024, &[(5.0, 11.0), (20.0, 40.0)]).unwrap();
        assert_eq!(sp.n_segments, 1 + (10_000 - 1024) / 512);
        assert!((sp.peak_frequency_hz.unwrap() - 8.0).abs() <= sp.resolution_hz);
        assert_close(sp.band_powers[0].power, 12.5, 0.25);
        assert!(sp.band_powers[1].power < 1e-3);
        assert_close(sp.total_power, 12.5, 0.25);
    }

    #[test]
    fn white_noise_level_matches_variance() {
        // Uniform noise on [0,1) has variance 1/12; its one-sided PSD is flat at 2σ²/f_s. Averaged
        // over 256 interior bins and ~77 segments the relative error is ≈ 1/√(77·256/1.9) ≈ 1 %,
        // so 5 % is a wide margin.
        let mut g = SplitMix64::new(1);
        let x: Vec<f64> = (0..20_000).map(|_| g.next_f64()).collect();
        let sp = spectrum(RateSeries::new(&x, 0.002), 512, &[]).unwrap();
        let interior = &sp.psd[1..sp.psd.len() - 1];
        let level = interior.iter().sum::<f64>() / interior.len() as f64;
        assert_close(level, 2.0 / 12.0 * 0.002, 0.05 * 2.0 / 12.0 * 0.002);
    }

    #[test]
    fn modulated_population_peaks_at_modulation_frequency() {
        // 100 Poisson neurons with rate 20(1 + 0.5 sin 2π·10t) for 20 s, binned at 1 ms. The 10 Hz
        // line (PSD ≈ (A²/2)/(1.5 Δf) ≈ 70 Hz²/Hz for A = 10 Hz) dwarfs the Poisson noise floor
        // (2 · r/(N Δt) · Δt = 0.4 Hz²/Hz), so the peak must be within one bin (Δf ≈ 0.49 Hz).
        let s = modulated_population(100, 20.0, 0.5, 10.0, 20.0, 21);
        let rate = population_rate(&s, Window::new(0.0, 20.0).unwrap(), 1e-3).unwrap();
        let sp = spectrum(RateSeries::new(&rate, 1e-3), 2048, &[(8.0, 12.0)]).unwrap();
        assert!((sp.peak_frequency_hz.unwrap() - 10.0).abs() <= sp.resolution_hz, "{:?}", sp.peak_frequency_hz);
        assert_close(sp.band_powers[0].power, 50.0, 5.0);
    }

    #[test]
    fn invalid_inputs() {
        let x = vec![1.0; 100];
        assert!(spectrum(RateSeries::new(&x, 1e-3), 200, &[]).is_err());
        assert!(spectrum(RateSeries::new(&x, 1e-3), 2, &[]).is_err());
        assert!(spectrum(RateSeries::new(&x, 0.0), 32, &[]).is_err());
        assert!(spectrum(RateSeries::new(&x, 1e-3), 32, &[(5.0, 5.0)]).is_err());
        assert!(spectrum(RateSeries::new(&[], 1e-3), 32, &[]).is_err());
        // A constant series has no power anywhere: no peak rather than a spurious one.
        assert_eq!(spectrum(RateSeries::new(&x, 1e-3), 32, &[]).unwrap().peak_frequency_hz, None);
    }
}
