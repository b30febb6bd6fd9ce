//! `cargo bench --bench core`: the core figures of the README.
//!
//! * file → first simulated step for `models/cuba.hebb` (parse, check,
//!   lower, JIT, build, one step), median of 20;
//! * `cuba` 1 s single-threaded run time, median of 3;
//! * CUBA scaled to 64k neurons with the same in-degree (about 5M synapses):
//!   construction time, run time, bytes per synapse and peak memory;
//! * with `HEBB_BRIAN2_PYTHON=/path/to/python` (a venv with brian2, see
//!   benches/anchors/setup.sh): Brian2's C++ standalone run of the same
//!   CUBA in the same session, and the ratio;
//! * `hebb compare` of the shipped experiment `stdp_vs_homeostasis` (base
//!   and 3 variants) on 2 threads against the same 4 runs one after another.
//!
//! * `records`: peak memory of a 100k-neuron, 100 s run recording every
//!   spike against the same run recording nothing.
//!
//! `cargo bench --bench core -- compare` (or `core`, `plastic`, `brian2`,
//! `records`) runs only the named sections.
//! Machines are noisy: compare ratios measured in one run, not absolute
//! times from different runs.

use hebb::session::{self, Request};
use hebb::study::plan::{Kind, Plan, Ran, Spec};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The shipped models (`models/`).
fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// File → first step: everything a user waits for after editing a model.
fn file_to_first_step(path: &Path) -> f64 {
    let t0 = Instant::now();
    let checked = session::check(&Request::file(path)).expect("reads");
    let compiled = session::compile(checked).expect("compiles");
    let (mut sim, _) = session::build(compiled).expect("builds");
    sim.run_steps(1).expect("steps");
    t0.elapsed().as_secs_f64()
}

struct RunFigures {
    build_s: f64,
    run_s: f64,
    synapses: usize,
    bytes_per_synapse: f64,
    rss_delta: u64,
    rate_hz: f64,
}

fn run_model(text: &str, path: &Path, duration: f64) -> RunFigures {
    let request = Request { duration: Some(duration), ..Request::text(text, path) };
    let compiled = session::compile(session::check(&request).expect("reads")).expect("compiles");
    let rss0 = rss_bytes().unwrap_or(0);
    let (mut sim, build) = session::build(compiled).expect("builds");
    let build_s = build.as_secs_f64();
    let rss1 = rss_bytes().unwrap_or(0);
    let t1 = Instant::now();
    sim.run_steps(sim.program().n_steps).expect("runs");
    let run_s = t1.elapsed().as_secs_f64();
    let program = sim.program();
    let projections: Vec<_> = (0..program.projections.len()).map(|p| sim.projection(p)).collect();
    let synapses: usize = projections.iter().map(|p| p.n_synapses()).sum();
    let bytes: f64 = projections.iter().map(|p| p.bytes_per_synapse() * p.n_synapses() as f64).sum();
    let neurons: usize = program.groups.iter().map(|g| g.size).sum();
    let spikes: u64 = sim.recordings().spike_counts.iter().sum();
    RunFigures {
        build_s,
        run_s,
        synapses,
        bytes_per_synapse: bytes / synapses.max(1) as f64,
        rss_delta: rss1.saturating_sub(rss0),
        rate_hz: spikes as f64 / neurons as f64 / duration,
    }
}

fn brian2(python: &str, model: &str, duration: f64) -> Option<serde_json::Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/anchors/brian2_models.py");
    let out = std::process::Command::new(python)
        .arg(&script)
        .args(["--model", model, "--duration", &duration.to_string()])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last()?).ok()
}

/// The shipped experiment's base and variants, planned as `hebb compare`
/// plans them.
fn compare_plan() -> Plan {
    let file = models_dir().join("experiments/stdp_vs_homeostasis.hebb");
    let checked = hebb::session::check(&Request::file(&file)).expect("the shipped experiment checks");
    let points = ["base", "scaling", "intrinsic", "inhibitory"]
        .iter()
        .map(|name| (name.to_string(), (*name != "base").then(|| name.to_string()), Vec::new()))
        .collect();
    let spec = Spec {
        kind: Kind::Compare,
        model: file,
        duration: None,
        from: None,
        seeds: None,
        seed: None,
        contrasts: Vec::new(),
        axis: None,
    };
    Plan::new(spec, &checked, points)
}

