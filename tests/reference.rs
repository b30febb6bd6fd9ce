//! Brian2 reference traces (../shared/reference, copied to tests/data):
//! LIF (exact), AdEx (Euler and RK4) and Izhikevich (Euler), compared step by
//! step with hebb on both backends.

mod common;

use hebb::ir::Precision;
use hebb::session::{Backend, Request};
use std::path::Path;

fn data(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name))
        .expect("reference file")
}

/// Columns of a reference CSV (header skipped).
fn csv(name: &str) -> Vec<Vec<f64>> {
    data(name)
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|x| x.trim().parse::<f64>().expect("number")).collect())
        .collect()
}

/// Runs `model` and returns (trace of each recorded variable, spike times in ms).
fn run(model: &str, backend: Backend, vars: &[&str]) -> (Vec<Vec<f64>>, Vec<f64>) {
    run_at(model, backend, Precision::F64, vars)
}

fn run_at(model: &str, backend: Backend, precision: Precision, vars: &[&str]) -> (Vec<Vec<f64>>, Vec<f64>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/reference_model.hebb");
    let request = Request { backend, precision: Some(precision), ..Request::text(model, path) };
    let out = common::simulate(&request).unwrap_or_else(|e| panic!("{e}"));
    out.result.clone().expect("simulation runs");
    let state = &out.recordings().states[0];
    let traces = vars
        .iter()
        .map(|v| state.vars.iter().find(|(n, _, _)| n == v).map(|(_, _, d)| d.clone()).expect("recorded var"))
        .collect();
    let spikes = out.recordings().spikes[0].times.iter().map(|t| t * 1e3).collect();
    (traces, spikes)
}

fn spike_steps(ms: &[f64]) -> Vec<i64> {
    ms.iter().map(|t| (t / 0.1).round() as i64).collect()
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "trace lengths differ");
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

const LIF: &str = r#"
neuron RefLIF {
    param tau = 10 ms
    param v_rest = -70 mV
    param v_th = -50 mV
    param v_reset = -70 mV
    state v = -70 mV
    state RI : mV = 0 mV
    dv/dt = (v_rest - v + RI) / tau  unless refractory
    spike when v > v_th
    reset { v = v_reset }
    refractory 2 ms
    method exact
}
network ref {
    population n = 1 RefLIF
    # RI switches to 25 mV for the step that starts at 50 ms: a spike at
    # 49.9 ms arrives after that step's integration.
    population input = 1 spike_times { times = [49.9 ms] }
    connect input -> n with Static(target = RI) { one_to_one; w = 25 mV }
    record v of n every 0.1 ms
    record spikes of n
}
experiment { network = ref; dt = 0.1 ms; duration = 500 ms }
"#;

#[test]
fn lif_exact_matches_brian2() {
    let reference = csv("lif_trace.csv");
    let ref_v: Vec<f64> = reference.iter().map(|r| r[1]).collect();
    let ref_spikes: Vec<f64> = csv("lif_spikes.csv").iter().map(|r| r[1]).collect();
    for backend in [Backend::Jit, Backend::Interpreter] {
        let (traces, spikes) = run(LIF, backend, &["v"]);
        let v_mv: Vec<f64> = traces[0].iter().map(|v| v * 1e3).collect();
        // Exact propagator: both are exact to rounding; 1e-9 mV leaves room
        // for the different but equivalent formulas (CSV has 12 digits).
        let d = max_abs_diff(&v_mv, &ref_v);
        assert!(d <= 1e-9, "{backend:?}: max |dv| = {d} mV");
        assert_eq!(spike_steps(&spikes), spike_steps(&ref_spikes), "{backend:?}: spike steps");
    }
}

#[test]
fn lif_in_f32_stays_within_1e_5_of_brian2() {
    // `precision f32` rounds v to single precision at every step (relative
    // 6e-8); over 5000 steps of a contracting linear map the error stays
    // far below the 1e-5 relative bound asked of f32. Spike steps are
    // unchanged: the threshold crossings are not within 1e-5 of v_th.
    let reference = csv("lif_trace.csv");
    let ref_v: Vec<f64> = reference.iter().map(|r| r[1]).collect();
    let ref_spikes: Vec<f64> = csv("lif_spikes.csv").iter().map(|r| r[1]).collect();
    let mut traces_by_backend = Vec::new();
    for backend in [Backend::Jit, Backend::Interpreter] {
        let (traces, spikes) = run_at(LIF, backend, Precision::F32, &["v"]);
        let v_mv: Vec<f64> = traces[0].iter().map(|v| v * 1e3).collect();
        let rel = v_mv.iter().zip(&ref_v).map(|(a, b)| ((a - b) / b).abs()).fold(0.0, f64::max);
        eprintln!("LIF f32 {backend:?}: max relative |dv| = {rel:e}");
        assert!(rel <= 1e-5, "{backend:?}: max relative |dv| = {rel}");
        assert!(rel > 0.0, "f32 storage changed nothing: is it in effect?");
        assert_eq!(spike_steps(&spikes), spike_steps(&ref_spikes), "{backend:?}: spike steps");
        traces_by_backend.push(traces[0].clone());
    }
    assert_eq!(traces_by_backend[0], traces_by_backend[1], "JIT and interpreter differ in f32");
}

