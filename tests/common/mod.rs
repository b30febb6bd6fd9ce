//! What the integration tests share: the shipped models and the pipeline
//! as one call.
#![allow(dead_code)]

use hebb::session::{self, Outcome, Request, Silent};
use std::path::{Path, PathBuf};

/// The shipped models (`models/`).
pub fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// Checks, compiles and simulates a request to its end. `Err` holds the
/// rendered diagnostics or the error.
pub fn simulate(request: &Request) -> Result<Outcome, String> {
    let compiled = compile(request)?;
    session::simulate(compiled, &mut Silent).map_err(|e| e.to_string())
}

/// Checks and compiles a request.
pub fn compile(request: &Request) -> Result<session::Compiled, String> {
    let checked = session::check(request).map_err(|e| e.to_string())?;
    session::compile(checked).map_err(|e| match e {
        session::Error::Model(d) => d.render(hebb::lang::Style::Plain, false),
        e => e.to_string(),
    })
}
