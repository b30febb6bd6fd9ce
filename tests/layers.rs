//! The architecture as a test: crates and modules import only along the
//! layers that ARCHITECTURE.md writes down (its ```layers block), third
//! party crates stay in the crates allowed to use them, and IO appears only
//! in the modules that may do it. The tests at the end break each rule on
//! purpose and check that the checker notices.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The rules, as written in ARCHITECTURE.md.
#[derive(Clone, Debug, Default)]
struct Rules {
    /// Workspace crates each crate may depend on.
    crate_deps: BTreeMap<String, BTreeSet<String>>,
    /// Per crate, its modules' layers, lowest first.
    module_layers: BTreeMap<String, Vec<Vec<String>>>,
    /// Third-party crates (a trailing `*` matches a prefix) and the crates
    /// that may use them.
    third_party: Vec<(String, BTreeSet<String>)>,
    /// `crate` or `crate::module`: where IO may appear.
    io: BTreeSet<String>,
}

/// One crate of the workspace as the checker sees it.
#[derive(Clone, Debug, Default)]
struct Crate {
    /// Dependencies (`[dependencies]`, not dev-dependencies).
    deps: BTreeSet<String>,
    /// Source files, by path relative to the crate's `src`.
    files: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default)]
struct Workspace {
    crates: BTreeMap<String, Crate>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Parses the ```layers block of ARCHITECTURE.md.
fn parse_rules(architecture: &str) -> Rules {
    let block = architecture
        .split("```layers")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("ARCHITECTURE.md has a ```layers block");
    let mut rules = Rules::default();
    let list = |s: &str| -> BTreeSet<String> {
        s.split(',').map(str::trim).filter(|x| !x.is_empty()).map(String::from).collect()
    };
    for line in block.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        if let Some(rest) = line.strip_prefix("io:") {
            rules.io = list(rest);
        } else if let Some((krate, deps)) = line.split_once("->") {
            rules.crate_deps.insert(krate.trim().to_string(), list(deps));
        } else if let Some((third, users)) = line.split_once("only in") {
            for name in list(third) {
                rules.third_party.push((name, list(users)));
            }
        } else if let Some((krate, layers)) = line.split_once(':') {
            let layers = layers.split('<').map(|l| list(l).into_iter().collect()).collect();
            rules.module_layers.insert(krate.trim().to_string(), layers);
        } else {
            panic!("cannot read this line of the layers block: {line}");
        }
    }
    rules
}

/// The names in the `[dependencies]` table of a Cargo.toml.
fn dependencies(manifest: &str) -> BTreeSet<String> {
    let mut deps = BTreeSet::new();
    let mut in_deps = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && let Some(name) = line.split(['=', '.']).next().map(str::trim).filter(|n| !n.is_empty()) {
            deps.insert(name.to_string());
        }
    }
    deps
}

fn read_sources(dir: &Path, base: &Path, out: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).expect("a source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            read_sources(&path, base, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(base).expect("inside src").to_string_lossy().replace('\\', "/");
            out.insert(rel, std::fs::read_to_string(&path).expect("a readable source file"));
        }
    }
}

/// The workspace on disk: the root package (`hebb-cli`, in `src/`) and
/// every crate under `crates/`.
fn load_workspace() -> Workspace {
    let mut ws = Workspace::default();
    let mut add = |name: &str, dir: &Path| {
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("a manifest");
        let mut files = BTreeMap::new();
        read_sources(&dir.join("src"), &dir.join("src"), &mut files);
        ws.crates.insert(name.to_string(), Crate { deps: dependencies(&manifest), files });
    };
    add("hebb-cli", &root());
    for entry in std::fs::read_dir(root().join("crates")).expect("crates/") {
        let dir = entry.expect("an entry").path();
        let name = dir.file_name().expect("a name").to_string_lossy().to_string();
        add(&name, &dir);
    }
    ws
}

/// Source without comments and without its test module (by convention the
/// last item of a file, after `#[cfg(test)]`).
fn code(text: &str) -> String {
    let text = text.split("\n#[cfg(test)]").next().unwrap_or(text);
    text.lines()
        .map(|l| match l.find("//") {
            // `//` inside a string literal is rare in our code; `"//"` is
            // handled by keeping lines where the slashes follow a quote.
            Some(k) if !l[..k].ends_with('"') => &l[..k],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level module a file belongs to (`sema/expr.rs` → `sema`);
/// `None` for the crate root.
fn module_of(file: &str) -> Option<String> {
    let first = file.split('/').next()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

/// The crate-level modules a file refers to: `crate::m`, `crate::{m, n}`,
/// and from a top-level module file `super::m`.
fn module_refs(file: &str, code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut refs = BTreeSet::new();
    // `super` is the crate root in `m.rs` and `m/mod.rs`.
    let top_level = !file.contains('/') || file.ends_with("/mod.rs") && file.matches('/').count() == 1;
    let mut prefixes = vec!["crate::"];
    if top_level {
        prefixes.push("super::");
    }
    for prefix in prefixes {
        for (k, _) in code.match_indices(prefix) {
            let before = code[..k].chars().last();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let rest = &code[k + prefix.len()..];
            let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
                group.split('}').next().unwrap_or("").split(',').collect()
            } else {
                vec![rest]
            };
            for n in names {
                let ident: String = n.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if modules.contains(&ident) {
                    refs.insert(ident);
                }
            }
        }
    }
    refs
}

/// What does IO: files, terminals, the environment, processes.
const IO: [&str; 18] = [
    "std::fs",
    "fs::read",
    "fs::write",
    "fs::create_dir",
    "fs::remove",
    "File::open",
    "File::create",
    "OpenOptions",
    "println!",
    "eprintln!",
    "print!",
    "eprint!",
    "stdout()",
    "stderr()",
    "std::env::",
    "std::process::",
    "canonicalize(",
    "read_dir(",
];

/// Every broken rule, in words.
fn check(ws: &Workspace, rules: &Rules) -> Vec<String> {
    let mut errors = Vec::new();
    let workspace_crates: BTreeSet<&String> = ws.crates.keys().collect();
    for (name, krate) in &ws.crates {
        // Crate dependencies.
        let Some(allowed) = rules.crate_deps.get(name) else {
            errors.push(format!("crate `{name}` is not in the layers block"));
            continue;
        };
        for dep in krate.deps.iter().filter(|d| workspace_crates.contains(d)) {
            if !allowed.contains(dep) {
                errors.push(format!("crate `{name}` depends on `{dep}`, which the layers do not allow"));
            }
        }
        for dep in &krate.deps {
            for (pattern, users) in &rules.third_party {
                let matches = match pattern.strip_suffix('*') {
                    Some(prefix) => dep.starts_with(prefix),
                    None => dep == pattern,
                };
                if matches && !users.contains(name) {
                    errors.push(format!("crate `{name}` depends on `{dep}`, which only {users:?} may use"));
                }
            }
        }
        check_modules(name, krate, rules, &mut errors);
        check_io(name, krate, rules, &mut errors);
    }
    errors
}

/// Modules import only from their own or earlier layers.
fn check_modules(name: &str, krate: &Crate, rules: &Rules, errors: &mut Vec<String>) {
    let layers = rules.module_layers.get(name).cloned().unwrap_or_default();
    let layer_of = |m: &str| layers.iter().position(|l| l.iter().any(|x| x == m));
    let modules: BTreeSet<String> = krate.files.keys().filter_map(|f| module_of(f)).collect();
    for m in &modules {
        if layer_of(m).is_none() {
            errors.push(format!("module `{name}::{m}` is not in the layers block"));
        }
    }
    for (file, text) in &krate.files {
        let Some(m) = module_of(file) else { continue };
        let Some(mine) = layer_of(&m) else { continue };
        for r in module_refs(file, &code(text), &modules) {
            if r != m && layer_of(&r).is_some_and(|theirs| theirs > mine) {
                errors.push(format!("`{name}::{m}` ({file}) uses `{r}`, a module of a later layer"));
            }
        }
    }
}

/// IO only where the layers block allows it.
fn check_io(name: &str, krate: &Crate, rules: &Rules, errors: &mut Vec<String>) {
    if rules.io.contains(name) {
        return;
    }
    for (file, text) in &krate.files {
        let module = module_of(file).unwrap_or_default();
        if rules.io.contains(&format!("{name}::{module}")) {
            continue;
        }
        let code = code(text);
        for pattern in IO {
            if code.contains(pattern) {
                errors.push(format!("`{name}` {file} does IO (`{pattern}`), which only {:?} may do", rules.io));
            }
        }
    }
}

fn real() -> (Workspace, Rules) {
    let architecture = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    (load_workspace(), parse_rules(&architecture))
}

#[test]
fn the_workspace_follows_the_layers_of_architecture_md() {
    let (ws, rules) = real();
    assert!(ws.crates.len() >= 8, "expected the workspace crates, found {:?}", ws.crates.keys());
    let errors = check(&ws, &rules);
    assert!(errors.is_empty(), "the architecture is broken:\n{}", errors.join("\n"));
}

#[test]
fn a_crate_depending_on_a_higher_layer_is_caught() {
    let (mut ws, rules) = real();
    ws.crates.get_mut("hebb-runtime").expect("runtime").deps.insert("hebb-lang".into());
    let errors = check(&ws, &rules);
    assert!(errors.iter().any(|e| e.contains("`hebb-runtime` depends on `hebb-lang`")), "{errors:?}");
}

#[test]
fn a_module_importing_a_later_layer_is_caught() {
    let (mut ws, rules) = real();
    let runtime = ws.crates.get_mut("hebb-runtime").expect("runtime");
    let state = runtime.files.get_mut("state.rs").expect("state.rs");
    state.insert_str(0, "use crate::step::Stepper;\n");
    let errors = check(&ws, &rules);
    assert!(errors.iter().any(|e| e.contains("`hebb-runtime::state` (state.rs) uses `step`")), "{errors:?}");
    // The same with a grouped import, and through `super::` from a top-level
    // module.
    let (mut ws, rules) = real();
    let lang = ws.crates.get_mut("hebb-lang").expect("lang");
    // (At the top: what follows a test module is not checked.)
    lang.files.get_mut("span.rs").expect("span.rs").insert_str(0, "use crate::{diag, sema::check};\n");
    lang.files.get_mut("units.rs").expect("units.rs").insert_str(0, "use super::hir::Expr;\n");
    let errors = check(&ws, &rules);
    assert!(errors.iter().any(|e| e.contains("(span.rs) uses `sema`")), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("(units.rs) uses `hir`")), "{errors:?}");
}

#[test]
fn io_outside_its_modules_is_caught() {
    let (mut ws, rules) = real();
    let ir = ws.crates.get_mut("hebb-ir").expect("ir");
    ir.files.get_mut("interp.rs").expect("interp.rs").insert_str(0, "fn debug() { eprintln!(\"here\"); }\n");
    let errors = check(&ws, &rules);
    assert!(errors.iter().any(|e| e.contains("`hebb-ir` interp.rs does IO (`eprintln!`)")), "{errors:?}");
    // In a comment or a test module it is not code.
    let (mut ws, rules) = real();
    let ir = ws.crates.get_mut("hebb-ir").expect("ir");
    ir.files
        .get_mut("interp.rs")
        .expect("interp.rs")
        .push_str("\n// std::fs::write\n#[cfg(test)]\nmod t { fn f() { println!(); } }\n");
    assert!(check(&ws, &rules).is_empty());
}

#[test]
fn a_third_party_crate_outside_its_crates_is_caught() {
    let (mut ws, rules) = real();
    ws.crates.get_mut("hebb").expect("facade").deps.insert("cranelift-codegen".into());
    ws.crates.get_mut("hebb-lower").expect("lower").deps.insert("clap".into());
    let errors = check(&ws, &rules);
    assert!(errors.iter().any(|e| e.contains("`hebb` depends on `cranelift-codegen`")), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("`hebb-lower` depends on `clap`")), "{errors:?}");
}
