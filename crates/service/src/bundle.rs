//! Proof bundles: one self-contained file that proves an entry offline. It holds the entry,
//! its inclusion proof, the checkpoint (with the witnesses' cosignatures) the proof is for, and
//! the key registrations its signature depends on, each with its own inclusion proof: the
//! author's key that signed it and the root key that registered that one.
//!
//! [`verify`] needs only the log's key (and the witnesses' keys): it checks the checkpoint's
//! signature and cosignatures, every inclusion proof against it, the entry's signature with
//! the key registered before it, and that registration's signature with the author's root key.
//! What a bundle cannot show: that the key was not revoked between its registration and the
//! entry (that takes the whole log: `compact verify`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use compact_log::cosignature::{CosignatureVerifier, cosigners};
use compact_log::{
    InclusionProof, Verified, hex_hash, leaf_hash, open_checkpoint, verify_inclusion,
};
use compact_statement::{Payload, Statement};
use serde::{Deserialize, Serialize};

use crate::error::{Result, ServiceError};

/// The format line of a bundle.
pub const FORMAT: &str = "compact-bundle/v1";

/// One log entry in a bundle, with its inclusion proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundledEntry {
    /// Its index in the log.
    pub index: u64,
    /// The leaf's exact bytes, base64.
    pub leaf: String,
    /// That it is in the tree of the bundle's checkpoint.
    pub proof: InclusionProof,
}

/// A proof bundle (`compact log bundle`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// [`FORMAT`].
    pub format: String,
    /// The signed checkpoint, with the cosignatures kept for it.
    pub checkpoint: String,
    /// The entry proved.
    pub entry: BundledEntry,
    /// The key registrations its signature depends on.
    pub keys: Vec<BundledEntry>,
}

/// What a bundle proved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleReport {
    /// The log's origin.
    pub origin: String,
    /// The checkpoint's size.
    pub size: u64,
    /// The entry.
    pub index: u64,
    /// Its kind.
    pub kind: String,
    /// Its author.
    pub author: String,
    /// The entry that registered the key that signed it (none: the log's own key signed it,
    /// as it signs the log's first entry).
    pub key_entry: Option<u64>,
    /// How many of the witnesses given cosigned the checkpoint.
    pub cosigned: usize,
    /// How many witnesses were given.
    pub witnesses: usize,
    /// The same in words.
    pub words: String,
}

fn bad(message: impl Into<String>) -> ServiceError {
    ServiceError::refused("bundle", message)
}

/// Bundles `leaf` at `index` with `proof`, the checkpoint `note`, and the key registrations
/// `keys` (each entry and its proof).
pub fn make(
    note: &[u8],
    index: u64,
    leaf: &[u8],
    proof: InclusionProof,
    keys: Vec<(u64, Vec<u8>, InclusionProof)>,
) -> Result<Bundle> {
    Ok(Bundle {
        format: FORMAT.to_owned(),
        checkpoint: String::from_utf8(note.to_vec())
            .map_err(|_| ServiceError::internal("the checkpoint is not UTF-8"))?,
        entry: BundledEntry {
            index,
            leaf: STANDARD.encode(leaf),
            proof,
        },
        keys: keys
            .into_iter()
            .map(|(index, leaf, proof)| BundledEntry {
                index,
                leaf: STANDARD.encode(leaf),
                proof,
            })
            .collect(),
    })
}

/// The statement of a bundled entry, once its leaf is shown to be in the checkpoint's tree.
fn included(e: &BundledEntry, cp: &Verified, what: &str) -> Result<Statement> {
    let leaf = STANDARD.decode(&e.leaf).map_err(|_| {
        bad(format!(
            "{what} (entry {}): the leaf is not base64",
            e.index
        ))
    })?;
    if e.proof.index != e.index || e.proof.leaf_hash != hex_hash(&leaf_hash(&leaf)) {
        return Err(bad(format!(
            "{what} (entry {}): the proof is not of this leaf at this index",
            e.index
        )));
    }
    verify_inclusion(&e.proof, cp)
        .map_err(|err| bad(format!("{what} (entry {}): {err}", e.index)))?;
    Statement::decode(&leaf).map_err(|err| bad(format!("{what} (entry {}): {err}", e.index)))
}

