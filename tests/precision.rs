//! `precision f32`: states and synaptic variables stored in single
//! precision (arithmetic in f64). The JIT and the interpreter still agree
//! bit for bit, so do thread counts; against f64, results agree
//! statistically.

mod common;

use hebb::ir::Precision;
use hebb::session::{Backend, Outcome, Request};
use std::path::Path;

fn run(rel: &str, precision: Precision, seed: u64, duration: f64, backend: Backend, threads: usize) -> Outcome {
    let request = Request {
        precision: Some(precision),
        seed: Some(seed),
        duration: Some(duration),
        backend,
        threads,
        ..Request::file(common::models_dir().join(rel))
    };
    let out = common::simulate(&request).unwrap_or_else(|e| panic!("{rel}: {e}"));
    out.result.clone().unwrap_or_else(|e| panic!("{rel}: {e:?}"));
    out
}

/// Mean rate (Hz) over every recorded population's spikes.
fn mean_rate(out: &Outcome, duration: f64) -> f64 {
    let rec = out.recordings();
    let spikes: usize = rec.spikes.iter().map(|s| s.times.len()).sum();
    let neurons: usize = rec.spikes.iter().map(|s| out.simulation.group(s.group.index()).size()).sum();
    spikes as f64 / neurons as f64 / duration
}

#[test]
fn f32_rates_agree_with_f64_within_3_percent_over_three_seeds() {
    // CUBA and COBA are chaotic: f32 rounding changes every spike train
    // after a few ms, so only statistics can agree. Over 3 seeds of 1 s
    // (~20k spikes for CUBA, ~80k for COBA) the seed-to-seed spread of
    // the mean is ~1-2 %; 3 % is the bound asked of f32.
    for model in ["cuba.hebb", "coba.hebb"] {
        let (mut r64, mut r32) = (0.0, 0.0);
        for seed in 1..=3 {
            r64 += mean_rate(&run(model, Precision::F64, seed, 1.0, Backend::Jit, 1), 1.0) / 3.0;
            r32 += mean_rate(&run(model, Precision::F32, seed, 1.0, Backend::Jit, 1), 1.0) / 3.0;
        }
        eprintln!("{model}: mean rate f64 {r64:.3} Hz, f32 {r32:.3} Hz");
        assert!(((r32 - r64) / r64).abs() <= 0.03, "{model}: f64 {r64} Hz, f32 {r32} Hz");
    }
}

/// Every array of a run's recordings, as bits.
fn fingerprint(out: &Outcome) -> Vec<u64> {
    let rec = out.recordings();
    let mut bits = Vec::new();
    for s in &rec.spikes {
        bits.extend(s.times.iter().map(|t| t.to_bits()));
        bits.extend(s.indices.iter().map(|&i| u64::from(i)));
    }
    for s in &rec.states {
        s.vars.iter().for_each(|(_, _, d)| bits.extend(d.iter().map(|x| x.to_bits())));
    }
    for s in &rec.synapses {
        s.vars.iter().for_each(|(_, _, d)| bits.extend(d.iter().map(|x| x.to_bits())));
    }
    bits
}

#[test]
fn f32_is_bit_identical_between_backends_and_thread_counts_and_differs_from_f64() {
    // The plastic benchmark: neuron states, STDP weights and traces (one
    // hoisted, so pre/post side tables too) all in f32.
    let plastic = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/models/plastic.hebb");
    let rel = plastic.to_str().expect("path");
    for model in ["cuba.hebb", rel] {
        let jit = run(model, Precision::F32, 1, 0.1, Backend::Jit, 1);
        let interp = run(model, Precision::F32, 1, 0.1, Backend::Interpreter, 1);
        assert!(fingerprint(&jit) == fingerprint(&interp), "{model}: JIT and interpreter differ in f32");
        for threads in [2, 3] {
            let t = run(model, Precision::F32, 1, 0.1, Backend::Jit, threads);
            assert!(fingerprint(&jit) == fingerprint(&t), "{model}: {threads} threads differ in f32");
        }
        let f64 = run(model, Precision::F64, 1, 0.1, Backend::Jit, 1);
        assert!(fingerprint(&jit) != fingerprint(&f64), "{model}: f32 changed nothing");
    }
}

#[test]
fn f32_halves_the_memory_of_synaptic_variables() {
    let plastic = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/models/plastic.hebb");
    let bytes = |p| {
        let out = run(plastic.to_str().expect("path"), p, 1, 0.001, Backend::Jit, 1);
        let proj = out.simulation.projection(0);
        proj.bytes_per_synapse()
    };
    let (b64, b32) = (bytes(Precision::F64), bytes(Precision::F32));
    eprintln!("plastic E->E synapse: {b64:.2} bytes in f64, {b32:.2} in f32");
    // The STDP synapse stores w (and, per synapse or per neuron, traces):
    // each f64 value becomes 4 bytes; the 4-byte target index stays.
    assert!(b32 < b64 - 3.9, "f64 {b64} B, f32 {b32} B");
}

#[test]
fn the_experiment_setting_selects_f32_and_the_request_overrides_it() {
    let path = common::models_dir().join("cuba.hebb");
    let text =
        std::fs::read_to_string(&path).expect("model").replace("seed     = 1", "seed     = 1\n    precision = f32");
    assert!(text.contains("precision = f32"));
    let set = common::compile(&Request::text(text.clone(), &path)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set.program().precision, Precision::F32);
    let overridden = common::compile(&Request { precision: Some(Precision::F64), ..Request::text(text, &path) })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(overridden.program().precision, Precision::F64);
    let default = common::compile(&Request::file(&path)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(default.program().precision, Precision::F64);
}
