//! From files to a validated [`Compact`], reporting every problem found, not only the first.
//!
//! A file whose TOML does not parse, or does not have the expected shape, gets one error at the
//! place the TOML reader names and is left out; every other check runs on what could be read,
//! so a user sees all independent problems in one run.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use jiff::civil::Date;
use rust_decimal::Decimal;
use toml::Spanned;

use crate::amount::{Amount, parse_decimal};
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::*;
use crate::raw::{self, DateText};

/// One file of a compact directory, handed over as text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Path relative to the compact directory, with `/` separators (`agreements/gb.toml`).
    pub rel: String,
    /// Path as shown to the user.
    pub display: String,
    /// The file's text.
    pub text: String,
}

/// The outcome of validation: the compact when there was no error, and every finding.
#[derive(Debug)]
pub struct Checked {
    /// `Some` when no error was found.
    pub compact: Option<Compact>,
    /// Errors and warnings, in file and position order.
    pub diagnostics: Vec<Diagnostic>,
}

/// Earliest and latest years accepted anywhere.
pub const YEAR_MIN: i64 = 1900;
/// See [`YEAR_MIN`].
pub const YEAR_MAX: i64 = 2200;
/// The longest surge deadline accepted, in days.
pub const WITHIN_DAYS_MAX: i64 = 3650;
/// The longest agreement accepted, in years.
pub const DURATION_YEARS_MAX: i64 = 100;

/// Validates a compact given as its files.
pub fn check(files: &[SourceFile]) -> Checked {
    let mut c = Checker::default();
    let compact = c.run(files);
    let diagnostics = c.diags.into_sorted();
    let has_error = diagnostics.iter().any(Diagnostic::is_error);
    Checked {
        compact: if has_error { None } else { compact },
        diagnostics,
    }
}

/// Reads one agreement file on its own, for `digest`: the TOML shape and the checks that need
/// no other file (dates, amounts, schedule forms, duplicate ids within the file).
pub fn agreement_alone(file: &SourceFile) -> Result<Agreement, Vec<Diagnostic>> {
    let mut c = Checker::default();
    let parsed = c.parse::<raw::AgreementFile>(file);
    let agreement = parsed.and_then(|raw| c.agreement(&file.display, raw, None));
    let diagnostics = c.diags.into_sorted();
    match agreement {
        Some(a) if !diagnostics.iter().any(Diagnostic::is_error) => Ok(a),
        _ => Err(diagnostics),
    }
}

#[derive(Default)]
struct Checker {
    diags: Diagnostics,
}

fn span<T>(s: &Spanned<T>) -> Option<Range<usize>> {
    Some(s.span())
}

/// The compact-wide names that agreements refer to.
struct Names {
    beneficiary: String,
    currency: String,
    currencies: BTreeSet<String>,
    units: BTreeSet<String>,
    pillars: BTreeSet<String>,
    threat_levels: u8,
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
}

fn is_party_code(s: &str) -> bool {
    s.len() == 2 && s.chars().all(|c| c.is_ascii_uppercase())
}

fn is_currency(s: &str) -> bool {
    s.len() == 3 && s.chars().all(|c| c.is_ascii_uppercase())
}

impl Checker {
    fn err(&mut self, path: &str, span: Option<Range<usize>>, msg: impl Into<String>) {
        self.diags.error(path, span, msg);
    }

    fn warn(&mut self, path: &str, span: Option<Range<usize>>, msg: impl Into<String>) {
        self.diags.warning(path, span, msg);
    }

    fn parse<T: serde::de::DeserializeOwned>(&mut self, file: &SourceFile) -> Option<T> {
        match toml::from_str::<T>(&file.text) {
            Ok(v) => Some(v),
            Err(e) => {
                let message = e.message().trim().replace('\n', " ");
                self.err(&file.display, e.span(), message);
                None
            }
        }
    }

    fn date(&mut self, path: &str, d: &Spanned<DateText>, what: &str) -> Option<Date> {
        let text = d.get_ref().0.as_str();
        let well_formed = text.len() == 10
            && text.char_indices().all(|(i, c)| {
                if i == 4 || i == 7 {
                    c == '-'
                } else {
                    c.is_ascii_digit()
                }
            });
        match text.parse::<Date>() {
            Ok(date) if well_formed => Some(date),
            _ => {
                self.err(
                    path,
                    span(d),
                    format!("malformed {what} `{text}`: expected a date YYYY-MM-DD"),
                );
                None
            }
        }
    }

    fn year(&mut self, path: &str, y: &Spanned<i64>, what: &str) -> Option<i16> {
        let v = *y.get_ref();
        if (YEAR_MIN..=YEAR_MAX).contains(&v) {
            i16::try_from(v).ok()
        } else {
            self.err(
                path,
                span(y),
                format!("{what} {v} is out of range ({YEAR_MIN} to {YEAR_MAX})"),
            );
            None
        }
    }

