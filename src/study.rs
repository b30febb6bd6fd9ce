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

fn header(m: &MetricValue) -> String {
    if m.unit.is_empty() { m.column.clone() } else { format!("{} ({})", m.column, m.unit) }
}

/// The metrics of one run as a two-column table.
pub fn metrics_table(metrics: &[MetricValue]) -> String {
    let width = metrics.iter().map(|m| header(m).len()).max().unwrap_or(0);
    let mut s = String::from("metrics:\n");
    for m in metrics {
        s.push_str(&format!("  {:<width$}  {}\n", header(m), fmt_value(m.value)));
    }
    s.pop();
    s
}

/// A table: one row per run, one column per metric.
pub fn table(rows: &[(String, &'static str, Vec<MetricValue>)]) -> String {
    let columns: Vec<String> = rows.iter().flat_map(|r| r.2.iter().map(header)).fold(Vec::new(), |mut acc, c| {
        if !acc.contains(&c) {
            acc.push(c);
        }
        acc
    });
    let name_w = rows.iter().map(|r| r.0.len()).max().unwrap_or(4).max(7);
    let mut cells: Vec<Vec<String>> = Vec::new();
    for (name, status, metrics) in rows {
        let mut row = vec![name.clone(), status.to_string()];
        for c in &columns {
            row.push(
                metrics.iter().find(|m| header(m) == *c).map(|m| fmt_value(m.value)).unwrap_or_else(|| "-".into()),
            );
        }
        cells.push(row);
    }
    let mut widths: Vec<usize> = vec![name_w, 7];
    widths.extend(columns.iter().map(|c| c.len().max(8)));
    for row in &cells {
        for (k, c) in row.iter().enumerate() {
            widths[k] = widths[k].max(c.len());
        }
    }
    let mut s = String::new();
    let head: Vec<String> = std::iter::once("variant".to_string())
        .chain(std::iter::once("status".to_string()))
        .chain(columns.iter().cloned())
        .collect();
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
pub fn write_study(
    dir: &Path,
    rows: &[(String, &'static str, Vec<MetricValue>)],
    sweep_x: Option<(&str, &[f64])>,
) -> std::io::Result<()> {
    let columns: Vec<String> =
        rows.iter().flat_map(|r| r.2.iter().map(|m| m.column.clone())).fold(Vec::new(), |mut acc, c| {
            if !acc.contains(&c) {
                acc.push(c);
            }
            acc
        });
    let json_rows: Vec<Value> = rows
        .iter()
        .map(|(name, status, metrics)| {
            json!({
                "name": name,
                "status": status,
                "metrics": metrics.iter().map(|m| (m.column.clone(), json_number(m.value))).collect::<serde_json::Map<_, _>>(),
                "units": metrics.iter().map(|m| (m.column.clone(), json!(m.unit))).collect::<serde_json::Map<_, _>>(),
                "details": metrics.iter().map(|m| (m.column.clone(), m.details.clone())).collect::<serde_json::Map<_, _>>(),
            })
        })
        .collect();
    let text = serde_json::to_string_pretty(&json!({ "columns": columns, "rows": json_rows }))
        .map_err(std::io::Error::other)?;
    std::fs::write(dir.join("compare.json"), text + "\n")?;
    let mut csv = String::from("variant,status");
    for c in &columns {
        csv.push(',');
        csv.push_str(c);
    }
    csv.push('\n');
    for (name, status, metrics) in rows {
        csv.push_str(&format!("{name},{status}"));
        for c in &columns {
            csv.push(',');
            if let Some(m) = metrics.iter().find(|m| m.column == *c)
                && m.value.is_finite()
            {
                csv.push_str(&format!("{}", m.value));
            }
        }
        csv.push('\n');
    }
    std::fs::write(dir.join("compare.csv"), csv)?;
    let plots = dir.join("plots");
    std::fs::create_dir_all(&plots)?;
    let labels: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    for c in &columns {
        let values: Vec<f64> =
            rows.iter().map(|r| r.2.iter().find(|m| m.column == *c).map(|m| m.value).unwrap_or(f64::NAN)).collect();
        let unit = rows.iter().flat_map(|r| r.2.iter()).find(|m| m.column == *c).map(|m| m.unit).unwrap_or("");
        let title = if unit.is_empty() { c.clone() } else { format!("{c} ({unit})") };
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
