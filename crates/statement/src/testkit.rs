//! A small compact with keys for every party, for tests here and in other crates
//! (feature `testkit`). Keys are derived from fixed seeds: the same on every run.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    missing_debug_implementations
)]

use crate::rules::{MemoryLog, Mode, check};
use crate::*;
use compact_model::{Compact, SourceFile};

const COMPACT: &str = include_str!("../../cli/tests/fixtures/base/compact.toml");
const GB: &str = include_str!("../../cli/tests/fixtures/base/parties/GB.toml");
const PL: &str = include_str!("../../cli/tests/fixtures/base/parties/PL.toml");
const UA: &str = include_str!("../../cli/tests/fixtures/base/parties/UA.toml");
const JP: &str = include_str!("../../cli/tests/fixtures/base/parties/JP.toml");
const GB_UA: &str = include_str!("../../cli/tests/fixtures/base/agreements/gb-ua.toml");
const JP_UA: &str = include_str!("../../cli/tests/fixtures/base/agreements/jp-ua.toml");
const RATES: &str = include_str!("../../cli/tests/fixtures/base/rates.toml");

pub struct Party {
    pub signer: StandardSigner,
    pub vkey: String,
}

pub fn party(code: &str, seed: u8) -> Party {
    let k = crate::keys::from_seed(code, &[seed; 32]).unwrap();
    Party {
        signer: StandardSigner::new(&k.private).unwrap(),
        vkey: k.verifier,
    }
}

pub fn with_key(text: &str, vkey: &str, retired: Option<&str>) -> String {
    let retired = retired
        .map(|d| format!("retired_on = {d}\n"))
        .unwrap_or_default();
    format!("{text}\n[[keys]]\nkey = \"{vkey}\"\n{retired}")
}

pub struct World {
    pub compact: Compact,
    pub gb: Party,
    pub ua: Party,
    pub pl: Party,
    pub jp: Party,
    /// The log operator, who signs checkpoints.
    pub operator: Party,
}

pub fn world_with(gb_retired: Option<&str>) -> World {
    let (gb, ua, pl, jp) = (
        party("GB", 1),
        party("UA", 2),
        party("PL", 3),
        party("JP", 4),
    );
    let operator = party("test-compact", 9);
    let files = [
        (
            "compact.toml",
            format!("{COMPACT}\n[log]\noperator_key = \"{}\"\n", operator.vkey),
        ),
        ("parties/GB.toml", with_key(GB, &gb.vkey, gb_retired)),
        ("parties/UA.toml", with_key(UA, &ua.vkey, None)),
        ("parties/PL.toml", with_key(PL, &pl.vkey, None)),
        ("parties/JP.toml", with_key(JP, &jp.vkey, None)),
        ("agreements/gb-ua.toml", GB_UA.to_owned()),
        ("agreements/jp-ua.toml", JP_UA.to_owned()),
        ("rates.toml", RATES.to_owned()),
    ]
    .map(|(rel, text)| SourceFile {
        rel: rel.into(),
        display: rel.into(),
        text,
    });
    let checked = compact_model::check(&files);
    let compact = checked
        .compact
        .unwrap_or_else(|| panic!("{:?}", checked.diagnostics));
    World {
        compact,
        gb,
        ua,
        pl,
        jp,
        operator,
    }
}

pub fn world() -> World {
    world_with(None)
}

pub fn time(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub fn make(w: &World, who: &Party, author: &str, at: &str, payload: Payload) -> Statement {
    Statement::sign(
        Draft {
            compact: w.compact.id.clone(),
            author: author.into(),
            time: time(at),
            payload,
        },
        &who.signer,
    )
    .unwrap()
}

pub fn sign_agreement(w: &World, who: &Party, author: &str, id: &str) -> Statement {
    let a = w.compact.agreement(id, None).unwrap();
    make(
        w,
        who,
        author,
        "2024-02-01T10:00:00Z",
        Payload::AgreementSign(AgreementSign {
            agreement: id.into(),
            version: a.version,
            digest: compact_model::digest(a).unwrap(),
        }),
    )
}

pub fn report(w: &World, who: &Party, author: &str, commitment: &str, amount: &str) -> Statement {
    make(
        w,
        who,
        author,
        "2024-07-01T09:00:00Z",
        Payload::DeliveryReport(DeliveryReport {
            commitment: commitment.into(),
            amount: amount.into(),
            date: "2024-06-30".parse().unwrap(),
            reference: "ref-1".into(),
            allocation: None,
        }),
    )
}

/// A log where GB and UA have signed gb-ua.
pub fn signed_log(w: &World) -> MemoryLog {
    let mut log = MemoryLog::default();
    for (p, code) in [(&w.gb, "GB"), (&w.ua, "UA")] {
        let s = sign_agreement(w, p, code, "gb-ua");
        check(&s, &w.compact, &log, Mode::Append).unwrap();
        log.push(s);
    }
    log
}
