//! The runtime on small networks with known answers: connection rules,
//! delays (homogeneous and per synapse), spike-time files, connection files,
//! Poisson statistics and per-neuron params.

mod common;

use hebb::session::{Outcome, Request};
use std::path::{Path, PathBuf};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hebb-runtime-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// A neuron that only integrates what synapses deliver: `x` jumps by w.
const COUNTER: &str = "neuron Counter {\n state x = 0\n}\n";

fn run(text: &str, dir: &Path) -> Result<Outcome, String> {
    common::simulate(&Request::text(text, dir.join("model.hebb")))
}

fn state(out: &Outcome, k: usize, var: &str) -> Vec<f64> {
    out.recordings().states[k].vars.iter().find(|(n, _, _)| n == var).expect("var").2.clone()
}

#[test]
fn connection_rules_make_the_expected_synapses() {
    let d = dir("rules");
    let text = format!(
        "{COUNTER}network n {{\n population a = 20 Counter\n population b = 30 Counter\n connect a -> b with Static(target = x) {{ all_to_all; w = 1 }}\n connect a -> a with Static(target = x) {{ all_to_all; w = 1 }}\n connect a -> a with Static(target = x) {{ all_to_all; autapses = true; w = 1 }}\n connect a -> b[0..20] with Static(target = x) {{ one_to_one; w = 1 }}\n connect a -> b with Static(target = x) {{ indegree = 7; w = 1 }}\n connect a -> b with Static(target = x) {{ outdegree = 4; w = 1 }}\n connect a -> b with Static(target = x) {{ p = 1; w = 1 }}\n connect a -> b with Static(target = x) {{ p = 0; w = 1 }}\n connect a -> b with Static(target = x) {{ p = step(i - j); w = 1 }}\n}}\nexperiment {{ network = n; duration = 1 ms }}\n"
    );
    let out = run(&text, &d).unwrap();
    // p = step(i - j): pairs with i > j among i < 20, j < 30: sum over i of i.
    let lower_triangle: usize = (0..20).sum();
    assert_eq!(out.synapses(), vec![600, 380, 400, 20, 210, 80, 600, 0, lower_triangle]);
}

#[test]
fn probability_connectivity_has_the_right_density() {
    let d = dir("density");
    let text = format!(
        "{COUNTER}network n {{\n population a = 2000 Counter\n connect a -> a with Static(target = x) {{ p = 0.05; w = 1 }}\n}}\nexperiment {{ network = n; duration = 1 ms }}\n"
    );
    let out = run(&text, &d).unwrap();
    let pairs = 2000.0 * 1999.0;
    let expected = 0.05 * pairs;
    let sd = (pairs * 0.05 * 0.95f64).sqrt();
    // Binomial count: 5 standard deviations (about 1 %).
    assert!(
        (out.synapses()[0] as f64 - expected).abs() < 5.0 * sd,
        "{} synapses, expected {expected}",
        out.synapses()[0]
    );
}

#[test]
fn delays_shift_arrivals_by_whole_steps() {
    let d = dir("delays");
    // One spike at 1 ms; x of target k jumps when it arrives. Target 0: no
    // delay (same step), 1: 0.5 ms, 2: per-synapse 2 ms from the file.
    std::fs::write(d.join("conn.csv"), "pre,post,w,delay\n0,2,1,0.002\n").unwrap();
    let text = format!(
        "{COUNTER}network n {{\n population src = 1 spike_times {{ times = [1 ms] }}\n population tgt = 3 Counter\n connect src -> tgt[0..1] with Static(target = x) {{ all_to_all; w = 1 }}\n connect src -> tgt[1..2] with Static(target = x) {{ all_to_all; w = 1; delay = 0.5 ms }}\n connect src -> tgt with Static(target = x) {{ file = \"conn.csv\" }}\n record x of tgt every 0.1 ms\n}}\nexperiment {{ network = n; duration = 5 ms }}\n"
    );
    let out = run(&text, &d).unwrap();
    let x = state(&out, 0, "x");
    // Row s of the record is the state at the start of step s; an event in
    // step k shows from row k + 1.
    let first_row = |k: usize| (0..50).find(|&s| x[s * 3 + k] > 0.5).expect("arrives");
    assert_eq!(first_row(0), 11);
    assert_eq!(first_row(1), 16);
    assert_eq!(first_row(2), 31);
}

#[test]
fn heterogeneous_delays_from_a_distribution_keep_every_spike() {
    let d = dir("hetero");
    let text = format!(
        "{COUNTER}network n {{\n population src = 50 spike_times {{ times = [1 ms, 3 ms] }}\n population tgt = 10 Counter\n connect src -> tgt with Static(target = x) {{ all_to_all; w = 1; delay = uniform(0 ms, 2 ms) }}\n record x of tgt every 1 ms\n}}\nexperiment {{ network = n; duration = 10 ms }}\n"
    );
    let out = run(&text, &d).unwrap();
    let x = state(&out, 0, "x");
    let last = &x[x.len() - 10..];
    // Two spikes from each of 50 sources reach every target exactly once.
    assert!(last.iter().all(|&v| v == 100.0), "{last:?}");
}

