use super::*;
use compact_log::cosignature::{CosignatureVerifier, cosignatures};
use compact_log::{MemoryTree, parse_hex_hash, prove_consistency, sign_checkpoint};
use signed_note::StandardSigner;

const ORIGIN: &str = "example.org/log";

/// A signed-note Ed25519 key pair of `name` from a seed byte.
fn log_keys(name: &str, seed: u8) -> (StandardSigner, String) {
    let sk = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
    let mut key = vec![1u8];
    key.extend_from_slice(sk.verifying_key().as_bytes());
    let id = signed_note::key_id(name, &key);
    let mut private = vec![1u8];
    private.extend_from_slice(&[seed; 32]);
    let skey = format!(
        "PRIVATE+KEY+{name}+{id:08x}+{}",
        base64::engine::general_purpose::STANDARD.encode(private)
    );
    let vkey = signed_note::new_ed25519_verifier_key(name, &sk.verifying_key());
    (StandardSigner::new(&skey).unwrap(), vkey)
}

/// A log of `n` leaves whose contents start with `prefix`.
fn tree(n: u64, fork_at: Option<u64>) -> MemoryTree {
    let mut t = MemoryTree::default();
    for i in 0..n {
        let fork = fork_at.is_some_and(|f| i >= f);
        t.push(format!("leaf {i}{}", if fork { " (the other history)" } else { "" }).as_bytes())
            .unwrap();
    }
    t
}

struct Case {
    witness: Witness,
    log: StandardSigner,
    cosigner: CosignatureVerifier,
    _dir: tempfile::TempDir,
}

fn case() -> Case {
    let dir = tempfile::tempdir().unwrap();
    let (log, vkey) = log_keys(ORIGIN, 1);
    let (skey, wkey) = Cosigner::generate("witness.example/w1", &[9; 32]).unwrap();
    let witness = Witness::open(
        &dir.path().join("witness.sqlite"),
        &skey,
        &[(ORIGIN.to_owned(), vkey)],
    )
    .unwrap()
    .with_clock(|| 1_700_000_000);
    Case {
        witness,
        log,
        cosigner: CosignatureVerifier::new(&wkey).unwrap(),
        _dir: dir,
    }
}

fn checkpoint(signer: &StandardSigner, t: &MemoryTree, size: u64) -> Vec<u8> {
    sign_checkpoint(ORIGIN, size, t.root(size).unwrap(), signer).unwrap()
}

fn proof(t: &MemoryTree, old: u64, new: u64) -> Vec<Hash> {
    prove_consistency(old, new, t.reader())
        .unwrap()
        .hashes
        .iter()
        .map(|h| parse_hex_hash(h).unwrap())
        .collect()
}

fn add(c: &Case, t: &MemoryTree, old: u64, new: u64) -> Result<Vec<u8>, Refusal> {
    let cp = checkpoint(&c.log, t, new);
    c.witness
        .add_checkpoint(&request_body(old, &proof(t, old, new), &cp))
}

#[test]
fn a_consistent_checkpoint_is_cosigned_and_recorded() {
    let c = case();
    let t = tree(8, None);
    let lines = add(&c, &t, 0, 5).unwrap();
    let mut note = checkpoint(&c.log, &t, 5);
    note.extend_from_slice(&lines);
    let found = cosignatures(&note, std::slice::from_ref(&c.cosigner)).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].timestamp, 1_700_000_000);
    assert_eq!(c.witness.latest(ORIGIN).unwrap().unwrap().0, 5);
    add(&c, &t, 5, 8).unwrap();
    // The same checkpoint again: cosigned again.
    add(&c, &t, 8, 8).unwrap();
    assert_eq!(c.witness.latest(ORIGIN).unwrap().unwrap().0, 8);
}

