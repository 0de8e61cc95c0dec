//! Reading the log's statements.

use compact_statement::Statement;
use compact_store::Store;

use crate::error::{Result, ServiceError};

/// Leaves decoded together, on every core.
const CHUNK: usize = 8192;

/// The log's first `size` statements (all, by default), in order, and how many were read.
pub fn statements(store: &impl Store, size: Option<u64>) -> Result<(Vec<(u64, Statement)>, u64)> {
    let logged = store.size()?;
    let size = match size {
        Some(n) if n > logged => {
            return Err(ServiceError::bad_input(format!(
                "--at-size {n} is beyond the log's {logged} entries"
            )));
        }
        Some(n) => n,
        None => logged,
    };
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
