//! Amounts: money in a currency, physical units, or a share of a party's GDP.
//!
//! Written in files as one string: `"2.5e9 GBP"`, `"2500000000 GBP"`, `"2_500_000_000 GBP"`,
//! `"1000 shells"`, `"0.25% GDP"`. Numbers are exact decimals (never floating point); the
//! scientific form is expanded exactly. The canonical form prints the normalised decimal, so
//! `"2.5e9 GBP"` and `"2500000000 GBP"` are the same amount.

use std::fmt;

use rust_decimal::Decimal;

/// A parsed amount. Whether its currency or unit is known is checked against the compact later.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Amount {
    /// Money: a decimal value and an ISO 4217 currency code.
    Money {
        /// The value, normalised (no trailing zeros).
        value: Decimal,
        /// Three upper-case letters.
        currency: String,
    },
    /// A count of physical things: shells, systems, trainees.
    Units {
        /// How many, normalised.
        quantity: Decimal,
        /// The unit's id as the compact declares it.
        unit: String,
    },
    /// A share of the guarantor's GDP of the year the tranche falls in, in percent.
    GdpShare {
        /// Percent of GDP, e.g. `0.25`.
        percent: Decimal,
    },
}

/// Why an amount string could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Nothing but whitespace.
    #[error("empty amount: expected a number and a currency, unit or `% GDP`, e.g. \"2.5e9 GBP\"")]
    Empty,
    /// The number could not be read.
    #[error(
        "malformed number `{0}` in amount: expected digits, optionally with a decimal point and an exponent (`2.5e9`)"
    )]
    Number(String),
    /// No currency, unit or `% GDP` after the number.
    #[error(
        "amount `{0}` has no currency or unit: write e.g. \"{0} EUR\", \"{0} shells\" or \"{0}% GDP\""
    )]
    MissingUnit(String),
    /// Something after the unit.
    #[error(
        "malformed amount `{0}`: expected a number and one currency or unit, e.g. \"2.5e9 GBP\" (write billions as e9)"
    )]
    Trailing(String),
    /// Zero or below.
    #[error("amount must be greater than zero, got {0}")]
    NotPositive(String),
    /// Out of range: above [`AMOUNT_MAX`], or beyond exact decimals.
    #[error("amount `{0}` is out of range: at most 1e18, and at most 28 significant digits")]
    OutOfRange(String),
    /// A number that an exact decimal cannot hold without rounding.
    #[error(
        "number `{0}` cannot be held exactly: an exact decimal has at most 28 decimal places and 28 significant digits (29 below 7.9e28); it is refused, never rounded"
    )]
    Inexact(String),
    /// The unit is not a word.
    #[error(
        "malformed unit `{0}`: a unit is a lower-case word such as `shells`, a currency three capital letters"
    )]
    BadUnit(String),
}

/// Reads a decimal number in plain (`2500000000`, `2_500_000_000`, `0.25`) or scientific
/// (`2.5e9`, `25E8`) notation, exactly.
pub fn parse_decimal(text: &str) -> Result<Decimal, AmountError> {
    let cleaned: std::borrow::Cow<'_, str> = if text.contains('_') {
        text.chars()
            .filter(|c| *c != '_')
            .collect::<String>()
            .into()
    } else {
        text.into()
    };
    let well_formed = {
        let (mantissa, exponent) = match cleaned.find(['e', 'E']) {
            Some(i) => (
                cleaned.get(..i).unwrap_or(""),
                Some(cleaned.get(i + 1..).unwrap_or("")),
            ),
            None => (cleaned.as_ref(), None),
        };
        let mantissa = mantissa.strip_prefix(['-', '+']).unwrap_or(mantissa);
        let mut parts = mantissa.splitn(2, '.');
        let int = parts.next().unwrap_or("");
        let frac = parts.next();
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        let mantissa_ok = digits(int)
            && frac.is_none_or(digits)
            && !(int.is_empty() && frac.is_none_or(str::is_empty));
        let exponent_ok = exponent.is_none_or(|e| {
            let e = e.strip_prefix(['-', '+']).unwrap_or(e);
            !e.is_empty() && e.len() <= 3 && digits(e)
        });
        mantissa_ok && exponent_ok && !text.starts_with('_') && !text.ends_with('_')
    };
    if !well_formed {
        return Err(AmountError::Number(text.to_owned()));
    }
    let parsed = if cleaned.contains(['e', 'E']) {
        Decimal::from_scientific(&cleaned)
    } else {
        cleaned.parse::<Decimal>()
    };
    let d = parsed
        .map(|d| d.normalize())
        .map_err(|_| AmountError::OutOfRange(text.to_owned()))?;
    // The decimal parsers round digits they cannot hold (more than 28 significant digits, or
    // below 1e-28): compare the digits written with the digits held.
    if written_digits(&cleaned) != held_digits(d) {
        return Err(AmountError::Inexact(text.to_owned()));
    }
    Ok(d)
}

