//! `hebb check FILE`: parse, check and lower a model; print its
//! diagnostics.

use super::{EXIT_MODEL, EXIT_OK, fail, out, plural, print_diagnostics};
use hebb::session::{self, Request};
use std::path::Path;

pub fn check(file: &Path) -> u8 {
    let checked = match session::check(&Request::file(file)) {
        Ok(c) => c,
        Err(e) => return fail(&e, false),
    };
    let diagnostics = checked.diagnostics();
    print_diagnostics(&diagnostics, false);
    if checked.has_errors() {
        let n = diagnostics.error_count();
        eprintln!("error: `{}` has {n} error{}", file.display(), plural(n));
        return EXIT_MODEL;
    }
    let warnings = diagnostics.diagnostics.len();
    out!(
        "{}: ok{}",
        file.display(),
        if warnings > 0 { format!(" ({warnings} warning{})", plural(warnings)) } else { String::new() }
    );
    EXIT_OK
}
