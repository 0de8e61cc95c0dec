//! Any text as an amount: a value or an error, never a panic; values print and re-read equal.
#![no_main]

use compact_model::Amount;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(a) = Amount::parse(text) {
        assert_eq!(Amount::parse(&a.to_string()), Ok(a));
    }
});
