//! B4 (PRODUCT.md): the status report over N deliveries, 40
//! guarantors and 10 pillars, beside DuckDB running the equivalent SQL on the same data.
//!
//! The command builds a synthetic compact in DIR (40 guarantors, one agreement each, one
//! yearly commitment per pillar), N signed delivery reports each on a seeded commitment,
//! amount and date, and a confirmation of nine in ten of them (one in ten of those for part of
//! the amount). It times, in memory and over three runs, the engine's figures and the report
//! by guarantor; it also times decoding the log's leaves into statements, the step a store
//! read adds. It writes the same data as CSV files (`tranches.csv`, `reports.csv`,
//! `confirms.csv`) and the engine's rows as `engine.json`, for `bench/b4_duckdb.py` to run
//! the SQL and compare both the time and every figure. The caller says how many engine runs
//! are timed (3 by default; more for profiling: `perf record -p` while they run).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context as _, anyhow};
use compact_engine::fulfilment;
use compact_engine::report::{By, status as group};
use compact_files::keys::record_party_key;
use compact_statement::{DeliveryConfirm, DeliveryReport, Draft, Payload, Statement, keys};
use jiff::civil::Date;
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};
use rayon::prelude::*;

use crate::log::seed;
use crate::{Report, load, noon};

const GUARANTORS: usize = 40;
const PILLARS: usize = 10;
const AS_OF: &str = "2026-11-28";

fn code(i: usize) -> String {
    // User-assigned ISO 3166-1 ranges: QA-QZ, then XA-XN.
    let (first, second) = if i < 26 { ('Q', i) } else { ('X', i - 26) };
    let second = char::from(b'A' + u8::try_from(second).unwrap_or(0));
    format!("{first}{second}")
}

/// The yearly amount of guarantor `g`'s commitment to pillar `p`, in EUR.
fn yearly(g: usize, p: usize) -> u64 {
    ((g % 7 + 1) * 100 + (p + 1) * 10) as u64 * 1_000_000
}

fn write_compact(dir: &Path) -> anyhow::Result<()> {
    let mut compact = String::from(
        "id = \"bench-compact\"\ntitle = \"B4 benchmark compact (synthetic)\"\nbeneficiary = \"UA\"\n\
         currency = \"EUR\"\ncurrencies = [\"EUR\"]\nadopted_on = 2024-01-01\n\
         consultation_hours = 24\nthreat_levels = 5\nsynthetic = true\n\n\
         [end]\ncondition = \"accession\"\norganisation = \"NATO\"\n\n\
         [[groups]]\nid = \"core\"\nname = \"Core\"\nguarantees = \"military\"\n",
    );
    for p in 0..PILLARS {
        write!(
            compact,
            "\n[[pillars]]\nid = \"p{p:02}\"\nname = \"Pillar {p}\"\n"
        )?;
    }
    std::fs::create_dir_all(dir.join("parties"))?;
    std::fs::create_dir_all(dir.join("agreements"))?;
    std::fs::write(dir.join("compact.toml"), compact)?;
    std::fs::write(
        dir.join("parties/UA.toml"),
        "code = \"UA\"\nname = \"Ukraine\"\n",
    )?;
    for g in 0..GUARANTORS {
        let c = code(g);
        std::fs::write(
            dir.join(format!("parties/{c}.toml")),
            format!(
                "code = \"{c}\"\nname = \"Guarantor {c}\"\ngroup = \"core\"\n\n\
                 [[gdp]]\nyear = 2024\namount = \"{}e9 EUR\"\nsynthetic = true\n",
                100 + 37 * g
            ),
        )?;
        let id = format!("{}-ua", c.to_lowercase());
        let mut a = format!(
            "id = \"{id}\"\nversion = 1\nguarantor = \"{c}\"\nbeneficiary = \"UA\"\n\
             title = \"Agreement {c}\"\nsigned_on = 2024-01-01\nin_force_from = 2024-01-01\n\
             duration_years = 10\non_accession = \"continue\"\nsource = \"https://example.invalid/bench\"\n\
             synthetic = true\n"
        );
        for p in 0..PILLARS {
            write!(
                a,
                "\n[[commitments]]\nid = \"{id}-p{p:02}\"\npillar = \"p{p:02}\"\n\
                 description = \"Pillar {p}\"\namount = \"{} EUR\"\n\
                 schedule.yearly = {{ from = 2024, to = 2033 }}\n",
                yearly(g, p)
            )?;
        }
        std::fs::write(dir.join(format!("agreements/{id}.toml")), a)?;
    }
    Ok(())
}

/// One synthetic delivery: commitment, date, amount in cents, confirmed cents (if confirmed).
struct Delivery {
    guarantor: usize,
    pillar: usize,
    date: Date,
    cents: u64,
    confirmed: Option<u64>,
}

