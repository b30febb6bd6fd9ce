//! Loading a model: the main file and its imports, parsed and checked.
//! Files are read through a [`Files`] reader the caller gives, so this
//! crate does no IO.

use crate::diag::{self, Diagnostic};
use crate::hir::Model;
use crate::sema::{self, Setting};
use crate::span::{FileId, SourceMap, Span};
use crate::syntax::{self, ast};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Where a model's files come from. The loader never touches the file
/// system itself: the caller gives it a reader (the file system, text in
/// memory, nothing at all for a fuzzer).
pub trait Files {
    /// The text of the file at `path`.
    fn read(&self, path: &Path) -> std::io::Result<String>;

    /// The name under which a file is known, so that one file reached by two
    /// paths is loaded once (and an import cycle is recognised): on a file
    /// system, its canonical path.
    fn canonical(&self, path: &Path) -> PathBuf {
        path.to_path_buf()
    }
}

/// No files at all: every import is missing.
pub struct NoFiles;

impl Files for NoFiles {
    fn read(&self, path: &Path) -> std::io::Result<String> {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("no files are available to read {}", path.display()),
        ))
    }
}

/// A parsed and checked model with everything needed to report on it.
pub struct Loaded {
    pub sources: SourceMap,
    pub files: Vec<ast::File>,
    pub model: Model,
    pub diags: Vec<Diagnostic>,
    pub parse_time: Duration,
    pub check_time: Duration,
}

impl Loaded {
    pub fn has_errors(&self) -> bool {
        diag::has_errors(&self.diags)
    }
}

/// The main file of a model: its text, the name diagnostics show, and the
/// path it was read from (imports are resolved next to it; `None` for text
/// that did not come from a file).
pub struct MainFile<'a> {
    pub name: &'a str,
    pub path: Option<PathBuf>,
    pub text: &'a str,
}

/// Parses and checks a model: the main file and, through `files`, its
/// imports; `settings` are `--set Type.param=value` texts, and `variant`
/// names an experiment variant whose changes are applied before checking.
/// Never fails: every problem is a diagnostic.
pub fn load(main: MainFile<'_>, settings: &[String], variant: Option<&str>, files: &dyn Files) -> Loaded {
    let t0 = Instant::now();
    let mut sources = SourceMap::new();
    let mut parsed = Vec::new();
    let mut diags = Vec::new();
    let main = sources.add(main.name, main.path, main.text);
    let mut stack = vec![main];
    load_file(main, &mut sources, &mut parsed, &mut diags, &mut stack, files);
    let mut parsed_settings = Vec::new();
    for s in settings {
        if let Some(st) = parse_setting(s, &mut sources, &mut diags) {
            parsed_settings.push(st);
        }
    }
    let parse_time = t0.elapsed();
    let t1 = Instant::now();
    let (model, check_diags) = match variant {
        Some(v) => sema::check_variant(&parsed, &sources, &parsed_settings, v),
        None => sema::check(&parsed, &sources, &parsed_settings),
    };
    diags.extend(check_diags);
    let check_time = t1.elapsed();
    Loaded { sources, files: parsed, model, diags, parse_time, check_time }
}

/// Parses one `--set Name.param=value`; its text becomes a source of its own
/// so that diagnostics can point into it.
fn parse_setting(text: &str, sources: &mut SourceMap, diags: &mut Vec<Diagnostic>) -> Option<Setting> {
    let id = sources.add(format!("--set '{text}'"), None, text);
    let Some((lhs, rhs)) = text.split_once('=') else {
        diags.push(
            Diagnostic::error("hebb::set::syntax", "`--set` takes `Type.param=value`")
                .label(Span::new(id, 0, text.len()), "no `=` here")
                .help("write `--set 'LIF.tau_m=15 ms'`"),
        );
        return None;
    };
    let wrapped = format!("experiment {{\n{lhs}={rhs}\n}}\n");
    let (file, parse_diags) = syntax::parse(id, &wrapped);
    // Positions in the wrapped text are shifted by the prefix.
    let shift = "experiment {\n".len();
    let fix = |mut s: Span| {
        s.start = s.start.saturating_sub(shift as u32).min(text.len() as u32);
        s.end = s.end.saturating_sub(shift as u32).min(text.len() as u32);
        s
    };
    if !parse_diags.is_empty() {
        for mut d in parse_diags {
            for l in &mut d.labels {
                l.span = fix(l.span);
            }
            diags.push(d);
        }
        return None;
    }
    let member = file.items.into_iter().find_map(|i| match i {
        ast::Item::Def(d) => d.members.into_iter().next(),
        _ => None,
    });
    match member {
        Some(ast::Member::Assign { mut target, mut value, op: ast::AssignOp::Set, .. }) => {
            target.span = fix(target.span);
            for p in &mut target.parts {
                p.span = fix(p.span);
            }
            shift_expr(&mut value, &fix);
            Some(Setting { path: target, value })
        }
        _ => {
            diags.push(
                Diagnostic::error("hebb::set::syntax", "`--set` takes `Type.param=value`")
                    .label(Span::new(id, 0, text.len()), "not of that form"),
            );
            None
        }
    }
}

