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

const COMPACT: &str = include_str!("../../../testdata/base/compact.toml");
const GB: &str = include_str!("../../../testdata/base/parties/GB.toml");
const PL: &str = include_str!("../../../testdata/base/parties/PL.toml");
const UA: &str = include_str!("../../../testdata/base/parties/UA.toml");
const JP: &str = include_str!("../../../testdata/base/parties/JP.toml");
const GB_UA: &str = include_str!("../../../testdata/base/agreements/gb-ua.toml");
const JP_UA: &str = include_str!("../../../testdata/base/agreements/jp-ua.toml");
const RATES: &str = include_str!("../../../testdata/base/rates.toml");

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
    /// The parties' root keys, which register their signing keys.
    pub roots: Vec<(&'static str, Party)>,
    /// The log operator, who signs checkpoints.
    pub operator: Party,
    /// The text of jp-ua.
    pub jp_ua: String,
}

/// jp-ua with a consultation clause that also covers a threat of level 3 or more, with 48
/// hours.
pub fn jp_ua_with_threat_clause() -> String {
    let (head, tail) = JP_UA.split_at(JP_UA.find("[[commitments]]").unwrap());
    format!(
        "{head}[consultation]\nhours = 48\non = \"attack-or-threat\"\nthreat_level = 3\n\n{tail}"
    )
}

/// The test world, with jp-ua's text replaced when given.
pub fn world_with(jp_ua: Option<String>) -> World {
    let jp_ua = jp_ua.unwrap_or_else(|| JP_UA.to_owned());
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
        ("parties/GB.toml", with_key(GB, &gb.vkey, None)),
        ("parties/UA.toml", with_key(UA, &ua.vkey, None)),
        ("parties/PL.toml", with_key(PL, &pl.vkey, None)),
        ("parties/JP.toml", with_key(JP, &jp.vkey, None)),
        ("agreements/gb-ua.toml", GB_UA.to_owned()),
        ("agreements/jp-ua.toml", jp_ua.clone()),
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
    let roots = ["GB", "UA", "PL", "JP"]
        .into_iter()
        .zip(11u8..)
        .map(|(code, seed)| (code, party(code, seed)))
        .collect();
    World {
        compact,
        gb,
        ua,
        pl,
        jp,
        roots,
        operator,
        jp_ua,
    }
}

impl World {
    /// The root key of `code`.
    pub fn root(&self, code: &str) -> &Party {
        &self.roots.iter().find(|(c, _)| *c == code).unwrap().1
    }

    /// The log's first entries: the operator's log.init, then every party's root and signing
    /// keys, on 2024-01-31.
    pub fn genesis(&self) -> Vec<Statement> {
        let parties: Vec<PartyKeys<'_>> = [
            ("GB", &self.gb),
            ("UA", &self.ua),
            ("PL", &self.pl),
            ("JP", &self.jp),
        ]
        .into_iter()
        .map(|(code, p)| {
            let root = self.root(code);
            PartyKeys {
                code,
                root: &root.signer,
                root_vkey: &root.vkey,
                signing_vkey: &p.vkey,
            }
        })
        .collect();
        genesis(
            &self.compact.id,
            &self.operator.signer,
            &self.operator.vkey,
            &parties,
            time("2024-01-31T00:00:00Z"),
        )
        .unwrap()
    }

    /// A log holding only the genesis.
    pub fn log(&self) -> MemoryLog {
        let mut log = MemoryLog::new(&self.compact);
        for st in self.genesis() {
            check(&st, &self.compact, &log, Mode::Append).unwrap();
            log.push(st);
        }
        log
    }
}

/// The number of genesis entries of the test world: the first free index.
pub const GENESIS: u64 = 9;

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

/// The text of an agreement file of the test world.
pub fn terms_of(w: &World, id: &str) -> String {
    match id {
        "gb-ua" => GB_UA.to_owned(),
        "jp-ua" => w.jp_ua.clone(),
        other => panic!("no agreement file {other}"),
    }
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
            digest: a.digest.clone(),
            terms: terms_of(w, id),
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

/// A log where GB and UA have signed gb-ua, after the genesis (entries 9 and 10).
pub fn signed_log(w: &World) -> MemoryLog {
    let mut log = w.log();
    for (p, code) in [(&w.gb, "GB"), (&w.ua, "UA")] {
        let s = sign_agreement(w, p, code, "gb-ua");
        check(&s, &w.compact, &log, Mode::Append).unwrap();
        log.push(s);
    }
    log
}
