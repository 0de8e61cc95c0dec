//! `compact verify`: an offline audit of a whole store.
//!
//! Streams the entries once, in order, holding O(log n) tree hashes and the few statements
//! every check needs (agreement signatures, the accession): memory does not grow with the log.
//! For each entry: it decodes and is in canonical form; its signature verifies with the key the
//! author held at the time; its payload meets the rules against the compact and the entries
//! before it; the stored tree hashes it created match its bytes. Every stored checkpoint's
//! signature and root are checked against the recomputed tree, and so is every checkpoint the
//! auditor brings: two checkpoints of one origin that cannot both be of this log are a fork.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use compact_log::{Frontier, Hash, hex_hash, leaf_hash, open_checkpoint, stored_hash_index};
use compact_model::Compact;
use compact_statement::rules::{Facts, Mode, check_payload, signing_key, vkey_ref};
use compact_statement::{Kind, Payload, Statement};
use rayon::prelude::*;

use crate::{Overlay, PROJECTION, Pending, Reads, RecordRow, Store, StoreError, StoredRow};

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
struct Pass<'a, S: Reads + ?Sized> {
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
    /// Statement hashes of the rows whose stored hash columns were altered, to the entry.
    altered: BTreeMap<[u8; 32], u64>,
    /// Whether the store keeps the projection, whose rows are then compared with the leaves.
    projection: bool,
    /// The projection's rows of the chunk being checked, by index.
    records: BTreeMap<i64, RecordRow>,
    /// The first index of the projection not read yet.
    records_next: i64,
    /// What the chunk's checks ask of the store, asked at once (a database server answers one
    /// query faster than many): the first entry of each statement hash, the stored hashes the
    /// chunk's entries create. What is not here is read one at a time.
    logged: HashMap<[u8; 32], Option<u64>>,
    stored: HashMap<u64, Hash>,
}

/// A signature to verify: the entry, the statement, the key the log held for it.
type ToVerify = (u64, Statement, String);

fn short(h: &[u8; 32]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(h.get(..8).unwrap_or(&[0; 8]));
    u64::from_be_bytes(b)
}

