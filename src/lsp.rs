//! `hebb lsp`: a language server over stdio (LSP 3.17, synchronous, one
//! thread). Every change of a document checks it as `hebb check` does (the
//! same session, so the same codes, spans and help) and publishes the
//! diagnostics; hover, go to definition, completion and document symbols
//! read the syntax tree (which exists even when the model has errors) and,
//! when the model checks, its dimensions and integrators.

use hebb::lang::diag::{Diagnostic, Severity};
use hebb::lang::span::{FileId, Span};
use hebb::lang::syntax::ast::{self, Item, ItemDef, ItemKind, Member};
use hebb::session::{self, Checked, Request};
use lsp_server::{Connection, Message, Notification, RequestId, Response};
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionOptions, DiagnosticRelatedInformation, DiagnosticSeverity,
    DocumentSymbol, GotoDefinitionResponse, Hover, HoverContents, HoverProviderCapability, Location, MarkupContent,
    MarkupKind, NumberOrString, OneOf, Position, PublishDiagnosticsParams, Range, ServerCapabilities, SymbolKind,
    TextDocumentPositionParams, TextDocumentSyncCapability, TextDocumentSyncKind, Uri,
};
use std::collections::HashMap;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::str::FromStr;

type Result<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

/// Serves one client on stdin/stdout until it asks to shut down.
pub fn serve() -> Result<()> {
    let (connection, io_threads) = Connection::stdio();
    let capabilities = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![" ".into(), ".".into()]),
            ..CompletionOptions::default()
        }),
        document_symbol_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    };
    connection.initialize(serde_json::to_value(capabilities)?)?;
    let mut server = Server { documents: HashMap::new() };
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection.handle_shutdown(&request)? {
                    break;
                }
                let response = server.request(request.id.clone(), &request.method, request.params);
                connection.sender.send(Message::Response(response))?;
            }
            Message::Notification(n) => {
                if let Some(published) = server.notification(&n.method, n.params)? {
                    let method = lsp_types::notification::PublishDiagnostics::METHOD.to_string();
                    let params = serde_json::to_value(published)?;
                    connection.sender.send(Message::Notification(Notification { method, params }))?;
                }
            }
            Message::Response(_) => {}
        }
    }
    // The writer thread ends when the last sender is gone.
    drop(connection);
    io_threads.join()?;
    Ok(())
}

/// An open document: its text and what checking it found.
struct Document {
    text: String,
    checked: Option<Checked>,
}

struct Server {
    documents: HashMap<String, Document>,
}

impl Server {
    /// didOpen / didChange (full text) / didClose; the diagnostics to publish.
    fn notification(&mut self, method: &str, params: serde_json::Value) -> Result<Option<PublishDiagnosticsParams>> {
        use lsp_types::notification::{DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument};
        let (uri, text) = match method {
            DidOpenTextDocument::METHOD => {
                let p: lsp_types::DidOpenTextDocumentParams = serde_json::from_value(params)?;
                (p.text_document.uri, p.text_document.text)
            }
            DidChangeTextDocument::METHOD => {
                let p: lsp_types::DidChangeTextDocumentParams = serde_json::from_value(params)?;
                let Some(change) = p.content_changes.into_iter().last() else { return Ok(None) };
                (p.text_document.uri, change.text)
            }
            DidCloseTextDocument::METHOD => {
                let p: lsp_types::DidCloseTextDocumentParams = serde_json::from_value(params)?;
                self.documents.remove(p.text_document.uri.as_str());
                return Ok(Some(PublishDiagnosticsParams {
                    uri: p.text_document.uri,
                    diagnostics: vec![],
                    version: None,
                }));
            }
            _ => return Ok(None),
        };
        let checked = session::check(&Request::text(&text, path_of(&uri))).ok();
        let diagnostics = checked.as_ref().map(|c| lsp_diagnostics(c, &uri)).unwrap_or_default();
        self.documents.insert(uri.as_str().to_string(), Document { text, checked });
        Ok(Some(PublishDiagnosticsParams { uri, diagnostics, version: None }))
    }

