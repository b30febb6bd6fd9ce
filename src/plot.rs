//! Plots, as SVG and PNG, with `plotters`: spike raster with population rate,
//! weight histograms per phase, metrics across variants, a metric against a
//! swept parameter. Text is drawn with the bundled DejaVu Sans font
//! (assets/), so no system font is needed.

use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};
use std::ops::Range;
use std::path::Path;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

fn fonts() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // The font is valid: it is bundled with the program.
        let _ = register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

type Error = Box<dyn std::error::Error>;

/// `base` with an extension appended (names may contain dots).
fn ext(base: &Path, extension: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(format!("{}.{extension}", base.display()))
}

/// What a raster shows: spikes of the first `max_neurons` neurons, and the
/// population rate in bins of `bin` seconds.
struct Raster<'a> {
    title: &'a str,
    times: &'a [f64],
    indices: &'a [u32],
    max_neurons: usize,
    duration: f64,
    rate: Vec<f64>,
    bin: f64,
}

/// A spike raster (up to 200 neurons) above the population rate.
pub fn raster(
    base: &Path,
    title: &str,
    times: &[f64],
    indices: &[u32],
    n_neurons: usize,
    duration: f64,
) -> Result<(), Error> {
    fonts();
    let bin = (duration / 200.0).max(1e-3);
    let rate = population_rate(times, n_neurons, duration, bin);
    let r = Raster { title, times, indices, max_neurons: n_neurons.min(200), duration, rate, bin };
    draw_raster(SVGBackend::new(&ext(base, "svg"), (900, 560)).into_drawing_area(), &r)?;
    draw_raster(BitMapBackend::new(&ext(base, "png"), (900, 560)).into_drawing_area(), &r)?;
    Ok(())
}

/// The rate of `n_neurons` neurons (Hz) in bins of `bin` seconds.
fn population_rate(times: &[f64], n_neurons: usize, duration: f64, bin: f64) -> Vec<f64> {
    let n_bins = (duration / bin).ceil() as usize;
    let mut counts = vec![0.0; n_bins.max(1)];
    for &t in times {
        let b = ((t / bin) as usize).min(counts.len() - 1);
        counts[b] += 1.0;
    }
    counts.iter().map(|c| c / (n_neurons.max(1) as f64 * bin)).collect()
}

fn draw_raster<DB: DrawingBackend>(root: DrawingArea<DB, plotters::coord::Shift>, r: &Raster<'_>) -> Result<(), Error>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (upper, lower) = root.split_vertically(360);
    let mut chart = ChartBuilder::on(&upper)
        .caption(r.title, ("sans-serif", 18))
        .margin(8)
        .margin_right(24)
        .x_label_area_size(24)
        .y_label_area_size(48)
        .build_cartesian_2d(0.0..r.duration, 0.0..r.max_neurons as f64)?;
    chart.configure_mesh().y_desc("neuron").x_label_formatter(&tick).y_label_formatter(&tick).disable_mesh().draw()?;
    chart.draw_series(
        r.times
            .iter()
            .zip(r.indices)
            .filter(|(_, i)| (**i as usize) < r.max_neurons)
            .map(|(t, i)| Circle::new((*t, *i as f64 + 0.5), 1, BLACK.filled())),
    )?;
    let rate_max = r.rate.iter().copied().fold(1.0, f64::max);
    let mut chart = ChartBuilder::on(&lower)
        .margin(8)
        .margin_right(24)
        .x_label_area_size(32)
        .y_label_area_size(48)
        .build_cartesian_2d(0.0..r.duration, 0.0..rate_max * 1.1)?;
    chart
        .configure_mesh()
        .x_desc("time (s)")
        .y_desc("rate (Hz)")
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .disable_mesh()
        .draw()?;
    let bin = r.bin;
    chart.draw_series(LineSeries::new(r.rate.iter().enumerate().map(|(k, x)| ((k as f64 + 0.5) * bin, *x)), &BLUE))?;
    root.present()?;
    Ok(())
}

/// An axis label: no trailing zeros (`140`, `0.15`), scientific notation for
/// very small or large magnitudes (`2e-9`).
fn tick(v: &f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        return "0".into();
    }
    let trim = |s: String| {
        if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
    };
    if (1e-3..1e6).contains(&a) {
        trim(format!("{v:.6}"))
    } else {
        let s = format!("{v:.3e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        format!("{}e{e}", trim(m.to_string()))
    }
}

/// A named histogram: counts per bin.
type Hist = (String, Vec<f64>);

