//! `hebb plot RUN_DIR`: spike rasters with population rates, and weight
//! histograms at the end of each phase, drawn from a finished run
//! directory.

use super::{EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, out, plural};
use hebb::output;
use std::collections::BTreeMap;
use std::path::Path;

pub fn plot(dir: &Path) -> u8 {
    let json: serde_json::Value = match std::fs::read_to_string(dir.join("run.json"))
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(j) => j,
        Err(e) => {
            eprintln!("error: `{}` is not a run directory (cannot read run.json: {e})", dir.display());
            return EXIT_USAGE;
        }
    };
    let plots = dir.join("plots");
    if let Err(e) = std::fs::create_dir_all(&plots) {
        eprintln!("error: cannot create `{}`: {e}", plots.display());
        return EXIT_RUNTIME;
    }
    let drawn = rasters(dir, &plots, &json) + weight_histograms(dir, &plots, &json);
    out!("drew {drawn} plot{} (SVG and PNG) in {}", plural(drawn), plots.display());
    EXIT_OK
}

/// A raster with the population rate for every population whose spikes
/// were recorded; returns how many were drawn.
fn rasters(dir: &Path, plots: &Path, json: &serde_json::Value) -> usize {
    let duration = json["simulated"].as_f64().unwrap_or(0.0);
    let mut drawn = 0;
    let Some(pops) = json["populations"].as_object() else { return 0 };
    for (name, info) in pops {
        let (tp, ip) = (dir.join(format!("spikes/{name}.t.npy")), dir.join(format!("spikes/{name}.i.npy")));
        if !tp.exists() {
            continue;
        }
        let (t, i) = match (output::read_f64(&tp), output::read_u32(&ip)) {
            (Ok((_, t)), Ok((_, i))) if t.len() == i.len() => (t, i),
            (Ok((_, t)), Ok((_, i))) => {
                eprintln!("warning: no raster of `{name}`: {} spike times but {} indices", t.len(), i.len());
                continue;
            }
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("warning: no raster of `{name}`: {e}");
                continue;
            }
        };
        let n = info["size"].as_u64().unwrap_or(1) as usize;
        match crate::plot::raster(
            &plots.join(format!("raster_{name}")),
            &format!("{name}: spikes and population rate"),
            &t,
            &i,
            n,
            duration.max(1e-9),
        ) {
            Ok(()) => drawn += 1,
            Err(e) => eprintln!("warning: raster of `{name}`: {e}"),
        }
    }
    drawn
}

/// Weight histograms per phase, from `weights/<proj>.phase_<phase>.npy`;
/// returns how many projections were drawn.
fn weight_histograms(dir: &Path, plots: &Path, json: &serde_json::Value) -> usize {
    let mut by_proj: BTreeMap<String, Vec<(String, Vec<f64>)>> = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir.join("weights")) {
        let mut files: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for f in files {
            let name = f.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            let Some((proj, rest)) = name.split_once(".phase_") else { continue };
            let Some(phase) = rest.strip_suffix(".npy") else { continue };
            match output::read_f64(&f) {
                Ok((_, w)) => by_proj.entry(proj.to_string()).or_default().push((phase.to_string(), w)),
                Err(e) => eprintln!("warning: weights of `{proj}` at the end of `{phase}`: {e}"),
            }
        }
    }
    let order: Vec<String> = json["phases"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p["name"].as_str().map(String::from)).collect())
        .unwrap_or_default();
    let mut drawn = 0;
    for (proj, mut phases) in by_proj {
        phases.sort_by_key(|(p, _)| order.iter().position(|o| o == p).unwrap_or(usize::MAX));
        match crate::plot::weight_histograms(
            &plots.join(format!("weights_{proj}")),
            &format!("weights of {proj} at the end of each phase"),
            &phases,
        ) {
            Ok(()) => drawn += 1,
            Err(e) => eprintln!("warning: weights of `{proj}`: {e}"),
        }
    }
    drawn
}
