//! Booking a tracker's allocations to commitments: the rule the demo follows to turn the Kiel
//! tracker's yearly figures per guarantor and category into allocation statements.
//!
//! Within one guarantor, year and category, the tracker's amount goes to the money
//! commitments of that category (the pillar's declared `tracker_category`) whose agreement is
//! in force that year, **in proportion to what falls due to each for the year** (see
//! [`year_of_due`]), and **no more than that**: a commitment is allocated at most its year's due. What is left (the tracker
//! counts more than the agreements schedule that year, or no commitment of the category falls
//! due, or the guarantor has no agreement) is **outside the agreements**: it is never dropped,
//! the reports show it as its own line (see [`crate::reconcile::outside`]). The parts are
//! rounded to cents with largest remainders, so that they add up to the tracker's figure
//! exactly.

use std::collections::BTreeMap;

use compact_model::{Amount, Compact};
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::reconcile::{Tracker, booking_date, category};
use crate::{EngineError, cents, tranche_quantity};

/// One part of a tracker figure put against a commitment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Booked {
    /// The guarantor.
    pub party: String,
    /// The tracker's year.
    pub year: i16,
    /// The tracker's category.
    pub category: &'static str,
    /// The commitment.
    pub commitment: String,
    /// The day of the allocation: the year's booking date, or the day the agreement entered
    /// into force if later.
    pub date: Date,
    /// The amount, in the reporting currency, to the cent.
    pub amount: Decimal,
    /// What fell due to the commitment in the year (its weight), in the reporting currency.
    pub due: Decimal,
}

/// The whole booking of a tracker's figures.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Booking {
    /// The parts put against commitments.
    pub booked: Vec<Booked>,
    /// What no commitment covers, per party, year and category.
    pub outside: Vec<crate::reconcile::Outside>,
}

/// Books the tracker's figures of the compact's guarantors for the years `from` to the end of
/// the tracker's period.
pub fn book(compact: &Compact, tracker: &Tracker, from: i16) -> Result<Booking, EngineError> {
    let mut booking = Booking::default();
    // One figure per party, year and category (the tracker file may hold several).
    let mut sums: BTreeMap<(&str, i16, &'static str), Decimal> = BTreeMap::new();
    for t in &tracker.figures {
        let is_guarantor = compact
            .parties
            .get(&t.party)
            .is_some_and(|p| p.group.is_some());
        if !is_guarantor || t.year < from || t.year > tracker.period_end.year() {
            continue;
        }
        let e = sums
            .entry((t.party.as_str(), t.year, t.category))
            .or_default();
        *e = e.saturating_add(t.allocated);
    }
    for ((party, year, cat), amount) in sums {
        let Some(on) = booking_date(year, tracker.period_end) else {
            continue;
        };
        // The money commitments of the category in agreements in force in the year (by the
        // end of the tracker's period), with what falls due to each in the year.
        let mut weights: Vec<(String, Date, Decimal)> = Vec::new();
        for a in compact.latest_agreements().filter(|a| a.guarantor == party) {
            let date = on.max(a.in_force_from);
            if date > tracker.period_end || date.year() != year || a.ends_on < on {
                continue;
            }
            for c in &a.commitments {
                if category(compact, &c.pillar) != Some(cat) {
                    continue;
                }
                let mut due = Decimal::ZERO;
                let mut synthetic = false;
                for t in c.schedule.tranches() {
                    if year_of_due(t.due) != year || matches!(t.amount, Amount::Units { .. }) {
                        continue;
                    }
                    due = due.saturating_add(tranche_quantity(compact, a, c, &t, &mut synthetic)?);
                }
                if due > Decimal::ZERO {
                    weights.push((c.id.clone(), date, cents(due)));
                }
            }
        }
        let total_due = weights
            .iter()
            .fold(Decimal::ZERO, |s, (_, _, d)| s.saturating_add(*d));
        let inside = amount.min(total_due);
        for ((id, date, due), part) in weights.iter().zip(split(inside, &weights)) {
            if part.is_zero() {
                continue;
            }
            booking.booked.push(Booked {
                party: party.to_owned(),
                year,
                category: cat,
                commitment: id.clone(),
                date: *date,
                amount: part,
                due: *due,
            });
        }
        let left = amount - inside;
        if !left.is_zero() {
            booking.outside.push(crate::reconcile::Outside {
                party: party.to_owned(),
                year,
                category: cat,
                amount: left,
            });
        }
    }
    Ok(booking)
}

/// The year a tranche falls due for, in the booking: its calendar year, except that a tranche
/// due from 1 January to 31 March counts for the year before (a fiscal year that ends by
/// 31 March, as the UK's does, belongs to the year it starts in). Every shipped schedule is
/// due on 31 December or on 31 March.
pub fn year_of_due(due: Date) -> i16 {
    if due.month() <= 3 {
        due.year() - 1
    } else {
        due.year()
    }
}

/// `amount` (to the cent) split in proportion to the weights, to the cent, largest remainders
/// first (ties to the earlier weight), so that the parts add up to `amount` exactly.
fn split(amount: Decimal, weights: &[(String, Date, Decimal)]) -> Vec<Decimal> {
    let total = weights
        .iter()
        .fold(Decimal::ZERO, |s, (_, _, d)| s.saturating_add(*d));
    if total.is_zero() {
        return vec![Decimal::ZERO; weights.len()];
    }
    let cent = Decimal::new(1, 2);
    let exact: Vec<Decimal> = weights
        .iter()
        .map(|(_, _, w)| amount * *w / total)
        .collect();
    let mut parts: Vec<Decimal> = exact
        .iter()
        .map(|x| x.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero))
        .collect();
    let given = parts.iter().fold(Decimal::ZERO, |s, p| s + *p);
    let mut left = ((amount - given) / cent).round();
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|a, b| {
        let ra =
            exact.get(*a).copied().unwrap_or_default() - parts.get(*a).copied().unwrap_or_default();
        let rb =
            exact.get(*b).copied().unwrap_or_default() - parts.get(*b).copied().unwrap_or_default();
        rb.cmp(&ra).then(a.cmp(b))
    });
    for i in order {
        if left <= Decimal::ZERO {
            break;
        }
        if let Some(p) = parts.get_mut(i) {
            *p += cent;
            left -= Decimal::ONE;
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(d: i64) -> (String, Date, Decimal) {
        (
            String::new(),
            Date::constant(2024, 7, 2),
            Decimal::new(d, 0),
        )
    }

    #[test]
    fn parts_add_up_to_the_cent() {
        let parts = split(Decimal::new(100, 2), &[w(1), w(1), w(1)]);
        assert_eq!(
            parts,
            [
                Decimal::new(34, 2),
                Decimal::new(33, 2),
                Decimal::new(33, 2)
            ]
        );
        let parts = split(Decimal::new(100_000, 2), &[w(3), w(1)]);
        assert_eq!(parts, [Decimal::new(75_000, 2), Decimal::new(25_000, 2)]);
        assert_eq!(split(Decimal::ONE, &[w(0)]), [Decimal::ZERO]);
    }
}
