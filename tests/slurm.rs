//! A study on a real Slurm cluster: `hebb plan --slurm`, `sbatch` of the
//! job array on a single-node cluster this test starts (and stops), then
//! `hebb collect` — which must give the `compare.json` that `hebb compare`
//! gives for the same study.
//!
//! Needs root and the `slurm-wlm` and `munge` packages (`.ci/run` installs
//! them and sets `HEBB_REQUIRE_SLURM=1`, which makes their absence a
//! failure); without them, and without that variable, the test says it
//! was skipped.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn ok(o: &Output, what: &str) -> String {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{what}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slurm/cluster.sh")
}

/// The test cluster; stopped when dropped (also when the test fails).
struct Cluster {
    dir: PathBuf,
}

impl Cluster {
    fn start(dir: &Path) -> Cluster {
        let o = Command::new("bash").arg(script()).arg("start").arg(dir).output().expect("bash");
        let cluster = Cluster { dir: dir.to_path_buf() };
        ok(&o, "starting the test cluster");
        cluster
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("SLURM_CONF", self.dir.join("slurm.conf"));
        c
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(script()).arg("stop").arg(&self.dir).output();
    }
}

fn installed(program: &str) -> bool {
    Command::new("sh").arg("-c").arg(format!("command -v {program}")).output().is_ok_and(|o| o.status.success())
}

#[test]
fn a_study_runs_as_a_slurm_job_array() {
    let required = std::env::var_os("HEBB_REQUIRE_SLURM").is_some();
    let is_root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !(installed("sbatch") && installed("slurmctld") && installed("munged") && is_root) {
        assert!(!required, "HEBB_REQUIRE_SLURM is set, but Slurm, munge or root is missing");
        eprintln!("skipped: needs root and Slurm (apt-get install slurm-wlm munge)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("hebb-slurm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let model = dir.join("small.hebb");
    let text = common::small_experiment("1 s", "2 s", &["variant scaling { STDP.beta = 0.2 }"]);
    std::fs::write(&model, text).expect("model");
    let hebb = env!("CARGO_BIN_EXE_hebb");
    let m = model.to_str().expect("path");
    let direct = dir.join("direct");
    let study = dir.join("study");
    ok(
        &Command::new(hebb).args(["compare", m, "--seeds", "1..3", "-q", "-o"]).arg(&direct).output().expect("hebb"),
        "compare",
    );
    ok(
        &Command::new(hebb)
            .args(["plan", m, "--seeds", "1..3", "--slurm", "--throttle", "2", "-o"])
            .arg(&study)
            .output()
            .expect("hebb"),
        "plan",
    );
    let cluster = Cluster::start(&dir.join("cluster"));
    let submitted =
        cluster.command("sbatch").arg("--parsable").arg(study.join("submit.sbatch")).output().expect("sbatch");
    let job = ok(&submitted, "sbatch").trim().split(';').next().unwrap_or_default().to_string();
    assert!(!job.is_empty(), "no job id");
    // Wait until the array has left the queue (6 tasks of a fraction of a
    // second each, 2 at a time).
    let t0 = Instant::now();
    loop {
        let q = cluster.command("squeue").args(["-h", "-j", &job]).output().expect("squeue");
        if q.status.success() && q.stdout.iter().all(|b| b.is_ascii_whitespace()) {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(300), "the job array did not finish in 5 minutes");
        std::thread::sleep(Duration::from_millis(200));
    }
    let logs = std::fs::read_dir(study.join("slurm")).expect("task logs").count();
    assert_eq!(logs, 6, "one log per array task");
    let table = ok(&Command::new(hebb).args(["collect", "-q"]).arg(&study).output().expect("hebb"), "collect");
    assert!(table.contains("3/3"), "{table}");
    let read = |p: PathBuf| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
            .expect("json")
    };
    assert_eq!(read(study.join("compare.json")), read(direct.join("compare.json")));
    assert_eq!(read(study.join("summary.json")), read(direct.join("summary.json")));
    drop(cluster);
    let _ = std::fs::remove_dir_all(&dir);
}
