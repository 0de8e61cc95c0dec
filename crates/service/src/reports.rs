//! Reading the log: the agreements as they govern, entries, proofs, the audit.

use base64::Engine as _;
use compact_log::{prove_consistency, prove_inclusion};
use compact_statement::rules::{Status, status as agreement_status};
use compact_statement::{Payload, Record, Said, Statement};
use compact_store::Reads as _;
use compact_store::StoreHashes;
use compact_store::audit::{GivenCheckpoint, audit};
use jiff::civil::Date;

use compact_engine::report::{By, status as group};

use crate::api::v1::{
    Activation, AgreementDetail, AgreementRow, AidGroup, AidParty, AidPillar, AidReport, AidRow,
    AidUnitRow, BurdenReport, CheckSummary, ConsistencyProof, DigestReport, Explain, ExplainEntry,
    InclusionProof, LogEntry, ReconcileLine, Reconciliation, RetractedEntry, ScheduleLine,
    StatusReport, VerifyReport,
};
use crate::error::{Context as _, Result, ServiceError};
use crate::log::LogView;
use crate::place::{Governed, Place};

/// Every agreement's latest version as it governs on `on`, with its status and what needs
/// attention.
pub fn agreements(governed: &Governed, on: Date) -> Vec<AgreementRow> {
    let Governed {
        compact,
        facts,
        working,
        ..
    } = governed;
    compact
        .latest_agreements()
        .map(|a| {
            let st = agreement_status(a, facts, on);
            let file = working
                .agreement(&a.id, Some(a.version))
                .map(|w| w.digest.clone());
            let note = match (&file, st) {
                (Some(f), _) if *f != a.digest => {
                    "working file differs from the signed text".to_owned()
                }
                (None, _) => "no working file".to_owned(),
                (_, Status::NoticeGiven | Status::Terminated) => facts
                    .terminations
                    .get(&a.id)
                    .map(|t| {
                        format!(
                            "notice by {} (entry {}), effective {}{}",
                            t.by,
                            t.entry,
                            t.effective,
                            if t.notice_assumed {
                                " (notice period assumed: the text states none)"
                            } else {
                                ""
                            }
                        )
                    })
                    .unwrap_or_default(),
                (_, Status::Suspended) => facts
                    .suspended(&a.id, u64::MAX)
                    .map(|s| format!("suspended by {} (entry {})", s.by, s.entry))
                    .unwrap_or_default(),
                _ => String::new(),
            };
            AgreementRow {
                id: a.id.clone(),
                version: a.version,
                guarantor: a.guarantor.clone(),
                beneficiary: a.beneficiary.clone(),
                status: st.as_str().to_owned(),
                digest: a.digest.clone(),
                working_digest: file,
                note,
            }
        })
        .collect()
}

/// Entry `index` of the log.
pub fn log_entry(place: &Place, index: u64) -> Result<LogEntry> {
    log_entry_in(&place.store()?, index)
}

/// [`log_entry`] from an open store.
pub fn log_entry_in(store: &impl compact_store::Store, index: u64) -> Result<LogEntry> {
    let size = store.size()?;
    let beyond = || {
        ServiceError::not_found(format!(
            "entry {index} is out of range: the log holds {size} entries"
        ))
    };
    if index >= size {
        return Err(beyond());
    }
    let leaf = store.entry(index)?.ok_or_else(beyond)?;
    let statement = serde_json::from_slice(&leaf).unwrap_or(serde_json::Value::Null);
    Ok(LogEntry {
        index,
        leaf: base64::engine::general_purpose::STANDARD.encode(&leaf),
        statement,
    })
}

/// The proof that entry `index` is in the tree of `size` (the whole log by default).
pub fn inclusion_proof(place: &Place, index: u64, size: Option<u64>) -> Result<InclusionProof> {
    inclusion_proof_in(&place.store()?, index, size)
}

