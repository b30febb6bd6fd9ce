//! Plasticity: event-driven traces, `on pre` / `on post`, hoisting, and the
//! canonical results the shipped rules must reproduce.

mod common;

use hebb::ir::Precision;
use hebb::session::{Backend, Outcome, Request};
use std::path::Path;

fn data(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name))
        .expect("reference file")
}

fn csv(name: &str) -> Vec<Vec<f64>> {
    data(name)
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|x| x.trim().parse::<f64>().unwrap_or(f64::NAN)).collect())
        .collect()
}

/// Runs model text with a backend, hoisting and scaling on or off.
fn run_text(text: &str, no_hoist: bool, no_scale: bool, backend: Backend) -> Outcome {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/plasticity_model.hebb");
    let out = common::simulate(&Request { no_hoist, no_scale, backend, ..Request::text(text, path) })
        .unwrap_or_else(|e| panic!("{e}"));
    out.result.clone().expect("runs");
    out
}

fn synaptic(out: &Outcome, var: &str) -> Vec<f64> {
    out.recordings().synapses[0].vars.iter().find(|(n, _, _)| n == var).expect("recorded").2.clone()
}

const PAIR_STDP: &str = r#"
synapse PairSTDP {
    param taupre = 20 ms
    param taupost = 20 ms
    param Apre = 0.1
    param Apost = -0.105
    param wmax = 1.0
    state w = 0.15
    state apre = 0
    state apost = 0
    dapre/dt = -apre / taupre
    dapost/dt = -apost / taupost
    on pre {
        apre += Apre
        w = clip(w + apost, 0, wmax)
    }
    on post {
        apost += Apost
        w = clip(w + apre, 0, wmax)
    }
}
"#;

fn times(ms: &[f64]) -> String {
    ms.iter().map(|t| format!("{t} ms")).collect::<Vec<_>>().join(", ")
}

fn pair_model(pre_ms: &[f64], post_ms: &[f64], duration_ms: f64) -> String {
    format!(
        "{PAIR_STDP}network ref {{\n population pre = 1 spike_times {{ times = [{}] }}\n population post = 1 spike_times {{ times = [{}] }}\n connect pre -> post with PairSTDP {{ all_to_all }}\n record w of pre -> post every 0.1 ms\n}}\nexperiment {{ network = ref; duration = {duration_ms} ms }}\n",
        times(pre_ms),
        times(post_ms)
    )
}

#[test]
fn pair_stdp_matches_brian2_after_every_event() {
    let pre: Vec<f64> = csv("stdp_pre_spikes.csv").iter().map(|r| r[1]).collect();
    let post: Vec<f64> = csv("stdp_post_spikes.csv").iter().map(|r| r[1]).collect();
    let reference = csv("stdp_weights.csv");
    let model = pair_model(&pre, &post, 1000.0);
    for (backend, no_hoist, no_scale) in [
        (Backend::Jit, false, false),
        (Backend::Jit, true, false),
        (Backend::Jit, true, true),
        (Backend::Interpreter, false, false),
    ] {
        let out = run_text(&model, no_hoist, no_scale, backend);
        let w = synaptic(&out, "w");
        for row in &reference {
            let step = (row[1] / 0.1).round() as usize;
            // Row step + 1 holds the state after the step's events. Same
            // arithmetic as Brian2 up to the order of operations: 1e-12.
            let got = w[step + 1];
            assert!(
                (got - row[4]).abs() <= 1e-12,
                "{backend:?} hoist={} scale={}: t = {} ms: w = {got}, Brian2 {}",
                !no_hoist,
                !no_scale,
                row[1],
                row[4]
            );
        }
    }
}

