//! Initial values of columns, and helpers for the data files and random
//! choices that building a network needs.

use hebb_ir::interp::{Element, eval_at};
use hebb_ir::symbolic::fold;
use hebb_ir::{Program, rng};

/// Evaluates the initial values of `n` elements (given in order), column by
/// column; column `c`'s draws use counter `c`.
pub(crate) fn init_columns(
    program: &Program,
    cols: &[hebb_ir::Column],
    n: usize,
    stream: u32,
    elements: impl Iterator<Item = Element>,
) -> Vec<Vec<f64>> {
    let mut out: Vec<Vec<f64>> = cols.iter().map(|_| Vec::with_capacity(n)).collect();
    if cols.is_empty() {
        return out;
    }
    let constants: Vec<Option<f64>> = cols.iter().map(|c| fold(&c.init).as_const()).collect();
    let mut values = Vec::with_capacity(cols.len());
    for element in elements.take(n) {
        values.clear();
        for (c, col) in cols.iter().enumerate() {
            let v = match constants[c] {
                Some(v) => v,
                None => eval_at(&col.init, program.seed, stream, element, c as u64, &values, 0.0),
            };
            values.push(v);
            out[c].push(v);
        }
    }
    out
}

/// The data lines of a CSV file with their 0-based line numbers, trimmed:
/// blank lines, `#` comments and a header (a first line starting with a
/// letter) are skipped.
pub(crate) fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().map(str::trim).enumerate().filter(|(line_no, line)| {
        !(line.is_empty()
            || line.starts_with('#')
            || (*line_no == 0 && line.chars().next().is_some_and(|c| c.is_alphabetic())))
    })
}

/// `k` distinct values of `0..n`, sorted, chosen by Floyd's algorithm.
pub(crate) fn sample_sorted(seed: u64, stream: u32, n: usize, k: usize) -> Vec<u32> {
    let mut chosen = std::collections::BTreeSet::new();
    for (d, j) in (n - k..n).enumerate() {
        let r = (rng::uniform(seed, stream, 0, d as u64, 0) * (j + 1) as f64) as usize;
        if !chosen.insert(r.min(j) as u32) {
            chosen.insert(j as u32);
        }
    }
    chosen.into_iter().collect()
}
