//! `hebb check` catches everything `hebb run` would before step 0: model
//! errors in any variant, missing and malformed data files, rates a source
//! cannot draw, and reads integer settings exactly.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn hebb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hebb")).args(args).env("NO_COLOR", "1").output().expect("hebb runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hebb-check-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Checks a model; both `check` and `run` must fail with the same exit
/// code and a message containing `why`.
fn refused(model: &str, code: i32, why: &str) {
    let c = hebb(&["check", model]);
    assert_eq!(c.status.code(), Some(code), "check: {}", stderr(&c));
    assert!(stderr(&c).contains(why), "check: {}", stderr(&c));
    let out = std::env::temp_dir().join(format!("hebb-check-run-{}", std::process::id()));
    let r = hebb(&["run", model, "-q", "--force", "-o", out.to_str().expect("path")]);
    assert_eq!(r.status.code(), Some(code), "run: {}", stderr(&r));
    assert!(stderr(&r).contains(why), "run: {}", stderr(&r));
    let _ = std::fs::remove_dir_all(out);
}

const NEURON: &str = "neuron Cell {\n    param tau = 10 ms\n    state v = 0 mV\n    dv/dt = -v / tau\n}\n";

#[test]
fn a_variant_naming_an_unknown_param_fails_check() {
    let dir = temp_dir("variant");
    let model = write(
        &dir,
        "m.hebb",
        &format!(
            "{NEURON}network n {{\n    population p = 3 Cell\n}}\nexperiment {{\n    network = n\n    duration = 10 ms\n    variant fast {{ Cell.taux = 5 ms }}\n}}\n"
        ),
    );
    let c = hebb(&["check", &model]);
    assert_eq!(c.status.code(), Some(1), "{}", stderr(&c));
    assert!(stderr(&c).contains("has no param `taux`"), "{}", stderr(&c));
}

#[test]
fn missing_and_malformed_data_files_fail_check() {
    let dir = temp_dir("data");
    let model = |file: &str| {
        format!(
            "{NEURON}network n {{\n    population p = 3 Cell\n    population src = 2 spike_times {{ file = \"{file}\" }}\n    connect src -> p with Static(target = v) {{ all_to_all; w = 1 mV }}\n}}\nexperiment {{ network = n; duration = 10 ms }}\n"
        )
    };
    refused(&write(&dir, "missing.hebb", &model("nope.csv")), 1, "cannot read spike file");
    write(&dir, "bad.csv", "0,0.001\n1,soon\n");
    refused(&write(&dir, "bad.hebb", &model("bad.csv")), 1, "bad.csv:2: `soon` is not a time");
    write(&dir, "twice.csv", "0,0.001\n1,0.002\n0,0.00102\n");
    refused(
        &write(&dir, "twice.hebb", &model("twice.csv")),
        1,
        "twice.csv:1: neuron 0 fires twice in one time step (again on line 3",
    );
}

#[test]
fn a_rate_no_source_can_draw_fails_check() {
    let dir = temp_dir("rate");
    let model = write(
        &dir,
        "fast.hebb",
        &format!(
            "{NEURON}network n {{\n    population p = 3 Cell\n    population src = 2 poisson {{ rate = 200000000 Hz }}\n    connect src -> p with Static(target = v) {{ all_to_all; w = 1 mV }}\n}}\nexperiment {{ network = n; duration = 10 ms }}\n"
        ),
    );
    refused(&model, 1, "spikes per neuron in each time step");
    // 10 MHz (1000 spikes per 0.1 ms step) is drawn, with the right mean.
    let ok = write(
        &dir,
        "ok.hebb",
        "network n {\n    population src = 20 poisson { rate = 10000000 Hz }\n    record rate of src bin 1 ms\n}\nexperiment { network = n; duration = 10 ms }\n",
    );
    let out = dir.join("run");
    let r = hebb(&["run", &ok, "-q", "-o", out.to_str().expect("path")]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).expect("run.json")).expect("JSON");
    let rate = run["populations"]["src"]["mean_rate_hz"].as_f64().expect("rate");
    // 20 neurons × 100 steps × 1000 spikes: sd of the mean 0.07 %.
    assert!((rate / 1e7 - 1.0).abs() < 0.005, "{rate} Hz");
}

#[test]
fn a_seed_is_read_exactly_from_the_file_as_from_the_command_line() {
    let dir = temp_dir("seed");
    let model = write(
        &dir,
        "m.hebb",
        &format!(
            "{NEURON}network n {{\n    population p = 3 Cell\n}}\nexperiment {{ network = n; duration = 1 ms; seed = 9007199254740993 }}\n"
        ),
    );
    let out = dir.join("run");
    let r = hebb(&["run", &model, "-q", "-o", out.to_str().expect("path")]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let text = std::fs::read_to_string(out.join("run.json")).expect("run.json");
    assert!(text.contains("\"seed\": 9007199254740993"), "{text}");
}