fn compare_bench() {
    let dir = std::env::temp_dir().join(format!("hebb-bench-compare-{}", std::process::id()));
    let plan = compare_plan();
    let all: Vec<usize> = (0..plan.entries.len()).collect();
    let time = |jobs: usize| {
        // Finished runs would be skipped: start from an empty directory.
        let _ = std::fs::remove_dir_all(&dir);
        let t0 = Instant::now();
        let results = hebb::study::run_plan(&plan, &dir, &all, jobs, &|| false, &Default::default());
        let ok = |r: &Option<Ran>| matches!(r, Some(Ran::Ran(x)) if x.is_ok());
        assert!(results.iter().all(ok), "a run of the experiment failed");
        t0.elapsed().as_secs_f64()
    };
    // Alternate the two modes so that machine noise hits both alike.
    let (mut one, mut two) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        one.push(time(1));
        two.push(time(2));
    }
    let _ = std::fs::remove_dir_all(&dir);
    let (one, two) = (median(one), median(two));
    println!(
        "compare stdp_vs_homeostasis (4 runs): one after another {one:.2} s, 2 jobs {two:.2} s, ratio {:.2} (target <= 0.6)",
        two / one
    );
}

fn main() {
    // A child process of the `records` section: one run, then its peak RSS.
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("records-child") {
        records_child(args.get(2).map(String::as_str) == Some("record"));
        return;
    }
    // `cargo bench` passes `--bench`; other arguments name sections.
    let sections: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let wanted = |s: &str| sections.is_empty() || sections.iter().any(|a| a == s);
    let cuba = models_dir().join("cuba.hebb");
    let text = std::fs::read_to_string(&cuba).expect("cuba model");
    println!("hebb core benchmarks ({} build)", if cfg!(debug_assertions) { "debug" } else { "release" });
    if wanted("compare") {
        compare_bench();
    }
    if wanted("core") {
        core_bench(&cuba, &text);
    }
    if wanted("plastic") || wanted("brian2") {
        plastic_bench(&cuba, &text, wanted("plastic"), wanted("brian2"));
    }
    if wanted("records") {
        records_bench();
    }
}

/// 100k Poisson neurons at 5 Hz for 100 s (50M spikes, 600 MB of spike
/// data): is memory bounded when every spike is recorded (they stream to
/// disk)? Each run is a child process, so its peak RSS is its own.
fn records_bench() {
    let exe = std::env::current_exe().expect("the bench binary");
    let peak = |mode: &str| -> (f64, f64) {
        let out = std::process::Command::new(&exe).args(["records-child", mode]).output().expect("child runs");
        let text = String::from_utf8_lossy(&out.stdout);
        let mut it = text.split_whitespace().map(|x| x.parse::<f64>().unwrap_or(f64::NAN));
        (it.next().unwrap_or(f64::NAN), it.next().unwrap_or(f64::NAN))
    };
    let (rss_none, s_none) = peak("none");
    let (rss_all, s_all) = peak("record");
    println!(
        "records: 100k neurons x 100 s, every spike recorded: peak RSS {:.0} MB ({s_all:.1} s); nothing recorded: {:.0} MB ({s_none:.1} s); ratio {:.2} (target <= 2)",
        rss_all / 1e6,
        rss_none / 1e6,
        rss_all / rss_none
    );
}

fn records_child(record: bool) {
    let text = format!(
        "network n {{\n    population src = 100000 poisson {{ rate = 5 Hz }}\n{}}}\nexperiment {{ network = n; duration = 100 s }}\n",
        if record { "    record spikes of src\n" } else { "" }
    );
    let dir = std::env::temp_dir().join(format!("hebb-bench-records-{}", std::process::id()));
    let request = Request { force: true, ..Request::text(text, dir.join("m.hebb")) };
    let t0 = Instant::now();
    let summary = session::run(&request, &dir.join("run"), &mut session::Silent).expect("runs");
    assert_eq!(summary.status, "ok");
    let seconds = t0.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    println!("{} {seconds}", peak_rss_bytes().unwrap_or(0));
}

