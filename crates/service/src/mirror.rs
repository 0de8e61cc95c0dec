//! A log fetched from elsewhere (a server's tiles), written into a store of its own so that
//! `verify` audits it as it audits a local log: every signature, rule, hash and the
//! operator's checkpoint.

use std::path::Path;

use compact_log::{Frontier, Hash, leaf_hash, stored_hash_index};
use compact_statement::Statement;
use compact_store::{Batch, NewEntry, RecordRow, Store as _};
use compact_store_sqlite::SqliteStore;

use crate::error::{Result, ServiceError};

/// Writes `leaves` (entries 0..n, in order) and `checkpoint` (the operator's signed note of
/// size n, as fetched) into a new store at `path` for the log `origin`. Nothing is checked
/// here but that each leaf is a statement: the audit checks the rest.
pub fn mirror(
    path: &Path,
    origin: &str,
    leaves: &[Vec<u8>],
    checkpoint: Vec<u8>,
) -> Result<SqliteStore> {
    let mut store = SqliteStore::create(path, origin)?;
    let mut frontier = Frontier::default();
    let mut hashes: Vec<Hash> = Vec::new();
    let mut entries = Vec::with_capacity(leaves.len());
    for (index, leaf) in leaves.iter().enumerate() {
        let st = Statement::decode(leaf).map_err(|e| {
            ServiceError::bad_input(format!(
                "entry {index} as served is not a statement ({e}): the log is corrupt"
            ))
        })?;
        let h = leaf_hash(leaf);
        hashes.extend(frontier.push(h));
        entries.push(NewEntry {
            leaf: leaf.clone(),
            leaf_hash: h,
            statement_hash: Hash(st.statement_hash()),
            kind: st.kind(),
            author: st.author.clone(),
            reference: st.payload.reference(),
            // The projection, as every append writes it: `verify` compares it with the leaves.
            record: RecordRow::of_statement(&st),
        });
    }
    if entries.is_empty() {
        return Ok(store);
    }
    store.append(&Batch {
        first_index: 0,
        entries,
        first_hash: stored_hash_index(0, 0),
        hashes,
        size: frontier.size(),
        checkpoint,
    })?;
    Ok(store)
}
