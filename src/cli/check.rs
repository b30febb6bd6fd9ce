//! `hebb check FILE`: everything that can fail before step 0 — parsing,
//! checking and lowering the model and each of its variants, and building
//! its network (data files included) — without running it.

use super::{EXIT_OK, fail, out, plural, print_diagnostics};
use hebb::session::{self, Request};
use std::path::Path;

pub fn check(file: &Path) -> u8 {
    match session::validate(&Request::file(file)) {
        Ok(diagnostics) => {
            print_diagnostics(&diagnostics, false);
            let warnings = diagnostics.diagnostics.len();
            out!(
                "{}: ok{}",
                file.display(),
                if warnings > 0 { format!(" ({warnings} warning{})", plural(warnings)) } else { String::new() }
            );
            EXIT_OK
        }
        Err(e) => {
            // All of a model's diagnostics, warnings too.
            if let session::Error::Model(d) = &e {
                print_diagnostics(d, false);
            }
            fail(&e, true)
        }
    }
}
