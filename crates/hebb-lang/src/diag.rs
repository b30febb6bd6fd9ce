//! Diagnostics: one plain data type for every phase, rendered through miette.
//!
//! Phases return `Vec<Diagnostic>` and never stop at the first error. The
//! conversion from our [`Span`] to `miette::SourceSpan` happens only here.

use crate::span::{SourceMap, Span};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// A labelled span. The first label of a diagnostic is its primary one.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable code such as `hebb::units::mismatch`.
    pub code: &'static str,
    /// What is wrong: lowercase, no trailing full stop, code in backticks.
    pub message: String,
    pub labels: Vec<Label>,
    /// What to do about it, when there is a likely fix.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Error, code, message: message.into(), labels: Vec::new(), help: None }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, code, message: message.into(), labels: Vec::new(), help: None }
    }

    pub fn label(mut self, span: Span, text: impl Into<String>) -> Diagnostic {
        self.labels.push(Label { span, text: text.into() });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn with_help(mut self, help: Option<String>) -> Diagnostic {
        self.help = help;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The primary span, if any.
    pub fn span(&self) -> Option<Span> {
        self.labels.first().map(|l| l.span)
    }
}

pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(Diagnostic::is_error)
}

/// Sorts diagnostics by file and position so output is stable and reads top
/// to bottom; diagnostics without a span come last.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by_key(|d| match d.span() {
        Some(s) => (0, s.file, s.start, s.end),
        None => (1, Default::default(), 0, 0),
    });
}

fn miette_span(span: Span) -> SourceSpan {
    SourceSpan::new((span.start as usize).into(), span.len())
}

/// A diagnostic bound to the text of the files its labels point into, in the
/// form miette renders. Labels in other files than the primary one become
/// related diagnostics with their own source.
struct Rendered {
    severity: Severity,
    /// Related notes in other files render as advice.
    advice: bool,
    code: &'static str,
    message: String,
    help: Option<String>,
    labels: Vec<LabeledSpan>,
    source: Option<NamedSource<String>>,
    related: Vec<Rendered>,
}

impl fmt::Debug for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Rendered {}

impl miette::Diagnostic for Rendered {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        if self.code.is_empty() { None } else { Some(Box::new(self.code)) }
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            _ if self.advice => miette::Severity::Advice,
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() { None } else { Some(Box::new(self.labels.iter().cloned())) }
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(self.related.iter().map(|r| r as &dyn miette::Diagnostic)))
        }
    }
}

fn bind(diag: &Diagnostic, sources: &SourceMap) -> Rendered {
    let primary_file = diag.span().map(|s| s.file);
    let mut labels = Vec::new();
    let mut related = Vec::new();
    for (k, label) in diag.labels.iter().enumerate() {
        let text = if label.text.is_empty() { None } else { Some(label.text.clone()) };
        if Some(label.span.file) == primary_file {
            let span = miette_span(label.span);
            labels.push(if k == 0 {
                LabeledSpan::new_primary_with_span(text, span)
            } else {
                LabeledSpan::new_with_span(text, span)
            });
        } else {
            let file = sources.get(label.span.file);
            related.push(Rendered {
                severity: Severity::Warning,
                advice: true,
                code: "",
                message: format!("see `{}`", file.name),
                help: None,
                labels: vec![LabeledSpan::new_with_span(text, miette_span(label.span))],
                source: Some(NamedSource::new(file.name.clone(), file.text.clone())),
                related: Vec::new(),
            });
        }
    }
    let source = primary_file.map(|f| {
        let file = sources.get(f);
        NamedSource::new(file.name.clone(), file.text.clone())
    });
    Rendered {
        severity: diag.severity,
        advice: false,
        code: diag.code,
        message: diag.message.clone(),
        help: diag.help.clone(),
        labels,
        source,
        related,
    }
}

/// Labels further right than this are not drawn under their line (miette
/// pads with a width that must fit 16 bits); the diagnostic is written as
/// text with `file:line:column` instead.
const MAX_DRAWN_COLUMN: usize = 10_000;

/// The 0-based column (in bytes) where a span starts.
fn column(sources: &SourceMap, span: Span) -> usize {
    let text = &sources.get(span.file).text;
    let start = (span.start as usize).min(text.len());
    start - text[..start].rfind('\n').map_or(0, |k| k + 1)
}

/// A diagnostic as lines of text, for labels too far right to draw.
fn plain(diag: &Diagnostic, sources: &SourceMap) -> String {
    let mark = if diag.is_error() { "×" } else { "⚠" };
    let mut out = format!("{}\n\n  {mark} {}\n", diag.code, diag.message);
    for l in &diag.labels {
        let file = sources.get(l.span.file);
        let start = (l.span.start as usize).min(file.text.len());
        let line = file.text[..start].matches('\n').count() + 1;
        out.push_str(&format!("   at {}:{line}:{}: {}\n", file.name, column(sources, l.span) + 1, l.text));
    }
    if let Some(help) = &diag.help {
        out.push_str(&format!("  help: {help}\n"));
    }
    out
}

/// How diagnostics are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Unicode, no colour, 80 columns: for tests and pipes, identical everywhere.
    Plain,
    /// Unicode with colour, for a terminal.
    Color,
}

/// Renders diagnostics to text with an explicit handler (never miette's global
/// hook, whose layout changes with `NO_COLOR` and `CI`).
pub fn render(diags: &[Diagnostic], sources: &SourceMap, style: Style) -> String {
    let theme = match style {
        Style::Plain => GraphicalTheme::unicode_nocolor(),
        Style::Color => GraphicalTheme::unicode(),
    };
    let handler = GraphicalReportHandler::new_themed(theme).without_syntax_highlighting().with_width(80);
    let mut out = String::new();
    for diag in diags {
        if diag.labels.iter().any(|l| column(sources, l.span) > MAX_DRAWN_COLUMN) {
            out.push_str(&plain(diag, sources));
            out.push('\n');
            continue;
        }
        let rendered = bind(diag, sources);
        if handler.render_report(&mut out, &rendered).is_err() {
            out.push_str(&format!("{}: {}\n", diag.code, diag.message));
        }
        out.push('\n');
    }
    out
}
