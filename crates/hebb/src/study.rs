//! Studies: `hebb compare` (the base model and its variants) and `hebb
//! sweep` (a grid over params), many runs in parallel on identical
//! inputs, with one table, `compare.json` and `compare.csv`.

use crate::metrics::MetricValue;
use crate::output::json_number;
use crate::session::{self, Error, Observer, Request, RunSummary};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

fn fmt_value(v: f64) -> String {
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

/// One run of a study: its name (a variant, a sweep point), its status and
/// its metrics.
pub struct Row {
    pub name: String,
    pub status: &'static str,
    pub metrics: Vec<MetricValue>,
}

impl Row {
    /// The row of a finished run, or of one that could not run.
    pub fn new(name: String, result: &StudyResult) -> Row {
        match result {
            Some(Ok(run)) => Row { name, status: run.status, metrics: run.metrics.clone() },
            Some(Err(_)) => Row { name, status: "error", metrics: Vec::new() },
            None => Row { name, status: "not run", metrics: Vec::new() },
        }
    }

    /// The value of a metric column (NaN when the run has none).
    pub fn value(&self, column: &str) -> f64 {
        self.metrics.iter().find(|m| m.column == column).map_or(f64::NAN, |m| m.value)
    }
}

/// The metric columns of a study with their units, in first-seen order
/// (a failed run has none, so rows may differ).
pub fn columns(rows: &[Row]) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = Vec::new();
    for m in rows.iter().flat_map(|r| &r.metrics) {
        if !out.iter().any(|(c, _)| *c == m.column) {
            out.push((m.column.clone(), m.unit));
        }
    }
    out
}

/// A CSV field, quoted when it holds a comma or a quote (sweep points
/// over several params are named `A.x=1,B.y=2`).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// The metrics of one run as a two-column table.
pub fn metrics_table(metrics: &[MetricValue]) -> String {
    let width = metrics.iter().map(|m| header(&m.column, m.unit).len()).max().unwrap_or(0);
    let mut s = String::from("metrics:\n");
    for m in metrics {
        s.push_str(&format!("  {:<width$}  {}\n", header(&m.column, m.unit), fmt_value(m.value)));
    }
    s.pop();
    s
}

