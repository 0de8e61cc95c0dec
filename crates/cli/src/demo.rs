//! `compact demo`: the shipped data set as a living compact, in a directory of its own.
//!
//! Keys for every party and the operator (derived from the seed), every agreement signed by
//! both parties on its real signing date; allocations that follow the Kiel tracker's yearly
//! figures (Release 29, `tracker/kiel-release29.toml`) per guarantor and category, each put
//! against a commitment of that category in force then; behind them, and behind the schedules
//! counted in units, a seeded **synthetic** history of deliveries reported, most of them
//! confirmed, some late, some partial, some never. Then the audit and the headline tables. The same seed gives the same
//! bytes: keys, statements, checkpoints and reports.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, anyhow};
use compact_engine::booking::book;
use compact_engine::fulfilment;
use compact_engine::report::{By, status as group};
use compact_files::keys::{record_operator_key, record_party_key, write_private_key};
use compact_model::value::value;
use compact_model::{Amount, Compact};
use compact_service::AnyStore;
use compact_statement::{
    AgreementSign, Allocation, DeliveryConfirm, DeliveryReport, Draft, Payload, Statement, keys,
};
use compact_store::Reads as _;
use compact_store::audit::audit;
use compact_store::{Clock, Ledger};
use jiff::civil::Date;
use jiff::{Span, Timestamp};
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};
use rust_decimal::Decimal;
use signed_note::StandardSigner;

use crate::commands::{load, write_data_set};
use crate::output::{money, out, table};
use crate::status::{burden_table, marked, status_table};
use crate::synthetic;
use compact_service::keys::{root_key_path, seeded};

/// The synthetic history runs to the end of the Kiel tracker's Release 29 period.
pub const HISTORY_END: &str = "2026-04-30";

pub(crate) fn noon(d: Date) -> anyhow::Result<Timestamp> {
    Ok(d.at(12, 0, 0, 0)
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)?
        .timestamp())
}

fn days(d: Date, n: i64) -> anyhow::Result<Date> {
    Ok(d.checked_add(Span::new().days(n))?)
}

struct Signers {
    parties: std::collections::BTreeMap<String, StandardSigner>,
    /// Each party's root key and the verifier keys of its root and signing keys.
    roots: std::collections::BTreeMap<String, (StandardSigner, String, String)>,
    operator: StandardSigner,
    operator_vkey: String,
}

/// Keys for every party (a root key and a signing key) and the operator, written to DIR/keys
/// and recorded in the files.
fn make_keys(dir: &Path, compact: &Compact, seed: u64) -> anyhow::Result<Signers> {
    let mut parties = std::collections::BTreeMap::new();
    let mut roots = std::collections::BTreeMap::new();
    let seed = seed.to_string();
    for code in compact.parties.keys() {
        let pair = seeded(code, &seed)?;
        let root = seeded(code, &format!("{seed}\nroot"))?;
        write_private_key(&dir.join("keys").join(format!("{code}.key")), &pair.private)
            .map_err(|e| anyhow!(e))?;
        write_private_key(&root_key_path(dir, code), &root.private).map_err(|e| anyhow!(e))?;
        record_party_key(dir, code, &pair.verifier, None, "2000-01-01").map_err(|e| anyhow!(e))?;
        parties.insert(code.clone(), keys::signer(&pair.private)?);
        roots.insert(
            code.clone(),
            (keys::signer(&root.private)?, root.verifier, pair.verifier),
        );
    }
    let op = seeded(&compact.id, &format!("operator {seed}"))?;
    write_private_key(&dir.join("keys/operator.key"), &op.private).map_err(|e| anyhow!(e))?;
    record_operator_key(dir, &op.verifier).map_err(|e| anyhow!(e))?;
    Ok(Signers {
        parties,
        roots,
        operator: keys::signer(&op.private)?,
        operator_vkey: op.verifier,
    })
}