impl<S: Reads + ?Sized> Pass<'_, S> {
    fn process(&mut self, chunk: Vec<StoredRow>) {
        // The projection's rows up to the chunk's last index: each is compared with its
        // entry's leaf, and a row no entry claims is extra.
        let last = chunk.iter().map(|r| r.index).max();
        if self.projection
            && let Some(last) = last.filter(|l| *l >= self.records_next)
        {
            match self.store.record_rows(self.records_next, last) {
                Ok(rows) => self.records = rows.into_iter().map(|r| (r.index, r.row)).collect(),
                Err(e) => self.failure = Some(e),
            }
            self.records_next = last.saturating_add(1);
        }
        let prepared: Vec<_> = chunk
            .into_par_iter()
            .map(|row| {
                let decoded = Statement::decode(&row.leaf);
                let h = leaf_hash(&row.leaf);
                (row, decoded, h)
            })
            .collect();
        self.prefetch(&prepared);
        let first_problem = self.report.problems.len();
        let mut verify: Vec<ToVerify> = Vec::new();
        for (row, decoded, h) in prepared {
            if self.failure.is_some() {
                return;
            }
            if let Some(v) = self.entry(&row, decoded, h) {
                // A key statement changes which keys sign what follows: its own signature is
                // settled before the entries after it are checked.
                verify.push(v);
            }
        }
        let bad: Vec<Problem> = verify
            .into_par_iter()
            .filter_map(|(index, st, vkey)| {
                st.verify_with(&vkey).err().map(|e| Problem {
                    entry: Some(index),
                    message: format!(
                        "entry {index} ({} by {}): {e}",
                        st.kind().as_str(),
                        st.author
                    ),
                })
            })
            .collect();
        self.report.problems.extend(bad);
        for index in std::mem::take(&mut self.records).into_keys() {
            self.report
                .add(u64::try_from(index).ok(), extra_record(index));
        }
        if let Some(tail) = self.report.problems.get_mut(first_problem..) {
            tail.sort_by_key(|p| p.entry);
        }
    }

    /// Asks the store at once what checking the chunk will ask of it (see `logged`, `stored`).
    fn prefetch(
        &mut self,
        prepared: &[(
            StoredRow,
            Result<Statement, compact_statement::StatementError>,
            Hash,
        )],
    ) {
        let hashes: Vec<Hash> = prepared
            .iter()
            .filter_map(|(_, d, _)| d.as_ref().ok())
            .map(|st| Hash(st.statement_hash()))
            .collect();
        self.logged = match self.store.find_statements(&hashes) {
            Ok(found) => hashes.iter().map(|h| h.0).zip(found).collect(),
            Err(_) => HashMap::new(),
        };
        self.stored.clear();
        if !self.tree_broken {
            let n = self.frontier.size();
            let from = stored_hash_index(0, n);
            let to = stored_hash_index(0, n + prepared.len() as u64);
            let indexes: Vec<u64> = (from..to).collect();
            // A store missing some of them (tampered) is read entry by entry, to name the entry.
            if let Ok(stored) = self.store.hashes(&indexes) {
                self.stored = indexes.into_iter().zip(stored).collect();
            }
        }
    }

    fn entry(
        &mut self,
        row: &StoredRow,
        decoded: Result<Statement, compact_statement::StatementError>,
        h: Hash,
    ) -> Option<ToVerify> {
        let report = &mut *self.report;
        let expected = self.next;
        let index = match u64::try_from(row.index) {
            Ok(i) if i == expected => i,
            Ok(i) if i > expected => {
                report.add(
                    Some(expected),
                    format!(
                        "entry {expected} is missing: the store skips from entry {expected} to entry {i}"
                    ),
                );
                self.tree_broken = true;
                i
            }
            _ => {
                report.add(
                    Some(expected),
                    format!(
                        "a row is stored under index {}: indices run 0, 1, 2, … without gaps (a row was inserted outside the log)",
                        row.index
                    ),
                );
                self.tree_broken = true;
                return None;
            }
        };
        self.next = index + 1;
        let stored_record = i64::try_from(index)
            .ok()
            .and_then(|i| self.records.remove(&i));
        // Every stored column is recomputed from the leaf.
        if row.leaf_hash != h.0 {
            report.add(
                Some(index),
                format!("entry {index}: its stored leaf hash is not the hash of its bytes (a column was altered)"),
            );
        }
        // The tree: the hashes this entry creates must be the ones stored.
        if !self.tree_broken {
            let n = self.frontier.size();
            let created = self.frontier.push(h);
            let start = stored_hash_index(0, n);
            let indexes: Vec<u64> = (start..start + created.len() as u64).collect();
            let prefetched: Option<Vec<Hash>> = indexes
                .iter()
                .map(|i| self.stored.get(i).copied())
                .collect();
            let stored = match prefetched {
                Some(stored) => Ok(stored),
                None => self.store.hashes(&indexes),
            };
            match stored {
                Ok(stored) => {
                    if stored.first() != created.first() {
                        report.add(
                            Some(index),
                            format!("entry {index} was changed after it was logged: its bytes do not hash to the tree hash stored for it"),
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
                return None;
            }
            Ok(st) => st,
        };
        if st.leaf != row.leaf {
            report.add(
                Some(index),
                format!("entry {index} is not in canonical form"),
            );
        }
        let sh = st.statement_hash();
        let mut columns = Vec::new();
        if row.statement_hash != sh {
            columns.push("statement hash");
        }
        if row.statement_key != Some(short(&sh) as i64) {
            columns.push("statement key");
        }
        if row.kind != st.kind().as_str() {
            columns.push("kind");
        }
        if row.author != st.author {
            columns.push("author");
        }
        if row.reference != st.payload.reference().and_then(|r| i64::try_from(r).ok()) {
            columns.push("reference");
        }
        if !columns.is_empty() {
            report.add(
                Some(index),
                format!(
                    "entry {index}: its stored {} do not match its bytes (the database was altered)",
                    columns.join(", ")
                ),
            );
        }
        // The projection's row, recomputed from the leaf.
        if self.projection {
            match stored_record {
                None => report.add(
                    Some(index),
                    format!("entry {index}: its row of the projection (records) is missing (the database was altered)"),
                ),
                Some(stored) => {
                    let differs = RecordRow::of_statement(&st).differences(&stored);
                    if !differs.is_empty() {
                        report.add(
                            Some(index),
                            format!(
                                "entry {index}: its row of the projection (records) does not match its leaf: {} (the database was altered)",
                                differs.join(", ")
                            ),
                        );
                    }
                }
            }
        }
        if st.received.is_none() {
            report.add(
                Some(index),
                format!("entry {index} has no receipt time: every entry is stamped by the log"),
            );
        }
        // A replay: the store's index of statement hashes finds the first entry with this
        // statement. The index can be trusted here because every earlier row's columns were
        // just compared with its leaf: a row whose columns were altered to hide it from the
        // index is named above.
        // Rows whose hash columns were altered are remembered apart (few: only in a tampered
        // store), so that a replay of one is still named.
        let found = match self.logged.get(&sh) {
            Some(found) => Ok(*found),
            None => self.store.find_statement(&Hash(sh)),
        };
        let found = match found {
            Ok(found) => found.filter(|other| *other < index),
            Err(e) => {
                self.failure = Some(e);
                None
            }
        };
        if let Some(other) = found.or_else(|| self.altered.get(&sh).copied()) {
            report.add(
                Some(index),
                format!("entry {index} replays entry {other}: the same signed statement twice"),
            );
        }
        if columns.iter().any(|c| c.starts_with("statement")) {
            self.altered.entry(sh).or_insert(index);
        }
        let view = Overlay {
            store: self.store,
            base: index,
            pending: &self.no_pending,
            facts: &self.facts,
        };
        let key = signing_key(&st, self.compact, &self.facts);
        let verdict = match &key {
            Err(r) => Err(r.clone()),
            Ok(_) => check_payload(&st, self.compact, &view, Mode::Audit),
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
        let key_statement = matches!(
            st.kind(),
            Kind::LogInit | Kind::KeyRegister | Kind::KeyRevoke
        );
        let to_verify = key.ok().map(|k| (index, st.clone(), k));
        if key_statement {
            if let Some((i, s, k)) = &to_verify
                && let Err(e) = s.verify_with(k)
            {
                report.add(
                    Some(*i),
                    format!("entry {i} ({} by {}): {e}", s.kind().as_str(), s.author),
                );
                // A forged key statement registers nothing.
                return None;
            }
            self.facts.note(index, &st, self.compact);
            return None;
        }
        self.facts.note(index, &st, self.compact);
        to_verify
    }
}

fn extra_record(index: i64) -> String {
    format!(
        "the projection (records) holds a row for entry {index}, which the log does not hold (the database was altered)"
    )
}

/// Audits `store` against `compact`, with the checkpoints the auditor brings and, if given,
/// the operator key the auditor pins (a published key; else `compact.toml`'s, if it names
/// one). Everything checked comes from the leaves: the operator's key from the log's
/// `log.init`, parties' keys from their `key.register` entries. The whole audit reads one
/// snapshot of the store, so a writer appending meanwhile causes no false alarm. `progress` is
/// called with the number of entries read so far.
pub fn audit<S: Store>(
    store: &S,
    compact: &Compact,
    given: &[GivenCheckpoint],
    pinned: Option<&str>,
    progress: &mut dyn FnMut(u64),
) -> Result<Report, StoreError> {
    let snapshot = store.snapshot()?;
    audit_snapshot(&*snapshot, compact, given, pinned, progress)
}

fn audit_snapshot<S: Reads + ?Sized>(
    store: &S,
    compact: &Compact,
    given: &[GivenCheckpoint],
    pinned: Option<&str>,
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
    // The operator's key: from the first row's leaf (entry 0 is the operator's log.init).
    let mut first: Option<StoredRow> = None;
    store.scan_rows(&mut |row| {
        if row.index < 0 {
            return true;
        }
        first = Some(row);
        false
    })?;
    let from_log = first.as_ref().and_then(|r| {
        Statement::decode(&r.leaf)
            .ok()
            .and_then(|st| match st.payload {
                Payload::LogInit(l) => Some(l.operator_key),
                _ => None,
            })
    });
    let pin = pinned.or(compact.operator_key.as_deref());
    let vkey: String = match (&from_log, pin) {
        (Some(k), Some(p)) if vkey_ref(k) != vkey_ref(p) || k.trim() != p.trim() => {
            report.add(
                Some(0),
                format!(
                    "the log's operator key {} (entry 0) is not the pinned operator key {}: this is not the log you trust (rewritten from its first entry?)",
                    vkey_ref(k),
                    vkey_ref(p)
                ),
            );
            p.to_owned()
        }
        (Some(k), _) => k.clone(),
        (None, Some(p)) => {
            if first.is_some() {
                report.add(
                    Some(0),
                    "entry 0 is not the operator's log.init: the log does not say who its operator is".into(),
                );
            }
            p.to_owned()
        }
        (None, None) => {
            if first.is_some() {
                report.add(
                    Some(0),
                    "entry 0 is not the operator's log.init, and no operator key is pinned (--operator-key): checkpoints cannot be verified".into(),
                );
            }
            return Ok(report);
        }
    };
    let vkey = vkey.as_str();

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
    // The empty tree's root is SHA-256 of nothing (RFC 6962): a size-0 checkpoint must sign it.
    if let Some(list) = wanted.get(&0) {
        let empty = Frontier::default().root();
        for (name, root) in list {
            if *root != empty {
                report.add(
                    None,
                    format!(
                        "{name} is of size 0 but signs root {}, not the empty tree's {}",
                        hex_hash(root),
                        hex_hash(&empty)
                    ),
                );
            }
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

    // The projection, if the store keeps one: an older store has none, and reports then
    // decode the leaves; a store that says it keeps one must hold it whole.
    let projection = match store.projection_meta()? {
        Some(p) if p == PROJECTION => match store.record_rows(0, -1) {
            Ok(_) => true,
            Err(e) => {
                report.add(
                    None,
                    format!("the store keeps a projection ({PROJECTION}) but its table cannot be read ({e}): the database was altered"),
                );
                false
            }
        },
        Some(other) => {
            report.add(
                None,
                format!("the store records projection `{other}`, not `{PROJECTION}`: the database was altered, or written by another version"),
            );
            false
        }
        None => false,
    };
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
        altered: BTreeMap::new(),
        projection,
        records: BTreeMap::new(),
        records_next: 0,
        logged: HashMap::new(),
        stored: HashMap::new(),
    };
    // Entries are read in chunks: decoding and signature checks of a chunk run on every core,
    // then the entries are checked in log order. Memory holds one chunk.
    let mut chunk: Vec<StoredRow> = Vec::with_capacity(AUDIT_CHUNK);
    store.scan_rows(&mut |row| {
        chunk.push(row);
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
    // Rows of the projection beyond the entries, or under a negative index.
    if pass.projection {
        let after = pass.records_next;
        for r in store
            .record_rows(i64::MIN, -1)?
            .into_iter()
            .chain(store.record_rows(after, i64::MAX)?)
        {
            pass.report
                .add(u64::try_from(r.index).ok(), extra_record(r.index));
        }
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