/// A table: one row per run, one column per metric.
pub fn table(rows: &[Row]) -> String {
    let columns = columns(rows);
    let headers: Vec<String> = columns.iter().map(|(c, u)| header(c, u)).collect();
    let name_w = rows.iter().map(|r| r.name.len()).max().unwrap_or(4).max(7);
    let mut cells: Vec<Vec<String>> = Vec::new();
    for r in rows {
        let mut row = vec![r.name.clone(), r.status.to_string()];
        row.extend(columns.iter().map(|(c, _)| fmt_value(r.value(c))));
        cells.push(row);
    }
    let mut widths: Vec<usize> = vec![name_w, 7];
    widths.extend(headers.iter().map(|h| h.len().max(8)));
    for row in &cells {
        for (k, c) in row.iter().enumerate() {
            widths[k] = widths[k].max(c.len());
        }
    }
    let mut s = String::new();
    let head: Vec<String> =
        std::iter::once("variant".to_string()).chain(std::iter::once("status".to_string())).chain(headers).collect();
    for (k, h) in head.iter().enumerate() {
        s.push_str(&format!("{:<w$}  ", h, w = widths[k]));
    }
    s = s.trim_end().to_string();
    s.push('\n');
    for row in &cells {
        let mut line = String::new();
        for (k, c) in row.iter().enumerate() {
            if k < 2 {
                line.push_str(&format!("{:<w$}  ", c, w = widths[k]));
            } else {
                line.push_str(&format!("{:>w$}  ", c, w = widths[k]));
            }
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
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

/// One run of a study: what to run and where its run directory goes.
#[derive(Clone, Debug)]
pub struct StudyRun {
    pub request: Request,
    pub dir: PathBuf,
}

/// Runs a study's runs on `jobs` threads, each to its own directory;
/// results come in the runs' order.
/// How one run of a study went: finished (or stopped early), could not
/// run, or was never started because the study was interrupted.
pub type StudyResult = Option<Result<RunSummary, Error>>;

/// Stops the runs of a study when `interrupted` says so.
struct Interruptible<'a> {
    interrupted: &'a (dyn Fn() -> bool + Sync),
}

impl Observer for Interruptible<'_> {
    fn interrupted(&mut self) -> bool {
        (self.interrupted)()
    }
}

/// Runs a study's runs on `jobs` threads, each to its own directory;
/// results come in the runs' order. Once `interrupted` holds, runs under
/// way stop (keeping what they recorded) and no new run starts.
pub fn run_all(runs: &[StudyRun], jobs: usize, interrupted: &(dyn Fn() -> bool + Sync)) -> Vec<StudyResult> {
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<StudyResult>> = runs.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1).min(runs.len().max(1)) {
            // As much stack as the command's main thread (compiling recurses
            // over a model's nesting).
            let worker = std::thread::Builder::new().stack_size(64 << 20);
            let spawned = worker.spawn_scoped(scope, || {
                loop {
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    if k >= runs.len() || interrupted() {
                        break;
                    }
                    let r = session::run(&runs[k].request, &runs[k].dir, &mut Interruptible { interrupted });
                    if let Ok(mut slot) = results[k].lock() {
                        *slot = Some(r);
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

/// Writes `compare.json` and `compare.csv` into `dir` (which must exist).
pub fn write_study(dir: &Path, rows: &[Row]) -> std::io::Result<()> {
    let columns = columns(rows);
    let json_rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            let map = |f: &dyn Fn(&MetricValue) -> Value| {
                r.metrics.iter().map(|m| (m.column.clone(), f(m))).collect::<serde_json::Map<_, _>>()
            };
            json!({
                "name": r.name,
                "status": r.status,
                "metrics": map(&|m| json_number(m.value)),
                "units": map(&|m| json!(m.unit)),
                "details": map(&|m| m.details.clone()),
            })
        })
        .collect();
    let names: Vec<&String> = columns.iter().map(|(c, _)| c).collect();
    let text =
        serde_json::to_string_pretty(&json!({ "columns": names, "rows": json_rows })).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("compare.json"), text + "\n")?;
    let mut csv = String::from("variant,status");
    for (c, _) in &columns {
        csv.push(',');
        csv.push_str(&csv_field(c));
    }
    csv.push('\n');
    for r in rows {
        csv.push_str(&format!("{},{}", csv_field(&r.name), r.status));
        for (c, _) in &columns {
            csv.push(',');
            let v = r.value(c);
            if v.is_finite() {
                csv.push_str(&format!("{v}"));
            }
        }
        csv.push('\n');
    }
    std::fs::write(dir.join("compare.csv"), csv)?;
    Ok(())
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

    fn metric(column: &str, unit: &'static str, value: f64) -> MetricValue {
        MetricValue { column: column.into(), unit, value, details: Value::Null }
    }

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
    fn table_and_csv_share_columns_across_rows() {
        let rows = vec![
            Row { name: "A.x=1,B.y=2".into(), status: "ok", metrics: vec![metric("rates.exc", "Hz", 5.0)] },
            Row { name: "broken".into(), status: "error", metrics: Vec::new() },
            Row {
                name: "A.x=2,B.y=2".into(),
                status: "ok",
                metrics: vec![metric("rates.exc", "Hz", 7.5), metric("decoding.exc", "", 0.5)],
            },
        ];
        assert_eq!(columns(&rows), vec![("rates.exc".to_string(), "Hz"), ("decoding.exc".to_string(), "")]);
        let t = table(&rows);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("variant") && lines[0].contains("rates.exc (Hz)"), "{t}");
        assert!(lines[2].starts_with("broken") && lines[2].ends_with('-'), "{t}");
        let dir = std::env::temp_dir().join(format!("hebb-study-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        write_study(&dir, &rows).unwrap();
        let csv = std::fs::read_to_string(dir.join("compare.csv")).unwrap();
        assert_eq!(
            csv,
            "variant,status,rates.exc,decoding.exc\n\"A.x=1,B.y=2\",ok,5,\nbroken,error,,\n\"A.x=2,B.y=2\",ok,7.5,0.5\n"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