/// The demo's log in order: the genesis (the operator's key, every party's keys) a day before
/// the first statement, then the history sorted by time, as the operator's simulated clock
/// receives it. A statement is never received before one it refers to; references are
/// renumbered to the entries' places in the log, and each statement is signed by its author.
fn sequence(
    compact: &Compact,
    signers: &Signers,
    history: Vec<Draft>,
) -> anyhow::Result<Vec<Statement>> {
    // The time each statement is received: its own, or later when it refers to a later one.
    let mut effective: Vec<Timestamp> = Vec::with_capacity(history.len());
    for st in &history {
        let referred = st
            .payload
            .reference()
            .and_then(|r| usize::try_from(r).ok())
            .and_then(|r| effective.get(r).copied());
        effective.push(referred.map_or(st.time, |r| r.max(st.time)));
    }
    let mut order: Vec<usize> = (0..history.len()).collect();
    order.sort_by_key(|i| effective.get(*i).copied());
    let first = effective
        .iter()
        .min()
        .copied()
        .unwrap_or(noon(compact.adopted_on)?);
    let start = first.checked_sub(jiff::SignedDuration::from_hours(24))?;
    let parties: Vec<compact_statement::PartyKeys<'_>> = signers
        .roots
        .iter()
        .map(
            |(code, (root, root_vkey, vkey))| compact_statement::PartyKeys {
                code,
                root,
                root_vkey,
                signing_vkey: vkey,
            },
        )
        .collect();
    let mut out = compact_statement::genesis(
        &compact.id,
        &signers.operator,
        &signers.operator_vkey,
        &parties,
        start,
    )?;
    let base = out.len() as u64;
    let mut place = vec![0u64; history.len()];
    for (k, i) in order.iter().enumerate() {
        if let Some(p) = place.get_mut(*i) {
            *p = base + k as u64;
        }
    }
    let renumber = |r: u64| -> u64 {
        usize::try_from(r)
            .ok()
            .and_then(|r| place.get(r).copied())
            .unwrap_or(r)
    };
    for i in order {
        let (Some(st), Some(at)) = (history.get(i), effective.get(i)) else {
            continue;
        };
        let mut payload = st.payload.clone();
        match &mut payload {
            Payload::DeliveryConfirm(c) => c.report = renumber(c.report),
            Payload::DeliveryReport(r) => r.allocation = r.allocation.map(renumber),
            Payload::ConsultationRespond(r) => r.activation = renumber(r.activation),
            Payload::ActivationClose(c) => c.activation = renumber(c.activation),
            _ => {}
        }
        let signer = signers
            .parties
            .get(&st.author)
            .ok_or_else(|| anyhow!("no key for {}", st.author))?;
        out.push(Statement::sign(
            Draft {
                compact: compact.id.clone(),
                author: st.author.clone(),
                time: *at,
                payload,
            },
            signer,
        )?);
    }
    Ok(out)
}

/// A statement of the history, made at noon on `on`: signed only once its place in the log is
/// known (see [`sequence`]).
fn draft(compact: &Compact, author: &str, on: Date, payload: Payload) -> anyhow::Result<Draft> {
    Ok(Draft {
        compact: compact.id.clone(),
        author: author.to_owned(),
        time: noon(on)?,
        payload,
    })
}

/// `q` of an amount as a statement writes it: units rounded to whole units, money in its
/// currency to cents, a GDP share as its value in the reporting currency.
fn part(
    compact: &Compact,
    guarantor: &str,
    amount: &Amount,
    due: Date,
    share: Decimal,
) -> anyhow::Result<Option<String>> {
    let text = match amount {
        Amount::Units { quantity, unit } => {
            let q = (quantity * share).round();
            (q > Decimal::ZERO).then(|| format!("{q} {unit}"))
        }
        Amount::Money { value: v, currency } => {
            let q = (v * share).round_dp(2);
            (q > Decimal::ZERO).then(|| format!("{q} {currency}"))
        }
        Amount::GdpShare { .. } => {
            let v = value(compact, guarantor, amount, due)?;
            let q = (v.value * share).round_dp(2);
            (q > Decimal::ZERO).then(|| format!("{q} {}", compact.currency))
        }
    };
    Ok(text)
}

