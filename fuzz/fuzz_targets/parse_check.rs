//! Parse, check and (when checking succeeds) lower arbitrary input: none of
//! it may panic. Run with `cargo +nightly fuzz run parse_check` from the
//! repository root (needs cargo-fuzz).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let no_files = |_: &Path| Err(std::io::Error::new(std::io::ErrorKind::NotFound, "no files while fuzzing"));
    let checked = hebb::driver::load_text("fuzz.hebb", None, &text, &[], &no_files);
    let _ = hebb::diag::render(&checked.diags, &checked.sources, hebb::diag::Style::Plain);
    if !checked.has_errors() {
        let (program, _) = hebb::ir::lower::lower(&checked.model, &Default::default());
        let _ = hebb::ir::verify(&program);
    }
});
