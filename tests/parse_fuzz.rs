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
    "synapse Plastic {\n state w = 0.5\n state x = 0\n dx/dt = -x / (20 ms)\n on pre { post.v += w * mV; x += 1 }\n on post { w = clip(w + x, 0, 1) }\n every 1 s { w = w / in_sum(w) }\n}\n",
    "signal da {\n param tau = 200 ms\n state d = 0\n dd/dt = -d / tau\n}\n",
];

/// Any byte, biased towards printable ASCII so that some inputs get past
/// the first token.
fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![2 => any::<u8>(), 3 => 0x20u8..0x7f, 1 => Just(b'\n')]
}

/// A complete, valid model (every kind of item) whose words the mutation
/// test edits, so that most of its inputs reach the checker and some reach
/// lowering.
const VALID: &str = "signal da {\n param tau = 200 ms\n state d = 0\n dd/dt = -d / tau\n}\n\
neuron LIF {\n param tau = 20 ms\n param v_th = -50 mV\n state v = -70 mV\n state g : mV = 0 mV\n \
let I = g * (1 + da.d)\n dv/dt = (-70 mV - v + I) / tau unless refractory\n dg/dt = -g / (5 ms)\n \
spike when v > v_th\n reset { v = -70 mV; da.d += 0.1 }\n refractory 2 ms\n method exponential_euler\n}\n\
synapse Plastic {\n param w_max = 1\n state w = 0.5\n on pre { post.g += w * mV; if w > 0.1 { w = clip(w - 0.01, 0, w_max) } }\n \
every 1 s { w = w / in_sum(w) }\n}\n\
network net {\n population ext = 5 poisson { rate = 10 Hz }\n population exc = 10 LIF { v = uniform(-70 mV, -50 mV) }\n \
connect ext -> exc with Static(target = g) { p = 0.5; w = 1 mV; delay = 1 ms }\n \
connect exc -> exc with Plastic { indegree = 3; delay = normal(1 ms, 0.1 ms) }\n \
record spikes of exc\n record v of exc[0..5] every 1 ms\n record w of exc -> exc every 10 ms\n}\n\
experiment {\n network = net\n dt = 0.1 ms\n seed = 3\n duration = 20 ms\n}\n";

/// One edit of a word list: replace, delete or duplicate a word, or insert a token.
#[derive(Clone, Debug)]
enum Edit {
    Replace(usize, &'static str),
    Delete(usize),
    Duplicate(usize),
    Insert(usize, &'static str),
}

fn mutated() -> impl Strategy<Value = String> {
    let n = VALID.split(' ').count();
    let edit = prop_oneof![
        (0..n, proptest::sample::select(TOKENS)).prop_map(|(k, t)| Edit::Replace(k, t)),
        (0..n).prop_map(Edit::Delete),
        (0..n).prop_map(Edit::Duplicate),
        (0..n, proptest::sample::select(TOKENS)).prop_map(|(k, t)| Edit::Insert(k, t)),
    ];
    proptest::collection::vec(edit, 0..4).prop_map(|edits| {
        let mut words: Vec<String> = VALID.split(' ').map(str::to_string).collect();
        for e in edits {
            let len = words.len().max(1);
            match e {
                Edit::Replace(k, t) => words[k % len] = t.to_string(),
                Edit::Delete(k) if !words.is_empty() => {
                    words.remove(k % len);
                }
                Edit::Duplicate(k) if !words.is_empty() => {
                    let w = words[k % len].clone();
                    words.insert(k % len, w);
                }
                Edit::Insert(k, t) => words.insert(k % (words.len() + 1), t.to_string()),
                _ => {}
            }
        }
        words.join(" ")
    })
}

fn soup() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        8 => proptest::sample::select(TOKENS).prop_map(|t| format!("{t} ")),
        1 => proptest::sample::select(CHUNKS).prop_map(str::to_string),
    ];
    proptest::collection::vec(token, 0..120).prop_map(|v| v.concat())
}

/// The base of the mutation test is itself error-free, so that mutations
/// start from a model that gets through every phase.
#[test]
fn valid_model_checks_and_lowers() {
    let checked = driver::load_text("valid.hebb", None, VALID, &[], &no_files);
    let rendered = hebb::diag::render(&checked.diags, &checked.sources, hebb::diag::Style::Plain);
    assert!(checked.diags.is_empty(), "{rendered}");
    let (_, diags) = hebb::ir::lower::lower(&checked.model, &Default::default());
    let rendered = hebb::diag::render(&diags, &checked.sources, hebb::diag::Style::Plain);
    assert!(diags.is_empty(), "{rendered}");
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(256)
}

proptest! {
    // 256 cases keep this under a second in debug builds; set
    // `PROPTEST_CASES=100000` for a longer hunt.
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(byte(), 0..400)) {
        load(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn token_soups_never_panic(text in soup()) {
        load(&text);
    }

    #[test]
    fn mutated_models_never_panic(text in mutated()) {
        load(&text);
    }
}