/// The statements of the demo: signatures, then the synthetic history, in log order.
fn history(compact: &Compact, seed: u64) -> anyhow::Result<Vec<Draft>> {
    let end: Date = HISTORY_END.parse()?;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::new();
    for a in compact.latest_agreements() {
        let terms = compact_files::read_text(Path::new(&a.path)).map_err(|e| anyhow!(e))?;
        for party in [&a.guarantor, &a.beneficiary] {
            out.push(draft(
                compact,
                party,
                a.signed_on,
                Payload::AgreementSign(AgreementSign {
                    agreement: a.id.clone(),
                    version: a.version,
                    digest: a.digest.clone(),
                    terms: terms.clone(),
                }),
            )?);
        }
    }
    // Money: each guarantor's allocations of each year and category are the Kiel tracker's
    // (Release 29), booked to the commitments of that category in proportion to what falls
    // due to each that year, up to it (`compact_engine::booking`); the rest is outside the
    // agreements, shown by the reports from the same tracker file.
    let tracker = compact_service::tracker::embedded_tracker()?;
    let booking = book(compact, &tracker, FIRST_YEAR)?;
    let mut writer = Gen {
        compact,
        rng: &mut rng,
        out: &mut out,
        end,
    };
    for b in &booking.booked {
        let amount = Amount::Money {
            value: b.amount,
            currency: compact.currency.clone(),
        };
        let reference = format!(
            "kiel-r{}/{}-{}-{}/{}",
            KIEL_RELEASE, b.party, b.year, b.category, b.commitment
        );
        writer.cycle(&b.party, &b.commitment, &amount, b.date, &reference, false)?;
    }
    // Units (shells, systems, trainees): no tracker counts them; the allocations follow the
    // schedule, and are generated like the deliveries.
    for a in compact.latest_agreements() {
        for c in &a.commitments {
            for (k, t) in c.schedule.tranches().into_iter().enumerate() {
                if t.due > end
                    || t.due < a.in_force_from
                    || !matches!(t.amount, Amount::Units { .. })
                {
                    continue;
                }
                let earmarked = days(
                    t.due,
                    -writer.rng.random_range(synthetic::UNITS_EARMARK_DAYS),
                )?
                .max(a.in_force_from);
                writer.cycle(
                    &a.guarantor,
                    &c.id,
                    &t.amount,
                    earmarked,
                    &format!("{}{}-{k}", synthetic::REFERENCE, c.id),
                    true,
                )?;
            }
        }
    }
    Ok(out)
}

/// The first year of the demo's history: the first bilateral agreements were signed in 2024.
pub const FIRST_YEAR: i16 = 2024;

/// The tracker release the demo follows.
pub const KIEL_RELEASE: u32 = 29;

/// Writes the drafts of the history.
struct Gen<'a> {
    compact: &'a Compact,
    rng: &'a mut StdRng,
    out: &'a mut Vec<Draft>,
    end: Date,
}

