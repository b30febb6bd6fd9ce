//! Collecting a study: the metrics of its finished runs (one row per run:
//! variant or point, seed, status, metrics), the statistics across seeds
//! (`hebb_analysis::stats`: mean and 95 % CI per variant, paired
//! contrasts with Holm's correction), and the files that hold them:
//! `compare.json` and `compare.csv` (long format, one row per run),
//! `summary.json` and `summary.csv` (the statistics).

use super::plan::{Kind, Plan};
use super::{csv_field, fmt_value, header};
use crate::output::{WriteError, json_number, write_atomic, write_json_atomic};
use hebb_analysis::stats::{self, Paired, Summary};
use serde_json::{Value, json};
use std::path::Path;

/// One metric of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    pub column: String,
    pub unit: String,
    pub value: f64,
    pub details: Value,
}

/// One run of a study as collected from its directory.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The variant or sweep point.
    pub label: String,
    /// The seed the run used (from its `run.json`; the plan's when it did
    /// not run).
    pub seed: Option<u64>,
    /// `ok`, `aborted`, `failed`, `interrupted`, `running`, or `not run`.
    pub status: String,
    pub metrics: Vec<Metric>,
}

impl Row {
    /// The value of a metric column (NaN when the run has none).
    pub fn value(&self, column: &str) -> f64 {
        self.metrics.iter().find(|m| m.column == column).map_or(f64::NAN, |m| m.value)
    }

    /// Whether the run counts in the statistics: it ran to its end.
    pub fn usable(&self) -> bool {
        self.status == "ok"
    }
}

/// Reads every run of `plan` from its directory under `study`.
pub fn read_rows(plan: &Plan, study: &Path) -> Vec<Row> {
    plan.entries
        .iter()
        .map(|e| {
            let dir = study.join(&e.dir);
            let run: Option<Value> =
                std::fs::read_to_string(dir.join("run.json")).ok().and_then(|t| serde_json::from_str(&t).ok());
            let status = run.as_ref().and_then(|r| r["status"].as_str()).unwrap_or("not run").to_string();
            let seed = run.as_ref().and_then(|r| r["seed"].as_u64()).or(e.seed);
            let metrics: Vec<Metric> = std::fs::read_to_string(dir.join("metrics.json"))
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .and_then(|v| v.as_array().cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|m| {
                    Some(Metric {
                        column: m["column"].as_str()?.to_string(),
                        unit: m["unit"].as_str().unwrap_or("").to_string(),
                        value: m["value"].as_f64().unwrap_or(f64::NAN),
                        details: m["details"].clone(),
                    })
                })
                .collect();
            Row { label: e.label.clone(), seed, status, metrics }
        })
        .collect()
}

/// The metric columns of a study with their units, in first-seen order.
pub fn columns(rows: &[Row]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for m in rows.iter().flat_map(|r| &r.metrics) {
        if !out.iter().any(|(c, _)| *c == m.column) {
            out.push((m.column.clone(), m.unit.clone()));
        }
    }
    out
}

/// One metric of one variant over its seeds.
#[derive(Clone, Debug)]
pub struct Stat {
    pub label: String,
    pub column: String,
    pub summary: Option<Summary>,
}

/// One paired comparison a − b of one metric, over the seeds both have.
#[derive(Clone, Debug)]
pub struct Contrast {
    pub a: String,
    pub b: String,
    pub column: String,
    pub paired: Option<Paired>,
    /// The p-value after Holm's correction over the contrasts of this
    /// metric.
    pub p_holm: Option<f64>,
}

impl Contrast {
    /// Whether the 95 % CI of the difference excludes 0.
    pub fn ci_excludes_zero(&self) -> bool {
        self.paired.as_ref().and_then(|p| p.diff.ci).is_some_and(|(lo, hi)| lo > 0.0 || hi < 0.0)
    }

    /// Whether there are too few pairs for the test to reach p < 0.05.
    pub fn too_few(&self) -> bool {
        self.paired.as_ref().is_none_or(|p| p.min_p > 0.05)
    }
}

/// The statistics of a study.
#[derive(Clone, Debug)]
pub struct Analysis {
    pub labels: Vec<String>,
    pub columns: Vec<(String, String)>,
    pub stats: Vec<Stat>,
    pub contrasts: Vec<Contrast>,
}