    fn request(&self, id: RequestId, method: &str, params: serde_json::Value) -> Response {
        use lsp_types::request::{Completion, DocumentSymbolRequest, GotoDefinition, HoverRequest};
        let result = match method {
            HoverRequest::METHOD => self.at_position(params, hover).map(|h| serde_json::to_value(h).ok()),
            GotoDefinition::METHOD => self.at_position(params, definition).map(|d| serde_json::to_value(d).ok()),
            Completion::METHOD => self.at_position(params, completion).map(|c| serde_json::to_value(c).ok()),
            DocumentSymbolRequest::METHOD => serde_json::from_value::<lsp_types::DocumentSymbolParams>(params)
                .ok()
                .and_then(|p| self.documents.get(p.text_document.uri.as_str()))
                .map(|d| serde_json::to_value(symbols(d)).ok()),
            _ => {
                let message = format!("hebb lsp does not handle `{method}`");
                return Response::new_err(id, lsp_server::ErrorCode::MethodNotFound as i32, message);
            }
        };
        Response::new_ok(id, result.flatten().unwrap_or(serde_json::Value::Null))
    }

    /// Runs `f` on the document and byte offset a position request names.
    fn at_position<T>(&self, params: serde_json::Value, f: impl Fn(&Document, &Uri, usize) -> Option<T>) -> Option<T> {
        let p: TextDocumentPositionParams = serde_json::from_value(params).ok()?;
        let doc = self.documents.get(p.text_document.uri.as_str())?;
        f(doc, &p.text_document.uri, offset_of(&doc.text, p.position))
    }
}

/// The file a `file://` URI names (percent-escapes decoded); other URIs
/// become a file name in the current directory, so imports resolve there.
fn path_of(uri: &Uri) -> PathBuf {
    let s = uri.as_str();
    let Some(rest) = s.strip_prefix("file://") else { return PathBuf::from("untitled.hebb") };
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut k = 0;
    while k < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[k] == b'%'
            && let (Some(h), Some(l)) = (bytes.get(k + 1).and_then(|b| hex(*b)), bytes.get(k + 2).and_then(|b| hex(*b)))
        {
            out.push((h * 16 + l) as u8);
            k += 3;
        } else {
            out.push(bytes[k]);
            k += 1;
        }
    }
    PathBuf::from(String::from_utf8_lossy(&out).into_owned())
}

/// The `file://` URI of a path, percent-escaping what a URI path cannot
/// hold (the inverse of `path_of`).
fn uri_of(path: &Path) -> Option<Uri> {
    let mut text = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            text.push(b as char);
        } else {
            text.push_str(&format!("%{b:02X}"));
        }
    }
    Uri::from_str(&text).ok()
}

/// LSP position (line, UTF-16 column) of byte `offset` in `text`.
fn position_of(text: &str, offset: usize) -> Position {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let start = before.rfind('\n').map_or(0, |k| k + 1);
    Position::new(line as u32, before[start..].encode_utf16().count() as u32)
}

/// Byte offset of an LSP position (clamped to the line's end).
fn offset_of(text: &str, p: Position) -> usize {
    let mut start = 0;
    for _ in 0..p.line {
        match text[start..].find('\n') {
            Some(k) => start += k + 1,
            None => return text.len(),
        }
    }
    let line = &text[start..text[start..].find('\n').map_or(text.len(), |k| start + k)];
    let mut units = 0;
    for (k, c) in line.char_indices() {
        if units >= p.character as usize {
            return start + k;
        }
        units += c.len_utf16();
    }
    start + line.len()
}

fn range_of(text: &str, span: Span) -> Range {
    Range::new(position_of(text, span.start as usize), position_of(text, span.end as usize))
}

/// The checker's diagnostics as LSP diagnostics: the primary label's span
/// (a diagnostic in an imported file is shown at the top of the document,
/// naming the file), the code, the message with the label and the help;
/// further labels as related information.
fn lsp_diagnostics(checked: &Checked, uri: &Uri) -> Vec<lsp_types::Diagnostic> {
    let all = checked.diagnostics();
    let main = all.sources.get(FileId(0));
    all.diagnostics.iter().map(|d| one_diagnostic(d, &main.text, &all.sources, uri)).collect()
}

fn one_diagnostic(
    d: &Diagnostic,
    text: &str,
    sources: &hebb::lang::span::SourceMap,
    uri: &Uri,
) -> lsp_types::Diagnostic {
    let primary = d.labels.first();
    let (range, elsewhere) = match primary {
        Some(l) if l.span.file == FileId(0) => (range_of(text, l.span), None),
        Some(l) => (Range::default(), Some(sources.get(l.span.file).name.clone())),
        None => (Range::default(), None),
    };
    let mut message = d.message.clone();
    if let Some(l) = primary.filter(|l| !l.text.is_empty()) {
        message.push_str(&format!(" ({})", l.text));
    }
    if let Some(file) = elsewhere {
        message.push_str(&format!(" [in {file}]"));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .skip(1)
        .filter(|l| l.span.file == FileId(0))
        .map(|l| DiagnosticRelatedInformation {
            location: Location::new(uri.clone(), range_of(text, l.span)),
            message: l.text.clone(),
        })
        .collect();
    lsp_types::Diagnostic {
        range,
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.to_string())),
        source: Some("hebb".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..lsp_types::Diagnostic::default()
    }
}

