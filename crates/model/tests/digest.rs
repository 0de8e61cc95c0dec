//! Properties of the canonical digest: reformatting, reordering keys, reordering commitments
//! and clauses, changing number notation and editing comments leave it unchanged; any change
//! of meaning changes it.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use compact_model::{SourceFile, agreement_alone, digest};
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct Amount {
    mantissa: u32,
    exponent: u32,
    unit: &'static str,
}

#[derive(Clone, Debug)]
enum Schedule {
    Once { year: i16, month: u8, day: u8 },
    Yearly { from: i16, len: i16 },
    Tranches(Vec<(i16, u8, Amount)>),
}

#[derive(Clone, Debug)]
struct Commitment {
    id: String,
    pillar: &'static str,
    amount: Amount,
    schedule: Schedule,
    factor: Option<(u8, u8)>,
    synthetic: bool,
}

#[derive(Clone, Debug)]
struct Spec {
    version: u8,
    year: i16,
    duration: i16,
    title: String,
    commitments: Vec<Commitment>,
}

/// How a spec is written out: same meaning, different text.
#[derive(Clone, Debug)]
struct Style {
    permutation: Vec<usize>,
    scientific: bool,
    underscores: bool,
    quote_dates: bool,
    comments: bool,
    reverse: bool,
    ends_on: bool,
    inline_schedule: bool,
}

fn amount() -> impl Strategy<Value = Amount> {
    (
        1u32..100_000,
        0u32..9,
        prop::sample::select(vec!["EUR", "GBP", "shells"]),
    )
        .prop_map(|(mantissa, exponent, unit)| Amount {
            mantissa,
            exponent,
            unit,
        })
}

fn schedule() -> impl Strategy<Value = Schedule> {
    prop_oneof![
        (2024i16..2030, 1u8..=12, 1u8..=28).prop_map(|(year, month, day)| Schedule::Once {
            year,
            month,
            day
        }),
        (2024i16..2030, 0i16..5).prop_map(|(from, len)| Schedule::Yearly { from, len }),
        prop::collection::vec((2024i16..2030, 1u8..=12, amount()), 1..4).prop_map(|mut t| {
            // One kind per commitment: every tranche in the first tranche's unit.
            let unit = t[0].2.unit;
            for x in &mut t {
                x.2.unit = unit;
            }
            // Distinct dates, so that sorting by date is a total order.
            t.sort_by_key(|x| (x.0, x.1));
            t.dedup_by_key(|x| (x.0, x.1));
            Schedule::Tranches(t)
        }),
    ]
}

fn spec() -> impl Strategy<Value = Spec> {
    let commitment = (
        "[a-z]{1,6}",
        prop::sample::select(vec!["weapons", "training"]),
        amount(),
        schedule(),
        prop::option::of((1u8..5, 1u8..90)),
        any::<bool>(),
    )
        .prop_map(
            |(id, pillar, amount, schedule, factor, synthetic)| Commitment {
                id,
                pillar,
                amount,
                schedule,
                factor,
                synthetic,
            },
        );
    (
        1u8..4,
        2024i16..2026,
        5i16..15,
        "[A-Za-z ]{1,30}",
        prop::collection::vec(commitment, 1..5),
    )
        .prop_map(|(version, year, duration, title, mut commitments)| {
            commitments.sort_by(|a, b| a.id.cmp(&b.id));
            commitments.dedup_by(|a, b| a.id == b.id);
            Spec {
                version,
                year,
                duration,
                title,
                commitments,
            }
        })
}

