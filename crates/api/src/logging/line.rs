//! One log record as one line: text for people (`[time LEVEL target] message key=value …`)
//! or one JSON object for log collectors. Both carry the record's key-value fields and the
//! request id the record was written under.

use std::io::{self, Write};

use chrono::{DateTime, SecondsFormat, Utc};
use log::kv::{self, Key, Value, VisitSource, VisitValue};
use log::Record;
use serde::ser::{Serialize, Serializer};
use serde_json::Value as Json;

/// Top-level names of a JSON line; a field of the same name is written as `field.<name>`.
const RESERVED: [&str; 5] = ["time", "level", "target", "message", "request_id"];

/// `[2026-12-06T05:23:12.908553Z INFO  target] message key=value … request_id=…`.
/// A string field is written as it is, a null one is left out.
pub fn text(
    out: &mut dyn Write,
    time: DateTime<Utc>,
    record: &Record<'_>,
    request_id: Option<&str>,
) -> io::Result<()> {
    write!(
        out,
        "[{} {:<5} {}] {}",
        timestamp(time),
        record.level(),
        record.target(),
        record.args()
    )?;
    for (key, value) in fields(record) {
        match value {
            Json::Null => {}
            Json::String(text) => write!(out, " {key}={text}")?,
            other => write!(out, " {key}={other}")?,
        }
    }
    if let Some(id) = request_id {
        write!(out, " request_id={id}")?;
    }
    writeln!(out)
}

/// `{"time":…,"level":…,"target":…,"message":…,"request_id":…,<fields>}` and a newline.
/// `request_id` is left out when there is none. serde_json writes every string, so quotes,
/// control characters and newlines in a message are escaped and the line stays one line.
pub fn json(
    out: &mut dyn Write,
    time: DateTime<Utc>,
    record: &Record<'_>,
    request_id: Option<&str>,
) -> io::Result<()> {
    let line = JsonLine {
        time: timestamp(time),
        level: record.level().as_str(),
        target: record.target(),
        message: record.args().to_string(),
        request_id,
        fields: Fields(fields(record)),
    };
    serde_json::to_writer(&mut *out, &line)?;
    writeln!(out)
}

/// RFC 3339 in UTC, to the microsecond.
fn timestamp(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[derive(serde::Serialize)]
struct JsonLine<'a> {
    time: String,
    level: &'a str,
    target: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
    #[serde(flatten)]
    fields: Fields,
}

/// The record's fields in the order they were written.
struct Fields(Vec<(String, Json)>);

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(key, value)| (key, value)))
    }
}

/// The record's key-value fields as JSON values, names clear of [`RESERVED`].
fn fields(record: &Record<'_>) -> Vec<(String, Json)> {
    let mut collected = Collect(Vec::new());
    // Visiting a record's own fields cannot fail: `Collect` never refuses a pair.
    let _ = record.key_values().visit(&mut collected);
    collected.0
}

struct Collect(Vec<(String, Json)>);

impl<'kvs> VisitSource<'kvs> for Collect {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), kv::Error> {
        let key = key.as_str();
        let key = if RESERVED.contains(&key) {
            format!("field.{key}")
        } else {
            key.to_owned()
        };
        self.0.push((key, to_json(&value)));
        Ok(())
    }
}

/// Numbers, booleans, strings and nulls as such; anything else by its `Display`.
fn to_json(value: &Value<'_>) -> Json {
    let mut visitor = ToJson(None);
    match value.visit(&mut visitor) {
        Ok(()) => visitor.0.unwrap_or(Json::Null),
        Err(_) => Json::String(value.to_string()),
    }
}

struct ToJson(Option<Json>);

impl<'v> VisitValue<'v> for ToJson {
    fn visit_any(&mut self, value: Value<'_>) -> Result<(), kv::Error> {
        self.0 = Some(Json::String(value.to_string()));
        Ok(())
    }

    fn visit_null(&mut self) -> Result<(), kv::Error> {
        self.0 = Some(Json::Null);
        Ok(())
    }

    fn visit_u64(&mut self, value: u64) -> Result<(), kv::Error> {
        self.0 = Some(Json::from(value));
        Ok(())
    }

    fn visit_i64(&mut self, value: i64) -> Result<(), kv::Error> {
        self.0 = Some(Json::from(value));
        Ok(())
    }

    fn visit_u128(&mut self, value: u128) -> Result<(), kv::Error> {
        self.0 = Some(u64::try_from(value).map_or_else(|_| value.to_string().into(), Json::from));
        Ok(())
    }

    fn visit_i128(&mut self, value: i128) -> Result<(), kv::Error> {
        self.0 = Some(i64::try_from(value).map_or_else(|_| value.to_string().into(), Json::from));
        Ok(())
    }

    /// NaN and the infinities have no JSON number: they are written as strings.
    fn visit_f64(&mut self, value: f64) -> Result<(), kv::Error> {
        self.0 = Some(
            serde_json::Number::from_f64(value)
                .map_or_else(|| Json::String(value.to_string()), Json::Number),
        );
        Ok(())
    }

