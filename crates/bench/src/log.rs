//! The log's performance targets (PRODUCT.md B1-B3), each measured beside a reference taken in
//! the same run on the same machine.
//!
//! - `ingest`: signed statements appended to the embedded store, signatures and rules checked,
//!   durable batches; beside the raw Ed25519 verification rate of the same statements.
//! - `verify`: a full audit of a store; beside the raw cost of verifying its signatures and
//!   hashing its leaves; with the peak memory of the process.
//! - `proofs`: inclusion and consistency proof latency on a tree of N leaves.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context as _, anyhow};
use compact_files::keys::{record_operator_key, record_party_key};
use compact_log::{Frontier, leaf_hash, prove_consistency, prove_inclusion, stored_hash_index};
use compact_statement::{
    AgreementSign, DeliveryReport, Draft, PartyKeys, Payload, Statement, genesis, keys,
};
use compact_store::Reads as _;
use compact_store::audit::audit;
use compact_store::{Clock, Ledger, Store, StoreHashes};
use compact_store_sqlite::SqliteStore;
use signed_note::{StandardSigner, StandardVerifier, Verifier as _};

use crate::{Report, load, write_data_set};

/// The seed of a benchmark key named `name`.
pub(crate) fn seed(name: &str) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(format!("compact bench\n{name}").as_bytes()).into()
}

/// A compact directory with the shipped data set, keys for GB, UA and the operator, and the
/// store: the log's genesis (the operator's key, GB's and UA's keys) and gb-ua-2024 signed by
/// both. Returns the signers of GB and of the operator.
fn setup(dir: &Path) -> anyhow::Result<(StandardSigner, StandardSigner)> {
    setup_with(dir, |compact| {
        Ok(SqliteStore::create(
            &dir.join("compact.sqlite"),
            &compact.id,
        )?)
    })
}

/// [`setup`] with the store `create` makes for the compact.
fn setup_with<S: Store>(
    dir: &Path,
    create: impl FnOnce(&compact_model::Compact) -> anyhow::Result<S>,
) -> anyhow::Result<(StandardSigner, StandardSigner)> {
    write_data_set(dir)?;
    let mut signers = Vec::new();
    let mut roots = Vec::new();
    for code in ["GB", "UA"] {
        let k = keys::from_seed(code, &seed(code))?;
        let r = keys::from_seed(code, &seed(&format!("{code} root")))?;
        record_party_key(dir, code, &k.verifier, None, "2000-01-01").map_err(|e| anyhow!(e))?;
        signers.push((keys::signer(&k.private)?, k.verifier));
        roots.push((keys::signer(&r.private)?, r.verifier));
    }
    let op = keys::from_seed("kyiv-compact", &seed("operator"))?;
    record_operator_key(dir, &op.verifier).map_err(|e| anyhow!(e))?;
    let operator = keys::signer(&op.private)?;
    let compact = load(dir).ok_or_else(|| anyhow!("the data set is not valid"))?;
    let store = create(&compact)?;
    let mut ledger = Ledger::open(store, &compact)?;
    let a = compact
        .agreement("gb-ua-2024", None)
        .ok_or_else(|| anyhow!("no gb-ua-2024"))?;
    let parties: Vec<PartyKeys<'_>> = ["GB", "UA"]
        .iter()
        .zip(roots.iter().zip(&signers))
        .map(|(code, ((root, root_vkey), (_, vkey)))| PartyKeys {
            code,
            root,
            root_vkey,
            signing_vkey: vkey,
        })
        .collect();
    let mut log = genesis(
        &compact.id,
        &operator,
        &op.verifier,
        &parties,
        "2024-01-11T12:00:00Z".parse()?,
    )?;
    let terms = compact_files::read_text(Path::new(&a.path)).map_err(|e| anyhow!(e))?;
    for (code, (s, _)) in ["GB", "UA"].into_iter().zip(&signers) {
        log.push(Statement::sign(
            Draft {
                compact: compact.id.clone(),
                author: code.into(),
                time: "2024-01-12T12:00:00Z".parse()?,
                payload: Payload::AgreementSign(AgreementSign {
                    agreement: a.id.clone(),
                    version: a.version,
                    digest: a.digest.clone(),
                    terms: terms.clone(),
                }),
            },
            s,
        )?);
    }
    ledger
        .append(&log, &operator, Clock::Simulated)
        .map_err(|e| anyhow!("{e}"))?;
    let (gb, _) = signers.remove(0);
    Ok((gb, operator))
}