fn style() -> impl Strategy<Value = Style> {
    (
        Just((0..8).collect::<Vec<usize>>()).prop_shuffle(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(
                permutation,
                scientific,
                underscores,
                quote_dates,
                comments,
                reverse,
                ends_on,
                inline_schedule,
            )| Style {
                permutation,
                scientific,
                underscores,
                quote_dates,
                comments,
                reverse,
                ends_on,
                inline_schedule,
            },
        )
}

fn number(a: &Amount, st: &Style) -> String {
    if st.scientific {
        format!("{}e{}", a.mantissa, a.exponent)
    } else {
        let plain = format!("{}{}", a.mantissa, "0".repeat(a.exponent as usize));
        if st.underscores {
            let mut out = String::new();
            for (i, ch) in plain.chars().enumerate() {
                if i > 0 && (plain.len() - i) % 3 == 0 {
                    out.push('_');
                }
                out.push(ch);
            }
            out
        } else {
            plain
        }
    }
}

fn amount_text(a: &Amount, st: &Style) -> String {
    format!("\"{} {}\"", number(a, st), a.unit)
}

fn date(y: i16, m: u8, d: u8, st: &Style) -> String {
    if st.quote_dates {
        format!("\"{y:04}-{m:02}-{d:02}\"")
    } else {
        format!("{y:04}-{m:02}-{d:02}")
    }
}

/// The last day in force of an agreement in force from 1 March `year` for `duration` years.
fn last_day(year: i16, duration: i16) -> (i16, u8, u8) {
    let y = year + duration;
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    (y, 2, if leap { 29 } else { 28 })
}

fn render(s: &Spec, st: &Style) -> String {
    let c = |line: &str| {
        if st.comments {
            format!("{line}   # a comment\n")
        } else {
            format!("{line}\n")
        }
    };
    let end = if st.ends_on {
        let (y, m, d) = last_day(s.year, s.duration);
        format!("ends_on = {}", date(y, m, d, st))
    } else {
        format!("duration_years = {}", s.duration)
    };
    let top = [
        "id = \"x-ua\"".to_owned(),
        format!("version = {}", s.version),
        "guarantor = \"GB\"".to_owned(),
        "beneficiary = \"UA\"".to_owned(),
        format!("title = \"{}\"", s.title),
        format!(
            "signed_on = {}\nin_force_from = {}",
            date(s.year, 3, 1, st),
            date(s.year, 3, 1, st)
        ),
        end,
        "on_accession = \"end\"\nsource = \"https://example.org/x\"".to_owned(),
    ];
    let mut out = String::new();
    if st.comments {
        out.push_str("# An agreement, written one way or another.\n\n");
    }
    for i in &st.permutation {
        out.push_str(&c(&top[*i]));
    }
    let mut commitments = s.commitments.clone();
    if st.reverse {
        commitments.reverse();
    }
    for cm in &commitments {
        out.push_str("\n[[commitments]]\n");
        let mut lines = vec![
            format!("id = \"{}\"", cm.id),
            format!("pillar = \"{}\"", cm.pillar),
            "description = \"d\"".to_owned(),
            format!("synthetic = {}", cm.synthetic),
        ];
        match &cm.schedule {
            Schedule::Once { year, month, day } => {
                lines.push(format!("amount = {}", amount_text(&cm.amount, st)));
                lines.push(format!("schedule.once = {}", date(*year, *month, *day, st)));
            }
            Schedule::Yearly { from, len } => {
                lines.push(format!("amount = {}", amount_text(&cm.amount, st)));
                lines.push(format!(
                    "schedule.yearly = {{ to = {}, from = {from} }}",
                    from + len
                ));
            }
            Schedule::Tranches(t) => {
                let mut t = t.clone();
                if st.reverse {
                    t.reverse();
                }
                let items: Vec<String> = t
                    .iter()
                    .map(|(y, m, a)| {
                        format!(
                            "{{ amount = {}, due = {} }}",
                            amount_text(a, st),
                            date(*y, *m, 15, st)
                        )
                    })
                    .collect();
                if st.inline_schedule {
                    lines.push(format!(
                        "schedule = {{ tranches = [{}] }}",
                        items.join(", ")
                    ));
                } else {
                    lines.push(format!(
                        "schedule.tranches = [\n  {},\n]",
                        items.join(",\n  ")
                    ));
                }
            }
        }
        if st.reverse {
            lines.reverse();
        }
        for l in lines {
            out.push_str(&c(&l));
        }
        if let Some((f, days)) = cm.factor {
            out.push_str(&format!(
                "[[commitments.scaling]]\nwithin_days = {days}\nfactor = \"{f}\"\non = \"attack\"\n"
            ));
        }
    }
    out
}

fn digest_of(text: &str) -> String {
    let file = SourceFile {
        rel: "agreements/x-ua.toml".into(),
        display: "x-ua.toml".into(),
        text: text.to_owned(),
    };
    match agreement_alone(&file) {
        Ok(a) => digest(&a).expect("canonical form"),
        Err(d) => panic!("generated agreement invalid: {d:?}\n{text}"),
    }
}

fn plain() -> Style {
    Style {
        permutation: (0..8).collect(),
        scientific: false,
        underscores: false,
        quote_dates: false,
        comments: false,
        reverse: false,
        ends_on: false,
        inline_schedule: false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn layout_and_notation_do_not_change_the_digest(s in spec(), st in style()) {
        prop_assert_eq!(digest_of(&render(&s, &plain())), digest_of(&render(&s, &st)));
    }

    #[test]
    fn a_change_of_meaning_changes_the_digest(s in spec(), which in 0usize..7, pick in any::<prop::sample::Index>()) {
        let before = digest_of(&render(&s, &plain()));
        let mut t = s.clone();
        let i = pick.index(t.commitments.len());
        let c = &mut t.commitments[i];
        match which {
            0 => match &mut c.schedule {
                // With explicit tranches the commitment's own amount is not written.
                Schedule::Tranches(tr) => tr[0].2.mantissa += 1,
                _ => c.amount.mantissa += 1,
            },
            1 => c.pillar = if c.pillar == "weapons" { "training" } else { "weapons" },
            2 => c.id.push('z'),
            3 => c.synthetic = !c.synthetic,
            4 => t.version += 1,
            5 => t.duration += 1,
            _ => match &mut c.schedule {
                Schedule::Once { day, .. } => *day = if *day == 1 { 2 } else { *day - 1 },
                Schedule::Yearly { len, .. } => *len += 1,
                Schedule::Tranches(tr) => tr[0].2.mantissa += 1,
            },
        }
        // An id change may collide with another commitment's id; that is a different file.
        prop_assume!(t.commitments.iter().filter(|x| x.id == t.commitments[i].id).count() == 1);
        prop_assert_ne!(before, digest_of(&render(&t, &plain())), "which = {}", which);
    }
}

#[test]
fn writing_the_end_as_a_date_or_a_duration_is_the_same() {
    let s = Spec {
        version: 1,
        year: 2024,
        duration: 10,
        title: "T".into(),
        commitments: vec![Commitment {
            id: "a".into(),
            pillar: "weapons",
            amount: Amount {
                mantissa: 25,
                exponent: 8,
                unit: "GBP",
            },
            schedule: Schedule::Once {
                year: 2025,
                month: 3,
                day: 31,
            },
            factor: None,
            synthetic: false,
        }],
    };
    let by_date = Style {
        ends_on: true,
        ..plain()
    };
    assert_eq!(
        digest_of(&render(&s, &plain())),
        digest_of(&render(&s, &by_date))
    );
}