#[test]
fn each_refusal_of_the_spec() {
    let c = case();
    let t = tree(9, None);
    add(&c, &t, 0, 5).unwrap();
    // Not the size it cosigned last: 409 with that size.
    let stale = add(&c, &t, 0, 8).unwrap_err();
    assert_eq!(stale, Refusal::conflict(5));
    assert_eq!(stale.content_type, "text/x.tlog.size");
    assert_eq!(stale.body, "5\n");
    // Old above new: 400.
    let smaller = checkpoint(&c.log, &t, 4);
    let r = c
        .witness
        .add_checkpoint(&request_body(5, &[], &smaller))
        .unwrap_err();
    assert_eq!(r.status, 400, "{r:?}");
    // A proof that does not verify: 422.
    let cp = checkpoint(&c.log, &t, 8);
    let mut bad = proof(&t, 5, 8);
    bad[0].0[0] ^= 1;
    let refusal = c
        .witness
        .add_checkpoint(&request_body(5, &bad, &cp))
        .unwrap_err();
    assert_eq!(refusal.status, 422, "{refusal:?}");
    // Nothing recorded by the refusals.
    assert_eq!(c.witness.latest(ORIGIN).unwrap().unwrap().0, 5);
    // An origin it does not witness: 404.
    let other = sign_checkpoint("example.org/other", 5, t.root(5).unwrap(), &c.log).unwrap();
    let r = c
        .witness
        .add_checkpoint(&request_body(0, &[], &other))
        .unwrap_err();
    assert_eq!(r.status, 404);
    // Signed by a key it does not trust for the origin: 403.
    let (stranger, _) = log_keys(ORIGIN, 2);
    let r = c
        .witness
        .add_checkpoint(&request_body(
            5,
            &proof(&t, 5, 8),
            &checkpoint(&stranger, &t, 8),
        ))
        .unwrap_err();
    assert_eq!(r.status, 403);
}

#[test]
fn malformed_requests_are_400() {
    let c = case();
    let t = tree(4, None);
    let cp = String::from_utf8(checkpoint(&c.log, &t, 4)).unwrap();
    let line = "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n";
    for body in [
        format!("old 00\n\n{cp}"),
        format!("old 01\n\n{cp}"),
        format!("old -1\n\n{cp}"),
        format!("old \n\n{cp}"),
        format!("old 0x1\n\n{cp}"),
        format!("new 0\n\n{cp}"),
        format!("old 0\n{cp}"),
        format!("old 1\n{}\n{cp}", line.repeat(64)),
        format!("old 1\nnot base64\n\n{cp}"),
        format!("old 1\nAAAA\n\n{cp}"),
        "old 0\n\nexample.org/log\n4\n".to_owned(),
        "old 0\n\n".to_owned(),
        String::new(),
    ] {
        let r = c.witness.add_checkpoint(body.as_bytes()).unwrap_err();
        assert_eq!(r.status, 400, "{body:?}: {r:?}");
    }
    // 63 proof lines are allowed by the format: the proof then fails to verify (422).
    let r = c
        .witness
        .add_checkpoint(format!("old 1\n{}\n{cp}", line.repeat(63)).as_bytes())
        .unwrap_err();
    assert_eq!(r.status, 409, "the size it holds is 0: {r:?}");
}

#[test]
fn a_split_view_is_refused_once_one_history_is_cosigned() {
    let c = case();
    let shared = tree(5, None);
    add(&c, &shared, 0, 5).unwrap();
    let a = tree(9, Some(5));
    let b = tree(9, Some(6));
    add(&c, &a, 5, 8).unwrap();
    // The other history at the same size: the roots differ, 409.
    assert_eq!(add(&c, &b, 8, 8).unwrap_err(), Refusal::conflict(8));
    // The other history further on: its proof is not from the root cosigned, 422.
    assert_eq!(add(&c, &b, 8, 9).unwrap_err().status, 422);
    // A rollback to a smaller checkpoint of the history cosigned: 409 with the size.
    assert_eq!(add(&c, &a, 5, 6).unwrap_err(), Refusal::conflict(8));
    assert_eq!(
        c.witness.latest(ORIGIN).unwrap().unwrap(),
        (8, a.root(8).unwrap())
    );
}