/// [`inclusion_proof`] from an open store.
pub fn inclusion_proof_in(
    store: &impl compact_store::Store,
    index: u64,
    size: Option<u64>,
) -> Result<InclusionProof> {
    let latest_size = store.size()?;
    let size = size.unwrap_or(latest_size);
    if size > latest_size {
        return Err(ServiceError::not_found(format!(
            "tree size {size} is beyond the log's {latest_size} entries"
        )));
    }
    // Stored hashes never change: the proof of a size the log has needs no snapshot.
    let reads = store.latest()?;
    Ok(prove_inclusion(index, size, &StoreHashes(&*reads))?)
}

/// The proof that the tree of `old` is a prefix of the tree of `new`.
pub fn consistency_proof(place: &Place, old: u64, new: u64) -> Result<ConsistencyProof> {
    consistency_proof_in(&place.store()?, old, new)
}

/// [`consistency_proof`] from an open store.
pub fn consistency_proof_in(
    store: &impl compact_store::Store,
    old: u64,
    new: u64,
) -> Result<ConsistencyProof> {
    let size = store.size()?;
    if new > size {
        return Err(ServiceError::not_found(format!(
            "tree size {new} is beyond the log's {size} entries"
        )));
    }
    let reads = store.latest()?;
    Ok(prove_consistency(old, new, &StoreHashes(&*reads))?)
}

/// The whole log audited in one read snapshot against the operator key of entry 0 (or
/// `pinned`) and the `given` checkpoints; `progress` is told how many entries were read.
pub fn verify(
    place: &Place,
    governed: &Governed,
    given: &[GivenCheckpoint],
    pinned: Option<&str>,
    progress: &mut dyn FnMut(u64),
) -> Result<VerifyReport> {
    let store = place.store_read_only()?;
    Ok(audit(&store, &governed.compact, given, pinned, progress)?.into())
}

/// The log's size, read-only.
pub fn log_size(place: &Place) -> Result<u64> {
    Ok(place.store_read_only()?.size()?)
}

/// The records of the log's entries (the first `at_size`, or all), in order: what the
/// reports below are computed from. A server keeps them in memory and calls the `_in` forms.
pub fn records(place: &Place, at_size: Option<u64>) -> Result<Vec<(u64, Record)>> {
    let store = place.store()?;
    Ok(crate::log::records(&store, at_size)
        .context("reading the log")?
        .0)
}

/// The status report on `as_of` from the log's first `at_size` entries (all by default),
/// grouped `by` guarantor, pillar, year, group or commitment.
pub fn status(
    place: &Place,
    governed: &Governed,
    as_of: Date,
    at_size: Option<u64>,
    by: By,
) -> Result<StatusReport> {
    let records = records(place, at_size)?;
    status_in(&place.dir, governed, LogView::of(&records), as_of, by)
}

/// [`status`] from a view of the log, of the compact in `dir`.
pub fn status_in(
    dir: &std::path::Path,
    governed: &Governed,
    log: LogView<'_>,
    as_of: Date,
    by: By,
) -> Result<StatusReport> {
    let compact = &governed.compact;
    let size = log.size();
    let figures = log.figures(compact, as_of)?;
    let outside = crate::tracker::outside_of(dir, compact, &figures, as_of)?;
    let report = group(compact, &figures, &outside, by, &as_of.to_string(), size);
    let mut out: StatusReport = (&report).into();
    // Received on or before `as_of` (UTC): before the next day's midnight, compared as
    // instants (one conversion, not one per record).
    let next_day = as_of
        .tomorrow()
        .and_then(|d| {
            jiff::tz::TimeZone::UTC.to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
        })
        .unwrap_or(jiff::Timestamp::MAX);
    out.entries_as_of = log
        .records
        .iter()
        .filter(|(_, r)| r.at() < next_day)
        .count() as u64;
    out.lifecycle = lifecycle(compact, &governed.facts, as_of);
    Ok(out)
}

