//! UI tests for diagnostics: every bad model under `tests/ui/<area>/*.hebb` is
//! parsed, checked (and lowered, when checking found no error), and its
//! source and rendered diagnostics are snapshotted beside it as `<name>.snap`.
//!
//! Files in deeper folders (`tests/ui/imports/parts/`) are helpers that the
//! tests import; the glob does not run them on their own.
//!
//! A line `# --set Type.param=value` in a UI file is passed to the checker
//! as a command-line setting, so that `--set` rules can be tested too.

use hebb_lang::diag::{self, Diagnostic, Style};
use hebb_lang::{Files, MainFile};
use std::path::{Path, PathBuf};

/// The workspace root (the UI files live in its `tests/ui`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the workspace root exists")
}

/// The workspace root with a trailing separator, stripped from every path
/// that a diagnostic prints so that snapshots match on any machine.
fn root_prefix() -> String {
    format!("{}{}", root().display(), std::path::MAIN_SEPARATOR)
}

/// UI files import other UI files from the disk.
struct Disk;

impl Files for Disk {
    fn read(&self, path: &Path) -> std::io::Result<String> {
        std::fs::read_to_string(path)
    }

    fn canonical(&self, path: &Path) -> PathBuf {
        path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
    }
}

/// Makes absolute paths in a diagnostic relative to the workspace root. This
/// runs before rendering, so that line wrapping does not depend on where the
/// repository lives.
fn relativize(d: &mut Diagnostic, prefix: &str) {
    let root = prefix.trim_end_matches(std::path::MAIN_SEPARATOR);
    let fix = |s: &str| s.replace(prefix, "").replace(root, ".");
    d.message = fix(&d.message);
    d.help = d.help.as_deref().map(fix);
    for l in &mut d.labels {
        l.text = fix(&l.text);
    }
}

/// Checks one UI file and returns the snapshot text: the source, then every
/// diagnostic, as Gleam's `assert_error!` shows them.
fn run(path: &Path) -> String {
    let prefix = root_prefix();
    let canonical = path.canonicalize().expect("the UI file exists");
    let name = canonical
        .strip_prefix(&prefix)
        .expect("UI files are inside the workspace")
        .to_string_lossy()
        .replace('\\', "/");
    let text = std::fs::read_to_string(&canonical).expect("the UI file is readable");
    let settings: Vec<String> =
        text.lines().filter_map(|l| l.strip_prefix("# --set ")).map(|s| s.trim().to_string()).collect();
    let main = MainFile { name: &name, path: Some(canonical.clone()), text: &text };
    let checked = hebb_lang::load(main, &settings, None, &Disk);

    let mut diags = checked.diags.clone();
    let mut lowered = false;
    if !checked.has_errors() && checked.model.experiment.is_some() {
        let (_, lower_diags) = hebb_lower::lower(&checked.model, &Default::default());
        diags.extend(lower_diags);
        lowered = true;
    }
    assert!(!diags.is_empty(), "{name} produced no diagnostic: every UI file must show at least one error or warning");
    for d in &mut diags {
        relativize(d, &prefix);
    }
    let rendered = diag::render(&diags, &checked.sources, Style::Plain);
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let mut out = String::new();
    out.push_str(&format!("----- SOURCE CODE -- {name}\n"));
    out.push_str(&text);
    if !text.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!(
        "\n----- DIAGNOSTICS -- {errors} error{}, {warnings} warning{}{}\n",
        if errors == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" },
        if lowered { " (after lowering)" } else { "" },
    ));
    out.push_str(&rendered);
    out
}

#[test]
fn ui() {
    insta::glob!("../../../tests/ui", "*/*.hebb", |path| {
        let text = run(path);
        let dir = path.parent().expect("UI files live in an area folder");
        let stem = path.file_stem().expect("UI files have a name").to_string_lossy().into_owned();
        insta::with_settings!({
            prepend_module_to_snapshot => false,
            snapshot_path => dir,
            snapshot_suffix => "",
            omit_expression => true,
        }, {
            insta::assert_snapshot!(stem, text);
        });
    });
}

/// Every snapshot belongs to a UI file, and no unreviewed `.snap.new` is left
/// behind (renaming or deleting a UI file must take its snapshot along).
#[test]
fn no_orphan_snapshots() {
    let ui = root().join("tests/ui");
    let mut orphans = Vec::new();
    for area in std::fs::read_dir(&ui).expect("tests/ui exists") {
        let area = area.expect("tests/ui is readable").path();
        if !area.is_dir() {
            continue;
        }
        for entry in std::fs::read_dir(&area).expect("an area folder is readable") {
            let path = entry.expect("an area folder is readable").path();
            let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
            let orphan = if name.ends_with(".snap.new") || name.ends_with(".pending-snap") {
                true
            } else if name.ends_with(".snap") {
                !path.with_extension("hebb").exists()
            } else {
                false
            };
            if orphan {
                orphans.push(path.strip_prefix(&ui).unwrap_or(&path).display().to_string());
            }
        }
    }
    orphans.sort();
    assert!(orphans.is_empty(), "snapshots without a UI file or not reviewed: {orphans:?}");
}
