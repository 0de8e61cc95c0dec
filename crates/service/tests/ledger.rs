//! The service end to end on the small test compact: keys, `init`, signatures, refusals,
//! import and its idempotence.

use std::path::{Path, PathBuf};

use compact_service::ledger::{self, KeyFor, KeygenRequest};
use compact_service::{ErrorKind, Governed, OperatorClock, Place, ServiceError, validate_dir};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &target)?;
        } else {
            std::fs::copy(e.path(), target)?;
        }
    }
    Ok(())
}

fn fixture() -> Result<(tempfile::TempDir, PathBuf)> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("compact");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/base"),
        &dir,
    )?;
    Ok((tmp, dir))
}

fn governed(place: &Place) -> Result<Governed> {
    let v = validate_dir(&place.dir);
    let compact = v.compact.ok_or("the fixture is not valid")?;
    Ok(place.govern(compact, &v.loaded.files)?)
}

fn clock() -> OperatorClock {
    OperatorClock::Fixed("2024-02-01T00:00:00Z".parse().unwrap_or_default())
}

fn keygen(place: &Place, key_for: KeyFor) -> Result<ledger::Keygen> {
    let compact = governed(place)?.working;
    Ok(ledger::keygen(
        place,
        &compact,
        &KeygenRequest {
            key_for,
            out: None,
            valid_from: None,
            seed: Some("test".into()),
            today: "2024-02-01".parse()?,
        },
        None,
        clock(),
    )?)
}

fn party(code: &str) -> KeyFor {
    KeyFor::Party {
        code: code.into(),
        root_only: false,
    }
}

