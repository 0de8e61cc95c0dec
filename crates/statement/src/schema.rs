//! The payload of each statement type, field by field, with a complete example: what
//! `compact schema TYPE` prints and `compact submit --type TYPE --help` points to.
//!
//! Every kind of [`Kind::ALL`] has one (a test fails for a kind without), and each example is
//! read by [`Payload::from_json`](crate::Payload::from_json) as it is written here; each field
//! said to be required is refused when left out (tests).

use serde::Serialize;

use crate::Kind;

/// One field of a payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Field {
    /// Its name in the payload's JSON.
    pub name: &'static str,
    /// Its JSON type and form.
    #[serde(rename = "type")]
    pub ty: &'static str,
    /// Whether a payload must carry it.
    pub required: bool,
    /// What it means.
    pub meaning: &'static str,
}

/// The payload of one statement type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Schema {
    /// The statement type (`delivery.report`).
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// What a statement of this type says, in one line.
    pub summary: &'static str,
    /// Who signs it (the rules refuse anyone else).
    pub signed_by: &'static str,
    /// The command that makes it, when one does more than `compact submit`.
    pub command: Option<&'static str>,
    /// Its fields, in the order a reader meets them.
    pub fields: &'static [Field],
    /// A complete payload, as JSON text, that `compact submit --type TYPE --payload` takes as
    /// it is (on the small compact of the tests and the README's log tour).
    #[serde(serialize_with = "as_json")]
    pub example: &'static str,
}

/// The example as a JSON value, not a string holding JSON.
fn as_json<S: serde::Serializer>(text: &&'static str, s: S) -> Result<S::Ok, S::Error> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(serde::ser::Error::custom)?;
    v.serialize(s)
}

const fn req(name: &'static str, ty: &'static str, meaning: &'static str) -> Field {
    Field {
        name,
        ty,
        required: true,
        meaning,
    }
}

const fn opt(name: &'static str, ty: &'static str, meaning: &'static str) -> Field {
    Field {
        name,
        ty,
        required: false,
        meaning,
    }
}

const STRING: &str = "string";
const INTEGER: &str = "integer";
const DATE: &str = "date, \"YYYY-MM-DD\"";
const TIME: &str = "time, RFC 3339 in UTC, \"2024-05-01T12:00:00Z\"";
const AMOUNT: &str = "amount, a string: \"500 shells\", \"2.5e9 GBP\"";
const ENTRY: &str = "integer, a log entry's index";

const AGREEMENT: Field = req(
    "agreement",
    STRING,
    "the agreement's id (its file's `id`, e.g. gb-ua)",
);
const REASON: Field = req("reason", STRING, "why, in words");

