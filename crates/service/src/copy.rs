//! `store copy`: the log moved from one store to another (SQLite ↔ PostgreSQL), and proved.

use compact_log::{Frontier, Hash, hex_hash, stored_hash_index};
use compact_model::Compact;
use compact_statement::Statement;
use compact_store::Reads as _;
use compact_store::{Batch, NewEntry, Store};

use crate::anystore::{AnyStore, Location};
use crate::error::{Context as _, Result, ServiceError};

/// What a copy wrote and proved.
#[derive(Debug)]
pub struct Copied {
    /// Where the copy is (no password).
    pub to: String,
    /// Entries copied.
    pub entries: u64,
    /// Signed checkpoints copied, as they were signed.
    pub checkpoints: usize,
    /// Witness cosignatures copied.
    pub cosignatures: usize,
    /// The root of the source's entries, which the audit of the copy recomputed.
    pub root: String,
    /// Checkpoints the audit of the copy checked.
    pub audited_checkpoints: usize,
}

/// Copies the log in `from` (the store of `compact`) into a new store at `to`: its entries
/// with their columns, stored hashes and projection rows, every signed checkpoint as signed
/// (one transaction per checkpoint), and the witnesses' cosignatures. Refuses a target that
/// already holds a store. Then audits the copy in full and compares its root with the
/// source's: a copy that does not prove equal is an error (an SQLite file is removed).
pub fn copy(from: &AnyStore, to: &Location, compact: &Compact) -> Result<Copied> {
    if let Some(p) = to.file()
        && p.exists()
    {
        return Err(ServiceError::bad_input(format!(
            "{} exists: copy into a new file (a store is created once)",
            p.display()
        )));
    }
    let origin = from.origin()?;
    if origin != compact.id {
        return Err(ServiceError::bad_input(format!(
            "the store holds the log of `{origin}`, not of `{}`",
            compact.id
        )));
    }
    let mut target = AnyStore::create(to, &origin)
        .with_context(|| format!("cannot create the store {}", to.shown()))?;
    let written = write_copy(from, &mut target);
    let copied = written.and_then(|mut c| {
        c.to = to.shown();
        prove(&target, compact, &mut c)?;
        Ok(c)
    });
    if copied.is_err() {
        // Nothing half-copied stays behind: the new store goes.
        target.discard(to);
    }
    copied
}

fn write_copy(from: &AnyStore, target: &mut AnyStore) -> Result<Copied> {
    let checkpoints = from.checkpoints()?;
    let mut frontier = Frontier::default();
    let mut copied = Copied {
        to: String::new(),
        entries: 0,
        checkpoints: 0,
        cosignatures: 0,
        root: String::new(),
        audited_checkpoints: 0,
    };
    for (size, note) in &checkpoints {
        let first_index = frontier.size();
        if *size < first_index {
            return Err(ServiceError::internal(format!(
                "the source's checkpoints are out of order at size {size}"
            )));
        }
        let mut leaves: Vec<Vec<u8>> = Vec::new();
        let want = size - first_index;
        from.scan(first_index, &mut |_, leaf| {
            if (leaves.len() as u64) < want {
                leaves.push(leaf.to_vec());
            }
            (leaves.len() as u64) < want
        })?;
        if leaves.len() as u64 != want {
            return Err(ServiceError::internal(format!(
                "the source holds {} entries before its checkpoint of size {size}",
                first_index + leaves.len() as u64
            )));
        }
        let mut entries = Vec::with_capacity(leaves.len());
        let mut hashes: Vec<Hash> = Vec::new();
        for (i, leaf) in leaves.iter().enumerate() {
            let st = Statement::decode(leaf).map_err(|e| {
                ServiceError::internal(format!(
                    "entry {} of the source is not a statement ({e}): run `compact verify`",
                    first_index + i as u64
                ))
            })?;
            let entry = NewEntry::of(&st);
            hashes.extend(frontier.push(entry.leaf_hash));
            entries.push(entry);
        }
        target.append(&Batch {
            first_index,
            entries,
            first_hash: stored_hash_index(0, first_index),
            hashes,
            size: *size,
            checkpoint: note.clone(),
        })?;
        copied.entries = *size;
        copied.checkpoints += 1;
        for (witness, line) in from.cosignatures(*size)? {
            target.add_cosignature(*size, &witness, &line)?;
            copied.cosignatures += 1;
        }
    }
    let size = from.size()?;
    if size != frontier.size() {
        return Err(ServiceError::internal(format!(
            "the source holds {size} entries but its latest checkpoint covers {}: run `compact verify`",
            frontier.size()
        )));
    }
    copied.root = hex_hash(&frontier.root());
    Ok(copied)
}

/// The copy's proof: its full audit passes, and its root and latest checkpoint are the source's.
fn prove(target: &AnyStore, compact: &Compact, copied: &mut Copied) -> Result<()> {
    let report = compact_store::audit::audit(target, compact, &[], None, &mut |_| {})?;
    if !report.ok() {
        return Err(ServiceError::internal(format!(
            "the audit of the copy found {} problem(s), the first: {}",
            report.problems.len(),
            report
                .problems
                .first()
                .map(|p| p.message.as_str())
                .unwrap_or_default()
        )));
    }
    let root = report.root.unwrap_or_else(|| copied.root.clone());
    if !root.eq_ignore_ascii_case(&copied.root) || report.entries != copied.entries {
        return Err(ServiceError::internal(format!(
            "the copy's root {root} over {} entries is not the source's {} over {}",
            report.entries, copied.root, copied.entries
        )));
    }
    copied.audited_checkpoints = report.checkpoints;
    Ok(())
}
