//! The JSON Canonicalization Scheme (RFC 8785): one byte string per JSON
//! value, so that a signature over a document does not depend on how its
//! keys were ordered or its numbers written.
//!
//! Object keys are sorted by their UTF-16 code units, strings are escaped
//! as ECMAScript's `JSON.stringify` escapes them, and numbers are written
//! as ECMAScript writes an IEEE 754 double.

use crate::limits::JSON_DEPTH_MAX;
use serde_json::{Map, Number, Value};
use std::fmt::Write as _;

/// Why a value has no canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JcsError {
    /// Nested deeper than [`JSON_DEPTH_MAX`].
    #[error("the document nests deeper than {JSON_DEPTH_MAX} levels")]
    TooDeep,
    /// A number that is not a finite double.
    #[error("number {0} is not a finite IEEE 754 double")]
    BadNumber(String),
}

/// The canonical form of `value`.
pub fn canonicalize(value: &Value) -> Result<String, JcsError> {
    let mut out = String::new();
    write_value(&mut out, value, 0)?;
    Ok(out)
}

fn write_value(out: &mut String, value: &Value, depth: usize) -> Result<(), JcsError> {
    if depth > JSON_DEPTH_MAX {
        return Err(JcsError::TooDeep);
    }
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Value::Number(number) => write_number(out, number)?,
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_value(out, item, depth + 1)?;
            }
            out.push(']');
        }
        Value::Object(map) => write_object(out, map, depth)?,
    }
    Ok(())
}

fn write_object(out: &mut String, map: &Map<String, Value>, depth: usize) -> Result<(), JcsError> {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
    out.push('{');
    for (index, (key, item)) in entries.into_iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        write_string(out, key);
        out.push(':');
        write_value(out, item, depth + 1)?;
    }
    out.push('}');
    Ok(())
}

fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{9}' => out.push_str("\\t"),
            '\u{a}' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\u{d}' => out.push_str("\\r"),
            c if u32::from(c) < 0x20 => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Largest integer a double holds exactly: integers up to it are written
/// as integers, whatever their JSON type.
const SAFE_INTEGER_MAX: u64 = (1 << 53) - 1;

fn write_number(out: &mut String, number: &Number) -> Result<(), JcsError> {
    if let Some(n) = number.as_u64().filter(|n| *n <= SAFE_INTEGER_MAX) {
        let _ = write!(out, "{n}");
        return Ok(());
    }
    if let Some(n) = number
        .as_i64()
        .filter(|n| n.unsigned_abs() <= SAFE_INTEGER_MAX)
    {
        let _ = write!(out, "{n}");
        return Ok(());
    }
    let double = number
        .as_f64()
        .filter(|d| d.is_finite())
        .ok_or_else(|| JcsError::BadNumber(number.to_string()))?;
    out.push_str(&ecmascript_number(double));
    Ok(())
}

/// `Number.prototype.toString` of a finite double (ECMA-262, 7.1.12.1):
/// the shortest digits that round-trip, placed by the size of the
/// exponent.
pub fn ecmascript_number(value: f64) -> String {
    if value == 0.0 {
        return "0".into();
    }
    // Rust's `{:e}` writes the shortest round-trip digits, `d.ddde±x`.
    let scientific = format!("{:e}", value.abs());
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("`{:e}` always writes an exponent");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let exponent: i32 = exponent.parse().expect("`{:e}` writes a decimal exponent");
    let k = digits.len() as i32;
    // The value is 0.digits × 10^n.
    let n = exponent + 1;
    let mut out = String::new();
    if value < 0.0 {
        out.push('-');
    }
    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        out.push_str(&digits[..n as usize]);
        out.push('.');
        out.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-n) as usize));
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(
            out,
            "e{}{}",
            if n - 1 < 0 { '-' } else { '+' },
            (n - 1).abs()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_as_ecmascript_writes_them() {
        // From RFC 8785, appendix B, and ECMA-262's rules for the edges.
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-1.5, "-1.5"),
            (333333333.3333333, "333333333.3333333"),
            (1e30, "1e+30"),
            (4.5, "4.5"),
            (0.002, "0.002"),
            (1e-27, "1e-27"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (0.000001, "0.000001"),
            (0.0000001, "1e-7"),
            (9007199254740992.0, "9007199254740992"),
            (295147905179352830000.0, "295147905179352830000"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (-1.2345e-10, "-1.2345e-10"),
            (123456789012345680000.0, "123456789012345680000"),
        ];
        for (value, expected) in cases {
            assert_eq!(ecmascript_number(*value), *expected, "{value:e}");
        }
    }

    #[test]
    fn keys_sort_by_utf16_code_units_not_by_code_points() {
        // U+1F602 is D83D DE02 in UTF-16, so it sorts before U+FB33.
        let value: Value = serde_json::from_str(r#"{"\ufb33":1,"\ud83d\ude02":2,"a":3}"#).unwrap();
        assert_eq!(
            canonicalize(&value).unwrap(),
            "{\"a\":3,\"\u{1F602}\":2,\"\u{FB33}\":1}"
        );
    }

    #[test]
    fn depth_is_bounded() {
        let mut value = Value::Null;
        for _ in 0..=JSON_DEPTH_MAX + 1 {
            value = Value::Array(vec![value]);
        }
        assert_eq!(canonicalize(&value), Err(JcsError::TooDeep));
    }
}
