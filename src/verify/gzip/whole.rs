//! Whole-buffer gzip through libdeflate, for log files small enough to hold:
//! faster than streaming zlib-rs, refusing what the streaming path refuses
//! where it matters. libdeflate's safe wrapper cannot say where the member
//! ended, so this calls `libdeflate_gzip_decompress_ex`, which does: any
//! byte after the member is [`GzipError::TrailingData`]. libdeflate skips
//! the optional header CRC, so the header is checked here first.

use super::GzipError;
use std::sync::Mutex;

/// Largest inflated size decompressed into one buffer; beyond it the caller
/// streams (memory stays bounded, a bomb is refused by size).
pub(crate) const WHOLE_MAX_INFLATED: u64 = 64 * 1024 * 1024;

/// Output buffers kept for reuse: at most this many, each at most
/// [`KEEP_BUFFER`] bytes (callers hold a CPU permit, one per core).
const KEEP_BUFFERS: usize = 16;
const KEEP_BUFFER: usize = 16 * 1024 * 1024;

/// Owns one libdeflate decompressor (used by one thread at a time).
struct Decompressor(*mut libdeflate_sys::libdeflate_decompressor);

// SAFETY: a libdeflate decompressor holds no thread-affine state; it is
// only ever used by the one thread that took it out of the pool.
unsafe impl Send for Decompressor {}

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: allocated by libdeflate_alloc_decompressor, freed once.
        unsafe { libdeflate_sys::libdeflate_free_decompressor(self.0) }
    }
}

impl Decompressor {
    fn new() -> Option<Decompressor> {
        // SAFETY: plain allocation; null (out of memory) is checked.
        let p = unsafe { libdeflate_sys::libdeflate_alloc_decompressor() };
        (!p.is_null()).then_some(Decompressor(p))
    }
}

/// Scratch reused between files instead of allocating and faulting in
/// fresh pages for every one.
static POOL: Mutex<Vec<(Decompressor, Vec<u8>)>> = Mutex::new(Vec::new());

fn take_scratch() -> Option<(Decompressor, Vec<u8>)> {
    let pooled = POOL.lock().unwrap_or_else(|p| p.into_inner()).pop();
    pooled.or_else(|| Decompressor::new().map(|d| (d, Vec::new())))
}

fn put_scratch(d: Decompressor, mut buf: Vec<u8>) {
    if buf.len() > KEEP_BUFFER {
        buf = Vec::new();
    }
    let mut pool = POOL.lock().unwrap_or_else(|p| p.into_inner());
    if pool.len() < KEEP_BUFFERS {
        pool.push((d, buf));
    }
}

/// What one attempt into a buffer of a given size gave.
enum Attempt {
    /// (inflated bytes, compressed bytes the member used)
    Done(usize, usize),
    NeedsMore,
    Bad,
}

fn attempt(d: &Decompressor, input: &[u8], out: &mut [u8]) -> Attempt {
    let mut used_in: usize = 0;
    let mut used_out: usize = 0;
    // SAFETY: `d.0` is a live decompressor used by this thread only; `input`
    // and `out` are valid for their lengths for the whole call; libdeflate
    // writes at most `out.len()` bytes and the two counts.
    let r = unsafe {
        libdeflate_sys::libdeflate_gzip_decompress_ex(
            d.0,
            input.as_ptr().cast(),
            input.len(),
            out.as_mut_ptr().cast(),
            out.len(),
            &mut used_in,
            &mut used_out,
        )
    };
    match r {
        libdeflate_sys::libdeflate_result_LIBDEFLATE_SUCCESS
            if used_out <= out.len() && used_in <= input.len() =>
        {
            Attempt::Done(used_out, used_in)
        }
        libdeflate_sys::libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE => Attempt::NeedsMore,
        _ => Attempt::Bad,
    }
}

/// Checks the header's optional CRC-16 (FHCRC), which zlib verifies and
/// libdeflate skips: a header that lies about itself is not a gzip file
/// other readers accept. Other header errors are left to libdeflate.
fn header_crc_ok(input: &[u8]) -> bool {
    const FHCRC: u8 = 0x02;
    const FEXTRA: u8 = 0x04;
    const FNAME: u8 = 0x08;
    const FCOMMENT: u8 = 0x10;
    let Some(&flags) = input.get(3) else {
        return true;
    };
    if flags & FHCRC == 0 {
        return true;
    }
    let mut i = 10usize;
    if flags & FEXTRA != 0 {
        let Some(x) = input.get(i..i + 2) else {
            return false;
        };
        i += 2 + u16::from_le_bytes([x[0], x[1]]) as usize;
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            match input.get(i..).and_then(|r| r.iter().position(|&b| b == 0)) {
                Some(z) => i += z + 1,
                None => return false,
            }
        }
    }
    let (Some(head), Some(stored)) = (input.get(..i), input.get(i..i + 2)) else {
        return false;
    };
    let mut crc = flate2::Crc::new();
    crc.update(head);
    crc.sum() as u16 == u16::from_le_bytes([stored[0], stored[1]])
}

/// Deflate's largest ratio: 258 bytes from 2 bits, about 1032 to 1.
const MAX_RATIO: usize = 1032;
/// A first guess past this ratio waits for the inflate to ask (CloudTrail
/// logs compress 10 to 20 times): an under-guess costs a retry with four
/// times the room, an over-guess a buffer filled with zeros for nothing.
const LIKELY_RATIO: usize = 64;

