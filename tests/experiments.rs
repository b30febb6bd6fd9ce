//! Experiments end to end: variants on identical inputs, `abort when`,
//! phases with `plasticity off`, and `hebb compare` / `sweep` / `plot`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn hebb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hebb")).args(args).env("NO_COLOR", "1").output().expect("hebb runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hebb-exp-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A small learning experiment with the shipped types and three variants.
fn small_experiment(dir: &Path) -> PathBuf {
    let text = common::small_experiment(
        "1 s",
        "4 s",
        &[
            "variant unchanged { STDP.beta = 0 }",
            "variant scaling { STDP.beta = 0.2 }",
            "variant intrinsic { Exc.eta_ip = 0.5 mV }",
        ],
    );
    let path = dir.join("small.hebb");
    std::fs::write(&path, text).expect("write model");
    path
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn variants_see_identical_inputs_and_a_null_variant_is_the_base() {
    let dir = temp_dir("variants");
    let model = small_experiment(&dir);
    let out = dir.join("cmp");
    let o = hebb(&["compare", model.to_str().unwrap(), "-o", out.to_str().unwrap(), "--jobs", "2", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    // A variant that changes nothing reproduces the base bit for bit.
    for file in
        ["spikes/input.t.npy", "spikes/input.i.npy", "spikes/exc.t.npy", "spikes/exc.i.npy", "weights/input-exc.w.npy"]
    {
        assert_eq!(read(&out.join("base").join(file)), read(&out.join("unchanged").join(file)), "{file}");
    }
    // Variants that change the rules see byte-identical input spikes, and
    // their own (different) output.
    for v in ["scaling", "intrinsic"] {
        for file in ["spikes/input.t.npy", "spikes/input.i.npy"] {
            assert_eq!(read(&out.join("base").join(file)), read(&out.join(v).join(file)), "{v}: {file}");
        }
        assert_ne!(
            read(&out.join("base/spikes/exc.i.npy")),
            read(&out.join(v).join("spikes/exc.i.npy")),
            "{v} changes the output"
        );
    }
    // The presentation schedule is the same too.
    assert_eq!(
        read(&out.join("base/stimuli/patterns.pattern.npy")),
        read(&out.join("scaling/stimuli/patterns.pattern.npy"))
    );
    // compare.csv: one row per run (one seed: one per variant), base
    // first, with the seed it ran, one column per metric.
    let csv = std::fs::read_to_string(out.join("compare.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "variant,seed,status,rates.exc.test,decoding.exc.test,weights.input-exc");
    assert!(lines[1].starts_with("base,3,ok,"), "{csv}");
    assert_eq!(lines.len(), 5);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("compare.json")).unwrap()).unwrap();
    assert_eq!(json["rows"][2]["name"], "scaling");
    assert!(out.join("plots/decoding.exc.test.svg").exists() && out.join("plots/decoding.exc.test.png").exists());
}

#[test]
fn plasticity_off_freezes_weights_but_keeps_transmission() {
    let dir = temp_dir("frozen");
    let model = small_experiment(&dir);
    let run = dir.join("run");
    let o = hebb(&["run", model.to_str().unwrap(), "-o", run.to_str().unwrap(), "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let (shape, w) = hebb::output::read_f64(&run.join("weights/input-exc.w.npy")).unwrap();
    let n = shape[1];
    let row = |s: usize| &w[s * n..(s + 1) * n];
    // Samples at 0..5 s: weights change while learning (0-4 s), not in the
    // test phase (4-6 s).
    assert_ne!(row(1), row(3), "STDP learns in the first phase");
    assert_eq!(row(4), row(5), "plasticity off: no weight changes");
    let (_, t) = hebb::output::read_f64(&run.join("spikes/exc.t.npy")).unwrap();
    assert!(t.iter().filter(|&&x| x >= 4.0).count() > 10, "neurons still fire in the test phase");
    let phase_end = hebb::output::read_f64(&run.join("weights/input-exc.phase_learn.npy")).unwrap().1;
    let test_end = hebb::output::read_f64(&run.join("weights/input-exc.phase_test.npy")).unwrap().1;
    assert_eq!(phase_end, test_end);
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics[0]["column"], "rates.exc.test");
    assert!(metrics[1]["value"].as_f64().unwrap() > 0.25, "decoding above chance");
}

#[test]
fn abort_when_stops_a_runaway_network_and_keeps_its_data() {
    let dir = temp_dir("abort");
    let model = dir.join("runaway.hebb");
    std::fs::write(
        &model,
        format!(
            r#"import "{}"
network runaway {{
    population drive = 100 poisson {{ rate = 20 Hz }}
    population exc = 50 Exc
    connect drive -> exc with Static(target = g_e) {{ p = 0.5; w = 0.05 }}
    connect exc -> exc with Static(target = g_e) {{ p = 0.5; w = 0.5 }}
    record spikes of exc
}}
experiment {{
    network = runaway
    duration = 10 s
    abort when rate of exc > 100 Hz
}}
"#,
            common::models_dir().join("experiments/stdp_vs_homeostasis.hebb").display()
        ),
    )
    .unwrap();
    let run = dir.join("run");
    let o = hebb(&["run", model.to_str().unwrap(), "-o", run.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("aborted at t =") && err.contains("rate of `exc`"), "{err}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("run.json")).unwrap()).unwrap();
    assert_eq!(json["status"], "aborted");
    assert!(json["simulated"].as_f64().unwrap() < 10.0);
    let (_, t) = hebb::output::read_f64(&run.join("spikes/exc.t.npy")).unwrap();
    assert!(!t.is_empty() && t.iter().all(|x| *x <= json["simulated"].as_f64().unwrap()));
}

#[test]
fn sweep_runs_a_grid_and_plot_draws_a_run() {
    let dir = temp_dir("sweep");
    let model = small_experiment(&dir);
    let out = dir.join("sweep");
    let o = hebb(&[
        "sweep",
        model.to_str().unwrap(),
        "--set",
        "STDP.beta=0,0.1,0.2",
        "-o",
        out.to_str().unwrap(),
        "-q",
        "--duration",
        "2 s",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(out.join("compare.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.lines().nth(2).unwrap().starts_with("STDP.beta=0.1,3,ok"), "{csv}");
    assert!(out.join("plots/weights.input-exc.svg").exists());
    let bad = hebb(&["sweep", model.to_str().unwrap(), "--set", "STDP.beta=0,1 mV", "-q"]);
    assert_eq!(bad.status.code(), Some(1), "a value of the wrong dimension is a model error");
    let run = out.join("STDP.beta=0.2");
    let p = hebb(&["plot", run.to_str().unwrap()]);
    assert_eq!(p.status.code(), Some(0), "{}", String::from_utf8_lossy(&p.stderr));
    assert!(run.join("plots/raster_exc.png").exists() && run.join("plots/raster_exc.svg").exists());
    assert_eq!(hebb(&["plot", dir.to_str().unwrap()]).status.code(), Some(2), "not a run directory");
    let v = hebb(&["compare", model.to_str().unwrap(), "--variants", "scalng", "-q"]);
    assert_eq!(v.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&v.stderr).contains("did you mean `scaling`"));
}

/// Runs `text` (a model) in `dir` and returns its `metrics.json` entries.
fn run_metrics(dir: &Path, text: &str) -> Vec<serde_json::Value> {
    let model = dir.join("model.hebb");
    std::fs::write(&model, text).unwrap();
    let run = dir.join("run");
    let o = hebb(&["run", model.to_str().unwrap(), "-o", run.to_str().unwrap(), "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    metrics.as_array().unwrap().clone()
}

/// `recall`: a readout trained in one test phase and applied in a later
/// one. With plasticity off in both, the code does not change, so recall
/// matches the later phase's own cross-validated accuracy (within 0.1: two
/// phases of 20 presentations per pattern); both beat chance. `similarity`
/// of the two phases and `drift` within one are at their noise ceiling.
#[test]
fn recall_applies_a_readout_fixed_in_an_earlier_phase() {
    let dir = temp_dir("recall");
    let text = common::small_experiment("1 s", "4 s", &[])
        .replace(
            "phase test 2 s { plasticity off; present patterns each 100 ms }",
            "phase test 8 s { plasticity off; present patterns each 100 ms }\n    phase later 8 s { plasticity off; present patterns each 100 ms }",
        )
        .replace(
            "measure rates of exc in test",
            "measure rates of exc in test\n    measure recall, similarity, forgetting of exc about patterns from test in later\n    measure decoding, drift of exc about patterns in later\n    measure decoding of exc about patterns in test\n    measure noise_correlation, stimulus_fano of exc about patterns in later { pairs = 50 }",
        );
    assert!(text.contains("measure recall"));
    let metrics = run_metrics(&dir, &text);
    let find =
        |c: &str| metrics.iter().find(|m| m["column"] == c).unwrap_or_else(|| panic!("{c}: {metrics:?}")).clone();
    let recall = find("recall.exc.test-later");
    let decoding = find("decoding.exc.later");
    let (r, d) = (recall["value"].as_f64().unwrap(), decoding["value"].as_f64().unwrap());
    assert_eq!(recall["unit"], "fraction");
    assert_eq!(recall["details"]["within_phase_accuracy"], decoding["value"]);
    assert!((r - d).abs() < 0.1, "recall {r}, within-phase decoding {d}");
    assert!(r > 0.5 && d > 0.5, "chance is 0.25: {r} {d}");
    // `forgetting`: the accuracy in `test` (cross-validated, as `decoding`
    // measures it there) minus the recall in `later`; an unchanged code
    // forgets nothing (within 0.1, as above).
    let forgetting = find("forgetting.exc.test-later");
    let before = find("decoding.exc.test")["value"].as_f64().unwrap();
    assert_eq!(forgetting["details"]["accuracy_before"].as_f64().unwrap(), before, "{forgetting}");
    assert_eq!(forgetting["details"]["recall"].as_f64().unwrap(), r);
    assert_eq!(forgetting["value"].as_f64().unwrap(), before - r);
    assert!((before - r).abs() < 0.1, "{forgetting}");
    // Trial-to-trial variability of the responses to each pattern: the
    // option reaches the pair sample; the values are those of a network of
    // weakly coupled, roughly Poisson neurons (loose bounds: a smoke test;
    // the estimators are tested on synthetic counts in hebb-analysis).
    let noise = find("noise_correlation.exc.later");
    assert!(noise["details"]["n_pairs"].as_u64().unwrap() <= 50, "{noise}");
    let nc = noise["value"].as_f64().unwrap();
    assert!(nc.abs() < 0.5 && noise["details"]["signal_correlation"].is_number(), "{noise}");
    let fano = find("stimulus_fano.exc.later");
    let f = fano["value"].as_f64().unwrap();
    assert!(f > 0.2 && f < 3.0 && fano["details"]["fano"].is_number(), "{fano}");
    // The code is as similar across the phases as the noise allows, and
    // within `later` (its drift, first half against second).
    for c in ["similarity.exc.test-later", "drift.exc.later"] {
        let s = find(c);
        let normalized = s["details"]["normalized"].as_f64().unwrap_or(f64::NAN);
        assert!((normalized - 1.0).abs() < 0.25, "{c}: {s}");
        assert!(s["value"].as_f64().unwrap() > 0.3, "{c}: {s}");
    }
}

/// Analysis options per `measure` reach the analyses: bins, folds and
/// shuffles appear in the details, and a different bin changes the value.
#[test]
fn analysis_options_are_set_per_measure() {
    let dir = temp_dir("options");
    let text = common::small_experiment("1 s", "2 s", &[]).replace(
        "measure rates of exc in test",
        "measure rates of exc in test\n    measure fano of exc in test\n    measure fano, synchrony of exc in test { bin = 50 ms }\n    measure information of exc about patterns in test { folds = 4; shuffles = 12 }\n    measure control of exc in test { target = 5 Hz; late = 0.25 }",
    );
    let all = run_metrics(&dir, &text);
    let fanos: Vec<&serde_json::Value> = all.iter().filter(|m| m["column"] == "fano.exc.test").collect();
    assert_eq!(fanos.len(), 2);
    assert_eq!(fanos[0]["details"]["bin_width_s"], 0.1, "{}", fanos[0]);
    assert_eq!(fanos[1]["details"]["bin_width_s"], 0.05, "{}", fanos[1]);
    assert_ne!(fanos[0]["value"], fanos[1]["value"]);
    let info = all.iter().find(|m| m["column"] == "information.exc.test").unwrap();
    assert_eq!(info["details"]["n_shuffles"], 12, "{info}");
    // `late`: the per-neuron control error covers the last quarter of the
    // 2 s test phase (which starts at 2 s): from 3.5 s.
    let control = all.iter().find(|m| m["column"] == "control.exc.test").unwrap();
    assert_eq!(control["details"]["per_neuron"]["t0"], 3.5, "{control}");
}

/// `spectral_radius` of a recurrent projection, read back from the weight
/// record: all-to-all without self-connections at a constant weight c is
/// c (J − I), whose spectral radius is c (N − 1) exactly (tolerance 1e-9:
/// the power iteration stops when its bounds are within 1e-12); the value
/// is the last sample in the window (t = 1.5 s of a record every 0.5 s in
/// [1, 2)), and each sample is in the details.
#[test]
fn spectral_radius_of_a_recorded_recurrent_projection() {
    let dir = temp_dir("spectral");
    let text = r#"
neuron LIF {
    param tau = 20 ms
    state v = -70 mV
    state g : 1 = 0
    dv/dt = (-70 mV - v + g * (0 mV - v)) / tau
    dg/dt = -g / 5 ms
    spike when v > -50 mV
    reset { v = -70 mV }
}
network net {
    population exc = 40 LIF
    connect exc -> exc with Static(target = g) { all_to_all; w = 0.01 }
    record w of exc -> exc every 500 ms
}
experiment {
    network = net
    phase a 1 s { }
    phase b 1 s { }
    measure spectral_radius of exc -> exc in b
    measure spectral_radius of exc -> exc
}
"#;
    let metrics = run_metrics(&dir, text);
    let b = metrics.iter().find(|m| m["column"] == "spectral_radius.exc-exc.b").expect("measured");
    assert!((b["value"].as_f64().unwrap() - 0.01 * 39.0).abs() < 1e-9, "{b}");
    assert_eq!(b["details"]["t"], serde_json::json!([1.0, 1.5]), "{b}");
    assert_eq!(b["details"]["converged"], true);
    assert!((b["details"]["structure"][0].as_f64().unwrap() - 1.0).abs() < 1e-9, "{b}");
    let all = metrics.iter().find(|m| m["column"] == "spectral_radius.exc-exc").expect("measured");
    assert_eq!(all["details"]["radius"].as_array().unwrap().len(), 4, "{all}");
}

/// `set P.param = e` in a phase: from the phase's start the param has the
/// new value in every neuron. An adaptive threshold whose rate `eta` a
/// test phase sets to 0 stops moving exactly (the same f64 at every sample
/// of that phase) after it moved during learning; and it moves again when
/// a later phase sets `eta` back. Interpreter and JIT agree bit for bit.
#[test]
fn a_phase_sets_a_param_from_its_start_on() {
    use hebb::session::{Backend, Request};
    let text = r#"
neuron Adaptive {
    param eta = 2 mV
    state v = -70 mV
    state g : 1 = 0
    state theta = -55 mV
    dv/dt = (-70 mV - v + g * (0 mV - v)) / 20 ms
    dg/dt = -g / 5 ms
    dtheta/dt = eta / 1 s
    spike when v > theta
    reset { v = -70 mV }
}
network net {
    population input = 50 poisson { rate = 20 Hz }
    population exc = 5 Adaptive
    connect input -> exc with Static(target = g) { all_to_all; w = 0.1 }
    record theta of exc every 10 ms
}
experiment {
    network = net
    phase learn 1 s { }
    phase test 1 s { set exc.eta = 0 mV }
    phase again 1 s { set exc.eta = -1 mV }
}
"#;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/set_param.hebb");
    let theta = |backend: Backend| {
        let out = common::simulate(&Request { backend, ..Request::text(text, path.clone()) }).expect("runs");
        out.result.clone().expect("runs");
        let r = &out.recordings().states[0];
        (r.times.clone(), r.vars[0].2.clone())
    };
    let (times, th) = theta(Backend::Jit);
    assert_eq!(theta(Backend::Interpreter).1, th, "JIT and interpreter differ");
    let at = |t: f64| th[times.iter().position(|x| (x - t).abs() < 1e-9).unwrap() * 5];
    // Learning: theta rises by eta · t = 2 mV per s (tolerance 1e-9 V: the
    // exact integrator of a constant slope).
    assert!((at(0.5) - (-0.055 + 0.001)).abs() < 1e-9, "{}", at(0.5));
    // Test: frozen, exactly.
    let frozen: Vec<f64> =
        times.iter().zip(th.chunks(5)).filter(|(t, _)| **t > 1.0 && **t <= 2.0).map(|(_, r)| r[0]).collect();
    assert!(frozen.len() > 90 && frozen.iter().all(|x| *x == frozen[0]), "{frozen:?}");
    assert!((frozen[0] - (-0.053)).abs() < 1e-6, "{}", frozen[0]);
    // Again: falling by 1 mV per s.
    assert!((at(2.5) - (frozen[0] - 0.0005)).abs() < 1e-6, "{}", at(2.5));
}

/// `plasticity off all` stops the `plastic` equations and `every` blocks of
/// neurons, which `plasticity off` leaves running: an adaptive threshold
/// (a `plastic` ODE) and a slow gain (a `plastic every` block) move in a
/// `plasticity off` phase and stay exactly constant in a `plasticity off
/// all` phase, while the membrane keeps integrating (the neurons spike in
/// both). Interpreter and JIT agree bit for bit.
#[test]
fn plasticity_off_all_freezes_plastic_neuron_equations() {
    use hebb::session::{Backend, Request};
    let text = r#"
neuron Adaptive {
    state v = -70 mV
    state g : 1 = 0
    state theta = -55 mV
    state gain = 1
    dv/dt = (-70 mV - v + gain * g * (0 mV - v)) / 20 ms
    dg/dt = -g / 5 ms
    plastic dtheta/dt = 2 mV / 1 s
    spike when v > theta
    reset { v = -70 mV }
    plastic every 100 ms { gain = gain * 1.01 }
}
network net {
    population input = 50 poisson { rate = 20 Hz }
    population exc = 5 Adaptive
    connect input -> exc with Static(target = g) { all_to_all; w = 0.1 }
    record theta, gain of exc every 10 ms
    record spikes of exc
}
experiment {
    network = net
    phase off 1 s { plasticity off }
    phase off_all 1 s { plasticity off all }
}
"#;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/off_all.hebb");
    let run = |backend: Backend| {
        let out = common::simulate(&Request { backend, ..Request::text(text, path.clone()) }).expect("runs");
        out.result.clone().expect("runs");
        let r = &out.recordings().states[0];
        let spikes = out.recordings().spikes[0].times.clone();
        (r.times.clone(), r.vars[0].2.clone(), r.vars[1].2.clone(), spikes)
    };
    let (times, theta, gain, spikes) = run(Backend::Jit);
    let other = run(Backend::Interpreter);
    assert_eq!((&other.1, &other.2, &other.3), (&theta, &gain, &spikes), "JIT and interpreter differ");
    let column = |x: &[f64], lo: f64, hi: f64| -> Vec<f64> {
        times.iter().zip(x.chunks(5)).filter(|(t, _)| **t > lo && **t <= hi).map(|(_, r)| r[0]).collect()
    };
    // `plasticity off`: theta rises by 2 mV/s (1e-9 V: exact integration of
    // a constant slope), the gain grows 1 % per 100 ms.
    let (th_off, g_off) = (column(&theta, 0.0, 1.0), column(&gain, 0.0, 1.0));
    assert!((th_off[th_off.len() - 1] - (-0.055 + 0.002)).abs() < 1e-9, "{th_off:?}");
    assert!(g_off[g_off.len() - 1] > 1.09, "{g_off:?}");
    // `plasticity off all`: both stay exactly where the first phase left them.
    let (th_all, g_all) = (column(&theta, 1.0, 2.0), column(&gain, 1.0, 2.0));
    assert!(th_all.iter().all(|x| *x == th_all[0]) && g_all.iter().all(|x| *x == g_all[0]), "{th_all:?} {g_all:?}");
    assert_eq!(th_all[0], th_off[th_off.len() - 1]);
    // The neurons still integrate and spike in the frozen phase.
    assert!(spikes.iter().filter(|t| **t > 1.0).count() > 10, "{} spikes", spikes.len());
}

/// `assemblies of exc -> exc about S`: each neuron joins the assembly of
/// the pattern it responds to most in the window, and the recurrent weights
/// (at the last recorded sample) are averaged within and between
/// assemblies. With random weights that ignore the patterns, the ratio is
/// about 1 (tolerance 0.25: ~140 within- against ~400 between-assembly
/// synapses of weights uniform in [0, 0.02], sd of a mean 3–5 %); the
/// headline is within / between, and the spikes of `exc` are recorded
/// for it without a `record spikes` line.
#[test]
fn assembly_weights_of_a_recurrent_projection() {
    let dir = temp_dir("assemblies");
    let text = common::small_experiment("1 s", "1 s", &[])
        .replace("    record spikes of input, exc\n", "    connect exc -> exc with Static(target = g_e) { p = 0.9; w = uniform(0, 0.02) }\n    record w of exc -> exc every 500 ms\n")
        .replace("measure rates of exc in test", "measure assemblies of exc -> exc about patterns in test");
    assert!(text.contains("measure assemblies"));
    let metrics = run_metrics(&dir, &text);
    let a = metrics.iter().find(|m| m["column"] == "assemblies.exc-exc.test").expect("measured");
    let d = &a["details"];
    let (within, between) = (d["within"].as_f64().unwrap(), d["between"].as_f64().unwrap());
    assert_eq!(a["value"], d["ratio"], "{a}");
    assert!((a["value"].as_f64().unwrap() - within / between).abs() < 1e-12, "{a}");
    assert!((within / between - 1.0).abs() < 0.25, "{a}");
    assert_eq!(d["assembly_sizes"].as_array().unwrap().len(), 4, "{a}");
    assert_eq!(d["t"], 2.5, "{a}");
}

/// `balance of exc { excitatory = g_e; inhibitory = g_i }` reads the two
/// recorded conductances over the window (2 s sampled every 1 ms: 2000
/// samples of the 30 neurons) and correlates each neuron's mean
/// excitation with its mean inhibition. The inhibitory neurons are driven
/// by the inputs here, so every neuron gets some inhibition: the ratio is
/// positive and the correlations are numbers in [−1, 1].
#[test]
fn balance_reads_recorded_inputs() {
    let dir = temp_dir("balance");
    let text = common::small_experiment("1 s", "1 s", &[])
        .replace(
            "    record spikes of input, exc\n",
            "    record spikes of input, exc\n    record g_e, g_i of exc every 1 ms\n",
        )
        .replace(
            "connect exc -> inh with Static(target = g_e) { p = 0.3; w = 0.1 }",
            "connect input -> inh with Static(target = g_e) { p = 0.5; w = 0.2 }",
        )
        .replace(
            "measure rates of exc in test",
            "measure balance of exc in test { excitatory = g_e; inhibitory = g_i }",
        );
    let metrics = run_metrics(&dir, &text);
    let b = metrics.iter().find(|m| m["column"] == "balance.exc.test").expect("measured");
    let d = &b["details"];
    assert_eq!((d["n_samples"].as_u64(), d["n_neurons"].as_u64()), (Some(2000), Some(30)), "{b}");
    assert_eq!((d["excitatory"].as_str(), d["inhibitory"].as_str()), (Some("g_e"), Some("g_i")));
    let v = b["value"].as_f64().expect("inhibition varies across neurons");
    assert!((-1.0..=1.0).contains(&v) && d["mean_ratio"].as_f64().unwrap() > 0.0, "{b}");
    assert!(d["in_time"].as_f64().unwrap().abs() <= 1.0, "{b}");
}

/// `present S each D cue f` presents a random fraction f of each pattern's
/// active inputs (drawn anew for each presentation): with f = 0.5, the
/// pattern's inputs fire at (30 + 3) / 2 = 16.5 Hz on average instead of
/// 30 Hz (tolerance 15 %: ~660 expected spikes per phase, sd ~4 %), and
/// which half fires changes between presentations. (Pattern completion is
/// then measured as `recall` of a readout fitted on full patterns, applied
/// to the cued phase.)
#[test]
fn partial_cues_present_a_fraction_of_each_pattern() {
    use hebb::session::Request;
    let text = common::small_experiment("1 s", "1 s", &[])
        .replace(
            "phase test 2 s { plasticity off; present patterns each 100 ms }",
            "phase test 2 s { plasticity off; present patterns each 100 ms }\n    phase cued 2 s { plasticity off; present patterns each 100 ms cue 0.5 }",
        )
        .replace("measure rates of exc in test", "measure recall of exc about patterns from test in cued");
    assert!(text.contains("cue 0.5"));
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cue.hebb");
    let out = common::simulate(&Request::text(&text, path)).expect("runs");
    out.result.clone().expect("runs");
    let rec = out.recordings();
    let input = rec.spikes.iter().find(|s| s.times.len() > 100).expect("input spikes");
    let (mut in_pattern, mut seconds, mut differs) = ([0.0f64; 2], [0.0f64; 2], 0);
    let mut last_firing: Option<Vec<u32>> = None;
    for p in &rec.presentations {
        let phase = usize::from(p.t0 >= 3.0 - 1e-9);
        if p.t0 < 1.0 - 1e-9 {
            continue;
        }
        let active = &rec.patterns[0][p.pattern as usize];
        let firing: Vec<u32> = active
            .iter()
            .copied()
            .filter(|i| input.times.iter().zip(&input.indices).any(|(t, j)| j == i && *t >= p.t0 && *t < p.t1))
            .collect();
        in_pattern[phase] += input
            .times
            .iter()
            .zip(&input.indices)
            .filter(|(t, j)| **t >= p.t0 && **t < p.t1 && active.contains(j))
            .count() as f64;
        seconds[phase] += (p.t1 - p.t0) * active.len() as f64;
        if phase == 1 && last_firing.as_ref().is_some_and(|l| *l != firing) {
            differs += 1;
        }
        last_firing = Some(firing);
    }
    let (full, cued) = (in_pattern[0] / seconds[0], in_pattern[1] / seconds[1]);
    assert!((full - 30.0).abs() < 0.15 * 30.0, "full patterns at {full} Hz");
    assert!((cued - 16.5).abs() < 0.15 * 16.5, "cued patterns at {cued} Hz");
    assert!(differs > 10, "the cued half changes between presentations: {differs}");
}
