//! The demo's synthetic delivery process: every parameter in one place, with the reason for its
//! value. Nothing here is a fact; every statement it produces carries a reference starting
//! with `synthetic/`, and every figure it enters is marked synthetic in every report.
//!
//! Behind each allocation (money the Kiel tracker counts, booked to a commitment; or a
//! scheduled count of units), the value is delivered in several **tranches**, each drawn on
//! its own: a delivery lag, perhaps a partial delivery, a reporting lag, and a confirmation
//! (or none) after a confirmation lag. No single draw decides a year: a guarantor's yearly
//! figures are sums over dozens of independent tranches, so they move little from seed to
//! seed (a test checks that the burden ranking's top five do not move).

/// Tranches per allocation: one per [`TRANCHE_EUR`] of its value, at least [`TRANCHES_MIN`]
/// and at most [`TRANCHES_MAX`] (a count of units: one per unit, up to [`TRANCHES_MIN`]). Aid
/// packages are delivered over months in several shipments (the Kiel tracker's delivered
/// values lag allocations by months for most donors); sizing tranches by value keeps each one
/// small beside a guarantor's year, so one draw moves a year by little.
pub const TRANCHES_MIN: u64 = 4;

/// See [`TRANCHES_MIN`].
pub const TRANCHES_MAX: u64 = 40;

/// The value of one tranche, in EUR, before the bounds of [`TRANCHES_MIN`] and
/// [`TRANCHES_MAX`]: EUR 250 m, the size of a large single package.
pub const TRANCHE_EUR: i64 = 250_000_000;

/// Delivery lag after the allocation, in days (uniform). Equipment from stocks moves within
/// weeks, procured equipment within a year or more; 15 to 300 days spans both, centred near
/// five months.
pub const DELIVERY_LAG_DAYS: std::ops::Range<i64> = 15..300;

/// Chance, in percent, that a tranche is delivered only in part. Partial shipments are
/// common when industry delivers in lots; one in five is an assumption.
pub const PARTIAL_PERCENT: u32 = 20;

/// Share delivered of a partial tranche, in percent (uniform).
pub const PARTIAL_SHARE_PERCENT: std::ops::RangeInclusive<i64> = 50..=90;

/// Reporting lag after delivery, in days (uniform): a ministry's desk records a shipment
/// within days to a fortnight.
pub const REPORT_LAG_DAYS: std::ops::Range<i64> = 1..15;

/// Chance, in percent, that the beneficiary confirms a reported tranche. Most receipts are
/// confirmed; a few stay unconfirmed (lost paperwork, disputes) and remain in arrears.
pub const CONFIRM_PERCENT: u32 = 95;

/// Confirmation lag after delivery, in days (uniform): receipt, inspection and sign-off.
pub const CONFIRM_LAG_DAYS: std::ops::Range<i64> = 3..45;

/// Chance, in percent, that a confirmation is for less than was reported (damaged or short
/// shipments).
pub const CONFIRM_SHORT_PERCENT: u32 = 5;

/// Share confirmed of a short confirmation, in percent (uniform).
pub const CONFIRM_SHORT_SHARE_PERCENT: std::ops::RangeInclusive<i64> = 80..=99;

/// For a scheduled count of units (no tracker counts them): days before the due date that the
/// allocation is made (uniform), a planning horizon of one to six months.
pub const UNITS_EARMARK_DAYS: std::ops::Range<i64> = 30..180;

/// The prefix of every generated statement's reference (see
/// [`compact_engine::SYNTHETIC_REFERENCE`]).
pub const REFERENCE: &str = compact_engine::SYNTHETIC_REFERENCE;
