//! Reading the log's statements: from the store's projection (records maintained on
//! append), or by decoding the leaves.

use compact_statement::{Record, Statement};
use compact_store::Store;

use crate::error::{Result, ServiceError};

/// The log's size, or `size` if given and not beyond it.
fn size_within(store: &impl Store, size: Option<u64>) -> Result<u64> {
    let logged = store.size()?;
    match size {
        Some(n) if n > logged => Err(ServiceError::bad_input(format!(
            "--at-size {n} is beyond the log's {logged} entries"
        ))),
        Some(n) => Ok(n),
        None => Ok(logged),
    }
}

/// The records of the log's first `size` entries (all, by default), in order, and how many
/// were read: from the projection when the store keeps one, else from the leaves (an older
/// store opened read-only), with the same [`Record::of`] the projection is made with.
pub fn records(store: &impl Store, size: Option<u64>) -> Result<(Vec<(u64, Record)>, u64)> {
    // One read snapshot: the size and the rows agree.
    store.read_tx(|| {
        let size = size_within(store, size)?;
        if store.has_records()? {
            return Ok((store.records(size)?, size));
        }
        let (statements, size) = statements(store, Some(size))?;
        Ok((
            statements
                .iter()
                .map(|(i, st)| (*i, Record::of(st)))
                .collect(),
            size,
        ))
    })?
}

/// The records of the entries `from..to`, in order: from the projection when the store keeps
/// one, else decoded from the leaves with [`Record::of`]. What a reader holding the log's
/// records in memory reads when the log grew.
pub fn records_between(store: &impl Store, from: u64, to: u64) -> Result<Vec<(u64, Record)>> {
    if from >= to {
        return Ok(Vec::new());
    }
    if store.has_records()? {
        return Ok(store.records_between(from, to)?);
    }
    let mut out = Vec::new();
    let mut failure = None;
    store.scan(from, &mut |index, leaf| {
        if index >= to {
            return false;
        }
        match Statement::decode(leaf) {
            Ok(st) => out.push((index, Record::of(&st))),
            Err(e) => {
                failure = Some(ServiceError::internal(format!(
                    "entry {index} does not decode ({e}): run `compact verify`"
                )));
            }
        }
        failure.is_none()
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    if out.len() as u64 != to - from {
        return Err(ServiceError::internal(format!(
            "the log holds {} of the entries {from}..{to}: run `compact verify`",
            out.len()
        )));
    }
    Ok(out)
}

/// Leaves decoded together, on every core.
const CHUNK: usize = 8192;

/// The log's first `size` statements (all, by default), in order, and how many were read.
pub fn statements(store: &impl Store, size: Option<u64>) -> Result<(Vec<(u64, Statement)>, u64)> {
    let size = size_within(store, size)?;
    // Leaves are read in order and decoded in chunks on every core.
    let decode = |chunk: &mut Vec<(u64, Vec<u8>)>, out: &mut Vec<(u64, Statement)>| {
        use rayon::prelude::*;
        let decoded: Result<Vec<(u64, Statement)>> = chunk
            .par_iter()
            .map(|(index, leaf)| {
                Statement::decode(leaf).map(|st| (*index, st)).map_err(|e| {
                    ServiceError::internal(format!(
                        "entry {index} does not decode ({e}): run `compact verify`"
                    ))
                })
            })
            .collect();
        chunk.clear();
        decoded.map(|d| out.extend(d))
    };
    let mut out = Vec::new();
    let mut chunk: Vec<(u64, Vec<u8>)> = Vec::with_capacity(CHUNK);
    let mut failure = None;
    store.scan(0, &mut |index, leaf| {
        if index >= size {
            return false;
        }
        chunk.push((index, leaf.to_vec()));
        if chunk.len() == CHUNK
            && let Err(e) = decode(&mut chunk, &mut out)
        {
            failure = Some(e);
        }
        failure.is_none()
    })?;
    if failure.is_none() {
        decode(&mut chunk, &mut out)?;
    }
    match failure {
        Some(e) => Err(e),
        None => Ok((out, size)),
    }
}
