//! `compact verify`: an offline audit of a whole store.
//!
//! Streams the entries once, in order, holding O(log n) tree hashes and the few statements
//! every check needs (agreement signatures, the accession): memory does not grow with the log.
//! For each entry: it decodes and is in canonical form; its signature verifies with the key the
//! author held at the time; its payload meets the rules against the compact and the entries
//! before it; the stored tree hashes it created match its bytes. Every stored checkpoint's
//! signature and root are checked against the recomputed tree, and so is every checkpoint the
//! auditor brings: two checkpoints of one origin that cannot both be of this log are a fork.

use std::collections::{BTreeMap, BTreeSet};

use compact_log::{Frontier, Hash, hex_hash, leaf_hash, open_checkpoint, stored_hash_index};
use compact_model::Compact;
use compact_statement::Statement;
use compact_statement::rules::{Facts, Mode, check_payload, check_signature};
use rayon::prelude::*;

use crate::{Overlay, Pending, Store, StoreError};

/// One thing wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The entry concerned, if one.
    pub entry: Option<u64>,
    /// What is wrong.
    pub message: String,
}

/// The audit's findings.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Entries read.
    pub entries: u64,
    /// The size the latest stored checkpoint claims.
    pub size: u64,
    /// Checkpoints checked (stored and given).
    pub checkpoints: usize,
    /// The recomputed root of all entries read.
    pub root: Option<String>,
    /// Every problem found, in order.
    pub problems: Vec<Problem>,
}

impl Report {
    fn add(&mut self, entry: Option<u64>, message: String) {
        self.problems.push(Problem { entry, message });
    }

    /// True when nothing is wrong.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A checkpoint the auditor brings: a name (its file) and the note.
#[derive(Clone, Debug)]
pub struct GivenCheckpoint {
    /// Where it came from, for the report.
    pub name: String,
    /// The signed note.
    pub note: Vec<u8>,
}

/// Entries decoded and signature-checked together.
pub const AUDIT_CHUNK: usize = 2048;

/// The state of one pass over the log.
struct Pass<'a, S: Store> {
    store: &'a S,
    compact: &'a Compact,
    wanted: &'a BTreeMap<u64, Vec<(String, Hash)>>,
    report: &'a mut Report,
    frontier: Frontier,
    facts: Facts,
    next: u64,
    tree_broken: bool,
    failure: Option<StoreError>,
    roots_checked: BTreeSet<u64>,
    no_pending: Pending<'a>,
}

impl<S: Store> Pass<'_, S> {
    fn process(&mut self, chunk: Vec<(u64, Vec<u8>)>) {
        let compact = self.compact;
        let prepared: Vec<_> = chunk
            .into_par_iter()
            .map(|(index, leaf)| {
                let decoded = Statement::decode(&leaf);
                let signature = decoded
                    .as_ref()
                    .ok()
                    .and_then(|st| check_signature(st, compact).err());
                (index, leaf, decoded, signature)
            })
            .collect();
        for (index, leaf, decoded, signature) in prepared {
            if self.failure.is_some() {
                return;
            }
            self.entry(index, &leaf, decoded, signature);
        }
    }

    fn entry(
        &mut self,
        index: u64,
        leaf: &[u8],
        decoded: Result<Statement, compact_statement::StatementError>,
        signature: Option<compact_statement::rules::Refusal>,
    ) {
        let report = &mut *self.report;
        if index != self.next {
            report.add(
                Some(self.next),
                format!(
                    "entry {} is missing: the store skips from entry {} to entry {index}",
                    self.next, self.next
                ),
            );
            self.tree_broken = true;
            self.next = index;
        }
        self.next += 1;
        let h = leaf_hash(leaf);
        // The tree: the hashes this entry creates must be the ones stored.
        if !self.tree_broken {
            let n = self.frontier.size();
            let created = self.frontier.push(h);
            let start = stored_hash_index(0, n);
            let indexes: Vec<u64> = (start..start + created.len() as u64).collect();
            match self.store.hashes(&indexes) {
                Ok(stored) => {
                    if stored.first() != created.first() {
                        report.add(
                            Some(index),
                            format!("entry {index} was changed after it was logged: its bytes do not hash to the leaf hash stored for it"),
                        );
                        self.tree_broken = true;
                    } else if stored != created {
                        report.add(
                            Some(index),
                            format!("the tree hashes stored with entry {index} do not match the entries before it (a changed, removed or reordered entry)"),
                        );
                        self.tree_broken = true;
                    }
                }
                Err(e) => {
                    report.add(Some(index), format!("entry {index}: {e}"));
                    self.tree_broken = true;
                }
            }
            let size = self.frontier.size();
            if let Some(list) = self.wanted.get(&size) {
                let root = self.frontier.root();
                self.roots_checked.insert(size);
                for (name, signed) in list {
                    if *signed != root {
                        report.add(
                            None,
                            format!(
                                "{name} does not match the log: it signs root {}, the first {size} entries hash to {}{}",
                                hex_hash(signed),
                                hex_hash(&root),
                                if name.starts_with("stored") {
                                    ""
                                } else {
                                    " (a fork, or a rewritten log)"
                                }
                            ),
                        );
                    }
                }
            }
        }
        // The statement.
        let st = match decoded {
            Err(e) => {
                report.add(Some(index), format!("entry {index} does not decode: {e}"));
                return;
            }
            Ok(st) => st,
        };
        if st.leaf != leaf {
            report.add(
                Some(index),
                format!("entry {index} is not in canonical form"),
            );
        }
        match self.store.find_leaf(&h) {
            Ok(Some(other)) if other != index => {
                report.add(
                    Some(index),
                    format!("entry {index} duplicates entry {other}"),
                );
            }
            Ok(_) => {}
            Err(e) => self.failure = Some(e),
        }
        let view = Overlay {
            store: self.store,
            base: index,
            pending: &self.no_pending,
            facts: &self.facts,
        };
        let verdict = match signature {
            Some(r) => Err(r),
            None => check_payload(&st, self.compact, &view, Mode::Audit),
        };
        if let Err(r) = verdict {
            report.add(
                Some(index),
                format!(
                    "entry {index} ({} by {}): {r}",
                    st.kind().as_str(),
                    st.author
                ),
            );
        }
        self.facts.note(index, &st);
    }
}

