//! Provenance: what a run directory must hold to say exactly how it was
//! made — the resolved value of every param, the SHA-256 of the model, its
//! imports and data files, hebb's version and commit, threads and host.

use super::Checked;
use crate::output::sha256_hex;
use hebb_ir::{GroupKind, Program, Rule, SpikeTimes};
use hebb_lang::hir::{Dynamics, Model, PopulationKind, Ty, VarKind, const_eval};
use serde_json::{Map, Value, json};
use std::path::Path;

/// A value with its SI unit, for `run.json`.
fn quantity(value: f64, ty: Ty) -> Value {
    let unit = match ty.dim() {
        Some(d) if !d.is_dimensionless() => d.to_string(),
        _ => String::new(),
    };
    json!({ "value": value, "unit": unit })
}

/// The constant params of some dynamics, resolved (after `--set` and the
/// variant).
fn params(d: &Dynamics) -> Map<String, Value> {
    let mut values = Vec::new();
    let mut out = Map::new();
    for p in &d.params {
        let v = const_eval(&p.value, &values);
        values.push(v.unwrap_or(f64::NAN));
        if let Some(v) = v {
            out.insert(p.name.clone(), quantity(v, p.ty));
        }
    }
    out
}

/// Every type's params, and the constant overrides of populations and
/// connections.
fn resolved_params(model: &Model) -> Value {
    let mut types = Map::new();
    let all = model.neurons.iter().map(|t| (&t.name, &t.dynamics));
    let all = all.chain(model.synapses.iter().map(|t| (&t.name, &t.dynamics)));
    for (name, d) in all.chain(model.signals.iter().map(|t| (&t.name, &t.dynamics))) {
        types.insert(name.clone(), Value::Object(params(d)));
    }
    let mut overrides = Map::new();
    if let Some(net) = model.experiment.as_ref().and_then(|e| model.networks.get(e.network as usize)) {
        for p in &net.populations {
            if let PopulationKind::Neurons { type_id } = p.kind {
                let d = &model.neurons[type_id as usize].dynamics;
                let o = override_values(&p.overrides, d);
                if !o.is_empty() {
                    overrides.insert(p.name.clone(), Value::Object(o));
                }
            }
        }
        for (k, proj) in net.projections.iter().enumerate() {
            let o = override_values(&proj.overrides, &proj.synapse.dynamics);
            if !o.is_empty() {
                overrides.insert(net.projection_name(k), Value::Object(o));
            }
        }
    }
    json!({ "types": types, "overrides": overrides })
}

fn override_values(overrides: &[hebb_lang::hir::Override], d: &Dynamics) -> Map<String, Value> {
    let mut out = Map::new();
    for o in overrides.iter().filter(|o| o.target.kind == VarKind::Param) {
        if let (Some(p), Some(v)) = (d.params.get(o.target.index as usize), const_eval(&o.value, &[])) {
            out.insert(p.name.clone(), quantity(v, p.ty));
        }
    }
    out
}

/// The data files a program reads.
fn data_files(program: &Program) -> Vec<&Path> {
    let spikes = program.groups.iter().filter_map(|g| match &g.kind {
        GroupKind::SpikeTimes(SpikeTimes::File(p)) => Some(p.as_path()),
        _ => None,
    });
    let connections = program.projections.iter().filter_map(|p| match &p.rule {
        Rule::File(path) => Some(path.as_path()),
        _ => None,
    });
    spikes.chain(connections).collect()
}

/// The file a path names, with the SHA-256 of its bytes.
fn file(role: &str, name: &str, bytes: Option<&[u8]>) -> Value {
    json!({ "role": role, "path": name, "sha256": bytes.map(sha256_hex) })
}

/// The host's name, when the system says.
fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_default()
}

/// The provenance of a checked model about to run.
pub(super) fn provenance(checked: &Checked, threads: usize) -> Value {
    let mut files = Vec::new();
    for (k, (_, source)) in checked.loaded.sources.files().enumerate() {
        // Sources from `--set` have no path: they are in the request.
        if k == 0 || source.path.is_some() {
            let role = if k == 0 { "model" } else { "import" };
            files.push(file(role, &source.name, Some(source.text.as_bytes())));
        }
    }
    if let Some(program) = checked.program() {
        for path in data_files(program) {
            files.push(file("data", &path.display().to_string(), std::fs::read(path).ok().as_deref()));
        }
    }
    json!({
        "params": resolved_params(&checked.loaded.model),
        "files": files,
        "hebb": {
            "version": env!("CARGO_PKG_VERSION"),
            "commit": env!("HEBB_GIT_COMMIT"),
            "profile": if cfg!(debug_assertions) { "debug" } else { "release" },
        },
        "threads": threads,
        "host": host(),
    })
}
