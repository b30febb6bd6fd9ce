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
