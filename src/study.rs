//! Studies: `hebb compare` (the base model and its variants) and `hebb
//! sweep` (a grid over params), run in parallel on identical inputs, with
//! one table, `compare.json`, `compare.csv` and plots.

use crate::cli::{Done, Spec, execute};
use crate::metrics::MetricValue;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A number for JSON: NaN and infinities become null.
pub fn json_number(x: f64) -> Value {
    if x.is_finite() { json!(x) } else { Value::Null }
}

/// Writes `metrics.json` into a run directory.
pub fn write_metrics(dir: &Path, metrics: &[MetricValue]) -> std::io::Result<()> {
    let list: Vec<Value> = metrics
        .iter()
        .map(|m| json!({ "column": m.column, "value": json_number(m.value), "unit": m.unit, "details": m.details }))
        .collect();
    let text = serde_json::to_string_pretty(&list).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("metrics.json"), text + "\n")
}

fn fmt_value(v: f64) -> String {
    if !v.is_finite() {
        "-".to_string()
    } else if v == 0.0 || (v.abs() >= 1e-3 && v.abs() < 1e5) {
        format!("{v:.4}").trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.3e}")
    }
}

fn header(column: &str, unit: &str) -> String {
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
    fn value(&self, column: &str) -> f64 {
        self.metrics.iter().find(|m| m.column == column).map_or(f64::NAN, |m| m.value)
    }
}

/// The metric columns of a study with their units, in first-seen order
/// (a failed run has none, so rows may differ).
fn columns(rows: &[Row]) -> Vec<(String, &'static str)> {
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

/// Runs specs on `jobs` threads; results in the specs' order. A run whose
/// model fails to load gives its exit code instead.
pub fn run_all(specs: &[Spec], jobs: usize) -> Vec<Result<Done, u8>> {
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Result<Done, u8>>>> = specs.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1).min(specs.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    if k >= specs.len() {
                        break;
                    }
                    let r = execute(&specs[k]);
                    if let Ok(mut slot) = results[k].lock() {
                        *slot = Some(r);
                    }
                }
            });
        }
    });
    results.into_iter().map(|m| m.into_inner().ok().flatten().unwrap_or(Err(crate::cli::EXIT_RUNTIME))).collect()
}

/// Writes `compare.json`, `compare.csv` and one bar chart (or line, for a
/// sweep) per metric.
pub fn write_study(dir: &Path, rows: &[Row], sweep_x: Option<(&str, &[f64])>) -> std::io::Result<()> {
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
    let plots = dir.join("plots");
    std::fs::create_dir_all(&plots)?;
    let labels: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
    for (c, unit) in &columns {
        let values: Vec<f64> = rows.iter().map(|r| r.value(c)).collect();
        let title = header(c, unit);
        let base = plots.join(c.replace(['/', ' '], "_"));
        let drawn = match sweep_x {
            Some((x_label, xs)) => crate::plot::sweep_line(&base, &title, x_label, xs, &values),
            None => crate::plot::bars(&base, &title, &labels, &values),
        };
        if let Err(e) = drawn {
            eprintln!("warning: could not draw {}: {e}", base.display());
        }
    }
    Ok(())
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
        write_study(&dir, &rows, None).unwrap();
        let csv = std::fs::read_to_string(dir.join("compare.csv")).unwrap();
        assert_eq!(
            csv,
            "variant,status,rates.exc,decoding.exc\n\"A.x=1,B.y=2\",ok,5,\nbroken,error,,\n\"A.x=2,B.y=2\",ok,7.5,0.5\n"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