/// Every statement type's payload, in the order of [`Kind::ALL`].
pub const SCHEMAS: &[Schema] = &[
    Schema {
        kind: "log.init",
        summary: "The log's first entry: the operator pins the compact's id and its own key.",
        signed_by: "the log's operator (its key signs every checkpoint)",
        command: Some("compact init"),
        fields: &[req(
            "operator_key",
            "string, a C2SP verifier key named after the compact (ID+keyid+base64)",
            "the operator's verifier key",
        )],
        example: r#"{"operator_key":"test-compact+4d2a8f1c+AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="}"#,
    },
    Schema {
        kind: "key.register",
        summary: "A party's key enters the log: its root key (trust on first use), or a signing key under its root.",
        signed_by: "the party's root key (a first root key signs its own registration)",
        command: Some("compact keygen --party CODE"),
        fields: &[
            req(
                "key",
                "string, a C2SP verifier key named after the party (CODE+keyid+base64)",
                "the key registered",
            ),
            req(
                "role",
                "\"root\" or \"signing\"",
                "root: kept offline, registers and revokes; signing: signs everything else",
            ),
            opt(
                "valid_from",
                TIME,
                "it signs nothing the log receives before this time (default: from its receipt)",
            ),
        ],
        example: r#"{"key":"GB+1a2b3c4d+AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=","role":"signing","valid_from":"2024-06-01T00:00:00Z"}"#,
    },
    Schema {
        kind: "key.revoke",
        summary: "A party revokes one of its keys: it signs nothing the log receives from then on.",
        signed_by: "the party's root key, or the revoked key itself",
        command: None,
        fields: &[
            req(
                "key",
                "string, CODE+keyid",
                "the key revoked (its name and key id)",
            ),
            opt(
                "from",
                TIME,
                "when the revocation takes effect, if later than its receipt (a rotation)",
            ),
            REASON,
        ],
        example: r#"{"key":"GB+1a2b3c4d","from":"2024-09-01T00:00:00Z","reason":"rotated: the laptop holding it was retired"}"#,
    },
    Schema {
        kind: "agreement.sign",
        summary: "A party signs an agreement version's canonical digest, carrying the terms it signed.",
        signed_by: "each party to the agreement: guarantor and beneficiary",
        command: Some("compact sign AGREEMENT"),
        fields: &[
            AGREEMENT,
            req("version", INTEGER, "the version signed"),
            req(
                "digest",
                "string, 64 hex digits",
                "SHA-256 of the version's RFC 8785 canonical form (`compact digest FILE`)",
            ),
            req(
                "terms",
                "string, TOML",
                "the agreement file's text whose canonical form has that digest",
            ),
        ],
        example: r#"{"agreement":"gb-ua","version":1,"digest":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","terms":"id = \"gb-ua\"\nversion = 1\n"}"#,
    },
    Schema {
        kind: "agreement.suspend",
        summary: "A party suspends an agreement: nothing new may be allocated, reported or asked under it.",
        signed_by: "a party to the agreement",
        command: None,
        fields: &[AGREEMENT, REASON],
        example: r#"{"agreement":"gb-ua","reason":"parliamentary review of the agreement"}"#,
    },
    Schema {
        kind: "agreement.resume",
        summary: "The party that suspended an agreement resumes it.",
        signed_by: "the party that suspended it",
        command: None,
        fields: &[AGREEMENT, REASON],
        example: r#"{"agreement":"gb-ua","reason":"the review is concluded"}"#,
    },
    Schema {
        kind: "agreement.terminate",
        summary: "A party gives notice of termination: nothing falls due after the agreement's notice period.",
        signed_by: "a party to the agreement",
        command: None,
        fields: &[AGREEMENT, REASON],
        example: r#"{"agreement":"gb-ua","reason":"superseded by a new agreement"}"#,
    },
    Schema {
        kind: "activation.close",
        summary: "The beneficiary closes an activation: answers are no longer taken.",
        signed_by: "the beneficiary",
        command: None,
        fields: &[
            req(
                "activation",
                ENTRY,
                "the activation: the entry of its attack.declare or threat.level",
            ),
            REASON,
        ],
        example: r#"{"activation":9,"reason":"declared in error"}"#,
    },
    Schema {
        kind: "pledge",
        summary: "A package announced beyond the schedule.",
        signed_by: "the guarantor",
        command: None,
        fields: &[
            req(
                "pillar",
                STRING,
                "the pillar it serves (compact.toml's pillars)",
            ),
            opt(
                "commitment",
                STRING,
                "the commitment it adds to, if any (an id of the guarantor's agreements)",
            ),
            req("amount", AMOUNT, "what is pledged"),
            req("date", DATE, "the day it was announced"),
            req("description", STRING, "what it is"),
        ],
        example: r#"{"pillar":"weapons","commitment":"gb-tranches","amount":"200 shells","date":"2024-05-20","description":"an extra package of artillery shells"}"#,
    },
    Schema {
        kind: "allocation",
        summary: "A package earmarked for delivery against a commitment.",
        signed_by: "the commitment's guarantor",
        command: None,
        fields: &[
            req("commitment", STRING, "the commitment's id"),
            req(
                "amount",
                AMOUNT,
                "what is earmarked, in the commitment's currency or unit",
            ),
            req("date", DATE, "the day it was earmarked"),
            req("reference", STRING, "the guarantor's own reference"),
        ],
        example: r#"{"commitment":"gb-tranches","amount":"500 shells","date":"2024-06-01","reference":"GB-ALLOC-3"}"#,
    },
    Schema {
        kind: "delivery.report",
        summary: "A delivery, reported by the guarantor; it counts as delivered once the beneficiary confirms it.",
        signed_by: "the commitment's guarantor",
        command: None,
        fields: &[
            req("commitment", STRING, "the commitment's id"),
            req(
                "amount",
                AMOUNT,
                "the quantity or value delivered, in the commitment's currency or unit",
            ),
            req("date", DATE, "the day it was delivered"),
            req("reference", STRING, "the guarantor's own reference"),
            opt(
                "allocation",
                ENTRY,
                "the allocation it delivers, if any: its log entry",
            ),
        ],
        example: r#"{"commitment":"gb-tranches","amount":"500 shells","date":"2024-06-30","reference":"GB-17"}"#,
    },
    Schema {
        kind: "delivery.confirm",
        summary: "The beneficiary confirms receipt of a reported delivery, in whole or in part.",
        signed_by: "the beneficiary",
        command: None,
        fields: &[
            req(
                "report",
                ENTRY,
                "the delivery.report confirmed: its log entry",
            ),
            opt(
                "amount",
                AMOUNT,
                "the part received; all of the report when absent",
            ),
            req("date", DATE, "the day it was received"),
        ],
        example: r#"{"report":7,"amount":"500 shells","date":"2024-07-03"}"#,
    },
    Schema {
        kind: "threat.level",
        summary: "The beneficiary's threat level: a level that a consultation clause covers opens an activation.",
        signed_by: "the beneficiary",
        command: Some("compact threat --level N"),
        fields: &[
            req(
                "level",
                "integer, from 1 to the compact's threat_levels",
                "the level",
            ),
            req("from", TIME, "since when it holds"),
        ],
        example: r#"{"level":2,"from":"2026-05-01T04:00:00Z"}"#,
    },
    Schema {
        kind: "attack.declare",
        summary: "The beneficiary declares an armed attack: an activation that asks each guarantor in force to consult.",
        signed_by: "the beneficiary",
        command: Some("compact activate --at TIME --summary TEXT"),
        fields: &[
            req("at", TIME, "when the attack began"),
            req("summary", STRING, "what happened"),
        ],
        example: r#"{"at":"2026-05-01T04:00:00Z","summary":"missile strikes on energy infrastructure"}"#,
    },
    Schema {
        kind: "consultation.respond",
        summary: "A guarantor's answer to an activation: the measures it commits.",
        signed_by: "a guarantor the activation asked to consult, once",
        command: Some("compact respond ACTIVATION --measures FILE"),
        fields: &[
            req(
                "activation",
                ENTRY,
                "the activation: the entry of its attack.declare or threat.level",
            ),
            req(
                "measures",
                "array of objects: kind (\"accelerate\", \"pledge\" or \"sanctions\"), description, and optionally commitment and amount",
                "the measures committed",
            ),
        ],
        example: r#"{"activation":9,"measures":[{"kind":"accelerate","commitment":"gb-tranches","amount":"200 shells","description":"the next tranche brought forward"},{"kind":"sanctions","description":"a new sanctions package"}]}"#,
    },
    Schema {
        kind: "accession.declare",
        summary: "The beneficiary has acceded to NATO: commitments that end on accession schedule nothing from that day.",
        signed_by: "the beneficiary",
        command: None,
        fields: &[req("on", DATE, "the day of accession")],
        example: r#"{"on":"2030-07-01"}"#,
    },
    Schema {
        kind: "statement.retract",
        summary: "An author retracts one of its own statements, with a reason: from its receipt every report counts that entry no more (a correction is a retraction, then the corrected statement).",
        signed_by: "the author of the entry retracted",
        command: Some("compact retract ENTRY --reason TEXT"),
        fields: &[
            req(
                "entry",
                ENTRY,
                "the entry retracted: a pledge, allocation, delivery.report, delivery.confirm, threat.level, attack.declare or consultation.respond of the author's",
            ),
            req("reason", STRING, "why, in words (at most 1000 characters)"),
        ],
        example: r#"{"entry":7,"reason":"50 shells is a typo: 500 were delivered"}"#,
    },
];

