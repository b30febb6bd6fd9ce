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