#[test]
fn init_sign_refuse_and_import_again() -> Result<()> {
    let (_tmp, dir) = fixture()?;
    let place = Place::new(&dir);
    let op = keygen(&place, KeyFor::Operator)?;
    assert!(op.operator_verifier.is_some());
    for code in ["GB", "UA"] {
        let k = keygen(&place, party(code))?;
        assert!(k.root.is_some(), "a party's first key comes with its root");
        assert_eq!(k.registered, None, "no log yet");
    }
    // A second key file of the same name is refused before anything is written.
    let again = keygen(&place, party("GB")).err().ok_or("overwrote a key")?;
    let again = again
        .downcast_ref::<ServiceError>()
        .ok_or("not a service error")?;
    assert_eq!(again.refusal_code(), Some("key-exists"));
    let unknown = keygen(&place, party("XX"))
        .err()
        .ok_or("unknown party accepted")?;
    let unknown = unknown
        .downcast_ref::<ServiceError>()
        .ok_or("not a service error")?;
    assert_eq!(unknown.kind(), ErrorKind::BadInput);

    let g = governed(&place)?;
    let init = ledger::init(&place, &g, None, clock())?;
    assert_eq!(init.registrations, 4, "two roots and two signing keys");

    let g = governed(&place)?;
    let operator = compact_service::keys::operator_signer(&place, None)?;
    let gb = compact_service::keys::signer_from(&dir.join("keys/GB.key"))?;
    let sig = ledger::agreement_signature(&g, "gb-ua", None, &gb, clock().statement_time(None))?;
    let first = ledger::append(
        &place,
        &g.compact,
        std::slice::from_ref(&sig),
        &operator.signer,
        clock(),
    )?;
    assert_eq!(first, 5);
    // The same signed statement again is a rule's refusal, not a transient failure.
    let refused = ledger::append(
        &place,
        &g.compact,
        std::slice::from_ref(&sig),
        &operator.signer,
        clock(),
    )
    .err()
    .ok_or("a duplicate was appended")?;
    assert_eq!(refused.refusal_code(), Some("duplicate"));
    assert!(refused.to_string().starts_with("refused: "), "{refused}");
    let missing = ledger::agreement_signature(&g, "xx-ua", None, &gb, clock().statement_time(None))
        .err()
        .ok_or("an unknown agreement was signed")?;
    assert_eq!(missing.kind(), ErrorKind::NotFound);

    // An import of what is already there writes nothing; a new statement after it is written.
    let ua = compact_service::keys::signer_from(&dir.join("keys/UA.key"))?;
    let ua_sig = ledger::agreement_signature(&g, "gb-ua", None, &ua, clock().statement_time(None))?;
    let text = format!(
        "{}\n\n{}\n",
        String::from_utf8_lossy(&sig.leaf),
        String::from_utf8_lossy(&ua_sig.leaf)
    );
    let read = ledger::read_statements(text.as_bytes(), "in.jsonl")?;
    assert_eq!(read.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [1, 3]);
    let mut seen = Vec::new();
    let done = ledger::import(
        &place,
        &g.compact,
        "in.jsonl",
        read.clone(),
        10,
        &operator.signer,
        clock(),
        &mut |n| seen.push(n),
    )?;
    assert_eq!((done.written, done.already, done.size), (1, 1, 7));
    assert_eq!(seen, [2]);
    let done = ledger::import(
        &place,
        &g.compact,
        "in.jsonl",
        read,
        10,
        &operator.signer,
        clock(),
        &mut |_| {},
    )?;
    assert_eq!((done.written, done.already, done.size), (0, 2, 7));

    // What the log now says, as the API's types.
    let g = governed(&place)?;
    let on = "2024-03-01".parse()?;
    let rows = compact_service::reports::agreements(&g, on);
    let gb_ua = rows
        .iter()
        .find(|r| r.id == "gb-ua")
        .ok_or("gb-ua is not listed")?;
    assert_eq!(gb_ua.status, "in-force");
    assert_eq!(gb_ua.working_digest.as_deref(), Some(gb_ua.digest.as_str()));
    let report = compact_service::reports::status(
        &place,
        &g,
        on,
        None,
        compact_engine::report::By::Guarantor,
    )?;
    assert_eq!(report.log_size, 7);
    assert_eq!(report.total.key, "total");
    let back: compact_service::api::v1::StatusReport =
        serde_json::from_str(&serde_json::to_string(&report)?)?;
    assert_eq!(back, report);
    let at_six = compact_service::reports::status(
        &place,
        &g,
        on,
        Some(6),
        compact_engine::report::By::Guarantor,
    )?;
    assert_eq!(at_six.log_size, 6);
    let beyond = compact_service::reports::status(
        &place,
        &g,
        on,
        Some(8),
        compact_engine::report::By::Guarantor,
    )
    .err()
    .ok_or("a size beyond the log was read")?;
    assert_eq!(beyond.kind(), ErrorKind::BadInput);
    let entry = compact_service::reports::log_entry(&place, 5)?;
    assert_eq!(entry.statement["payload"]["agreement"], "gb-ua");
    let missing = compact_service::reports::log_entry(&place, 7)
        .err()
        .ok_or("entry 7 of 7 was found")?;
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    let proof = compact_service::reports::inclusion_proof(&place, 5, None)?;
    assert_eq!((proof.index, proof.tree_size), (5, 7));
    let audit = compact_service::reports::verify(&place, &g, &[], None, &mut |_| {})?;
    assert!(audit.ok, "{:?}", audit.problems);
    assert_eq!(audit.entries, 7);

    let first = g
        .compact
        .agreement("gb-ua", None)
        .and_then(|a| a.commitments.first())
        .ok_or("gb-ua has no commitment")?;
    let explained = compact_service::reports::explain(&place, &g, &first.id, on)?;
    assert_eq!(explained.figures.commitment, first.id);
    assert_eq!(explained.log_size, 7);
    assert!(!explained.schedule.is_empty());
    let json = serde_json::to_value(&explained)?;
    for k in [
        "as_of", "log_size", "figures", "schedule", "surges", "entries",
    ] {
        assert!(json.get(k).is_some(), "{k} missing");
    }
    let unknown = compact_service::reports::explain(&place, &g, "no-such", on)
        .err()
        .ok_or("an unknown commitment was explained")?;
    assert_eq!(unknown.kind(), ErrorKind::NotFound);
    assert!(
        unknown
            .to_string()
            .starts_with("unknown commitment `no-such`")
    );

    let now = compact_service::reports::received_at(&place, 6)?;
    assert!(compact_service::reports::activations(&place, &g, now)?.is_empty());
    let beyond = compact_service::reports::received_at(&place, 99)
        .err()
        .ok_or("entry 99 was found")?;
    assert_eq!(beyond.kind(), ErrorKind::NotFound);

    let bad = ledger::read_statements("{not json\n".as_bytes(), "in.jsonl")
        .err()
        .ok_or("a malformed line was read")?;
    assert_eq!(bad.kind(), ErrorKind::BadInput);
    assert!(bad.to_string().starts_with("in.jsonl:1: "), "{bad}");
    Ok(())
}
