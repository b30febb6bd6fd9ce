//! Limits instead of crashes: every input that used to crash, hang or
//! abort gets a diagnostic or a clear error with a documented exit code,
//! within 10 s, without a panic or a stack overflow.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hebb-limits-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Runs `hebb` with `args`, killing it after 10 s; returns the exit code
/// and stderr.
fn hebb(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hebb"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hebb starts");
    // Read stderr as it comes: a long diagnostic would fill the pipe.
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut err = String::new();
        let _ = stderr.read_to_string(&mut err);
        err
    });
    let t0 = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return (status.code(), reader.join().expect("stderr read"));
        }
        if t0.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("`hebb {}` took more than 10 s", args.join(" ").chars().take(80).collect::<String>());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

const NEURON: &str = "neuron Cell {\n    state v = 0\n    dv/dt = -v / (10 ms)\n}\n";
const END: &str = "network n {\n    population p = 3 Cell\n}\nexperiment { network = n; duration = 1 ms }\n";

/// `hebb check` of `text` exits with `code` and says `why`, cleanly.
fn check(name: &str, text: &str, code: i32, why: &str) {
    let dir = temp_dir(name);
    let path = dir.join("m.hebb");
    std::fs::write(&path, text).expect("write");
    let (exit, err) = hebb(&["check", path.to_str().expect("path")]);
    assert!(!err.contains("panicked") && !err.contains("overflow"), "{name}: {}", &err[..err.len().min(2000)]);
    assert_eq!(exit, Some(code), "{name}: {}", &err[..err.len().min(2000)]);
    assert!(err.contains(why), "{name}: {}", &err[..err.len().min(2000)]);
}

#[test]
fn deep_nesting_and_long_expressions_are_diagnosed() {
    let param = |value: String| format!("neuron Cell {{\n    param x = {value}\n    state v = 0\n}}\n{END}");
    check("parens", &param(format!("{}1{}", "(".repeat(5000), ")".repeat(5000))), 1, "hebb::syntax::too_deep");
    check("minus", &param(format!("{}1", "-".repeat(100_000))), 1, "hebb::syntax::too_complex");
    check("sum", &param(vec!["1"; 5000].join(" + ")), 1, "hebb::syntax::too_complex");
    let ifs = format!("{}v = 1{}", "if v > 0 {\n".repeat(5000), "\n}".repeat(5000));
    check(
        "ifs",
        &format!("neuron Cell {{\n    state v = 0\n    reset {{ {ifs} }}\n}}\n{END}"),
        1,
        "hebb::syntax::too_deep",
    );
    // Within the limits, long is fine.
    check("ok", &param(vec!["1"; 200].join(" + ")), 0, "");
}

#[test]
fn long_lines_and_many_items_are_fine() {
    // A diagnostic past column 65535 is written as text, not drawn.
    let far = format!(
        "{NEURON}{}network n {{ population p = 3 Celll }}\nexperiment {{ network = n; duration = 1 ms }}\n",
        " ".repeat(70_000)
    );
    check("column", &far, 1, "m.hebb:5:70030: not declared");
    // A warning far right, in a valid model, too.
    let warning = format!(
        "neuron Cell {{\n    state v = 0\n    dv/dt = -v / (10 ms){}unless refractory\n}}\n{END}",
        " ".repeat(70_000)
    );
    check("column-ok", &warning, 0, "hebb::refractory::missing");
    let items: String = (0..5000).map(|k| format!("neuron N{k} {{\n    state v = 0\n}}\n")).collect();
    check("items", &format!("{items}{NEURON}{END}"), 0, "");
}

#[test]
fn special_files_durations_and_sizes_are_refused() {
    check("dev-zero", &format!("import \"/dev/zero\"\n{NEURON}{END}"), 1, "not a regular file");
    let (exit, err) = hebb(&["check", "/dev/zero"]);
    assert_eq!(exit, Some(2), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    let experiment = |settings: &str| {
        format!("{NEURON}network n {{\n    population p = 3 Cell\n}}\nexperiment {{ network = n; {settings} }}\n")
    };
    check("forever", &experiment("duration = 1e300 s"), 1, "time steps");
    check("tiny-dt", &experiment("dt = 1e-18 s; duration = 1 s"), 1, "time steps");
    check("long", &experiment("dt = 1e-12 s; duration = 1 s"), 0, "hebb::experiment::long");
    check("short", &experiment("dt = 1 s; duration = 1 ms"), 1, "shorter than one time step");
    // Two billion neurons with three states (72 GB) and a projection of
    // 4.9 billion synapses: refused before anything is allocated.
    let huge = "neuron Big {\n    state a = 0\n    state b = 0\n    state c = 0\n}\nnetwork n {\n    population p = 2000000000 Big\n}\nexperiment { network = n; duration = 1 ms }\n";
    check("neurons", huge, 1, "population `p`");
    let dense = format!(
        "{NEURON}synapse Syn {{\n    state w = 0.5\n    on pre {{ post.v += w }}\n}}\nnetwork n {{\n    population p = 70000 Cell\n    connect p -> p with Syn {{ all_to_all }}\n}}\nexperiment {{ network = n; duration = 1 ms }}\n"
    );
    check("synapses", &dense, 1, "4.900e9 synapses");
}