    fn amount(&mut self, path: &str, a: &Spanned<String>, names: Option<&Names>) -> Option<Amount> {
        let amount = match Amount::parse(a.get_ref()) {
            Ok(amount) => amount,
            Err(e) => {
                self.err(path, span(a), e.to_string());
                return None;
            }
        };
        let Some(names) = names else {
            return Some(amount);
        };
        match &amount {
            Amount::Money { currency, .. } if !names.currencies.contains(currency) => {
                self.diags.push(
                    Diagnostic::error(path, span(a), format!("unknown currency `{currency}`"))
                        .with_help(format!(
                            "the compact declares: {}",
                            names
                                .currencies
                                .iter()
                                .cloned()
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                );
                None
            }
            Amount::Units { unit, .. } if !names.units.contains(unit) => {
                self.diags.push(
                    Diagnostic::error(path, span(a), format!("unknown unit `{unit}`")).with_help(
                        format!(
                            "the compact declares: {}",
                            names.units.iter().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    ),
                );
                None
            }
            _ => Some(amount),
        }
    }

    fn on_accession(&mut self, path: &str, v: &Spanned<String>) -> Option<OnAccession> {
        match v.get_ref().as_str() {
            "end" => Some(OnAccession::End),
            "continue" => Some(OnAccession::Continue),
            other => {
                self.err(
                    path,
                    span(v),
                    format!("unknown on_accession `{other}`: expected `end` or `continue`"),
                );
                None
            }
        }
    }

    fn threat_level(&mut self, path: &str, v: &Spanned<i64>, levels: u8) -> Option<u8> {
        let l = *v.get_ref();
        match u8::try_from(l) {
            Ok(l) if (1..=levels).contains(&l) => Some(l),
            _ => {
                self.err(
                    path,
                    span(v),
                    format!("threat level {l} is out of range (1 to {levels})"),
                );
                None
            }
        }
    }

    fn run(&mut self, files: &[SourceFile]) -> Option<Compact> {
        let mut compact_raw = None;
        let mut parties_raw = Vec::new();
        let mut agreements_raw = Vec::new();
        let mut rates_raw = None;
        let mut requirements_raw = None;
        for f in files {
            let rel = f.rel.as_str();
            if rel == "compact.toml" {
                compact_raw = Some((f, self.parse::<raw::CompactFile>(f)));
            } else if rel == "rates.toml" {
                rates_raw = self.parse::<raw::RatesFile>(f).map(|r| (f, r));
            } else if rel == "requirements.toml" {
                requirements_raw = self.parse::<raw::RequirementsFile>(f).map(|r| (f, r));
            } else if rel.starts_with("parties/") {
                if let Some(p) = self.parse::<raw::PartyFile>(f) {
                    parties_raw.push((f, p));
                }
            } else if rel.starts_with("agreements/") {
                if let Some(a) = self.parse::<raw::AgreementFile>(f) {
                    agreements_raw.push((f, a));
                }
            } else {
                self.warn(
                    &f.display,
                    None,
                    "file is not part of a compact and is ignored",
                );
            }
        }
        let Some((compact_file, compact_raw)) = compact_raw else {
            self.err(
                "compact.toml",
                None,
                "missing: a compact directory needs compact.toml at its root",
            );
            return None;
        };
        let compact_raw = compact_raw?;
        let path = compact_file.display.as_str();

        let (mut compact, names) = self.header(path, compact_raw)?;
        let groups: BTreeSet<String> = compact.groups.iter().map(|g| g.id.clone()).collect();

        for (f, p) in parties_raw {
            if let Some(party) = self.party(f, p, &groups, &names) {
                if compact.parties.contains_key(&party.code) {
                    self.err(
                        &f.display,
                        None,
                        format!("duplicate party `{}`", party.code),
                    );
                } else {
                    compact.parties.insert(party.code.clone(), party);
                }
            }
        }
        match compact.parties.get(&compact.beneficiary) {
            None => self.diags.push(
                Diagnostic::error(
                    path,
                    span_of_field(&compact_file.text, "beneficiary"),
                    format!("unknown party `{}` as beneficiary", compact.beneficiary),
                )
                .with_help(format!(
                    "add parties/{}.toml for the beneficiary",
                    compact.beneficiary
                )),
            ),
            Some(p) if p.group.is_some() => self.err(
                path,
                span_of_field(&compact_file.text, "beneficiary"),
                format!(
                    "the beneficiary `{}` must not belong to a group of guarantors",
                    p.code
                ),
            ),
            Some(_) => {}
        }

        if let Some((f, r)) = rates_raw {
            compact.rates = self.rates(&f.display, r, &names);
        }
        if let Some((f, r)) = requirements_raw {
            compact.requirements = self.requirements(&f.display, r, &names);
        }

        let mut commitment_owner: BTreeMap<String, (String, String)> = BTreeMap::new();
        let mut seen_versions: BTreeMap<(String, u32), String> = BTreeMap::new();
        for (f, a) in agreements_raw {
            let id_span = span(&a.id);
            let Some(agreement) = self.agreement(&f.display, a, Some((&names, &compact))) else {
                continue;
            };
            let key = (agreement.id.clone(), agreement.version);
            if let Some(other) = seen_versions.get(&key) {
                self.err(
                    &f.display,
                    id_span,
                    format!(
                        "duplicate agreement `{}` version {} (also in {other})",
                        agreement.id, agreement.version
                    ),
                );
                continue;
            }
            seen_versions.insert(key, f.display.clone());
            let stem = f
                .rel
                .rsplit('/')
                .next()
                .unwrap_or("")
                .trim_end_matches(".toml");
            let expected = [
                agreement.id.clone(),
                format!("{}.v{}", agreement.id, agreement.version),
            ];
            if !expected.iter().any(|e| e == stem) {
                self.warn(
                    &f.display,
                    id_span.clone(),
                    format!(
                        "file name does not match the agreement id: expected agreements/{}.toml or agreements/{}.toml",
                        expected[0], expected[1]
                    ),
                );
            }
            let mut ok = true;
            for c in &agreement.commitments {
                match commitment_owner.get(&c.id) {
                    Some((other_id, other_path)) if *other_id != agreement.id => {
                        self.err(
                            &f.display,
                            span_of_value(&f.text, &c.id),
                            format!(
                                "duplicate commitment id `{}` (also in agreement `{other_id}`, {other_path})",
                                c.id
                            ),
                        );
                        ok = false;
                    }
                    _ => {
                        commitment_owner
                            .insert(c.id.clone(), (agreement.id.clone(), f.display.clone()));
                    }
                }
            }
            if ok {
                compact.agreements.push(agreement);
            }
        }
        compact
            .agreements
            .sort_by(|a, b| (&a.id, a.version).cmp(&(&b.id, b.version)));
        self.versions(&compact, files);
        self.coverage(&compact);
        Some(compact)
    }

    fn header(&mut self, path: &str, r: raw::CompactFile) -> Option<(Compact, Names)> {
        let mut ok = true;
        if !is_slug(r.id.get_ref()) {
            self.err(
                path,
                span(&r.id),
                format!(
                    "malformed compact id `{}`: use lower-case letters, digits, `-` and `.`",
                    r.id.get_ref()
                ),
            );
            ok = false;
        }
        if !is_party_code(r.beneficiary.get_ref()) {
            self.err(
                path,
                span(&r.beneficiary),
                format!(
                    "malformed party code `{}`: expected ISO 3166-1 alpha-2, e.g. `UA`",
                    r.beneficiary.get_ref()
                ),
            );
            ok = false;
        }
        let mut currencies = BTreeSet::new();
        for c in &r.currencies {
            if !is_currency(c.get_ref()) {
                self.err(
                    path,
                    span(c),
                    format!(
                        "malformed currency `{}`: expected an ISO 4217 code such as `EUR`",
                        c.get_ref()
                    ),
                );
                ok = false;
            } else if !currencies.insert(c.get_ref().clone()) {
                self.err(
                    path,
                    span(c),
                    format!("duplicate currency `{}`", c.get_ref()),
                );
                ok = false;
            }
        }
        if !currencies.contains(r.currency.get_ref()) {
            self.err(
                path,
                span(&r.currency),
                format!(
                    "unknown currency `{}`: the reporting currency must be listed in `currencies`",
                    r.currency.get_ref()
                ),
            );
            ok = false;
        }
        let mut units = BTreeSet::new();
        for u in &r.units {
            let valid = Amount::parse(&format!("1 {}", u.get_ref()))
                .is_ok_and(|a| matches!(a, Amount::Units { .. }));
            if !valid {
                self.err(
                    path,
                    span(u),
                    format!(
                        "malformed unit `{}`: a unit is a lower-case word such as `shells`",
                        u.get_ref()
                    ),
                );
                ok = false;
            } else if !units.insert(u.get_ref().clone()) {
                self.err(path, span(u), format!("duplicate unit `{}`", u.get_ref()));
                ok = false;
            }
        }
        let adopted_on = self.date(path, &r.adopted_on, "adopted_on");
        let consultation_hours = match &r.consultation_hours {
            None => 24,
            Some(h) => match u32::try_from(*h.get_ref()) {
                Ok(h) if (1..=720).contains(&h) => h,
                _ => {
                    self.err(
                        path,
                        span(h),
                        format!(
                            "consultation_hours {} is out of range (1 to 720)",
                            h.get_ref()
                        ),
                    );
                    ok = false;
                    24
                }
            },
        };
        let threat_levels = match &r.threat_levels {
            None => 5,
            Some(t) => match u8::try_from(*t.get_ref()) {
                Ok(t) if (1..=10).contains(&t) => t,
                _ => {
                    self.err(
                        path,
                        span(t),
                        format!("threat_levels {} is out of range (1 to 10)", t.get_ref()),
                    );
                    ok = false;
                    5
                }
            },
        };
        if r.end.condition.get_ref() != "accession" {
            self.err(
                path,
                span(&r.end.condition),
                format!(
                    "unknown end condition `{}`: the only one defined is `accession`",
                    r.end.condition.get_ref()
                ),
            );
            ok = false;
        }
        if let Some(url) = r.store.as_ref().and_then(|s| s.url.as_ref())
            && let Err(e) = check_store_url(url.get_ref())
        {
            self.err(path, span(url), format!("[store] url: {e}"));
            ok = false;
        }
        if let Some(f) = r.store.as_ref().and_then(|s| s.password_file.as_ref())
            && f.get_ref().trim().is_empty()
        {
            self.err(
                path,
                span(f),
                "[store] password_file is empty: name the file that holds the database password",
            );
            ok = false;
        }
        let (operator_key, quorum, witness_files) = match r.log {
            Some(l) => (l.operator_key, l.quorum, l.witnesses),
            None => (None, None, Vec::new()),
        };
        if let Some(k) = &operator_key
            && let Err(e) = check_verifier_key(k.get_ref(), r.id.get_ref())
        {
            self.err(path, span(k), format!("operator_key: {e}"));
            ok = false;
        }
        let mut witnesses: Vec<WitnessSpec> = Vec::new();
        for w in witness_files {
            let w = w.into_inner();
            let name = w.name.get_ref();
            if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '+') {
                self.err(
                    path,
                    span(&w.name),
                    format!("witness name `{name}`: a name holds no space and no +"),
                );
                ok = false;
            } else if witnesses.iter().any(|x| &x.name == name) {
                self.err(
                    path,
                    span(&w.name),
                    format!("witness `{name}` is listed twice"),
                );
                ok = false;
            }
            if let Err(e) = check_verifier_key(w.key.get_ref(), name) {
                self.err(path, span(&w.key), format!("witness key: {e}"));
                ok = false;
            }
            let url = w.url.get_ref();
            if !(url.starts_with("http://") || url.starts_with("https://"))
                || url.chars().any(char::is_whitespace)
            {
                self.err(
                    path,
                    span(&w.url),
                    format!("witness url `{url}`: expected an http:// or https:// URL"),
                );
                ok = false;
            }
            witnesses.push(WitnessSpec {
                name: w.name.into_inner(),
                key: w.key.into_inner(),
                url: w.url.into_inner().trim_end_matches('/').to_owned(),
            });
        }
        let witness_quorum = match &quorum {
            None => witnesses.len(),
            Some(q) => match usize::try_from(*q.get_ref()) {
                Ok(n) if n >= 1 && n <= witnesses.len() => n,
                _ => {
                    self.err(
                        path,
                        span(q),
                        format!(
                            "quorum {}: expected from 1 to the number of witnesses listed ({})",
                            q.get_ref(),
                            witnesses.len()
                        ),
                    );
                    ok = false;
                    0
                }
            },
        };
        let mut pillars = Vec::new();
        let mut pillar_ids = BTreeSet::new();
        for p in r.pillars {
            let p = p.into_inner();
            if !is_slug(p.id.get_ref()) {
                self.err(
                    path,
                    span(&p.id),
                    format!("malformed pillar id `{}`", p.id.get_ref()),
                );
                ok = false;
            } else if !pillar_ids.insert(p.id.get_ref().clone()) {
                self.err(
                    path,
                    span(&p.id),
                    format!("duplicate pillar `{}`", p.id.get_ref()),
                );
                ok = false;
            }
            let tracker_category = match &p.tracker_category {
                None => None,
                Some(c) if crate::model::TRACKER_CATEGORIES.contains(&c.get_ref().as_str()) => {
                    Some(c.get_ref().clone())
                }
                Some(c) => {
                    self.err(
                        path,
                        span(c),
                        format!(
                            "unknown tracker_category `{}`: expected military, financial or humanitarian",
                            c.get_ref()
                        ),
                    );
                    ok = false;
                    None
                }
            };
            pillars.push(Pillar {
                id: p.id.into_inner(),
                name: p.name,
                quote: p.quote,
                summary: p.summary,
                source: p.source,
                tracker_category,
                tracker_source: p.tracker_source,
            });
        }
        if pillars.is_empty() {
            self.err(path, None, "the compact defines no pillars");
            ok = false;
        }
        let mut groups = Vec::new();
        let mut group_ids = BTreeSet::new();
        for g in r.groups {
            let g = g.into_inner();
            if !is_slug(g.id.get_ref()) {
                self.err(
                    path,
                    span(&g.id),
                    format!("malformed group id `{}`", g.id.get_ref()),
                );
                ok = false;
            } else if !group_ids.insert(g.id.get_ref().clone()) {
                self.err(
                    path,
                    span(&g.id),
                    format!("duplicate group `{}`", g.id.get_ref()),
                );
                ok = false;
            }
            let guarantees = match g.guarantees.get_ref().as_str() {
                "military" => Guarantees::Military,
                "non-military" => Guarantees::NonMilitary,
                other => {
                    self.err(
                        path,
                        span(&g.guarantees),
                        format!(
                            "unknown guarantees `{other}`: expected `military` or `non-military`"
                        ),
                    );
                    ok = false;
                    Guarantees::NonMilitary
                }
            };
            groups.push(Group {
                id: g.id.into_inner(),
                name: g.name,
                guarantees,
                quote: g.quote,
                source: g.source,
            });
        }
        if groups.is_empty() {
            self.err(path, None, "the compact defines no groups of guarantors");
            ok = false;
        }
        let names = Names {
            beneficiary: r.beneficiary.get_ref().clone(),
            currency: r.currency.get_ref().clone(),
            currencies: currencies.clone(),
            units: units.clone(),
            pillars: pillar_ids,
            threat_levels,
        };
        let compact = Compact {
            id: r.id.into_inner(),
            title: r.title,
            beneficiary: r.beneficiary.into_inner(),
            currency: r.currency.into_inner(),
            currencies: currencies.into_iter().collect(),
            units: units.into_iter().collect(),
            adopted_on: adopted_on?,
            consultation_hours,
            threat_levels,
            source: r.source,
            quote: r.quote,
            synthetic: r.synthetic,
            end: End {
                condition: r.end.condition.into_inner(),
                organisation: r.end.organisation,
                quote: r.end.quote,
                source: r.end.source,
            },
            operator_key: operator_key.map(Spanned::into_inner),
            witnesses,
            witness_quorum,
            pillars,
            groups,
            parties: BTreeMap::new(),
            agreements: Vec::new(),
            rates: Rates::default(),
            requirements: Vec::new(),
        };
        ok.then_some((compact, names))
    }

    fn party(
        &mut self,
        f: &SourceFile,
        r: raw::PartyFile,
        groups: &BTreeSet<String>,
        names: &Names,
    ) -> Option<Party> {
        let path = f.display.as_str();
        let mut ok = true;
        let code = r.code.get_ref().clone();
        if !(is_party_code(&code) || code == "EU") {
            self.err(
                path,
                span(&r.code),
                format!(
                    "malformed party code `{code}`: expected ISO 3166-1 alpha-2 (e.g. `GB`) or `EU`"
                ),
            );
            ok = false;
        }
        let stem = f
            .rel
            .trim_start_matches("parties/")
            .trim_end_matches(".toml");
        if stem != code {
            self.err(
                path,
                span(&r.code),
                format!("party `{code}` must be in parties/{code}.toml, not parties/{stem}.toml"),
            );
            ok = false;
        }
        if let Some(g) = &r.group
            && !groups.contains(g.get_ref())
        {
            self.diags.push(
                Diagnostic::error(path, span(g), format!("unknown group `{}`", g.get_ref()))
                    .with_help(format!(
                        "the compact defines: {}",
                        groups.iter().cloned().collect::<Vec<_>>().join(", ")
                    )),
            );
            ok = false;
        }
        let population = match &r.population {
            None => None,
            Some(p) => match u64::try_from(*p.get_ref()) {
                Ok(v) if v > 0 => Some(v),
                _ => {
                    self.err(
                        path,
                        span(p),
                        format!("population must be greater than zero, got {}", p.get_ref()),
                    );
                    ok = false;
                    None
                }
            },
        };
        let mut gdp = BTreeMap::new();
        for g in r.gdp {
            let g = g.into_inner();
            let Some(year) = self.year(path, &g.year, "GDP year") else {
                ok = false;
                continue;
            };
            let Some(amount) = self.amount(path, &g.amount, Some(names)) else {
                ok = false;
                continue;
            };
            let Amount::Money { value, currency } = amount else {
                self.err(
                    path,
                    span(&g.amount),
                    format!(
                        "GDP must be money in a currency, got `{}`",
                        g.amount.get_ref()
                    ),
                );
                ok = false;
                continue;
            };
            if gdp.contains_key(&year) {
                self.err(path, span(&g.year), format!("duplicate GDP year {year}"));
                ok = false;
                continue;
            }
            gdp.insert(
                year,
                Gdp {
                    value,
                    currency,
                    source: g.source,
                    synthetic: g.synthetic,
                },
            );
        }
        let mut keys = Vec::new();
        for k in r.keys {
            let k = k.into_inner();
            if let Err(e) = check_verifier_key(k.key.get_ref(), &code) {
                self.err(path, span(&k.key), e);
                ok = false;
            } else if keys.iter().any(|x: &PartyKey| x.key == *k.key.get_ref()) {
                self.err(path, span(&k.key), "duplicate key");
                ok = false;
            }
            let valid_from = k
                .valid_from
                .as_ref()
                .and_then(|d| self.date(path, d, "valid_from"));
            let retired_on = k
                .retired_on
                .as_ref()
                .and_then(|d| self.date(path, d, "retired_on"));
            if let (Some(a), Some(b), Some(s)) = (valid_from, retired_on, &k.retired_on)
                && b <= a
            {
                self.err(
                    path,
                    span(s),
                    format!("dates out of order: key retired on {b}, not after valid_from {a}"),
                );
                ok = false;
            }
            keys.push(PartyKey {
                key: k.key.into_inner(),
                valid_from,
                retired_on,
            });
        }
        let nato_member_since = r
            .nato_member_since
            .as_ref()
            .and_then(|d| self.date(path, d, "nato_member_since"));
        if r.nato_member_since.is_some() && nato_member_since.is_none() {
            ok = false;
        }
        ok.then_some(Party {
            code,
            name: r.name,
            group: r.group.map(Spanned::into_inner),
            population,
            population_source: r.population_source,
            gdp,
            keys,
            notes: r.notes,
            nato_member_since,
            nato_source: r.nato_source,
        })
    }

    /// Validates one agreement. With `ctx`, also checks its references to the compact.
    fn agreement(
        &mut self,
        path: &str,
        r: raw::AgreementFile,
        ctx: Option<(&Names, &Compact)>,
    ) -> Option<Agreement> {
        let names = ctx.map(|c| c.0);
        let errors_before = self.diags.error_count();
        let mut ok = true;
        if !is_slug(r.id.get_ref()) {
            self.err(
                path,
                span(&r.id),
                format!(
                    "malformed agreement id `{}`: use lower-case letters, digits, `-` and `.`",
                    r.id.get_ref()
                ),
            );
        }
        let version = match u32::try_from(*r.version.get_ref()) {
            Ok(v) if v >= 1 => v,
            _ => {
                self.err(
                    path,
                    span(&r.version),
                    format!("version must be 1 or more, got {}", r.version.get_ref()),
                );
                1
            }
        };
        if let Some((names, compact)) = ctx {
            let g = r.guarantor.get_ref();
            match compact.parties.get(g) {
                None => self.diags.push(
                    Diagnostic::error(path, span(&r.guarantor), format!("unknown party `{g}`"))
                        .with_help(format!("declare it in parties/{g}.toml")),
                ),
                Some(_) if *g == names.beneficiary => self.err(
                    path,
                    span(&r.guarantor),
                    format!("the guarantor `{g}` is the beneficiary"),
                ),
                Some(p) if p.group.is_none() => self.diags.push(
                    Diagnostic::error(
                        path,
                        span(&r.guarantor),
                        format!("guarantor `{g}` is outside both groups"),
                    )
                    .with_help(format!(
                        "give parties/{g}.toml a `group` (the core or the broader group)"
                    )),
                ),
                Some(_) => {}
            }
            let b = r.beneficiary.get_ref();
            if *b != names.beneficiary {
                self.err(
                    path,
                    span(&r.beneficiary),
                    format!(
                        "the agreement's beneficiary `{b}` is not the compact's (`{}`)",
                        names.beneficiary
                    ),
                );
            }
        }
        let signed_on = self.date(path, &r.signed_on, "signed_on");
        let in_force_from = self.date(path, &r.in_force_from, "in_force_from");
        if let (Some(s), Some(f)) = (signed_on, in_force_from)
            && f < s
        {
            self.err(
                path,
                span(&r.in_force_from),
                format!("dates out of order: in force from {f}, before it was signed on {s}"),
            );
        }
        if let (Some((_, compact)), Some(s)) = (ctx, signed_on)
            && s < compact.adopted_on
        {
            self.warn(
                path,
                span(&r.signed_on),
                format!(
                    "signed on {s}, before the compact was adopted on {}",
                    compact.adopted_on
                ),
            );
        }
        let ends_on = match (&r.duration_years, &r.ends_on) {
            (Some(_), Some(e)) => {
                self.err(
                    path,
                    span(e),
                    "give either duration_years or ends_on, not both",
                );
                None
            }
            (None, None) => {
                self.err(
                    path,
                    span(&r.in_force_from),
                    "the agreement has no end: give duration_years or ends_on",
                );
                None
            }
            (Some(d), None) => {
                let years = *d.get_ref();
                if !(1..=DURATION_YEARS_MAX).contains(&years) {
                    self.err(
                        path,
                        span(d),
                        format!(
                            "duration_years {years} is out of range (1 to {DURATION_YEARS_MAX})"
                        ),
                    );
                    None
                } else {
                    in_force_from.and_then(|f| {
                        f.checked_add(jiff::Span::new().years(years))
                            .and_then(|d| d.checked_sub(jiff::Span::new().days(1)))
                            .ok()
                    })
                }
            }
            (None, Some(e)) => {
                let end = self.date(path, e, "ends_on");
                if let (Some(f), Some(end)) = (in_force_from, end)
                    && end < f
                {
                    self.err(
                        path,
                        span(e),
                        format!(
                            "dates out of order: ends on {end}, before it is in force from {f}"
                        ),
                    );
                }
                end
            }
        };
        let on_accession = match &r.on_accession {
            Some(v) => self.on_accession(path, v),
            None => {
                self.err(
                    path,
                    span(&r.id),
                    "missing on_accession: say what happens to the agreement on accession (`end` or `continue`)",
                );
                None
            }
        };
        let src = r.source.get_ref();
        if !(src.starts_with("https://") || src.starts_with("http://")) {
            self.err(
                path,
                span(&r.source),
                format!("source `{src}` is not an http(s) URL"),
            );
        }

        let mut clause_ids = BTreeSet::new();
        let mut clauses = Vec::new();
        for c in r.clauses {
            let c = c.into_inner();
            if !is_slug(c.id.get_ref()) {
                self.err(
                    path,
                    span(&c.id),
                    format!("malformed clause id `{}`", c.id.get_ref()),
                );
            } else if !clause_ids.insert(c.id.get_ref().clone()) {
                self.err(
                    path,
                    span(&c.id),
                    format!("duplicate clause `{}`", c.id.get_ref()),
                );
            }
            match (&c.quote, &c.summary) {
                (Some(q), _) if q.trim().is_empty() => {
                    self.err(path, span(&c.id), "the clause quotes nothing");
                }
                (None, None) => {
                    self.err(
                        path,
                        span(&c.id),
                        "the clause has neither a quote nor a summary",
                    );
                }
                (None, Some(s)) if s.trim().is_empty() => {
                    self.err(path, span(&c.id), "the clause's summary is empty");
                }
                _ => {}
            }
            clauses.push(Clause {
                id: c.id.into_inner(),
                quote: c.quote,
                summary: c.summary,
                source: c.source,
                synthetic: c.synthetic,
            });
        }
        clauses.sort_by(|a, b| a.id.cmp(&b.id));
        let threat_levels = names.map_or(10, |n| n.threat_levels);

        let consultation = r.consultation.map(|c| {
            let c = c.into_inner();
            let hours = match &c.hours {
                None => None,
                Some(h) => match u32::try_from(*h.get_ref()) {
                    Ok(v) if (1..=720).contains(&v) => Some(v),
                    _ => {
                        self.err(
                            path,
                            span(h),
                            format!("consultation hours {} out of range (1 to 720)", h.get_ref()),
                        );
                        None
                    }
                },
            };
            let trigger = match c.on.as_ref().map(|o| (o.get_ref().as_str(), o)) {
                None | Some(("attack", _)) => {
                    if let Some(t) = &c.threat_level {
                        self.err(
                            path,
                            span(t),
                            "threat_level applies only with on = \"attack-or-threat\"",
                        );
                    }
                    ConsultationTrigger::Attack
                }
                Some(("attack-or-threat", o)) => match &c.threat_level {
                    Some(t) => ConsultationTrigger::AttackOrThreat {
                        level: self.threat_level(path, t, threat_levels).unwrap_or(1),
                    },
                    None => {
                        self.err(
                            path,
                            span(o),
                            "on = \"attack-or-threat\" needs the threat_level that opens a consultation",
                        );
                        ConsultationTrigger::Attack
                    }
                },
                Some((other, o)) => {
                    self.err(
                        path,
                        span(o),
                        format!("unknown consultation trigger `{other}`: expected `attack` or `attack-or-threat`"),
                    );
                    ConsultationTrigger::Attack
                }
            };
            if let Some(cl) = &c.clause
                && !clause_ids.contains(cl.get_ref())
            {
                self.err(
                    path,
                    span(cl),
                    format!("unknown clause `{}`", cl.get_ref()),
                );
            }
            Consultation {
                hours,
                trigger,
                clause: c.clause.map(Spanned::into_inner),
            }
        });

        let mut commitments = Vec::new();
        let mut commitment_ids = BTreeSet::new();
        for c in r.commitments {
            let c = c.into_inner();
            if !is_slug(c.id.get_ref()) {
                self.err(
                    path,
                    span(&c.id),
                    format!("malformed commitment id `{}`", c.id.get_ref()),
                );
            } else if !commitment_ids.insert(c.id.get_ref().clone()) {
                self.err(
                    path,
                    span(&c.id),
                    format!("duplicate commitment `{}`", c.id.get_ref()),
                );
            }
            if let Some(n) = names
                && !n.pillars.contains(c.pillar.get_ref())
            {
                self.diags.push(
                    Diagnostic::error(
                        path,
                        span(&c.pillar),
                        format!("unknown pillar `{}`", c.pillar.get_ref()),
                    )
                    .with_help(format!(
                        "the compact defines: {}",
                        n.pillars.iter().cloned().collect::<Vec<_>>().join(", ")
                    )),
                );
            }
            if let Some(cl) = &c.clause
                && !clause_ids.contains(cl.get_ref())
            {
                self.err(path, span(cl), format!("unknown clause `{}`", cl.get_ref()));
            }
            let schedule = self.schedule(path, &c, names);
            let mut scaling = Vec::new();
            for s in &c.scaling {
                if let Some(rule) = self.scaling(path, s.get_ref(), threat_levels) {
                    scaling.push(rule);
                }
            }
            let commitment_on_accession = match &c.on_accession {
                Some(v) => self.on_accession(path, v),
                None => on_accession,
            };
            if let Some(schedule) = schedule {
                if let (Some(f), Some(e)) = (in_force_from, ends_on) {
                    let tranches = schedule.tranches();
                    let after: Vec<Date> =
                        tranches.iter().map(|t| t.due).filter(|d| *d > e).collect();
                    let before: Vec<Date> =
                        tranches.iter().map(|t| t.due).filter(|d| *d < f).collect();
                    if let Some(first) = after.first() {
                        self.warn(
                            path,
                            span(&c.schedule),
                            format!(
                                "commitment `{}` has {} due after the agreement ends on {e} (first: {first})",
                                c.id.get_ref(),
                                tranche_count(after.len()),
                            ),
                        );
                    }
                    if let Some(first) = before.first() {
                        self.warn(
                            path,
                            span(&c.schedule),
                            format!(
                                "commitment `{}` has {} due before the agreement is in force from {f} (first: {first})",
                                c.id.get_ref(),
                                tranche_count(before.len()),
                            ),
                        );
                    }
                }
                if let Some((_, compact)) = ctx {
                    self.gdp_years(path, &c, &schedule, r.guarantor.get_ref(), compact);
                }
                commitments.push(Commitment {
                    id: c.id.get_ref().clone(),
                    pillar: c.pillar.get_ref().clone(),
                    description: c.description.clone(),
                    clause: c.clause.as_ref().map(|x| x.get_ref().clone()),
                    schedule,
                    scaling,
                    on_accession: commitment_on_accession.unwrap_or(OnAccession::End),
                    synthetic: c.synthetic,
                    notes: c.notes.clone(),
                });
            } else {
                ok = false;
            }
        }
        commitments.sort_by(|a, b| a.id.cmp(&b.id));
        if self.diags.error_count() > errors_before {
            ok = false;
        }
        let termination_notice_months = match &r.termination_notice_months {
            Some(m) if !(0..=120).contains(m.get_ref()) => {
                self.err(
                    path,
                    span(m),
                    "`termination_notice_months` is from 0 to 120",
                );
                None
            }
            Some(m) => u32::try_from(*m.get_ref()).ok(),
            None => None,
        };
        let (signed_on, in_force_from, ends_on, on_accession) =
            (signed_on?, in_force_from?, ends_on?, on_accession?);
        ok.then(|| Agreement {
            id: r.id.into_inner(),
            version,
            guarantor: r.guarantor.into_inner(),
            beneficiary: r.beneficiary.into_inner(),
            title: r.title,
            signed_on,
            in_force_from,
            ends_on,
            on_accession,
            termination_notice_months,
            source: r.source.into_inner(),
            synthetic: r.synthetic,
            notes: r.notes,
            consultation,
            clauses,
            commitments,
            path: path.to_owned(),
            digest: String::new(),
        })
        .and_then(|mut a| {
            a.digest = crate::canonical::digest(&a).ok()?;
            Some(a)
        })
    }

    fn schedule(
        &mut self,
        path: &str,
        c: &raw::CommitmentFile,
        names: Option<&Names>,
    ) -> Option<Schedule> {
        let s = c.schedule.get_ref();
        let forms = [s.once.is_some(), s.yearly.is_some(), s.tranches.is_some()]
            .iter()
            .filter(|x| **x)
            .count();
        if forms != 1 {
            self.err(
                path,
                span(&c.schedule),
                "a schedule has exactly one of `once`, `yearly` or `tranches`",
            );
            return None;
        }
        let amount = |this: &mut Self| match &c.amount {
            Some(a) => this.amount(path, a, names),
            None => {
                this.err(
                    path,
                    span(&c.id),
                    format!(
                        "commitment `{}` has no amount: `once` and `yearly` schedules need one",
                        c.id.get_ref()
                    ),
                );
                None
            }
        };
        if let Some(once) = &s.once {
            let due = self.date(path, once, "due date");
            let amount = amount(self);
            return Some(Schedule::Once {
                due: due?,
                amount: amount?,
            });
        }
        if let Some(y) = &s.yearly {
            let yr = y.get_ref();
            let from = self.year(path, &yr.from, "first year");
            let to = self.year(path, &yr.to, "last year");
            if let (Some(a), Some(b)) = (from, to)
                && b < a
            {
                self.err(
                    path,
                    span(&yr.to),
                    format!("dates out of order: yearly from {a} to {b}"),
                );
                return None;
            }
            let (month, day) = match &yr.due {
                None => (12, 31),
                Some(d) => match parse_month_day(d.get_ref()) {
                    Some(md) => md,
                    None => {
                        self.err(
                            path,
                            span(d),
                            format!(
                                "malformed due `{}`: expected MM-DD, a day that exists in every year (not 02-29)",
                                d.get_ref()
                            ),
                        );
                        return None;
                    }
                },
            };
            let amount = amount(self);
            return Some(Schedule::Yearly {
                from: from?,
                to: to?,
                month,
                day,
                amount: amount?,
            });
        }
        let list = s.tranches.as_deref().unwrap_or_default();
        if let Some(a) = &c.amount {
            self.err(
                path,
                span(a),
                "with explicit tranches, give each tranche its amount and none on the commitment",
            );
            return None;
        }
        if list.is_empty() {
            self.err(path, span(&c.schedule), "tranches is empty");
            return None;
        }
        let mut tranches = Vec::new();
        let mut ok = true;
        for t in list {
            let t = t.get_ref();
            let due = self.date(path, &t.due, "due date");
            let amount = self.amount(path, &t.amount, names);
            match (due, amount) {
                (Some(due), Some(amount)) => {
                    if let Some(first) = tranches.first().map(|x: &Tranche| &x.amount) {
                        let same_kind = match (first, &amount) {
                            (Amount::Units { unit: a, .. }, Amount::Units { unit: b, .. }) => {
                                a == b
                            }
                            (a, b) => a.kind() == b.kind(),
                        };
                        if !same_kind {
                            self.err(
                                path,
                                span(&t.amount),
                                format!(
                                    "tranche amount `{amount}` is not of the same kind as the first (`{first}`): physical units are never summed with money or with other units"
                                ),
                            );
                            ok = false;
                        }
                    }
                    tranches.push(Tranche { due, amount });
                }
                _ => ok = false,
            }
        }
        tranches.sort_by_key(|t| t.due);
        ok.then_some(Schedule::Tranches { tranches })
    }

    fn scaling(&mut self, path: &str, s: &raw::ScalingFile, levels: u8) -> Option<ScalingRule> {
        let trigger = match s.on.get_ref().as_str() {
            "attack" => {
                if let Some(t) = &s.threat_level {
                    self.err(
                        path,
                        span(t),
                        "threat_level applies only with on = \"threat\"",
                    );
                }
                Some(ScalingTrigger::Attack)
            }
            "threat" => match &s.threat_level {
                Some(t) => self
                    .threat_level(path, t, levels)
                    .map(|level| ScalingTrigger::Threat { level }),
                None => {
                    self.err(
                        path,
                        span(&s.on),
                        "on = \"threat\" needs the threat_level at or above which it applies",
                    );
                    None
                }
            },
            other => {
                self.err(
                    path,
                    span(&s.on),
                    format!("unknown scaling trigger `{other}`: expected `attack` or `threat`"),
                );
                None
            }
        };
        let factor = match parse_decimal(s.factor.get_ref()) {
            Ok(f) if f >= Decimal::ONE => Some(f),
            Ok(f) => {
                self.err(
                    path,
                    span(&s.factor),
                    format!(
                        "scaling factor {f} is below 1: a surge multiplies what is due by 1 or more"
                    ),
                );
                None
            }
            Err(e) => {
                self.err(path, span(&s.factor), e.to_string());
                None
            }
        };
        let within = *s.within_days.get_ref();
        let within_days = match u32::try_from(within) {
            Ok(d) if (1..=WITHIN_DAYS_MAX).contains(&within) => Some(d),
            _ => {
                self.err(
                    path,
                    span(&s.within_days),
                    format!("within_days {within} is out of range (1 to {WITHIN_DAYS_MAX})"),
                );
                None
            }
        };
        Some(ScalingRule {
            trigger: trigger?,
            factor: factor?,
            within_days: within_days?,
            synthetic: s.synthetic,
        })
    }

    /// A GDP-share amount needs the guarantor's GDP for every year it falls due in.
    fn gdp_years(
        &mut self,
        path: &str,
        c: &raw::CommitmentFile,
        schedule: &Schedule,
        guarantor: &str,
        compact: &Compact,
    ) {
        let Some(party) = compact.parties.get(guarantor) else {
            return;
        };
        let missing: BTreeSet<i16> = schedule
            .tranches()
            .iter()
            .filter(|t| matches!(t.amount, Amount::GdpShare { .. }))
            .map(|t| t.due.year())
            .filter(|y| !party.gdp.contains_key(y))
            .collect();
        if !missing.is_empty() {
            let at = c.amount.as_ref().map_or(span(&c.schedule), span);
            let years: Vec<String> = missing.iter().map(ToString::to_string).collect();
            self.diags.push(
                Diagnostic::error(
                    path,
                    at,
                    format!(
                        "commitment `{}` is a share of GDP, but parties/{guarantor}.toml has no GDP for {}",
                        c.id.get_ref(),
                        years.join(", ")
                    ),
                )
                .with_help(format!("add a [[gdp]] entry for each of those years to parties/{guarantor}.toml")),
            );
        }
    }

    fn rates(&mut self, path: &str, r: raw::RatesFile, names: &Names) -> Rates {
        let mut rates = Rates::default();
        for rate in r.rates {
            let rate = rate.into_inner();
            let on = self.date(path, &rate.on, "rate date");
            let parsed = parse_rate(rate.rate.get_ref());
            let Some((lhs_n, lhs_c, rhs_n, rhs_c)) = parsed else {
                self.err(
                    path,
                    span(&rate.rate),
                    format!(
                        "malformed rate `{}`: expected e.g. \"1 EUR = 0.85 GBP\"",
                        rate.rate.get_ref()
                    ),
                );
                continue;
            };
            for cur in [&lhs_c, &rhs_c] {
                if !names.currencies.contains(cur) {
                    self.err(path, span(&rate.rate), format!("unknown currency `{cur}`"));
                }
            }
            let (reporting, foreign, currency) = if lhs_c == names.currency && rhs_c != lhs_c {
                (lhs_n, rhs_n, rhs_c)
            } else if rhs_c == names.currency && rhs_c != lhs_c {
                (rhs_n, lhs_n, lhs_c)
            } else {
                self.err(
                    path,
                    span(&rate.rate),
                    format!(
                        "a rate must relate another currency to the reporting currency {}",
                        names.currency
                    ),
                );
                continue;
            };
            // Bounds that no real rate approaches, and that keep every converted sum in range.
            let ratio = foreign.checked_div(reporting).unwrap_or(Decimal::MAX);
            if ratio < Decimal::new(1, 6) || ratio > Decimal::new(10_000_000, 0) {
                self.err(
                    path,
                    span(&rate.rate),
                    format!(
                        "rate `{}` is out of range: one unit of {} must be worth between 0.000001 and 10,000,000 {currency}",
                        rate.rate.get_ref(),
                        names.currency
                    ),
                );
                continue;
            }
            let Some(on) = on else { continue };
            let entry = rates.by_currency.entry(currency.clone()).or_default();
            if entry.contains_key(&on) {
                self.err(
                    path,
                    span(&rate.on),
                    format!("duplicate rate for {currency} on {on}"),
                );
                continue;
            }
            entry.insert(
                on,
                Rate {
                    reporting,
                    foreign,
                    source: rate.source,
                    synthetic: rate.synthetic,
                },
            );
        }
        rates
    }

    fn requirements(
        &mut self,
        path: &str,
        r: raw::RequirementsFile,
        names: &Names,
    ) -> Vec<Requirement> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        for q in r.requirements {
            let q = q.into_inner();
            if !names.pillars.contains(q.pillar.get_ref()) {
                self.err(
                    path,
                    span(&q.pillar),
                    format!("unknown pillar `{}`", q.pillar.get_ref()),
                );
                continue;
            }
            let year = self.year(path, &q.year, "requirement year");
            let amount = self.amount(path, &q.amount, Some(names));
            let (Some(year), Some(amount)) = (year, amount) else {
                continue;
            };
            if matches!(amount, Amount::GdpShare { .. }) {
                self.err(
                    path,
                    span(&q.amount),
                    "a requirement is money or units, not a share of GDP",
                );
                continue;
            }
            let unit = match &amount {
                Amount::Units { unit, .. } => unit.clone(),
                _ => "money".to_owned(),
            };
            if !seen.insert((q.pillar.get_ref().clone(), year, unit)) {
                self.err(
                    path,
                    span(&q.pillar),
                    format!(
                        "duplicate requirement for pillar `{}` in {year}",
                        q.pillar.get_ref()
                    ),
                );
                continue;
            }
            out.push(Requirement {
                pillar: q.pillar.into_inner(),
                year,
                amount,
                source: q.source,
                synthetic: q.synthetic,
            });
        }
        out
    }

    /// Versions of one agreement must not overlap in time and must keep their guarantor.
    fn versions(&mut self, compact: &Compact, files: &[SourceFile]) {
        for pair in compact.agreements.windows(2) {
            let [a, b] = pair else { continue };
            if a.id != b.id {
                continue;
            }
            let text = files
                .iter()
                .find(|f| f.display == b.path)
                .map(|f| f.text.as_str())
                .unwrap_or("");
            if a.guarantor != b.guarantor {
                self.err(
                    &b.path,
                    span_of_field(text, "guarantor"),
                    format!(
                        "version {} of `{}` changes the guarantor from `{}` to `{}`",
                        b.version, b.id, a.guarantor, b.guarantor
                    ),
                );
            }
            if b.in_force_from <= a.ends_on {
                self.err(
                    &b.path,
                    span_of_field(text, "in_force_from"),
                    format!(
                        "overlapping versions of `{}`: version {} is in force from {}, but version {} ({}) runs to {}",
                        b.id, b.version, b.in_force_from, a.version, a.path, a.ends_on
                    ),
                );
            }
        }
    }

    /// Every currency an amount uses needs a rate from its first use on.
    fn coverage(&mut self, compact: &Compact) {
        let mut first_use: BTreeMap<String, (Date, String)> = BTreeMap::new();
        for a in &compact.agreements {
            for c in &a.commitments {
                for t in c.schedule.tranches() {
                    if let Amount::Money { currency, .. } = &t.amount
                        && *currency != compact.currency
                    {
                        let e = first_use
                            .entry(currency.clone())
                            .or_insert((t.due, a.path.clone()));
                        if t.due < e.0 {
                            *e = (t.due, a.path.clone());
                        }
                    }
                }
            }
        }
        for (currency, (date, path)) in first_use {
            if compact.rates.at(&currency, date).is_none() {
                self.warn(
                    &path,
                    None,
                    format!(
                        "no exchange rate for {currency} on or before {date}: amounts in {currency} due then cannot be valued in {}",
                        compact.currency
                    ),
                );
            }
        }
    }
}

fn tranche_count(n: usize) -> String {
    if n == 1 {
        "a tranche".to_owned()
    } else {
        format!("{n} tranches")
    }
}

/// The shape of a C2SP verifier key, `name+keyid+base64`, named `name`. (The key itself is
/// checked where it is used, by the signature code.)
fn check_verifier_key(key: &str, name: &str) -> Result<(), String> {
    let mut parts = key.splitn(3, '+');
    let (n, id, b64) = (parts.next(), parts.next(), parts.next());
    let shape = matches!((n, id, b64), (Some(_), Some(id), Some(b)) if id.len() == 8
        && id.chars().all(|c| c.is_ascii_hexdigit())
        && !b.is_empty()
        && b.chars().all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '='));
    if !shape {
        return Err(format!(
            "malformed verifier key `{key}`: expected name+keyid+base64 (see `compact keygen`)"
        ));
    }
    if n != Some(name) {
        return Err(format!(
            "the key is named `{}`, expected `{name}`",
            n.unwrap_or("")
        ));
    }
    Ok(())
}

