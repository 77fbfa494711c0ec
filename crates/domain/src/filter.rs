//! The values list filters are made of, parsed and checked once here so that every list
//! (orders, consumption records, recharges) refuses the same bad input the same way.

use chrono::{DateTime, TimeZone, Utc};

use crate::error::{Error, Result};

/// A range of times, `start` included and `end` excluded, either side open when absent:
/// consecutive ranges (a day, the next day) never both hold a row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeRange {
    /// The first instant in the range.
    pub start: Option<DateTime<Utc>>,
    /// The first instant after the range.
    pub end: Option<DateTime<Utc>>,
}

impl TimeRange {
    /// Parses `start_time` and `end_time`: RFC 3339 times (any offset; stored and compared in
    /// UTC) from 1970 to 9999. In a query string a `+` reads as a space, so a space before
    /// the offset is taken as the `+` it was. Errors: `InvalidParameter` when a time does
    /// not parse or the end comes before the start.
    pub fn parse(start: Option<&str>, end: Option<&str>) -> Result<Self> {
        let range = Self {
            start: start.map(|text| time("start_time", text)).transpose()?,
            end: end.map(|text| time("end_time", text)).transpose()?,
        };
        match (range.start, range.end) {
            (Some(start), Some(end)) if end < start => {
                Err(Error::invalid("end_time must not be before start_time"))
            }
            _ => Ok(range),
        }
    }

    /// Whether the range takes every time.
    pub fn is_open(&self) -> bool {
        self.start.is_none() && self.end.is_none()
    }

    /// Whether `time` is in the range.
    pub fn contains(&self, time: &DateTime<Utc>) -> bool {
        self.start.is_none_or(|start| start <= *time) && self.end.is_none_or(|end| *time < end)
    }
}

/// One RFC 3339 time of a filter, from 1970 to 9999.
fn time(name: &str, text: &str) -> Result<DateTime<Utc>> {
    let invalid = || {
        Error::invalid(format!(
            "{name} must be an RFC 3339 time from 1970 to 9999, e.g. 2026-12-01T00:00:00Z \
             (got {text:?})"
        ))
    };
    let parsed = DateTime::parse_from_rfc3339(text).or_else(|first| match text.rfind(' ') {
        // The date and time may be separated by a space too; only a space after the
        // time's digits stands for an offset's `+`.
        Some(at) if at > 10 => {
            DateTime::parse_from_rfc3339(&format!("{}+{}", &text[..at], &text[at + 1..]))
        }
        _ => Err(first),
    });
    let utc = parsed.map_err(|_| invalid())?.with_timezone(&Utc);
    let earliest = Utc.timestamp_opt(0, 0).single().ok_or_else(invalid)?;
    let latest = Utc
        .with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
        .single()
        .ok_or_else(invalid)?;
    if utc < earliest || utc > latest {
        return Err(invalid());
    }
    Ok(utc)
}

/// What a console's search box sends (`search_word`): matched as a prefix of ids and
/// names, every character taken literally (`%` and `_` included), case-sensitively as ids
/// are. Surrounding white space is dropped; 1 to 64 characters remain, none a control.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchWord(String);

impl SearchWord {
    /// The longest word accepted, in characters.
    pub const MAX_CHARS: usize = 64;

    /// Parses a `search_word`. Errors: `InvalidParameter` for an empty or blank word, one
    /// longer than [`SearchWord::MAX_CHARS`] characters, or one with a control character.
    pub fn parse(text: &str) -> Result<Self> {
        let word = text.trim();
        if word.is_empty() {
            return Err(Error::invalid("search_word must not be empty"));
        }
        if word.chars().count() > Self::MAX_CHARS {
            return Err(Error::invalid(format!(
                "search_word must be at most {} characters",
                Self::MAX_CHARS
            )));
        }
        if word.chars().any(char::is_control) {
            return Err(Error::invalid(
                "search_word must not contain control characters",
            ));
        }
        Ok(Self(word.to_owned()))
    }

    /// The word.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `text` starts with the word.
    pub fn prefixes(&self, text: &str) -> bool {
        text.starts_with(&self.0)
    }