/// The contrasts a study makes: each variant against the base (in a
/// comparison), then the plan's own.
fn contrast_pairs(plan: &Plan, labels: &[String]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    if plan.kind == Kind::Compare {
        pairs.extend(labels.iter().filter(|l| *l != "base").map(|l| (l.clone(), "base".to_string())));
    }
    for p in &plan.contrasts {
        if !pairs.contains(p) {
            pairs.push(p.clone());
        }
    }
    pairs
}

/// The statistics of `rows` (only runs that finished count).
pub fn analyse(plan: &Plan, rows: &[Row]) -> Analysis {
    let labels = plan.labels();
    let columns = columns(rows);
    let values = |label: &str, column: &str| -> Vec<(Option<u64>, f64)> {
        rows.iter()
            .filter(|r| r.label == label && r.usable())
            .map(|r| (r.seed, r.value(column)))
            .filter(|(_, v)| v.is_finite())
            .collect()
    };
    let mut stats_out = Vec::new();
    for label in &labels {
        for (c, _) in &columns {
            let xs: Vec<f64> = values(label, c).into_iter().map(|(_, v)| v).collect();
            stats_out.push(Stat { label: label.clone(), column: c.clone(), summary: stats::summarize(&xs) });
        }
    }
    let pairs = contrast_pairs(plan, &labels);
    let mut contrasts = Vec::new();
    for (c, _) in &columns {
        let first = contrasts.len();
        for (a, b) in &pairs {
            let bv = values(b, c);
            let (mut xa, mut xb) = (Vec::new(), Vec::new());
            for (seed, v) in values(a, c) {
                if let Some((_, w)) = bv.iter().find(|(s, _)| *s == seed) {
                    xa.push(v);
                    xb.push(*w);
                }
            }
            let paired = stats::paired(&xa, &xb, 1);
            contrasts.push(Contrast { a: a.clone(), b: b.clone(), column: c.clone(), paired, p_holm: None });
        }
        let ps: Vec<Option<f64>> = contrasts[first..].iter().map(|k| k.paired.as_ref().and_then(|p| p.p)).collect();
        for (k, adj) in contrasts[first..].iter_mut().zip(stats::holm(&ps)) {
            k.p_holm = adj;
        }
    }
    Analysis { labels, columns, stats: stats_out, contrasts }
}

/// The first column's heading: `variant` or `point`.
fn label_heading(plan: &Plan) -> &'static str {
    match plan.kind {
        Kind::Compare => "variant",
        Kind::Sweep => "point",
    }
}

fn pair(ci: Option<(f64, f64)>) -> Value {
    ci.map_or(Value::Null, |(lo, hi)| json!([json_number(lo), json_number(hi)]))
}

/// Writes `compare.json`, `compare.csv`, `summary.json` and `summary.csv`
/// into `study` (which must exist).
pub fn write(study: &Path, plan: &Plan, rows: &[Row], analysis: &Analysis) -> Result<(), WriteError> {
    let columns = &analysis.columns;
    let json_rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            let map = |f: &dyn Fn(&Metric) -> Value| {
                r.metrics.iter().map(|m| (m.column.clone(), f(m))).collect::<serde_json::Map<_, _>>()
            };
            json!({
                "name": r.label,
                "seed": r.seed,
                "status": r.status,
                "metrics": map(&|m| json_number(m.value)),
                "details": map(&|m| m.details.clone()),
            })
        })
        .collect();
    let names: Vec<&String> = columns.iter().map(|(c, _)| c).collect();
    let units: serde_json::Map<String, Value> = columns.iter().map(|(c, u)| (c.clone(), json!(u))).collect();
    let compare = json!({
        "kind": plan.kind.name(),
        "seeds": plan.seeds,
        "columns": names,
        "units": units,
        "rows": json_rows,
    });
    write_json_atomic(&study.join("compare.json"), &compare)?;
    let mut csv = format!("{},seed,status", label_heading(plan));
    for (c, _) in columns {
        csv.push(',');
        csv.push_str(&csv_field(c));
    }
    csv.push('\n');
    for r in rows {
        let seed = r.seed.map(|s| s.to_string()).unwrap_or_default();
        csv.push_str(&format!("{},{seed},{}", csv_field(&r.label), r.status));
        for (c, _) in columns {
            csv.push(',');
            let v = r.value(c);
            if v.is_finite() {
                csv.push_str(&format!("{v}"));
            }
        }
        csv.push('\n');
    }
    write_atomic(&study.join("compare.csv"), &csv)?;
    write_summary(study, plan, analysis)
}

