//! Watches a log file's inflated bytes, as they stream past the hasher, for
//! the records the run reads from verified logs: the trail's lifecycle and
//! coverage calls ([`TRAIL_CALLS`]) and the calls on its bucket and key
//! ([`crate::verify::bucket_calls::watched`]). A hit only says "parse this
//! file once it is verified". One SIMD search for the `"eventName"` key,
//! then a look at the few bytes after each: one pass however many names,
//! and an exact name, so the common reads (GetTrail, GetBucketPolicy) cost
//! no parse. It relies on what CloudTrail writes: compact JSON whose event
//! names carry no escapes (only CloudTrail's own bytes, verified, are
//! parsed); whitespace around the colon is allowed all the same.

use memchr::memmem::Finder;
use std::sync::LazyLock;

/// The trail's calls the lifecycle records and the coverage changes are
/// read from (`verify::lifecycle`, `verify::selectors`).
pub const TRAIL_CALLS: [&str; 7] = [
    "StopLogging",
    "StartLogging",
    "UpdateTrail",
    "DeleteTrail",
    "CreateTrail",
    "PutEventSelectors",
    "PutInsightSelectors",
];

const KEY: &[u8] = b"\"eventName\"";
/// The longest name looked at (longer is none of ours).
const MAX_NAME: usize = 64;
/// Bytes from the key's start to the end of its longest value (with room
/// for whitespace): what a chunk's seam must keep.
const SPAN: usize = KEY.len() + 8 + MAX_NAME + 1;

static FINDER: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(KEY));

/// Which watched group a name is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Trail,
    Bucket,
}

fn group(name: &[u8]) -> Option<Group> {
    let is = |n: &&str| n.as_bytes() == name;
    if TRAIL_CALLS.iter().any(is) {
        Some(Group::Trail)
    } else if crate::verify::bucket_calls::watched(name) {
        Some(Group::Bucket)
    } else {
        None
    }
}

/// The event name after a `"eventName"` key at the start of `at`, if it
/// is all there.
fn name_after(at: &[u8]) -> Option<&[u8]> {
    let rest = at.get(KEY.len()..)?;
    let rest = rest.trim_ascii_start().strip_prefix(b":")?;
    let rest = rest.trim_ascii_start().strip_prefix(b"\"")?;
    let end = rest.iter().take(MAX_NAME + 1).position(|&b| b == b'"')?;
    Some(&rest[..end])
}

#[derive(Debug, Default)]
pub struct RecordWatch {
    /// The last bytes of the previous chunk, so a record split across
    /// chunks is seen.
    tail: Vec<u8>,
    /// A lifecycle or coverage call: the gap proof needs the file read.
    pub hit: bool,
    /// A call on the trail's bucket or key: the story wants the file read.
    pub bucket_hit: bool,
    /// Keep every file's bytes for parsing, hit or not.
    pub keep_all: bool,
}

impl RecordWatch {
    pub fn new() -> RecordWatch {
        RecordWatch::default()
    }

    /// The file's bytes are wanted after hashing: it named a watched call,
    /// or every file is.
    pub fn keeps(&self) -> bool {
        self.hit || self.bucket_hit || self.keep_all
    }

    /// A watch that keeps every file when `all` (`--cross-check-events`
    /// parses every verified file for its event IDs).
    pub(crate) fn watching(all: bool) -> RecordWatch {
        RecordWatch {
            keep_all: all,
            ..RecordWatch::default()
        }
    }