const ADEX: &str = r#"
neuron AdEx {
    param C = 281 pF
    param g_L = 30 nS
    param E_L = -70.6 mV
    param V_T = -50.4 mV
    param Delta_T = 2 mV
    param tau_w = 144 ms
    param a = 4 nS
    param b = 0.0805 nA
    param V_r = -70.6 mV
    param I = 1 nA
    param V_cut = V_T + 5 * Delta_T
    state v = E_L
    state w : pA = 0 pA
    dv/dt = (g_L * (E_L - v) + g_L * Delta_T * exp((v - V_T) / Delta_T) + I - w) / C
    dw/dt = (a * (v - E_L) - w) / tau_w
    spike when v > V_cut
    reset { v = V_r; w += b }
    method METHOD
}
network ref {
    population n = 1 AdEx
    record v, w of n every 0.1 ms
    record spikes of n
}
experiment { network = ref; dt = 0.1 ms; duration = 500 ms }
"#;

fn check_adex(method: &str, trace: &str, spikes_file: &str) {
    let reference = csv(trace);
    let ref_v: Vec<f64> = reference.iter().map(|r| r[1]).collect();
    let ref_w: Vec<f64> = reference.iter().map(|r| r[2]).collect();
    let ref_spikes: Vec<f64> = csv(spikes_file).iter().map(|r| r[1]).collect();
    let model = ADEX.replace("METHOD", method);
    for backend in [Backend::Jit, Backend::Interpreter] {
        let (traces, spikes) = run(&model, backend, &["v", "w"]);
        let v_mv: Vec<f64> = traces[0].iter().map(|v| v * 1e3).collect();
        let w_pa: Vec<f64> = traces[1].iter().map(|w| w * 1e12).collect();
        // Same discrete scheme as Brian2: differences are rounding only
        // (the CSV keeps 12 significant digits); the issue asks for 1e-6.
        let (dv, dw) = (max_abs_diff(&v_mv, &ref_v), max_abs_diff(&w_pa, &ref_w));
        assert!(dv <= 1e-6 && dw <= 1e-6, "{method} {backend:?}: max |dv| = {dv} mV, max |dw| = {dw} pA");
        assert_eq!(spike_steps(&spikes), spike_steps(&ref_spikes), "{method} {backend:?}: spike steps");
    }
}

#[test]
fn adex_euler_matches_brian2() {
    check_adex("euler", "adex_euler_trace.csv", "adex_euler_spikes.csv");
}

#[test]
fn adex_rk4_matches_brian2() {
    check_adex("rk4", "adex_rk4_trace.csv", "adex_rk4_spikes.csv");
}

const IZH: &str = r#"
neuron Izhikevich {
    param a = 0.02
    param b = 0.2
    param c = -65
    param d = 8
    param I = 10
    state v = -65
    state u = -13
    dv/dt = (0.04 * v^2 + 5 * v + 140 - u + I) / ms
    du/dt = a * (b * v - u) / ms
    spike when v >= 30
    reset { v = c; u += d }
    method euler
}
network ref {
    population n = 1 Izhikevich
    record v, u of n every 0.1 ms
    record spikes of n
}
experiment { network = ref; dt = 0.1 ms; duration = 500 ms }
"#;

#[test]
fn izhikevich_euler_matches_brian2() {
    let reference = csv("izh_euler_trace.csv");
    let ref_v: Vec<f64> = reference.iter().map(|r| r[1]).collect();
    let ref_u: Vec<f64> = reference.iter().map(|r| r[2]).collect();
    let ref_spikes: Vec<f64> = csv("izh_euler_spikes.csv").iter().map(|r| r[1]).collect();
    for backend in [Backend::Jit, Backend::Interpreter] {
        let (traces, spikes) = run(IZH, backend, &["v", "u"]);
        // Forward Euler, same operations up to ordering: 1e-6 as required.
        let (dv, du) = (max_abs_diff(&traces[0], &ref_v), max_abs_diff(&traces[1], &ref_u));
        assert!(dv <= 1e-6 && du <= 1e-6, "{backend:?}: max |dv| = {dv}, max |du| = {du}");
        assert_eq!(spike_steps(&spikes), spike_steps(&ref_spikes), "{backend:?}: spike steps");
    }
}