/// Audits `store` against `compact`, with the checkpoints the auditor brings. `progress` is
/// called with the number of entries read so far.
pub fn audit<S: Store>(
    store: &S,
    compact: &Compact,
    given: &[GivenCheckpoint],
    progress: &mut dyn FnMut(u64),
) -> Result<Report, StoreError> {
    let mut report = Report::default();
    let origin = store.origin()?;
    if origin != compact.id {
        report.add(
            None,
            format!(
                "the store holds the log of `{origin}`, not of `{}`",
                compact.id
            ),
        );
        return Ok(report);
    }
    let Some(vkey) = compact.operator_key.as_deref() else {
        report.add(
            None,
            "compact.toml names no operator key ([log] operator_key): checkpoints cannot be verified".into(),
        );
        return Ok(report);
    };

    // Checkpoints: stored ones, then the auditor's. Sizes whose roots we must recompute.
    let mut wanted: BTreeMap<u64, Vec<(String, Hash)>> = BTreeMap::new();
    for (size, note) in store.checkpoints()? {
        report.checkpoints += 1;
        match open_checkpoint(&note, vkey, &compact.id) {
            Ok(cp) if cp.size == size => wanted
                .entry(size)
                .or_default()
                .push((format!("stored checkpoint of size {size}"), cp.root)),
            Ok(cp) => report.add(
                None,
                format!(
                    "stored checkpoint filed under size {size} says size {}",
                    cp.size
                ),
            ),
            Err(e) => report.add(None, format!("stored checkpoint of size {size}: {e}")),
        }
        report.size = report.size.max(size);
    }
    for g in given {
        report.checkpoints += 1;
        match open_checkpoint(&g.note, vkey, &compact.id) {
            Ok(cp) => wanted
                .entry(cp.size)
                .or_default()
                .push((format!("checkpoint {}", g.name), cp.root)),
            Err(e) => report.add(None, format!("checkpoint {}: {e}", g.name)),
        }
    }
    // Two checkpoints of one size with different roots are a fork, whatever the store holds.
    for (size, list) in &wanted {
        if let Some((first_name, first_root)) = list.first() {
            for (name, root) in list.iter().skip(1) {
                if root != first_root {
                    report.add(
                        None,
                        format!(
                            "fork: {first_name} and {name} are both of size {size} with different roots ({} and {})",
                            hex_hash(first_root),
                            hex_hash(root)
                        ),
                    );
                }
            }
        }
    }

    let mut pass = Pass {
        store,
        compact,
        wanted: &wanted,
        report: &mut report,
        frontier: Frontier::default(),
        facts: Facts::default(),
        next: 0,
        tree_broken: false,
        failure: None,
        roots_checked: BTreeSet::new(),
        no_pending: Pending::default(),
    };
    // Entries are read in chunks: decoding and signature checks of a chunk run on every core,
    // then the entries are checked in log order. Memory holds one chunk.
    let mut chunk: Vec<(u64, Vec<u8>)> = Vec::with_capacity(AUDIT_CHUNK);
    store.scan(0, &mut |index, leaf| {
        chunk.push((index, leaf.to_vec()));
        if chunk.len() >= AUDIT_CHUNK {
            pass.process(std::mem::take(&mut chunk));
            progress(pass.next);
        }
        pass.failure.is_none()
    })?;
    pass.process(chunk);
    if let Some(e) = pass.failure.take() {
        return Err(e);
    }
    let (next, tree_broken, frontier, roots_checked) = (
        pass.next,
        pass.tree_broken,
        pass.frontier,
        pass.roots_checked,
    );
    progress(next);
    report.entries = next;
    if !tree_broken {
        report.root = Some(hex_hash(&frontier.root()));
    }
    if next < report.size {
        report.add(
            Some(next),
            format!(
                "the store holds {next} entries, but its latest checkpoint covers {}: entries were removed",
                report.size
            ),
        );
    } else if next > report.size {
        report.add(
            Some(report.size),
            format!(
                "the store holds {next} entries, but its latest checkpoint covers only {}: entries were added outside the log",
                report.size
            ),
        );
    }
    for (size, list) in &wanted {
        if *size > next || (*size > 0 && !roots_checked.contains(size) && !tree_broken) {
            for (name, _) in list {
                report.add(
                    None,
                    format!("{name} is of size {size}, beyond the {next} entries this store holds: the log was truncated, or the checkpoint is of a fork"),
                );
            }
        }
    }
    Ok(report)
}
