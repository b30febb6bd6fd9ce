//! A run is never lost: interrupted (by the library's observer, by SIGINT,
//! by SIGTERM) or killed after a checkpoint, it leaves readable data, and
//! `resume` completes it to outputs byte-identical to a run that was never
//! stopped — for a static network, a plastic one with heterogeneous delays
//! and `on post`, and an experiment with phases, stimuli and `every`
//! blocks.

mod common;

use hebb::session::{self, Observer, Progress, Request, Silent};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hebb-resume-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Every file of a run directory but `run.json` (timings) and the
/// checkpoint, with its bytes.
fn outputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    common::files_with_bytes(dir)
        .into_iter()
        .filter(|(name, _)| name != "run.json" && name != "checkpoint.hebb" && !name.starts_with('.'))
        .collect()
}

fn assert_same_outputs(full: &Path, resumed: &Path) {
    let (a, b) = (outputs(full), outputs(resumed));
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b), "the same files");
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{name} differs after resuming");
    }
}

/// `hebb resume PART` succeeds and leaves what the uninterrupted run wrote.
fn resume_matches(full: &Path, part: &Path) {
    let resumed = Command::new(env!("CARGO_BIN_EXE_hebb"))
        .args(["resume", part.to_str().expect("path"), "-q"])
        .output()
        .expect("resumes");
    assert_eq!(resumed.status.code(), Some(0), "{}", String::from_utf8_lossy(&resumed.stderr));
    assert_same_outputs(full, part);
}

fn run_json(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).expect("run.json")).expect("JSON")
}

/// Interrupts a run after a number of progress reports.
struct StopAfter {
    reports: usize,
    seen: usize,
}

impl Observer for StopAfter {
    fn progress(&mut self, _: &Progress) {
        self.seen += 1;
    }

    fn interrupted(&mut self) -> bool {
        self.seen >= self.reports
    }
}

/// A plastic recurrent network: pair STDP with heterogeneous axonal delays
/// and `on post`, records of spikes, states and sampled weights.
const PLASTIC: &str = r#"
neuron Cell {
    param tau = 10 ms
    state v = 0 mV
    state ge = 0 mV
    dv/dt = (ge - v) / tau unless refractory
    dge/dt = -ge / (5 ms)
    spike when v > 10 mV
    reset { v = 0 mV }
    refractory 2 ms
}

synapse Pair {
    param tau_pre = 20 ms
    param tau_post = 20 ms
    state w = 0.5
    state apre = 0
    state apost = 0
    dapre/dt = -apre / tau_pre
    dapost/dt = -apost / tau_post
    on pre { post.ge += w * 6 mV; apre += 0.01; w = clip(w + apost, 0, 1) }
    on post { apost -= 0.0105; w = clip(w + apre, 0, 1) }
}

network net {
    population input = 200 poisson { rate = 12 Hz }
    population exc = 100 Cell
    connect input -> exc with Pair { p = 0.2; delay = uniform(1 ms, 3 ms) }
    connect exc -> exc with Pair { p = 0.05; delay = uniform(1 ms, 4 ms) }
    record spikes of input, exc
    record v, ge of exc[0..10] every 1 ms
    record w, apre of input -> exc every 100 ms sample 40
    record rate of exc bin 10 ms
}

experiment { network = net; dt = 0.1 ms; duration = 3 s; seed = 5 }
"#;

/// An experiment: stimuli, two phases (the second without plasticity) and,
/// in its `scaling` variant, an `every` block that runs through the
/// checkpoint.
fn experiment_text() -> String {
    common::small_experiment("500 ms", "3 s", &["variant scaling { STDP.beta = 0.2 }"])
}