/// `MM-DD` of a day that exists in every year.
fn parse_month_day(s: &str) -> Option<(i8, i8)> {
    let (m, d) = s.split_once('-')?;
    if m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (m, d): (i8, i8) = (m.parse().ok()?, d.parse().ok()?);
    // 2023 is not a leap year: a day valid in it is valid in every year.
    Date::new(2023, m, d).ok().map(|_| (m, d))
}

/// `"1 EUR = 0.85 GBP"` as (1, EUR, 0.85, GBP).
fn parse_rate(s: &str) -> Option<(Decimal, String, Decimal, String)> {
    let (lhs, rhs) = s.split_once('=')?;
    let side = |x: &str| -> Option<(Decimal, String)> {
        match Amount::parse(x).ok()? {
            Amount::Money { value, currency } => Some((value, currency)),
            _ => None,
        }
    };
    let (a, ac) = side(lhs)?;
    let (b, bc) = side(rhs)?;
    Some((a, ac, b, bc))
}

/// The span of the value of a top-level `key = value` line, for findings that concern a field
/// after parsing (where the typed value no longer carries its span).
fn span_of_field(text: &str, key: &str) -> Option<Range<usize>> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            let eq = line.find('=').unwrap_or(0);
            let value = line.get(eq + 1..).unwrap_or("");
            let lead = value.len() - value.trim_start().len();
            let len = value.trim_end().len() - lead;
            let start = offset + eq + 1 + lead;
            return Some(start..start + len.max(1));
        }
        offset += line.len();
    }
    None
}

