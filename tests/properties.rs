//! Property tests: arbitrary bytes never panic the parsers (digest, object
//! keys, keys file, gzip), key layouts round-trip, and one flipped bit in
//! a signed digest or in a log file is always detected.

use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::OnceLock;
use trailproof::simulate::signer::Signer;
use trailproof::verify::digest::{sha256_hex, Digest};
use trailproof::verify::digest_check::{check_digest, DigestCheck, DigestInput};
use trailproof::verify::gzip::{gzip, hash_stream};
use trailproof::verify::layout::{
    log_key, parse_digest_key, parse_log_key, AccountRoot, DigestSeries,
};
use trailproof::verify::pubkeys::PublicKeySet;
use trailproof::verify::time::{display, parse_user_time, Timestamp};

fn signer() -> &'static Signer {
    static S: OnceLock<Signer> = OnceLock::new();
    S.get_or_init(|| Signer::generate().unwrap())
}

const BUCKET: &str = "b";

/// A correctly signed digest: (inflated JSON, key, signature hex).
fn signed_digest() -> &'static (String, String, String) {
    static D: OnceLock<(String, String, String)> = OnceLock::new();
    D.get_or_init(|| {
        let series = DigestSeries {
            root: AccountRoot::new(None, None, "123456789012"),
            source_region: "us-east-1".into(),
            trail_name: "t".into(),
            home_region: "us-east-1".into(),
        };
        let end = parse_user_time("2026-03-01T01:00:00Z").unwrap();
        let key = series.key(end, false);
        let text = format!(
            "{{\"awsAccountId\":\"123456789012\",\"digestStartTime\":\"2026-03-01T00:00:00Z\",\"digestEndTime\":\"{}\",\"digestS3Bucket\":\"{BUCKET}\",\"digestS3Object\":\"{key}\",\"digestPublicKeyFingerprint\":\"{}\",\"digestSignatureAlgorithm\":\"SHA256withRSA\",\"newestEventTime\":null,\"oldestEventTime\":null,\"previousDigestS3Bucket\":\"{BUCKET}\",\"previousDigestS3Object\":\"prev\",\"previousDigestHashValue\":\"{}\",\"previousDigestHashAlgorithm\":\"SHA-256\",\"previousDigestSignature\":\"abcdef\",\"logFiles\":[{{\"s3Bucket\":\"{BUCKET}\",\"s3Object\":\"log\",\"hashValue\":\"{}\",\"hashAlgorithm\":\"SHA-256\",\"newestEventTime\":\"2026-03-01T00:30:00Z\",\"oldestEventTime\":\"2026-03-01T00:20:00Z\"}}]}}",
            display(end),
            signer().fingerprint,
            sha256_hex(b"prev"),
            sha256_hex(b"log")
        );
        let sig = signer()
            .sign_digest(&display(end), BUCKET, &key, text.as_bytes(), Some("abcdef"))
            .unwrap();
        (text, key, sig)
    })
}

