//! What the integration tests share: the shipped models and the pipeline
//! as one call.
#![allow(dead_code)]

use hebb::session::{self, Outcome, Request, Silent};
use std::path::{Path, PathBuf};

/// The shipped models (`models/`).
pub fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// Every `.hebb` file below `dir`, sorted.
pub fn hebb_files(dir: &Path) -> Vec<PathBuf> {
    walk(dir).into_iter().filter(|p| p.extension().is_some_and(|e| e == "hebb")).collect()
}

/// Every file of a directory tree, by path relative to `dir`, with its
/// bytes, sorted by path.
pub fn files_with_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    walk(dir)
        .into_iter()
        .map(|p| {
            let name = p.strip_prefix(dir).expect("inside").to_string_lossy().to_string();
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (name, bytes)
        })
        .collect()
}

/// The files (not directories) below `dir`, sorted.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() { stack.push(path) } else { out.push(path) }
        }
    }
    out.sort();
    out
}

/// Checks, compiles and simulates a request to its end. `Err` holds the
/// rendered diagnostics or the error.
pub fn simulate(request: &Request) -> Result<Outcome, String> {
    let compiled = compile(request)?;
    session::simulate(compiled, &mut Silent).map_err(|e| e.to_string())
}

/// Checks and compiles a request.
pub fn compile(request: &Request) -> Result<session::Compiled, String> {
    let checked = session::check(request).map_err(|e| e.to_string())?;
    session::compile(checked).map_err(|e| match e {
        session::Error::Model(d) => d.render(hebb::lang::Style::Plain, false),
        e => e.to_string(),
    })
}

/// A small learning experiment built on the shipped neuron and synapse types
/// (`models/experiments/stdp_vs_homeostasis.hebb`): Poisson input carrying
/// four random patterns into 30 excitatory and 8 inhibitory cells, a
/// learning phase of `learn`, a 2 s test phase without plasticity, the
/// input weights sampled `every`, and `variants` (whole `variant` lines)
/// appended to the experiment.
pub fn small_experiment(every: &str, learn: &str, variants: &[&str]) -> String {
    let mut variant_lines = String::new();
    for v in variants {
        variant_lines.push_str(&format!("    {v}\n"));
    }
    format!(
        r#"import "{}"
network small {{
    population input = 100 poisson {{ rate = 5 Hz }}
    population exc = 30 Exc {{ v = uniform(-70 mV, -55 mV) }}
    population inh = 8 Inh
    connect input -> exc with STDP {{ p = 0.5; w = uniform(0.05, 0.15) }}
    connect exc -> inh with Static(target = g_e) {{ p = 0.3; w = 0.1 }}
    connect inh -> exc with Static(target = g_i) {{ p = 0.3; w = 0.2 }}
    record spikes of input, exc
    record w of input -> exc every {every} sample 50
}}
experiment small_learning {{
    network = small
    seed = 3
    stimuli patterns = 4 random_patterns of input {{ active = 0.2; rate = 30 Hz; rest = 3 Hz }}
    phase learn {learn} {{ present patterns each 100 ms }}
    phase test 2 s {{ plasticity off; present patterns each 100 ms }}
    measure rates of exc in test
    measure decoding of exc about patterns in test
    measure weights of input -> exc
{variant_lines}}}
"#,
        models_dir().join("experiments/stdp_vs_homeostasis.hebb").display()
    )
}