fn core_bench(cuba: &Path, text: &str) {
    let first: Vec<f64> = (0..20).map(|_| file_to_first_step(cuba)).collect();
    println!(
        "file -> first step (cuba, 4000 neurons, 320k synapses): median {:.1} ms (min {:.1} ms)",
        median(first.clone()) * 1e3,
        first.iter().copied().fold(f64::INFINITY, f64::min) * 1e3
    );

    let runs: Vec<RunFigures> = (0..3).map(|_| run_model(text, cuba, 1.0)).collect();
    let cuba_run = median(runs.iter().map(|r| r.run_s).collect());
    println!(
        "cuba 1 s, 1 thread: run {:.3} s, build {:.1} ms, {} synapses, {:.2} bytes/synapse, {:.2} Hz",
        cuba_run,
        runs[0].build_s * 1e3,
        runs[0].synapses,
        runs[0].bytes_per_synapse,
        runs[0].rate_hz
    );

    // CUBA at 64k neurons, in-degree kept at 80 (p = 0.02 * 4000 / 64000).
    let big = text
        .replace("population P = 4000", "population P = 64000")
        .replace("P[0..3200]", "P[0..51200]")
        .replace("P[3200..4000]", "P[51200..64000]")
        .replace("p = 0.02", "p = 0.00125");
    let b = run_model(&big, cuba, 1.0);
    println!(
        "cuba 64k neurons, 1 s: build {:.2} s for {} synapses, run {:.2} s, {:.2} bytes/synapse in the synapse store, RSS growth during build {:.1} MB ({:.2} bytes/synapse), peak RSS {:.0} MB",
        b.build_s,
        b.synapses,
        b.run_s,
        b.bytes_per_synapse,
        b.rss_delta as f64 / 1e6,
        b.rss_delta as f64 / b.synapses as f64,
        peak_rss_bytes().unwrap_or(0) as f64 / 1e6
    );
}

fn plastic_bench(cuba: &Path, text: &str, plastic_figures: bool, with_brian2: bool) {
    // Plasticity: the `plastic` and `stdp` anchor models.
    let benches = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/models");
    let plastic_path = benches.join("plastic.hebb");
    let plastic_text = std::fs::read_to_string(&plastic_path).expect("plastic model");
    let stdp_path = benches.join("stdp.hebb");
    let stdp_text = std::fs::read_to_string(&stdp_path).expect("stdp model");
    if plastic_figures {
        // Alternate static and plastic runs so that machine noise hits both.
        let (mut cuba10, mut plastic) = (Vec::new(), Vec::new());
        for _ in 0..5 {
            cuba10.push(run_model(text, cuba, 10.0).run_s);
            plastic.push(run_model(&plastic_text, &plastic_path, 10.0));
        }
        let plastic_run = median(plastic.iter().map(|r| r.run_s).collect());
        println!(
            "plastic (CUBA + pair STDP on E->E) 10 s: run {:.3} s; static CUBA 10 s {:.3} s; plasticity overhead {:.2}x; {:.2} bytes/synapse over all projections",
            plastic_run,
            median(cuba10.clone()),
            plastic_run / median(cuba10),
            plastic[0].bytes_per_synapse
        );
        let stdp: Vec<RunFigures> = (0..3).map(|_| run_model(&stdp_text, &stdp_path, 100.0)).collect();
        let stdp_run = median(stdp.iter().map(|r| r.run_s).collect());
        println!(
            "stdp (1000 Poisson inputs, 1 neuron) 100 s: run {:.3} s, {:.2} bytes/synapse",
            stdp_run, stdp[0].bytes_per_synapse
        );
    }
    if !with_brian2 {
        return;
    }
    if let Ok(python) = std::env::var("HEBB_BRIAN2_PYTHON") {
        let text = text.to_string();
        let cuba = cuba.to_path_buf();
        let models = [
            ("cuba", 1.0, &text, &cuba),
            ("plastic", 10.0, &plastic_text, &plastic_path),
            ("stdp", 100.0, &stdp_text, &stdp_path),
        ];
        for (model, duration, hebb_text, hebb_path) in models {
            let b2: Vec<f64> = (0..3)
                .filter_map(|_| brian2(&python, model, duration))
                .map(|j| j["run_s"].as_f64().unwrap_or(f64::NAN))
                .collect();
            if b2.is_empty() {
                println!("brian2 {model}: could not run benches/anchors/brian2_models.py with {python}");
                continue;
            }
            let b2m = median(b2.clone());
            // Re-measure hebb right after Brian2, in the same conditions.
            let again = median((0..3).map(|_| run_model(hebb_text, hebb_path, duration).run_s).collect());
            println!(
                "{model} {duration} s: brian2 standalone run median {b2m:.3} s of {b2:?}; hebb {again:.3} s; hebb/brian2 = {:.2}",
                again / b2m
            );
        }
    } else {
        println!("(set HEBB_BRIAN2_PYTHON to a python with brian2 to compare with Brian2's C++ standalone mode)");
    }
}