#[test]
fn spike_time_files_are_read_and_checked() {
    let d = dir("spikefile");
    std::fs::write(d.join("in.csv"), "i,t\n0,0.001\n1,0.0025\n0,0.004\n").unwrap();
    let text = format!(
        "{COUNTER}network n {{\n population src = 2 spike_times {{ file = \"in.csv\" }}\n record spikes of src\n}}\nexperiment {{ network = n; duration = 10 ms }}\n"
    );
    let out = run(&text, &d).unwrap();
    let s = &out.recordings().spikes[0];
    assert_eq!(s.indices, vec![0, 1, 0]);
    let steps: Vec<i64> = s.times.iter().map(|t| (t / 1e-4).round() as i64).collect();
    assert_eq!(steps, vec![10, 25, 40]);
    std::fs::write(d.join("in.csv"), "i,t\n0,0.001\n7,0.002\n").unwrap();
    let err = run(&text, &d).err().expect("neuron 7 does not exist");
    assert!(err.contains("in.csv:3") && err.contains("neuron 7 does not exist"), "{err}");
    std::fs::write(d.join("in.csv"), "i,t\n0,abc\n").unwrap();
    let err = run(&text, &d).err().expect("bad time");
    assert!(err.contains("`abc` is not a time"), "{err}");
}

#[test]
fn connection_file_errors_name_the_line() {
    let d = dir("connfile");
    std::fs::write(d.join("c.csv"), "0,1\n0,99\n").unwrap();
    let text = format!(
        "{COUNTER}network n {{\n population a = 5 Counter\n connect a -> a with Static(target = x) {{ file = \"c.csv\"; w = 1 }}\n}}\nexperiment {{ network = n; duration = 1 ms }}\n"
    );
    let err = run(&text, &d).err().expect("out of range");
    assert!(err.contains("c.csv:2") && err.contains("outside the populations"), "{err}");
}

#[test]
fn poisson_sources_fire_at_their_rate() {
    let d = dir("poisson");
    let text = "network n {\n population low = 1000 poisson { rate = 5 Hz }\n population high = 100 poisson { rate = 20 kHz }\n population varying = 1000 poisson { rate = 10 Hz * (1 + sin(2 * pi * 2 Hz * t)) }\n population graded = 1000 poisson { rate = i * 0.02 Hz }\n record spikes of low, high, varying, graded\n}\nexperiment { network = n; duration = 2 s; seed = 4 }\n";
    let out = run(text, &d).unwrap();
    let count = |g: usize| out.recordings().spike_counts[g] as f64;
    // Poisson counts: expected N r T with sd sqrt(N r T); 5 sd bounds.
    for (g, expected) in [
        (0, 1000.0 * 5.0 * 2.0),
        (1, 100.0 * 20000.0 * 2.0),
        (2, 1000.0 * 10.0 * 2.0),
        (3, 0.02 * 999.0 * 1000.0 / 2.0 * 2.0),
    ] {
        let sd = f64::sqrt(expected);
        assert!((count(g) - expected).abs() < 5.0 * sd, "group {g}: {} spikes, expected {expected}", count(g));
    }
    // The modulated source fires more in the first half of each period.
    let s = &out.recordings().spikes[2];
    let first_half = s.times.iter().filter(|&&t| (t * 2.0).fract() < 0.5).count() as f64;
    let second_half = s.times.len() as f64 - first_half;
    assert!(first_half > 1.5 * second_half, "{first_half} vs {second_half}");
}

#[test]
fn random_per_neuron_params_become_columns() {
    let d = dir("params");
    let text = "neuron Drift {\n param rate : Hz = 1 Hz\n state x = 0\n dx/dt = rate\n}\nnetwork n {\n population a = 4 Drift { rate = (i + 1) * 1 Hz }\n population b = 3 Drift { rate = uniform(1 Hz, 2 Hz) }\n record x of a every 1 ms\n record x of b every 1 ms\n}\nexperiment { network = n; duration = 1 s }\n";
    let out = run(text, &d).unwrap();
    let x = state(&out, 0, "x");
    let last = &x[x.len() - 4..];
    // dx/dt = rate integrates exactly: x(0.999 s) = 0.999 * rate.
    for (k, v) in last.iter().enumerate() {
        assert!((v - 0.999 * (k + 1) as f64).abs() < 1e-9, "neuron {k}: {v}");
    }
    let y = state(&out, 1, "x");
    let last = &y[y.len() - 3..];
    assert!(last.iter().all(|v| (0.999..1.998).contains(v)) && last[0] != last[1], "{last:?}");
}

#[test]
fn sigmoid_is_the_logistic_function_on_both_backends() {
    // `sigmoid` lowers to 1 / (1 + exp(-x)) with the same operations in the
    // interpreter and the JIT: the values are bit-identical to that
    // formula, and `sigmoid(0)` folds to 0.5 exactly.
    let text = "neuron Ramp {\n param half = sigmoid(0)\n state x = -4 + i\n state y = 0\n state h = 0\n every 1 ms { y = sigmoid(x); h = half }\n}\nnetwork n {\n population p = 9 Ramp\n record y, h of p every 1 ms\n}\nexperiment { network = n; duration = 3 ms }\n";
    let d = dir("sigmoid");
    for backend in [hebb::session::Backend::Jit, hebb::session::Backend::Interpreter] {
        let out = common::simulate(&Request { backend, ..Request::text(text, d.join("model.hebb")) }).expect("runs");
        let (y, h) = (state(&out, 0, "y"), state(&out, 0, "h"));
        // Samples at 0, 1 and 2 ms; the every block has run once by 1 ms.
        for i in 0..9 {
            let x = -4.0 + i as f64;
            assert_eq!(y[9 + i].to_bits(), (1.0 / (1.0 + (-x).exp())).to_bits(), "neuron {i}");
            assert_eq!(h[9 + i], 0.5);
        }
    }
}
