//! Any text as a stress-test risks file: risks or findings with places, never a panic.
#![no_main]

use compact_stress::Risks;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let guarantors = ["GB".to_owned(), "US".to_owned(), "PL".to_owned()];
    match Risks::parse("stress.toml", text, &guarantors) {
        Ok(r) => assert!(r.validate(&guarantors).is_ok()),
        Err(findings) => {
            assert!(!findings.is_empty());
            for f in &findings {
                let _ = f.render(Some(text));
            }
        }
    }
});