/// A number as (significant digits without leading or trailing zeros, power of ten of the
/// last one, negative); zero is ("", 0, false).
type Digits = (String, i64, bool);

fn strip(digits: &str, power: i64, negative: bool) -> Digits {
    let lead = digits.trim_start_matches('0');
    let sig = lead.trim_end_matches('0');
    if sig.is_empty() {
        return (String::new(), 0, false);
    }
    let trailing = (lead.len() - sig.len()) as i64;
    (sig.to_owned(), power + trailing, negative)
}

/// The digits of a well-formed number as written (`-2.50e9`).
fn written_digits(text: &str) -> Digits {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (
            text.get(..i).unwrap_or(""),
            text.get(i + 1..).unwrap_or("0"),
        ),
        None => (text, "0"),
    };
    let negative = mantissa.starts_with('-');
    let mantissa = mantissa.strip_prefix(['-', '+']).unwrap_or(mantissa);
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let exponent: i64 = exponent.parse().unwrap_or(0);
    strip(
        &format!("{int}{frac}"),
        exponent - frac.len() as i64,
        negative,
    )
}

/// The digits a decimal holds.
fn held_digits(d: Decimal) -> Digits {
    let m = d.mantissa();
    strip(&m.unsigned_abs().to_string(), -i64::from(d.scale()), m < 0)
}

/// `a + b` if the sum is exact; `None` when it would overflow or be rounded (a sum needing
/// more than 28 significant digits). Amounts are compared with sums of this, never rounded.
pub fn add_exact(a: Decimal, b: Decimal) -> Option<Decimal> {
    let sum = a.checked_add(b)?;
    (sum.checked_sub(a) == Some(b) && sum.checked_sub(b) == Some(a)).then_some(sum)
}

/// The largest number an amount may hold (1e18). Sums of a billion such amounts stay within
/// exact decimal range, so no report can overflow.
pub const AMOUNT_MAX: Decimal = Decimal::from_parts(2_808_348_672, 232_830_643, 0, false, 0);

impl Amount {
    /// Parses an amount string. Positivity is required: a commitment of zero or less is an error.
    pub fn parse(text: &str) -> Result<Amount, AmountError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(AmountError::Empty);
        }
        // "0.25% GDP" and "0.25 % GDP"
        if let Some((number, rest)) = trimmed.split_once('%') {
            let rest = rest.trim();
            if rest != "GDP" {
                return Err(if rest.is_empty() {
                    AmountError::MissingUnit(trimmed.to_owned())
                } else {
                    AmountError::Trailing(trimmed.to_owned())
                });
            }
            let percent = positive(parse_decimal(number.trim())?)?;
            if percent > Decimal::ONE_HUNDRED {
                return Err(AmountError::OutOfRange(format!("{percent}% GDP")));
            }
            return Ok(Amount::GdpShare { percent });
        }
        let mut words = trimmed.split_whitespace();
        let number = words.next().unwrap_or("");
        let value = parse_decimal(number)?;
        let Some(unit) = words.next() else {
            return Err(AmountError::MissingUnit(number.to_owned()));
        };
        if words.next().is_some() {
            return Err(AmountError::Trailing(trimmed.to_owned()));
        }
        let value = positive(value)?;
        if unit.len() == 3 && unit.chars().all(|c| c.is_ascii_uppercase()) {
            Ok(Amount::Money {
                value,
                currency: unit.to_owned(),
            })
        } else if !unit.is_empty()
            && unit
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit())
            && unit.starts_with(|c: char| c.is_ascii_lowercase())
        {
            Ok(Amount::Units {
                quantity: value,
                unit: unit.to_owned(),
            })
        } else {
            Err(AmountError::BadUnit(unit.to_owned()))
        }
    }

    /// The number, whatever the kind.
    pub fn number(&self) -> Decimal {
        match self {
            Amount::Money { value, .. } => *value,
            Amount::Units { quantity, .. } => *quantity,
            Amount::GdpShare { percent } => *percent,
        }
    }

    /// A short word for the kind: `money`, `units` or `gdp-share`.
    pub fn kind(&self) -> &'static str {
        match self {
            Amount::Money { .. } => "money",
            Amount::Units { .. } => "units",
            Amount::GdpShare { .. } => "gdp-share",
        }
    }
}

fn positive(d: Decimal) -> Result<Decimal, AmountError> {
    if d <= Decimal::ZERO {
        Err(AmountError::NotPositive(d.to_string()))
    } else if d > AMOUNT_MAX {
        Err(AmountError::OutOfRange(d.to_string()))
    } else {
        Ok(d)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Amount::Money { value, currency } => write!(f, "{value} {currency}"),
            Amount::Units { quantity, unit } => write!(f, "{quantity} {unit}"),
            Amount::GdpShare { percent } => write!(f, "{percent}% GDP"),
        }
    }
}

