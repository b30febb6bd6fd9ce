//! The shipped balanced networks against Brian2's published rates for the
//! same models, averaged over seeds (the tolerances are the issue's, and
//! cover seed-to-seed variation of a few percent).

mod common;

use hebb::session::Request;

/// Mean rate of a population between `t0` and the end, averaged over seeds.
fn mean_rate(model: &str, pop: &str, duration: f64, t0: f64, seeds: &[u64]) -> f64 {
    let path = common::models_dir().join(model);
    let mut total = 0.0;
    for &seed in seeds {
        let request = Request { duration: Some(duration), seed: Some(seed), ..Request::file(&path) };
        let out = common::simulate(&request).unwrap_or_else(|e| panic!("{e}"));
        let program = out.simulation.program();
        let g = program.group(pop).expect("population");
        let n = program.groups[g].size as f64;
        out.result.clone().expect("runs");
        let rec = out.recordings().spikes.iter().find(|s| s.group.index() == g).expect("spikes recorded");
        let count = rec.times.iter().filter(|&&t| t >= t0).count() as f64;
        let rate = count / n / (duration - t0);
        eprintln!("{model} seed {seed}: {rate:.2} Hz");
        total += rate;
    }
    total / seeds.len() as f64
}

#[test]
fn cuba_rate_matches_brian2() {
    // Brian2: 5.5 Hz over 0.5-2 s; the issue allows ±1 Hz over 3 seeds.
    let r = mean_rate("cuba.hebb", "P", 2.0, 0.5, &[1, 2, 3]);
    assert!((r - 5.5).abs() <= 1.0, "CUBA mean rate {r:.2} Hz");
}

#[test]
fn coba_rate_matches_brian2() {
    // Brian2: 19.6 Hz; the issue allows ±3 Hz over 3 seeds.
    let r = mean_rate("coba.hebb", "P", 2.0, 0.5, &[1, 2, 3]);
    assert!((r - 19.6).abs() <= 3.0, "COBA mean rate {r:.2} Hz");
}

#[test]
fn brunel_state_c_rate_matches_brian2() {
    // Brian2: 38 Hz in state C (asynchronous irregular); the issue allows
    // ±10 %. 0.5 s with the first 100 ms dropped is enough for a stationary
    // rate in this fast-fluctuating state.
    let r = mean_rate("brunel.hebb", "E", 0.5, 0.1, &[1]);
    assert!((r - 38.0).abs() <= 3.8, "Brunel state C rate {r:.2} Hz");
}

/// A poisson source whose rate reads a signal: the signal's state sets the
/// rate each step (by thinning under `rate_max`).
const SIGNAL_RATE: &str = r#"
signal drive {
    state r = 1
    dr/dt = 0 / 1 s
}
network net {
    population input = 200 poisson { rate = 5 Hz * (1 + drive.r) RATE_MAX }
}
experiment { network = net; duration = 20 s; seed = 4 }
"#;

#[test]
fn a_poisson_rate_can_read_a_signal() {
    let path = common::models_dir().join("signal_rate.hebb");
    let text = SIGNAL_RATE.replace("RATE_MAX", "; rate_max = 40 Hz");
    let out = common::simulate(&Request::text(text, &path)).unwrap_or_else(|e| panic!("{e}"));
    out.result.clone().expect("runs");
    let spikes = out.recordings().spike_counts[0] as f64;
    // 200 × 20 s at 10 Hz: 40,000 expected, sd 200; 3 % is 6 sd.
    let rate = spikes / 200.0 / 20.0;
    assert!((rate - 10.0).abs() < 0.3, "rate {rate} Hz, expected 10 Hz");
    // Without a bound the rate cannot be thinned: `check` says so.
    let text = SIGNAL_RATE.replace("RATE_MAX", "");
    let err = hebb::session::validate(&Request::text(text, &path)).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("rate_max"), "{err}");
}