/// The identifier under (or just before) byte `offset`, with its span.
fn word_at(text: &str, offset: usize) -> Option<(usize, usize, &str)> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let offset = offset.min(text.len());
    let start = text[..offset].rfind(|c: char| !is_word(c)).map_or(0, |k| k + 1);
    let end = text[offset..].find(|c: char| !is_word(c)).map_or(text.len(), |k| offset + k);
    let word = &text[start..end];
    (!word.is_empty() && !word.starts_with(|c: char| c.is_ascii_digit())).then_some((start, end, word))
}

/// The items of every file of the checked model, with their file.
fn items(checked: &Checked) -> impl Iterator<Item = (FileId, &ItemDef)> {
    checked.loaded.files.iter().enumerate().flat_map(|(k, f)| {
        f.items.iter().filter_map(move |i| match i {
            Item::Def(d) => Some((FileId(k as u32), d)),
            _ => None,
        })
    })
}

/// The item of the main file containing byte `offset`.
fn enclosing(checked: &Checked, offset: usize) -> Option<&ItemDef> {
    items(checked)
        .filter(|(f, _)| *f == FileId(0))
        .map(|(_, d)| d)
        .find(|d| (d.span.start as usize..=d.span.end as usize).contains(&offset))
}

/// A param, state or let of `item` named `name`: its name's span, its kind,
/// and the declaration's span.
fn member_named<'a>(item: &'a ItemDef, name: &str) -> Option<(&'a ast::Ident, &'static str, Span)> {
    item.members.iter().find_map(|m| match m {
        Member::Param { name: n, span, .. } if n.name == name => Some((n, "param", *span)),
        Member::State { name: n, span, .. } if n.name == name => Some((n, "state", *span)),
        Member::Let { name: n, span, .. } if n.name == name => Some((n, "let", *span)),
        _ => None,
    })
}

/// For a name written `Type.name` (a variant's or a setting's param), the
/// type's item and file, if `Type` is a type of the model.
fn owner_item<'a>(checked: &'a Checked, text: &str, start: usize) -> Option<(FileId, &'a ItemDef)> {
    let before = text[..start].strip_suffix('.')?;
    let (_, _, owner) = word_at(before, before.len())?;
    items(checked).find(|(_, d)| {
        matches!(d.kind, ItemKind::Neuron | ItemKind::Synapse | ItemKind::Signal)
            && d.name.as_ref().is_some_and(|n| n.name == owner)
    })
}

/// Built-in names and their meaning.
const BUILTINS: [(&str, &str); 8] = [
    ("t", "the time of the current step (s)"),
    ("dt", "the time step (s)"),
    ("i", "the element's index in its population (in a synapse: the presynaptic index)"),
    ("j", "the postsynaptic index (synapses)"),
    ("N", "the size of the population"),
    ("lastspike", "the time of the neuron's last spike (s)"),
    ("pre", "the presynaptic neuron: `pre.x` reads its variable `x`"),
    ("post", "the postsynaptic neuron: `post.x` reads or writes its variable `x`"),
];

const KEYWORDS: [&str; 36] = [
    "neuron",
    "synapse",
    "signal",
    "network",
    "experiment",
    "import",
    "param",
    "state",
    "let",
    "spike",
    "when",
    "reset",
    "refractory",
    "method",
    "on",
    "every",
    "continuous",
    "plastic",
    "population",
    "connect",
    "with",
    "record",
    "of",
    "stimuli",
    "phase",
    "measure",
    "about",
    "from",
    "in",
    "variant",
    "abort",
    "plasticity",
    "off",
    "present",
    "each",
    "set",
];

fn hover(doc: &Document, _uri: &Uri, offset: usize) -> Option<Hover> {
    let checked = doc.checked.as_ref()?;
    let (start, end, word) = word_at(&doc.text, offset)?;
    let text = match owner_item(checked, &doc.text, start) {
        // `Type.param`: the member of that type, wherever it is declared.
        Some((file, item)) => {
            let (_, kind, span) = member_named(item, word)?;
            let source = &checked.loaded.sources.get(file).text;
            let declaration = source.get(span.start as usize..span.end as usize).unwrap_or(word).trim();
            let owner = item.name.as_ref().map_or("", |n| n.name.as_str());
            format!("{kind} `{word}` of `{owner}`\n```hebb\n{declaration}\n```")
        }
        None => describe(checked, &doc.text, offset, word)?,
    };
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: text }),
        range: Some(Range::new(position_of(&doc.text, start), position_of(&doc.text, end))),
    })
}