/// Runs a request whole, and again interrupted after `reports` progress
/// reports and resumed; the two run directories must hold the same bytes.
fn interrupted_then_resumed_matches(name: &str, request: &Request, reports: usize) {
    let dir = temp_dir(name);
    let (full, part) = (dir.join("full"), dir.join("part"));
    let whole = session::run(request, &full, &mut Silent).expect("runs");
    assert_eq!(whole.status, "ok");
    let stopped = session::run(request, &part, &mut StopAfter { reports, seen: 0 }).expect("runs");
    assert!(stopped.interrupted(), "{name}: interrupted ({})", stopped.status);
    assert!(stopped.simulated < whole.simulated, "{name}: stopped early");
    assert_eq!(run_json(&part)["status"], "interrupted");
    assert!(part.join("checkpoint.hebb").exists());
    let resumed = session::resume(&part, &mut Silent).expect("resumes");
    assert_eq!(resumed.status, "ok");
    assert_eq!(resumed.simulated, whole.simulated);
    assert_eq!(run_json(&part)["status"], "ok");
    assert_same_outputs(&full, &part);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_static_network_resumes_byte_identically() {
    let request = Request { duration: Some(1.0), ..Request::file(common::models_dir().join("cuba.hebb")) };
    interrupted_then_resumed_matches("static", &request, 5);
}

#[test]
fn a_plastic_network_with_delays_and_on_post_resumes_byte_identically() {
    let dir = temp_dir("plastic-model");
    let path = dir.join("plastic.hebb");
    std::fs::write(&path, PLASTIC).expect("write model");
    interrupted_then_resumed_matches("plastic", &Request::file(&path), 6);
}

#[test]
fn an_experiment_with_phases_stimuli_and_every_blocks_resumes_byte_identically() {
    let dir = temp_dir("experiment-model");
    let path = dir.join("small.hebb");
    std::fs::write(&path, experiment_text()).expect("write model");
    // The scaling variant adds an `every 1 s` block.
    let request = Request { variant: Some("scaling".into()), ..Request::file(&path) };
    interrupted_then_resumed_matches("experiment", &request, 8);
}

/// The error of a call that must fail.
fn refusal<T>(result: Result<T, session::Error>) -> String {
    match result {
        Ok(_) => panic!("expected a refusal"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn resume_refuses_a_changed_model_and_a_finished_run() {
    let dir = temp_dir("refuse");
    let path = dir.join("plastic.hebb");
    std::fs::write(&path, PLASTIC).expect("write model");
    let run_dir = dir.join("run");
    let stopped = session::run(&Request::file(&path), &run_dir, &mut StopAfter { reports: 3, seen: 0 }).expect("runs");
    assert!(stopped.interrupted());
    std::fs::write(&path, PLASTIC.replace("rate = 12 Hz", "rate = 13 Hz")).expect("edit model");
    let e = refusal(session::resume(&run_dir, &mut Silent));
    assert!(e.contains("changed since the run started"), "{e}");
    std::fs::write(&path, PLASTIC).expect("restore model");
    session::resume(&run_dir, &mut Silent).expect("resumes");
    let e = refusal(session::resume(&run_dir, &mut Silent));
    assert!(e.contains("the run finished"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn hebb(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_hebb"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hebb starts")
}

/// Waits (at most 30 s) until `ready` holds.
fn wait_for(what: &str, ready: impl Fn() -> bool) {
    let t0 = Instant::now();
    while !ready() {
        assert!(t0.elapsed() < Duration::from_secs(30), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn spikes_written(dir: &Path) -> bool {
    std::fs::metadata(dir.join("spikes/P.t.npy")).is_ok_and(|m| m.len() > 4096)
}

#[test]
fn sigint_and_sigterm_stop_a_run_that_resume_completes() {
    let dir = temp_dir("signals");
    let model = common::models_dir().join("cuba.hebb");
    let model = model.to_str().expect("a path");
    let full = dir.join("full");
    let out = Command::new(env!("CARGO_BIN_EXE_hebb"))
        .args(["run", model, "-q", "--duration", "60 s", "-o", full.to_str().expect("path")])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    for (signal, code) in [("-INT", 130), ("-TERM", 143)] {
        let part = dir.join(&signal[1..]);
        let mut child = hebb(&["run", model, "-q", "--duration", "60 s", "-o", part.to_str().expect("path")]);
        wait_for("spikes on disk", || spikes_written(&part));
        let status = Command::new("kill").args([signal, &child.id().to_string()]).status().expect("kill runs");
        assert!(status.success());
        let exit = child.wait().expect("hebb ends");
        assert_eq!(exit.code(), Some(code), "{signal}");
        let json = run_json(&part);
        assert_eq!(json["status"], "interrupted", "{signal}");
        // Every spike up to the stop is on disk, readable.
        let t = hebb::output::read_f64(&part.join("spikes/P.t.npy")).expect("readable").1;
        let i = hebb::output::read_u32(&part.join("spikes/P.i.npy")).expect("readable").1;
        assert_eq!(t.len(), i.len());
        let stop = json["simulated"].as_f64().expect("simulated");
        let (_, all) = hebb::output::read_f64(&full.join("spikes/P.t.npy")).expect("readable");
        assert_eq!(t, all.iter().copied().filter(|&x| x < stop - 1e-9).collect::<Vec<_>>(), "{signal}");
        resume_matches(&full, &part);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_killed_run_resumes_from_its_last_checkpoint() {
    let dir = temp_dir("killed");
    let model = common::models_dir().join("cuba.hebb");
    let model = model.to_str().expect("a path");
    let (full, part) = (dir.join("full"), dir.join("part"));
    let args = |out: &Path| {
        vec![
            "run".to_string(),
            model.to_string(),
            "-q".into(),
            "--duration".into(),
            "40 s".into(),
            "--checkpoint-every".into(),
            "2 s".into(),
            "-o".into(),
            out.display().to_string(),
        ]
    };
    let out = Command::new(env!("CARGO_BIN_EXE_hebb")).args(args(&full)).output().expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let mut child =
        Command::new(env!("CARGO_BIN_EXE_hebb")).args(args(&part)).stderr(Stdio::null()).spawn().expect("starts");
    wait_for("a checkpoint", || part.join("checkpoint.hebb").exists());
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    // Killed without a word: run.json still says running, the data is
    // readable up to the last flush.
    assert_eq!(run_json(&part)["status"], "running");
    hebb::output::read_f64(&part.join("spikes/P.t.npy")).expect("readable");
    resume_matches(&full, &part);
    let _ = std::fs::remove_dir_all(&dir);
}

fn run_cli(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hebb")).args(args).env("NO_COLOR", "1").output().expect("hebb runs")
}

#[test]
fn runs_branch_from_a_learned_state() {
    let dir = temp_dir("branch");
    let model = dir.join("small.hebb");
    std::fs::write(&model, experiment_text()).expect("write");
    let m = model.to_str().expect("path");
    let out = |name: &str| dir.join(name).display().to_string();
    // Learn once (the learning phase only), keeping the final state.
    let learn = run_cli(&["run", m, "-q", "--duration", "3 s", "--checkpoint-every", "3 s", "-o", &out("learn")]);
    assert_eq!(learn.status.code(), Some(0), "{}", String::from_utf8_lossy(&learn.stderr));
    let full = run_cli(&["run", m, "-q", "-o", &out("full")]);
    assert_eq!(full.status.code(), Some(0));
    // From the learned state, the same model goes on exactly as the full run.
    let branch = run_cli(&["run", m, "-q", "--from", &out("learn"), "-o", &out("branch")]);
    assert_eq!(branch.status.code(), Some(0), "{}", String::from_utf8_lossy(&branch.stderr));
    let spikes = |run: &str| hebb::output::read_f64(&dir.join(run).join("spikes/exc.t.npy")).expect("spikes").1;
    let after: Vec<f64> = spikes("full").into_iter().filter(|&t| t >= 3.0 - 1e-9).collect();
    assert!(!after.is_empty());
    assert_eq!(spikes("branch"), after, "the branch continues the learned run");
    // Every variant of a comparison starts from it.
    let cmp = run_cli(&["compare", m, "-q", "--from", &out("learn"), "-o", &out("compare")]);
    assert_eq!(cmp.status.code(), Some(0), "{}", String::from_utf8_lossy(&cmp.stderr));
    let table = String::from_utf8_lossy(&cmp.stdout);
    assert!(table.contains("scaling") && table.contains("ok"), "{table}");
    // Another network cannot start from it.
    let cuba = common::models_dir().join("cuba.hebb");
    let other = run_cli(&["run", cuba.to_str().expect("path"), "-q", "--from", &out("learn"), "-o", &out("other")]);
    assert_eq!(other.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&other.stderr).contains("belongs to another network"),
        "{}",
        String::from_utf8_lossy(&other.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