/// The first buffer to try. The trailer's ISIZE is the inflated size mod
/// 2^32 for an honest file; an attacker's is only a guess, and a few
/// bytes of anything (`altered`) can claim gigabytes: each such object
/// cost a 64 MiB buffer filled with zeros. No stream of this length
/// inflates past [`MAX_RATIO`] times it, and few past [`LIKELY_RATIO`].
fn first_size(input: &[u8], cap: usize) -> usize {
    let hint = input
        .last_chunk::<4>()
        .map_or(0, |t| u32::from_le_bytes(*t) as usize);
    let most = input.len().saturating_mul(MAX_RATIO).saturating_add(64);
    let likely = input.len().saturating_mul(LIKELY_RATIO).max(64 * 1024);
    hint.min(most).min(likely).max(input.len()).clamp(1, cap)
}

/// Why the whole-buffer path gave no answer and the caller should stream.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Fallback {
    /// Inflates past [`WHOLE_MAX_INFLATED`] (but maybe within the caller's limit).
    TooBigToHold,
}

/// Inflates one gzip member that must fill `input` exactly and hands the
/// inflated bytes to `use_out`. `limit` is the caller's cap on inflated
/// bytes (a bomb past it is [`GzipError::TooLarge`]).
pub(crate) fn inflate_whole<T>(
    input: &[u8],
    limit: u64,
    use_out: impl FnOnce(&[u8]) -> T,
) -> Result<Result<T, GzipError>, Fallback> {
    if !header_crc_ok(input) {
        return Ok(Err(GzipError::Corrupt("gzip header CRC mismatch".into())));
    }
    let Some((d, mut buf)) = take_scratch() else {
        return Ok(Err(GzipError::Read("out of memory".into())));
    };
    let cap = limit.clamp(1, WHOLE_MAX_INFLATED) as usize;
    let mut size = first_size(input, cap);
    let result = loop {
        if buf.len() < size {
            buf.resize(size, 0);
        }
        match attempt(&d, input, &mut buf[..size]) {
            Attempt::Done(n, used) if used == input.len() => break Ok(Ok(use_out(&buf[..n]))),
            Attempt::Done(..) => break Ok(Err(GzipError::TrailingData)),
            Attempt::Bad => {
                break Ok(Err(GzipError::Corrupt(
                    "invalid gzip data (header, deflate stream, CRC-32 or size)".into(),
                )))
            }
            Attempt::NeedsMore if size < cap => size = size.saturating_mul(4).min(cap),
            Attempt::NeedsMore if (cap as u64) < limit => break Err(Fallback::TooBigToHold),
            Attempt::NeedsMore => break Ok(Err(GzipError::TooLarge(limit))),
        }
    };
    put_scratch(d, buf);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_flags(body: &[u8], extra: &[u8]) -> Vec<u8> {
        // A member with FNAME and FHCRC, built by hand around flate2's deflate.
        let g = super::super::gzip(body);
        let mut out = g[..10].to_vec();
        out[3] = 0x08 | 0x02;
        out.extend_from_slice(b"name\0");
        let mut crc = flate2::Crc::new();
        crc.update(&out);
        out.extend_from_slice(&(crc.sum() as u16).to_le_bytes());
        out.extend_from_slice(extra);
        out.extend_from_slice(&g[10..]);
        out
    }

    #[test]
    fn header_crc_is_checked() {
        let good = with_flags(b"{}", b"");
        assert!(header_crc_ok(&good));
        assert!(matches!(inflate_whole(&good, 1 << 20, |o| o.to_vec()), Ok(Ok(v)) if v == b"{}"));
        let mut bad = good.clone();
        bad[15] ^= 1; // the stored CRC-16
        assert!(!header_crc_ok(&bad));
        assert!(matches!(
            inflate_whole(&bad, 1 << 20, |_| ()),
            Ok(Err(GzipError::Corrupt(_)))
        ));
        assert!(super::super::hash_stream(&bad[..], 1 << 20).is_err());
    }

    /// Seven bytes claiming 1.7 GB get a buffer their length could fill,
    /// not the cap, and 100 KB a few MB; an honest trailer of a log's
    /// usual ratio is taken as it is, and a file that inflates further
    /// still inflates whole.
    #[test]
    fn a_few_bytes_cannot_claim_a_large_buffer() {
        let cap = WHOLE_MAX_INFLATED as usize;
        assert!(first_size(b"altered", cap) <= 7 * MAX_RATIO + 64);
        let mut junk = vec![7u8; 100_000];
        junk.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(first_size(&junk, cap) <= junk.len() * LIKELY_RATIO);
        let text: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("{{\"eventID\":\"{i:08x}\"}}").into_bytes())
            .collect();
        let g = super::super::gzip(&text);
        assert_eq!(first_size(&g, cap), text.len());
        assert_eq!(first_size(b"", cap), 1);
        let zeros = super::super::gzip(&vec![0u8; 5_000_000]);
        let inflated = inflate_whole(&zeros, 1 << 30, |out| out.len());
        assert_eq!(inflated, Ok(Ok(5_000_000)));
    }

    #[test]
    fn a_lying_isize_grows_the_buffer_step_by_step() {
        let body = vec![b'a'; 300_000];
        let mut g = super::super::gzip(&body);
        let n = g.len();
        g[n - 4..].copy_from_slice(&0u32.to_le_bytes());
        // ISIZE no longer matches: refused, after at most a few attempts.
        assert!(matches!(
            inflate_whole(&g, 1 << 30, |_| ()),
            Ok(Err(GzipError::Corrupt(_)))
        ));
    }
}