#[test]
fn isolated_pairs_change_w_by_the_window() {
    // Pre 10 ms before post: +Apre e^{-10/20}; post before pre: Apost e^{-10/20}.
    for (pre, post, expected) in [(20.0, 30.0, 0.1 * (-0.5f64).exp()), (30.0, 20.0, -0.105 * (-0.5f64).exp())] {
        let out = run_text(&pair_model(&[pre], &[post], 50.0), false, false, Backend::Jit);
        let w = synaptic(&out, "w");
        let dw = w[w.len() - 1] - 0.15;
        assert!(
            ((dw - expected) / expected).abs() <= 1e-12,
            "pre {pre} ms, post {post} ms: dw = {dw}, expected {expected}"
        );
    }
}

fn triplet_model(synapse: &str, pre_ms: &[f64], post_ms: &[f64], duration_ms: f64) -> String {
    let rules = std::fs::read_to_string(common::models_dir().join("synapses/triplet_pfister2006.hebb")).expect("model");
    // Keep the synapse types, drop the demo network and experiment.
    let types = rules.split("network pairing").next().expect("types");
    format!(
        "{types}network pairs {{\n population pre = 1 spike_times {{ times = [{}] }}\n population post = 1 spike_times {{ times = [{}] }}\n connect pre -> post with {synapse} {{ all_to_all }}\n record w of pre -> post every 1 ms\n}}\nexperiment {{ network = pairs; duration = {duration_ms} ms }}\n",
        times(pre_ms),
        times(post_ms)
    )
}

#[test]
fn minimal_triplet_rule_reproduces_pairing_frequency_dependence() {
    // Pfister & Gerstner (2006), minimal all-to-all visual cortex set: 60
    // pairings, w additive from 1. Expected dw/w for dt = +10 / -10 ms.
    let expected = [(10.0, 0.1186, -0.3322), (20.0, 0.2278, -0.3417), (40.0, 0.5321, 0.1737)];
    for (freq, plus, minus) in expected {
        for (dt_ms, want) in [(10.0, plus), (-10.0, minus)] {
            let start = 100.0;
            let pre: Vec<f64> = (0..60).map(|k| start + k as f64 * 1000.0 / freq).collect();
            let post: Vec<f64> = pre.iter().map(|t| t + dt_ms).collect();
            let duration = pre.last().unwrap() + 200.0;
            let out = run_text(&triplet_model("TripletMinimal", &pre, &post, duration), false, false, Backend::Jit);
            let w = synaptic(&out, "w");
            let dw = w[w.len() - 1] - 1.0;
            // The issue's tolerance: 1e-3 (the published values have 4 digits).
            assert!((dw - want).abs() <= 1e-3, "{freq} Hz, dt = {dt_ms} ms: dw/w = {dw:.4}, expected {want}");
        }
    }
}

