//! `hebb._hebb`: the in-process entry points of the Python package. Models
//! are checked and run by the same `hebb::session` as the command line;
//! a run writes its usual run directory, which the Python side reads with
//! NumPy (python/hebb/__init__.py). The GIL is released while a model is
//! checked or simulated.

use hebb::lang::diag::{Severity, Style};
use hebb::session::{self, Diagnostics, Request};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use std::path::PathBuf;

create_exception!(_hebb, HebbError, PyException, "A model with errors, or a run that failed; the message is hebb's.");

/// One diagnostic: code, severity ("error" or "warning"), message, 1-based
/// line and column of its primary label (0 when it has none), help, and the
/// file it points into.
type Diag = (String, String, String, usize, usize, Option<String>, String);

fn diagnostics(d: &Diagnostics) -> Vec<Diag> {
    d.diagnostics
        .iter()
        .map(|x| {
            let (file, line, col) = x.labels.first().map_or((d.file.clone(), 0, 0), |l| {
                let source = d.sources.get(l.span.file);
                let before = &source.text[..(l.span.start as usize).min(source.text.len())];
                let line = before.matches('\n').count() + 1;
                let col = before.len() - before.rfind('\n').map_or(0, |k| k + 1) + 1;
                (source.name.clone(), line, col)
            });
            let severity = match x.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            (x.code.to_string(), severity.into(), x.message.clone(), line, col, x.help.clone(), file)
        })
        .collect()
}

fn request(source: &str, is_path: bool) -> Request {
    if is_path { Request::file(PathBuf::from(source)) } else { Request::text(source, PathBuf::from("<text>.hebb")) }
}

/// Checks a model (a path, or the text of a model when `is_path` is
/// false) as `hebb check` does; returns its diagnostics and their rendered
/// text. Errors of the model are returned, not raised.
#[pyfunction]
fn check(py: Python<'_>, source: &str, is_path: bool) -> PyResult<(Vec<Diag>, String)> {
    let request = request(source, is_path);
    let result = py.detach(|| session::validate(&request));
    match result {
        Ok(d) => Ok((diagnostics(&d), d.render(Style::Plain, false))),
        Err(session::Error::Model(d)) => Ok((diagnostics(&d), d.render(Style::Plain, false))),
        Err(e) => Err(HebbError::new_err(e.to_string())),
    }
}

/// Runs a model into `out_dir` (which must not hold another run) with
/// `--set` texts, a seed and a duration in seconds; raises `HebbError`
/// with the rendered diagnostics or the failure.
#[pyfunction]
#[pyo3(signature = (source, is_path, out_dir, settings, seed=None, duration=None, variant=None, threads=1))]
#[allow(clippy::too_many_arguments)]
fn run(
    py: Python<'_>,
    source: &str,
    is_path: bool,
    out_dir: &str,
    settings: Vec<String>,
    seed: Option<u64>,
    duration: Option<f64>,
    variant: Option<String>,
    threads: usize,
) -> PyResult<String> {
    let request = Request { settings, seed, duration, variant, threads: threads.max(1), ..request(source, is_path) };
    let dir = PathBuf::from(out_dir);
    let result = py.detach(|| session::run(&request, &dir, &mut session::Silent));
    match result {
        Ok(_) => Ok(dir.display().to_string()),
        Err(session::Error::Model(d)) => Err(HebbError::new_err(d.render(Style::Plain, true))),
        Err(e) => Err(HebbError::new_err(e.to_string())),
    }
}

/// The experiment's variants, its replicate seeds (`seeds = [...]`, or
/// its one `seed`) for a model that checks; raises `HebbError` otherwise.
#[pyfunction]
fn experiment(py: Python<'_>, source: &str, is_path: bool) -> PyResult<(Vec<String>, Vec<u64>)> {
    let request = request(source, is_path);
    let checked = py.detach(|| session::check(&request)).map_err(|e| HebbError::new_err(e.to_string()))?;
    if checked.loaded.has_errors() {
        return Err(HebbError::new_err(checked.diagnostics().render(Style::Plain, true)));
    }
    let exp =
        checked.loaded.model.experiment.as_ref().ok_or_else(|| HebbError::new_err("the model has no experiment"))?;
    let variants = exp.variants.iter().map(|(name, _)| name.clone()).collect();
    Ok((variants, exp.seeds.clone().unwrap_or_else(|| vec![exp.seed])))
}

#[pymodule]
fn _hebb(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("HebbError", m.py().get_type::<HebbError>())?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(experiment, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
