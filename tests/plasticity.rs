//! Plasticity: event-driven traces, `on pre` / `on post`, hoisting, and the
//! canonical results the shipped rules must reproduce.

use hebb::ir::lower::Options;
use hebb::pipeline::{self, Backend, Outcome};
use std::path::Path;

fn data(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)).expect("reference file")
}

fn csv(name: &str) -> Vec<Vec<f64>> {
    data(name).lines().skip(1).map(|l| l.split(',').map(|x| x.trim().parse::<f64>().unwrap_or(f64::NAN)).collect()).collect()
}

fn run_text(text: &str, options: &Options, backend: Backend) -> Outcome {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/plasticity_model.hebb");
    let program = pipeline::compile(text, &path, &[], options).unwrap_or_else(|e| panic!("{e}"));
    let out = pipeline::simulate(&program, backend).expect("builds");
    out.result.clone().expect("runs");
    out
}

fn synaptic(out: &Outcome, var: &str) -> Vec<f64> {
    out.recordings.synapses[0].vars.iter().find(|(n, _, _)| n == var).expect("recorded").2.clone()
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
    for (backend, no_hoist) in [(Backend::Jit, false), (Backend::Jit, true), (Backend::Interpreter, false)] {
        let out = run_text(&model, &Options { no_hoist, ..Options::default() }, backend);
        let w = synaptic(&out, "w");
        for row in &reference {
            let step = (row[1] / 0.1).round() as usize;
            // Row step + 1 holds the state after the step's events. Same
            // arithmetic as Brian2 up to the order of operations: 1e-12.
            let got = w[step + 1];
            assert!((got - row[4]).abs() <= 1e-12, "{backend:?} hoist={}: t = {} ms: w = {got}, Brian2 {}", !no_hoist, row[1], row[4]);
        }
    }
}

#[test]
fn isolated_pairs_change_w_by_the_window() {
    // Pre 10 ms before post: +Apre e^{-10/20}; post before pre: Apost e^{-10/20}.
    for (pre, post, expected) in [(20.0, 30.0, 0.1 * (-0.5f64).exp()), (30.0, 20.0, -0.105 * (-0.5f64).exp())] {
        let out = run_text(&pair_model(&[pre], &[post], 50.0), &Options::default(), Backend::Jit);
        let w = synaptic(&out, "w");
        let dw = w[w.len() - 1] - 0.15;
        assert!(((dw - expected) / expected).abs() <= 1e-12, "pre {pre} ms, post {post} ms: dw = {dw}, expected {expected}");
    }
}

fn triplet_model(synapse: &str, pre_ms: &[f64], post_ms: &[f64], duration_ms: f64) -> String {
    let rules = std::fs::read_to_string(pipeline::models_dir().join("synapses/triplet_pfister2006.hebb")).expect("model");
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
            let out = run_text(&triplet_model("TripletMinimal", &pre, &post, duration), &Options::default(), Backend::Jit);
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
    let rules = std::fs::read_to_string(pipeline::models_dir().join("synapses/triplet_pfister2006.hebb")).expect("model");
    let types = rules.split("network pairing").next().expect("types");
    let duration = 200.0;
    let model = format!(
        "{types}network drift {{\n population pre = 400 poisson {{ rate = 10 Hz }}\n population post = 41 poisson {{ rate = 14 Hz + i * 0.25 Hz }}\n connect pre -> post with TripletMinimal {{ all_to_all }}\n}}\nexperiment {{ network = drift; duration = {duration} s; seed = 3 }}\n"
    );
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/drift.hebb");
    let program = pipeline::compile(&model, &path, &[], &Options::default()).unwrap_or_else(|e| panic!("{e}"));
    let compiled = hebb::jit::compile(&program).expect("jit");
    let read = |p: &Path| std::fs::read_to_string(p);
    let mut sim = hebb::runtime::build(&program, &read).expect("builds");
    sim.set_backend(Box::new(compiled.backend()));
    sim.run_steps(program.n_steps).expect("runs");
    // Mean weight change per postsynaptic neuron, against its rate.
    let proj = &sim.projections[0];
    let w = &proj.columns[0];
    let mut sums = vec![(0.0, 0usize); 41];
    for (s, &j) in proj.targets.iter().enumerate() {
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
    let slope = rates.iter().zip(&y).map(|(x, y)| (x - mx) * (y - my)).sum::<f64>() / rates.iter().map(|x| (x - mx).powi(2)).sum::<f64>();
    let zero = mx - my / slope;
    eprintln!("minimal triplet drift: zero crossing at {zero:.2} Hz");
    // Poisson noise in 200 s moves the fitted crossing by a few tenths of a
    // hertz; the issue allows 1 Hz.
    assert!((zero - 19.2).abs() <= 1.0, "drift changes sign at {zero:.2} Hz (slope {slope:e})");
    assert!(slope > 0.0);
}
