//! Claiming a run directory: it must be new, empty, or an unfinished run
//! of the same model (unless forced), and only one process writes it at a
//! time (a lock file naming the process).

use super::Error;
use std::path::{Path, PathBuf};

/// What hebb writes in a run directory; removed before a run starts over.
const OUTPUTS: [&str; 10] = [
    "run.json",
    "metrics.json",
    "checkpoint.hebb",
    "spikes",
    "state",
    "weights",
    "rate",
    "stimuli",
    "plots",
    ".hebb-reserve",
];

const LOCK: &str = ".hebb-lock";

/// Held while a process writes a directory; the lock file goes with it.
pub(crate) struct Lock(PathBuf);

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Whether the process `pid` is alive (Linux: it has a `/proc` entry).
fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Takes the lock of `dir` (which exists): refused while another live
/// process holds it; a lock left by a process that died is taken over.
pub(crate) fn lock(dir: &Path) -> Result<Lock, Error> {
    let path = dir.join(LOCK);
    let busy = |pid: u32| Error::OutputExists {
        path: dir.to_path_buf(),
        why: format!("another hebb process (pid {pid}) is writing it"),
    };
    for _ in 0..2 {
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut f) => {
                use std::io::Write;
                let _ = writeln!(f, "{}", std::process::id());
                return Ok(Lock(path));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let pid: Option<u32> = std::fs::read_to_string(&path).ok().and_then(|s| s.trim().parse().ok());
                match pid {
                    Some(pid) if pid != std::process::id() && alive(pid) => return Err(busy(pid)),
                    _ => {
                        let _ = std::fs::remove_file(&path);
                    }
                }
            }
            Err(source) => return Err(Error::CreateDir { path: dir.to_path_buf(), source }),
        }
    }
    Err(Error::OutputExists { path: dir.to_path_buf(), why: "its lock file cannot be taken".into() })
}

/// Prepares `dir` for a new run of the model whose text has SHA-256
/// `model_sha`: creates it, or takes a directory that is empty or holds an
/// unfinished run of the same model, or — with `force` — any directory;
/// then removes what an earlier run wrote there (nothing else).
pub(crate) fn claim(dir: &Path, model_sha: &str, force: bool) -> Result<Lock, Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error::CreateDir { path: dir.to_path_buf(), source })?;
    let lock = lock(dir)?;
    let others: Vec<String> = std::fs::read_dir(dir)
        .map_err(|source| Error::CreateDir { path: dir.to_path_buf(), source })?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n != LOCK)
        .collect();
    if !others.is_empty() && !force {
        let previous: Option<serde_json::Value> =
            std::fs::read_to_string(dir.join("run.json")).ok().and_then(|t| serde_json::from_str(&t).ok());
        let unfinished_same = previous.as_ref().is_some_and(|run| {
            matches!(run["status"].as_str(), Some("running" | "interrupted" | "failed"))
                && run["model_sha256"].as_str() == Some(model_sha)
        });
        if !unfinished_same {
            let why = match previous {
                Some(run) => format!(
                    "it holds a run of {} (status `{}`)",
                    if run["model_sha256"].as_str() == Some(model_sha) { "this model" } else { "another model" },
                    run["status"].as_str().unwrap_or("unknown"),
                ),
                None => "it is not empty".to_string(),
            };
            return Err(Error::OutputExists { path: dir.to_path_buf(), why });
        }
    }
    for name in OUTPUTS {
        let path = dir.join(name);
        let removed = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        if let Err(source) = removed
            && source.kind() != std::io::ErrorKind::NotFound
        {
            return Err(Error::CreateDir { path, source });
        }
    }
    Ok(lock)
}