/// What a name is: a member of the enclosing item (its declaration and
/// dimension), an item (its kind; for a neuron type the integrator chosen),
/// a built-in, or a unit.
fn describe(checked: &Checked, text: &str, offset: usize, word: &str) -> Option<String> {
    let model = &checked.loaded.model;
    if let Some(item) = enclosing(checked, offset)
        && let Some((_, kind, span)) = member_named(item, word)
    {
        let declaration = text.get(span.start as usize..span.end as usize).unwrap_or(word).trim();
        let dynamics = item.name.as_ref().and_then(|n| {
            let n = n.name.as_str();
            (model.neuron(n).map(|k| &model.neurons[k].dynamics))
                .or_else(|| model.synapses.iter().find(|s| s.name == n).map(|s| &s.dynamics))
                .or_else(|| model.signals.iter().find(|s| s.name == n).map(|s| &s.dynamics))
        });
        let ty = dynamics.and_then(|d| match kind {
            "param" => d.params.iter().find(|p| p.name == word).map(|p| p.ty),
            "state" => d.states.iter().find(|s| s.name == word).map(|s| s.ty),
            _ => None,
        });
        let dim = match ty {
            Some(hebb::lang::hir::Ty::Num(d)) if d.is_dimensionless() => "\n\ndimensionless".to_string(),
            Some(hebb::lang::hir::Ty::Num(d)) => format!("\n\nunit: {d} (SI)"),
            Some(hebb::lang::hir::Ty::Bool) => "\n\nboolean".to_string(),
            _ => String::new(),
        };
        return Some(format!("{kind} `{word}`\n```hebb\n{declaration}\n```{dim}"));
    }
    if let Some((_, item)) = items(checked).find(|(_, d)| d.name.as_ref().is_some_and(|n| n.name == word)) {
        let mut s = format!("{} `{word}`", item.kind.keyword());
        if item.kind == ItemKind::Neuron
            && let Some(info) = checked.program().and_then(|p| {
                p.groups.iter().find_map(|g| match &g.kind {
                    hebb::ir::GroupKind::Neurons { type_name } if type_name == word => g.integrator.clone(),
                    _ => None,
                })
            })
        {
            s.push_str(&format!("\n\nintegrator: {} ({})", info.method, info.reason));
        }
        return Some(s);
    }
    if let Some((_, meaning)) = BUILTINS.iter().find(|(b, _)| *b == word) {
        return Some(format!("built-in `{word}`: {meaning}"));
    }
    let unit = hebb::lang::units::UNITS.iter().find(|u| u.symbol == word)?;
    Some(format!("unit `{word}` = {} {}", unit.scale, unit.dim))
}

fn definition(doc: &Document, uri: &Uri, offset: usize) -> Option<GotoDefinitionResponse> {
    let checked = doc.checked.as_ref()?;
    let (start, _, word) = word_at(&doc.text, offset)?;
    if let Some((file, item)) = owner_item(checked, &doc.text, start) {
        let (name, _, _) = member_named(item, word)?;
        let source = checked.loaded.sources.get(file);
        let target = if file == FileId(0) { uri.clone() } else { uri_of(source.path.as_deref()?)? };
        return Some(GotoDefinitionResponse::Scalar(Location::new(target, range_of(&source.text, name.span))));
    }
    if let Some(item) = enclosing(checked, offset)
        && let Some((name, _, _)) = member_named(item, word)
    {
        return Some(GotoDefinitionResponse::Scalar(Location::new(uri.clone(), range_of(&doc.text, name.span))));
    }
    let (file, name) = items(checked).find_map(|(f, d)| d.name.as_ref().filter(|n| n.name == word).map(|n| (f, n)))?;
    let source = checked.loaded.sources.get(file);
    let target = if file == FileId(0) { uri.clone() } else { uri_of(source.path.as_deref()?)? };
    Some(GotoDefinitionResponse::Scalar(Location::new(target, range_of(&source.text, name.span))))
}