fn check(inflated: &[u8], key: &str, sig: &str) -> DigestCheck {
    let mut keys = PublicKeySet::new();
    let t = |s: &str| parse_user_time(s).unwrap();
    keys.insert(signer().public_key(t("2026-01-01"), t("2026-12-31")));
    let metadata: HashMap<String, String> = [
        ("signature".to_string(), sig.to_string()),
        (
            "signature-algorithm".to_string(),
            "SHA256withRSA".to_string(),
        ),
    ]
    .into();
    check_digest(
        &DigestInput {
            bucket: BUCKET,
            key,
            compressed: &gzip(inflated),
            metadata: &metadata,
            backfill: false,
            key_region: "us-east-1",
        },
        &keys,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = Digest::parse(&bytes);
        let _ = PublicKeySet::from_json(&bytes);
        let _ = hash_stream(&bytes[..], 1 << 20);
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_digest_key(&text);
        let _ = parse_log_key(&text);
        let _ = parse_user_time(&text);
    }

    /// The whole-buffer inflater (libdeflate) and the streaming one
    /// (zlib-rs) give the same answer on damaged members: the same hash,
    /// or both a refusal.
    #[test]
    fn both_inflaters_agree_on_damaged_members(
        body in proptest::collection::vec(any::<u8>(), 0..4096),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 0..3),
        cut in proptest::option::of(any::<prop::sample::Index>()),
        append in proptest::collection::vec(any::<u8>(), 0..3),
    ) {
        let mut gz = gzip(&body);
        for (pos, bit) in flips {
            let i = pos.index(gz.len());
            gz[i] ^= 1 << bit;
        }
        if let Some(c) = cut {
            gz.truncate(c.index(gz.len() + 1));
        }
        gz.extend(append);
        let whole = trailproof::verify::gzip::hash_bytes_observed(&gz, 1 << 24, |_| {});
        let stream = hash_stream(&gz[..], 1 << 24);
        prop_assert_eq!(whole.as_ref().ok(), stream.as_ref().ok(), "{:?} vs {:?}", whole, stream);
    }

    #[test]
    fn keys_that_look_like_keys_never_panic(s in "[A-Za-z0-9_./-]{0,200}") {
        let _ = parse_digest_key(&s);
        let _ = parse_log_key(&s);
    }

    #[test]
    fn layouts_round_trip(
        account in "[0-9]{12}",
        region in "[a-z]{2}-[a-z]{4,9}-[1-9]",
        name in "[A-Za-z0-9][A-Za-z0-9_.-]{0,40}",
        prefix in proptest::option::of("[a-z0-9]{1,8}(/[a-z0-9]{1,8}){0,2}"),
        org in proptest::option::of("o-[a-z0-9]{10}"),
        secs in 946_684_800i64..4_102_444_800i64,
        backfill in any::<bool>(),
    ) {
        let root = AccountRoot::new(prefix.as_deref(), org.as_deref(), &account);
        let end: Timestamp = chrono::DateTime::from_timestamp(secs, 0).unwrap();
        let series = DigestSeries {
            root: root.clone(),
            source_region: region.clone(),
            trail_name: name.clone(),
            home_region: "us-east-1".into(),
        };
        let key = series.key(end, backfill);
        let p = parse_digest_key(&key).unwrap();
        prop_assert!(series.owns(&p));
        prop_assert_eq!(p.end, end);
        prop_assert_eq!(p.backfill, backfill);
        let lk = log_key(&root, &region, end, "uniqueUNIQUE1234");
        let l = parse_log_key(&lk).unwrap();
        prop_assert_eq!(l.root, root);
        prop_assert_eq!(l.region, region);
    }

    #[test]
    fn one_flipped_bit_in_a_signed_digest_is_always_detected(pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        let (text, key, sig) = signed_digest();
        let mut bytes = text.clone().into_bytes();
        let i = pos.index(bytes.len());
        bytes[i] ^= 1 << bit;
        prop_assert!(!matches!(check(&bytes, key, sig), DigestCheck::Verified(_)));
    }

    #[test]
    fn one_flipped_bit_in_a_log_files_data_is_always_detected(
        body in proptest::collection::vec(any::<u8>(), 1..4096),
        pos in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let want = sha256_hex(&body);
        let mut gz = gzip(&body);
        // The 10-byte member header (MTIME, XFL, OS, flags) is not log data:
        // every byte after it is, or checks it (CRC-32, ISIZE).
        let i = 10 + pos.index(gz.len() - 10);
        gz[i] ^= 1 << bit;
        // Either the stream is refused, or what it inflates to is the same
        // log (a flip in deflate's padding bits changes nothing), or it
        // hashes to something else: changed events never pass.
        if let Ok(h) = hash_stream(&gz[..], 1 << 24) {
            let same = trailproof::verify::gzip::inflate_to_vec(&gz, 1 << 24).is_ok_and(|b| b == body);
            prop_assert!(same || h.sha256_hex != want);
        }
    }
}

#[test]
fn the_unflipped_digest_verifies() {
    let (text, key, sig) = signed_digest();
    assert!(matches!(
        check(text.as_bytes(), key, sig),
        DigestCheck::Verified(_)
    ));
}