/// The payload schema of `kind`, if it has one (every kind of [`Kind::ALL`] should).
pub fn schema(kind: Kind) -> Option<&'static Schema> {
    SCHEMAS.iter().find(|s| s.kind == kind.as_str())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

    use super::*;
    use crate::Payload;

    #[test]
    fn every_kind_has_a_schema_and_every_schema_a_kind() {
        for kind in Kind::ALL {
            assert!(
                schema(kind).is_some(),
                "statement type `{}` has no payload schema in schema.rs",
                kind.as_str()
            );
        }
        for s in SCHEMAS {
            assert!(Kind::parse(s.kind).is_some(), "`{}` is no kind", s.kind);
        }
        assert_eq!(SCHEMAS.len(), Kind::ALL.len());
    }

    #[test]
    fn each_example_is_read_as_written_and_names_only_its_fields() {
        for s in SCHEMAS {
            let kind = Kind::parse(s.kind).unwrap();
            let value = crate::ijson::parse(s.example)
                .unwrap_or_else(|e| panic!("{}: example is not I-JSON: {e}", s.kind));
            Payload::from_json(kind, value.clone())
                .unwrap_or_else(|e| panic!("{}: example refused: {e}", s.kind));
            // Printed inside '…' for a shell.
            assert!(
                !s.example.contains('\''),
                "{}: a quote in the example",
                s.kind
            );
            let members = value.as_object().expect("an object");
            for name in members.keys() {
                assert!(
                    s.fields.iter().any(|f| f.name == name),
                    "{}: the example's `{name}` is not documented",
                    s.kind
                );
            }
            // A required field left out is refused; each is in the example.
            for f in s.fields.iter().filter(|f| f.required) {
                assert!(members.contains_key(f.name), "{}: {}", s.kind, f.name);
                let mut without = members.clone();
                without.remove(f.name);
                assert!(
                    Payload::from_json(kind, serde_json::Value::Object(without)).is_err(),
                    "{}: `{}` is said to be required but is not",
                    s.kind,
                    f.name
                );
            }
            // An optional field left out is still read.
            for f in s.fields.iter().filter(|f| !f.required) {
                let mut without = members.clone();
                without.remove(f.name);
                assert!(
                    Payload::from_json(kind, serde_json::Value::Object(without)).is_ok(),
                    "{}: `{}` is said to be optional but is required",
                    s.kind,
                    f.name
                );
            }
        }
    }

    #[test]
    fn a_schema_serialises_its_example_as_json() {
        let v = serde_json::to_value(schema(Kind::DeliveryConfirm).unwrap()).unwrap();
        assert_eq!(v["type"], "delivery.confirm");
        assert_eq!(v["example"]["report"], 7);
        assert_eq!(v["fields"][0]["required"], true);
    }
}
