//! Time parsing and formatting shared by every layer.
//!
//! Three textual forms matter: what users type (`--start-time`), what CloudTrail
//! writes inside digests (`YYYY-MM-DDTHH:MM:SSZ`) and what it writes into object
//! keys (`YYYYMMDDTHHMMSSZ`). Keeping them in one place makes the AWS CLI's
//! display format (which scripts parse) impossible to drift.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// A point in time, always UTC: CloudTrail never writes anything else.
pub type Timestamp = DateTime<Utc>;

/// Why a user-supplied time could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "Unable to parse date value: {0} (accepted: 2026-03-01T00:00:00Z, 2026-03-01T02:00:00+02:00, \
     2026-03-01 or 20260301 for midnight, epoch seconds; a time without a zone is taken as UTC)"
)]
pub struct TimeParseError(pub String);

/// Parses a time typed by a user.
///
/// Accepts RFC 3339 (offsets are converted to UTC, unlike the AWS CLI which
/// silently relabels the wall-clock time as UTC), a naive `YYYY-MM-DDTHH:MM:SS`
/// (taken as UTC), a plain `YYYY-MM-DD` (midnight UTC), the compact key form
/// `YYYYMMDDTHHMMSSZ`, and whole epoch seconds.
pub fn parse_user_time(input: &str) -> Result<Timestamp, TimeParseError> {
    let s = input.trim();
    let err = || TimeParseError(input.to_string());
    if s.is_empty() {
        return Err(err());
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    // RFC 3339 with a space instead of `T`.
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%:z") {
        return Ok(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y%m%dT%H%M%SZ",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(Utc.from_utc_datetime(&t));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d
            .and_hms_opt(0, 0, 0)
            .map(|t| Utc.from_utc_datetime(&t))
            .ok_or_else(err);
    }
    // Eight digits are a date (`20260301`), never seconds of 1970; a date
    // that does not exist is an error, not a number.
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::parse_from_str(s, "%Y%m%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| Utc.from_utc_datetime(&t))
            .ok_or_else(err);
    }
    if s.bytes().all(|b| b.is_ascii_digit()) && s.len() <= 12 {
        if let Ok(secs) = s.parse::<i64>() {
            return Utc.timestamp_opt(secs, 0).single().ok_or_else(err);
        }
    }
    Err(err())
}

/// Parses a time exactly as CloudTrail writes it in digest files; anything
/// else is a format error in the digest, not something to be lenient about.
pub(crate) fn parse_digest_time(s: &str) -> Option<Timestamp> {
    if s.len() != 20 || !s.ends_with('Z') {
        return None;
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%SZ")
        .ok()
        .map(|t| Utc.from_utc_datetime(&t))
}

/// The display form used by the AWS CLI and by our reports.
pub fn display(t: Timestamp) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The compact form CloudTrail uses in digest keys (`YYYYMMDDTHHMMSSZ`).
pub(crate) fn key_stamp(t: Timestamp) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Parses the compact key form, seconds optional (log keys carry minutes only).
pub(crate) fn parse_key_stamp(s: &str) -> Option<Timestamp> {
    let fmt = match s.len() {
        16 => "%Y%m%dT%H%M%SZ",
        14 => "%Y%m%dT%H%MZ",
        _ => return None,
    };
    if !s.is_ascii() {
        return None;
    }
    let (text, fmt) = if s.len() == 14 {
        // chrono needs seconds; append them.
        (format!("{}00Z", &s[..13]), "%Y%m%dT%H%M%SZ")
    } else {
        (s.to_string(), fmt)
    };
    NaiveDateTime::parse_from_str(&text, fmt)
        .ok()
        .map(|t| Utc.from_utc_datetime(&t))
}

/// Parses a time from a public-keys file: RFC 3339 text or epoch seconds
/// (the AWS CLI prints the latter, the console and SDK docs the former).
pub(crate) fn parse_json_time(v: &serde_json::Value) -> Option<Timestamp> {
    match v {
        serde_json::Value::String(s) => parse_user_time(s).ok(),
        serde_json::Value::Number(n) => {
            let secs = n.as_f64()?;
            if !secs.is_finite() || secs.abs() > 1e13 {
                return None;
            }
            let whole = secs.floor();
            let nanos = ((secs - whole) * 1e9).round().clamp(0.0, 999_999_999.0) as u32;
            Utc.timestamp_opt(whole as i64, nanos).single()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_digits_are_a_date_never_1970() {
        let d = parse_user_time("20260301").unwrap();
        assert_eq!(display(d), "2026-03-01T00:00:00Z");
        assert!(parse_user_time("20261301").is_err());
        assert!(
            parse_user_time("1700000000").is_ok(),
            "epoch seconds still read"
        );
    }

    fn t(s: &str) -> Timestamp {
        parse_user_time(s).unwrap()
    }

    #[test]
    fn user_times_in_every_accepted_form() {
        assert_eq!(display(t("2026-03-01T00:00:00Z")), "2026-03-01T00:00:00Z");
        assert_eq!(display(t("2026-03-01")), "2026-03-01T00:00:00Z");
        assert_eq!(
            display(t("2026-03-01T05:30:00+05:00")),
            "2026-03-01T00:30:00Z"
        );
        assert_eq!(display(t("2026-03-01T05:30:00")), "2026-03-01T05:30:00Z");
        assert_eq!(display(t("20160129T190000Z")), "2016-01-29T19:00:00Z");
        assert_eq!(display(t("1440000000")), "2015-08-19T16:00:00Z");
    }

    #[test]
    fn garbage_times_are_rejected_with_the_cli_message() {
        let e = parse_user_time("foo").unwrap_err();
        assert!(e
            .to_string()
            .starts_with("Unable to parse date value: foo (accepted: "));
        assert!(parse_user_time("").is_err());
        assert!(parse_user_time("2026-13-01").is_err());
    }

    #[test]
    fn digest_times_are_strict() {
        assert!(parse_digest_time("2020-09-11T18:36:49Z").is_some());
        assert!(parse_digest_time("2020-09-11T18:36:49").is_none());
        assert!(parse_digest_time("2020-09-11T18:36:49+00:00").is_none());
        assert!(parse_digest_time("2020-09-11 18:36:49Z").is_none());
    }

    #[test]
    fn key_stamps_round_trip() {
        let x = t("2015-08-21T00:00:00Z");
        assert_eq!(key_stamp(x), "20150821T000000Z");
        assert_eq!(parse_key_stamp("20150821T000000Z"), Some(x));
        assert_eq!(parse_key_stamp("20150821T0000Z"), Some(x));
        assert_eq!(parse_key_stamp("2015082XT0000Z"), None);
        assert_eq!(parse_key_stamp("é015082XT0000Z"), None);
    }

    #[test]
    fn json_times_accept_epoch_and_text() {
        let v = serde_json::json!(1525040524.0);
        assert_eq!(
            display(parse_json_time(&v).unwrap()),
            "2018-04-29T22:22:04Z"
        );
        let v = serde_json::json!("2018-04-29T22:22:04Z");
        assert_eq!(
            display(parse_json_time(&v).unwrap()),
            "2018-04-29T22:22:04Z"
        );
        assert!(parse_json_time(&serde_json::json!(true)).is_none());
        assert!(parse_json_time(&serde_json::json!(1e300)).is_none());
    }
}
