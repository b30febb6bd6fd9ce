//! Loading a model from disk: the main file and its imports, parsed and
//! checked. This and `cli` are the only places that read model files.

use crate::diag::{self, Diagnostic};
use crate::hir::Model;
use crate::sema::{self, Setting};
use crate::source::{FileId, SourceMap, Span};
use crate::syntax::{self, ast};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A parsed and checked model with everything needed to report on it.
pub struct Checked {
    pub sources: SourceMap,
    pub files: Vec<ast::File>,
    pub model: Model,
    pub diags: Vec<Diagnostic>,
    pub parse_time: Duration,
    pub check_time: Duration,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        diag::has_errors(&self.diags)
    }
}

/// Reads, parses and checks the model at `path`. `Err` only when the main
/// file itself cannot be read.
pub fn load(path: &Path, settings: &[String]) -> std::io::Result<Checked> {
    load_variant(path, settings, None)
}

/// Like [`load`], with the changes of an experiment variant applied.
pub fn load_variant(path: &Path, settings: &[String], variant: Option<&str>) -> std::io::Result<Checked> {
    let text = std::fs::read_to_string(path)?;
    let canonical = path.canonicalize().ok();
    Ok(load_text_variant(
        &path.display().to_string(),
        canonical,
        &text,
        settings,
        &|p| std::fs::read_to_string(p),
        variant,
    ))
}

/// Like [`load`] for text already in memory; imports are read with `read`,
/// relative to `path`'s directory.
pub fn load_text(
    name: &str,
    path: Option<PathBuf>,
    text: &str,
    settings: &[String],
    read: &dyn Fn(&Path) -> std::io::Result<String>,
) -> Checked {
    load_text_variant(name, path, text, settings, read, None)
}

/// Like [`load_text`], with the changes of an experiment variant applied.
pub fn load_text_variant(
    name: &str,
    path: Option<PathBuf>,
    text: &str,
    settings: &[String],
    read: &dyn Fn(&Path) -> std::io::Result<String>,
    variant: Option<&str>,
) -> Checked {
    let t0 = Instant::now();
    let mut sources = SourceMap::new();
    let mut files = Vec::new();
    let mut diags = Vec::new();
    let main = sources.add(name, path, text);
    let mut stack = vec![main];
    load_file(main, &mut sources, &mut files, &mut diags, &mut stack, read);
    let mut parsed_settings = Vec::new();
    for s in settings {
        if let Some(st) = parse_setting(s, &mut sources, &mut diags) {
            parsed_settings.push(st);
        }
    }
    let parse_time = t0.elapsed();
    let t1 = Instant::now();
    let (model, check_diags) = match variant {
        Some(v) => sema::check_variant(&files, &sources, &parsed_settings, v),
        None => sema::check(&files, &sources, &parsed_settings),
    };
    diags.extend(check_diags);
    let check_time = t1.elapsed();
    Checked { sources, files, model, diags, parse_time, check_time }
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
    read: &dyn Fn(&Path) -> std::io::Result<String>,
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
        let canonical = full.canonicalize().unwrap_or(full.clone());
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
        match read(&canonical) {
            Ok(text) => {
                let display = Path::new(&sources.get(id).name)
                    .parent()
                    .map(|p| p.join(&rel))
                    .unwrap_or_else(|| PathBuf::from(&rel));
                let new_id = sources.add(display.display().to_string(), Some(canonical), text);
                stack.push(new_id);
                load_file(new_id, sources, files, diags, stack, read);
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
    let v = sema::const_eval(&e, &[]).ok_or_else(|| format!("`{text}` is not a constant"))?;
    match e.ty {
        crate::hir::Ty::Num(d) => Ok((v, d)),
        _ => Err(format!("`{text}` is not a number")),
    }
}
