//! Whole numbers in JSON bodies. JSON has one number type: `7` and `7.0` are the same
//! integer to JSON Schema (what `/api/openapi.json` promises), so a body field documented
//! as an integer accepts both; `7.5`, `-1` and anything past the target type are refused.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A JSON value as a whole number of `T` (`None`: not one).
pub fn of<T: TryFrom<u64>>(v: &Value) -> Option<T> {
    let n = match v {
        Value::Number(n) => n,
        _ => return None,
    };
    let whole = match (n.as_u64(), n.as_f64()) {
        (Some(u), _) => u,
        // Below 2^64 (the largest f64 under u64::MAX + 1), so the cast is exact.
        (None, Some(f)) if f.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&f) => f as u64,
        _ => return None,
    };
    T::try_from(whole).ok()
}

/// `#[serde(deserialize_with = "whole::number")]` for a required field.
pub fn number<'de, D: Deserializer<'de>, T: TryFrom<u64>>(d: D) -> Result<T, D::Error> {
    let v = Value::deserialize(d)?;
    of(&v).ok_or_else(|| serde::de::Error::custom(format!("expected a whole number, got {v}")))
}

/// `#[serde(default, deserialize_with = "whole::optional")]` for an optional field (`null`
/// is absent).
pub fn optional<'de, D: Deserializer<'de>, T: TryFrom<u64>>(d: D) -> Result<Option<T>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        v => of(&v)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("expected a whole number, got {v}"))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn integral_floats_are_whole_numbers_and_the_rest_is_not() {
        assert_eq!(of::<u32>(&json!(725)), Some(725));
        assert_eq!(of::<u32>(&json!(725.0)), Some(725));
        assert_eq!(of::<u32>(&json!(7.5)), None);
        assert_eq!(of::<u32>(&json!(-1)), None);
        assert_eq!(of::<u32>(&json!(-0.0)), Some(0));
        assert_eq!(of::<u32>(&json!(4_294_967_296u64)), None);
        assert_eq!(of::<u64>(&json!(1e300)), None);
        assert_eq!(of::<u32>(&json!("7")), None);
        assert_eq!(of::<u32>(&json!(null)), None);
    }

    #[derive(Deserialize)]
    struct Body {
        #[serde(deserialize_with = "number")]
        n: u64,
        #[serde(default, deserialize_with = "optional")]
        m: Option<u32>,
    }

    #[test]
    fn fields_take_whole_numbers() {
        let b: Body = serde_json::from_value(json!({"n": 3.0, "m": 725.0})).unwrap();
        assert_eq!((b.n, b.m), (3, Some(725)));
        let b: Body = serde_json::from_value(json!({"n": 3})).unwrap();
        assert_eq!(b.m, None);
        let b: Body = serde_json::from_value(json!({"n": 3, "m": null})).unwrap();
        assert_eq!(b.m, None);
        assert!(serde_json::from_value::<Body>(json!({"n": 3.5})).is_err());
        assert!(serde_json::from_value::<Body>(json!({"n": 1, "m": "2"})).is_err());
    }
}
