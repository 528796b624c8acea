//! Watches a log file's inflated bytes, as they stream past the hasher,
//! for the names of the calls the run reads from verified logs: the
//! trail's lifecycle (`StopLogging"`, `StartLogging"` end in `Logging"`;
//! `UpdateTrail"`, `DeleteTrail"`, `CreateTrail"` in `Trail"`), its
//! coverage (`Selectors"`) and the bucket-side calls
//! ([`crate::verify::bucket_calls::WATCHED`]). A hit only says "parse this
//! file once it is verified"; false positives (GetTrail, a LookupEvents
//! call naming StopLogging) cost a parse, misses are impossible. One
//! Aho-Corasick pass (SIMD prefilter) over every name: next to nothing per
//! byte, however many names.

use aho_corasick::AhoCorasick;
use std::sync::LazyLock;

/// The lifecycle and coverage calls' name tails.
const TAILS: [&str; 3] = ["Logging\"", "Trail\"", "Selectors\""];

/// Every name watched; None if the automaton could not be built (then
/// every file is parsed: slower, never blind).
static NAMES: LazyLock<Option<(AhoCorasick, usize)>> = LazyLock::new(|| {
    let all: Vec<&str> = TAILS
        .iter()
        .chain(crate::verify::bucket_calls::WATCHED.iter())
        .copied()
        .collect();
    let longest = all.iter().map(|n| n.len()).max().unwrap_or(1);
    AhoCorasick::new(&all).ok().map(|ac| (ac, longest))
});

pub struct RecordWatch {
    /// The last bytes of the previous chunk, so a name split across chunks matches.
    tail: Vec<u8>,
    pub hit: bool,
    /// Keep every file's bytes for parsing, hit or not.
    pub keep_all: bool,
}

impl Default for RecordWatch {
    fn default() -> RecordWatch {
        RecordWatch {
            tail: Vec::with_capacity(64),
            hit: NAMES.is_none(),
            keep_all: false,
        }
    }
}

impl RecordWatch {
    pub fn new() -> RecordWatch {
        RecordWatch::default()
    }

    /// The file's bytes are wanted after hashing: it named a watched call,
    /// or every file is.
    pub fn keeps(&self) -> bool {
        self.hit || self.keep_all
    }

    /// A watch that keeps every file when `all` (`--cross-check-events`
    /// parses every verified file for its event IDs).
    pub(crate) fn watching(all: bool) -> RecordWatch {
        RecordWatch {
            keep_all: all,
            ..RecordWatch::default()
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        let Some((names, longest)) = NAMES.as_ref() else {
            return;
        };
        if self.hit {
            return;
        }
        let keep = longest - 1;
        // Across the seam: the previous chunk's tail and this chunk's head.
        self.tail.extend_from_slice(&chunk[..chunk.len().min(keep)]);
        if names.is_match(&self.tail[..]) || names.is_match(chunk) {
            self.hit = true;
            return;
        }
        if chunk.len() >= keep {
            self.tail.clear();
            self.tail.extend_from_slice(&chunk[chunk.len() - keep..]);
        } else {
            let excess = self.tail.len().saturating_sub(keep);
            self.tail.drain(..excess);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watch_sees_names_split_across_chunks() {
        let text = b"xxxxxxxxxxxx\"eventName\":\"StopLogging\"yyyy";
        for cut in 0..text.len() {
            let mut w = RecordWatch::new();
            let (a, b) = text.split_at(cut);
            for piece in a.chunks(3).chain(b.chunks(5)) {
                w.feed(piece);
            }
            assert!(w.hit, "cut at {cut}");
        }
        let mut w = RecordWatch::new();
        w.feed(b"StopLoggin");
        w.feed(b"x Logging and DescribeTrails\"");
        assert!(!w.hit);
    }

    #[test]
    fn watch_sees_the_bucket_calls() {
        let mut w = RecordWatch::new();
        w.feed(b"{\"eventName\":\"PutBucketVersio");
        w.feed(b"ning\",\"x\":1}");
        assert!(w.hit);
        let mut w = RecordWatch::new();
        w.feed(b"{\"eventName\":\"GetBucketVersioning\"}");
        assert!(!w.hit);
    }
}
