//! Printing: tables, numbers and findings.
//!
//! Tables take the terminal's width: `COLUMNS` when set, else the width of the terminal on
//! stdout, else [`DEFAULT_WIDTH`] (stdout is a file or a pipe). Text cells wrap at spaces; a URL,
//! a number, a date or a hash is never broken (its column is kept at least as wide as it, and
//! the other columns wrap instead). Borders are box drawing on a terminal and plain ASCII when
//! stdout is not a terminal or with `--plain`. `compact` prints no colour, so `NO_COLOR` and a
//! pipe get the same characters as a terminal, less the box drawing.

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicBool, Ordering};

use comfy_table::presets::{ASCII_BORDERS_ONLY_CONDENSED, UTF8_BORDERS_ONLY};
use comfy_table::{CellAlignment, ColumnConstraint, ContentArrangement, Table, Width};

/// The width tables take when stdout is not a terminal and `COLUMNS` is not set.
pub const DEFAULT_WIDTH: u16 = 100;

/// The narrowest width a table is laid out for, whatever `COLUMNS` says.
const MIN_WIDTH: u16 = 20;

/// Set by `--plain`: ASCII borders even on a terminal.
static PLAIN: AtomicBool = AtomicBool::new(false);

/// Asks for plain ASCII output (`--plain`).
pub fn set_plain(plain: bool) {
    PLAIN.store(plain, Ordering::Relaxed);
}

/// Whether tables are drawn in plain ASCII: with `--plain`, or when stdout is not a terminal.
pub fn plain() -> bool {
    PLAIN.load(Ordering::Relaxed) || !std::io::stdout().is_terminal()
}

/// The width tables are laid out to: `COLUMNS`, else the terminal's, else [`DEFAULT_WIDTH`].
pub fn width() -> u16 {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|c| *c > 0);
    let terminal = || {
        let stdout = std::io::stdout();
        if stdout.is_terminal() {
            terminal_size::terminal_size_of(&stdout).map(|(w, _)| w.0)
        } else {
            None
        }
    };
    columns
        .or_else(terminal)
        .unwrap_or(DEFAULT_WIDTH)
        .max(MIN_WIDTH)
}

/// `println!` that returns an error instead of panicking when stdout is closed (`| head`).
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($t)*)?
    }};
}
pub(crate) use out;
use rust_decimal::Decimal;

use compact_model::Diagnostic;

/// Whether a word is a URL.
fn is_url(word: &str) -> bool {
    word.contains("://") || word.starts_with("www.")
}

/// Whether a word is a hash in hex, perhaps labelled (`sha256:…`).
fn is_hash(word: &str) -> bool {
    let hex = word.rsplit_once(':').map_or(word, |(_, h)| h);
    hex.len() >= 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
}

/// The width of the longest word of `text`.
fn longest_word(text: &str) -> usize {
    text.split_whitespace()
        .map(|w| w.chars().count())
        .max()
        .unwrap_or(0)
}

/// A table with a header row, right-aligning the columns listed in `numeric`, laid out to
/// [`width`] and drawn as [`plain`] says.
pub fn table(header: &[&str], rows: Vec<Vec<String>>, numeric: &[usize]) -> String {
    table_to(header, rows, numeric, width(), plain())
}