/// The span of the first quoted occurrence of `value`.
fn span_of_value(text: &str, value: &str) -> Option<Range<usize>> {
    let needle = format!("\"{value}\"");
    text.find(&needle).map(|i| i..i + needle.len())
}

/// Whether `url` may be `[store] url`: a PostgreSQL URL with no password (a password is
/// given by COMPACT_DATABASE_PASSWORD or `[store] password_file`, never in the file).
pub fn check_store_url(url: &str) -> Result<(), String> {
    let Some(rest) = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
    else {
        return Err(format!(
            "`{url}` is not a PostgreSQL URL: write postgres://USER@HOST[:PORT]/DATABASE"
        ));
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if let Some((userinfo, _)) = authority.rsplit_once('@')
        && userinfo.contains(':')
    {
        return Err(
            "the URL holds a password: remove it from compact.toml and give it in COMPACT_DATABASE_PASSWORD or [store] password_file"
                .to_owned(),
        );
    }
    if rest.contains("password=") {
        return Err(
            "the URL holds a password parameter: remove it from compact.toml and give it in COMPACT_DATABASE_PASSWORD or [store] password_file"
                .to_owned(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_store_url_is_postgres_and_holds_no_password() {
        assert!(super::check_store_url("postgres://compact@db.example.org/kyiv").is_ok());
        assert!(super::check_store_url("postgresql://db.example.org:5433/kyiv").is_ok());
        let e = super::check_store_url("postgres://u:pw@h/db").unwrap_err();
        assert!(e.contains("password"), "{e}");
        let e = super::check_store_url("postgres://u@h/db?password=pw").unwrap_err();
        assert!(e.contains("password"), "{e}");
        let e = super::check_store_url("sqlite://x").unwrap_err();
        assert!(e.contains("not a PostgreSQL URL"), "{e}");
    }

    use super::*;

    #[test]
    fn month_days_that_exist_every_year() {
        assert_eq!(parse_month_day("12-31"), Some((12, 31)));
        assert_eq!(parse_month_day("03-31"), Some((3, 31)));
        assert_eq!(parse_month_day("02-29"), None);
        assert_eq!(parse_month_day("13-01"), None);
        assert_eq!(parse_month_day("1-1"), None);
    }

    #[test]
    fn rates_read_either_way_round() {
        let r = parse_rate("1 EUR = 0.84662 GBP");
        assert_eq!(
            r.map(|(a, ac, b, bc)| (a.to_string(), ac, b.to_string(), bc)),
            Some(("1".into(), "EUR".into(), "0.84662".into(), "GBP".into()))
        );
        assert!(parse_rate("1 EUR").is_none());
        assert!(parse_rate("1 EUR = 3 shells").is_none());
    }

    #[test]
    fn field_spans_point_at_the_value() {
        let text = "id = \"x\"\n  guarantor =   \"ZZ\"  \n";
        let s = span_of_field(text, "guarantor");
        assert_eq!(s.and_then(|s| text.get(s)), Some("\"ZZ\""));
        assert_eq!(span_of_field(text, "missing"), None);
    }
}