fn shift_expr(e: &mut ast::Expr, fix: &impl Fn(Span) -> Span) {
    e.span = fix(e.span);
    match &mut e.kind {
        ast::ExprKind::Quantity(_, u) => {
            u.span = fix(u.span);
            for f in &mut u.factors {
                if let Some(s) = &mut f.symbol {
                    s.span = fix(s.span);
                }
            }
        }
        ast::ExprKind::Name(p) => {
            p.span = fix(p.span);
            for part in &mut p.parts {
                part.span = fix(part.span);
            }
        }
        ast::ExprKind::Call(name, args) => {
            name.span = fix(name.span);
            args.iter_mut().for_each(|a| shift_expr(a, fix));
        }
        ast::ExprKind::List(items) => items.iter_mut().for_each(|a| shift_expr(a, fix)),
        ast::ExprKind::Unary(_, a) => shift_expr(a, fix),
        ast::ExprKind::Binary(_, a, b) => {
            shift_expr(a, fix);
            shift_expr(b, fix);
        }
        _ => {}
    }
}

/// Parses file `id` and, depth first, its imports. Rules: an imported file
/// exists; imports do not form a cycle.
fn load_file(
    id: FileId,
    sources: &mut SourceMap,
    files: &mut Vec<ast::File>,
    diags: &mut Vec<Diagnostic>,
    stack: &mut Vec<FileId>,
    reader: &dyn Files,
) {
    let (file, parse_diags) = syntax::parse(id, &sources.get(id).text);
    diags.extend(parse_diags);
    let imports: Vec<(String, Span)> = file
        .items
        .iter()
        .filter_map(|i| match i {
            ast::Item::Import { path, span } => Some((path.clone(), *span)),
            _ => None,
        })
        .collect();
    let index = files.len();
    files.push(file);
    debug_assert_eq!(index, id.0 as usize, "files are pushed in id order");
    let dir = sources.get(id).path.as_deref().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_default();
    for (rel, span) in imports {
        let full = dir.join(&rel);
        let canonical = reader.canonical(&full);
        if let Some(existing) = sources.find_path(&canonical) {
            if stack.contains(&existing) {
                let mut chain: Vec<String> = stack.iter().map(|f| sources.get(*f).name.clone()).collect();
                chain.push(sources.get(existing).name.clone());
                diags.push(
                    Diagnostic::error("hebb::import::cycle", format!("import cycle: {}", chain.join(" → ")))
                        .label(span, "this import closes the cycle")
                        .help("move the shared items into a file that both import"),
                );
            }
            // Already loaded (a diamond): nothing more to do.
            continue;
        }
        match reader.read(&canonical) {
            Ok(text) => {
                let display = Path::new(&sources.get(id).name)
                    .parent()
                    .map(|p| p.join(&rel))
                    .unwrap_or_else(|| PathBuf::from(&rel));
                let new_id = sources.add(display.display().to_string(), Some(canonical), text);
                stack.push(new_id);
                load_file(new_id, sources, files, diags, stack, reader);
                stack.pop();
            }
            Err(err) => {
                let why = match err.kind() {
                    std::io::ErrorKind::NotFound => "no such file".to_string(),
                    std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                    _ => err.to_string().to_lowercase(),
                };
                diags.push(
                    Diagnostic::error("hebb::import::missing", format!("cannot read imported file `{rel}`"))
                        .label(span, why)
                        .help("import paths are relative to the directory of the importing file"),
                )
            }
        }
    }
}

/// Parses a quantity in the language's syntax (`2 s`, `15 ms`, `0.5`) for
/// command-line options.
pub fn parse_quantity(text: &str) -> Result<(f64, crate::units::Dim), String> {
    let mut sources = SourceMap::new();
    let mut diags = Vec::new();
    let setting = parse_setting(&format!("x={text}"), &mut sources, &mut diags)
        .ok_or_else(|| format!("`{text}` is not a quantity"))?;
    let scope = crate::sema::constant_scope();
    let e = crate::sema::check_expr(&scope, &setting.value, &mut diags);
    if diag::has_errors(&diags) {
        return Err(diags.iter().map(|d| d.message.clone()).collect::<Vec<_>>().join("; "));
    }
    let v = crate::hir::const_eval(&e, &[]).ok_or_else(|| format!("`{text}` is not a constant"))?;
    match e.ty {
        crate::hir::Ty::Num(d) => Ok((v, d)),
        _ => Err(format!("`{text}` is not a number")),
    }
}