impl serde::Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn money_in_every_notation_is_the_same_amount() {
        let a = Amount::parse("2.5e9 GBP");
        let b = Amount::parse("2500000000 GBP");
        let c = Amount::parse("2_500_000_000 GBP");
        let e = Amount::parse("  25E8   GBP ");
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a, e);
        assert_eq!(
            a,
            Ok(Amount::Money {
                value: d("2500000000"),
                currency: "GBP".into()
            })
        );
        assert_eq!(a.map(|a| a.to_string()), Ok("2500000000 GBP".into()));
    }

    #[test]
    fn units_and_gdp_shares() {
        assert_eq!(
            Amount::parse("1000 shells"),
            Ok(Amount::Units {
                quantity: d("1000"),
                unit: "shells".into()
            })
        );
        assert_eq!(
            Amount::parse("0.25% GDP"),
            Ok(Amount::GdpShare { percent: d("0.25") })
        );
        assert_eq!(
            Amount::parse("0.250 % GDP").map(|a| a.to_string()),
            Ok("0.25% GDP".into())
        );
    }

    #[test]
    fn bad_amounts_say_what_is_wrong() {
        assert_eq!(Amount::parse(""), Err(AmountError::Empty));
        assert_eq!(
            Amount::parse("0 EUR"),
            Err(AmountError::NotPositive("0".into()))
        );
        assert_eq!(
            Amount::parse("-5 EUR"),
            Err(AmountError::NotPositive("-5".into()))
        );
        assert_eq!(
            Amount::parse("2.5x9 EUR"),
            Err(AmountError::Number("2.5x9".into()))
        );
        assert_eq!(
            Amount::parse("1e EUR"),
            Err(AmountError::Number("1e".into()))
        );
        assert_eq!(Amount::parse(". EUR"), Err(AmountError::Number(".".into())));
        assert_eq!(
            Amount::parse("1e9999 EUR"),
            Err(AmountError::Number("1e9999".into()))
        );
        assert_eq!(
            Amount::parse("1e40 EUR"),
            Err(AmountError::OutOfRange("1e40".into()))
        );
        assert_eq!(
            Amount::parse("100"),
            Err(AmountError::MissingUnit("100".into()))
        );
        assert_eq!(
            Amount::parse("1 EUR extra"),
            Err(AmountError::Trailing("1 EUR extra".into()))
        );
        assert_eq!(
            Amount::parse("1% GNP"),
            Err(AmountError::Trailing("1% GNP".into()))
        );
        assert_eq!(
            Amount::parse("1 Eur"),
            Err(AmountError::BadUnit("Eur".into()))
        );
        assert_eq!(
            Amount::parse("0% GDP"),
            Err(AmountError::NotPositive("0".into()))
        );
    }

    #[test]
    fn numbers_that_cannot_be_exact_are_refused_never_rounded() {
        // 28 significant digits are held; 29 would be rounded.
        assert_eq!(
            Amount::parse("999999999999999999.9999999999 EUR").map(|a| a.number()),
            Ok(d("999999999999999999.9999999999"))
        );
        for text in [
            "100000000000000000.000000000001",
            "0.12345678901234567890123456789",
            "0.00000000000000000000000000001",
            "1.00000000000000000000000000001e3",
            "1234567890.12345678901234567891",
        ] {
            assert_eq!(
                Amount::parse(&format!("{text} EUR")),
                Err(AmountError::Inexact(text.into())),
                "{text}"
            );
        }
        // Trailing and leading zeros are not significant.
        assert_eq!(
            Amount::parse("000001000000000000000000.000000000000000000000000 EUR")
                .map(|a| a.number()),
            Ok(d("1000000000000000000"))
        );
        assert_eq!(
            Amount::parse("1e-28 EUR").map(|a| a.number()),
            Ok(d("0.0000000000000000000000000001"))
        );
        assert!(Amount::parse("1e-29 EUR").is_err());
        assert_eq!(
            Amount::parse("1e999 EUR"),
            Err(AmountError::OutOfRange("1e999".into()))
        );
        assert!(
            AmountError::Inexact("1e-40".into())
                .to_string()
                .contains("cannot be held exactly")
        );
    }

    #[test]
    fn sums_are_exact_or_none() {
        let max = d("1000000000000000000");
        assert_eq!(
            add_exact(max, d("0.0000000001")),
            Some(d("1000000000000000000.0000000001"))
        );
        assert_eq!(add_exact(max, d("0.0000000000000000000000000001")), None);
        assert_eq!(add_exact(Decimal::MAX, Decimal::ONE), None);
        assert_eq!(add_exact(d("0.5"), d("0.25")), Some(d("0.75")));
    }
}
