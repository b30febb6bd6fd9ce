//! hebb's statistics across seeds against SciPy: the values in
//! `tests/data/stats_scipy.json` were computed once by
//! `tests/data/stats_scipy.py` (SciPy 1.17.1) for the same numbers.
//! Tolerances: 1e-10 relative for the t quantile, means, sds and CIs (the
//! same formulas in double precision; our t quantile is a bisection on the
//! incomplete beta function, accurate to ~1e-12), and exact equality for
//! the permutation p-values (both enumerate all 2^n sign vectors; the
//! values are multiples of 2^-n).

use hebb::analysis::stats;
use serde_json::Value;

fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() <= 1e-10 * b.abs().max(1.0), "{what}: hebb {a}, SciPy {b}");
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number")).collect()
}

#[test]
fn statistics_match_scipy() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/stats_scipy.json");
    let data: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("reference")).expect("json");
    let cases = data["cases"].as_array().expect("cases");
    assert!(cases.len() >= 7);
    for (k, c) in cases.iter().enumerate() {
        let (a, b) = (numbers(&c["a"]), numbers(&c["b"]));
        let n = a.len();
        let f = |key: &str| c[key].as_f64().expect(key);
        close(stats::t_quantile(0.975, (n - 1) as f64), f("t975"), &format!("case {k} t quantile"));
        let s = stats::summarize(&a).expect("summary");
        close(s.mean, f("mean"), &format!("case {k} mean"));
        close(s.sd.expect("sd"), f("sd"), &format!("case {k} sd"));
        let (lo, hi) = s.ci.expect("ci");
        let ci = numbers(&c["ci"]);
        close(lo, ci[0], &format!("case {k} CI low"));
        close(hi, ci[1], &format!("case {k} CI high"));
        let p = stats::paired(&a, &b, 1).expect("paired");
        close(p.diff.mean, f("diff_mean"), &format!("case {k} mean difference"));
        close(p.diff.sd.expect("sd"), f("diff_sd"), &format!("case {k} sd of differences"));
        let (dlo, dhi) = p.diff.ci.expect("ci");
        let dci = numbers(&c["diff_ci"]);
        close(dlo, dci[0], &format!("case {k} difference CI low"));
        close(dhi, dci[1], &format!("case {k} difference CI high"));
        close(p.d_z.expect("d_z"), f("d_z"), &format!("case {k} d_z"));
        assert!(p.exact);
        assert_eq!(p.p.expect("p"), f("p"), "case {k} permutation p-value");
    }
}
