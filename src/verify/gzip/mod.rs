//! Single-member gzip, strictly: CloudTrail writes exactly one member per
//! object, so anything after it is appended data, not more log.

mod whole;

use sha2::{Digest as _, Sha256};
use std::io::{BufRead, BufReader, Read};

/// Why a gzip stream was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GzipError {
    #[error("not a gzip stream: {0}")]
    Corrupt(String),
    #[error("unexpected data after end of compressed stream")]
    TrailingData,
    #[error("inflated size exceeds the limit of {0} bytes")]
    TooLarge(u64),
    #[error("read failed: {0}")]
    Read(String),
}

/// The result of streaming a member through SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamHash {
    /// Lowercase hex SHA-256 of the inflated bytes.
    pub sha256_hex: String,
    pub inflated_len: u64,
    pub compressed_len: u64,
}

/// Counts bytes pulled from the underlying reader.
struct Counting<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

fn classify(e: std::io::Error) -> GzipError {
    use std::io::ErrorKind::*;
    match e.kind() {
        InvalidInput | InvalidData | UnexpectedEof => GzipError::Corrupt(e.to_string()),
        _ => GzipError::Read(e.to_string()),
    }
}

/// Inflates one gzip member from `reader`, feeding every inflated chunk to
/// `sink`. Fails on corrupt data, on more than `limit` inflated bytes (gzip
/// bombs), and on any byte after the member. Returns (inflated, compressed) lengths.
pub fn inflate_stream<R: Read>(
    reader: R,
    limit: u64,
    mut sink: impl FnMut(&[u8]),
) -> Result<(u64, u64), GzipError> {
    let counting = Counting {
        inner: reader,
        count: 0,
    };
    let buffered = BufReader::with_capacity(128 * 1024, counting);
    let mut dec = flate2::bufread::GzDecoder::new(buffered);
    let mut buf = vec![0u8; 256 * 1024];
    let mut total: u64 = 0;
    loop {
        let n = dec.read(&mut buf).map_err(classify)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > limit {
            return Err(GzipError::TooLarge(limit));
        }
        sink(&buf[..n]);
    }
    if dec.header().is_none() {
        return Err(GzipError::Corrupt("empty or truncated gzip header".into()));
    }
    let mut rest = dec.into_inner();
    let trailing = !rest.fill_buf().map_err(classify)?.is_empty();
    if trailing {
        return Err(GzipError::TrailingData);
    }
    Ok((total, rest.get_ref().count))
}

/// Streams a gzip member through SHA-256 (log files: never held in memory).
pub fn hash_stream<R: Read>(reader: R, limit: u64) -> Result<StreamHash, GzipError> {
    hash_stream_observed(reader, limit, |_| {})
}

/// [`hash_stream`], showing every inflated chunk to `observe` as well (the
/// lifecycle-record watch reads the bytes the hash already inflates).
pub(crate) fn hash_stream_observed<R: Read>(
    reader: R,
    limit: u64,
    mut observe: impl FnMut(&[u8]),
) -> Result<StreamHash, GzipError> {
    let mut hasher = Sha256::new();
    let (inflated_len, compressed_len) = inflate_stream(reader, limit, |chunk| {
        hasher.update(chunk);
        observe(chunk);
    })?;
    Ok(StreamHash {
        sha256_hex: hex::encode(hasher.finalize()),
        inflated_len,
        compressed_len,
    })
}

/// Which path reads log files small enough to hold (`--inflater`, hidden,
/// for the side-by-side benchmark): [`hash_bytes_observed`] or streaming.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Inflater {
    /// libdeflate into one buffer, streaming past `whole::WHOLE_MAX_INFLATED`.
    #[default]
    Whole,
    /// flate2 + zlib-rs streaming for every file.
    Stream,
}

/// `hash_stream_observed` for a member already in memory: whole-buffer
/// libdeflate when it inflates to at most `whole::WHOLE_MAX_INFLATED` (the
/// observer then sees it as one chunk), streaming beyond.
pub fn hash_bytes_observed(
    compressed: &[u8],
    limit: u64,
    mut observe: impl FnMut(&[u8]),
) -> Result<StreamHash, GzipError> {
    let hash = |out: &[u8]| {
        observe(out);
        (hex::encode(Sha256::digest(out)), out.len() as u64)
    };
    match whole::inflate_whole(compressed, limit, hash) {
        Ok(r) => r.map(|(sha256_hex, inflated_len)| StreamHash {
            sha256_hex,
            inflated_len,
            compressed_len: compressed.len() as u64,
        }),
        Err(whole::Fallback::TooBigToHold) => hash_stream_observed(compressed, limit, observe),
    }
}

