//! Studies: `hebb compare` (the base model and its variants) and `hebb
//! sweep` (a grid over params), each variant or point run once per seed
//! on identical inputs. A study is a plan (`plan`: its runs, written down
//! first), runs (here, on a thread pool; or one by one with `hebb
//! run-plan`, as cluster array tasks) and a collection (`collect`: one
//! row per run, statistics across seeds, tables and files).

pub mod collect;
pub mod plan;

use crate::metrics::MetricValue;
use crate::session::{self, Error, Observer};
use plan::{Plan, Ran};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

pub(crate) fn fmt_value(v: f64) -> String {
    if !v.is_finite() {
        "-".to_string()
    } else if v == 0.0 || (v.abs() >= 1e-3 && v.abs() < 1e5) {
        format!("{v:.4}").trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.3e}")
    }
}

/// A column's heading: its name, with its unit in parentheses.
pub fn header(column: &str, unit: &str) -> String {
    if unit.is_empty() { column.to_string() } else { format!("{column} ({unit})") }
}

/// A CSV field, quoted when it holds a comma or a quote (sweep points
/// over several params are named `A.x=1,B.y=2`).
pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// The metrics of one run as a two-column table.
pub fn metrics_table(metrics: &[MetricValue]) -> String {
    let width = metrics.iter().map(|m| header(&m.column, m.unit).len()).max().unwrap_or(0);
    let mut s = String::from("metrics:\n");
    for m in metrics {
        s.push_str(&format!("  {:<width$}  {}\n", header(&m.column, m.unit), fmt_value(m.value)));
    }
    // Warnings a metric's details carry (too few trials, ...).
    for m in metrics {
        if let Some(w) = m.details.get("warning").and_then(|w| w.as_str()) {
            s.push_str(&format!("warning: {}: {w}\n", m.column));
        }
    }
    s.pop();
    s
}

/// Prepares a study's output directory: it must be new or empty, unless
/// `force` (its earlier runs and tables are then replaced).
pub fn claim_dir(dir: &Path, force: bool) -> Result<(), Error> {
    let not_empty = std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(false);
    if not_empty && !force {
        return Err(Error::OutputExists { path: dir.to_path_buf(), why: "it is not empty".into() });
    }
    std::fs::create_dir_all(dir).map_err(|source| Error::CreateDir { path: dir.to_path_buf(), source })
}

/// Counts of a study's runs as they go, for a progress line.
#[derive(Debug, Default)]
pub struct Tally {
    pub done: AtomicUsize,
    pub running: AtomicUsize,
    pub failed: AtomicUsize,
    /// Finished earlier with the same hash: not run again.
    pub skipped: AtomicUsize,
    /// Simulated time so far over all runs, in microseconds.
    pub simulated_us: AtomicU64,
}

/// Stops the runs of a study when `interrupted` says so, and adds the
/// simulated time to the tally.
struct StudyObserver<'a> {
    interrupted: &'a (dyn Fn() -> bool + Sync),
    tally: &'a Tally,
    /// Simulated time of this run already counted (µs).
    counted: u64,
}

impl Observer for StudyObserver<'_> {
    fn progress(&mut self, p: &session::Progress) {
        let now = (p.step as f64 * p.dt * 1e6) as u64;
        self.tally.simulated_us.fetch_add(now.saturating_sub(self.counted), Ordering::Relaxed);
        self.counted = self.counted.max(now);
    }

    fn interrupted(&mut self) -> bool {
        (self.interrupted)()
    }
}

/// Runs the entries `indices` of `plan` into their directories under
/// `study`, on `jobs` threads (one thread per run); results come in the
/// order of `indices` (`None`: never started, because the study was
/// interrupted). Entries that already finished with the same hash are
/// skipped. Once `interrupted` holds, runs under way stop (keeping what
/// they recorded) and no new run starts.
pub fn run_plan(
    plan: &Plan,
    study: &Path,
    indices: &[usize],
    jobs: usize,
    interrupted: &(dyn Fn() -> bool + Sync),
    tally: &Tally,
) -> Vec<Option<Ran>> {
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Ran>>> = indices.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1).min(indices.len().max(1)) {
            // As much stack as the command's main thread (compiling recurses
            // over a model's nesting).
            let worker = std::thread::Builder::new().stack_size(64 << 20);
            let spawned = worker.spawn_scoped(scope, || {
                loop {
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    if k >= indices.len() || interrupted() {
                        break;
                    }
                    let entry = &plan.entries[indices[k]];
                    tally.running.fetch_add(1, Ordering::Relaxed);
                    let mut observer = StudyObserver { interrupted, tally, counted: 0 };
                    let ran = plan::run_entry(plan, study, entry, &mut observer);
                    tally.running.fetch_sub(1, Ordering::Relaxed);
                    let counter = match &ran {
                        Ran::Skipped => &tally.skipped,
                        Ran::Ran(r) if matches!(**r, Ok(ref s) if s.error.is_none() && !s.interrupted()) => &tally.done,
                        Ran::Ran(_) => &tally.failed,
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                    if let Ok(mut slot) = results[k].lock() {
                        *slot = Some(ran);
                    }
                }
            });
            if spawned.is_err() {
                // No thread: the runs wait for the others (or stay not run).
                continue;
            }
        }
    });
    results.into_iter().map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner())).collect()
}

