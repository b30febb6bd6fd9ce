//! Output directories: a run never mixes its files with another's. `-o`
//! takes a new or empty directory, or an unfinished run of the same model;
//! anything else needs `--force`. One process writes a directory at a
//! time. A sweep whose points would collide is refused.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn hebb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hebb")).args(args).env("NO_COLOR", "1").output().expect("hebb runs")
}

fn model(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models").join(name).display().to_string()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hebb-outputs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn run_into(dir: &Path, model_name: &str, extra: &[&str]) -> Output {
    let m = model(model_name);
    let mut args = vec!["run", m.as_str(), "-q", "--duration", "50 ms", "-o", dir.to_str().expect("path")];
    args.extend_from_slice(extra);
    hebb(&args)
}

#[test]
fn a_finished_run_is_replaced_only_with_force() {
    let dir = temp_dir("finished").join("run");
    assert_eq!(run_into(&dir, "cuba.hebb", &[]).status.code(), Some(0));
    let again = run_into(&dir, "cuba.hebb", &[]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("holds a run of this model (status `ok`)"), "{}", stderr(&again));
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
    let other = run_into(&dir, "coba.hebb", &[]);
    assert_eq!(other.status.code(), Some(2));
    assert!(stderr(&other).contains("another model"), "{}", stderr(&other));
    // Forced, the old run's files go: no spikes of a population COBA does
    // not have are left behind.
    std::fs::write(dir.join("spikes/stale.t.npy"), b"not ours any more").expect("write");
    assert_eq!(run_into(&dir, "coba.hebb", &["--force"]).status.code(), Some(0));
    assert!(!dir.join("spikes/stale.t.npy").exists());
}

#[test]
fn a_directory_with_other_files_is_refused() {
    let dir = temp_dir("foreign");
    std::fs::write(dir.join("notes.txt"), "mine").expect("write");
    let o = run_into(&dir, "cuba.hebb", &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is not empty"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(dir.join("notes.txt")).expect("kept"), "mine");
    // Forced, hebb removes only what it writes itself.
    assert_eq!(run_into(&dir, "cuba.hebb", &["--force"]).status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(dir.join("notes.txt")).expect("kept"), "mine");
}

#[test]
fn an_unfinished_run_of_the_same_model_starts_over() {
    let dir = temp_dir("unfinished");
    assert_eq!(run_into(&dir, "cuba.hebb", &[]).status.code(), Some(0));
    let path = dir.join("run.json");
    let text =
        std::fs::read_to_string(&path).expect("run.json").replace("\"status\": \"ok\"", "\"status\": \"interrupted\"");
    std::fs::write(&path, text).expect("write");
    assert_eq!(run_into(&dir, "cuba.hebb", &[]).status.code(), Some(0));
}

#[test]
fn one_process_writes_a_directory_at_a_time() {
    let dir = temp_dir("locked");
    // A live process (this test) holds the lock.
    std::fs::write(dir.join(".hebb-lock"), format!("{}\n", std::process::id())).expect("lock");
    let o = run_into(&dir, "cuba.hebb", &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains(&format!("another hebb process (pid {})", std::process::id())), "{}", stderr(&o));
    // A lock left by a process that is gone is taken over, and released.
    std::fs::write(dir.join(".hebb-lock"), "4000000000\n").expect("stale lock");
    assert_eq!(run_into(&dir, "cuba.hebb", &["--force"]).status.code(), Some(0));
    assert!(!dir.join(".hebb-lock").exists());
}

#[test]
fn a_study_directory_must_be_new_and_sweep_points_distinct() {
    let dir = temp_dir("study");
    std::fs::write(dir.join("compare.json"), "{}").expect("write");
    let m = model("cuba.hebb");
    let o = hebb(&[
        "sweep",
        &m,
        "-q",
        "--duration",
        "20 ms",
        "--set",
        "CubaLIF.tau_m=10 ms,20 ms",
        "-o",
        dir.to_str().expect("path"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let fresh = dir.join("fresh");
    for (axes, why) in [
        (vec!["CubaLIF.tau_m=10 ms,10ms"], "takes the value"),
        (vec!["CubaLIF.tau_m=10 ms", "CubaLIF.tau_m=20 ms"], "swept twice"),
    ] {
        let mut args = vec!["sweep", m.as_str(), "-q", "--duration", "20 ms", "-o", fresh.to_str().expect("path")];
        for a in &axes {
            args.extend_from_slice(&["--set", a]);
        }
        let o = hebb(&args);
        assert_eq!(o.status.code(), Some(2), "{axes:?}");
        assert!(stderr(&o).contains(why), "{}", stderr(&o));
    }
}
