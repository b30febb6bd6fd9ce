//! `hebb explain FILE`: how a model is compiled — integrators,
//! propagators, memory, the experiment's schedule — and optionally its IR.

use super::{EXIT_MODEL, EXIT_OK, fail, out, plural, print_diagnostics};
use hebb::session::{self, Request};
use std::path::Path;

pub fn explain(file: &Path, show_ir: bool, set: &[String], precision: Option<hebb::ir::Precision>) -> u8 {
    let request = Request { settings: set.to_vec(), precision, ..Request::file(file) };
    let checked = match session::check(&request) {
        Ok(c) => c,
        Err(e) => return fail(&e, false),
    };
    let diagnostics = checked.diagnostics();
    print_diagnostics(&diagnostics, false);
    let Some(program) = checked.program() else {
        let n = diagnostics.error_count();
        eprintln!("error: `{}` has {n} error{}", file.display(), plural(n));
        return EXIT_MODEL;
    };
    {
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), "{}", hebb::explain::explain(program));
    }
    if let Some(exp) = checked.loaded.model.experiment.as_ref().filter(|e| !e.variants.is_empty()) {
        let names: Vec<&str> = exp.variants.iter().map(|(n, _)| n.as_str()).collect();
        out!("  variants: {} (`hebb compare` runs them beside the base)", names.join(", "));
    }
    if show_ir {
        out!("\n# IR\n{program}");
    }
    EXIT_OK
}
