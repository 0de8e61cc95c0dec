//! Any bytes as a signed statement: a statement or an error, never a panic; a decoded
//! statement's canonical bytes decode to the same statement.
#![no_main]

use compact_statement::Statement;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = Statement::decode(data) {
        assert_eq!(Statement::decode(&s.leaf).ok(), Some(s));
    }
});