/// `n` distinct delivery reports by GB, made at `time`.
fn reports(
    compact_id: &str,
    gb: &StandardSigner,
    n: u64,
    time: jiff::Timestamp,
) -> anyhow::Result<Vec<Statement>> {
    let date = "2024-06-30".parse()?;
    use rayon::prelude::*;
    (0..n)
        .into_par_iter()
        .map(|i| {
            Statement::sign(
                Draft {
                    compact: compact_id.to_owned(),
                    author: "GB".into(),
                    time,
                    payload: Payload::DeliveryReport(DeliveryReport {
                        commitment: "gb-military-2024".into(),
                        amount: format!("{} GBP", 1000 + i),
                        date,
                        reference: format!("bench-{i}"),
                        allocation: None,
                    }),
                },
                gb,
            )
            .map_err(|e| anyhow!("{e}"))
        })
        .collect()
}

fn raw_verify_rate(statements: &[Statement], vkey: &str) -> anyhow::Result<f64> {
    let v = StandardVerifier::new(vkey).map_err(|e| anyhow!("{e}"))?;
    let start = Instant::now();
    let mut ok = 0u64;
    for s in statements {
        ok += u64::from(v.verify(&s.signed_bytes, &s.sig));
    }
    let secs = start.elapsed().as_secs_f64();
    if ok != statements.len() as u64 {
        return Err(anyhow!("a signature failed to verify"));
    }
    Ok(statements.len() as f64 / secs)
}

fn gb_vkey(dir: &Path) -> anyhow::Result<String> {
    let compact = load(dir).ok_or_else(|| anyhow!("invalid compact"))?;
    compact
        .parties
        .get("GB")
        .and_then(|p| p.keys.first())
        .map(|k| k.key.clone())
        .ok_or_else(|| anyhow!("no GB key"))
}

/// Peak resident memory of this process, from /proc (Linux), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// B1: builds `dir` and appends `n` delivery reports in batches of `batch`, beside the raw
/// Ed25519 verification rate of the same statements.
pub fn ingest(dir: &Path, n: u64, batch: usize) -> anyhow::Result<Report> {
    let mut r = Report::default();
    let (gb, operator) = setup(dir)?;
    let compact = load(dir).ok_or_else(|| anyhow!("invalid compact"))?;
    let statements = reports(&compact.id, &gb, n, "2024-07-01T00:00:00Z".parse()?)?;
    let raw = raw_verify_rate(&statements, &gb_vkey(dir)?)?;
    let store = SqliteStore::open(&dir.join("compact.sqlite"))?;
    let run = append_all(store, &compact, &statements, &operator, batch)?;
    let rate = run.rate(n);
    r.line(format!(
        "B1 ingest: {n} statements in {:.2} s = {rate:.0} statements/s (batches of {batch}, durable, signatures and rules checked)",
        run.secs
    ));
    r.line(format!(
        "B1 reference: raw Ed25519 verification of the same statements = {raw:.0} verifications/s"
    ));
    r.line(format!(
        "B1 ratio: ingest / raw verify = {:.1}%",
        100.0 * rate / raw
    ));
    r.line(format!(
        "B1 time split: checking and hashing {:.2} s, writing {:.2} s",
        run.checking,
        run.secs - run.checking
    ));
    r.line(format!("B1 log size: {}", run.size));
    Ok(r)
}

