//! The transparency log's mathematics, with no IO.
//!
//! - The Merkle tree of RFC 6962 / RFC 9162 (leaf hash `SHA-256(0x00 || leaf)`, node hash
//!   `SHA-256(0x01 || left || right)`), stored the way `tlog_tiles` (a port of Go's
//!   `golang.org/x/mod/sumdb/tlog`) stores it: the hash of every complete subtree, in
//!   append order. Appending a leaf and proving anything read O(log n) stored hashes.
//! - Inclusion and consistency proofs in a JSON shape, and their verification against a
//!   checkpoint.
//! - Checkpoints in the C2SP tlog-checkpoint format, signed as C2SP signed notes.
//! - [`Frontier`]: the right edge of a tree, to recompute roots while streaming a log with
//!   memory logarithmic in its size.
//! - [`cosignature`]: witness cosignatures as C2SP tlog-cosignature specifies them
//!   (`cosignature/v1`, Ed25519), which `signed_note` does not implement.

pub mod cosignature;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use signed_note::{Note, Signer, StandardVerifier, VerifierList};
use tlog_tiles::{Checkpoint, check_record, check_tree, node_hash, record_hash};
pub use tlog_tiles::{Error as TreeReadError, Hash, HashReader};

/// Why a log operation or a verification failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LogError {
    /// An index or size outside the tree.
    #[error("{0}")]
    Range(String),
    /// A proof that does not verify.
    #[error("{0}")]
    BadProof(String),
    /// A checkpoint that cannot be read or whose signature does not verify.
    #[error("{0}")]
    BadCheckpoint(String),
    /// A key that cannot be read.
    #[error("{0}")]
    BadKey(String),
    /// Reading stored hashes failed.
    #[error("reading stored hashes: {0}")]
    Read(String),
}

fn tlog(e: tlog_tiles::Error) -> LogError {
    LogError::Read(e.to_string())
}

/// The RFC 6962 hash of a leaf.
pub fn leaf_hash(leaf: &[u8]) -> Hash {
    record_hash(leaf)
}

/// The index in stored-hash order of the hash at `level` and position `n` in that level.
pub fn stored_hash_index(level: u8, n: u64) -> u64 {
    tlog_tiles::stored_hash_index(level, n)
}

/// The hashes to store, in order, when appending the leaf with this hash at index `n`. Reads
/// at most O(log n) earlier stored hashes from `r`.
pub fn hashes_to_store<R: HashReader>(
    n: u64,
    leaf_hash: Hash,
    r: &R,
) -> Result<Vec<Hash>, LogError> {
    tlog_tiles::stored_hashes_for_record_hash(n, leaf_hash, r).map_err(tlog)
}

/// The tree level of the stored hash at `index`.
pub fn stored_hash_level(index: u64) -> u8 {
    tlog_tiles::split_stored_hash_index(index).0
}

/// The number of stored hashes of a tree of `n` leaves.
pub fn stored_hash_count(n: u64) -> u64 {
    tlog_tiles::stored_hash_count(n)
}

/// The root hash of the first `n` leaves.
pub fn tree_hash<R: HashReader>(n: u64, r: &R) -> Result<Hash, LogError> {
    tlog_tiles::tree_hash(n, r).map_err(tlog)
}

/// Lower-case hex of a hash.
pub fn hex_hash(h: &Hash) -> String {
    hex::encode(h.0)
}

/// A hash from lower-case (or upper-case) hex.
pub fn parse_hex_hash(s: &str) -> Result<Hash, LogError> {
    let bytes =
        hex::decode(s).map_err(|e| LogError::BadProof(format!("malformed hash `{s}`: {e}")))?;
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| LogError::BadProof(format!("malformed hash `{s}`: not 32 bytes")))?;
    Ok(Hash(arr))
}