#[test]
fn the_state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (log, vkey) = log_keys(ORIGIN, 1);
    let (skey, _) = Cosigner::generate("witness.example/w1", &[9; 32]).unwrap();
    let state = dir.path().join("witness.sqlite");
    let logs = [(ORIGIN.to_owned(), vkey)];
    let t = tree(6, None);
    {
        let w = Witness::open(&state, &skey, &logs).unwrap();
        w.add_checkpoint(&request_body(0, &[], &checkpoint(&log, &t, 6)))
            .unwrap();
    }
    let w = Witness::open(&state, &skey, &logs).unwrap();
    assert_eq!(w.latest(ORIGIN).unwrap().unwrap().0, 6);
    let r = w
        .add_checkpoint(&request_body(0, &[], &checkpoint(&log, &t, 3)))
        .unwrap_err();
    assert_eq!(r, Refusal::conflict(6));
}

#[test]
fn racing_requests_never_roll_the_witness_back() {
    let c = Arc::new(case());
    let t = Arc::new(tree(40, None));
    add(&c, &t, 0, 10).unwrap();
    // Twenty requests from size 10, to sizes 11..=30, at once: exactly one is cosigned, the
    // others are told the size it recorded; the witness holds that one.
    let handles: Vec<_> = (11..=30u64)
        .map(|n| {
            let (c, t) = (c.clone(), t.clone());
            std::thread::spawn(move || (n, add(&c, &t, 10, n)))
        })
        .collect();
    let results: Vec<(u64, Result<Vec<u8>, Refusal>)> =
        handles.into_iter().map(|h| h.join().unwrap()).collect();
    let won: Vec<u64> = results
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(won.len(), 1, "{won:?}");
    for (_, r) in &results {
        if let Err(refusal) = r {
            assert_eq!(*refusal, Refusal::conflict(won[0]));
        }
    }
    assert_eq!(c.witness.latest(ORIGIN).unwrap().unwrap().0, won[0]);
}

#[test]
fn a_witness_needs_a_log_and_good_keys() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("w.sqlite");
    let (skey, _) = Cosigner::generate("w.example", &[9; 32]).unwrap();
    let (_, vkey) = log_keys(ORIGIN, 1);
    assert!(Witness::open(&state, &skey, &[]).is_err());
    assert!(
        Witness::open(
            &state,
            "PRIVATE+KEY+nothing",
            &[(ORIGIN.into(), vkey.clone())]
        )
        .is_err()
    );
    assert!(Witness::open(&state, &skey, &[(ORIGIN.into(), "bad".into())]).is_err());
    let w = Witness::open(&state, &skey, &[(ORIGIN.into(), vkey)]).unwrap();
    assert!(w.vkey().starts_with("w.example+"));
}

#[test]
fn signatures_of_unknown_keys_on_the_checkpoint_are_ignored() {
    let c = case();
    let t = tree(6, None);
    let mut cp = checkpoint(&c.log, &t, 6);
    // Another key's signature and a cosignature of another witness, after the log's.
    let (other, _) = log_keys("someone.example", 3);
    let mut note = Note::from_bytes(&cp).unwrap();
    note.add_sigs(&[&other]).unwrap();
    cp = note.to_bytes();
    let (w2, _) = Cosigner::generate("w2.example", &[4; 32]).unwrap();
    cp = Cosigner::new(&w2)
        .unwrap()
        .at(9)
        .unwrap()
        .cosign(&cp)
        .unwrap();
    assert!(String::from_utf8_lossy(&cp).matches('\u{2014}').count() >= 3);
    let lines = c
        .witness
        .add_checkpoint(&request_body(0, &[], &cp))
        .unwrap();
    let mut cosigned = checkpoint(&c.log, &t, 6);
    cosigned.extend_from_slice(&lines);
    assert_eq!(
        cosignatures(&cosigned, std::slice::from_ref(&c.cosigner))
            .unwrap()
            .len(),
        1
    );
}