/// [`table`] at a given width and style.
///
/// No word is broken: text cells wrap at spaces, and each column is at least as wide as its
/// longest word. When the columns cannot all fit side by side that way, each row is printed as a
/// record, one `header  value` line per column. A URL or a hash longer than a third of the width
/// is replaced by a note `[n]` and printed whole on its own line below the table, where it can
/// be copied (a URL longer than the width is the one line that may be wider). Only when even
/// the records cannot fit are long words broken.
pub fn table_to(
    header: &[&str],
    rows: Vec<Vec<String>>,
    numeric: &[usize],
    width: u16,
    plain: bool,
) -> String {
    let limit = usize::from(width / 3).max(20);
    let mut notes: Vec<String> = Vec::new();
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|cell| footnote_urls(&cell, limit, &mut notes))
                .collect()
        })
        .collect();
    let max = usize::from(width);
    let side_by_side = floors(header, &rows);
    let text = if let Some(gap) = [2, 1]
        .into_iter()
        .find(|g| needed(&side_by_side, *g) <= max)
    {
        layout(header, &rows, numeric, width, plain, Some(gap))
    } else {
        let named = !header.iter().all(|h| h.is_empty()) && header.len() > 2;
        let records = named.then(|| records_of(header, &rows));
        match records {
            Some(r) if needed(&floors(&["", ""], &r), 2) <= max => {
                layout(&["", ""], &r, &[], width, plain, Some(2))
            }
            _ => layout(header, &rows, numeric, width, plain, None),
        }
    };
    let mut text = text;
    for (n, url) in notes.iter().enumerate() {
        text.push_str(&format!("\n[{}] {url}", n + 1));
    }
    text
}

/// Replaces each URL or hash of `cell` longer than `limit` by `[n]`, its place in `notes`.
fn footnote_urls(cell: &str, limit: usize, notes: &mut Vec<String>) -> String {
    let mut out = cell.to_owned();
    for word in cell.split_whitespace() {
        if (is_url(word) || is_hash(word)) && word.chars().count() > limit {
            let n = match notes.iter().position(|u| u == word) {
                Some(i) => i + 1,
                None => {
                    notes.push(word.to_owned());
                    notes.len()
                }
            };
            out = out.replace(word, &format!("[{n}]"));
        }
    }
    out
}

/// The rows side by side, `gap` blanks between columns, each column at least as wide as its
/// longest word; without a gap, one blank and words broken where they must be.
fn layout(
    header: &[&str],
    rows: &[Vec<String>],
    numeric: &[usize],
    width: u16,
    plain: bool,
    gap: Option<usize>,
) -> String {
    let mut t = Table::new();
    t.load_preset(if plain {
        ASCII_BORDERS_ONLY_CONDENSED
    } else {
        UTF8_BORDERS_ONLY
    });
    t.set_content_arrangement(ContentArrangement::Dynamic);
    t.set_width(width);
    let floors = floors(header, rows);
    if !header.iter().all(|h| h.is_empty()) {
        t.set_header(header.to_vec());
    }
    for row in rows {
        t.add_row(row.clone());
    }
    let last = floors.len().saturating_sub(1);
    let extra = gap.unwrap_or(1).saturating_sub(1);
    let pad = |i: usize| {
        let left = usize::from(i == 0);
        let right = if i == last { 1 } else { extra };
        (left, right)
    };
    if gap.is_some() {
        for (i, floor) in floors.iter().enumerate() {
            if *floor > 0
                && let Some(c) = t.column_mut(i)
            {
                // The boundary counts the column's padding.
                let (left, right) = pad(i);
                let padded = floor + left + right;
                let floor = u16::try_from(padded).unwrap_or(u16::MAX);
                c.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(floor)));
            }
        }
    }
    for i in numeric {
        if let Some(c) = t.column_mut(*i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    // One space between columns (the blank separator), and one inside each border.
    for (i, c) in t.column_iter_mut().enumerate() {
        let (left, right) = pad(i);
        c.set_padding((
            u16::try_from(left).unwrap_or(1),
            u16::try_from(right).unwrap_or(1),
        ));
    }
    t.to_string()
}

/// Each column's narrowest width: its longest word, header included.
fn floors(header: &[&str], rows: &[Vec<String>]) -> Vec<usize> {
    let mut floors: Vec<usize> = header.iter().map(|h| longest_word(h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            let w = longest_word(cell);
            match floors.get_mut(i) {
                Some(f) => *f = (*f).max(w),
                None => floors.push(w),
            }
        }
    }
    floors
}

/// The width a table needs to show whole words: the columns at their floors, `gap` blanks
/// between each two, a space inside each border, and the two borders.
fn needed(floors: &[usize], gap: usize) -> usize {
    floors.iter().sum::<usize>() + floors.len().saturating_sub(1) * gap + 4
}

/// Each row as a record: a line per column, its header then its value, rows apart.
fn records_of(header: &[&str], rows: &[Vec<String>]) -> Vec<Vec<String>> {
    let mut lines: Vec<Vec<String>> = Vec::new();
    for (n, row) in rows.iter().enumerate() {
        if n > 0 {
            lines.push(vec![String::new(), String::new()]);
        }
        for (i, cell) in row.iter().enumerate() {
            let name = header.get(i).copied().unwrap_or_default();
            lines.push(vec![name.to_owned(), cell.clone()]);
        }
    }
    lines
}

/// Rows as CSV (RFC 4180, through the `csv` crate), header first, without a final newline.
pub fn csv(header: &[&str], rows: Vec<Vec<String>>) -> anyhow::Result<String> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record(header)?;
    for r in rows {
        w.write_record(r)?;
    }
    let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(String::from_utf8_lossy(&bytes).trim_end().to_owned())
}

