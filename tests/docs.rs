//! Every `hebb` example in the documentation (README.md and docs/*.md) is
//! checked as `hebb check` would check it, with these conventions:
//!
//! * items without a network or experiment (a neuron type, a synapse type)
//!   are checked as they are; their "no network" and "no experiment" errors
//!   are the only ones allowed;
//! * an example that uses a network it does not define is checked together
//!   with the earlier examples of the same document that define it (the
//!   documents build their examples up, section by section);
//! * an example whose first line is `# from models/PATH.hebb` is an excerpt
//!   of that shipped model: it must appear in the file line for line, and
//!   the file must check.
//!
//! Any other error fails the test with the block's file and line.

use hebb::session::{self, Request};
use std::path::{Path, PathBuf};

/// The ```hebb blocks of a Markdown file with the line each starts on.
fn hebb_blocks(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (n, line) in text.lines().enumerate() {
        match (&mut current, line.trim_start()) {
            (None, l) if l.starts_with("```hebb") => current = Some((n + 1, String::new())),
            (Some(_), l) if l.starts_with("```") => out.push(current.take().expect("open block")),
            (Some((_, body)), _) => {
                body.push_str(line);
                body.push('\n');
            }
            _ => {}
        }
    }
    out
}

/// Diagnostics that only say a block is an excerpt, not a whole model.
const EXCERPT: [&str; 2] = ["hebb::network::missing", "hebb::experiment::missing"];

fn documents() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

#[test]
fn every_hebb_example_in_the_documentation_checks() {
    let mut checked = 0;
    let mut failures = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).expect("readable");
        let blocks = hebb_blocks(&text);
        for (k, (line, block)) in blocks.iter().enumerate() {
            let at = format!("{}:{line}", doc.strip_prefix(root).unwrap_or(&doc).display());
            checked += 1;
            if let Some(model) = block.lines().next().and_then(|l| l.strip_prefix("# from ")) {
                let file = std::fs::read_to_string(root.join(model.trim())).unwrap_or_default();
                let lines: Vec<&str> = file.lines().map(str::trim_end).collect();
                let excerpt: Vec<&str> = block.lines().skip(1).map(str::trim_end).collect();
                if !lines.windows(excerpt.len().max(1)).any(|w| w == excerpt.as_slice()) {
                    failures.push(format!("{at}: not an excerpt of {model}"));
                } else if let Err(e) = errors_of(&file, &root.join(model.trim())) {
                    failures.push(format!("{at}: {model}: {e}"));
                }
                continue;
            }
            // Imports in examples resolve against the models directory.
            let path = root.join("models").join("example.hebb");
            let mut errors = errors_of(block, &path);
            let named = block
                .lines()
                .find_map(|l| l.trim().strip_prefix("network").map(str::trim_start))
                .and_then(|rest| rest.strip_prefix('='))
                .and_then(|rest| rest.split_whitespace().next());
            if let (Err(e), Some(name)) = (&errors, named)
                && e.contains("hebb::names::unknown_network")
            {
                // Checked with the earlier example that defines the network.
                let header = format!("network {name} {{");
                if let Some((_, earlier)) = blocks[..k].iter().rev().find(|(_, b)| b.contains(&header)) {
                    errors = errors_of(&format!("{earlier}{block}"), &path);
                }
            }
            if let Err(e) = errors {
                failures.push(format!("{at}: {e}"));
            }
        }
    }
    assert!(checked >= 15, "only {checked} examples found");
    assert!(failures.is_empty(), "{} of {checked} examples fail:\n{}", failures.len(), failures.join("\n"));
}

/// The errors of checking `text` (as the file `path`) other than those of
/// an excerpt, joined.
fn errors_of(text: &str, path: &Path) -> Result<(), String> {
    let checked = session::check(&Request::text(text, path.to_path_buf())).map_err(|e| e.to_string())?;
    let errors: Vec<String> = checked
        .diagnostics()
        .diagnostics
        .iter()
        .filter(|d| d.is_error() && !EXCERPT.contains(&d.code))
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(errors.join("; ")) }
}

#[test]
fn the_extractor_finds_blocks_and_their_lines() {
    let md = "text\n```hebb\nneuron N {\n}\n```\nmore\n```sh\nls\n```\n  ```hebb\nx\n  ```\n";
    let blocks = hebb_blocks(md);
    assert_eq!(blocks, vec![(2, "neuron N {\n}\n".to_string()), (10, "x\n".to_string())]);
}
