//! Robustness: loading a model never panics, whatever the text. Four
//! generators: arbitrary bytes (mostly rejected by the parser), "token
//! soups" of hebb's own keywords, names, numbers, units and punctuation
//! (deeper into the parser and the checker), and a valid model with a few
//! words replaced, deleted, duplicated or inserted (deep into the checker),
//! and statements thousands of levels deep behind lines past column 65,535
//! (the parser's and checker's limits).
//! Inputs that check without errors are lowered too.

use hebb_lang::diag::{self, Style};
use hebb_lang::{Loaded, MainFile, NoFiles};
use proptest::prelude::*;

/// Loads text with no files at all: imports in random text must not touch
/// the disk.
fn load_text(name: &str, text: &str) -> Loaded {
    hebb_lang::load(MainFile { name, path: None, text }, &[], None, &NoFiles)
}

/// Loads `text` the way `hebb check` does, lowering it when it is error-free.
fn load(text: &str) {
    let checked = load_text("fuzz.hebb", text);
    if !checked.has_errors() && checked.model.experiment.is_some() {
        let _ = hebb_lower::lower(&checked.model, &Default::default());
    }
    // Rendering walks every span: a span outside its file would panic here.
    let _ = diag::render(&checked.diags, &checked.sources, Style::Plain);
}

/// Words and punctuation of the language, plus names the checker knows.
#[rustfmt::skip]
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
    "0", "1", "2.5", "1e-3", "1e999", "-1", "20", "0.1", ".5", "ms", "mV", "Hz", "nS", "s", "mvolt", "^", "^2",
    "^-1",
    // punctuation and layout
    "=", "+=", "-=", "*=", "/=", "+", "-", "*", "/", "**", "<", ">", "<=", ">=", "==", "!=", "->", "..", ".", ",",
    ":", "(", ")", "[", "]", "{", "}", "\"a.csv\"", "\"", "#", ";", "\n", "\n", "\n", " ", "\t", "\\",
];

/// Fragments of valid models, so that soups often reach the checker with a
/// mostly well-formed file around the noise.
const CHUNKS: &[&str] = &[
    r#"
neuron LIF {
    param tau = 20 ms
    state v = -70 mV
    dv/dt = -v / tau
    spike when v > -50 mV
    reset { v = -70 mV }
    refractory 2 ms
}
"#,
    r#"
network net {
    population exc = 10 LIF
    connect exc -> exc with Static(target = v) { p = 0.1; w = 1 mV; delay = 1 ms }
    record spikes of exc
}
"#,
    r#"
experiment {
    network = net
    dt = 0.1 ms
    duration = 10 ms
}
"#,
    r#"
synapse Plastic {
    state w = 0.5
    state x = 0
    dx/dt = -x / (20 ms)
    on pre { post.v += w * mV; x += 1 }
    on post { w = clip(w + x, 0, 1) }
    every 1 s { w = w / in_sum(w) }
}
"#,
    r#"
signal da {
    param tau = 200 ms
    state d = 0
    dd/dt = -d / tau
}
"#,
];

/// Any byte, biased towards printable ASCII so that some inputs get past
/// the first token.
fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![2 => any::<u8>(), 3 => 0x20u8..0x7f, 1 => Just(b'\n')]
}

/// A complete, valid model (every kind of item) whose words the mutation
/// test edits, so that most of its inputs reach the checker and some reach
/// lowering.
const VALID: &str = r#"
signal da {
    param tau = 200 ms
    state d = 0
    dd/dt = -d / tau
}
neuron LIF {
    param tau = 20 ms
    param v_th = -50 mV
    state v = -70 mV
    state g : mV = 0 mV
    let I = g * (1 + da.d)
    dv/dt = (-70 mV - v + I) / tau unless refractory
    dg/dt = -g / (5 ms)
    spike when v > v_th
    reset { v = -70 mV; da.d += 0.1 }
    refractory 2 ms
    method exponential_euler
}
synapse Plastic {
    param w_max = 1
    state w = 0.5
    on pre { post.g += w * mV; if w > 0.1 { w = clip(w - 0.01, 0, w_max) } }
    every 1 s { w = w / in_sum(w) }
}
network net {
    population ext = 5 poisson { rate = 10 Hz }
    population exc = 10 LIF { v = uniform(-70 mV, -50 mV) }
    connect ext -> exc with Static(target = g) { p = 0.5; w = 1 mV; delay = 1 ms }
    connect exc -> exc with Plastic { indegree = 3; delay = normal(1 ms, 0.1 ms) }
    record spikes of exc
    record v of exc[0..5] every 1 ms
    record w of exc -> exc every 10 ms
}
experiment {
    network = net
    dt = 0.1 ms
    seed = 3
    duration = 20 ms
}
"#;

