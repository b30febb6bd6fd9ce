//! The Python package (python/): its pytest suite, run with the Python
//! named by `HEBB_PYTHON` (or target/pyenv/bin/python) in which the package
//! was installed (`maturin develop --release` in python/). `.ci/run` builds
//! that environment and sets `HEBB_REQUIRE_PYTHON=1`, which makes its
//! absence a failure; elsewhere the test says it was skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn the_python_package_passes_its_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python =
        std::env::var_os("HEBB_PYTHON").map(PathBuf::from).unwrap_or_else(|| root.join("target/pyenv/bin/python"));
    let required = std::env::var_os("HEBB_REQUIRE_PYTHON").is_some();
    let ready =
        Command::new(&python).args(["-c", "import hebb, pytest, numpy"]).output().is_ok_and(|o| o.status.success());
    if !ready {
        assert!(!required, "HEBB_REQUIRE_PYTHON is set, but {} cannot import hebb, pytest and numpy", python.display());
        eprintln!("skipped: install the package (python/README.md) to run its tests");
        return;
    }
    let o = Command::new(&python)
        .args(["-m", "pytest", "-q", "python/tests"])
        .current_dir(root)
        .env("HEBB_BIN", env!("CARGO_BIN_EXE_hebb"))
        .output()
        .expect("pytest runs");
    let out = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "pytest failed:\n{out}");
    assert!(out.contains(" passed"), "{out}");
}
