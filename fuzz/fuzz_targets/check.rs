//! Any text as an agreement file, and as the umbrella document: findings, never a panic.
#![no_main]

use compact_model::{SourceFile, agreement_alone, check};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = |rel: &str| SourceFile {
        rel: rel.to_owned(),
        display: rel.to_owned(),
        text: text.to_owned(),
    };
    let _ = agreement_alone(&file("agreements/a.toml"));
    let _ = check(&[file("compact.toml"), file("agreements/a.toml"), file("parties/GB.toml")]);
});
