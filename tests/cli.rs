//! The `hebb` command end to end: exit codes, run directories,
//! reproducibility, and failures that keep what was recorded.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn hebb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hebb")).args(args).env("NO_COLOR", "1").output().expect("hebb runs")
}

fn model(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models").join(name).display().to_string()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hebb-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write model");
    path.display().to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn check_accepts_a_good_model() {
    let o = hebb(&["check", &model("cuba.hebb")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("ok"));
}

#[test]
fn check_reports_model_errors_with_exit_code_1() {
    let dir = temp_dir("bad");
    let path = write(&dir, "bad.hebb", "neuron Cell {\n    state v = 0 mV\n    dv/dt = v\n}\n");
    let o = hebb(&["check", &path]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("hebb::units::ode"), "{err}");
    assert!(err.contains("hebb::experiment::missing"), "{err}");
}

#[test]
fn bad_usage_exits_with_2() {
    assert_eq!(hebb(&["run"]).status.code(), Some(2));
    assert_eq!(hebb(&["run", &model("cuba.hebb"), "--no-such-flag"]).status.code(), Some(2));
    assert_eq!(hebb(&["run", "/no/such/model.hebb"]).status.code(), Some(2));
    let o = hebb(&["run", &model("cuba.hebb"), "--duration", "5 mV"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a time"), "{}", stderr(&o));
    assert_eq!(hebb(&["run", &model("cuba.hebb"), "--threads", "0"]).status.code(), Some(2));
}

#[test]
fn set_overrides_a_param_and_is_checked() {
    let dir = temp_dir("set");
    let out = dir.join("run");
    let ok = hebb(&[
        "run",
        &model("cuba.hebb"),
        "-q",
        "-o",
        out.to_str().unwrap(),
        "--duration",
        "20 ms",
        "--set",
        "CubaLIF.tau_m=10 ms",
    ]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let bad = hebb(&["run", &model("cuba.hebb"), "-q", "-o", out.to_str().unwrap(), "--set", "CubaLIF.tau_m=10 mV"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("hebb::units::expected"), "{}", stderr(&bad));
    let unknown = hebb(&["run", &model("cuba.hebb"), "-q", "--set", "CubaLIF.tau=10 ms"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("tau_m"), "suggests the close name: {}", stderr(&unknown));
}

fn read_all(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for sub in ["spikes", "state", "rate", "weights"] {
        if let Ok(entries) = std::fs::read_dir(dir.join(sub)) {
            for e in entries {
                let p = e.expect("entry").path();
                out.push((p.file_name().unwrap().to_string_lossy().to_string(), std::fs::read(&p).expect("read")));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn same_seed_gives_byte_identical_files() {
    let dir = temp_dir("repro");
    let model = write(
        &dir,
        "m.hebb",
        &format!(
            "import \"{}\"\nnetwork n {{\n population c = 50 LIFCond {{ v = uniform(-70 mV, -50 mV) }}\n population p = 100 poisson {{ rate = 20 Hz }}\n connect p -> c with Static(target = g_e) {{ p = 0.2; w = uniform(0.1, 0.3) }}\n record spikes of c, p\n record v, g_e of c[0..5] every 1 ms\n record rate of c bin 5 ms\n}}\nexperiment {{ network = n; duration = 300 ms; seed = 5 }}\n",
            model("neurons/lif_cond.hebb")
        ),
    );
    let (a, b) = (dir.join("a"), dir.join("b"));
    for out in [&a, &b] {
        let o = hebb(&["run", &model, "-q", "-o", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let (fa, fb) = (read_all(&a), read_all(&b));
    assert!(
        fa.len() >= 8,
        "expected spike, state and rate files, got {:?}",
        fa.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert_eq!(fa, fb);
    let c = dir.join("c");
    let o = hebb(&["run", &model, "-q", "-o", c.to_str().unwrap(), "--seed", "6"]);
    assert_eq!(o.status.code(), Some(0));
    assert_ne!(read_all(&c), fa, "another seed gives other spikes");
}

#[test]
fn run_directory_has_the_documented_layout() {
    let dir = temp_dir("layout");
    let out = dir.join("run");
    let o = hebb(&["run", &model("neurons/adex.hebb"), "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(json["status"], "ok");
    for key in ["parse_s", "check_s", "compile_s", "build_s", "run_s"] {
        assert!(json["timings"][key].is_number(), "timings.{key}");
    }
    assert_eq!(json["populations"]["cell"]["size"], 1);
    assert_eq!(json["populations"]["cell"]["spikes"], 17, "AdEx fires 17 times in 500 ms");
    assert_eq!(json["model_sha256"].as_str().unwrap().len(), 64);
    let (shape, v) = hebb::output::read_f64(&out.join("state/cell.v.npy")).unwrap();
    assert_eq!(shape, vec![5000, 1]);
    assert!((v[0] - (-0.0706)).abs() < 1e-12, "SI units: volts");
    let t = hebb::output::read_f64(&out.join("spikes/cell.t.npy")).unwrap().1;
    assert_eq!(t.len(), 17);
    assert_eq!(hebb::output::read_u32(&out.join("spikes/cell.i.npy")).unwrap().1, vec![0; 17]);
}

#[test]
fn a_blow_up_fails_with_exit_3_and_keeps_the_data() {
    let dir = temp_dir("nan");
    // v grows as e^{t / 1 ms} and overflows near t = 709 ms.
    let model2 = write(
        &dir,
        "boom2.hebb",
        "neuron Unstable {\n state v = 1 mV\n dv/dt = v / 1 ms\n}\nnetwork n {\n population x = 3 Unstable\n record v of x every 1 ms\n}\nexperiment { network = n; duration = 2 s }\n",
    );
    let out = dir.join("run");
    let o = hebb(&["run", &model2, "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("`v` of neuron 0 in population `x` became non-finite"), "{err}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(json["status"], "failed");
    assert!(json["message"].as_str().unwrap().contains("non-finite"));
    let (shape, v) = hebb::output::read_f64(&out.join("state/x.v.npy")).unwrap();
    // e^{t / 1 ms} overflows near t = 709 ms.
    assert!(shape[0] > 650 && shape[0] < 760, "recorded until the failure: {shape:?}");
    assert!(v.iter().all(|x| x.is_finite()));
}

#[test]
fn explain_names_the_integrator() {
    let o = hebb(&["explain", &model("cuba.hebb")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("integrator: exact"), "{text}");
    assert!(text.contains("propagator"), "{text}");
    let o = hebb(&["explain", &model("coba.hebb"), "--ir"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("exponential_euler"), "{text}");
    assert!(text.contains("kernel k0 step"), "{text}");
}

#[test]
fn explain_says_where_synaptic_variables_are_stored_and_why() {
    let bench = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/models/recurrent.hebb");
    let o = hebb(&["explain", bench.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    for line in [
        "memory: 32 bytes per synapse (target 4, post index 8, presynaptic index 4 + 2 per-synapse variables × 8): w, x_pre",
        "hoisted: `x_post` per postsynaptic neuron; without hoisting 40 bytes per synapse",
        "`x_pre` per synapse: the delays differ between synapses, so each synapse sees a presynaptic spike at its own time",
        "stored scaled to a reference time (a multiplication per event, no exponential): `x_pre`",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}

#[test]
fn explain_and_run_take_a_precision() {
    let bench = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/models/recurrent.hebb");
    let o = hebb(&["explain", bench.to_str().expect("path"), "--precision", "f32"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    for line in [
        "precision f32: neuron states and synaptic variables stored in single precision",
        "memory: 24 bytes per synapse (target 4, post index 8, presynaptic index 4 + 2 per-synapse variables of 4 + 4 bytes): w, x_pre",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    // A precision that does not exist is a usage error, for both commands.
    for cmd in ["explain", "run"] {
        let o = hebb(&[cmd, bench.to_str().expect("path"), "--precision", "f16"]);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {}", stderr(&o));
        assert!(stderr(&o).contains("f16"), "{}", stderr(&o));
    }
}

#[test]
fn explain_shows_an_experiments_schedule() {
    let o = hebb(&["explain", &model("experiments/stdp_vs_homeostasis.hebb")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    for line in [
        "stimuli patterns: 16 random patterns of `input`, each 20 of 200 neurons at 20 Hz, the rest at 4 Hz",
        "phase learn: 120 s from 0 s; present patterns each 100 ms",
        "phase test: 20 s from 120 s; plasticity off all; present patterns each 100 ms",
        "abort when the rate of `exc` over the last 100 ms > 300 Hz",
        "measure information of exc about patterns in test",
        "variants: scaling, intrinsic, inhibitory, no_learning",
    ] {
        assert!(text.contains(line), "missing `{line}` in\n{text}");
    }
}

#[test]
fn profile_names_where_the_time_went_and_changes_nothing() {
    let dir = temp_dir("profile");
    let (with, without) = (dir.join("with"), dir.join("without"));
    let o = hebb(&["run", &model("cuba.hebb"), "--duration", "200 ms", "--profile", "-o", with.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("where the time went"), "{text}");
    for part in ["step P", "on pre P-P", "queue P-P_2", "records", "write records"] {
        assert!(text.lines().any(|l| l.trim_start().starts_with(part)), "no `{part}` in\n{text}");
    }
    let run: serde_json::Value = serde_json::from_slice(&std::fs::read(with.join("run.json")).unwrap()).unwrap();
    let parts = run["profile"].as_array().expect("profile in run.json");
    let step = parts.iter().find(|p| p["part"] == "step P").expect("step P");
    assert_eq!(step["calls"], 2000, "one step kernel call per step");
    let total: f64 = parts.iter().map(|p| p["seconds"].as_f64().unwrap()).sum();
    let share: f64 = parts.iter().map(|p| p["share"].as_f64().unwrap()).sum();
    assert!((share - 1.0).abs() < 1e-9, "shares sum to {share}");
    assert!(total <= run["timings"]["run_s"].as_f64().unwrap() * 1.05 + 0.01, "profiled {total} s");
    let o = hebb(&["run", &model("cuba.hebb"), "--duration", "200 ms", "-o", without.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for f in ["spikes/P.t.npy", "spikes/P.i.npy"] {
        assert_eq!(std::fs::read(with.join(f)).unwrap(), std::fs::read(without.join(f)).unwrap(), "{f}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn perf_map_names_the_jit_kernels() {
    let dir = temp_dir("perfmap");
    let child = Command::new(env!("CARGO_BIN_EXE_hebb"))
        .args(["run", &model("cuba.hebb"), "--duration", "10 ms", "-q", "-o", dir.join("run").to_str().unwrap()])
        .env("HEBB_PERF_MAP", "1")
        .spawn()
        .expect("hebb runs");
    let pid = child.id();
    let out = child.wait_with_output().expect("hebb ends");
    assert!(out.status.success());
    let map = std::env::temp_dir().join(format!("perf-{pid}.map"));
    let text = std::fs::read_to_string(&map).expect("perf map written");
    let _ = std::fs::remove_file(&map);
    // perf's format: start address and size in hex, then the name.
    let line = text.lines().find(|l| l.ends_with("hebb_kernel_P.step")).unwrap_or_else(|| panic!("{text}"));
    let fields: Vec<&str> = line.split(' ').collect();
    assert!(u64::from_str_radix(fields[0], 16).is_ok() && u64::from_str_radix(fields[1], 16).unwrap() > 0, "{line}");
    let _ = std::fs::remove_dir_all(&dir);
}
