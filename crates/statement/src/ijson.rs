//! I-JSON (RFC 7493), which RFC 8785 requires of what it canonicalises: JSON read into a
//! value refusing what I-JSON forbids instead of passing it on changed. A number must be an
//! integer within ±(2^53 - 1) (payload numbers are log indexes and versions; an integer
//! beyond is read differently by a reader that uses doubles) or a finite double; a member
//! name may occur once in an object (readers differ on which of two they keep).

use serde::Deserializer;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::StatementError;

/// The largest integer I-JSON holds exactly: 2^53 - 1.
pub const INT_MAX: u64 = (1 << 53) - 1;

/// Reads a JSON text into a value, refusing what I-JSON forbids.
pub fn parse(text: &str) -> Result<Value, StatementError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let v = value(&mut de).map_err(|e| StatementError::Malformed(e.to_string()))?;
    de.end()
        .map_err(|e| StatementError::Malformed(e.to_string()))?;
    Ok(v)
}

/// Deserializes a value, refusing what I-JSON forbids (for `deserialize_with`).
pub fn value<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    d.deserialize_any(Strict)
}

struct Strict;

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(Strict)
    }
}

fn beyond<E: de::Error>(n: impl std::fmt::Display) -> E {
    E::custom(format!(
        "the integer {n} is beyond ±(2^53-1) = ±{INT_MAX}: I-JSON (RFC 7493) numbers must be exact in every reader"
    ))
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an I-JSON value")
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        if n.unsigned_abs() > INT_MAX {
            return Err(beyond(n));
        }
        Ok(Value::Number(n.into()))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        if n > INT_MAX {
            return Err(beyond(n));
        }
        Ok(Value::Number(n.into()))
    }
    fn visit_f64<E: de::Error>(self, x: f64) -> Result<Value, E> {
        // A number with a fraction or exponent, read as the nearest double: refused when it is
        // not one (it would be signed as one number and shown as another).
        Number::from_f64(x)
            .map(Value::Number)
            .ok_or_else(|| E::custom(format!("the number {x} is not a finite double")))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(Strict)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Strict)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            if out.contains_key(&k) {
                return Err(de::Error::custom(format!(
                    "the member `{k}` occurs twice in one object (I-JSON, RFC 7493, allows it once)"
                )));
            }
            let v = map.next_value_seed(Strict)?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_beyond_2_53_and_repeated_members_are_refused() {
        assert_eq!(
            parse("[9007199254740991, -9007199254740991]"),
            Ok(serde_json::json!([INT_MAX, -9_007_199_254_740_991_i64]))
        );
        for bad in [
            "9007199254740992",
            "-9007199254740992",
            "[18446744073709551615]",
        ] {
            let e = parse(bad).map(|_| ()).unwrap_err().to_string();
            assert!(e.contains("is beyond ±(2^53-1)"), "{bad}: {e}");
        }
        let e = parse(r#"{"a":1,"b":{"c":1,"c":2}}"#)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(e.contains("the member `c` occurs twice"), "{e}");
        assert_eq!(parse("1.5"), Ok(serde_json::json!(1.5)));
        assert!(parse("1e400").is_err());
        assert!(parse("{} x").is_err());
    }
}