/// B1 on PostgreSQL: [`ingest`] into SQLite in `dir/sqlite`, then the same statements into a
/// new store in the (empty) PostgreSQL database at `url`, with the compact in `dir/postgres`;
/// both rates in one run, and their ratio.
pub fn ingest_postgres(dir: &Path, url: &str, n: u64, batch: usize) -> anyhow::Result<Report> {
    use compact_store_postgres::PostgresStore;
    let mut r = Report::default();
    let lite = dir.join("sqlite");
    let pg = dir.join("postgres");
    std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    let sqlite = ingest(&lite, n, batch)?;
    r.lines.extend(
        sqlite
            .lines
            .iter()
            .map(|l| l.replacen("B1 ", "B1 SQLite ", 1)),
    );
    let (gb, operator) = setup_with(&pg, |compact| Ok(PostgresStore::create(url, &compact.id)?))?;
    let compact = load(&pg).ok_or_else(|| anyhow!("invalid compact"))?;
    let statements = reports(&compact.id, &gb, n, "2024-07-01T00:00:00Z".parse()?)?;
    let run = append_all(
        PostgresStore::open(url)?,
        &compact,
        &statements,
        &operator,
        batch,
    )?;
    let rate = run.rate(n);
    r.line(format!(
        "B1 PostgreSQL ingest: {n} statements in {:.2} s = {rate:.0} statements/s (batches of {batch}, durable, signatures and rules checked)",
        run.secs
    ));
    r.line(format!(
        "B1 PostgreSQL time split: checking and hashing {:.2} s, writing {:.2} s",
        run.checking,
        run.secs - run.checking
    ));
    r.line(format!("B1 PostgreSQL log size: {}", run.size));
    let lite_rate = sqlite
        .lines
        .iter()
        .find_map(|l| {
            l.strip_prefix("B1 ingest: ")
                .and_then(|l| l.split(" = ").nth(1))
                .and_then(|l| l.split(' ').next())
                .and_then(|v| v.parse::<f64>().ok())
        })
        .ok_or_else(|| anyhow!("no SQLite rate"))?;
    r.line(format!(
        "B1 PostgreSQL / SQLite: {:.1}%",
        100.0 * rate / lite_rate
    ));
    // B2 beside it: each store audited in full, SQLite's first.
    let lite_compact = load(&lite).ok_or_else(|| anyhow!("invalid compact"))?;
    let lite_secs = timed_audit(
        &SqliteStore::open(&lite.join("compact.sqlite"))?,
        &lite_compact,
    )?;
    let pg_secs = timed_audit(&PostgresStore::open_read_only(url)?, &compact)?;
    r.line(format!(
        "B2 SQLite verify: {} entries in {lite_secs:.2} s; PostgreSQL verify: {pg_secs:.2} s ({:.2}x)",
        run.size,
        pg_secs / lite_secs
    ));
    Ok(r)
}

/// The seconds a full audit of `store` takes (an error if it finds a problem).
fn timed_audit<S: Store>(store: &S, compact: &compact_model::Compact) -> anyhow::Result<f64> {
    let start = Instant::now();
    let report = audit(store, compact, &[], None, &mut |_| {})?;
    if !report.ok() {
        return Err(anyhow!("the audit failed: {:?}", report.problems.first()));
    }
    Ok(start.elapsed().as_secs_f64())
}

/// What appending took.
struct Run {
    secs: f64,
    checking: f64,
    size: u64,
}

impl Run {
    fn rate(&self, n: u64) -> f64 {
        n as f64 / self.secs
    }
}

/// Appends `statements` to `store` as `import` does: chunks of ten batches prepared (checked,
/// hashed, signed), then written, one durable transaction a batch.
fn append_all<S: Store>(
    store: S,
    compact: &compact_model::Compact,
    statements: &[Statement],
    operator: &StandardSigner,
    batch: usize,
) -> anyhow::Result<Run> {
    let mut ledger = Ledger::open(store, compact)?;
    let start = Instant::now();
    let mut checking = 0.0;
    for chunk in statements.chunks(batch.max(1) * 10) {
        let t = Instant::now();
        let batches = ledger
            .prepare(chunk, operator, batch, Clock::Simulated)
            .map_err(|e| anyhow!("{e}"))?;
        checking += t.elapsed().as_secs_f64();
        ledger
            .write(&batches, &mut |_| {})
            .map_err(|e| anyhow!("{e}"))?;
    }
    Ok(Run {
        secs: start.elapsed().as_secs_f64(),
        checking,
        size: ledger.store().size()?,
    })
}