/// The key a key registration registers, with its role.
fn registered(st: &Statement) -> Option<(&str, compact_statement::Role)> {
    match &st.payload {
        Payload::KeyRegister(k) => Some((k.key.as_str(), k.role)),
        _ => None,
    }
}

/// Verifies `bundle` with the log's key `log_key` and the witnesses' keys `witnesses`, of
/// which `quorum` (default: all) must have cosigned its checkpoint.
pub fn verify(
    bundle: &Bundle,
    log_key: &str,
    witnesses: &[String],
    quorum: Option<usize>,
) -> Result<BundleReport> {
    use compact_statement::Role;
    if bundle.format != FORMAT {
        return Err(bad(format!(
            "not a bundle of this format: `{}`, expected `{FORMAT}`",
            bundle.format
        )));
    }
    let origin = log_key.split('+').next().unwrap_or_default();
    let note = bundle.checkpoint.as_bytes();
    let cp =
        open_checkpoint(note, log_key, origin).map_err(|e| bad(format!("the checkpoint: {e}")))?;
    let verifiers = witnesses
        .iter()
        .map(|w| {
            CosignatureVerifier::new(w)
                .map_err(|e| ServiceError::bad_input(format!("--witness {w}: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let names = cosigners(note, &verifiers)
        .map_err(|e| bad(format!("the checkpoint's cosignatures: {e}")))?;
    let quorum = quorum.unwrap_or(verifiers.len());
    if names.len() < quorum {
        return Err(bad(format!(
            "the checkpoint is cosigned by {} of the {quorum} witnesses asked",
            names.len()
        )));
    }
    let st = included(&bundle.entry, &cp, "the entry")?;
    let at = st.at();
    let keys: Vec<(u64, Statement)> = bundle
        .keys
        .iter()
        .map(|k| Ok((k.index, included(k, &cp, "a key registration")?)))
        .collect::<Result<_>>()?;
    // The log's first entry is the operator's, signed with the log's key.
    if st.verify_with(log_key).is_ok() {
        return Ok(report(
            &bundle.entry,
            &st,
            &cp,
            None,
            names.len(),
            verifiers.len(),
        ));
    }
    // A party's root key registers itself (trusted on first use, as the log's rules do).
    if let Some((vkey, Role::Root)) = registered(&st)
        && st.verify_with(vkey).is_ok()
    {
        return Ok(report(
            &bundle.entry,
            &st,
            &cp,
            Some(bundle.entry.index),
            names.len(),
            verifiers.len(),
        ));
    }
    // The registration of the key that signed the entry: by its author, before it.
    let author = st.author.as_str();
    let by_author = |index_below: u64| {
        keys.iter()
            .filter(move |(i, k)| *i < index_below && k.author == author)
            .filter_map(|(i, k)| registered(k).map(|(vkey, role)| (*i, k, vkey, role)))
    };
    let Some((key_entry, key_st, vkey, _)) =
        by_author(bundle.entry.index).find(|(_, _, vkey, _)| st.verify_with(vkey).is_ok())
    else {
        return Err(bad(format!(
            "entry {}: no key registered by {} before it in the bundle verifies its signature ({})",
            bundle.entry.index,
            st.author,
            st.key_ref()
        )));
    };
    if let Payload::KeyRegister(k) = &key_st.payload {
        let from = k.valid_from.map_or(key_st.at(), |v| v.max(key_st.at()));
        if at < from {
            return Err(bad(format!(
                "entry {}: signed with a key that signs only from {from} (entry {key_entry})",
                bundle.entry.index
            )));
        }
    }
    let _ = vkey;
    // That registration, signed by the author's root key: registered at or before it (a root
    // registers itself).
    let rooted = by_author(key_entry + 1)
        .filter(|(_, _, _, role)| *role == Role::Root)
        .any(|(_, _, root, _)| key_st.verify_with(root).is_ok());
    if !rooted {
        return Err(bad(format!(
            "entry {key_entry}: the key registration is not signed by a root key of {} in the bundle",
            st.author
        )));
    }
    Ok(report(
        &bundle.entry,
        &st,
        &cp,
        Some(key_entry),
        names.len(),
        verifiers.len(),
    ))
}

/// What a bundle proved, in fields and in words.
fn report(
    entry: &BundledEntry,
    st: &Statement,
    cp: &Verified,
    key_entry: Option<u64>,
    cosigned: usize,
    witnesses: usize,
) -> BundleReport {
    let kind = st.kind().as_str().to_owned();
    let signed = match key_entry {
        Some(k) if k == entry.index => "signed with the root key it registers".to_owned(),
        Some(k) => format!("signed with {}'s key registered at entry {k}", st.author),
        None => "signed with the log's own key".to_owned(),
    };
    let words = format!(
        "entry {}, a {kind} by {}, {signed}, is in the log of {} at size {}{}",
        entry.index,
        st.author,
        cp.origin,
        cp.size,
        if witnesses == 0 {
            " (no witness asked)".to_owned()
        } else {
            format!(", cosigned by {cosigned} of {witnesses} witnesses")
        }
    );
    BundleReport {
        origin: cp.origin.clone(),
        size: cp.size,
        index: entry.index,
        kind,
        author: st.author.clone(),
        key_entry,
        cosigned,
        witnesses,
        words,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use compact_log::{MemoryTree, prove_inclusion, sign_checkpoint};
    use compact_statement::keys::{from_seed, signer};
    use compact_statement::{Draft, KeyRegister, Role};

    fn sign(author: &str, payload: Payload, key: &str) -> Statement {
        Statement::sign(
            Draft {
                compact: "bundle-test".into(),
                author: author.into(),
                time: "2024-07-01T00:00:00Z".parse().unwrap(),
                payload,
            },
            &signer(key).unwrap(),
        )
        .unwrap()
    }

    /// A log whose operator appended GB's statement before the registration of the key that
    /// signed it (what the log's rules refuse, and a bundle must not vouch for).
    #[test]
    fn a_key_registered_after_the_entry_does_not_vouch_for_it() {
        let operator = from_seed("bundle-test", &[1; 32]).unwrap();
        let root = from_seed("GB", &[2; 32]).unwrap();
        let signing = from_seed("GB", &[3; 32]).unwrap();
        let register = |key: &str, role| {
            Payload::KeyRegister(KeyRegister {
                key: key.to_owned(),
                role,
                valid_from: None,
            })
        };
        let report = Payload::DeliveryReport(compact_statement::DeliveryReport {
            commitment: "gb-tranches".into(),
            amount: "1 shells".into(),
            date: "2024-06-30".parse().unwrap(),
            reference: "GB-1".into(),
            allocation: None,
        });
        let leaves: Vec<Statement> = vec![
            sign("GB", register(&root.verifier, Role::Root), &root.private),
            sign("GB", report, &signing.private),
            sign(
                "GB",
                register(&signing.verifier, Role::Signing),
                &root.private,
            ),
        ];
        let mut tree = MemoryTree::default();
        for st in &leaves {
            tree.push(&st.leaf).unwrap();
        }
        let size = tree.size();
        let note = sign_checkpoint(
            "bundle-test",
            size,
            tree.root(size).unwrap(),
            &signer(&operator.private).unwrap(),
        )
        .unwrap();
        let entry = |i: u64| {
            (
                i,
                leaves[usize::try_from(i).unwrap()].leaf.clone(),
                prove_inclusion(i, size, tree.reader()).unwrap(),
            )
        };
        let (_, leaf, proof) = entry(1);
        let bundle = make(&note, 1, &leaf, proof, vec![entry(0), entry(2)]).unwrap();
        let err = verify(&bundle, &operator.verifier, &[], None).unwrap_err();
        assert!(
            err.to_string()
                .contains("no key registered by GB before it"),
            "{err}"
        );
        // The key's own registration, bundled as the entry, does verify (signed by the root).
        let (_, leaf, proof) = entry(2);
        let bundle = make(&note, 2, &leaf, proof, vec![entry(0)]).unwrap();
        let said = verify(&bundle, &operator.verifier, &[], None).unwrap();
        assert_eq!(said.key_entry, Some(0));
    }
}
