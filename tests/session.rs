//! The one pipeline (`hebb::session`) as a library: it finishes every run
//! it simulates, reports through its observer, and says why a request
//! could not be carried out with a typed error.

mod common;

use hebb::session::{self, Diagnostics, Error, Observer, Progress, Request};
use std::path::Path;

/// A neuron fed by a Poisson source through a plastic synapse, over two
/// phases, with the weights measured: what `finish` must close.
const TWO_PHASES: &str = r#"
neuron Cell {
    param tau = 10 ms
    state v = 0
    dv/dt = -v / tau unless refractory
    spike when v > 1
    reset { v = 0 }
}

synapse Hebb {
    state w = 0.5
    on pre { post.v += w; w = clip(w + 0.01, 0, 1) }
}

network net {
    population src = 20 poisson { rate = 50 Hz }
    population out = 5 Cell
    connect src -> out with Hebb { all_to_all }
    record spikes of out
}

experiment {
    network = net
    dt = 0.1 ms
    phase learn 200 ms { }
    phase test 100 ms { plasticity off }
    measure weights of src -> out
}
"#;

fn path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/session_model.hebb")
}

#[test]
fn simulate_finishes_the_run_it_simulates() {
    let out = common::simulate(&Request::text(TWO_PHASES, path())).expect("runs");
    out.result.clone().expect("no error");
    let rec = out.recordings();
    let phases: Vec<&str> = rec.phases.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(phases, ["learn", "test"], "both phases are closed, the last one by `finish`");
    assert_eq!(rec.phases[1].2, 0.3, "the last phase ends at the end of the run");
    assert_eq!(rec.weights_at_phase_end.len(), 2, "weights are taken at the end of each phase");
    let (learn, test) = (&rec.weights_at_phase_end[0].2, &rec.weights_at_phase_end[1].2);
    assert_eq!(learn, test, "`plasticity off` froze the weights");
    assert!(learn.iter().any(|w| *w > 0.5), "the weights learnt");
}

#[test]
fn a_missing_model_file_is_a_read_error() {
    match session::check(&Request::file("/no/such/model.hebb")) {
        Err(Error::Read { path, .. }) => assert_eq!(path, Path::new("/no/such/model.hebb")),
        Err(e) => panic!("expected a read error, got {e}"),
        Ok(_) => panic!("a missing file checked"),
    }
}

#[test]
fn model_errors_come_back_with_their_diagnostics() {
    let bad = TWO_PHASES.replace("dv/dt = -v / tau", "dv/dt = v");
    let checked = session::check(&Request::text(bad, path())).expect("reads");
    assert!(checked.has_errors());
    match session::compile(checked) {
        Err(Error::Model(d)) => {
            assert_eq!(d.error_count(), 1);
            let text = d.render(hebb::lang::Style::Plain, true);
            assert!(text.contains("hebb::units::ode"), "{text}");
        }
        Err(e) => panic!("expected model errors, got {e}"),
        Ok(_) => panic!("a bad model compiled"),
    }
}

/// Records what the pipeline reports.
#[derive(Default)]
struct Recorder {
    warnings: Vec<String>,
    progress: Vec<Progress>,
}

impl Observer for Recorder {
    fn diagnostics(&mut self, d: &Diagnostics) {
        self.warnings.extend(d.diagnostics.iter().map(|d| d.code.to_string()));
    }

    fn progress(&mut self, p: &Progress) {
        self.progress.push(*p);
    }
}

#[test]
fn run_reports_warnings_and_progress_and_writes_the_run_directory() {
    // A warning: `unless refractory` without a refractory period.
    let dir = std::env::temp_dir().join(format!("hebb-session-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut recorder = Recorder::default();
    let summary = session::run(&Request::text(TWO_PHASES, path()), &dir, &mut recorder).expect("runs");
    assert_eq!(summary.status, "ok");
    assert_eq!(recorder.warnings, ["hebb::refractory::missing"]);
    assert!(recorder.progress.len() >= 2, "progress is reported as the run goes");
    let last = recorder.progress.last().expect("progress");
    assert_eq!((last.step, last.n_steps), (3000, 3000));
    assert!(recorder.progress.windows(2).all(|w| w[0].step < w[1].step));
    for file in ["run.json", "metrics.json", "spikes/out.t.npy", "weights/src-out.phase_test.npy"] {
        assert!(dir.join(file).exists(), "{file} was written");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