    /// The least string after every string the word prefixes, in code point order (the
    /// order of the stores' binary collations): the strings starting with the word are
    /// exactly those from the word up to, not including, this one. The last character
    /// that can be is moved to the next code point; `None` when every character is the
    /// last one (no upper bound).
    pub fn upper_bound(&self) -> Option<String> {
        let mut chars: Vec<char> = self.0.chars().collect();
        while let Some(last) = chars.pop() {
            let next = match last {
                '\u{D7FF}' => Some('\u{E000}'),
                other => char::from_u32(u32::from(other) + 1),
            };
            if let Some(next) = next {
                chars.push(next);
                return Some(chars.into_iter().collect());
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_range_parses_rfc3339_with_any_offset_into_utc() {
        let range = TimeRange::parse(
            Some("2026-12-01T08:00:00+08:00"),
            Some("2026-12-02T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(range.start, Some(at("2026-12-01T00:00:00Z")));
        assert_eq!(range.end, Some(at("2026-12-02T00:00:00Z")));
    }

    #[test]
    fn a_plus_read_as_a_space_is_taken_as_the_plus() {
        let range = TimeRange::parse(Some("2026-12-01T08:00:00 08:00"), None).unwrap();
        assert_eq!(range.start, Some(at("2026-12-01T00:00:00Z")));
        let range = TimeRange::parse(Some("2026-12-01 08:00:00 08:00"), None).unwrap();
        assert_eq!(range.start, Some(at("2026-12-01T00:00:00Z")));
    }

    #[test]
    fn start_is_included_and_end_excluded() {
        let range =
            TimeRange::parse(Some("2026-12-01T00:00:00Z"), Some("2026-12-02T00:00:00Z")).unwrap();
        assert!(range.contains(&at("2026-12-01T00:00:00Z")));
        assert!(range.contains(&at("2026-12-01T23:59:59.999999Z")));
        assert!(!range.contains(&at("2026-12-02T00:00:00Z")));
        assert!(!range.contains(&at("2026-11-30T23:59:59.999999Z")));
        assert!(TimeRange::default().contains(&at("1970-01-01T00:00:00Z")));
        assert!(TimeRange::default().is_open());
        assert!(!range.is_open());
    }

    #[test]
    fn an_empty_range_is_allowed_an_inverted_one_is_not() {
        let same =
            TimeRange::parse(Some("2026-12-01T00:00:00Z"), Some("2026-12-01T00:00:00Z")).unwrap();
        assert!(!same.contains(&at("2026-12-01T00:00:00Z")));
        assert_eq!(
            TimeRange::parse(Some("2026-12-02T00:00:00Z"), Some("2026-12-01T00:00:00Z")),
            Err(Error::invalid("end_time must not be before start_time"))
        );
    }

    #[test]
    fn times_that_are_not_rfc3339_or_out_of_range_are_refused_naming_the_parameter() {
        for text in [
            "",
            "2026-12-01",
            "2026-12-01T00:00:00",
            "yesterday",
            "1700000000",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "1969-12-31T23:59:59Z",
            " 2026-12-01T00:00:00Z",
        ] {
            let error = TimeRange::parse(None, Some(text)).unwrap_err();
            assert!(
                error
                    .to_string()
                    .contains("end_time must be an RFC 3339 time"),
                "{text:?}: {error}"
            );
        }
        assert!(TimeRange::parse(Some("2028-02-29T00:00:00Z"), None).is_ok());
        assert!(TimeRange::parse(Some("1970-01-01T00:00:00Z"), None).is_ok());
        assert!(TimeRange::parse(Some("9999-12-31T23:59:59Z"), None).is_ok());
    }

    #[test]
    fn a_search_word_is_trimmed_and_bounded() {
        assert_eq!(SearchWord::parse("  pg-data ").unwrap().as_str(), "pg-data");
        assert_eq!(
            SearchWord::parse("   "),
            Err(Error::invalid("search_word must not be empty"))
        );
        assert!(SearchWord::parse(&"数".repeat(64)).is_ok());
        assert_eq!(
            SearchWord::parse(&"a".repeat(65)),
            Err(Error::invalid("search_word must be at most 64 characters"))
        );
        assert!(SearchWord::parse("a\u{0}b").is_err());
    }

    #[test]
    fn the_upper_bound_closes_exactly_the_strings_with_the_prefix() {
        let word = SearchWord::parse("pg_").unwrap();
        let bound = word.upper_bound().unwrap();
        assert_eq!(bound, "pg`");
        for (text, inside) in [
            ("pg_", true),
            ("pg_data", true),
            ("pg_\u{10FFFF}", true),
            ("pg", false),
            ("pga", false),
            ("pgX", false),
            ("pg`", false),
        ] {
            let in_range = text >= word.as_str() && text < bound.as_str();
            assert_eq!(in_range, inside, "{text:?}");
            assert_eq!(word.prefixes(text), inside, "{text:?}");
        }
    }

    #[test]
    fn the_upper_bound_steps_over_surrogates_and_the_last_code_point() {
        let bound = |text: &str| SearchWord::parse(text).unwrap().upper_bound();
        assert_eq!(bound("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(bound("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(bound("\u{10FFFF}\u{10FFFF}"), None);
        assert_eq!(bound("数据").as_deref(), Some("数捯"));
    }
}
