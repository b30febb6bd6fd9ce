//! Parse, check and (when checking succeeds) lower arbitrary input: none of
//! it may panic. Run with `cargo +nightly fuzz run parse_check` from the
//! repository root (needs cargo-fuzz).
#![no_main]

use hebb_lang::diag::{self, Style};
use hebb_lang::{MainFile, NoFiles};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let main = MainFile { name: "fuzz.hebb", path: None, text: &text };
    let loaded = hebb_lang::load(main, &[], None, &NoFiles);
    let _ = diag::render(&loaded.diags, &loaded.sources, Style::Plain);
    if !loaded.has_errors() {
        let (program, _) = hebb_lower::lower(&loaded.model, &Default::default());
        let _ = hebb_ir::verify(&program);
    }
});
