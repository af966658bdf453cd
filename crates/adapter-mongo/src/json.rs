//! Conversion between JSON values and BSON values, as the adapter stores
//! user attributes.
//!
//! JSON integers are stored as BSON int64 and JSON floats as BSON double, so
//! a value reads back with the same kind of number it was written with.
//! Reading also accepts int32, which the Node.js driver writes for integers
//! that fit in 32 bits. BSON values that have no JSON equivalent (dates,
//! ObjectIds, decimals, binary data, timestamps, regular expressions and
//! the rest) are read in MongoDB relaxed Extended JSON form, such as
//! `{"$date": "2024-01-01T00:00:00Z"}` or `{"$oid": "..."}`.

use bson::{Bson, Document};
use serde_json::{Map, Number, Value};

/// Converts a JSON value to the BSON value the adapter stores for it.
///
/// Integers become int64. An unsigned integer above `i64::MAX`, which
/// [`adapter_api::validate::attributes`] rejects before any write, becomes a
/// double because BSON has no unsigned 64-bit type.
pub fn json_to_bson(value: &Value) -> Bson {
    match value {
        Value::Null => Bson::Null,
        Value::Bool(flag) => Bson::Boolean(*flag),
        Value::Number(number) => number_to_bson(number),
        Value::String(text) => Bson::String(text.clone()),
        Value::Array(items) => Bson::Array(items.iter().map(json_to_bson).collect()),
        Value::Object(fields) => Bson::Document(object_to_document(fields)),
    }
}

/// Converts a JSON object to a BSON document, field by field.
pub fn object_to_document(fields: &Map<String, Value>) -> Document {
    fields
        .iter()
        .map(|(key, value)| (key.clone(), json_to_bson(value)))
        .collect()
}

fn number_to_bson(number: &Number) -> Bson {
    if let Some(integer) = number.as_i64() {
        Bson::Int64(integer)
    } else {
        // A float, or a u64 above i64::MAX that validation rejects.
        Bson::Double(number.as_f64().unwrap_or(f64::NAN))
    }
}

/// Converts a stored BSON value to JSON.
///
/// int32 and int64 become JSON integers and a finite double a JSON float
/// (`3.0` stays a float). A non-finite double and every BSON type without a
/// JSON equivalent become their relaxed Extended JSON form.
pub fn bson_to_json(value: &Bson) -> Value {
    match value {
        Bson::Null => Value::Null,
        Bson::Boolean(flag) => Value::Bool(*flag),
        Bson::Int32(integer) => Value::from(*integer),
        Bson::Int64(integer) => Value::from(*integer),
        Bson::Double(float) => match Number::from_f64(*float) {
            Some(number) => Value::Number(number),
            None => value.clone().into_relaxed_extjson(),
        },
        Bson::String(text) => Value::String(text.clone()),
        Bson::Array(items) => Value::Array(items.iter().map(bson_to_json).collect()),
        Bson::Document(fields) => Value::Object(document_to_object(fields)),
        other => other.clone().into_relaxed_extjson(),
    }
}

/// Converts a BSON document to a JSON object, field by field.
pub fn document_to_object(document: &Document) -> Map<String, Value> {
    document
        .iter()
        .map(|(key, value)| (key.clone(), bson_to_json(value)))
        .collect()
}

#[cfg(test)]
mod tests {
    use bson::oid::ObjectId;
    use bson::{DateTime, doc};
    use serde_json::json;

    use super::*;

    #[test]
    fn numbers_keep_their_kind() {
        assert_eq!(json_to_bson(&json!(7)), Bson::Int64(7));
        assert_eq!(json_to_bson(&json!(-7)), Bson::Int64(-7));
        assert_eq!(json_to_bson(&json!(7.0)), Bson::Double(7.0));
        assert_eq!(json_to_bson(&json!(i64::MIN)), Bson::Int64(i64::MIN));

        let float = bson_to_json(&Bson::Double(3.0));
        assert!(float.is_f64(), "{float}");
        assert_eq!(bson_to_json(&Bson::Int32(5)), json!(5));
        assert!(bson_to_json(&Bson::Int64(5)).is_i64());
    }

    #[test]
    fn nesting_round_trips() {
        let value = json!({"a": [1, 2.5, null, {"b": [true, "x"]}], "c": {}});
        assert_eq!(bson_to_json(&json_to_bson(&value)), value);
    }

    #[test]
    fn non_json_types_read_as_relaxed_extended_json() {
        let oid = ObjectId::parse_str("65a1b2c3d4e5f60718293a4b").unwrap();
        let stored = doc! {
            "oid": oid,
            "date": DateTime::from_millis(0),
            "nan": f64::NAN,
        };
        let read = Value::Object(document_to_object(&stored));
        assert_eq!(read["oid"], json!({"$oid": "65a1b2c3d4e5f60718293a4b"}));
        assert_eq!(read["date"], json!({"$date": "1970-01-01T00:00:00Z"}));
        assert_eq!(read["nan"], json!({"$numberDouble": "NaN"}));
    }
}