fn completion(doc: &Document, _uri: &Uri, offset: usize) -> Option<Vec<CompletionItem>> {
    let line_start = doc.text[..offset.min(doc.text.len())].rfind('\n').map_or(0, |k| k + 1);
    let before = &doc.text[line_start..offset.min(doc.text.len())];
    let item = |label: &str, kind, detail: String| CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail: Some(detail),
        ..CompletionItem::default()
    };
    // After a number: units.
    if before.trim_end().ends_with(|c: char| c.is_ascii_digit()) && before.ends_with(' ') {
        let units = hebb::lang::units::UNITS.iter();
        return Some(
            units.map(|u| item(u.symbol, CompletionItemKind::UNIT, format!("{} {}", u.scale, u.dim))).collect(),
        );
    }
    let mut out: Vec<CompletionItem> =
        KEYWORDS.iter().map(|k| item(k, CompletionItemKind::KEYWORD, "keyword".into())).collect();
    out.extend(BUILTINS.iter().map(|(b, m)| item(b, CompletionItemKind::VARIABLE, m.to_string())));
    if let Some(checked) = &doc.checked {
        for (_, d) in items(checked) {
            if let Some(n) = &d.name {
                out.push(item(&n.name, CompletionItemKind::CLASS, d.kind.keyword().to_string()));
            }
        }
        if let Some(enclosing) = enclosing(checked, offset) {
            for m in &enclosing.members {
                if let Member::Param { name, .. } | Member::State { name, .. } | Member::Let { name, .. } = m {
                    out.push(item(&name.name, CompletionItemKind::FIELD, "member".into()));
                }
            }
        }
    }
    Some(out)
}

/// The items of the main file, with their params, states and lets.
fn symbols(doc: &Document) -> Vec<DocumentSymbol> {
    let Some(checked) = &doc.checked else { return Vec::new() };
    items(checked)
        .filter(|(f, _)| *f == FileId(0))
        .map(|(_, d)| {
            let name = d.name.as_ref().map_or_else(|| d.kind.keyword().to_string(), |n| n.name.clone());
            let selection = d.name.as_ref().map_or(d.kind_span, |n| n.span);
            let children = d
                .members
                .iter()
                .filter_map(|m| match m {
                    Member::Param { name, span, .. } => Some((name, *span, SymbolKind::CONSTANT)),
                    Member::State { name, span, .. } => Some((name, *span, SymbolKind::VARIABLE)),
                    Member::Let { name, span, .. } => Some((name, *span, SymbolKind::VARIABLE)),
                    _ => None,
                })
                .map(|(n, span, kind)| symbol(&doc.text, &n.name, kind, span, n.span, None))
                .collect();
            let kind = match d.kind {
                ItemKind::Neuron | ItemKind::Synapse | ItemKind::Signal => SymbolKind::CLASS,
                ItemKind::Network => SymbolKind::NAMESPACE,
                ItemKind::Experiment => SymbolKind::EVENT,
            };
            symbol(&doc.text, &name, kind, d.span, selection, Some(children))
        })
        .collect()
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` must still be given.
fn symbol(
    text: &str,
    name: &str,
    kind: SymbolKind,
    span: Span,
    selection: Span,
    children: Option<Vec<DocumentSymbol>>,
) -> DocumentSymbol {
    DocumentSymbol {
        name: name.to_string(),
        detail: None,
        kind,
        tags: None,
        deprecated: None,
        range: range_of(text, span),
        selection_range: range_of(text, selection),
        children,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units_and_round_trip() {
        let text = "ab\nτ_m = 1\n";
        assert_eq!(position_of(text, 0), Position::new(0, 0));
        assert_eq!(position_of(text, 3), Position::new(1, 0));
        let after_tau = 3 + 'τ'.len_utf8();
        assert_eq!(position_of(text, after_tau), Position::new(1, 1));
        for offset in [0, 2, 3, after_tau, text.len()] {
            assert_eq!(offset_of(text, position_of(text, offset)), offset);
        }
    }

    #[test]
    fn words_and_paths() {
        assert_eq!(word_at("x = tau_m + 1", 6).map(|w| w.2), Some("tau_m"));
        assert_eq!(word_at("x = tau_m + 1", 9).map(|w| w.2), Some("tau_m"));
        assert_eq!(word_at("x = 12", 5), None);
        let uri = Uri::from_str("file:///tmp/a%20b/m.hebb").unwrap();
        assert_eq!(path_of(&uri), PathBuf::from("/tmp/a b/m.hebb"));
        assert_eq!(uri_of(Path::new("/tmp/a b/m.hebb")).unwrap().as_str(), "file:///tmp/a%20b/m.hebb");
    }
}
