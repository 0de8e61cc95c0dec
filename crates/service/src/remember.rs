//! Clients that remember: the largest checkpoint of each log a client has accepted, kept in a
//! state directory, one file per origin. A newer checkpoint is accepted only with a consistency
//! proof from the one remembered; a smaller one (a rollback), or another root at the same size
//! (a fork, or a split view), is refused with both named. With witnesses in `compact.toml`, a
//! checkpoint is accepted only with the quorum of their valid cosignatures.
//!
//! What it does not do: a client that has never seen a log accepts its first checkpoint on the
//! operator's signature (and the witnesses' quorum) alone; and a checkpoint read from a file to
//! check an old proof may be smaller than the one remembered (only a fork at the same size is
//! refused there: [`Memory::check_same_size`]).

use std::path::{Path, PathBuf};

use compact_log::cosignature::{CosignatureVerifier, cosigners};
use compact_log::{ConsistencyProof, Verified, hex_hash, open_checkpoint, verify_consistency};
use compact_model::Compact;

use crate::error::{Result, ServiceError};

/// What became of a checkpoint offered to [`Memory::accept`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Accepted {
    /// The first checkpoint of this log seen here.
    First,
    /// The one remembered, again.
    Same,
    /// Newer, and consistent with the one remembered (of this size).
    Extends(u64),
}

/// The checkpoints a client remembers, in `dir`.
#[derive(Clone, Debug)]
pub struct Memory {
    dir: PathBuf,
}

impl Memory {
    /// The memory kept in `dir` (made when first written).
    pub fn at(dir: &Path) -> Memory {
        Memory {
            dir: dir.to_path_buf(),
        }
    }

    /// The file of the checkpoint of `origin` signed with `key` (a log is its origin and its
    /// operator's key: the key's ID is in the name).
    pub fn file(&self, origin: &str, key: &str) -> PathBuf {
        let id = key.split('+').nth(1).unwrap_or("nokey");
        let name: String = format!("{origin}+{id}")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '+' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join("checkpoints").join(format!("{name}.note"))
    }

    /// The checkpoint of `origin` remembered, opened with `key`.
    pub fn remembered(&self, origin: &str, key: &str) -> Result<Option<(Verified, Vec<u8>)>> {
        let path = self.file(origin, key);
        let note = match std::fs::read(&path) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(ServiceError::internal(format!(
                    "cannot read {}: {e}",
                    path.display()
                )));
            }
        };
        let cp = open_checkpoint(&note, key, origin).map_err(|e| {
            ServiceError::bad_input(format!(
                "{} (the checkpoint remembered) does not open with the operator key: {e}; remove it to start over",
                path.display()
            ))
        })?;
        Ok(Some((cp, note)))
    }

    /// Accepts `note` (opened with `key` as `cp`, read from `source`) if it extends the
    /// checkpoint remembered for its origin: `prove(old)` gives a consistency proof from size
    /// `old` to `cp.size`. Remembers it then.
    pub fn accept(
        &self,
        source: &str,
        cp: &Verified,
        note: &[u8],
        key: &str,
        prove: impl FnOnce(u64) -> Result<ConsistencyProof>,
    ) -> Result<Accepted> {
        let accepted = match self.remembered(&cp.origin, key)? {
            None => Accepted::First,
            Some((old, _)) => {
                let path = self.file(&cp.origin, key);
                if cp.size < old.size {
                    return Err(ServiceError::refused(
                        "rollback",
                        format!(
                            "{source} shows the log of {} at size {} (root {}), smaller than the checkpoint of size {} (root {}) accepted before ({}): a log never shrinks; refused",
                            cp.origin,
                            cp.size,
                            hex_hash(&cp.root),
                            old.size,
                            hex_hash(&old.root),
                            path.display()
                        ),
                    ));
                }
                if cp.size == old.size {
                    if cp.root != old.root {
                        return Err(fork(source, cp, &old, &path));
                    }
                    Accepted::Same
                } else {
                    let proof = prove(old.size)?;
                    let consistent = proof.old_size == old.size
                        && proof.old_root == hex_hash(&old.root)
                        && verify_consistency(&proof, cp).is_ok();
                    if !consistent {
                        return Err(ServiceError::refused(
                            "inconsistent",
                            format!(
                                "{source} shows the log of {} at size {} (root {}), which does not extend the checkpoint of size {} (root {}) accepted before ({}): two histories; refused",
                                cp.origin,
                                cp.size,
                                hex_hash(&cp.root),
                                old.size,
                                hex_hash(&old.root),
                                path.display()
                            ),
                        ));
                    }
                    Accepted::Extends(old.size)
                }
            }
        };
        if accepted != Accepted::Same {
            self.write(&self.file(&cp.origin, key), note)?;
        }
        Ok(accepted)
    }

    /// Refuses a checkpoint of the size remembered but another root (a checkpoint given to
    /// check an old proof may be smaller than the one remembered, or larger: those pass).
    pub fn check_same_size(&self, source: &str, cp: &Verified, key: &str) -> Result<()> {
        if let Some((old, _)) = self.remembered(&cp.origin, key)?
            && old.size == cp.size
            && old.root != cp.root
        {
            return Err(fork(source, cp, &old, &self.file(&cp.origin, key)));
        }
        Ok(())
    }

    /// Writes `note` to `path`: a new file renamed over the old one.
    fn write(&self, path: &Path, note: &[u8]) -> Result<()> {
        let failed = |e: std::io::Error| {
            ServiceError::internal(format!(
                "cannot remember the checkpoint in {}: {e}",
                path.display()
            ))
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(failed)?;
        }
        let tmp = path.with_extension(format!("note.{}.tmp", std::process::id()));
        std::fs::write(&tmp, note).map_err(failed)?;
        std::fs::rename(&tmp, path).map_err(failed)
    }
}

fn fork(source: &str, cp: &Verified, old: &Verified, path: &Path) -> ServiceError {
    ServiceError::refused(
        "fork",
        format!(
            "{source} shows the log of {} at size {} with root {}, but the checkpoint of that size accepted before ({}) has root {}: two histories of one log; refused",
            cp.origin,
            cp.size,
            hex_hash(&cp.root),
            path.display(),
            hex_hash(&old.root)
        ),
    )
}

/// How many of `compact`'s witnesses validly cosigned `note`, refusing it when that is fewer
/// than the quorum `compact.toml` asks (a compact without witnesses asks none).
pub fn check_quorum(compact: &Compact, source: &str, note: &[u8]) -> Result<usize> {
    if compact.witnesses.is_empty() {
        return Ok(0);
    }
    let verifiers = compact
        .witnesses
        .iter()
        .map(|w| {
            CosignatureVerifier::new(&w.key).map_err(|e| {
                ServiceError::bad_input(format!(
                    "compact.toml: the key of witness `{}`: {e}",
                    w.name
                ))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let names = cosigners(note, &verifiers).map_err(|e| {
        ServiceError::refused(
            "cosignature",
            format!("{source}: a witness's cosignature does not verify: {e}"),
        )
    })?;
    if names.len() < compact.witness_quorum {
        return Err(ServiceError::refused(
            "quorum",
            format!(
                "{source}: the checkpoint carries {} valid cosignature(s) of the {} compact.toml's quorum asks (witnesses: {}; cosigned by: {})",
                names.len(),
                compact.witness_quorum,
                compact
                    .witnesses
                    .iter()
                    .map(|w| w.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            ),
        ));
    }
    Ok(names.len())
}
