//! Reading the log's statements: from the store's projection (records maintained on
//! append), or by decoding the leaves.

use compact_engine::{Figures, Filing, fulfilment};
use compact_model::Compact;
use compact_statement::{Record, Statement};
use compact_store::Reads;
use compact_store::Store;
use jiff::civil::Date;

use crate::error::{Result, ServiceError};

/// The log's first records, and the engine's filing of them when a reader keeps one: what
/// the reports are computed from.
#[derive(Clone, Copy, Debug)]
pub struct LogView<'a> {
    /// The records of the log's first entries, in order.
    pub records: &'a [(u64, Record)],
    /// A filing of these records, or of more of the log's ([`Held`]).
    pub filing: Option<&'a Filing>,
}

impl<'a> LogView<'a> {
    /// The records alone: figures are computed from them.
    pub fn of(records: &'a [(u64, Record)]) -> LogView<'a> {
        LogView {
            records,
            filing: None,
        }
    }

    /// How many entries it holds: the log's size it shows.
    pub fn size(&self) -> u64 {
        self.records.len() as u64
    }

    /// The figures of every commitment on `as_of`: from the filing when there is one, else
    /// filed from the records.
    pub fn figures(&self, compact: &Compact, as_of: Date) -> Result<Vec<Figures>> {
        Ok(match self.filing {
            Some(filing) => filing.figures(compact, self.records, as_of)?,
            None => fulfilment(compact, self.records, as_of)?,
        })
    }
}

/// The log's records held in memory with their filing, both extended as the log grows (a
/// server's).
#[derive(Debug, Default)]
pub struct Held {
    records: Vec<(u64, Record)>,
    filing: Filing,
}

impl Held {
    /// How many entries it holds.
    pub fn len(&self) -> u64 {
        self.records.len() as u64
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Appends the records of the entries that follow (valued with `compact`'s rates).
    pub fn extend(&mut self, compact: &Compact, fresh: Vec<(u64, Record)>) {
        self.records.extend(fresh);
        self.filing.update(compact, &self.records);
    }

    /// The log's first `size` entries (at most what it holds).
    pub fn view(&self, size: u64) -> LogView<'_> {
        let n = usize::try_from(size)
            .unwrap_or(usize::MAX)
            .min(self.records.len());
        LogView {
            records: self.records.get(..n).unwrap_or(&self.records),
            filing: Some(&self.filing),
        }
    }
}

/// The log's size, or `size` if given and not beyond it.
fn size_within(store: &(impl Reads + ?Sized), size: Option<u64>) -> Result<u64> {
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
    let snapshot = store.snapshot()?;
    let store = &*snapshot;
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
pub fn statements(
    store: &(impl Reads + ?Sized),
    size: Option<u64>,
) -> Result<(Vec<(u64, Statement)>, u64)> {
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