    fn scan(&mut self, bytes: &[u8]) {
        for at in FINDER.find_iter(bytes) {
            match name_after(&bytes[at..]).and_then(group) {
                Some(Group::Trail) => self.hit = true,
                Some(Group::Bucket) => self.bucket_hit = true,
                None => {}
            }
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        if self.hit && self.bucket_hit {
            return;
        }
        // Across the seam: the previous chunk's tail and this chunk's head.
        self.tail.extend_from_slice(&chunk[..chunk.len().min(SPAN)]);
        let seam = std::mem::take(&mut self.tail);
        self.scan(&seam);
        self.scan(chunk);
        self.tail = seam;
        if chunk.len() >= SPAN {
            self.tail.clear();
            self.tail.extend_from_slice(&chunk[chunk.len() - SPAN..]);
        } else {
            let excess = self.tail.len().saturating_sub(SPAN);
            self.tail.drain(..excess);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watched(text: &[u8], piece: usize) -> RecordWatch {
        let mut w = RecordWatch::new();
        for p in text.chunks(piece) {
            w.feed(p);
        }
        w
    }

    #[test]
    fn watch_sees_names_split_across_chunks() {
        let text = b"xxxxxxxxxxxx{\"eventName\":\"StopLogging\"}yyyy";
        for cut in 0..text.len() {
            let mut w = RecordWatch::new();
            let (a, b) = text.split_at(cut);
            for piece in a.chunks(3).chain(b.chunks(5)) {
                w.feed(piece);
            }
            assert!(w.hit, "cut at {cut}");
        }
        let w = watched(b"{\"eventName\":\"GetTrail\",\"x\":\"StopLogging\"}", 7);
        assert!(!w.hit, "a name elsewhere is no call");
        let w = watched(b"{\"eventName\" : \"UpdateTrail\"}", 4);
        assert!(w.hit);
    }

    /// Every CloudTrail API call the proof's parsers read a record of is
    /// one the watch sees: a call the parsers take and the watch misses
    /// would never be read from a verified log.
    #[test]
    fn every_call_the_parsers_read_is_watched() {
        use crate::verify::arn::TrailArn;
        let arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/main";
        let trail = TrailArn::parse(arn).unwrap();
        let apis = [
            "AddTags",
            "CreateEventDataStore",
            "CreateTrail",
            "DeleteEventDataStore",
            "DeleteResourcePolicy",
            "DeleteTrail",
            "PutEventSelectors",
            "PutInsightSelectors",
            "PutResourcePolicy",
            "RemoveTags",
            "StartLogging",
            "StopLogging",
            "UpdateEventDataStore",
            "UpdateTrail",
            "StartEventDataStoreIngestion",
            "StopEventDataStoreIngestion",
            "RegisterOrganizationDelegatedAdmin",
        ];
        for name in apis {
            let record = serde_json::json!({
                "eventSource": "cloudtrail.amazonaws.com", "eventName": name,
                "eventTime": "2026-03-01T00:00:00Z", "awsRegion": "us-east-1",
                "recipientAccountId": "123456789012",
                "requestParameters": {"name": arn, "trailName": arn,
                    "enableLogFileValidation": true, "isMultiRegionTrail": true,
                    "eventSelectors": [], "insightSelectors": []},
                "responseElements": {"trailARN": arn},
            });
            let read = crate::verify::lifecycle::from_record(
                &record,
                &trail,
                crate::verify::lifecycle::EventSource::TrailLogs,
            )
            .is_some()
                || crate::verify::selectors::from_record(&record, &trail).is_some();
            let w = watched(record.to_string().as_bytes(), 1 << 16);
            assert_eq!(read, w.hit, "{name}: parsed {read}, watched {}", w.hit);
        }
    }

    #[test]
    fn watch_sees_the_bucket_calls_and_every_trail_call() {
        let w = watched(b"{\"eventName\":\"PutBucketVersioning\",\"x\":1}", 5);
        assert!(w.bucket_hit && !w.hit);
        let w = watched(b"{\"eventName\":\"GetBucketVersioning\"}", 5);
        assert!(!w.bucket_hit);
        for name in TRAIL_CALLS
            .into_iter()
            .chain(crate::verify::bucket_calls::names())
        {
            let text = format!("{{\"eventVersion\":\"1.08\",\"eventName\":\"{name}\"}}");
            let w = watched(text.as_bytes(), 1000);
            assert!(w.hit || w.bucket_hit, "{name}");
        }
    }
}
