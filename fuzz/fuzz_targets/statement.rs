//! Any bytes as a signed statement: a statement or an error, never a panic; a decoded
//! statement's canonical bytes decode to the same statement; stamped with a receipt time, it
//! decodes to itself, signs the same bytes, and loses the stamp again.
#![no_main]

use compact_statement::Statement;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = Statement::decode(data) {
        assert_eq!(Statement::decode(&s.leaf).ok(), Some(s.clone()));
        let at = jiff::Timestamp::from_second(1_700_000_000).expect("a time");
        if let Ok(r) = s.received_at(at) {
            assert_eq!(Statement::decode(&r.leaf).ok(), Some(r.clone()));
            assert_eq!(r.signed_bytes, s.signed_bytes);
            assert_eq!(r.received, Some(at));
            let plain = r.unreceived().expect("unstamped");
            assert_eq!(plain.received, None);
            assert_eq!(plain.signed_bytes, s.signed_bytes);
        }
    }
});