impl Gen<'_> {
    /// An allocation of `amount` on `earmarked` (sourced, or generated when `generated`);
    /// then, behind it, the synthetic process of [`synthetic`]: the value delivered in
    /// tranches, each with its own delivery lag, perhaps in part, reported within days and
    /// (mostly) confirmed by the beneficiary weeks later. Nothing dated after the end of the
    /// history is written: it is still in the pipeline.
    fn cycle(
        &mut self,
        guarantor: &str,
        commitment: &str,
        amount: &Amount,
        earmarked: Date,
        reference: &str,
        generated: bool,
    ) -> anyhow::Result<()> {
        let (compact, end) = (self.compact, self.end);
        let Some(full) = part(compact, guarantor, amount, earmarked, Decimal::ONE)? else {
            return Ok(());
        };
        let allocation = self.out.len() as u64;
        self.out.push(draft(
            compact,
            guarantor,
            earmarked,
            Payload::Allocation(Allocation {
                commitment: commitment.to_owned(),
                amount: full,
                date: earmarked,
                reference: reference.to_owned(),
            }),
        )?);
        let n = match amount {
            Amount::Units { quantity, .. } => quantity
                .round()
                .to_string()
                .parse::<u64>()
                .unwrap_or(1)
                .clamp(1, synthetic::TRANCHES_MIN),
            _ => {
                let eur = value(compact, guarantor, amount, earmarked)?.value;
                (eur / Decimal::from(synthetic::TRANCHE_EUR))
                    .ceil()
                    .to_string()
                    .parse::<u64>()
                    .unwrap_or(synthetic::TRANCHES_MAX)
                    .clamp(synthetic::TRANCHES_MIN, synthetic::TRANCHES_MAX)
            }
        };
        let tranche = Decimal::ONE / Decimal::from(n);
        let base = if generated {
            reference.to_owned()
        } else {
            format!("{}{reference}", synthetic::REFERENCE)
        };
        for k in 0..n {
            let delivered = days(
                earmarked,
                self.rng.random_range(synthetic::DELIVERY_LAG_DAYS),
            )?;
            let share = if self.rng.random_range(0..100) < synthetic::PARTIAL_PERCENT {
                tranche * Decimal::new(self.rng.random_range(synthetic::PARTIAL_SHARE_PERCENT), 2)
            } else {
                tranche
            };
            let reported_on = days(delivered, self.rng.random_range(synthetic::REPORT_LAG_DAYS))?;
            let confirms = self.rng.random_range(0..100) < synthetic::CONFIRM_PERCENT;
            let confirmed_on = days(
                delivered,
                self.rng.random_range(synthetic::CONFIRM_LAG_DAYS),
            )?;
            let short = self.rng.random_range(0..100) < synthetic::CONFIRM_SHORT_PERCENT;
            let short_share = Decimal::new(
                self.rng
                    .random_range(synthetic::CONFIRM_SHORT_SHARE_PERCENT),
                2,
            );
            if reported_on > end {
                continue;
            }
            let Some(delivered_amount) = part(compact, guarantor, amount, earmarked, share)? else {
                continue;
            };
            let report = self.out.len() as u64;
            self.out.push(draft(
                compact,
                guarantor,
                reported_on,
                Payload::DeliveryReport(DeliveryReport {
                    commitment: commitment.to_owned(),
                    amount: delivered_amount,
                    date: delivered,
                    reference: format!("{base}/{k}"),
                    allocation: Some(allocation),
                }),
            )?);
            if !confirms || confirmed_on > end {
                continue;
            }
            let confirmed = if short {
                part(compact, guarantor, amount, earmarked, share * short_share)?
            } else {
                None
            };
            self.out.push(draft(
                compact,
                &compact.beneficiary,
                confirmed_on.max(reported_on),
                Payload::DeliveryConfirm(DeliveryConfirm {
                    report,
                    amount: confirmed,
                    date: confirmed_on.max(reported_on),
                }),
            )?);
        }
        Ok(())
    }
}

