//! A full disk: the run stops with exit code 3 and a message naming the
//! file that could not be written, what was written before stays readable,
//! and `run.json` says why. And a run directory replays byte for byte from
//! its `run.json`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// A small filesystem of its own (tmpfs, 600 kB), unmounted on drop.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(name: &str) -> Result<SmallDisk, String> {
        let dir = std::env::temp_dir().join(format!("hebb-disk-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=600k", "tmpfs"])
            .arg(&dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            let _ = std::fs::remove_dir(&dir);
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        Ok(SmallDisk(dir))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_full_disk_stops_the_run_with_a_clear_error_and_keeps_its_data() {
    let disk = match SmallDisk::mount("full") {
        Ok(d) => d,
        Err(why) => {
            // Mounting needs privileges a test may not have.
            eprintln!("SKIPPED: cannot create a small filesystem for the test ({why})");
            return;
        }
    };
    let run = disk.0.join("run");
    // CUBA's 4000 neurons fire ~20000 spikes per simulated second: 12
    // bytes each, so 600 kB are full within a few seconds.
    let out = Command::new(env!("CARGO_BIN_EXE_hebb"))
        .arg("run")
        .arg(models().join("cuba.hebb"))
        .args(["-q", "--duration", "30 s", "-o"])
        .arg(&run)
        .output()
        .expect("hebb runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("cannot write") && err.contains(".npy"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("run.json")).expect("run.json")).expect("JSON");
    assert_eq!(json["status"], "failed");
    assert!(json["message"].as_str().unwrap_or("").contains("No space left"), "{json}");
    let (_, t) = hebb::output::read_f64(&run.join("spikes/P.t.npy")).expect("readable");
    let (_, i) = hebb::output::read_u32(&run.join("spikes/P.i.npy")).expect("readable");
    assert!(!t.is_empty(), "spikes before the disk filled are kept");
    assert!(t.len().abs_diff(i.len()) <= 65_536, "times and indices stop together, within a chunk");
}

#[test]
fn a_run_directory_replays_byte_for_byte() {
    let dir = std::env::temp_dir().join(format!("hebb-replay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (first, again) = (dir.join("first"), dir.join("again"));
    let model = models().join("experiments/stdp_vs_homeostasis.hebb");
    let out = Command::new(env!("CARGO_BIN_EXE_hebb"))
        .arg("run")
        .arg(&model)
        .args(["-q", "--variant", "scaling", "--seed", "11", "--duration", "1.5 s", "--set", "STDP.tau=15 ms", "-o"])
        .arg(&first)
        .output()
        .expect("hebb runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(first.join("run.json")).expect("run.json")).expect("JSON");
    assert_eq!(json["request"]["settings"][0], "STDP.tau=15 ms");
    assert_eq!(json["request"]["seed"], 11);
    assert_eq!(json["variant"], "scaling");
    assert_eq!(json["provenance"]["params"]["types"]["STDP"]["tau"]["value"], 0.015);
    assert_eq!(json["provenance"]["params"]["types"]["STDP"]["beta"]["value"], 0.2, "the variant's value");
    assert_eq!(json["provenance"]["files"][0]["role"], "model");
    let out = Command::new(env!("CARGO_BIN_EXE_hebb"))
        .args(["run", "-q", "--replay"])
        .arg(&first)
        .arg("-o")
        .arg(&again)
        .output()
        .expect("hebb runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let mut compared = 0;
    for sub in ["spikes", "weights", "stimuli"] {
        for entry in std::fs::read_dir(first.join(sub)).expect("records") {
            let path = entry.expect("entry").path();
            let twin = again.join(sub).join(path.file_name().expect("name"));
            assert_eq!(std::fs::read(&path).expect("read"), std::fs::read(&twin).expect("read"), "{}", path.display());
            compared += 1;
        }
    }
    assert!(compared >= 8, "{compared} files compared");
    assert_eq!(std::fs::read(first.join("metrics.json")).unwrap(), std::fs::read(again.join("metrics.json")).unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}