/// `compact log prove` output: that the leaf at `index` is in the tree of `tree_size`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InclusionProof {
    /// The leaf's index.
    pub index: u64,
    /// The size of the tree the proof is for.
    pub tree_size: u64,
    /// The RFC 6962 leaf hash, hex.
    pub leaf_hash: String,
    /// The root of the tree of `tree_size`, hex.
    pub root_hash: String,
    /// The audit path, leaf to root, hex.
    pub hashes: Vec<String>,
}

/// `compact log consistency` output: that the tree of `old_size` is a prefix of `new_size`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsistencyProof {
    /// The smaller size.
    pub old_size: u64,
    /// The larger size.
    pub new_size: u64,
    /// Root of the smaller tree, hex.
    pub old_root: String,
    /// Root of the larger tree, hex.
    pub new_root: String,
    /// The proof, hex.
    pub hashes: Vec<String>,
}

/// The root an inclusion path leads to (RFC 9162, section 2.1.3.2), or `None` when the path
/// cannot be one for `index` in a tree of `size`. Lets a proof carry its root without reading
/// the tree's right edge again.
fn root_from_path(index: u64, size: u64, leaf: Hash, path: &[Hash]) -> Option<Hash> {
    if index >= size {
        return None;
    }
    let (mut f, mut s, mut r) = (index, size - 1, leaf);
    for p in path {
        if s == 0 {
            return None;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(*p, r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(r, *p);
        }
        f >>= 1;
        s >>= 1;
    }
    (s == 0).then_some(r)
}

/// Proves that leaf `index` is in the tree of `size`.
pub fn prove_inclusion<R: HashReader>(
    index: u64,
    size: u64,
    r: &R,
) -> Result<InclusionProof, LogError> {
    if index >= size {
        return Err(LogError::Range(format!(
            "entry {index} is out of range for a tree of size {size}"
        )));
    }
    let path = tlog_tiles::prove_record(size, index, r).map_err(tlog)?;
    let leaf = r
        .read_hashes(&[stored_hash_index(0, index)])
        .map_err(tlog)?
        .first()
        .copied()
        .ok_or_else(|| LogError::Read("no leaf hash".into()))?;
    let root = match root_from_path(index, size, leaf, &path) {
        Some(root) => root,
        None => tree_hash(size, r)?,
    };
    Ok(InclusionProof {
        index,
        tree_size: size,
        leaf_hash: hex_hash(&leaf),
        root_hash: hex_hash(&root),
        hashes: path.iter().map(hex_hash).collect(),
    })
}

/// Proves that the tree of `old` is a prefix of the tree of `new`.
pub fn prove_consistency<R: HashReader>(
    old: u64,
    new: u64,
    r: &R,
) -> Result<ConsistencyProof, LogError> {
    if old > new {
        return Err(LogError::Range(format!(
            "old size {old} is larger than new size {new}"
        )));
    }
    // Every tree extends the empty tree; the proof of that is empty.
    let proof = if old == 0 {
        Vec::new()
    } else {
        tlog_tiles::prove_tree(new, old, r).map_err(tlog)?
    };
    Ok(ConsistencyProof {
        old_size: old,
        new_size: new,
        old_root: hex_hash(&tree_hash(old, r)?),
        new_root: hex_hash(&tree_hash(new, r)?),
        hashes: proof.iter().map(hex_hash).collect(),
    })
}

/// Checks an inclusion proof on its own terms (its root is the one it claims).
pub fn check_inclusion(p: &InclusionProof) -> Result<(), LogError> {
    if p.index >= p.tree_size {
        return Err(LogError::BadProof(format!(
            "index {} is out of range for tree size {}",
            p.index, p.tree_size
        )));
    }
    let path = p
        .hashes
        .iter()
        .map(|h| parse_hex_hash(h))
        .collect::<Result<Vec<_>, _>>()?;
    check_record(
        &path,
        p.tree_size,
        parse_hex_hash(&p.root_hash)?,
        p.index,
        parse_hex_hash(&p.leaf_hash)?,
    )
    .map_err(|_| {
        LogError::BadProof(format!(
            "inclusion proof of entry {} in tree size {} does not verify",
            p.index, p.tree_size
        ))
    })
}

/// Checks a consistency proof on its own terms.
pub fn check_consistency(p: &ConsistencyProof) -> Result<(), LogError> {
    if p.old_size > p.new_size {
        return Err(LogError::BadProof(format!(
            "old size {} is larger than new size {}",
            p.old_size, p.new_size
        )));
    }
    let proof = p
        .hashes
        .iter()
        .map(|h| parse_hex_hash(h))
        .collect::<Result<Vec<_>, _>>()?;
    if p.old_size == 0 {
        return if proof.is_empty() && parse_hex_hash(&p.old_root)? == tlog_tiles::EMPTY_HASH {
            Ok(())
        } else {
            Err(LogError::BadProof(
                "a consistency proof from the empty tree has no hashes and the empty root".into(),
            ))
        };
    }
    check_tree(
        &proof,
        p.new_size,
        parse_hex_hash(&p.new_root)?,
        p.old_size,
        parse_hex_hash(&p.old_root)?,
    )
    .map_err(|_| {
        LogError::BadProof(format!(
            "consistency proof from size {} to {} does not verify",
            p.old_size, p.new_size
        ))
    })
}

/// A verified checkpoint: origin, size and root.
#[derive(Clone, Debug, PartialEq)]
pub struct Verified {
    /// The log's origin line.
    pub origin: String,
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
}

/// Signs a checkpoint for `origin`, `size`, `root` as a C2SP signed note.
pub fn sign_checkpoint(
    origin: &str,
    size: u64,
    root: Hash,
    signer: &dyn Signer,
) -> Result<Vec<u8>, LogError> {
    let cp = Checkpoint::new(origin, size, root, "")
        .map_err(|e| LogError::BadCheckpoint(format!("cannot make a checkpoint: {e}")))?;
    let mut note = Note::new(&cp.to_bytes(), &[])
        .map_err(|e| LogError::BadCheckpoint(format!("cannot make a note: {e}")))?;
    note.add_sigs(&[signer])
        .map_err(|e| LogError::BadCheckpoint(format!("cannot sign the checkpoint: {e}")))?;
    Ok(note.to_bytes())
}

/// A verifier for a C2SP verifier key (`name+keyid+base64`).
pub fn verifier(vkey: &str) -> Result<StandardVerifier, LogError> {
    StandardVerifier::new(vkey.trim())
        .map_err(|e| LogError::BadKey(format!("malformed verifier key: {e}")))
}

/// Reads a signed checkpoint, verifies its signature with `vkey`, and checks its origin.
pub fn open_checkpoint(note: &[u8], vkey: &str, origin: &str) -> Result<Verified, LogError> {
    let v = verifier(vkey)?;
    let parsed = Note::from_bytes(note)
        .map_err(|e| LogError::BadCheckpoint(format!("malformed checkpoint note: {e}")))?;
    parsed
        .verify(&VerifierList::new(vec![Box::new(v)]))
        .map_err(|e| {
            LogError::BadCheckpoint(format!("checkpoint signature does not verify: {e}"))
        })?;
    let cp = Checkpoint::from_bytes(parsed.text())
        .map_err(|_| LogError::BadCheckpoint("malformed checkpoint body".into()))?;
    if cp.origin() != origin {
        return Err(LogError::BadCheckpoint(format!(
            "checkpoint of another origin: `{}`, expected `{origin}`",
            cp.origin()
        )));
    }
    Ok(Verified {
        origin: cp.origin().to_owned(),
        size: cp.size(),
        root: *cp.hash(),
    })
}

/// Verifies an inclusion proof against a signed checkpoint: the proof holds, is for the
/// checkpoint's size, and ends at its root.
pub fn verify_inclusion(p: &InclusionProof, checkpoint: &Verified) -> Result<(), LogError> {
    if p.tree_size != checkpoint.size {
        return Err(LogError::BadProof(format!(
            "the proof is for tree size {}, the checkpoint for size {}",
            p.tree_size, checkpoint.size
        )));
    }
    if parse_hex_hash(&p.root_hash)? != checkpoint.root {
        return Err(LogError::BadProof(
            "the proof's root is not the checkpoint's root".into(),
        ));
    }
    check_inclusion(p)
}

/// Verifies a consistency proof whose new tree is the signed checkpoint's.
pub fn verify_consistency(p: &ConsistencyProof, checkpoint: &Verified) -> Result<(), LogError> {
    if p.new_size != checkpoint.size {
        return Err(LogError::BadProof(format!(
            "the proof is to tree size {}, the checkpoint is of size {}",
            p.new_size, checkpoint.size
        )));
    }
    if parse_hex_hash(&p.new_root)? != checkpoint.root {
        return Err(LogError::BadProof(
            "the proof's new root is not the checkpoint's root".into(),
        ));
    }
    check_consistency(p)
}

/// Stored hashes held in memory: for tests, and for appending a batch before it is written.
#[derive(Clone, Debug, Default)]
pub struct MemoryHashes {
    /// Stored hashes by index.
    pub hashes: BTreeMap<u64, Hash>,
}

impl HashReader for MemoryHashes {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|i| {
                self.hashes
                    .get(i)
                    .copied()
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

/// A whole tree in memory, for tests and small tools.
#[derive(Clone, Debug, Default)]
pub struct MemoryTree {
    size: u64,
    stored: MemoryHashes,
}

impl MemoryTree {
    /// Appends a leaf; returns its index.
    pub fn push(&mut self, leaf: &[u8]) -> Result<u64, LogError> {
        let n = self.size;
        let new = hashes_to_store(n, leaf_hash(leaf), &self.stored)?;
        let start = stored_hash_index(0, n);
        for (i, h) in new.into_iter().enumerate() {
            self.stored.hashes.insert(start + i as u64, h);
        }
        self.size += 1;
        Ok(n)
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Root of the first `n` leaves.
    pub fn root(&self, n: u64) -> Result<Hash, LogError> {
        tree_hash(n, &self.stored)
    }

    /// The stored hashes.
    pub fn reader(&self) -> &MemoryHashes {
        &self.stored
    }
}

/// The right edge of a Merkle tree: the complete subtrees of a tree of `size` leaves, largest
/// first. Holds O(log n) hashes; gives the root at any size it passes through.
///
/// Written here rather than taken from `tlog_tiles`, whose API reads stored hashes back by
/// index: streaming a log to recompute its roots must not keep, or re-read, all of them.
#[derive(Clone, Debug, Default)]
pub struct Frontier {
    size: u64,
    /// (level, hash) of complete subtrees, left to right; levels strictly decreasing.
    stack: Vec<(u8, Hash)>,
}

impl Frontier {
    /// Appends a leaf hash. Returns the stored hashes this append creates, in stored order
    /// (the leaf, then each completed parent), as [`hashes_to_store`] would.
    pub fn push(&mut self, leaf: Hash) -> Vec<Hash> {
        let mut created = vec![leaf];
        let mut node = (0u8, leaf);
        while let Some(&(level, left)) = self.stack.last() {
            if level != node.0 {
                break;
            }
            self.stack.pop();
            node = (level + 1, node_hash(left, node.1));
            created.push(node.1);
        }
        self.stack.push(node);
        self.size += 1;
        created
    }

    /// Number of leaves pushed.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The RFC 6962 root of the leaves pushed so far.
    pub fn root(&self) -> Hash {
        let mut iter = self.stack.iter().rev();
        let Some(&(_, mut acc)) = iter.next() else {
            return tlog_tiles::EMPTY_HASH;
        };
        for &(_, left) in iter {
            acc = node_hash(left, acc);
        }
        acc
    }
}

#[cfg(test)]
mod tests;