/// One edit of the valid model's words (split at spaces).
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
    let checked = load_text("valid.hebb", VALID);
    let rendered = diag::render(&checked.diags, &checked.sources, Style::Plain);
    assert!(checked.diags.is_empty(), "{rendered}");
    let (_, diags) = hebb_lower::lower(&checked.model, &Default::default());
    let rendered = diag::render(&diags, &checked.sources, Style::Plain);
    assert!(diags.is_empty(), "{rendered}");
}

/// One level of nesting: what opens it and what closes it, in a statement
/// of an `on spike` block.
const LEVELS: &[(&str, &str)] = &[
    ("(", ")"),
    ("-", ""),
    ("1 + ", ""),
    ("2 * (", ")"),
    ("exp(", ")"),
    ("clip(", ", 0, 1)"),
    ("if v > 0 mV { v = ", " }"),
];

/// Deep and long inputs: a statement built of thousands of random nesting
/// levels (brackets, unary minus, flat sums, calls, `if` blocks), behind an
/// optional run of spaces that puts it past column 65,535.
fn extreme() -> impl Strategy<Value = String> {
    let levels = proptest::collection::vec(proptest::sample::select(LEVELS), 0..4000);
    (levels, prop_oneof![Just(0usize), Just(70_000usize)]).prop_map(|(levels, indent)| {
        let open: String = levels.iter().map(|l| l.0).collect();
        let close: String = levels.iter().rev().map(|l| l.1).collect();
        format!(
            "neuron Cell {{\n state v = 0 mV\n on spike {{\n{}v = {open}v{close}\n }}\n}}\nnetwork n {{ population p = 3 Cell }}\nexperiment {{ network = n; duration = 1 ms }}\n",
            " ".repeat(indent)
        )
    })
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

    #[test]
    fn deep_and_long_inputs_never_panic(text in extreme()) {
        load(&text);
    }
}

/// The crash classes the limits exist for, at their edges and far beyond:
/// loading (and rendering) never panics nor overflows the stack of a test
/// thread, and beyond a limit there is a diagnostic.
#[test]
fn limits_hold_at_their_edges_and_beyond() {
    let with_param = |value: &str| {
        format!(
            "neuron Cell {{\n param x = {value}\n state v = 0\n}}\nnetwork n {{ population p = 3 Cell }}\nexperiment {{ network = n; duration = 1 ms }}\n"
        )
    };
    let codes = |text: &str| -> Vec<&'static str> {
        let loaded = load_text("limits.hebb", text);
        let _ = diag::render(&loaded.diags, &loaded.sources, Style::Plain);
        if !loaded.has_errors() {
            let _ = hebb_lower::lower(&loaded.model, &Default::default());
        }
        loaded.diags.iter().map(|d| d.code).collect()
    };
    let nested = |n: usize| with_param(&format!("{}1{}", "(".repeat(n), ")".repeat(n)));
    assert!(codes(&nested(60)).is_empty(), "60 brackets deep are fine");
    assert!(codes(&nested(65)).contains(&"hebb::syntax::too_deep"));
    assert!(codes(&nested(50_000)).contains(&"hebb::syntax::too_deep"));
    let sum = |n: usize| with_param(&vec!["1"; n].join(" + "));
    assert!(codes(&sum(250)).is_empty(), "249 operators are fine");
    assert!(codes(&sum(300)).contains(&"hebb::syntax::too_complex"));
    let c = codes(&sum(50_000));
    assert!(c.contains(&"hebb::syntax::too_complex"), "{c:?}");
    assert!(codes(&with_param(&format!("{}1", "- ".repeat(250)))).is_empty());
    assert!(codes(&with_param(&format!("{}1", "-".repeat(200_000)))).contains(&"hebb::syntax::too_complex"));
    // Depth through brackets and operators together.
    let mixed = with_param(&format!("{}1{}", "(1 + ".repeat(60), ")".repeat(60)));
    assert!(codes(&mixed).is_empty());
    let long_line = with_param(&format!("{}undefined_name", " ".repeat(100_000)));
    assert!(codes(&long_line).contains(&"hebb::names::unknown"));
    let items: String = (0..6000).map(|k| format!("neuron N{k} {{\n state v = 0\n}}\n")).collect();
    assert!(codes(&format!("{items}{}", with_param("1"))).is_empty());
    let huge = "neuron Cell {\n state v = 0\n}\nnetwork n { population p = 40000000000 Cell }\nexperiment { network = n; duration = 1 ms }\n";
    assert!(codes(huge).contains(&"hebb::network::count"));
}
