//! Robustness: loading a model never panics, whatever the text. Two
//! generators: arbitrary bytes (mostly rejected by the lexer) and "token
//! soups" of hebb's own keywords, names, numbers, units and punctuation,
//! which get much deeper into the parser and the checker. When a soup
//! happens to check without errors it is lowered too.

use hebb::driver;
use proptest::prelude::*;
use std::path::Path;

/// Imports in random text must not touch the disk.
fn no_files(_: &Path) -> std::io::Result<String> {
    Err(std::io::Error::new(std::io::ErrorKind::NotFound, "no files in this test"))
}

/// Loads `text` the way `hebb check` does, lowering it when it is error-free.
fn load(text: &str) {
    let checked = driver::load_text("fuzz.hebb", None, text, &[], &no_files);
    if !checked.has_errors() && checked.model.experiment.is_some() {
        let _ = hebb::ir::lower::lower(&checked.model, &Default::default());
    }
    // Rendering walks every span: a span outside its file would panic here.
    let _ = hebb::diag::render(&checked.diags, &checked.sources, hebb::diag::Style::Plain);
}

const TOKENS: &[&str] = &[
    // items and members
    "import", "neuron", "synapse", "signal", "network", "experiment", "param", "state", "let", "continuous",
    "unless", "refractory", "spike", "when", "reset", "method", "on", "pre", "post", "every", "population",
    "connect", "with", "record", "of", "bin", "sample", "stimuli", "phase", "measure", "about", "in", "variant",
    "abort", "rate", "plasticity", "off", "present", "each", "set", "if", "else", "and", "or", "not", "true",
    "false",
    // names the checker knows
    "LIF", "Static", "poisson", "spike_times", "target", "g_e", "v", "w", "x", "tau", "p", "delay", "indegree",
    "one_to_one", "all_to_all", "autapses", "file", "times", "net", "exc", "dv/dt", "dw/dt", "dx/dt", "t", "dt",
    "i", "j", "N", "lastspike", "duration", "seed", "exact", "rk4", "euler", "exp", "log", "sqrt", "clip", "min",
    "max", "rand", "randn", "uniform", "normal", "in_sum", "out_sum", "pos", "step", "pi",
    // numbers and units
    "0", "1", "2.5", "1e-3", "1e999", "-1", "20", "0.1", ".5", "ms", "mV", "Hz", "nS", "s", "1", "mvolt", "^",
    "^2", "^-1",
    // punctuation
    "=", "+=", "-=", "*=", "/=", "+", "-", "*", "/", "**", "<", ">", "<=", ">=", "==", "!=", "->", "..", ".", ",",
    ":", "(", ")", "[", "]", "{", "}", "\"a.csv\"", "\"", "#", ";", "\n", "\n", "\n", " ", "\t", "\\",
];

/// Fragments of valid models, so that soups often reach the checker with a
/// mostly well-formed file around the noise.
const CHUNKS: &[&str] = &[
    "neuron LIF {\n param tau = 20 ms\n state v = -70 mV\n dv/dt = -v / tau\n spike when v > -50 mV\n reset { v = -70 mV }\n refractory 2 ms\n}\n",
    "network net {\n population exc = 10 LIF\n connect exc -> exc with Static(target = v) { p = 0.1; w = 1 mV; delay = 1 ms }\n record spikes of exc\n}\n",
    "experiment {\n network = net\n dt = 0.1 ms\n duration = 10 ms\n}\n",
    "synapse S {\n state w = 0.5\n state x = 0\n dx/dt = -x / (20 ms)\n on pre { post.v += w * mV; x += 1 }\n on post { w = clip(w + x, 0, 1) }\n every 1 s { w = w / in_sum(w) }\n}\n",
    "signal da {\n param tau = 200 ms\n state d = 0\n dd/dt = -d / tau\n}\n",
];

/// Any byte, biased towards printable ASCII so that some inputs get past
/// the first token.
fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![2 => any::<u8>(), 3 => 0x20u8..0x7f, 1 => Just(b'\n')]
}

fn soup() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        8 => proptest::sample::select(TOKENS).prop_map(|t| format!("{t} ")),
        1 => proptest::sample::select(CHUNKS).prop_map(str::to_string),
    ];
    proptest::collection::vec(token, 0..120).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(byte(), 0..400)) {
        load(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn token_soups_never_panic(text in soup()) {
        load(&text);
    }
}