/// The aid on `as_of` at its finest grain: each commitment's figures per year, grouped and
/// rounded by the engine's status report (so that rows summed by guarantor, pillar, year or
/// group equal the status report's rows), with the guarantors' groups and NATO membership and
/// the pillars' tracker categories: what the tracker's views (by donor, by group, over time,
/// units by category, the data explorer) are computed from.
pub fn aid_in(governed: &Governed, log: LogView<'_>, as_of: Date) -> Result<AidReport> {
    let compact = &governed.compact;
    let figures = log.figures(compact, as_of)?;
    let mut rows = Vec::new();
    let mut units = Vec::new();
    let when = as_of.to_string();
    for f in &figures {
        let by_year = group(
            compact,
            std::slice::from_ref(f),
            &[],
            By::Year,
            &when,
            log.size(),
        );
        let year = |key: &str| {
            key.parse::<i16>()
                .map_err(|_| ServiceError::internal(format!("a year row keyed `{key}`")))
        };
        let names = |v: &[&'static str]| v.iter().map(|s| (*s).to_owned()).collect();
        for r in &by_year.rows {
            rows.push(AidRow {
                commitment: f.commitment.clone(),
                guarantor: f.guarantor.clone(),
                pillar: f.pillar.clone(),
                year: year(&r.key)?,
                due: r.due,
                surge: r.surge,
                allocated: r.allocated,
                reported: r.reported,
                confirmed: r.confirmed,
                arrears: r.arrears,
                synthetic_figures: names(&r.synthetic_figures),
            });
        }
        for u in &by_year.units {
            units.push(AidUnitRow {
                commitment: f.commitment.clone(),
                guarantor: f.guarantor.clone(),
                pillar: f.pillar.clone(),
                unit: u.unit.clone(),
                year: year(&u.key)?,
                due: u.due,
                surge: u.surge,
                confirmed: u.confirmed,
                arrears: u.arrears,
                synthetic_figures: names(&u.synthetic_figures),
            });
        }
    }
    let guarantors = compact
        .parties
        .values()
        .filter(|p| p.group.is_some() || figures.iter().any(|f| f.guarantor == p.code))
        .map(|p| AidParty {
            code: p.code.clone(),
            name: p.name.clone(),
            group: compact
                .group_of(&p.code)
                .map_or_else(|| "-".to_owned(), |g| g.id.clone()),
            nato: p.nato_ally_on(as_of),
        })
        .collect();
    Ok(AidReport {
        as_of: when,
        currency: compact.currency.clone(),
        log_size: log.size(),
        synthetic: figures.iter().any(|f| f.synthetic),
        rows,
        units,
        guarantors,
        groups: compact
            .groups
            .iter()
            .map(|g| AidGroup {
                id: g.id.clone(),
                name: g.name.clone(),
            })
            .collect(),
        pillars: compact
            .pillars
            .iter()
            .map(|p| AidPillar {
                id: p.id.clone(),
                name: p.name.clone(),
                category: compact_engine::reconcile::category(compact, &p.id).map(str::to_owned),
            })
            .collect(),
    })
}

/// The agreements suspended, under notice or terminated on `as_of`.
fn lifecycle(
    compact: &compact_model::Compact,
    facts: &compact_statement::rules::Facts,
    as_of: Date,
) -> Vec<crate::api::v1::LifecycleRow> {
    use compact_statement::rules::{Status as S, status};
    compact
        .latest_agreements()
        .filter_map(|a| {
            let state = status(a, facts, as_of);
            match state {
                S::Suspended => {
                    facts
                        .suspended(&a.id, u64::MAX)
                        .map(|s| crate::api::v1::LifecycleRow {
                            agreement: a.id.clone(),
                            state: state.as_str().to_owned(),
                            by: s.by.clone(),
                            entry: s.entry,
                            effective: None,
                            notice_assumed: false,
                        })
                }
                S::NoticeGiven | S::Terminated => {
                    facts
                        .terminations
                        .get(&a.id)
                        .map(|t| crate::api::v1::LifecycleRow {
                            agreement: a.id.clone(),
                            state: state.as_str().to_owned(),
                            by: t.by.clone(),
                            entry: t.entry,
                            effective: Some(t.effective.to_string()),
                            notice_assumed: t.notice_assumed,
                        })
                }
                _ => None,
            }
        })
        .collect()
}

/// What is behind `commitment`'s figures on `as_of`: its schedule, the obligations activations
/// set off up to the end of the day, and the log entries counted.
pub fn explain(
    place: &Place,
    governed: &Governed,
    commitment: &str,
    as_of: Date,
) -> Result<Explain> {
    explain_in(
        governed,
        LogView::of(&records(place, None)?),
        commitment,
        as_of,
    )
}

/// [`explain`] from a view of the log.
pub fn explain_in(
    governed: &Governed,
    log: LogView<'_>,
    commitment: &str,
    as_of: Date,
) -> Result<Explain> {
    let compact = &governed.compact;
    let size = log.size();
    let statements = log.records;
    let figures = log.figures(compact, as_of)?;
    let Some(f) = figures.iter().find(|f| f.commitment == commitment) else {
        return Err(ServiceError::not_found(format!(
            "unknown commitment `{commitment}`{}",
            crate::suggest::hint(
                commitment,
                figures.iter().map(|f| f.commitment.as_str()),
                "each agreement's commitments: `compact show agreement ID`"
            )
        )));
    };
    let (agreement, c) = compact
        .latest_agreements()
        .find_map(|a| {
            a.commitments
                .iter()
                .find(|c| c.id == commitment)
                .map(|c| (a, c))
        })
        .ok_or_else(|| ServiceError::not_found(format!("unknown commitment `{commitment}`")))?;
    let schedule = c
        .schedule
        .tranches()
        .iter()
        .map(|t| ScheduleLine {
            due: t.due.to_string(),
            amount: t.amount.to_string(),
            value: compact_model::value::value(compact, &agreement.guarantor, &t.amount, t.due)
                .map(|v| v.value.round_dp(2).to_string())
                .ok(),
            is_due: t.due <= as_of,
        })
        .collect();
    let entries = f
        .entries
        .iter()
        .filter_map(|i| {
            statements
                .binary_search_by_key(i, |(j, _)| *j)
                .ok()
                .and_then(|k| statements.get(k))
        })
        .map(|(i, st)| ExplainEntry {
            index: *i,
            kind: st.kind().as_str().to_owned(),
            author: st.author.clone(),
            synthetic: generated(statements, st),
            statement: st.payload.to_json(),
        })
        .collect();
    // What counted until its author retracted it, with the retraction's reason.
    let at_index = |i: u64| {
        statements
            .binary_search_by_key(&i, |(j, _)| *j)
            .ok()
            .and_then(|k| statements.get(k))
    };
    let retracted = f
        .retracted
        .iter()
        .filter_map(|r| {
            let (_, st) = at_index(r.entry)?;
            let (_, by) = at_index(r.by)?;
            let Payload::Retract(p) = &by.payload else {
                return None;
            };
            Some(RetractedEntry {
                index: r.entry,
                kind: st.kind().as_str().to_owned(),
                author: st.author.clone(),
                statement: st.payload.to_json(),
                retraction: r.by,
                retracted_at: compact_statement::format_time(by.at()),
                reason: p.reason.clone(),
            })
        })
        .collect();
    // The obligations activations set off, up to the end of the day.
    let end_of_day = as_of
        .tomorrow()
        .ok()
        .and_then(|d| d.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp())
        .unwrap_or(jiff::Timestamp::MAX);
    let surges = compact_engine::activation::activations(compact, statements, end_of_day)
        .map_err(|e| ServiceError::internal(e.to_string()))?
        .into_iter()
        .flat_map(|a| a.surges)
        .filter(|s| s.commitment == commitment && s.agreement == agreement.id)
        .map(|s| (&s).into())
        .collect();
    Ok(Explain {
        as_of: as_of.to_string(),
        log_size: size,
        currency: compact.currency.clone(),
        figures: f.into(),
        schedule,
        surges,
        entries,
        retracted,
    })
}

/// Whether a statement is generated: its reference says so, or, for a confirmation, the
/// reference of the report it confirms (see [`compact_engine::SYNTHETIC_REFERENCE`]).
pub fn generated<T: Said>(statements: &[(u64, T)], st: &T) -> bool {
    let synthetic = |r: &str| r.starts_with(compact_engine::SYNTHETIC_REFERENCE);
    match st.payload() {
        Payload::Allocation(a) => synthetic(&a.reference),
        Payload::DeliveryReport(r) => synthetic(&r.reference),
        Payload::DeliveryConfirm(c) => statements
            .binary_search_by_key(&c.report, |(j, _)| *j)
            .ok()
            .and_then(|k| statements.get(k))
            .is_some_and(|(_, s)| match s.payload() {
                Payload::DeliveryReport(r) => synthetic(&r.reference),
                _ => false,
            }),
        _ => false,
    }
}

/// A burden baseline as written (`"40e9 EUR"`): money, its value and currency.
pub fn baseline(text: &str) -> Result<(rust_decimal::Decimal, String)> {
    match compact_model::Amount::parse(text) {
        Ok(compact_model::Amount::Money { value, currency }) => Ok((value, currency)),
        Ok(other) => Err(ServiceError::bad_input(format!(
            "the baseline must be money, e.g. \"40e9 EUR\", not `{other}`"
        ))),
        Err(e) => Err(ServiceError::bad_input(format!("the baseline: {e}"))),
    }
}

/// The burden-sharing report of `year`: a baseline of `baseline` (money in `currency`, valued
/// in the reporting currency at the year's end) split by GDP share among `basis`, against the
/// `aid` allocated in the year, in the log and outside the agreements.
pub fn burden(
    place: &Place,
    governed: &Governed,
    year: i16,
    baseline: (rust_decimal::Decimal, &str),
    basis: compact_engine::burden::Basis,
    aid: compact_engine::burden::Aid,
) -> Result<BurdenReport> {
    let records = records(place, None)?;
    burden_in(
        &place.dir,
        governed,
        LogView::of(&records),
        year,
        baseline,
        basis,
        aid,
    )
}

/// [`burden`] from a view of the log, of the compact in `dir`.
pub fn burden_in(
    dir: &std::path::Path,
    governed: &Governed,
    log: LogView<'_>,
    year: i16,
    baseline: (rust_decimal::Decimal, &str),
    basis: compact_engine::burden::Basis,
    aid: compact_engine::burden::Aid,
) -> Result<BurdenReport> {
    let compact = &governed.compact;
    let end = Date::new(year, 12, 31)
        .map_err(|e| ServiceError::bad_input(format!("year {year}: {e}")))?;
    let (value, currency) = baseline;
    let base = compact_model::value::convert(compact, value, currency, end)
        .map_err(|e| ServiceError::bad_input(format!("--baseline: {e}")))?
        .value;
    let figures = log.figures(compact, end)?;
    let outside = crate::tracker::outside_of(dir, compact, &figures, end)?;
    compact_engine::burden::burden(compact, &figures, &outside, year, base, basis, aid)
        .map(|r| (&r).into())
        .map_err(|e| ServiceError::bad_input(e.to_string()))
}

/// Every activation and its timeline as of `now` (a time, not the clock: the caller's).
pub fn activations(
    place: &Place,
    governed: &Governed,
    now: jiff::Timestamp,
) -> Result<Vec<Activation>> {
    activations_in(governed, &records(place, None)?, now)
}

/// [`activations`] from the log's records.
pub fn activations_in(
    governed: &Governed,
    log: &[(u64, Record)],
    now: jiff::Timestamp,
) -> Result<Vec<Activation>> {
    Ok(
        compact_engine::activation::activations(&governed.compact, log, now)
            .map_err(|e| ServiceError::internal(e.to_string()))?
            .iter()
            .map(Activation::from)
            .collect(),
    )
}

/// Activation `id`'s timeline as of `now`; not found names the activations there are.
pub fn activation(
    place: &Place,
    governed: &Governed,
    id: u64,
    now: jiff::Timestamp,
) -> Result<Activation> {
    activation_in(governed, &records(place, None)?, id, now)
}

/// [`activation`] from the log's records.
pub fn activation_in(
    governed: &Governed,
    log: &[(u64, Record)],
    id: u64,
    now: jiff::Timestamp,
) -> Result<Activation> {
    let all = activations_in(governed, log, now)?;
    let ids: Vec<String> = all.iter().map(|a| a.entry.to_string()).collect();
    all.into_iter().find(|a| a.entry == id).ok_or_else(|| {
        ServiceError::not_found(format!(
            "no activation at entry {id}{}",
            if ids.is_empty() {
                " (there is none: no attack declared, no threat level that asks a guarantor to consult)".to_owned()
            } else {
                format!(" (activations: {})", ids.join(", "))
            }
        ))
    })
}

/// The check summary of a valid compact (`compact check`).
pub fn check_summary(compact: &compact_model::Compact) -> CheckSummary {
    (&compact_model::summary::summarize(compact)).into()
}

/// An agreement's canonical digest.
pub fn digest_report(agreement: &compact_model::Agreement) -> Result<DigestReport> {
    Ok(DigestReport {
        id: agreement.id.clone(),
        version: agreement.version,
        digest: compact_model::digest(agreement)
            .map_err(|e| ServiceError::internal(e.to_string()))?,
        algorithm: "sha256".to_owned(),
        canonicalization: "RFC 8785 (JCS)".to_owned(),
    })
}

/// Agreement `id` (version `version`, or the latest) as parsed, with its digest; an unknown id
/// gets the nearest known ones.
pub fn agreement_detail(
    compact: &compact_model::Compact,
    id: &str,
    version: Option<u32>,
) -> Result<AgreementDetail> {
    let Some(a) = compact.agreement(id, version) else {
        let known: Vec<&str> = compact.latest_agreements().map(|a| a.id.as_str()).collect();
        return Err(ServiceError::not_found(match version {
            Some(v) if known.contains(&id) => format!("agreement `{id}` has no version {v}"),
            _ => format!(
                "unknown agreement `{id}`{}",
                crate::suggest::hint(id, known, "`compact agreements` lists them")
            ),
        }));
    };
    Ok(AgreementDetail {
        digest: compact_model::digest(a).map_err(|e| ServiceError::internal(e.to_string()))?,
        path: a.path.clone(),
        agreement: serde_json::to_value(a).map_err(|e| ServiceError::internal(e.to_string()))?,
    })
}

/// Agreement `id`'s page on `on`: its terms (of `version`, the latest by default), its status
/// and every signature in the log.
pub fn agreement_page(
    governed: &Governed,
    id: &str,
    version: Option<u32>,
    on: Date,
) -> Result<crate::api::v1::AgreementPage> {
    let detail = agreement_detail(&governed.compact, id, version)?;
    let status = governed
        .compact
        .latest_agreements()
        .find(|a| a.id == id)
        .map(|a| agreement_status(a, &governed.facts, on).as_str().to_owned())
        .unwrap_or_default();
    let mut signatures: Vec<crate::api::v1::SignatureRow> = governed
        .facts
        .signatures
        .iter()
        .filter(|((agreement, _), _)| agreement == id)
        .flat_map(|((_, version), by)| {
            by.iter().map(
                move |(party, (entry, digest))| crate::api::v1::SignatureRow {
                    version: *version,
                    party: party.clone(),
                    entry: *entry,
                    digest: digest.clone(),
                },
            )
        })
        .collect();
    signatures.sort_by_key(|s| s.entry);
    Ok(crate::api::v1::AgreementPage {
        detail,
        status,
        on: on.to_string(),
        signatures,
    })
}

/// The time the log received entry `index` (not the author's own time, which may lie before).
pub fn received_at(place: &Place, index: u64) -> Result<jiff::Timestamp> {
    let leaf = place
        .store()?
        .entry(index)?
        .ok_or_else(|| ServiceError::not_found(format!("entry {index} is not in the log")))?;
    Ok(Statement::decode(&leaf)?.at())
}

/// The log beside the Kiel tracker's figures (`tracker`, up to `end`, read from `source`),
/// per party, year and category, over `from..=to` (by default from the first year the log
/// allocates anything, or its first statement's, to the tracker's end), with the tracker's
/// money no commitment could hold set apart (the booking rule).
pub fn reconcile_kiel(
    place: &Place,
    governed: &Governed,
    tracker: Vec<compact_engine::reconcile::TrackerFigure>,
    end: Date,
    source: &str,
    from: Option<i16>,
    to: Option<i16>,
) -> Result<Reconciliation> {
    let records = records(place, None)?;
    reconcile_kiel_in(
        governed,
        LogView::of(&records),
        tracker,
        end,
        source,
        from,
        to,
    )
}

/// [`reconcile_kiel`] from a view of the log.
pub fn reconcile_kiel_in(
    governed: &Governed,
    log: LogView<'_>,
    tracker: Vec<compact_engine::reconcile::TrackerFigure>,
    end: Date,
    source: &str,
    from: Option<i16>,
    to: Option<i16>,
) -> Result<Reconciliation> {
    let compact = &governed.compact;
    if compact.currency != "EUR" {
        return Err(ServiceError::bad_input(format!(
            "the tracker counts in EUR; this compact reports in {}",
            compact.currency
        )));
    }
    let statements = log.records;
    let figures = log.figures(compact, end)?;
    // The log's period by default: from the first year it allocates anything (or its first
    // statement's) to the tracker's end.
    let first_logged = figures
        .iter()
        .flat_map(|f| f.years.iter())
        .filter(|(_, y)| !y.allocated.is_zero())
        .map(|(year, _)| *year)
        .min()
        .or_else(|| {
            statements
                .first()
                .map(|(_, s)| jiff::tz::TimeZone::UTC.to_datetime(s.time).year())
        });
    let from = from.or(first_logged).unwrap_or(end.year());
    let to = to.unwrap_or(end.year());
    if from > to {
        return Err(ServiceError::bad_input(format!(
            "--from {from} is after --to {to}"
        )));
    }
    // What no commitment could hold: the booking rule over the tracker's figures.
    let booking = compact_engine::booking::book(
        compact,
        &compact_engine::reconcile::Tracker {
            source: source.to_owned(),
            period_end: end,
            figures: tracker.clone(),
        },
        from,
    )
    .map_err(|e| ServiceError::bad_input(e.to_string()))?;
    // Whether any confirmed delivery of the party in the log is generated.
    let synthetic_confirmed = |party: &str| {
        figures
            .iter()
            .any(|f| f.guarantor == party && f.marks.confirmed)
    };
    let lines = compact_engine::reconcile::reconcile(compact, &figures, &tracker, &booking.outside)
        .into_iter()
        .filter(|l| (from..=to).contains(&l.year))
        .map(|l| {
            let log_confirmed_synthetic = synthetic_confirmed(&l.party);
            ReconcileLine {
                synthetic_figures: if log_confirmed_synthetic && !l.log_confirmed.is_zero() {
                    vec!["log_confirmed".to_owned()]
                } else {
                    Vec::new()
                },
                log_confirmed_synthetic,
                party: l.party,
                year: l.year,
                category: l.category,
                tracker: l.tracker,
                log_allocated: l.log_allocated,
                log_confirmed: l.log_confirmed,
                outside: l.outside,
                difference: l.difference,
                explained: l.explained.map(str::to_owned),
            }
        })
        .collect();
    Ok(Reconciliation {
        as_of: end.to_string(),
        source: source.to_owned(),
        from,
        to,
        currency: "EUR".to_owned(),
        lines,
    })
}
