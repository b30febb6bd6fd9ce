//! The editor grammar (editors/vscode): its Node test tokenizes every
//! shipped model with the TextMate engine VS Code uses (vscode-textmate +
//! vscode-oniguruma), checks that keywords, units, numbers, comments and
//! strings get their scopes and that no line is left untokenized, and
//! compares the scopes with the snapshots in editors/vscode/test/snapshots.
//! It needs Node and `npm ci --prefix editors/vscode`, which `.ci/run`
//! does, setting `HEBB_REQUIRE_NODE=1` to make their absence a failure;
//! elsewhere the test says it was skipped.

use std::path::Path;
use std::process::Command;

#[test]
fn the_textmate_grammar_scopes_every_shipped_model() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/vscode");
    let required = std::env::var_os("HEBB_REQUIRE_NODE").is_some();
    let ready = dir.join("node_modules/vscode-textmate").is_dir()
        && Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    if !ready {
        assert!(!required, "HEBB_REQUIRE_NODE is set, but node or editors/vscode/node_modules is missing");
        eprintln!("skipped: run `npm ci --prefix editors/vscode` (Node 20) to test the editor grammar");
        return;
    }
    let o = Command::new("node").arg("test/tokenize.js").current_dir(&dir).output().expect("node runs");
    let out = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "the grammar test failed:\n{out}");
    assert!(out.contains(" 0 failed"), "{out}");
    let check = Command::new("node").args(["--check", "extension.js"]).current_dir(&dir).output().expect("node");
    assert!(check.status.success(), "extension.js: {}", String::from_utf8_lossy(&check.stderr));
}