fn write_summary(study: &Path, plan: &Plan, analysis: &Analysis) -> Result<(), WriteError> {
    let unit = |c: &str| analysis.columns.iter().find(|(k, _)| k == c).map_or("", |(_, u)| u.as_str()).to_string();
    let stats_json: Vec<Value> = analysis
        .stats
        .iter()
        .map(|s| {
            let (n, mean, sd, ci) = match &s.summary {
                Some(x) => (x.n, json_number(x.mean), x.sd.map_or(Value::Null, json_number), pair(x.ci)),
                None => (0, Value::Null, Value::Null, Value::Null),
            };
            json!({ "label": s.label, "metric": s.column, "unit": unit(&s.column), "n": n, "mean": mean, "sd": sd, "ci95": ci })
        })
        .collect();
    let contrasts_json: Vec<Value> = analysis
        .contrasts
        .iter()
        .map(|k| {
            let p = k.paired.as_ref();
            json!({
                "a": k.a, "b": k.b, "metric": k.column, "unit": unit(&k.column),
                "n": p.map_or(0, |p| p.n),
                "mean_difference": p.map_or(Value::Null, |p| json_number(p.diff.mean)),
                "sd": p.and_then(|p| p.diff.sd).map_or(Value::Null, json_number),
                "ci95": pair(p.and_then(|p| p.diff.ci)),
                "d_z": p.and_then(|p| p.d_z).map_or(Value::Null, json_number),
                "p": p.and_then(|p| p.p).map_or(Value::Null, json_number),
                "p_holm": k.p_holm.map_or(Value::Null, json_number),
                "exact": p.is_some_and(|p| p.exact),
                "min_p": p.map_or(Value::Null, |p| json_number(p.min_p)),
                "ci_excludes_zero": k.ci_excludes_zero(),
                "too_few_seeds": k.too_few(),
            })
        })
        .collect();
    let summary = json!({
        "kind": plan.kind.name(),
        "seeds": plan.seeds,
        "methods": {
            "ci": "95 % t interval of the mean over seeds: mean ± t(0.975, n-1) sd / sqrt(n)",
            "contrast": "paired over seeds: differences a - b of runs with the same seed",
            "effect_size": "d_z = mean / sd of the differences",
            "test": "two-sided sign-flip permutation test of the mean difference (exact up to 20 pairs, else 100000 random sign vectors)",
            "correction": "Holm (1979) over the contrasts of each metric",
            "runs_used": "runs with status ok and a finite value",
            "reference": "docs/statistics.md",
        },
        "stats": stats_json,
        "contrasts": contrasts_json,
    });
    write_json_atomic(&study.join("summary.json"), &summary)?;
    let mut csv = String::from("kind,label,metric,n,mean,sd,ci_low,ci_high,d_z,p,p_holm\n");
    let num = |x: Option<f64>| x.filter(|v| v.is_finite()).map(|v| format!("{v}")).unwrap_or_default();
    for s in &analysis.stats {
        let x = s.summary.as_ref();
        let ci = x.and_then(|x| x.ci);
        csv.push_str(&format!(
            "mean,{},{},{},{},{},{},{},,,\n",
            csv_field(&s.label),
            csv_field(&s.column),
            x.map_or(0, |x| x.n),
            num(x.map(|x| x.mean)),
            num(x.and_then(|x| x.sd)),
            num(ci.map(|c| c.0)),
            num(ci.map(|c| c.1)),
        ));
    }
    for k in &analysis.contrasts {
        let p = k.paired.as_ref();
        let ci = p.and_then(|p| p.diff.ci);
        csv.push_str(&format!(
            "difference,{},{},{},{},{},{},{},{},{},{}\n",
            csv_field(&format!("{} - {}", k.a, k.b)),
            csv_field(&k.column),
            p.map_or(0, |p| p.n),
            num(p.map(|p| p.diff.mean)),
            num(p.and_then(|p| p.diff.sd)),
            num(ci.map(|c| c.0)),
            num(ci.map(|c| c.1)),
            num(p.and_then(|p| p.d_z)),
            num(p.and_then(|p| p.p)),
            num(k.p_holm),
        ));
    }
    write_atomic(&study.join("summary.csv"), &csv)
}