/// Histograms of weights, one per phase, overlaid.
pub fn weight_histograms(base: &Path, title: &str, phases: &[(String, Vec<f64>)]) -> Result<(), Error> {
    fonts();
    let hi = phases.iter().flat_map(|(_, w)| w.iter().copied()).fold(0.0f64, f64::max).max(1e-12);
    let bins = 30;
    let hists: Vec<Hist> = phases
        .iter()
        .map(|(name, w)| {
            let mut h = vec![0.0; bins];
            for x in w {
                h[((x / hi * bins as f64) as usize).min(bins - 1)] += 1.0;
            }
            (name.clone(), h)
        })
        .collect();
    let top = hists.iter().flat_map(|(_, h)| h.iter().copied()).fold(1.0, f64::max);
    fn draw<DB: DrawingBackend>(
        root: DrawingArea<DB, plotters::coord::Shift>,
        (title, hists, hi, top, bins): (&str, &[Hist], f64, f64, usize),
    ) -> Result<(), Error>
    where
        DB::ErrorType: 'static,
    {
        let colors = [BLUE, RED, GREEN, MAGENTA, CYAN, BLACK];
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..hi, 0.0..top * 1.1)?;
        chart
            .configure_mesh()
            .x_desc("weight")
            .y_desc("synapses")
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .disable_mesh()
            .draw()?;
        for (k, (name, h)) in hists.iter().enumerate() {
            let color = colors[k % colors.len()];
            chart
                .draw_series(LineSeries::new(
                    h.iter().enumerate().flat_map(|(b, c)| {
                        let (x0, x1) = (b as f64 * hi / bins as f64, (b + 1) as f64 * hi / bins as f64);
                        [(x0, *c), (x1, *c)]
                    }),
                    &color,
                ))?
                .label(name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
        }
        chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
        root.present()?;
        Ok(())
    }
    let data = (title, hists.as_slice(), hi, top, bins);
    draw(SVGBackend::new(&ext(base, "svg"), (800, 480)).into_drawing_area(), data)?;
    draw(BitMapBackend::new(&ext(base, "png"), (800, 480)).into_drawing_area(), data)?;
    Ok(())
}

/// One bar, or one point of a sweep: the mean over seeds, its 95 % CI
/// (several seeds) and each seed's value.
pub struct Stat {
    pub mean: f64,
    pub ci: Option<(f64, f64)>,
    pub values: Vec<f64>,
}

/// The range a set of stats covers: means, CIs and single values.
fn extent(stats: &[Stat]) -> (f64, f64) {
    let all = stats.iter().flat_map(|s| {
        let ci = s.ci.map(|(a, b)| vec![a, b]).unwrap_or_default();
        std::iter::once(s.mean).chain(ci).chain(s.values.iter().copied())
    });
    let finite: Vec<f64> = all.filter(|v| v.is_finite()).collect();
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() {
        (0.0, 1.0)
    } else if hi > lo {
        (lo, hi)
    } else {
        (lo - 1.0, lo + 1.0)
    }
}

/// A bar chart of one metric across variants: bars at the means, the 95 %
/// CI as a red error bar, and each seed's value as a dot beside it.
pub fn bars(base: &Path, title: &str, labels: &[String], stats: &[Stat]) -> Result<(), Error> {
    fonts();
    let (lo, hi) = extent(stats);
    let (lo, hi) = (lo.min(0.0), hi.max(0.0));
    let (lo, hi) = if hi > lo { (lo, hi) } else { (lo, lo + 1.0) };
    fn draw<DB: DrawingBackend>(
        root: DrawingArea<DB, plotters::coord::Shift>,
        (title, labels, stats, lo, hi): (&str, &[String], &[Stat], f64, f64),
    ) -> Result<(), Error>
    where
        DB::ErrorType: 'static,
    {
        let n = labels.len();
        root.fill(&WHITE)?;
        let pad = (hi - lo) * 0.1;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(48)
            .y_label_area_size(64)
            // A segmented range a..b has a segment for each of a..=b.
            .build_cartesian_2d(
                (0..n.max(1) - 1).into_segmented(),
                (lo - if lo < 0.0 { pad } else { 0.0 })..hi + pad,
            )?;
        chart
            .configure_mesh()
            .disable_mesh()
            .y_label_formatter(&tick)
            .x_label_formatter(&|x| match x {
                SegmentValue::CenterOf(k) => labels.get(*k).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .draw()?;
        chart.draw_series(stats.iter().enumerate().filter(|(_, s)| s.mean.is_finite()).map(|(k, s)| {
            let mut bar = Rectangle::new(
                [(SegmentValue::Exact(k), 0.0), (SegmentValue::Exact(k + 1), s.mean)],
                BLUE.mix(0.45).filled(),
            );
            bar.set_margin(0, 0, 12, 12);
            bar
        }))?;
        // The CI: a vertical line with caps, at the bar's centre.
        for (k, s) in stats.iter().enumerate() {
            if let Some((a, b)) = s.ci.filter(|(a, b)| a.is_finite() && b.is_finite()) {
                let c = SegmentValue::CenterOf(k);
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(c.clone(), a), (c, b)],
                    RED.stroke_width(3),
                )))?;
            }
            // Each seed as a dot (only with several seeds).
            if s.values.len() > 1 {
                chart.draw_series(
                    s.values
                        .iter()
                        .filter(|v| v.is_finite())
                        // Beside the CI (12 pixels right), so neither hides the other.
                        .map(|v| {
                            EmptyElement::at((SegmentValue::CenterOf(k), *v)) + Circle::new((12, 0), 3, BLACK.filled())
                        }),
                )?;
            }
        }
        root.present()?;
        Ok(())
    }
    let data = (title, labels, stats, lo, hi);
    draw(SVGBackend::new(&ext(base, "svg"), (720, 440)).into_drawing_area(), data)?;
    draw(BitMapBackend::new(&ext(base, "png"), (720, 440)).into_drawing_area(), data)?;
    Ok(())
}