/// `compact demo`.
pub fn demo(
    dir: Option<&Path>,
    seed: u64,
    serve: bool,
    database: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let dir: PathBuf = match dir {
        Some(d) => d.to_path_buf(),
        None => std::env::temp_dir().join(format!("compact-demo-{}-{seed}", std::process::id())),
    };
    write_data_set(&dir)?;
    eprintln!("demo directory: {}", dir.display());
    let plain = load(&dir).ok_or_else(|| anyhow!("the shipped data set is not valid"))?;
    let signers = make_keys(&dir, &plain, seed)?;
    let compact = load(&dir).ok_or_else(|| anyhow!("the data set with its keys is not valid"))?;
    let statements = sequence(&compact, &signers, history(&compact, seed)?)?;
    // The store: DIR/compact.sqlite, or where --database says (a file, or a PostgreSQL
    // database, which compact.toml then names without its password, for every later command).
    let place = compact_service::Place::locate(&dir, database)?;
    let at = place.location();
    let store = AnyStore::create(&at, &compact.id)
        .with_context(|| format!("cannot create the demo's store {}", at.shown()))?;
    if let compact_service::anystore::Location::Postgres(url) = &at {
        let toml = dir.join("compact.toml");
        let mut text = std::fs::read_to_string(&toml)?;
        text.push_str(&format!(
            "\n# The demo's log lives in PostgreSQL (`compact demo --database`).\n[store]\nurl = \"{}\"\n",
            compact_service::anystore::without_password(url)
        ));
        std::fs::write(&toml, text)?;
        eprintln!("demo store: {}", at.shown());
    }
    let mut ledger = Ledger::open(store, &compact)?;
    // The history replays 2024-26: the operator runs on a simulated clock that receives each
    // statement at its own time.
    let batches = ledger
        .prepare(&statements, &signers.operator, 1000, Clock::Simulated)
        .map_err(|e| anyhow!("the demo history was refused: {e}"))?;
    ledger.write(&batches, &mut |_| {})?;
    let report = audit(ledger.store(), &compact, &[], None, &mut |_| {})?;
    if !report.ok() {
        return Err(anyhow!(
            "the demo log does not verify: {:?}",
            report.problems.first()
        ));
    }
    out!(
        "{} ({}): {} parties, {} agreements signed by both parties; {} log entries, verified (root (hex) {})",
        compact.title,
        compact.id,
        compact.parties.len(),
        compact.latest_agreements().count(),
        report.entries,
        report.root.as_deref().unwrap_or("-")
    );
    out!(
        "Sourced: the agreements (dates, terms, clauses, first-year pledges), the Kiel tracker's allocations (Release 29, per guarantor, year and category), GDP (Kiel's 2021 figures; Albania's from the World Bank), exchange rates (ECB), NATO membership (NATO's list of members)."
    );
    out!(
        "Generated (seed {seed}), marked * wherever shown: the deliveries and confirmations behind the allocations, amounts where an agreement states none (every US amount is assumed: the US agreement states none), later years carried at the first year's level, the requirements and the risks."
    );
    out!(
        "Tracker money is booked to the commitments of its category in proportion to what falls due to each in the year, up to it; the rest is shown as outside the agreements, never dropped."
    );
    out!(
        "The log replays 2024-26 on a simulated operator clock: each statement is received at its own time."
    );
    out!("");
    let all: Vec<(u64, Statement)> = statements
        .into_iter()
        .enumerate()
        .map(|(i, s)| (i as u64, s))
        .collect();
    let as_of: Date = HISTORY_END.parse()?;
    let tracker = compact_service::tracker::embedded_tracker()?;
    let figures = fulfilment(&compact, &all, as_of)?;
    let outside = compact_engine::reconcile::outside(&compact, &figures, &tracker, as_of);
    let by_guarantor = group(
        &compact,
        &figures,
        &outside,
        By::Guarantor,
        HISTORY_END,
        ledger.store().size()?,
    );
    out!(
        "Status by guarantor as of {HISTORY_END} ({}; only confirmed deliveries count as delivered)",
        compact.currency
    );
    let by_guarantor = compact_service::api::v1::StatusReport::from(&by_guarantor);
    out!("{}", status_table(&by_guarantor, "guarantor"));
    out!("{}", crate::status::ON_TIME_LEGEND);
    out!("{}", crate::status::OUTSIDE_LEGEND);
    out!("{}", crate::status::SYNTHETIC_LEGEND);
    crate::status::print_notes(&by_guarantor.rows)?;
    let year_end: Date = "2025-12-31".parse()?;
    let figures_2025 = fulfilment(&compact, &all, year_end)?;
    let outside_2025 =
        compact_engine::reconcile::outside(&compact, &figures_2025, &tracker, year_end);
    let shares = compact_engine::burden::burden(
        &compact,
        &figures_2025,
        &outside_2025,
        2025,
        Decimal::new(40_000_000_000, 0),
        compact_engine::burden::Basis::NatoAllies,
        compact_engine::burden::Aid::Military,
    )?;
    out!("");
    out!(
        "Burden sharing in 2025 as NATO computes it: EUR 40 bn split among the NATO allies by share of their GDP ({} GDP), military aid allocated; the ten largest gaps",
        shares.gdp_year
    );
    let shares = compact_service::api::v1::BurdenReport::from(&shares);
    out!("{}", burden_table(&shares, 10));
    out!(
        "Apart, without a share: {}",
        crate::status::burden_others(&shares)
    );
    out!("{}", crate::status::GAP_LEGEND);
    let by_commitment = group(&compact, &figures, &[], By::Commitment, HISTORY_END, 0);
    let mut largest: Vec<_> = by_commitment
        .rows
        .iter()
        .filter(|r| r.arrears > Decimal::ZERO)
        .collect();
    // Arrears that are a counting artefact of the tracker (†) are not a shortfall: apart.
    let artefacts: Vec<compact_engine::report::Row> = largest
        .iter()
        .filter(|r| r.note.is_some())
        .map(|r| (*r).clone())
        .collect();
    largest.retain(|r| r.note.is_none());
    largest.sort_by(|a, b| b.arrears.cmp(&a.arrears).then(a.key.cmp(&b.key)));
    let rows = largest
        .iter()
        .take(10)
        .map(|r| {
            let m = r.marks();
            vec![
                if r.note.is_some() {
                    format!("{}{}", r.key, crate::status::NOTE_MARK)
                } else {
                    r.key.clone()
                },
                marked(money(r.due), m.due),
                marked(money(r.allocated), m.allocated),
                marked(money(r.confirmed), m.confirmed),
                marked(money(r.arrears), m.arrears),
            ]
        })
        .collect();
    out!("");
    out!("The largest arrears ({})", compact.currency);
    out!(
        "{}",
        table(
            &["commitment", "due", "allocated", "confirmed", "arrears"],
            rows,
            &[1, 2, 3, 4]
        )
    );
    out!("{}", crate::status::SYNTHETIC_LEGEND);
    if !artefacts.is_empty() {
        out!(
            "Left out:{} †",
            artefacts
                .iter()
                .map(|r| format!(" {} ({})", r.key, money(r.arrears)))
                .collect::<String>()
        );
        let artefacts: Vec<compact_service::api::v1::StatusRow> =
            artefacts.iter().map(Into::into).collect();
        crate::status::print_notes(&artefacts)?;
    }
    out!("");
    stress_summary(&dir, &compact, seed)?;
    out!("");
    out!(
        "Try: compact status --dir {} --as-of {HISTORY_END} --by pillar",
        dir.display()
    );
    out!("     compact verify --dir {}", dir.display());
    out!("     compact stress --dir {} --without US", dir.display());
    out!(
        "     compact activate --dir {0} --key {0}/keys/UA.key --at 2026-05-01T04:00:00Z --summary \"missile strikes\"",
        dir.display()
    );
    // On a terminal, the dashboard until Ctrl-C; a script (stdout not a terminal, or
    // --no-serve) is never kept waiting.
    use std::io::IsTerminal as _;
    if !serve || !std::io::stdout().is_terminal() {
        out!(
            "     compact serve --dir {}   # the dashboard",
            dir.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    out!("");
    out!("The dashboard of the demo (Ctrl-C to stop):");
    crate::serve::serve(
        &place,
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        None,
    )
}

/// The guarantees under stress, in a few lines: per line, the years where the Monte Carlo
/// gives less than even odds of meeting the requirement, and the single points of failure.
fn stress_summary(dir: &Path, compact: &Compact, seed: u64) -> anyhow::Result<()> {
    use compact_stress::{Baseline, McConfig, Risks, single_points_of_failure};
    /// `2024-2026 2029`: runs of consecutive years.
    fn span_of(years: &[i16]) -> String {
        let mut runs: Vec<(i16, i16)> = Vec::new();
        for y in years {
            match runs.last_mut() {
                Some((_, end)) if *end + 1 == *y => *end = *y,
                _ => runs.push((*y, *y)),
            }
        }
        runs.iter()
            .map(|(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
    let baseline = Baseline::from_compact(compact, compact_stress::years_of(compact)?)?;
    let path = dir.join("stress.toml");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let risks = Risks::parse(&path.display().to_string(), &text, baseline.guarantors())
        .map_err(|d| anyhow!("{}: {} errors", path.display(), d.len()))?;
    let cfg = McConfig {
        scenarios: compact_service::stress::DEFAULT_SCENARIOS,
        seed,
        years: None,
    };
    let mc = crate::stress::run_mc(&baseline, &risks, &cfg)?;
    let spof = single_points_of_failure(&baseline, compact_stress::SPOF_MARGIN_PERCENT);
    out!(
        "Stress test ({} scenarios, seed {seed}): the lines and years with less than even odds of meeting the requirement*, and the guarantors whose withdrawal alone would drop the line more than {}% below it",
        cfg.scenarios,
        compact_stress::SPOF_MARGIN_PERCENT
    );
    let rows: Vec<Vec<String>> = mc
        .lines
        .iter()
        .filter_map(|l| {
            let weak: Vec<i16> = l
                .years
                .iter()
                .filter(|y| y.p_meet.is_some_and(|p| p < 0.5))
                .map(|y| y.year)
                .collect();
            let worst = l
                .years
                .iter()
                .filter_map(|y| y.p_meet.map(|p| (p, y.year)))
                .min_by(|a, b| a.0.total_cmp(&b.0))?;
            let mut who: Vec<&str> = spof
                .iter()
                .filter(|s| s.line == l.line)
                .map(|s| s.guarantor.as_str())
                .collect();
            who.dedup();
            (!weak.is_empty()).then(|| {
                vec![
                    l.line.to_string(),
                    span_of(&weak),
                    format!("{:.0}% ({})*", worst.0 * 100.0, worst.1),
                    if who.is_empty() {
                        "-".to_owned()
                    } else {
                        who.join(", ")
                    },
                ]
            })
        })
        .collect();
    let with_requirements = mc
        .lines
        .iter()
        .filter(|l| l.years.iter().any(|y| y.requirement.is_some()))
        .count();
    if rows.is_empty() {
        out!("No line is at risk.");
    } else {
        out!(
            "{}",
            table(
                &[
                    "line",
                    "years at risk",
                    "lowest P(meet)",
                    "single points of failure"
                ],
                rows,
                &[]
            )
        );
    }
    let mut elsewhere: Vec<String> = spof
        .iter()
        .filter(|s| {
            !mc.lines.iter().any(|l| {
                l.line == s.line && l.years.iter().any(|y| y.p_meet.is_some_and(|p| p < 0.5))
            })
        })
        .map(|s| format!("{} ({})", s.guarantor, s.line.pillar))
        .collect();
    elsewhere.dedup();
    out!(
        "The other lines of the {with_requirements} with requirements meet them in at least half the scenarios every year{}. * The requirements are illustrative (70% of what the agreements schedule, requirements.toml) and the risks are assumptions (stress.toml): synthetic.",
        if elsewhere.is_empty() {
            String::new()
        } else {
            format!(
                ", though one withdrawal alone would drop them more than {}% below: {}",
                compact_stress::SPOF_MARGIN_PERCENT,
                elsewhere.join(", ")
            )
        }
    );
    Ok(())
}