/// A decimal with thousands separators, rounded to whole units: `12,345,678`.
pub fn money(d: Decimal) -> String {
    grouped(d.round_dp(0))
}

/// A decimal with thousands separators in its integer part, fraction kept.
pub fn grouped(d: Decimal) -> String {
    let s = d.to_string();
    let (sign, s) = s.strip_prefix('-').map_or(("", s.as_str()), |r| ("-", r));
    let (int, frac) = s.split_once('.').map_or((s, None), |(i, f)| (i, Some(f)));
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

/// A statement's payload for a table cell: `key: value` pairs separated by `, `, nested objects
/// in braces and arrays in brackets, strings unquoted, so that the cell wraps between fields.
pub fn payload(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(m) => m
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::Object(_) => format!("{k}: {{{}}}", payload(v)),
                _ => format!("{k}: {}", payload(v)),
            })
            .collect::<Vec<_>>()
            .join(", "),
        serde_json::Value::Array(a) => format!(
            "[{}]",
            a.iter()
                .map(|v| match v {
                    serde_json::Value::Object(_) => format!("{{{}}}", payload(v)),
                    _ => payload(v),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        serde_json::Value::String(s) => amount(s),
        other => other.to_string(),
    }
}

/// Prints findings to stderr with the offending lines, and returns (errors, warnings).
pub fn print_diagnostics<'a>(
    diagnostics: &[Diagnostic],
    text_of: impl Fn(&str) -> Option<&'a str>,
) -> (usize, usize) {
    let mut errors = 0;
    let mut warnings = 0;
    for d in diagnostics {
        eprint!("{}", d.render(text_of(&d.path)));
        if d.is_error() {
            errors += 1;
        } else {
            warnings += 1;
        }
    }
    (errors, warnings)
}

/// `1 error`, `2 errors`; `1 entry`, `2 entries`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {}", plural_of(word))
    }
}

/// The plural of an English noun: `entry` → `entries`, `box` → `boxes`, `system` → `systems`.
fn plural_of(word: &str) -> String {
    let consonant_y = word.len() > 1
        && word.ends_with('y')
        && !word[..word.len() - 1].ends_with(['a', 'e', 'i', 'o', 'u']);
    if consonant_y {
        format!("{}ies", &word[..word.len() - 1])
    } else if word.ends_with(['s', 'x']) || word.ends_with("ch") || word.ends_with("sh") {
        format!("{word}es")
    } else {
        format!("{word}s")
    }
}

/// The singular of a plural unit: `systems` → `system`, `batteries` → `battery`; a currency
/// code or a word that is not a plural is kept.
fn singular_of(word: &str) -> String {
    if word.len() < 3 || word.chars().all(|c| c.is_ascii_uppercase()) {
        word.to_owned()
    } else if let Some(stem) = word.strip_suffix("ies") {
        format!("{stem}y")
    } else if let Some(stem) = word.strip_suffix('s')
        && !stem.ends_with('s')
    {
        stem.to_owned()
    } else {
        word.to_owned()
    }
}

