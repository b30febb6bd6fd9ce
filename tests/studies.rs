//! Studies across seeds: `compare --seeds` against single-seed compares,
//! `plan` + `run-plan` + `collect` against `compare`, the Slurm job-array
//! script, and the errors of their options.

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn hebb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hebb")).args(args).env("NO_COLOR", "1").output().expect("hebb runs")
}

fn ok(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hebb-studies-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The small learning experiment with one variant.
fn model(dir: &Path) -> PathBuf {
    let text = common::small_experiment("1 s", "2 s", &["variant scaling { STDP.beta = 0.2 }"]);
    let path = dir.join("small.hebb");
    std::fs::write(&path, text).expect("write model");
    path
}

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("json")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `compare --seeds 1..3` runs each variant with each seed: its rows equal,
/// row for row, those of three compares with one seed each; and the
/// statistics pair the variants by seed.
#[test]
fn replicate_seeds_equal_single_seed_compares_run_separately() {
    let dir = temp_dir("seeds");
    let m = model(&dir);
    let all = dir.join("all");
    let table = ok(&hebb(&["compare", s(&m), "--seeds", "1..3", "-o", s(&all), "--jobs", "2", "-q"]));
    assert!(table.contains("scaling − base") && table.contains("3 seeds"), "{table}");
    let rows = json(&all.join("compare.json"))["rows"].as_array().expect("rows").clone();
    assert_eq!(rows.len(), 6, "2 variants × 3 seeds");
    for seed in 1..=3u64 {
        let one = dir.join(format!("seed{seed}"));
        ok(&hebb(&["compare", s(&m), "--seed", &seed.to_string(), "-o", s(&one), "--jobs", "2", "-q"]));
        let single = json(&one.join("compare.json"));
        for r in single["rows"].as_array().expect("rows") {
            assert_eq!(r["seed"], seed);
            let same = rows
                .iter()
                .find(|x| x["name"] == r["name"] && x["seed"] == seed)
                .unwrap_or_else(|| panic!("no row {} seed {seed}", r["name"]));
            assert_eq!(same["status"], r["status"]);
            assert_eq!(same["metrics"], r["metrics"], "{} seed {seed}", r["name"]);
            assert_eq!(same["details"], r["details"], "{} seed {seed}", r["name"]);
        }
    }
    let csv = std::fs::read_to_string(all.join("compare.csv")).expect("csv");
    assert_eq!(csv.lines().count(), 7, "{csv}");
    assert!(csv.lines().nth(1).unwrap().starts_with("base,1,ok,"), "{csv}");
    // Statistics: each variant over 3 seeds, and scaling − base paired.
    let summary = json(&all.join("summary.json"));
    let stat = summary["stats"].as_array().unwrap().iter().find(|x| x["label"] == "base").expect("base stats").clone();
    assert_eq!(stat["n"], 3);
    let values: Vec<f64> = rows
        .iter()
        .filter(|r| r["name"] == "base")
        .map(|r| r["metrics"][stat["metric"].as_str().unwrap()].as_f64().unwrap())
        .collect();
    let mean = values.iter().sum::<f64>() / 3.0;
    assert!((stat["mean"].as_f64().unwrap() - mean).abs() < 1e-12 * mean.abs().max(1.0));
    let contrast = &summary["contrasts"][0];
    assert_eq!(
        (contrast["a"].as_str(), contrast["b"].as_str(), contrast["n"].as_u64()),
        (Some("scaling"), Some("base"), Some(3))
    );
    assert_eq!(contrast["too_few_seeds"], true, "3 pairs cannot reach p < 0.05");
    assert!(all.join("plots/rates.exc.test.svg").exists());
}

/// Kills a `run-plan` of one entry while its run is under way (as a
/// preempted cluster task), once its `run.json` says `running`.
fn kill_mid_run(plan: &Path, index: usize, run_dir: &Path) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hebb"))
        .args(["run-plan", s(plan), "--index", &index.to_string(), "-q"])
        .spawn()
        .expect("spawn");
    let t0 = Instant::now();
    loop {
        let running = std::fs::read_to_string(run_dir.join("run.json")).is_ok_and(|t| t.contains("\"running\""));
        if running || t0.elapsed() > Duration::from_secs(60) {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().expect("kill");
    let _ = child.wait();
}

/// `plan` + `run-plan --index` for every entry (in any order, one twice,
/// one killed mid-run and run again) + `collect` give the `compare.json`
/// that `compare` gives.
#[test]
fn plan_run_plan_and_collect_give_what_compare_gives() {
    let dir = temp_dir("plan");
    let m = model(&dir);
    let direct = dir.join("direct");
    ok(&hebb(&["compare", s(&m), "--seeds", "1..2", "-o", s(&direct), "--jobs", "2", "-q"]));
    let study = dir.join("planned");
    let out = ok(&hebb(&["plan", s(&m), "--seeds", "1..2", "-o", s(&study)]));
    assert!(out.contains("4 runs (2 variants × 2 seeds)"), "{out}");
    let plan = study.join("plan.jsonl");
    assert_eq!(std::fs::read_to_string(&plan).unwrap(), std::fs::read_to_string(direct.join("plan.jsonl")).unwrap());
    ok(&hebb(&["run-plan", s(&plan), "--index", "3", "-q"]));
    ok(&hebb(&["run-plan", s(&plan), "--index", "0", "-q"]));
    let again = hebb(&["run-plan", s(&plan), "--index", "3"]);
    ok(&again);
    assert!(String::from_utf8_lossy(&again.stderr).contains("finished earlier"), "the finished run is skipped");
    // Entry 1 is base, seed 2.
    let killed = study.join("base/seed-2");
    kill_mid_run(&plan, 1, &killed);
    assert!(!killed.join("plan-entry.json").exists(), "a killed run is not marked finished");
    let partial = hebb(&["collect", s(&study), "-q"]);
    ok(&partial);
    assert!(String::from_utf8_lossy(&partial.stderr).contains("did not finish"));
    ok(&hebb(&["run-plan", s(&plan), "--index", "1", "-q"]));
    ok(&hebb(&["run-plan", s(&plan), "--index", "2", "-q"]));
    let table = ok(&hebb(&["collect", s(&study), "-q"]));
    assert!(table.contains("scaling − base"), "{table}");
    assert_eq!(json(&study.join("compare.json")), json(&direct.join("compare.json")));
    assert_eq!(json(&study.join("summary.json")), json(&direct.join("summary.json")));
    // Shards cover the plan: with every run finished, both skip all.
    for shard in ["1/2", "2/2"] {
        let o = hebb(&["run-plan", s(&plan), "--shard", shard]);
        ok(&o);
        assert!(String::from_utf8_lossy(&o.stderr).contains("2 runs had finished earlier"), "{shard}");
    }
}

/// `plan --slurm` writes a job array that runs one entry per task; run as
/// Slurm would (each task with its `SLURM_ARRAY_TASK_ID`), then
/// `collect`.
#[test]
fn plan_writes_a_slurm_job_array_whose_tasks_run_the_study() {
    let dir = temp_dir("slurm");
    let m = model(&dir);
    let study = dir.join("study");
    ok(&hebb(&["plan", s(&m), "--seeds", "1..2", "-o", s(&study), "--slurm", "--throttle", "2"]));
    let script = std::fs::read_to_string(study.join("submit.sbatch")).expect("script");
    assert!(script.starts_with("#!/bin/bash\n"));
    assert!(script.contains("#SBATCH --array=0-3%2\n"), "{script}");
    assert!(script.contains("run-plan") && script.contains("--index \"$SLURM_ARRAY_TASK_ID\""), "{script}");
    for task in [2, 0, 3, 1] {
        let o = Command::new("bash")
            .arg(study.join("submit.sbatch"))
            .env("SLURM_ARRAY_TASK_ID", task.to_string())
            .output()
            .expect("bash");
        ok(&o);
    }
    let table = ok(&hebb(&["collect", s(&study), "-q"]));
    assert!(table.contains("2/2"), "both seeds of each variant ran: {table}");
    // Several runs per task: every K-th entry from the task's.
    let grouped = dir.join("grouped");
    ok(&hebb(&["plan", s(&m), "--seeds", "1..2", "-o", s(&grouped), "--slurm", "--per-task", "3"]));
    let script = std::fs::read_to_string(grouped.join("submit.sbatch")).expect("script");
    assert!(
        script.contains("#SBATCH --array=1-2\n") && script.contains("--shard \"$SLURM_ARRAY_TASK_ID/2\""),
        "{script}"
    );
}

#[test]
fn wrong_study_options_are_usage_errors() {
    let dir = temp_dir("errors");
    let m = model(&dir);
    let usage = |args: &[&str], says: &str| {
        let o = hebb(args);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    };
    usage(&["compare", s(&m), "--seeds", "3..1", "-q"], "empty");
    usage(&["compare", s(&m), "--seeds", "1,x", "-q"], "must be seeds");
    usage(&["compare", s(&m), "--seeds", "1..3", "--seed", "4", "-q"], "cannot be used with");
    usage(&["compare", s(&m), "--contrast", "scaling,basse", "-q"], "did you mean `base`");
    let study = dir.join("study");
    ok(&hebb(&["plan", s(&m), "-o", s(&study)]));
    usage(&["run-plan", s(&study.join("plan.jsonl")), "--index", "9"], "out of range");
    usage(&["run-plan", s(&study.join("plan.jsonl")), "--shard", "3/2"], "--shard 3/2");
    usage(&["run-plan", s(&m)], "not a hebb plan");
    usage(&["collect", s(&dir)], "cannot read");
    // A plan that writes outside its study directory is refused.
    let text =
        std::fs::read_to_string(study.join("plan.jsonl")).unwrap().replace("\"dir\":\"base\"", "\"dir\":\"../x\"");
    std::fs::write(study.join("plan.jsonl"), text).unwrap();
    usage(&["run-plan", s(&study.join("plan.jsonl"))], "inside the study directory");
}