    fn visit_bool(&mut self, value: bool) -> Result<(), kv::Error> {
        self.0 = Some(Json::Bool(value));
        Ok(())
    }

    fn visit_str(&mut self, value: &str) -> Result<(), kv::Error> {
        self.0 = Some(Json::String(value.to_owned()));
        Ok(())
    }

    fn visit_char(&mut self, value: char) -> Result<(), kv::Error> {
        self.0 = Some(Json::String(value.to_string()));
        Ok(())
    }

    fn visit_error(&mut self, error: &(dyn std::error::Error + 'static)) -> Result<(), kv::Error> {
        self.0 = Some(Json::String(error.to_string()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use chrono::TimeZone;
    use log::Level;
    use serde_json::json;

    use super::*;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 5, 23, 12).unwrap()
            + chrono::TimeDelta::microseconds(908_553)
    }

    /// The JSON line of a record with `message` and `fields`, parsed back.
    fn json_of(message: &str, fields: &[(&str, Value<'_>)], request_id: Option<&str>) -> Json {
        let mut out = Vec::new();
        json(
            &mut out,
            at(),
            &Record::builder()
                .level(Level::Info)
                .target("domain::usecases::create_order")
                .args(format_args!("{message}"))
                .key_values(&fields)
                .build(),
            request_id,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with('\n'), "{text:?}");
        assert_eq!(text.matches('\n').count(), 1, "one line: {text:?}");
        serde_json::from_str(&text).unwrap()
    }

    fn text_of(message: &str, fields: &[(&str, Value<'_>)], request_id: Option<&str>) -> String {
        let mut out = Vec::new();
        text(
            &mut out,
            at(),
            &Record::builder()
                .level(Level::Warn)
                .target("api::startup")
                .args(format_args!("{message}"))
                .key_values(&fields)
                .build(),
            request_id,
        )
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_json_line_has_time_level_target_message_and_request_id() {
        let line = json_of("order o1: consuming", &[], Some("req-1"));
        assert_eq!(
            line,
            json!({
                "time": "2026-12-06T05:23:12.908553Z",
                "level": "INFO",
                "target": "domain::usecases::create_order",
                "message": "order o1: consuming",
                "request_id": "req-1",
            })
        );
    }

    #[test]
    fn a_json_line_without_a_request_leaves_the_id_out() {
        let line = json_of("renewal: nothing due", &[], None);
        assert!(line.get("request_id").is_none(), "{line}");
    }

    #[test]
    fn quotes_newlines_control_characters_and_unicode_stay_one_valid_json_line() {
        let message = "said \"no\"\nthen \\ left\ttab \u{1b}[31m é 你好 🦀";
        let line = json_of(
            message,
            &[("why", Value::from("a \"quoted\"\nreason"))],
            None,
        );
        assert_eq!(line["message"], message);
        assert_eq!(line["why"], "a \"quoted\"\nreason");
    }

    #[test]
    fn fields_keep_their_json_types() {
        let line = json_of(
            "POST /orders 201",
            &[
                ("status", Value::from(201u16)),
                ("delta", Value::from(-3i64)),
                ("duration_ms", Value::from(1.25f64)),
                ("cached", Value::from(false)),
                ("route", Value::from("/usageapi/v1/orders")),
                ("bytes", Value::from_display(&"498")),
                ("missing", Value::null()),
                ("nan", Value::from(f64::NAN)),
            ],
            None,
        );
        assert_eq!(line["status"], 201);
        assert_eq!(line["delta"], -3);
        assert_eq!(line["duration_ms"], 1.25);
        assert_eq!(line["cached"], false);
        assert_eq!(line["route"], "/usageapi/v1/orders");
        assert_eq!(line["bytes"], "498");
        assert_eq!(line["missing"], Json::Null);
        assert_eq!(line["nan"], "NaN");
    }

    #[test]
    fn a_field_named_like_a_top_level_key_does_not_replace_it() {
        let line = json_of(
            "the message",
            &[
                ("message", Value::from("a field")),
                ("level", Value::from(9u8)),
            ],
            Some("req-1"),
        );
        assert_eq!(line["message"], "the message");
        assert_eq!(line["field.message"], "a field");
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["field.level"], 9);
    }

    #[test]
    fn a_text_line_ends_with_its_fields_and_request_id() {
        let line = text_of(
            "POST /usageapi/v1/orders 201",
            &[
                ("status", Value::from(201u16)),
                ("route", Value::from("/usageapi/v1/orders")),
                ("query", Value::null()),
            ],
            Some("4a1f"),
        );
        assert_eq!(
            line,
            "[2026-12-06T05:23:12.908553Z WARN  api::startup] POST /usageapi/v1/orders 201 \
             status=201 route=/usageapi/v1/orders request_id=4a1f\n"
        );
    }

    #[test]
    fn a_text_line_without_a_request_has_no_id() {
        assert_eq!(
            text_of("listening", &[], None),
            "[2026-12-06T05:23:12.908553Z WARN  api::startup] listening\n"
        );
    }
}