/// Why a sweep's axes do not make a grid.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum GridError {
    #[error("`--set {0}` must be `Type.param=v1,v2,...`")]
    Syntax(String),
    #[error("`{0}` is swept twice: give all its values in one `--set`")]
    RepeatedAxis(String),
    #[error("`{path}` takes the value `{value}` twice: two points would be the same run")]
    RepeatedValue { path: String, value: String },
}

/// The points of a sweep's grid: every combination of the axes' values
/// (`Type.param=v1,v2,...` each), the first axis varying slowest. An axis
/// given twice, or a value given twice on one axis, is an error (its runs
/// would collide).
pub fn grid(axes: &[String]) -> Result<Vec<Vec<(String, String)>>, GridError> {
    let mut grid: Vec<Vec<(String, String)>> = vec![Vec::new()];
    let mut seen: Vec<String> = Vec::new();
    for axis in axes {
        let (path, values) = sweep_values(axis).ok_or_else(|| GridError::Syntax(axis.clone()))?;
        let key: String = path.split_whitespace().collect();
        if seen.contains(&key) {
            return Err(GridError::RepeatedAxis(path));
        }
        seen.push(key);
        let normal = |v: &str| v.split_whitespace().collect::<String>();
        for (k, v) in values.iter().enumerate() {
            if values[..k].iter().any(|w| normal(w) == normal(v)) {
                return Err(GridError::RepeatedValue { path: path.clone(), value: v.clone() });
            }
        }
        grid = grid
            .iter()
            .flat_map(|point| {
                values.iter().map(|v| {
                    let mut p = point.clone();
                    p.push((path.clone(), v.clone()));
                    p
                })
            })
            .collect();
    }
    Ok(grid)
}

/// Splits `Type.param=v1,v2,v3` into the path and the values (commas inside
/// parentheses do not split).
pub fn sweep_values(text: &str) -> Option<(String, Vec<String>)> {
    let (lhs, rhs) = text.split_once('=')?;
    let mut values = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in rhs.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                values.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    values.push(cur.trim().to_string());
    if values.iter().any(|v| v.is_empty()) {
        return None;
    }
    Some((lhs.trim().to_string(), values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grid_refuses_repeated_axes_and_values() {
        let axes = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(grid(&axes(&["A.x=1,2", "B.y=3"])).unwrap().len(), 2);
        assert_eq!(grid(&axes(&["A.x=1,2", "A.x=3"])), Err(GridError::RepeatedAxis("A.x".into())));
        assert_eq!(
            grid(&axes(&["A.x=1 ms, 2 ms,1ms"])),
            Err(GridError::RepeatedValue { path: "A.x".into(), value: "1ms".into() })
        );
        assert_eq!(grid(&axes(&["A.x"])), Err(GridError::Syntax("A.x".into())));
    }

    #[test]
    fn csv_and_json_hold_one_row_per_run_with_shared_columns() {
        use collect::{Metric, Row};
        let metric = |column: &str, unit: &str, value: f64| Metric {
            column: column.into(),
            unit: unit.into(),
            value,
            details: serde_json::Value::Null,
        };
        let rows = vec![
            Row {
                label: "A.x=1,B.y=2".into(),
                seed: Some(1),
                status: "ok".into(),
                metrics: vec![metric("rates.exc", "Hz", 5.0)],
            },
            Row { label: "broken".into(), seed: Some(1), status: "failed".into(), metrics: Vec::new() },
            Row {
                label: "A.x=2,B.y=2".into(),
                seed: Some(1),
                status: "ok".into(),
                metrics: vec![metric("rates.exc", "Hz", 7.5), metric("decoding.exc", "", 0.5)],
            },
        ];
        assert_eq!(
            collect::columns(&rows),
            vec![("rates.exc".to_string(), "Hz".to_string()), ("decoding.exc".to_string(), String::new())]
        );
        let plan = Plan {
            kind: plan::Kind::Sweep,
            model: "m.hebb".into(),
            duration: None,
            from: None,
            seeds: None,
            contrasts: Vec::new(),
            axis: None,
            entries: Vec::new(),
        };
        let analysis = collect::analyse(&plan, &rows);
        let t = collect::table(&plan, &rows, &analysis);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("point") && lines[0].contains("rates.exc (Hz)"), "{t}");
        assert!(lines[2].starts_with("broken") && lines[2].ends_with('-'), "{t}");
        assert!(t.contains("single seed (seed 1)"), "{t}");
        let dir = std::env::temp_dir().join(format!("hebb-study-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        collect::write(&dir, &plan, &rows, &analysis).unwrap();
        let csv = std::fs::read_to_string(dir.join("compare.csv")).unwrap();
        assert_eq!(
            csv,
            "point,seed,status,rates.exc,decoding.exc\n\"A.x=1,B.y=2\",1,ok,5,\nbroken,1,failed,,\n\"A.x=2,B.y=2\",1,ok,7.5,0.5\n"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