fn deliveries(n: u64, seed: u64) -> anyhow::Result<Vec<Delivery>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let start: Date = "2024-01-01".parse()?;
    let days = i64::from(start.until("2026-11-27".parse::<Date>()?)?.get_days());
    let mut out = Vec::with_capacity(usize::try_from(n)?);
    for _ in 0..n {
        let date = start.checked_add(jiff::Span::new().days(rng.random_range(0..=days)))?;
        let cents = rng.random_range(1_000_000u64..2_000_000_000);
        let confirmed = match rng.random_range(0..100u32) {
            0..=80 => Some(cents),
            81..=89 => Some(cents / 2),
            _ => None,
        };
        out.push(Delivery {
            guarantor: rng.random_range(0..GUARANTORS),
            pillar: rng.random_range(0..PILLARS),
            date,
            cents,
            confirmed,
        });
    }
    Ok(out)
}

fn euros(cents: u64) -> String {
    format!("{}.{:02} EUR", cents / 100, cents % 100)
}

fn plain(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// B4: builds the benchmark compact in the new directory `dir` with `n` deliveries drawn
/// from `seed`, and times `runs` engine runs (`note` is told of the signing).
pub fn status(
    dir: &Path,
    n: u64,
    draw_seed: u64,
    runs: usize,
    note: &mut dyn FnMut(String),
) -> anyhow::Result<Report> {
    let mut r = Report::default();
    if dir.exists() {
        return Err(anyhow!("{} exists: give a new directory", dir.display()));
    }
    write_compact(dir)?;
    let mut signers = Vec::new();
    for g in 0..GUARANTORS {
        let c = code(g);
        let k = keys::from_seed(&c, &seed(&c))?;
        record_party_key(dir, &c, &k.verifier, None, "2000-01-01").map_err(|e| anyhow!(e))?;
        signers.push(keys::signer(&k.private)?);
    }
    let ua = keys::from_seed("UA", &seed("UA"))?;
    record_party_key(dir, "UA", &ua.verifier, None, "2000-01-01").map_err(|e| anyhow!(e))?;
    let ua = keys::signer(&ua.private)?;
    let compact = load(dir).ok_or_else(|| anyhow!("the benchmark compact is not valid"))?;

    let list = deliveries(n, draw_seed)?;
    let t = Instant::now();
    let reports: Vec<Statement> = list
        .par_iter()
        .enumerate()
        .map(|(i, d)| {
            let c = code(d.guarantor);
            let signer = signers
                .get(d.guarantor)
                .ok_or_else(|| anyhow!("no signer"))?;
            Statement::sign(
                Draft {
                    compact: compact.id.clone(),
                    author: c.clone(),
                    time: noon(d.date)?,
                    payload: Payload::DeliveryReport(DeliveryReport {
                        commitment: format!("{}-ua-p{:02}", c.to_lowercase(), d.pillar),
                        amount: euros(d.cents),
                        date: d.date,
                        reference: format!("d{i}"),
                        allocation: None,
                    }),
                },
                signer,
            )
            .map_err(|e| anyhow!("{e}"))
        })
        .collect::<anyhow::Result<_>>()?;
    // The log: report i at entry 2i, its confirmation (if any) at 2i + 1.
    let confirms: Vec<Option<Statement>> = list
        .par_iter()
        .enumerate()
        .map(|(i, d)| {
            let Some(c) = d.confirmed else {
                return Ok(None);
            };
            Statement::sign(
                Draft {
                    compact: compact.id.clone(),
                    author: "UA".into(),
                    time: noon(d.date)?,
                    payload: Payload::DeliveryConfirm(DeliveryConfirm {
                        report: 2 * i as u64,
                        amount: (c != d.cents).then(|| euros(c)),
                        date: d.date,
                    }),
                },
                &ua,
            )
            .map(Some)
            .map_err(|e| anyhow!("{e}"))
        })
        .collect::<anyhow::Result<_>>()?;
    let mut log: Vec<(u64, Statement)> = Vec::with_capacity(2 * list.len());
    for (i, (r, c)) in reports.into_iter().zip(confirms).enumerate() {
        log.push((2 * i as u64, r));
        if let Some(c) = c {
            log.push((2 * i as u64 + 1, c));
        }
    }
    note(format!(
        "signed {} statements in {:.1} s",
        log.len(),
        t.elapsed().as_secs_f64()
    ));

    // The data for DuckDB.
    write_csvs(dir, &compact, &list)?;

    let as_of: Date = AS_OF.parse()?;
    let leaves: Vec<Vec<u8>> = log.iter().map(|(_, s)| s.leaf.clone()).collect();
    let mut engine_times = Vec::new();
    let mut decode_times = Vec::new();
    let mut report = None;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let figures = fulfilment(&compact, &log, as_of)?;
        let rows = group(
            &compact,
            &figures,
            &[],
            By::Guarantor,
            AS_OF,
            log.len() as u64,
        );
        engine_times.push(t.elapsed().as_secs_f64());
        report = Some(rows);
    }
    for _ in 0..3 {
        let t = Instant::now();
        let decoded: Vec<(u64, Statement)> = leaves
            .iter()
            .zip(&log)
            .map(|(l, (i, _))| Statement::decode(l).map(|s| (*i, s)))
            .collect::<Result<_, _>>()
            .map_err(|e| anyhow!("{e}"))?;
        decode_times.push(t.elapsed().as_secs_f64());
        drop(decoded);
    }
    let report = report.ok_or_else(|| anyhow!("no run"))?;
    std::fs::write(
        dir.join("engine.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let engine = median(&mut engine_times);
    let decode = median(&mut decode_times);
    r.line(format!(
        "B4 engine: status by guarantor over {n} deliveries ({} statements), {GUARANTORS} guarantors, {PILLARS} pillars: {engine:.3} s (median of 3)",
        log.len()
    ));
    r.line(format!(
        "B4 decode: the log's leaves into statements: {decode:.3} s (median of 3)"
    ));
    r.line(format!(
        "B4 data for DuckDB: {}/{{tranches,reports,confirms}}.csv; engine rows: {}/engine.json",
        dir.display(),
        dir.display()
    ));
    r.line(format!("B4_ENGINE_SECONDS={engine:.6}"));
    r.line(format!("B4_DECODE_SECONDS={decode:.6}"));
    Ok(r)
}

fn write_csvs(
    dir: &Path,
    compact: &compact_model::Compact,
    list: &[Delivery],
) -> anyhow::Result<()> {
    let mut tranches = String::from("commitment,guarantor,pillar,due,amount\n");
    for a in compact.latest_agreements() {
        for c in &a.commitments {
            for t in c.schedule.tranches() {
                writeln!(
                    tranches,
                    "{},{},{},{},{}",
                    c.id,
                    a.guarantor,
                    c.pillar,
                    t.due,
                    t.amount.number()
                )?;
            }
        }
    }
    std::fs::write(dir.join("tranches.csv"), tranches).context("tranches.csv")?;
    let mut reports = String::from("idx,commitment,date,amount\n");
    let mut confirms = String::from("idx,report,amount\n");
    for (i, d) in list.iter().enumerate() {
        let c = format!("{}-ua-p{:02}", code(d.guarantor).to_lowercase(), d.pillar);
        writeln!(reports, "{},{c},{},{}", 2 * i, d.date, plain(d.cents))?;
        if let Some(x) = d.confirmed {
            writeln!(confirms, "{},{},{}", 2 * i + 1, 2 * i, plain(x))?;
        }
    }
    std::fs::write(dir.join("reports.csv"), reports).context("reports.csv")?;
    std::fs::write(dir.join("confirms.csv"), confirms).context("confirms.csv")?;
    Ok(())
}

/// Deliveries signed and appended together when building a store.
const STORE_CHUNK: usize = 50_000;

/// B4 end to end: the benchmark compact of [`status`] with its log in a store, in the new
/// directory `dir`, for timing `compact status` as a user runs it. The log: the genesis (the
/// operator's key, UA's and the guarantors' root and signing keys), every agreement signed by
/// both parties, then the `n` deliveries drawn from `seed` in date order, each report followed
/// by its confirmation (if any), appended through the real ledger on a simulated clock
/// (signatures and rules checked, durable batches of 1,000, the projection written with
/// them). `note` is told of the progress.
pub fn status_store(
    dir: &Path,
    n: u64,
    draw_seed: u64,
    note: &mut dyn FnMut(String),
) -> anyhow::Result<Report> {
    use compact_files::keys::record_operator_key;
    use compact_statement::{AgreementSign, PartyKeys, genesis};
    use compact_store::Reads as _;
    use compact_store::{Clock, Ledger};
    use compact_store_sqlite::SqliteStore;

    let mut r = Report::default();
    if dir.exists() {
        return Err(anyhow!("{} exists: give a new directory", dir.display()));
    }
    let start = Instant::now();
    write_compact(dir)?;
    let codes: Vec<String> = (0..GUARANTORS)
        .map(code)
        .chain(std::iter::once("UA".to_owned()))
        .collect();
    let mut signers = Vec::new();
    let mut roots = Vec::new();
    for c in &codes {
        let k = keys::from_seed(c, &seed(c))?;
        let root = keys::from_seed(c, &seed(&format!("{c} root")))?;
        record_party_key(dir, c, &k.verifier, None, "2000-01-01").map_err(|e| anyhow!(e))?;
        signers.push((keys::signer(&k.private)?, k.verifier));
        roots.push((keys::signer(&root.private)?, root.verifier));
    }
    let op = keys::from_seed("bench-compact", &seed("operator"))?;
    record_operator_key(dir, &op.verifier).map_err(|e| anyhow!(e))?;
    let operator = keys::signer(&op.private)?;
    // Where `compact serve` finds the key that signs its checkpoints.
    compact_files::keys::write_private_key(&dir.join("keys/operator.key"), &op.private)
        .map_err(|e| anyhow!(e))?;
    let compact = load(dir).ok_or_else(|| anyhow!("the benchmark compact is not valid"))?;
    let signer_of = |c: &str| {
        codes
            .iter()
            .position(|x| x == c)
            .and_then(|i| signers.get(i))
            .map(|(s, _)| s)
            .ok_or_else(|| anyhow!("no signer for {c}"))
    };

    // The genesis and the agreements' signatures.
    let parties: Vec<PartyKeys<'_>> = codes
        .iter()
        .zip(roots.iter().zip(&signers))
        .map(|(code, ((root, root_vkey), (_, vkey)))| PartyKeys {
            code,
            root,
            root_vkey,
            signing_vkey: vkey,
        })
        .collect();
    let mut first = genesis(
        &compact.id,
        &operator,
        &op.verifier,
        &parties,
        "2024-01-01T00:00:00Z".parse()?,
    )?;
    for a in &compact.agreements {
        let terms = compact_files::read_text(Path::new(&a.path)).map_err(|e| anyhow!(e))?;
        for party in [a.guarantor.as_str(), "UA"] {
            first.push(Statement::sign(
                Draft {
                    compact: compact.id.clone(),
                    author: party.to_owned(),
                    time: "2024-01-01T00:10:00Z".parse()?,
                    payload: Payload::AgreementSign(AgreementSign {
                        agreement: a.id.clone(),
                        version: a.version,
                        digest: a.digest.clone(),
                        terms: terms.clone(),
                    }),
                },
                signer_of(party)?,
            )?);
        }
    }
    let store = SqliteStore::create(&dir.join("compact.sqlite"), &compact.id)?;
    let mut ledger = Ledger::open(store, &compact)?;
    ledger
        .append(&first, &operator, Clock::Simulated)
        .map_err(|e| anyhow!("{e}"))?;

    // The deliveries in date order (receipt times never go back), in chunks.
    let mut list = deliveries(n, draw_seed)?;
    list.sort_by_key(|d| d.date);
    let mut next = ledger.store().size()?;
    for chunk in list.chunks(STORE_CHUNK) {
        // Each statement's entry index, known before signing: a confirmation names its report's.
        let mut at = Vec::with_capacity(chunk.len());
        for d in chunk {
            at.push(next);
            next += 1 + u64::from(d.confirmed.is_some());
        }
        let signed: Vec<Vec<Statement>> = chunk
            .par_iter()
            .zip(&at)
            .map(|(d, index)| {
                let c = code(d.guarantor);
                let time = noon(d.date)?;
                let mut out = vec![Statement::sign(
                    Draft {
                        compact: compact.id.clone(),
                        author: c.clone(),
                        time,
                        payload: Payload::DeliveryReport(DeliveryReport {
                            commitment: format!("{}-ua-p{:02}", c.to_lowercase(), d.pillar),
                            amount: euros(d.cents),
                            date: d.date,
                            reference: format!("d{index}"),
                            allocation: None,
                        }),
                    },
                    signer_of(&c)?,
                )?];
                if let Some(part) = d.confirmed {
                    out.push(Statement::sign(
                        Draft {
                            compact: compact.id.clone(),
                            author: "UA".into(),
                            time,
                            payload: Payload::DeliveryConfirm(DeliveryConfirm {
                                report: *index,
                                amount: (part != d.cents).then(|| euros(part)),
                                date: d.date,
                            }),
                        },
                        signer_of("UA")?,
                    )?);
                }
                Ok(out)
            })
            .collect::<anyhow::Result<_>>()?;
        let statements: Vec<Statement> = signed.into_iter().flatten().collect();
        let batches = ledger
            .prepare(&statements, &operator, 1000, Clock::Simulated)
            .map_err(|e| anyhow!("{e}"))?;
        ledger
            .write(&batches, &mut |_| {})
            .map_err(|e| anyhow!("{e}"))?;
        note(format!(
            "{} entries in the log after {:.0} s",
            ledger.store().size()?,
            start.elapsed().as_secs_f64()
        ));
    }
    r.line(format!(
        "B4 store: {n} deliveries, {} entries in {}, built in {:.0} s",
        ledger.store().size()?,
        dir.join("compact.sqlite").display(),
        start.elapsed().as_secs_f64()
    ));
    r.line(format!(
        "B4 time it: time compact status --dir {} --by guarantor --as-of {AS_OF}",
        dir.display()
    ));
    Ok(r)
}
