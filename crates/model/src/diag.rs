//! Diagnostics: what is wrong, where, and how it is shown to a person.
//!
//! A diagnostic names a file by its display path and, where it can, a byte span in that file's
//! text. Rendering turns the span into `line:col` (1-based; the column counts characters) and
//! prints the offending line with carets under the span, in the way rustc does.

use std::fmt::Write as _;
use std::ops::Range;

/// How bad a finding is. Errors make a compact invalid; warnings do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Legal but suspicious.
    Warning,
    /// Invalid: the compact cannot be used.
    Error,
}

impl Severity {
    /// The word printed before the message.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One finding about one place in one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file as the user should see it (e.g. `examples/kyiv-compact/agreements/gb.toml`).
    pub path: String,
    /// Byte range in the file's text, when the finding has a place.
    pub span: Option<Range<usize>>,
    /// What is wrong, in one line.
    pub message: String,
    /// An optional hint on how to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error at `span` of `path`.
    pub fn error(path: &str, span: Option<Range<usize>>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            path: path.to_owned(),
            span,
            message: message.into(),
            help: None,
        }
    }

    /// A warning at `span` of `path`.
    pub fn warning(path: &str, span: Option<Range<usize>>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(path, span, message)
        }
    }

    /// The same finding with a hint.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `line:col` (1-based) of the start of the span in `text`, if there is a span.
    pub fn line_col(&self, text: &str) -> Option<(usize, usize)> {
        self.span.as_ref().map(|s| line_col(text, s.start))
    }

    /// The one-line header: `path:line:col: error: message` (or `path: error: message`).
    pub fn header(&self, text: Option<&str>) -> String {
        let place = match (text, self.line_col(text.unwrap_or(""))) {
            (Some(_), Some((line, col))) => format!("{}:{line}:{col}", self.path),
            _ => self.path.clone(),
        };
        format!("{place}: {}: {}", self.severity.as_str(), self.message)
    }

    /// The header, then the offending line with carets under the span, then the help.
    /// `text` is the file's text when it could be read.
    pub fn render(&self, text: Option<&str>) -> String {
        let mut out = self.header(text);
        out.push('\n');
        if let (Some(text), Some(span)) = (text, self.span.as_ref()) {
            let (line_no, col) = line_col(text, span.start);
            let line = text.lines().nth(line_no - 1).unwrap_or("");
            let gutter = line_no.to_string().len();
            let line_chars = line.chars().count();
            let span_chars = text
                .get(span.clone())
                .map(|s| s.lines().next().unwrap_or("").chars().count())
                .unwrap_or(1);
            let width = span_chars.clamp(1, line_chars.saturating_sub(col - 1).max(1));
            let _ = writeln!(out, "{:gutter$} |", "");
            let _ = writeln!(out, "{line_no} | {line}");
            let _ = writeln!(
                out,
                "{:gutter$} | {}{}",
                "",
                " ".repeat(col - 1),
                "^".repeat(width)
            );
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "  = help: {help}");
        }
        out
    }
}

/// 1-based line and character column of byte `offset` in `text`. Offsets past the end, or
/// inside a character, are clamped to the nearest character boundary before them.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before.get(line_start..).unwrap_or("").chars().count() + 1;
    (line, col)
}

/// A growing list of findings.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Adds a finding.
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    /// Adds an error.
    pub fn error(&mut self, path: &str, span: Option<Range<usize>>, message: impl Into<String>) {
        self.push(Diagnostic::error(path, span, message));
    }

    /// Adds a warning.
    pub fn warning(&mut self, path: &str, span: Option<Range<usize>>, message: impl Into<String>) {
        self.push(Diagnostic::warning(path, span, message));
    }

    /// True when at least one error was found.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    /// How many errors were found so far.
    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    /// The findings in file, then position, order.
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.items.sort_by(|a, b| {
            (&a.path, a.span.as_ref().map(|s| s.start), &a.message).cmp(&(
                &b.path,
                b.span.as_ref().map(|s| s.start),
                &b.message,
            ))
        });
        self.items.dedup();
        self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_from_one() {
        let text = "a = 1\nbé = \"x\"\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        // 'é' is two bytes; '=' after "bé " is the 4th character.
        assert_eq!(line_col(text, text.rfind('=').unwrap()), (2, 4));
        assert_eq!(line_col(text, 10_000), (3, 1));
    }

    #[test]
    fn render_points_at_the_span() {
        let text = "id = \"x\"\nguarantor = \"ZZ\"\n";
        let start = text.find("\"ZZ\"").unwrap();
        let d = Diagnostic::error("a/b.toml", Some(start..start + 4), "unknown party `ZZ`")
            .with_help("declare it in parties/ZZ.toml");
        let shown = d.render(Some(text));
        assert_eq!(
            shown,
            "a/b.toml:2:13: error: unknown party `ZZ`\n  |\n2 | guarantor = \"ZZ\"\n  |             ^^^^\n  = help: declare it in parties/ZZ.toml\n"
        );
    }

    #[test]
    fn a_finding_without_a_place_names_only_the_file() {
        let d = Diagnostic::error("x.toml", None, "file is not UTF-8");
        assert_eq!(d.render(None), "x.toml: error: file is not UTF-8\n");
    }
}