/// The ranges of a chart's x and y axes.
type Axes = (Range<f64>, Range<f64>);

/// A metric as a function of a swept parameter: the mean over seeds as a
/// line, its 95 % CI as a band, each seed's value as a dot.
pub fn sweep_line(base: &Path, title: &str, x_label: &str, xs: &[f64], stats: &[Stat]) -> Result<(), Error> {
    fonts();
    let (x0, x1) =
        (xs.iter().copied().fold(f64::INFINITY, f64::min), xs.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    let (x0, x1) = if x1 > x0 { (x0, x1) } else { (x0 - 1.0, x0 + 1.0) };
    let (y0, y1) = extent(stats);
    let pad = (y1 - y0) * 0.1;
    fn draw<DB: DrawingBackend>(
        root: DrawingArea<DB, plotters::coord::Shift>,
        (title, x_label, xs, stats, (x, y)): (&str, &str, &[f64], &[Stat], Axes),
    ) -> Result<(), Error>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(x, y)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .disable_mesh()
            .draw()?;
        let band: Vec<(f64, (f64, f64))> = xs
            .iter()
            .zip(stats)
            .filter_map(|(x, s)| s.ci.filter(|(a, b)| a.is_finite() && b.is_finite()).map(|c| (*x, c)))
            .collect();
        if band.len() >= 2 {
            let outline: Vec<(f64, f64)> =
                band.iter().map(|(x, (a, _))| (*x, *a)).chain(band.iter().rev().map(|(x, (_, b))| (*x, *b))).collect();
            chart.draw_series(std::iter::once(Polygon::new(outline, BLUE.mix(0.2).filled())))?;
        }
        let pts: Vec<(f64, f64)> =
            xs.iter().zip(stats).filter(|(_, s)| s.mean.is_finite()).map(|(x, s)| (*x, s.mean)).collect();
        chart.draw_series(LineSeries::new(pts.iter().copied(), &BLUE))?;
        chart.draw_series(pts.iter().map(|p| Circle::new(*p, 3, BLUE.filled())))?;
        let seeds: Vec<(f64, f64)> = xs
            .iter()
            .zip(stats)
            .flat_map(|(x, s)| s.values.iter().filter(|v| v.is_finite()).map(move |v| (*x, *v)))
            .collect();
        if stats.iter().any(|s| s.values.len() > 1) {
            chart.draw_series(seeds.iter().map(|p| Circle::new(*p, 2, BLACK.mix(0.6).filled())))?;
        }
        root.present()?;
        Ok(())
    }
    let (x, y) = (x0..x1, (y0 - pad)..(y1 + pad));
    let (svg, png) = (ext(base, "svg"), ext(base, "png"));
    draw(SVGBackend::new(&svg, (720, 440)).into_drawing_area(), (title, x_label, xs, stats, (x.clone(), y.clone())))?;
    draw(BitMapBackend::new(&png, (720, 440)).into_drawing_area(), (title, x_label, xs, stats, (x, y)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn ticks_are_short() {
        assert_eq!(super::tick(&140.0), "140");
        assert_eq!(super::tick(&0.15000000000000002), "0.15");
        assert_eq!(super::tick(&-2.5), "-2.5");
        assert_eq!(super::tick(&2e-9), "2e-9");
        assert_eq!(super::tick(&0.0), "0");
    }
}