/// Lays out a table: a heading row, then rows; the first two columns
/// left-aligned, the others right-aligned.
fn layout(head: Vec<String>, cells: Vec<Vec<String>>) -> String {
    let mut widths: Vec<usize> = head.iter().map(|h| h.len()).collect();
    for row in &cells {
        for (k, c) in row.iter().enumerate() {
            widths[k] = widths[k].max(c.chars().count());
        }
    }
    let mut s = String::new();
    for row in std::iter::once(&head).chain(&cells) {
        let mut line = String::new();
        for (k, c) in row.iter().enumerate() {
            let pad = widths[k].saturating_sub(c.chars().count());
            if k < 2 {
                line.push_str(c);
                line.push_str(&" ".repeat(pad + 2));
            } else {
                line.push_str(&" ".repeat(pad));
                line.push_str(c);
                line.push_str("  ");
            }
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

/// The table `compare` and `collect` print. With one seed per variant,
/// one row per run; with several, each variant's mean ± half the 95 % CI
/// over its seeds, then each contrast's mean difference with its CI,
/// marked `*` when the CI excludes 0.
pub fn table(plan: &Plan, rows: &[Row], analysis: &Analysis) -> String {
    let headers: Vec<String> = analysis.columns.iter().map(|(c, u)| header(c, u)).collect();
    let replicated = plan.seeds.as_ref().is_some_and(|s| s.len() > 1);
    if !replicated {
        let head = [label_heading(plan).to_string(), "status".to_string()].into_iter().chain(headers).collect();
        let cells = rows
            .iter()
            .map(|r| {
                let mut row = vec![r.label.clone(), r.status.clone()];
                row.extend(analysis.columns.iter().map(|(c, _)| fmt_value(r.value(c))));
                row
            })
            .collect();
        let seed = rows.first().and_then(|r| r.seed).map(|s| format!(" (seed {s})")).unwrap_or_default();
        return layout(head, cells)
            + &format!("single seed{seed}: no confidence intervals and no tests; run several with `--seeds 1..5`\n");
    }
    let n_seeds = plan.seeds.as_ref().map_or(1, |s| s.len());
    let head = [label_heading(plan).to_string(), "runs ok".to_string()].into_iter().chain(headers.clone()).collect();
    let cells = analysis
        .labels
        .iter()
        .map(|l| {
            let ok = rows.iter().filter(|r| &r.label == l && r.usable()).count();
            let mut row = vec![l.clone(), format!("{ok}/{n_seeds}")];
            for (c, _) in &analysis.columns {
                let s =
                    analysis.stats.iter().find(|s| &s.label == l && &s.column == c).and_then(|s| s.summary.as_ref());
                row.push(match s {
                    Some(Summary { mean, ci: Some((lo, hi)), .. }) => {
                        format!("{} ± {}", fmt_value(*mean), fmt_value((hi - lo) / 2.0))
                    }
                    Some(s) => fmt_value(s.mean),
                    None => "-".to_string(),
                });
            }
            row
        })
        .collect();
    let mut out = layout(head, cells);
    let pairs: Vec<(String, String)> =
        analysis.contrasts.iter().map(|k| (k.a.clone(), k.b.clone())).fold(Vec::new(), |mut v, p| {
            if !v.contains(&p) {
                v.push(p);
            }
            v
        });
    if !pairs.is_empty() {
        let head = ["difference".to_string(), "pairs".to_string()].into_iter().chain(headers).collect();
        let cells = pairs
            .iter()
            .map(|(a, b)| {
                let ks: Vec<&Contrast> = analysis.contrasts.iter().filter(|k| &k.a == a && &k.b == b).collect();
                let n = ks.iter().filter_map(|k| k.paired.as_ref().map(|p| p.n)).max().unwrap_or(0);
                let mut row = vec![format!("{a} − {b}"), n.to_string()];
                for (c, _) in &analysis.columns {
                    let k = ks.iter().find(|k| &k.column == c);
                    row.push(match k.and_then(|k| k.paired.as_ref().map(|p| (k, p))) {
                        Some((k, p)) => match p.diff.ci {
                            Some((lo, hi)) => format!(
                                "{} [{}, {}]{}",
                                fmt_value(p.diff.mean),
                                fmt_value(lo),
                                fmt_value(hi),
                                if k.ci_excludes_zero() { " *" } else { "" }
                            ),
                            None => fmt_value(p.diff.mean),
                        },
                        None => "-".to_string(),
                    });
                }
                row
            })
            .collect();
        out.push('\n');
        out.push_str(&layout(head, cells));
    }
    let few = analysis.contrasts.iter().any(|k| k.paired.is_some() && k.too_few());
    out.push_str(&format!(
        "{n_seeds} seeds; mean ± half the 95 % t CI; differences paired by seed with their 95 % CI, * when it excludes 0;\n\
         sign-flip p-values (Holm-corrected per metric) in summary.json{}\n",
        if few { ". Too few seeds for any difference to reach p < 0.05 (need 6)" } else { "" }
    ));
    out
}
