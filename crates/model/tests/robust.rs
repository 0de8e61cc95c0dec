//! The model never panics, whatever text it is handed: every input gets findings or a compact.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use compact_model::{SourceFile, agreement_alone, check};
use proptest::prelude::*;

const AGREEMENT: &str = include_str!("../../../testdata/base/agreements/gb-ua.toml");
const COMPACT: &str = include_str!("../../../testdata/base/compact.toml");

fn file(rel: &str, text: String) -> SourceFile {
    SourceFile {
        rel: rel.to_owned(),
        display: rel.to_owned(),
        text,
    }
}

/// A valid text with a span replaced by arbitrary text: close to valid, so that the fuzzing
/// reaches validation and not only the TOML reader.
fn mutated(base: &'static str) -> impl Strategy<Value = String> {
    (0..base.len(), 0usize..40, ".{0,12}").prop_map(move |(at, len, insert)| {
        let mut at = at;
        while !base.is_char_boundary(at) {
            at -= 1;
        }
        let mut end = (at + len).min(base.len());
        while !base.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}{}{}", &base[..at], insert, &base[end..])
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_gets_findings_not_a_panic(text in ".{0,200}") {
        let out = check(&[file("compact.toml", text.clone()), file("agreements/a.toml", text.clone())]);
        prop_assert!(out.compact.is_none());
        prop_assert!(!out.diagnostics.is_empty());
        let _ = agreement_alone(&file("agreements/a.toml", text));
    }

    #[test]
    fn mutated_agreements_never_panic(text in mutated(AGREEMENT)) {
        let _ = agreement_alone(&file("agreements/gb-ua.toml", text.clone()));
        let checked = check(&[file("compact.toml", COMPACT.to_owned()), file("agreements/gb-ua.toml", text)]);
        // Findings point inside their file.
        for d in &checked.diagnostics {
            if let Some(s) = &d.span {
                prop_assert!(s.start <= s.end);
            }
        }
    }

    #[test]
    fn mutated_compacts_never_panic(text in mutated(COMPACT)) {
        let _ = check(&[file("compact.toml", text)]);
    }
}