/// B6 writes: builds `dir` as [`ingest`] does (the compact, its keys and the log's genesis),
/// and writes `n` distinct delivery reports signed by GB to `dir/statements.jsonl`, one per
/// line, for a load tool to post to `compact serve`.
pub fn statements(dir: &Path, n: u64) -> anyhow::Result<Report> {
    use std::io::Write as _;
    let mut r = Report::default();
    let (gb, _) = setup(dir)?;
    // The server signs checkpoints with the operator's key, kept where `compact serve` looks.
    let op = keys::from_seed("kyiv-compact", &seed("operator"))?;
    compact_files::keys::write_private_key(&dir.join("keys/operator.key"), &op.private)
        .map_err(|e| anyhow!(e))?;
    let compact = load(dir).ok_or_else(|| anyhow!("invalid compact"))?;
    let path = dir.join("statements.jsonl");
    let file = std::fs::File::create(&path).with_context(|| format!("{}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    // Made now: a server receives a statement only within days of its making.
    let now = jiff::Timestamp::now().round(jiff::Unit::Second)?;
    for st in reports(&compact.id, &gb, n, now)? {
        out.write_all(&st.leaf)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    r.line(format!(
        "B6 statements: {n} delivery reports signed by GB in {}",
        path.display()
    ));
    Ok(r)
}

/// B2: audits the store `ingest` built in `dir`, beside the raw cost of verifying its
/// signatures and hashing its leaves, with the process's peak memory.
pub fn verify(dir: &Path) -> anyhow::Result<Report> {
    let mut r = Report::default();
    let compact = load(dir).ok_or_else(|| anyhow!("invalid compact"))?;
    let store = SqliteStore::open(&dir.join("compact.sqlite"))?;
    let before = peak_rss_mib();
    let start = Instant::now();
    let report = audit(&store, &compact, &[], None, &mut |_| {})?;
    let secs = start.elapsed().as_secs_f64();
    let peak = peak_rss_mib();
    if !report.ok() {
        return Err(anyhow!("the audit failed: {:?}", report.problems.first()));
    }
    // The reference: verify every signature and hash every leaf, nothing else.
    let vkey = gb_vkey(dir)?;
    let v = StandardVerifier::new(&vkey).map_err(|e| anyhow!("{e}"))?;
    let mut leaves = Vec::new();
    store.scan(0, &mut |_, leaf| {
        leaves.push(leaf.to_vec());
        true
    })?;
    let decoded: Vec<Statement> = leaves
        .iter()
        .filter_map(|l| Statement::decode(l).ok())
        .collect();
    let start = Instant::now();
    let mut frontier = Frontier::default();
    for (leaf, st) in leaves.iter().zip(&decoded) {
        frontier.push(leaf_hash(leaf));
        if st.author == "GB" {
            std::hint::black_box(v.verify(&st.signed_bytes, &st.sig));
        }
    }
    let raw = start.elapsed().as_secs_f64();
    r.line(format!(
        "B2 verify: {} entries in {secs:.2} s ({:.0} entries/s)",
        report.entries,
        report.entries as f64 / secs
    ));
    r.line(format!(
        "B2 reference: raw signature verification + leaf hashing of the same entries = {raw:.2} s"
    ));
    r.line(format!("B2 ratio: verify / raw = {:.2}x", secs / raw));
    r.line(format!(
        "B2 peak memory (VmHWM) during the audit: {:.1} MiB (before: {:.1} MiB; the reference pass then loads every leaf)",
        peak.unwrap_or(f64::NAN),
        before.unwrap_or(f64::NAN)
    ));
    Ok(r)
}

/// B3: a tree of `n` synthetic leaves in a store in `dir` (built on first use, `note` told
/// how long that took), `samples` proofs of each kind timed.
pub fn proofs(
    dir: &Path,
    n: u64,
    samples: usize,
    note: &mut dyn FnMut(String),
) -> anyhow::Result<Report> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("tree.sqlite");
    let store = if path.exists() {
        SqliteStore::open(&path)?
    } else {
        let store = SqliteStore::create(&path, "bench")?;
        let start = Instant::now();
        let c = store.connection();
        c.execute_batch("PRAGMA synchronous = OFF; BEGIN;")
            .context("bulk load")?;
        {
            let mut ins = c.prepare("INSERT INTO hashes (idx, hash) VALUES (?1, ?2)")?;
            let mut f = Frontier::default();
            for i in 0..n {
                let first = stored_hash_index(0, i);
                for (k, h) in f.push(leaf_hash(&i.to_be_bytes())).iter().enumerate() {
                    ins.execute((i64::try_from(first + k as u64)?, h.0.as_slice()))?;
                }
            }
            c.execute(
                "INSERT INTO checkpoints (size, note) VALUES (?1, x'')",
                [i64::try_from(n)?],
            )?;
        }
        c.execute_batch("COMMIT;")?;
        drop(c);
        note(format!(
            "built a tree of {n} leaves in {:.1} s",
            start.elapsed().as_secs_f64()
        ));
        store
    };
    time_proofs(&store, n, samples)
}

/// B3 on PostgreSQL: the same tree of `n` synthetic leaves in the store of the database at
/// `url` (built on first use, by `COPY`), `samples` proofs of each kind timed over the
/// connection the URL names (a Unix socket: `postgresql://USER@%2Fpath%2Fto%2Fsock:PORT/DB`).
pub fn proofs_postgres(
    url: &str,
    n: u64,
    samples: usize,
    note: &mut dyn FnMut(String),
) -> anyhow::Result<Report> {
    use compact_store_postgres::PostgresStore;
    use std::io::Write as _;
    let store = match PostgresStore::open(url) {
        Ok(s) if s.size()? == n => s,
        Ok(s) => anyhow::bail!(
            "the database holds a tree of {} leaves, not {n}: give an empty database",
            s.size()?
        ),
        Err(_) => {
            let store = PostgresStore::create(url, "bench")?;
            let start = Instant::now();
            store.with_client(|c| -> anyhow::Result<()> {
                let mut tx = c.transaction()?;
                let mut w = std::io::BufWriter::with_capacity(
                    1 << 20,
                    tx.copy_in("COPY hashes (idx, hash) FROM STDIN")?,
                );
                let mut f = Frontier::default();
                for i in 0..n {
                    let first = stored_hash_index(0, i);
                    for (k, h) in f.push(leaf_hash(&i.to_be_bytes())).iter().enumerate() {
                        writeln!(w, "{}\t\\\\x{}", first + k as u64, hex::encode(h.0))?;
                    }
                }
                w.into_inner()
                    .map_err(|e| anyhow!("COPY: {}", e.error()))?
                    .finish()?;
                tx.execute(
                    "INSERT INTO checkpoints (size, note) VALUES ($1, ''::bytea)",
                    &[&i64::try_from(n)?],
                )?;
                tx.commit()?;
                Ok(())
            })??;
            note(format!(
                "built a tree of {n} leaves in PostgreSQL in {:.1} s",
                start.elapsed().as_secs_f64()
            ));
            store
        }
    };
    time_proofs(&store, n, samples)
}

/// `samples` inclusion and consistency proofs of each kind on the tree of `n` leaves in
/// `store`, each timed from the question to the proof.
fn time_proofs(store: &dyn Store, n: u64, samples: usize) -> anyhow::Result<Report> {
    let mut r = Report::default();
    // Deterministic sample of indices (a fixed LCG).
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        x
    };
    let mut incl = Vec::with_capacity(samples);
    let mut cons = Vec::with_capacity(samples);
    for _ in 0..samples {
        let i = next() % n;
        // As the service proves: stored hashes never change, so a proof needs no snapshot.
        let t = Instant::now();
        let reads = store.latest()?;
        std::hint::black_box(prove_inclusion(i, n, &StoreHashes(&*reads))?);
        drop(reads);
        incl.push(t.elapsed().as_secs_f64() * 1e6);
        let m = 1 + next() % (n - 1);
        let t = Instant::now();
        let reads = store.latest()?;
        std::hint::black_box(prove_consistency(m, n, &StoreHashes(&*reads))?);
        drop(reads);
        cons.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let p99 = |v: &Vec<f64>| v.get(v.len() * 99 / 100).copied().unwrap_or(f64::NAN);
    let (mi, mc) = (median(&mut incl), median(&mut cons));
    r.line(format!(
        "B3 inclusion proofs on {n} leaves: median {mi:.1} µs, p99 {:.1} µs ({samples} samples)",
        p99(&incl)
    ));
    r.line(format!(
        "B3 consistency proofs on {n} leaves: median {mc:.1} µs, p99 {:.1} µs ({samples} samples)",
        p99(&cons)
    ));
    Ok(r)
}
