//! Valuation: an amount due on a date, in the reporting currency.
//!
//! Money is converted with the rate in effect on the due date (the latest dated on or before
//! it); a share of GDP is resolved with the guarantor's GDP of the due year, then converted.
//! Physical units have no value in money and are never converted.

use jiff::civil::Date;
use rust_decimal::Decimal;

use crate::amount::Amount;
use crate::model::Compact;

/// Why an amount could not be valued.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// No rate on or before the date.
    #[error("no exchange rate for {currency} on or before {on}")]
    MissingRate {
        /// The currency without a rate.
        currency: String,
        /// The date it was needed for.
        on: Date,
    },
    /// A share of GDP for a year without GDP.
    #[error("no GDP of {party} for {year}")]
    MissingGdp {
        /// The party.
        party: String,
        /// The year.
        year: i16,
    },
    /// The party does not exist.
    #[error("unknown party `{0}`")]
    UnknownParty(String),
    /// Units are not money.
    #[error("`{0}` is a count of physical units, not money")]
    Units(String),
    /// Beyond the range of exact decimals.
    #[error("the value overflows")]
    Overflow,
}

/// A value in the reporting currency and whether any input to it is synthetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Valued {
    /// The value in the reporting currency, unrounded.
    pub value: Decimal,
    /// True when a GDP figure or a rate used is not from a source.
    pub synthetic: bool,
}

/// Converts `value` in `currency` on `on` into the reporting currency.
pub fn convert(
    compact: &Compact,
    value: Decimal,
    currency: &str,
    on: Date,
) -> Result<Valued, ValueError> {
    if currency == compact.currency {
        return Ok(Valued {
            value,
            synthetic: false,
        });
    }
    let (_, rate) = compact
        .rates
        .at(currency, on)
        .ok_or_else(|| ValueError::MissingRate {
            currency: currency.to_owned(),
            on,
        })?;
    let value = value
        .checked_mul(rate.reporting)
        .and_then(|v| v.checked_div(rate.foreign))
        .ok_or(ValueError::Overflow)?;
    Ok(Valued {
        value,
        synthetic: rate.synthetic,
    })
}

/// The value of `amount`, owed by `party`, due on `on`, in the reporting currency.
pub fn value(
    compact: &Compact,
    party: &str,
    amount: &Amount,
    on: Date,
) -> Result<Valued, ValueError> {
    match amount {
        Amount::Money { value, currency } => convert(compact, *value, currency, on),
        Amount::Units { .. } => Err(ValueError::Units(amount.to_string())),
        Amount::GdpShare { percent } => {
            let p = compact
                .parties
                .get(party)
                .ok_or_else(|| ValueError::UnknownParty(party.to_owned()))?;
            let gdp = p
                .gdp
                .get(&on.year())
                .ok_or_else(|| ValueError::MissingGdp {
                    party: party.to_owned(),
                    year: on.year(),
                })?;
            let share = gdp
                .value
                .checked_mul(*percent)
                .and_then(|v| v.checked_div(Decimal::ONE_HUNDRED))
                .ok_or(ValueError::Overflow)?;
            let mut v = convert(compact, share, &gdp.currency, on)?;
            v.synthetic |= gdp.synthetic;
            Ok(v)
        }
    }
}
