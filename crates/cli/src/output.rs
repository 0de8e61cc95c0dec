//! Printing: tables, numbers and findings.

use comfy_table::presets::UTF8_BORDERS_ONLY;
use comfy_table::{CellAlignment, ContentArrangement, Table};

/// Tables are laid out to fit this many columns; long cells wrap.
pub const TABLE_WIDTH: u16 = 150;

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

/// A table with a header row, right-aligning the columns listed in `numeric`.
pub fn table(header: &[&str], rows: Vec<Vec<String>>, numeric: &[usize]) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY);
    t.set_content_arrangement(ContentArrangement::Dynamic);
    t.set_width(TABLE_WIDTH);
    if !header.iter().all(|h| h.is_empty()) {
        t.set_header(header.to_vec());
    }
    for row in rows {
        t.add_row(row);
    }
    for i in numeric {
        if let Some(c) = t.column_mut(*i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    t.to_string()
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

/// `1 error`, `2 errors`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn thousands_are_grouped() {
        let d = |s| Decimal::from_str(s).unwrap();
        assert_eq!(grouped(d("1234567.5")), "1,234,567.5");
        assert_eq!(grouped(d("-1000")), "-1,000");
        assert_eq!(grouped(d("999")), "999");
        assert_eq!(money(d("2952918.999")), "2,952,919");
    }
}