/// An amount as the files write it (`2500000000 GBP`, `1 systems a year`) as people read it:
/// the number grouped (`2,500,000,000 GBP`), the unit singular after one (`1 system a year`).
/// Text that does not start with a number is returned as it is.
pub fn amount(text: &str) -> String {
    let (number, rest) = text.split_once(' ').unwrap_or((text, ""));
    let Ok(d) = number.parse::<Decimal>() else {
        return text.to_owned();
    };
    if rest.is_empty() {
        return grouped(d);
    }
    let (unit, tail) = rest
        .split_once(' ')
        .map_or((rest, None), |(u, t)| (u, Some(t)));
    let unit = if d == Decimal::ONE {
        singular_of(unit)
    } else {
        unit.to_owned()
    };
    match tail {
        Some(t) => format!("{} {unit} {t}", grouped(d)),
        None => format!("{} {unit}", grouped(d)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn widest(text: &str) -> usize {
        text.lines()
            .filter(|l| l.starts_with('|') || l.starts_with('+'))
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn tables_fit_without_breaking_words_urls_or_numbers() {
        let url = "https://example.org/a/very/long/path/to/the/source/of/this/agreement.html";
        let rows = vec![
            vec![
                "gb-military-2024".to_owned(),
                "2,500,000,000".to_owned(),
                format!("the text of the clause, which is long enough to wrap; see {url}"),
            ],
            vec!["de-ua".to_owned(), "12".to_owned(), "short".to_owned()],
        ];
        let t = table_to(&["id", "amount", "quote"], rows.clone(), &[1], 50, true);
        assert!(widest(&t) <= 50, "{t}");
        assert!(
            t.contains("2,500,000,000") && t.contains("gb-military-2024"),
            "{t}"
        );
        assert!(t.lines().any(|l| l == format!("[1] {url}")), "{t}");
        assert!(t.is_ascii(), "{t}");
        // Too narrow side by side: each row becomes a record.
        let t = table_to(&["id", "amount", "quote"], rows, &[1], 30, false);
        assert!(widest(&t) <= 30, "{t}");
        assert!(t.contains("amount  2,500,000,000"), "{t}");
        assert!(t.contains('│'), "{t}");
    }

    #[test]
    fn payloads_read_as_fields() -> Result<(), serde_json::Error> {
        let v: serde_json::Value =
            serde_json::from_str(r#"{"amount": "5 shells", "report": 7, "m": [{"kind": "x"}]}"#)?;
        assert_eq!(payload(&v), "amount: 5 shells, m: [{kind: x}], report: 7");
        Ok(())
    }

    #[test]
    fn amounts_units_and_articles_read_right() {
        assert_eq!(amount("2500000000 GBP"), "2,500,000,000 GBP");
        assert_eq!(amount("1 systems a year"), "1 system a year");
        assert_eq!(amount("1 batteries"), "1 battery");
        assert_eq!(amount("2 systems"), "2 systems");
        assert_eq!(amount("1 EUR"), "1 EUR");
        assert_eq!(amount("2952918664.81"), "2,952,918,664.81");
        assert_eq!(amount("2024-07-02"), "2024-07-02");
        assert_eq!(amount("kiel-r29/GB"), "kiel-r29/GB");
        assert_eq!(plural(1, "entry"), "1 entry");
        assert_eq!(plural(3, "entry"), "3 entries");
        assert_eq!(plural(2, "checkpoint"), "2 checkpoints");
        assert_eq!(plural(2, "key"), "2 keys");
    }

    #[test]
    fn thousands_are_grouped() {
        let d = |s| Decimal::from_str(s).unwrap();
        assert_eq!(grouped(d("1234567.5")), "1,234,567.5");
        assert_eq!(grouped(d("-1000")), "-1,000");
        assert_eq!(grouped(d("999")), "999");
        assert_eq!(money(d("2952918.999")), "2,952,919");
    }
}
