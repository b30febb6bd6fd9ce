//! Threads inside one run: every shipped model and experiment, and the
//! benchmark networks (plastic, with heterogeneous delays), give
//! byte-identical run directories on 1, 2, 3 and 4 threads. The grain is
//! 1, so that every call that may be split is split even in small
//! networks; the test also checks that splitting happened.

mod common;

use hebb::session::{self, Request, Silent};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hebb-threads-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Every shipped model and experiment, and the benchmark models.
fn models() -> Vec<PathBuf> {
    let mut files = common::hebb_files(&common::models_dir());
    files.extend(common::hebb_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/models")));
    files
}

/// The files of a run directory by relative path, with `run.json` reduced
/// to what does not depend on the run's timing or thread count.
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    common::files_with_bytes(dir)
        .into_iter()
        .filter(|(name, _)| name != ".hebb-lock")
        .map(|(name, bytes)| {
            if name != "run.json" {
                return (name, bytes);
            }
            let mut v: Value = serde_json::from_slice(&bytes).expect("run.json");
            for key in ["timings", "provenance", "request", "profile"] {
                v.as_object_mut().expect("object").remove(key);
            }
            (name, v.to_string().into_bytes())
        })
        .collect()
}

#[test]
fn every_thread_count_gives_byte_identical_run_directories() {
    let dir = temp_dir("models");
    let mut split_anywhere = 0;
    for (m, path) in models().into_iter().enumerate() {
        // At most 1 s of each (experiments' phases are cut there; Brunel's
        // 250 million input spikes a second are cut to 0.1 s).
        let duration = if path.ends_with("brunel.hebb") { 0.1 } else { 1.0 };
        let request = |threads| Request { duration: Some(duration), threads, grain: Some(1), ..Request::file(&path) };
        let out = common::simulate(&request(3)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        split_anywhere += usize::from(out.simulation.split_calls() > 0);
        let mut first = None;
        for threads in 1..=4 {
            let run_dir = dir.join(format!("{m}-{threads}"));
            let summary = session::run(&request(threads), &run_dir, &mut Silent)
                .unwrap_or_else(|e| panic!("{} on {threads} threads: {e}", path.display()));
            assert!(summary.status == "ok" || summary.status == "aborted", "{}: {}", path.display(), summary.status);
            let files = contents(&run_dir);
            assert!(files.len() > 2, "{}: {files:?}", path.display());
            match &first {
                None => first = Some(files),
                Some(one) => {
                    assert_eq!(one.len(), files.len(), "{}: files on {threads} threads", path.display());
                    for ((name, a), (_, b)) in one.iter().zip(&files) {
                        assert!(a == b, "{}: `{name}` differs between 1 and {threads} threads", path.display());
                    }
                }
            }
        }
    }
    assert!(split_anywhere >= 15, "kernel calls were split in only {split_anywhere} models");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Connectivity drawn per neuron (constant `p`, `outdegree`, `indegree`)
/// is drawn on several threads in chunks of neurons: every synapse, in
/// order, is the same for any thread count (groups large enough to be
/// split into several chunks).
#[test]
fn connectivity_is_the_same_when_drawn_on_several_threads() {
    let text = std::fs::read_to_string(common::models_dir().join("cuba.hebb")).expect("cuba.hebb");
    let text = text
        .replace("population P = 4000", "population P = 9000")
        .replace("P[0..3200] -> P", "P[0..7000] -> P")
        .replace("P[3200..4000] -> P", "P[7000..9000] -> P")
        .replace("{ p = 0.02; w = 1.62 mV }", "{ p = 0.01; w = 1.62 mV }\n    connect P -> P with Static(target = g_e) { outdegree = 7; w = 1 mV }")
        .replace(
            "{ p = 0.02; w = -9 mV }",
            "{ p = 0.01; w = -9 mV }\n    connect P[0..5000] -> P[2000..8000] with Static(target = g_i) { indegree = 9; w = -1 mV }",
        );
    assert!(text.contains("outdegree = 7") && text.contains("indegree = 9"));
    let synapses = |threads: usize| {
        let request = Request { threads, ..Request::text(text.clone(), "many.hebb") };
        let compiled = common::compile(&request).expect("compiles");
        let (simulation, _) = session::build(compiled).expect("builds");
        (0..4)
            .map(|p| {
                let view = simulation.projection(p);
                let pre: Vec<u32> = (0..view.n_synapses() as u32).map(|s| view.pre_of(s)).collect();
                (pre, view.targets().to_vec())
            })
            .collect::<Vec<_>>()
    };
    let one = synapses(1);
    assert!(
        one.iter().all(|(pre, _)| pre.len() > 10_000),
        "{:?}",
        one.iter().map(|(p, _)| p.len()).collect::<Vec<_>>()
    );
    assert_eq!(one[1].0.len(), 9000 * 7);
    assert_eq!(one[3].0.len(), 6000 * 9);
    for threads in [2, 3] {
        assert!(synapses(threads) == one, "{threads} threads drew other synapses");
    }
}