#[test]
fn minimal_triplet_drift_changes_sign_at_the_predicted_rate() {
    // Independent Poisson pre (10 Hz) and post spikes: the mean drift is
    // nu_pre nu_post (A3+ tau+ tau_y nu_post - A2- tau-), zero at
    // nu_post = A2- tau- / (A3+ tau+ tau_y) = 19.2 Hz.
    let rules = std::fs::read_to_string(common::models_dir().join("synapses/triplet_pfister2006.hebb")).expect("model");
    let types = rules.split("network pairing").next().expect("types");
    let duration = 200.0;
    let model = format!(
        "{types}network drift {{\n population pre = 400 poisson {{ rate = 10 Hz }}\n population post = 41 poisson {{ rate = 14 Hz + i * 0.25 Hz }}\n connect pre -> post with TripletMinimal {{ all_to_all }}\n}}\nexperiment {{ network = drift; duration = {duration} s; seed = 3 }}\n"
    );
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/drift.hebb");
    let out = common::simulate(&Request::text(model, path)).unwrap_or_else(|e| panic!("{e}"));
    out.result.clone().expect("runs");
    // Mean weight change per postsynaptic neuron, against its rate.
    let proj = out.simulation.projection(0);
    let w = proj.column(0);
    let mut sums = vec![(0.0, 0usize); 41];
    for (s, &j) in proj.targets().iter().enumerate() {
        sums[j as usize].0 += w[s] - 1.0;
        sums[j as usize].1 += 1;
    }
    let rates: Vec<f64> = (0..41).map(|j| 14.0 + 0.25 * j as f64).collect();
    let drift: Vec<f64> = sums.iter().map(|(s, n)| s / *n as f64).collect();
    // Least squares of drift / nu_post against nu_post: a line whose zero is
    // the crossing (dividing by nu_post removes the common factor).
    let y: Vec<f64> = drift.iter().zip(&rates).map(|(d, r)| d / r).collect();
    let n = rates.len() as f64;
    let (mx, my) = (rates.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let slope = rates.iter().zip(&y).map(|(x, y)| (x - mx) * (y - my)).sum::<f64>()
        / rates.iter().map(|x| (x - mx).powi(2)).sum::<f64>();
    let zero = mx - my / slope;
    eprintln!("minimal triplet drift: zero crossing at {zero:.2} Hz");
    // Poisson noise in 200 s moves the fitted crossing by a few tenths of a
    // hertz; the issue allows 1 Hz.
    assert!((zero - 19.2).abs() <= 1.0, "drift changes sign at {zero:.2} Hz (slope {slope:e})");
    assert!(slope > 0.0);
}

/// Runs the Song et al. (2000) setup of models/synapses/stdp_song2000.hebb
/// with 1000 Poisson inputs at `rate_hz` for `duration` seconds. Returns the
/// output rate over the last 50 s and the final weights.
fn song(rate_hz: f64, a_post_ratio: f64, duration: f64) -> (f64, Vec<f64>) {
    song_at(rate_hz, a_post_ratio, duration, Precision::F64)
}

fn song_at(rate_hz: f64, a_post_ratio: f64, duration: f64, precision: Precision) -> (f64, Vec<f64>) {
    let path = common::models_dir().join("synapses/stdp_song2000.hebb");
    let text = std::fs::read_to_string(&path).expect("model").replace("rate = 20 Hz", &format!("rate = {rate_hz} Hz"));
    let a_post = -a_post_ratio * 0.005 * 0.015;
    let settings = vec![format!("SongSTDP.A_post={a_post}")];
    let request =
        Request { settings, duration: Some(duration), precision: Some(precision), ..Request::text(text, &path) };
    let out = common::simulate(&request).unwrap_or_else(|e| panic!("{e}"));
    out.result.clone().expect("runs");
    let out_spikes = &out.recordings().spikes[0].times;
    let late = out_spikes.iter().filter(|&&t| t >= duration - 50.0).count() as f64 / 50.0;
    let w = out.recordings().synapses[0].vars[0].2.clone();
    let n = out.recordings().synapses[0].synapses.len();
    (late, w[w.len() - n..].to_vec())
}

#[test]
fn song_2000_competition_gives_bimodal_weights_and_rate_normalization() {
    let g_max = 0.015;
    let (r20, w20) = song(20.0, 1.05, 300.0);
    let (r40, w40) = song(40.0, 1.05, 300.0);
    eprintln!("Song 2000: output {r20:.1} Hz at 20 Hz input, {r40:.1} Hz at 40 Hz input, ratio {:.2}", r40 / r20);
    for (rate, w) in [(20, &w20), (40, &w40)] {
        let mut bins = [0usize; 10];
        for x in w.iter() {
            bins[((x / g_max * 10.0) as usize).min(9)] += 1;
        }
        eprintln!("Song 2000: weight histogram at {rate} Hz input: {bins:?}");
        // U-shaped: the lowest bin is the fullest, and the highest holds more
        // than each of the middle bins 3 to 9 (counting from 1).
        assert!(bins[1..].iter().all(|&b| bins[0] > b), "{rate} Hz: {bins:?}");
        assert!(bins[2..9].iter().all(|&b| bins[9] > b), "{rate} Hz: {bins:?}");
    }
    // Brian2, same model: about 17 Hz and 19 Hz; the issue allows 25 %.
    assert!((r20 - 17.0).abs() <= 0.25 * 17.0, "rate at 20 Hz input: {r20}");
    assert!((r40 - 19.0).abs() <= 0.25 * 19.0, "rate at 40 Hz input: {r40}");
    assert!(r40 / r20 < 1.5, "doubling the input rate multiplies the output by {}", r40 / r20);
}

/// The U shape of the weight histogram (the lowest bin the fullest, the
/// highest fuller than each middle bin).
fn u_shaped(w: &[f64], g_max: f64) -> Result<(), [usize; 10]> {
    let mut bins = [0usize; 10];
    for x in w {
        bins[((x / g_max * 10.0) as usize).min(9)] += 1;
    }
    let ok = bins[1..].iter().all(|&b| bins[0] > b) && bins[2..9].iter().all(|&b| bins[9] > b);
    if ok { Ok(()) } else { Err(bins) }
}

#[test]
fn song_2000_is_still_u_shaped_in_f32() {
    // `precision f32` stores weights and traces in single precision; the
    // competition, not the rounding, decides the outcome.
    let (r20, w20) = song_at(20.0, 1.05, 300.0, Precision::F32);
    eprintln!("Song 2000 in f32: output {r20:.1} Hz at 20 Hz input");
    u_shaped(&w20, 0.015).unwrap_or_else(|bins| panic!("f32: not U-shaped: {bins:?}"));
    assert!((r20 - 17.0).abs() <= 0.25 * 17.0, "rate at 20 Hz input: {r20}");
    // The weights are f32 values: something did change.
    assert!(w20.iter().all(|&x| x == f64::from(x as f32)), "weights are not f32 values");
}

#[test]
fn song_2000_without_dominant_depression_runs_away() {
    // Negative control: with A-/A+ = 0.95 potentiation wins and the weights
    // saturate.
    let (_, w) = song(20.0, 0.95, 300.0);
    let mean = w.iter().sum::<f64>() / w.len() as f64;
    eprintln!("Song 2000 with A-/A+ = 0.95: mean weight {:.3} g_max", mean / 0.015);
    assert!(mean > 0.9 * 0.015, "mean weight {} g_max", mean / 0.015);
}

/// Runs a shipped model for `duration` seconds (or its own duration).
fn run_model_file(rel: &str, duration: Option<f64>) -> Outcome {
    let request = Request { duration, ..Request::file(common::models_dir().join(rel)) };
    let out = common::simulate(&request).unwrap_or_else(|e| panic!("{e}"));
    out.result.clone().expect("runs");
    out
}

#[test]
fn vogels_2011_inhibitory_plasticity_sets_the_rate_to_rho_0() {
    // Feed-forward: the postsynaptic rate converges to alpha / (2 tau) =
    // rho_0 = 5 Hz. Measured over 20-120 s (the rate still fluctuates by
    // about 10 % in 10 s windows); the issue allows 10 %.
    let out = run_model_file("synapses/istdp_vogels2011.hebb", Some(120.0));
    let spikes = &out.recordings().spikes[0].times;
    let late = spikes.iter().filter(|&&t| t >= 20.0).count() as f64 / 100.0;
    eprintln!("Vogels 2011: output rate {late:.2} Hz over 20-120 s (target 5 Hz)");
    assert!((late - 5.0).abs() <= 0.5, "rate {late} Hz");
}

#[test]
fn synaptic_scaling_alone_preserves_weight_ratios() {
    // van Rossum et al. (2000) with STDP switched off: scaling multiplies all
    // weights of a neuron by one factor, so their ratios stay (1e-9: the
    // factor is applied in floating point, a few roundings per step).
    let settings = vec!["MultiplicativeSTDP.a_p=0".to_string(), "MultiplicativeSTDP.a_d=0".to_string()];
    let path = common::models_dir().join("synapses/stdp_vanrossum2000.hebb");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace(
            "with MultiplicativeSTDP { all_to_all }",
            "with MultiplicativeSTDP { all_to_all; w = uniform(0.01, 0.03) }",
        )
        .replace("every 1 s sample 100", "every 1 s");
    let out = common::simulate(&Request { settings, ..Request::text(text, &path) }).unwrap_or_else(|e| panic!("{e}"));
    out.result.clone().expect("runs");
    let rec = &out.recordings().synapses[0];
    let w = &rec.vars[0].2;
    let n = rec.synapses.len();
    let (first, last) = (&w[..n], &w[w.len() - n..]);
    let mut scaled = 0;
    for post in 0..10u32 {
        let idx: Vec<usize> = (0..n).filter(|&k| rec.post[k] == post).collect();
        let f0 = last[idx[0]] / first[idx[0]];
        if (f0 - 1.0).abs() > 1e-3 {
            scaled += 1;
        }
        for &k in &idx {
            let f = last[k] / first[k];
            assert!(((f - f0) / f0).abs() <= 1e-9, "neuron {post}: factors {f} and {f0}");
        }
    }
    assert!(scaled >= 5, "scaling changed the weights of only {scaled} neurons");
}

#[test]
fn normalization_keeps_incoming_sums_at_target() {
    let out = run_model_file("homeostasis/normalization.hebb", None);
    let target = 3.0;
    // `in_sum` is per projection: each projection's incoming sum per neuron.
    // Row s >= 1 is taken right after the normalization at s seconds.
    for rec in &out.recordings().synapses {
        let n = rec.synapses.len();
        assert!(rec.times.len() >= 19);
        for s in 1..rec.times.len() {
            let row = &rec.vars[0].2[s * n..(s + 1) * n];
            for post in 0..5u32 {
                let sum: f64 = (0..n).filter(|&k| rec.post[k] == post).map(|k| row[k]).sum();
                // One rescaling and a sum in a different order: 1e-12.
                assert!(((sum - target) / target).abs() <= 1e-12, "t = {} s, neuron {post}: sum {sum}", rec.times[s]);
            }
        }
    }
}

#[test]
fn dopamine_eligibility_decays_with_tau_c() {
    // Izhikevich (2007): the weight change of a reward D after the pairing
    // is exp(-D / tau_c) times the change of an immediate reward.
    let dw = |delay_ms: f64| -> f64 {
        let path = common::models_dir().join("synapses/da_stdp_izhikevich2007.hebb");
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("times = [1110 ms]", &format!("times = [{} ms]", 110.0 + delay_ms));
        let out = common::simulate(&Request::text(text, &path)).unwrap_or_else(|e| panic!("{e}"));
        out.result.clone().expect("runs");
        let w = &out.recordings().synapses[0].vars[0].2;
        w[w.len() - 1] - 1.0
    };
    let (now, later) = (dw(0.0), dw(1000.0));
    let ratio = later / now;
    eprintln!("Izhikevich 2007: dw(D = 1 s) / dw(D = 0) = {ratio:.4} (e^-1 = {:.4})", (-1f64).exp());
    assert!(now > 0.0);
    assert!((ratio / (-1f64).exp() - 1.0).abs() <= 0.02, "ratio {ratio}");
}

#[test]
fn hoisting_and_scaling_do_not_change_results_of_any_shipped_rule() {
    // Hoisted traces decay at other instants than per-synapse ones, and
    // scaled storage multiplies by a factor where the unscaled one takes an
    // exponential of the elapsed time, so results differ by rounding only:
    // 1e-12 relative (to the largest value of the recorded variable, so that
    // values near 0 are compared sensibly). Three storages: hoisted and
    // scaled (the default), per synapse and scaled, per synapse as of the
    // last update.
    let mut rules = common::hebb_files(&common::models_dir().join("synapses"));
    rules.extend(common::hebb_files(&common::models_dir().join("homeostasis")));
    assert!(rules.len() >= 9, "{rules:?}");
    let mut hoisted_any = 0;
    let mut scaled_any = 0;
    for path in rules {
        let request = |no_hoist, no_scale| Request { duration: Some(3.0), no_hoist, no_scale, ..Request::file(&path) };
        let a = common::simulate(&request(false, false)).unwrap_or_else(|e| panic!("{e}"));
        let hoisted = a.simulation.program();
        hoisted_any +=
            usize::from(hoisted.projections.iter().any(|p| !p.pre_side.is_empty() || !p.post_side.is_empty()));
        for (no_scale, what) in [(false, "per synapse, scaled"), (true, "per synapse, unscaled")] {
            let b = common::simulate(&request(true, no_scale)).unwrap_or_else(|e| panic!("{e}"));
            let name = format!("{} ({what})", path.display());
            if !no_scale {
                let program = b.simulation.program();
                let scaled_per_synapse =
                    |p: &hebb::ir::Projection| p.scaled.iter().any(|s| matches!(s.var, hebb::ir::SynVar::Column(_)));
                scaled_any += usize::from(program.projections.iter().any(scaled_per_synapse));
            }
            assert_eq!(a.recordings().spike_counts, b.recordings().spike_counts, "{name}: spike counts");
            for (ra, rb) in a.recordings().synapses.iter().zip(&b.recordings().synapses) {
                for ((var, _, da), (_, _, db)) in ra.vars.iter().zip(&rb.vars) {
                    let scale = da.iter().chain(db).fold(0.0f64, |m, x| m.max(x.abs())).max(f64::MIN_POSITIVE);
                    let worst = da.iter().zip(db).map(|(x, y)| (x - y).abs() / scale).fold(0.0, f64::max);
                    assert!(worst <= 1e-12, "{name}: `{var}` differs by {worst:e} relative");
                }
            }
        }
    }
    assert!(scaled_any >= 7, "per-synapse scaling applied in only {scaled_any} rule files");
    assert!(hoisted_any >= 7, "hoisting applied in only {hoisted_any} rule files");
}

/// A `continuous` synaptic equation integrated by `rk4` that reads an
/// event-driven trace: every Runge–Kutta stage reads the trace at the
/// stage's own time, whether the trace is stored scaled (a factor per step,
/// shifted by e^{r c} for a stage at t + c) or as of its last update (an
/// exponential of the elapsed time). The two storages agree to 1e-12
/// relative (rounding); before stages were shifted they differed by ~1e-5.
#[test]
fn runge_kutta_stages_read_decaying_traces_at_their_own_time() {
    let text = r#"
neuron Cell {
    state v = -70 mV
    state g : 1 = 0
    dv/dt = (-70 mV - v + g * (0 mV - v)) / 20 ms
    dg/dt = -g / 5 ms
    spike when v > -54 mV
    reset { v = -70 mV }
}
synapse Tagged {
    state w = 0.1
    state z = 0
    state x = 0
    dx/dt = -x / 20 ms
    continuous dz/dt = x * (1 - z) / 50 ms - z / 1 s
    method rk4
    on pre { post.g += w; x += 1 }
}
network net {
    population input = 20 poisson { rate = 20 Hz }
    population cells = 3 Cell
    connect input -> cells with Tagged { all_to_all }
    record z, x of input -> cells every 1 ms
}
experiment { network = net; duration = 1 s; seed = 4 }
"#;
    let scaled = run_text(text, true, false, Backend::Jit);
    let unscaled = run_text(text, true, true, Backend::Jit);
    let (a, b) = (synaptic(&scaled, "z"), synaptic(&unscaled, "z"));
    let scale = a.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    assert!(scale > 0.1, "z grows: {scale}");
    let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs() / scale).fold(0.0, f64::max);
    assert!(worst <= 1e-12, "z differs by {worst:e} relative between storages");
}