/// Inflates a small in-memory member (digests), with the same strictness.
pub fn inflate_to_vec(compressed: &[u8], limit: u64) -> Result<Vec<u8>, GzipError> {
    let mut out = Vec::with_capacity(compressed.len().saturating_mul(8).min(limit as usize));
    inflate_stream(compressed, limit, |chunk| out.extend_from_slice(chunk))?;
    Ok(out)
}

/// Compresses bytes as one gzip member (simulator, tests).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::whole::WHOLE_MAX_INFLATED;
    use super::*;

    #[test]
    fn hashes_inflated_bytes() {
        let h = hash_stream(&gzip(b"{}")[..], 1 << 20).unwrap();
        assert_eq!(
            h.sha256_hex,
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_eq!(h.inflated_len, 2);
    }

    #[test]
    fn appended_member_or_garbage_is_trailing_data() {
        let mut two = gzip(b"{}");
        two.extend(gzip(b"{\"Records\":[]}"));
        assert_eq!(hash_stream(&two[..], 1 << 20), Err(GzipError::TrailingData));
        let mut junk = gzip(b"{}");
        junk.push(0);
        assert_eq!(inflate_to_vec(&junk, 1 << 20), Err(GzipError::TrailingData));
    }

    #[test]
    fn truncated_empty_and_non_gzip_are_corrupt() {
        let g = gzip(&vec![b'a'; 10_000]);
        for bad in [&g[..g.len() - 4], &g[..5], &[][..], b"{\"Records\":[]}"] {
            assert!(
                matches!(hash_stream(bad, 1 << 20), Err(GzipError::Corrupt(_))),
                "{bad:?}"
            );
        }
        let mut flipped = g.clone();
        let n = flipped.len();
        flipped[n - 6] ^= 0xff; // CRC
        assert!(matches!(
            hash_stream(&flipped[..], 1 << 20),
            Err(GzipError::Corrupt(_))
        ));
    }

    #[test]
    fn bombs_stop_at_the_limit() {
        let g = gzip(&vec![0u8; 5_000_000]);
        assert_eq!(
            hash_stream(&g[..], 1_000_000),
            Err(GzipError::TooLarge(1_000_000))
        );
        assert_eq!(
            inflate_to_vec(&g, 1_000_000),
            Err(GzipError::TooLarge(1_000_000))
        );
    }

    fn whole(gz: &[u8], limit: u64) -> Result<StreamHash, GzipError> {
        hash_bytes_observed(gz, limit, |_| {})
    }

    #[test]
    fn whole_buffer_agrees_with_streaming() {
        let body = br#"{"Records":[{"eventName":"StopLogging"}]}"#.repeat(500);
        let g = gzip(&body);
        assert_eq!(whole(&g, 1 << 20), hash_stream(&g[..], 1 << 20));
        let mut seen = 0;
        hash_bytes_observed(&g, 1 << 20, |c| seen += c.len()).unwrap();
        assert_eq!(seen, body.len());
    }

    #[test]
    fn whole_buffer_refuses_what_streaming_refuses() {
        let g = gzip(b"{\"Records\":[]}");
        // The same member twice ends in a trailer that is right for the
        // first one's bytes: only where the member ended tells.
        let twice = [g.clone(), g.clone()].concat();
        assert_eq!(whole(&twice, 1 << 20), Err(GzipError::TrailingData));
        let junk = [g.clone(), vec![0]].concat();
        assert_eq!(whole(&junk, 1 << 20), Err(GzipError::TrailingData));
        let big = gzip(&vec![b'a'; 10_000]);
        let mut crc = big.clone();
        let n = crc.len();
        crc[n - 6] ^= 0xff;
        let mut isize_lie = big.clone();
        isize_lie[n - 1] = 0x7f; // ISIZE says ~2 GiB
        for bad in [
            &big[..n - 4],
            &big[..5],
            &[][..],
            b"{}",
            &crc[..],
            &isize_lie[..],
        ] {
            assert!(
                matches!(whole(bad, 1 << 20), Err(GzipError::Corrupt(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn whole_buffer_bombs_stop_at_the_limit_and_large_files_stream() {
        let g = gzip(&vec![0u8; 5_000_000]);
        assert_eq!(whole(&g, 1_000_000), Err(GzipError::TooLarge(1_000_000)));
        // Past what one buffer holds but within the caller's limit: the
        // streaming path answers, with the same hash.
        let n = WHOLE_MAX_INFLATED as usize + 1;
        let g = gzip(&vec![b'x'; n]);
        let h = whole(&g, 1 << 30).unwrap();
        assert_eq!(h.inflated_len, n as u64);
        assert_eq!(Some(h), hash_stream(&g[..], 1 << 30).ok());
    }
}
